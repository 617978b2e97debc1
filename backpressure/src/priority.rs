//! Priority buffering: a queue of N levels, each a bounded `weir-mpmc` queue, popped highest
//! level first, with an optional quota that keeps the lower levels from starving.
//!
//! Level 0 is the highest priority; level `levels() - 1` the lowest. [`push`](PriorityQueue::push)
//! and [`pop`](PriorityQueue::pop) never wait; [`push_wait`](PriorityQueue::push_wait) waits
//! while its level is full and [`pop_wait`](PriorityQueue::pop_wait) while every level is empty,
//! each in the way of a [`WaitStrategy`] and with an optional deadline.
//!
//! # The quota
//!
//! Without a quota a pop always serves the highest non-empty level, so a steady stream of
//! high-priority items starves the levels below. With [`with_quota(q)`](PriorityQueue::with_quota)
//! every level counts the pops that served another level while it held an item. Once a level
//! has waited `q` such pops its turn has come: a pop serves the level whose turn has come that
//! has waited longest (the higher one between levels that waited as long), and the highest
//! non-empty level when no turn has come. Serving a level starts its count again.
//!
//! What is guaranteed:
//!
//! - With one popper at a time (however many pushers), **a level that stays non-empty is
//!   served at least once in every `q + levels - 1` pops**: after `q` pops without it, its turn
//!   has come, and each later pop serves a level that has waited at least as long, of which
//!   there are at most `levels - 2` others. With two levels that is every `q + 1` pops; the top
//!   level still gets at least `q` of every `q + 1`. (Pushers racing with a pop may make the
//!   pop's view of which levels are empty a moment old.)
//! - With several poppers the counts are shared through relaxed atomics, updated beside the
//!   pops rather than with them: a level is still served about as often, but a wait may be
//!   longer by about the number of poppers racing. Every item is still popped exactly once;
//!   only the order between levels is approximate.
//! - Within one level, items come out in the order their pushes took effect.
//!
//! A pop with a quota looks at every level (whether it is empty, and its count), so it costs
//! a little more with each level; without a quota a pop stops at the first non-empty level.

use crate::event_count::EventCount;
use crate::sync::{AtomicBool, AtomicUsize, Instant, Ordering};
use crate::wait::WaitStrategy;
use crossbeam_utils::CachePadded;
use std::fmt;
use weir_mpmc::{CapacityError, Full, Queue};

/// A bounded multi-producer multi-consumer queue with N priority levels; level 0 is the
/// highest.
///
/// Each level is a `weir-mpmc` queue with its own fixed capacity, allocated once by the
/// constructor; pushes and pops allocate nothing. Any number of threads may push and pop
/// through a shared reference. Items still inside when the queue is dropped are dropped,
/// each exactly once.
///
/// # Examples
///
/// ```
/// use weir_backpressure::priority::PriorityQueue;
///
/// let queue = PriorityQueue::new(3, 16);
/// queue.push(2, "low").unwrap();
/// queue.push(0, "urgent").unwrap();
/// queue.push(1, "normal").unwrap();
/// assert_eq!(queue.pop(), Some((0, "urgent")));
/// assert_eq!(queue.pop(), Some((1, "normal")));
/// assert_eq!(queue.pop(), Some((2, "low")));
/// assert_eq!(queue.pop(), None);
/// ```
pub struct PriorityQueue<T> {
    levels: Box<[Queue<T>]>,
    /// Per level: the pops that served another level while this one held an item, since it
    /// was last served (see the module docs). Unused without a quota.
    waited: Box<[AtomicUsize]>,
    /// 0: no quota.
    quota: usize,
    /// Poppers waiting in [`pop_wait`](PriorityQueue::pop_wait) sleep on it; pushes notify it.
    not_empty: CachePadded<EventCount>,
    /// Pushers waiting in [`push_wait`](PriorityQueue::push_wait) sleep on it; pops notify it.
    not_full: CachePadded<EventCount>,
    /// Set by [`close`](PriorityQueue::close): no more items are coming.
    closed: AtomicBool,
}

