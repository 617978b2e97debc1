//! Pipelines: a source, three cheap stages and a sink, each stage on a thread of its own (or a
//! parallel stage on [`WORKERS`] workers), against the same pipelines built by hand from
//! channels, the disruptor's handler chain, rayon, pariter and a plain iterator.
//!
//! Three workloads:
//!
//! - *linear*: `0..n` through `map(`[`Stages::first`]`)`, `filter(`[`Stages::keep`]`)`,
//!   `map(`[`Stages::last`]`)` and a wrapping-add fold ([`Linear`]'s closures, the same for every
//!   implementation). Every implementation's total must equal the plain iterator's
//!   ([`sequential`]), or the run stops with a message.
//! - *fan-out*: the skewed tasks of [`crate::skewed`] (1 in 10 costs 100 units) handed around
//!   as their indices to a parallel stage of [`WORKERS`] workers, unordered and ordered; the
//!   result is the makespan beside the ideal. The [`Tally`] must count every task once, and an
//!   ordered run must hand the indices back in order.
//! - *latency*: a source paced at a fixed rate ([`paced`]: it spins until each item's due
//!   instant), three stages that hand the item on unchanged ([`Relay`]), and a sink that
//!   records each item's end-to-end latency into an HDR histogram ([`Tail`]). An item carries
//!   its *due* instant (nanoseconds since the run's base), not the instant the source got to
//!   it, so a source held up by a full pipeline counts the wait (no coordinated omission).
//!
//! The hand-built pipelines ([`chain`]) are the usual design: one thread per stage, joined by
//! bounded channels of [`CAPACITY`], one blocking `send` / `recv` per item, and the sink on the
//! calling thread; they run over any [`BlockingQueue`] (std's `sync_channel` and
//! crossbeam-channel's `bounded` in the table). The disruptor runs the same stages as a chain of
//! handlers over one ring ([`disruptor_chain`]). No thread of a pipeline is pinned: weir's
//! pipeline places its own threads, so every implementation leaves placement to the OS.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::blocking_queues::BlockingQueue;
use crate::skewed::{Slots, Tally, Work, WORKERS};
use crate::wait::wait_for;
use crate::{fail, CAPACITY};

/// The row label of the hand-built pipeline over `std::sync::mpsc` (the "vs std" rows).
pub const STD_CHAIN: &str = "std::sync::mpsc::sync_channel(1024), a thread per stage (send/recv)";
/// The row label of the hand-built pipeline over crossbeam-channel.
pub const CROSSBEAM_CHAIN: &str = "crossbeam-channel bounded(1024), a thread per stage (send/recv)";
/// The row label of the disruptor's handler chain.
pub const DISRUPTOR_CHAIN: &str =
    "disruptor 4 handler chain, ring 1024 (yielding handlers; try_publish + backoff)";
/// The row label of the plain iterator.
pub const SEQUENTIAL: &str =
    "plain iterator, one thread: map().filter().map().fold() (the ceiling, not a peer)";

/// The three stages of a pipeline, as plain functions: the same code for every implementation.
pub trait Stages {
    /// The first stage, a map.
    fn first(item: u64) -> u64;
    /// The second stage, a filter: `false` drops the item.
    fn keep(item: &u64) -> bool;
    /// The third stage, a map.
    fn last(item: u64) -> u64;
}

/// The linear workload's stages: cheap, and nothing the optimiser can fold across items.
#[derive(Debug)]
pub enum Linear {}

impl Stages for Linear {
    #[inline(always)]
    fn first(item: u64) -> u64 {
        item.wrapping_mul(3)
    }
    #[inline(always)]
    fn keep(item: &u64) -> bool {
        item % 4 != 1
    }
    #[inline(always)]
    fn last(item: u64) -> u64 {
        item ^ (item >> 3)
    }
}

/// The latency workload's stages: every item passes, and comes out as it went in (the two maps
/// undo each other), so the sink reads the item's due instant back.
#[derive(Debug)]
pub enum Relay {}

/// What [`Relay`]'s maps flip.
const RELAY_MASK: u64 = 0x5555_5555_5555_5555;

