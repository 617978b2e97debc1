//! A blocking channel for any number of senders and receivers, over `weir-mpmc`'s bounded
//! queue. Both ends can be cloned and shared; each item goes to exactly one receiver.
//!
//! It has std's API (`std::sync::mpsc::sync_channel`), plus receivers that can be cloned, batch
//! sends and receives, and a choice of [wait strategy](crate::wait).

use crate::channel::{self, sealed::Sealed, Limiter, RecvEnd, SendEnd};
use crate::rendezvous::Rendezvous;
use crate::shared::Signals;
use crate::sync::Arc;
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use weir_mpmc::{CapacityError, Queue};

constructors! {
    "mpmc",
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
    fn channel;
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::wait::Backoff;
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel_with(4, Backoff);
    /// sender.send(7).unwrap();
    /// assert_eq!(receiver.recv(), Ok(7));
    /// ```
    fn channel_with;
    /// # Examples
    ///
    /// ```
    /// let error = weir_backpressure::mpmc::try_channel::<u64>(usize::MAX).unwrap_err();
    /// assert!(error.to_string().contains("capacity"));
    ///
    /// // Capacity 0: a rendezvous. The send returns once the receiver has taken the item.
    /// let (sender, receiver) = weir_backpressure::mpmc::try_channel(0).unwrap();
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
    // A rendezvous has no queue; it still holds one of one item, never used, so that the
    // ends of both kinds are one type.
    let end = QueueEnd(Arc::new(Shared {
        queue: Queue::try_new(capacity.max(1))?,
        rendezvous: (capacity == 0).then(|| Box::new(Rendezvous::new())),
        signals: Arc::new(Signals::new(capacity)),
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
    /// `Some` for a channel of capacity 0; boxed, so that the queued channels pay one pointer
    /// that nothing writes, and no atomic.
    rendezvous: Option<Box<Rendezvous<T>>>,
    /// In an `Arc` of its own, so that a [`Limiter`] can hold it without the queue's type.
    signals: Arc<Signals>,
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
    fn rendezvous(&self) -> Option<&Rendezvous<T>> {
        self.0.rendezvous.as_deref()
    }

    #[inline]
    fn try_push(&self, item: T, pushed: impl FnOnce()) -> Result<(), T> {
        self.0
            .queue
            .try_push_then(item, pushed)
            .map_err(|full| full.0)
    }

    fn try_push_many(&self, items: &mut Vec<T>, max: usize) -> usize {
        self.0.queue.try_push_many_at_most(items, max)
    }

    fn queued(&self) -> usize {
        self.0.queue.len()
    }

    fn capacity(&self) -> usize {
        match self.0.rendezvous {
            Some(_) => 0,
            None => self.0.queue.capacity(),
        }
    }

    fn limiter(&self) -> Limiter {
        Limiter::new(Arc::clone(&self.0.signals))
    }
}

impl<T> RecvEnd for QueueEnd<T> {
    type Item = T;

    fn signals(&self) -> &Signals {
        &self.0.signals
    }

    #[inline]
    fn rendezvous(&self) -> Option<&Rendezvous<T>> {
        self.0.rendezvous.as_deref()
    }

    #[inline]
    fn try_pop(&self, popped: impl FnOnce()) -> Option<T> {
        self.0.queue.try_pop_then(popped)
    }

    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.0.queue.try_pop_many(out, max)
    }

    fn queued(&self) -> usize {
        self.0.queue.len()
    }

    fn capacity(&self) -> usize {
        match self.0.rendezvous {
            Some(_) => 0,
            None => self.0.queue.capacity(),
        }
    }

    fn limiter(&self) -> Limiter {
        Limiter::new(Arc::clone(&self.0.signals))
    }
}

impl<T> fmt::Debug for QueueEnd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueEnd { .. }")
    }
}

static_assertions::assert_impl_all!(Sender<u8>: Send, Sync, Clone);
static_assertions::assert_impl_all!(Receiver<u8>: Send, Sync, Clone);
