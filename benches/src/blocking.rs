//! The blocking workloads: every channel through its own blocking `send` and `recv` (see
//! [`crate::blocking_queues`]), so each waits in its own way (spin, yield, sleep) and the bench
//! code has no wait loop at all.
//!
//! - [`spsc`]: one producer thread to one consumer thread, pinned to the two cores as in the
//!   other SPSC workloads.
//! - [`mpmc`]: `P` producer threads to `C` consumer threads on clones of the two ends, placed
//!   as the caller says (the oversubscribed workload leaves them to the OS).
//! - [`ping_pong`]: two pinned threads bounce one item over two channels.
//!
//! The producers split `0..items` into contiguous ranges and drop their senders when done;
//! every consumer receives until its channel reports that every sender is gone and nothing is
//! left, the way blocking consumers stop. The consumers' counts and sums must add up to
//! `items` and `0 + 1 + ... + (items - 1)`, or the run stops with a message (a channel that
//! loses, duplicates or invents an item, or disconnects early, measures nothing). The time
//! runs from the first thread past the start barrier to the last consumer's disconnection.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::blocking_queues::{BlockingBatch, BlockingQueue};
use crate::fail;
use crate::mpmc::{handles, share, Shape};
use crate::pin::{run_group, run_pair, Job, Pinning};
use crate::queues::MpmcQueue;
use crate::spsc::check;

/// How many items one `send_many` / `recv_many` of [`Batches`] moves at most.
pub const BATCH: usize = 64;

/// How the threads of a run move their items: one per call, or in batches.
pub trait Transfer<Q: BlockingQueue> {
    /// The row label.
    const NAME: &'static str;
    /// Sends every item of `range`, in order.
    fn produce(tx: &mut Q::Tx, range: Range<u64>);
    /// Receives until every sender is gone and the channel is empty; returns how many items
    /// it received and their (wrapping) sum.
    fn consume(rx: &mut Q::Rx) -> (u64, u64);
}

/// One item per `send` and per `recv`.
#[derive(Debug)]
pub enum PerItem {}

impl<Q: BlockingQueue> Transfer<Q> for PerItem {
    const NAME: &'static str = Q::BLOCKING_NAME;

    #[inline(always)]
    fn produce(tx: &mut Q::Tx, range: Range<u64>) {
        for item in range {
            Q::send(tx, item);
        }
    }
    #[inline(always)]
    fn consume(rx: &mut Q::Rx) -> (u64, u64) {
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some(item) = Q::recv(rx) {
            count += 1;
            sum = sum.wrapping_add(item);
        }
        (count, sum)
    }
}

/// Up to [`BATCH`] items per `send_many` and per `recv_many` (weir's channels), through one
/// reused buffer per thread.
#[derive(Debug)]
pub enum Batches {}

impl<Q: BlockingBatch> Transfer<Q> for Batches {
    const NAME: &'static str = Q::BLOCKING_BATCH_NAME;

    #[inline(always)]
    fn produce(tx: &mut Q::Tx, range: Range<u64>) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut next = range.start;
        while next < range.end {
            let end = range.end.min(next + BATCH as u64);
            batch.extend(next..end);
            next = end;
            Q::send_many(tx, &mut batch);
        }
    }
    #[inline(always)]
    fn consume(rx: &mut Q::Rx) -> (u64, u64) {
        let mut out = Vec::with_capacity(BATCH);
        let (mut count, mut sum) = (0u64, 0u64);
        loop {
            out.clear();
            match Q::recv_many(rx, &mut out, BATCH) {
                0 => return (count, sum),
                n => {
                    count += n as u64;
                    sum = out.iter().fold(sum, |sum, &item| sum.wrapping_add(item));
                }
            }
        }
    }
}

/// Moves `items` items from one producer thread to one consumer thread (pinned to the two
/// cores) through a fresh channel of `capacity`, and returns the time it took.
pub fn spsc<Q: BlockingQueue, T: Transfer<Q>>(items: u64, capacity: usize) -> Duration {
    let (mut tx, mut rx) = Q::channel(capacity);
    let (start, end) = run_pair(
        move || {
            let start = Instant::now();
            T::produce(&mut tx, 0..items);
            // Dropping the sender here disconnects the channel: the consumer's signal to stop.
            drop(tx);
            start
        },
        move || {
            let (received, sum) = T::consume(&mut rx);
            let end = Instant::now();
            check(T::NAME, items, received, sum, None);
            end
        },
    );
    end.saturating_duration_since(start)
}

/// What one thread of an [`mpmc`] run hands back.
enum Outcome {
    Producer {
        start: Instant,
    },
    Consumer {
        start: Instant,
        end: Instant,
        received: u64,
        sum: u64,
    },
}