impl Stages for Relay {
    #[inline(always)]
    fn first(item: u64) -> u64 {
        item ^ RELAY_MASK
    }
    #[inline(always)]
    fn keep(item: &u64) -> bool {
        *item != u64::MAX
    }
    #[inline(always)]
    fn last(item: u64) -> u64 {
        item ^ RELAY_MASK
    }
}

/// The linear workload's fold: a wrapping sum.
#[inline(always)]
pub fn add(total: u64, item: u64) -> u64 {
    total.wrapping_add(item)
}

/// The linear workload on the calling thread, a plain iterator: the ceiling, and the total
/// every other implementation must reach. Returns the time and the total.
pub fn sequential(items: u64) -> (Duration, u64) {
    let start = Instant::now();
    let total = (0..std::hint::black_box(items))
        .map(Linear::first)
        .filter(Linear::keep)
        .map(Linear::last)
        .fold(0, add);
    (start.elapsed(), std::hint::black_box(total))
}

/// Stops the run unless `name`'s linear total is the plain iterator's.
pub fn check_total(name: &str, total: u64, expected: u64) {
    if total != expected {
        fail(&format!(
            "{name}: the pipeline's total is {total}, the plain iterator's {expected}"
        ));
    }
}

/// The hand-built pipeline over channels `Q`: a source thread sending every item of `source`,
/// one thread per stage of `S` (each receiving, applying its stage, sending on), and the sink
/// on the calling thread folding what comes out into `init` with `fold`. Each thread drops its
/// sender when its input is done, which ends the next stage's loop. Returns the fold.
pub fn chain<Q: BlockingQueue, S: Stages, A>(
    source: impl IntoIterator<Item = u64> + Send,
    init: A,
    mut fold: impl FnMut(A, u64) -> A,
) -> A {
    let (mut into_first, mut first) = Q::channel(CAPACITY);
    let (mut into_keep, mut keep) = Q::channel(CAPACITY);
    let (mut into_last, mut last) = Q::channel(CAPACITY);
    let (mut into_sink, mut sink) = Q::channel(CAPACITY);
    thread::scope(|scope| {
        scope.spawn(move || {
            for item in source {
                Q::send(&mut into_first, item);
            }
        });
        scope.spawn(move || {
            while let Some(item) = Q::recv(&mut first) {
                Q::send(&mut into_keep, S::first(item));
            }
        });
        scope.spawn(move || {
            while let Some(item) = Q::recv(&mut keep) {
                if S::keep(&item) {
                    Q::send(&mut into_last, item);
                }
            }
        });
        scope.spawn(move || {
            while let Some(item) = Q::recv(&mut last) {
                Q::send(&mut into_sink, S::last(item));
            }
        });
        let mut acc = init;
        while let Some(item) = Q::recv(&mut sink) {
            acc = fold(acc, item);
        }
        acc
    })
}

/// Runs the linear workload of `items` through [`chain`] over `Q`, checks its total against
/// `expected` and returns the time, thread start-up included.
pub fn linear_chain<Q: BlockingQueue>(name: &str, items: u64, expected: u64) -> Duration {
    let start = Instant::now();
    let total = chain::<Q, Linear, u64>(0..items, 0, add);
    let elapsed = start.elapsed();
    check_total(name, total, expected);
    elapsed
}

/// The disruptor's wait for its handler threads: yield the core. The crate (4.4) offers only
/// busy spins and sleeps; with five threads on two cores a spinning handler holds a core the
/// stage it waits for needs.
#[derive(Clone, Copy, Debug)]
pub struct Yielding;

impl disruptor::wait_strategies::WaitStrategy for Yielding {
    #[inline]
    fn wait_for(&self, _sequence: disruptor::Sequence) {
        thread::yield_now();
    }
}

/// One slot of the disruptor's ring: the item as the stages leave it, and whether the filter
/// kept it. Each stage writes its result in place for the next (the disruptor orders the
/// handlers, so relaxed accesses suffice).
#[derive(Debug, Default)]
struct Slot {
    item: AtomicU64,
    kept: AtomicBool,
}

/// Hands the last handler's fold back when the disruptor drops the handler (its thread ends).
struct Deliver<A> {
    acc: Option<A>,
    out: Arc<Mutex<Option<A>>>,
}

impl<A> Drop for Deliver<A> {
    fn drop(&mut self) {
        *self.out.lock().unwrap_or_else(PoisonError::into_inner) = self.acc.take();
    }
}

