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
//! 270 ms, against 2.5 ms for the unordered stage, whose workers read the source themselves).
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

use std::sync::Arc;
use std::time::Instant;

use crate::control::Control;
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
    log: SpscSender<usize>,
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
        self.log.send(worker).map_err(|_| Gone)?;
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

/// The reading end of a dealer's turn log: whose turn comes next.
pub(crate) struct TurnLog {
    log: SpscReceiver<usize>,
    /// Turns read from the log in one batch, and how many of them were taken.
    read: Vec<usize>,
    next: usize,
}

/// What the turn log gave.
enum Next {
    Turn(usize),
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

/// Reads an ordered stage's workers back in the turns [`Deal`] dealt them: each worker's
/// output ring, or the worker itself when the reader runs it ([`crate::help::OwnTurns`]).
pub(crate) struct Ordered<T> {
    workers: Vec<Box<dyn Inlet<Frame<T>>>>,
    log: TurnLog,
    /// The worker of the turn being read, if one is, and how many of its items are still to
    /// be read.
    turn: Option<usize>,
    left: usize,
    frames: Vec<Frame<T>>,
    ended: bool,
    mark: Option<Instant>,
}

impl<T> Ordered<T> {
    pub(crate) fn new(workers: Vec<Box<dyn Inlet<Frame<T>>>>, log: TurnLog) -> Self {
        Ordered {
            workers,
            log,
            turn: None,
            left: 0,
            frames: Vec::with_capacity(DEAL_BLOCK),
            ended: false,
            mark: None,
        }
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
                None => match self.log.next(deadline) {
                    Next::Turn(turn) => {
                        self.turn = Some(turn);
                        self.left = DEAL_BLOCK;
                        turn
                    }
                    Next::Timeout => return Recv::Timeout,
                    // The dealer is gone and every turn it logged has been read.
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
            let worker = &mut self.workers[turn];
            match worker.recv(&mut self.frames, limit, deadline) {
                Recv::Got => {}
                Recv::Timeout => return Recv::Timeout,
                // A worker's ring ends only after its last dealt item, and a turn is short
                // only when it is the last: no later turn holds anything.
                Recv::End => self.ended = true,
            }
            if let Some(mark) = worker.take_mark() {
                self.mark.get_or_insert(mark);
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
        self.workers.iter().map(|worker| worker.queued()).sum()
    }

    fn capacity(&self) -> usize {
        self.workers.iter().map(|worker| worker.capacity()).sum()
    }

    /// The limit over the workers' output rings; a worker that the reader runs has none (its
    /// outputs are kept for one chunk), and the others' take the limit.
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
