//! The channels' errors: std's own types, and the one std has no stable type for.
//!
//! Every error of a send hands the item back.

use std::fmt;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

/// Why [`send_timeout`](crate::mpmc::Sender::send_timeout) failed; holds the item that was not
/// sent.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_backpressure::SendTimeoutError;
///
/// let (sender, _receiver) = weir_backpressure::mpmc::channel(1);
/// sender.send(1).unwrap();
/// let error = sender.send_timeout(2, Duration::from_millis(1)).unwrap_err();
/// assert_eq!(error, SendTimeoutError::Timeout(2));
/// assert_eq!(error.into_inner(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// The channel stayed full until the timeout.
    Timeout(T),
    /// Every receiver is gone: nothing sent now would be received.
    Disconnected(T),
}

impl<T> SendTimeoutError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(item) | SendTimeoutError::Disconnected(item) => item,
        }
    }

    /// Whether the send gave up because of the timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }

    /// Whether the send failed because every receiver is gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, SendTimeoutError::Disconnected(_))
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(SendError(item): SendError<T>) -> Self {
        SendTimeoutError::Disconnected(item)
    }
}

// Like std's errors, `Debug` does not show the item, so that `T` need not be `Debug` for
// `unwrap`.
impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out waiting on a full channel"),
            SendTimeoutError::Disconnected(_) => f.write_str("sending on a disconnected channel"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}
