//! Least-loaded: the shorter of two random targets (the power of two choices).

use super::list::{built, list_distributor, Targets};
use super::rng::Rng;
use super::{Distributor, Target, TargetsError};
use crate::Full;

/// Sends each item to the shorter of two targets picked at random.
///
/// Reading every target's length for every item would cost N shared reads, and would send a
/// burst of items from several senders all to the same, momentarily shortest, queue. Sampling
/// two distinct targets and taking the one with fewer items (the first sampled, on a tie) costs
/// two reads, and is known to keep the longest queue exponentially closer to the mean than
/// picking one at random ("the power of two choices"). The lengths are a snapshot: other
/// threads may change them the moment they are read.
///
/// When the chosen target is full, the item goes to the next one with room. With one target
/// there is nothing to choose and no length is read.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{Distributor, LeastLoaded};
/// use weir_mpmc::Queue;
///
/// let (busy, idle) = (Queue::new(100), Queue::new(100));
/// (0..50).for_each(|i| busy.try_push(i).unwrap());
/// let mut least = LeastLoaded::new([&busy, &idle], 1);
/// // With two targets both are always sampled, so `idle` wins until it catches up.
/// for i in 0..50 {
///     assert_eq!(least.send(i), Ok(1));
/// }
/// ```
pub struct LeastLoaded<P> {
    targets: Targets<P>,
    rng: Rng,
}

static_assertions::assert_impl_all!(LeastLoaded<weir_ring::Producer<u8>>: Send);

impl<P> LeastLoaded<P> {
    /// Sends to the shorter of two of `targets`, sampled with a generator seeded with `seed`.
    ///
    /// # Panics
    ///
    /// If `targets` is empty; [`try_new`](LeastLoaded::try_new) returns the error instead.
    #[track_caller]
    pub fn new(targets: impl IntoIterator<Item = P>, seed: u64) -> Self {
        built(Self::try_new(targets, seed), "LeastLoaded::new")
    }

    /// Sends to the shorter of two of `targets`, sampled with a generator seeded with `seed`.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `targets` is empty.
    pub fn try_new(targets: impl IntoIterator<Item = P>, seed: u64) -> Result<Self, TargetsError> {
        Ok(LeastLoaded {
            targets: Targets::new(targets)?,
            rng: Rng::new(seed),
        })
    }

    /// Samples two distinct targets, reads the first one's length and then the second's, and
    /// returns the shorter (the first, on a tie).
    #[inline]
    fn choose<T>(&mut self) -> usize
    where
        P: Target<T>,
    {
        let n = self.targets.len();
        if n == 1 {
            return 0;
        }
        let first = self.rng.below(n);
        // Uniform over the other `n - 1` targets.
        let mut second = self.rng.below(n - 1);
        if second >= first {
            second += 1;
        }
        let first_len = self.targets[first].len();
        if self.targets[second].len() < first_len {
            second
        } else {
            first
        }
    }
}

impl<T, P: Target<T>> Distributor<T> for LeastLoaded<P> {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        let first = self.choose();
        self.targets.push_from(first, item)
    }

    #[inline]
    fn targets(&self) -> usize {
        self.targets.len()
    }
}

list_distributor!(LeastLoaded<P>);
