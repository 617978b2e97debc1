//! An ordered parallel stage's two ends: [`Deal`] hands its input to the workers in turns of
//! [`DEAL_BLOCK`] items, one SPSC channel per worker, and [`Ordered`] reads the workers'
//! [`Frame`]s back in the same turns, so the output keeps the input order. The reorder window
//! is those rings: bounded, and a slow item holds the dealer back instead of letting memory
//! grow.
//!
//! # Which worker takes a turn
//!
//! Each turn goes to the active worker whose input holds the fewest items (of those as empty
//! as each other, the first after the last turn's worker, so that workers keeping up alike
//! take turns in rotation). Before the turn's first item, the dealer writes the worker's index
//! to the turn log, an SPSC channel to the reader, which reads the log to know whose frames
//! come next. A turn sent in parts (the dealer's input came in pieces) stays with its worker.
//!
//! Dealing by load, not in a fixed rotation: a worker that falls behind (a run of heavy items,
//! a core it shares) gets fewer turns while the others have room, and a new count of workers
//! takes effect from the next turn. On 2 cores it does not bring the ordered fan-out level
//! with the unordered one: the dealer is a third thread there, and while it waits for a core
//! the workers' inputs run dry (on the skewed fan-out, 22 to 40 ms of input waits in a run of
//! 270 ms, against 2.5 ms for the unordered stage, whose workers read the source themselves;
//! an ordered stage right after `from_iter` now does the same, below).
//!
//! The active workers are the first [`Scale::active`] (which `set_workers` and the load move),
//! read at each turn. A retired worker gets no more turns and waits (parked) on its empty
//! input; the reader still reads every turn it was dealt before.
//!
//! # No deadlock
//!
//! The dealer waits only for room in a worker's input or in the log, and the reader only for
//! the frames of the turn it reads, which was dealt before any turn after it. Its worker takes
//! its input in order, so those frames come before any later turn's in its output: a full
//! output has them at its front. So the reader can always go on, and so can the workers and
//! then the dealer.
//!
//! The end of the stream needs nothing more: each worker's output ends after its input does,
//! and a turn is short only when it is the last, so when the worker whose turn it is ends
//! before the turn is over, no later turn holds anything.
//!
//! # Workers that take their turns themselves
//!
//! Right after `from_iter` there is no dealer ([`crate::source::Pulled::in_turns`]): a
//! worker takes its next turn (one chunk, of at most half what its output ring holds) from
//! the iterator under the source's lock, and logs it, with its count of items, under the same
//! lock, so the log's order is the input's. A worker that is free takes the next turn: the
//! load balances itself, and a retired worker simply takes none.
//!
//! The argument above holds with two more facts. A worker hands on the frames of a turn
//! before it comes back for the lock, so the workers waiting for the lock, or for room in the
//! log while they hold it, owe the reader nothing it is waiting for: the reader catches up
//! with the log. And the worker that the reader runs ([`Ordered::pulled`]) takes a turn only
//! when the log has room (the reader must never wait on itself), and runs each turn whole, so
//! its frames are kept by the time the merge reaches its turn. The log ends when the source
//! does, when the last worker thread leaves (the run stopped), or when the reader is gone.
//!
//! That is the unordered stage's way of reading a source, and it takes the third thread off
//! the fan-out on 2 cores.

use std::sync::Arc;
use std::time::Instant;

use crate::control::Control;
use crate::help::{Help, Helping};
use crate::link::{spsc_channel, Gone, Inlet, Outlet, Recv, SoftLimit, SpscReceiver, SpscSender};
use crate::marks::Marked;
use crate::op::Frame;
use crate::scale::Scale;

/// How many consecutive items an ordered stage deals to one worker before the next.
#[cfg(not(loom))]
pub(crate) const DEAL_BLOCK: usize = 16;
/// Under loom, one item per turn, so that a model of a few items goes round the workers.
#[cfg(loom)]
pub(crate) const DEAL_BLOCK: usize = 1;

/// How many turns the turn log holds, for workers whose inputs hold `held` items: every turn
/// those inputs can hold, one partly dealt turn per worker, and [`LOG_BATCH`] more, since the
/// reader takes the log in batches. Under loom, one turn per worker, so that the models reach
/// a dealer waiting for room in the log (the output rings hold turns too).
fn log_capacity(held: usize, workers: usize) -> usize {
    if cfg!(loom) {
        workers
    } else {
        held / DEAL_BLOCK + workers + LOG_BATCH
    }
}

