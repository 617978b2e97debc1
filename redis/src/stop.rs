//! Stopping a source from another thread, promptly even while it waits on the server.
//!
//! A source waiting for new entries sits in `XREADGROUP ... BLOCK`, on the server, for up to
//! its block time. A stop cuts that wait short: it asks the server to unblock the source's
//! connection (`CLIENT UNBLOCK <id>`, from a connection of its own), and the read returns
//! empty as if it had timed out.
//!
//! Whether to send it at all is settled by the handshake in `handshake.rs`: either the
//! source sees the stop before it blocks, or the stopper sees it waiting. The unblock may
//! reach the server before the read does (two connections keep no order between them); it
//! then unblocks nothing, and the stopper tries again while the source is still waiting.
//!
//! The id is the link's (`link.rs` keeps it, 0 while it has no connection), so a read that
//! reconnected is unblocked on its new connection. After a server restart an id may name
//! another client for a moment; unblocking it is harmless, as a blocking command's client
//! must expect its timeout anyway.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis::{Client, Connection};

use crate::handshake::Handshake;
use crate::pause::Pauses;

/// How long the stopper gives the server to connect or to answer.
const PATIENCE: Duration = Duration::from_secs(1);
/// The first pause between two unblocks that found the read not yet on the server; it
/// doubles up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(1);
/// The longest pause between two unblocks.
const LAST_RETRY: Duration = Duration::from_millis(100);

/// What a source and its stoppers share.
#[derive(Debug)]
pub(crate) struct StopState {
    address: String,
    /// The longest a read waits on the server: the stopper gives up unblocking after it.
    block: Duration,
    handshake: Handshake,
    /// The server's id of the source's connection (`CLIENT ID`); 0 while it has none.
    client: Arc<AtomicU64>,
}

impl StopState {
    pub(crate) fn new(address: &str, block: Duration) -> Arc<Self> {
        Arc::new(StopState {
            address: address.to_owned(),
            block,
            handshake: Handshake::default(),
            client: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Where the source's link keeps its connection's id.
    pub(crate) fn client_slot(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.client)
    }

    /// The handshake with the source's reads.
    pub(crate) fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    fn stop(self: &Arc<Self>) {
        if !self.handshake.stop() {
            return; // stopped before, or the source will see the flag before it waits
        }
        let state = Arc::clone(self);
        // Off the caller's thread: a server that is slow to answer or down must not hold up
        // the caller; the read then ends on its own within the block time.
        let spawned = thread::Builder::new()
            .name("weir-redis stopper".into())
            .spawn(move || state.unblock());
        drop(spawned); // without a thread, the read still ends within the block time
    }

    /// Unblocks the source's read: tries until the server unblocked a client, the source
    /// stopped waiting, the server refused, or a block time went by.
    fn unblock(&self) {
        let started = Instant::now();
        let Some(mut connection) = self.connect() else {
            return;
        };
        let mut pauses = Pauses::new(FIRST_RETRY, LAST_RETRY);
        while self.handshake.waiting() && started.elapsed() < self.block {
            // Relaxed: a hint, read afresh each time (see `link.rs`).
            let id = self.client.load(Ordering::Relaxed);
            if id != 0 {
                let unblocked: redis::RedisResult<u64> = redis::cmd("CLIENT")
                    .arg("UNBLOCK")
                    .arg(id)
                    .query(&mut connection);
                match unblocked {
                    Ok(0) => {} // the read is not on the server yet, or has just ended
                    // Unblocked; or refused (`NOPERM`: `CLIENT UNBLOCK` is in the
                    // `@dangerous` category), or the connection failed.
                    Ok(_) | Err(_) => return,
                }
            }
            pauses.sleep(self.block.saturating_sub(started.elapsed()));
        }
    }

    fn connect(&self) -> Option<Connection> {
        let client = Client::open(self.address.as_str()).ok()?;
        let connection = client.get_connection_with_timeout(PATIENCE).ok()?;
        // A server that stops answering (paused, or cut off) must not hold the thread.
        connection.set_read_timeout(Some(PATIENCE)).ok()?;
        connection.set_write_timeout(Some(PATIENCE)).ok()?;
        Some(connection)
    }
}

/// Ends a [`StreamSource`](crate::StreamSource)'s iteration from another thread: the source
/// yields what it has read already, then `None`.
///
/// A source waiting on the server for new entries is woken at once: the stop asks the
/// server to end the wait (`CLIENT UNBLOCK`, from a short-lived connection on a thread of
/// its own). Where that cannot be done, the source stops within one
/// [block time](crate::SourceBuilder::block): a server that cannot be reached, or a user
/// whose ACL leaves out `CLIENT UNBLOCK` (it is in the `@dangerous` category, which managed
/// Redis services and `-@dangerous` rules often deny).
///
/// # Examples
///
/// ```no_run
/// use weir_redis::StreamSource;
///
/// # fn main() -> Result<(), weir_redis::Error> {
/// let source = StreamSource::builder("redis://127.0.0.1:6379/", "jobs", "workers", "w1")
///     .connect()?;
/// let stopper = source.stopper();
/// let reader = std::thread::spawn(move || source.count());
/// stopper.stop(); // the reader ends now, even while it waits on the server for entries
/// let read = reader.join().expect("the reader panicked");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Stopper(pub(crate) Arc<StopState>);

impl Stopper {
    /// Asks the source to stop. Returns at once.
    pub fn stop(&self) {
        self.0.stop();
    }
}
