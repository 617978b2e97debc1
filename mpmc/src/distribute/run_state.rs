//! Where a pool's run stands: items still coming, every item fed, or stopped by a panic.

// Public items: reachable only under `cfg(loom)`, where the model uses them.
#![cfg_attr(not(loom), allow(unreachable_pub))]

use crate::sync::{AtomicUsize, Ordering};

/// The phase of a run, as [`RunState::phase`] reads it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The feeder is still pushing items.
    Running,
    /// Every item is in the injector: a worker that then finds nothing anywhere may stop.
    Done,
    /// A closure or the iterator panicked: everyone stops at once.
    Stopped,
}

const RUNNING: usize = 0;
const DONE: usize = 1;
const STOPPED: usize = 2;

/// The phase of a pool's run, shared by the feeder and the workers. (Public only under
/// `cfg(loom)`, for the model in `loom-tests/tests/pool.rs`.)
#[doc(hidden)]
#[derive(Debug)]
pub struct RunState(AtomicUsize);

impl RunState {
    /// A run that has just started.
    pub fn new() -> Self {
        RunState(AtomicUsize::new(RUNNING))
    }

    /// Every item has been pushed. Does nothing once the run is stopped.
    pub fn done(&self) {
        // Release, pairing with the Acquire in `phase`: a worker that sees `Done` also sees
        // every push made before it, so a look that then finds nothing means nothing is left.
        let _ = self
            .0
            .compare_exchange(RUNNING, DONE, Ordering::Release, Ordering::Relaxed);
    }

    /// A panic: stop everyone, overriding `Done`.
    pub fn stop(&self) {
        // Relaxed: a worker that sees `Stopped` quits without looking at anything, so it needs
        // to see nothing that the stopping thread did before.
        self.0.store(STOPPED, Ordering::Relaxed);
    }

    /// The phase now. Read it before a look for work: `Done` read before a look that finds
    /// nothing means the run is over.
    pub fn phase(&self) -> Phase {
        // Acquire, pairing with the Release in `done`.
        match self.0.load(Ordering::Acquire) {
            RUNNING => Phase::Running,
            DONE => Phase::Done,
            _ => Phase::Stopped,
        }
    }
}

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}
