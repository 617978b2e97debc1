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
//! # Nesting
//!
//! Every distributor over a list of targets ([`RoundRobin`], [`Random`], [`Affinity`],
//! [`Weighted`], [`LeastLoaded`]) is a [`Target`] itself, so distributors nest into a tree:
//! round-robin over groups (a group per socket, say), each group least-loaded over its workers'
//! queues. A send at the root picks a group by the root's rule, and the group's own send picks
//! a worker within it.
//!
//! - The root's `send` returns the index at its own level (the group), not the leaf's.
//! - A group is full only when every leaf in it is full, so the root's fallback moves on to
//!   the next group, and the root hands the item back only when every leaf of the tree is
//!   full: nothing is lost, as with a flat distributor.
//! - A group's [`len`](Target::len) is the sum of its leaves' lengths (and its capacity the
//!   sum of theirs). The leaves are read one by one, so the sum is a snapshot no more exact than
//!   each length. A [`LeastLoaded`] over groups compares these sums, reading every leaf of the
//!   two groups it samples: give its groups equal capacities, or it favours the smaller ones.
//! - Nesting adds no shared state: a tree is its distributors' own state (the round-robin
//!   ticket, the generators) and the leaves' pushes. A [`RoundRobin`]'s clones share its ticket
//!   only where the groups can be cloned too; a tree with [`LeastLoaded`] or [`Random`] groups
//!   (whose generators are each sender's own) is built once per sender, over shared
//!   `Arc<Queue>` leaves.
//!
//! ```
//! use weir_mpmc::distribute::{Distributor, LeastLoaded, RoundRobin, Target};
//! use weir_mpmc::{Full, Queue};
//!
//! let racks: [[Queue<u32>; 2]; 2] = [[Queue::new(4), Queue::new(4)], [Queue::new(4), Queue::new(4)]];
//! let mut tree = RoundRobin::new([LeastLoaded::new(&racks[0], 1), LeastLoaded::new(&racks[1], 2)]);
//! // The racks in turn; within a rack, the shorter queue.
//! let picks: Vec<usize> = (0..8).map(|i| tree.send(i).unwrap()).collect();
//! assert_eq!(picks, [0, 1, 0, 1, 0, 1, 0, 1]);
//! assert!(racks.iter().flatten().all(|queue| queue.len() == 2));
//! assert_eq!((tree.len(), tree.capacity()), (8, 16));
//! // Full only when every leaf is: the item comes back.
//! (8..16).for_each(|i| assert!(tree.send(i).is_ok()));
//! assert_eq!(tree.send(16), Err(Full(16)));
//! ```
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
mod list;
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
/// Implemented for [`weir_ring::Producer`], `&`[`Queue`], `Arc<Queue>`, `&mut` any target
/// (to lend targets to a distributor and keep them), `Box` of any target (to mix types), and the distributors over lists of targets
/// themselves, so that they nest (see [nesting](self#nesting)). Implement it for your own queue
/// type to distribute into that.
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

/// A shared queue is a target through a reference or an `Arc`.
macro_rules! shared_queue_target {
    ($($pointer:ty),*) => {$(
        impl<T> Target<T> for $pointer {
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
    )*};
}

shared_queue_target!(&Queue<T>, Arc<Queue<T>>);

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

/// A boxed target, so that one distributor can hold targets of different types (groups built
/// by different distributors, say).
impl<T, P: Target<T> + ?Sized> Target<T> for Box<P> {
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
