//! What a run did, stage by stage: the [`Report`] that `run` returns (and `Running::report`
//! shows live), one [`StageReport`] per stage.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Percentiles of a sampled latency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest sample.
    pub max: Duration,
    /// How many calls were timed.
    pub samples: u64,
}

impl Latency {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: Duration::from_nanos(histogram.value_at_quantile(0.5)),
            p99: Duration::from_nanos(histogram.value_at_quantile(0.99)),
            max: Duration::from_nanos(histogram.max()),
            samples: histogram.len(),
        }
    }
}

/// The figures of one stage.
///
/// For a stage with one output per input (`map`, `filter`, `filter_map`, `inspect`,
/// `try_map`, and `parallel` over those),
/// `items_in == items_out + filtered + failed + discarded`, even after a failure or a cancel.
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    pub(crate) name: String,
    pub(crate) items_in: u64,
    pub(crate) items_out: u64,
    pub(crate) filtered: u64,
    pub(crate) failed: u64,
    pub(crate) discarded: u64,
    pub(crate) workers: usize,
    /// The threads the stage started (a scaling stage's most workers).
    pub(crate) threads: usize,
    pub(crate) scale_events: u64,
    pub(crate) dropped: u64,
    pub(crate) busy: Duration,
    pub(crate) input_wait: Duration,
    pub(crate) output_wait: Duration,
    pub(crate) latency: Latency,
    pub(crate) capacity: usize,
    /// The input queue's soft limit when the report was made.
    pub(crate) limit: usize,
    pub(crate) occupancy_max: usize,
    pub(crate) occupancy_mean: f64,
    pub(crate) pressure_events: u64,
}

impl StageReport {
    /// The stage's name: the one given with `named`, else the method's (`"map"`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Items the stage took from its input queue.
    pub fn items_in(&self) -> u64 {
        self.items_in
    }

    /// Items the stage passed on (batches, for a `batch` stage).
    pub fn items_out(&self) -> u64 {
        self.items_out
    }

    /// Items a `filter` or `filter_map` of the stage dropped.
    pub fn filtered(&self) -> u64 {
        self.filtered
    }

    /// Items whose `try_map` returned `Err` or whose closure panicked.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Items the stage had taken when the run stopped, and dropped unfinished.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// The number of workers of the stage running now (1 but for `parallel`; for a parallel
    /// stage, its active count, which [`Workers::scaling`](crate::Workers::scaling) and
    /// [`Running::set_workers`](crate::Running::set_workers) change).
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Items its input queue's [`Overflow`](crate::Overflow) policy dropped (the newest or
    /// the oldest) instead of waiting for room: they never reached the stage.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many times the stage's count of active workers changed.
    pub fn scale_events(&self) -> u64 {
        self.scale_events
    }

    /// Time its threads spent in the stage's closures, summed over its workers.
    pub fn busy(&self) -> Duration {
        self.busy
    }

    /// Time its threads waited for input (an empty input queue), summed over its workers.
    pub fn input_wait(&self) -> Duration {
        self.input_wait
    }

    /// Time its threads waited on a full output queue (backpressure), summed over its workers.
    pub fn output_wait(&self) -> Duration {
        self.output_wait
    }

    /// The latency of one call of the stage's closures (one item in 256 is timed).
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// The capacity of the stage's input queue (for `parallel`, all its workers' queues), as
    /// allocated when the run started: the most [`limit`](Self::limit) can be.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The soft limit of the stage's input queue when the report was made: how many items
    /// the stages before it may queue, which [`Running::set_capacity`](crate::Running::set_capacity)
    /// moves inside the [`capacity`](Self::capacity). The capacity until it is set; 0 for a
    /// stage without an input queue.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most items seen waiting in the input queue (sampled each time the stage comes for a chunk).
    pub fn max_occupancy(&self) -> usize {
        self.occupancy_max
    }

    /// The mean number of items waiting in the input queue (sampled each time the stage comes for a chunk).
    pub fn mean_occupancy(&self) -> f64 {
        self.occupancy_mean
    }