/// How many turns the reader takes from the log at once.
const LOG_BATCH: usize = 64;

/// One entry of the turn log: the worker a turn went to, and how many items it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    pub(crate) worker: usize,
    pub(crate) items: usize,
}

/// Makes a turn log for workers that take their turns from the source themselves
/// ([`crate::source::Pulled::in_turns`]): its sender, for them to share under the source's
/// lock, and its reading end, for [`Ordered::pulled`]. Each turn is one chunk taken, of at
/// least one item; a worker's ring holds at most `per_worker` frames, so the turns not yet
/// read are at most `per_worker + 1` per worker, and the log has room for them all. Under
/// loom it holds one turn per worker, so that the models reach a worker waiting for room.
pub(crate) fn pulled_turn_log(per_worker: usize, workers: usize) -> (SpscSender<Turn>, TurnLog) {
    let capacity = if cfg!(loom) {
        workers
    } else {
        per_worker * workers + workers + LOG_BATCH
    };
    let (log, read) = spsc_channel(capacity);
    (
        log,
        TurnLog {
            log: read,
            read: Vec::new(),
            next: 0,
        },
    )
}

/// The count of workers the dealer follows: the stage's [`Scale`], and the run's control,
/// through which a change of the count made by the load wakes whoever waits on it.
#[derive(Clone, Debug)]
pub(crate) struct Staffing {
    pub(crate) scale: Arc<Scale>,
    pub(crate) control: Arc<Control>,
}

/// Makes the two ends of an ordered stage's turns: the dealer over the workers' inputs, and
/// the reading end of its turn log, for [`Ordered::new`].
pub(crate) fn deal<T>(
    inputs: Vec<Marked<SpscSender<T>>>,
    staffing: Staffing,
) -> (Deal<T>, TurnLog) {
    let held: usize = inputs.iter().map(|input| input.end().capacity()).sum();
    let (log, read) = spsc_channel(log_capacity(held, inputs.len()));
    let deal = Deal {
        workers: inputs,
        turn: None,
        left: 0,
        last: None,
        turns: 0,
        block: Vec::with_capacity(DEAL_BLOCK),
        mark: None,
        staffing,
        log,
    };
    let log = TurnLog {
        log: read,
        read: Vec::new(),
        next: 0,
    };
    (deal, log)
}

/// Deals items to the workers of an ordered stage, [`DEAL_BLOCK`] at a time to the worker with
/// the fewest queued.
pub(crate) struct Deal<T> {
    workers: Vec<Marked<SpscSender<T>>>,
    /// The worker of the turn being dealt, if one is.
    turn: Option<usize>,
    /// How many items of that turn are still to be dealt.
    left: usize,
    /// The worker of the last turn.
    last: Option<usize>,
    /// Turns started so far.
    turns: u64,
    block: Vec<T>,
    mark: Option<Instant>,
    staffing: Staffing,
    log: SpscSender<Turn>,
}

impl<T> Deal<T> {
    /// Starts a turn: picks its worker and logs it. Every as many turns as there are active
    /// workers, lets the load move the count first (a scaling stage).
    fn start_turn(&mut self) -> Result<usize, Gone> {
        let Staffing { scale, control } = &self.staffing;
        let count = scale.active().clamp(1, self.workers.len());
        if self.turns.is_multiple_of(count as u64) {
            let working = &self.workers[..count];
            // The active workers' inputs: the load is how full they are.
            scale.adjust(
                || {
                    Some(working.iter().fold((0, 0), |(queued, limit), worker| {
                        (queued + worker.end().len(), limit + worker.end().limit())
                    }))
                },
                control,
            );
        }
        let count = scale.active().clamp(1, self.workers.len());
        let after = self.last.map_or(0, |last| last + 1);
        let worker = (0..count)
            .map(|i| (after + i) % count)
            .min_by_key(|&worker| self.workers[worker].end().len())
            .expect("at least one worker is active");
        // A turn is always `DEAL_BLOCK` items, but the last, which the end of the worker's
        // input cuts short.
        let turn = Turn {
            worker,
            items: DEAL_BLOCK,
        };
        self.log.send(turn).map_err(|_| Gone)?;
        self.turn = Some(worker);
        self.left = DEAL_BLOCK;
        self.last = Some(worker);
        self.turns += 1;
        Ok(worker)
    }
}

