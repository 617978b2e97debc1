//! Chunks: several slots written or read in place, then committed or released with one atomic
//! store.

use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use crate::consumer::Consumer;
use crate::producer::Producer;

/// Free slots of the ring, borrowed from the [`Producer`] to be written in place.
///
/// Made by [`Producer::write_chunk`]. The slots come as at most two slices (the second one is
/// non-empty only where the chunk wraps around the end of the ring). Nothing becomes visible to
/// the consumer until the chunk is committed; dropping the chunk commits nothing.
#[must_use = "a chunk's slots are only handed to the consumer by `commit` or `fill_from_iter`"]
pub struct WriteChunk<'a, T> {
    producer: &'a mut Producer<T>,
    // Raw, so that no reference to the slots is alive while `commit` hands them over; see
    // `Slots::raw_slices`. The chunk owns them as long as it borrows the producer.
    first: NonNull<[MaybeUninit<T>]>,
    second: NonNull<[MaybeUninit<T>]>,
}

impl<'a, T> WriteChunk<'a, T> {
    /// # Safety
    ///
    /// `first` and `second` are free slots that the producer owns while it is borrowed.
    pub(crate) unsafe fn new(
        producer: &'a mut Producer<T>,
        first: NonNull<[MaybeUninit<T>]>,
        second: NonNull<[MaybeUninit<T>]>,
    ) -> Self {
        WriteChunk {
            producer,
            first,
            second,
        }
    }

    /// The number of slots in the chunk.
    #[inline]
    pub fn len(&self) -> usize {
        self.first.len() + self.second.len()
    }

    /// Whether the chunk has no slots (the ring was full, or `0` were asked for).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slots, in ring order, as two slices to write into before [`commit`](Self::commit).
    #[inline]
    pub fn as_mut_slices(&mut self) -> (&mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) {
        // SAFETY: the slots are owned by this chunk (see `new`), disjoint, and borrowed
        // mutably through `self` for as long as the slices live.
        unsafe { (self.first.as_mut(), self.second.as_mut()) }
    }

    /// Hands the first `n` slots to the consumer.
    ///
    /// # Safety
    ///
    /// The first `n` slots (in the order of [`as_mut_slices`](Self::as_mut_slices)) are
    /// initialised.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the chunk.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// let mut chunk = producer.write_chunk(4);
    /// let (first, _second) = chunk.as_mut_slices();
    /// first[0].write(7);
    /// first[1].write(8);
    /// // SAFETY: the first two slots were written just above.
    /// unsafe { chunk.commit(2) };
    /// assert_eq!(consumer.try_pop(), Some(7));
    /// ```
    #[inline]
    #[track_caller]
    pub unsafe fn commit(self, n: usize) {
        assert!(
            n <= self.len(),
            "weir_ring::WriteChunk::commit: cannot commit {n} slots of a chunk of {}",
            self.len()
        );
        self.producer.publish(n);
    }

    /// Moves items from `items` into the chunk's slots, in order, until either runs out, and
    /// commits them. Returns how many were moved. The iterator is not advanced past the last
    /// slot, so no item is taken from it and lost.
    ///
    /// If the iterator panics, the items it yielded before are committed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(3);
    /// let mut source = 1..=5;
    /// assert_eq!(producer.write_chunk(10).fill_from_iter(&mut source), 3);
    /// assert_eq!(source.next(), Some(4));
    /// assert_eq!(consumer.drain().collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    #[must_use = "the count says how many items were taken from the iterator and pushed"]
    pub fn fill_from_iter<I>(self, items: I) -> usize
    where
        I: IntoIterator<Item = T>,
    {
        /// Commits what was written, even if the iterator unwinds.
        struct CommitOnDrop<'p, T> {
            producer: &'p mut Producer<T>,
            written: usize,
        }
        impl<T> Drop for CommitOnDrop<'_, T> {
            fn drop(&mut self) {
                if self.written > 0 {
                    self.producer.publish(self.written);
                }
            }
        }

        let WriteChunk {
            producer,
            first,
            second,
        } = self;
        let mut guard = CommitOnDrop {
            producer,
            written: 0,
        };
        let mut items = items.into_iter();
        // One plain loop per slice, not one over `first.chain(second)`: the chained loop
        // re-checks the chain's state for every item and does not vectorise.
        for mut part in [first, second] {
            // SAFETY: the chunk owned these slots (see `new`); the reference is last used
            // before the guard commits them.
            let part = unsafe { part.as_mut() };
            for slot in part {
                let Some(item) = items.next() else {
                    return guard.written;
                };
                slot.write(item);
                guard.written += 1;
            }
        }
        guard.written
    }
}

impl<T> fmt::Debug for WriteChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunk")
            .field("len", &self.len())
            .finish()
    }
}

/// Items at the front of the ring, borrowed from the [`Consumer`] to be read in place.
///
/// Made by [`Consumer::read_chunk`]. The items come as at most two slices, oldest first. They
/// stay in the ring until [`release`](Self::release)d; dropping the chunk releases nothing.
#[must_use = "a chunk's items stay in the ring until `release`d"]
pub struct ReadChunk<'a, T> {
    consumer: &'a mut Consumer<T>,
    // Raw, so that no reference to the items is alive while `release` drops and frees them;
    // see `Slots::raw_slices`. The chunk owns them as long as it borrows the consumer.
    first: NonNull<[T]>,
    second: NonNull<[T]>,
}

impl<'a, T> ReadChunk<'a, T> {
    /// # Safety
    ///
    /// `first` and `second` hold the consumer's oldest items, owned by it while it is borrowed.
    pub(crate) unsafe fn new(
        consumer: &'a mut Consumer<T>,
        first: NonNull<[T]>,
        second: NonNull<[T]>,
    ) -> Self {
        ReadChunk {
            consumer,
            first,
            second,
        }
    }

    /// The number of items in the chunk.
    #[inline]
    pub fn len(&self) -> usize {
        self.first.len() + self.second.len()
    }

    /// Whether the chunk has no items (the ring was empty, or `0` were asked for).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items, oldest first, as two slices.
    #[inline]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        // SAFETY: the items are owned by this chunk (see `new`) and initialised, and nothing
        // writes them while `self` is borrowed.
        unsafe { (self.first.as_ref(), self.second.as_ref()) }
    }

    /// Drops the first `n` items and frees their slots for the producer.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the chunk. A panic in an item's destructor is passed on after the
    /// other items are dropped and the slots freed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = weir_ring::channel(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    /// let chunk = consumer.read_chunk(8);
    /// assert_eq!(chunk.as_slices(), (&[1, 2, 3][..], &[][..]));
    /// chunk.release(2);
    /// assert_eq!(consumer.try_pop(), Some(3));
    /// ```
    #[inline]
    #[track_caller]
    pub fn release(self, n: usize) {
        assert!(
            n <= self.len(),
            "weir_ring::ReadChunk::release: cannot release {n} items of a chunk of {}",
            self.len()
        );
        // SAFETY: the chunk's first `n` items are owned by the consumer and initialised; the
        // chunk (and its slices) are consumed here, so nothing reads them after.
        unsafe { self.consumer.drop_and_free(n) };
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = self.as_slices();
        f.debug_list().entries(first.iter().chain(second)).finish()
    }
}
