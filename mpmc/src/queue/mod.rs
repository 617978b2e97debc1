//! The bounded MPMC queue: Vyukov's array queue, with a sequence stamp per slot.
//!
//! # Positions and stamps
//!
//! `head` (the next position to pop) and `tail` (the next to push) are positions: a lap number
//! in the high bits, times `one_lap` (the power of two above the capacity), plus a slot index
//! below it. A position moves to the next index, and past the last index to index 0 of the
//! next lap. Each slot carries a stamp that says what the slot is waiting for:
//!
//! - `stamp == pos`: free, waiting for the push of position `pos`;
//! - `stamp == pos + 1`: holds the item pushed at `pos`, waiting for its pop;
//! - a pop of `pos` sets the stamp to `pos + one_lap`, the same slot's position one lap on.
//!
//! A push claims its position by moving `tail` on with a compare-and-swap, then writes the slot
//! and publishes it with a Release store of the stamp; a pop claims with `head`, reads, and
//! frees the slot with a Release store of the stamp. The Acquire load of the stamp before each
//! claim pairs with the store of the operation before it on that slot, so the slot's memory is
//! handed from thread to thread by the stamps.
//!
//! # Full and empty
//!
//! A push that finds its slot still holding the previous lap's item reads `head`: if `head` is
//! exactly one lap behind `tail`, the queue holds `capacity` items and the push fails. If not,
//! a pop has claimed that item and is still reading it, so the push waits for it instead of
//! failing (heapless's old queue failed here, reporting "full" for a queue that was not). A pop
//! that finds its slot not yet written does the same with `tail`.
//!
//! For those two answers to be true, a thread that sees `head` (or `tail`) moved must also see
//! everything the mover did before: the claims are Release and the loads of `head` and `tail`
//! Acquire. Without that, a thread could see another's pop of an item yet not that thread's
//! earlier push, and call a queue holding that push's item empty (loom finds this interleaving:
//! the model `full_and_empty_only_when_really_so`; `full_only_when_really_full` is its mirror
//! image for pushes). On x86 these orderings cost nothing: every load is an acquire and every
//! compare-and-swap a full barrier. Crossbeam's `ArrayQueue` gets the same answers from a
//! SeqCst fence before its full and empty checks; the Acquire/Release pairs here are weaker,
//! cheaper on ARM, and each one is checked by a loom model (loom does not model SeqCst
//! accesses, so it could not check those).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::mem::MaybeUninit;

mod claim;
mod into_iter;
mod unfinished;

pub use into_iter::IntoIter;

use crossbeam_utils::CachePadded;

use crate::drop_all::drop_all;
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use crate::{CapacityError, Full};
use unfinished::{Unread, Unwritten};

/// The largest capacity: `one_lap`, the power of two above the capacity, must fit in a `usize`
/// with a lap to spare.
const MAX_CAPACITY: usize = usize::MAX / 4;

/// One slot: its stamp (see the module docs) and its possibly uninitialised item.
struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer multi-consumer queue.
///
/// Any number of threads may push and pop through a shared reference (wrap the queue in an
/// [`Arc`](std::sync::Arc), or borrow it into scoped threads). The capacity is exact and fixed
/// at construction, and nothing allocates afterwards. Items are popped in the order their pushes
/// took effect.
///
/// - [`try_push`](Queue::try_push) hands the item back in [`Full`] when the queue is full, and
///   [`force_push`](Queue::force_push) makes room by taking out the oldest item instead.
/// - [`try_pop`](Queue::try_pop) returns `None` when the queue is empty.
/// - [`try_push_many`](Queue::try_push_many) and [`try_pop_many`](Queue::try_pop_many) move
///   a batch with one compare-and-swap of the shared position, not one per item.
/// - A queue taken by value iterates over its items, oldest first ([`IntoIter`]).
///
/// Every operation is lock-free except in one narrow case: a push (or pop) that finds its slot
/// claimed but not yet finished by a pop (or push) on another thread waits for that thread to
/// finish its few instructions, spinning and then yielding.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weir_mpmc::Queue;
///
/// let queue = Arc::new(Queue::new(64));
/// let producers: Vec<_> = (0..2)
///     .map(|p| {
///         let queue = Arc::clone(&queue);
///         std::thread::spawn(move || {
///             for i in 0..1000u64 {
///                 let mut item = p * 1000 + i;
///                 while let Err(full) = queue.try_push(item) {
///                     item = full.into_inner();
///                     std::thread::yield_now();
///                 }
///             }
///         })
///     })
///     .collect();
///
/// let mut sum = 0;
/// for _ in 0..2000 {
///     loop {
///         if let Some(item) = queue.try_pop() {
///             sum += item;
///             break;
///         }
///         std::thread::yield_now();
///     }
/// }
/// producers.into_iter().for_each(|p| p.join().unwrap());
/// assert_eq!(sum, (0..2000).sum());
/// assert!(queue.is_empty());
/// ```
pub struct Queue<T> {
    /// The next position to pop.
    head: CachePadded<AtomicUsize>,
    /// The next position to push.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// The distance between a slot's positions in consecutive laps: the smallest power of two
    /// above the capacity, so that `pos + 1` of the last index never reaches the next lap.
    one_lap: usize,
}

