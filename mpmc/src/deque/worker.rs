//! The owner's end of a deque: push, and pop in LIFO or FIFO order.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;

use super::buffer::{distance, Buffer, Flavor};
use super::Stealer;
use crate::sync::{fence, Arc, Backoff, Ordering};
use crate::{CapacityError, Full};

/// The owner's end of a work-stealing deque: one thread pushes and pops here, while any number
/// of [`Stealer`]s take the oldest items from the other end.
///
/// A `Worker` may be moved to another thread ([`Send`]) but not shared ([`Sync`] is not
/// implemented): the deque's protocol needs a single owner.
///
/// # Examples
///
/// ```
/// use weir_mpmc::deque::{Steal, Worker};
///
/// let worker = Worker::new_lifo(16);
/// let stealer = worker.stealer();
/// for task in 1..=3 {
///     worker.push(task).unwrap();
/// }
/// // The owner pops the newest, a stealer takes the oldest.
/// assert_eq!(worker.pop(), Some(3));
/// let thief = std::thread::spawn(move || stealer.steal());
/// assert_eq!(thief.join().unwrap(), Steal::Success(1));
/// assert_eq!(worker.pop(), Some(2));
/// assert_eq!(worker.pop(), None);
/// ```
pub struct Worker<T> {
    pub(super) buffer: Arc<Buffer<T>>,
    /// Makes the worker `!Sync` (it stays `Send`): only its owner may push and pop.
    _owner: PhantomData<Cell<()>>,
}

static_assertions::assert_impl_all!(Worker<u64>: Send);
static_assertions::assert_not_impl_any!(Worker<u64>: Sync);
static_assertions::assert_not_impl_any!(Worker<*const u8>: Send, Sync);

impl<T> Worker<T> {
    /// Makes a deque for `capacity` items whose owner pops the oldest item first.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or too large to allocate; [`try_new_fifo`](Worker::try_new_fifo)
    /// returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_fifo(2);
    /// worker.push('a').unwrap();
    /// worker.push('b').unwrap();
    /// assert_eq!(worker.pop(), Some('a'));
    /// ```
    #[track_caller]
    pub fn new_fifo(capacity: usize) -> Self {
        match Self::try_new_fifo(capacity) {
            Ok(worker) => worker,
            Err(err) => panic!("weir_mpmc::deque::Worker::new_fifo: {err}"),
        }
    }

    /// Makes a deque for `capacity` items whose owner pops the newest item first.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or too large to allocate; [`try_new_lifo`](Worker::try_new_lifo)
    /// returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_lifo(2);
    /// worker.push('a').unwrap();
    /// worker.push('b').unwrap();
    /// assert_eq!(worker.pop(), Some('b'));
    /// ```
    #[track_caller]
    pub fn new_lifo(capacity: usize) -> Self {
        match Self::try_new_lifo(capacity) {
            Ok(worker) => worker,
            Err(err) => panic!("weir_mpmc::deque::Worker::new_lifo: {err}"),
        }
    }

    /// Makes a FIFO deque for `capacity` items, as [`new_fifo`](Worker::new_fifo) does.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0, larger than `usize::MAX / 4`, or too large to
    /// allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Worker;
    ///
    /// let err = Worker::<u8>::try_new_fifo(0).unwrap_err();
    /// assert_eq!(err.to_string(), "capacity must be at least 1");
    /// assert_eq!(Worker::<u8>::try_new_fifo(5).unwrap().capacity(), 5);
    /// ```
    pub fn try_new_fifo(capacity: usize) -> Result<Self, CapacityError> {
        Self::try_new(capacity, Flavor::Fifo)
    }

    /// Makes a LIFO deque for `capacity` items, as [`new_lifo`](Worker::new_lifo) does.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0, larger than `usize::MAX / 4`, or too large to
    /// allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Worker;
    ///
    /// assert!(Worker::<u64>::try_new_lifo(usize::MAX).is_err());
    /// assert_eq!(Worker::<u8>::try_new_lifo(5).unwrap().capacity(), 5);
    /// ```
    pub fn try_new_lifo(capacity: usize) -> Result<Self, CapacityError> {
        Self::try_new(capacity, Flavor::Lifo)
    }

    fn try_new(capacity: usize, flavor: Flavor) -> Result<Self, CapacityError> {
        Self::try_new_at(capacity, flavor, 0)
    }

