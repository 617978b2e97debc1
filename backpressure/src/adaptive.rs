//! Adaptive capacity: a queue allocated once at its largest size, with a soft limit inside it
//! that can be raised and lowered at run time. "Resizing" moves a number; it never reallocates,
//! copies, or races with the pushes and pops going on.
//!
//! # How the limit is kept exact
//!
//! One 64-bit atomic word holds both the limit (high half) and the *occupancy* (low half): the
//! items pushed, or being pushed, and not yet popped. A push first reserves its place with a
//! compare-and-swap of that word that succeeds only while `occupancy < limit`, and only then
//! writes its item into the underlying `weir-mpmc` queue; a pop takes an item out of the queue
//! and only then gives its place back. Because the limit and the occupancy change in the same
//! word, every successful reservation saw the limit in force at the instant it took effect: no
//! push ever brings the occupancy above the limit in force when it reserved. A limit changed
//! between a push's look and its compare-and-swap makes the compare-and-swap fail and look
//! again.
//!
//! Lowering the limit below the occupancy drops and loses nothing: the items stay, and pushes
//! fail until pops bring the occupancy under the new limit.
//!
//! Since a reservation never exceeds the allocated capacity, the underlying queue always has
//! room for a reserved push.

use crate::sync::{AtomicU64, AtomicUsize, Ordering};
use crate::wait::WaitStrategy;
use crate::watermark::{Occupancy, Watermark};
use crossbeam_utils::CachePadded;
use std::fmt;
use weir_mpmc::{CapacityError, Full, Queue};

/// The largest `max`: the limit and the occupancy each take 32 bits of the state word.
const MAX_CAPACITY: usize = u32::MAX as usize;

/// The occupancy's bits in the state word.
const OCCUPANCY: u64 = u32::MAX as u64;

/// A bounded multi-producer multi-consumer queue whose limit moves at run time between `min`
/// and `max` without reallocating: the ring is allocated once with room for `max` items, and a
/// push fails while the queue holds `limit` items. See the
/// [module docs](crate::adaptive#how-the-limit-is-kept-exact) for why the limit is exact.
///
/// [`adapt`](Self::adapt) moves the limit by a watermark rule; [`set_limit`](Self::set_limit)
/// sets it outright. Any number of threads may push, pop and change the limit through a shared
/// reference. Nothing is allocated after construction. Items still inside when the queue is
/// dropped are dropped, each exactly once.
///
/// # Examples
///
/// ```
/// use weir_backpressure::adaptive::AdaptiveQueue;
///
/// let queue = AdaptiveQueue::new(2, 8); // limit starts at min = 2, room for 8
/// assert_eq!(queue.try_push('a'), Ok(1));
/// assert_eq!(queue.try_push('b'), Ok(2));
/// assert!(queue.try_push('c').is_err()); // over the limit, not over the capacity
/// assert_eq!(queue.set_limit(3), 3);
/// assert_eq!(queue.try_push('c'), Ok(3));
/// assert_eq!(queue.try_pop(), Some('a'));
/// ```
pub struct AdaptiveQueue<T> {
    queue: Queue<T>,
    /// The limit in the high 32 bits, the occupancy in the low 32 (see the module docs).
    state: CachePadded<AtomicU64>,
    /// Pushes refused by the limit since the last [`adapt`](AdaptiveQueue::adapt).
    refused: CachePadded<AtomicUsize>,
    min: usize,
}

/// Why an [`AdaptiveQueue`] could not be made.
///
/// # Examples
///
/// ```
/// use weir_backpressure::adaptive::{AdaptiveError, AdaptiveQueue};
///
/// let error = AdaptiveQueue::<u8>::try_new(9, 4).unwrap_err();
/// assert_eq!(error, AdaptiveError::MinAboveMax { min: 9, max: 4 });
/// assert_eq!(error.to_string(), "the smallest limit 9 is above the capacity 4");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdaptiveError {
    /// `min` was 0: a queue whose limit could reach 0 would refuse every push.
    ZeroMin,
    /// `min` was above `max`.
    MinAboveMax {
        /// The smallest limit asked for.
        min: usize,
        /// The capacity asked for.
        max: usize,
    },
    /// `max` is 0, above `u32::MAX`, or too large to allocate.
    Capacity(CapacityError),
}

