//! The hand-off behind a channel of capacity 0 (`std::sync::mpsc::sync_channel(0)`): a sender
//! offers its item in a one-item slot and returns only once a receiver has taken it from there.
//!
//! # The slot's states
//!
//! The state is a tag and a generation, which moves on each time the slot is emptied:
//!
//! ```text
//!               sender claims          sender offers             receiver wins it
//!   EMPTY(g) -----------------> CLAIMED(g) ------------> OFFERED(g) ------------------> READING(g)
//!                                  |  ^                     |                              |
//!                                  |  +---------------------+                              |
//!                                  |   sender withdraws it (timeout, receivers gone)       |
//!                                  v                                                       v
//!                               EMPTY(g + 1)  <-- sender has read its item back    EMPTY(g + 1)
//!                                                                          <-- receiver has read it
//! ```
//!
//! Only the sender that claimed the slot moves it out of `CLAIMED`; only the receiver that won
//! `OFFERED -> READING` moves it on from there. So one sender at a time owns the slot from its
//! claim until it is empty again, a receiver reads an item only after winning it, and an item is
//! read exactly once: by a receiver, or by its own sender when it withdraws it. The offering
//! sender knows its item was taken when the generation has moved on: the receiver empties the
//! slot itself, so the next sender need not wait for the last one to wake up.
//!
//! Waiting goes through the channel's two event counts, as for the queues: receivers sleep on
//! `not_empty` (notified by an offer and by the last sender leaving), senders on `not_full`
//! (notified when the slot is emptied, by a waiting receiver leaving, and by the last receiver
//! leaving). Every change a sleeper waits for is made before the notify that follows it, which
//! is the event count's protocol: no wake-up is lost.

use crate::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::shared::Signals;
use crate::sync::{AtomicUsize, Instant, Ordering, UnsafeCell};
use crate::wait::WaitStrategy;
use std::mem::MaybeUninit;

const EMPTY: usize = 0;
const CLAIMED: usize = 1;
const OFFERED: usize = 2;
const READING: usize = 3;
/// The low bits hold the tag; the rest, the generation.
const TAG: usize = 0b11;
const GENERATION: usize = TAG + 1;

