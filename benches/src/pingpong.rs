//! Round-trip latency: two queues, one each way, between two pinned threads.
//!
//! Thread A pushes `i` into the first queue and waits for it to come back on the second;
//! thread B pops each item from the first queue and pushes it straight back. A checks that
//! what comes back is what it sent.

use std::time::{Duration, Instant};

use crate::fail;
use crate::pin::run_pair;
use crate::queues::Queue;
use crate::wait::wait_for;

/// Runs `round_trips` round trips, recording each one's nanoseconds into `samples` when
/// `SAMPLE` is set, and returns the total time.
fn run<Q: Queue, const SAMPLE: bool>(
    round_trips: u64,
    capacity: usize,
    samples: &mut Vec<u64>,
) -> Duration {
    let (mut ping_tx, mut ping_rx) = Q::channel(capacity);
    let (mut pong_tx, mut pong_rx) = Q::channel(capacity);
    samples.clear();
    if SAMPLE {
        samples.reserve(round_trips as usize);
    }
    let (elapsed, _) = run_pair(
        move || {
            let start = Instant::now();
            for i in 0..round_trips {
                let sent = if SAMPLE { Some(Instant::now()) } else { None };
                wait_for(|| Q::try_push(&mut ping_tx, i).then_some(()));
                let echo = wait_for(|| Q::try_pop(&mut pong_rx));
                if let Some(sent) = sent {
                    samples.push(sent.elapsed().as_nanos() as u64);
                }
                if echo != i {
                    fail(&format!("{}: sent {i}, got {echo} back", Q::NAME));
                }
            }
            let elapsed = start.elapsed();
            (elapsed, ping_tx, pong_rx)
        },
        move || {
            for _ in 0..round_trips {
                let item = wait_for(|| Q::try_pop(&mut ping_rx));
                wait_for(|| Q::try_push(&mut pong_tx, item).then_some(()));
            }
            (ping_rx, pong_tx)
        },
    );
    elapsed.0
}

/// Runs `round_trips` round trips through two fresh queues of `capacity` and returns the
/// total time.
pub fn round_trips<Q: Queue>(round_trips: u64, capacity: usize) -> Duration {
    run::<Q, false>(round_trips, capacity, &mut Vec::new())
}

/// Runs `round_trips` round trips, timing each one (the timer's own cost, some 20-40 ns,
/// included), and returns their median and 99th percentile in nanoseconds.
///
/// Unlike the mean that [`round_trips`] gives, these ignore the rare round trip that waited
/// out a preemption or a `yield_now`, so the p99 can be below the mean.
pub fn percentiles<Q: Queue>(round_trips: u64, capacity: usize) -> (f64, f64) {
    let mut samples = Vec::new();
    run::<Q, true>(round_trips, capacity, &mut samples);
    (
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

/// The `q` quantile of `samples` (sorted in place), or NaN if there are none.
pub fn percentile(samples: &mut [u64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1] as f64
}
