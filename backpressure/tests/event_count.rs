//! The event count and the wait strategies under real threads: no lost wake-up over many
//! rounds (a lost one hangs, and the watchdog fails the test), and deadlines honoured.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use weir_backpressure::wait::{Backoff, Park, Spin, WaitStrategy};
use weir_backpressure::EventCount;
use weir_test_support::{scaled, within};

const HANG: Duration = Duration::from_secs(30);

struct Tokens {
    count: AtomicUsize,
    event: EventCount,
}

impl Tokens {
    fn try_take(&self) -> Option<()> {
        self.count
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |n| n.checked_sub(1))
            .ok()
            .map(drop)
    }

    fn give(&self, n: usize) {
        self.count.fetch_add(n, Ordering::Release);
        if n == 1 {
            self.event.notify_one();
        } else {
            self.event.notify_all();
        }
    }
}

/// Rounds of two waiters sleeping for tokens and one notifier handing them out one at a time
/// or all at once. Most rounds the waiters are asleep by the time the tokens come; a lost
/// wake-up leaves one asleep forever.
#[test]
fn no_lost_wake_up_over_many_rounds() {
    let rounds = scaled(2_000, 20);
    within(HANG, move || {
        for round in 0..rounds {
            let tokens = Arc::new(Tokens {
                count: AtomicUsize::new(0),
                event: EventCount::new(),
            });
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let tokens = Arc::clone(&tokens);
                    thread::spawn(move || Park.wait_for(&tokens.event, None, || tokens.try_take()))
                })
                .collect();
            if round % 3 == 0 {
                thread::yield_now();
            }
            if round % 2 == 0 {
                tokens.give(1);
                tokens.give(1);
            } else {
                tokens.give(2);
            }
            for waiter in waiters {
                assert_eq!(waiter.join().unwrap(), Some(()));
            }
            assert_eq!(tokens.count.load(Ordering::Relaxed), 0);
        }
    });
}

#[test]
fn a_notify_with_nobody_waiting_is_not_an_error() {
    let event = EventCount::new();
    event.notify_one();
    event.notify_all();
    assert!(!event.has_waiters());
    let listener = event.listen();
    assert!(event.has_waiters());
    drop(listener);
    assert!(!event.has_waiters());
}

#[test]
fn a_listener_made_before_a_notify_does_not_sleep() {
    within(HANG, || {
        let event = EventCount::new();
        let listener = event.listen();
        event.notify_one();
        // The notify moved the epoch on, so this returns at once instead of sleeping forever.
        listener.wait();
    });
}

fn gives_up_at_the_deadline(strategy: impl WaitStrategy) {
    let event = EventCount::new();
    let start = Instant::now();
    let deadline = start + Duration::from_millis(20);
    let result: Option<()> = strategy.wait_for(&event, Some(deadline), || None);
    assert_eq!(result, None);
    assert!(Instant::now() >= deadline);
    assert!(start.elapsed() < HANG);
    assert!(!event.has_waiters());
}

#[test]
fn every_strategy_gives_up_at_its_deadline() {
    gives_up_at_the_deadline(Spin);
    gives_up_at_the_deadline(Backoff);
    gives_up_at_the_deadline(Park);
}

fn sees_another_threads_change(strategy: impl WaitStrategy) {
    let shared = Arc::new(Tokens {
        count: AtomicUsize::new(0),
        event: EventCount::new(),
    });
    let giver = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(5));
            shared.give(1);
        })
    };
    let got = within(HANG, move || {
        strategy.wait_for(&shared.event, None, || shared.try_take())
    });
    assert_eq!(got, Some(()));
    giver.join().unwrap();
}

#[test]
fn every_strategy_sees_another_threads_change() {
    sees_another_threads_change(Spin);
    sees_another_threads_change(Backoff);
    sees_another_threads_change(Park);
}