/// Why a [`PriorityQueue`] could not be made.
///
/// # Examples
///
/// ```
/// use weir_backpressure::priority::{PriorityError, PriorityQueue};
///
/// let error = PriorityQueue::<u8>::try_new(0, 8).unwrap_err();
/// assert_eq!(error, PriorityError::NoLevels);
/// assert_eq!(error.to_string(), "a priority queue needs at least one level");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriorityError {
    /// Zero levels were asked for.
    NoLevels,
    /// A level's capacity is 0 or too large.
    Capacity {
        /// The level whose queue could not be made.
        level: usize,
        /// Why.
        error: CapacityError,
    },
}

impl fmt::Display for PriorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriorityError::NoLevels => f.write_str("a priority queue needs at least one level"),
            PriorityError::Capacity { level, error } => {
                write!(f, "priority level {level}: {error}")
            }
        }
    }
}

impl std::error::Error for PriorityError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PriorityError::NoLevels => None,
            PriorityError::Capacity { error, .. } => Some(error),
        }
    }
}

impl<T> PriorityQueue<T> {
    /// A queue of `levels` levels that each hold `capacity` items, without a quota.
    ///
    /// # Panics
    ///
    /// If `levels` is 0, or `capacity` is 0 or too large; [`try_new`](Self::try_new) returns
    /// the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::<u32>::new(4, 100);
    /// assert_eq!((queue.levels(), queue.capacity(3)), (4, 100));
    /// ```
    #[track_caller]
    pub fn new(levels: usize, capacity: usize) -> Self {
        match Self::try_new(levels, capacity) {
            Ok(queue) => queue,
            Err(error) => panic!("weir_backpressure::PriorityQueue::new: {error}"),
        }
    }

    /// A queue of `levels` levels that each hold `capacity` items, without a quota.
    ///
    /// # Errors
    ///
    /// [`PriorityError::NoLevels`] if `levels` is 0, [`PriorityError::Capacity`] if `capacity`
    /// is 0 or too large to allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::priority::PriorityQueue;
    ///
    /// let error = PriorityQueue::<u8>::try_new(2, 0).unwrap_err();
    /// assert_eq!(error.to_string(), "priority level 0: capacity must be at least 1");
    /// ```
    pub fn try_new(levels: usize, capacity: usize) -> Result<Self, PriorityError> {
        if levels == 0 {
            return Err(PriorityError::NoLevels);
        }
        Self::build((0..levels).map(|_| capacity))
    }

    /// A queue with one level per entry of `capacities` (level 0 first), each holding that many
    /// items, without a quota.
    ///
    /// # Panics
    ///
    /// If `capacities` is empty, or one of them is 0 or too large;
    /// [`try_with_capacities`](Self::try_with_capacities) returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::<u8>::with_capacities(&[4, 64]);
    /// assert_eq!((queue.capacity(0), queue.capacity(1)), (4, 64));
    /// ```
    #[track_caller]
    pub fn with_capacities(capacities: &[usize]) -> Self {
        match Self::try_with_capacities(capacities) {
            Ok(queue) => queue,
            Err(error) => panic!("weir_backpressure::PriorityQueue::with_capacities: {error}"),
        }
    }

    /// As [`with_capacities`](Self::with_capacities), but returns an error instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// [`PriorityError::NoLevels`] if `capacities` is empty, [`PriorityError::Capacity`] for
    /// the first level whose capacity is 0 or too large to allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::priority::{PriorityError, PriorityQueue};
    ///
    /// let error = PriorityQueue::<u8>::try_with_capacities(&[4, 0]).unwrap_err();
    /// assert!(matches!(error, PriorityError::Capacity { level: 1, .. }));
    /// ```
    pub fn try_with_capacities(capacities: &[usize]) -> Result<Self, PriorityError> {
        if capacities.is_empty() {
            return Err(PriorityError::NoLevels);
        }
        Self::build(capacities.iter().copied())
    }

