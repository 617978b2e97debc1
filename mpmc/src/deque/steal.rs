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
    #[must_use = "an ignored success drops the stolen item"]
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

/// The outcome of several steals tried in turn: the first [`Success`](Steal::Success) (the
/// steals after it are not made, as the iterator stops there), else [`Retry`](Steal::Retry) if
/// any steal lost a race, else [`Empty`](Steal::Empty) (also for no steals at all).
///
/// # Examples
///
/// Finding a task for a worker thread: its own deque first, then a batch from the injector,
/// then one item from any sibling; lost races are tried again, and `None` means that every
/// source was seen empty.
///
/// ```
/// use std::iter;
/// use weir_mpmc::deque::{Injector, Stealer, Worker};
///
/// fn find_task<T>(local: &Worker<T>, global: &Injector<T>, stealers: &[Stealer<T>]) -> Option<T> {
///     local.pop().or_else(|| {
///         iter::repeat_with(|| {
///             global
///                 .steal_batch_and_pop(local)
///                 .or_else(|| stealers.iter().map(|s| s.steal()).collect())
///         })
///         .find(|steal| !steal.is_retry())
///         .and_then(|steal| steal.success())
///     })
/// }
///
/// let global = Injector::new(16);
/// let siblings = [Worker::new_lifo(16), Worker::new_lifo(16)];
/// let stealers: Vec<_> = siblings.iter().map(Worker::stealer).collect();
/// let local = Worker::new_lifo(16);
/// siblings[1].push("sibling's").unwrap();
/// global.push("global").unwrap();
/// local.push("own").unwrap();
/// assert_eq!(find_task(&local, &global, &stealers), Some("own"));
/// assert_eq!(find_task(&local, &global, &stealers), Some("global"));
/// assert_eq!(find_task(&local, &global, &stealers), Some("sibling's"));
/// assert_eq!(find_task(&local, &global, &stealers), None);
/// ```
impl<T> FromIterator<Steal<T>> for Steal<T> {
    fn from_iter<I: IntoIterator<Item = Steal<T>>>(steals: I) -> Self {
        let mut lost_a_race = false;
        for steal in steals {
            match steal {
                Steal::Success(item) => return Steal::Success(item),
                Steal::Retry => lost_a_race = true,
                Steal::Empty => {}
            }
        }
        if lost_a_race {
            Steal::Retry
        } else {
            Steal::Empty
        }
    }
}

impl<T> Steal<Option<T>> {
    /// A batch steal that kept its first item out of `dest` ([`Stealer`](super::Stealer)'s and
    /// [`Injector`](super::Injector)'s `*_and_pop`): that item.
    pub(super) fn map_to_first(self) -> Steal<T> {
        match self {
            Steal::Success(Some(item)) => Steal::Success(item),
            // A batch that kept its first item always has one; if not, what it moved is in
            // `dest`, and there is nothing to return.
            Steal::Success(None) | Steal::Empty => Steal::Empty,
            Steal::Retry => Steal::Retry,
        }
    }

    /// A batch steal that moved everything into `dest`: whether it did.
    pub(super) fn map_to_unit(self) -> Steal<()> {
        match self {
            Steal::Success(_) => Steal::Success(()),
            Steal::Empty => Steal::Empty,
            Steal::Retry => Steal::Retry,
        }
    }
}
