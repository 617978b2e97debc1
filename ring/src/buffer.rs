//! The state the two handles share: the slots, the two positions, and who is still there.
//!
//! # Positions
//!
//! `head` (the next slot to read, written only by the consumer) and `tail` (the next slot to
//! write, written only by the producer) run over `0..2 * capacity`, not `0..capacity`: the ring
//! is empty when they are equal and full when they are `capacity` apart, and the extra lap keeps
//! those two cases apart without a wasted slot or a division. A position's slot is
//! `pos` or `pos - capacity`.
//!
//! # Ownership
//!
//! Each handle owns half of the [`RingBuffer`]. The first handle to drop flips `one_side_gone`;
//! the second sees it flipped and frees the buffer, dropping the items still inside.

use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};

use alloc::boxed::Box;
use alloc::vec::Vec;
use crossbeam_utils::CachePadded;

use crate::error::CapacityError;
use crate::sync::{AtomicBool, AtomicUsize, Ordering, Trackers, UnsafeCell};

/// The largest capacity: positions run up to `2 * capacity`, which must fit in a `usize`.
pub(crate) const MAX_CAPACITY: usize = usize::MAX / 2;

pub(crate) struct RingBuffer<T> {
    /// The consumer's position: slots before it (in ring order) are free for the producer.
    pub(crate) head: CachePadded<AtomicUsize>,
    /// The producer's position: slots before it (back to `head`) hold items for the consumer.
    pub(crate) tail: CachePadded<AtomicUsize>,
    /// Set by the first handle to drop.
    one_side_gone: AtomicBool,
    pub(crate) slots: Slots<T>,
}

impl<T> RingBuffer<T> {
    /// Allocates a ring whose positions both start at `start` (`< 2 * capacity`), and returns
    /// it as a raw pointer owned jointly by the two handles.
    pub(crate) fn allocate(capacity: usize, start: usize) -> Result<NonNull<Self>, CapacityError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(CapacityError::for_items::<T>(capacity, MAX_CAPACITY));
        }
        debug_assert!(start < 2 * capacity);
        let slots = Slots::try_new(capacity)
            .ok_or(CapacityError::for_items::<T>(capacity, MAX_CAPACITY))?;
        let ring = Box::new(RingBuffer {
            head: CachePadded::new(AtomicUsize::new(start)),
            tail: CachePadded::new(AtomicUsize::new(start)),
            one_side_gone: AtomicBool::new(false),
            slots,
        });
        Ok(NonNull::from(Box::leak(ring)))
    }

    /// Gives up one handle's share of the ring, freeing it if the other handle is gone too.
    ///
    /// # Safety
    ///
    /// `ring` came from [`allocate`](Self::allocate), and each of its two handles calls this
    /// exactly once, after its last use of the ring.
    pub(crate) unsafe fn release_handle(ring: NonNull<Self>) {
        // SAFETY: the caller still holds its share, so the ring has not been freed.
        let this = unsafe { ring.as_ref() };
        // AcqRel, pairing with the other handle's swap here and with `is_abandoned`'s Acquire
        // load. Release: everything this side did to the ring (pushes, pops, chunk commits)
        // happens before the other side sees it gone. Acquire: the handle that frees the ring sees
        // all of the other side's writes, so it drops exactly the items that are left.
        if this.one_side_gone.swap(true, Ordering::AcqRel) {
            // SAFETY: the other handle has released its share, and this one never touches the
            // ring again, so this is the last reference to a box made by `allocate`.
            drop(unsafe { Box::from_raw(ring.as_ptr()) });
        }
    }

    /// Whether the other handle has been dropped. After this returns `true`, every item the
    /// other side pushed (or every slot it freed) is visible to this side.
    #[inline]
    pub(crate) fn is_abandoned(&self) -> bool {
        // Acquire, pairing with the AcqRel swap in `release_handle`: see above.
        self.one_side_gone.load(Ordering::Acquire)
    }
}

