//! The harnesses behind `weir-bench`: weir-ring, weir-mpmc and weir-backpressure's blocking
//! channels beside `std::sync::mpsc` and their peers.
//!
//! The comparison binary (`cargo run --release -p weir-bench`) and the criterion benches
//! (`cargo bench -p weir-bench`) share everything in here, so both measure exactly the same
//! loops:
//!
//! - [`queues`]: one small adapter per implementation, all behind the same [`queues::Queue`]
//!   (and [`queues::BatchQueue`]) trait, so that every harness is generic and no
//!   implementation gets a different loop.
//! - [`wait`]: the one busy-wait every non-blocking harness uses (spin, then yield).
//! - [`pin`]: pins the threads of a run to two cores and starts them together.
//! - [`spsc`]: one producer thread to one consumer thread, per item and in batches.
//! - [`mpmc`]: P producer threads to C consumer threads through one queue (1p1c to 2p2c).
//! - [`skewed`]: tasks whose costs vary 100x on two workers, makespan beside the ideal.
//! - [`distribute`]: one sender routing through a distributor onto 8 rings, flat or as a tree
//!   of groups, and one thread draining them.
//! - [`pingpong`]: round trips between two threads over two queues.
//! - [`probe`]: the raw cache-line round trip, the yardstick for every row.
//! - [`blocking_queues`]: the blocking calls of the channels (weir-backpressure's two, std's,
//!   crossbeam-channel's, kanal's, flume's) on top of their adapters.
//! - [`blocking`]: the blocking workloads: SPSC, MPMC (oversubscribed too) and ping-pong, each
//!   channel waiting in its own way.
//! - [`cpu`]: the CPU time and context switches of a run, from `getrusage`.
//! - [`pipeline`]: a source, three stages and a sink: linear, fanned out to two workers, and
//!   paced for end-to-end latency, against hand-built channel pipelines and their peers;
//!   weir-pipeline's rows in [`pipeline_weir`].
//! - [`pipeline_dynamic`]: weir-pipeline's scaling, fork_join, overload (DropOldest against
//!   Block) and the seed's targets (dynamic, hierarchical, stream).

pub mod blocking;
pub mod blocking_queues;
pub mod cpu;
pub mod distribute;
pub mod mpmc;
pub mod pin;
pub mod pingpong;
pub mod pipeline;
pub mod pipeline_dynamic;
pub mod pipeline_weir;
pub mod probe;
pub mod queues;
pub mod skewed;
pub mod spsc;
pub mod wait;

/// Queue capacity used by every workload, in items.
pub const CAPACITY: usize = 1024;

/// Stops the whole run with a clear message: a benchmark that moved the wrong items measured
/// nothing worth printing. Exits rather than panics, so that the other thread of the pair,
/// which may be spinning on a queue, cannot keep the process alive.
#[cold]
pub fn fail(message: &str) -> ! {
    eprintln!("weir-bench: VALIDATION FAILED: {message}");
    std::process::exit(2);
}
