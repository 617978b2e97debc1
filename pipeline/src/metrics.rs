//! The live figures of one stage: counters its threads add to once per chunk, and a sampled
//! histogram of its closure's latency. [`StageMetrics::snapshot`] turns them into a
//! [`StageReport`].

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use weir_backpressure::overflow::OverflowStats;
use weir_backpressure::Watermark;

use crate::link::SoftLimit;
use crate::report::{Latency, StageReport};
use crate::scale::Scale;
use crate::sync::stats::{AtomicU64, Mutex, Ordering};

/// One item in this many has its closure timed.
pub(crate) const LATENCY_SAMPLE_EVERY: u64 = 256;

/// How often a thread adds its latency samples to the stage's histogram (adding walks every
/// bucket, thousands of them: per chunk it would cost more than the items).
const MERGE_EVERY: Duration = Duration::from_millis(50);

/// The longest latency a histogram holds (longer ones count as this).
const LATENCY_MAX_NS: u64 = 3_600_000_000_000;

/// A histogram of latencies in nanoseconds, from 1 ns to an hour, 2 significant digits.
pub(crate) fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, 2).expect("valid histogram bounds")
}

/// The shared figures of one stage (all its workers add to the same ones).
#[derive(Debug)]
pub(crate) struct StageMetrics {
    pub(crate) name: String,
    pub(crate) workers: usize,
    /// The capacity of its input queue (0 for the source).
    pub(crate) capacity: AtomicU64,
    pub(crate) items_in: AtomicU64,
    pub(crate) items_out: AtomicU64,
    pub(crate) filtered: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// Items the stage took but could not pass on because the run stopped.
    pub(crate) discarded: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    pub(crate) input_wait_ns: AtomicU64,
    pub(crate) output_wait_ns: AtomicU64,
    pub(crate) occupancy_max: AtomicU64,
    pub(crate) occupancy_sum: AtomicU64,
    pub(crate) occupancy_samples: AtomicU64,
    /// High above three quarters of the input queue's limit, low below a quarter.
    pub(crate) pressure: Mutex<Option<Watermark>>,
    /// The pressure events of the watermarks that a change of the limit replaced.
    pressure_before: AtomicU64,
    /// The soft limit of its input queue, which `Running::set_capacity` moves; unset for a
    /// stage whose input is no channel.
    pub(crate) soft_limit: OnceLock<SoftLimit>,
    pub(crate) latency: Mutex<Histogram<u64>>,
    /// A parallel stage's active count, set when it starts.
    pub(crate) scale: OnceLock<Arc<Scale>>,
    /// The counts of its input queue's overflow policy, if it drops items.
    pub(crate) dropped: OnceLock<Arc<OverflowStats>>,
    /// A `fork_join`'s two branches: their threads' own figures, whose times the stage's row
    /// shows (its counts are of pairs, kept by the tee and the zip).
    pub(crate) branches: OnceLock<[Arc<StageMetrics>; 2]>,
}

impl StageMetrics {
    pub(crate) fn new(name: String, workers: usize) -> Self {
        StageMetrics {
            name,
            workers,
            capacity: AtomicU64::new(0),
            items_in: AtomicU64::new(0),
            items_out: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            input_wait_ns: AtomicU64::new(0),
            output_wait_ns: AtomicU64::new(0),
            occupancy_max: AtomicU64::new(0),
            occupancy_sum: AtomicU64::new(0),
            occupancy_samples: AtomicU64::new(0),
            pressure: Mutex::new(None),
            pressure_before: AtomicU64::new(0),
            soft_limit: OnceLock::new(),
            latency: Mutex::new(latency_histogram()),
            scale: OnceLock::new(),
            dropped: OnceLock::new(),
            branches: OnceLock::new(),
        }
    }

