//! Running a pipeline: the sinks that make a [`Flow`], [`Flow::run`] and [`Flow::spawn`], the
//! [`Running`] handle, and [`Output`], the pipeline as an iterator on the caller's thread.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crate::control::{Control, Settings};
use crate::error::{panic_message, ControlError, ErrorKind, PipelineError, ReceiverGone};
use weir_backpressure::overflow::Overflow;

use crate::launch::{spawn_counted, Launch, Want};
use crate::metrics::StageMetrics;
use crate::pipeline::{Pipeline, Slot, Spec};
use crate::report::Report;
use crate::room::Awake;
use crate::stage::Drain;
use crate::sync::stats::{AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::sync::thread::JoinHandle;

/// The sink's work, started on the caller's thread by `run` or on a thread of its own by
/// `spawn`: `None` when it panicked (the failure is in the run's control).
type SinkJob<R> = Box<dyn FnOnce() -> Option<R> + Send>;

/// Starts every thread before the sink and gives the sink's work.
type Start<R> = Box<dyn FnOnce(&mut Launch) -> SinkJob<R> + Send>;

/// A pipeline with its sink: ready to [`run`](Self::run) or [`spawn`](Self::spawn).
#[must_use = "a flow does nothing until it is run or spawned"]
pub struct Flow<R> {
    start: Start<R>,
    specs: Vec<Spec>,
    settings: Settings,
}

/// What a finished run gives: the sink's output and the report.
#[derive(Debug)]
pub struct Finished<R> {
    /// What the sink made (`()` for `for_each` and `into_sender`).
    pub output: R,
    /// What every stage did.
    pub report: Report,
}

impl<T: Send + 'static> Pipeline<T> {
    fn sink<R: Send + 'static>(
        self,
        name: &'static str,
        consume: impl FnOnce(&mut Drain<T>) -> R + Send + 'static,
    ) -> Flow<R> {
        let (tail, capacity, overflow) = (self.tail, self.capacity, self.overflow);
        let start = move |launch: &mut Launch| -> SinkJob<R> {
            let (drain, cx) = sink_end(launch, tail, name, capacity, overflow);
            Box::new(move || {
                let mut drain = drain;
                match catch_unwind(AssertUnwindSafe(|| consume(&mut drain))) {
                    Ok(output) => Some(output),
                    Err(payload) => {
                        cx.control
                            .fail(name, ErrorKind::Panicked(panic_message(&*payload)));
                        None
                    }
                }
            })
        };
        Flow {
            start: Box::new(start),
            specs: self.specs,
            settings: self.settings,
        }
    }

    /// Ends the pipeline with `f`, called on each item in order.
    pub fn for_each<F>(self, f: F) -> Flow<()>
    where
        F: FnMut(T) + Send + 'static,
    {
        self.sink("for_each", move |drain| drain.for_each(f))
    }

    /// Ends the pipeline by folding its items into one value, as `Iterator::fold`.
    pub fn fold<A, F>(self, init: A, f: F) -> Flow<A>
    where
        A: Send + 'static,
        F: FnMut(A, T) -> A + Send + 'static,
    {
        self.sink("fold", move |drain| drain.fold(init, f))
    }

    /// Ends the pipeline by collecting its items, as `Iterator::collect`.
    pub fn collect<C>(self) -> Flow<C>
    where
        C: FromIterator<T> + Send + 'static,
    {
        self.sink("collect", |drain| drain.collect())
    }

    /// Ends the pipeline by sending its items to a weir-backpressure channel, waiting while it
    /// is full. If every receiver of the channel is gone, the run fails (at `"into_sender"`,
    /// [`ErrorKind::Failed`] with [`ReceiverGone`]).
    pub fn into_sender(self, sender: weir_backpressure::mpmc::Sender<T>) -> Flow<()> {
        let (tail, capacity, overflow) = (self.tail, self.capacity, self.overflow);
        let start = move |launch: &mut Launch| -> SinkJob<()> {
            let (mut drain, cx) = sink_end(launch, tail, "into_sender", capacity, overflow);
            Box::new(move || {
                for item in drain.by_ref() {
                    if sender.send(item).is_err() {
                        cx.control
                            .fail("into_sender", ErrorKind::Failed(Box::new(ReceiverGone)));
                        break;
                    }
                }
                Some(())
            })
        };
        Flow {
            start: Box::new(start),
            specs: self.specs,
            settings: self.settings,
        }
    }
}

