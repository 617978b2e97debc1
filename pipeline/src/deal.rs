//! An ordered parallel stage's two ends: [`Deal`] hands its input to the workers in turns of
//! [`DEAL_BLOCK`] items, one SPSC channel per worker, and [`Ordered`] reads the workers'
//! [`Frame`]s back in the same turns, so the output keeps the input order. The reorder window
//! is those rings: bounded, and a slow item holds the dealer back instead of letting memory
//! grow.
//!
//! # Rounds, and a count of workers that changes
//!
//! A round is one turn of each of the round's workers, `0..count`, in order. The dealer reads
//! the count the stage should have ([`Scale::active`], which `set_workers` and the load move)
//! only when it starts a round, before it deals any item of it. When the count differs from
//! the last round's, it announces `(round, count)` on a small SPSC channel to the reader
//! first, then deals the round to the new count. If the channel is full, it keeps the old
//! count and tries again at the next round.
//!
//! The reader needs a round's count only at the end of worker 0's turn in that round, to know
//! whether worker 1 comes next or the round is over. By then it has read that turn's frames,
//! which worker 0 sent after it took the turn's items, which the dealer sent after the
//! announcement: each channel's send releases and its receive acquires, so the announcement is
//! visible to the reader then. Both sides count rounds the same way, so they agree on every
//! turn. A retired worker gets no more items and waits (parked) on its empty input; the reader
//! still reads every turn it was dealt before.
//!
//! The end of the stream needs nothing more: each worker's output ends after its input does,
//! and the dealer fills turns in order, so when the worker whose turn it is ends, no later turn
//! holds anything.

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

/// How many changes of the count can be announced and not yet read.
const ANNOUNCED: usize = 4;

/// From round `round` on, the first `workers` workers take turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resized {
    round: u64,
    workers: usize,
}

/// The count of workers the dealer follows: the stage's [`Scale`], and the run's control,
/// through which a change of the count made by the load wakes whoever waits on it.
#[derive(Clone, Debug)]
pub(crate) struct Staffing {
    pub(crate) scale: Arc<Scale>,
    pub(crate) control: Arc<Control>,
}

/// Makes the two ends of an ordered stage's turns: the dealer over the workers' inputs, and
/// the receiving end of its announcements, for [`Ordered::new`].
pub(crate) fn deal<T>(
    inputs: Vec<Marked<SpscSender<T>>>,
    staffing: Staffing,
) -> (Deal<T>, Announcements) {
    let (announce, announced) = spsc_channel(ANNOUNCED);
    let count = staffing.scale.active().clamp(1, inputs.len());
    let deal = Deal {
        workers: inputs,
        turns: Turns::new(count),
        block: Vec::with_capacity(DEAL_BLOCK),
        mark: None,
        staffing,
        announce,
    };
    let announcements = Announcements {
        first: count,
        announced,
        next: None,
    };
    (deal, announcements)
}

/// Where dealing or reading stands: whose turn, how much of it is left, which round, and how
/// many workers take turns in it. The dealer's and the reader's move in step.
#[derive(Debug)]
struct Turns {
    turn: usize,
    left: usize,
    round: u64,
    count: usize,
}

impl Turns {
    fn new(count: usize) -> Self {
        Turns {
            turn: 0,
            left: DEAL_BLOCK,
            round: 0,
            count,
        }
    }

    /// Counts `items` of the turn as done; returns whether the turn is over.
    fn done(&mut self, items: usize) -> bool {
        self.left -= items;
        self.left == 0
    }

    /// Moves on to the next turn; returns whether it starts a round.
    fn next(&mut self) -> bool {
        self.left = DEAL_BLOCK;
        self.turn += 1;
        if self.turn < self.count {
            return false;
        }
        self.turn = 0;
        self.round += 1;
        true
    }
}

