//! Distributors: hand each item to one of N workers' queues.
//!
//! A [`Distributor`] owns (or shares) a list of [`Target`]s, one per worker, and
//! [`send`](Distributor::send) picks one of them by its rule and pushes the item there. A target
//! is anything with a non-blocking push and a length: a [`weir_ring::Producer`] (the worker's
//! ring has exactly one sender, this distributor), a `&`[`Queue`] or an `Arc<Queue>` (the
//! worker's queue has many senders: several distributors, on several threads, may feed it).
//!
//! | distributor | first choice | state |
//! |---|---|---|
//! | [`RoundRobin`] | the next target in turn | one atomic ticket, shared by clones |
//! | [`Random`] | a uniformly random target | a small PRNG |
//! | [`Affinity`] | a stable hash of the item's key | none |
//! | [`Weighted`] | smooth weighted round-robin | one counter per target |
//! | [`LeastLoaded`] | the shorter of two random targets | a small PRNG |
//! | [`WorkStealing`] | none: one shared injector, from which free workers take, and steal from each other | deques |
//!
//! The [`Pool`] (feature `std`) runs a closure over a stream of items on N threads, fed through
//! the work-stealing distributor.
//!
//! # Never blocks, never drops
//!
//! When the first choice is full, `send` tries the targets after it in index order (wrapping
//! round), and when every target is full it hands the item back in [`Full`]: the caller decides
//! whether to wait, retry or shed load. `Ok(index)` names the target that took the item.
//! ([`Affinity`] can be made strict instead: a full home target returns `Full` at once.)
//!
//! # Examples
//!
//! Two workers, each with its own ring, fed in turn:
//!
//! ```
//! use weir_mpmc::distribute::{Distributor, RoundRobin};
//!
//! let (p0, mut c0) = weir_ring::channel(4);
//! let (p1, mut c1) = weir_ring::channel(4);
//! let mut rr = RoundRobin::new([p0, p1]);
//! assert_eq!(rr.send('a'), Ok(0));
//! assert_eq!(rr.send('b'), Ok(1));
//! assert_eq!(rr.send('c'), Ok(0));
//! assert_eq!((c0.try_pop(), c0.try_pop(), c1.try_pop()), (Some('a'), Some('c'), Some('b')));
//! ```
//!
//! [`Queue`]: crate::Queue

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;

use crate::{CapacityError, Full, Queue};

mod affinity;
mod least_loaded;
#[cfg(feature = "std")]
mod pool;
mod random;
mod rng;
mod round_robin;
#[cfg(feature = "std")]
mod run_state;
#[cfg(feature = "std")]
mod sleep;
/// The pool's protocols, public only for their loom models.
#[cfg(all(feature = "std", loom))]
#[doc(hidden)]
pub use {
    run_state::{Phase, RunState},
    sleep::Sleepers,
};
mod weighted;
mod work_stealing;

pub use affinity::Affinity;
pub use least_loaded::LeastLoaded;
#[cfg(feature = "std")]
pub use pool::{Pool, Report, WorkerReport};
pub use random::Random;
pub use round_robin::RoundRobin;
pub use weighted::Weighted;
pub use work_stealing::{Local, Source, WorkStealing};

/// One worker's queue, as a distributor sees it: a push that never blocks, and a length.
///
/// Implemented for [`weir_ring::Producer`], `&`[`Queue`], `Arc<Queue>`, and `&mut` any target
/// (to lend targets to a distributor and keep them). Implement it for your own queue type to
/// distribute into that.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::Target;
/// use weir_mpmc::Queue;
///
/// let queue = Queue::new(2);
/// let mut target = &queue;
/// target.try_push(1).unwrap();
/// assert_eq!((target.len(), target.capacity()), (1, 2));
/// ```
pub trait Target<T> {
    /// Pushes `item`, or hands it back at once if there is no room.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item when the target has no room for it now.
    fn try_push(&mut self, item: T) -> Result<(), Full<T>>;

    /// How many items the target holds now (other threads may change it the moment it returns).
    fn len(&self) -> usize;

    /// How many items the target holds at most.
    fn capacity(&self) -> usize;

    /// Whether the target holds no items now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Target<T> for weir_ring::Producer<T> {
    #[inline]
    fn try_push(&mut self, item: T) -> Result<(), Full<T>> {
        weir_ring::Producer::try_push(self, item)
    }

    #[inline]
    fn len(&self) -> usize {
        self.capacity() - self.slots()
    }

    #[inline]
    fn capacity(&self) -> usize {
        weir_ring::Producer::capacity(self)
    }
}

impl<T> Target<T> for &Queue<T> {
    #[inline]
    fn try_push(&mut self, item: T) -> Result<(), Full<T>> {
        Queue::try_push(self, item)
    }

    #[inline]
    fn len(&self) -> usize {
        Queue::len(self)
    }

    #[inline]
    fn capacity(&self) -> usize {
        Queue::capacity(self)
    }
}