    fn try_new_at(capacity: usize, flavor: Flavor, start: usize) -> Result<Self, CapacityError> {
        Ok(Worker {
            buffer: Arc::new(Buffer::try_new(capacity, flavor, start)?),
            _owner: PhantomData,
        })
    }

    /// For tests: [`new_lifo`](Worker::new_lifo) with the deque's positions starting at
    /// `start` instead of 0, so that a test can run them across the points where they wrap
    /// (`usize::MAX` to 0, and `isize::MAX` to `isize::MIN` as signed numbers).
    ///
    /// # Panics
    ///
    /// As [`new_lifo`](Worker::new_lifo).
    #[doc(hidden)]
    #[track_caller]
    pub fn new_lifo_at(capacity: usize, start: usize) -> Self {
        match Self::try_new_at(capacity, Flavor::Lifo, start) {
            Ok(worker) => worker,
            Err(err) => panic!("weir_mpmc::deque::Worker::new_lifo_at: {err}"),
        }
    }

    /// For tests: [`new_fifo`](Worker::new_fifo) with the positions starting at `start`; see
    /// [`new_lifo_at`](Worker::new_lifo_at).
    ///
    /// # Panics
    ///
    /// As [`new_fifo`](Worker::new_fifo).
    #[doc(hidden)]
    #[track_caller]
    pub fn new_fifo_at(capacity: usize, start: usize) -> Self {
        match Self::try_new_at(capacity, Flavor::Fifo, start) {
            Ok(worker) => worker,
            Err(err) => panic!("weir_mpmc::deque::Worker::new_fifo_at: {err}"),
        }
    }

    /// A new handle for stealing from this deque, to give to another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_fifo(4);
    /// worker.push(1).unwrap();
    /// assert_eq!(worker.stealer().steal().success(), Some(1));
    /// ```
    pub fn stealer(&self) -> Stealer<T> {
        Stealer::new(Arc::clone(&self.buffer))
    }

    /// Pushes `item` at the owner's end, or hands it back if the deque holds `capacity` items.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item, when the deque holds `capacity` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_lifo(1);
    /// assert!(worker.push("first").is_ok());
    /// assert_eq!(worker.push("second").unwrap_err().into_inner(), "second");
    /// ```
    pub fn push(&self, item: T) -> Result<(), Full<T>> {
        if self.room() == 0 {
            return Err(Full(item));
        }
        // SAFETY: `&self` on a `!Sync` handle: this is the owner's thread; and there is room.
        unsafe { self.buffer.write(item) };
        Ok(())
    }

    /// Pushes `item` without looking at the room: a batch steal's moves into its own worker,
    /// which checked the room once for the whole batch.
    ///
    /// Unsafe rather than checked: a check would load `top`, a cache line this deque's stealers
    /// write, once per item of the batch, and could not fail gracefully anyway (the item has
    /// already been claimed from the victim, and inside the injector's batch a panic aborts).
    ///
    /// # Safety
    ///
    /// The deque has room for `item`: since the caller last saw `room() > n`, it has pushed at
    /// most `n` items on this thread (stealers only ever make more room). Without room, the
    /// write would overwrite an item nobody has taken, or make the deque hold more than
    /// `capacity` items, after which `room` underflows.
    pub(super) unsafe fn push_with_room(&self, item: T) {
        // Checks the caller's promise in debug builds; soundness rests on the promise.
        debug_assert!(self.room() > 0);
        // SAFETY: `&self` on a `!Sync` handle: this is the owner's thread; and the caller
        // promises room.
        unsafe { self.buffer.write(item) };
    }

    /// How many more items fit, as seen by the owner (its `bottom` is exact; `top` may be stale,
    /// which only understates the room).
    pub(super) fn room(&self) -> usize {
        // Relaxed: only this thread writes `bottom`.
        let bottom = self.buffer.bottom.load(Ordering::Relaxed);
        // Relaxed, not the paper's Acquire: only the room check; the stamps order the slots'
        // reuse (note (3) of the orderings table in the module docs).
        let top = self.buffer.top.load(Ordering::Relaxed);
        self.buffer.capacity() - distance(top, bottom) as usize
    }

