//! weir-pipeline's dynamic, hierarchical and stream shapes (issue 12, "How fast"), each run
//! through `weir_pipeline::Pipeline` and each checking what came out (counts and sums, order
//! where it is kept, the report's accounting), so that a wrong run stops the table:
//!
//! - *scaling* ([`scaling`]): a source rate-limited to [`Phases::rate`] items a second whose
//!   items come in three phases, cheap (no work), expensive (a busy loop one worker cannot keep
//!   up with at that rate, two can), cheap again, through one `parallel` stage of fixed 1
//!   worker, fixed `max` workers, or `Workers::scaling(1, max)`. The point: scaling keeps near
//!   the fixed-`max` throughput, and spends less CPU while the load is low.
//! - *fork_join* ([`fork_join`], [`one_stage`]): two independent busy steps per item as
//!   `fork_join(|s| s.map(step_a), |s| s.map(step_b))` and a merging `map`, against the two
//!   steps one after the other in one stage; the makespan of all the items.
//! - *overload* ([`overload`]): a source rate-limited to twice what the stage after it can do,
//!   [`Overflow::DropOldest`] (or [`Overflow::Block`]) on the queue between them: the end-to-end
//!   latency of the items that get through, from each item's *due* instant (item `i` is due at
//!   `i / rate` after the start, as in [`crate::pipeline`]'s latency workload, so time an item
//!   spent waiting for a blocked source counts), and the share dropped.
//! - the seed's targets: *dynamic* is the scaling row's throughput (target > 300K items/s);
//!   *hierarchical* ([`hierarchical`]) is `from_iter` → `then(segment)` (map, filter) →
//!   `parallel(max, ..)` whose workers each run a three-step segment (map, map, filter) →
//!   `partition(2, key, ..)` whose branches keep a running count per key → a summing fold,
//!   items per second (target > 800K items/s); *stream* ([`stream`]) is a source rate-limited
//!   to [`STREAM_RATE`] through three relaying stages, `overflow(DropOldest)` on every queue
//!   (into each stage and into the sink), items delivered per second and the p99 latency from the source taking an item
//!   to the sink (target > 1.5M items/s with p99 < 0.5 ms).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use weir_pipeline::{Finished, Overflow, Pipeline, PipelineError, Report, Segment, Workers};

use crate::cpu::{self, Usage};
use crate::fail;
use crate::pipeline::Latencies;
use crate::skewed::spin;

