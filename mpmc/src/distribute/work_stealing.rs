//! Work-stealing: one shared injector, a deque per worker, and idle workers steal.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use super::rng::Rng;
use super::{Distributor, TargetsError};
use crate::deque::{Injector, Steal, Stealer, Worker};
use crate::sync::{Arc, Backoff};
use crate::Full;

/// Hands items to whichever worker is free: senders push into one shared injector, and each
/// worker takes from its own deque first, then a batch from the injector, then a batch stolen
/// from a sibling's deque.
///
/// Unlike the other distributors, the sender does not pick the worker: a busy worker simply
/// takes nothing, and a worker stuck on a slow item has the items it took in its batch stolen
/// by the others. So it balances work of uneven cost, where a fixed rule (round-robin, hash)
/// leaves a queue behind a slow item waiting.
///
/// [`WorkStealing::new`] returns the sending side (clone it for more senders) and one [`Local`]
/// per worker, each to be moved to its worker's thread. As a [`Distributor`] it has one target,
/// the injector: [`send`](Distributor::send) returns `Ok(0)`, or [`Full`] when the injector is
/// full. The [`Pool`](super::Pool) runs this loop (with sleeping for idle workers) for you.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{Distributor, Source, WorkStealing};
///
/// let (mut sender, mut locals) = WorkStealing::new(2, 8, 64);
/// for i in 0..10 {
///     sender.send(i).unwrap();
/// }
/// let (mut first, mut second) = (locals.remove(0), locals.remove(0));
/// // The first worker takes a batch from the injector: half of it, one to run now.
/// assert_eq!(first.find(), Some((0, Source::Injector)));
/// assert_eq!(first.len(), 4);
/// // The second takes from the injector too; once that is empty, it steals from the first.
/// let mut stole = false;
/// while let Some((_, source)) = second.find() {
///     stole |= source == Source::Sibling(0);
/// }
/// assert!(stole);
/// assert!(first.is_empty());
/// ```
pub struct WorkStealing<T> {
    shared: Arc<Shared<T>>,
}

/// Where [`Local::find`] found an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The worker's own deque.
    Local,
    /// The shared injector (with a batch of more moved into the worker's deque).
    Injector,
    /// The deque of the sibling with this index (with a batch of more moved into the worker's
    /// deque).
    Sibling(usize),
}

/// One worker's side of a [`WorkStealing`] distributor: its own deque, and the way to the
/// injector and the siblings' deques. Move it to the worker's thread; it cannot be shared (it
/// is `Send`, not `Sync`).
pub struct Local<T> {
    shared: Arc<Shared<T>>,
    worker: Worker<T>,
    index: usize,
    /// Picks the first sibling to try stealing from.
    rng: Rng,
}

struct Shared<T> {
    injector: Injector<T>,
    /// One per worker, in the workers' order.
    stealers: Box<[Stealer<T>]>,
}

static_assertions::assert_impl_all!(WorkStealing<u64>: Send, Sync);
static_assertions::assert_impl_all!(Local<u64>: Send);
static_assertions::assert_not_impl_any!(Local<u64>: Sync);

impl<T> WorkStealing<T> {
    /// Makes the distributor for `workers` workers, each with a deque of `local_capacity` items
    /// (LIFO for the owner: it runs its newest item first, while that item's data is still in
    /// cache; thieves take the oldest), and an injector of `injector_capacity` items. Returns
    /// the sending side and each worker's [`Local`], in order.
    ///
    /// # Panics
    ///
    /// If `workers` or a capacity is 0, or a capacity too large to allocate;
    /// [`try_new`](WorkStealing::try_new) returns the error instead.
    #[track_caller]
    pub fn new(
        workers: usize,
        local_capacity: usize,
        injector_capacity: usize,
    ) -> (Self, Vec<Local<T>>) {
        match Self::try_new(workers, local_capacity, injector_capacity) {
            Ok(made) => made,
            Err(err) => panic!("weir_mpmc::distribute::WorkStealing::new: {err}"),
        }
    }

