//! Typed multi-threaded pipelines of closures over weir's rings, queues and wake-ups.
//!
//! A chain of closures becomes a pipeline of stages, each on a thread of its own, joined by
//! bounded queues: memory stays bounded whatever the speed of the stages, a slow stage makes
//! the ones before it wait (backpressure), and an idle pipeline parks its threads.
//! [`parallel`](Pipeline::parallel) fans a segment of the chain out over several workers, in
//! order ([`Workers::ordered`]) or not. An error or a panic stops every thread cleanly, and the
//! [`Report`] says where the time went: items in and out, filtered, failed and discarded, busy
//! time, waiting for input and on a full output, closure latency and queue occupancy, per stage.
//!
//! ```
//! use weir_pipeline::{Pipeline, Workers};
//!
//! let finished = Pipeline::from_iter(0..100_000u64)
//!     .map(|x| x * 3).named("triple")
//!     .filter(|x| x % 2 == 0)
//!     .parallel(Workers::new(2).ordered(), |s| s.map(|x| x / 2)).named("halve")
//!     .fold(0u64, |acc, x| acc + x)
//!     .run()?;
//! assert_eq!(finished.output, (0..100_000u64).filter(|x| x % 2 == 0).map(|x| x * 3 / 2).sum());
//! let report = &finished.report;
//! assert_eq!(report.items_in(), 100_000);
//! assert_eq!(report.stage("halve").unwrap().workers(), 2);
//! println!("{report}");
//! # Ok::<(), weir_pipeline::PipelineError>(())
//! ```
//!
//! # How it runs
//!
//! - The source (an iterator, or [`Input`] handles) runs on a thread of its own; so does each
//!   stage, but a serial stage starts lent to the thread that reads its output, which runs it
//!   between its own chunks while the stage's thread sleeps (a chain of cheap stages runs on
//!   the sink's thread, each still a row of the report); it goes back to its thread after
//!   four chunks in a row over 1 µs an item, and is lent again once under 250 ns an item.
//!   Items move between threads in chunks (as many as a stage works through in about
//!   500 µs, up to 1024; up to 256 for the workers of an unordered parallel stage, which share
//!   their input) through weir-backpressure's
//!   blocking channels (an SPSC weir-ring ring between two single threads, the weir-mpmc
//!   queue into and out of an unordered parallel stage), which wake a sleeper once per chunk.
//!   A thread waiting on a queue spins up to 50 µs while the pipelines' threads that may run
//!   fit the cores (a wake-up costs more than that wait), and sleeps after a few spins and
//!   yields when they do not.
//! - [`Flow::run`] runs the sink on the calling thread; [`Flow::spawn`] on a thread of its
//!   own; iterating a [`Pipeline`] gives its items on the calling thread.
//! - A parallel stage with as many workers as cores runs one thread fewer: the thread that
//!   reads its output runs the last worker between its reads (see [`Pipeline::parallel`]), so
//!   that no thread takes a core from a worker just to wait for its chunks.
//! - Nothing is allocated per item once the pipeline runs: chunk buffers are reused, and a
//!   [`Batch`]'s buffer goes back to its stage when dropped.

#![deny(unsafe_op_in_unsafe_fn)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod control;
mod deal;
mod error;
mod flight;
mod flow;
mod fork;
mod help;
mod launch;
mod lend;
mod link;
mod marks;
mod metrics;
mod nested;
mod op;
mod pace;
mod partition;
mod pipeline;
mod prioritize;
mod report;
mod room;
mod scale;
mod segment;
mod source;
mod stage;
mod swap;
mod sync;
mod workers;

pub use batch::{Batch, IntoIter as BatchIntoIter};
pub use error::{BoxError, ControlError, ErrorKind, OnError, PipelineError, ReceiverGone};
pub use flow::{Finished, Flow, Output, Running};
pub use fork::BranchOutputs;
pub use nested::{Nested, Stages};
pub use pipeline::{Pipeline, DEFAULT_CAPACITY};
pub use report::{Latency, Report, StageReport};
pub use segment::Segment;
pub use source::Input;
pub use swap::Swap;
pub use weir_backpressure::overflow::Overflow;
pub use weir_backpressure::{SendError, TrySendError};
pub use workers::Workers;

static_assertions::assert_impl_all!(Pipeline<u64>: Send);
static_assertions::assert_impl_all!(Input<u64>: Send, Sync, Clone);
static_assertions::assert_impl_all!(Running<u64>: Send);
static_assertions::assert_impl_all!(Output<u64>: Send);
static_assertions::assert_impl_all!(Batch<u64>: Send, Sync);
static_assertions::assert_impl_all!(PipelineError: Send, Sync, std::error::Error);
static_assertions::assert_impl_all!(Swap<u64, u64>: Send, Sync, Clone);

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
