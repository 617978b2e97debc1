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
//! [`batches`] runs the same harness for `weir_mpmc::Queue` through `try_push_many` and
//! `try_pop_many`, [`BATCH`] items at a time, counting and summing every item the same way.
//!
//! Every try goes through [`wait_for`], which spins and then yields: with more threads than
//! cores (2p1c, 1p2c, 2p2c on two cores) the thread being waited for needs the time slice that a
//! pure spin would burn.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::pin::{run_group, Job, Pinning};
use crate::queues::{MpmcQueue, WeirMpmc};
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

/// How many items one `try_push_many` / `try_pop_many` of [`batches`] moves at most.
pub const BATCH: usize = 64;

/// The table's name for [`batches`].
pub const BATCH_NAME: &str = "weir-mpmc Queue (Arc), batches of 64 (try_push_many / try_pop_many; \
     the peers have no batch API)";

/// How the threads of a run move their items: one per try, or in batches.
trait Moves<Q: MpmcQueue> {
    /// The capacity of each consumer's reused buffer.
    const BUFFER: usize;
    /// Pushes every item of `range`, in order.
    fn produce(tx: &mut Q::Tx, range: Range<u64>);
    /// One try to pop: how many items and their sum, or `None` when the queue was empty. `out`
    /// is the consumer's reused buffer.
    fn pop(rx: &mut Q::Rx, out: &mut Vec<u64>) -> Option<(u64, u64)>;
}

/// One item per `try_push` and per `try_pop`.
enum PerItem {}

impl<Q: MpmcQueue> Moves<Q> for PerItem {
    const BUFFER: usize = 0;
    #[inline(always)]
    fn produce(tx: &mut Q::Tx, range: Range<u64>) {
        for item in range {
            wait_for(|| Q::try_push(tx, item).then_some(()));
        }
    }
    #[inline(always)]
    fn pop(rx: &mut Q::Rx, _out: &mut Vec<u64>) -> Option<(u64, u64)> {
        Q::try_pop(rx).map(|item| (1, item))
    }
}

/// Up to [`BATCH`] items per `try_push_many` and per `try_pop_many` of `weir_mpmc::Queue`.
enum Batches {}

impl Moves<WeirMpmc> for Batches {
    const BUFFER: usize = BATCH;
    #[inline(always)]
    fn produce(tx: &mut <WeirMpmc as crate::queues::Queue>::Tx, range: Range<u64>) {
        // Allocated once per thread; `try_push_many` drains what went in from the front.
        let mut batch = Vec::with_capacity(BATCH);
        let mut next = range.start;
        while next < range.end {
            let end = range.end.min(next + BATCH as u64);
            batch.extend(next..end);
            next = end;
            while !batch.is_empty() {
                wait_for(|| (tx.try_push_many(&mut batch) > 0).then_some(()));
            }
        }
    }
    #[inline(always)]
    fn pop(
        rx: &mut <WeirMpmc as crate::queues::Queue>::Rx,
        out: &mut Vec<u64>,
    ) -> Option<(u64, u64)> {
        out.clear();
        let n = rx.try_pop_many(out, BATCH);
        (n > 0).then(|| {
            (
                n as u64,
                out.iter().fold(0u64, |sum, &item| sum.wrapping_add(item)),
            )
        })
    }
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
    run::<Q, PerItem>(items, shape, capacity, pinning)
}

/// As [`per_item`], for `weir_mpmc::Queue` through `try_push_many` / `try_pop_many` with up to
/// [`BATCH`] items each: producers refill one reused buffer, consumers pop into one.
pub fn batches(items: u64, shape: Shape, capacity: usize, pinning: Pinning) -> Duration {
    run::<WeirMpmc, Batches>(items, shape, capacity, pinning)
}

/// The harness behind [`per_item`] and [`batches`].
fn run<Q: MpmcQueue, M: Moves<Q>>(
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
    for (p, mut tx) in handles(tx, producers, Q::clone_tx).into_iter().enumerate() {
        let range = share(items, p, producers);
        jobs.push(Box::new(move || {
            let start = Instant::now();
            M::produce(&mut tx, range);
            Outcome::Producer { start, _tx: tx }
        }));
    }
    for rx in handles(rx, consumers, Q::clone_rx) {
        jobs.push(Box::new(move || consume::<Q, M>(items, popped, rx)));
    }
    let outcomes = run_group(pinning, jobs);
    summarise::<Q>(items, outcomes)
}

/// `n` handles onto one queue (at least one): `n - 1` clones of `original`, then `original`
/// itself, so that every thread but the last of its side gets a clone.
pub(crate) fn handles<H>(original: H, n: usize, clone: impl Fn(&H) -> H) -> Vec<H> {
    let mut all: Vec<H> = (1..n.max(1)).map(|_| clone(&original)).collect();
    all.push(original);
    all
}

/// Producer `p`'s contiguous share of `0..items`, out of `producers`.
pub(crate) fn share(items: u64, p: usize, producers: usize) -> Range<u64> {
    let bound = |p: usize| items * p as u64 / producers as u64;
    bound(p)..bound(p + 1)
}

/// One consumer: pops until all `items` have been counted in `popped`.
#[inline(always)]
fn consume<Q: MpmcQueue, M: Moves<Q>>(items: u64, popped: &AtomicU64, mut rx: Q::Rx) -> Outcome<Q> {
    // Allocated once per thread, before the clock starts (empty for the per-item harness).
    let mut out = Vec::with_capacity(M::BUFFER);
    let start = Instant::now();
    let (mut received, mut sum, mut unflushed) = (0u64, 0u64, 0u64);
    let mut end = None;
    loop {
        // `Some(Some((n, sum)))`: popped `n` items adding up to `sum`; `Some(None)`: all items
        // are counted; `None`: wait.
        let next = wait_for(|| {
            if let Some(popped) = M::pop(&mut rx, &mut out) {
                return Some(Some(popped));
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
            Some((n, part)) => {
                sum = sum.wrapping_add(part);
                received += n;
                unflushed += n;
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
