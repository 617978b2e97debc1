//! The two ends of a blocking channel, written once over the queue between them: a
//! `weir-ring` ring for [`spsc`](crate::spsc), a `weir-mpmc` queue for [`mpmc`](crate::mpmc).
//!
//! Users name them through those modules' aliases (`spsc::Sender<T>`, `mpmc::Receiver<T>`);
//! the methods, their errors and their examples are here.

use crate::error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use crate::iter::{IntoIter, Iter, TryIter};
use crate::rendezvous::Rendezvous;
use crate::shared::Signals;
use crate::sync::{Arc, Instant};
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use std::time::Duration;

/// A channel's sending side of its queue: the ring's producer or the shared MPMC queue.
/// Sealed: the channels of this crate are its only implementations.
pub trait SendEnd: sealed::Sealed {
    /// What the channel carries.
    type Item;
    #[doc(hidden)]
    fn signals(&self) -> &Signals;
    /// The hand-off slot of a channel of capacity 0, which has no queue.
    #[doc(hidden)]
    fn rendezvous(&self) -> Option<&Rendezvous<Self::Item>>;
    /// Pushes `item`, or hands it back if the queue is full. On success it calls `pushed`
    /// once, at the queue's point for a wake-up: the ring after publishing the item, the MPMC
    /// queue between claiming its place and writing it, where the wake-up's fence costs least
    /// (`weir_mpmc::Queue::try_push_then` says why no sleeper is lost there).
    #[doc(hidden)]
    fn try_push(&self, item: Self::Item, pushed: impl FnOnce()) -> Result<(), Self::Item>;
    /// Moves as many items as fit, at most `max`, from the front of `items`; returns how many.
    #[doc(hidden)]
    fn try_push_many(&self, items: &mut Vec<Self::Item>, max: usize) -> usize;
    #[doc(hidden)]
    fn queued(&self) -> usize;
    #[doc(hidden)]
    fn capacity(&self) -> usize;
    #[doc(hidden)]
    fn limiter(&self) -> Limiter;

    /// As `try_push`, within the soft limit, waking a receiver when the item goes in.
    #[doc(hidden)]
    #[inline]
    fn try_push_and_wake(&self, item: Self::Item) -> Result<(), Self::Item> {
        match room(self.signals(), || self.queued()) {
            Some(0) => Err(item),
            _ => self.try_push(item, || self.signals().not_empty().notify_one()),
        }
    }

    /// As `try_push_many`, within the soft limit.
    #[doc(hidden)]
    #[inline]
    fn try_push_many_within(&self, items: &mut Vec<Self::Item>) -> usize {
        match room(self.signals(), || self.queued()) {
            None => self.try_push_many(items, usize::MAX),
            Some(0) => 0,
            Some(room) => self.try_push_many(items, room),
        }
    }
}

/// How many more items the soft limit lets into a queue holding `queued()` items: `None` when
/// no limit below the capacity is in force (and then `queued` is not called).
#[inline]
fn room(signals: &Signals, queued: impl FnOnce() -> usize) -> Option<usize> {
    let limit = signals.limit()?;
    Some(limit.saturating_sub(queued()))
}

/// A channel's receiving side of its queue: the ring's consumer or the shared MPMC queue.
/// Sealed: the channels of this crate are its only implementations.
pub trait RecvEnd: sealed::Sealed {
    /// What the channel carries.
    type Item;
    #[doc(hidden)]
    fn signals(&self) -> &Signals;
    /// The hand-off slot of a channel of capacity 0, which has no queue.
    #[doc(hidden)]
    fn rendezvous(&self) -> Option<&Rendezvous<Self::Item>>;
    /// Pops an item if there is one. Then it calls `popped` once, at the queue's point for a
    /// wake-up, as `SendEnd::try_push` does.
    #[doc(hidden)]
    fn try_pop(&self, popped: impl FnOnce()) -> Option<Self::Item>;
    /// Appends up to `max` items to `out`; returns how many.
    #[doc(hidden)]
    fn try_pop_many(&self, out: &mut Vec<Self::Item>, max: usize) -> usize;
    #[doc(hidden)]
    fn queued(&self) -> usize;
    #[doc(hidden)]
    fn capacity(&self) -> usize;
    #[doc(hidden)]
    fn limiter(&self) -> Limiter;

