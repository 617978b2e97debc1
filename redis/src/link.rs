//! One connection to the server that comes back by itself: a command that finds the
//! connection dropped (or the server restarting) reconnects with exponential backoff and runs
//! again, until the reconnect window is spent.
//!
//! Running a command again after a dropped connection may run it twice (the first may have
//! reached the server before the drop). Every user of a link is built for that: delivery is
//! at least once, an `XACK` twice is harmless, and a source that reconnects reads its own
//! pending entries again before new ones (`source.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError};

use crate::error::{Error, Result};
use crate::pause::Pauses;

/// The first pause before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A reply may take this much longer than the command's own blocking time.
const REPLY_MARGIN: Duration = Duration::from_secs(10);

/// The default reconnect window of every source, sink and acknowledger.
pub const DEFAULT_RECONNECT_WINDOW: Duration = Duration::from_secs(30);

/// A connection to a Redis server that comes back by itself: [`run`](Self::run) reconnects
/// with exponential backoff (10 ms doubling to 1 s) when the connection is down or the
/// server is still loading its data after a restart, and runs the command again, for up to
/// the reconnect window. For commands of your own beside a source or sink (a manifest, a
/// set of finished jobs).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use weir_redis::Reconnecting;
///
/// # fn main() -> Result<(), weir_redis::Error> {
/// let mut redis = Reconnecting::open("redis://127.0.0.1:6379/", Duration::from_secs(30))?;
/// let total: Option<u64> = redis.run("HGET manifest total", |c| {
///     redis::cmd("HGET").arg("manifest").arg("total").query(c)
/// })?;
/// # Ok(()) }
/// ```
pub struct Reconnecting {
    client: Client,
    address: String,
    connection: Option<Connection>,
    window: Duration,
    /// The longest a command blocks on the server (`XREADGROUP ... BLOCK`), so that the read
    /// timeout does not cut it off.
    blocks_for: Duration,
    /// How many connections were made: a source that sees it change reads its own pending
    /// entries again (a reply lost with the old connection may have delivered some).
    generation: u64,
    /// Where to keep the server's id of the current connection (`CLIENT ID`; 0 while there
    /// is none), for a stopper to unblock it.
    client_id: Option<Arc<AtomicU64>>,
}

impl Reconnecting {
    /// Connects to `address` (`redis://host:port/db`), retrying for up to `window`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an address that is not one, [`Error::Unreachable`]
    /// if no connection could be made within `window`.
    pub fn open(address: &str, window: Duration) -> Result<Self> {
        Self::blocking(address, window, Duration::ZERO)
    }

    /// As [`open`](Self::open), for commands that block on the server for up to
    /// `blocks_for`, so that the read timeout does not cut them off.
    pub(crate) fn blocking(address: &str, window: Duration, blocks_for: Duration) -> Result<Self> {
        let client = Client::open(address).map_err(|e| {
            Error::InvalidArgument(format!("not a Redis address: {address:?} ({e})"))
        })?;
        let mut link = Reconnecting {
            client,
            address: address.to_owned(),
            connection: None,
            window,
            blocks_for,
            generation: 0,
            client_id: None,
        };
        link.run("connect", |_| Ok(()))?;
        Ok(link)
    }

    /// Opens a second link to the same server, with the same window.
    pub(crate) fn open_another(&self, blocks_for: Duration) -> Result<Self> {
        Reconnecting::blocking(&self.address, self.window, blocks_for)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Keeps the server's id of each new connection in `slot` (0 while there is none), at
    /// the cost of a `CLIENT ID` round trip per connection.
    pub(crate) fn publish_client_id(&mut self, slot: Arc<AtomicU64>) {
        if let Some(connection) = self.connection.as_mut() {
            match client_id(connection) {
                Ok(id) => slot.store(id, Ordering::Relaxed),
                Err(_) => self.connection = None, // the next command reconnects, with its id
            }
        }
        self.client_id = Some(slot);
    }

    /// How long a dropped connection is retried from now on.
    pub fn set_window(&mut self, window: Duration) {
        self.window = window;
    }

    /// Runs `command` on the connection, reconnecting and running it again while the
    /// connection is down, for up to the window. `name` says what it is in errors.
    ///
    /// A command that the server ran just before the connection dropped runs twice: make
    /// the commands given here idempotent, or expect the duplicate.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] (or [`Error::Unreachable`] if it never connected) once the
    /// window is spent, [`Error::Refused`] for the server's error reply,
    /// [`Error::UnexpectedReply`] for a reply that did not convert to `T`.
    pub fn run<T>(
        &mut self,
        name: &str,
        mut command: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut failing_since: Option<Instant> = None;
        let mut pauses = Pauses::new(FIRST_BACKOFF, MAX_BACKOFF);
        loop {
            let outcome = match self.connection.as_mut() {
                Some(connection) => command(connection),
                None => self.connect().and_then(&mut command),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !is_transient(&error) {
                return Err(classify(name, error));
            }
            // The connection is gone (or the server is still loading its data after a
            // restart): start over on a new one after a pause.
            self.connection = None;
            if let Some(slot) = &self.client_id {
                slot.store(0, Ordering::Relaxed);
            }
            let since = *failing_since.get_or_insert_with(Instant::now);
            let spent = since.elapsed();
            if spent >= self.window {
                return Err(if self.generation == 0 {
                    Error::Unreachable {
                        address: self.address.clone(),
                        tried_for: spent,
                        source: error,
                    }
                } else {
                    Error::Disconnected {
                        command: name.to_owned(),
                        tried_for: spent,
                        source: error,
                    }
                });
            }
            pauses.sleep(self.window - spent);
        }
    }

    fn connect(&mut self) -> redis::RedisResult<&mut Connection> {
        let connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        connection.set_read_timeout(Some(self.blocks_for + REPLY_MARGIN))?;
        connection.set_write_timeout(Some(REPLY_MARGIN))?;
        let mut connection = connection;
        if let Some(slot) = &self.client_id {
            // Relaxed: a hint for a stopper, which reads it again until it has unblocked
            // the read or the read has ended (`stop.rs`).
            slot.store(client_id(&mut connection)?, Ordering::Relaxed);
        }
        self.generation += 1;
        Ok(self.connection.insert(connection))
    }
}

/// The server's id of `connection`: a transient failure is the caller's to retry; a server
/// that refuses `CLIENT ID` gives 0 (no stopper can unblock the connection then).
fn client_id(connection: &mut Connection) -> redis::RedisResult<u64> {
    match redis::cmd("CLIENT").arg("ID").query(connection) {
        Err(error) if !is_transient(&error) => Ok(0),
        other => other,
    }
}

/// A failure that another connection, a little later, may not have: the connection dropped
/// or timed out, the server refused the connection (it is restarting), or it is still
/// loading its data set.
fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || matches!(error.code(), Some("LOADING" | "TRYAGAIN" | "MASTERDOWN"))
}

fn classify(name: &str, error: RedisError) -> Error {
    match error.kind() {
        redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType => {
            Error::unexpected(name, error.to_string())
        }
        _ => Error::Refused {
            command: name.to_owned(),
            source: error,
        },
    }
}