    fn build(capacities: impl Iterator<Item = usize>) -> Result<Self, PriorityError> {
        let levels = capacities
            .enumerate()
            .map(|(level, capacity)| {
                Queue::try_new(capacity).map_err(|error| PriorityError::Capacity { level, error })
            })
            .collect::<Result<Box<[_]>, _>>()?;
        let waited = (0..levels.len()).map(|_| AtomicUsize::new(0)).collect();
        Ok(PriorityQueue {
            levels,
            waited,
            quota: 0,
            not_empty: CachePadded::new(EventCount::new()),
            not_full: CachePadded::new(EventCount::new()),
            closed: AtomicBool::new(false),
        })
    }

    /// Sets the anti-starvation quota: once a non-empty level has waited `quota` pops that
    /// served other levels, its turn has come, and with one popper every level that stays
    /// non-empty is served at least once in every `quota + levels - 1` pops (see the
    /// [module docs](crate::priority#the-quota) for the rule and what is guaranteed). 0 turns
    /// the quota off, the default: strict priority.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::priority::PriorityQueue;
    ///
    /// let queue = PriorityQueue::new(2, 8).with_quota(2);
    /// for i in 0..4 {
    ///     queue.push(0, i).unwrap();
    /// }
    /// queue.push(1, 100).unwrap();
    /// let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
    /// assert_eq!(order, [(0, 0), (0, 1), (1, 100), (0, 2), (0, 3)]);
    /// ```
    #[must_use]
    pub fn with_quota(mut self, quota: usize) -> Self {
        self.quota = quota;
        self
    }

    /// Pushes `item` at `level` (0 is the highest), waking a popper waiting in
    /// [`pop_wait`](Self::pop_wait).
    ///
    /// # Errors
    ///
    /// [`Full`] with the item if that level is full.
    ///
    /// # Panics
    ///
    /// If `level` is not below [`levels`](Self::levels).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::new(2, 1);
    /// assert!(queue.push(1, 'a').is_ok());
    /// assert_eq!(queue.push(1, 'b').unwrap_err().into_inner(), 'b');
    /// assert!(queue.push(0, 'c').is_ok());
    /// ```
    #[track_caller]
    pub fn push(&self, level: usize, item: T) -> Result<(), Full<T>> {
        let queue = self.level_for("push", level);
        queue.try_push(item)?;
        self.not_empty.notify_one();
        Ok(())
    }