impl<T: Send> Outlet<T> for Deal<T> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        let mut items = buf.drain(..);
        while items.len() > 0 {
            let turn = match self.turn {
                Some(turn) => Ok(turn),
                None => self.start_turn(),
            };
            self.block.extend(items.by_ref().take(self.left));
            let dealt = self.block.len();
            let sent = turn.and_then(|turn| {
                let worker = &mut self.workers[turn];
                if let Some(mark) = self.mark.take() {
                    worker.carry(Some(mark));
                }
                worker.send(&mut self.block).map_err(|_| Gone)
            });
            if sent.is_err() {
                // The items of this block and the ones after it go back to the caller.
                self.block.extend(items);
                buf.append(&mut self.block);
                return Err(Gone);
            }
            self.left -= dealt;
            if self.left == 0 {
                self.turn = None;
            }
        }
        Ok(())
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }
}

/// The reading end of a turn log: whose turn comes next.
pub(crate) struct TurnLog {
    log: SpscReceiver<Turn>,
    /// Turns read from the log in one batch, and how many of them were taken.
    read: Vec<Turn>,
    next: usize,
}

/// What the turn log gave.
enum Next {
    Turn(Turn),
    Timeout,
    End,
}

impl TurnLog {
    /// The worker of the next turn, waiting for it until `deadline` if any.
    fn next(&mut self, deadline: Option<Instant>) -> Next {
        if self.next == self.read.len() {
            self.read.clear();
            self.next = 0;
            match Inlet::recv(&mut self.log, &mut self.read, LOG_BATCH, deadline) {
                Recv::Got => {}
                Recv::Timeout => return Next::Timeout,
                Recv::End => return Next::End,
            }
        }
        self.next += 1;
        Next::Turn(self.read[self.next - 1])
    }
}

/// Reads an ordered stage's workers back in the turns of its log: each worker's output ring,
/// or the worker itself when the reader runs it.
///
/// The reader runs a worker of a dealt stage when that worker's turn comes
/// ([`crate::help::OwnTurns`], one of `workers`). It runs a worker of a stage that takes its
/// turns from the source itself ([`Ordered::pulled`]) whenever the merge would wait: for the
/// log, or for the frames of another worker's turn. Each time it takes a turn and runs it
/// whole, so that worker's frames are kept by the time the merge reaches its turn.
pub(crate) struct Ordered<T> {
    workers: Vec<Box<dyn Inlet<Frame<T>>>>,
    /// The worker the reader runs ahead, whose turns the log gives as `workers.len()`.
    ahead: Option<Ahead<T>>,
    log: TurnLog,
    /// The worker of the turn being read, if one is, and how many of its items are still to
    /// be read.
    turn: Option<usize>,
    left: usize,
    frames: Vec<Frame<T>>,
    ended: bool,
    mark: Option<Instant>,
}

/// The worker that the reader of a pulled ordered stage runs between its reads.
struct Ahead<T> {
    worker: Box<dyn Help<Frame<T>>>,
    /// The most frames it keeps before it stops running ahead: its share of the window, as
    /// a worker thread's output ring holds; and the first ring's soft limit, which
    /// `Running::set_capacity` may lower, and which it then keeps to as well.
    most: usize,
    limit: Option<SoftLimit>,
    done: bool,
}

impl<T> Ordered<T> {
    /// The reading end of a dealt stage ([`Deal`]).
    pub(crate) fn new(workers: Vec<Box<dyn Inlet<Frame<T>>>>, log: TurnLog) -> Self {
        Ordered {
            workers,
            ahead: None,
            log,
            turn: None,
            left: 0,
            frames: Vec::with_capacity(DEAL_BLOCK),
            ended: false,
            mark: None,
        }
    }

    /// The reading end of a stage whose workers take their turns from the source themselves:
    /// the output rings of the worker threads, and the worker the reader runs, if any, which
    /// keeps up to `most` frames.
    pub(crate) fn pulled(
        workers: Vec<Box<dyn Inlet<Frame<T>>>>,
        ahead: Option<Box<dyn Help<Frame<T>>>>,
        most: usize,
        log: TurnLog,
    ) -> Self {
        let limit = workers.first().and_then(|ring| ring.soft_limit());
        Ordered {
            ahead: ahead.map(|worker| Ahead {
                worker,
                most,
                limit,
                done: false,
            }),
            ..Ordered::new(workers, log)
        }
    }

