//! [`fork_join`](crate::Pipeline::fork_join): each item goes to two branches that run on
//! threads of their own, and their results come back paired, in input order.
//!
//! - The left branch's thread takes the input through a [`Tee`]: each chunk it takes is cloned
//!   into the right branch's queue before the left branch runs it. Chunks are at most as long
//!   as the branches' queues, so neither branch can run so far ahead that the other starves
//!   behind a full queue (the pairing needs both).
//! - Each branch sends framed outputs (as an ordered parallel stage's workers do: one frame per
//!   input item, marked last, or an empty frame when the branch gave nothing for it).
//! - The next stage reads both branches through a [`Zip`], one frame of each per input item:
//!   two outputs make a pair; an item that a branch filtered out or failed (under
//!   [`OnError::Skip`](crate::OnError::Skip)) fails the pair, counted once; a branch that gives
//!   more than one output for an item fails the run.
//!
//! The stage's row counts pairs: in (taken by the tee), out (paired), failed; what the
//! branches held when the run stopped is its discarded, `in - out - failed`, once every thread
//! has ended.

use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use crate::control::Control;
use crate::error::{panic_message, ErrorKind};
use crate::link::{Inlet, Outlet, Recv, SpscReceiver};
use crate::marks::Marked;
use crate::metrics::StageMetrics;
use crate::op::Frame;
use crate::stage::CHUNK;
use crate::sync::stats::Ordering;

/// The left branch's input: takes chunks from the stage's input queue and sends a copy of each
/// to the right branch's queue.
pub(crate) struct Tee<T> {
    input: Box<dyn Inlet<T>>,
    right: Box<dyn Outlet<T>>,
    copies: Vec<T>,
    /// The longest chunk: the branches' queue capacity.
    block: usize,
    row: Arc<StageMetrics>,
    control: Arc<Control>,
}

impl<T> Tee<T> {
    pub(crate) fn new(
        input: Box<dyn Inlet<T>>,
        right: Box<dyn Outlet<T>>,
        block: usize,
        row: Arc<StageMetrics>,
        control: Arc<Control>,
    ) -> Self {
        let block = block.clamp(1, CHUNK);
        Tee {
            input,
            right,
            copies: Vec::with_capacity(block),
            block,
            row,
            control,
        }
    }
}

impl<T: Clone + Send> Inlet<T> for Tee<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let before = buf.len();
        let got = self.input.recv(buf, max.min(self.block), deadline);
        let taken = &buf[before..];
        if taken.is_empty() {
            return got;
        }
        // Relaxed: a statistic.
        self.row
            .items_in
            .fetch_add(taken.len() as u64, Ordering::Relaxed);
        let copies = &mut self.copies;
        let cloned = catch_unwind(AssertUnwindSafe(|| copies.extend(taken.iter().cloned())));
        if let Err(payload) = cloned {
            self.control.fail(
                &self.row.name,
                ErrorKind::Panicked(panic_message(&*payload)),
            );
        }
        if self.right.send(&mut self.copies).is_err() {
            // The right branch is gone: the run is stopping.
            self.copies.clear();
        }
        got
    }

    fn queued(&self) -> usize {
        self.input.queued()
    }

    fn capacity(&self) -> usize {
        self.input.capacity()
    }

    fn soft_limit(&self) -> Option<crate::link::SoftLimit> {
        self.input.soft_limit()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.input.take_mark()
    }
}

/// A branch gave more than one output for one input item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchOutputs {
    /// `"left"` or `"right"`.
    pub branch: &'static str,
}

impl fmt::Display for BranchOutputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} branch of a fork_join gave more than one output for one item \
             (a branch must give one output per input)",
            self.branch
        )
    }
}

impl Error for BranchOutputs {}

/// One branch's framed outputs, as the [`Zip`] reads them.
struct Side<U> {
    queue: Marked<SpscReceiver<Frame<U>>>,
    frames: VecDeque<Frame<U>>,
    scratch: Vec<Frame<U>>,
    ended: bool,
}