/// Starts everything before the sink and gives the sink's end of the last queue.
fn sink_end<T: Send + 'static>(
    launch: &mut Launch,
    tail: crate::launch::Tail<T>,
    name: &str,
    capacity: usize,
    overflow: Overflow,
) -> (Drain<T>, crate::stage::Context) {
    let metrics = launch.hidden(name);
    launch.sink = Some(Arc::clone(&metrics));
    let up = tail(launch, Want::lending(capacity, overflow));
    launch.link(&up, &metrics);
    let inlet = Launch::one(up.taken);
    metrics.set_input(inlet.capacity(), inlet.soft_limit());
    let cx = launch.context(&metrics);
    (Drain::new(inlet, cx.clone()), cx)
}

/// Starts every thread of a pipeline; gives what the report and the join need.
fn launch<R>(
    start: Box<dyn FnOnce(&mut Launch) -> R + Send>,
    specs: Vec<Spec>,
    settings: Settings,
) -> (Figures, Vec<JoinHandle<()>>, R) {
    let control = Arc::new(Control::new(settings));
    let taps = specs
        .iter()
        .filter_map(|spec| Some((spec.name.clone(), Arc::clone(spec.tap.as_ref()?))))
        .collect();
    let stages = specs
        .into_iter()
        .map(|spec| Arc::new(StageMetrics::new(spec.name, spec.workers)))
        .collect();
    let mut launch = Launch {
        control: Arc::clone(&control),
        stages,
        hidden: Vec::new(),
        links: Vec::new(),
        threads: Vec::new(),
        source: None,
        sink: None,
        live: Arc::new(AtomicUsize::new(0)),
    };
    let job = start(&mut launch);
    let figures = Figures {
        control,
        live: launch.live,
        source: launch.source.expect("every pipeline has a source"),
        sink: launch.sink.expect("every flow has a sink"),
        stages: launch.stages,
        hidden: launch.hidden,
        links: launch.links,
        taps,
        ended: Mutex::new(None),
    };
    (figures, launch.threads, job)
}

/// Where a report's figures come from.
struct Figures {
    control: Arc<Control>,
    live: Arc<AtomicUsize>,
    source: Arc<StageMetrics>,
    sink: Arc<StageMetrics>,
    stages: Vec<Arc<StageMetrics>>,
    hidden: Vec<Arc<StageMetrics>>,
    links: Vec<(Arc<StageMetrics>, Arc<StageMetrics>)>,
    /// The slots of the `tap` stages, by name.
    taps: Vec<(String, Arc<dyn Any + Send + Sync>)>,
    /// The elapsed time once the run ended.
    ended: Mutex<Option<Duration>>,
}

impl Figures {
    /// The report now. Once every thread has ended (`ended`), the items left in the queues
    /// count as discarded; while the run goes on they are in flight.
    fn report(&self, ended: bool) -> Report {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        if ended {
            self.stages
                .iter()
                .for_each(|metrics| metrics.settle_pairs());
        }
        let mut discarded: u64 = self
            .stages
            .iter()
            .chain(&self.hidden)
            .map(|metrics| load(&metrics.discarded))
            .sum();
        if ended {
            discarded += self
                .links
                .iter()
                .map(|(producer, consumer)| {
                    load(&producer.items_out)
                        .saturating_sub(load(&consumer.items_in) + consumer.dropped())
                })
                .sum::<u64>();
        }
        let elapsed = {
            let mut end = self.ended.lock().unwrap_or_else(|e| e.into_inner());
            if ended && end.is_none() {
                *end = Some(self.control.started.elapsed());
            }
            end.unwrap_or_else(|| self.control.started.elapsed())
        };
        Report {
            stages: self
                .stages
                .iter()
                .map(|metrics| metrics.snapshot())
                .collect(),
            items_in: load(&self.source.items_in),
            items_out: load(&self.sink.items_out),
            discarded,
            dropped: self
                .stages
                .iter()
                .chain([&self.sink])
                .map(|m| m.dropped())
                .sum(),
            elapsed,
            latency: self.sink.end_to_end(),
            errors: self.control.skipped_errors(),
        }
    }

