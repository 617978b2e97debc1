//! The yardstick: a raw cache-line round trip between the two pinned threads.
//!
//! Two cache-padded atomics: A writes `n` to the first and waits to see `n` in the second; B
//! waits to see `n` in the first and writes it to the second. That is the least any queue
//! round trip can cost on this machine *right now*: the hypervisor moves the vCPUs around, so
//! the same probe reads 30, 90 or 400 ns at different times, and two rows are comparable only
//! when the probes beside them agree. The wait loop is the one every harness uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::pin::run_pair;
use crate::wait::wait_for;

/// Bounces two cache lines `round_trips` times and returns the nanoseconds per round trip.
pub fn probe(round_trips: u64) -> f64 {
    let ping = CachePadded::new(AtomicU64::new(0));
    let pong = CachePadded::new(AtomicU64::new(0));
    let (elapsed, ()) = run_pair(
        || {
            let start = Instant::now();
            for n in 1..=round_trips {
                // Release/Acquire: the same pairing a queue's index uses.
                ping.store(n, Ordering::Release);
                wait_for(|| (pong.load(Ordering::Acquire) == n).then_some(()));
            }
            start.elapsed()
        },
        || {
            for n in 1..=round_trips {
                wait_for(|| (ping.load(Ordering::Acquire) == n).then_some(()));
                pong.store(n, Ordering::Release);
            }
        },
    );
    elapsed.as_nanos() as f64 / round_trips.max(1) as f64
}
