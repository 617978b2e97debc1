//! Overflow policies: what a producer that must not block does when an [`mpmc`] channel is
//! full, with a count of every item each policy turned away.
//!
//! An [`OverflowSender`] wraps an [`mpmc::Sender`] and applies its [`Overflow`] policy on each
//! [`send`](OverflowSender::send):
//!
//! | policy                     | when the channel is full                          | counted in            |
//! |----------------------------|---------------------------------------------------|-----------------------|
//! | [`Block`](Overflow::Block)           | waits for room, as [`Sender::send`](crate::channel::Sender::send) | —                     |
//! | [`Reject`](Overflow::Reject)         | hands the item back in [`TrySendError::Full`]    | [`rejected`](OverflowStats::rejected) |
//! | [`DropNewest`](Overflow::DropNewest) | drops the item being sent                         | [`dropped`](OverflowStats::dropped)  |
//! | [`DropOldest`](Overflow::DropOldest) | takes the oldest item out, hands it back in [`Sent::Evicted`], and queues the new one | [`dropped`](OverflowStats::dropped), [`evicted`](OverflowStats::evicted) |
//!
//! On a rendezvous channel (capacity 0) nothing is queued, so nothing can be evicted:
//! `DropOldest` drops the item being sent, as `DropNewest` does, and the non-blocking policies
//! hand an item over only to a receiver already waiting (see
//! [`try_send`](crate::channel::Sender::try_send)).
//!
//! # Accounting
//!
//! [`OverflowStats`] is shared by every clone of a sender (and by senders made with
//! [`with_policy`](OverflowSender::with_policy)). Once the senders are done and the channel has
//! been drained, with `received` the number of items the receivers took out:
//!
//! ```text
//! sent == received + dropped + rejected
//! ```
//!
//! where `sent` counts every item given to [`send`](OverflowSender::send) that did not fail
//! because the receivers were gone (those are handed back in [`TrySendError::Disconnected`] and
//! counted nowhere). While items are still queued, `sent == received + dropped + rejected +
//! queued`. Each counter is a relaxed atomic: exact once the threads that update it have been
//! joined, a snapshot while they run.

use crate::channel::SendEnd;
use crate::error::TrySendError;
use crate::mpmc;
use crate::sync::{AtomicUsize, Ordering};
use crate::wait::{Park, WaitStrategy};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::sync::Arc;

/// What [`OverflowSender::send`] does when the channel is full.
///
/// # Examples
///
/// ```
/// use weir_backpressure::overflow::{Overflow, OverflowSender};
///
/// let (sender, _receiver) = weir_backpressure::mpmc::channel::<u32>(1);
/// let sender = OverflowSender::new(sender, Overflow::DropNewest);
/// assert_eq!(sender.policy(), Overflow::DropNewest);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Wait for room, as a plain blocking send does. Nothing is dropped.
    Block,
    /// Hand the item back to the caller in [`TrySendError::Full`]; counted as rejected.
    Reject,
    /// Drop the item being sent (the newest); counted as dropped.
    DropNewest,
    /// Take the oldest queued item out to make room for the new one; the oldest is handed back
    /// in [`Sent::Evicted`] for the caller to drop or log, and counted as dropped (and evicted).
    /// When a [soft limit](crate::channel::Sender::set_limit) was lowered below what the
    /// channel holds, one send takes out as many of the oldest as it takes to get under it:
    /// the first is handed back, the others are dropped inside the send (and counted).
    DropOldest,
}

/// What became of an item that [`OverflowSender::send`] accepted.
///
/// Not `#[must_use]`, so that `send(item)?;` reads as it does with a plain sender: ignoring an
/// [`Evicted`](Sent::Evicted) outcome drops the evicted item there, and it is still counted.
///
/// # Examples
///
/// ```
/// use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
///
/// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
/// let sender = OverflowSender::new(sender, Overflow::DropOldest);
/// assert_eq!(sender.send(1), Ok(Sent::Queued));
/// assert_eq!(sender.send(2), Ok(Sent::Evicted(1)));
/// assert_eq!(receiver.recv(), Ok(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent<T> {
    /// The item is in the channel.
    Queued,
    /// The channel was full and the policy is [`Overflow::DropNewest`]: the item was dropped.
    Dropped,
    /// The channel was full and the policy is [`Overflow::DropOldest`]: the item is in the
    /// channel, and this is the oldest item, which it replaced.
    Evicted(T),
}

