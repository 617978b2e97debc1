//! The errors of the ring, shared by every weir crate: a push into a full queue, and a capacity
//! that cannot be built.

use core::fmt;

/// The queue was full: the item that could not be pushed, handed back.
///
/// Returned by [`Producer::try_push`](crate::Producer::try_push), and by the pushes of the other
/// weir crates. Nothing is lost: take the item back with [`into_inner`](Full::into_inner) (or
/// `.0`) and try again later.
///
/// # Examples
///
/// ```
/// let (mut tx, _rx) = weir_ring::channel::<String>(1);
/// tx.try_push("first".to_owned()).unwrap();
/// let err = tx.try_push("second".to_owned()).unwrap_err();
/// assert_eq!(err.to_string(), "the queue is full");
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
        f.write_str("the queue is full")
    }
}

impl<T> core::error::Error for Full<T> {}

/// A ring (or another weir queue) of the requested capacity cannot be built.
///
/// Returned by [`try_channel`](crate::try_channel); [`channel`](crate::channel) panics with the
/// same message instead. The other weir crates return it from their `try_new` constructors.
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
    max: usize,
    item_size: usize,
}

impl CapacityError {
    /// The error for a buffer of `requested` items of type `T`, where `max` is the largest
    /// capacity the structure accepts at all. When `requested` is within `1..=max`, the error
    /// says that the buffer could not be allocated.
    ///
    /// For crates that build their own queues on weir's errors, as `weir-mpmc` does.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_ring::CapacityError;
    ///
    /// let err = CapacityError::for_items::<u32>(100, 64);
    /// assert_eq!(err.to_string(), "capacity 100 is too large: at most 64 items fit");
    /// let err = CapacityError::for_items::<u32>(10, 64);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "capacity 10 is too large: a buffer of 10 items of 4 bytes cannot be allocated"
    /// );
    /// ```
    pub fn for_items<T>(requested: usize, max: usize) -> Self {
        CapacityError {
            requested,
            max,
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
        } else if self.requested > self.max {
            write!(
                f,
                "capacity {} is too large: at most {} items fit",
                self.requested, self.max
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
