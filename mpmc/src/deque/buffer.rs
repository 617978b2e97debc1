//! The state a worker and its stealers share: the two positions, the ring of stamped slots, and
//! the items left over when the last handle goes.
//!
//! See the [module docs](super) for the protocol; this file holds its two building blocks on a
//! slot, [`Buffer::write`] (the owner's push) and [`Buffer::take`] (whoever moved `top` past a
//! position reads it), and the claim that every steal goes through, [`Buffer::claim`].

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use crate::drop_all::drop_all;
use crate::sync::{fence, AtomicUsize, Backoff, Ordering, UnsafeCell};
use crate::CapacityError;

/// The largest capacity: the ring's size (the power of two at or above the capacity) must leave
/// room for positions to be compared by their wrapping signed difference.
pub(super) const MAX_CAPACITY: usize = usize::MAX / 4;

/// Which end the owner pops from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavor {
    /// The owner pops the oldest item, at `top`, as stealers do.
    Fifo,
    /// The owner pops the newest item, at `bottom - 1`.
    Lifo,
}

/// One slot: its stamp and its possibly uninitialised item.
///
/// `stamp == pos` says the slot is free for (or holds the item of) the push of position `pos`;
/// whoever moves `top` past `pos` reads the item and then stores `pos + size`, freeing the slot
/// for the push one lap on. A LIFO pop leaves the stamp alone, as the next push reuses `pos`.
struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The shared ring of a [`Worker`](super::Worker) and its [`Stealer`](super::Stealer)s.
pub(super) struct Buffer<T> {
    /// The oldest item's position: stealers (and a FIFO owner) take here, moving it on with a
    /// compare-and-swap. It only ever grows.
    pub(super) top: CachePadded<AtomicUsize>,
    /// One past the newest item's position: written by the owner only.
    pub(super) bottom: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// The most items the deque holds: `bottom - top <= capacity <= slots.len()`.
    capacity: usize,
    pub(super) flavor: Flavor,
}

// SAFETY: the buffer moves items of type `T` between threads (so `T: Send`) and never hands out
// a shared reference to one (so `T: Sync` is not needed); each slot is accessed by one thread at
// a time, as the positions and stamps order.
unsafe impl<T: Send> Send for Buffer<T> {}
// SAFETY: as above; the shared state is atomics and stamp-guarded slots.
unsafe impl<T: Send> Sync for Buffer<T> {}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert!(core::mem::align_of::<CachePadded<AtomicUsize>>() >= 128);

/// The signed distance from `from` to `to`: how many items lie between two positions (negative
/// while a LIFO pop has moved `bottom` below `top`).
#[inline(always)]
pub(super) fn distance(from: usize, to: usize) -> isize {
    to.wrapping_sub(from) as isize
}

