//! [`Swap`]: a stage closure that can be replaced while the pipeline runs.

use std::fmt;
use std::sync::Arc;

use crate::sync::{AtomicUsize, Mutex, Ordering};

/// The closure a [`Swap`] holds, shared by every stage (and worker) that runs it.
type Shared<T, U> = Arc<dyn Fn(T) -> U + Send + Sync>;

/// A closure for a `map` stage that can be replaced while the pipeline runs: a new
/// configuration, a new model, a new factor, without stopping the flow.
///
/// [`stage`](Self::stage) gives the closure to put in the pipeline (in as many stages or
/// workers as wanted); [`replace`](Self::replace) sets the one they all run from then on. A
/// stage takes the new closure up between two items: an item is never run half by one and
/// half by the other, and once a stage has run an item with the new closure it never runs the
/// old one again. The item path takes no lock: a stage reads one counter per item, and takes
/// the lock only in the item after a replacement.
///
/// The closure is `Fn + Send + Sync`, shared by every stage that runs it.
///
/// # Examples
///
/// ```
/// use weir_pipeline::{Pipeline, Swap};
///
/// let scale = Swap::new(|x: u64| x * 2);
/// let (input, pipeline) = Pipeline::input::<u64>(16);
/// let mut output = pipeline.map(scale.stage()).into_iter();
///
/// input.send(1).unwrap();
/// assert_eq!(output.next(), Some(2));
/// scale.replace(|x| x * 3);
/// input.send(1).unwrap();
/// assert_eq!(output.next(), Some(3));
/// ```
pub struct Swap<T, U> {
    inner: Arc<Inner<T, U>>,
}

struct Inner<T, U> {
    /// How many times the closure was replaced: what a stage reads per item.
    version: AtomicUsize,
    /// The closure and its version, changed together.
    current: Mutex<(usize, Shared<T, U>)>,
}

impl<T: 'static, U: 'static> Swap<T, U> {
    /// A swap holding `f`.
    pub fn new(f: impl Fn(T) -> U + Send + Sync + 'static) -> Self {
        Swap {
            inner: Arc::new(Inner {
                version: AtomicUsize::new(0),
                current: Mutex::new((0, Arc::new(f))),
            }),
        }
    }

    /// Makes every stage made by [`stage`](Self::stage) run `f` from its next item on.
    pub fn replace(&self, f: impl Fn(T) -> U + Send + Sync + 'static) {
        let mut current = self.inner.lock();
        let version = current.0.wrapping_add(1);
        *current = (version, Arc::new(f));
        // Relaxed: a hint that the closure changed; a stage that sees it takes the closure
        // under the lock, which orders the two.
        self.inner.version.store(version, Ordering::Relaxed);
    }

    /// How many times the closure was replaced.
    pub fn replacements(&self) -> usize {
        self.inner.lock().0
    }

    /// The closure to give to [`Pipeline::map`](crate::Pipeline::map) (or to a
    /// [`Segment`](crate::Segment)'s `map` in each worker of a parallel stage): it runs
    /// whatever closure the swap holds when an item comes.
    pub fn stage(&self) -> impl FnMut(T) -> U + Send + 'static
    where
        T: Send,
        U: Send,
    {
        let inner = Arc::clone(&self.inner);
        let (mut seen, mut f) = inner.snapshot();
        move |item| {
            // Relaxed: see `replace`.
            if inner.version.load(Ordering::Relaxed) != seen {
                (seen, f) = inner.snapshot();
            }
            f(item)
        }
    }
}

impl<T, U> Inner<T, U> {
    fn lock(&self) -> crate::sync::MutexGuard<'_, (usize, Shared<T, U>)> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The closure now and its version.
    fn snapshot(&self) -> (usize, Shared<T, U>) {
        let current = self.lock();
        (current.0, Arc::clone(&current.1))
    }
}

impl<T, U> Clone for Swap<T, U> {
    /// Another handle to the same closure: a replacement through either reaches every stage.
    fn clone(&self) -> Self {
        Swap {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T, U> fmt::Debug for Swap<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swap")
            .field("replacements", &self.inner.lock().0)
            .finish_non_exhaustive()
    }
}