    /// Records the capacity of the stage's input queue and sets up its watermark.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity as u64, Ordering::Relaxed);
        self.watch_pressure(capacity);
    }

    /// Records the stage's input queue: its capacity, and the handle on its soft limit if it
    /// has one (`inlet.soft_limit()`).
    pub(crate) fn set_input(&self, capacity: usize, limit: Option<SoftLimit>) {
        self.set_capacity(capacity);
        if let Some(limit) = limit {
            let _ = self.soft_limit.set(limit);
        }
    }

    /// Sets the watermark's marks to a quarter and three quarters of `limit`, keeping the
    /// count of the one it replaces.
    fn watch_pressure(&self, limit: usize) {
        let low = limit / 4;
        let high = (limit * 3 / 4).max(low + 1);
        let mut pressure = self.pressure.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = pressure.replace(Watermark::new(low, high)) {
            self.pressure_before
                .fetch_add(old.events(), Ordering::Relaxed);
        }
    }

    /// The soft limit of its input queue now: the capacity unless `set_limit` lowered
    /// it (0 without a queue).
    pub(crate) fn limit(&self) -> usize {
        match self.soft_limit.get() {
            Some(limit) => limit.limit(),
            None => self.capacity.load(Ordering::Relaxed) as usize,
        }
    }

    /// Moves the soft limit of its input queue to `items` (checked by the caller against
    /// `SoftLimit::min` and `capacity`), and its watermark with it.
    pub(crate) fn set_limit(&self, limit: &SoftLimit, items: usize) {
        limit.set(items);
        self.watch_pressure(items);
    }

    /// Items its input queue's overflow policy dropped.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.get().map_or(0, |stats| stats.dropped() as u64)
    }

    /// A sink's sampled end-to-end latencies (see [`Local::record_end_to_end`]).
    pub(crate) fn end_to_end(&self) -> Latency {
        Latency::of(&self.latency.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A `fork_join`'s pairs left unfinished when the run ended, its discarded: what its tee
    /// took and its zip neither paired nor failed. Set once every thread has ended.
    pub(crate) fn settle_pairs(&self) {
        if self.branches.get().is_some() {
            let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
            let done = load(&self.items_out) + load(&self.failed);
            let left = load(&self.items_in).saturating_sub(done);
            self.discarded.store(left, Ordering::Relaxed);
        }
    }

    /// The figures now, as a report row.
    pub(crate) fn snapshot(&self) -> StageReport {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        // A fork_join's times are its branches'.
        let times = |pick: fn(&StageMetrics) -> &AtomicU64| {
            load(pick(self))
                + self
                    .branches
                    .get()
                    .map_or(0, |branches| branches.iter().map(|b| load(pick(b))).sum())
        };
        let samples = load(&self.occupancy_samples);
        let latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let pressure_events = self
            .pressure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, Watermark::events)
            + self.pressure_before.load(Ordering::Relaxed);
        StageReport {
            name: self.name.clone(),
            items_in: load(&self.items_in),
            items_out: load(&self.items_out),
            filtered: load(&self.filtered),
            failed: load(&self.failed),
            discarded: load(&self.discarded),
            workers: self.workers_now(),
            threads: self.workers,
            scale_events: self.scale.get().map_or(0, |scale| scale.events()),
            dropped: self.dropped(),
            busy: Duration::from_nanos(times(|m| &m.busy_ns)),
            input_wait: Duration::from_nanos(times(|m| &m.input_wait_ns)),
            output_wait: Duration::from_nanos(times(|m| &m.output_wait_ns)),
            latency: Latency::of(&latency),
            capacity: load(&self.capacity) as usize,
            limit: self.limit(),
            occupancy_max: load(&self.occupancy_max) as usize,
            occupancy_mean: if samples == 0 {
                0.0
            } else {
                load(&self.occupancy_sum) as f64 / samples as f64
            },
            pressure_events,
        }
    }
}

/// What one thread of a stage counted since it last flushed into the shared figures.
#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) items_in: u64,
    pub(crate) items_out: u64,
    pub(crate) filtered: u64,
    pub(crate) failed: u64,
    pub(crate) discarded: u64,
    /// What of `items_in - items_out` was settled with the run's credits
    /// ([`Flight::settle`](crate::flight::Flight::settle)): the items given back, less those
    /// owed.
    pub(crate) settled: i64,
    pub(crate) busy: Duration,
    pub(crate) input_wait: Duration,
    pub(crate) output_wait: Duration,
    /// Time spent sending a full output buffer in the middle of a chunk (not busy time).
    pub(crate) output_wait_in_chunk: Duration,
    /// Items until the next timed one.
    pub(crate) until_sample: u64,
    pub(crate) latency: Histogram<u64>,
    pub(crate) latency_samples: u64,
    /// When the samples were last added to the stage's histogram.
    merged_at: Instant,
}

