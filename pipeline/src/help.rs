//! A worker of a parallel stage run by the thread that reads the stage's output, in the time
//! it would otherwise wait for that output.
//!
//! When a stage has as many workers as the machine has cores, the thread after it (the sink,
//! or a serial stage) is one thread too many: each chunk the workers hand it wakes it, and it
//! can only run by taking a core from a worker. So the stage starts one worker thread fewer,
//! and the reader runs the last worker itself ([`reader_helps`] says when):
//!
//! - Unordered ([`Helped`]): whenever the other workers' queue is empty, it takes a chunk of
//!   the stage's input, feeds it and keeps the outputs, handed on no more at once than its own
//!   reader asks for. It never waits for that worker's input (another worker takes what
//!   comes), nor for its turn: it sleeps on the queue when the worker has no input at hand
//!   (so the stage is wired this way only over a queue, or a source that never waits), is
//!   retired (the last worker is the first to retire, under `Running::set_workers` or
//!   `Workers::scaling`) or is done. rayon's threads run the work of a `par_bridge`
//!   themselves in the same way, instead of waiting for a thread to hand it to them.
//! - Ordered, dealt by a thread before it ([`OwnTurns`]): when the merge reaches that
//!   worker's turn and none of its outputs is kept, it runs the worker's next chunk, waiting
//!   for its input as it would have waited for its output.
//! - Ordered, reading the source itself ([`crate::deal::Ordered::pulled`]): whenever the merge
//!   would wait, it runs that worker ahead, a whole turn at a time, while it keeps less than a
//!   worker's ring would hold.
//!
//! The worker is the same [`StageLoop`] that a worker thread runs, with the same figures,
//! errors and ends; only its outputs are kept for the reader instead of queued.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::time::Instant;

use crate::link::{Gone, Inlet, Outlet, Recv, SoftLimit};
use crate::op::Op;
use crate::segment::Segment;
use crate::stage::{StageLoop, Step};
use crate::workers::Workers;

/// What a worker run by its stage's reader did when asked for a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helping {
    /// It ran a chunk (whose outputs, if any, are in the reader's buffer).
    Ran,
    /// It ran nothing: it is retired for now (`Running::set_workers`), or its input has
    /// nothing that it could take without waiting.
    Idle,
    /// It is done for good: its input ended, the run stopped, or it failed.
    Done,
}

/// A worker that the reader of its stage's output runs, a chunk at a time, never waiting for
/// its input: the reader must stay free to take the other workers' outputs.
pub(crate) trait Help<T>: Send {
    /// Runs one chunk if the worker may run now (it is active) and its input has items it can
    /// take without waiting; its outputs are kept for [`take`](Self::take).
    fn help(&mut self) -> Helping;
    /// Moves at most `max` (at least one) of the outputs kept to `buf`; returns how many.
    fn take(&mut self, buf: &mut Vec<T>, max: usize) -> usize;
    /// How many outputs are kept.
    fn kept(&self) -> usize;
    /// The end-to-end latency mark that the outputs taken last carried, if any.
    fn take_mark(&mut self) -> Option<Instant>;
}

/// The outputs of a worker that the reader of its stage runs: kept for the reader instead of
/// queued, with the latency mark they carry.
pub(crate) struct Kept<T> {
    items: VecDeque<T>,
    /// The mark that the next outputs carry, and the mark of those kept.
    carrying: Option<Instant>,
    mark: Option<Instant>,
}

impl<T> Kept<T> {
    pub(crate) fn new() -> Self {
        Kept {
            items: VecDeque::new(),
            carrying: None,
            mark: None,
        }
    }

    /// Moves at most `max` (at least one) of the outputs kept to `buf`; returns how many.
    pub(crate) fn take_into(&mut self, buf: &mut Vec<T>, max: usize) -> usize {
        let taken = self.items.len().min(max.max(1));
        if buf.is_empty() && taken == self.items.len() {
            // All of them into an empty buffer: the buffers change places, nothing is copied
            // (a deque made from a `Vec` starts at its buffer's start) and nothing allocated.
            let spare = VecDeque::from(std::mem::take(buf));
            *buf = Vec::from(std::mem::replace(&mut self.items, spare));
        } else {
            buf.extend(self.items.drain(..taken));
        }
        taken
    }

    /// How many outputs are kept.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The end-to-end latency mark of the outputs kept, if any, for whoever takes them.
    pub(crate) fn take_mark(&mut self) -> Option<Instant> {
        self.mark.take()
    }
}

impl<T: Send> Outlet<T> for Kept<T> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        if !buf.is_empty() {
            if let Some(mark) = self.carrying.take() {
                // The earliest mark of what is kept: the outputs are taken in order, so the
                // next ones taken are that chunk's (a later chunk's mark is a sample lost).
                self.mark.get_or_insert(mark);
            }
        }
        if self.items.is_empty() {
            // As in `take_into`: the buffers change places.
            let spare = Vec::from(std::mem::take(&mut self.items));
            self.items = VecDeque::from(std::mem::replace(buf, spare));
        } else {
            self.items.extend(buf.drain(..));
        }
        Ok(())
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.carrying = mark;
    }
}

