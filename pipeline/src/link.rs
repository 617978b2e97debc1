//! The ends of the queues between stages, as one stage sees them: an [`Inlet`] it takes chunks
//! of items from and an [`Outlet`] it hands chunks to. Both sit on weir-backpressure's blocking
//! channels, which wait by spinning (as long as [`Wait`] says), then parking (no CPU while
//! idle), and wake a sleeper once per chunk.
//!
//! - Between two single threads: an SPSC channel over a weir-ring ring (read through
//!   [`Borrowing`](crate::lend::Borrowing) when the stage before it may lend itself).
//! - Into and out of an unordered parallel stage: an MPMC channel, shared by the workers.
//! - Into and out of an ordered parallel stage: one SPSC channel per worker each way, dealt
//!   and read back in turns ([`crate::deal`]).

use std::sync::Arc;
use std::time::Instant;

use weir_backpressure::channel::{Limiter, Receiver, RecvEnd, SendEnd, Sender};
use weir_backpressure::overflow::{Overflow, OverflowSender, OverflowStats, Sent};
use weir_backpressure::wait::WaitStrategy;
use weir_backpressure::{mpmc, spsc, RecvTimeoutError, TryRecvError, TrySendError};

pub(crate) use crate::room::Wait;

/// An SPSC channel's ends, waiting the pipeline's way.
pub(crate) type SpscSender<T> = spsc::Sender<T, Wait>;
pub(crate) type SpscReceiver<T> = spsc::Receiver<T, Wait>;
/// An MPMC channel's ends, waiting the pipeline's way.
pub(crate) type MpmcSender<T> = mpmc::Sender<T, Wait>;
pub(crate) type MpmcReceiver<T> = mpmc::Receiver<T, Wait>;

/// A new SPSC channel of `capacity` items.
pub(crate) fn spsc_channel<T>(capacity: usize) -> (SpscSender<T>, SpscReceiver<T>) {
    spsc::channel_with(capacity, Wait)
}

/// A new MPMC channel of `capacity` items.
pub(crate) fn mpmc_channel<T>(capacity: usize) -> (MpmcSender<T>, MpmcReceiver<T>) {
    mpmc::channel_with(capacity, Wait)
}

/// What waiting for input gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Recv {
    /// Items were appended to the buffer.
    Got,
    /// The deadline passed with nothing new.
    Timeout,
    /// The stream ended: every upstream thread is gone and the queue is drained.
    End,
}

/// The downstream end of a stage's input queue.
pub(crate) trait Inlet<T>: Send {
    /// Appends at most `max` items to `buf`, waiting for at least one, until `deadline` if any.
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv;
    /// How many items wait in the queue now.
    fn queued(&self) -> usize;
    /// How many items the queue holds at most.
    fn capacity(&self) -> usize;
    /// The end-to-end latency mark that the last chunks taken carried, if any
    /// ([`crate::marks`]).
    fn take_mark(&mut self) -> Option<Instant> {
        None
    }
    /// The handle on the queue's soft limit, for `Running::set_capacity`: `None` for an
    /// input that is no channel (a source read in turns, a priority queue).
    fn soft_limit(&self) -> Option<SoftLimit> {
        None
    }
}

/// The soft limit of a stage's input, over the channels it is made of (weir-backpressure's
/// [`Limiter`]s): a number of items inside the capacity allocated, which senders stay under.
#[derive(Clone, Debug)]
pub(crate) struct SoftLimit {
    queues: Vec<Limiter>,
    /// Whether a limit is shared out over the queues (an ordered stage's, a partition's: one
    /// per worker or branch, filled in turns or by key), or applies to each of them (a
    /// fork_join's two branch outputs, which each hold one frame per pair).
    shared_out: bool,
}

impl SoftLimit {
    /// The limit of one channel.
    pub(crate) fn one(queue: Limiter) -> Self {
        SoftLimit {
            queues: vec![queue],
            shared_out: false,
        }
    }

    /// One limit shared out over the queues of `parts`, as their capacity is.
    pub(crate) fn shared_out(parts: impl IntoIterator<Item = Option<SoftLimit>>) -> Option<Self> {
        let mut queues = Vec::new();
        for part in parts {
            queues.extend(part?.queues);
        }
        Some(SoftLimit {
            queues,
            shared_out: true,
        })
    }

    /// One limit for each of the queues of `parts`.
    pub(crate) fn each(parts: impl IntoIterator<Item = Option<SoftLimit>>) -> Option<Self> {
        let mut limit = SoftLimit::shared_out(parts)?;
        limit.shared_out = false;
        Some(limit)
    }

    /// The items the queues can hold: what was allocated, the most the limit can be.
    pub(crate) fn capacity(&self) -> usize {
        self.total(Limiter::capacity)
    }

    /// The least the limit can be: one item in each queue it is shared out over.
    pub(crate) fn min(&self) -> usize {
        if self.shared_out {
            self.queues.len()
        } else {
            1
        }
    }