/// The one-item slot of a rendezvous channel, and the count of receivers waiting on it.
#[allow(unreachable_pub)] // named (not reachable) by the sealed channel-end traits
pub struct Rendezvous<T> {
    state: AtomicUsize,
    /// Receivers inside a blocking receive: what `try_send` asks about.
    waiting: AtomicUsize,
    slot: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the slot holds at most one `T`, written by the sender that claimed the slot and read
// by the one thread that wins it (a receiver, or the sender withdrawing it), each step ordered by
// `state` (see the module docs): sharing a `Rendezvous` moves a `T` between threads, nothing
// more, so `T: Send` is enough.
unsafe impl<T: Send> Sync for Rendezvous<T> {}
// SAFETY: as for `Sync`: what it owns is at most one `T`.
unsafe impl<T: Send> Send for Rendezvous<T> {}

/// How the offering sender's wait ended.
enum Handed<T> {
    Taken,
    Back(T),
}

/// The state with `tag` in generation `generation` (a state with its tag bits clear).
fn state(generation: usize, tag: usize) -> usize {
    generation | tag
}

impl<T> Rendezvous<T> {
    pub(crate) fn new() -> Self {
        Rendezvous {
            state: AtomicUsize::new(EMPTY),
            waiting: AtomicUsize::new(0),
            slot: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Sends: waits for the slot, offers the item, and waits until a receiver has taken it,
    /// until `deadline` if there is one. On `Err`, the item is handed back and no receiver saw
    /// it.
    pub(crate) fn send<W: WaitStrategy>(
        &self,
        signals: &Signals,
        wait: &W,
        item: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let claimed = wait.wait_for(signals.not_full(), deadline, || {
            if signals.receivers_gone() {
                return Some(None);
            }
            self.claim().map(Some)
        });
        let generation = match claimed {
            Some(Some(generation)) => generation,
            Some(None) => return Err(SendTimeoutError::Disconnected(item)),
            None => return Err(SendTimeoutError::Timeout(item)),
        };
        self.offer(signals, generation, item);
        let handed = wait.wait_for(signals.not_full(), deadline, || {
            if self.is_taken(generation) {
                return Some(Handed::Taken);
            }
            if signals.receivers_gone() {
                return self.withdraw(signals, generation).map(Handed::Back);
            }
            None
        });
        match handed {
            Some(Handed::Taken) => Ok(()),
            Some(Handed::Back(item)) => Err(SendTimeoutError::Disconnected(item)),
            // The deadline passed: take the item back, unless a receiver has it already.
            None => match self.withdraw(signals, generation) {
                Some(item) => Err(SendTimeoutError::Timeout(item)),
                None => {
                    // The receiver that won it is reading it: the slot is emptied at once.
                    wait.wait_for(signals.not_full(), None, || {
                        self.is_taken(generation).then_some(())
                    });
                    Ok(())
                }
            },
        }
    }

    /// Sends only to a receiver waiting in a blocking receive now; waits for that hand-off to
    /// finish, never for a receiver to come.
    pub(crate) fn try_send<W: WaitStrategy>(
        &self,
        signals: &Signals,
        wait: &W,
        item: T,
    ) -> Result<(), TrySendError<T>> {
        if signals.receivers_gone() {
            return Err(TrySendError::Disconnected(item));
        }
        // Relaxed: a snapshot; a receiver that comes a moment later is not waited for.
        if self.waiting.load(Ordering::Relaxed) == 0 {
            return Err(TrySendError::Full(item));
        }
        let Some(generation) = self.claim() else {
            return Err(TrySendError::Full(item));
        };
        self.offer(signals, generation, item);
        let handed = wait.wait_for(signals.not_full(), None, || {
            if self.is_taken(generation) {
                return Some(Ok(()));
            }
            if signals.receivers_gone() {
                return self
                    .withdraw(signals, generation)
                    .map(|item| Err(TrySendError::Disconnected(item)));
            }
            // Relaxed: every receiver that stops waiting notifies `not_full` after this
            // decrement, and the event count's fences order the two.
            if self.waiting.load(Ordering::Relaxed) == 0 {
                return self
                    .withdraw(signals, generation)
                    .map(|item| Err(TrySendError::Full(item)));
            }
            None
        });
        match handed {
            Some(result) => result,
            None => unreachable!("a wait without a deadline ends with a result"),
        }
    }

    /// Receives: takes an offered item, waiting for one until `deadline` if there is one.
    pub(crate) fn recv<W: WaitStrategy>(
        &self,
        signals: &Signals,
        wait: &W,
        deadline: Option<Instant>,
    ) -> Result<T, RecvTimeoutError> {
        // Relaxed: `try_send` reads it as a snapshot (see there).
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let received = wait.wait_for(signals.not_empty(), deadline, || {
            if let Some(item) = self.take() {
                return Some(Ok(item));
            }
            if signals.senders_gone() {
                return Some(self.take().ok_or(RecvTimeoutError::Disconnected));
            }
            None
        });
        // Relaxed: the notify below orders it for a `try_send` waiting on the count.
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        // Wakes the sender whose item was taken and the senders waiting for the slot, or a
        // `try_send` waiting for this receiver.
        signals.not_full().notify_all();
        received.unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// Receives an item offered now, by a sender blocked in `send`.
    pub(crate) fn try_recv(&self, signals: &Signals) -> Result<T, TryRecvError> {
        let item = match self.take() {
            Some(item) => item,
            None if signals.senders_gone() => self.take().ok_or(TryRecvError::Disconnected)?,
            None => return Err(TryRecvError::Empty),
        };
        signals.not_full().notify_all();
        Ok(item)
    }

    /// Claims the empty slot for this sender; returns its generation.
    fn claim(&self) -> Option<usize> {
        // Relaxed: only a guess for the compare-and-swap, which checks it.
        let now = self.state.load(Ordering::Relaxed);
        if now & TAG != EMPTY {
            return None;
        }
        // Acquire pairs with the Release store in `empty`: the last reader of the slot (the
        // receiver that took the last item, or the sender that took its own back) is done with
        // it before this sender writes it.
        self.state
            .compare_exchange(
                now,
                state(now, CLAIMED),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()?;
        Some(now)
    }

    /// Writes the item into the claimed slot, offers it, and wakes a receiver.
    fn offer(&self, signals: &Signals, generation: usize, item: T) {
        // SAFETY: this sender claimed the slot (EMPTY -> CLAIMED), so no other thread touches it
        // until the state says OFFERED below; the slot holds no item (every item written was read
        // out before the slot was emptied).
        self.slot.with_mut(|slot| unsafe { (*slot).write(item) });
        // Release pairs with the Acquire compare-and-swap in `take`: the receiver that wins the
        // item sees it written.
        self.state
            .store(state(generation, OFFERED), Ordering::Release);
        signals.not_empty().notify_one();
    }

    /// Whether a receiver has taken the item offered in `generation`: the slot was emptied
    /// since, which moved the generation on.
    fn is_taken(&self, generation: usize) -> bool {
        // Relaxed: the sender reads nothing the receiver wrote, and the slot is not its own any
        // more (its next claim acquires it afresh).
        self.state.load(Ordering::Relaxed) & !TAG != generation
    }

    /// Takes the item offered in `generation` back, unless a receiver has won it; then the slot
    /// is empty again.
    fn withdraw(&self, signals: &Signals, generation: usize) -> Option<T> {
        // Relaxed: the item read back is this sender's own write, and no receiver reads an item
        // it did not win.
        self.state
            .compare_exchange(
                state(generation, OFFERED),
                state(generation, CLAIMED),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()?;
        // SAFETY: the slot holds this sender's item (written by `offer`) and it won it back
        // (OFFERED -> CLAIMED), so no receiver will read it.
        let item = self.slot.with(|slot| unsafe { (*slot).assume_init_read() });
        self.empty(generation);
        signals.not_full().notify_all();
        Some(item)
    }

    /// Takes the offered item if there is one and this receiver wins it, and empties the slot.
    fn take(&self) -> Option<T> {
        // Relaxed: only a guess for the compare-and-swap, which checks it.
        let now = self.state.load(Ordering::Relaxed);
        if now & TAG != OFFERED {
            return None;
        }
        let generation = now & !TAG;
        // Acquire pairs with the Release store in `offer`.
        self.state
            .compare_exchange(
                now,
                state(generation, READING),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()?;
        // SAFETY: the slot holds an offered item (`offer` wrote it before OFFERED, and the
        // Acquire above sees the write), and this receiver alone won it (OFFERED -> READING):
        // its sender no longer withdraws it.
        let item = self.slot.with(|slot| unsafe { (*slot).assume_init_read() });
        self.empty(generation);
        Some(item)
    }

    /// Empties the slot after its item of `generation` was read, moving the generation on.
    fn empty(&self, generation: usize) {
        // Release pairs with the Acquire compare-and-swap in `claim` (see there).
        self.state.store(
            state(generation.wrapping_add(GENERATION), EMPTY),
            Ordering::Release,
        );
    }
}

impl<T> Drop for Rendezvous<T> {
    fn drop(&mut self) {
        // A sender returns only once its item is taken or back in its hands, and it holds the
        // channel while it waits: nothing is ever left in the slot. Should that break, the item
        // is still dropped once.
        if self.state.load(Ordering::Relaxed) & TAG == OFFERED {
            // SAFETY: OFFERED means the slot holds an item that nobody read; `&mut self` means
            // nobody else can.
            self.slot
                .with_mut(|slot| unsafe { (*slot).assume_init_drop() });
        }
    }
}
