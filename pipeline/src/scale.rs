//! How many of a parallel stage's workers are active: set by
//! [`Running::set_workers`](crate::Running::set_workers), or by the load under
//! [`Workers::scaling`](crate::Workers::scaling).
//!
//! An ordered stage's dealer follows the count from one turn to the next
//! ([`crate::deal`]); a retired worker of it gets no more items. In an unordered stage, which
//! shares one input queue, the workers follow it themselves:
//!
//! The stage starts its most workers at once; worker `i` runs while `i < active` and otherwise
//! waits (parked, on the run's [`Control::wait_while`]) for the count to rise, for the input to
//! end or for the run to stop. A worker looks at the count only between two chunks, so a
//! retired worker has finished its chunk and handed its outputs on: nothing is lost or run
//! twice when the count changes. Every change of the count or of `ended` is made under
//! [`Control::change`], whose lock a parked worker holds from its look to its wait, so no
//! wake-up is lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::Control;
use crate::metrics::StageMetrics;
use crate::sync::stats::{AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};

/// How often the load is looked at.
const CHECK_EVERY: Duration = Duration::from_millis(2);
/// A queue above three quarters full for this many looks in a row adds a worker...
const UP_AFTER: u32 = 3;
/// ...and one below a quarter full for this many looks in a row retires one.
const DOWN_AFTER: u32 = 50;
/// The least time between two changes that add workers...
const UP_SPACING: Duration = Duration::from_millis(10);
/// ...and before a change that retires one.
const DOWN_SPACING: Duration = Duration::from_millis(100);
/// With no queue to look at (workers reading the source themselves), the load is the share of
/// their time the active workers spent not waiting for input: high from this share on...
const BUSY_HIGH: f64 = 0.9;
/// ...and low when the others could have done the same work, each busy at most this share.
const BUSY_LOW: f64 = 0.6;

/// What the load looked like at one look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    High,
    Middle,
    Low,
}

/// The active count of one parallel stage.
#[derive(Debug)]
pub(crate) struct Scale {
    /// Workers `0..active` run; the others wait.
    active: AtomicUsize,
    /// The stage's threads.
    max: usize,
    /// The fewest the load scales down to.
    min: usize,
    /// Whether the load sets the count.
    auto: bool,
    /// The stage's input ended: waiting workers leave.
    ended: AtomicBool,
    /// Since the last look, the active workers' time waiting for input, and in all (in
    /// nanoseconds): their load when there is no queue to look at.
    waited_ns: AtomicU64,
    spent_ns: AtomicU64,
    /// How many times the count changed.
    events: AtomicU64,
    load: Mutex<Load>,
}

/// What the load looked like lately.
#[derive(Debug)]
struct Load {
    looked: Instant,
    changed: Instant,
    highs: u32,
    lows: u32,
}

impl Scale {
    /// The count of a stage of `max` workers, starting at `start`, which the load moves between
    /// `min` and `max` if `auto`.
    pub(crate) fn new(start: usize, min: usize, max: usize, auto: bool) -> Self {
        let now = Instant::now();
        Scale {
            active: AtomicUsize::new(start),
            max,
            min,
            auto,
            ended: AtomicBool::new(false),
            waited_ns: AtomicU64::new(0),
            spent_ns: AtomicU64::new(0),
            events: AtomicU64::new(0),
            load: Mutex::new(Load {
                looked: now,
                changed: now,
                highs: 0,
                lows: 0,
            }),
        }
    }

    /// The workers running now.
    pub(crate) fn active(&self) -> usize {
        // Relaxed, here and below: the count is changed under `Control::change` and read
        // under its lock by a worker that waits; a worker that reads it without the lock
        // only stops or starts a chunk later.
        self.active.load(Ordering::Relaxed)
    }

    /// The counts `Running::set_workers` may set.
    pub(crate) fn range(&self) -> std::ops::RangeInclusive<usize> {
        1..=self.max
    }

