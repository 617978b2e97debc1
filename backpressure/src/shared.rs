//! What the two ends of a blocking channel share, whatever the queue between them: how many
//! senders and receivers are left, the two event counts they sleep on, and the blocking send
//! and receive loops, written once for the SPSC and the MPMC channel.

use crate::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::event_count::EventCount;
use crate::sync::{AtomicUsize, Instant, Ordering};
use crate::wait::WaitStrategy;
use crossbeam_utils::CachePadded;

/// The connection state and wake-ups of one channel.
///
/// A send reads `receivers` and `not_empty`'s waiter count on every item, and a receive reads
/// `not_full`'s: each sits on its own cache line, which only a disconnection or a sleeper
/// writes, so that they stay shared between the cores instead of bouncing.
#[derive(Debug)]
#[allow(unreachable_pub)] // named (not reachable) by the sealed channel-end traits
pub struct Signals {
    senders: CachePadded<AtomicUsize>,
    receivers: CachePadded<AtomicUsize>,
    /// Receivers sleep on it; a send notifies it.
    not_empty: CachePadded<EventCount>,
    /// Senders sleep on it; a receive notifies it, and so does a raised [`limit`](Self::limit).
    not_full: CachePadded<EventCount>,
    /// The soft limit: a send adds items only while the queue holds fewer. [`NO_LIMIT`] when
    /// it is the capacity (the common case, which costs a send this one load). Alone on its
    /// line (the fields around it are padded), which only a change of the limit writes.
    limit: AtomicUsize,
    /// The queue's capacity (0 for a rendezvous), which the limit stays within.
    capacity: usize,
}

/// The stored [`Signals::limit`] when no limit below the capacity is in force.
const NO_LIMIT: usize = usize::MAX;

impl Signals {
    /// One sender and one receiver, over a queue of `capacity` items.
    pub(crate) fn new(capacity: usize) -> Self {
        Signals {
            senders: CachePadded::new(AtomicUsize::new(1)),
            receivers: CachePadded::new(AtomicUsize::new(1)),
            not_empty: CachePadded::new(EventCount::new()),
            not_full: CachePadded::new(EventCount::new()),
            limit: AtomicUsize::new(NO_LIMIT),
            capacity,
        }
    }

    /// The soft limit in force, if it is below the capacity.
    #[inline]
    pub(crate) fn limit(&self) -> Option<usize> {
        // Relaxed: the limit is a condition a blocked sender re-checks after it listens on
        // `not_full`; `set_limit`'s notify and that listen order it (their SeqCst fences), as
        // they order the queue's own changes.
        match self.limit.load(Ordering::Relaxed) {
            NO_LIMIT => None,
            limit => Some(limit),
        }
    }

    /// The queue's capacity.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets the soft limit to `limit` within `1..=capacity` (the capacity lifts it), and wakes
    /// every blocked sender to look again; returns the limit now in force. A rendezvous
    /// (capacity 0) has no queue to limit: nothing changes.
    pub(crate) fn set_limit(&self, limit: usize) -> usize {
        if self.capacity == 0 {
            return 0;
        }
        let limit = limit.clamp(1, self.capacity);
        let stored = if limit == self.capacity {
            NO_LIMIT
        } else {
            limit
        };
        // Relaxed: the notify's SeqCst fence orders this store before its look for sleepers,
        // and pairs with the fence of a sender's listen (see `EventCount`): either the notify
        // sees the sender listening and wakes it, or the sender's re-check after listening
        // sees this limit. A lowered limit needs no wake-up; a raised one must not lose it.
        self.limit.store(stored, Ordering::Relaxed);
        self.not_full.notify_all();
        limit
    }

    /// What receivers sleep on.
    #[inline]
    pub(crate) fn not_empty(&self) -> &EventCount {
        &self.not_empty
    }

    /// What senders sleep on.
    #[inline]
    pub(crate) fn not_full(&self) -> &EventCount {
        &self.not_full
    }