impl fmt::Display for AdaptiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdaptiveError::ZeroMin => f.write_str("the smallest limit must be at least 1"),
            AdaptiveError::MinAboveMax { min, max } => {
                write!(f, "the smallest limit {min} is above the capacity {max}")
            }
            AdaptiveError::Capacity(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl std::error::Error for AdaptiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdaptiveError::Capacity(error) => Some(error),
            _ => None,
        }
    }
}

/// The limit in a state word.
fn limit_of(state: u64) -> usize {
    (state >> 32) as usize
}

/// The occupancy in a state word.
fn occupancy_of(state: u64) -> usize {
    (state & OCCUPANCY) as usize
}

/// A state word with its limit replaced by `limit` (at most `u32::MAX`).
fn with_limit(state: u64, limit: usize) -> u64 {
    ((limit as u64) << 32) | (state & OCCUPANCY)
}

impl<T> AdaptiveQueue<T> {
    /// A queue with room for `max` items whose limit moves within `min..=max`, starting at
    /// `min`.
    ///
    /// # Panics
    ///
    /// If `min` is 0, `min > max`, or `max` is above `u32::MAX` or too large to allocate;
    /// [`try_new`](Self::try_new) returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::<u64>::new(16, 1024);
    /// assert_eq!((queue.limit(), queue.min(), queue.max()), (16, 16, 1024));
    /// ```
    #[track_caller]
    pub fn new(min: usize, max: usize) -> Self {
        match Self::try_new(min, max) {
            Ok(queue) => queue,
            Err(error) => panic!("weir_backpressure::AdaptiveQueue::new: {error}"),
        }
    }

    /// As [`new`](Self::new), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`AdaptiveError::ZeroMin`] if `min` is 0, [`AdaptiveError::MinAboveMax`] if
    /// `min > max`, and [`AdaptiveError::Capacity`] if `max` is above `u32::MAX` or too large
    /// to allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::adaptive::{AdaptiveError, AdaptiveQueue};
    ///
    /// assert_eq!(AdaptiveQueue::<u8>::try_new(0, 4).unwrap_err(), AdaptiveError::ZeroMin);
    /// assert!(AdaptiveQueue::<u8>::try_new(1, 4).is_ok());
    /// ```
    pub fn try_new(min: usize, max: usize) -> Result<Self, AdaptiveError> {
        if max == 0 || max > MAX_CAPACITY {
            return Err(AdaptiveError::Capacity(CapacityError::for_items::<T>(
                max,
                MAX_CAPACITY,
            )));
        }
        if min == 0 {
            return Err(AdaptiveError::ZeroMin);
        }
        if min > max {
            return Err(AdaptiveError::MinAboveMax { min, max });
        }
        Ok(AdaptiveQueue {
            queue: Queue::try_new(max).map_err(AdaptiveError::Capacity)?,
            state: CachePadded::new(AtomicU64::new(with_limit(0, min))),
            refused: CachePadded::new(AtomicUsize::new(0)),
            min,
        })
    }

