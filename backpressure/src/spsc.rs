//! A blocking channel between one sender and one receiver, over a `weir-ring` ring buffer.
//!
//! The fastest blocking channel here: a send or a receive is the ring's wait-free push or pop,
//! a fence, and one load to see whether the other side sleeps. It has std's API, except that
//! neither handle can be cloned or shared: the ring has one producer and one consumer. For
//! several senders or receivers, use [`mpmc`](crate::mpmc).
//!
//! ```compile_fail
//! let (sender, _receiver) = weir_backpressure::spsc::channel::<u8>(4);
//! let second = sender.clone(); // one sender only
//! ```

use crate::channel::{self, sealed::Sealed, RecvEnd, SendEnd};
use crate::shared::Signals;
use crate::sync::Arc;
use crate::wait::{Park, WaitStrategy};
use std::cell::RefCell;
use std::fmt;
use weir_ring::{CapacityError, Consumer, Producer};

/// A channel of `capacity` items, whose ends sleep in the kernel when they must wait
/// ([`Park`]).
///
/// # Panics
///
/// If `capacity` is 0 or too large for memory; [`try_channel`] returns the error instead.
///
/// # Examples
///
/// ```
/// let (sender, receiver) = weir_backpressure::spsc::channel(16);
/// let producer = std::thread::spawn(move || {
///     for i in 0..100 {
///         sender.send(i).unwrap();
///     }
/// });
/// let received: Vec<i32> = receiver.iter().collect();
/// producer.join().unwrap();
/// assert_eq!(received, (0..100).collect::<Vec<_>>());
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel_with(capacity, Park)
}

/// As [`channel()`], with the ends waiting in `wait`'s way.
///
/// # Panics
///
/// If `capacity` is 0 or too large for memory.
///
/// # Examples
///
/// ```
/// use weir_backpressure::wait::Spin;
///
/// let (sender, receiver) = weir_backpressure::spsc::channel_with(4, Spin);
/// sender.send("low latency").unwrap();
/// assert_eq!(receiver.recv(), Ok("low latency"));
/// ```
pub fn channel_with<T, W: WaitStrategy>(
    capacity: usize,
    wait: W,
) -> (Sender<T, W>, Receiver<T, W>) {
    try_channel_with(capacity, wait).unwrap_or_else(|error| panic!("{error}"))
}

/// As [`channel()`], but returns an error instead of panicking.
///
/// # Errors
///
/// [`CapacityError`] if `capacity` is 0, or too large to allocate.
///
/// # Examples
///
/// ```
/// let error = weir_backpressure::spsc::try_channel::<u8>(0).unwrap_err();
/// assert_eq!(error.to_string(), "capacity must be at least 1");
/// ```
pub fn try_channel<T>(capacity: usize) -> Result<(Sender<T>, Receiver<T>), CapacityError> {
    try_channel_with(capacity, Park)
}

/// As [`channel_with()`], but returns an error instead of panicking.
///
/// # Errors
///
/// [`CapacityError`] if `capacity` is 0, or too large to allocate.
#[allow(clippy::type_complexity)] // the pair of ends, as `channel` returns
pub fn try_channel_with<T, W: WaitStrategy>(
    capacity: usize,
    wait: W,
) -> Result<(Sender<T, W>, Receiver<T, W>), CapacityError> {
    let (producer, consumer) = weir_ring::try_channel(capacity)?;
    let signals = Arc::new(Signals::new());
    let producer = ProducerEnd {
        producer: RefCell::new(producer),
        signals: Arc::clone(&signals),
    };
    let consumer = ConsumerEnd {
        consumer: RefCell::new(consumer),
        signals,
    };
    Ok((
        Sender::new(producer, wait.clone()),
        Receiver::new(consumer, wait),
    ))
}

/// The sending end of an [`spsc` channel](channel()); its methods are
/// [`channel::Sender`]'s. It can move to another thread, but not be cloned or shared.
pub type Sender<T, W = Park> = channel::Sender<ProducerEnd<T>, W>;

/// The receiving end of an [`spsc` channel](channel()); its methods are
/// [`channel::Receiver`]'s. It can move to another thread, but not be cloned or shared.
pub type Receiver<T, W = Park> = channel::Receiver<ConsumerEnd<T>, W>;

/// The ring's producer as a channel's sending end (only [`Sender`] uses it).
pub struct ProducerEnd<T> {
    // A `RefCell` gives the channel's `&self` methods over the ring's `&mut self` ones; it
    // also keeps the end `!Sync`, as the ring's one producer must be. No borrow outlives a
    // call, and nothing a call runs can call back into the end.
    producer: RefCell<Producer<T>>,
    signals: Arc<Signals>,
}

/// The ring's consumer as a channel's receiving end (only [`Receiver`] uses it).
pub struct ConsumerEnd<T> {
    // As in `ProducerEnd`.
    consumer: RefCell<Consumer<T>>,
    signals: Arc<Signals>,
}

impl<T> Sealed for ProducerEnd<T> {}
impl<T> Sealed for ConsumerEnd<T> {}

impl<T> SendEnd for ProducerEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.signals
    }

    #[inline]
    fn try_push(&self, item: T) -> Result<(), T> {
        self.producer
            .borrow_mut()
            .try_push(item)
            .map_err(|full| full.0)
    }

    fn try_push_many(&self, items: &mut Vec<T>) -> usize {
        let mut producer = self.producer.borrow_mut();
        let fits = producer.slots().min(items.len());
        producer
            .write_chunk(fits)
            .fill_from_iter(items.drain(..fits))
    }

    fn queued(&self) -> usize {
        let producer = self.producer.borrow();
        producer.capacity() - producer.slots()
    }

    fn capacity(&self) -> usize {
        self.producer.borrow().capacity()
    }
}

impl<T> RecvEnd for ConsumerEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.signals
    }

    #[inline]
    fn try_pop(&self) -> Option<T> {
        self.consumer.borrow_mut().try_pop()
    }

    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.consumer.borrow_mut().try_pop_many(out, max)
    }

    fn queued(&self) -> usize {
        self.consumer.borrow().len()
    }

    fn capacity(&self) -> usize {
        self.consumer.borrow().capacity()
    }
}

impl<T> fmt::Debug for ProducerEnd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProducerEnd { .. }")
    }
}

impl<T> fmt::Debug for ConsumerEnd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsumerEnd { .. }")
    }
}

static_assertions::assert_impl_all!(Sender<u8>: Send);
static_assertions::assert_impl_all!(Receiver<u8>: Send);
static_assertions::assert_not_impl_any!(Sender<u8>: Sync, Clone);
static_assertions::assert_not_impl_any!(Receiver<u8>: Sync, Clone);
