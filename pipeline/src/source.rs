//! Where items come from: an iterator ([`Pipeline::from_iter`](crate::Pipeline::from_iter)),
//! or the [`Input`] handles of [`Pipeline::input`](crate::Pipeline::input); read by a thread
//! of the source's own, or by the workers of the parallel stage after it ([`Pulled`]).

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use weir_backpressure::{RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::control::Control;
use crate::deal::Turn;
use crate::link::{Inlet, MpmcReceiver, MpmcSender, Recv, SpscSender};
use crate::marks::MarkClock;
use crate::pace::Pacer;
use crate::stage::{Context, Source, CHUNK};
use crate::sync::stats::{AtomicUsize, Ordering};
use crate::sync::Mutex;

/// How long a source gathers items for one chunk before it sends what it has: a source that
/// yields slowly gets its items on their way at once instead of after a whole chunk.
const GATHER_FOR: Duration = Duration::from_micros(20);

/// How often a source waiting for its [`Input`]s looks whether the run was cancelled.
const INPUT_POLL: Duration = Duration::from_millis(10);

/// A source over an iterator, which sends chunks as large as the iterator's speed allows
/// within [`GATHER_FOR`].
pub(crate) struct IterSource<I> {
    iter: I,
    /// The chunk size that fits in `GATHER_FOR` at the iterator's recent speed.
    chunk: usize,
    /// The iterator knew its exact length when the run began (a collection, a range, a map
    /// over one): its items are taken to be in memory, and `next` not to wait for them.
    in_memory: bool,
}

impl<I: Iterator> IterSource<I> {
    pub(crate) fn new(iter: I) -> Self {
        let (least, most) = iter.size_hint();
        // Start with one item: a slow iterator's first item moves on at once; a fast one's
        // chunks double to `CHUNK` within a few fills. Under loom, whole chunks and no clock
        // (see `fill`), so that a model's runs are the same.
        IterSource {
            iter,
            chunk: if cfg!(loom) { CHUNK } else { 1 },
            in_memory: most == Some(least),
        }
    }
}

impl<I: Iterator + Send> Source<I::Item> for IterSource<I> {
    fn fill(&mut self, buf: &mut Vec<I::Item>, max: usize, _: &Control) -> bool {
        // An iterator with no end in sight (no upper bound: a channel's receiver, lines being
        // read) may wait in `next` for its next item, and the items gathered would wait with
        // it: past the first item, take no more than it says it holds now. One with an upper
        // bound (a collection, a range, either filtered) is gathered in chunks.
        let (least, most) = self.iter.size_hint();
        let mut want = self.chunk.min(max);
        if most.is_none() {
            want = want.min(least.max(1));
        }
        let started = Instant::now();
        // Look at the clock every few items only (for a fast iterator, the clock would cost
        // more than the items), but at least 16 times a chunk: a chunk grown while items came
        // fast must not hold slow ones for long before the clock is read.
        let check_every = (self.chunk / 16).clamp(1, 64);
        while buf.len() < want {
            let Some(item) = self.iter.next() else {
                return false;
            };
            buf.push(item);
            if !cfg!(loom) && buf.len() % check_every == 0 && started.elapsed() > GATHER_FOR {
                // Slow items: chunks of what one gathering time yields.
                self.chunk = buf.len().max(1);
                return true;
            }
        }
        if !cfg!(loom) && self.chunk < CHUNK && started.elapsed() < GATHER_FOR / 2 {
            self.chunk = (self.chunk * 2).min(CHUNK);
        }
        true
    }

    fn never_waits(&self) -> bool {
        self.in_memory
    }
}

/// A source fed by [`Input`] handles.
pub(crate) struct InputSource<T> {
    pub(crate) receiver: MpmcReceiver<T>,
}

impl<T: Send> Source<T> for InputSource<T> {
    fn fill(&mut self, buf: &mut Vec<T>, max: usize, control: &Control) -> bool {
        loop {
            if control.is_stopped() {
                return false;
            }
            match self.receiver.recv_timeout(INPUT_POLL) {
                Ok(item) => {
                    buf.push(item);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        while buf.len() < max {
            match self.receiver.try_recv() {
                Ok(item) => buf.push(item),
                Err(TryRecvError::Empty) => break,
                // The next fill sees the end.
                Err(TryRecvError::Disconnected) => break,
            }
        }
        true
    }
}

/// A handle that feeds a pipeline made by [`Pipeline::input`](crate::Pipeline::input).
///
/// `Clone` and `Send`: any number of threads may feed one pipeline. The stream ends when every
/// `Input` is dropped. A `send` waits while the pipeline's first queue is full, so
/// backpressure reaches whoever feeds it.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Pipeline;
///
/// let (input, pipeline) = Pipeline::input::<u32>(64);
/// let running = pipeline.map(|x| x * 2).fold(0, |sum, x| sum + x).spawn();
/// for i in 0..100 {
///     input.send(i).unwrap();
/// }
/// drop(input); // the end of the stream
/// assert_eq!(running.join().unwrap().output, 9900);
/// ```
pub struct Input<T> {
    pub(crate) sender: MpmcSender<T>,
}

impl<T> Input<T> {
    /// Sends an item into the pipeline, waiting while its first queue is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the item once the pipeline has stopped (it ended, failed or was
    /// cancelled), or if it was dropped without being run.
    pub fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.sender.send(item)
    }

    /// Sends an item if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] with the item if the first queue is full, and
    /// [`TrySendError::Disconnected`] with the item once the pipeline has stopped.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.sender.try_send(item)
    }

    /// Sends an item, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), and a timeout, each with the item.
    pub fn send_timeout(
        &self,
        item: T,
        timeout: Duration,
    ) -> Result<(), weir_backpressure::SendTimeoutError<T>> {
        self.sender.send_timeout(item, timeout)
    }

    /// How many items wait in the pipeline's first queue.
    pub fn len(&self) -> usize {
        self.sender.len()
    }

    /// Whether the pipeline's first queue is empty.
    pub fn is_empty(&self) -> bool {
        self.sender.is_empty()
    }

    /// The capacity of the pipeline's first queue.
    pub fn capacity(&self) -> usize {
        self.sender.capacity()
    }

    /// Whether the pipeline has stopped taking items (it finished, failed, was cancelled or
    /// dropped): a `send` would hand the item back. A feeder that waits for its data (a
    /// socket, a message queue) can look between waits and end instead of waiting on.
    pub fn is_closed(&self) -> bool {
        self.sender.is_disconnected()
    }
}

impl<T> Clone for Input<T> {
    fn clone(&self) -> Self {
        Input {
            sender: self.sender.clone(),
        }
    }
}

impl<T> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// A source read by the workers of the `parallel` stage right after it: each worker takes the
/// next chunk itself, under a lock, where a thread of the source's own would feed them through
/// a queue (rayon's `par_bridge` works the same way). No thread, no queue, and the items are
/// not copied between cores on their way in.
///
/// For an ordered stage ([`in_turns`](Self::in_turns)), each chunk taken is a turn: the
/// worker logs it, under the same lock, so that the log's order is the source's, and the
/// stage's reader follows the log ([`crate::deal::Ordered::pulled`]).
pub(crate) struct Pulled<T> {
    shared: Arc<PullShared<T>>,
    /// The mark of the last chunk this worker took, if it was marked.
    mark: Option<Instant>,
    /// This worker's index in the turns it logs, and whether it runs on a thread of its own
    /// (the log ends when the last of those is gone).
    worker: usize,
    thread: bool,
}

struct PullShared<T> {
    state: Mutex<PullState<T>>,
    /// The source's own figures and the run's control.
    cx: Context,
    /// The worker threads' handles still alive, for an ordered stage.
    threads: AtomicUsize,
}

struct PullState<T> {
    source: Box<dyn Source<T>>,
    ended: bool,
    clock: MarkClock,
    pacer: Pacer,
    /// An ordered stage's turn log, while its turns go on: `None` for an unordered stage.
    turns: Option<Turns>,
}

/// The writing end of an ordered stage's turn log.
struct Turns {
    /// Dropped, which ends the log for its reader, once the source ends or the last worker
    /// thread leaves (which it does only when the run stops or the source ended).
    log: Option<SpscSender<Turn>>,
    /// The most items a turn takes.
    most: usize,
}

impl<T> Pulled<T> {
    pub(crate) fn new(source: Box<dyn Source<T>>, cx: Context) -> Self {
        Self::with_turns(source, cx, None)
    }

    /// A source that the workers of an ordered stage read in turns of at most `most` items,
    /// which they log to `log`. The handle made here logs nothing: each worker takes its own
    /// with [`worker`](Self::worker).
    pub(crate) fn in_turns(
        source: Box<dyn Source<T>>,
        cx: Context,
        log: SpscSender<Turn>,
        most: usize,
    ) -> Self {
        let turns = Turns {
            log: Some(log),
            most,
        };
        Self::with_turns(source, cx, Some(turns))
    }

    fn with_turns(source: Box<dyn Source<T>>, cx: Context, turns: Option<Turns>) -> Self {
        let state = PullState {
            source,
            ended: false,
            clock: MarkClock::default(),
            pacer: Pacer::new(),
            turns,
        };
        Pulled {
            shared: Arc::new(PullShared {
                state: Mutex::new(state),
                cx,
                threads: AtomicUsize::new(0),
            }),
            mark: None,
            worker: 0,
            thread: false,
        }
    }

    /// The handle of the ordered stage's worker `worker`, which runs on a thread of its own
    /// if `thread` (otherwise the stage's reader runs it).
    pub(crate) fn worker(&self, worker: usize, thread: bool) -> Self {
        if thread {
            // Relaxed: a count, read by the handles' drops (under the lock they take).
            self.shared.threads.fetch_add(1, Ordering::Relaxed);
        }
        Pulled {
            shared: Arc::clone(&self.shared),
            mark: None,
            worker,
            thread,
        }
    }
}

/// The last worker thread of an ordered stage ends the turn log as it leaves: it leaves only
/// once the run stops or the source ended, and the reader, which may still hold a handle of
/// its own, must not wait for turns that no one will take.
impl<T> Drop for Pulled<T> {
    fn drop(&mut self) {
        // Relaxed: the count only picks the handle that ends the log; the lock orders the
        // rest.
        if self.thread && self.shared.threads.fetch_sub(1, Ordering::Relaxed) == 1 {
            let mut state = self
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(turns) = &mut state.turns {
                turns.log = None;
            }
        }
    }
}

impl<T> Pulled<T> {
    /// Whether its source hands items over at once ([`Source::never_waits`]).
    pub(crate) fn never_waits(&self) -> bool {
        let state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.source.never_waits()
    }
}

/// Another worker's handle (of an unordered stage), with no mark yet.
impl<T> Clone for Pulled<T> {
    fn clone(&self) -> Self {
        self.worker(self.worker, self.thread)
    }
}

impl<T: Send> Inlet<T> for Pulled<T> {
    /// Takes the next chunk from the source, as its own thread would read it, under the lock.
    ///
    /// With a deadline, whatever it is, it only takes what it can without waiting: nothing
    /// (`Recv::Timeout`) while the run is paused, another worker reads, the rate limit allows
    /// no item yet, no credit is free, or the source is not one that
    /// [never waits](Source::never_waits).
    /// That is how the thread that reads the stage's output runs a worker ([`crate::help`]).
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let cx = &self.shared.cx;
        let now_only = deadline.is_some();
        if now_only && cx.control.is_paused() {
            return Recv::Timeout;
        }
        cx.control.wait_while_paused();
        let started = Instant::now();
        let mut state = if now_only {
            match self.shared.state.try_lock() {
                Ok(state) => state,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return Recv::Timeout,
            }
        } else {
            self.shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if now_only && !state.ended && !state.source.never_waits() {
            return Recv::Timeout;
        }
        let mut max = max;
        if let Some(turns) = &state.turns {
            let Some(log) = &turns.log else {
                // The log ended: so did the turns.
                return Recv::End;
            };
            // The stage's reader runs this worker, and it is the log's reader: it must not
            // wait for room there. Only the lock's holder adds to the log, so the room seen
            // now stays.
            if now_only && log.is_full() {
                return Recv::Timeout;
            }
            max = max.min(turns.most);
        }
        let before = buf.len();
        while buf.len() == before && !state.ended {
            let mut allowed = if now_only {
                match state.pacer.allowance_now(max, &cx.control) {
                    Ok(allowed) => allowed,
                    Err(_) => return Recv::Timeout,
                }
            } else {
                state.pacer.allowance(max, &cx.control)
            };
            if let Some(flight) = cx.flight() {
                allowed = if now_only {
                    flight.try_take(allowed)
                } else {
                    flight.take(allowed, &cx.control)
                };
                if now_only && allowed == 0 && !cx.control.is_stopped() {
                    return Recv::Timeout;
                }
            }
            if allowed == 0 || cx.control.is_stopped() {
                state.ended = true;
                break;
            }
            let filled = catch_unwind(AssertUnwindSafe(|| {
                state.source.fill(buf, allowed, &cx.control)
            }));
            state.pacer.took(buf.len() - before);
            if let Some(flight) = cx.flight() {
                // The credits taken for items the source did not have.
                flight.untake(allowed - (buf.len() - before));
            }
            match filled {
                Ok(more) => state.ended = !more,
                Err(payload) => {
                    state.ended = true;
                    cx.panicked(&*payload);
                }
            }
        }
        let taken = buf.len() - before;
        let PullState { ended, turns, .. } = &mut *state;
        if let Some(turns) = turns {
            if let Some(log) = &mut turns.log {
                let turn = Turn {
                    worker: self.worker,
                    items: taken,
                };
                // The log holds more turns than the workers' rings can owe the reader, so a
                // worker thread waits here (holding the lock) only under loom, whose logs are
                // smaller. Even so the reader catches up: it is behind on turns whose
                // workers are not waiting for the lock (a worker hands on a turn's outputs
                // before it comes back for the next). Should the reader be gone, the items
                // go with the run.
                if taken != 0 && log.send(turn).is_err() {
                    *ended = true;
                }
            }
            if *ended {
                turns.log = None;
            }
        }
        let now = Instant::now();
        if taken != 0 && state.clock.due(now) {
            self.mark = Some(started);
        }
        drop(state);
        let metrics = &cx.metrics;
        // Relaxed: statistics.
        metrics.items_in.fetch_add(taken as u64, Ordering::Relaxed);
        metrics.items_out.fetch_add(taken as u64, Ordering::Relaxed);
        let busy = u64::try_from((now - started).as_nanos()).unwrap_or(u64::MAX);
        metrics.busy_ns.fetch_add(busy, Ordering::Relaxed);
        if taken != 0 {
            Recv::Got
        } else {
            Recv::End
        }
    }

    /// Nothing waits: the items are read when a worker comes for them.
    fn queued(&self) -> usize {
        0
    }

    fn capacity(&self) -> usize {
        0
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.mark.take()
    }
}