/// The disruptor (v4) as a pipeline: a single-producer ring of [`CAPACITY`] slots, the caller
/// publishing every item of `source` (`try_publish`, waiting through the harness's
/// [`wait_for`]: its `publish` spins without ever yielding), and four handler threads in a
/// chain (`handle_events_with(..).and_then()..`): `S`'s three stages and the sink folding into
/// `init` with `fold`. The handlers wait with [`Yielding`]. Returns the fold, once dropping the
/// producer has joined every handler.
pub fn disruptor_chain<S: Stages, A: Send + 'static>(
    source: impl IntoIterator<Item = u64>,
    init: A,
    mut fold: impl FnMut(A, u64) -> A + Send + 'static,
) -> A {
    use disruptor::Producer as _;
    let out = Arc::new(Mutex::new(None));
    let mut deliver = Deliver {
        acc: Some(init),
        out: Arc::clone(&out),
    };
    let mut producer = disruptor::build_single_producer(CAPACITY, Slot::default, Yielding)
        .handle_events_with(|slot: &Slot, _, _| {
            let item = slot.item.load(Ordering::Relaxed);
            slot.item.store(S::first(item), Ordering::Relaxed);
        })
        .and_then()
        .handle_events_with(|slot: &Slot, _, _| {
            let kept = S::keep(&slot.item.load(Ordering::Relaxed));
            slot.kept.store(kept, Ordering::Relaxed);
        })
        .and_then()
        .handle_events_with(|slot: &Slot, _, _| {
            if slot.kept.load(Ordering::Relaxed) {
                let item = slot.item.load(Ordering::Relaxed);
                slot.item.store(S::last(item), Ordering::Relaxed);
            }
        })
        .and_then()
        .handle_events_with(move |slot: &Slot, _, _| {
            if slot.kept.load(Ordering::Relaxed) {
                let acc = deliver.acc.take().unwrap_or_else(|| unreachable!());
                deliver.acc = Some(fold(acc, slot.item.load(Ordering::Relaxed)));
            }
        })
        .build();
    for item in source {
        wait_for(|| {
            producer
                .try_publish(|slot| {
                    slot.item.store(item, Ordering::Relaxed);
                    slot.kept.store(false, Ordering::Relaxed);
                })
                .ok()
        });
    }
    // Dropping the producer waits for every handler to finish what was published.
    drop(producer);
    let acc = out.lock().unwrap_or_else(PoisonError::into_inner).take();
    acc.unwrap_or_else(|| fail("disruptor: the sink handler handed back no fold"))
}

/// Runs the linear workload of `items` through [`disruptor_chain`], checks its total against
/// `expected` and returns the time, thread start-up included.
pub fn linear_disruptor(name: &str, items: u64, expected: u64) -> Duration {
    let start = Instant::now();
    let total = disruptor_chain::<Linear, u64>(0..items, 0, add);
    let elapsed = start.elapsed();
    check_total(name, total, expected);
    elapsed
}

/// A way to run the fan-out workload: every task of a [`Work`], as its index, through
/// [`WORKERS`] workers.
pub trait FanOut {
    /// The implementation's name, as printed in a table row.
    const NAME: &'static str;
    /// Whether this is weir's own implementation (and so not a peer).
    const IS_WEIR: bool = false;

    /// Runs every task of `work` once through [`run_task`] (each worker with its own index,
    /// see [`Slots`]), and returns the makespan, thread start-up included where the
    /// implementation starts its threads per run; an ordered implementation also checks that
    /// the indices came back in order.
    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration;
}

/// Runs task `index` of `work` on worker `worker` and hands the index on.
#[inline(always)]
pub fn run_task(work: &Work, index: u64, worker: usize, tally: &Tally) -> u64 {
    work.run(work.costs()[index as usize], worker, tally);
    index
}

/// Runs `F` over `work` and returns its makespan, after checking that every task ran once.
pub fn fan_out<F: FanOut>(work: &Arc<Work>) -> Duration {
    let tally = Arc::new(Tally::new(WORKERS));
    let makespan = F::run(work, &tally);
    tally.check(F::NAME, work);
    makespan
}

/// Counts an ordered output: the next index expected, or a stop with a message.
#[derive(Debug, Default)]
pub struct InOrder {
    next: u64,
}