/// The most workers the dynamic rows run: the machine's cores.
pub fn max_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Iterations of the busy loop ([`spin`]) in a microsecond on this machine: the fastest of
/// many short timed runs, since on a shared machine a slower run is one that was preempted
/// (the median of long runs, as [`crate::skewed::calibrate`] takes, can read twice the
/// real cost under load, and the work would be half what its label says). Measured once.
pub fn iterations_per_microsecond() -> f64 {
    static PER_US: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *PER_US.get_or_init(|| {
        const PROBE: u64 = 100_000;
        let fastest = (0..31)
            .map(|_| {
                let start = Instant::now();
                black_box(spin(black_box(PROBE)));
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::from_micros(1));
        PROBE as f64 / (fastest.as_secs_f64() * 1e6).max(1e-9)
    })
}

/// Iterations of the busy loop that take about `length` (see [`iterations_per_microsecond`]).
pub fn iterations(length: Duration) -> u64 {
    ((iterations_per_microsecond() * length.as_secs_f64() * 1e6).round() as u64).max(1)
}

/// Stops the run on a pipeline error, else hands back what it finished with.
fn finished<R>(name: &str, result: Result<Finished<R>, PipelineError>) -> Finished<R> {
    result.unwrap_or_else(|err| fail(&format!("{name}: {err}")))
}

/// Stops the run unless `count` items summing to `sum` are `0..items`.
fn check_range(name: &str, count: u64, sum: u64, items: u64) {
    let expected = items.wrapping_mul(items.wrapping_sub(1)) / 2;
    if count != items || sum != expected {
        fail(&format!(
            "{name}: {count} items (sum {sum}) came out of {items} (sum {expected})"
        ));
    }
}

/// The busy loop's iterations in one cheap, and one expensive, item of the scaling workload;
/// and how many items each of its three phases holds, at [`Phases::rate`].
#[derive(Clone, Debug)]
pub struct Phases {
    /// Items per second from the source.
    pub rate: u64,
    /// The items of each phase: cheap, expensive, cheap.
    pub items: [u64; 3],
    /// Busy-loop iterations of an expensive item (a cheap one runs none).
    pub expensive: u64,
}

impl Phases {
    /// Phases lasting `durations` at `rate` items a second, an expensive item being
    /// `expensive` iterations of the busy loop.
    pub fn new(rate: u64, durations: [Duration; 3], expensive: u64) -> Self {
        let items = durations.map(|d| ((d.as_secs_f64() * rate as f64) as u64).max(1));
        Phases {
            rate,
            items,
            expensive,
        }
    }

    /// All the items.
    pub fn total(&self) -> u64 {
        self.items.iter().sum()
    }

    /// The busy-loop iterations of item `index`.
    #[inline(always)]
    fn cost(&self, index: u64) -> u64 {
        let [first, second, _] = self.items;
        if index >= first && index < first + second {
            self.expensive
        } else {
            0
        }
    }
}

/// What one scaling run measured.
#[derive(Clone, Copy, Debug)]
pub struct ScaleRun {
    /// From the start to the last item out, thread start-up included.
    pub elapsed: Duration,
    /// The process's CPU time and switches over the run.
    pub usage: Option<Usage>,
    /// The stage's active workers at the end.
    pub workers: usize,
    /// How many times the stage's worker count changed.
    pub scale_events: u64,
}

/// The scaling workload through `parallel(workers, ..)`: every index of `phases` once, its
/// busy loop run by a worker, counted and summed by the sink.
pub fn scaling(name: &str, phases: &Arc<Phases>, workers: Workers) -> ScaleRun {
    let items = phases.total();
    let work = Arc::clone(phases);
    let ((elapsed, done), usage) = cpu::measure(|| {
        let start = Instant::now();
        let done = finished(
            name,
            Pipeline::from_iter(0..items)
                .rate_limit(work.rate)
                .parallel(workers, move |segment| {
                    let work = Arc::clone(&work);
                    segment.map(move |index| {
                        black_box(spin(work.cost(index)));
                        index
                    })
                })
                .named("work")
                .fold((0u64, 0u64), |(count, sum), index| {
                    (count + 1, sum.wrapping_add(index))
                })
                .run(),
        );
        (start.elapsed(), done)
    });
    let (count, sum) = done.output;
    check_range(name, count, sum, items);
    let stage = done
        .report
        .stage("work")
        .unwrap_or_else(|| fail(&format!("{name}: no stage `work` in the report")));
    ScaleRun {
        elapsed,
        usage,
        workers: stage.workers(),
        scale_events: stage.scale_events(),
    }
}

/// The two independent steps of the fork_join workload: each a busy loop of `iterations`,
/// with results the checks can predict.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    /// Items per run.
    pub items: u64,
    /// Busy-loop iterations of each step.
    pub iterations: u64,
}

impl Steps {
    /// The first step.
    #[inline(always)]
    pub fn a(self, x: u64) -> u64 {
        black_box(spin(self.iterations));
        x.wrapping_mul(3)
    }

    /// The second step.
    #[inline(always)]
    pub fn b(self, x: u64) -> u64 {
        black_box(spin(self.iterations));
        x ^ 0x5555
    }

    /// The step after both: their sum.
    #[inline(always)]
    pub fn merge((a, b): (u64, u64)) -> u64 {
        a.wrapping_add(b)
    }

    /// The total of every item's merge, without running the steps.
    pub fn expected(self) -> u64 {
        (0..self.items).fold(0u64, |sum, x| {
            sum.wrapping_add(x.wrapping_mul(3).wrapping_add(x ^ 0x5555))
        })
    }

    /// Both steps on every item, one after the other, on the calling thread: the work the
    /// pipelines share out. Returns the time, after checking the total.
    pub fn sequential(self) -> Duration {
        let start = Instant::now();
        let total = (0..black_box(self.items)).fold(0u64, |sum, x| {
            sum.wrapping_add(Steps::merge((self.a(x), self.b(x))))
        });
        let elapsed = start.elapsed();
        check_sum("sequential steps", total, self.expected());
        elapsed
    }
}

