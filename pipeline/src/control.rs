//! What every thread of one run shares: whether the run must stop, and why; whether its
//! source is paused.

use std::time::Instant;

use crate::error::{ErrorKind, OnError};
use crate::flight::Flight;
use crate::sync::stats::AtomicU64;
use crate::sync::{AtomicBool, Condvar, Mutex, Ordering};

/// How many of the errors skipped under [`OnError::Skip`] the report keeps.
pub(crate) const KEPT_ERRORS: usize = 8;

/// What the builder of a pipeline sets for the whole run.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) on_error: OnError,
    /// The most items a second the source takes; 0 for no limit.
    pub(crate) rate: u64,
    /// The most items between the source and the sink; 0 for no limit.
    pub(crate) max_in_flight: u64,
}

/// The run's stop flag and the first failure.
///
/// Threads read the flag between chunks of items, and every thread blocked on a queue is woken
/// by its neighbours leaving (a stage that stops drops its channel ends, which disconnects
/// them), so a stop reaches them without a broadcast. Threads that wait on something else (a
/// paused source, a retired worker, a stage's thread whose stage is lent) wait on `changed`,
/// which a stop wakes.
#[derive(Debug)]
pub(crate) struct Control {
    stopped: AtomicBool,
    failure: Mutex<Option<(String, ErrorKind)>>,
    skipped: Mutex<Vec<String>>,
    pub(crate) on_error: OnError,
    pub(crate) started: Instant,
    /// The most items a second the source takes now; 0 for no limit.
    rate: AtomicU64,
    /// The credits of the items between the source and the sink, under `max_in_flight`.
    flight: Option<Flight>,
    /// Whether the source is paused: read without the lock between chunks, and under it by a
    /// source that waits.
    paused: AtomicBool,
    /// Taken to change what a thread may be waiting on (a pause, a parallel stage's count of
    /// active workers, a lent stage given back, a stop), and by a thread to look at it before
    /// it waits on `changed`.
    settings: Mutex<()>,
    /// Woken by every such change.
    changed: Condvar,
}

impl Control {
    pub(crate) fn new(settings: Settings) -> Self {
        let Settings {
            on_error,
            rate,
            max_in_flight,
        } = settings;
        Control {
            flight: (max_in_flight != 0)
                .then(|| Flight::new(usize::try_from(max_in_flight).unwrap_or(usize::MAX))),
            rate: AtomicU64::new(rate),
            stopped: AtomicBool::new(false),
            failure: Mutex::new(None),
            skipped: Mutex::new(Vec::new()),
            on_error,
            started: Instant::now(),
            paused: AtomicBool::new(false),
            settings: Mutex::new(()),
            changed: Condvar::new(),
        }
    }

    /// Whether the run must stop (a failure or a cancel).
    #[inline]
    pub(crate) fn is_stopped(&self) -> bool {
        // Relaxed: the flag publishes nothing; the failure is read under its lock.
        self.stopped.load(Ordering::Relaxed)
    }

    /// Stops the run because of `kind` at `stage`, unless it already failed or was cancelled:
    /// the first reason is the one reported.
    pub(crate) fn fail(&self, stage: &str, kind: ErrorKind) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.is_none() {
            *failure = Some((stage.to_owned(), kind));
        }
        // A thread waiting in `wait_while` (a paused source, a retired worker) waits for a
        // change or a stop: wake it.
        self.change(|| self.stopped.store(true, Ordering::Relaxed));
        drop(failure);
        // And a source waiting for a credit.
        if let Some(flight) = &self.flight {
            flight.open();
        }
    }

    /// Stops the run as cancelled (unless it already failed).
    pub(crate) fn cancel(&self) {
        self.fail("pipeline", ErrorKind::Cancelled);
    }

    /// The most items a second the source takes now; 0 for no limit.
    pub(crate) fn rate(&self) -> u64 {
        // Relaxed: a setting the source reads before each chunk; nothing else hangs on it.
        self.rate.load(Ordering::Relaxed)
    }

    /// Sets the source's rate limit (0: none) from its next chunk on.
    pub(crate) fn set_rate(&self, per_second: u64) {
        self.rate.store(per_second, Ordering::Relaxed);
    }

    /// Makes `change` to what threads may wait on in [`wait_while`](Self::wait_while), and
    /// wakes them. Under the lock that a waiter holds from its look at the state to its
    /// wait, so that it cannot miss the wake-up.
    pub(crate) fn change(&self, change: impl FnOnce()) {
        let _lock = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        change();
        self.changed.notify_all();
    }

    /// Waits while `blocked` (read under the lock of [`change`](Self::change)) and the run
    /// goes on.
    pub(crate) fn wait_while(&self, mut blocked: impl FnMut() -> bool) {
        let mut lock = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        while !self.is_stopped() && blocked() {
            lock = self.changed.wait(lock).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The run's credits, under [`Settings::max_in_flight`].
    pub(crate) fn flight(&self) -> Option<&Flight> {
        self.flight.as_ref()
    }

    /// Holds the source back before its next chunk, until [`resume`](Self::resume) or a stop.
    pub(crate) fn pause(&self) {
        // Relaxed: `change`'s lock orders it for a source that waits; one that reads it
        // without the lock only pauses a chunk later.
        self.change(|| self.paused.store(true, Ordering::Relaxed));
    }

    /// Lets a paused source go on.
    pub(crate) fn resume(&self) {
        // Relaxed: under `change`'s lock, which the waiting source takes to read it.
        self.change(|| self.paused.store(false, Ordering::Relaxed));
    }

    /// Whether the source is paused.
    pub(crate) fn is_paused(&self) -> bool {
        // Relaxed: a snapshot.
        self.paused.load(Ordering::Relaxed)
    }

    /// Waits while the source is paused and the run goes on: a source calls this before
    /// each chunk.
    pub(crate) fn wait_while_paused(&self) {
        if self.is_paused() {
            self.wait_while(|| self.is_paused());
        }
    }

    /// Keeps the message of an error skipped under [`OnError::Skip`], if there is room.
    pub(crate) fn skipped(&self, stage: &str, error: &dyn std::error::Error) {
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        if skipped.len() < KEPT_ERRORS {
            skipped.push(format!("{stage}: {error}"));
        }
    }

    /// The errors kept so far.
    pub(crate) fn skipped_errors(&self) -> Vec<String> {
        self.skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes the failure out, once every thread has ended.
    pub(crate) fn take_failure(&self) -> Option<(String, ErrorKind)> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}