// SAFETY: the queue moves items of type `T` between threads (so `T: Send`) and never hands out
// a shared reference to one (so `T: Sync` is not needed); every slot is accessed by one thread at
// a time, as the stamps order.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above; the shared state is atomics and stamp-guarded slots.
unsafe impl<T: Send> Sync for Queue<T> {}

static_assertions::assert_impl_all!(Queue<u64>: Send, Sync);
static_assertions::assert_impl_all!(Queue<core::cell::Cell<u64>>: Send, Sync);
static_assertions::assert_not_impl_any!(Queue<*const u8>: Send, Sync);
static_assertions::assert_impl_all!(IntoIter<u64>: Send, Sync);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert!(core::mem::align_of::<CachePadded<AtomicUsize>>() >= 128);

impl<T> Queue<T> {
    /// Makes a queue that holds exactly `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or too large to allocate; [`try_new`](Queue::try_new) returns the
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::<String>::new(100);
    /// assert_eq!(queue.capacity(), 100);
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        match Self::try_new(capacity) {
            Ok(queue) => queue,
            Err(err) => panic!("weir_mpmc::Queue::new: {err}"),
        }
    }

    /// Makes a queue that holds exactly `capacity` items.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0, larger than `usize::MAX / 4`, or too large to
    /// allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::Queue;
    ///
    /// assert_eq!(Queue::<u8>::try_new(0).unwrap_err().to_string(), "capacity must be at least 1");
    /// assert!(Queue::<u64>::try_new(usize::MAX / 8).is_err());
    /// assert_eq!(Queue::<u64>::try_new(3).unwrap().capacity(), 3);
    /// ```
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        Self::try_new_at(capacity, 0)
    }

    /// Makes a queue that holds exactly `capacity` items, with its positions starting at
    /// `start` instead of 0: for tests that take the positions across their wrap at
    /// `usize::MAX`, which a real queue reaches only after `2^64` pushes. Not part of the stable
    /// API.
    ///
    /// `start` is rounded down to a position of the queue: its lap, and its index within the
    /// lap, clamped to the last slot (the `one_lap` positions of a lap outnumber the slots).
    ///
    /// # Panics
    ///
    /// As [`new`](Queue::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::with_start_index(3, usize::MAX - 1);
    /// for i in 0..10 {
    ///     queue.try_push(i).unwrap();
    ///     assert_eq!(queue.try_pop(), Some(i));
    /// }
    /// ```
    #[doc(hidden)]
    #[track_caller]
    pub fn with_start_index(capacity: usize, start: usize) -> Self {
        match Self::try_new_at(capacity, start) {
            Ok(queue) => queue,
            Err(err) => panic!("weir_mpmc::Queue::with_start_index: {err}"),
        }
    }

    /// `try_new`, with the positions starting at `start` (see `with_start_index`).
    fn try_new_at(capacity: usize, start: usize) -> Result<Self, CapacityError> {
        let error = || CapacityError::for_items::<T>(capacity, MAX_CAPACITY);
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(error());
        }
        let one_lap = (capacity + 1).next_power_of_two();
        let lap = start & !(one_lap - 1);
        let first = (start & (one_lap - 1)).min(capacity - 1);
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity).map_err(|_| error())?;
        // Each slot is free for its next position from `lap + first` on: this lap's from
        // `first` to the end, the next lap's before `first`.
        slots.extend((0..capacity).map(|index| Slot {
            stamp: AtomicUsize::new(if index >= first {
                lap | index
            } else {
                lap.wrapping_add(one_lap) | index
            }),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Ok(Queue {
            head: CachePadded::new(AtomicUsize::new(lap | first)),
            tail: CachePadded::new(AtomicUsize::new(lap | first)),
            slots: slots.into_boxed_slice(),
            one_lap,
        })
    }

    /// Pushes `item` at the back, or hands it back if the queue is full.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item, when the queue holds `capacity` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(1);
    /// assert_eq!(queue.try_push('a'), Ok(()));
    /// assert_eq!(queue.try_push('b').unwrap_err().into_inner(), 'b');
    /// ```
    pub fn try_push(&self, item: T) -> Result<(), Full<T>> {
        self.try_push_then(item, || {})
    }

    /// As [`try_push`](Self::try_push), calling `claimed` once the item's position is claimed
    /// and before the item is written: the place for a wake-up of consumers that sleep until the
    /// queue is not empty.
    ///
    /// A consumer that looks at the queue after `claimed` ran sees the position claimed, and
    /// waits the few instructions until the item is written instead of calling the queue
    /// empty. So a wake-up with a `SeqCst` fence (an event count's notify, say) loses no
    /// sleeper here, and its fence is cheaper here than after the write: the claim's
    /// compare-and-swap has just drained this thread's stores, where after the write the fence
    /// would wait for the item's cache line. `weir-backpressure`'s MPMC channel notifies this
    /// way.
    ///
    /// `claimed` runs only if the push succeeds, and consumers of that position wait while it
    /// runs, so keep it short. It must not pop from this queue, which could wait for this very
    /// push. If it panics, the item is still pushed, and the panic goes on.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item, when the queue holds `capacity` items; `claimed` is not called.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(1);
    /// let mut woken = 0;
    /// assert_eq!(queue.try_push_then('a', || woken += 1), Ok(()));
    /// assert!(queue.try_push_then('b', || woken += 1).is_err());
    /// assert_eq!((woken, queue.try_pop()), (1, Some('a')));
    /// ```
    #[inline]
    pub fn try_push_then(&self, item: T, claimed: impl FnOnce()) -> Result<(), Full<T>> {
        match self.claim_push(1) {
            Ok((pos, _)) => {
                // SAFETY: the claim makes position `pos` this thread's, and its slot free.
                let _write_on_drop = unsafe { Unwritten::new(self, pos, item) };
                claimed();
                Ok(())
            }
            Err(_) => Err(Full(item)),
        }
    }

    /// Pushes `item` at the back, taking out and returning the oldest item if the queue is full.
    ///
    /// The queue never refuses: this is for producers that must not wait and would rather lose
    /// old data than new (the latest readings of a sensor, say).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(2);
    /// assert_eq!(queue.force_push(1), None);
    /// assert_eq!(queue.force_push(2), None);
    /// assert_eq!(queue.force_push(3), Some(1));
    /// assert_eq!(queue.try_pop(), Some(2));
    /// assert_eq!(queue.try_pop(), Some(3));
    /// ```
    #[must_use = "the evicted oldest item is dropped if the result is ignored"]
    pub fn force_push(&self, item: T) -> Option<T> {
        let mut item = item;
        loop {
            match self.claim_push(1) {
                Ok((pos, _)) => {
                    // SAFETY: as in `try_push`.
                    unsafe { self.write(pos, item) };
                    return None;
                }
                Err(tail) => match self.replace_oldest(tail, item) {
                    Ok(oldest) => return Some(oldest),
                    // Another thread changed the queue first: try again.
                    Err(back) => item = back,
                },
            }
        }
    }

    /// Pops the item at the front, or returns `None` if the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(4);
    /// assert_eq!(queue.try_pop(), None::<u8>);
    /// queue.try_push(7).unwrap();
    /// assert_eq!(queue.try_pop(), Some(7));
    /// ```
    #[must_use = "the popped item is dropped if the result is ignored"]
    pub fn try_pop(&self) -> Option<T> {
        self.try_pop_then(|| {})
    }

    /// As [`try_pop`](Self::try_pop), calling `claimed` once the item's position is claimed and
    /// before the item is read out: the place for a wake-up of producers that sleep until the
    /// queue is not full, for the reasons [`try_push_then`](Self::try_push_then) gives.
    ///
    /// `claimed` runs only if there is an item, and producers that reach the slot wait while
    /// it runs, so keep it short. It must not push to this queue, which could wait for this
    /// very pop. If it panics, the item is taken out and dropped (the queue stays usable), and
    /// the panic goes on.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(1);
    /// let mut woken = 0;
    /// assert_eq!(queue.try_pop_then(|| woken += 1), None::<u8>);
    /// queue.try_push(7).unwrap();
    /// assert_eq!(queue.try_pop_then(|| woken += 1), Some(7));
    /// assert_eq!(woken, 1);
    /// ```
    #[inline]
    #[must_use = "the popped item is dropped if the result is ignored"]
    pub fn try_pop_then(&self, claimed: impl FnOnce()) -> Option<T> {
        let (pos, _) = self.claim_pop(1)?;
        // SAFETY: the claim makes position `pos` this thread's, and its slot holds its item.
        let mut unread = unsafe { Unread::new(self, pos, 1) };
        claimed();
        unread.next()
    }

    /// Moves as many items as fit from the front of `items` to the back of the queue, in order,
    /// claiming all their slots with one compare-and-swap. Returns how many moved; the rest stay
    /// in `items`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(3);
    /// let mut items = vec![1, 2, 3, 4, 5];
    /// assert_eq!(queue.try_push_many(&mut items), 3);
    /// assert_eq!(items, [4, 5]);
    /// assert_eq!(queue.try_push_many(&mut items), 0);
    /// assert_eq!(queue.try_pop(), Some(1));
    /// ```
    #[must_use = "the count says how many items were pushed; the rest stay in `items`"]
    pub fn try_push_many(&self, items: &mut Vec<T>) -> usize {
        self.try_push_many_at_most(items, usize::MAX)
    }

    /// As [`try_push_many`](Self::try_push_many), moving at most `max` items: for a producer
    /// that keeps the queue under a limit of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(8);
    /// let mut items = vec![1, 2, 3, 4, 5];
    /// assert_eq!(queue.try_push_many_at_most(&mut items, 2), 2);
    /// assert_eq!(items, [3, 4, 5]);
    /// assert_eq!(queue.try_push_many_at_most(&mut items, 0), 0);
    /// assert_eq!(queue.len(), 2);
    /// ```
    #[must_use = "the count says how many items were pushed; the rest stay in `items`"]
    pub fn try_push_many_at_most(&self, items: &mut Vec<T>, max: usize) -> usize {
        let wanted = items.len().min(max);
        if wanted == 0 {
            return 0;
        }
        let Ok((first, claimed)) = self.claim_push(wanted) else {
            return 0;
        };
        let mut pos = first;
        // `drain` yields exactly `claimed` items, and moving them cannot unwind.
        for item in items.drain(..claimed) {
            // SAFETY: the claim covers `claimed` positions from `first`, with free slots.
            unsafe { self.write(pos, item) };
            pos = self.next(pos);
        }
        claimed
    }

    /// Pops up to `max` items from the front, in order, appending them to `out`, claiming all
    /// their slots with one compare-and-swap. Returns how many were popped (0 when the queue is
    /// empty).
    ///
    /// `out` is given room for `min(max, capacity)` more items first; when it already has that
    /// much spare capacity, nothing is allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(8);
    /// for i in 0..5 {
    ///     queue.try_push(i).unwrap();
    /// }
    /// let mut out = Vec::with_capacity(8);
    /// assert_eq!(queue.try_pop_many(&mut out, 3), 3);
    /// assert_eq!(queue.try_pop_many(&mut out, usize::MAX), 2);
    /// assert_eq!(out, [0, 1, 2, 3, 4]);
    /// assert_eq!(queue.try_pop_many(&mut out, 3), 0);
    /// ```
    #[must_use = "the count says how many items were moved to `out`"]
    pub fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        let max = max.min(self.capacity());
        // Reserve before claiming: once slots are claimed, nothing may fail or unwind.
        out.reserve(max);
        // `out` has room, so `push` neither reallocates nor unwinds.
        self.pop_batch(max, |item| out.push(item))
    }

    /// Pops up to `max` items from the front with one claim, handing each to `sink` in order.
    /// Returns how many were popped.
    ///
    /// # Panics
    ///
    /// If `sink` panics, the panic goes on after the items claimed but not yet handed to `sink`
    /// are taken out of their slots (freeing them, so the queue stays usable) and dropped, each
    /// once; the items handed over before are `sink`'s. (If one of those drops panics too, the
    /// process aborts, as for any panic while unwinding.)
    pub(crate) fn pop_batch(&self, max: usize, mut sink: impl FnMut(T)) -> usize {
        if max == 0 {
            return 0;
        }
        let Some((first, claimed)) = self.claim_pop(max) else {
            return 0;
        };
        // SAFETY: the claim covers `claimed` positions from `first`, each holding its item.
        // Should `sink` unwind, the guard reads out and drops the items not yet handed over.
        let mut unread = unsafe { Unread::new(self, first, claimed) };
        while let Some(item) = unread.next() {
            sink(item);
        }
        claimed
    }

    /// How many items the queue holds. Other threads may change it the moment it returns.
    ///
    /// The answer is never more than the queue held at one moment (so never more than
    /// [`capacity`](Queue::capacity)), even while other threads push and pop: a queue that
    /// never held two items at once is never reported to hold two.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_mpmc::Queue::new(4);
    /// queue.try_push(()).unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let (head, tail) = self.positions();
        // `head <= tail <= head + capacity`, so the indices tell the distance apart: equal
        // indices are an empty queue when the positions are equal, else a full one.
        let mask = self.one_lap - 1;
        let (head_index, tail_index) = (head & mask, tail & mask);
        if head_index < tail_index {
            tail_index - head_index
        } else if head_index > tail_index {
            self.capacity() - head_index + tail_index
        } else if tail == head {
            0
        } else {
            self.capacity()
        }
    }

    /// Whether the queue holds no items. Other threads may change it the moment it returns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue holds `capacity` items. Other threads may change it the moment it
    /// returns.
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// How many items the queue holds at most.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        if core::mem::needs_drop::<T>() {
            // `&mut self`: every other thread's operations happened before this drop, and no
            // claim is half-done, so the items are exactly the positions from `head` to `tail`.
            let head = self.head.load(Ordering::Relaxed);
            let tail = self.tail.load(Ordering::Relaxed);
            let positions = core::iter::successors(Some(head), |&pos| Some(self.next(pos)))
                .take_while(|&pos| pos != tail);
            drop_all(positions, |pos| {
                // SAFETY: `pos` is `head` or made from it by `next`, a position of the queue.
                let slot = unsafe { self.slot(pos) };
                slot.value.with_mut(|value| {
                    // SAFETY: as just said, the slot holds an item nobody else can reach, and
                    // nothing reads it again.
                    unsafe { (*value).assume_init_drop() }
                });
            });
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::Queue;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::vec::Vec;

    /// Counts its drops per value.
    struct Counted<'a>(usize, &'a [AtomicUsize]);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.1[self.0].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A sink that panics half-way through a batch: the process goes on, the items handed over
    /// and the ones still claimed are each dropped once, and the queue goes on working, lap
    /// after lap, over the slots the batch had claimed.
    #[test]
    fn pop_batch_survives_a_panicking_sink() {
        let drops: Vec<AtomicUsize> = (0..40).map(|_| AtomicUsize::new(0)).collect();
        let queue = Queue::new(4);
        for value in 0..4 {
            queue.try_push(Counted(value, &drops)).ok().unwrap();
        }
        let mut kept = Vec::new();
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            queue.pop_batch(4, |item| {
                assert_ne!(item.0, 1, "the sink panics at item 1");
                kept.push(item);
            })
        }));
        assert!(unwound.is_err());
        let dropped = |value: usize| drops[value].load(Ordering::Relaxed);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (dropped(0), dropped(1), dropped(2), dropped(3)),
            (0, 1, 1, 1)
        );
        drop(kept);
        assert_eq!(queue.len(), 0);
        for value in 4..40 {
            queue.try_push(Counted(value, &drops)).ok().unwrap();
            if value % 3 == 0 {
                assert_eq!(queue.pop_batch(8, drop), 3);
            }
        }
        drop(queue);
        assert!((0..40).all(|value| dropped(value) == 1));
    }

    /// A hook that panics between a claim and the slot's access: the push still goes in, the
    /// pop's item is dropped once, and the queue goes on working over that slot, lap after lap.
    #[test]
    fn a_panicking_hook_finishes_its_claim() {
        let drops: Vec<AtomicUsize> = (0..20).map(|_| AtomicUsize::new(0)).collect();
        let dropped = |value: usize| drops[value].load(Ordering::Relaxed);
        let queue = Queue::new(2);
        let pushed = catch_unwind(AssertUnwindSafe(|| {
            queue.try_push_then(Counted(0, &drops), || panic!("push hook"))
        }));
        assert!(pushed.is_err());
        assert_eq!((queue.len(), dropped(0)), (1, 0));
        let popped = catch_unwind(AssertUnwindSafe(|| {
            queue.try_pop_then(|| panic!("pop hook"))
        }));
        assert!(popped.is_err());
        assert_eq!((queue.len(), dropped(0)), (0, 1));
        for value in 1..20 {
            queue.try_push(Counted(value, &drops)).ok().unwrap();
            let item = queue.try_pop().unwrap();
            assert_eq!(item.0, value);
        }
        assert!((0..20).all(|value| dropped(value) == 1));
    }
}