    /// Runs a chunk of the worker the reader runs, if there is one that may run now, it keeps
    /// less than its share of the window, and `deadline` (if any) has not passed; returns
    /// whether it ran one.
    fn work_ahead(&mut self, deadline: Option<Instant>) -> bool {
        let Some(ahead) = &mut self.ahead else {
            return false;
        };
        let most = ahead
            .limit
            .as_ref()
            .map_or(ahead.most, |limit| limit.limit().min(ahead.most));
        let late = deadline.is_some_and(|deadline| Instant::now() >= deadline);
        if ahead.done || late || ahead.worker.kept() >= most {
            return false;
        }
        match ahead.worker.help() {
            Helping::Ran => true,
            Helping::Idle => false,
            Helping::Done => {
                ahead.done = true;
                false
            }
        }
    }

    /// The next turn: at once if the log has one, or else after the reader's own worker has
    /// run ahead as far as it may; then waiting until `deadline`, if any.
    fn next_turn(&mut self, deadline: Option<Instant>) -> Next {
        while self.ahead.is_some() {
            match self.log.next(Some(Instant::now())) {
                Next::Timeout if self.work_ahead(deadline) => {}
                Next::Timeout => break,
                next => return next,
            }
        }
        self.log.next(deadline)
    }

    /// Up to `limit` frames of `worker`'s turn, waiting as [`next_turn`](Self::next_turn)
    /// does.
    fn frames_of(&mut self, worker: usize, limit: usize, deadline: Option<Instant>) -> Recv {
        if worker == self.workers.len() {
            let Some(ahead) = &mut self.ahead else {
                unreachable!("the log gave a turn of a worker the stage does not have");
            };
            // It ran the whole turn when it took it: the frames are kept, unless it failed
            // on the way (the run is stopping).
            if ahead.worker.take(&mut self.frames, limit) == 0 {
                return Recv::End;
            }
            if let Some(mark) = ahead.worker.take_mark() {
                self.mark.get_or_insert(mark);
            }
            return Recv::Got;
        }
        while self.ahead.is_some() {
            let now = Some(Instant::now());
            match self.workers[worker].recv(&mut self.frames, limit, now) {
                Recv::Timeout if self.work_ahead(deadline) => {}
                Recv::Timeout => break,
                got => return self.marked(worker, got),
            }
        }
        let got = self.workers[worker].recv(&mut self.frames, limit, deadline);
        self.marked(worker, got)
    }

    /// `got`, after taking the mark of what `worker` gave.
    fn marked(&mut self, worker: usize, got: Recv) -> Recv {
        if let Some(mark) = self.workers[worker].take_mark() {
            self.mark.get_or_insert(mark);
        }
        got
    }
}