/// Stops the run unless `name`'s total is `expected`.
fn check_sum(name: &str, total: u64, expected: u64) {
    if total != expected {
        fail(&format!("{name}: total {total}, expected {expected}"));
    }
}

/// The row label of the fork_join pipeline.
pub const FORK_JOIN: &str =
    "weir-pipeline fork_join(|s| s.map(step_a), |s| s.map(step_b)).map(merge)";
/// The row label of the two steps in one stage.
pub const ONE_STAGE: &str =
    "weir-pipeline .map(|x| (step_a(x), step_b(x))).map(merge) (one stage, the baseline)";

/// `steps.items` items through `fork_join` of the two steps and a merging `map`: the makespan,
/// after checking the total.
pub fn fork_join(steps: Steps) -> Duration {
    let start = Instant::now();
    let done = finished(
        FORK_JOIN,
        Pipeline::from_iter(0..steps.items)
            .fork_join(
                move |s| s.map(move |x| steps.a(x)),
                move |s| s.map(move |x| steps.b(x)),
            )
            .map(Steps::merge)
            .fold(0u64, u64::wrapping_add)
            .run(),
    );
    let elapsed = start.elapsed();
    check_sum(FORK_JOIN, done.output, steps.expected());
    elapsed
}

/// The same items with both steps one after the other in one stage: the makespan, after
/// checking the total.
pub fn one_stage(steps: Steps) -> Duration {
    let start = Instant::now();
    let done = finished(
        ONE_STAGE,
        Pipeline::from_iter(0..steps.items)
            .map(move |x| (steps.a(x), steps.b(x)))
            .map(Steps::merge)
            .fold(0u64, u64::wrapping_add)
            .run(),
    );
    let elapsed = start.elapsed();
    check_sum(ONE_STAGE, done.output, steps.expected());
    elapsed
}

/// An HDR histogram of nanoseconds, 1 ns to 100 s.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3)
        .unwrap_or_else(|err| fail(&format!("hdrhistogram: {err}")))
}

/// The percentiles of `histogram`, in ns.
fn latencies(histogram: &Histogram<u64>) -> Latencies {
    Latencies {
        p50: histogram.value_at_quantile(0.5) as f64,
        p99: histogram.value_at_quantile(0.99) as f64,
        max: histogram.max() as f64,
    }
}

/// The sink of the overload and stream workloads: items `(index, taken)` (`taken`: ns from
/// the run's base to the source taking the item), their latencies from their due instant
/// (`index * period`) and from `taken`, and a check that the indices only rise (the stages
/// keep order; a dropping queue only removes items).
#[derive(Debug)]
struct Survivors {
    base: Instant,
    period: u64,
    from_due: Histogram<u64>,
    from_taken: Histogram<u64>,
    count: u64,
    next: u64,
    out_of_order: u64,
}

impl Survivors {
    fn new(base: Instant, period: u64) -> Self {
        Survivors {
            base,
            period,
            from_due: histogram(),
            from_taken: histogram(),
            count: 0,
            next: 0,
            out_of_order: 0,
        }
    }

    #[inline(always)]
    fn record(mut self, (index, taken): (u64, u64)) -> Self {
        let now = self.base.elapsed().as_nanos() as u64;
        let due = index * self.period;
        self.from_due
            .saturating_record(now.saturating_sub(due).max(1));
        self.from_taken
            .saturating_record(now.saturating_sub(taken).max(1));
        if index < self.next {
            self.out_of_order += 1;
        }
        self.next = index + 1;
        self.count += 1;
        self
    }

    /// Stops the run unless the sink's items, the report and `items` agree: every item in,
    /// each either out (in order, counted by the sink) or dropped.
    fn check(&self, name: &str, report: &Report, items: u64) {
        let (items_in, out, dropped) = (report.items_in(), report.items_out(), report.dropped());
        if self.out_of_order != 0
            || self.next > items
            || items_in != items
            || out != self.count
            || items_in != out + dropped
        {
            fail(&format!(
                "{name}: {items} items, report in {items_in} out {out} dropped {dropped}, sink \
                 {} ({} out of order, last index {})",
                self.count,
                self.out_of_order,
                self.next.wrapping_sub(1)
            ));
        }
    }
}