impl InOrder {
    /// Takes the next output of `name`, which must be index `self.next`.
    #[inline(always)]
    pub fn take(mut self, name: &str, index: u64) -> Self {
        if index != self.next {
            fail(&format!(
                "{name}: index {index} came out where {} was due",
                self.next
            ));
        }
        self.next += 1;
        self
    }

    /// Stops the run unless every one of `tasks` indices came out.
    pub fn finish(self, name: &str, tasks: u64) {
        if self.next != tasks {
            fail(&format!(
                "{name}: {} of {tasks} indices came out",
                self.next
            ));
        }
    }
}

/// A rayon `ThreadPool` of [`WORKERS`] threads, not pinned, both woken before the clock.
fn rayon_pool(name: &str) -> rayon::ThreadPool {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .unwrap_or_else(|err| fail(&format!("{name}: {err}")));
    pool.broadcast(|_| ());
    pool
}

/// rayon: `par_bridge` over the index range, on a 2-thread pool (unordered).
#[derive(Debug)]
pub enum RayonParBridge {}

impl FanOut for RayonParBridge {
    const NAME: &'static str = "rayon ThreadPool(2), (0..n).par_bridge().for_each (unordered)";

    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration {
        use rayon::prelude::*;
        let pool = rayon_pool(Self::NAME);
        let tasks = work.costs().len() as u64;
        let start = Instant::now();
        pool.install(|| {
            (0..tasks).par_bridge().for_each(|index| {
                let worker = rayon::current_thread_index().unwrap_or(0);
                run_task(work, index, worker, tally);
            });
        });
        start.elapsed()
    }
}

/// rayon: `par_iter` over a `Vec` of the indices (made before the clock), on a 2-thread pool
/// (unordered).
#[derive(Debug)]
pub enum RayonParIter {}

impl FanOut for RayonParIter {
    const NAME: &'static str =
        "rayon ThreadPool(2), Vec of indices .par_iter().for_each (unordered)";

    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration {
        use rayon::prelude::*;
        let pool = rayon_pool(Self::NAME);
        let indices: Vec<u64> = (0..work.costs().len() as u64).collect();
        let start = Instant::now();
        pool.install(|| {
            indices.par_iter().for_each(|&index| {
                let worker = rayon::current_thread_index().unwrap_or(0);
                run_task(work, index, worker, tally);
            });
        });
        start.elapsed()
    }
}

/// pariter 0.5: `parallel_map` (ordered) over the index range on 2 threads, with `BUFFER`
/// items in flight (0: its default, twice the threads), consumed on the calling thread.
#[derive(Debug)]
pub enum Pariter<const BUFFER: usize> {}

impl<const BUFFER: usize> FanOut for Pariter<BUFFER> {
    const NAME: &'static str = if BUFFER == 0 {
        "pariter 0.5 parallel_map, threads(2), default buffer (4 in flight; ordered)"
    } else {
        "pariter 0.5 parallel_map, threads(2), buffer_size(1024) (ordered)"
    };

    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration {
        use pariter::IteratorExt as _;
        let tasks = work.costs().len() as u64;
        let slots = Slots::new(Self::NAME);
        let (work, tally, slots) = (&**work, &**tally, &slots);
        let start = Instant::now();
        let order = pariter::scope(|scope| {
            (0..tasks)
                .parallel_map_scoped_custom(
                    scope,
                    |options| {
                        let options = options.threads(WORKERS);
                        if BUFFER == 0 {
                            options
                        } else {
                            options.buffer_size(BUFFER)
                        }
                    },
                    move |index| run_task(work, index, slots.current(), tally),
                )
                .fold(InOrder::default(), |order, index| {
                    order.take(Self::NAME, index)
                })
        })
        .unwrap_or_else(|_| fail(&format!("{}: a worker panicked", Self::NAME)));
        let elapsed = start.elapsed();
        order.finish(Self::NAME, tasks);
        elapsed
    }
}

/// Items due at a fixed rate: item `i` is due `i * period` after `base`; the iterator spins
/// until then and yields the due instant, in nanoseconds since `base`.
pub fn paced(base: Instant, items: u64, period: Duration) -> impl Iterator<Item = u64> + Send {
    let period = period.as_nanos() as u64;
    (0..items).map(move |i| {
        let due = i * period;
        while (base.elapsed().as_nanos() as u64) < due {
            std::hint::spin_loop();
        }
        due
    })
}