impl<T: Send> Inlet<T> for Ordered<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let start = buf.len();
        while !self.ended {
            if deadline.is_some() && buf.len() > start {
                return Recv::Got;
            }
            let turn = match self.turn {
                Some(turn) => turn,
                None => match self.next_turn(deadline) {
                    Next::Turn(turn) => {
                        self.turn = Some(turn.worker);
                        self.left = turn.items;
                        turn.worker
                    }
                    Next::Timeout => return Recv::Timeout,
                    // Every worker that logs turns is gone, and every turn logged was read.
                    Next::End => {
                        self.ended = true;
                        break;
                    }
                },
            };
            // At most one frame per item still owed by this worker in this turn, so that the
            // next turn's frames stay in its ring; and no more frames than room for items.
            let room = max.saturating_sub(buf.len() - start).max(1);
            let limit = self.left.min(room);
            match self.frames_of(turn, limit, deadline) {
                Recv::Got => {}
                Recv::Timeout => return Recv::Timeout,
                // A worker's ring ends only after its last item, and a turn is short of its
                // count only when it is the last: no later turn holds anything.
                Recv::End => self.ended = true,
            }
            let mut finished = 0;
            for frame in self.frames.drain(..) {
                match frame {
                    Frame::More(item) => buf.push(item),
                    Frame::Last(item) => {
                        buf.push(item);
                        finished += 1;
                    }
                    Frame::Empty => finished += 1,
                }
            }
            self.left -= finished;
            if self.left == 0 {
                self.turn = None;
            }
            if buf.len() > start {
                return Recv::Got;
            }
        }
        if buf.len() > start {
            Recv::Got
        } else {
            Recv::End
        }
    }

    fn queued(&self) -> usize {
        let kept = self.ahead.as_ref().map_or(0, |ahead| ahead.worker.kept());
        kept + self
            .workers
            .iter()
            .map(|worker| worker.queued())
            .sum::<usize>()
    }

    fn capacity(&self) -> usize {
        let most = self.ahead.as_ref().map_or(0, |ahead| ahead.most);
        most + self
            .workers
            .iter()
            .map(|worker| worker.capacity())
            .sum::<usize>()
    }

    /// The limit over the workers' output rings; a worker that the reader runs has none, and
    /// the others' take the limit. (A dealt one keeps its outputs for one chunk; one that runs
    /// ahead keeps as many as the first ring's share of the limit, so the stage may hold that
    /// share more than the limit.)
    fn soft_limit(&self) -> Option<SoftLimit> {
        let rings: Vec<SoftLimit> = self
            .workers
            .iter()
            .filter_map(|worker| worker.soft_limit())
            .collect();
        if rings.is_empty() {
            return None;
        }
        SoftLimit::shared_out(rings.into_iter().map(Some))
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.mark.take()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::control::Settings;
    use crate::marks::marked;

    /// Turns go to the active worker with the fewest items queued, workers as empty as each
    /// other in rotation, and a retired worker gets none. Played back by hand as the workers
    /// would (one `Last` frame per item), the reader gives every item once, in order.
    #[test]
    fn turns_go_to_the_emptiest_active_worker_and_come_back_in_order() {
        let control = Arc::new(Control::new(Settings::default()));
        let scale = Arc::new(Scale::new(3, 1, 3, false));
        let (inputs, mut outputs): (Vec<_>, Vec<_>) =
            (0..3).map(|_| marked(spsc_channel::<u32>(1024))).unzip();
        let staffing = Staffing {
            scale: Arc::clone(&scale),
            control: Arc::clone(&control),
        };
        let (mut deal, log) = deal(inputs, staffing);
        let mut next = 0u32;
        let mut dealt = Vec::new();
        let mut deal_turns = |deal: &mut Deal<u32>, turns: usize| {
            for _ in 0..turns {
                let mut block: Vec<u32> = (next..next + DEAL_BLOCK as u32).collect();
                next += DEAL_BLOCK as u32;
                deal.send(&mut block).unwrap();
                dealt.push(deal.last.unwrap());
            }
        };
        // Nobody takes anything: the workers alternate.
        deal_turns(&mut deal, 6);
        // Worker 1 takes its two turns: it is the emptiest for two turns, then all three hold
        // two turns and the rotation goes on after it.
        let mut taken: Vec<Vec<u32>> = vec![Vec::new(); 3];
        assert_eq!(outputs[1].recv(&mut taken[1], 1024, None), Recv::Got);
        deal_turns(&mut deal, 3);
        // One worker left: every turn is worker 0's.
        scale.set(1, &control);
        deal_turns(&mut deal, 2);
        assert_eq!(dealt, [0, 1, 2, 0, 1, 2, 1, 1, 2, 0, 0]);
        drop(deal);
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..3)
            .map(|_| marked(spsc_channel::<Frame<u32>>(1024)))
            .unzip();
        for ((input, mut output), mut items) in outputs.iter_mut().zip(senders).zip(taken) {
            while input.recv(&mut items, 1024, None) == Recv::Got {}
            let mut frames: Vec<Frame<u32>> = items.into_iter().map(Frame::Last).collect();
            output.send(&mut frames).unwrap();
        }
        let receivers = receivers
            .into_iter()
            .map(|receiver| Box::new(receiver) as Box<dyn Inlet<Frame<u32>>>)
            .collect();
        let mut ordered = Ordered::new(receivers, log);
        let mut out = Vec::new();
        while ordered.recv(&mut out, 1024, None) == Recv::Got {}
        assert_eq!(out, (0..next).collect::<Vec<_>>());
    }
}
