//! weir-pipeline's rows of the pipeline workloads (see [`crate::pipeline`]): the same stages,
//! sinks and checks as the peers', through `weir_pipeline::Pipeline` with its default queue
//! capacity (1024, the peers' too).

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_pipeline::{Pipeline, Workers};

use crate::fail;
use crate::pipeline::{
    add, check_total, paced, run_task, FanOut, InOrder, Latencies, Linear, Relay, Stages, Tail,
    LEAD,
};
use crate::skewed::{Slots, Tally, Work, WORKERS};

/// The row label of weir's linear and latency pipelines.
pub const CHAIN: &str = "weir-pipeline Pipeline (from_iter, map, filter, map, fold)";

/// `from_iter(source)` through `S`'s three stages, each on a thread of its own, into a fold
/// on the sink; stops the run on a pipeline error.
fn chain<S: Stages + 'static, A: Send + 'static>(
    source: impl IntoIterator<Item = u64, IntoIter: Send + 'static>,
    init: A,
    fold: impl FnMut(A, u64) -> A + Send + 'static,
) -> A {
    Pipeline::from_iter(source)
        .map(S::first)
        .filter(S::keep)
        .map(S::last)
        .fold(init, fold)
        .run()
        .unwrap_or_else(|err| fail(&format!("{CHAIN}: {err}")))
        .output
}

/// Runs the linear workload of `items` through weir's pipeline, checks its total against
/// `expected` and returns the time, thread start-up included.
pub fn linear(items: u64, expected: u64) -> Duration {
    let start = Instant::now();
    let total = chain::<Linear, u64>(0..items, 0, add);
    let elapsed = start.elapsed();
    check_total(CHAIN, total, expected);
    elapsed
}

/// The latency workload through weir's pipeline: `items` items due every `period`.
pub fn latency(items: u64, period: Duration) -> Latencies {
    let base = Instant::now() + LEAD;
    let tail = chain::<Relay, Tail>(paced(base, items, period), Tail::new(base), Tail::record);
    tail.finish(CHAIN, items, period)
}

/// A parallel stage of [`WORKERS`] workers running every task, its index in and out, into a
/// sink folding with `fold`; returns the makespan (thread start-up included) and the fold.
fn fan_out<A: Send + 'static>(
    name: &'static str,
    workers: Workers,
    work: &Arc<Work>,
    tally: &Arc<Tally>,
    init: A,
    fold: impl FnMut(A, u64) -> A + Send + 'static,
) -> (Duration, A) {
    let tasks = work.costs().len() as u64;
    let slots = Arc::new(Slots::new(name));
    let (work, tally) = (Arc::clone(work), Arc::clone(tally));
    let start = Instant::now();
    let finished = Pipeline::from_iter(0..tasks)
        .parallel(workers, move |segment| {
            let (work, tally, slots) = (Arc::clone(&work), Arc::clone(&tally), Arc::clone(&slots));
            segment.map(move |index| run_task(&work, index, slots.current(), &tally))
        })
        .fold(init, fold)
        .run()
        .unwrap_or_else(|err| fail(&format!("{name}: {err}")));
    (start.elapsed(), finished.output)
}

/// weir's parallel stage, unordered: `parallel(2, |s| s.map(task))`.
#[derive(Debug)]
pub enum Unordered {}

impl FanOut for Unordered {
    const NAME: &'static str = "weir-pipeline parallel(2, map) (unordered)";
    const IS_WEIR: bool = true;

    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration {
        let (elapsed, count) = fan_out(
            Self::NAME,
            Workers::new(WORKERS),
            work,
            tally,
            0u64,
            |count, _| count + 1,
        );
        if count != work.costs().len() as u64 {
            fail(&format!("{}: {count} indices came out", Self::NAME));
        }
        elapsed
    }
}

/// weir's parallel stage, ordered: `parallel(Workers::new(2).ordered(), |s| s.map(task))`,
/// the sink checking that the indices come out in order.
#[derive(Debug)]
pub enum Ordered {}

impl FanOut for Ordered {
    const NAME: &'static str = "weir-pipeline parallel(Workers::new(2).ordered(), map) (ordered)";
    const IS_WEIR: bool = true;

    fn run(work: &Arc<Work>, tally: &Arc<Tally>) -> Duration {
        let (elapsed, order) = fan_out(
            Self::NAME,
            Workers::new(WORKERS).ordered(),
            work,
            tally,
            InOrder::default(),
            |order, index| order.take(Self::NAME, index),
        );
        order.finish(Self::NAME, work.costs().len() as u64);
        elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{fan_out, sequential};

    #[test]
    fn weir_agrees_with_the_plain_iterator() {
        let (_, expected) = sequential(20_000);
        linear(20_000, expected);
    }

    #[test]
    fn weir_latency_counts_every_item() {
        latency(1_000, Duration::from_micros(10));
    }

    #[test]
    fn weir_fan_out_runs_every_task_once() {
        let work = Arc::new(Work::new(500, 10));
        fan_out::<Unordered>(&work);
        fan_out::<Ordered>(&work);
    }
}
