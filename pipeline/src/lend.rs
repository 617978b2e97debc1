//! A cheap serial stage lent to the thread that reads its output.
//!
//! A stage whose closure costs a few nanoseconds an item is not worth a thread: handing each
//! chunk to the next thread costs more than the work, and with more threads than cores every
//! hand-off may wait for a wake-up and a core. So a serial stage starts lent: its loop is on
//! offer to the thread that reads its output (the next serial stage, or the sink) before any
//! thread runs, that thread runs it between its own chunks, and the stage's own thread sleeps
//! until the loop comes back. A chain of cheap stages runs on the sink's thread, each lent to
//! the one after it, as fused as a [`Segment`](crate::Segment), and still with a row of its
//! own in the report. The reader gives the loop back once [`SLOW_CHUNKS`] chunks in a row
//! cost more than [`RECLAIM_ABOVE`] an item: the stage is worth its thread. Its thread lends
//! it again once it costs less than [`LEND_BELOW`] an item over [`LEND_WINDOW`] items.
//!
//! The protocol, over one [`Desk`] per lendable stage:
//!
//! - **Lending at the start** needs no more than the offer: it is made before the reader
//!   runs.
//! - **Lending again.** The stage's thread runs one more chunk with its outputs kept instead of
//!   queued, puts the loop on the desk with the count of every output it will have queued
//!   once that chunk is sent, and only then sends the chunk. A reader waiting on the queue
//!   is woken by the chunk and finds the loop once the queue is empty. (A chunk whose
//!   items were all filtered out wakes no one: the thread runs chunks until one has an
//!   output.)
//! - **Order.** The reader takes the loop only when the queue is empty, then takes from the
//!   queue every output counted at the offer (what it took before from the count of what it
//!   has taken), and only then runs the loop. The lender queues nothing while its loop is
//!   lent, so every output queued before the loan goes before the first output of the
//!   loan. The reader gives the loop back only once it has handed on every output kept, so
//!   the lender's next outputs come after them.
//! - **Ends.** The borrower gives the loop back when it is done (its input ended, the run
//!   stopped), when it costs too much, and when the borrower's own end is dropped (a loop on
//!   offer and never taken goes back too). The lender, back in charge, ends it as it would have
//!   ended it itself: the stage's figures go in, its outlet is dropped and the reader sees the
//!   end of the queue. A lender woken by a stop while its loop is lent leaves at once, and
//!   its queue's end goes; the borrower sees the stop between chunks and puts the loop back
//!   on the desk, where it ends with the desk's last handle. A lender whose reader is gone
//!   (the send after the offer fails) ends the loop if it is still on offer or back.
//!
//! A lent stage's closures run on its reader's thread, between that thread's own chunks:
//! inside [`Output`](crate::Output)'s `next` when the reader is the caller iterating the
//! pipeline, as the last worker of a parallel stage may (see [`crate::help`]). A closure that
//! waits for the thread that reads the pipeline's output to do something (a send into a
//! bounded channel that only that thread drains) can then wait for ever.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::Control;
use crate::help::Kept;
use crate::link::{Gone, Inlet, Outlet, Recv, SoftLimit};
use crate::op::Op;
use crate::room::Asleep;
use crate::stage::{StageLoop, Step};
use crate::sync::{Mutex, MutexGuard};

/// A stage costing less than this an item (waits for input or room not counted) is lent to
/// the thread after it: a hand-off between threads costs about as much.
pub(crate) const LEND_BELOW: Duration = Duration::from_nanos(250);

/// A lent stage costing more than this an item goes back to its own thread. Well above
/// [`LEND_BELOW`], so that a stage near the line does not go back and forth.
pub(crate) const RECLAIM_ABOVE: Duration = Duration::from_micros(1);

/// How many items a stage's cost is measured over before it is lent again once it went back:
/// few, so that a stage that was slow for a while soon runs on fewer threads again. Under
/// loom, one chunk: a model is too short for more, and its clock says nothing anyway.
const LEND_WINDOW: u64 = if cfg!(loom) { 1 } else { 64 };

/// How many chunks in a row must cost more than [`RECLAIM_ABOVE`] an item for a lent stage to
/// go back to its thread: one slow chunk may be a preemption (4 ms on a busy machine), not the
/// stage's cost. Chunks of slow items hold one item each, so a stage that turns slow goes back
/// after a few items.
const SLOW_CHUNKS: u32 = 4;

/// The outlet of a lendable stage: its queue while its thread runs it, or, while lent (and for
/// the chunk that goes out once it is), kept for whoever runs it.
pub(crate) struct Switch<T> {
    queue: Option<Box<dyn Outlet<T>>>,
    /// The outputs handed to the queue since the start (its reader counts what it took).
    sent: u64,
    kept: Kept<T>,
}

