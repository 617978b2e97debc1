//! How a thread waits for something another thread will do: spin, yield, or sleep.

use crate::event_count::EventCount;
use crate::sync::{spin_loop, yield_now, Backoff as Steps, Instant};
use std::fmt::Debug;

/// A way of waiting until an attempt succeeds: the choice between the lowest latency and the
/// least CPU.
///
/// The blocking channels take one as a type parameter ([`Park`] by default); anything that
/// waits on a condition another thread makes true can use one directly.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use weir_backpressure::wait::{Park, WaitStrategy};
/// use weir_backpressure::EventCount;
///
/// let (count, changed) = (AtomicUsize::new(0), EventCount::new());
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         count.store(3, Ordering::Release);
///         changed.notify_all();
///     });
///     let seen = Park.wait_for(&changed, None, || match count.load(Ordering::Acquire) {
///         0 => None,
///         n => Some(n),
///     });
///     assert_eq!(seen, Some(3));
/// });
/// ```
pub trait WaitStrategy: Debug + Clone + Send + Sync + 'static {
    /// Calls `attempt` until it returns `Some`, waiting in this strategy's way between calls,
    /// and returns what it returned; or gives up once `deadline` has passed and returns `None`.
    ///
    /// `event` is what whoever can make `attempt` succeed notifies after doing so; a strategy
    /// that sleeps sleeps on it, and one that does not ignores it.
    fn wait_for<R>(
        &self,
        event: &EventCount,
        deadline: Option<Instant>,
        attempt: impl FnMut() -> Option<R>,
    ) -> Option<R>;
}

/// Busy-waits: the lowest latency, and a whole core for as long as the wait lasts.
///
/// Only for a thread with a core of its own. With more threads than cores, a spinning waiter
/// takes the time slice of the thread it waits for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spin;

/// Spins a little, then yields its time slice each time it waits: low latency, and the core
/// goes to other threads, but it never sleeps, so an idle waiter still costs CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backoff;

/// Spins a little, yields a little, then sleeps in the kernel until notified (a futex on
/// Linux): near-zero CPU while idle, and the right choice when threads outnumber cores. The
/// default for the blocking channels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Park;

/// Spins twice, yields up to eight times, then sleeps like [`Park`]: for threads that outnumber the
/// cores, such as the stages of a pipeline, where [`Park`]'s longer spin (over a hundred
/// pauses, then yields) takes the core of the very thread being waited for. It gives up a
/// little latency when a core is free, for less CPU and fewer preemptions when none is.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParkEarly;

/// How many times [`ParkEarly`] spins, then yields, before it sleeps (under loom: none, so
/// that the models check the sleeping path, as with [`Park`]). Yields matter more than spins
/// when threads outnumber cores: sleeping at once costs a futex wake per chunk, and many
/// yields take the cores back from the threads being waited for. These counts gave
/// weir-pipeline's linear row its best result on 2 cores (the README's pipeline table, beside
/// the std-built pipeline and the disruptor).
const EARLY_SPINS: u32 = if cfg!(loom) { 0 } else { 2 };
const EARLY_YIELDS: u32 = if cfg!(loom) { 0 } else { 8 };

impl WaitStrategy for Spin {
    fn wait_for<R>(
        &self,
        _event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        retry(deadline, &mut attempt, || {
            spin_loop();
            true
        })
        .done()
    }
}

impl WaitStrategy for Backoff {
    fn wait_for<R>(
        &self,
        _event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let steps = Steps::new();
        retry(deadline, &mut attempt, || {
            steps.snooze();
            true
        })
        .done()
    }
}

impl WaitStrategy for Park {
    fn wait_for<R>(
        &self,
        event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let steps = Steps::new();
        let spun = retry(deadline, &mut attempt, || {
            if steps.is_completed() {
                return false;
            }
            steps.snooze();
            true
        });
        spun.or_sleep(event, deadline, attempt)
    }
}

impl WaitStrategy for ParkEarly {
    // Under loom both counts are 0 (loom sees no spin), which makes the comparisons constant.
    #[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
    fn wait_for<R>(
        &self,
        event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let mut rounds = 0;
        let spun = retry(deadline, &mut attempt, || {
            rounds += 1;
            if rounds <= EARLY_SPINS {
                spin_loop();
            } else if rounds <= EARLY_SPINS + EARLY_YIELDS {
                yield_now();
            } else {
                return false;
            }
            true
        });
        spun.or_sleep(event, deadline, attempt)
    }
}

/// How a run of [`retry`] ended.
enum Retry<R> {
    Done(R),
    TimedOut,
    /// `pause` gave up: time to wait some other way.
    GaveUp,
}

impl<R> Retry<R> {
    /// What a sleeping strategy does after its spin: the result, or sleep on `event` until
    /// `attempt` succeeds or the deadline passes.
    fn or_sleep(
        self,
        event: &EventCount,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        match self {
            Retry::Done(done) => return Some(done),
            Retry::TimedOut => return None,
            Retry::GaveUp => {}
        }
        loop {
            let listener = event.listen();
            if let Some(done) = attempt() {
                return Some(done);
            }
            if !listener.wait_until(deadline) {
                // The deadline passed while asleep: one last look, so that an item that came
                // with the deadline is not left behind.
                return attempt();
            }
        }
    }

    fn done(self) -> Option<R> {
        match self {
            Retry::Done(done) => Some(done),
            Retry::TimedOut | Retry::GaveUp => None,
        }
    }
}

/// Calls `attempt` until it succeeds, the deadline passes, or `pause` (called between
/// attempts) returns `false`.
fn retry<R>(
    deadline: Option<Instant>,
    attempt: &mut impl FnMut() -> Option<R>,
    mut pause: impl FnMut() -> bool,
) -> Retry<R> {
    loop {
        if let Some(done) = attempt() {
            return Retry::Done(done);
        }
        if has_passed(deadline) {
            return Retry::TimedOut;
        }
        if !pause() {
            return Retry::GaveUp;
        }
    }
}

fn has_passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() >= deadline)
}
