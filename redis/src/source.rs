//! A stream read through a consumer group, as an iterator of entries that a weir pipeline
//! takes as its source.
//!
//! The source reads in three ways, and each entry it yields is pending on this consumer
//! until somebody acknowledges it:
//!
//! - **its own backlog** first (`XREADGROUP ... 0`): entries delivered to this consumer name
//!   before and never acknowledged (a worker restarted under the same name, or a reply lost
//!   with a dropped connection), again after every reconnect;
//! - **new entries** (`XREADGROUP ... BLOCK b COUNT n ... >`);
//! - **claims** (`XAUTOCLAIM`): every so often, entries that have been pending on any
//!   consumer for longer than the claim time (a worker that died or hung) move to this one.
//!
//! An entry read again or claimed carries its delivery count (from `XPENDING`); past the
//! limit, it goes to the dead-letter stream (with its id, stream, count and payload) and is
//! acknowledged once it is there (`append.rs`), instead of being yielded. So a poison entry that
//! kills every worker which takes it stops after `max_deliveries` tries.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{cmd, Value};
use weir_pipeline::Pipeline;

use crate::ack::acknowledge;
use crate::append::Append;
use crate::error::{Error, Result};
use crate::link::{Reconnecting, DEFAULT_RECONNECT_WINDOW};
use crate::reply::{self, Listed};
use crate::stop::{StopState, Stopper};
use crate::{Acker, Entry, EntryId, Group, PAYLOAD_FIELD};

/// The cursor that starts a scan of the pending entries (and that `XAUTOCLAIM` returns once
/// a scan is complete).
const SCAN_START: &str = "0-0";

/// How to read a stream: built by [`StreamSource::builder`], made by
/// [`connect`](SourceBuilder::connect).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SourceBuilder {
    address: String,
    group: Group,
    consumer: String,
    field: String,
    count: usize,
    block: Duration,
    claim_idle: Option<Duration>,
    max_deliveries: u64,
    dead_letter: Option<String>,
    drained_after: Option<Duration>,
    reconnect_for: Duration,
}

impl SourceBuilder {
    /// Deletes each entry from the stream once it is acknowledged, by whichever handle
    /// acknowledges it ([`Group::delete_acknowledged`]; the source's
    /// [`group`](StreamSource::group) and [`acker`](StreamSource::acker) carry it): for a work queue
    /// that this group alone reads, so that the server holds only the work not done yet.
    pub fn delete_acknowledged(mut self) -> Self {
        self.group = self.group.delete_acknowledged();
        self
    }