impl<T> Switch<T> {
    pub(crate) fn new(queue: Box<dyn Outlet<T>>) -> Self {
        Switch {
            queue: Some(queue),
            sent: 0,
            kept: Kept::new(),
        }
    }
}

impl<T: Send> Outlet<T> for Switch<T> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        match &mut self.queue {
            Some(queue) => {
                self.sent += buf.len() as u64;
                queue.send(buf)
            }
            None => self.kept.send(buf),
        }
    }

    fn carry(&mut self, mark: Option<Instant>) {
        match &mut self.queue {
            Some(queue) => queue.carry(mark),
            None => self.kept.carry(mark),
        }
    }

    fn overflowed(&mut self) -> (u64, u64) {
        self.queue
            .as_mut()
            .map_or((0, 0), |queue| queue.overflowed())
    }
}

/// Where a stage's loop waits while lent, as the borrower sees it.
pub(crate) trait Lent<T>: Send {
    /// Runs one chunk, waiting for input until `deadline` if any; the outputs are kept.
    fn run(&mut self, deadline: Option<Instant>) -> Step;
    /// Moves at most `max` (at least one) of the outputs kept to `buf`; returns how many.
    fn take(&mut self, buf: &mut Vec<T>, max: usize) -> usize;
    /// The end-to-end latency mark of the outputs kept, if any.
    fn take_mark(&mut self) -> Option<Instant>;
    /// Whether it should go back to its thread: it is done, or it costs too much to run here.
    fn goes_back(&mut self) -> bool;
    /// The loop itself, for its thread to take back.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

type Loop<I, P> = StageLoop<I, P, Switch<<P as Op<I>>::Out>>;

/// A stage's loop while lent, with what tells when it goes back.
struct Loan<I, P: Op<I>> {
    stage: Box<Loop<I, P>>,
    /// How many chunks in a row cost more than [`RECLAIM_ABOVE`] an item.
    slow_chunks: u32,
}

impl<I, P> Lent<P::Out> for Loan<I, P>
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    fn run(&mut self, deadline: Option<Instant>) -> Step {
        self.stage.step_with(deadline)
    }

    fn take(&mut self, buf: &mut Vec<P::Out>, max: usize) -> usize {
        self.stage.outlet().kept.take_into(buf, max)
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.stage.outlet().kept.take_mark()
    }

    fn goes_back(&mut self) -> bool {
        if self.stage.is_finished() {
            return true;
        }
        // The chunks run since the last look (one, as the reader looks after each). One slow
        // chunk may be a preemption or a page fault; several in a row are the stage's cost.
        let (items, busy) = self.stage.take_cost();
        if items == 0 {
            return false;
        }
        if cfg!(loom) {
            // Under loom, whose models must run the same way whatever the clock says: back
            // after every chunk, and lent again after the next (see `is_cheap`), so that the
            // models go through the loan, the return and the loan again.
            return true;
        }
        let slow = busy > RECLAIM_ABOVE * u32::try_from(items).unwrap_or(u32::MAX);
        self.slow_chunks = if slow { self.slow_chunks + 1 } else { 0 };
        self.slow_chunks >= SLOW_CHUNKS
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self.stage
    }
}

/// Whether `stage` is cheap enough to lend: under [`LEND_BELOW`] an item on average, once it
/// has run [`LEND_WINDOW`] items since the last answer (`None` before that). Under loom,
/// whose models must run the same way whatever the clock says, always.
fn is_cheap<I, P: Op<I>, O: Outlet<P::Out>>(stage: &mut StageLoop<I, P, O>) -> Option<bool> {
    if stage.peek_cost().0 < LEND_WINDOW {
        return None;
    }
    let (items, busy) = stage.take_cost();
    Some(cfg!(loom) || busy < LEND_BELOW * u32::try_from(items).unwrap_or(u32::MAX))
}

/// Where a stage's loop is, between its thread and the thread that reads its output.
enum Place<T> {
    /// With its thread.
    Home,
    /// Offered to the reader, with the count of the outputs that its thread hands to the
    /// queue up to the loan, the chunk sent after the offer included: the reader takes them
    /// all from the queue before it runs the loop.
    Offered(Box<dyn Lent<T>>, u64),
    /// Run by the reader.
    Borrowed,
    /// Given back by the reader, for its thread to take.
    Returned(Box<dyn Lent<T>>),
}

/// The place where a lendable stage's thread and its reader pass the stage's loop.
pub(crate) struct Desk<T> {
    place: Mutex<Place<T>>,
    control: Arc<Control>,
}