impl<I, P> Help<P::Out> for StageLoop<I, P, Kept<P::Out>>
where
    I: Send,
    P: Op<I> + Send,
    P::Out: Send,
{
    fn help(&mut self) -> Helping {
        match self.step_now() {
            Step::Ran => Helping::Ran,
            Step::Idle => Helping::Idle,
            Step::Done => Helping::Done,
        }
    }

    fn take(&mut self, buf: &mut Vec<P::Out>, max: usize) -> usize {
        self.outlet().take_into(buf, max)
    }

    fn kept(&self) -> usize {
        self.outlet_ref().len()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.outlet().take_mark()
    }
}

/// The input of the thread after an unordered parallel stage that runs one of the stage's
/// workers itself: what the other workers queued first, then a chunk of its own worker's
/// while the queue is empty, and a wait on the queue only once its worker is done or retired.
pub(crate) struct Helped<T> {
    queue: Box<dyn Inlet<T>>,
    /// `None` once the worker is done and its outputs taken.
    worker: Option<Box<dyn Help<T>>>,
    /// The worker is done: what it kept is all that is left of it.
    worker_done: bool,
}

impl<T> Helped<T> {
    pub(crate) fn new(queue: Box<dyn Inlet<T>>, worker: Box<dyn Help<T>>) -> Self {
        Helped {
            queue,
            worker: Some(worker),
            worker_done: false,
        }
    }
}

impl<T: Send> Inlet<T> for Helped<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        while let Some(worker) = &mut self.worker {
            // What the worker kept first (a chunk's outputs, handed out `max` at a time).
            if worker.take(buf, max) > 0 {
                return Recv::Got;
            }
            if self.worker_done {
                // Its figures went in when it was done; what is left comes from the others.
                self.worker = None;
                continue;
            }
            // Then the other workers' outputs (a deadline already due: no wait).
            match self.queue.recv(buf, max, Some(Instant::now())) {
                Recv::Got => return Recv::Got,
                // The other workers are done; this one may not be.
                Recv::End | Recv::Timeout => {}
            }
            // A deadline (`batch_timeout`'s) that passed while chunks made nothing.
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Recv::Timeout;
            }
            match worker.help() {
                Helping::Ran => {}
                Helping::Done => self.worker_done = true,
                // Another worker is active (the last one retires first) and takes the input
                // that comes: wait for its outputs.
                Helping::Idle => break,
            }
        }
        self.queue.recv(buf, max, deadline)
    }

    fn queued(&self) -> usize {
        self.queue.queued()
    }

    fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        let own = self.worker.as_mut().and_then(|worker| worker.take_mark());
        own.or_else(|| self.queue.take_mark())
    }

    fn soft_limit(&self) -> Option<SoftLimit> {
        self.queue.soft_limit()
    }
}

/// The worker of an ordered stage that the reader runs itself, as the reader sees it: one of
/// the workers' outputs that [`Ordered`](crate::deal::Ordered) reads in turns. Its outputs
/// come from its own chunks instead of a ring: when the reader wants this worker's next frames
/// and none is kept, it runs a chunk, waiting for the worker's input (until the deadline, if
/// any) as it would have waited for the worker's output. The reader has nothing else to do
/// then: the order says this worker's frames come next.
pub(crate) struct OwnTurns<I, P: Op<I>> {
    stage: StageLoop<I, P, Kept<P::Out>>,
    /// What the ring it replaces would have held: the reorder window's share of this worker.
    capacity: usize,
}

impl<I, P: Op<I>> OwnTurns<I, P> {
    pub(crate) fn new(stage: StageLoop<I, P, Kept<P::Out>>, capacity: usize) -> Self {
        OwnTurns { stage, capacity }
    }
}

impl<I, P> Inlet<P::Out> for OwnTurns<I, P>
where
    I: Send,
    P: Op<I> + Send,
    P::Out: Send,
{
    fn recv(&mut self, buf: &mut Vec<P::Out>, max: usize, deadline: Option<Instant>) -> Recv {
        loop {
            let kept = &mut self.stage.outlet().items;
            if !kept.is_empty() {
                let take = kept.len().min(max.max(1));
                buf.extend(kept.drain(..take));
                return Recv::Got;
            }
            match self.stage.step_with(deadline) {
                Step::Ran => {}
                Step::Idle => return Recv::Timeout,
                Step::Done => {
                    let kept = &mut self.stage.outlet().items;
                    if kept.is_empty() {
                        return Recv::End;
                    }
                }
            }
        }
    }

    fn queued(&self) -> usize {
        self.stage.outlet_ref().items.len()
    }

    fn capacity(&self) -> usize {
        self.capacity
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.stage.outlet().mark.take()
    }
}

/// The cores a model runs on, under loom: a model chooses its shape by its count of workers
/// (`parallel(2)` keeps two worker threads, `parallel(3)` has the reader run the third),
/// whatever the host has.
const LOOM_CORES: usize = 3;

/// Whether the reader of a parallel stage of `workers`, whose workers run `segments`, runs
/// the last of them: when the workers alone fill every core, so that a thread more would take
/// a core from one of them. Never for a stage of one worker (which would then run on its
/// reader's thread only), nor for a segment whose items may make any number of outputs (a
/// `flat_map`): the reader keeps a chunk's outputs until it has run the chunk, where a thread
/// would hand them on as it goes, held back by the next queue.
pub(crate) fn reader_helps<T, U>(workers: &Workers, segments: &[Segment<T, U>]) -> bool {
    if workers.max() < 2 || segments.iter().any(|segment| segment.expands) {
        return false;
    }
    let cores = if cfg!(loom) {
        LOOM_CORES
    } else {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    };
    workers.max() >= cores
}