    /// How many times the count changed.
    pub(crate) fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Sets the count, waking the workers that may now run.
    pub(crate) fn set(&self, workers: usize, control: &Control) {
        control.change(|| {
            if self.active.swap(workers, Ordering::Relaxed) != workers {
                self.events.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    /// The stage's input ended: every waiting worker leaves.
    pub(crate) fn end(&self, control: &Control) {
        control.change(|| self.ended.store(true, Ordering::Relaxed));
    }

    /// Before a chunk: whether worker `index` runs it, after waiting (parked) while it is
    /// retired. `false` once the input ended or the run stopped.
    pub(crate) fn wait_turn(&self, index: usize, control: &Control) -> bool {
        if index < self.active() {
            return true;
        }
        control.wait_while(|| index >= self.active() && !self.ended.load(Ordering::Relaxed));
        !control.is_stopped() && !self.ended.load(Ordering::Relaxed)
    }

    /// A worker of a scaling stage finished a chunk: it `waited` that long for its input, of
    /// the `spent` the chunk took in all.
    pub(crate) fn record(&self, waited: Duration, spent: Duration) {
        if self.auto {
            let nanos = |time: Duration| u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
            self.waited_ns.fetch_add(nanos(waited), Ordering::Relaxed);
            self.spent_ns.fetch_add(nanos(spent), Ordering::Relaxed);
        }
    }

    /// Looks at the load (at most every [`CHECK_EVERY`], by whichever thread comes first),
    /// and adds or retires a worker when it has stayed high or low long enough. `measure()`
    /// gives `(queued, limit)` of the stage's input queue, or `None` when it has none (its
    /// workers read the source themselves): the load is then how busy the workers were.
    pub(crate) fn adjust(
        &self,
        measure: impl FnOnce() -> Option<(usize, usize)>,
        control: &Control,
    ) {
        if !self.auto {
            return;
        }
        let Ok(mut load) = self.load.try_lock() else {
            return;
        };
        let now = Instant::now();
        if now - load.looked < CHECK_EVERY {
            return;
        }
        load.looked = now;
        let active = self.active();
        let level = match measure() {
            Some((queued, limit)) => Self::queue_level(queued, limit),
            None => match self.busy_level(active) {
                Some(level) => level,
                // No chunk finished since the last look: nothing to go by.
                None => return,
            },
        };
        match level {
            Level::High => {
                load.highs += 1;
                load.lows = 0;
            }
            Level::Low => {
                load.lows += 1;
                load.highs = 0;
            }
            Level::Middle => {
                load.highs = 0;
                load.lows = 0;
            }
        }
        let since = now - load.changed;
        let to = if load.highs >= UP_AFTER && active < self.max && since >= UP_SPACING {
            active + 1
        } else if load.lows >= DOWN_AFTER && active > self.min && since >= DOWN_SPACING {
            active - 1
        } else {
            return;
        };
        load.changed = now;
        load.highs = 0;
        load.lows = 0;
        self.set(to, control);
    }

    /// A queue three quarters full is high, a quarter full low.
    fn queue_level(queued: usize, limit: usize) -> Level {
        if queued >= (limit * 3 / 4).max(1) {
            Level::High
        } else if queued <= limit / 4 {
            Level::Low
        } else {
            Level::Middle
        }
    }

    /// How busy the `active` workers were since the last look: high when they hardly waited
    /// for input, low when one fewer could have done their work at [`BUSY_LOW`] each. `None`
    /// when no chunk finished since.
    fn busy_level(&self, active: usize) -> Option<Level> {
        let waited = self.waited_ns.swap(0, Ordering::Relaxed);
        let spent = self.spent_ns.swap(0, Ordering::Relaxed);
        if spent == 0 {
            return None;
        }
        let busy = 1.0 - waited.min(spent) as f64 / spent as f64;
        Some(if busy >= BUSY_HIGH {
            Level::High
        } else if busy * active as f64 <= BUSY_LOW * (active - 1) as f64 {
            Level::Low
        } else {
            Level::Middle
        })
    }
}

/// One worker of a parallel stage whose count can change.
#[derive(Clone, Debug)]
pub(crate) struct Seat {
    pub(crate) scale: Arc<Scale>,
    pub(crate) index: usize,
}

impl StageMetrics {
    /// The workers running now: the active count of a parallel stage, else the threads.
    pub(crate) fn workers_now(&self) -> usize {
        self.scale
            .get()
            .map_or(self.workers, |scale| scale.active())
    }
}
