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

use loom::sync::atomic::{AtomicUsize, Ordering};
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
