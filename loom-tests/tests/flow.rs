//! loom models of weir-backpressure's flow control: `Credits` and `Watermark`.
//!
//! Waiting goes through the crate's `Park` strategy, which under loom sleeps on a loom mutex
//! and condition variable: a lost wake-up leaves a thread asleep with nobody to wake it, which
//! loom reports as a deadlock.
//!
//! Between them the models need every Acquire and Release in `backpressure/src/credits/mod.rs`
//! (`watermark.rs` has none: its state publishes no data): `../shared/tools/loom-mutants.sh .
//! backpressure --test flow` weakens each one and checks that a model fails.

#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{model, model_with_bound};
use weir_backpressure::{Credits, Pressure, Watermark};

/// What two credit holders share: the credits, a count of the threads holding one, and a tally
/// that holders bump with a plain load and store (not a read-modify-write), as they would a
/// resource the credit stands for.
struct Guarded {
    credits: Credits,
    holders: AtomicUsize,
    tally: AtomicUsize,
}

impl Guarded {
    /// Takes the credit (waiting for it), checks that nobody else holds one, bumps the tally,
    /// and gives the credit back.
    fn hold_once(&self) {
        let credit = self.credits.acquire();
        // Relaxed is enough for the count: an over-issued credit shows as a second holder
        // whatever the orderings, since the count's read-modify-writes are totally ordered.
        let before = self.holders.fetch_add(1, Ordering::Relaxed);
        assert_eq!(before, 0, "two threads hold a credit at once");
        // Relaxed on purpose: only the credit's hand-over orders the previous holder's store
        // before this load. Without it, loom lets the load read the older value and the
        // update is lost.
        let tally = self.tally.load(Ordering::Relaxed);
        self.tally.store(tally + 1, Ordering::Relaxed);
        self.holders.fetch_sub(1, Ordering::Relaxed);
        drop(credit);
    }
}

/// Credits are never over-issued, and a release wakes a blocked acquirer: with capacity 1, two
/// threads acquire, bump a shared tally, and release. Never do both hold the credit (a count
/// of holders), the holds are ordered one after the other (no bump of the tally is lost, which
/// takes the hand-over's Release give-back read by an Acquire take), and the thread that found the credit taken sleeps until
/// the holder's release wakes it (a lost wake-up leaves it asleep: a deadlock for loom).
#[test]
fn credits_are_never_over_issued_and_a_release_wakes_an_acquirer() {
    model(|| {
        let shared = Arc::new(Guarded {
            credits: Credits::new(1),
            holders: AtomicUsize::new(0),
            tally: AtomicUsize::new(0),
        });
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.hold_once())
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(shared.credits.available(), 1);
        assert_eq!(
            shared.tally.load(Ordering::Relaxed),
            2,
            "a holder's update was lost"
        );
    });
}

/// A release wakes every acquirer, not one: with capacity 2 and both credits held, one thread
/// waits for 2 credits and another for 1; one credit comes back. Were that release to wake only
/// the thread that wants 2, it would go back to sleep and the thread that wants 1 would never
/// be woken (a deadlock, since the second credit only comes back after that thread is done).
///
/// Bound 2: that interleaving (both waiters asleep before the first release) takes two forced
/// switches, and a release that wakes only one waiter deadlocks within it (checked by hand);
/// bound 3 passes too, but takes ten times as long.
#[test]
fn a_release_is_not_swallowed_by_a_waiter_for_more() {
    model_with_bound(2, || {
        let credits = Arc::new(Credits::new(2));
        let first = credits.acquire().forget();
        let second = credits.acquire().forget();
        let wants_two = {
            let credits = Arc::clone(&credits);
            thread::spawn(move || drop(credits.acquire_many(2).unwrap()))
        };
        let wants_one = {
            let credits = Arc::clone(&credits);
            thread::spawn(move || drop(credits.acquire()))
        };
        credits.release(first);
        wants_one.join().unwrap();
        credits.release(second);
        wants_two.join().unwrap();
        assert_eq!(credits.available(), 2);
    });
}

/// A stop that gives back every credit out, from a thread that holds none and knows nothing
/// of who does (as weir-pipeline's cancel wakes a source waiting under `max_in_flight`): it
/// releases the whole capacity, and on a refusal what the refusal says is out. The waiter
/// takes a credit, then waits for another, looking at the stop flag before each. It must end:
/// woken by the credits given back, or seeing the stop. That takes a refusal decided on the
/// latest count (a plain load may read one from before the waiter took its credit, and say
/// none is out), and made with Release, so that a waiter taking a credit after it sees the
/// stop flag set before it.
#[test]
fn a_stop_that_gives_back_every_credit_wakes_the_waiter() {
    model(|| {
        let credits = Arc::new(Credits::new(1));
        let stopped = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (credits, stopped) = (Arc::clone(&credits), Arc::clone(&stopped));
            thread::spawn(move || {
                // Relaxed: the flag is ordered by the credits (see above).
                while !stopped.load(Ordering::Relaxed) {
                    credits.acquire().forget();
                }
            })
        };
        stopped.store(true, Ordering::Relaxed);
        let mut held = credits.capacity();
        loop {
            match credits.try_release(held) {
                Ok(()) => break,
                Err(error) if error.available() == error.capacity() => break,
                Err(error) => held = error.capacity() - error.available(),
            }
        }
        waiter.join().unwrap();
    });
}

/// Two updates that both report an occupancy at the high threshold race to turn the pressure
/// high: exactly one of them changes the state, so one event is counted, not two.
#[test]
fn racing_updates_count_one_event() {
    model(|| {
        let watermark = Arc::new(Watermark::new(1, 3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let watermark = Arc::clone(&watermark);
                thread::spawn(move || assert_eq!(watermark.update(3), Pressure::High))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(watermark.pressure(), Pressure::High);
        assert_eq!(watermark.events(), 1);
    });
}

/// An update up and an update down race from normal: whichever lands last decides the state,
/// and the count of events always agrees with it (high means exactly one event; normal means
/// the up landed first, or not at all).
#[test]
fn racing_up_and_down_keep_state_and_count_together() {
    model(|| {
        let watermark = Arc::new(Watermark::new(1, 3));
        let up = {
            let watermark = Arc::clone(&watermark);
            thread::spawn(move || watermark.update(5))
        };
        let down = watermark.update(0);
        let up = up.join().unwrap();
        assert_eq!(up, Pressure::High);
        assert_eq!(down, Pressure::Normal);
        match watermark.pressure() {
            Pressure::High => assert_eq!(watermark.events(), 1),
            Pressure::Normal => assert!(watermark.events() <= 1),
        }
    });
}

/// `wait_normal` is woken by the update that returns the pressure to normal, and so is every
/// other waiter: two threads wait while the pressure is high, and one update at the low
/// threshold must reach both (a lost wake-up, or a notify that wakes only one, leaves a waiter
/// asleep: a deadlock for loom).
#[test]
fn a_return_to_normal_wakes_every_waiter() {
    model(|| {
        let watermark = Arc::new(Watermark::new(1, 3));
        watermark.update(3);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let watermark = Arc::clone(&watermark);
                thread::spawn(move || watermark.wait_normal())
            })
            .collect();
        assert_eq!(watermark.update(1), Pressure::Normal);
        waiters.into_iter().for_each(|w| w.join().unwrap());
        assert_eq!(watermark.events(), 1);
    });
}
