//! `Watermark`: hysteresis, event counts, racing updates, waiting for normal, bad thresholds.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use weir_backpressure::wait::{Backoff, Spin, WaitStrategy};
use weir_backpressure::{Pressure, Watermark};
use weir_test_support::{scaled, Rng};

/// A bound on how long a timed wait may take that no loaded machine should reach: tests check
/// that waits end, never how fast.
const GENEROUS: Duration = Duration::from_secs(30);

#[test]
fn hysteresis_follows_the_thresholds() {
    let watermark = Watermark::new(2, 5);
    let steps = [
        (0, Pressure::Normal),
        (4, Pressure::Normal), // below high
        (5, Pressure::High),   // at high
        (4, Pressure::High),   // between: stays
        (3, Pressure::High),
        (9, Pressure::High),
        (2, Pressure::Normal), // at low
        (3, Pressure::Normal), // between: stays
        (4, Pressure::Normal),
        (6, Pressure::High),
        (0, Pressure::Normal),
    ];
    for (i, &(occupancy, expected)) in steps.iter().enumerate() {
        assert_eq!(
            watermark.update(occupancy),
            expected,
            "step {i}: {occupancy}"
        );
        assert_eq!(watermark.pressure(), expected, "step {i}: {occupancy}");
    }
    assert_eq!(watermark.events(), 2);
}

#[test]
fn adjacent_thresholds_have_no_middle() {
    let watermark = Watermark::new(0, 1);
    assert_eq!(watermark.update(0), Pressure::Normal);
    assert_eq!(watermark.update(1), Pressure::High);
    assert_eq!(watermark.update(1), Pressure::High);
    assert_eq!(watermark.update(0), Pressure::Normal);
    assert_eq!(watermark.update(usize::MAX), Pressure::High);
    assert_eq!(watermark.events(), 2);
}

#[test]
fn events_count_entries_into_high_only() {
    let watermark = Watermark::new(10, 20);
    assert_eq!(watermark.events(), 0);
    for round in 1..=5u64 {
        for occupancy in [20, 25, 15, 30] {
            watermark.update(occupancy);
        }
        assert_eq!(watermark.events(), round, "staying high is one event");
        watermark.update(10);
        assert_eq!(watermark.events(), round, "leaving high is not an event");
    }
}

#[test]
fn a_random_walk_matches_a_reference() {
    let mut rng = Rng::new(7);
    let (low, high) = (8, 24);
    let watermark = Watermark::new(low, high);
    let (mut expected, mut events) = (Pressure::Normal, 0u64);
    for _ in 0..scaled(10_000, 500) {
        let occupancy = rng.range(0, 32);
        if occupancy >= high && expected == Pressure::Normal {
            expected = Pressure::High;
            events += 1;
        } else if occupancy <= low {
            expected = Pressure::Normal;
        }
        assert_eq!(watermark.update(occupancy), expected);
    }
    assert_eq!(watermark.events(), events);
}

#[test]
#[should_panic(
    expected = "weir_backpressure::Watermark::new: the low watermark (4) must be below the high watermark (4)"
)]
fn equal_thresholds_panic() {
    let _ = Watermark::new(4, 4);
}

#[test]
#[should_panic(
    expected = "weir_backpressure::Watermark::with_wait: the low watermark (9) must be below the high watermark (3)"
)]
fn inverted_thresholds_panic() {
    let _ = Watermark::with_wait(9, 3, Spin);
}

#[test]
fn bad_thresholds_are_errors() {
    let error = Watermark::try_new(5, 5).unwrap_err();
    assert_eq!((error.low(), error.high()), (5, 5));
    assert!(Watermark::try_new(6, 5).is_err());
    assert!(Watermark::try_new(0, 0).is_err());
    let ok = Watermark::try_new(0, 1).unwrap();
    assert_eq!((ok.low(), ok.high()), (0, 1));
    let error: Box<dyn std::error::Error> = Box::new(error);
    assert!(error.to_string().contains("must be below"));
}

/// Every thread reports the same high occupancy at once, then the same low one, round after
/// round: each round is exactly one event, however the updates race.
#[test]
fn racing_updates_count_each_event_once() {
    const THREADS: usize = 4;
    let rounds = scaled(1_000, 20);
    let watermark = Watermark::new(1, 3);
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..rounds {
                    barrier.wait();
                    assert_eq!(watermark.update(3), Pressure::High);
                    barrier.wait();
                    assert_eq!(watermark.update(1), Pressure::Normal);
                }
            });
        }
    });
    assert_eq!(watermark.events(), rounds as u64);
    assert_eq!(watermark.pressure(), Pressure::Normal);
}