/// `(index, ns since base when the source took it)` for every index: the source of the
/// overload and stream workloads.
fn stamped(base: Instant, items: u64) -> impl Iterator<Item = (u64, u64)> + Send {
    (0..items).map(move |index| (index, base.elapsed().as_nanos() as u64))
}

/// The overload workload's figures.
#[derive(Clone, Debug)]
pub struct Overload {
    /// Items per run.
    pub items: u64,
    /// Items per second from the source.
    pub rate: u64,
    /// Busy-loop iterations per item in the stage (about 2 / `rate`).
    pub iterations: u64,
    /// The capacity of the queue into the stage.
    pub capacity: usize,
}

/// What one overload or stream run measured.
#[derive(Clone, Copy, Debug)]
pub struct Survived {
    /// From the start to the last item out.
    pub elapsed: Duration,
    /// Latencies from each item's due instant.
    pub from_due: Latencies,
    /// Latencies from the source taking each item.
    pub from_taken: Latencies,
    /// Items that reached the sink.
    pub delivered: u64,
    /// Items the overflow policies dropped.
    pub dropped: u64,
}

impl Survived {
    /// The share of the items dropped.
    pub fn dropped_share(&self) -> f64 {
        self.dropped as f64 / (self.delivered + self.dropped).max(1) as f64
    }