impl<U: Send> Side<U> {
    fn new(queue: Marked<SpscReceiver<Frame<U>>>) -> Self {
        Side {
            queue,
            frames: VecDeque::with_capacity(CHUNK),
            scratch: Vec::with_capacity(CHUNK),
            ended: false,
        }
    }

    /// Takes more frames when none are left; whether the stream goes on.
    fn fill(&mut self, deadline: Option<Instant>, mark: &mut Option<Instant>) -> Recv {
        if !self.frames.is_empty() {
            return Recv::Got;
        }
        if self.ended {
            return Recv::End;
        }
        let got = self.queue.recv(&mut self.scratch, CHUNK, deadline);
        if let Some(taken) = self.queue.take_mark() {
            mark.get_or_insert(taken);
        }
        self.frames.extend(self.scratch.drain(..));
        if got == Recv::End {
            self.ended = true;
        }
        if self.frames.is_empty() {
            got
        } else {
            Recv::Got
        }
    }
}

/// The next stage's input: the two branches' outputs, paired item by item.
pub(crate) struct Zip<A, B> {
    left: Side<A>,
    right: Side<B>,
    row: Arc<StageMetrics>,
    control: Arc<Control>,
    mark: Option<Instant>,
}

impl<A: Send, B: Send> Zip<A, B> {
    pub(crate) fn new(
        left: Marked<SpscReceiver<Frame<A>>>,
        right: Marked<SpscReceiver<Frame<B>>>,
        row: Arc<StageMetrics>,
        control: Arc<Control>,
    ) -> Self {
        Zip {
            left: Side::new(left),
            right: Side::new(right),
            row,
            control,
            mark: None,
        }
    }

    /// A branch gave more than one output for an item: the run fails.
    fn mismatch(&self, branch: &'static str) {
        self.control.fail(
            &self.row.name,
            ErrorKind::Failed(Box::new(BranchOutputs { branch })),
        );
    }
}

impl<A: Send, B: Send> Inlet<(A, B)> for Zip<A, B> {
    fn recv(&mut self, buf: &mut Vec<(A, B)>, max: usize, deadline: Option<Instant>) -> Recv {
        let start = buf.len();
        loop {
            let (mut paired, mut failed) = (0u64, 0u64);
            let mut mismatch = None;
            while buf.len() - start < max {
                let (Some(left), Some(right)) =
                    (self.left.frames.front(), self.right.frames.front())
                else {
                    break;
                };
                if matches!(left, Frame::More(_)) {
                    mismatch = Some("left");
                    break;
                }
                if matches!(right, Frame::More(_)) {
                    mismatch = Some("right");
                    break;
                }
                match (self.left.frames.pop_front(), self.right.frames.pop_front()) {
                    (Some(Frame::Last(a)), Some(Frame::Last(b))) => {
                        buf.push((a, b));
                        paired += 1;
                    }
                    // A branch filtered the item out or failed it: the pair fails.
                    _ => failed += 1,
                }
            }
            // Relaxed: statistics.
            self.row.items_out.fetch_add(paired, Ordering::Relaxed);
            self.row.failed.fetch_add(failed, Ordering::Relaxed);
            if let Some(flight) = self.control.flight() {
                // A failed pair leaves the flight here; its branches settle nothing.
                flight.land(usize::try_from(failed).unwrap_or(usize::MAX));
            }
            if let Some(branch) = mismatch {
                self.mismatch(branch);
                // The pairs made before it go on (and count as out); the stream ends at the
                // next call.
                if buf.len() == start {
                    return Recv::End;
                }
            }
            if buf.len() > start {
                return Recv::Got;
            }
            for got in [
                self.left.fill(deadline, &mut self.mark),
                self.right.fill(deadline, &mut self.mark),
            ] {
                if got != Recv::Got {
                    return got;
                }
            }
        }
    }

    fn queued(&self) -> usize {
        self.left.queue.queued().min(self.right.queue.queued())
    }

    fn capacity(&self) -> usize {
        self.left.queue.capacity()
    }

    fn soft_limit(&self) -> Option<crate::link::SoftLimit> {
        crate::link::SoftLimit::each([self.left.queue.soft_limit(), self.right.queue.soft_limit()])
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.mark.take()
    }
}