impl<T> Desk<T> {
    pub(crate) fn new(control: Arc<Control>) -> Arc<Self> {
        Arc::new(Desk {
            place: Mutex::new(Place::Home),
            control,
        })
    }

    fn place(&self) -> MutexGuard<'_, Place<T>> {
        self.place.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The loop on offer, if any, now `then` (run by the reader, or home again), and the
    /// count of the outputs sent after the offer.
    fn take_offered(&self, then: Place<T>) -> Option<(Box<dyn Lent<T>>, u64)> {
        let mut place = self.place();
        if !matches!(*place, Place::Offered(..)) {
            return None;
        }
        match std::mem::replace(&mut *place, then) {
            Place::Offered(lent, held) => Some((lent, held)),
            _ => None,
        }
    }

    /// The loop its reader gave back, if it did.
    fn take_returned(&self) -> Option<Box<dyn Lent<T>>> {
        let mut place = self.place();
        if !matches!(*place, Place::Returned(_)) {
            return None;
        }
        match std::mem::replace(&mut *place, Place::Home) {
            Place::Returned(lent) => Some(lent),
            _ => None,
        }
    }

    /// Gives `lent` back to its thread and wakes it.
    fn give_back(&self, lent: Box<dyn Lent<T>>) {
        self.control
            .change(|| *self.place() = Place::Returned(lent));
    }
}

/// The input of the thread after a lendable stage: the stage's queue, and the stage's loop
/// whenever its thread lends it.
pub(crate) struct Borrowing<T> {
    queue: Box<dyn Inlet<T>>,
    desk: Arc<Desk<T>>,
    borrowed: Option<Box<dyn Lent<T>>>,
    /// The items taken from the queue since the start.
    received: u64,
    /// The items its thread sent to the queue before the loan that are still to come: they
    /// go before the loop borrowed runs.
    owed: u64,
}

impl<T> Borrowing<T> {
    pub(crate) fn new(queue: Box<dyn Inlet<T>>, desk: Arc<Desk<T>>) -> Self {
        Borrowing {
            queue,
            desk,
            borrowed: None,
            received: 0,
            owed: 0,
        }
    }
}

impl<T: Send> Borrowing<T> {
    /// Takes from the queue, counting what it takes.
    fn recv_queue(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let before = buf.len();
        let got = self.queue.recv(buf, max, deadline);
        let taken = (buf.len() - before) as u64;
        self.received += taken;
        self.owed = self.owed.saturating_sub(taken);
        got
    }
}

impl<T: Send> Inlet<T> for Borrowing<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        loop {
            if self.owed > 0 {
                let most = usize::try_from(self.owed).map_or(max, |owed| owed.min(max));
                match self.recv_queue(buf, most, deadline) {
                    Recv::Got => return Recv::Got,
                    Recv::Timeout => return Recv::Timeout,
                    // Its thread left without sending them: the run stopped.
                    Recv::End => self.owed = 0,
                }
            }
            if let Some(lent) = &mut self.borrowed {
                if lent.take(buf, max) > 0 {
                    return Recv::Got;
                }
                if lent.goes_back() {
                    // Nothing kept: whatever its thread queues next comes after.
                    if let Some(lent) = self.borrowed.take() {
                        self.desk.give_back(lent);
                    }
                    continue;
                }
                match lent.run(deadline) {
                    // Its outputs, then `goes_back` (it is done) on the next round.
                    Step::Ran | Step::Done => continue,
                    Step::Idle => return Recv::Timeout,
                }
            }
            match self.recv_queue(buf, max, Some(Instant::now())) {
                Recv::Got => return Recv::Got,
                Recv::End => return Recv::End,
                Recv::Timeout => {}
            }
            // The queue is empty: a loop on offer is the next thing to read, after the chunk
            // that its thread sends once it has offered it.
            if let Some((lent, sent)) = self.desk.take_offered(Place::Borrowed) {
                self.borrowed = Some(lent);
                self.owed = sent - self.received;
                continue;
            }
            // A loan from now on sends a chunk after it: this wait wakes for it.
            return self.recv_queue(buf, max, deadline);
        }
    }

    fn queued(&self) -> usize {
        self.queue.queued()
    }

    fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        let own = self.borrowed.as_mut().and_then(|lent| lent.take_mark());
        own.or_else(|| self.queue.take_mark())
    }

    fn soft_limit(&self) -> Option<SoftLimit> {
        self.queue.soft_limit()
    }
}

