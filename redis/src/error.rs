//! What can go wrong talking to Redis, in the terms a user acts on.

use std::fmt;
use std::time::Duration;

/// An error of a stream source, sink or acknowledger.
///
/// Each says what was being done (`command`) so that a log line is enough to act on it.
/// Nothing is acknowledged on an error: an entry whose handling failed stays pending in its
/// consumer group and is delivered again (to this consumer when it restarts, or to another
/// one once it has been idle for the claim time).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No connection could be made within the reconnect window: the server is down, or the
    /// address is wrong.
    Unreachable {
        /// The address as given (`redis://host:port/db`).
        address: String,
        /// How long connecting was retried.
        tried_for: Duration,
        /// The last connection error.
        source: redis::RedisError,
    },
    /// The server answered a command with an error (a wrong type at the key, a missing
    /// group, an authentication failure, out of memory, ...).
    Refused {
        /// The command, as `XREADGROUP stream group`.
        command: String,
        /// The server's error.
        source: redis::RedisError,
    },
    /// The server's reply did not have the shape the command's documentation gives, or an
    /// entry lacked its payload field: not a Redis server, or one of another version.
    UnexpectedReply {
        /// The command, as `XREADGROUP stream group`.
        command: String,
        /// What was expected and what came, shortened.
        detail: String,
    },
    /// The connection dropped and did not come back within the reconnect window.
    Disconnected {
        /// The command that was running.
        command: String,
        /// How long reconnecting was tried.
        tried_for: Duration,
        /// The last error.
        source: redis::RedisError,
    },
    /// A sink with [backpressure](crate::SinkBuilder::backpressure) waited its patience
    /// out and the stream was still at its bound: nothing was appended. Its consumers are
    /// stopped, slower than expected, or do not take finished entries out of the stream.
    StillFull {
        /// The stream's key.
        stream: String,
        /// How many entries it held at the last look.
        entries: usize,
        /// The sink's bound.
        bound: usize,
        /// How long the sink waited.
        waited: Duration,
    },
    /// An argument was out of range (a batch size of 0, an empty stream name); the message
    /// says which.
    InvalidArgument(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable {
                address,
                tried_for,
                source,
            } => write!(
                f,
                "cannot connect to the Redis server at {address} (tried for {tried_for:?}): \
                 {source}; is redis-server running there?"
            ),
            Error::Refused { command, source } => {
                write!(f, "the Redis server refused {command}: {source}")
            }
            Error::UnexpectedReply { command, detail } => {
                write!(f, "unexpected reply to {command}: {detail}")
            }
            Error::Disconnected {
                command,
                tried_for,
                source,
            } => write!(
                f,
                "lost the connection to the Redis server during {command} and could not \
                 reconnect within {tried_for:?}: {source}"
            ),
            Error::StillFull {
                stream,
                entries,
                bound,
                waited,
            } => write!(
                f,
                "the stream {stream} still holds {entries} entries (the sink waits below \
                 {bound}) after {waited:?}: are its consumers running, and do they delete \
                 the entries they acknowledge?"
            ),
            Error::InvalidArgument(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Unreachable { source, .. }
            | Error::Refused { source, .. }
            | Error::Disconnected { source, .. } => Some(source),
            Error::UnexpectedReply { .. } | Error::StillFull { .. } | Error::InvalidArgument(_) => {
                None
            }
        }
    }
}

impl Error {
    /// Whether a retry later might succeed: the server was unreachable, the connection
    /// dropped, or the stream was full (as opposed to a refused command or a reply of the
    /// wrong shape).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::Disconnected { .. } | Error::StillFull { .. }
        )
    }

    pub(crate) fn unexpected(command: &str, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        if detail.len() > 200 {
            let mut end = 200;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            detail.truncate(end);
            detail.push_str("...");
        }
        Error::UnexpectedReply {
            command: command.to_owned(),
            detail,
        }
    }
}

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
