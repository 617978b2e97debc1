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

use crate::channel::{self, sealed::Sealed, Limiter, RecvEnd, SendEnd};
use crate::rendezvous::Rendezvous;
use crate::shared::Signals;
use crate::sync::Arc;
use crate::wait::{Park, WaitStrategy};
use std::cell::RefCell;
use std::fmt;
use weir_ring::{CapacityError, Consumer, Producer};

constructors! {
    "spsc",
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
    fn channel;
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::wait::Spin;
    ///
    /// let (sender, receiver) = weir_backpressure::spsc::channel_with(4, Spin);
    /// sender.send("low latency").unwrap();
    /// assert_eq!(receiver.recv(), Ok("low latency"));
    /// ```
    fn channel_with;
    /// # Examples
    ///
    /// ```
    /// let error = weir_backpressure::spsc::try_channel::<u64>(usize::MAX).unwrap_err();
    /// assert!(error.to_string().contains("capacity"));
    ///
    /// // Capacity 0: a rendezvous. The send returns once the receiver has taken the item.
    /// let (sender, receiver) = weir_backpressure::spsc::try_channel(0).unwrap();
    /// let handed = std::thread::spawn(move || sender.send("hand-off"));
    /// assert_eq!(receiver.recv(), Ok("hand-off"));
    /// assert_eq!(handed.join().unwrap(), Ok(()));
    /// ```
    fn try_channel;
}

/// As [`channel_with()`], but returns an error instead of panicking.
///
/// # Errors
///
/// [`CapacityError`] if `capacity` is too large to allocate.
#[allow(clippy::type_complexity)] // the pair of ends, as `channel` returns
pub fn try_channel_with<T, W: WaitStrategy>(
    capacity: usize,
    wait: W,
) -> Result<(Sender<T, W>, Receiver<T, W>), CapacityError> {
    // A rendezvous has no queue; its ends still hold a ring of one item, never used, so that
    // the ends of both kinds are one type.
    let (producer, consumer) = weir_ring::try_channel(capacity.max(1))?;
    let rendezvous = (capacity == 0).then(|| Arc::new(Rendezvous::new()));
    let signals = Arc::new(Signals::new(capacity));
    let producer = ProducerEnd {
        producer: RefCell::new(producer),
        rendezvous: rendezvous.clone(),
        signals: Arc::clone(&signals),
    };
    let consumer = ConsumerEnd {
        consumer: RefCell::new(consumer),
        rendezvous,
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
    /// `Some` for a channel of capacity 0: a field of the end itself, so that the check costs
    /// the queued channels no shared cache line and no atomic.
    rendezvous: Option<Arc<Rendezvous<T>>>,
    signals: Arc<Signals>,
}

/// The ring's consumer as a channel's receiving end (only [`Receiver`] uses it).
pub struct ConsumerEnd<T> {
    // As in `ProducerEnd`.
    consumer: RefCell<Consumer<T>>,
    rendezvous: Option<Arc<Rendezvous<T>>>,
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
    fn rendezvous(&self) -> Option<&Rendezvous<T>> {
        self.rendezvous.as_deref()
    }

    #[inline]
    fn try_push(&self, item: T, pushed: impl FnOnce()) -> Result<(), T> {
        self.producer
            .borrow_mut()
            .try_push(item)
            .map_err(|full| full.0)?;
        pushed();
        Ok(())
    }

    fn try_push_many(&self, items: &mut Vec<T>, max: usize) -> usize {
        let mut producer = self.producer.borrow_mut();
        let fits = producer.slots().min(items.len()).min(max);
        producer
            .write_chunk(fits)
            .fill_from_iter(items.drain(..fits))
    }

    fn queued(&self) -> usize {
        let producer = self.producer.borrow();
        producer.capacity() - producer.slots()
    }

    fn capacity(&self) -> usize {
        match self.rendezvous {
            Some(_) => 0,
            None => self.producer.borrow().capacity(),
        }
    }

    fn limiter(&self) -> Limiter {
        Limiter::new(Arc::clone(&self.signals))
    }
}

impl<T> RecvEnd for ConsumerEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.signals
    }

    #[inline]
    fn rendezvous(&self) -> Option<&Rendezvous<T>> {
        self.rendezvous.as_deref()
    }

    #[inline]
    fn try_pop(&self, popped: impl FnOnce()) -> Option<T> {
        let item = self.consumer.borrow_mut().try_pop()?;
        popped();
        Some(item)
    }

    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.consumer.borrow_mut().try_pop_many(out, max)
    }

    fn queued(&self) -> usize {
        self.consumer.borrow().len()
    }

    fn capacity(&self) -> usize {
        match self.rendezvous {
            Some(_) => 0,
            None => self.consumer.borrow().capacity(),
        }
    }

    fn limiter(&self) -> Limiter {
        Limiter::new(Arc::clone(&self.signals))
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
