//! The loops that the threads of a run execute: a stage (or one worker of a parallel stage)
//! taking chunks from its inlet, feeding each item to its operation and handing the outputs to
//! its outlet; the source; and the sink's side, an iterator over the last queue.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::Control;
use crate::error::{panic_message, ErrorKind, OnError};
use crate::flight::Flight;
use crate::link::{Inlet, Outlet, Recv};
use crate::marks::MarkClock;
use crate::metrics::{Local, StageMetrics};
use crate::op::{Counts, Halt, Op};
use crate::pace::Pacer;
use crate::scale::Seat;

/// The most items a stage takes from its input queue, or hands on, at once.
pub(crate) const CHUNK: usize = 1024;

/// The most items a worker of an unordered parallel stage takes at once: its input is shared
/// with the other workers, and one that holds many slow items at the end of the stream leaves
/// them idle. (A serial stage or an ordered worker has its input to itself, and takes up to
/// [`CHUNK`]: fewer hand-offs, and so fewer wake-ups, per item.)
pub(crate) const SHARED_CHUNK: usize = 256;

/// What the threads of one stage share: where they report and what stops them.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) metrics: Arc<StageMetrics>,
    pub(crate) control: Arc<Control>,
    /// A worker of a parallel stage whose count of active workers can change: it runs a
    /// chunk only while it is active.
    pub(crate) seat: Option<Seat>,
    /// A branch of a `fork_join`, which sees each item along with the other branch: its
    /// pairs settle the items with the run's credits, not the branches.
    pub(crate) in_branch: bool,
}

impl Context {
    /// The run's credits under `max_in_flight`, if this thread settles items with them.
    pub(crate) fn flight(&self) -> Option<&Flight> {
        self.control.flight().filter(|_| !self.in_branch)
    }

    /// Gives back the credits of the items that `outlet`'s overflow policy dropped (or
    /// evicted) in the sends since the last call.
    pub(crate) fn land_overflow<T>(&self, outlet: &mut dyn Outlet<T>) {
        let (dropped, evicted) = outlet.overflowed();
        if let Some(flight) = self.flight() {
            flight.land(usize::try_from(dropped + evicted).unwrap_or(usize::MAX));
        }
    }

    /// Handles an item that failed: counts it, and stops the run unless errors are skipped.
    /// Returns whether the stage goes on.
    fn failed(&self, local: &mut Local, halt: Halt) -> bool {
        match halt {
            Halt::Stopped => false,
            Halt::Failed(error) => {
                local.failed += 1;
                match self.control.on_error {
                    OnError::Skip => {
                        self.control.skipped(&self.metrics.name, &*error);
                        true
                    }
                    OnError::FailFast => {
                        self.control
                            .fail(&self.metrics.name, ErrorKind::Failed(error));
                        false
                    }
                }
            }
        }
    }

    /// Runs `f`, failing the run as [`ErrorKind::Panicked`] if it panics (`None` then).
    pub(crate) fn guard<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(result) => Some(result),
            Err(payload) => {
                self.panicked(&*payload);
                None
            }
        }
    }

    /// Handles a panic of the stage's closure.
    pub(crate) fn panicked(&self, payload: &(dyn std::any::Any + Send)) {
        self.control.fail(
            &self.metrics.name,
            ErrorKind::Panicked(panic_message(payload)),
        );
    }
}

/// How long a stage aims to work on one chunk: long enough that taking and handing on a chunk
/// costs nothing beside it; short enough that the outputs of slow items move on soon, and that
/// workers sharing an input are not left idle while one holds many slow items.
const CHUNK_FOR: Duration = Duration::from_micros(500);

/// How many items a stage takes at once: what it works through in about [`CHUNK_FOR`],
/// measured as it goes. One item at a time when items are slow, up to `most` when they are
/// cheap.
#[derive(Debug)]
struct ChunkSize {
    items: usize,
    most: usize,
}

impl ChunkSize {
    fn new(most: usize) -> Self {
        // Start with one: the first chunk says what an item costs. Under loom, whole chunks
        // always: a size that followed the clock would make a model's runs differ.
        ChunkSize {
            items: if cfg!(loom) { most } else { 1 },
            most,
        }
    }

    /// Learns from a chunk of `items` that took `busy`: grows at most twofold a chunk (so a
    /// few cheap items do not make a worker grab many slow ones), shrinks at once.
    fn update(&mut self, items: usize, busy: Duration) {
        if items == 0 || cfg!(loom) {
            return;
        }
        let per_item = (busy.as_nanos() / items as u128).max(1);
        let fits = (CHUNK_FOR.as_nanos() / per_item).clamp(1, self.most as u128) as usize;
        self.items = fits.min(self.items * 2);
    }
}

