//! Appending a pipeline's items to a stream.

use std::time::{Duration, Instant};

use crate::append::Append;
use crate::error::{Error, Result};
use crate::link::{Reconnecting, DEFAULT_RECONNECT_WINDOW};
use crate::pause::Pauses;
use crate::{EntryId, Group, PAYLOAD_FIELD};

/// The first pause of a sink waiting for its stream to shrink below its bound; it doubles up
/// to [`LAST_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(1);
/// The longest pause between two looks at the stream's length.
const LAST_POLL: Duration = Duration::from_millis(16);

/// Appends payloads to a stream (`XADD`), a batch at a time in one round trip, optionally
/// acknowledging the entries they came from once the appends succeeded.
///
/// # Examples
///
/// ```no_run
/// use weir_redis::StreamSink;
///
/// # fn main() -> Result<(), weir_redis::Error> {
/// let mut sink = StreamSink::builder("redis://127.0.0.1:6379/", "results")
///     .max_len(100_000)
///     .connect()?;
/// let ids = sink.append([b"first".as_slice(), b"second".as_slice()])?;
/// assert_eq!(ids.len(), 2);
/// # Ok(()) }
/// ```
pub struct StreamSink {
    link: Reconnecting,
    stream: String,
    field: String,
    max_len: Option<usize>,
    backpressure: Option<Backpressure>,
}

/// How to append to a stream: built by [`StreamSink::builder`], made by
/// [`connect`](SinkBuilder::connect).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SinkBuilder {
    address: String,
    stream: String,
    field: String,
    max_len: Option<usize>,
    backpressure: Option<Backpressure>,
    reconnect_for: Duration,
}

/// A bound on the stream's length that appends wait for.
#[derive(Clone, Copy, Debug)]
struct Backpressure {
    bound: usize,
    patience: Duration,
}

impl SinkBuilder {
    /// Keeps the stream at about `entries` entries (`MAXLEN ~`): the server trims whole
    /// blocks of the oldest, so the length may exceed it a little. Entries trimmed away
    /// before a consumer group read them are lost to it: make the bound generous.
    pub fn max_len(mut self, entries: usize) -> Self {
        self.max_len = Some(entries);
        self
    }

    /// Backpressure from the consumers: before each batch, waits while the stream holds
    /// `bound` entries or more (`XLEN`, polled every few milliseconds), for at most
    /// `patience` before [`Error::StillFull`]. A batch goes out whole once the stream is
    /// below the bound, so the stream holds at most `bound - 1` plus one batch per sink
    /// appending to it. A call with no payloads (an acknowledgement alone) does not wait.
    ///
    /// Unlike [`max_len`](Self::max_len) it loses nothing; it bounds the server's memory
    /// only if the consumers take entries out of the stream as they finish them
    /// ([`SourceBuilder::delete_acknowledged`](crate::SourceBuilder::delete_acknowledged)).
    /// Without it, a producer faster than its consumers fills the server with work they
    /// will not reach for a long while, and with every payload it has appended.
    pub fn backpressure(mut self, bound: usize, patience: Duration) -> Self {
        self.backpressure = Some(Backpressure { bound, patience });
        self
    }

    /// The field the payload goes in (default `payload`).
    pub fn payload_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    /// How long connecting, and reconnecting after a drop, is retried before an error
    /// (default 30 s).
    pub fn reconnect_for(mut self, window: Duration) -> Self {
        self.reconnect_for = window;
        self
    }

    /// Connects.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty stream or field name, a backpressure bound
    /// of 0, or a bad address; [`Error::Unreachable`] if the server cannot be reached within
    /// the reconnect window.
    pub fn connect(self) -> Result<StreamSink> {
        for (what, name) in [("stream", &self.stream), ("payload field", &self.field)] {
            if name.is_empty() {
                return Err(Error::InvalidArgument(format!("the {what} name is empty")));
            }
        }
        if self.backpressure.is_some_and(|b| b.bound == 0) {
            return Err(Error::InvalidArgument(
                "a backpressure bound of 0 entries would never let an append through".into(),
            ));
        }
        Ok(StreamSink {
            link: Reconnecting::blocking(&self.address, self.reconnect_for, Duration::ZERO)?,
            stream: self.stream,
            field: self.field,
            max_len: self.max_len,
            backpressure: self.backpressure,
        })
    }
}