/// Deals items to the workers of an ordered stage, [`DEAL_BLOCK`] to each in turn.
pub(crate) struct Deal<T> {
    workers: Vec<Marked<SpscSender<T>>>,
    turns: Turns,
    block: Vec<T>,
    mark: Option<Instant>,
    staffing: Staffing,
    announce: SpscSender<Resized>,
}

impl<T> Deal<T> {
    /// At the start of a round, before any of its items is dealt: lets the load move the
    /// count (a scaling stage), then follows the count, announcing a change first.
    fn start_round(&mut self) {
        let count = self.turns.count;
        let working = &self.workers[..count];
        let Staffing { scale, control } = &self.staffing;
        // The round's workers' inputs: the items are dealt evenly, so they fill alike.
        scale.adjust(
            || {
                Some(working.iter().fold((0, 0), |(queued, limit), worker| {
                    (queued + worker.end().len(), limit + worker.end().limit())
                }))
            },
            control,
        );
        let wanted = scale.active().clamp(1, self.workers.len());
        if wanted == count {
            return;
        }
        let resized = Resized {
            round: self.turns.round,
            workers: wanted,
        };
        // Full: the reader is rounds behind; the change waits for a later round.
        if self.announce.try_send(resized).is_ok() {
            self.turns.count = wanted;
        }
    }
}

impl<T: Send> Outlet<T> for Deal<T> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        let mut items = buf.drain(..);
        loop {
            self.block.extend(items.by_ref().take(self.turns.left));
            if self.block.is_empty() {
                return Ok(());
            }
            let dealt = self.block.len();
            let worker = &mut self.workers[self.turns.turn];
            if let Some(mark) = self.mark.take() {
                worker.carry(Some(mark));
            }
            if worker.send(&mut self.block).is_err() {
                // The items of this block and the ones after it go back to the caller.
                self.block.extend(items);
                buf.append(&mut self.block);
                return Err(Gone);
            }
            if self.turns.done(dealt) && self.turns.next() {
                self.start_round();
            }
        }
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }
}

/// The reading end of a dealer's announcements of a new count, with the count it starts with.
pub(crate) struct Announcements {
    first: usize,
    announced: SpscReceiver<Resized>,
    /// An announcement read for a round still to come.
    next: Option<Resized>,
}

impl Announcements {
    /// The count of round `round`, which was `count` in the round before: changed if the
    /// dealer announced it. Called once the reader has read a frame of the round.
    fn count_of(&mut self, round: u64, count: usize) -> usize {
        if self.next.is_none() {
            self.next = self.announced.try_recv().ok();
        }
        match self.next {
            Some(resized) if resized.round == round => {
                self.next = None;
                resized.workers
            }
            Some(resized) => {
                debug_assert!(resized.round > round, "a change of the count was missed");
                count
            }
            None => count,
        }
    }
}

/// Reads an ordered stage's workers back in the turns [`Deal`] dealt them: each worker's
/// output ring, or the worker itself when the reader runs it ([`crate::help::OwnTurns`]).
pub(crate) struct Ordered<T> {
    workers: Vec<Box<dyn Inlet<Frame<T>>>>,
    turns: Turns,
    announcements: Announcements,
    frames: Vec<Frame<T>>,
    ended: bool,
    mark: Option<Instant>,
}

impl<T> Ordered<T> {
    pub(crate) fn new(
        workers: Vec<Box<dyn Inlet<Frame<T>>>>,
        announcements: Announcements,
    ) -> Self {
        Ordered {
            workers,
            turns: Turns::new(announcements.first),
            announcements,
            frames: Vec::with_capacity(DEAL_BLOCK),
            ended: false,
            mark: None,
        }
    }

    /// Worker `turn`'s turn is over: on to the next one.
    fn next_turn(&mut self) {
        if self.turns.turn == 0 {
            // The round's first turn has been read, so its count was announced if it changed.
            let turns = &mut self.turns;
            turns.count = self.announcements.count_of(turns.round, turns.count);
        }
        self.turns.next();
    }
}