/// Runs a stage until its input ends or the run stops.
pub(crate) fn run_stage<I, P: Op<I>>(
    op: P,
    inlet: Box<dyn Inlet<I>>,
    outlet: Box<dyn Outlet<P::Out>>,
    cx: Context,
) {
    let mut stage = StageLoop::new(op, inlet, outlet, cx);
    while stage.step() {}
}

/// What one step of a [`StageLoop`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// It ran a chunk.
    Ran,
    /// There was no input without waiting ([`StageLoop::step_now`] only).
    Idle,
    /// The stage is done for good: its input ended, the run stopped, or the next stage is
    /// gone.
    Done,
}

/// The loop of a stage (or of one worker of a parallel stage), a chunk at a time: run by a
/// thread of its own through [`run_stage`], or by the thread that reads a parallel stage's
/// output, between its reads ([`crate::help`]), or by the thread that reads a cheap serial
/// stage's output while the stage is lent to it ([`crate::lend`]).
pub(crate) struct StageLoop<I, P: Op<I>, O> {
    op: P,
    inlet: Box<dyn Inlet<I>>,
    outlet: O,
    cx: Context,
    input: Vec<I>,
    output: Vec<P::Out>,
    local: Local,
    counts: Counts,
    size: ChunkSize,
    /// The items taken and the time spent on them since [`take_cost`](Self::take_cost).
    cost: (u64, Duration),
    finished: bool,
}

impl<I, P: Op<I>, O: Outlet<P::Out>> StageLoop<I, P, O> {
    pub(crate) fn new(op: P, inlet: Box<dyn Inlet<I>>, outlet: O, cx: Context) -> Self {
        let most = if cx.seat.is_some() {
            SHARED_CHUNK
        } else {
            CHUNK
        };
        StageLoop {
            op,
            inlet,
            outlet,
            input: Vec::with_capacity(most),
            output: Vec::with_capacity(most),
            local: Local::new(),
            counts: Counts::default(),
            size: ChunkSize::new(most),
            cost: (0, Duration::ZERO),
            cx,
            finished: false,
        }
    }

    /// The queue its outputs go to.
    pub(crate) fn outlet(&mut self) -> &mut O {
        &mut self.outlet
    }

    /// The items taken and the time spent feeding them since the last call (waits for input
    /// or for room not counted): what the stage costs per item.
    pub(crate) fn take_cost(&mut self) -> (u64, Duration) {
        std::mem::take(&mut self.cost)
    }

    /// The items taken and the time spent feeding them since [`take_cost`](Self::take_cost).
    pub(crate) fn peek_cost(&self) -> (u64, Duration) {
        self.cost
    }

    /// Whether the stage is done for good.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// The queue its outputs go to, to look at.
    pub(crate) fn outlet_ref(&self) -> &O {
        &self.outlet
    }

    /// Runs one chunk: takes it (waiting for it), feeds it and hands the outputs on. Returns
    /// `false`, once and for good, when the stage is done: its input ended, the run stopped, or
    /// the next stage is gone.
    pub(crate) fn step(&mut self) -> bool {
        self.step_with(None) != Step::Done
    }

    /// As [`step`](Self::step), but takes only the input there is now, without waiting for
    /// any, nor for its turn ([`Step::Idle`] when there is none, or the worker is retired).
    pub(crate) fn step_now(&mut self) -> Step {
        self.step_with(Some(Instant::now()))
    }

    /// As [`step`](Self::step), waiting for input until `deadline` if there is one
    /// ([`Step::Idle`] if it passes with none).
    pub(crate) fn step_with(&mut self, deadline: Option<Instant>) -> Step {
        if self.finished {
            return Step::Done;
        }
        let step = self.run_chunk(deadline);
        if step == Step::Done {
            self.finish();
        }
        step
    }

