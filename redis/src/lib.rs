//! Redis Streams for weir pipelines: a consumer group as a pipeline's source, a stream as
//! its sink, with at-least-once delivery that survives a dead worker.
//!
//! - [`StreamSource`] reads a stream through a consumer group (`XREADGROUP` with `BLOCK` and
//!   `COUNT`) as an iterator of [`Entry`] (id, payload bytes, delivery count), and as the
//!   start of a pipeline ([`StreamSource::into_pipeline`]). It reads its own unacknowledged
//!   backlog first, claims entries that went quiet on another consumer (`XAUTOCLAIM`), and
//!   moves an entry delivered too many times to a dead-letter stream.
//! - [`Acker`] acknowledges handled entries (`XACK`), a batch per round trip.
//! - [`StreamSink`] appends payloads (`XADD`, a batch per round trip, optional
//!   `MAXLEN ~`), and can acknowledge the entries they came from
//!   ([`StreamSink::append_and_ack`]) right after, only once every result is appended: an
//!   entry is never acknowledged without its result written. With
//!   [`SinkBuilder::backpressure`] it waits while the stream holds too many entries.
//! - A group that [deletes what it acknowledges](Group::delete_acknowledged) keeps only
//!   unfinished work on the server; with a sink's backpressure, that stream's size stays
//!   bounded whatever the producer's pace.
//! - A [`Stopper`] ends a source from another thread at once, even while it waits on the
//!   server (`CLIENT UNBLOCK`).
//!
//! Every handle reconnects with backoff when its connection drops (a server restart, say)
//! and gives up with a typed [`Error`] after a window (30 s by default). Nothing is
//! acknowledged that was not handled: an entry is acknowledged only by the calls above,
//! after the caller's sink has handled it.
//!
//! # Examples
//!
//! A worker: entries in, a parallel stage, results out, each batch's results written and
//! its entries acknowledged once they are written.
//!
//! ```no_run
//! use std::time::Duration;
//! use weir_redis::{StreamSink, StreamSource};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let address = "redis://127.0.0.1:6379/";
//! let source = StreamSource::builder(address, "jobs", "workers", "worker-1")
//!     .claim_idle(Duration::from_secs(30))
//!     .connect()?;
//! let group = source.group().clone();
//! let mut sink = StreamSink::connect(address, "results")?;
//! source
//!     .into_pipeline()                       // a reader thread hands entries on at once
//!     .capacity(16)                          // short queues: entries wait little, pending
//!     .try_map(|entry| entry)                // a source error fails the pipeline
//!     .parallel(2, |s| s.map(|entry| (entry.id, entry.payload.to_ascii_uppercase())))
//!     .batch_timeout(64, Duration::from_millis(5))
//!     .try_map(move |batch| {
//!         let results = batch.iter().map(|(_, result)| result);
//!         sink.append_and_ack(results, &group, batch.iter().map(|(id, _)| id))
//!     })
//!     .for_each(drop)
//!     .run()?;
//! # Ok(()) }
//! ```

mod ack;
mod append;
mod entry;
mod error;
#[cfg_attr(not(loom), allow(unreachable_pub))] // public only for the loom model
mod handshake;
mod link;
mod pause;
mod reply;
mod sink;
mod source;
mod stop;
mod sync;

pub use ack::Acker;
pub use entry::{Entry, EntryId, Group};
pub use error::{Error, Result};
pub use link::{Reconnecting, DEFAULT_RECONNECT_WINDOW};
pub use sink::{SinkBuilder, StreamSink};
pub use source::{Counts, SourceBuilder, StreamSource};
pub use stop::Stopper;

#[cfg(loom)]
#[doc(hidden)]
pub use handshake::Handshake;

/// The field that holds an entry's payload unless a source or sink is told another.
pub const PAYLOAD_FIELD: &str = "payload";