    /// A sender was cloned from a live one.
    pub(crate) fn add_sender(&self) {
        // Relaxed: the clone comes from a live sender, so the count is not 0 and no one can be
        // deciding that every sender is gone.
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// A receiver was cloned from a live one.
    pub(crate) fn add_receiver(&self) {
        // Relaxed: as in `add_sender`.
        self.receivers.fetch_add(1, Ordering::Relaxed);
    }

    /// A sender is gone; when it was the last, wakes every receiver to see the disconnection.
    pub(crate) fn remove_sender(&self) {
        // Relaxed, yet a receiver that sees 0 (Acquire, in `senders_gone`) finds every item
        // sent. Each push runs a notify once it has claimed its place, and the notify's SeqCst
        // fence is also a release fence ahead of this decrement, and the later senders' decrements continue its release
        // sequence, so the receiver sees each push's claim at least. The ring's pushes, and
        // the MPMC queue's batches, are written before that fence. A single MPMC push notifies
        // between its claim and its write (`weir_mpmc::Queue::try_push_then`), so the receiver
        // may see only the claim; but a pop that finds a position claimed and not yet written
        // waits for the write, so it still gets the item.
        if self.senders.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.not_empty.notify_all();
        }
    }

    /// A receiver is gone; when it was the last, wakes every sender to see the disconnection.
    pub(crate) fn remove_receiver(&self) {
        // Relaxed: a sender that sees 0 reads nothing the receivers wrote; the fence in
        // `notify_all` orders this before the wake-up's check for sleepers.
        if self.receivers.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.not_full.notify_all();
        }
    }

    /// Whether every sender is gone. After `true`, the queue holds everything that will ever
    /// be sent.
    #[inline]
    pub(crate) fn senders_gone(&self) -> bool {
        // Acquire pairs with the fence of each sender's last notify (see `remove_sender`).
        self.senders.load(Ordering::Acquire) == 0
    }

    /// Whether every receiver is gone.
    #[inline]
    pub(crate) fn receivers_gone(&self) -> bool {
        self.receivers.load(Ordering::Relaxed) == 0
    }

    /// Sends without waiting: `try_push` puts the item in the queue and wakes a receiver, or
    /// hands the item back.
    #[inline]
    pub(crate) fn try_send<T>(
        &self,
        item: T,
        try_push: impl FnOnce(T) -> Result<(), T>,
    ) -> Result<(), TrySendError<T>> {
        if self.receivers_gone() {
            return Err(TrySendError::Disconnected(item));
        }
        try_push(item).map_err(TrySendError::Full)
    }

    /// Sends, waiting with `wait` while the queue is full, until `deadline` if there is one;
    /// `try_push` as for [`try_send`](Self::try_send).
    #[inline]
    pub(crate) fn send<T, W: WaitStrategy>(
        &self,
        wait: &W,
        item: T,
        deadline: Option<Instant>,
        mut try_push: impl FnMut(T) -> Result<(), T>,
    ) -> Result<(), SendTimeoutError<T>> {
        // The common case first, without the waiting machinery: room now.
        match self.try_send(item, &mut try_push) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(item)) => Err(SendTimeoutError::Disconnected(item)),
            Err(TrySendError::Full(item)) => self.send_waiting(wait, item, deadline, try_push),
        }
    }

    /// `send` once the queue was full.
    fn send_waiting<T, W: WaitStrategy>(
        &self,
        wait: &W,
        item: T,
        deadline: Option<Instant>,
        mut try_push: impl FnMut(T) -> Result<(), T>,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut unsent = Some(item);
        let sent = wait.wait_for(&self.not_full, deadline, || {
            let item = unsent.take()?;
            if self.receivers_gone() {
                return Some(Err(item));
            }
            match try_push(item) {
                Ok(()) => Some(Ok(())),
                Err(item) => {
                    unsent = Some(item);
                    None
                }
            }
        });
        match sent {
            Some(Ok(())) => Ok(()),
            Some(Err(item)) => Err(SendTimeoutError::Disconnected(item)),
            None => Err(SendTimeoutError::Timeout(
                unsent.expect("a send that timed out still holds its item"),
            )),
        }
    }

    /// Sends every item of `items`, in order, waiting while the queue is full;
    /// `try_push_many` moves as many as fit from the front of `items` and returns how many.
    /// One wake-up per batch that went in, not per item. On `Err`, the items not sent are left
    /// in `items`.
    pub(crate) fn send_many<T, W: WaitStrategy>(
        &self,
        wait: &W,
        items: &mut Vec<T>,
        mut try_push_many: impl FnMut(&mut Vec<T>) -> usize,
    ) -> Result<(), ()> {
        while !items.is_empty() {
            let pushed = wait.wait_for(&self.not_full, None, || {
                if self.receivers_gone() {
                    return Some(Err(()));
                }
                match try_push_many(items) {
                    0 => None,
                    pushed => Some(Ok(pushed)),
                }
            });
            match pushed {
                Some(Ok(pushed)) => Self::notify(&self.not_empty, pushed),
                Some(Err(())) | None => return Err(()),
            }
        }
        Ok(())
    }

    /// Receives without waiting: `try_pop` takes an item out and wakes a sender, or finds none.
    #[inline]
    pub(crate) fn try_recv<T>(
        &self,
        mut try_pop: impl FnMut() -> Option<T>,
    ) -> Result<T, TryRecvError> {
        let item = match try_pop() {
            Some(item) => item,
            // Once every sender is gone, one more look finds whatever they sent last.
            None if self.senders_gone() => try_pop().ok_or(TryRecvError::Disconnected)?,
            None => return Err(TryRecvError::Empty),
        };
        Ok(item)
    }

    /// Receives, waiting with `wait` while the queue is empty, until `deadline` if there is
    /// one; `try_pop` as for [`try_recv`](Self::try_recv).
    #[inline]
    pub(crate) fn recv<T, W: WaitStrategy>(
        &self,
        wait: &W,
        deadline: Option<Instant>,
        mut try_pop: impl FnMut() -> Option<T>,
    ) -> Result<T, RecvTimeoutError> {
        // The common case first, without the waiting machinery: an item now.
        match self.try_recv(&mut try_pop) {
            Ok(item) => Ok(item),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => self.recv_waiting(wait, deadline, try_pop),
        }
    }

    /// `recv` once the queue was empty.
    fn recv_waiting<T, W: WaitStrategy>(
        &self,
        wait: &W,
        deadline: Option<Instant>,
        mut try_pop: impl FnMut() -> Option<T>,
    ) -> Result<T, RecvTimeoutError> {
        let received = wait.wait_for(&self.not_empty, deadline, || {
            if let Some(item) = try_pop() {
                return Some(Ok(item));
            }
            if self.senders_gone() {
                return Some(try_pop().ok_or(RecvTimeoutError::Disconnected));
            }
            None
        });
        received.unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// Receives at least one item and at most `max`, waiting while the queue is empty;
    /// `try_pop_many` appends up to `max` items to the caller's buffer and returns how many.
    /// One wake-up per batch. `Err` once the queue is empty and every sender gone.
    pub(crate) fn recv_many<W: WaitStrategy>(
        &self,
        wait: &W,
        max: usize,
        mut try_pop_many: impl FnMut(usize) -> usize,
    ) -> Result<usize, ()> {
        if max == 0 {
            return Ok(0);
        }
        let received = wait.wait_for(&self.not_empty, None, || match try_pop_many(max) {
            0 if self.senders_gone() => match try_pop_many(max) {
                0 => Some(Err(())),
                popped => Some(Ok(popped)),
            },
            0 => None,
            popped => Some(Ok(popped)),
        });
        let popped = received.unwrap_or(Err(()))?;
        Self::notify(&self.not_full, popped);
        Ok(popped)
    }

    /// After `count` items went into the queue other than through `send`: wakes receivers.
    pub(crate) fn notify_sent(&self, count: usize) {
        Self::notify(&self.not_empty, count);
    }

    /// Wakes as many sleepers as `count` items can serve: one, or all of them for a batch (one
    /// system call either way).
    fn notify(event: &EventCount, count: usize) {
        if count == 1 {
            event.notify_one();
        } else {
            event.notify_all();
        }
    }
}
