//! An event count: the handshake that lets a thread sleep until a condition may have become
//! true, without a lock and without losing a wake-up.

use crate::sync::{fence, AtomicU32, Futex, Instant, Ordering};
use std::fmt;

/// Lets threads sleep until another thread signals that a condition may now hold.
///
/// A waiter [`listen`](Self::listen)s, checks its condition again, and only then
/// [`wait`](Listener::wait)s; a thread that makes the condition true calls
/// [`notify_one`](Self::notify_one) or [`notify_all`](Self::notify_all) after. Whatever the
/// interleaving, a waiter either sees the condition in its second check or is woken: no
/// wake-up is lost. A notify with nobody waiting costs a fence and one load of a line the
/// waiters leave alone, and no system call.
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
    /// Bumped by every notify that finds a waiter; the futex the waiters sleep on.
    epoch: Futex,
    /// How many threads are between `listen` and the end of their wait.
    waiters: AtomicU32,
}

impl EventCount {
    /// An event count with no waiters.
    pub fn new() -> Self {
        EventCount {
            epoch: Futex::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Announces that this thread is about to wait. Check the condition again after this, and
    /// [`wait`](Listener::wait) only if it still does not hold; dropping the listener
    /// withdraws the announcement.
    #[must_use = "a listener is for waiting on; check the condition, then `wait`"]
    pub fn listen(&self) -> Listener<'_> {
        // Relaxed: the fence below orders it before the caller's re-check.
        self.waiters.fetch_add(1, Ordering::Relaxed);
        // Pairs with the fence in `notify`: either the notifier's load of `waiters` sees this
        // thread counted, or this thread's re-check of the condition sees what the notifier did
        // before notifying (the store-buffering case, ruled out by two SeqCst fences).
        fence(Ordering::SeqCst);
        // Acquire pairs with the fence before the bump in `notify`: a waiter that reads a bumped
        // epoch also sees the condition the notifier made true, so its re-check cannot miss it
        // and then sleep on an epoch that no later notify will change.
        let epoch = self.epoch.load(Ordering::Acquire);
        Listener { event: self, epoch }
    }

    /// Wakes one waiting thread, if any is waiting.
    #[inline]
    pub fn notify_one(&self) {
        if self.bump_if_waited() {
            self.epoch.wake_one();
        }
    }

    /// Wakes every waiting thread.
    #[inline]
    pub fn notify_all(&self) {
        if self.bump_if_waited() {
            self.epoch.wake_all();
        }
    }

    /// Whether a thread is waiting, or about to: a snapshot, for metrics and tests.
    pub fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::Relaxed) > 0
    }

    /// Moves the epoch on if anyone listens, so that a listener about to sleep on the old epoch
    /// returns at once; returns whether anyone does.
    #[inline]
    fn bump_if_waited(&self) -> bool {
        // Pairs with the fence in `listen` (see there): orders the caller's change of the
        // condition before the load of `waiters`.
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) == 0 {
            return false;
        }
        // Relaxed: the SeqCst fence above is also a release fence, so a listener whose Acquire
        // load of the epoch reads this bump synchronizes with that fence and sees the caller's
        // change of the condition.
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
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
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
        // Relaxed: a notifier that still counts this thread only makes a wake it did not need.
        self.event.waiters.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Listener<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}
