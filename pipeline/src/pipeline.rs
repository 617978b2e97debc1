//! [`Pipeline`]: the typed builder. Each method adds a stage and returns the pipeline of the
//! stage's output type; a sink turns it into a [`Flow`] to run.

use std::any::Any;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use weir_backpressure::overflow::Overflow;

use crate::batch::{self, Batch};
use crate::control::Settings;
use crate::deal::{pulled_turn_log, Ordered, Staffing};
use crate::error::{BoxError, OnError};
use crate::fork::{Tee, Zip};
use crate::help::{self, Help, Helped, Kept, OwnTurns};
use crate::launch::{Launch, Made, Tail, Taken, Want};
use crate::lend::start_lent;
use crate::link::{mpmc_channel, spsc_channel, Inlet, SoftLimit};
use crate::marks::{marked, marked_shared};
use crate::metrics::StageMetrics;
use crate::nested::Stages;
use crate::op::Boxed;
use crate::op::Identity;
use crate::op::{Filter, FilterMap, FlatMap, Frame, Framed, Inspect, Map, Op, TryMap};
use crate::partition::Route;
use crate::prioritize::priority_queue;
use crate::scale::{Scale, Seat};
use crate::segment::Segment;
use crate::source::{Input, InputSource, IterSource, Pulled};
use crate::stage::{run_source, run_stage, Context, StageLoop};
use crate::sync::stats::Mutex;
use crate::workers::Workers;

/// The queue capacity of a stage when [`Pipeline::capacity`] did not set one.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A stage as the builder knows it, before the run.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) workers: usize,
    /// For a `tap` stage, the slot of the last item that passed (a `Slot<T>`).
    pub(crate) tap: Option<Arc<dyn Any + Send + Sync>>,
}

/// Where a `tap` stage keeps the last item that passed it.
pub(crate) type Slot<T> = Mutex<Option<T>>;

/// A pipeline being built, whose items are `T` at its current end.
///
/// Start with a source ([`from_iter`](Self::from_iter) or [`input`](Self::input)), add stages
/// (each runs on a thread of its own, joined to the next by a bounded queue; a cheap serial
/// stage lends itself to the thread after it), and end with a
/// sink ([`for_each`](Self::for_each), [`fold`](Self::fold), [`collect`](Self::collect),
/// [`into_sender`](Self::into_sender)) that makes a [`Flow`](crate::Flow) to
/// [`run`](crate::Flow::run) or [`spawn`](crate::Flow::spawn); or iterate the pipeline itself.
///
/// Stages keep the order of their items, but for an unordered [`parallel`](Self::parallel)
/// stage. Memory stays bounded by the queues' capacities: a slow stage makes the ones before it
/// wait (backpressure), and every wait parks the thread once it has spun (up to 50 µs while
/// the pipelines' threads fit the cores, a few rounds otherwise).
///
/// # Examples
///
/// ```
/// use weir_pipeline::{Pipeline, Workers};
///
/// #[derive(Debug)]
/// struct Odd(u64);
/// impl std::fmt::Display for Odd {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{} is odd", self.0)
///     }
/// }
/// impl std::error::Error for Odd {}
///
/// fn check(x: u64) -> Result<u64, Odd> {
///     if x % 2 == 0 { Ok(x / 2) } else { Err(Odd(x)) }
/// }
///
/// let finished = Pipeline::from_iter(0..10_000u64)
///     .map(|x| x * 3).named("triple")
///     .filter(|x| x % 2 == 0)
///     .parallel(Workers::new(2).ordered(), |s| s.try_map(check)).named("check")
///     .fold(0u64, |acc, x| acc + x)
///     .run()?;
/// assert_eq!(finished.output, (0..10_000u64).map(|x| x * 3).filter(|x| x % 2 == 0).map(|x| x / 2).sum::<u64>());
/// println!("{}", finished.report);
/// # Ok::<(), weir_pipeline::PipelineError>(())
/// ```
pub struct Pipeline<T> {
    pub(crate) tail: Tail<T>,
    pub(crate) specs: Vec<Spec>,
    pub(crate) capacity: usize,
    /// The overflow policy of the queue feeding the next stage added.
    pub(crate) overflow: Overflow,
    pub(crate) settings: Settings,
}

impl Pipeline<()> {
    /// A pipeline fed through [`Input`] handles, and its first handle: `send` waits while the
    /// first queue (of `capacity` items) is full, and the stream ends when every `Input` is
    /// dropped.
    ///
    /// The item type is the function's: `Pipeline::input::<u32>(64)`.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or too large for a queue.
    #[track_caller]
    pub fn input<T: Send + 'static>(capacity: usize) -> (Input<T>, Pipeline<T>) {
        assert!(
            capacity > 0,
            "weir_pipeline::Pipeline::input: capacity must be at least 1"
        );
        let (sender, receiver) = mpmc_channel(capacity);
        let pipeline = Pipeline::<T>::with_source("input", InputSource { receiver }, false);
        (Input { sender }, pipeline)
    }
}