/// The sink of the latency workload: every item's latency (now minus its due instant) in an
/// HDR histogram, and the count and sum of the items to check them by.
#[derive(Debug)]
pub struct Tail {
    base: Instant,
    histogram: Histogram<u64>,
    items: u64,
    sum: u64,
}

/// What one latency run measured, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latencies {
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest.
    pub max: f64,
}

impl Tail {
    /// An empty sink for items due after `base`.
    pub fn new(base: Instant) -> Self {
        // 1 ns to 100 s, three significant digits.
        let histogram = Histogram::new_with_bounds(1, 100_000_000_000, 3)
            .unwrap_or_else(|err| fail(&format!("hdrhistogram: {err}")));
        Tail {
            base,
            histogram,
            items: 0,
            sum: 0,
        }
    }

    /// Records `due`'s latency (the sink's fold step).
    #[inline(always)]
    pub fn record(mut self, due: u64) -> Self {
        let now = self.base.elapsed().as_nanos() as u64;
        self.histogram
            .saturating_record(now.saturating_sub(due).max(1));
        self.items += 1;
        self.sum = self.sum.wrapping_add(due);
        self
    }

    /// Checks that `name` delivered exactly the `items` items of [`paced`] with `period`, and
    /// returns their latencies.
    pub fn finish(self, name: &str, items: u64, period: Duration) -> Latencies {
        let period = period.as_nanos() as u64;
        // 0 + period + 2 period + ... + (items - 1) period.
        let expected = (0..items).fold(0u64, |sum, i| sum.wrapping_add(i * period));
        if self.items != items || self.sum != expected {
            fail(&format!(
                "{name}: {} items (sum {}) came out of {items} (sum {expected})",
                self.items, self.sum
            ));
        }
        Latencies {
            p50: self.histogram.value_at_quantile(0.5) as f64,
            p99: self.histogram.value_at_quantile(0.99) as f64,
            max: self.histogram.max() as f64,
        }
    }
}

/// How far after the start of a latency run its first item is due: room for the threads to
/// start.
pub const LEAD: Duration = Duration::from_millis(2);

/// The latency workload through [`chain`] over `Q`: `items` items due every `period`.
pub fn latency_chain<Q: BlockingQueue>(name: &str, items: u64, period: Duration) -> Latencies {
    let base = Instant::now() + LEAD;
    let tail = chain::<Q, Relay, Tail>(paced(base, items, period), Tail::new(base), Tail::record);
    tail.finish(name, items, period)
}

/// The latency workload through [`disruptor_chain`]: `items` items due every `period`.
pub fn latency_disruptor(name: &str, items: u64, period: Duration) -> Latencies {
    let base = Instant::now() + LEAD;
    let tail =
        disruptor_chain::<Relay, Tail>(paced(base, items, period), Tail::new(base), Tail::record);
    tail.finish(name, items, period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::{CrossbeamChannel, StdSyncChannel};

    const ITEMS: u64 = 20_000;

    #[test]
    fn every_linear_implementation_agrees() {
        let (_, expected) = sequential(ITEMS);
        linear_chain::<StdSyncChannel>("std", ITEMS, expected);
        linear_chain::<CrossbeamChannel>("crossbeam", ITEMS, expected);
        linear_disruptor("disruptor", ITEMS, expected);
    }

    #[test]
    fn relay_hands_items_back_unchanged() {
        for item in [0, 1, 12_345, u64::MAX - 1] {
            assert!(Relay::keep(&Relay::first(item)));
            assert_eq!(Relay::last(Relay::first(item)), item);
        }
    }

    #[test]
    fn latency_runs_count_every_item() {
        let period = Duration::from_micros(10);
        latency_chain::<CrossbeamChannel>("crossbeam", 1_000, period);
        latency_disruptor("disruptor", 1_000, period);
    }

    #[test]
    fn fan_out_runs_every_task_once() {
        let work = Arc::new(Work::new(500, 10));
        fan_out::<RayonParBridge>(&work);
        fan_out::<RayonParIter>(&work);
        fan_out::<Pariter<0>>(&work);
        fan_out::<Pariter<CAPACITY>>(&work);
    }
}