impl Local {
    pub(crate) fn new() -> Self {
        Local {
            items_in: 0,
            items_out: 0,
            filtered: 0,
            failed: 0,
            discarded: 0,
            settled: 0,
            busy: Duration::ZERO,
            input_wait: Duration::ZERO,
            output_wait: Duration::ZERO,
            output_wait_in_chunk: Duration::ZERO,
            until_sample: 0,
            latency: latency_histogram(),
            latency_samples: 0,
            merged_at: Instant::now(),
        }
    }

    /// Whether the next item's closure is to be timed.
    #[inline]
    pub(crate) fn sample_next(&mut self) -> bool {
        if self.until_sample == 0 {
            self.until_sample = LATENCY_SAMPLE_EVERY - 1;
            true
        } else {
            self.until_sample -= 1;
            false
        }
    }

    /// Records one timed closure call.
    pub(crate) fn record_latency(&mut self, started: Instant) {
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.latency.saturating_record(ns.max(1));
        self.latency_samples += 1;
    }

    /// Records the time since the source took an item that a sink took just now (a sink's
    /// histogram holds these end-to-end latencies: it has no closure of its own to time).
    pub(crate) fn record_end_to_end(&mut self, taken_at_source: Instant) {
        self.record_latency(taken_at_source);
    }

    /// Records how full the input queue is as the stage comes to take a chunk from it.
    pub(crate) fn observe_queue(&self, metrics: &StageMetrics, queued: usize) {
        let queued = queued as u64;
        metrics.occupancy_max.fetch_max(queued, Ordering::Relaxed);
        metrics.occupancy_sum.fetch_add(queued, Ordering::Relaxed);
        metrics.occupancy_samples.fetch_add(1, Ordering::Relaxed);
        // Not under loom: the watermark's atomics are loom's there, and a statistic.
        #[cfg(not(loom))]
        if let Ok(pressure) = metrics.pressure.try_lock() {
            if let Some(watermark) = pressure.as_ref() {
                watermark.update(queued as usize);
            }
        }
    }

    /// Adds what was counted to the shared figures and starts counting again.
    pub(crate) fn flush(&mut self, metrics: &StageMetrics) {
        let add = |counter: &AtomicU64, value: &mut u64| {
            if *value != 0 {
                counter.fetch_add(*value, Ordering::Relaxed);
                *value = 0;
            }
        };
        add(&metrics.items_in, &mut self.items_in);
        add(&metrics.items_out, &mut self.items_out);
        add(&metrics.filtered, &mut self.filtered);
        add(&metrics.failed, &mut self.failed);
        add(&metrics.discarded, &mut self.discarded);
        self.settled = 0;
        let nanos = |duration: &mut Duration| {
            let ns = duration.as_nanos() as u64;
            *duration = Duration::ZERO;
            ns
        };
        metrics
            .busy_ns
            .fetch_add(nanos(&mut self.busy), Ordering::Relaxed);
        metrics
            .input_wait_ns
            .fetch_add(nanos(&mut self.input_wait), Ordering::Relaxed);
        metrics
            .output_wait_ns
            .fetch_add(nanos(&mut self.output_wait), Ordering::Relaxed);
        if self.latency_samples != 0 && self.merged_at.elapsed() >= MERGE_EVERY {
            if let Ok(mut shared) = metrics.latency.try_lock() {
                // Same bounds on both sides: adding never reallocates.
                let _ = shared.add(&self.latency);
                self.latency.reset();
                self.latency_samples = 0;
                self.merged_at = Instant::now();
            }
        }
    }

    /// The last flush, which waits for the histogram's lock.
    pub(crate) fn finish(&mut self, metrics: &StageMetrics) {
        self.flush(metrics);
        if self.latency_samples != 0 {
            let mut shared = metrics.latency.lock().unwrap_or_else(|e| e.into_inner());
            let _ = shared.add(&self.latency);
            self.latency_samples = 0;
        }
    }
}