    /// The run's result, once every thread has ended.
    fn result<R>(&self, output: Option<R>) -> Result<Finished<R>, PipelineError> {
        let report = self.report(true);
        match (self.control.take_failure(), output) {
            (None, Some(output)) => Ok(Finished { output, report }),
            (Some((stage, kind)), _) => Err(PipelineError::new(stage, kind, report)),
            (None, None) => Err(PipelineError::new(
                "pipeline".to_owned(),
                ErrorKind::Panicked("the sink ended without its output".to_owned()),
                report,
            )),
        }
    }
}

fn join_all(threads: &mut Vec<JoinHandle<()>>) {
    for thread in threads.drain(..) {
        // Every thread catches its closures' panics; a join error would be a bug of ours,
        // and the run's failure is already recorded or the report shows the loss.
        let _ = thread.join();
    }
}

impl<R: Send + 'static> Flow<R> {
    /// Runs the pipeline to its end, the sink on the calling thread, and gives its output and
    /// report.
    ///
    /// # Errors
    ///
    /// [`PipelineError`] if a stage failed (under [`OnError::FailFast`](crate::OnError::FailFast)) or a closure
    /// panicked: every thread has ended, and the error carries the report so far.
    pub fn run(self) -> Result<Finished<R>, PipelineError> {
        let (figures, mut threads, job) = launch(self.start, self.specs, self.settings);
        // The sink runs on this thread.
        let awake = Awake::new();
        let output = job();
        drop(awake);
        join_all(&mut threads);
        figures.result(output)
    }

    /// Starts the pipeline, the sink on a thread of its own, and gives a handle to watch it,
    /// cancel it or join it.
    pub fn spawn(self) -> Running<R> {
        let (figures, threads, job) = launch(self.start, self.specs, self.settings);
        let slot = Arc::new(Mutex::new(None));
        let sink_slot = Arc::clone(&slot);
        let sink = spawn_counted(&figures.live, "weir-sink".to_owned(), move || {
            let output = job();
            *sink_slot.lock().unwrap_or_else(|e| e.into_inner()) = output;
        });
        Running {
            figures,
            threads,
            sink: Some(sink),
            slot,
        }
    }
}

impl<R> fmt::Debug for Flow<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.specs.iter().map(|spec| spec.name.as_str()).collect();
        f.debug_struct("Flow")
            .field("stages", &names)
            .finish_non_exhaustive()
    }
}

/// A pipeline running in the background, made by [`Flow::spawn`].
///
/// Dropping it before [`join`](Self::join) cancels the run and waits for its threads.
pub struct Running<R> {
    figures: Figures,
    threads: Vec<JoinHandle<()>>,
    sink: Option<JoinHandle<()>>,
    slot: Arc<Mutex<Option<R>>>,
}

impl<R> Running<R> {
    /// Stops the run: the source stops, queued items are discarded, every thread ends
    /// promptly, and [`join`](Self::join) returns [`ErrorKind::Cancelled`] (unless the run
    /// had already failed).
    pub fn cancel(&self) {
        self.figures.control.cancel();
    }

    /// A snapshot of the run's figures now.
    pub fn report(&self) -> Report {
        self.figures.report(false)
    }

