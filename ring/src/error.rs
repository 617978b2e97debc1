//! The errors of the ring: a push into a full ring, and a capacity that cannot be built.

use core::fmt;

/// The ring was full: the item that could not be pushed, handed back.
///
/// Returned by [`Producer::try_push`](crate::Producer::try_push). Nothing is lost: take the item
/// back with [`into_inner`](Full::into_inner) (or `.0`) and try again later.
///
/// # Examples
///
/// ```
/// let (mut tx, _rx) = weir_ring::channel::<String>(1);
/// tx.try_push("first".to_owned()).unwrap();
/// let err = tx.try_push("second".to_owned()).unwrap_err();
/// assert_eq!(err.to_string(), "the ring is full");
/// assert_eq!(err.into_inner(), "second");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> Full<T> {
    /// Returns the item that could not be pushed.
    #[inline]
    pub fn into_inner(self) -> T {
        self.0
    }
}

// Not derived: `Debug` must not require `T: Debug`, so that `.unwrap()` works for any `T`.
impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the ring is full")
    }
}

impl<T> core::error::Error for Full<T> {}

/// A ring of the requested capacity cannot be built.
///
/// Returned by [`try_channel`](crate::try_channel); [`channel`](crate::channel) panics with the
/// same message instead.
///
/// # Examples
///
/// ```
/// let err = weir_ring::try_channel::<u64>(0).unwrap_err();
/// assert_eq!(err.requested(), 0);
/// assert_eq!(err.to_string(), "capacity must be at least 1");
///
/// assert!(weir_ring::try_channel::<u64>(usize::MAX).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityError {
    requested: usize,
    item_size: usize,
}

impl CapacityError {
    pub(crate) fn new<T>(requested: usize) -> Self {
        CapacityError {
            requested,
            item_size: core::mem::size_of::<T>(),
        }
    }

    /// The capacity that was asked for.
    pub fn requested(&self) -> usize {
        self.requested
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requested == 0 {
            f.write_str("capacity must be at least 1")
        } else if self.item_size == 0 {
            write!(
                f,
                "capacity {} is too large: at most {} items fit in a ring",
                self.requested,
                crate::buffer::MAX_CAPACITY
            )
        } else {
            write!(
                f,
                "capacity {} is too large: a buffer of {} items of {} bytes cannot be allocated",
                self.requested, self.requested, self.item_size
            )
        }
    }
}

impl core::error::Error for CapacityError {}