/// Counts of what overflow senders did, shared by every sender made from one
/// [`OverflowSender::new`]; see the [module docs](crate::overflow#accounting) for the identity they keep.
///
/// # Examples
///
/// ```
/// use weir_backpressure::overflow::{Overflow, OverflowSender};
///
/// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
/// let sender = OverflowSender::new(sender, Overflow::DropNewest);
/// for i in 0..3 {
///     sender.send(i).unwrap();
/// }
/// let received = receiver.try_iter().count();
/// let stats = sender.stats();
/// assert_eq!((stats.sent(), stats.dropped(), received), (3, 2, 1));
/// assert_eq!(stats.sent(), received + stats.dropped() + stats.rejected());
/// ```
#[derive(Default)]
pub struct OverflowStats {
    sent: CachePadded<AtomicUsize>,
    queued: CachePadded<AtomicUsize>,
    dropped: CachePadded<AtomicUsize>,
    evicted: CachePadded<AtomicUsize>,
    rejected: CachePadded<AtomicUsize>,
}

impl OverflowStats {
    /// Items given to `send` that did not fail from disconnection: queued, dropped (new ones)
    /// or rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::Reject);
    /// let _ = sender.send(1);
    /// let _ = sender.send(2);
    /// assert_eq!(sender.stats().sent(), 2);
    /// # drop(receiver);
    /// ```
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Items that went into the channel, including those evicted later.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::DropOldest);
    /// let _ = sender.send(1);
    /// let _ = sender.send(2);
    /// assert_eq!(sender.stats().queued(), 2);
    /// # drop(receiver);
    /// ```
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Items lost to the policies: new items dropped by [`Overflow::DropNewest`] plus old items
    /// evicted by [`Overflow::DropOldest`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::DropNewest);
    /// let _ = sender.send(1);
    /// let _ = sender.send(2);
    /// assert_eq!(sender.stats().dropped(), 1);
    /// # drop(receiver);
    /// ```
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The part of [`dropped`](Self::dropped) that [`Overflow::DropOldest`] evicted.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::DropOldest);
    /// let _ = sender.send(1);
    /// let _ = sender.send(2);
    /// assert_eq!(sender.stats().evicted(), 1);
    /// # drop(receiver);
    /// ```
    pub fn evicted(&self) -> usize {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Items handed back by [`Overflow::Reject`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::Reject);
    /// let _ = sender.send(1);
    /// let _ = sender.send(2);
    /// assert_eq!(sender.stats().rejected(), 1);
    /// # drop(receiver);
    /// ```
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Adds one to a counter. Relaxed: the counts order nothing; they are read after the
    /// threads that send have been joined (or as a snapshot).
    fn bump(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for OverflowStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverflowStats")
            .field("sent", &self.sent())
            .field("queued", &self.queued())
            .field("dropped", &self.dropped())
            .field("evicted", &self.evicted())
            .field("rejected", &self.rejected())
            .finish()
    }
}

/// An [`mpmc::Sender`] that applies an [`Overflow`] policy when the channel is full, and
/// counts what the policy did in [`OverflowStats`].
///
/// Cloning it clones the sender (the channel stays connected while any clone lives) and shares
/// the stats. Nothing is allocated per item.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc::TrySendError;
/// use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
///
/// let (sender, receiver) = weir_backpressure::mpmc::channel(2);
/// let sender = OverflowSender::new(sender, Overflow::Reject);
/// assert_eq!(sender.send('a'), Ok(Sent::Queued));
/// assert_eq!(sender.send('b'), Ok(Sent::Queued));
/// assert_eq!(sender.send('c'), Err(TrySendError::Full('c')));
/// assert_eq!(sender.stats().rejected(), 1);
/// assert_eq!(receiver.recv(), Ok('a'));
/// ```
pub struct OverflowSender<T, W: WaitStrategy = Park> {
    sender: mpmc::Sender<T, W>,
    policy: Overflow,
    stats: Arc<OverflowStats>,
}