    /// Pauses the source: it takes no item after the chunk it is reading (a source fed by
    /// [`Input`](crate::Input)s may still take the one it was waiting for), until
    /// [`resume`](Self::resume). The stages go on with what is already in flight, then wait
    /// without using the CPU; a source fed by [`Input`](crate::Input)s stops taking from them,
    /// so their `send` waits once the first queue is full. A cancel or a failure still ends
    /// the run. Pausing a paused or finished run does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::Pipeline;
    ///
    /// let running = Pipeline::from_iter(0..1_000u64).map(|x| x * 2).fold(0, |a, x| a + x).spawn();
    /// running.pause();
    /// assert!(running.is_paused());
    /// running.resume();
    /// assert_eq!(running.join().unwrap().output, 999_000);
    /// ```
    pub fn pause(&self) {
        self.figures.control.pause();
    }

    /// Lets a paused source go on.
    pub fn resume(&self) {
        self.figures.control.resume();
    }

    /// Sets the source's rate limit, in items a second, from its next chunk on; `None` lifts
    /// it. See [`Pipeline::rate_limit`](crate::Pipeline::rate_limit).
    ///
    /// # Panics
    ///
    /// If the rate is `Some(0)` (to stop the source for a while, [`pause`](Self::pause) it).
    #[track_caller]
    pub fn set_rate(&self, items_per_second: impl Into<Option<u64>>) {
        let rate = items_per_second.into();
        assert!(
            rate != Some(0),
            "weir_pipeline::Running::set_rate: the rate must be at least 1 item a second"
        );
        self.figures.control.set_rate(rate.unwrap_or(0));
    }

    /// The source's rate limit now, in items a second (`None`: no limit).
    pub fn rate(&self) -> Option<u64> {
        Some(self.figures.control.rate()).filter(|&rate| rate != 0)
    }

    /// Sets how many workers of the parallel stage named `stage` run: a retired worker
    /// finishes what it has taken first, then waits (parked) until the count rises again;
    /// nothing is lost or run twice. An unordered stage's workers follow the new count from
    /// their next chunk, an ordered stage's from its next turn (its output stays
    /// in order). A stage takes 1 up to the workers it started
    /// ([`Workers::max`](crate::Workers::max)); a [`scaling`](crate::Workers::scaling) one
    /// goes on following the load from the new count.
    ///
    /// # Errors
    ///
    /// [`ControlError`] if no stage has that name, it is not a parallel stage, or `workers`
    /// is outside its range; nothing is changed then.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{ControlError, Pipeline, Workers};
    ///
    /// let running = Pipeline::from_iter(0..100_000u64)
    ///     .parallel(4, |s| s.map(|x| x + 1))
    ///     .named("inc")
    ///     .fold(0, |a, x| a + x)
    ///     .spawn();
    /// running.set_workers("inc", 2).unwrap();
    /// assert!(matches!(running.set_workers("inc", 5), Err(ControlError::OutOfRange { .. })));
    /// assert!(matches!(running.set_workers("nope", 1), Err(ControlError::UnknownStage(_))));
    /// assert_eq!(running.join().unwrap().output, (1..=100_000).sum::<u64>());
    /// ```
    pub fn set_workers(&self, stage: &str, workers: usize) -> Result<(), ControlError> {
        let metrics = self.stage_metrics(stage)?;
        let scale = metrics
            .scale
            .get()
            .ok_or_else(|| ControlError::NotParallel(stage.to_owned()))?;
        let range = scale.range();
        if !range.contains(&workers) {
            return Err(ControlError::OutOfRange {
                stage: stage.to_owned(),
                value: workers,
                min: *range.start(),
                max: *range.end(),
                unit: "workers",
            });
        }
        scale.set(workers, &self.figures.control);
        Ok(())
    }