    /// As `try_pop`, waking a sender when an item comes out.
    #[doc(hidden)]
    #[inline]
    fn try_pop_and_wake(&self) -> Option<Self::Item> {
        self.try_pop(|| self.signals().not_full().notify_one())
    }
}

pub(crate) mod sealed {
    /// Keeps the channel-end traits to this crate's two channels.
    #[allow(unreachable_pub)] // public in name only: the traits that need it are sealed by it
    pub trait Sealed {}
}

/// The sending end of a channel: [`spsc::Sender`](crate::spsc::Sender) (one sender) or
/// [`mpmc::Sender`](crate::mpmc::Sender) (cloned for as many as needed).
pub struct Sender<E: SendEnd, W: WaitStrategy = Park> {
    end: E,
    wait: W,
}

/// The receiving end of a channel: [`spsc::Receiver`](crate::spsc::Receiver) (one receiver)
/// or [`mpmc::Receiver`](crate::mpmc::Receiver) (cloned for as many as needed).
pub struct Receiver<E: RecvEnd, W: WaitStrategy = Park> {
    end: E,
    wait: W,
}

impl<E: SendEnd, W: WaitStrategy> Sender<E, W> {
    pub(crate) fn new(end: E, wait: W) -> Self {
        Sender { end, wait }
    }

    /// The queue's end, for the crate's own senders built on this one (overflow policies).
    pub(crate) fn end(&self) -> &E {
        &self.end
    }
}

impl<E: RecvEnd, W: WaitStrategy> Receiver<E, W> {
    pub(crate) fn new(end: E, wait: W) -> Self {
        Receiver { end, wait }
    }
}