    fn run_chunk(&mut self, deadline: Option<Instant>) -> Step {
        let cx = &self.cx;
        let local = &mut self.local;
        if cx.control.is_stopped() {
            return Step::Done;
        }
        if let Some(seat) = &cx.seat {
            // The load against the queue's soft limit, which `set_capacity` may have lowered;
            // with no queue (the workers read the source), how busy the workers are.
            let inlet = &self.inlet;
            seat.scale.adjust(
                || (inlet.capacity() != 0).then(|| (inlet.queued(), cx.metrics.limit())),
                &cx.control,
            );
            if deadline.is_some() {
                // Not waiting for a turn either: a retired worker is idle.
                if seat.index >= seat.scale.active() {
                    return Step::Idle;
                }
            } else if !seat.scale.wait_turn(seat.index, &cx.control) {
                return Step::Done;
            }
        }
        local.observe_queue(&cx.metrics, self.inlet.queued());
        let waited = Instant::now();
        let got = self.inlet.recv(&mut self.input, self.size.items, deadline);
        let started = Instant::now();
        local.input_wait += started - waited;
        match got {
            Recv::Got => {}
            Recv::Timeout => return Step::Idle,
            Recv::End => return Step::Done,
        }
        let taken = self.input.len();
        local.items_in += taken as u64;
        // The chunk's first output carries the mark of any item in it.
        self.outlet.carry(self.inlet.take_mark());
        let go_on = feed_chunk(
            &mut self.op,
            &mut self.input,
            &mut self.output,
            &mut self.outlet,
            &self.counts,
            local,
            cx,
        );
        let fed = Instant::now();
        let busy = (fed - started).saturating_sub(local.output_wait_in_chunk);
        self.size.update(taken, busy);
        self.cost.0 += taken as u64;
        self.cost.1 += busy;
        local.busy += busy;
        local.output_wait += local.output_wait_in_chunk;
        local.output_wait_in_chunk = Default::default();
        local.filtered += self.counts.filtered.take();
        local.items_out -= self.counts.fillers.take();
        if let Some(flight) = cx.flight() {
            flight.settle(local.items_in, local.items_out, &mut local.settled, false);
        }
        // The outlet may run user code (a partition's key, an evicted item's drop): a panic
        // there fails the run as one in the closures does.
        let outlet = &mut self.outlet;
        let output = &mut self.output;
        let sent = go_on && cx.guard(|| outlet.send(output).is_ok()).unwrap_or(false);
        cx.land_overflow(&mut self.outlet);
        // Not carried on when nothing came out of the chunk.
        self.outlet.carry(None);
        local.output_wait += fed.elapsed();
        if let Some(seat) = &cx.seat {
            // Waiting for the next stage counts as busy here, as it fills an input queue.
            seat.scale.record(started - waited, waited.elapsed());
        }
        // Outputs that could not be sent count as out of this stage and not into the next:
        // the run's report finds them in the difference.
        let output = &mut self.output;
        cx.guard(|| output.clear());
        local.flush(&cx.metrics);
        if sent {
            Step::Ran
        } else {
            Step::Done
        }
    }
}

impl<I, P: Op<I>, O> StageLoop<I, P, O> {
    /// The stage is done: its figures go in, and the retired workers of its stage have
    /// nothing more to wait for, however this worker leaves (the input ended, the next stage
    /// is gone, the run stopped, or the thread that ran it between its reads let it go).
    fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        if let Some(seat) = &self.cx.seat {
            seat.scale.end(&self.cx.control);
        }
        self.local.finish(&self.cx.metrics);
    }
}

impl<I, P: Op<I>, O> Drop for StageLoop<I, P, O> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Feeds a chunk of items to `op`, item by item, pushing outputs to `output` and sending them
/// on whenever a chunk's worth is ready. Returns whether the stage goes on; when it does not,
/// the items not fed are counted as discarded.
fn feed_chunk<I, P: Op<I>>(
    op: &mut P,
    input: &mut Vec<I>,
    output: &mut Vec<P::Out>,
    outlet: &mut dyn Outlet<P::Out>,
    counts: &Counts,
    local: &mut Local,
    cx: &Context,
) -> bool {
    let total = input.len();
    let mut taken = 0;
    let fed = catch_unwind(AssertUnwindSafe(|| {
        for item in input.drain(..) {
            taken += 1;
            let timed = local.sample_next().then(Instant::now);
            let items_out = &mut local.items_out;
            let settled = &mut local.settled;
            let output_wait = &mut local.output_wait_in_chunk;
            let result = op.feed(item, counts, &mut |out| {
                output.push(out);
                *items_out += 1;
                if output.len() < CHUNK {
                    return Ok(());
                }
                if let Some(flight) = cx.flight() {
                    // Outputs beyond one per item owe their credits before they go on. The
                    // item being fed may make more: its own credit stays with it, so its
                    // outputs so far all owe one, until the chunk settles.
                    let made = *items_out - counts.fillers.get();
                    flight.settle(taken as u64 - 1, made, settled, true);
                }
                let waited = Instant::now();
                let sent = outlet.send(output);
                cx.land_overflow(outlet);
                *output_wait += waited.elapsed();
                output.clear();
                sent.map_err(|_| Halt::Stopped)
            });
            if let Some(started) = timed {
                local.record_latency(started);
            }
            if let Err(halt) = result {
                if !cx.failed(local, halt) {
                    return false;
                }
            }
        }
        true
    }));
    let go_on = match fed {
        Ok(go_on) => go_on,
        Err(payload) => {
            local.failed += 1;
            cx.panicked(&*payload);
            false
        }
    };
    if !go_on {
        local.discarded += (total - taken) as u64;
        input.clear();
    }
    go_on
}

