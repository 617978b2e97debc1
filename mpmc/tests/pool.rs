//! The worker pool: every item handled exactly once, skewed costs balanced by stealing, panics
//! propagated without leaving a thread parked, empty streams, more workers than cores, and a
//! full injector that makes the feeder wait rather than drop.

// Real threads and timing: not a loom model (`loom-tests/tests/pool.rs` has those).
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weir_mpmc::distribute::{Pool, TargetsError};
use weir_test_support::scaled;

/// Items `0..n` each handled exactly once: a flag per item, a count and a sum.
struct Tally {
    seen: Vec<AtomicBool>,
    count: AtomicUsize,
    sum: AtomicU64,
}

impl Tally {
    fn new(n: usize) -> Self {
        Tally {
            seen: (0..n).map(|_| AtomicBool::new(false)).collect(),
            count: AtomicUsize::new(0),
            sum: AtomicU64::new(0),
        }
    }

    fn record(&self, item: usize) {
        assert!(
            !self.seen[item].swap(true, Ordering::Relaxed),
            "item {item} twice"
        );
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(item as u64, Ordering::Relaxed);
    }

    fn assert_all_once(&self) {
        let n = self.seen.len();
        assert_eq!(self.count.load(Ordering::Relaxed), n);
        assert_eq!(
            self.sum.load(Ordering::Relaxed),
            (n * n.saturating_sub(1) / 2) as u64
        );
        assert!(self.seen.iter().all(|s| s.load(Ordering::Relaxed)));
    }
}

/// Waits until `done()` holds; panics after a minute, which only a deadlock takes (this
/// detects a hang, it does not measure speed).
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "stuck: {what}");
        std::thread::yield_now();
    }
}

#[test]
fn every_item_exactly_once() {
    let n = scaled(100_000, 300);
    let tally = Tally::new(n);
    let report = Pool::new(2).run(0..n, |i| tally.record(i));
    tally.assert_all_once();
    assert_eq!(report.items(), n as u64);
    assert_eq!(report.workers.len(), 2);
}

#[test]
fn small_queues_make_the_feeder_wait_not_drop() {
    // An injector of 2 and deques of 1: the feeder finds the injector full again and again.
    let n = scaled(20_000, 200);
    let tally = Tally::new(n);
    let report = Pool::new(3).capacities(1, 2).run(0..n, |i| tally.record(i));
    tally.assert_all_once();
    assert_eq!(report.items(), n as u64);
}

#[test]
fn skewed_costs_are_stolen_from_a_blocked_worker() {
    // Item 0 does not return until every other item is done. Whichever worker takes it may
    // also hold a batch of the next items in its deque: the others must steal them, or the run
    // never ends. Both workers therefore do work.
    let n = scaled(10_000, 200);
    let tally = Tally::new(n);
    let report = Pool::new(2).run(0..n, |i| {
        if i == 0 {
            wait_until("the other items, behind a blocked worker", || {
                tally.count.load(Ordering::Relaxed) == n - 1
            });
        } else if i % 100 == 1 {
            // Some items cost far more than the rest.
            std::hint::black_box((0..scaled(20_000, 10)).sum::<usize>());
        }
        tally.record(i);
    });
    tally.assert_all_once();
    assert!(report.workers.iter().all(|w| w.items > 0), "{report:?}");
}

#[test]
fn a_batch_held_by_a_blocked_worker_is_stolen() {
    // A small stream that fits in the injector at once: the first worker to look takes half of
    // it as a batch, and blocks on its first item until the rest are done, so the rest of its
    // batch can only be run by a sibling that steals it.
    let mut steals = 0;
    for _ in 0..scaled(20, 2) {
        let n = 16;
        let tally = Tally::new(n);
        let started = AtomicBool::new(false);
        let report = Pool::new(2).capacities(16, 64).run(0..n, |i| {
            if !started.swap(true, Ordering::Relaxed) {
                wait_until("a stolen batch", || {
                    tally.count.load(Ordering::Relaxed) == n - 1
                });
            }
            tally.record(i);
        });
        tally.assert_all_once();
        assert!(report.workers.iter().all(|w| w.items > 0), "{report:?}");
        steals += report.workers.iter().map(|w| w.steals).sum::<u64>();
    }
    // The blocked worker's batch was taken by stealing (whether a given round's batch holds
    // more than the blocking item depends on timing, so this is over all rounds).
    if !cfg!(miri) {
        assert!(steals > 0);
    }
}

#[test]
fn more_workers_than_cores() {
    // 8 workers on a 2-core machine: idle ones park instead of spinning, so this finishes.
    let n = scaled(20_000, 200);
    let tally = Tally::new(n);
    let report = Pool::new(8).run(0..n, |i| tally.record(i));
    tally.assert_all_once();
    assert_eq!(report.workers.len(), 8);
}

#[test]
fn an_empty_stream_returns_at_once() {
    let report = Pool::new(4).run(std::iter::empty::<u8>(), |_| unreachable!());
    assert_eq!(report.items(), 0);
    assert_eq!(report.workers.len(), 4);
}

#[test]
fn a_slow_stream_lets_workers_park_and_wakes_them() {
    // Items arrive one by one with pauses: workers run out of work, park, and must be woken
    // for each new item.
    let n = scaled(50, 5);
    let tally = Tally::new(n);
    let items = (0..n).inspect(|_| std::thread::sleep(Duration::from_millis(1)));
    let report = Pool::new(3).run(items, |i| tally.record(i));
    tally.assert_all_once();
    assert_eq!(report.items(), n as u64);
}

#[test]
fn a_panicking_closure_reaches_the_caller() {
    let handled = AtomicUsize::new(0);
    let result = std::panic::catch_unwind(|| {
        // An endless stream: the feeder must stop, or the call never returns.
        Pool::new(3).run(0.., |i: u64| {
            if i == 500 {
                panic!("boom at {i}");
            }
            handled.fetch_add(1, Ordering::Relaxed);
        })
    });
    let payload = result.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom at 500");
    assert!(handled.load(Ordering::Relaxed) >= 1);
}

#[test]
fn a_panicking_stream_reaches_the_caller() {
    let result = std::panic::catch_unwind(|| {
        let items = (0..1000).map(|i| if i == 700 { panic!("stream broke") } else { i });
        Pool::new(2).run(items, |_| {})
    });
    let payload = result.expect_err("the panic propagates");
    assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "stream broke");
}

#[test]
fn the_pool_can_be_run_again() {
    let pool = Pool::new(2);
    for round in 0..3 {
        let sum = AtomicU64::new(0);
        pool.run(0..1000u64, |i| {
            sum.fetch_add(i + round, Ordering::Relaxed);
        });
        assert_eq!(sum.into_inner(), (0..1000).map(|i| i + round).sum());
    }
}

#[test]
fn zero_workers_is_an_error() {
    assert_eq!(Pool::try_new(0).unwrap_err(), TargetsError::NoTargets);
    assert_eq!(Pool::new(3).workers(), 3);
}
