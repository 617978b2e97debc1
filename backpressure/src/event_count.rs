//! An event count: the handshake that lets a thread sleep until a condition may have become
//! true, without a lock and without losing a wake-up.

use crate::sync::{fence, AtomicU64, Futex, Instant, Ordering};
use std::fmt;

/// Lets threads sleep until another thread signals that a condition may now hold.
///
/// A waiter [`listen`](Self::listen)s, checks its condition again, and only then
/// [`wait`](Listener::wait)s; a thread that makes the condition true calls
/// [`notify_one`](Self::notify_one) or [`notify_all`](Self::notify_all) after. Whatever the
/// interleaving, a waiter either sees the condition in its second check or is woken: no
/// wake-up is lost. A notify with nobody waiting, or with every waiter already woken, costs a
/// fence and one load, and no system call.
///
/// The condition is the caller's: a queue's length, a flag, a counter. An event count does
/// not remember notifies that nobody listened for, so the condition must be re-checked between
/// `listen` and `wait`.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use weir_backpressure::EventCount;
///
/// let ready = Arc::new((AtomicBool::new(false), EventCount::new()));
/// let waiter = {
///     let ready = Arc::clone(&ready);
///     std::thread::spawn(move || {
///         let (flag, event) = &*ready;
///         loop {
///             if flag.load(Ordering::Acquire) {
///                 return;
///             }
///             let listener = event.listen();
///             if flag.load(Ordering::Acquire) {
///                 return;
///             }
///             listener.wait();
///         }
///     })
/// };
/// ready.0.store(true, Ordering::Release);
/// ready.1.notify_all();
/// waiter.join().unwrap();
/// ```
pub struct EventCount {
    /// Bumped by every notify that finds a waiter it has not woken yet; the futex the waiters
    /// sleep on.
    epoch: Futex,
    /// Who waits: the listeners ([`LISTENER`] each, in the low half) and how many of them a
    /// notify has already woken and none has yet accounted for by leaving ([`WOKEN`] each, in
    /// the high half; never more than the listeners).
    waiting: AtomicU64,
}

/// One listener, in [`EventCount::waiting`].
const LISTENER: u64 = 1;
/// One wake-up sent, in [`EventCount::waiting`].
const WOKEN: u64 = 1 << 32;

/// The listeners counted in a value of [`EventCount::waiting`].
#[inline]
fn listeners(waiting: u64) -> u64 {
    waiting & (WOKEN - 1)
}

/// The wake-ups counted in a value of [`EventCount::waiting`].
#[inline]
fn woken(waiting: u64) -> u64 {
    waiting >> 32
}

impl EventCount {
    /// An event count with no waiters.
    pub fn new() -> Self {
        EventCount {
            epoch: Futex::new(0),
            waiting: AtomicU64::new(0),
        }
    }

    /// Announces that this thread is about to wait. Check the condition again after this, and
    /// [`wait`](Listener::wait) only if it still does not hold; dropping the listener
    /// withdraws the announcement.
    #[must_use = "a listener is for waiting on; check the condition, then `wait`"]
    pub fn listen(&self) -> Listener<'_> {
        // Relaxed: a listener that reads a notify's bump here was not counted by that notify
        // (see below), so the fences settle what its re-check sees of that notify's condition.
        let epoch = self.epoch.load(Ordering::Relaxed);
        // Release keeps the load above before this count (the load-buffering case, which loom
        // does not explore). It pairs with the Acquire exchange in `wake_one_more`: a notify
        // that counts this listener bumps the epoch only after the load above, so if this
        // thread is not asleep yet when that notify wakes a sleeper, its `wait` returns at
        // once instead of sleeping on the epoch the notify leaves.
        self.waiting.fetch_add(LISTENER, Ordering::Release); // loom-cannot-tell: see above