    /// Pops an item from the highest non-empty level, or from the level whose turn has come
    /// under the quota; returns it with its level, or `None` if every level is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::new(2, 4);
    /// queue.push(1, "b").unwrap();
    /// queue.push(0, "a").unwrap();
    /// assert_eq!(queue.pop(), Some((0, "a")));
    /// assert_eq!(queue.pop(), Some((1, "b")));
    /// assert_eq!(queue.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<(usize, T)> {
        let popped = self.take()?;
        // Every waiting pusher, not one: they may wait on different levels, and a wake-up given
        // to one whose level is still full would be lost to the one whose level has room.
        self.not_full.notify_all();
        Some(popped)
    }

    /// Pushes as [`push`](Self::push) does, waiting in `wait`'s way while `level` is full, until
    /// `deadline` if there is one. A priority queue has no senders or receivers to disconnect:
    /// without a deadline this waits for as long as nobody pops from that level.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item if the level was still full at the deadline.
    ///
    /// # Panics
    ///
    /// If `level` is not below [`levels`](Self::levels).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir_backpressure::priority::PriorityQueue;
    /// use weir_backpressure::wait::Park;
    ///
    /// let queue = PriorityQueue::new(2, 1);
    /// queue.push(1, "first").unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| queue.push_wait(1, "second", &Park, None).unwrap());
    ///     assert_eq!(queue.pop_wait(&Park, None), Some((1, "first")));
    /// });
    /// assert_eq!(queue.pop(), Some((1, "second")));
    /// queue.push(0, "full").unwrap();
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// let late = queue.push_wait(0, "late", &Park, Some(soon));
    /// assert_eq!(late.unwrap_err().into_inner(), "late");
    /// ```
    #[track_caller]
    pub fn push_wait<W: WaitStrategy>(
        &self,
        level: usize,
        item: T,
        wait: &W,
        deadline: Option<Instant>,
    ) -> Result<(), Full<T>> {
        let queue = self.level_for("push_wait", level);
        let mut unsent = Some(item);
        let pushed = wait.wait_for(&self.not_full, deadline, || {
            match queue.try_push(unsent.take()?) {
                Ok(()) => Some(()),
                Err(Full(item)) => {
                    unsent = Some(item);
                    None
                }
            }
        });
        match (pushed, unsent) {
            (Some(()), _) => {
                self.not_empty.notify_one();
                Ok(())
            }
            (None, Some(item)) => Err(Full(item)),
            (None, None) => unreachable!("a push that timed out still holds its item"),
        }
    }

    /// `pop` without the wake-up of waiting pushers.
    fn take(&self) -> Option<(usize, T)> {
        if self.quota == 0 {
            return self.pop_from(0);
        }
        // Relaxed, here and below: the counts order no memory (the items go through the levels'
        // own queues); a stale count only moves a turn by a pop, as the module docs say.
        let mut due: Option<(usize, usize)> = None;
        for (level, queue) in self.levels.iter().enumerate() {
            let waited = self.waited[level].load(Ordering::Relaxed);
            let longer = match due {
                Some((_, longest)) => waited > longest,
                None => true,
            };
            if waited >= self.quota && longer && !queue.is_empty() {
                due = Some((level, waited));
            }
        }
        let (level, item) = due
            .and_then(|(level, _)| Some((level, self.levels[level].try_pop()?)))
            .or_else(|| self.pop_from(0))?;
        for (other, queue) in self.levels.iter().enumerate() {
            if other == level {
                self.waited[other].store(0, Ordering::Relaxed);
            } else if !queue.is_empty() {
                self.waited[other].fetch_add(1, Ordering::Relaxed);
            }
        }
        Some((level, item))
    }

    /// Pops as [`pop`](Self::pop) does, waiting in `wait`'s way while every level is empty,
    /// until `deadline` if there is one. Returns `None` once the deadline has passed, or once
    /// the queue is [closed](Self::close) and every level is empty (the items pushed before
    /// the close come out first).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir_backpressure::priority::PriorityQueue;
    /// use weir_backpressure::wait::Park;
    ///
    /// let queue = PriorityQueue::new(2, 4);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| queue.push(1, 7).unwrap());
    ///     assert_eq!(queue.pop_wait(&Park, None), Some((1, 7)));
    /// });
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(queue.pop_wait(&Park, Some(soon)), None);
    /// ```
    pub fn pop_wait<W: WaitStrategy>(
        &self,
        wait: &W,
        deadline: Option<Instant>,
    ) -> Option<(usize, T)> {
        wait.wait_for(&self.not_empty, deadline, || match self.pop() {
            Some(popped) => Some(Some(popped)),
            // Acquire, pairing with the fence in the notify of each push before the close (see
            // `close`): once the close is seen, so is every such push, and this pop finds their
            // items if anything is left.
            None if self.closed.load(Ordering::Acquire) => Some(self.pop()),
            None => None,
        })
        .flatten()
    }

    /// Closes the queue: no more items are coming. Every popper waiting in
    /// [`pop_wait`](Self::pop_wait) wakes, and `pop_wait` returns `None` from then on once
    /// every level is empty, without waiting. The items pushed before the close still come
    /// out, each once.
    ///
    /// A priority queue has no senders to count, so this is how the last pusher says it is
    /// done. Pushes after a close are still taken, but a popper that found the queue closed
    /// and empty may have left.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::priority::PriorityQueue;
    /// use weir_backpressure::wait::Park;
    ///
    /// let queue = PriorityQueue::new(2, 4);
    /// std::thread::scope(|s| {
    ///     let taker = s.spawn(|| std::iter::from_fn(|| queue.pop_wait(&Park, None)).count());
    ///     queue.push(1, "b").unwrap();
    ///     queue.push(0, "a").unwrap();
    ///     queue.close();
    ///     assert_eq!(taker.join().unwrap(), 2);
    /// });
    /// assert!(queue.is_closed());
    /// ```
    pub fn close(&self) {
        // Relaxed: every push ends in a notify of `not_empty`, whose SeqCst fence is a release
        // fence ahead of this store. An Acquire load in `pop_wait` or `is_closed` that reads
        // the close synchronizes with the fence of each push before it (C11's fence-to-atomic
        // rule), and so sees the push's item. (The loom mutant that makes this store Relaxed
        // survives for that reason: the models `close_*` and `a_close_seen_*` pass either way.)
        self.closed.store(true, Ordering::Relaxed);
        self.not_empty.notify_all();
    }

    /// Whether [`close`](Self::close) was called. Once it returns `true`, a [`pop`](Self::pop)
    /// finds every item pushed before the close that is still inside.
    pub fn is_closed(&self) -> bool {
        // Acquire, pairing with the fences of the pushes before the close (see `close`).
        self.closed.load(Ordering::Acquire)
    }

    /// The first item found from `from` down, with its level.
    fn pop_from(&self, from: usize) -> Option<(usize, T)> {
        self.levels
            .iter()
            .enumerate()
            .skip(from)
            .find_map(|(level, queue)| Some((level, queue.try_pop()?)))
    }

    /// The number of levels.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// queue.push(1, 'a').unwrap();
    /// assert_eq!(queue.levels(), 2);
    /// ```
    pub fn levels(&self) -> usize {
        self.levels.len()
    }

    /// The quota set by [`with_quota`](Self::with_quota); 0 when off.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// queue.push(1, 'a').unwrap();
    /// assert_eq!(queue.quota(), 0);
    /// assert_eq!(queue.with_quota(3).quota(), 3);
    /// ```
    pub fn quota(&self) -> usize {
        self.quota
    }

    /// How many items `level` holds at most.
    ///
    /// # Panics
    ///
    /// If `level` is not below [`levels`](Self::levels).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// queue.push(0, 'a').unwrap();
    /// assert_eq!((queue.capacity(0), queue.capacity(1)), (2, 4));
    /// ```
    #[track_caller]
    pub fn capacity(&self, level: usize) -> usize {
        self.level_for("capacity", level).capacity()
    }

    /// How many items `level` holds now. Other threads may change it the moment it returns.
    ///
    /// # Panics
    ///
    /// If `level` is not below [`levels`](Self::levels).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// queue.push(1, 'a').unwrap();
    /// assert_eq!((queue.len_at(0), queue.len_at(1)), (0, 1));
    /// ```
    #[track_caller]
    pub fn len_at(&self, level: usize) -> usize {
        self.level_for("len_at", level).len()
    }

    /// How many items all the levels hold now: a sum of snapshots, one level after another.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// queue.push(0, 'a').unwrap();
    /// queue.push(1, 'b').unwrap();
    /// assert_eq!(queue.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.levels.iter().map(Queue::len).sum()
    }

    /// Whether every level was empty when looked at.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::priority::PriorityQueue::with_capacities(&[2, 4]);
    /// assert!(queue.is_empty());
    /// queue.push(1, 'b').unwrap();
    /// assert!(!queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.levels.iter().all(Queue::is_empty)
    }

    #[track_caller]
    fn level_for(&self, function: &str, level: usize) -> &Queue<T> {
        match self.levels.get(level) {
            Some(queue) => queue,
            None => panic!(
                "weir_backpressure::PriorityQueue::{function}: level {level} is out of range: the \
                 queue has {} levels (0 is the highest)",
                self.levels.len()
            ),
        }
    }
}

impl<T> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lens: Vec<usize> = self.levels.iter().map(Queue::len).collect();
        f.debug_struct("PriorityQueue")
            .field("lens", &lens)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

static_assertions::assert_impl_all!(PriorityQueue<u8>: Send, Sync);
static_assertions::assert_not_impl_any!(PriorityQueue<*const u8>: Send, Sync);
