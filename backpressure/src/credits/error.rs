//! Why acquiring or releasing credits failed.

use std::fmt;

/// Why an acquisition of credits failed.
///
/// # Examples
///
/// ```
/// use weir_backpressure::{AcquireError, Credits};
///
/// let credits = Credits::new(2);
/// let error = credits.acquire_many(3).unwrap_err();
/// assert_eq!(error, AcquireError::TooMany { requested: 3, capacity: 2 });
/// assert_eq!(error.to_string(), "3 credits requested, but there are only 2 in all");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcquireError {
    /// Not enough credits were available now (a `try_` method) or before the timeout.
    Unavailable,
    /// More credits were requested than there are in all: no wait could ever succeed.
    TooMany {
        /// The credits that were asked for.
        requested: usize,
        /// The credits there are in all.
        capacity: usize,
    },
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::Unavailable => f.write_str("not enough credits were available"),
            AcquireError::TooMany {
                requested,
                capacity,
            } => write!(
                f,
                "{requested} credits requested, but there are only {capacity} in all"
            ),
        }
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Credits::try_release`](super::Credits::try_release) refused: the credits given back would have made more available
/// than there are in all, so they were never acquired.
///
/// # Examples
///
/// ```
/// use weir_backpressure::Credits;
///
/// let credits = Credits::new(2);
/// let error = credits.try_release(1).unwrap_err();
/// assert_eq!((error.released(), error.available()), (1, 2));
/// assert_eq!(credits.available(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseError {
    pub(super) released: usize,
    pub(super) available: usize,
    pub(super) capacity: usize,
}

impl ReleaseError {
    /// The credits that were to be given back.
    pub fn released(&self) -> usize {
        self.released
    }

    /// The credits that were available when the release was refused.
    pub fn available(&self) -> usize {
        self.available
    }

    /// The credits there are in all.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "releasing {} credits with {} of {} available gives back credits never acquired",
            self.released, self.available, self.capacity
        )
    }
}

impl std::error::Error for ReleaseError {}