    /// How many times the input queue went from below a quarter full to above three quarters
    /// (of its [`limit`](Self::limit) at the time).
    pub fn pressure_events(&self) -> u64 {
        self.pressure_events
    }

    /// The share of `elapsed` that the stage's threads spent in its closures, averaged over
    /// the threads it started (for a scaling stage, its most workers): 1.0 when every one was
    /// busy all the time.
    pub fn busy_share(&self, elapsed: Duration) -> f64 {
        let available = elapsed.as_secs_f64() * self.threads.max(1) as f64;
        if available == 0.0 {
            0.0
        } else {
            (self.busy.as_secs_f64() / available).min(1.0)
        }
    }

    /// How full its input queue was on average, from 0.0 to 1.0 (0.0 without a queue), against
    /// its soft limit: a queue limited to 8 items that holds 6 is three quarters full,
    /// whatever it was allocated.
    fn fullness(&self) -> f64 {
        if self.limit == 0 {
            0.0
        } else {
            (self.occupancy_mean / self.limit as f64).min(1.0)
        }
    }
}

/// A stage busier than this share of the run is a bottleneck whatever its queue shows.
const BOTTLENECK_BUSY: f64 = 0.5;

/// A stage whose input queue was on average fuller than this is held up by its own work.
const BOTTLENECK_FULL: f64 = 0.5;

/// What a run did: one [`StageReport`] per stage between the source and the sink, and the
/// totals.
///
/// The counts always add up, even after a failure or a cancel: for a pipeline of stages with
/// one output per input,
/// `items_in() == items_out() + Σ filtered + Σ failed + dropped() + discarded()`.
///
/// `Display` prints it as a table.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Pipeline;
///
/// let finished = Pipeline::from_iter(0..1000u32)
///     .filter(|x| x % 3 == 0)
///     .map(|x| x * 2)
///     .named("double")
///     .collect::<Vec<_>>()
///     .run()
///     .unwrap();
/// let report = &finished.report;
/// assert_eq!(report.items_in(), 1000);
/// assert_eq!(report.items_out(), 334);
/// assert_eq!(report.stage("filter").unwrap().filtered(), 666);
/// assert_eq!(report.stage("double").unwrap().items_in(), 334);
/// println!("{report}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub(crate) stages: Vec<StageReport>,
    pub(crate) items_in: u64,
    pub(crate) items_out: u64,
    pub(crate) discarded: u64,
    pub(crate) dropped: u64,
    pub(crate) elapsed: Duration,
    pub(crate) latency: Latency,
    pub(crate) errors: Vec<String>,
}

impl Report {
    /// The stages between the source and the sink, in order.
    pub fn stages(&self) -> &[StageReport] {
        &self.stages
    }

