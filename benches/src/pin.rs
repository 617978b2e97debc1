//! Pinning the threads of a run to cores, and starting them together.
//!
//! A pair ([`run_pair`]) always runs on the first two cores. A group of more threads
//! ([`run_group`], for the MPMC workloads) is either spread over those two cores in turn or left
//! to the OS ([`Pinning`]).

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

/// Pins the calling thread to the first core (even `index`) or the second (odd); a failure is
/// remembered (see [`describe`]) and the thread runs unpinned.
pub fn pin_current(index: usize) {
    let pinned = cores()
        .is_some_and(|(a, b)| core_affinity::set_for_current(if index % 2 == 1 { b } else { a }));
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
            pin_current(0);
            start.wait();
            first()
        });
        let b = scope.spawn(|| {
            pin_current(1);
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

/// Where the threads of a [`run_group`] run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinning {
    /// Thread `i` is pinned to the first core if `i` is even, to the second if it is odd.
    Alternate,
    /// No pinning: the OS places (and moves) the threads.
    None,
}

impl Pinning {
    /// A short description, for the header of a report.
    pub fn describe(self) -> &'static str {
        match self {
            Pinning::Alternate => "thread i on the first two cores in turn (i % 2)",
            Pinning::None => "not pinned",
        }
    }
}

/// A job of a [`run_group`]: a closure run once on its own thread.
pub type Job<'scope, R> = Box<dyn FnOnce() -> R + Send + 'scope>;

/// Runs each job on a thread of its own, placed as `pinning` says, starting all of them at one
/// barrier once every thread is placed, and returns their results in order.
///
/// If any job panics, the panic is passed on after all have finished.
pub fn run_group<R: Send>(pinning: Pinning, jobs: Vec<Job<'_, R>>) -> Vec<R> {
    let start = Barrier::new(jobs.len());
    std::thread::scope(|scope| {
        let threads: Vec<_> = jobs
            .into_iter()
            .enumerate()
            .map(|(index, job)| {
                let start = &start;
                scope.spawn(move || {
                    if pinning == Pinning::Alternate {
                        pin_current(index);
                    }
                    start.wait();
                    job()
                })
            })
            .collect();
        let mut results = Vec::with_capacity(threads.len());
        let mut panic = None;
        for thread in threads {
            match thread.join() {
                Ok(result) => results.push(result),
                Err(payload) => panic = panic.or(Some(payload)),
            }
        }
        match panic {
            Some(payload) => std::panic::resume_unwind(payload),
            None => results,
        }
    })
}