    /// Limits the input queue of the stage named `stage` to `items`: the stages before it
    /// queue at most that many items for it, inside the capacity allocated when the run
    /// started ([`Pipeline::capacity`](crate::Pipeline::capacity)), which nothing reallocates
    /// (a soft limit, as weir-backpressure's
    /// [`AdaptiveQueue::set_limit`](weir_backpressure::adaptive::AdaptiveQueue::set_limit)).
    /// The capacity lifts the limit again.
    ///
    /// Raising it lets the senders waiting on the old limit go on at once. Lowering it below
    /// the items queued loses none of them: the senders wait until the stage has taken the
    /// queue below the new limit. [`StageReport::limit`](crate::StageReport::limit) shows it
    /// (and the queue column of the report's table), and the report's bottleneck and a
    /// [`scaling`](crate::Workers::scaling) stage measure how full the queue is against it.
    ///
    /// Every stage with an input queue takes it: `map` and the other single-thread stages,
    /// `batch`, `then`, `tap`, `fork_join`, and `parallel`. An ordered `parallel` stage and a
    /// `partition` share the limit out over their workers' or branches' queues as their
    /// capacity is (so it is at least one item each); the stage right after a `fork_join`
    /// takes its pairs from the two branches' output queues, each held to the limit. The
    /// limit is exact when one thread feeds the queue;
    /// when several do (the workers of an unordered `parallel` stage before it), each checks
    /// it before adding its chunk, so together they may go over it by what they add at the
    /// same moment. A queue with an [`Overflow`](crate::Overflow) policy drops at the limit.
    ///
    /// # Errors
    ///
    /// [`ControlError::UnknownStage`] if no stage has that name;
    /// [`ControlError::OutOfRange`] if `items` is 0 (below the number of queues, for an
    /// ordered `parallel` stage or a `partition`) or above the capacity allocated;
    /// [`ControlError::NoQueue`] for a stage whose input is no queue that can be limited: a
    /// `parallel` stage right after `from_iter` (its workers read the source themselves; its
    /// report shows capacity 0), or a stage after `priority`. Nothing is
    /// changed then.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{ControlError, Pipeline};
    ///
    /// let (input, pipeline) = Pipeline::input::<u64>(64);
    /// let running = pipeline
    ///     .capacity(256)
    ///     .map(|x| x * 2)
    ///     .named("double")
    ///     .fold(0, |a, x| a + x)
    ///     .spawn();
    /// running.set_capacity("double", 16).unwrap();
    /// assert_eq!(running.capacity("double"), Some(16));
    /// assert_eq!(running.report().stage("double").unwrap().limit(), 16);
    /// assert!(matches!(running.set_capacity("double", 0), Err(ControlError::OutOfRange { .. })));
    /// assert!(matches!(running.set_capacity("double", 257), Err(ControlError::OutOfRange { .. })));
    /// assert!(matches!(running.set_capacity("nope", 1), Err(ControlError::UnknownStage(_))));
    /// for x in 0..1_000 {
    ///     input.send(x).unwrap();
    /// }
    /// drop(input);
    /// assert_eq!(running.join().unwrap().output, 999_000);
    /// ```
    pub fn set_capacity(&self, stage: &str, items: usize) -> Result<(), ControlError> {
        let metrics = self.stage_metrics(stage)?;
        let limit = metrics
            .soft_limit
            .get()
            .ok_or_else(|| ControlError::NoQueue(stage.to_owned()))?;
        let (min, max) = (limit.min(), limit.capacity());
        if !(min..=max).contains(&items) {
            return Err(ControlError::OutOfRange {
                stage: stage.to_owned(),
                value: items,
                min,
                max,
                unit: "items",
            });
        }
        metrics.set_limit(limit, items);
        Ok(())
    }

    /// The soft limit of the input queue of the stage named `stage` now (see
    /// [`set_capacity`](Self::set_capacity)): its capacity until that was called. `None` if no
    /// stage has that name or it has no input queue that can be limited.
    pub fn capacity(&self, stage: &str) -> Option<usize> {
        let metrics = self.stage_metrics(stage).ok()?;
        Some(metrics.soft_limit.get()?.limit())
    }

    /// The figures of the stage named `stage`.
    fn stage_metrics(&self, stage: &str) -> Result<&Arc<StageMetrics>, ControlError> {
        self.figures
            .stages
            .iter()
            .find(|metrics| metrics.name == stage)
            .ok_or_else(|| ControlError::UnknownStage(stage.to_owned()))
    }

    /// Whether the source is paused.
    pub fn is_paused(&self) -> bool {
        self.figures.control.is_paused()
    }

