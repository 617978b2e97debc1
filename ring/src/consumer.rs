//! The reading end of the ring.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use alloc::vec::Vec;

use crate::buffer::{advance, distance, slot_index, RingBuffer};
use crate::chunk::ReadChunk;
use crate::sync::Ordering;

/// The reading end of a ring made by [`channel`](crate::channel).
///
/// A `Consumer` can be moved to another thread (it is `Send` when `T` is), but not shared
/// between threads (it is not `Sync`): there is exactly one reader.
///
/// # Examples
///
/// Reading until the producer is gone and every item it pushed has been popped:
///
/// ```
/// let (mut producer, mut consumer) = weir_ring::channel(16);
/// std::thread::spawn(move || {
///     for i in 0..100u64 {
///         let mut item = i;
///         while let Err(full) = producer.try_push(item) {
///             item = full.into_inner();
///             std::thread::yield_now();
///         }
///     }
/// });
/// let mut sum = 0;
/// loop {
///     // Check for abandonment *before* popping: once it is seen, the pops after it see every
///     // item the producer pushed, so an empty ring then means there are no more.
///     let abandoned = consumer.is_abandoned();
///     match consumer.try_pop() {
///         Some(item) => sum += item,
///         None if abandoned => break,
///         None => std::thread::yield_now(),
///     }
/// }
/// assert_eq!(sum, (0..100).sum());
/// ```
pub struct Consumer<T> {
    ring: NonNull<RingBuffer<T>>,
    capacity: usize,
    /// Our own position; the shared `head` is only ever written by us, so we never load it.
    head: usize,
    /// The producer's `tail` as last loaded: the producer only moves it forward, so the number
    /// of items it implies is a lower bound, refreshed only when it looks too small.
    cached_tail: Cell<usize>,
    _owns: PhantomData<T>,
}

