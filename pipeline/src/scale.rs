//! How many of a parallel stage's workers are active: set by
//! [`Running::set_workers`](crate::Running::set_workers), or by the load under
//! [`Workers::scaling`](crate::Workers::scaling).
//!
//! An ordered stage's dealer follows the count from one round of turns to the next
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

    /// Looks at the load, `measure()`: `(queued, limit)` of the stage's input (at most every
    /// [`CHECK_EVERY`], by whichever thread comes first), and adds or retires a worker when it
    /// has stayed high or low long enough.
    pub(crate) fn adjust(&self, measure: impl FnOnce() -> (usize, usize), control: &Control) {
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
        let (queued, capacity) = measure();
        let (low, high) = (capacity / 4, (capacity * 3 / 4).max(1));
        if queued >= high {
            load.highs += 1;
            load.lows = 0;
        } else if queued <= low {
            load.lows += 1;
            load.highs = 0;
        } else {
            load.highs = 0;
            load.lows = 0;
        }
        let active = self.active();
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