/// Moves `items` items from `shape.producers` threads to `shape.consumers` threads, placed as
/// `pinning` says, through a fresh channel of `capacity`, and returns the time it took.
///
/// # Panics
///
/// If `Q` cannot run `shape` (see [`Shape::fits`]).
pub fn mpmc<Q: BlockingQueue + MpmcQueue, T: Transfer<Q>>(
    items: u64,
    shape: Shape,
    capacity: usize,
    pinning: Pinning,
) -> Duration {
    assert!(shape.fits::<Q>(), "{} cannot run {}", T::NAME, shape.name());
    let (producers, consumers) = (shape.producers.max(1), shape.consumers.max(1));
    let (tx, rx) = Q::channel(capacity);
    let mut jobs: Vec<Job<'_, Outcome>> = Vec::with_capacity(producers + consumers);
    for (p, mut tx) in handles(tx, producers, Q::clone_tx).into_iter().enumerate() {
        let range = share(items, p, producers);
        jobs.push(Box::new(move || {
            let start = Instant::now();
            T::produce(&mut tx, range);
            // The last sender dropped disconnects the channel: the consumers' signal to stop.
            drop(tx);
            Outcome::Producer { start }
        }));
    }
    for mut rx in handles(rx, consumers, Q::clone_rx) {
        jobs.push(Box::new(move || {
            let start = Instant::now();
            let (received, sum) = T::consume(&mut rx);
            Outcome::Consumer {
                start,
                end: Instant::now(),
                received,
                sum,
            }
        }));
    }
    let (mut first_start, mut last_end): (Option<Instant>, Option<Instant>) = (None, None);
    let (mut received, mut sum) = (0u64, 0u64);
    for outcome in run_group(pinning, jobs) {
        let start = match outcome {
            Outcome::Producer { start } => start,
            Outcome::Consumer {
                start,
                end,
                received: count,
                sum: part,
            } => {
                last_end = last_end.max(Some(end));
                received += count;
                sum = sum.wrapping_add(part);
                start
            }
        };
        first_start = Some(first_start.map_or(start, |first| first.min(start)));
    }
    check(T::NAME, items, received, sum, None);
    match (first_start, last_end) {
        (Some(start), Some(end)) => end.saturating_duration_since(start),
        _ => fail(&format!("{}: no consumer finished", T::NAME)),
    }
}

/// Runs `round_trips` round trips between two pinned threads over two fresh channels of
/// `capacity` (one each way), and returns the total time. Thread A sends `i` and waits for it
/// to come back; thread B receives each item and sends it straight back.
pub fn ping_pong<Q: BlockingQueue>(round_trips: u64, capacity: usize) -> Duration {
    let (mut ping_tx, mut ping_rx) = Q::channel(capacity);
    let (mut pong_tx, mut pong_rx) = Q::channel(capacity);
    let (elapsed, _) = run_pair(
        move || {
            let start = Instant::now();
            for i in 0..round_trips {
                Q::send(&mut ping_tx, i);
                match Q::recv(&mut pong_rx) {
                    Some(echo) if echo == i => {}
                    Some(echo) => fail(&format!("{}: sent {i}, got {echo} back", Q::NAME)),
                    None => fail(&format!("{}: the echo thread left early", Q::NAME)),
                }
            }
            let elapsed = start.elapsed();
            // The handles go back to the caller: neither channel disconnects mid-run.
            (elapsed, ping_tx, pong_rx)
        },
        move || {
            for _ in 0..round_trips {
                let Some(item) = Q::recv(&mut ping_rx) else {
                    fail(&format!("{}: the pinging thread left early", Q::NAME))
                };
                Q::send(&mut pong_tx, item);
            }
            (ping_rx, pong_tx)
        },
    );
    elapsed.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking_queues::{StdSharedReceiver, WeirMpmcChannel, WeirSpscChannel};
    use crate::queues::{CrossbeamChannel, Flume, Kanal, StdSyncChannel};

    const ITEMS: u64 = 5_000;
    /// Small, so that senders wait and receivers sleep on the way.
    const CAPACITY: usize = 8;

    #[test]
    fn spsc_moves_everything() {
        spsc::<WeirSpscChannel, PerItem>(ITEMS, CAPACITY);
        spsc::<WeirSpscChannel, Batches>(ITEMS, CAPACITY);
        spsc::<WeirMpmcChannel, PerItem>(ITEMS, CAPACITY);
        spsc::<StdSyncChannel, PerItem>(ITEMS, CAPACITY);
        spsc::<CrossbeamChannel, PerItem>(ITEMS, CAPACITY);
        spsc::<Kanal, PerItem>(ITEMS, CAPACITY);
        spsc::<Flume, PerItem>(ITEMS, CAPACITY);
    }

    #[test]
    fn mpmc_moves_everything_oversubscribed() {
        let shape = Shape::new(4, 4);
        mpmc::<WeirMpmcChannel, PerItem>(ITEMS, shape, CAPACITY, Pinning::None);
        mpmc::<WeirMpmcChannel, Batches>(ITEMS, shape, CAPACITY, Pinning::None);
        mpmc::<StdSharedReceiver, PerItem>(ITEMS, shape, CAPACITY, Pinning::None);
        mpmc::<CrossbeamChannel, PerItem>(ITEMS, shape, CAPACITY, Pinning::None);
        mpmc::<Kanal, PerItem>(ITEMS, shape, CAPACITY, Pinning::None);
        mpmc::<Flume, PerItem>(ITEMS, shape, CAPACITY, Pinning::None);
    }

    #[test]
    fn ping_pong_echoes() {
        ping_pong::<WeirSpscChannel>(200, 1);
        ping_pong::<WeirMpmcChannel>(200, 1);
        ping_pong::<StdSyncChannel>(50, 1);
        ping_pong::<CrossbeamChannel>(200, 1);
    }

    #[test]
    #[should_panic(expected = "cannot run")]
    fn std_alone_has_one_receiver() {
        mpmc::<StdSyncChannel, PerItem>(10, Shape::new(1, 2), CAPACITY, Pinning::None);
    }
}