    /// The stage of this name (the first, if several share it).
    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.stages.iter().find(|stage| stage.name == name)
    }

    /// Items taken from the source.
    pub fn items_in(&self) -> u64 {
        self.items_in
    }

    /// Items given to the sink.
    pub fn items_out(&self) -> u64 {
        self.items_out
    }

    /// Items dropped unfinished because the run stopped: those left in the queues, and those
    /// a stage or the sink held.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Items that overflow policies dropped: every stage's [`StageReport::dropped`], and the
    /// sink's queue's.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Time from the start of the run to its end (or to this snapshot).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The end-to-end latency: from the source taking an item to the sink taking it.
    ///
    /// Sampled: the source marks about one item a millisecond (and the first), and the mark
    /// rides beside the queues to the first output of the chunk that held its item, so the
    /// items themselves carry nothing. Exact to the chunk through serial stages and ordered
    /// parallel ones, within a chunk or so through unordered ones; a mark whose chunk a stage
    /// filtered out entirely is dropped. `samples` is 0 when no marked item reached the sink.
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// The stage that limits the run's throughput, if one does: of the stages that were busy
    /// in their closures at least half the time ([`StageReport::busy_share`]), or whose input
    /// queue was on average at least half full while they waited less on their output than
    /// they worked, the busiest. `None` when no stage is (the source, the sink or the hand-offs
    /// set the pace) or before any time has passed.
    ///
    /// The report's table marks it with `*`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_pipeline::Pipeline;
    ///
    /// let finished = Pipeline::from_iter(0..200u32)
    ///     .map(|x| x + 1)
    ///     .map(|x| {
    ///         std::thread::sleep(Duration::from_micros(200));
    ///         x
    ///     })
    ///     .named("slow")
    ///     .for_each(drop)
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(finished.report.bottleneck(), Some("slow"));
    /// ```
    pub fn bottleneck(&self) -> Option<&str> {
        self.bottleneck_index()
            .map(|index| self.stages[index].name.as_str())
    }

    fn bottleneck_index(&self) -> Option<usize> {
        let limits = |stage: &StageReport| {
            stage.busy_share(self.elapsed) >= BOTTLENECK_BUSY
                || (stage.fullness() >= BOTTLENECK_FULL && stage.output_wait <= stage.busy)
        };
        self.stages
            .iter()
            .enumerate()
            .filter(|(_, stage)| limits(stage))
            .max_by(|(_, a), (_, b)| {
                let (a, b) = (a.busy_share(self.elapsed), b.busy_share(self.elapsed));
                a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|(index, _)| index)
    }

    /// The first few errors skipped under [`OnError::Skip`](crate::OnError::Skip), as
    /// `"stage: message"`.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Items per second from the source over the run.
    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds == 0.0 {
            0.0
        } else {
            self.items_in as f64 / seconds
        }
    }
}

/// A duration in the unit that fits it, in at most 6 characters.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos() as f64;
        let text = if ns < 1e3 {
            format!("{ns:.0}ns")
        } else if ns < 1e6 {
            format!("{:.1}µs", ns / 1e3)
        } else if ns < 1e9 {
            format!("{:.1}ms", ns / 1e6)
        } else {
            format!("{:.2}s", ns / 1e9)
        };
        f.pad(&text)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items in, {} out, {} discarded{}, in {} ({:.0} items/s)",
            self.items_in,
            self.items_out,
            self.discarded,
            if self.dropped == 0 {
                String::new()
            } else {
                format!(", {} dropped", self.dropped)
            },
            Short(self.elapsed),
            self.throughput()
        )?;
        if self.latency.samples != 0 {
            writeln!(
                f,
                "end to end: p50 {}, p99 {}, max {} ({} sampled)",
                Short(self.latency.p50),
                Short(self.latency.p99),
                Short(self.latency.max),
                self.latency.samples
            )?;
        }
        let width = self
            .stages
            .iter()
            .map(|stage| stage.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(
            f,
            " {:<width$} {:>3} {:>10} {:>10} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11} {:>5}",
            "stage", "thr", "in", "out", "filtered", "failed", "busy", "wait in", "wait out",
            "p50", "p99", "max", "queue", "press"
        )?;
        let bottleneck = self.bottleneck_index();
        for (index, stage) in self.stages.iter().enumerate() {
            let mark = if bottleneck == Some(index) { '*' } else { ' ' };
            writeln!(
                f,
                "{mark}{:<width$} {:>3} {:>10} {:>10} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11} {:>5}",
                stage.name,
                stage.workers,
                stage.items_in,
                stage.items_out,
                stage.filtered,
                stage.failed,
                Short(stage.busy),
                Short(stage.input_wait),
                Short(stage.output_wait),
                Short(stage.latency.p50),
                Short(stage.latency.p99),
                Short(stage.latency.max),
                format!(
                    "{:.0}/{}/{}",
                    stage.occupancy_mean, stage.occupancy_max, stage.limit
                ),
                stage.pressure_events,
            )?;
        }
        for stage in self.stages.iter().filter(|stage| stage.dropped != 0) {
            writeln!(
                f,
                "dropped by the overflow policy before {}: {}",
                stage.name, stage.dropped
            )?;
        }
        if let Some(index) = bottleneck {
            let name = &self.stages[index].name;
            writeln!(f, "* the bottleneck: {name}, the busiest stage")?;
        }
        for error in &self.errors {
            writeln!(f, "skipped: {error}")?;
        }
        Ok(())
    }
}