// SAFETY: the consumer takes `T`s that another thread moved into the ring, which needs
// `T: Send` and nothing more; the ring it points to is shared with exactly one producer, and
// every access to it is ordered by the protocol documented in `buffer.rs`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Consumer<T> {
    /// The handle of `ring`, whose positions start at `start`.
    pub(crate) fn new(ring: NonNull<RingBuffer<T>>, capacity: usize, start: usize) -> Self {
        Consumer {
            ring,
            capacity,
            head: start,
            cached_tail: Cell::new(start),
            _owns: PhantomData,
        }
    }

    #[inline(always)]
    fn ring(&self) -> &RingBuffer<T> {
        // SAFETY: the ring lives until both handles have released it, and this one has not.
        unsafe { self.ring.as_ref() }
    }

    /// Items ready, reloading the producer's position only if the cached one shows fewer than
    /// `wanted`.
    #[inline(always)]
    fn ready_items(&self, wanted: usize) -> usize {
        let ready = distance(self.head, self.cached_tail.get(), self.capacity);
        if ready >= wanted {
            return ready;
        }
        self.refresh_ready_items()
    }

    #[inline]
    fn refresh_ready_items(&self) -> usize {
        // Acquire, pairing with the producer's Release store of `tail` in `Producer::publish`:
        // the items in the slots it made full are visible before we read them.
        let tail = self.ring().tail.load(Ordering::Acquire);
        self.cached_tail.set(tail);
        distance(self.head, tail, self.capacity)
    }

    /// Frees the first `n` full slots, whose items were moved out or dropped, for the producer.
    #[inline(always)]
    fn free(&mut self, n: usize) {
        self.head = advance(self.head, n, self.capacity);
        // Release, pairing with the producer's Acquire load of `head`: our reads of these
        // slots (and the drops of their items) happen before the producer writes them again.
        self.ring().head.store(self.head, Ordering::Release);
    }

    /// Drops the first `n` items in place and frees their slots, even if a destructor panics.
    ///
    /// # Safety
    ///
    /// There are at least `n` ready items, and no reference to them outlives this call.
    pub(crate) unsafe fn drop_and_free(&mut self, n: usize) {
        /// Frees the slots after the drops, and on the way out of a panicking one.
        struct FreeOnDrop<'c, T>(&'c mut Consumer<T>, usize);
        impl<T> Drop for FreeOnDrop<'_, T> {
            fn drop(&mut self) {
                self.0.free(self.1);
            }
        }
        let first = slot_index(self.head, self.capacity);
        let guard = FreeOnDrop(self, n);
        // SAFETY: the caller guarantees these `n` slots hold items owned by us (so `n` is at
        // most the capacity, and `first`, a slot index, below it); they are freed (by the guard)
        // only after they were dropped.
        unsafe { guard.0.ring().slots.drop_range(first, n) };
    }

    /// Pops the oldest item, or returns `None` if the ring is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(2);
    /// assert_eq!(consumer.try_pop(), None);
    /// producer.try_push(1).unwrap();
    /// assert_eq!(consumer.try_pop(), Some(1));
    /// ```
    #[must_use = "the popped item is dropped if the result is ignored"]
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        if self.ready_items(1) == 0 {
            return None;
        }
        // SAFETY: the slot at `head` holds an item: the producer published it (the Acquire load
        // in `refresh_ready_items` made its write visible), and only we read.
        let item = unsafe { self.ring().slots.read(slot_index(self.head, self.capacity)) };
        self.free(1);
        Some(item)
    }

    /// Moves up to `max` of the oldest items to the end of `out`, in order, and frees their
    /// slots with one index update (one store the producer sees, instead of one per item).
    /// Returns how many it moved: 0 if the ring is empty.
    ///
    /// `out` grows first if it has no room for the items ready (the only allocation); a `Vec`
    /// reused with enough capacity allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    /// let mut out = Vec::with_capacity(4);
    /// assert_eq!(consumer.try_pop_many(&mut out, 2), 2);
    /// assert_eq!(consumer.try_pop_many(&mut out, 8), 1);
    /// assert_eq!(consumer.try_pop_many(&mut out, 8), 0);
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    #[must_use = "the count says how many items were moved to `out`"]
    #[inline]
    pub fn try_pop_many(&mut self, out: &mut Vec<T>, max: usize) -> usize {
        let n = max.min(self.ready_items(max));
        // Before any item leaves its slot: the pushes below cannot reallocate (nor panic), so
        // no item is ever both in `out` and still counted in the ring.
        out.reserve(n);
        let first = slot_index(self.head, self.capacity);
        for k in 0..n {
            let slot = if first + k < self.capacity {
                first + k
            } else {
                first + k - self.capacity
            };
            // SAFETY: the `n` slots from `head` hold items (as in `try_pop`), each read once,
            // and freed below only after all of them were read.
            out.push(unsafe { self.ring().slots.read(slot) });
        }
        if n > 0 {
            self.free(n);
        }
        n
    }

    /// The oldest item, left in the ring, or `None` if the ring is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(2);
    /// producer.try_push("x").unwrap();
    /// assert_eq!(consumer.peek(), Some(&"x"));
    /// assert_eq!(consumer.try_pop(), Some("x"));
    /// assert_eq!(consumer.peek(), None);
    /// ```
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        if self.ready_items(1) == 0 {
            return None;
        }
        // SAFETY: the slot holds an item (as in `try_pop`), and it cannot be popped or
        // overwritten while the returned reference borrows `self`.
        Some(unsafe { self.ring().slots.get(slot_index(self.head, self.capacity)) })
    }

    /// Copies as many of the oldest items into `out` as fit, pops them, and returns how many
    /// were copied (`0` when the ring is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    /// let mut out = [0; 2];
    /// assert_eq!(consumer.pop_slice(&mut out), 2);
    /// assert_eq!(out, [1, 2]);
    /// assert_eq!(consumer.try_pop(), Some(3));
    /// ```
    #[must_use = "only as many elements of `out` as the count were copied from the ring"]
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize
    where
        T: Copy,
    {
        let len = out.len().min(self.ready_items(out.len()));
        let first = slot_index(self.head, self.capacity);
        // SAFETY: `first` is a slot index (`slot_index` of a position below `2 * capacity`),
        // and `len` is at most the items ready, at most `capacity`.
        let (a, b) = unsafe { self.ring().slots.raw_slices(first, len, false) };
        // SAFETY: these `len` slots hold items (as in `try_pop`), `MaybeUninit<T>` has the
        // layout of `T`, and the slices are last used before `free` hands the slots back.
        let (a, b) = unsafe { (cast_init(a).as_ref(), cast_init(b).as_ref()) };
        out[..a.len()].copy_from_slice(a);
        out[a.len()..len].copy_from_slice(b);
        // `T: Copy`, so the items need no drop: their slots are simply free again.
        self.free(len);
        len
    }

    /// Up to `n` of the oldest items, as a chunk to read in place and then release.
    ///
    /// The chunk has `min(n, self.len())` items; it is empty when the ring is.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    /// let chunk = consumer.read_chunk(2);
    /// let (first, second) = chunk.as_slices();
    /// assert_eq!(first.iter().chain(second).sum::<i32>(), 3);
    /// chunk.release(2);
    /// assert_eq!(consumer.len(), 1);
    /// ```
    #[inline]
    pub fn read_chunk(&mut self, n: usize) -> ReadChunk<'_, T> {
        let len = n.min(self.ready_items(n));
        let first = slot_index(self.head, self.capacity);
        // SAFETY: `first` is a slot index (`slot_index` of a position below `2 * capacity`),
        // and `len` is at most the items ready, at most `capacity`.
        let (a, b) = unsafe { self.ring().slots.raw_slices(first, len, false) };
        let (a, b) = (cast_init(a), cast_init(b));
        // SAFETY: these `len` slots hold items (as in `try_pop`), and the chunk borrows the
        // consumer mutably, so nothing pops or frees them while it lives.
        unsafe { ReadChunk::new(self, a, b) }
    }

    /// An iterator that pops items until the ring is empty.
    ///
    /// Items pushed while the iterator runs are popped too. Items the iterator does not reach
    /// stay in the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    /// assert_eq!(consumer.drain().collect::<Vec<_>>(), [1, 2, 3]);
    /// assert!(consumer.is_empty());
    /// ```
    #[inline]
    pub fn drain(&mut self) -> Drain<'_, T> {
        Drain { consumer: self }
    }

    /// The number of items ready now. The producer may push more at any moment, never fewer.
    #[inline]
    pub fn len(&self) -> usize {
        self.refresh_ready_items()
    }

    /// Whether the ring holds no items now.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ready_items(1) == 0
    }

    /// The number of items the ring holds when full.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the producer has been dropped: no more items will come.
    ///
    /// Once this has returned `true`, the pops after it see every item the producer pushed:
    /// check it *before* the pop that finds the ring empty, not after (see the example on
    /// [`Consumer`]).
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        self.ring().is_abandoned()
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // SAFETY: this is the consumer's one release of its share, after its last use.
        unsafe { RingBuffer::release_handle(self.ring) };
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("is_abandoned", &self.is_abandoned())
            .finish()
    }
}

/// Pops items until the ring is empty; made by [`Consumer::drain`].
#[derive(Debug)]
pub struct Drain<'a, T> {
    consumer: &'a mut Consumer<T>,
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.consumer.try_pop()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.consumer.ready_items(0), None)
    }
}

/// A slice of slots known to hold items, as a slice of items (`MaybeUninit<T>` has the layout
/// of `T`; the pointer is only cast, not read).
#[inline(always)]
fn cast_init<T>(slots: NonNull<[core::mem::MaybeUninit<T>]>) -> NonNull<[T]> {
    NonNull::slice_from_raw_parts(slots.cast::<T>(), slots.len())
}

// Not `FusedIterator`: the producer may push again after a `None`.