    /// Reads up to `count` entries a round trip (`COUNT`; default 64).
    pub fn count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// Waits up to `block` on the server for new entries (`BLOCK`; default 500 ms, at least
    /// 1 ms: `BLOCK 0` would wait for ever). It is also the longest a [`Stopper`] takes to
    /// end the iteration when it cannot wake the wait (see there), and how often a source
    /// with nothing to read looks at its pipeline and its claims.
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block;
        self
    }

    /// Claims entries that have been pending on any consumer for longer than `idle`
    /// (default 60 s); `None` turns claiming off. Make it longer than an entry's handling
    /// can take, or a slow entry is handled twice.
    pub fn claim_idle(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.claim_idle = idle.into();
        self
    }

    /// Sends an entry to the dead-letter stream once it has been delivered more than `max`
    /// times (default 5), instead of yielding it again.
    pub fn max_deliveries(mut self, max: u64) -> Self {
        self.max_deliveries = max;
        self
    }

    /// The dead-letter stream's key (default `<stream>:dead`).
    pub fn dead_letter(mut self, stream: impl Into<String>) -> Self {
        self.dead_letter = Some(stream.into());
        self
    }

    /// The field of an entry that holds its payload (default `payload`). An entry without
    /// it goes to the dead-letter stream.
    pub fn payload_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    /// Ends the iteration once nothing new came and nothing could be claimed for `idle`,
    /// and no entry of the group is pending on any consumer (all were acknowledged). Without
    /// it, the source waits for new entries until stopped.
    pub fn stop_when_drained(mut self, idle: Duration) -> Self {
        self.drained_after = Some(idle);
        self
    }

    /// How long a connection that dropped (or a server that is down or restarting) is
    /// retried, with backoff, before the source yields an error (default 30 s).
    pub fn reconnect_for(mut self, window: Duration) -> Self {
        self.reconnect_for = window;
        self
    }

    /// Connects and creates the consumer group (reading the stream from its start) if it
    /// does not exist yet, creating the stream too if needed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty name or a count of 0,
    /// [`Error::Unreachable`] if the server cannot be reached within the reconnect window,
    /// [`Error::Refused`] if the key holds something other than a stream.
    pub fn connect(self) -> Result<StreamSource> {
        for (what, name) in [
            ("stream", self.group.stream()),
            ("group", self.group.name()),
            ("consumer", self.consumer.as_str()),
            ("payload field", self.field.as_str()),
        ] {
            if name.is_empty() {
                return Err(Error::InvalidArgument(format!("the {what} name is empty")));
            }
        }
        if self.count == 0 {
            return Err(Error::InvalidArgument(
                "a source reads at least 1 entry a round trip, not 0".into(),
            ));
        }
        // At least 1 ms: `BLOCK 0` would wait for ever.
        let block = self.block.max(Duration::from_millis(1));
        let mut link = Reconnecting::blocking(&self.address, self.reconnect_for, block)?;
        let stop = StopState::new(&self.address, block);
        link.publish_client_id(stop.client_slot());
        create_group(&mut link, &self.group)?;
        let dead_letter = self
            .dead_letter
            .unwrap_or_else(|| format!("{}:dead", self.group.stream()));
        Ok(StreamSource {
            link,
            field: self.field,
            count: self.count,
            block_ms: millis(block),
            claim: self.claim_idle.map(|idle| Claim {
                idle_ms: millis(idle).max(1),
                every: (idle / 2).clamp(Duration::from_millis(10), Duration::from_secs(5)),
                last: None,
                cursor: SCAN_START.to_owned(),
            }),
            max_deliveries: self.max_deliveries,
            dead_letter,
            drained_after: self.drained_after,
            stop,
            ready: VecDeque::new(),
            backlog: None,
            generation: 0,
            quiet_since: Instant::now(),
            caught_up: false,
            ended: false,
            abandoned: None,
            counts: Counts::default(),
            group: self.group,
            consumer: self.consumer,
        })
    }
}

/// The claim settings and the position of the current scan.
#[derive(Debug)]
struct Claim {
    idle_ms: u64,
    every: Duration,
    last: Option<Instant>,
    cursor: String,
}

/// Reads a stream through a consumer group: an `Iterator` of `Result<Entry, Error>`, and
/// the start of a pipeline ([`into_pipeline`](Self::into_pipeline)).
///
/// An error ends the iteration (after it is yielded once); put a `try_map(|r| r)` (or a
/// `filter_map`) after the source to decide what an error does to the pipeline.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use weir_redis::StreamSource;
///
/// # fn main() -> Result<(), weir_redis::Error> {
/// let mut source = StreamSource::builder("redis://127.0.0.1:6379/", "jobs", "workers", "worker-1")
///     .count(32)
///     .claim_idle(Duration::from_secs(30))
///     .stop_when_drained(Duration::from_secs(1))
///     .connect()?;
/// let mut acker = source.acker()?;
/// for entry in source.by_ref() {
///     let entry = entry?;
///     println!("{}: {} bytes", entry.id, entry.payload.len());
///     acker.ack([&entry.id])?;
/// }
/// # Ok(()) }
/// ```
pub struct StreamSource {
    link: Reconnecting,
    group: Group,
    consumer: String,
    field: String,
    count: usize,
    block_ms: u64,
    claim: Option<Claim>,
    max_deliveries: u64,
    dead_letter: String,
    drained_after: Option<Duration>,
    stop: Arc<StopState>,
    /// Entries read and not yet yielded.
    ready: VecDeque<Entry>,
    /// While re-reading this consumer's own pending entries: the id to read after.
    backlog: Option<String>,
    /// The link's connection count when the backlog was last scheduled.
    generation: u64,
    /// Since when reads have brought nothing.
    quiet_since: Instant,
    /// Whether the last read of new entries (`>`) on the current connection found none: the
    /// group may be drained only then (a claim or a backlog read that finds nothing says
    /// nothing about entries not yet delivered).
    caught_up: bool,
    /// An error was yielded, or the stream is drained, or a stop was asked for.
    ended: bool,
    /// Whether whoever takes the entries is gone (the pipeline of `into_pipeline` stopped):
    /// looked at between reads, so that the reader does not wait for entries nobody takes.
    abandoned: Option<Box<dyn Fn() -> bool + Send>>,
    counts: Counts,
}

