//! Work from outside the pool: a bounded MPMC queue that workers steal from.

use core::fmt;

use super::{Steal, Worker, MAX_BATCH};
use crate::{CapacityError, Full, Queue};

/// A shared queue of work that any thread may push to and any worker steal from: where a pool
/// receives tasks from outside.
///
/// It is a [`Queue`] with the deque's stealing interface: items come out oldest first, and
/// [`steal_batch_and_pop`](Injector::steal_batch_and_pop) moves several into a worker's deque
/// with one claim. Its steals never return [`Steal::Retry`]: the queue waits out the few
/// instructions of a racing pop instead.
///
/// # Examples
///
/// ```
/// use weir_mpmc::deque::{Injector, Steal, Worker};
///
/// let injector = Injector::new(64);
/// for task in 0..10 {
///     injector.push(task).unwrap();
/// }
/// let worker = Worker::new_fifo(8);
/// assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(0));
/// assert_eq!(worker.len(), 4);
/// assert_eq!(injector.steal(), Steal::Success(5));
/// ```
pub struct Injector<T> {
    queue: Queue<T>,
}

static_assertions::assert_impl_all!(Injector<u64>: Send, Sync);
static_assertions::assert_not_impl_any!(Injector<*const u8>: Send, Sync);

impl<T> Injector<T> {
    /// Makes an injector that holds up to `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or too large to allocate; [`try_new`](Injector::try_new) returns the
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let injector = weir_mpmc::deque::Injector::<u8>::new(100);
    /// assert_eq!(injector.capacity(), 100);
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        match Self::try_new(capacity) {
            Ok(injector) => injector,
            Err(err) => panic!("weir_mpmc::deque::Injector::new: {err}"),
        }
    }

    /// Makes an injector that holds up to `capacity` items.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0, larger than `usize::MAX / 4`, or too large to
    /// allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Injector;
    ///
    /// assert!(Injector::<u8>::try_new(0).is_err());
    /// assert_eq!(Injector::<u8>::try_new(3).unwrap().capacity(), 3);
    /// ```
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        Ok(Injector {
            queue: Queue::try_new(capacity)?,
        })
    }

    /// Pushes `item` at the back, or hands it back if the injector is full.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item, when the injector holds `capacity` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let injector = weir_mpmc::deque::Injector::new(1);
    /// assert!(injector.push(1).is_ok());
    /// assert_eq!(injector.push(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn push(&self, item: T) -> Result<(), Full<T>> {
        self.queue.try_push(item)
    }

    /// Takes the oldest item, or returns [`Steal::Empty`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::{Injector, Steal};
    ///
    /// let injector = Injector::new(4);
    /// assert_eq!(injector.steal(), Steal::<u8>::Empty);
    /// injector.push(3).unwrap();
    /// assert_eq!(injector.steal(), Steal::Success(3));
    /// ```
    pub fn steal(&self) -> Steal<T> {
        match self.queue.try_pop() {
            Some(item) => Steal::Success(item),
            None => Steal::Empty,
        }
    }

    batch_steals! {
        "Injector",
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Injector, Steal, Worker};
        ///
        /// let injector = Injector::new(8);
        /// for task in 0..4 {
        ///     injector.push(task).unwrap();
        /// }
        /// let worker = Worker::new_fifo(8);
        /// assert_eq!(injector.steal_batch(&worker), Steal::Success(()));
        /// assert_eq!((worker.pop(), worker.pop(), worker.pop()), (Some(0), Some(1), None));
        /// ```
        fn steal_batch;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Injector, Steal, Worker};
        ///
        /// let injector = Injector::new(16);
        /// for task in 0..10 {
        ///     injector.push(task).unwrap();
        /// }
        /// let worker = Worker::new_fifo(8);
        /// assert_eq!(injector.steal_batch_with_limit(&worker, 2), Steal::Success(()));
        /// assert_eq!(worker.len(), 2);
        /// ```
        fn steal_batch_with_limit;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Injector, Steal, Worker};
        ///
        /// let injector = Injector::new(8);
        /// for task in 0..4 {
        ///     injector.push(task).unwrap();
        /// }
        /// let worker = Worker::new_lifo(1);
        /// // Only one more item fits in the worker.
        /// assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(0));
        /// assert_eq!(worker.pop(), Some(1));
        /// assert_eq!(injector.len(), 2);
        /// ```
        fn steal_batch_and_pop;
        /// # Examples
        ///
        /// ```
        /// use weir_mpmc::deque::{Injector, Steal, Worker};
        ///
        /// let injector = Injector::new(16);
        /// for task in 0..10 {
        ///     injector.push(task).unwrap();
        /// }
        /// let worker = Worker::new_lifo(8);
        /// assert_eq!(injector.steal_batch_with_limit_and_pop(&worker, 3), Steal::Success(0));
        /// assert_eq!((worker.pop(), worker.pop(), worker.pop()), (Some(2), Some(1), None));
        /// ```
        fn steal_batch_with_limit_and_pop;
    }

    /// The batch steals' one body: pops about half of the items, at most `limit` (at least 1),
    /// no more than fit in `dest` (with one more when `pop`), with one claim, and pushes them
    /// into `dest` in order: all of them, or all but the first when `pop`, which it returns.
    fn batch(&self, dest: &Worker<T>, limit: usize, pop: bool) -> Steal<Option<T>> {
        // `dest`'s room only grows while this runs: its owner is this thread, and its stealers
        // only take. So every item the batch pops fits (but the first, when `pop`), and the
        // sink below cannot fail.
        let room = dest.room();
        let fits = if pop { room.saturating_add(1) } else { room };
        if fits == 0 {
            return Steal::Empty;
        }
        let max = self.queue.len().div_ceil(2).max(1).min(fits).min(limit);
        let mut first = None;
        let mut popped = false;
        // The sink must not unwind (the rest of the claim would be lost): it only moves the item
        // into `first` or into `dest`, which has room, and runs no check that could panic.
        self.queue.pop_batch(max, |item| {
            if pop && !popped {
                first = Some(item);
            } else {
                // SAFETY: `pop_batch` hands over at most `max <= fits` items; `dest` had room
                // for `fits` of them, or `fits - 1` when `pop` keeps the first out of it (and
                // its stealers only make more).
                unsafe { dest.push_with_room(item) };
            }
            popped = true;
        });
        if popped {
            Steal::Success(first)
        } else {
            Steal::Empty
        }
    }

    /// How many items the injector holds. Other threads may change it the moment it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let injector = weir_mpmc::deque::Injector::new(4);
    /// injector.push(()).unwrap();
    /// assert_eq!(injector.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the injector holds no items. Other threads may change it the moment it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir_mpmc::deque::Injector::<u8>::new(4).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The most items the injector holds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir_mpmc::deque::Injector::<u8>::new(4).capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }
}

impl<T> fmt::Debug for Injector<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Injector")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}