    /// Pops an item: the newest in a LIFO deque, the oldest in a FIFO one. `None` when the deque
    /// is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_lifo(4);
    /// assert_eq!(worker.pop(), None::<u8>);
    /// worker.push(1).unwrap();
    /// worker.push(2).unwrap();
    /// assert_eq!(worker.pop(), Some(2));
    /// ```
    #[must_use = "an ignored pop drops the item it took off the deque"]
    pub fn pop(&self) -> Option<T> {
        match self.buffer.flavor {
            Flavor::Lifo => self.pop_lifo(),
            Flavor::Fifo => self.pop_fifo(),
        }
    }

    /// The paper's `take`: lower `bottom`, then look at `top`.
    fn pop_lifo(&self) -> Option<T> {
        let buffer = &*self.buffer;
        // Relaxed: only this thread writes `bottom`.
        let bottom = buffer.bottom.load(Ordering::Relaxed);
        // Relaxed: a quick look. `top` never decreases, so if even this value has reached
        // `bottom` the deque is empty now, and the fence below is not needed.
        if distance(buffer.top.load(Ordering::Relaxed), bottom) <= 0 {
            return None;
        }
        let bottom = bottom.wrapping_sub(1);
        // Release (in `set_bottom`), not the paper's Relaxed: notes (1) and (2) of the orderings
        // table in the module docs.
        buffer.set_bottom(bottom);
        // SeqCst fence, pairing with the one in every steal (`Buffer::claim`): store `bottom`,
        // load `top` here against load `top`, load `bottom` there (see "The algorithm").
        fence(Ordering::SeqCst);
        // Relaxed, as in the paper: ordered by the fences.
        let top = buffer.top.load(Ordering::Relaxed);
        let len = distance(top, bottom);
        if len > 0 {
            // More than one item was left: no steal can reach position `bottom`.
            // SAFETY: `bottom` is below the old `bottom` and above `top`, so this thread wrote
            // it and nobody else can claim it.
            return Some(unsafe { buffer.read_own(bottom) });
        }
        // The last item (or none): race the steals for it with a compare-and-swap.
        //
        // SeqCst on success, as in the paper (note (4) of the orderings table: no loom model can
        // need it); Relaxed on failure, which reads nothing.
        let taken = len == 0
            && buffer
                .top
                .compare_exchange(
                    top,
                    top.wrapping_add(1),
                    Ordering::SeqCst, // loom-cannot-tell: the paper's, note (4)
                    Ordering::Relaxed,
                )
                .is_ok();
        // SAFETY: the CAS moved `top` past `bottom` for this thread, and it wrote the item.
        let item = taken.then(|| unsafe { buffer.take(bottom) });
        // Give `bottom` back: the deque is empty, `top == bottom + 1`. Release (in `set_bottom`),
        // not the paper's Relaxed: note (2) of the orderings table.
        buffer.set_bottom(bottom.wrapping_add(1));
        item
    }

    /// A FIFO pop: the owner takes at `top` like a steal, but knows `bottom` exactly and never
    /// lowers it, so it needs no fence (nothing here is a store-buffering race).
    fn pop_fifo(&self) -> Option<T> {
        let buffer = &*self.buffer;
        // Relaxed: only this thread writes `bottom`.
        let bottom = buffer.bottom.load(Ordering::Relaxed);
        // Relaxed, as this pop's CAS below: atomicity only (the FIFO pop row of the orderings
        // table); a stale `top` makes the CAS fail, never take a wrong item.
        let mut top = buffer.top.load(Ordering::Relaxed);
        let backoff = Backoff::new();
        loop {
            if distance(top, bottom) <= 0 {
                return None;
            }
            // Relaxed: its atomicity decides between this pop and the steals (see above).
            match buffer.top.compare_exchange_weak(
                top,
                top.wrapping_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                // SAFETY: the CAS moved `top` past `top` for this thread, and it wrote the item.
                Ok(_) => return Some(unsafe { buffer.take(top) }),
                Err(current) => {
                    top = current;
                    backoff.spin();
                }
            }
        }
    }

    /// How many items the deque holds. Stealers may take some the moment it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::new_fifo(4);
    /// worker.push(()).unwrap();
    /// assert_eq!(worker.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.buffer.capacity() - self.room()
    }

    /// Whether the deque holds no items. Stealers may empty it the moment it returns `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// let worker = weir_mpmc::deque::Worker::<u8>::new_fifo(4);
    /// assert!(worker.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the deque holds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir_mpmc::deque::Worker::<u8>::new_lifo(10).capacity(), 10);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("flavor", &self.buffer.flavor)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}
