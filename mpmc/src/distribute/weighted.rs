//! Weighted: smooth weighted round-robin.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::list::{built, list_distributor, Targets};
use super::{Distributor, Target, TargetsError};
use crate::Full;

/// Sends to each target in proportion to its weight, interleaving the targets as evenly as the
/// weights allow (smooth weighted round-robin, as nginx balances upstream servers).
///
/// Each target keeps a counter. For each item, every counter grows by its target's weight, the
/// target with the largest counter (the first of equals) is picked, and its counter drops by the
/// total of the weights. Over any `total` consecutive sends, a target of weight `w` is picked
/// exactly `w` times, and its turns are spread out: weights 5, 1, 1 give `a a b a c a a`, not
/// `a a a a a b c`. A pick costs one pass over the targets, so this suits tens of targets, not
/// thousands.
///
/// When the picked target is full, the item goes to the next one with room; the counters are
/// kept as if the picked one had taken it, so the rotation goes on unchanged. The state is this
/// distributor's own: clones (and several senders) each run their own rotation.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{Distributor, Weighted};
/// use weir_mpmc::Queue;
///
/// let (fast, slow) = (Queue::new(100), Queue::new(100));
/// let mut weighted = Weighted::new([(&fast, 3), (&slow, 1)]);
/// let picks: Vec<usize> = (0..8).map(|i| weighted.send(i).unwrap()).collect();
/// assert_eq!(picks, [0, 0, 1, 0, 0, 0, 1, 0]);
/// assert_eq!((fast.len(), slow.len()), (6, 2));
/// ```
#[derive(Clone)]
pub struct Weighted<P> {
    targets: Targets<P>,
    weights: Box<[u32]>,
    /// Each target's counter; their sum is always 0 after a pick.
    current: Box<[i64]>,
    /// The sum of the weights.
    total: i64,
}

static_assertions::assert_impl_all!(Weighted<weir_ring::Producer<u8>>: Send);

impl<P> Weighted<P> {
    /// Sends to each of `targets` (target, weight) in proportion to its weight.
    ///
    /// # Panics
    ///
    /// If `targets` is empty or a weight is 0; [`try_new`](Weighted::try_new) returns the error
    /// instead.
    #[track_caller]
    pub fn new(targets: impl IntoIterator<Item = (P, u32)>) -> Self {
        built(Self::try_new(targets), "Weighted::new")
    }

    /// Sends to each of `targets` (target, weight) in proportion to its weight.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `targets` is empty, [`TargetsError::ZeroWeight`] if a
    /// weight is 0.
    pub fn try_new(targets: impl IntoIterator<Item = (P, u32)>) -> Result<Self, TargetsError> {
        let (targets, weights): (Vec<P>, Vec<u32>) = targets.into_iter().unzip();
        let targets = Targets::new(targets)?;
        if let Some(index) = weights.iter().position(|&w| w == 0) {
            return Err(TargetsError::ZeroWeight { index });
        }
        // At most `len * u32::MAX`, which fits an `i64` for any list that fits in memory (fewer
        // than 2^31 targets), and the counters stay within `-total..total`.
        let total = weights.iter().map(|&w| i64::from(w)).sum();
        Ok(Weighted {
            current: alloc::vec![0; targets.len()].into_boxed_slice(),
            targets,
            weights: weights.into_boxed_slice(),
            total,
        })
    }

    /// The weights, in the targets' order.
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// Picks the next target and charges it.
    #[inline]
    fn next_pick(&mut self) -> usize {
        let (mut best, mut best_counter) = (0, i64::MIN);
        for (index, (counter, &weight)) in self.current.iter_mut().zip(&*self.weights).enumerate() {
            *counter += i64::from(weight);
            // `>`, not `>=`: the first of equal counters wins.
            if *counter > best_counter {
                (best, best_counter) = (index, *counter);
            }
        }
        self.current[best] -= self.total;
        best
    }
}

impl<T, P: Target<T>> Distributor<T> for Weighted<P> {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        let first = self.next_pick();
        self.targets.push_from(first, item)
    }

    #[inline]
    fn targets(&self) -> usize {
        self.targets.len()
    }
}

list_distributor!(Weighted<P>; |weighted| weights = weighted.weights, current = weighted.current);