    /// The last item that passed the [`tap`](crate::Pipeline::tap) stage named `name`: `None`
    /// if none passed yet, or if no tap of that name holds items of type `T`.
    pub fn tap<T: Clone + 'static>(&self, name: &str) -> Option<T> {
        self.figures
            .taps
            .iter()
            .filter(|(tap, _)| tap == name)
            .find_map(|(_, slot)| slot.downcast_ref::<Slot<T>>())?
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether every thread of the run has ended (so that `join` will not wait).
    pub fn is_finished(&self) -> bool {
        // Relaxed: a snapshot; `join` is what synchronizes with the threads.
        self.figures.live.load(Ordering::Relaxed) == 0
    }

    /// Waits for the run to end and gives its output and report.
    ///
    /// # Errors
    ///
    /// [`PipelineError`] if a stage failed, a closure panicked or the run was cancelled.
    pub fn join(mut self) -> Result<Finished<R>, PipelineError> {
        self.join_threads();
        let output = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.figures.result(output)
    }

    fn join_threads(&mut self) {
        if let Some(sink) = self.sink.take() {
            let _ = sink.join();
        }
        join_all(&mut self.threads);
    }
}

impl<R> Drop for Running<R> {
    fn drop(&mut self) {
        if self.sink.is_some() {
            self.cancel();
            self.join_threads();
        }
    }
}

impl<R> fmt::Debug for Running<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("threads", &(self.threads.len() + 1))
            .finish_non_exhaustive()
    }
}

/// A pipeline's output as an iterator on the caller's thread: what iterating a
/// [`Pipeline`] gives.
///
/// After the last item, [`finish`](Self::finish) gives the report, or the error that ended
/// the run early (the iterator then simply ends). Dropping it before the end cancels the run
/// and waits for its threads.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Pipeline;
///
/// let mut output = Pipeline::from_iter(0..10u32).map(|x| x + 1).into_iter();
/// let items: Vec<u32> = output.by_ref().collect();
/// assert_eq!(items, (1..=10).collect::<Vec<_>>());
/// let report = output.finish().unwrap();
/// assert_eq!(report.items_out(), 10);
/// ```
pub struct Output<T> {
    drain: Option<Drain<T>>,
    figures: Figures,
    threads: Vec<JoinHandle<()>>,
    /// The thread iterating it counts among the run's ([`crate::room`]).
    _awake: Awake,
}

impl<T> Output<T> {
    /// Ends the run (cancelling it if items are left) and gives its report.
    ///
    /// # Errors
    ///
    /// [`PipelineError`] if a stage failed or a closure panicked, or
    /// [`ErrorKind::Cancelled`] if items were still coming.
    pub fn finish(mut self) -> Result<Report, PipelineError> {
        self.stop();
        self.figures
            .result(Some(()))
            .map(|finished| finished.report)
    }

    /// A snapshot of the run's figures now.
    pub fn report(&self) -> Report {
        self.figures.report(false)
    }

    /// Cancels the run unless it ended, and waits for its threads.
    fn stop(&mut self) {
        if let Some(drain) = self.drain.take() {
            if !drain.is_ended() {
                self.figures.control.cancel();
            }
            // The sink's end goes first, so that a stage waiting on a full queue wakes.
            drop(drain);
        }
        join_all(&mut self.threads);
    }
}

impl<T> Iterator for Output<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.drain.as_mut()?.next()
    }
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> IntoIterator for Pipeline<T> {
    type Item = T;
    type IntoIter = Output<T>;

    /// Starts the pipeline; its output comes through the iterator, on this thread.
    fn into_iter(self) -> Output<T> {
        let (tail, capacity, overflow) = (self.tail, self.capacity, self.overflow);
        let start =
            move |launch: &mut Launch| sink_end(launch, tail, "output", capacity, overflow).0;
        let (figures, threads, drain) = launch(Box::new(start), self.specs, self.settings);
        Output {
            drain: Some(drain),
            figures,
            threads,
            _awake: Awake::new(),
        }
    }
}
