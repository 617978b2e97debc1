//! A wait-free single-producer single-consumer ring buffer.
//!
//! [`channel`] makes a ring of a fixed, exact capacity and splits it into a [`Producer`] and a
//! [`Consumer`], one for each of two threads. Every operation completes in a bounded number of
//! steps without locks; nothing allocates after [`channel`] returns.
//!
//! - Items one at a time: [`Producer::try_push`] (which hands the item back in [`Full`] when
//!   the ring is full) and [`Consumer::try_pop`], [`Consumer::peek`].
//! - Items in bulk, with one atomic store per batch: [`Producer::push_slice`] and
//!   [`Consumer::pop_slice`] for `Copy` items, and for any item [`Producer::write_chunk`]
//!   ([`WriteChunk`]) and [`Consumer::read_chunk`] ([`ReadChunk`]), which lend the slots in place.
//! - State: `slots`, `len`, `capacity`, `is_full`, `is_empty`, and `is_abandoned` to learn that
//!   the other side is gone. Items still in the ring when both handles are gone are dropped.
//!
//! # Examples
//!
//! ```
//! let (mut producer, mut consumer) = weir_ring::channel::<u64>(1024);
//!
//! let reader = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     loop {
//!         let abandoned = consumer.is_abandoned();
//!         match consumer.try_pop() {
//!             Some(item) => sum += item,
//!             None if abandoned => return sum,
//!             None => std::hint::spin_loop(),
//!         }
//!     }
//! });
//!
//! for item in 0..10_000 {
//!     let mut item = item;
//!     while let Err(full) = producer.try_push(item) {
//!         item = full.into_inner();
//!         std::hint::spin_loop();
//!     }
//! }
//! drop(producer);
//! assert_eq!(reader.join().unwrap(), (0..10_000).sum());
//! ```
//!
//! # How it works
//!
//! The consumer's position (`head`) and the producer's (`tail`) each sit on their own cache
//! line, and each side keeps a private copy of the other side's position, reloading it only
//! when that copy says the ring is full (or empty). An uncontended push therefore writes its
//! slot and its own position and reads nothing the consumer is writing, and the other way
//! round. A push publishes its slot with a Release store of `tail` that the consumer's Acquire
//! load pairs with; a pop frees its slot with a Release store of `head` that the producer's
//! Acquire load pairs with. The models in the workspace's `loom-tests` check this protocol.
//!
//! # Features
//!
//! `std` (default) is the only feature; without it the crate is `no_std` and needs `alloc`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

mod buffer;
mod chunk;
mod consumer;
mod error;
mod producer;
mod sync;

pub use chunk::{ReadChunk, WriteChunk};
pub use consumer::{Consumer, Drain};
pub use error::{CapacityError, Full};
pub use producer::Producer;

use buffer::RingBuffer;

/// Makes a ring that holds exactly `capacity` items, and returns its two ends.
///
/// # Panics
///
/// If `capacity` is 0, or so large that its buffer cannot be allocated; [`try_channel`]
/// returns the error instead.
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = weir_ring::channel::<u32>(3);
/// assert_eq!(producer.capacity(), 3);
/// assert_eq!(producer.push_slice(&[1, 2, 3, 4]), 3);
/// assert_eq!(consumer.try_pop(), Some(1));
/// ```
///
/// ```should_panic
/// let _ = weir_ring::channel::<u32>(0); // panics: capacity must be at least 1
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    match try_channel(capacity) {
        Ok(ends) => ends,
        Err(error) => panic!("weir_ring::channel: {error}"),
    }
}

/// Makes a ring that holds exactly `capacity` items, or says why it cannot.
///
/// # Errors
///
/// [`CapacityError`] if `capacity` is 0, or so large that its buffer cannot be allocated.
///
/// # Examples
///
/// ```
/// assert!(weir_ring::try_channel::<u64>(1 << 10).is_ok());
/// assert!(weir_ring::try_channel::<u64>(0).is_err());
/// assert!(weir_ring::try_channel::<u64>(usize::MAX / 4).is_err());
/// assert!(weir_ring::try_channel::<()>(usize::MAX / 4).is_ok()); // zero-sized items need no buffer
/// ```
pub fn try_channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    try_channel_at(capacity, 0)
}

/// Makes a ring that holds exactly `capacity` items, with both positions starting at
/// `start % (2 * capacity)` instead of 0: for tests that start next to the wrap of the
/// positions (at `2 * capacity`, which is `usize::MAX - 1` for the largest ring of a zero-sized
/// type). Not part of the stable API.
///
/// # Panics
///
/// As [`channel`].
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = weir_ring::channel_with_start_index::<()>(usize::MAX / 2, usize::MAX - 2);
/// for _ in 0..4 {
///     producer.try_push(()).unwrap();
/// }
/// assert_eq!(consumer.len(), 4);
/// ```
#[doc(hidden)]
#[track_caller]
pub fn channel_with_start_index<T>(capacity: usize, start: usize) -> (Producer<T>, Consumer<T>) {
    match try_channel_at(capacity, start) {
        Ok(ends) => ends,
        Err(error) => panic!("weir_ring::channel_with_start_index: {error}"),
    }
}

/// `try_channel`, with the positions starting at `start % (2 * capacity)`.
fn try_channel_at<T>(
    capacity: usize,
    start: usize,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    // `2 * capacity` overflows only for a capacity that `allocate` refuses.
    let start = start.checked_rem(capacity.wrapping_mul(2)).unwrap_or(0);
    let ring = RingBuffer::<T>::allocate(capacity, start)?;
    Ok((
        Producer::new(ring, capacity, start),
        Consumer::new(ring, capacity, start),
    ))
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod assertions {
    use static_assertions::{assert_impl_all, assert_not_impl_any};

    use crate::{Consumer, Producer, ReadChunk, WriteChunk};

    // One thread per end: each handle moves to its thread, and no handle is shared.
    assert_impl_all!(Producer<u64>: Send);
    assert_impl_all!(Consumer<u64>: Send);
    assert_not_impl_any!(Producer<u64>: Sync);
    assert_not_impl_any!(Consumer<u64>: Sync);
    // Items cross threads, so a ring of `!Send` items cannot.
    assert_not_impl_any!(Producer<alloc::rc::Rc<u64>>: Send, Sync);
    assert_not_impl_any!(Consumer<alloc::rc::Rc<u64>>: Send, Sync);
    assert_not_impl_any!(WriteChunk<'static, u64>: Sync);
    assert_not_impl_any!(ReadChunk<'static, u64>: Sync);

    // `head` and `tail` never share a cache line (nor the adjacent line that x86's prefetcher
    // pulls in with it): each is alone in at least 128 bytes on x86-64 and aarch64.
    #[cfg(all(not(loom), any(target_arch = "x86_64", target_arch = "aarch64")))]
    static_assertions::const_assert!(
        core::mem::align_of::<crossbeam_utils::CachePadded<crate::sync::AtomicUsize>>() >= 128
    );
}