/// Random updates from several threads: whatever order they land in, the state and the event
/// count agree (high means an odd number of changes), and no update is lost from the count.
#[test]
fn random_racing_updates_keep_state_and_count_together() {
    const THREADS: u64 = 4;
    let updates = scaled(5_000, 100);
    let watermark = Watermark::new(2, 6);
    thread::scope(|s| {
        for seed in 0..THREADS {
            let watermark = &watermark;
            s.spawn(move || {
                let mut rng = Rng::new(seed);
                for _ in 0..updates {
                    watermark.update(rng.range(0, 8));
                }
            });
        }
    });
    // A final update settles the state; one more high update adds exactly one event.
    watermark.update(0);
    let events = watermark.events();
    assert_eq!(watermark.update(6), Pressure::High);
    assert_eq!(watermark.events(), events + 1);
}

fn woken_by_another_thread<W: WaitStrategy>(wait: W) {
    let watermark = Watermark::with_wait(0, 2, wait);
    watermark.update(2);
    thread::scope(|s| {
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    watermark.wait_normal();
                    watermark.pressure()
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(10));
        watermark.update(1); // between: still high
        thread::sleep(Duration::from_millis(5));
        watermark.update(0);
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Pressure::Normal);
        }
    });
}

#[test]
fn wait_normal_is_woken_parked() {
    woken_by_another_thread(weir_backpressure::wait::Park);
}

#[test]
fn wait_normal_is_woken_spinning() {
    woken_by_another_thread(Spin);
}

#[test]
fn wait_normal_is_woken_backing_off() {
    woken_by_another_thread(Backoff);
}

#[test]
fn wait_normal_returns_at_once_when_normal() {
    let watermark = Watermark::new(1, 2);
    watermark.wait_normal();
    assert!(watermark.wait_normal_timeout(Duration::ZERO));
    assert!(watermark.wait_normal_deadline(Instant::now()));
}

#[test]
fn wait_normal_times_out_while_high() {
    let watermark = Watermark::new(1, 2);
    watermark.update(2);
    let timeout = Duration::from_millis(20);
    let start = Instant::now();
    assert!(!watermark.wait_normal_timeout(timeout));
    let waited = start.elapsed();
    assert!(waited >= timeout, "gave up early: {waited:?}");
    assert!(waited < GENEROUS, "did not give up: {waited:?}");
    let start = Instant::now();
    assert!(!watermark.wait_normal_deadline(start + timeout));
    assert!(start.elapsed() < GENEROUS);
    // A deadline in the past does not wait at all, and still reports the state.
    assert!(!watermark.wait_normal_deadline(start));
}

#[test]
fn timed_wait_is_woken_before_its_deadline() {
    let watermark = Watermark::new(0, 1);
    watermark.update(1);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(Duration::from_millis(10));
            watermark.update(0);
        });
        assert!(watermark.wait_normal_timeout(GENEROUS));
    });
}

#[test]
fn observes_channels_and_queues() {
    let (sender, receiver) = weir_backpressure::mpmc::channel(8);
    let watermark = Watermark::new(2, 6);
    for i in 0..6 {
        sender.send(i).unwrap();
    }
    assert_eq!(watermark.observe(&sender), Pressure::High);
    for _ in 0..3 {
        receiver.recv().unwrap();
    }
    assert_eq!(watermark.observe(&receiver), Pressure::High);
    receiver.recv().unwrap();
    assert_eq!(watermark.observe(&receiver), Pressure::Normal);

    let queue = weir_mpmc::Queue::new(4);
    let watermark = Watermark::new(1, 3);
    for i in 0..3 {
        queue.try_push(i).unwrap();
    }
    assert_eq!(watermark.observe(&queue), Pressure::High);
    assert_eq!(watermark.events(), 1);
}

/// A producer that backs off while its consumer is behind: the consumer updates after every
/// receive, so the producer's wait always ends, and every item arrives.
#[test]
fn a_producer_backs_off_until_the_consumer_catches_up() {
    let items = scaled(20_000, 200);
    let (sender, receiver) = weir_backpressure::mpmc::channel(64);
    let watermark = Watermark::new(8, 32);
    thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut sum = 0usize;
            for item in &receiver {
                watermark.observe(&receiver);
                sum += item;
            }
            // Drained: the last observation saw an empty channel.
            assert_eq!(watermark.pressure(), Pressure::Normal);
            sum
        });
        for i in 0..items {
            if watermark.observe(&sender).is_high() {
                // The consumer may have updated from a length that is already out of date;
                // a timeout keeps the producer going whatever it saw.
                watermark.wait_normal_timeout(Duration::from_millis(50));
            }
            sender.send(i).unwrap();
        }
        drop(sender);
        assert_eq!(consumer.join().unwrap(), items * (items - 1) / 2);
    });
}

#[test]
fn debug_shows_the_state() {
    let watermark = Watermark::new(1, 2);
    watermark.update(2);
    let shown = format!("{watermark:?}");
    assert!(
        shown.contains("High") && shown.contains("events: 1"),
        "{shown}"
    );
}

static_assertions::assert_impl_all!(Watermark<Spin>: Send, Sync);
