//! The writing end of the ring.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::buffer::{advance, distance, slot_index, RingBuffer};
use crate::chunk::WriteChunk;
use crate::error::Full;
use crate::sync::Ordering;

/// The writing end of a ring made by [`channel`](crate::channel).
///
/// A `Producer` can be moved to another thread (it is `Send` when `T` is), but not shared
/// between threads (it is not `Sync`): there is exactly one writer.
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = weir_ring::channel(2);
/// let writer = std::thread::spawn(move || {
///     for i in 0..1000u32 {
///         let mut item = i;
///         while let Err(full) = producer.try_push(item) {
///             item = full.into_inner();
///             std::thread::yield_now();
///         }
///     }
/// });
/// let mut expected = 0;
/// while expected < 1000 {
///     if let Some(item) = consumer.try_pop() {
///         assert_eq!(item, expected);
///         expected += 1;
///     }
/// }
/// writer.join().unwrap();
/// ```
pub struct Producer<T> {
    ring: NonNull<RingBuffer<T>>,
    capacity: usize,
    /// Our own position; the shared `tail` is only ever written by us, so we never load it.
    tail: usize,
    /// The consumer's `head` as last loaded: the consumer only moves it forward, so the free
    /// space it implies is a lower bound, refreshed only when it looks too small.
    cached_head: Cell<usize>,
    _owns: PhantomData<T>,
}

// SAFETY: the producer moves `T`s into the ring for another thread to take out, which needs
// `T: Send` and nothing more; the ring it points to is shared with exactly one consumer, and
// every access to it is ordered by the protocol documented in `buffer.rs`.
unsafe impl<T: Send> Send for Producer<T> {}

impl<T> Producer<T> {
    /// The handle of `ring`, whose positions start at `start`.
    pub(crate) fn new(ring: NonNull<RingBuffer<T>>, capacity: usize, start: usize) -> Self {
        Producer {
            ring,
            capacity,
            tail: start,
            cached_head: Cell::new(start),
            _owns: PhantomData,
        }
    }

    #[inline(always)]
    fn ring(&self) -> &RingBuffer<T> {
        // SAFETY: the ring lives until both handles have released it, and this one has not.
        unsafe { self.ring.as_ref() }
    }

    /// Free slots, reloading the consumer's position only if the cached one shows fewer than
    /// `wanted`.
    #[inline(always)]
    fn free_slots(&self, wanted: usize) -> usize {
        let free = self.capacity - distance(self.cached_head.get(), self.tail, self.capacity);
        if free >= wanted {
            return free;
        }
        self.refresh_free_slots()
    }

    #[inline]
    fn refresh_free_slots(&self) -> usize {
        // Acquire, pairing with the consumer's Release stores of `head` (in `try_pop`,
        // `pop_slice` and `ReadChunk::release`): the consumer has finished reading every slot
        // it freed before we write to it.
        let head = self.ring().head.load(Ordering::Acquire);
        self.cached_head.set(head);
        self.capacity - distance(head, self.tail, self.capacity)
    }

    /// Makes the first `n` free slots, already written, visible to the consumer.
    #[inline(always)]
    pub(crate) fn publish(&mut self, n: usize) {
        self.tail = advance(self.tail, n, self.capacity);
        // Release, pairing with the consumer's Acquire loads of `tail`: the items written into
        // these slots are visible before the consumer can see the slots as full.
        self.ring().tail.store(self.tail, Ordering::Release);
    }

