//! The other threads' end of a deque: take the oldest items, one or a batch at a time.

use core::fmt;

use super::buffer::{Buffer, Flavor};
use super::{Steal, Worker, MAX_BATCH};
use crate::sync::Arc;

/// A handle for taking the oldest items of a [`Worker`]'s deque from other threads.
///
/// Stealers are cheap to clone (one reference count) and may be shared between threads. A steal
/// never waits: it returns [`Steal::Retry`] when it loses a race instead.
///
/// # Examples
///
/// ```
/// use weir_mpmc::deque::{Steal, Worker};
///
/// let worker = Worker::new_lifo(8);
/// for task in 0..4 {
///     worker.push(task).unwrap();
/// }
/// let stealer = worker.stealer();
/// let thieves: Vec<_> = (0..2)
///     .map(|_| {
///         let stealer = stealer.clone();
///         std::thread::spawn(move || {
///             let mut got = Vec::new();
///             loop {
///                 match stealer.steal() {
///                     Steal::Success(task) => got.push(task),
///                     Steal::Retry => continue,
///                     Steal::Empty => return got,
///                 }
///             }
///         })
///     })
///     .collect();
/// let mut all: Vec<i32> = thieves.into_iter().flat_map(|t| t.join().unwrap()).collect();
/// all.sort();
/// assert_eq!(all, [0, 1, 2, 3]);
/// ```
pub struct Stealer<T> {
    buffer: Arc<Buffer<T>>,
}

static_assertions::assert_impl_all!(Stealer<u64>: Send, Sync, Clone);
static_assertions::assert_not_impl_any!(Stealer<*const u8>: Send, Sync);

impl<T> Stealer<T> {
    pub(super) fn new(buffer: Arc<Buffer<T>>) -> Self {
        Stealer { buffer }
    }

    /// Takes the oldest item.
    ///
    /// [`Steal::Retry`] when another thread took it first (trying again may succeed),
    /// [`Steal::Empty`] when there was nothing to take.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::{Steal, Worker};
    ///
    /// let worker = Worker::new_lifo(4);
    /// worker.push(1).unwrap();
    /// worker.push(2).unwrap();
    /// let stealer = worker.stealer();
    /// assert_eq!(stealer.steal(), Steal::Success(1));
    /// assert_eq!(stealer.steal(), Steal::Success(2));
    /// assert_eq!(stealer.steal(), Steal::Empty);
    /// ```
    pub fn steal(&self) -> Steal<T> {
        let buffer = &*self.buffer;
        let top = buffer.load_top();
        match buffer.claim(top, |_| 1) {
            // SAFETY: the claim moved `top` past `top` for this thread; `claim`'s Acquire load of
            // `bottom` ordered the item's write before this read.
            Ok(_) => Steal::Success(unsafe { buffer.take(top) }),
            Err(true) => Steal::Empty,
            Err(false) => Steal::Retry,
        }
    }

