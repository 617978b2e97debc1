//! Throughput through one MPMC queue from `P` producer threads to `C` consumer threads.
//!
//! The producers split `0..items` into `P` contiguous ranges and push one each; the consumers
//! pop until all `items` have been popped between them. A consumer counts what it pops in a
//! local variable and adds that to one shared count only when a pop finds the queue empty, so
//! the count costs nothing while items flow; it stops once a failed pop sees the shared count
//! at `items`. The consumers' counts and sums must add up to `items` and to
//! `0 + 1 + ... + (items - 1)`, and nothing may be left in the queue, or the run stops with a
//! message. The time runs from the first thread past the start barrier to the moment the last
//! item is counted.
//!
//! Every try goes through [`wait_for`], which spins and then yields: with more threads than
//! cores (2p1c, 1p2c, 2p2c on two cores) the thread being waited for needs the time slice that a
//! pure spin would burn.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::pin::{run_group, Job, Pinning};
use crate::queues::MpmcQueue;
use crate::spsc::check;
use crate::wait::wait_for;

/// How many producer and consumer threads share the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Producer threads.
    pub producers: usize,
    /// Consumer threads.
    pub consumers: usize,
}

/// The shapes every MPMC workload runs, in table order.
pub const SHAPES: [Shape; 4] = [
    Shape::new(1, 1),
    Shape::new(2, 1),
    Shape::new(1, 2),
    Shape::new(2, 2),
];

impl Shape {
    /// `producers` producers and `consumers` consumers (at least one of each).
    pub const fn new(producers: usize, consumers: usize) -> Self {
        Shape {
            producers,
            consumers,
        }
    }

    /// `1p2c` and the like.
    pub fn name(self) -> String {
        format!("{}p{}c", self.producers, self.consumers)
    }

    /// Whether `Q` can run this shape (`std::sync::mpsc` has one consumer).
    pub fn fits<Q: MpmcQueue>(self) -> bool {
        self.consumers <= 1 || Q::MULTI_CONSUMER
    }
}

/// What one thread of a run hands back: when it started, and (for a consumer) what it saw.
/// The handles come back too, so that none is dropped (and none disconnects the queue) before
/// every thread is done.
enum Outcome<Q: MpmcQueue> {
    Producer {
        start: Instant,
        _tx: Q::Tx,
    },
    Consumer {
        start: Instant,
        /// When this consumer's count completed the total (`None` for the others).
        end: Option<Instant>,
        received: u64,
        sum: u64,
        rx: Q::Rx,
    },
}

/// Moves `items` items one per push and one per pop through a fresh queue of `capacity`, from
/// `shape.producers` threads to `shape.consumers` threads placed as `pinning` says, and returns
/// the time it took.
///
/// # Panics
///
/// If `Q` cannot run `shape` (see [`Shape::fits`]).
pub fn per_item<Q: MpmcQueue>(
    items: u64,
    shape: Shape,
    capacity: usize,
    pinning: Pinning,
) -> Duration {
    assert!(shape.fits::<Q>(), "{} cannot run {}", Q::NAME, shape.name());
    let (producers, consumers) = (shape.producers.max(1), shape.consumers.max(1));
    let (tx, rx) = Q::channel(capacity);
    // Popped items counted so far (each consumer adds its own count when it finds the queue
    // empty).
    let popped = CachePadded::new(AtomicU64::new(0));
    let popped = &popped;
    let mut jobs: Vec<Job<'_, Outcome<Q>>> = Vec::with_capacity(producers + consumers);
    // Every thread but the last of its side gets a clone; the last gets the original.
    let mut tx = Some(tx);
    for p in 0..producers {
        let mut tx = match tx.take() {
            Some(last) if p + 1 == producers => last,
            Some(original) => {
                let clone = Q::clone_tx(&original);
                tx = Some(original);
                clone
            }
            None => unreachable!("the original handle goes to the last producer"),
        };
        let share = |p: usize| items * p as u64 / producers as u64;
        let (first, end) = (share(p), share(p + 1));
        jobs.push(Box::new(move || {
            let start = Instant::now();
            for item in first..end {
                wait_for(|| Q::try_push(&mut tx, item).then_some(()));
            }
            Outcome::Producer { start, _tx: tx }
        }));
    }
    let mut rx = Some(rx);
    for c in 0..consumers {
        let rx = match rx.take() {
            Some(last) if c + 1 == consumers => last,
            Some(original) => {
                let clone = Q::clone_rx(&original);
                rx = Some(original);
                clone
            }
            None => unreachable!("the original handle goes to the last consumer"),
        };
        jobs.push(Box::new(move || consume::<Q>(items, popped, rx)));
    }
    let outcomes = run_group(pinning, jobs);
    summarise::<Q>(items, outcomes)
}

/// One consumer: pops until all `items` have been counted in `popped`.
#[inline(always)]
fn consume<Q: MpmcQueue>(items: u64, popped: &AtomicU64, mut rx: Q::Rx) -> Outcome<Q> {
    let start = Instant::now();
    let (mut received, mut sum, mut unflushed) = (0u64, 0u64, 0u64);
    let mut end = None;
    loop {
        // `Some(Some(item))`: popped one; `Some(None)`: all items are counted; `None`: wait.
        let next = wait_for(|| {
            if let Some(item) = Q::try_pop(&mut rx) {
                return Some(Some(item));
            }
            if unflushed > 0 {
                // Relaxed: the count only decides when to stop; the items' own handover is
                // the queue's business, and the checks below run after the threads are joined.
                let total = popped.fetch_add(unflushed, Ordering::Relaxed) + unflushed;
                unflushed = 0;
                if total == items {
                    end = Some(Instant::now());
                }
            }
            (popped.load(Ordering::Relaxed) >= items).then_some(None)
        });
        match next {
            Some(item) => {
                sum = sum.wrapping_add(item);
                received += 1;
                unflushed += 1;
            }
            None => break,
        }
    }
    Outcome::Consumer {
        start,
        end,
        received,
        sum,
        rx,
    }
}

/// Checks the consumers' counts and sums and that the queue is empty, and returns the time
/// from the earliest start to the end of the count.
fn summarise<Q: MpmcQueue>(items: u64, mut outcomes: Vec<Outcome<Q>>) -> Duration {
    let mut first_start: Option<Instant> = None;
    let (mut last_end, mut received, mut sum) = (None, 0u64, 0u64);
    let mut leftover = None;
    // By reference: every handle stays alive (the queue connected) until all checks are done.
    for outcome in &mut outcomes {
        let start = match outcome {
            Outcome::Producer { start, .. } => *start,
            Outcome::Consumer {
                start,
                end,
                received: count,
                sum: part,
                rx,
            } => {
                last_end = last_end.max(*end);
                received += *count;
                sum = sum.wrapping_add(*part);
                leftover = leftover.or_else(|| Q::try_pop(rx));
                *start
            }
        };
        first_start = Some(first_start.map_or(start, |first| first.min(start)));
    }
    check(Q::NAME, items, received, sum, leftover);
    match (first_start, last_end) {
        (Some(start), Some(end)) => end.saturating_duration_since(start),
        _ if items == 0 => Duration::ZERO,
        _ => crate::fail(&format!("{}: no consumer completed the count", Q::NAME)),
    }
}