    /// Pushes an item, or hands it back if the ring is full.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item when every slot holds an item the consumer has not popped yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(1);
    /// assert_eq!(producer.try_push('a'), Ok(()));
    /// assert_eq!(producer.try_push('b'), Err(weir_ring::Full('b')));
    /// assert_eq!(consumer.try_pop(), Some('a'));
    /// assert_eq!(producer.try_push('b'), Ok(()));
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), Full<T>> {
        if self.free_slots(1) == 0 {
            return Err(Full(value));
        }
        // SAFETY: the slot at `tail` is free: the consumer has released it (the Acquire load in
        // `refresh_free_slots` ordered its last read of it before this write), and only we write.
        unsafe {
            self.ring()
                .slots
                .write(slot_index(self.tail, self.capacity), value)
        };
        self.publish(1);
        Ok(())
    }

    /// Copies as many items from `items` as there are free slots, in order, and returns how
    /// many went in (`0` when the ring is full).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(3);
    /// assert_eq!(producer.push_slice(&[1, 2, 3, 4, 5]), 3);
    /// let mut out = [0; 5];
    /// assert_eq!(consumer.pop_slice(&mut out), 3);
    /// assert_eq!(out[..3], [1, 2, 3]);
    /// ```
    #[must_use = "the items past the count were not pushed"]
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize
    where
        T: Copy,
    {
        let mut chunk = self.write_chunk(items.len());
        let (first, second) = chunk.as_mut_slices();
        let (head_items, tail_items) = items.split_at(first.len());
        let tail_items = &tail_items[..second.len()];
        copy_to_uninit(head_items, first);
        copy_to_uninit(tail_items, second);
        let n = first.len() + second.len();
        // SAFETY: the first `n` slots of the chunk were just initialised.
        unsafe { chunk.commit(n) };
        n
    }

    /// Up to `n` free slots, as a chunk to fill and then commit.
    ///
    /// The chunk has `min(n, self.slots())` slots; it is empty when the ring is full. Fill it
    /// safely with [`WriteChunk::fill_from_iter`], or write its slices directly and
    /// [`commit`](WriteChunk::commit) what was written. Slots not committed stay free.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// let chunk = producer.write_chunk(3);
    /// assert_eq!(chunk.len(), 3);
    /// assert_eq!(chunk.fill_from_iter(["a", "b"]), 2);
    /// assert_eq!(consumer.len(), 2);
    /// assert_eq!(producer.write_chunk(10).len(), 2);
    /// ```
    #[inline]
    pub fn write_chunk(&mut self, n: usize) -> WriteChunk<'_, T> {
        let len = n.min(self.free_slots(n));
        let first = slot_index(self.tail, self.capacity);
        // SAFETY: `first` is a slot index (`slot_index` of a position below `2 * capacity`),
        // and `len` is at most the free slots, at most `capacity`.
        let (a, b) = unsafe { self.ring().slots.raw_slices(first, len, true) };
        // SAFETY: these `len` slots are free (see `try_push`), and the chunk borrows the
        // producer mutably, so nothing else writes them while it lives.
        unsafe { WriteChunk::new(self, a, b) }
    }

    /// The number of free slots now. The consumer may free more at any moment, never fewer.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = weir_ring::channel(2);
    /// assert_eq!(producer.slots(), 2);
    /// producer.try_push(()).unwrap();
    /// assert_eq!(producer.slots(), 1);
    /// ```
    #[inline]
    pub fn slots(&self) -> usize {
        self.refresh_free_slots()
    }

    /// Whether every slot holds an item now.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.free_slots(1) == 0
    }

    /// The number of items the ring holds when full.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the consumer has been dropped: nothing pushed from now on will be read.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = weir_ring::channel::<u8>(1);
    /// assert!(!producer.is_abandoned());
    /// drop(consumer);
    /// assert!(producer.is_abandoned());
    /// ```
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        self.ring().is_abandoned()
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // SAFETY: this is the producer's one release of its share, after its last use.
        unsafe { RingBuffer::release_handle(self.ring) };
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity)
            .field("slots", &self.slots())
            .field("is_abandoned", &self.is_abandoned())
            .finish()
    }
}

/// `MaybeUninit::copy_from_slice`, which is not stable yet.
#[inline(always)]
fn copy_to_uninit<T: Copy>(src: &[T], dst: &mut [core::mem::MaybeUninit<T>]) {
    debug_assert_eq!(src.len(), dst.len());
    // SAFETY: both slices have `src.len()` elements, `MaybeUninit<T>` has the layout of `T`,
    // and a `&mut` slice cannot overlap a `&` one.
    unsafe {
        core::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<T>(), src.len())
    };
}