impl<E: SendEnd, W: WaitStrategy> Sender<E, W> {
    /// Sends an item, waiting while the channel is full. On a channel of capacity 0 (a
    /// rendezvous), returns only once a receiver has taken the item.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the item if every receiver is gone, whether it left before the call or
    /// while the send waited.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// assert_eq!(sender.send(1), Ok(()));
    /// drop(receiver);
    /// assert_eq!(sender.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, item: E::Item) -> Result<(), SendError<E::Item>> {
        self.send_until(item, None)
            .map_err(|error| SendError(error.into_inner()))
    }

    /// Sends an item if there is room now. On a channel of capacity 0 (a rendezvous), only if a
    /// receiver is blocked in a receive now: the item is then handed to it, and this waits for
    /// that hand-off (never for a receiver to come), as std's `sync_channel(0)` does.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] with the item if the channel is full (for a rendezvous: no
    /// receiver is waiting, or another sender is handing over its item), and
    /// [`TrySendError::Disconnected`] with the item if every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TrySendError;
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// assert_eq!(sender.try_send(1), Ok(()));
    /// assert_eq!(sender.try_send(2), Err(TrySendError::Full(2)));
    /// drop(receiver);
    /// assert_eq!(sender.try_send(3), Err(TrySendError::Disconnected(3)));
    /// ```
    pub fn try_send(&self, item: E::Item) -> Result<(), TrySendError<E::Item>> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            return rendezvous.try_send(end.signals(), &self.wait, item);
        }
        end.signals()
            .try_send(item, |item| end.try_push_and_wake(item))
    }

    /// Sends an item, waiting at most `timeout` while the channel is full.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] with the item if the channel stayed full, and
    /// [`SendTimeoutError::Disconnected`] with the item if every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_backpressure::SendTimeoutError;
    ///
    /// let (sender, _receiver) = weir_backpressure::mpmc::channel(1);
    /// sender.send(1).unwrap();
    /// let late = sender.send_timeout(2, Duration::from_millis(5));
    /// assert_eq!(late, Err(SendTimeoutError::Timeout(2)));
    /// ```
    pub fn send_timeout(
        &self,
        item: E::Item,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<E::Item>> {
        self.send_until(item, Instant::now().checked_add(timeout))
    }

    /// Sends an item, waiting while the channel is full until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`send_timeout`](Self::send_timeout).
    pub fn send_deadline(
        &self,
        item: E::Item,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<E::Item>> {
        self.send_until(item, Some(deadline))
    }

    /// Sends every item of `items`, in order, draining it, waiting while the channel is full.
    /// Wakes a sleeping receiver once per batch that goes in, not once per item, and allocates
    /// nothing: `items` keeps its capacity for the next batch.
    ///
    /// # Errors
    ///
    /// [`SendError`] if every receiver is gone; the items not sent are left in `items`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(8);
    /// let mut batch = vec![1, 2, 3];
    /// sender.send_many(&mut batch).unwrap();
    /// assert!(batch.is_empty());
    /// let mut out = Vec::new();
    /// assert_eq!(receiver.recv_many(&mut out, 10), Ok(3));
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    pub fn send_many(&self, items: &mut Vec<E::Item>) -> Result<(), SendError<()>> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            // One hand-off after another, each waiting for its receiver.
            while !items.is_empty() {
                let item = items.remove(0);
                if let Err(error) = rendezvous.send(end.signals(), &self.wait, item, None) {
                    items.insert(0, error.into_inner());
                    return Err(SendError(()));
                }
            }
            return Ok(());
        }
        end.signals()
            .send_many(&self.wait, items, |items| end.try_push_many_within(items))
            .map_err(|()| SendError(()))
    }

    /// Whether every receiver is gone: nothing sent from now on would be received.
    pub fn is_disconnected(&self) -> bool {
        self.end.signals().receivers_gone()
    }

    /// The number of items in the channel now.
    pub fn len(&self) -> usize {
        self.end.queued()
    }

    /// Whether the channel holds no items now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the channel is full now: it holds [`limit`](Self::limit) items or more.
    pub fn is_full(&self) -> bool {
        self.len() >= self.limit()
    }

    /// The number of items the channel can hold: its capacity when made, whatever the
    /// [`limit`](Self::limit).
    pub fn capacity(&self) -> usize {
        self.end.capacity()
    }

    /// The soft limit in force: a send adds items only while the channel holds fewer. The
    /// capacity unless [`set_limit`](Self::set_limit) lowered it.
    pub fn limit(&self) -> usize {
        self.end
            .signals()
            .limit()
            .unwrap_or_else(|| self.capacity())
    }

    /// Sets the soft limit: sends wait (or `try_send` fails) while the channel holds `limit`
    /// items or more, inside the capacity it was made with, which nothing reallocates.
    /// `limit` is clamped to `1..=capacity`; the capacity lifts the limit. Returns the limit
    /// now in force.
    ///
    /// Lowering it below the items queued keeps them all: sends wait until receives bring
    /// the channel under the new limit. Raising it wakes the senders waiting on the old one.
    /// The limit is exact with one sender at a time; senders that send at the same moment
    /// each check it before adding their items, so together they may go over it by what
    /// they add at that moment. A rendezvous channel (capacity 0) has no limit: this returns
    /// 0 and changes nothing. [`limiter`](Self::limiter) gives a handle that sets it from
    /// any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TrySendError;
    ///
    /// let (sender, receiver) = weir_backpressure::spsc::channel(8);
    /// assert_eq!(sender.set_limit(2), 2);
    /// sender.send(1).unwrap();
    /// sender.send(2).unwrap();
    /// assert_eq!(sender.try_send(3), Err(TrySendError::Full(3)));
    /// assert_eq!((sender.len(), sender.limit(), sender.capacity()), (2, 2, 8));
    /// sender.set_limit(3);
    /// assert_eq!(sender.try_send(3), Ok(()));
    /// assert_eq!(receiver.recv(), Ok(1));
    /// ```
    pub fn set_limit(&self, limit: usize) -> usize {
        self.end.signals().set_limit(limit)
    }

    /// A handle that reads and sets this channel's soft limit from any thread.
    pub fn limiter(&self) -> Limiter {
        self.end.limiter()
    }

    fn send_until(
        &self,
        item: E::Item,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<E::Item>> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            return rendezvous.send(end.signals(), &self.wait, item, deadline);
        }
        end.signals().send(&self.wait, item, deadline, |item| {
            end.try_push_and_wake(item)
        })
    }
}

