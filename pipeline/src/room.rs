//! Whether the pipelines' threads leave the cores room: how the threads of every run in the
//! process that may be running compare with the cores, for the queues' waits to choose
//! between spinning on and sleeping ([`Wait`]).
//!
//! A thread waiting for a queue wakes fastest by spinning, and that costs nothing while every
//! thread that may run has a core: a sleep costs a wake-up that, on a virtual machine, can
//! take tens of microseconds, and a hand-off every few microseconds then never catches up.
//! With more such threads than cores, a spinning waiter takes the core of the very thread it
//! waits for, and it must sleep early ([`ParkEarly`]). The count is of the threads that may
//! run now or soon: a pipeline's threads (those sleeping on a queue too: a chunk wakes them)
//! and the thread running its sink or iterating its output, but not those that lent their
//! stage ([`crate::lend`]) and sleep until it comes back. Threads that feed an
//! [`Input`](crate::Input), other processes and a hypervisor's steal are not seen: the spin
//! is bounded, so the cost of a wrong guess is 50 µs of a core.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use weir_backpressure::wait::{ParkEarly, WaitStrategy};
use weir_backpressure::EventCount;

use crate::sync::stats::{AtomicUsize, Ordering};

/// The pipelines' threads that may run now, in the whole process.
static AWAKE: AtomicUsize = AtomicUsize::new(0);

/// How long a waiter spins before it sleeps while the threads leave the cores room: longer
/// than the gap between two chunks of a busy edge, so a steady stream never sleeps.
const SPIN_FOR: Duration = Duration::from_micros(50);

/// Counts its thread among those that may run, while it lives.
#[derive(Debug)]
pub(crate) struct Awake(());

impl Awake {
    pub(crate) fn new() -> Self {
        // Relaxed: a hint for the waits; nothing is published through it.
        AWAKE.fetch_add(1, Ordering::Relaxed);
        Awake(())
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        AWAKE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts its thread out of those that may run while it lives: a thread that sleeps until
/// something else is done (a stage lent to its reader).
#[derive(Debug)]
pub(crate) struct Asleep(());

impl Asleep {
    pub(crate) fn new() -> Self {
        AWAKE.fetch_sub(1, Ordering::Relaxed);
        Asleep(())
    }
}

impl Drop for Asleep {
    fn drop(&mut self) {
        AWAKE.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether every thread that may run has a core of its own.
fn has_room() -> bool {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    AWAKE.load(Ordering::Relaxed) <= cores
}

/// How the pipeline's threads wait on a queue: while the threads leave the cores room, spin
/// for up to [`SPIN_FOR`]; then, or with no room, a few spins and yields and sleep
/// ([`ParkEarly`]). Under loom, as [`ParkEarly`] (which there sleeps at once).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Wait;

impl WaitStrategy for Wait {
    fn wait_for<R>(
        &self,
        event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let start = Instant::now();
        // A deadline already due asks for one look, not a wait.
        let due = deadline.is_some_and(|deadline| deadline <= start);
        if !cfg!(loom) && !due && has_room() {
            let until =
                deadline.map_or(start + SPIN_FOR, |deadline| deadline.min(start + SPIN_FOR));
            loop {
                for _ in 0..32 {
                    if let Some(done) = attempt() {
                        return Some(done);
                    }
                    std::hint::spin_loop();
                }
                if Instant::now() >= until {
                    break;
                }
            }
        }
        ParkEarly.wait_for(event, deadline, attempt)
    }
}