impl<T> Drop for RingBuffer<T> {
    fn drop(&mut self) {
        // Relaxed: `release_handle`'s AcqRel swap already ordered both sides' writes before this.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let capacity = self.slots.capacity();
        let len = distance(head, tail, capacity);
        // SAFETY: the slots from `head` for `len` hold the items nobody popped, and nobody else
        // can reach them any more; `slot_index` of a position is below the capacity, and a
        // distance between positions is at most the capacity.
        unsafe { self.slots.drop_range(slot_index(head, capacity), len) };
    }
}

/// Moves a position `n` slots on, `n <= capacity`.
#[inline(always)]
pub(crate) fn advance(pos: usize, n: usize, capacity: usize) -> usize {
    debug_assert!(pos < 2 * capacity && n <= capacity);
    let room = 2 * capacity - n;
    if pos < room {
        pos + n
    } else {
        pos - room
    }
}

/// How many slots `to` is ahead of `from`: the number of items when `from` is the head and `to`
/// the tail.
#[inline(always)]
pub(crate) fn distance(from: usize, to: usize, capacity: usize) -> usize {
    debug_assert!(from < 2 * capacity && to < 2 * capacity);
    if to >= from {
        to - from
    } else {
        to + (2 * capacity - from)
    }
}

/// The slot a position points at.
#[inline(always)]
pub(crate) fn slot_index(pos: usize, capacity: usize) -> usize {
    if pos < capacity {
        pos
    } else {
        pos - capacity
    }
}

/// A run of slots, as a raw slice.
pub(crate) type RawSlots<T> = NonNull<[MaybeUninit<T>]>;

/// The slots of the ring, each possibly uninitialised, plus loom's view of who touches them.
///
/// Every method takes slot indices and trusts the caller's protocol (the positions) that the
/// range it names is owned by the calling side right now; that is what their `# Safety` says.
pub(crate) struct Slots<T> {
    cells: Box<[UnsafeCell<MaybeUninit<T>>]>,
    trackers: Trackers,
}

impl<T> Slots<T> {
    fn try_new(capacity: usize) -> Option<Self> {
        let mut cells = Vec::new();
        cells.try_reserve_exact(capacity).ok()?;
        // SAFETY: the capacity is reserved, and `UnsafeCell<MaybeUninit<T>>` needs no
        // initialisation: every bit pattern, uninitialised ones included, is a valid one.
        unsafe { cells.set_len(capacity) };
        Some(Slots {
            cells: cells.into_boxed_slice(),
            trackers: Trackers::new(capacity),
        })
    }

    #[inline(always)]
    pub(crate) fn capacity(&self) -> usize {
        self.cells.len()
    }

    /// A pointer to `slot`, derived from the whole slice, so that it may span the several
    /// slots of a chunk.
    ///
    /// # Safety
    ///
    /// `slot <= capacity` (one past the end is allowed, for an empty range).
    #[inline(always)]
    unsafe fn ptr(&self, slot: usize) -> *mut MaybeUninit<T> {
        debug_assert!(slot <= self.cells.len());
        // SAFETY: the caller keeps `slot` within the allocation or one past its end.
        UnsafeCell::raw_get(unsafe { self.cells.as_ptr().add(slot) })
    }

    /// Writes `value` into `slot`.
    ///
    /// # Safety
    ///
    /// The producer owns `slot` (it lies in the free part of the ring) and nobody else is
    /// accessing it.
    #[inline(always)]
    pub(crate) unsafe fn write(&self, slot: usize, value: T) {
        self.trackers.write(slot);
        // SAFETY: the caller owns the slot, which is in bounds.
        unsafe { (*self.ptr(slot)).write(value) };
    }

    /// Moves the item out of `slot`, leaving it uninitialised.
    ///
    /// # Safety
    ///
    /// The consumer owns `slot` (it lies in the full part of the ring), and it holds an item.
    #[inline(always)]
    pub(crate) unsafe fn read(&self, slot: usize) -> T {
        self.trackers.read(slot);
        // SAFETY: the caller owns the slot, which is in bounds and initialised.
        unsafe { (*self.ptr(slot)).assume_init_read() }
    }