impl<T> Drop for Borrowing<T> {
    fn drop(&mut self) {
        // Back to its thread, which ends it (a loop on offer and never taken too).
        let lent =
            (self.borrowed.take()).or_else(|| Some(self.desk.take_offered(Place::Borrowed)?.0));
        if let Some(lent) = lent {
            self.desk.give_back(lent);
        }
    }
}

/// Starts a lendable stage lent: its loop goes on offer to its reader now, before any
/// thread runs (so the reader finds it at its first look, and no chunk need wake it), and the
/// returned body, its thread's, waits for the loop to come back. A stage is taken to be cheap
/// until it proves otherwise ([`SLOW_CHUNKS`] chunks over [`RECLAIM_ABOVE`] an item): the
/// threads of a pipeline of cheap stages are never woken, not even while it starts.
pub(crate) fn start_lent<I, P>(
    op: P,
    inlet: Box<dyn Inlet<I>>,
    outlet: Box<dyn Outlet<P::Out>>,
    desk: Arc<Desk<P::Out>>,
    cx: crate::stage::Context,
) -> impl FnOnce() + Send + 'static
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    let mut stage: Box<Loop<I, P>> = Box::new(StageLoop::new(op, inlet, Switch::new(outlet), cx));
    let Some(queue) = stage.outlet().queue.take() else {
        unreachable!("a new stage has its queue")
    };
    *desk.place() = Place::Offered(
        Box::new(Loan {
            stage,
            slow_chunks: 0,
        }),
        0,
    );
    move || {
        if let Some(stage) = wait_back::<I, P>(&desk, queue) {
            run_own(stage, &desk);
        }
    }
}

/// Runs a stage on its own thread until it is done, lending it to its reader whenever it
/// costs less than [`LEND_BELOW`] an item.
fn run_own<I, P>(mut stage: Box<Loop<I, P>>, desk: &Desk<P::Out>)
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    loop {
        if !stage.step() {
            return;
        }
        if is_cheap(&mut stage) == Some(true) {
            match lend(stage, desk) {
                Some(back) => stage = back,
                None => return,
            }
        }
    }
}

/// Lends `stage` to its reader and waits for it to come back; `None` if it ended meanwhile
/// (or the run stopped).
fn lend<I, P>(mut stage: Box<Loop<I, P>>, desk: &Desk<P::Out>) -> Option<Box<Loop<I, P>>>
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    let Some(mut queue) = stage.outlet().queue.take() else {
        unreachable!("a stage lent twice")
    };
    // One more chunk, kept: it goes out after the offer, to wake a reader waiting on the
    // queue. One with outputs (what a filter drops wakes no one).
    let mut held = Vec::new();
    let mut go_on = true;
    while held.is_empty() && go_on {
        go_on = stage.step();
        stage.outlet().kept.take_into(&mut held, usize::MAX);
    }
    let mark = stage.outlet().kept.take_mark();
    if !go_on {
        // Done: the last outputs go out as they would have.
        queue.carry(mark);
        let _ = queue.send(&mut held);
        return None;
    }
    let sent = stage.outlet().sent + held.len() as u64;
    stage.outlet().sent = sent;
    // Whether it goes back is a matter of the chunks its reader runs.
    stage.take_cost();
    *desk.place() = Place::Offered(
        Box::new(Loan {
            stage,
            slow_chunks: 0,
        }),
        sent,
    );
    queue.carry(mark);
    if queue.send(&mut held).is_err() {
        // The reader is gone: it gave the loop back if it had taken it, or left it on offer.
        end_on_desk(desk);
        return None;
    }
    wait_back(desk, queue)
}

/// Waits for the reader to give the loop back, and puts `queue` back in it; `None` if the run
/// stopped first.
fn wait_back<I, P>(desk: &Desk<P::Out>, queue: Box<dyn Outlet<P::Out>>) -> Option<Box<Loop<I, P>>>
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    let mut back = None;
    let asleep = Asleep::new();
    desk.control.wait_while(|| {
        back = desk.take_returned();
        back.is_none()
    });
    drop(asleep);
    let Some(lent) = back else {
        end_on_desk(desk);
        return None;
    };
    let Ok(mut stage) = lent.into_any().downcast::<Loop<I, P>>() else {
        unreachable!("a desk holds the loop of its own stage only")
    };
    stage.outlet().queue = Some(queue);
    Some(stage)
}

/// Ends a loop still on offer or given back, outside the desk's lock; a borrowed one ends
/// with its reader (which puts it back on the desk, where it ends with the desk's last
/// handle).
fn end_on_desk<T>(desk: &Desk<T>) {
    let left = desk.take_offered(Place::Home).map(|(lent, _)| lent);
    drop(left.or_else(|| desk.take_returned()));
}
