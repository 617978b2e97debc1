//! Round-robin: each target in turn, by one atomic ticket that clones share.

use super::list::{built, list_distributor, Targets};
use super::{Distributor, Target, TargetsError};
use crate::sync::{Arc, AtomicUsize, Ordering};
use crate::Full;

/// Sends to each target in turn: 0, 1, …, N-1, 0, 1, …
///
/// The turn is a ticket: each [`send`](Distributor::send) takes the next number from one atomic
/// counter and picks target `ticket % N`. Clones share the counter, so several senders on
/// several threads, each with its own clone over the same `Arc<Queue>` targets, keep one
/// rotation between them: every target gets its turn once per N sends, whoever sends them.
///
/// When the target whose turn it is is full, the item goes to the next one with room; the
/// rotation does not change (the next ticket still picks the target after the full one), so a
/// full target is simply skipped.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weir_mpmc::distribute::{Distributor, RoundRobin};
/// use weir_mpmc::Queue;
///
/// let queues: Vec<_> = (0..3).map(|_| Arc::new(Queue::new(100))).collect();
/// let rr = RoundRobin::new(queues.clone());
/// std::thread::scope(|s| {
///     for _ in 0..3 {
///         let mut rr = rr.clone(); // same ticket
///         s.spawn(move || (0..20).for_each(|i| assert!(rr.send(i).is_ok())));
///     }
/// });
/// // 60 sends in one rotation: 20 each, whichever thread sent which.
/// assert!(queues.iter().all(|q| q.len() == 20));
/// ```
pub struct RoundRobin<P> {
    targets: Targets<P>,
    ticket: Arc<AtomicUsize>,
}

static_assertions::assert_impl_all!(RoundRobin<weir_ring::Producer<u8>>: Send);
static_assertions::assert_impl_all!(RoundRobin<alloc::sync::Arc<crate::Queue<u8>>>: Send, Sync);

impl<P> RoundRobin<P> {
    /// Sends to `targets` in turn, starting with the first.
    ///
    /// # Panics
    ///
    /// If `targets` is empty; [`try_new`](RoundRobin::try_new) returns the error instead.
    #[track_caller]
    pub fn new(targets: impl IntoIterator<Item = P>) -> Self {
        built(Self::try_new(targets), "RoundRobin::new")
    }

    /// Sends to `targets` in turn, starting with the first.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `targets` is empty.
    pub fn try_new(targets: impl IntoIterator<Item = P>) -> Result<Self, TargetsError> {
        Ok(RoundRobin {
            targets: Targets::new(targets)?,
            ticket: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Takes the next ticket: the index whose turn it is.
    #[inline]
    fn next_turn(&self) -> usize {
        // Relaxed: the ticket publishes nothing. It only has to hand each sender a different
        // number, which any read-modify-write does (every RMW reads the latest value in the
        // counter's modification order); the item itself is published by the target's own
        // push. When the counter wraps at `usize::MAX`, one turn is out of step unless N is a
        // power of two: once in 2^64 sends, harmless.
        self.ticket.fetch_add(1, Ordering::Relaxed) % self.targets.len()
    }
}

impl<T, P: Target<T>> Distributor<T> for RoundRobin<P> {
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        let first = self.next_turn();
        self.targets.push_from(first, item)
    }

    #[inline]
    fn targets(&self) -> usize {
        self.targets.len()
    }
}

/// A clone shares the ticket (and clones the targets, so over `Arc<Queue>` or `&Queue` it feeds
/// the same queues): senders on several threads keep one rotation.
impl<P: Clone> Clone for RoundRobin<P> {
    fn clone(&self) -> Self {
        RoundRobin {
            targets: self.targets.clone(),
            ticket: Arc::clone(&self.ticket),
        }
    }
}

list_distributor!(RoundRobin<P>; |rr| ticket = rr.ticket.load(Ordering::Relaxed));