    /// Makes the distributor for `workers` workers; see [`new`](WorkStealing::new).
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `workers` is 0, [`TargetsError::Capacity`] if a capacity
    /// is 0 or too large.
    pub fn try_new(
        workers: usize,
        local_capacity: usize,
        injector_capacity: usize,
    ) -> Result<(Self, Vec<Local<T>>), TargetsError> {
        if workers == 0 {
            return Err(TargetsError::NoTargets);
        }
        let injector = Injector::try_new(injector_capacity).map_err(TargetsError::Capacity)?;
        let deques = (0..workers)
            .map(|_| Worker::try_new_lifo(local_capacity))
            .collect::<Result<Vec<_>, _>>()
            .map_err(TargetsError::Capacity)?;
        let shared = Arc::new(Shared {
            injector,
            stealers: deques.iter().map(Worker::stealer).collect(),
        });
        let locals = deques
            .into_iter()
            .enumerate()
            .map(|(index, worker)| Local {
                shared: Arc::clone(&shared),
                worker,
                index,
                // Distinct seeds, so that idle workers do not all raid the same sibling first.
                rng: Rng::new(index as u64),
            })
            .collect();
        Ok((WorkStealing { shared }, locals))
    }

    /// The number of workers.
    pub fn workers(&self) -> usize {
        self.shared.stealers.len()
    }

    /// How many items wait in the injector, not yet taken by any worker.
    pub fn injected(&self) -> usize {
        self.shared.injector.len()
    }
}

impl<T> Distributor<T> for WorkStealing<T> {
    /// Pushes `item` into the injector; returns `Ok(0)`, the injector's index.
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        self.shared.injector.push(item).map(|()| 0)
    }

    /// 1: the injector.
    #[inline]
    fn targets(&self) -> usize {
        1
    }
}

/// A clone is another sender into the same injector.
impl<T> Clone for WorkStealing<T> {
    fn clone(&self) -> Self {
        WorkStealing {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Local<T> {
    /// This worker's index, in `0..workers`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many items wait in this worker's own deque.
    pub fn len(&self) -> usize {
        self.worker.len()
    }

    /// Whether this worker's own deque is empty.
    pub fn is_empty(&self) -> bool {
        self.worker.is_empty()
    }

    /// Pushes `item` into this worker's own deque (work found while working), or into the
    /// injector if the deque is full. Siblings may steal it.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item when both are full.
    pub fn push(&self, item: T) -> Result<(), Full<T>> {
        match self.worker.push(item) {
            Ok(()) => Ok(()),
            Err(Full(item)) => self.shared.injector.push(item),
        }
    }

    /// The next item for this worker, and where it came from: its own deque; else a batch from
    /// the injector (the first item returned, the rest moved into its deque); else a batch stolen
    /// from a sibling, trying each once from a random one on. `None` when all of them were seen
    /// empty.
    ///
    /// Never waits: a steal that loses a race to another thread is tried again (some thread
    /// made progress), but an empty pool returns `None` at once.
    #[must_use = "an ignored find drops the item it took"]
    pub fn find(&mut self) -> Option<(T, Source)> {
        if let Some(item) = self.worker.pop() {
            return Some((item, Source::Local));
        }
        let backoff = Backoff::new();
        loop {
            let mut lost_a_race = false;
            match self.shared.injector.steal_batch_and_pop(&self.worker) {
                Steal::Success(item) => return Some((item, Source::Injector)),
                Steal::Retry => lost_a_race = true,
                Steal::Empty => {}
            }
            let workers = self.shared.stealers.len();
            let start = self.rng.below(workers);
            for offset in 0..workers {
                let victim = (start + offset) % workers;
                if victim == self.index {
                    continue;
                }
                match self.shared.stealers[victim].steal_batch_and_pop(&self.worker) {
                    Steal::Success(item) => return Some((item, Source::Sibling(victim))),
                    Steal::Retry => lost_a_race = true,
                    Steal::Empty => {}
                }
            }
            if !lost_a_race {
                return None;
            }
            backoff.spin();
        }
    }
}

impl<T> fmt::Debug for WorkStealing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkStealing")
            .field("workers", &self.workers())
            .field("injected", &self.injected())
            .finish()
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("index", &self.index)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
