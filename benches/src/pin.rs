//! Pinning the two threads of a run to two cores, and starting them together.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, OnceLock};

use core_affinity::CoreId;

/// Set once any thread failed to pin itself.
static PIN_FAILED: AtomicBool = AtomicBool::new(false);

/// The two cores the threads of a pair run on: the first two the OS reports.
fn cores() -> Option<(CoreId, CoreId)> {
    static CORES: OnceLock<Option<(CoreId, CoreId)>> = OnceLock::new();
    *CORES.get_or_init(|| {
        let ids = core_affinity::get_core_ids()?;
        match ids.as_slice() {
            [first, second, ..] => Some((*first, *second)),
            _ => None,
        }
    })
}

/// Pins the calling thread to the first (`second == false`) or second core; a failure is
/// remembered (see [`describe`]) and the thread runs unpinned.
fn pin_current(second: bool) {
    let pinned =
        cores().is_some_and(|(a, b)| core_affinity::set_for_current(if second { b } else { a }));
    if !pinned {
        PIN_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Where the threads run, for the header of a report: the two core ids, or why not.
pub fn describe() -> String {
    match cores() {
        None => "not pinned (fewer than 2 cores reported)".to_owned(),
        Some(_) if PIN_FAILED.load(Ordering::Relaxed) => {
            "pinning failed on this machine, threads ran unpinned".to_owned()
        }
        Some((a, b)) => format!("cores {} and {}", a.id, b.id),
    }
}

/// Runs `first` on a thread pinned to the first core and `second` on one pinned to the second
/// core, starting both at a barrier once both are pinned, and returns both results.
///
/// The closures may borrow from the caller (the threads are scoped). If either panics, the
/// panic is passed on after both have finished.
pub fn run_pair<A, B, RA, RB>(first: A, second: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let a = scope.spawn(|| {
            pin_current(false);
            start.wait();
            first()
        });
        let b = scope.spawn(|| {
            pin_current(true);
            start.wait();
            second()
        });
        let b = b.join();
        let a = a.join();
        match (a, b) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(panic), _) | (_, Err(panic)) => std::panic::resume_unwind(panic),
        }
    })
}