        // Pairs with the fence in `wake_one_more`: either the notifier's look at `waiting` sees
        // this thread counted, or this thread's re-check of the condition sees what the
        // notifier did before notifying (the store-buffering case, ruled out by two SeqCst
        // fences).
        fence(Ordering::SeqCst);
        Listener { event: self, epoch }
    }

    /// Wakes one waiting thread, if any is waiting and not already woken.
    #[inline]
    pub fn notify_one(&self) {
        if self.wake_one_more(false) {
            self.epoch.wake_one();
        }
    }

    /// Wakes every waiting thread.
    #[inline]
    pub fn notify_all(&self) {
        if self.wake_one_more(true) {
            self.epoch.wake_all();
        }
    }

    /// Whether a thread is waiting, or about to: a snapshot, for metrics and tests.
    pub fn has_waiters(&self) -> bool {
        listeners(self.waiting.load(Ordering::Relaxed)) > 0
    }

    /// Counts a wake-up for one more listener (every listener, if `all`) and moves the epoch
    /// on, so that a listener about to sleep on the old epoch returns at once; returns whether
    /// there was a listener not yet woken, for whom the caller must make the system call.
    ///
    /// A notify that finds every listener already woken skips the system call: with a woken
    /// thread still on its way out (a scheduler's time slice, on a busy machine), each send
    /// would otherwise make a futex call that wakes nobody.
    ///
    /// Why skipping loses no wake-up: each wake-up counted makes one listener leave with no
    /// other notify. The futex wakes one sleeper if one sleeps (every sleeper, for
    /// `notify_all`); if none sleeps, every listener this notify counted is not asleep yet and
    /// will not sleep on the epoch it leaves (see `listen`), so its `wait` returns at once. A
    /// leaving listener takes one wake-up off the count, whether or not it was the one woken,
    /// so the count never credits more leavers than there will be. So a notify skips only
    /// when every listener will leave and look at the condition again; a listener counted
    /// after the last wake-up makes the listeners outnumber the count, and the next notify
    /// wakes.
    #[inline]
    fn wake_one_more(&self, all: bool) -> bool {
        // Pairs with the fence in `listen` (see there): orders the caller's change of the
        // condition before the look at `waiting`.
        fence(Ordering::SeqCst);
        let mut waiting = self.waiting.load(Ordering::Relaxed);
        loop {
            let listeners = listeners(waiting);
            if listeners == woken(waiting) {
                return false;
            }
            let woken = if all { listeners } else { woken(waiting) + 1 };
            // Acquire pairs with the Release count of each listener it counts (see `listen`).
            match self.waiting.compare_exchange_weak(
                waiting,
                woken * WOKEN + listeners,
                Ordering::Acquire, // loom-cannot-tell: see `listen`
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => waiting = now,
            }
        }
        // Relaxed: a listener that reads this bump was not counted above (see `listen`), so it
        // needs no ordering from it.
        self.epoch.fetch_add(1, Ordering::Relaxed);
        true
    }
}

impl Default for EventCount {
    fn default() -> Self {
        EventCount::new()
    }
}

impl fmt::Debug for EventCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventCount")
            .field("waiters", &listeners(self.waiting.load(Ordering::Relaxed)))
            .finish_non_exhaustive()
    }
}

/// A thread's announcement that it is about to wait on an [`EventCount`]; see
/// [`EventCount::listen`].
#[must_use = "a listener is for waiting on; check the condition, then `wait`"]
pub struct Listener<'a> {
    event: &'a EventCount,
    /// The epoch when the listener was made: a notify since then has moved it on.
    epoch: u32,
}

impl Listener<'_> {
    /// Sleeps until a notify that came after [`listen`](EventCount::listen). May also return
    /// early, without a notify: check the condition again and listen again.
    pub fn wait(self) {
        self.wait_until(None);
    }

    /// As [`wait`](Self::wait), but gives up at `deadline`. Returns `false` when the deadline
    /// has passed, `true` otherwise (a notify, or an early return).
    pub fn wait_deadline(self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    /// As [`wait`](Self::wait) with an optional deadline.
    pub(crate) fn wait_until(self, deadline: Option<Instant>) -> bool {
        self.event.epoch.wait(self.epoch, deadline)
    }
}

impl Drop for Listener<'_> {
    fn drop(&mut self) {
        // Relaxed: the count orders nothing else (see `wake_one_more`). Taking a wake-up off
        // the count whether or not this listener was the one woken can only make a later
        // notify wake a thread that needed none.
        let left = |waiting: u64| {
            let woken = if woken(waiting) > 0 { WOKEN } else { 0 };
            Some(waiting - LISTENER - woken)
        };
        let _ = self
            .event
            .waiting
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, left);
    }
}

impl fmt::Debug for Listener<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::EventCount;

    #[test]
    fn a_listener_is_woken_once_until_it_leaves() {
        let event = EventCount::new();
        assert!(!event.wake_one_more(false), "nobody listens");
        let first = event.listen();
        let second = event.listen();
        assert!(event.wake_one_more(false));
        assert!(event.wake_one_more(false));
        assert!(!event.wake_one_more(false), "both are woken already");
        assert!(!event.wake_one_more(true));
        drop(first);
        assert!(!event.wake_one_more(false), "the second is still woken");
        let third = event.listen();
        assert!(
            event.wake_one_more(false),
            "a new listener is not woken yet"
        );
        drop((second, third));
        assert!(!event.has_waiters());
        assert!(!event.wake_one_more(true));
    }

    #[test]
    fn notify_all_wakes_every_listener_at_once() {
        let event = EventCount::new();
        let listeners = [event.listen(), event.listen(), event.listen()];
        assert!(event.wake_one_more(true));
        assert!(!event.wake_one_more(false));
        drop(listeners);
        assert!(!event.has_waiters());
    }
}