impl<T: Send + 'static> Pipeline<T> {
    /// A pipeline whose items come from `iter`, read on a thread of its own; or, when a
    /// [`parallel`](Self::parallel) stage comes right after it, by that stage's workers, each
    /// taking the next chunk of items in turn (no thread and no queue between them, as with
    /// rayon's `par_bridge`; an ordered stage's workers log their turns as they take them, and
    /// its reader follows the log).
    ///
    /// A cancel or a failure stops the source between two chunks; an iterator that blocks in
    /// `next` delays it until `next` returns.
    ///
    /// Items move on a chunk at a time, and a chunk is sent once full or once gathering it
    /// has taken about 20 µs. An iterator with no upper bound to its length
    /// (`size_hint().1 == None`: a channel's receiver, lines read from a socket) may wait in
    /// `next` for data that takes long to come, so the source takes from it no more than its
    /// `size_hint().0` says it holds beyond the first item, and hands those on before it
    /// calls `next` again: nothing waits for the next item. That costs a hand-off per item
    /// when the iterator knows nothing of its length; [`Pipeline::input`] fed from a thread
    /// of its own hands items on in chunks as they come.
    ///
    /// An iterator with an upper bound is taken not to wait in `next`, and one that knows its
    /// exact length may also be read by the thread after a `parallel` stage right after it
    /// (see [`parallel`](Self::parallel)). So an iterator whose `next` waits for something
    /// that only the pipeline's own output brings about (the next request of a client that
    /// waits for the answer to the last, read through `take(n)`, say) must come through
    /// [`Pipeline::input`] instead.
    #[allow(clippy::should_implement_trait)] // reads lazily on its own thread: not `FromIterator`
    pub fn from_iter<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        let iter = iter.into_iter();
        Pipeline::with_source("from_iter", IterSource::new(iter), true)
    }

    /// As [`from_iter`](Self::from_iter), but always read on a thread of its own, never by
    /// the workers of a `parallel` stage after it: for the loom models and tests of the
    /// stages that a source's thread feeds (an ordered stage's dealer). Not part of the
    /// stable API.
    #[doc(hidden)]
    pub fn from_iter_on_its_own_thread<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        let iter = iter.into_iter();
        Pipeline::with_source("from_iter", IterSource::new(iter), false)
    }

    /// A pipeline fed by `source`: on a thread of its own, or, if `pullable`, read by the
    /// workers of a parallel stage right after it (in turns that they log, when it is
    /// ordered).
    fn with_source<S: crate::stage::Source<T> + 'static>(
        name: &'static str,
        source: S,
        pullable: bool,
    ) -> Self {
        let tail: Tail<T> = Box::new(move |launch: &mut Launch, want| {
            let metrics = launch.hidden(name);
            launch.source = Some(Arc::clone(&metrics));
            let cx = launch.context(&metrics);
            match (pullable, &want) {
                (true, Want::Shared { pull: true, .. }) => {
                    let source = Pulled::new(Box::new(source), cx);
                    return Made::upstream(Taken::Pulled(source), None, metrics);
                }
                (
                    true,
                    &Want::Dealt {
                        workers, window, ..
                    },
                ) => {
                    let (log, read) = pulled_turn_log(window, workers);
                    let most = (window / 2).max(1);
                    let source = Pulled::in_turns(Box::new(source), cx, log, most);
                    return Made::upstream(Taken::PulledTurns(source, read), None, metrics);
                }
                _ => {}
            }
            let Made {
                outlet,
                taken,
                dropped,
            } = Launch::queue(want);
            launch.spawn(format!("weir-{name}"), move || {
                run_source(source, outlet, cx)
            });
            Made::upstream(taken, dropped, metrics)
        });
        Pipeline {
            tail,
            specs: Vec::new(),
            capacity: DEFAULT_CAPACITY,
            overflow: Overflow::Block,
            settings: Settings::default(),
        }
    }

    /// Names the stage added last: errors and the report use the name. The default is the
    /// method's name (`"map"`, `"parallel"`, ...).
    ///
    /// # Panics
    ///
    /// If no stage was added yet (the source and the sink are not stages).
    #[track_caller]
    pub fn named(mut self, name: &str) -> Self {
        let stage = self
            .specs
            .last_mut()
            .expect("weir_pipeline::Pipeline::named: no stage to name yet (call it after a stage)");
        stage.name = name.to_owned();
        self
    }

    /// Sets the capacity of the input queue of every stage added after this call (and of the
    /// sink's). The default is [`DEFAULT_CAPACITY`].
    ///
    /// # Panics
    ///
    /// If `capacity` is 0.
    #[track_caller]
    pub fn capacity(mut self, capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "weir_pipeline::Pipeline::capacity: capacity must be at least 1"
        );
        self.capacity = capacity;
        self
    }

    /// Limits the source to `items_per_second` (on average over a few milliseconds: it takes
    /// items in small chunks and sleeps between them); [`Running::set_rate`](crate::Running::set_rate)
    /// changes it while the pipeline runs. Wherever it is called in the chain, it applies to
    /// the source.
    ///
    /// # Panics
    ///
    /// If `items_per_second` is 0.
    #[track_caller]
    pub fn rate_limit(mut self, items_per_second: u64) -> Self {
        assert!(
            items_per_second > 0,
            "weir_pipeline::Pipeline::rate_limit: the rate must be at least 1 item a second"
        );
        self.settings.rate = items_per_second;
        self
    }

    /// Sets what the queue feeding the next stage added (or the sink, if none is) does when
    /// it is full: [`Overflow::Block`] (the default) makes the stage before it wait;
    /// [`Overflow::DropNewest`] drops the item being sent; [`Overflow::DropOldest`] drops the
    /// oldest queued item to make room, so the freshest data wins (sensor and market feeds).
    /// A dropped item is counted in that stage's [`StageReport::dropped`](crate::StageReport::dropped),
    /// and the report's accounting adds the drops:
    /// `items_in = items_out + Σ filtered + Σ failed + Σ dropped + discarded`.
    ///
    /// # Panics
    ///
    /// With [`Overflow::Reject`], which has no caller to hand an item back to in a pipeline.
    /// An ordered `parallel` stage after a dropping policy panics when added (its reorder
    /// window counts every item).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{Overflow, Pipeline};
    ///
    /// let finished = Pipeline::from_iter(0..10_000u64)
    ///     .overflow(Overflow::DropOldest)
    ///     .capacity(8)
    ///     .map(|x| {
    ///         std::thread::sleep(std::time::Duration::from_micros(1));
    ///         x
    ///     })
    ///     .named("slow")
    ///     .for_each(drop)
    ///     .run()
    ///     .unwrap();
    /// let report = &finished.report;
    /// let slow = report.stage("slow").unwrap();
    /// assert_eq!(report.items_in(), report.items_out() + slow.dropped());
    /// ```
    #[track_caller]
    pub fn overflow(mut self, policy: Overflow) -> Self {
        assert!(
            policy != Overflow::Reject,
            "weir_pipeline::Pipeline::overflow: Reject has no caller to hand items back to in a \
             pipeline; use DropNewest or DropOldest"
        );
        self.overflow = policy;
        self
    }

    /// Bounds the items between the source and the sink, across all stages (oneTBB's tokens,
    /// with weir-backpressure's [`Credits`](weir_backpressure::Credits)): the source takes a
    /// new item only while fewer than `items` have been taken and not yet given to the sink,
    /// filtered, failed or dropped. Tighter than the queues' capacities when they add up to
    /// more; the latency of an item then stays near `items` items' worth of work. Wherever it
    /// is called in the chain, it applies to the whole pipeline.
    ///
    /// An item that becomes several (`flat_map`) stays in flight until the last of them is
    /// done. A `batch` counts as one item once made, and the items it is gathering do not
    /// count (else a bound below the batch size could never fill one). A source waiting for
    /// room sleeps until an item leaves the flight, or the run stops.
    ///
    /// # Panics
    ///
    /// If `items` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use weir_pipeline::Pipeline;
    ///
    /// let (taken, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    /// let d = Arc::clone(&done);
    /// Pipeline::from_iter((0..1_000u64).inspect(move |_| {
    ///     // Never more than 8 items taken and not yet done.
    ///     assert!(taken.fetch_add(1, Ordering::SeqCst) - done.load(Ordering::SeqCst) < 8);
    /// }))
    /// .max_in_flight(8)
    /// .map(|x| x + 1)
    /// .for_each(move |_| {
    ///     d.fetch_add(1, Ordering::SeqCst);
    /// })
    /// .run()
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn max_in_flight(mut self, items: u64) -> Self {
        assert!(
            items > 0,
            "weir_pipeline::Pipeline::max_in_flight: at least one item must be let in"
        );
        self.settings.max_in_flight = items;
        self
    }

    /// Makes the queue before the next stage hand out its most urgent items first: `level(&item)`
    /// gives each item's level, 0 the most urgent, up to `levels - 1`. Each level holds the
    /// queue capacity ([`capacity`](Self::capacity)) of items; a quota keeps the lower levels
    /// from starving (weir-backpressure's [`PriorityQueue`](weir_backpressure::priority::PriorityQueue):
    /// a level that stays non-empty is served at least once every `8 + levels - 1` items). A
    /// hidden thread sorts the items into their levels as they come.
    ///
    /// # Panics
    ///
    /// If `levels` is 0. A `level` that returns `levels` or more fails the run (as a panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::Pipeline;
    ///
    /// // Alerts (level 0) overtake the routine items queued before them.
    /// let (input, pipeline) = Pipeline::input::<(u8, &str)>(64);
    /// let mut output = pipeline
    ///     .priority(2, |(level, _): &(u8, &str)| usize::from(*level))
    ///     .map(|(_, what)| what)
    ///     .into_iter();
    /// input.send((1, "routine")).unwrap();
    /// assert_eq!(output.next(), Some("routine"));
    /// drop(input);
    /// assert_eq!(output.next(), None);
    /// ```
    #[track_caller]
    pub fn priority<F>(self, levels: usize, level: F) -> Pipeline<T>
    where
        F: Fn(&T) -> usize + Send + 'static,
    {
        assert!(
            levels > 0,
            "weir_pipeline::Pipeline::priority: a priority queue needs at least one level"
        );
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<T> = Box::new(move |launch: &mut Launch, want| {
            let sorter = launch.hidden("priority");
            let up = upstream(launch, Want::one(capacity, overflow));
            launch.link(&up, &sorter);
            let input = Launch::one(up.taken);
            let (pushing, popping) = priority_queue(levels, capacity, level);
            let cx = launch.context(&sorter);
            launch.spawn("weir-priority".to_owned(), move || {
                run_stage(Identity::new(), input, Box::new(pushing), cx)
            });
            let here = Made::upstream(Taken::One(Box::new(popping)), None, sorter);
            match want {
                Want::One { .. } if want.blocks() => here,
                _ => launch.relay(here, "priority.out", want),
            }
        });
        rest.with(tail)
    }

    /// Sets what the whole pipeline does when a `try_map` returns `Err`.
    pub fn on_error(mut self, policy: OnError) -> Self {
        self.settings.on_error = policy;
        self
    }

    /// Adds a stage that runs `op` on a thread of its own. A `lendable` one (whose items each
    /// make at most one output) lends itself to the thread after it while it is cheap
    /// ([`crate::lend`]).
    fn serial<U: Send + 'static, P: Op<T, Out = U> + 'static>(
        mut self,
        name: &str,
        op: P,
        lendable: bool,
    ) -> Pipeline<U> {
        let index = self.push_spec(name, 1);
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<U> = Box::new(move |launch: &mut Launch, want| {
            let metrics = Arc::clone(&launch.stages[index]);
            let up = upstream(launch, Want::lending(capacity, overflow));
            launch.link(&up, &metrics);
            let inlet = Launch::one(up.taken);
            metrics.set_input(inlet.capacity(), inlet.soft_limit());
            let cx = launch.context(&metrics);
            let thread = format!("weir-{}", metrics.name);
            if let (true, Want::One { lend: true, .. }) = (lendable, &want) {
                if want.blocks() {
                    let (desk, made) = Launch::lendable_queue(want, &launch.control);
                    launch.spawn(thread, start_lent(op, inlet, made.outlet, desk, cx));
                    return Made::upstream(made.taken, made.dropped, metrics);
                }
            }
            let Made {
                outlet,
                taken,
                dropped,
            } = Launch::queue(want);
            launch.spawn(thread, move || run_stage(op, inlet, outlet, cx));
            Made::upstream(taken, dropped, metrics)
        });
        rest.with(tail)
    }

    fn push_spec(&mut self, name: &str, workers: usize) -> usize {
        self.specs.push(Spec {
            name: name.to_owned(),
            workers,
            tap: None,
        });
        self.specs.len() - 1
    }

    /// The pipeline's last stage, and the rest of it, to put a new last stage on.
    fn split(self) -> (Tail<T>, Rest) {
        let rest = Rest {
            specs: self.specs,
            capacity: self.capacity,
            settings: self.settings,
        };
        (self.tail, rest)
    }

    /// Adds a stage named `name` that passes items on unchanged and keeps a copy of the last
    /// one, which [`Running::tap`](crate::Running::tap) reads while the pipeline runs (to see
    /// what flows at that point, as a debugger's watch). Each item is cloned once, under an
    /// uncontended lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::Pipeline;
    ///
    /// let (input, pipeline) = Pipeline::input::<u32>(8);
    /// let running = pipeline.map(|x| x * 2).tap("doubled").for_each(drop).spawn();
    /// input.send(21).unwrap();
    /// while running.report().items_out() < 1 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(running.tap::<u32>("doubled"), Some(42));
    /// drop(input);
    /// running.join().unwrap();
    /// ```
    pub fn tap(self, name: &str) -> Pipeline<T>
    where
        T: Clone,
    {
        let slot: Arc<Slot<T>> = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&slot);
        let mut pipeline = self.serial(
            name,
            Map(move |item: T| {
                *keep.lock().unwrap_or_else(|e| e.into_inner()) = Some(item.clone());
                item
            }),
            true,
        );
        if let Some(spec) = pipeline.specs.last_mut() {
            spec.tap = Some(slot);
        }
        pipeline
    }

    /// Sends each item to two branches that run concurrently, each on a thread of its own,
    /// and pairs their results in input order: the independent steps of a DAG run in
    /// parallel, and the step after sees both. `left` and `right` build the branches from a
    /// [`Segment`] (called once each).
    ///
    /// Each branch must give one output per input. An item that a branch filters out, or fails
    /// under [`OnError::Skip`], fails the pair: counted once in the stage's `failed()`. A branch
    /// that gives more than one output for an item fails the run with [`BranchOutputs`](crate::BranchOutputs).
    /// The stage's row counts pairs (`workers()` is 2, its times are the branches').
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::Pipeline;
    ///
    /// let out: Vec<(u64, String)> = Pipeline::from_iter(1..=3u64)
    ///     .fork_join(|s| s.map(|x| x * x), |s| s.map(|x| format!("#{x}")))
    ///     .collect::<Vec<_>>()
    ///     .run()
    ///     .unwrap()
    ///     .output;
    /// assert_eq!(out, [(1, "#1".into()), (4, "#2".into()), (9, "#3".into())]);
    /// ```
    pub fn fork_join<A, B, L, R>(mut self, left: L, right: R) -> Pipeline<(A, B)>
    where
        T: Clone,
        A: Send + 'static,
        B: Send + 'static,
        L: FnOnce(Segment<T>) -> Segment<T, A> + Send + 'static,
        R: FnOnce(Segment<T>) -> Segment<T, B> + Send + 'static,
    {
        let index = self.push_spec("fork_join", 2);
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<(A, B)> = Box::new(move |launch: &mut Launch, want| {
            let metrics = Arc::clone(&launch.stages[index]);
            let name = metrics.name.clone();
            let up = upstream(launch, Want::one(capacity, overflow));
            launch.link(&up, &metrics);
            let input = Launch::one(up.taken);
            metrics.set_input(input.capacity(), input.soft_limit());
            // The branches' threads keep their own figures: the row counts pairs.
            let branch = || Arc::new(StageMetrics::new(name.clone(), 1));
            let (left_figures, right_figures) = (branch(), branch());
            let _ = metrics
                .branches
                .set([Arc::clone(&left_figures), Arc::clone(&right_figures)]);
            let (to_right, right_input) = marked(spsc_channel(capacity));
            let (left_sender, left_frames) = marked(spsc_channel(capacity));
            let (right_sender, right_frames) = marked(spsc_channel(capacity));
            let control = Arc::clone(&launch.control);
            let tee = Tee::new(
                input,
                Box::new(to_right),
                capacity,
                Arc::clone(&metrics),
                Arc::clone(&control),
            );
            let (left_op, right_op) = (
                Framed(left(Segment::new()).op),
                Framed(right(Segment::new()).op),
            );
            let branch_cx = |figures| Context {
                in_branch: true,
                ..launch.context(figures)
            };
            let (left_cx, right_cx) = (branch_cx(&left_figures), branch_cx(&right_figures));
            launch.spawn(format!("weir-{name}-left"), move || {
                run_stage(left_op, Box::new(tee), Box::new(left_sender), left_cx)
            });
            launch.spawn(format!("weir-{name}-right"), move || {
                run_stage(
                    right_op,
                    Box::new(right_input),
                    Box::new(right_sender),
                    right_cx,
                )
            });
            let zip = Zip::new(left_frames, right_frames, Arc::clone(&metrics), control);
            let here = Made::upstream(Taken::One(Box::new(zip)), None, metrics);
            match want {
                Want::One { .. } if want.blocks() => here,
                _ => launch.relay(here, &format!("{name}.join"), want),
            }
        });
        rest.with(tail)
    }

    /// Splits the stream by key over `branches` branches: items with equal `key(&item)` go to
    /// the same branch (by weir-mpmc's stable [`Affinity`](weir_mpmc::distribute::Affinity)
    /// hash), so a branch can keep per-key state without a lock, and one key's items stay in
    /// order. `build(index, segment)` builds branch `index`, which runs on a thread of its own;
    /// the branches' outputs merge into one stream as they complete (unordered across keys).
    ///
    /// A router thread sends the items to the branches' queues, which share the stage's
    /// capacity; a hot key's branch makes the router wait when its queue is full.
    ///
    /// # Panics
    ///
    /// If `branches` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use weir_pipeline::Pipeline;
    ///
    /// // A running count per key, kept by the branch that owns the key.
    /// let mut out: Vec<(u32, u32)> = Pipeline::from_iter([1, 2, 1, 3, 1, 2u32])
    ///     .partition(2, |k: &u32| *k, |_, s| {
    ///         let mut seen = HashMap::new();
    ///         s.map(move |k| {
    ///             let count = seen.entry(k).or_insert(0);
    ///             *count += 1;
    ///             (k, *count)
    ///         })
    ///     })
    ///     .collect::<Vec<_>>()
    ///     .run()
    ///     .unwrap()
    ///     .output;
    /// out.sort_unstable();
    /// assert_eq!(out, [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1)]);
    /// ```
    #[track_caller]
    pub fn partition<K, F, U, B>(mut self, branches: usize, key: F, build: B) -> Pipeline<U>
    where
        K: Hash,
        F: Fn(&T) -> K + Send + 'static,
        U: Send + 'static,
        B: Fn(usize, Segment<T>) -> Segment<T, U> + Send + 'static,
    {
        assert!(
            branches > 0,
            "weir_pipeline::Pipeline::partition: a partition needs at least one branch"
        );
        let index = self.push_spec("partition", branches);
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<U> = Box::new(move |launch: &mut Launch, want| {
            let metrics = Arc::clone(&launch.stages[index]);
            let name = metrics.name.clone();
            let out_capacity = want.capacity();
            // The router's figures are hidden, under the stage's name (a panic in `key` is
            // the stage's); what the queue before it drops is the stage's.
            let router = launch.hidden(&name);
            let up = upstream(launch, Want::one(capacity, overflow));
            launch.link(&up, &router);
            if let Some(dropped) = &up.dropped {
                let _ = metrics.dropped.set(Arc::clone(dropped));
            }
            let input = Launch::one(up.taken);
            let per_branch = (capacity / branches).max(1);
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..branches)
                .map(|_| marked(spsc_channel(per_branch)))
                .unzip();
            metrics.set_input(
                per_branch * branches,
                SoftLimit::shared_out(receivers.iter().map(|branch| branch.soft_limit())),
            );
            let route = Route::new(senders, key, per_branch.min(crate::stage::CHUNK));
            let cx = launch.context(&router);
            launch.spawn(format!("weir-{name}"), move || {
                run_stage(Identity::new(), input, Box::new(route), cx)
            });
            // The branches' queues count as one, from the router to the stage.
            launch.links.push((router, Arc::clone(&metrics)));
            let (sender, receiver) = marked_shared(mpmc_channel(out_capacity));
            for (branch, input) in receivers.into_iter().enumerate() {
                let op = build(branch, Segment::new()).op;
                let outlet = Box::new(sender.clone());
                let cx = launch.context(&metrics);
                launch.spawn(format!("weir-{name}-{branch}"), move || {
                    run_stage(op, Box::new(input), outlet, cx)
                });
            }
            let here = Made::upstream(Taken::Shared(receiver), None, metrics);
            match want {
                Want::One { .. } | Want::Shared { .. } if want.blocks() => here,
                _ => launch.relay(here, &format!("{name}.out"), want),
            }
        });
        rest.with(tail)
    }

    /// Adds a stage that runs `segment`'s operations fused on one thread: a chain built
    /// apart (and reusable, by a function that returns it) as one stage, whose default name is
    /// `"then"` ([`Segment::named`] names it). A [`Nested`](crate::Nested) segment, one that
    /// holds a `parallel` stage, adds its stages instead, their names prefixed with its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{Pipeline, Segment};
    ///
    /// let clean = || Segment::new().filter(|x: &i32| *x >= 0).map(|x| x * 2);
    /// let finished = Pipeline::from_iter([-1, 2, 3])
    ///     .then(clean())
    ///     .named("clean")
    ///     .parallel(2, move |s| s.then(clean()))
    ///     .collect::<Vec<_>>()
    ///     .run()
    ///     .unwrap();
    /// let mut out = finished.output;
    /// out.sort_unstable();
    /// assert_eq!(out, [8, 12]);
    /// assert_eq!(finished.report.stage("clean").unwrap().filtered(), 1);
    /// ```
    pub fn then<U: Send + 'static>(self, segment: impl Stages<T, U>) -> Pipeline<U> {
        segment.add_to(self)
    }

    /// Adds a stage that runs `op` fused on one thread, named `name`; `lendable` unless an
    /// item may make several outputs.
    pub(crate) fn fused<U: Send + 'static>(
        self,
        name: &str,
        op: Boxed<T, U>,
        lendable: bool,
    ) -> Pipeline<U> {
        self.serial(name, op, lendable)
    }

    /// Applies `f` to each item.
    pub fn map<U: Send + 'static, F>(self, f: F) -> Pipeline<U>
    where
        F: FnMut(T) -> U + Send + 'static,
    {
        self.serial("map", Map(f), true)
    }

    /// Keeps the items for which `f` is true; the others count as the stage's
    /// [`filtered`](crate::StageReport::filtered).
    pub fn filter<F>(self, f: F) -> Pipeline<T>
    where
        F: FnMut(&T) -> bool + Send + 'static,
    {
        self.serial("filter", Filter(f), true)
    }

    /// Keeps the `Some` results of `f`; a `None` counts as filtered.
    pub fn filter_map<U: Send + 'static, F>(self, f: F) -> Pipeline<U>
    where
        F: FnMut(T) -> Option<U> + Send + 'static,
    {
        self.serial("filter_map", FilterMap(f), true)
    }

    /// Replaces each item by the items of `f(item)`, in order: one item to any number.
    pub fn flat_map<J, F>(self, f: F) -> Pipeline<J::Item>
    where
        F: FnMut(T) -> J + Send + 'static,
        J: IntoIterator,
        J::Item: Send + 'static,
    {
        self.serial("flat_map", FlatMap(f), false)
    }

    /// Calls `f` on each item as it passes.
    pub fn inspect<F>(self, f: F) -> Pipeline<T>
    where
        F: FnMut(&T) + Send + 'static,
    {
        self.serial("inspect", Inspect(f), true)
    }

    /// Applies `f` to each item; an `Err` fails the item: the run stops with it
    /// ([`OnError::FailFast`], the default) or counts it and goes on ([`OnError::Skip`]).
    pub fn try_map<U: Send + 'static, E, F>(self, mut f: F) -> Pipeline<U>
    where
        F: FnMut(T) -> Result<U, E> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.serial(
            "try_map",
            TryMap(move |item| f(item).map_err(|error| Box::new(error) as BoxError)),
            true,
        )
    }

    /// Groups the items into [`Batch`]es of `size` (the last may be shorter).
    ///
    /// # Panics
    ///
    /// If `size` is 0.
    #[track_caller]
    pub fn batch(self, size: usize) -> Pipeline<Batch<T>> {
        assert!(
            size > 0,
            "weir_pipeline::Pipeline::batch: size must be at least 1"
        );
        self.batching("batch", size, None)
    }

    /// Groups the items into [`Batch`]es of `size`, and sends a shorter one once the input
    /// has been idle for `idle` with items waiting.
    ///
    /// # Panics
    ///
    /// If `size` is 0.
    #[track_caller]
    pub fn batch_timeout(self, size: usize, idle: Duration) -> Pipeline<Batch<T>> {
        assert!(
            size > 0,
            "weir_pipeline::Pipeline::batch_timeout: size must be at least 1"
        );
        self.batching("batch_timeout", size, Some(idle))
    }

    fn batching(mut self, name: &str, size: usize, idle: Option<Duration>) -> Pipeline<Batch<T>> {
        let index = self.push_spec(name, 1);
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<Batch<T>> = Box::new(move |launch: &mut Launch, want| {
            let metrics = Arc::clone(&launch.stages[index]);
            let up = upstream(launch, Want::one(capacity, overflow));
            launch.link(&up, &metrics);
            let inlet = Launch::one(up.taken);
            metrics.set_input(inlet.capacity(), inlet.soft_limit());
            let out_capacity = want.capacity();
            // Every batch alive sits in a queue or a stage: a few more than the next queue
            // holds covers the steady state.
            let pool = batch::pool(out_capacity + 16);
            let Made {
                outlet,
                taken,
                dropped,
            } = Launch::queue(want);
            let cx = launch.context(&metrics);
            launch.spawn(format!("weir-{}", metrics.name), move || {
                batch::run_batch(size, idle, pool, inlet, outlet, cx)
            });
            Made::upstream(taken, dropped, metrics)
        });
        rest.with(tail)
    }

    /// Runs a segment on each of several worker threads: `build` is called once per worker
    /// (so each worker owns its closures, which need not be `Sync`) and the worker's segment
    /// runs fused on its thread.
    ///
    /// `workers` is a number (unordered) or a [`Workers`]: unordered, items come out as they
    /// complete, and the workers share one input queue, so uneven items balance; with
    /// [`Workers::ordered`], they come out in the input order, handed to the workers in turns
    /// of a few items and read back in the same turns (the reorder window is the workers'
    /// queues, so one slow item holds the input back instead of growing memory). Right after
    /// [`from_iter`](Self::from_iter), the workers of either kind read the iterator
    /// themselves, a chunk (a turn) at a time, with no thread and no queue before them.
    ///
    /// When the workers alone fill every core (`workers >= available_parallelism()`), the
    /// thread that reads the stage's output (the sink, or a serial stage) runs the last worker
    /// itself instead of a thread of its own: between its reads, and only on input it can
    /// take without waiting (a queue, or a `from_iter` source that knows its exact length; or,
    /// ordered after a thread that deals it turns, when that worker's outputs are next). A
    /// thread more would only
    /// take a core from a worker. Not for a segment with a `flat_map`, whose outputs a thread
    /// hands on as it goes. `build` is still called once per worker; the closures of the last
    /// worker then run on the reader's thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::Pipeline;
    ///
    /// let mut squares: Vec<u64> = Pipeline::from_iter(0..1000u64)
    ///     .parallel(2, |s| s.map(|x| x * x))
    ///     .collect::<Vec<_>>()
    ///     .run()
    ///     .unwrap()
    ///     .output;
    /// squares.sort_unstable();
    /// assert_eq!(squares, (0..1000u64).map(|x| x * x).collect::<Vec<_>>());
    /// ```
    #[track_caller]
    pub fn parallel<U, B>(mut self, workers: impl Into<Workers>, build: B) -> Pipeline<U>
    where
        U: Send + 'static,
        B: Fn(Segment<T>) -> Segment<T, U> + Send + 'static,
    {
        let workers = workers.into();
        assert!(
            !(workers.is_ordered() && self.overflow != Overflow::Block),
            "weir_pipeline::Pipeline::parallel: an ordered stage cannot follow a dropping \
             overflow policy (its reorder window counts every item)"
        );
        let count = workers.max();
        let index = self.push_spec("parallel", count);
        let (capacity, overflow) = (self.capacity, self.overflow);
        let (upstream, rest) = self.split();
        let tail: Tail<U> = Box::new(move |launch: &mut Launch, want| {
            let metrics = Arc::clone(&launch.stages[index]);
            let name = metrics.name.clone();
            let out_capacity = want.capacity();
            let scale = Arc::new(Scale::new(
                workers.count(),
                workers.min(),
                workers.max(),
                workers.is_scaling(),
            ));
            let _ = metrics.scale.set(Arc::clone(&scale));
            if !workers.is_ordered() {
                // The workers read a source right before them themselves, unless an overflow
                // policy (a queue's) comes between.
                let pull = overflow == Overflow::Block;
                let up = upstream(
                    launch,
                    Want::Shared {
                        capacity,
                        pull,
                        overflow,
                    },
                );
                launch.link(&up, &metrics);
                if let Taken::Shared(input) = &up.taken {
                    metrics.set_input(input.capacity(), input.soft_limit());
                }
                let (sender, receiver) = marked_shared(mpmc_channel(out_capacity));
                let segments: Vec<Segment<T, U>> =
                    (0..count).map(|_| build(Segment::new())).collect();
                // The last worker may be run by the stage's reader instead of a thread, when
                // it can take its input without waiting.
                let reader_helps = matches!(want, Want::One { .. })
                    && want.blocks()
                    && up.taken.takes_without_waiting()
                    && help::reader_helps(&workers, &segments);
                let threads = count - usize::from(reader_helps);
                let mut helper: Option<Box<dyn Help<U>>> = None;
                for (worker, segment) in segments.into_iter().enumerate() {
                    let op = segment.op;
                    let inlet = up.taken.share();
                    let cx = Context {
                        seat: Some(Seat {
                            scale: Arc::clone(&scale),
                            index: worker,
                        }),
                        ..launch.context(&metrics)
                    };
                    if worker == threads {
                        helper = Some(Box::new(StageLoop::new(op, inlet, Kept::new(), cx)));
                        continue;
                    }
                    let outlet = Box::new(sender.clone());
                    launch.spawn(format!("weir-{name}-{worker}"), move || {
                        run_stage(op, inlet, outlet, cx)
                    });
                }
                let taken = match helper {
                    Some(worker) => Taken::One(Box::new(Helped::new(Box::new(receiver), worker))),
                    None => Taken::Shared(receiver),
                };
                let here = Made::upstream(taken, None, metrics);
                match want {
                    // The stage's own output queue, unless the next one drops items.
                    Want::One { .. } | Want::Shared { .. } if want.blocks() => here,
                    Want::One { .. } | Want::Shared { .. } => {
                        launch.relay(here, &format!("{name}.out"), want)
                    }
                    Want::Dealt { .. } => launch.relay(here, &format!("{name}.deal"), want),
                }
            } else {
                let per_worker = (capacity / count).max(1);
                let per_worker_out = (out_capacity / count).max(1);
                let up = upstream(
                    launch,
                    Want::Dealt {
                        workers: count,
                        capacity: per_worker,
                        window: per_worker_out,
                        staffing: Staffing {
                            scale: Arc::clone(&scale),
                            control: Arc::clone(&launch.control),
                        },
                    },
                );
                launch.link(&up, &metrics);
                let segments: Vec<Segment<T, U>> =
                    (0..count).map(|_| build(Segment::new())).collect();
                let merged = match up.taken {
                    Taken::Dealt(inputs, log) => {
                        metrics.set_input(
                            per_worker * count,
                            SoftLimit::shared_out(inputs.iter().map(|input| input.soft_limit())),
                        );
                        // The last worker may be run by the stage's reader instead of a thread.
                        let reader_helps = matches!(want, Want::One { .. })
                            && want.blocks()
                            && help::reader_helps(&workers, &segments);
                        let threads = count - usize::from(reader_helps);
                        let mut outputs: Vec<Box<dyn Inlet<Frame<U>>>> = Vec::with_capacity(count);
                        for ((worker, input), segment) in
                            inputs.into_iter().enumerate().zip(segments)
                        {
                            let op = Framed(segment.op);
                            let inlet = Box::new(input);
                            let cx = launch.context(&metrics);
                            if worker == threads {
                                let stage = StageLoop::new(op, inlet, Kept::new(), cx);
                                outputs.push(Box::new(OwnTurns::new(stage, per_worker_out)));
                                continue;
                            }
                            let thread = format!("weir-{name}-{worker}");
                            outputs.push(spawn_ordered_worker(
                                launch,
                                thread,
                                op,
                                inlet,
                                cx,
                                per_worker_out,
                            ));
                        }
                        Ordered::new(outputs, log)
                    }
                    Taken::PulledTurns(source, log) => {
                        // The workers take their turns from the source, like an unordered
                        // stage's (so they follow the count of workers the same way), and the
                        // reader may run the last one between its reads.
                        let reader_helps = matches!(want, Want::One { .. })
                            && want.blocks()
                            && source.never_waits()
                            && help::reader_helps(&workers, &segments);
                        let threads = count - usize::from(reader_helps);
                        let mut outputs: Vec<Box<dyn Inlet<Frame<U>>>> = Vec::with_capacity(count);
                        let mut ahead: Option<Box<dyn Help<Frame<U>>>> = None;
                        for (worker, segment) in segments.into_iter().enumerate() {
                            let op = Framed(segment.op);
                            let inlet = Box::new(source.worker(worker, worker < threads));
                            let cx = Context {
                                seat: Some(Seat {
                                    scale: Arc::clone(&scale),
                                    index: worker,
                                }),
                                ..launch.context(&metrics)
                            };
                            if worker == threads {
                                ahead = Some(Box::new(StageLoop::new(op, inlet, Kept::new(), cx)));
                                continue;
                            }
                            let thread = format!("weir-{name}-{worker}");
                            outputs.push(spawn_ordered_worker(
                                launch,
                                thread,
                                op,
                                inlet,
                                cx,
                                per_worker_out,
                            ));
                        }
                        Ordered::pulled(outputs, ahead, per_worker_out, log)
                    }
                    _ => unreachable!("turns were asked for"),
                };
                let here = Made::upstream(Taken::One(Box::new(merged)), None, metrics);
                match want {
                    Want::One { .. } if want.blocks() => here,
                    _ => launch.relay(here, &format!("{name}.merge"), want),
                }
            }
        });
        rest.with(tail)
    }
}