impl<T: Send> Inlet<T> for Ordered<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let start = buf.len();
        while !self.ended {
            // At most one frame per item still owed by this worker in this turn, so that the
            // next turn's frames stay in its ring; and no more frames than room for items.
            let room = max.saturating_sub(buf.len() - start).max(1);
            let limit = self.turns.left.min(room);
            let worker = &mut self.workers[self.turns.turn];
            let got = match deadline {
                None => worker.recv(&mut self.frames, limit, None),
                Some(_) if buf.len() > start => return Recv::Got,
                Some(deadline) => worker.recv(&mut self.frames, limit, Some(deadline)),
            };
            match got {
                Recv::Got => {}
                Recv::Timeout => return Recv::Timeout,
                // A worker's ring ends only after its last dealt item: the items were dealt in
                // turns, so no later turn holds anything.
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
            if self.turns.done(finished) {
                self.next_turn();
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

    /// The count changes every round while the reader reads nothing: the first [`ANNOUNCED`]
    /// changes are announced and dealt to, the ones after wait (the dealer keeps the count of
    /// the last change announced) until the reader has read some. Played back by hand as the
    /// workers would (one `Last` frame per item), every item comes out once, in order.
    #[test]
    fn changes_wait_while_the_announcements_are_full() {
        let control = Arc::new(Control::new(Settings::default()));
        let scale = Arc::new(Scale::new(2, 1, 2, false));
        let (inputs, mut outputs): (Vec<_>, Vec<_>) =
            (0..2).map(|_| marked(spsc_channel::<u32>(1024))).unzip();
        let staffing = Staffing {
            scale: Arc::clone(&scale),
            control: Arc::clone(&control),
        };
        let (mut deal, announcements) = deal(inputs, staffing);
        let mut dealt = Vec::new();
        let mut next = 0u32;
        // Twelve rounds, the count moving 2, 1, 2, 1, ... between them: a round is 16 or 32
        // items, dealt a turn at a time, the change made before the turn that ends a round.
        for round in 0..12 {
            let turns = deal.turns.count;
            for _ in 0..turns {
                if deal.turns.turn + 1 == deal.turns.count {
                    scale.set(if round % 2 == 0 { 1 } else { 2 }, &control);
                }
                let mut block: Vec<u32> = (next..next + DEAL_BLOCK as u32).collect();
                next += DEAL_BLOCK as u32;
                dealt.push(deal.turns.turn);
                deal.send(&mut block).unwrap();
            }
        }
        // Four changes went out; from the fifth round on the count stayed where the fourth
        // left it.
        assert_eq!(deal.announce.len(), ANNOUNCED);
        drop(deal);
        // The workers: each item becomes its `Last` frame, in the order dealt.
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..2)
            .map(|_| marked(spsc_channel::<Frame<u32>>(1024)))
            .unzip();
        for (input, mut output) in outputs.iter_mut().zip(senders) {
            let mut items = Vec::new();
            while input.recv(&mut items, 1024, None) == Recv::Got {}
            let mut frames: Vec<Frame<u32>> = items.into_iter().map(Frame::Last).collect();
            output.send(&mut frames).unwrap();
        }
        let receivers = receivers
            .into_iter()
            .map(|receiver| Box::new(receiver) as Box<dyn Inlet<Frame<u32>>>)
            .collect();
        let mut ordered = Ordered::new(receivers, announcements);
        let mut out = Vec::new();
        while ordered.recv(&mut out, 1024, None) == Recv::Got {}
        assert_eq!(out, (0..next).collect::<Vec<_>>());
        // Rounds 1 and 3 went to one worker; from round 4 on the full channel kept two.
        let mut expected = vec![0, 1, 0, 0, 1, 0];
        expected.extend([0, 1].repeat(8));
        assert_eq!(dealt, expected);
    }
}