impl<E: RecvEnd, W: WaitStrategy> Receiver<E, W> {
    /// Receives an item, waiting while the channel is empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is empty and every sender is gone: everything sent before
    /// the senders left is received first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::RecvError;
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(2);
    /// sender.send('a').unwrap();
    /// drop(sender);
    /// assert_eq!(receiver.recv(), Ok('a'));
    /// assert_eq!(receiver.recv(), Err(RecvError));
    /// ```
    pub fn recv(&self) -> Result<E::Item, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives an item if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the channel is empty, and [`TryRecvError::Disconnected`] if
    /// it is empty and every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TryRecvError;
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel::<u8>(2);
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    /// drop(sender);
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&self) -> Result<E::Item, TryRecvError> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            return rendezvous.try_recv(end.signals());
        }
        end.signals().try_recv(|| end.try_pop_and_wake())
    }

    /// Receives an item, waiting at most `timeout` while the channel is empty.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if the channel stayed empty, and
    /// [`RecvTimeoutError::Disconnected`] if it is empty and every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::RecvTimeoutError;
    /// use std::time::Duration;
    ///
    /// let (_sender, receiver) = weir_backpressure::mpmc::channel::<u8>(2);
    /// let nothing = receiver.recv_timeout(Duration::from_millis(5));
    /// assert_eq!(nothing, Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<E::Item, RecvTimeoutError> {
        self.recv_until(Instant::now().checked_add(timeout))
    }

    /// Receives an item, waiting while the channel is empty until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`recv_timeout`](Self::recv_timeout).
    pub fn recv_deadline(&self, deadline: Instant) -> Result<E::Item, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    /// Receives at least one item and at most `max`, appending them to `out` in order, waiting
    /// while the channel is empty; returns how many. Wakes a sleeping sender once per batch,
    /// not once per item. With `max == 0` it returns `Ok(0)` at once.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is empty and every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(8);
    /// for i in 0..5 {
    ///     sender.send(i).unwrap();
    /// }
    /// drop(sender);
    /// let mut out = Vec::with_capacity(8);
    /// assert_eq!(receiver.recv_many(&mut out, 3), Ok(3));
    /// assert_eq!(receiver.recv_many(&mut out, 3), Ok(2));
    /// assert!(receiver.recv_many(&mut out, 3).is_err());
    /// assert_eq!(out, [0, 1, 2, 3, 4]);
    /// ```
    pub fn recv_many(&self, out: &mut Vec<E::Item>, max: usize) -> Result<usize, RecvError> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            // One item per hand-off: a rendezvous holds no more.
            if max == 0 {
                return Ok(0);
            }
            let item = rendezvous
                .recv(end.signals(), &self.wait, None)
                .map_err(|_| RecvError)?;
            out.push(item);
            return Ok(1);
        }
        end.signals()
            .recv_many(&self.wait, max, |max| end.try_pop_many(out, max))
            .map_err(|()| RecvError)
    }

    /// An iterator that receives items, waiting for each, until every sender is gone and the
    /// channel empty.
    pub fn iter(&self) -> Iter<'_, E, W> {
        Iter::new(self)
    }

    /// An iterator over the items in the channel now; it never waits.
    pub fn try_iter(&self) -> TryIter<'_, E, W> {
        TryIter::new(self)
    }

    /// Whether every sender is gone. Items it sent may still be in the channel.
    pub fn is_disconnected(&self) -> bool {
        self.end.signals().senders_gone()
    }

    /// The number of items in the channel now.
    pub fn len(&self) -> usize {
        self.end.queued()
    }

    /// Whether the channel holds no items now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of items the channel can hold: its capacity when made, whatever the
    /// [`limit`](Self::limit).
    pub fn capacity(&self) -> usize {
        self.end.capacity()
    }

    /// The soft limit in force (see [`Sender::set_limit`]).
    pub fn limit(&self) -> usize {
        self.end
            .signals()
            .limit()
            .unwrap_or_else(|| self.capacity())
    }

    /// A handle that reads and sets this channel's soft limit from any thread.
    pub fn limiter(&self) -> Limiter {
        self.end.limiter()
    }

    fn recv_until(&self, deadline: Option<Instant>) -> Result<E::Item, RecvTimeoutError> {
        let end = &self.end;
        if let Some(rendezvous) = end.rendezvous() {
            return rendezvous.recv(end.signals(), &self.wait, deadline);
        }
        end.signals()
            .recv(&self.wait, deadline, || end.try_pop_and_wake())
    }
}

