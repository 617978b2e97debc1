//! A blocking channel for any number of senders and receivers, over `weir-mpmc`'s bounded
//! queue. Both ends can be cloned and shared; each item goes to exactly one receiver.
//!
//! It has std's API (`std::sync::mpsc::sync_channel`), plus receivers that can be cloned, batch
//! sends and receives, and a choice of [wait strategy](crate::wait).

use crate::channel::{self, sealed::Sealed, RecvEnd, SendEnd};
use crate::shared::Signals;
use crate::sync::Arc;
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use weir_mpmc::{CapacityError, Queue};

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
/// let (sender, receiver) = weir_backpressure::mpmc::channel(64);
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let receiver = receiver.clone();
///         std::thread::spawn(move || receiver.iter().sum::<u64>())
///     })
///     .collect();
/// drop(receiver);
/// for i in 1..=100 {
///     sender.send(i).unwrap();
/// }
/// drop(sender);
/// let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
/// assert_eq!(total, 5050);
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
/// use weir_backpressure::wait::Backoff;
///
/// let (sender, receiver) = weir_backpressure::mpmc::channel_with(4, Backoff);
/// sender.send(7).unwrap();
/// assert_eq!(receiver.recv(), Ok(7));
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
/// let error = weir_backpressure::mpmc::try_channel::<u8>(0).unwrap_err();
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
    let end = QueueEnd(Arc::new(Shared {
        queue: Queue::try_new(capacity)?,
        signals: Signals::new(),
    }));
    Ok((
        Sender::new(end.clone(), wait.clone()),
        Receiver::new(end, wait),
    ))
}

/// The sending end of an [`mpmc` channel](channel()); its methods are [`channel::Sender`]'s.
/// Clone it for more senders; the channel disconnects when the last is dropped.
pub type Sender<T, W = Park> = channel::Sender<QueueEnd<T>, W>;

/// The receiving end of an [`mpmc` channel](channel()); its methods are [`channel::Receiver`]'s.
/// Clone it for more receivers; each item goes to one of them.
pub type Receiver<T, W = Park> = channel::Receiver<QueueEnd<T>, W>;

/// The shared queue as either end of a channel (only [`Sender`] and [`Receiver`] use it).
pub struct QueueEnd<T>(Arc<Shared<T>>);

struct Shared<T> {
    queue: Queue<T>,
    signals: Signals,
}

impl<T> Clone for QueueEnd<T> {
    fn clone(&self) -> Self {
        QueueEnd(Arc::clone(&self.0))
    }
}

impl<T> QueueEnd<T> {
    /// The queue itself, for the crate's own senders built on the channel (overflow policies).
    #[allow(dead_code)]
    pub(crate) fn queue(&self) -> &Queue<T> {
        &self.0.queue
    }
}

impl<T> Sealed for QueueEnd<T> {}

impl<T> SendEnd for QueueEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.0.signals
    }

    #[inline]
    fn try_push(&self, item: T) -> Result<(), T> {
        self.0.queue.try_push(item).map_err(|full| full.0)
    }

    fn try_push_many(&self, items: &mut Vec<T>) -> usize {
        self.0.queue.try_push_many(items)
    }

    fn queued(&self) -> usize {
        self.0.queue.len()
    }

    fn capacity(&self) -> usize {
        self.0.queue.capacity()
    }
}

impl<T> RecvEnd for QueueEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.0.signals
    }

    #[inline]
    fn try_pop(&self) -> Option<T> {
        self.0.queue.try_pop()
    }

    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.0.queue.try_pop_many(out, max)
    }

    fn queued(&self) -> usize {
        self.0.queue.len()
    }

    fn capacity(&self) -> usize {
        self.0.queue.capacity()
    }
}

impl<T> fmt::Debug for QueueEnd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueEnd { .. }")
    }
}

static_assertions::assert_impl_all!(Sender<u8>: Send, Sync, Clone);
static_assertions::assert_impl_all!(Receiver<u8>: Send, Sync, Clone);