/// Starts a worker of an ordered stage on the thread `thread`, its framed outputs going to a
/// ring of `capacity`; returns the ring's reading end, for the merge.
fn spawn_ordered_worker<I, P>(
    launch: &mut Launch,
    thread: String,
    op: P,
    inlet: Box<dyn Inlet<I>>,
    cx: Context,
    capacity: usize,
) -> Box<dyn Inlet<P::Out>>
where
    I: Send + 'static,
    P: Op<I> + Send + 'static,
    P::Out: Send + 'static,
{
    let (sender, receiver) = marked(spsc_channel(capacity));
    let outlet = Box::new(sender);
    launch.spawn(thread, move || run_stage(op, inlet, outlet, cx));
    Box::new(receiver)
}

/// A pipeline without its last stage.
struct Rest {
    specs: Vec<Spec>,
    capacity: usize,
    settings: Settings,
}

impl Rest {
    fn with<U>(self, tail: Tail<U>) -> Pipeline<U> {
        Pipeline {
            tail,
            specs: self.specs,
            capacity: self.capacity,
            // The policy applied to the queue of the stage just added.
            overflow: Overflow::Block,
            settings: self.settings,
        }
    }
}

impl<T> fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.specs.iter().map(|spec| spec.name.as_str()).collect();
        f.debug_struct("Pipeline")
            .field("stages", &names)
            .field("capacity", &self.capacity)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