impl<T, W: WaitStrategy> OverflowSender<T, W> {
    /// Wraps `sender`, applying `policy` when the channel is full, with new stats.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, _receiver) = weir_backpressure::mpmc::channel::<u8>(4);
    /// let sender = OverflowSender::new(sender, Overflow::Block);
    /// assert_eq!(sender.stats().sent(), 0);
    /// ```
    pub fn new(sender: mpmc::Sender<T, W>, policy: Overflow) -> Self {
        OverflowSender {
            sender,
            policy,
            stats: Arc::new(OverflowStats::default()),
        }
    }

    /// Another sender on the same channel with another policy, sharing these stats.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
    ///
    /// let (sender, _receiver) = weir_backpressure::mpmc::channel(1);
    /// let lossy = OverflowSender::new(sender, Overflow::DropNewest);
    /// let picky = lossy.with_policy(Overflow::Reject);
    /// assert_eq!(lossy.send(1), Ok(Sent::Queued));
    /// assert_eq!(lossy.send(2), Ok(Sent::Dropped));
    /// assert!(picky.send(3).is_err());
    /// assert_eq!((picky.stats().dropped(), picky.stats().rejected()), (1, 1));
    /// ```
    pub fn with_policy(&self, policy: Overflow) -> Self {
        OverflowSender {
            sender: self.sender.clone(),
            policy,
            stats: Arc::clone(&self.stats),
        }
    }

    /// Sends `item`, applying the policy if the channel is full (see [`Overflow`]).
    ///
    /// Receivers sleeping on an empty channel are woken whenever an item goes in, whichever
    /// policy put it there.
    ///
    /// # Errors
    ///
    /// - [`TrySendError::Disconnected`] with the item if every receiver is gone (before the
    ///   call, or while [`Overflow::Block`] waited); not counted.
    /// - [`TrySendError::Full`] with the item if the channel is full and the policy is
    ///   [`Overflow::Reject`]; counted as rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TrySendError;
    /// use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::DropNewest);
    /// assert_eq!(sender.send(1), Ok(Sent::Queued));
    /// assert_eq!(sender.send(2), Ok(Sent::Dropped));
    /// drop(receiver);
    /// assert_eq!(sender.send(3), Err(TrySendError::Disconnected(3)));
    /// assert_eq!(sender.stats().sent(), 2);
    /// ```
    pub fn send(&self, item: T) -> Result<Sent<T>, TrySendError<T>> {
        let stats = &*self.stats;
        let sent = match self.policy {
            Overflow::Block => match self.sender.send(item) {
                Ok(()) => Sent::Queued,
                Err(error) => return Err(TrySendError::Disconnected(error.0)),
            },
            Overflow::Reject => match self.sender.try_send(item) {
                Ok(()) => Sent::Queued,
                Err(TrySendError::Full(item)) => {
                    OverflowStats::bump(&stats.sent);
                    OverflowStats::bump(&stats.rejected);
                    return Err(TrySendError::Full(item));
                }
                Err(error) => return Err(error),
            },
            // A rendezvous channel (capacity 0) queues nothing that could be evicted: the newest
            // item is the one dropped.
            Overflow::DropNewest | Overflow::DropOldest if self.sender.capacity() == 0 => {
                match self.sender.try_send(item) {
                    Ok(()) => Sent::Queued,
                    Err(TrySendError::Full(item)) => {
                        OverflowStats::bump(&stats.sent);
                        OverflowStats::bump(&stats.dropped);
                        drop(item);
                        return Ok(Sent::Dropped);
                    }
                    Err(error) => return Err(error),
                }
            }
            Overflow::DropNewest => match self.sender.try_send(item) {
                Ok(()) => Sent::Queued,
                Err(TrySendError::Full(item)) => {
                    OverflowStats::bump(&stats.sent);
                    OverflowStats::bump(&stats.dropped);
                    drop(item);
                    return Ok(Sent::Dropped);
                }
                Err(error) => return Err(error),
            },
            Overflow::DropOldest => {
                if self.sender.is_disconnected() {
                    return Err(TrySendError::Disconnected(item));
                }
                let end = self.sender.end();
                // Under a soft limit (`Sender::set_limit`), the oldest items make room once the
                // limit is reached, not only the capacity: as many as it takes to bring the
                // queue under it, so that a lowered limit shrinks a fuller queue to the newest
                // items. The first one out goes back to the caller, any more are dropped here.
                let mut over_limit = None;
                if let Some(limit) = end.signals().limit() {
                    while end.queued() >= limit {
                        let Some(oldest) = end.queue().try_pop() else {
                            break;
                        };
                        if over_limit.is_none() {
                            over_limit = Some(oldest);
                        } else {
                            OverflowStats::bump(&stats.dropped);
                            OverflowStats::bump(&stats.evicted);
                            drop(oldest);
                        }
                    }
                }
                let forced = end.queue().force_push(item);
                let evicted = match (over_limit, forced) {
                    // Other senders filled the queue meanwhile: both went out to make room.
                    (Some(first), Some(second)) => {
                        OverflowStats::bump(&stats.dropped);
                        OverflowStats::bump(&stats.evicted);
                        drop(first);
                        Some(second)
                    }
                    (first, second) => first.or(second),
                };
                // Either way an item went in: wake a receiver sleeping on an empty channel.
                end.signals().notify_sent(1);
                match evicted {
                    None => Sent::Queued,
                    Some(oldest) => {
                        OverflowStats::bump(&stats.dropped);
                        OverflowStats::bump(&stats.evicted);
                        Sent::Evicted(oldest)
                    }
                }
            }
        };
        OverflowStats::bump(&stats.sent);
        OverflowStats::bump(&stats.queued);
        Ok(sent)
    }