impl StreamSink {
    /// How to append to the stream at key `stream` on the server at `address`
    /// (`redis://host:port/db`).
    pub fn builder(address: &str, stream: impl Into<String>) -> SinkBuilder {
        SinkBuilder {
            address: address.to_owned(),
            stream: stream.into(),
            field: PAYLOAD_FIELD.to_owned(),
            max_len: None,
            backpressure: None,
            reconnect_for: DEFAULT_RECONNECT_WINDOW,
        }
    }

    /// A sink appending to the stream at key `stream` on the server at `address`, with the
    /// defaults: `StreamSink::builder(address, stream).connect()`.
    ///
    /// # Errors
    ///
    /// As [`SinkBuilder::connect`].
    pub fn connect(address: &str, stream: impl Into<String>) -> Result<Self> {
        Self::builder(address, stream).connect()
    }

    /// The stream's key.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Appends `payloads` in order, in one round trip, with no other client's command in
    /// between. Returns their ids.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] if the connection is down for the whole reconnect window,
    /// [`Error::Refused`] if the key holds something else than a stream (the payloads
    /// before the failing one stay appended; with [backpressure](SinkBuilder::backpressure),
    /// `XLEN` is refused first and nothing is appended), [`Error::StillFull`] if the stream
    /// stayed at its backpressure bound for the patience given (nothing appended).
    /// A connection that drops after the server ran the batch but before its reply came
    /// makes the retry append the batch twice: consumers must expect duplicates, as with any
    /// at-least-once delivery.
    pub fn append<P: AsRef<[u8]>>(
        &mut self,
        payloads: impl IntoIterator<Item = P>,
    ) -> Result<Vec<EntryId>> {
        let batch = self.batch(payloads);
        if batch.entries() > 0 {
            self.wait_for_room()?;
        }
        let name = format!("XADD {} (a batch of {})", self.stream, batch.entries());
        batch.run(&mut self.link, &name)
    }

    /// Appends `payloads`, then acknowledges `handled` (entries of `group`), in one round
    /// trip that no other client's command interleaves: the entries count as done once their
    /// results are in the stream, and not if an append fails. Returns the new entries' ids.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append); on an error nothing is acknowledged (unless the
    /// connection dropped after the server ran the batch), so the entries are delivered
    /// again.
    pub fn append_and_ack<'a, P: AsRef<[u8]>>(
        &mut self,
        payloads: impl IntoIterator<Item = P>,
        group: &'a Group,
        handled: impl IntoIterator<Item = &'a EntryId>,
    ) -> Result<Vec<EntryId>> {
        let mut batch = self.batch(payloads);
        batch.ack(group, handled);
        if batch.entries() > 0 {
            self.wait_for_room()?;
        }
        let name = format!(
            "XADD {} (a batch of {}) and XACK {} {}",
            self.stream,
            batch.entries(),
            group.stream(),
            group.name()
        );
        batch.run(&mut self.link, &name)
    }

    /// With [backpressure](SinkBuilder::backpressure): returns once the stream is below
    /// its bound.
    fn wait_for_room(&mut self) -> Result<()> {
        let Some(Backpressure { bound, patience }) = self.backpressure else {
            return Ok(());
        };
        let name = format!("XLEN {}", self.stream);
        let started = Instant::now();
        let mut pauses = Pauses::new(FIRST_POLL, LAST_POLL);
        loop {
            let entries: usize = self
                .link
                .run(&name, |c| redis::cmd("XLEN").arg(&self.stream).query(c))?;
            if entries < bound {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= patience {
                return Err(Error::StillFull {
                    stream: self.stream.clone(),
                    entries,
                    bound,
                    waited,
                });
            }
            pauses.sleep(patience - waited);
        }
    }

    fn batch<P: AsRef<[u8]>>(&self, payloads: impl IntoIterator<Item = P>) -> Append {
        let mut batch = Append::to(&self.stream, self.max_len);
        for payload in payloads {
            batch.entry(&[(self.field.as_bytes(), payload.as_ref())]);
        }
        batch
    }
}