    /// A shared reference to the item in `slot`.
    ///
    /// # Safety
    ///
    /// As for [`read`](Self::read), and the slot is neither written nor moved out of while the
    /// reference lives.
    #[inline(always)]
    pub(crate) unsafe fn get(&self, slot: usize) -> &T {
        self.trackers.read(slot);
        // SAFETY: the caller owns the slot, which is in bounds and initialised.
        unsafe { (*self.ptr(slot)).assume_init_ref() }
    }

    /// The `len` slots from `first` in ring order, as at most two contiguous slices.
    #[inline(always)]
    fn ranges(&self, first: usize, len: usize) -> ((usize, usize), usize) {
        let capacity = self.capacity();
        debug_assert!(first < capacity && len <= capacity);
        let to_end = capacity - first;
        if len <= to_end {
            ((first, len), 0)
        } else {
            ((first, to_end), len - to_end)
        }
    }

    /// The `len` slots from `first`, in ring order, as at most two raw slices (the second is
    /// the part that wraps round to the start). Records the access for loom as a write when
    /// `write` is set, else as a read.
    ///
    /// Raw, not references: a chunk keeps them while it hands the slots to the other thread
    /// (in `commit` and `release`), and a live reference there would assert an exclusive or
    /// read-only use that the other thread's access breaks. References are made only where
    /// the caller uses them.
    ///
    /// # Safety
    ///
    /// `first < capacity` and `len <= capacity`, so that both slices lie within the slots.
    /// (Using the pointers further needs the slots to be the caller's, as each use says.)
    #[inline]
    pub(crate) unsafe fn raw_slices(
        &self,
        first: usize,
        len: usize,
        write: bool,
    ) -> (RawSlots<T>, RawSlots<T>) {
        let ((start, a), b) = self.ranges(first, len);
        if write {
            self.trackers.write_range(start, a);
            self.trackers.write_range(0, b);
        } else {
            self.trackers.read_range(start, a);
            self.trackers.read_range(0, b);
        }
        let slice = |at: usize, len: usize| {
            // SAFETY: with the caller's promise, `ranges` keeps `at` within the slots (or one
            // past the last, for an empty slice), and such a pointer is never null.
            let at = unsafe { NonNull::new_unchecked(self.ptr(at)) };
            NonNull::slice_from_raw_parts(at, len)
        };
        (slice(start, a), slice(0, b))
    }

    /// Drops the `len` items from `first` in place. If one of their destructors panics, the
    /// rest are still dropped before the panic goes on.
    ///
    /// # Safety
    ///
    /// `first < capacity` and `len <= capacity`; the caller owns these slots, they hold items,
    /// and it treats them as uninitialised after.
    pub(crate) unsafe fn drop_range(&self, first: usize, len: usize) {
        if !core::mem::needs_drop::<T>() {
            return;
        }
        // SAFETY: `first` and `len` are in range, as the caller promises.
        let (first_part, second_part) = unsafe { self.raw_slices(first, len, true) };
        let first_part =
            ptr::slice_from_raw_parts_mut(first_part.cast::<T>().as_ptr(), first_part.len());
        let second_part =
            ptr::slice_from_raw_parts_mut(second_part.cast::<T>().as_ptr(), second_part.len());
        /// Drops the second slice if dropping the first one unwinds.
        struct DropOnUnwind<T>(*mut [T]);
        impl<T> Drop for DropOnUnwind<T> {
            fn drop(&mut self) {
                // SAFETY: only reached by unwinding out of the first slice's drop, before the
                // second slice was dropped; the slice is owned and initialised.
                unsafe { ptr::drop_in_place(self.0) };
            }
        }
        let guard = DropOnUnwind(second_part);
        // SAFETY: the caller owns these initialised slots; `drop_in_place` on a slice goes on
        // dropping the remaining elements when one of them panics.
        unsafe { ptr::drop_in_place(first_part) };
        core::mem::forget(guard);
        // SAFETY: as above, for the wrapped-around part.
        unsafe { ptr::drop_in_place(second_part) };
    }
}