    /// Items delivered per second.
    pub fn throughput(&self) -> f64 {
        self.delivered as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// The overload workload: `work.items` items from a source limited to `work.rate`, `policy` on
/// the queue (of `work.capacity`) into a stage that takes about 2 / `rate` per item.
pub fn overload(name: &str, work: &Overload, policy: Overflow) -> Survived {
    let (items, iterations) = (work.items, work.iterations);
    let period = 1_000_000_000 / work.rate;
    let base = Instant::now();
    let done = finished(
        name,
        Pipeline::from_iter(stamped(base, items))
            .rate_limit(work.rate)
            .overflow(policy)
            .capacity(work.capacity)
            .map(move |item| {
                black_box(spin(iterations));
                item
            })
            .named("slow")
            .fold(Survivors::new(base, period), Survivors::record)
            .run(),
    );
    let elapsed = base.elapsed();
    let survivors = done.output;
    survivors.check(name, &done.report, items);
    Survived {
        elapsed,
        from_due: latencies(&survivors.from_due),
        from_taken: latencies(&survivors.from_taken),
        delivered: survivors.count,
        dropped: done.report.dropped(),
    }
}

/// Keys of the hierarchical workload's partition.
const KEYS: u64 = 16;

/// The hierarchical workload's first segment, run by `then`: map, filter.
fn prepare() -> Segment<u64> {
    Segment::new()
        .map(|x: u64| x.wrapping_mul(3))
        .filter(|x| x % 4 != 1)
}

/// The segment each worker of its parallel stage runs: map, map, filter.
fn refine() -> Segment<u64> {
    Segment::new()
        .map(|x: u64| x ^ (x >> 3))
        .map(|x| x.wrapping_add(7))
        .filter(|x| x % 5 != 0)
}

/// What one partition branch does: each item plus the running count of its key (the branch
/// owns the key, so the count needs no lock).
fn count_keys(segment: Segment<u64>) -> Segment<u64> {
    let mut seen = [0u64; KEYS as usize];
    segment.map(move |x| {
        let count = &mut seen[(x % KEYS) as usize];
        *count += 1;
        x.wrapping_add(*count)
    })
}

/// The hierarchical workload's total, by a plain loop: the sum of what comes out of the two
/// segments, plus `1 + .. + m` for each key's `m` items (whatever their order).
pub fn hierarchical_expected(items: u64) -> u64 {
    let mut per_key = [0u64; KEYS as usize];
    let mut total = 0u64;
    for x in 0..items {
        let x = x.wrapping_mul(3);
        if x % 4 == 1 {
            continue;
        }
        let x = (x ^ (x >> 3)).wrapping_add(7);
        if x % 5 == 0 {
            continue;
        }
        per_key[(x % KEYS) as usize] += 1;
        total = total.wrapping_add(x);
    }
    per_key
        .iter()
        .fold(total, |sum, &m| sum.wrapping_add(m * (m + 1) / 2))
}

/// The row label of the hierarchical workload.
pub const HIERARCHICAL: &str = "hierarchical: from_iter, then(map, filter), parallel(max, \
     segment of map, map, filter), partition(2, per-key count), fold (target > 800K items/s)";

/// `0..items` through the hierarchical pipeline: the time, after checking the total against
/// `expected` ([`hierarchical_expected`]).
pub fn hierarchical(items: u64, expected: u64) -> Duration {
    let start = Instant::now();
    let done = finished(
        HIERARCHICAL,
        Pipeline::from_iter(0..items)
            .then(prepare())
            .named("prepare")
            .parallel(max_workers(), |s| s.then(refine()))
            .named("refine")
            .partition(2, |x: &u64| *x % KEYS, |_, s| count_keys(s))
            .named("count")
            .fold(0u64, u64::wrapping_add)
            .run(),
    );
    let elapsed = start.elapsed();
    check_sum(HIERARCHICAL, done.output, expected);
    elapsed
}

/// Items per second from the stream workload's source.
pub const STREAM_RATE: u64 = 2_000_000;

/// The row label of the stream workload.
pub const STREAM: &str = "stream: from_iter rate_limit(2M/s), map, filter, map, fold, \
     overflow(DropOldest) before each (target > 1.5M items/s, p99 < 0.5 ms)";

/// `items` items from a source limited to [`STREAM_RATE`] through three stages that hand them
/// on unchanged, `DropOldest` on every queue (into each stage and into the sink): wherever the
/// flow backs up, the freshest items win.
pub fn stream(items: u64) -> Survived {
    let period = 1_000_000_000 / STREAM_RATE;
    let base = Instant::now();
    let done = finished(
        STREAM,
        Pipeline::from_iter(stamped(base, items))
            .rate_limit(STREAM_RATE)
            .overflow(Overflow::DropOldest)
            .map(|(index, taken): (u64, u64)| (index ^ 0x5555, taken))
            .overflow(Overflow::DropOldest)
            .filter(|(index, _)| *index != u64::MAX)
            .overflow(Overflow::DropOldest)
            .map(|(index, taken)| (index ^ 0x5555, taken))
            .overflow(Overflow::DropOldest)
            .fold(Survivors::new(base, period), Survivors::record)
            .run(),
    );
    let elapsed = base.elapsed();
    let survivors = done.output;
    survivors.check(STREAM, &done.report, items);
    Survived {
        elapsed,
        from_due: latencies(&survivors.from_due),
        from_taken: latencies(&survivors.from_taken),
        delivered: survivors.count,
        dropped: done.report.dropped(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_runs_every_item_once() {
        let phases = Arc::new(Phases::new(200_000, [Duration::from_millis(5); 3], 100));
        for workers in [Workers::new(1), Workers::new(2), Workers::scaling(1, 2)] {
            let run = scaling("test", &phases, workers);
            assert!((1..=2).contains(&run.workers));
        }
    }

    #[test]
    fn fork_join_and_one_stage_agree() {
        let steps = Steps {
            items: 2_000,
            iterations: 10,
        };
        steps.sequential();
        fork_join(steps);
        one_stage(steps);
    }

    #[test]
    fn overload_accounts_for_every_item() {
        let work = Overload {
            items: 2_000,
            rate: 100_000,
            iterations: 200,
            capacity: 16,
        };
        overload("drop oldest", &work, Overflow::DropOldest);
        let blocked = overload("block", &work, Overflow::Block);
        assert_eq!(blocked.dropped, 0);
        assert_eq!(blocked.delivered, 2_000);
    }

    #[test]
    fn hierarchical_matches_the_plain_loop() {
        hierarchical(20_000, hierarchical_expected(20_000));
    }

    #[test]
    fn stream_accounts_for_every_item() {
        stream(10_000);
    }
}
