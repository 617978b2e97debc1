//! The outcome of a steal.

/// What a steal got: an item, nothing, or a lost race.
///
/// [`Retry`](Steal::Retry) is not "empty": another thread took the item this steal was after
/// (or moved the deque on while it looked), and trying again may well succeed.
///
/// # Examples
///
/// ```
/// use weir_mpmc::deque::{Steal, Worker};
///
/// let worker = Worker::new_fifo(4);
/// let stealer = worker.stealer();
/// assert!(stealer.steal().is_empty());
/// worker.push(7).unwrap();
/// assert_eq!(stealer.steal(), Steal::Success(7));
/// ```
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Steal<T> {
    /// There was nothing to steal.
    Empty,
    /// The stolen item.
    Success(T),
    /// Another thread won the race for the item; try again.
    Retry,
}

impl<T> Steal<T> {
    /// Whether there was nothing to steal.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Steal;
    ///
    /// assert!(Steal::<u8>::Empty.is_empty());
    /// assert!(!Steal::Success(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, Steal::Empty)
    }

    /// Whether an item was stolen.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Steal;
    ///
    /// assert!(Steal::Success(1).is_success());
    /// assert!(!Steal::<u8>::Retry.is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        matches!(self, Steal::Success(_))
    }

    /// Whether the steal lost a race and should be tried again.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Steal;
    ///
    /// assert!(Steal::<u8>::Retry.is_retry());
    /// assert!(!Steal::<u8>::Empty.is_retry());
    /// ```
    pub fn is_retry(&self) -> bool {
        matches!(self, Steal::Retry)
    }

    /// The stolen item, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Steal;
    ///
    /// assert_eq!(Steal::Success(3).success(), Some(3));
    /// assert_eq!(Steal::<u8>::Retry.success(), None);
    /// ```
    pub fn success(self) -> Option<T> {
        match self {
            Steal::Success(item) => Some(item),
            Steal::Empty | Steal::Retry => None,
        }
    }

    /// `self` if it is a success, else the result of `f`; a `Retry` is kept over an `Empty`
    /// from `f`, so that a caller polling several sources knows to come back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::deque::Steal;
    ///
    /// assert_eq!(Steal::Empty.or_else(|| Steal::Success(2)), Steal::Success(2));
    /// assert_eq!(Steal::<u8>::Retry.or_else(|| Steal::Empty), Steal::Retry);
    /// assert_eq!(Steal::Success(1).or_else(|| Steal::Success(2)), Steal::Success(1));
    /// ```
    pub fn or_else(self, f: impl FnOnce() -> Steal<T>) -> Steal<T> {
        match self {
            Steal::Success(item) => Steal::Success(item),
            Steal::Empty => f(),
            Steal::Retry => match f() {
                Steal::Success(item) => Steal::Success(item),
                Steal::Empty | Steal::Retry => Steal::Retry,
            },
        }
    }
}