    batch_steals! {
        "Stealer",
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Steal, Worker};
        ///
        /// let victim = Worker::new_fifo(16);
        /// for task in 0..6 {
        ///     victim.push(task).unwrap();
        /// }
        /// let mine = Worker::new_fifo(16);
        /// assert_eq!(victim.stealer().steal_batch(&mine), Steal::Success(()));
        /// assert_eq!(mine.len(), 3);
        /// assert_eq!(mine.pop(), Some(0));
        /// ```
        fn steal_batch;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Steal, Worker};
        ///
        /// let victim = Worker::new_lifo(16);
        /// for task in 0..10 {
        ///     victim.push(task).unwrap();
        /// }
        /// let mine = Worker::new_lifo(16);
        /// assert_eq!(victim.stealer().steal_batch_with_limit(&mine, 2), Steal::Success(()));
        /// assert_eq!((mine.pop(), mine.pop(), mine.pop()), (Some(1), Some(0), None));
        /// ```
        fn steal_batch_with_limit;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Steal, Worker};
        ///
        /// let victim = Worker::new_fifo(16);
        /// for task in 0..8 {
        ///     victim.push(task).unwrap();
        /// }
        /// let mine = Worker::new_fifo(16);
        /// assert_eq!(victim.stealer().steal_batch_and_pop(&mine), Steal::Success(0));
        /// assert_eq!(mine.len(), 3);
        /// assert_eq!(victim.len(), 4);
        /// assert_eq!(mine.pop(), Some(1));
        /// ```
        fn steal_batch_and_pop;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Steal, Worker};
        ///
        /// let victim = Worker::new_fifo(16);
        /// for task in 0..10 {
        ///     victim.push(task).unwrap();
        /// }
        /// let mine = Worker::new_fifo(16);
        /// let stealer = victim.stealer();
        /// assert_eq!(stealer.steal_batch_with_limit_and_pop(&mine, 2), Steal::Success(0));
        /// assert_eq!((mine.pop(), mine.pop()), (Some(1), None));
        /// ```
        fn steal_batch_with_limit_and_pop;
    }

    /// The batch steals' one body: claims about half of the oldest items, at most `limit` (at
    /// least 1), no more than fit in `dest` (with one more when `pop`), and pushes them into
    /// `dest` in order: all of them, or all but the first when `pop`, which it returns.
    fn batch(&self, dest: &Worker<T>, limit: usize, pop: bool) -> Steal<Option<T>> {
        let buffer = &*self.buffer;
        let top = buffer.load_top();
        // `dest`'s room only grows while this runs: its owner is this thread, and its stealers
        // only take. So everything claimed below fits (but the first, when `pop`).
        let room = dest.room();
        let fits = if pop { room.saturating_add(1) } else { room };
        if fits == 0 {
            return Steal::Empty;
        }
        let batch = |len: usize| len.div_ceil(2).min(fits).min(limit);
        // The first item goes to the caller, or into `dest` before the rest.
        let first = |item: T| {
            if pop {
                Some(item)
            } else {
                // SAFETY: `dest` had `room = fits` free slots, and this batch moves at most
                // `batch(..) <= fits` items into it, this one first.
                unsafe { dest.push_with_room(item) };
                None
            }
        };
        match buffer.flavor {
            Flavor::Fifo => {
                // The owner never lowers `bottom`, so a claim of many positions below the
                // `bottom` that `claim` read cannot meet an owner's pop without a CAS.
                let n = match buffer.claim(top, batch) {
                    Ok(n) => n,
                    Err(true) => return Steal::Empty,
                    Err(false) => return Steal::Retry,
                };
                // SAFETY: the claim covers positions `top..top + n`, their writes ordered
                // before these reads by `claim`'s Acquire load of `bottom`.
                let first = first(unsafe { buffer.take(top) });
                for i in 1..n {
                    // SAFETY: as above.
                    let item = unsafe { buffer.take(top.wrapping_add(i)) };
                    // SAFETY: `n <= fits`, and `dest` had room for `fits` items, or `fits - 1`
                    // when `pop` keeps the first out of it: this loop and `first` push at most
                    // that many. Stealers of `dest` only make more room.
                    unsafe { dest.push_with_room(item) };
                }
                Steal::Success(first)
            }
            Flavor::Lifo => {
                // The owner pops at `bottom` without a CAS while it sees more than one item, so a
                // claim of several positions could overlap a pop that read `top` before it: in a
                // LIFO deque every item is claimed on its own, each after its own fence and
                // fresh look at `bottom`, as a steal is.
                let mut wanted = 1;
                match buffer.claim(top, |len| {
                    wanted = batch(len);
                    1
                }) {
                    Ok(_) => {}
                    Err(true) => return Steal::Empty,
                    Err(false) => return Steal::Retry,
                }
                // SAFETY: as in `steal`.
                let first = first(unsafe { buffer.take(top) });
                let mut pos = top;
                for _ in 1..wanted {
                    // This thread's own claim moved `top` to `pos + 1`: that is the value a
                    // fresh load would start from, so it serves as the steal's load of `top`.
                    pos = pos.wrapping_add(1);
                    if buffer.claim(pos, |_| 1).is_err() {
                        break;
                    }
                    // SAFETY: as in `steal`.
                    let item = unsafe { buffer.take(pos) };
                    // SAFETY: `wanted <= fits`: as in the FIFO case, this loop and `first` push
                    // at most the room `dest` had.
                    unsafe { dest.push_with_room(item) };
                }
                Steal::Success(first)
            }
        }
    }

    /// How many items the deque holds. Other threads may change it the moment it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_fifo(4);
    /// worker.push(()).unwrap();
    /// assert_eq!(worker.stealer().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether the deque holds no items. Other threads may change it the moment it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::<u8>::new_fifo(4);
    /// assert!(worker.stealer().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Stealer<T> {
    fn clone(&self) -> Self {
        Stealer {
            buffer: Arc::clone(&self.buffer),
        }
    }
}

impl<T> fmt::Debug for Stealer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stealer")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