    /// Pushes `item` if the queue holds fewer items than its limit; returns the occupancy this
    /// push brought it to (this item included), which is at most the limit in force when the
    /// push took effect.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item when the occupancy is at or above the limit (counted for
    /// [`adapt`](Self::adapt)).
    ///
    /// # Panics
    ///
    /// Never, unless this type has a bug: a reserved push always finds room in the queue below
    /// (the module docs say why), and the panic says so if it does not.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(1, 4);
    /// assert_eq!(queue.try_push(10), Ok(1));
    /// assert_eq!(queue.try_push(11).unwrap_err().into_inner(), 11);
    /// ```
    pub fn try_push(&self, item: T) -> Result<usize, Full<T>> {
        // Relaxed: a first guess for the compare-and-swap, which checks it.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if occupancy_of(state) >= limit_of(state) {
                // Relaxed: a count for `adapt`, which orders nothing by it.
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Full(item));
            }
            // Acquire on success pairs with the Release give-back in `try_pop` (every later
            // read-modify-write of the word continues its release sequence): the pops whose
            // places this push counts as free happened before it, so the queue below shows
            // their slots free and cannot refuse the push (the loom model
            // `adaptive::counted_room_is_room_in_the_queue`). Relaxed on failure: nothing was
            // reserved, and the next try is checked again.
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if let Err(Full(item)) = self.queue.try_push(item) {
            // Put the place back before failing loudly, so that the count stays true.
            self.release();
            drop(item);
            panic!(
                "weir_backpressure::AdaptiveQueue::try_push: a reserved push found the queue full (a bug)"
            );
        }
        Ok(occupancy_of(state) + 1)
    }

    /// Pops the oldest item, or returns `None` if the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 2);
    /// assert_eq!(queue.try_pop(), None::<u8>);
    /// queue.try_push(5).unwrap();
    /// assert_eq!(queue.try_pop(), Some(5));
    /// ```
    pub fn try_pop(&self) -> Option<T> {
        let item = self.queue.try_pop()?;
        self.release();
        Some(item)
    }

    /// Gives back the place of an item that has left the queue.
    fn release(&self) {
        // Release pairs with the Acquire reservation in `try_push`: a push that counts this
        // place as free also sees the pop that freed it. The occupancy is at least 1 here (this
        // item's reservation came before its pop), so the subtraction stays in the low half.
        self.state.fetch_sub(1, Ordering::Release);
    }

    /// Sets the limit to `limit` clamped to `min..=max`, and returns the limit now in force.
    ///
    /// Raising it lets waiting producers push at once; lowering it below the occupancy keeps
    /// every item, and pushes fail until the queue drains below the new limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::<u8>::new(2, 8);
    /// assert_eq!(queue.set_limit(5), 5);
    /// assert_eq!(queue.set_limit(100), 8);
    /// assert_eq!(queue.set_limit(0), 2);
    /// ```
    pub fn set_limit(&self, limit: usize) -> usize {
        let limit = limit.clamp(self.min, self.max());
        self.update_limit(|_, _| limit)
    }

    /// Moves the limit by the watermark rule, and returns the limit now in force:
    ///
    /// - **grow**: if a push was refused since the last `adapt`, or the occupancy is at least
    ///   3/4 of the limit, the limit doubles (up to `max`);
    /// - **shrink**: otherwise, if the occupancy is at most 1/4 of the limit, the limit halves
    ///   (down to `min`);
    /// - otherwise it stays.
    ///
    /// The gap between the two marks is the hysteresis: right after a doubling the occupancy
    /// is at most about 3/8 of the new limit, and right after a halving at most 1/2, so one
    /// step is not undone by the next `adapt` unless the load changes. Call it periodically
    /// (from a producer, a consumer, or a timer); the decision and the change are one atomic
    /// step, so concurrent calls and pushes never see a half-made change.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 16);
    /// queue.try_push(1).unwrap();
    /// queue.try_push(2).unwrap();
    /// assert!(queue.try_push(3).is_err());
    /// assert_eq!(queue.adapt(), 4); // refused a push: grow
    /// while queue.try_pop().is_some() {}
    /// assert_eq!(queue.adapt(), 2); // empty: shrink
    /// ```
    pub fn adapt(&self) -> usize {
        // Relaxed: the count only feeds this decision.
        let refused = self.refused.swap(0, Ordering::Relaxed) > 0;
        let (min, max) = (self.min, self.max());
        self.update_limit(|limit, occupancy| {
            if refused || occupancy.saturating_mul(4) >= limit.saturating_mul(3) {
                limit.saturating_mul(2).min(max)
            } else if occupancy.saturating_mul(4) <= limit {
                (limit / 2).max(min)
            } else {
                limit
            }
        })
    }

    /// Moves the limit by a [`Watermark`] over this queue's occupancy (which this updates), and
    /// returns the limit now in force: while the watermark reads [`High`](crate::watermark::Pressure::High), or
    /// a push was refused since the last call, the limit doubles (up to `max`); once the
    /// occupancy is down to the watermark's low mark, it halves (down to `min`); in between it
    /// stays. The watermark's hysteresis is the limit's: it grows from the high mark until the
    /// queue drains to the low mark, and its [`events`](Watermark::events) count the surges.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::adaptive::AdaptiveQueue;
    /// use weir_backpressure::Watermark;
    ///
    /// let queue = AdaptiveQueue::new(4, 64);
    /// let watermark = Watermark::new(1, 3);
    /// for i in 0..3 {
    ///     queue.try_push(i).unwrap();
    /// }
    /// assert_eq!(queue.adapt_with(&watermark), 8); // at the high mark: grow
    /// queue.try_pop();
    /// assert_eq!(queue.adapt_with(&watermark), 16); // still high until the low mark
    /// queue.try_pop();
    /// assert_eq!(queue.adapt_with(&watermark), 8); // down to the low mark: shrink
    /// assert_eq!(watermark.events(), 1);
    /// ```
    pub fn adapt_with<W: WaitStrategy>(&self, watermark: &Watermark<W>) -> usize {
        // Relaxed: as in `adapt`.
        let refused = self.refused.swap(0, Ordering::Relaxed) > 0;
        let pressure = watermark.update(self.len());
        let (min, max, low) = (self.min, self.max(), watermark.low());
        self.update_limit(|limit, occupancy| {
            if refused || pressure.is_high() {
                limit.saturating_mul(2).min(max)
            } else if occupancy <= low {
                (limit / 2).max(min)
            } else {
                limit
            }
        })
    }

    /// Replaces the limit with `new(limit, occupancy)`, in one atomic step with the occupancy
    /// it was computed from; returns the new limit. `new` returns a limit within `min..=max`.
    fn update_limit(&self, new: impl Fn(usize, usize) -> usize) -> usize {
        // Relaxed: the limit publishes no memory, and a push that reads it reads it in the same
        // word as the occupancy it reserves, whose own ordering is `try_push`'s.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let limit = new(limit_of(state), occupancy_of(state));
            debug_assert!((self.min..=self.max()).contains(&limit));
            // Relaxed, both ways: as above. A read-modify-write, so it continues the release
            // sequences of the gives-back before it.
            match self.state.compare_exchange_weak(
                state,
                with_limit(state, limit),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return limit,
                Err(now) => state = now,
            }
        }
    }

    /// The limit in force now.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 8);
    /// queue.set_limit(6);
    /// assert_eq!(queue.limit(), 6);
    /// # queue.try_push(0u8).unwrap();
    /// ```
    pub fn limit(&self) -> usize {
        limit_of(self.state.load(Ordering::Relaxed))
    }

    /// The occupancy now: items pushed (or being pushed) and not yet popped. Above the limit
    /// only after the limit was lowered, until pops bring it under.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 8);
    /// queue.set_limit(4);
    /// for c in ['a', 'b', 'c'] {
    ///     queue.try_push(c).unwrap();
    /// }
    /// queue.set_limit(2);
    /// assert_eq!((queue.len(), queue.limit()), (3, 2)); // above: pushes fail until it drains
    /// queue.try_pop();
    /// assert_eq!(queue.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        occupancy_of(self.state.load(Ordering::Relaxed))
    }

    /// Whether the occupancy is 0 now.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 8);
    /// assert!(queue.is_empty());
    /// queue.try_push(1).unwrap();
    /// assert!(!queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 8);
    /// assert_eq!(queue.min(), 2);
    /// # queue.try_push(0u8).unwrap();
    /// ```
    pub fn min(&self) -> usize {
        self.min
    }

    /// The largest limit: the capacity allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = weir_backpressure::adaptive::AdaptiveQueue::new(2, 8);
    /// assert_eq!(queue.max(), 8);
    /// # queue.try_push(0u8).unwrap();
    /// ```
    pub fn max(&self) -> usize {
        self.queue.capacity()
    }
}

impl<T> Occupancy for AdaptiveQueue<T> {
    fn occupancy(&self) -> usize {
        self.len()
    }
}

impl<T> fmt::Debug for AdaptiveQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveQueue")
            .field("len", &self.len())
            .field("limit", &self.limit())
            .field("min", &self.min)
            .field("max", &self.max())
            .finish_non_exhaustive()
    }
}

static_assertions::assert_impl_all!(AdaptiveQueue<u8>: Send, Sync);
static_assertions::assert_not_impl_any!(AdaptiveQueue<*const u8>: Send, Sync);