/// Where a source's items come from.
pub(crate) trait Source<T>: Send {
    /// Appends at most `max` items to `buf`; returns `false` once the source has no more.
    fn fill(&mut self, buf: &mut Vec<T>, max: usize, control: &Control) -> bool;

    /// Whether `fill` returns at once, its items already at hand (an iterator over memory):
    /// then a thread that must not wait may read the source ([`crate::help`]).
    fn never_waits(&self) -> bool {
        false
    }
}

/// Runs a source until it ends or the run stops.
pub(crate) fn run_source<T, S: Source<T>>(
    mut source: S,
    mut outlet: Box<dyn Outlet<T>>,
    cx: Context,
) {
    let mut buf = Vec::with_capacity(CHUNK);
    let mut local = Local::new();
    let mut clock = MarkClock::default();
    let mut pacer = Pacer::new();
    loop {
        cx.control.wait_while_paused();
        let mut max = pacer.allowance(CHUNK, &cx.control);
        if let Some(flight) = cx.flight() {
            max = flight.take(max, &cx.control);
        }
        if max == 0 || cx.control.is_stopped() {
            break;
        }
        let started = Instant::now();
        let filled = catch_unwind(AssertUnwindSafe(|| source.fill(&mut buf, max, &cx.control)));
        pacer.took(buf.len());
        if let Some(flight) = cx.flight() {
            // The credits taken for items the source did not have.
            flight.untake(max - buf.len());
        }
        let more = match filled {
            Ok(more) => more,
            Err(payload) => {
                cx.panicked(&*payload);
                false
            }
        };
        local.items_in += buf.len() as u64;
        local.items_out += buf.len() as u64;
        let fed = Instant::now();
        local.busy += fed - started;
        if !buf.is_empty() && clock.due(fed) {
            // The first item of the chunk was taken about when the chunk was begun.
            outlet.carry(Some(started));
        }
        let sent = outlet.send(&mut buf).is_ok();
        cx.land_overflow(&mut *outlet);
        local.output_wait += fed.elapsed();
        buf.clear();
        local.flush(&cx.metrics);
        if !more || !sent {
            break;
        }
    }
    local.finish(&cx.metrics);
}

/// The sink's end of the last queue, as an iterator: what `for_each`, `fold` and `collect`
/// consume on their thread, and what [`Output`](crate::Output) wraps on the caller's.
pub(crate) struct Drain<T> {
    inlet: Box<dyn Inlet<T>>,
    /// The items of the chunk taken last, in reverse order (the next one is at the end).
    ready: Vec<T>,
    ended: bool,
    local: Local,
    cx: Context,
}

impl<T> Drain<T> {
    pub(crate) fn new(inlet: Box<dyn Inlet<T>>, cx: Context) -> Self {
        Drain {
            inlet,
            ready: Vec::with_capacity(CHUNK),
            ended: false,
            local: Local::new(),
            cx,
        }
    }

    /// Whether the stream has ended (or the run stopped), so that `next` gives no more.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended && self.ready.is_empty()
    }

    /// Takes the next chunk; returns whether there is one.
    #[cold]
    fn refill(&mut self) -> bool {
        if let Some(flight) = self.cx.flight() {
            // The items of the chunk taken last are done.
            flight.land(usize::try_from(self.local.items_in).unwrap_or(usize::MAX));
        }
        self.local.flush(&self.cx.metrics);
        if self.ended || self.cx.control.is_stopped() {
            self.ended = true;
            return false;
        }
        self.local
            .observe_queue(&self.cx.metrics, self.inlet.queued());
        let waited = Instant::now();
        let got = self.inlet.recv(&mut self.ready, CHUNK, None);
        self.local.input_wait += waited.elapsed();
        if got == Recv::End {
            self.ended = true;
            return false;
        }
        self.local.items_in += self.ready.len() as u64;
        if let Some(mark) = self.inlet.take_mark() {
            self.local.record_end_to_end(mark);
        }
        self.ready.reverse();
        true
    }
}

impl<T> Iterator for Drain<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.ready.pop() {
                self.local.items_out += 1;
                return Some(item);
            }
            if !self.refill() {
                return None;
            }
        }
    }
}

impl<T> Drop for Drain<T> {
    fn drop(&mut self) {
        self.local.discarded += self.ready.len() as u64;
        self.local.finish(&self.cx.metrics);
    }
}