impl<'a, E: RecvEnd, W: WaitStrategy> IntoIterator for &'a Receiver<E, W> {
    type Item = E::Item;
    type IntoIter = Iter<'a, E, W>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<E: RecvEnd, W: WaitStrategy> IntoIterator for Receiver<E, W> {
    type Item = E::Item;
    type IntoIter = IntoIter<E, W>;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter::new(self)
    }
}

/// Another sender on the same channel; only [`mpmc`](crate::mpmc)'s ends can be cloned.
impl<E: SendEnd + Clone, W: WaitStrategy> Clone for Sender<E, W> {
    fn clone(&self) -> Self {
        self.end.signals().add_sender();
        Sender::new(self.end.clone(), self.wait.clone())
    }
}

/// Another receiver on the same channel; only [`mpmc`](crate::mpmc)'s ends can be cloned.
/// Each item goes to one receiver.
impl<E: RecvEnd + Clone, W: WaitStrategy> Clone for Receiver<E, W> {
    fn clone(&self) -> Self {
        self.end.signals().add_receiver();
        Receiver::new(self.end.clone(), self.wait.clone())
    }
}

impl<E: SendEnd, W: WaitStrategy> Drop for Sender<E, W> {
    fn drop(&mut self) {
        self.end.signals().remove_sender();
    }
}

impl<E: RecvEnd, W: WaitStrategy> Drop for Receiver<E, W> {
    fn drop(&mut self) {
        self.end.signals().remove_receiver();
    }
}

impl<E: SendEnd, W: WaitStrategy> fmt::Debug for Sender<E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("disconnected", &self.is_disconnected())
            .field("wait", &self.wait)
            .finish()
    }
}

impl<E: RecvEnd, W: WaitStrategy> fmt::Debug for Receiver<E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("disconnected", &self.is_disconnected())
            .field("wait", &self.wait)
            .finish()
    }
}

/// A handle on a channel's soft limit (see [`Sender::set_limit`]): it reads and sets the limit
/// from any thread, without holding either end. It keeps the channel's wake-ups alive, not
/// its queue, and does not count as a sender or a receiver.
///
/// # Examples
///
/// ```
/// let (sender, receiver) = weir_backpressure::mpmc::channel::<u32>(16);
/// let limiter = receiver.limiter();
/// assert_eq!((limiter.limit(), limiter.capacity()), (16, 16));
/// std::thread::spawn(move || limiter.set_limit(4)).join().unwrap();
/// assert_eq!(sender.limit(), 4);
/// ```
#[derive(Clone)]
pub struct Limiter {
    signals: Arc<Signals>,
}

impl Limiter {
    pub(crate) fn new(signals: Arc<Signals>) -> Self {
        Limiter { signals }
    }

    /// The soft limit in force.
    pub fn limit(&self) -> usize {
        self.signals
            .limit()
            .unwrap_or_else(|| self.signals.capacity())
    }

    /// Sets the soft limit, as [`Sender::set_limit`] does; returns the limit now in force.
    pub fn set_limit(&self, limit: usize) -> usize {
        self.signals.set_limit(limit)
    }

    /// The channel's capacity, the most the limit can be.
    pub fn capacity(&self) -> usize {
        self.signals.capacity()
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("limit", &self.limit())
            .field("capacity", &self.capacity())
            .finish()
    }
}

static_assertions::assert_impl_all!(Limiter: Send, Sync, Clone);
