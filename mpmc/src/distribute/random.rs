//! Random: a uniformly random target for each item.

use super::list::{built, list_distributor, Targets};
use super::rng::Rng;
use super::{Distributor, Target, TargetsError};
use crate::Full;

/// Sends each item to a target picked uniformly at random.
///
/// Unlike [`RoundRobin`](super::RoundRobin) it shares nothing between senders (no ticket), and
/// unlike a rotation it cannot fall into step with a periodic pattern in the items or the
/// workers. The generator is a small SplitMix64 seeded by the caller, so a run can be replayed:
/// give each sender its own seed.
///
/// When the picked target is full, the item goes to the next one with room.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{Distributor, Random};
/// use weir_mpmc::Queue;
///
/// let queues: Vec<Queue<u32>> = (0..4).map(|_| Queue::new(1000)).collect();
/// let mut random = Random::new(&queues, 42);
/// for i in 0..1000 {
///     random.send(i).unwrap();
/// }
/// assert!(queues.iter().all(|q| (150..350).contains(&q.len())));
/// ```
pub struct Random<P> {
    targets: Targets<P>,
    rng: Rng,
}

static_assertions::assert_impl_all!(Random<weir_ring::Producer<u8>>: Send);

impl<P> Random<P> {
    /// Sends to `targets` at random, drawing from a generator seeded with `seed` (equal seeds
    /// give equal choices).
    ///
    /// # Panics
    ///
    /// If `targets` is empty; [`try_new`](Random::try_new) returns the error instead.
    #[track_caller]
    pub fn new(targets: impl IntoIterator<Item = P>, seed: u64) -> Self {
        built(Self::try_new(targets, seed), "Random::new")
    }

    /// Sends to `targets` at random, drawing from a generator seeded with `seed`.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `targets` is empty.
    pub fn try_new(targets: impl IntoIterator<Item = P>, seed: u64) -> Result<Self, TargetsError> {
        Ok(Random {
            targets: Targets::new(targets)?,
            rng: Rng::new(seed),
        })
    }
}

impl<T, P: Target<T>> Distributor<T> for Random<P> {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        let first = self.rng.below(self.targets.len());
        self.targets.push_from(first, item)
    }

    #[inline]
    fn targets(&self) -> usize {
        self.targets.len()
    }
}

list_distributor!(Random<P>);