    /// The limit in force.
    pub(crate) fn limit(&self) -> usize {
        self.total(Limiter::limit)
    }

    fn total(&self, of: fn(&Limiter) -> usize) -> usize {
        if self.shared_out {
            self.queues.iter().map(of).sum()
        } else {
            self.queues.iter().map(of).min().unwrap_or(0)
        }
    }

    /// Sets the limit to `items` (within `min()..=capacity()`): shared out as evenly as the
    /// queues allow, the first ones taking one more; or the same for each. Each channel wakes
    /// the senders that a raise lets go on.
    pub(crate) fn set(&self, items: usize) {
        let count = self.queues.len();
        for (index, queue) in self.queues.iter().enumerate() {
            let share = if self.shared_out {
                items / count + usize::from(index < items % count)
            } else {
                items
            };
            queue.set_limit(share);
        }
    }
}

/// The downstream stage (or every one of its workers) is gone.
#[derive(Debug)]
pub(crate) struct Gone;

/// The upstream end of the next stage's input queue.
pub(crate) trait Outlet<T>: Send {
    /// Sends every item of `buf` in order, draining it, waiting while the queue is full.
    /// On `Gone`, the items not sent are left in `buf`.
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone>;
    /// Sets the end-to-end latency mark that the next item sent carries ([`crate::marks`]);
    /// `None` forgets it.
    fn carry(&mut self, _mark: Option<Instant>) {}
    /// What the last `send`s' overflow policy did instead of queueing, since the last call:
    /// `(dropped, evicted)`, the items dropped before they were queued and the queued ones
    /// taken back out. Both 0 for a queue that waits for room.
    fn overflowed(&mut self) -> (u64, u64) {
        (0, 0)
    }
}

impl<T, O: Outlet<T> + ?Sized> Outlet<T> for Box<O> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        (**self).send(buf)
    }

    fn carry(&mut self, mark: Option<Instant>) {
        (**self).carry(mark);
    }

    fn overflowed(&mut self) -> (u64, u64) {
        (**self).overflowed()
    }
}

impl<E, W> Inlet<E::Item> for Receiver<E, W>
where
    E: RecvEnd + Send,
    W: WaitStrategy,
{
    fn recv(&mut self, buf: &mut Vec<E::Item>, max: usize, deadline: Option<Instant>) -> Recv {
        let Some(deadline) = deadline else {
            return match self.recv_many(buf, max) {
                Ok(_) => Recv::Got,
                Err(_) => Recv::End,
            };
        };
        match self.recv_deadline(deadline) {
            Ok(item) => buf.push(item),
            Err(RecvTimeoutError::Timeout) => return Recv::Timeout,
            Err(RecvTimeoutError::Disconnected) => return Recv::End,
        }
        for _ in 1..max {
            match self.try_recv() {
                Ok(item) => buf.push(item),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        Recv::Got
    }

    fn queued(&self) -> usize {
        self.len()
    }

    fn capacity(&self) -> usize {
        Receiver::capacity(self)
    }

    fn soft_limit(&self) -> Option<SoftLimit> {
        Some(SoftLimit::one(self.limiter()))
    }
}

impl<E, W> Outlet<E::Item> for Sender<E, W>
where
    E: SendEnd + Send,
    W: WaitStrategy,
{
    fn send(&mut self, buf: &mut Vec<E::Item>) -> Result<(), Gone> {
        self.send_many(buf).map_err(|_| Gone)
    }
}

/// The sender of a queue whose overflow policy drops items instead of waiting for room.
pub(crate) struct Overflowing<T> {
    sender: OverflowSender<T, Wait>,
    /// What the policy did since `overflowed` was last called.
    dropped: u64,
    evicted: u64,
}

impl<T> Overflowing<T> {
    pub(crate) fn new(sender: MpmcSender<T>, policy: Overflow) -> Self {
        Overflowing {
            sender: OverflowSender::new(sender, policy),
            dropped: 0,
            evicted: 0,
        }
    }

    /// What the policy dropped, shared with every clone.
    pub(crate) fn stats(&self) -> Arc<OverflowStats> {
        Arc::clone(self.sender.stats())
    }
}

impl<T: Send> Outlet<T> for Overflowing<T> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        let mut items = buf.drain(..);
        for item in items.by_ref() {
            match self.sender.send(item) {
                Ok(Sent::Queued) => {}
                Ok(Sent::Dropped) => self.dropped += 1,
                // Counted as dropped by the policy; dropped here.
                Ok(Sent::Evicted(oldest)) => {
                    self.evicted += 1;
                    drop(oldest);
                }
                Err(TrySendError::Disconnected(item) | TrySendError::Full(item)) => {
                    let rest: Vec<T> = std::iter::once(item).chain(items).collect();
                    buf.extend(rest);
                    return Err(Gone);
                }
            }
        }
        Ok(())
    }

    fn overflowed(&mut self) -> (u64, u64) {
        (
            std::mem::take(&mut self.dropped),
            std::mem::take(&mut self.evicted),
        )
    }
}