impl StreamSource {
    /// How to read the stream at key `stream` through consumer group `group`, as consumer
    /// `consumer`, on the server at `address` (`redis://host:port/db`).
    ///
    /// Consumers of one group share its entries; give each worker its own consumer name,
    /// and the same name again when it restarts, so that it takes its own backlog first.
    pub fn builder(
        address: &str,
        stream: impl Into<String>,
        group: impl Into<String>,
        consumer: impl Into<String>,
    ) -> SourceBuilder {
        SourceBuilder {
            address: address.to_owned(),
            group: Group::new(stream, group),
            consumer: consumer.into(),
            field: PAYLOAD_FIELD.to_owned(),
            count: 64,
            block: Duration::from_millis(500),
            claim_idle: Some(Duration::from_secs(60)),
            max_deliveries: 5,
            dead_letter: None,
            drained_after: None,
            reconnect_for: DEFAULT_RECONNECT_WINDOW,
        }
    }

    /// The stream and group this source reads.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// This consumer's name.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// An acknowledger of this source's entries, on its own connection (the source's is
    /// busy waiting for new entries).
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`] if the second connection cannot be made.
    pub fn acker(&self) -> Result<Acker> {
        Ok(Acker::over(
            self.link.open_another(Duration::ZERO)?,
            self.group.clone(),
        ))
    }

    /// A handle that ends the iteration from another thread, waking the source if it is
    /// waiting on the server for new entries.
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.stop))
    }

    /// The source as the start of a pipeline: a thread of its own reads the stream and hands
    /// each entry on as soon as it has it, through a queue of `COUNT` entries.
    ///
    /// Prefer this to `Pipeline::from_iter(source)`: a source waits on the server for new
    /// entries, and `from_iter` gathers items into chunks, so the last entries before a
    /// quiet spell could wait in a chunk until the next entry arrives. The thread ends when
    /// the source does (an error, a [`Stopper`], a drained group) or when the pipeline
    /// stops taking entries; an entry it read and could not hand on stays pending and is
    /// delivered again.
    ///
    /// Keep the queues after it short (`Pipeline::capacity`): every entry read into the
    /// pipeline is pending on this consumer, and one that waits longer than the claim time
    /// in a queue is claimed by another consumer and handled twice.
    ///
    /// # Panics
    ///
    /// If the thread cannot be spawned.
    pub fn into_pipeline(mut self) -> Pipeline<Result<Entry>> {
        let (input, pipeline) = Pipeline::input(self.count);
        let watched = input.clone();
        self.abandoned = Some(Box::new(move || watched.is_closed()));
        std::thread::Builder::new()
            .name(format!("weir-redis reader {}", self.consumer))
            .spawn(move || {
                for item in self {
                    if input.send(item).is_err() {
                        break; // the pipeline stopped
                    }
                }
            })
            .expect("weir_redis::StreamSource::into_pipeline: cannot spawn the reader thread");
        pipeline
    }

    /// How many entries went to the dead-letter stream so far.
    pub fn dead_lettered(&self) -> u64 {
        self.counts.dead_lettered()
    }

    /// How many entries were claimed from quiet consumers so far.
    pub fn claimed(&self) -> u64 {
        self.counts.claimed()
    }

    /// The source's counts, readable from any thread while it runs (in a pipeline, say).
    pub fn counts(&self) -> Counts {
        self.counts.clone()
    }

    fn command(&self, verb: &str) -> String {
        format!("{verb} {} {}", self.group.stream(), self.group.name())
    }

    /// One read: a claim when one is due, the backlog while there is one, else new entries.
    /// Returns whether it brought anything (yielded or dead-lettered).
    fn read(&mut self) -> Result<bool> {
        if self.link.generation() != self.generation {
            // A new connection (the first, or after a drop): entries delivered to this
            // consumer by a reply that never arrived are in its pending list; read them first.
            self.generation = self.link.generation();
            self.backlog = Some("0".to_owned());
            self.caught_up = false;
        }
        if self.claim_due() {
            return self.claim();
        }
        if let Some(after) = self.backlog.clone() {
            let listed = self.read_group(&after, None)?;
            self.counts.add(&self.counts.0.backlog, listed.len());
            match listed.last() {
                None => self.backlog = None,
                Some(Listed::Present { id, .. } | Listed::Deleted(id)) => {
                    self.backlog = Some(id.0.clone());
                }
            }
            return self.take(listed, true);
        }
        let listed = self.read_group(">", Some(self.block_ms))?;
        // Only if the read ran on the connection the backlog was scheduled for: one that
        // reconnected on the way may have lost a reply's entries to the pending list.
        self.caught_up = listed.is_empty() && self.link.generation() == self.generation;
        self.take(listed, false)
    }

    fn claim_due(&self) -> bool {
        self.claim.as_ref().is_some_and(|claim| {
            claim.cursor != SCAN_START
                || claim.last.is_none_or(|last| last.elapsed() >= claim.every)
        })
    }

    fn read_group(&mut self, after: &str, block_ms: Option<u64>) -> Result<Vec<Listed>> {
        let mut read = cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(self.group.name())
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.count);
        if let Some(ms) = block_ms {
            read.arg("BLOCK").arg(ms);
        }
        read.arg("STREAMS").arg(self.group.stream()).arg(after);
        let name = self.command("XREADGROUP");
        let value: Value = if block_ms.is_some() {
            if !self.stop.handshake().before_wait() {
                return Ok(Vec::new()); // stopped: the caller looks at the flag next
            }
            let value = self.link.run(&name, |c| read.query(c));
            self.stop.handshake().after_wait();
            value?
        } else {
            self.link.run(&name, |c| read.query(c))?
        };
        reply::read_group(&name, value, &self.field)
    }

    fn claim(&mut self) -> Result<bool> {
        let Some(claim) = self.claim.as_mut() else {
            return Ok(false);
        };
        let mut auto_claim = cmd("XAUTOCLAIM");
        auto_claim
            .arg(self.group.stream())
            .arg(self.group.name())
            .arg(&self.consumer)
            .arg(claim.idle_ms)
            .arg(&claim.cursor)
            .arg("COUNT")
            .arg(self.count);
        let name = format!("XAUTOCLAIM {} {}", self.group.stream(), self.group.name());
        let value: Value = self.link.run(&name, |c| auto_claim.query(c))?;
        let (cursor, listed) = reply::auto_claim(&name, value, &self.field)?;
        let claim = self.claim.as_mut().expect("claim settings checked above");
        claim.cursor = cursor;
        if claim.cursor == SCAN_START {
            claim.last = Some(Instant::now());
        }
        self.counts.add(&self.counts.0.claimed, listed.len());
        self.take(listed, true)
    }

    /// Queues what a read brought: entries to yield, the rest acknowledged (deleted from the
    /// stream meanwhile) or sent to the dead-letter stream. `again` says the entries may
    /// have been delivered before, so their counts come from `XPENDING`.
    fn take(&mut self, listed: Vec<Listed>, again: bool) -> Result<bool> {
        if listed.is_empty() {
            return Ok(false);
        }
        let counts = if again {
            self.delivery_counts(&listed)?
        } else {
            HashMap::new()
        };
        let mut gone = Vec::new();
        for item in listed {
            match item {
                Listed::Deleted(id) => gone.push(id),
                Listed::Present { id, payload } => {
                    let deliveries = if again {
                        match counts.get(&id) {
                            Some(&n) => n,
                            // No longer pending on this consumer: another one claimed it, or
                            // it was acknowledged meanwhile. It is not ours to yield.
                            None => continue,
                        }
                    } else {
                        1
                    };
                    match payload {
                        None => {
                            let reason = format!("no field {:?}", self.field);
                            self.bury(&id, deliveries, &reason, None)?;
                        }
                        Some(payload) if deliveries > self.max_deliveries => {
                            let reason = format!("delivered {deliveries} times");
                            self.bury(&id, deliveries, &reason, Some(&payload))?;
                        }
                        Some(payload) => self.ready.push_back(Entry {
                            id,
                            payload,
                            deliveries,
                        }),
                    }
                }
            }
        }
        acknowledge(&mut self.link, &self.group, &gone)?;
        Ok(true)
    }

    /// The delivery counts of the listed entries that are pending on this consumer.
    fn delivery_counts(&mut self, listed: &[Listed]) -> Result<HashMap<EntryId, u64>> {
        let ids = listed.iter().map(|item| match item {
            Listed::Present { id, .. } | Listed::Deleted(id) => id,
        });
        let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) else {
            return Ok(HashMap::new());
        };
        let mut pending = cmd("XPENDING");
        pending
            .arg(self.group.stream())
            .arg(self.group.name())
            .arg(first)
            .arg(last)
            .arg(listed.len())
            .arg(&self.consumer);
        let name = self.command("XPENDING");
        let value: Value = self.link.run(&name, |c| pending.query(c))?;
        Ok(reply::pending(&name, value)?.into_iter().collect())
    }

    /// Moves an entry to the dead-letter stream, then acknowledges it (not if the move
    /// failed). An entry without the payload field (`payload` None) is acknowledged but
    /// never deleted, even by a group that deletes what it acknowledges: the dead letter
    /// does not copy its other fields, and the entry itself is what there is to look at.
    fn bury(
        &mut self,
        id: &EntryId,
        deliveries: u64,
        reason: &str,
        payload: Option<&[u8]>,
    ) -> Result<()> {
        let deliveries = deliveries.to_string();
        let mut moved = Append::to(&self.dead_letter, None);
        moved.entry(&[
            (b"id", id.as_str().as_bytes()),
            (b"stream", self.group.stream().as_bytes()),
            (b"group", self.group.name().as_bytes()),
            (b"deliveries", deliveries.as_bytes()),
            (b"reason", reason.as_bytes()),
            (self.field.as_bytes(), payload.unwrap_or_default()),
        ]);
        let keeping;
        let group = if payload.is_some() {
            &self.group
        } else {
            keeping = Group::new(self.group.stream(), self.group.name());
            &keeping
        };
        moved.ack(group, [id]);
        let name = format!(
            "XADD {} (dead letter) and XACK {}",
            self.dead_letter,
            self.group.stream()
        );
        moved.run(&mut self.link, &name)?;
        self.counts.add(&self.counts.0.dead_lettered, 1);
        Ok(())
    }

    /// Whether the group has nothing left: no entry pending on any consumer.
    fn drained(&mut self) -> Result<bool> {
        let mut summary = cmd("XPENDING");
        summary.arg(self.group.stream()).arg(self.group.name());
        let name = self.command("XPENDING");
        let value: Value = self.link.run(&name, |c| summary.query(c))?;
        Ok(reply::pending_count(&name, value)? == 0)
    }
}

impl Iterator for StreamSource {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Some(Ok(entry));
            }
            if self.ended
                || self.stop.handshake().stopped()
                || self.abandoned.as_ref().is_some_and(|gone| gone())
            {
                self.ended = true;
                return None;
            }
            let outcome = self.read().and_then(|brought| {
                if brought {
                    self.quiet_since = Instant::now();
                    return Ok(false);
                }
                match self.drained_after {
                    Some(idle) if self.caught_up && self.quiet_since.elapsed() >= idle => {
                        self.drained()
                    }
                    _ => Ok(false),
                }
            });
            match outcome {
                Ok(false) => {}
                Ok(true) => {
                    self.ended = true;
                    return None;
                }
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

impl std::iter::FusedIterator for StreamSource {}

/// What a [`StreamSource`] has done, shared: clones read the same counts, from any thread.
#[derive(Clone, Debug, Default)]
pub struct Counts(Arc<Tallies>);

#[derive(Debug, Default)]
struct Tallies {
    claimed: AtomicU64,
    dead_lettered: AtomicU64,
    backlog: AtomicU64,
}

impl Counts {
    /// Entries claimed from consumers that had been quiet for the claim time.
    pub fn claimed(&self) -> u64 {
        self.0.claimed.load(Ordering::Relaxed)
    }

    /// Entries moved to the dead-letter stream.
    pub fn dead_lettered(&self) -> u64 {
        self.0.dead_lettered.load(Ordering::Relaxed)
    }

    /// Entries read again from this consumer's own backlog (after a restart or a reconnect).
    pub fn backlog(&self) -> u64 {
        self.0.backlog.load(Ordering::Relaxed)
    }

    // Relaxed: statistics, read on their own.
    fn add(&self, tally: &AtomicU64, n: usize) {
        tally.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Creates the group reading from the stream's start, with the stream if it is missing; an
/// existing group is left as it is.
fn create_group(link: &mut Reconnecting, group: &Group) -> Result<()> {
    let mut create = cmd("XGROUP");
    create
        .arg("CREATE")
        .arg(group.stream())
        .arg(group.name())
        .arg("0")
        .arg("MKSTREAM");
    let name = format!("XGROUP CREATE {} {}", group.stream(), group.name());
    match link.run(&name, |c| create.query::<Value>(c)) {
        Err(Error::Refused { source, .. }) if source.code() == Some("BUSYGROUP") => Ok(()),
        other => other.map(drop),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