impl<T> Buffer<T> {
    /// A ring for `capacity` items, its positions starting at `start` (0 but in tests, which
    /// start them just before they wrap).
    pub(super) fn try_new(
        capacity: usize,
        flavor: Flavor,
        start: usize,
    ) -> Result<Self, CapacityError> {
        let error = || CapacityError::for_items::<T>(capacity, MAX_CAPACITY);
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(error());
        }
        let size = capacity.next_power_of_two();
        let mut slots = Vec::new();
        slots.try_reserve_exact(size).map_err(|_| error())?;
        // Slot `index` is free for the first position from `start` on that lives in it.
        slots.extend((0..size).map(|index| Slot {
            stamp: AtomicUsize::new(start.wrapping_add(index.wrapping_sub(start) & (size - 1))),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Ok(Buffer {
            top: CachePadded::new(AtomicUsize::new(start)),
            bottom: CachePadded::new(AtomicUsize::new(start)),
            slots: slots.into_boxed_slice(),
            capacity,
            flavor,
        })
    }

    /// The most items the deque holds.
    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many items the deque holds, from any thread; clamped to `0..=capacity`, as the two
    /// positions are read one after the other.
    pub(super) fn len(&self) -> usize {
        // Relaxed: a snapshot for the caller's information, which orders nothing.
        let top = self.top.load(Ordering::Relaxed);
        let bottom = self.bottom.load(Ordering::Relaxed);
        distance(top, bottom).clamp(0, self.capacity as isize) as usize
    }

    /// The slot of position `pos`.
    #[inline(always)]
    fn slot(&self, pos: usize) -> &Slot<T> {
        let index = pos & (self.slots.len() - 1);
        // SAFETY: the length is a power of two, so the mask keeps the index in bounds.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// Writes `item` at position `bottom` and publishes it; the owner's push once it knows there
    /// is room.
    ///
    /// If the slot's previous item (position `bottom - size`) was claimed by a steal that is still
    /// reading it, this waits for the read to finish: it does not fail.
    ///
    /// # Safety
    ///
    /// Only the owner calls this (it alone writes `bottom`), and the deque holds fewer than
    /// `capacity` items.
    pub(super) unsafe fn write(&self, item: T) {
        // Relaxed: only this thread writes `bottom`.
        let bottom = self.bottom.load(Ordering::Relaxed);
        let slot = self.slot(bottom);
        let backoff = Backoff::new();
        // Acquire, pairing with the Release stamp store in `take` by the thread that took
        // position `bottom - size`: its read of the old item happens before the write below.
        // Fewer than `capacity <= size` items are in the deque, so `top` is past that position:
        // the stamp is there, or about to be.
        while slot.stamp.load(Ordering::Acquire) != bottom {
            backoff.snooze();
        }
        slot.value.with_mut(|value| {
            // SAFETY: the stamp says the slot's last reader is done with it, and positions at or
            // after `bottom` are only touched by the owner (this thread) until `bottom` moves past
            // them.
            unsafe { value.write(MaybeUninit::new(item)) }
        });
        self.set_bottom(bottom.wrapping_add(1));
    }

    /// Moves `bottom`, as only the owner does: up in a push, down and back in a LIFO pop.
    ///
    /// Release, pairing with the Acquire load of `bottom` in a steal (`claim`): whichever value a
    /// steal reads, the writes of the items below it happen before the steal reads one of them.
    /// Stronger than the paper's Relaxed stores in `take`: see notes (1) and (2) of the
    /// [orderings table](super#orderings).
    #[inline(always)]
    pub(super) fn set_bottom(&self, bottom: usize) {
        self.bottom.store(bottom, Ordering::Release);
    }

    /// Reads the item at `pos` without freeing its slot: the owner's LIFO pop of `bottom`, which
    /// the next push reuses.
    ///
    /// # Safety
    ///
    /// Only the owner calls this, for the position it has just taken back by lowering `bottom`
    /// below it while `top` stayed below it too; the slot holds the item pushed there.
    pub(super) unsafe fn read_own(&self, pos: usize) -> T {
        self.slot(pos).value.with(|value| {
            // SAFETY: the caller's promise: nobody else can claim `pos`, and this thread wrote it.
            unsafe { (*value).assume_init_read() }
        })
    }

    /// Reads the item at `pos` and frees its slot for the push one lap on.
    ///
    /// # Safety
    ///
    /// This thread has moved `top` past `pos` (its compare-and-swap claimed it), and no one else
    /// has; the item's write happens before this call.
    pub(super) unsafe fn take(&self, pos: usize) -> T {
        let slot = self.slot(pos);
        let item = slot.value.with(|value| {
            // SAFETY: the claim makes this thread the only reader of the item; the owner cannot
            // overwrite it before the stamp store below.
            unsafe { (*value).assume_init_read() }
        });
        // Release, pairing with the Acquire stamp load in `write` of the push at
        // `pos + size`: the read above happens before that push overwrites the slot.
        slot.stamp
            .store(pos.wrapping_add(self.slots.len()), Ordering::Release);
        item
    }

    /// A steal's first step: load `top`.
    ///
    /// Acquire, as in the paper, pairing with the SeqCst CAS that wrote the value: see note (4)
    /// of the [orderings table](super#orderings) (the item's write is ordered by `claim`'s load
    /// of `bottom`, and the slot's reuse by its stamp).
    #[inline(always)]
    pub(super) fn load_top(&self) -> usize {
        self.top.load(Ordering::Acquire) // loom-cannot-tell: the paper's, note (4)
    }

    /// The steal protocol after `top` was read as `top` (by [`load_top`](Self::load_top), or
    /// from this thread's own claim): finds out how many items there are and claims `want(len)`
    /// of them (clamped to `1..=len`) from `top` with one compare-and-swap.
    ///
    /// Returns `Ok(n)` when positions `top..top + n` are this thread's to [`take`](Self::take),
    /// `Err(true)` when the deque was empty and `Err(false)` when another thread moved `top`
    /// first.
    pub(super) fn claim(
        &self,
        top: usize,
        want: impl FnOnce(usize) -> usize,
    ) -> Result<usize, bool> {
        // SeqCst fence, pairing with the one in the owner's LIFO pop (`Worker::pop_lifo`): the
        // pop stores `bottom` then loads `top`, the steal loads `top` then `bottom`, and the two
        // fences forbid the store-buffering outcome where each misses the other's write (see
        // "The algorithm" in the module docs).
        fence(Ordering::SeqCst);
        // Acquire, pairing with the Release stores of `bottom` (the push's, and the LIFO pop's):
        // the item writes of every position below the value read happen before this thread reads
        // them.
        let bottom = self.bottom.load(Ordering::Acquire);
        let len = distance(top, bottom);
        if len <= 0 {
            return Err(true);
        }
        // Clamped, not asserted: the callers `take` every position claimed here, so a `want`
        // past `len` would have them read slots nobody wrote. Two compares keep `claim` safe.
        let n = want(len as usize).clamp(1, len as usize);
        // SeqCst on success, as in the paper: the claim is decided by the CAS's atomicity, and
        // in C11 it is also what orders this steal against a LIFO pop whose fence follows this
        // steal's (note (4) of the orderings table: no loom model can need it). Relaxed on
        // failure: a lost race reads nothing.
        match self.top.compare_exchange(
            top,
            top.wrapping_add(n),
            Ordering::SeqCst, // loom-cannot-tell: the paper's, note (4)
            Ordering::Relaxed,
        ) {
            Ok(_) => Ok(n),
            Err(_) => Err(false),
        }
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        if core::mem::needs_drop::<T>() {
            // `&mut self`: the last handle has gone, every other handle's operations happened
            // before (the `Arc`'s count orders them), and none is half-done, so the items are
            // exactly the positions from `top` to `bottom`. Relaxed for the same reason.
            let top = self.top.load(Ordering::Relaxed);
            let bottom = self.bottom.load(Ordering::Relaxed);
            let positions = core::iter::successors(Some(top), |&pos| Some(pos.wrapping_add(1)))
                .take_while(|&pos| pos != bottom);
            drop_all(positions, |pos| {
                self.slot(pos).value.with_mut(|value| {
                    // SAFETY: as just said, the slot holds an item nobody else can reach, and
                    // nothing reads it again.
                    unsafe { (*value).assume_init_drop() }
                });
            });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A `want` past the length claims no more than there is, so `take` never reads a slot
    /// nobody wrote; and a `want` of 0 still claims one (the callers take at least one).
    #[test]
    fn claim_clamps_what_it_is_asked_for() {
        let buffer = Buffer::<u32>::try_new(8, Flavor::Fifo, 0).unwrap();
        for item in 0..3 {
            // SAFETY: the test is the owner, and 3 < 8 items fit.
            unsafe { buffer.write(item) };
        }
        assert_eq!(buffer.claim(0, |len| len + 10), Ok(3));
        // SAFETY: the claim above moved `top` past 0..3 for this thread.
        let taken: Vec<u32> = (0..3).map(|pos| unsafe { buffer.take(pos) }).collect();
        assert_eq!(taken, [0, 1, 2]);
        assert_eq!(buffer.claim(3, |_| 5), Err(true));
        // SAFETY: as above.
        unsafe { buffer.write(3) };
        assert_eq!(buffer.claim(3, |_| 0), Ok(1));
        // SAFETY: claimed just above.
        assert_eq!(unsafe { buffer.take(3) }, 3);
    }
}