impl<T> Target<T> for Arc<Queue<T>> {
    #[inline]
    fn try_push(&mut self, item: T) -> Result<(), Full<T>> {
        Queue::try_push(self, item)
    }

    #[inline]
    fn len(&self) -> usize {
        Queue::len(self)
    }

    #[inline]
    fn capacity(&self) -> usize {
        Queue::capacity(self)
    }
}

impl<T, P: Target<T> + ?Sized> Target<T> for &mut P {
    #[inline]
    fn try_push(&mut self, item: T) -> Result<(), Full<T>> {
        (**self).try_push(item)
    }

    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }

    #[inline]
    fn capacity(&self) -> usize {
        (**self).capacity()
    }
}

/// Hands each item to one of N workers, by some rule, without blocking and without dropping.
///
/// # Examples
///
/// Any distributor behind one type:
///
/// ```
/// use weir_mpmc::distribute::{Distributor, Random, RoundRobin};
/// use weir_mpmc::Queue;
///
/// let queues = [Queue::new(8), Queue::new(8)];
/// let mut distributors: Vec<Box<dyn Distributor<u32> + '_>> = vec![
///     Box::new(RoundRobin::new(queues.each_ref())),
///     Box::new(Random::new(queues.each_ref(), 7)),
/// ];
/// for d in &mut distributors {
///     assert_eq!(d.targets(), 2);
///     assert!(d.send(1).unwrap() < 2);
/// }
/// assert_eq!(queues[0].len() + queues[1].len(), 2);
/// ```
pub trait Distributor<T> {
    /// Pushes `item` into the target the rule picks, or, if that one is full, into the first
    /// target after it (in index order, wrapping round) that has room. Returns the index of the
    /// target that took it, in `0..targets()`.
    ///
    /// # Errors
    ///
    /// [`Full`] with the item when every target was tried and none had room.
    fn send(&mut self, item: T) -> Result<usize, Full<T>>;

    /// The number of targets (workers).
    fn targets(&self) -> usize;
}

impl<T, D: Distributor<T> + ?Sized> Distributor<T> for &mut D {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        (**self).send(item)
    }

    #[inline]
    fn targets(&self) -> usize {
        (**self).targets()
    }
}

impl<T, D: Distributor<T> + ?Sized> Distributor<T> for Box<D> {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        (**self).send(item)
    }

    #[inline]
    fn targets(&self) -> usize {
        (**self).targets()
    }
}

/// A distributor cannot be built from what it was given.
///
/// Returned by the `try_new` constructors; `new` panics with the same message instead.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{RoundRobin, TargetsError, Weighted};
/// use weir_mpmc::Queue;
///
/// let none: [&Queue<u8>; 0] = [];
/// assert_eq!(RoundRobin::try_new(none).unwrap_err(), TargetsError::NoTargets);
///
/// let queue = Queue::<u8>::new(1);
/// let err = Weighted::try_new([(&queue, 2), (&queue, 0)]).unwrap_err();
/// assert_eq!(err, TargetsError::ZeroWeight { index: 1 });
/// assert_eq!(err.to_string(), "target 1 has weight 0 (weights must be at least 1)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetsError {
    /// The list of targets (or workers) was empty.
    NoTargets,
    /// A [`Weighted`] target was given weight 0.
    ZeroWeight {
        /// The target's index.
        index: usize,
    },
    /// A queue the distributor builds for itself ([`WorkStealing`]'s deques and injector)
    /// cannot have the capacity asked for.
    Capacity(CapacityError),
}

impl fmt::Display for TargetsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetsError::NoTargets => f.write_str("there must be at least one target"),
            TargetsError::ZeroWeight { index } => {
                write!(
                    f,
                    "target {index} has weight 0 (weights must be at least 1)"
                )
            }
            TargetsError::Capacity(err) => err.fmt(f),
        }
    }
}

impl core::error::Error for TargetsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            TargetsError::Capacity(err) => Some(err),
            _ => None,
        }
    }
}

/// Collects the targets, refusing an empty list.
fn collect_targets<P>(targets: impl IntoIterator<Item = P>) -> Result<Box<[P]>, TargetsError> {
    let targets: Box<[P]> = targets.into_iter().collect();
    if targets.is_empty() {
        return Err(TargetsError::NoTargets);
    }
    Ok(targets)
}

/// Pushes `item` into `targets[first]`, or into the first target after it (wrapping round) with
/// room: the fallback every distributor shares. Returns the index that took it.
#[inline]
fn push_from<T, P: Target<T>>(
    targets: &mut [P],
    first: usize,
    mut item: T,
) -> Result<usize, Full<T>> {
    debug_assert!(first < targets.len());
    let mut index = first;
    for _ in 0..targets.len() {
        match targets[index].try_push(item) {
            Ok(()) => return Ok(index),
            Err(Full(back)) => item = back,
        }
        index += 1;
        if index == targets.len() {
            index = 0;
        }
    }
    Err(Full(item))
}
