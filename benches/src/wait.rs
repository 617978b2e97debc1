//! The busy-wait shared by every harness.
//!
//! Every implementation is driven through [`wait_for`], so none gets a tighter (or looser) loop
//! than another: try once, and between failed tries back off with crossbeam's
//! [`Backoff::snooze`], which spins with [`std::hint::spin_loop`] a bounded, growing number of
//! times and then falls back to [`std::thread::yield_now`].

use crossbeam_utils::Backoff;

/// Calls `attempt` until it returns `Some`, backing off between tries, and returns the value.
///
/// The first try happens before any back-off state is made, so an uncontended operation costs
/// one call of `attempt` and nothing more.
#[inline(always)]
pub fn wait_for<R>(mut attempt: impl FnMut() -> Option<R>) -> R {
    if let Some(value) = attempt() {
        return value;
    }
    let backoff = Backoff::new();
    loop {
        backoff.snooze();
        if let Some(value) = attempt() {
            return value;
        }
    }
}