    /// The policy applied when the channel is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, _receiver) = weir_backpressure::mpmc::channel::<u8>(1);
    /// assert_eq!(OverflowSender::new(sender, Overflow::Reject).policy(), Overflow::Reject);
    /// ```
    pub fn policy(&self) -> Overflow {
        self.policy
    }

    /// The counts shared by this sender, its clones, and senders made by
    /// [`with_policy`](Self::with_policy). Clone the `Arc` to read them after the senders are
    /// gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, receiver) = weir_backpressure::mpmc::channel(1);
    /// let sender = OverflowSender::new(sender, Overflow::DropNewest);
    /// let stats = Arc::clone(sender.stats());
    /// sender.send(1).unwrap();
    /// sender.send(2).unwrap();
    /// drop(sender);
    /// assert_eq!(receiver.iter().count(), 1);
    /// assert_eq!((stats.sent(), stats.dropped()), (2, 1));
    /// ```
    pub fn stats(&self) -> &Arc<OverflowStats> {
        &self.stats
    }

    /// The wrapped sender, for what it offers besides sending: `len`, `capacity`,
    /// `is_disconnected`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::overflow::{Overflow, OverflowSender};
    ///
    /// let (sender, _receiver) = weir_backpressure::mpmc::channel(8);
    /// let sender = OverflowSender::new(sender, Overflow::DropOldest);
    /// let _ = sender.send('x');
    /// assert_eq!((sender.sender().len(), sender.sender().capacity()), (1, 8));
    /// ```
    pub fn sender(&self) -> &mpmc::Sender<T, W> {
        &self.sender
    }
}

impl<T, W: WaitStrategy> Clone for OverflowSender<T, W> {
    fn clone(&self) -> Self {
        self.with_policy(self.policy)
    }
}

impl<T, W: WaitStrategy> fmt::Debug for OverflowSender<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverflowSender")
            .field("policy", &self.policy)
            .field("stats", &*self.stats)
            .field("sender", &self.sender)
            .finish()
    }
}

static_assertions::assert_impl_all!(OverflowSender<u8>: Send, Sync, Clone);
static_assertions::assert_impl_all!(OverflowStats: Send, Sync);
