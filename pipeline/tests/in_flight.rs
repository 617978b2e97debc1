//! `max_in_flight`: never more than that many items between the source and the sink, whatever
//! the stages do with them, and no wait that never ends.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, OnError, Overflow, Pipeline, Workers};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

/// Counts the items the source gives and the sink finishes, and checks the bound each time
/// the source gives one.
#[derive(Clone, Default)]
struct Gauge {
    taken: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
    most: Arc<AtomicU64>,
}

impl Gauge {
    fn take(&self) {
        let in_flight =
            self.taken.fetch_add(1, Ordering::SeqCst) + 1 - self.done.load(Ordering::SeqCst);
        self.most.fetch_max(in_flight, Ordering::SeqCst);
    }

    fn finish(&self, items: u64) {
        self.done.fetch_add(items, Ordering::SeqCst);
    }
}

#[test]
fn never_more_items_in_flight_than_allowed() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        for limit in [1, 5, 64] {
            let gauge = Gauge::default();
            let (source, sink) = (gauge.clone(), gauge.clone());
            // The filtered and failed items leave the flight where they are dropped.
            let filtered = gauge.clone();
            let finished = Pipeline::from_iter((0..n).inspect(move |_| source.take()))
                .max_in_flight(limit)
                .map(|x| x + 1)
                .filter(move |x| {
                    let keep = x % 3 != 0;
                    if !keep {
                        filtered.finish(1);
                    }
                    keep
                })
                .parallel(2, |s| s.map(|x| x * 2))
                .for_each(move |_| sink.finish(1))
                .run()
                .unwrap();
            assert_eq!(finished.report.items_in(), n);
            let most = gauge.most.load(Ordering::SeqCst);
            assert!(most <= limit, "{most} items in flight, {limit} allowed");
            assert_accounts(&finished.report);
        }
    });
}

/// Runs `n` items through `shape` under `max_in_flight(limit)`; `done` of the sink's gauge
/// counts each item that comes out once. Returns the most items the source saw in flight.
fn most_in_flight<U: Send + 'static>(
    n: u64,
    limit: u64,
    shape: impl FnOnce(Pipeline<u64>, Gauge) -> Pipeline<U>,
) -> u64 {
    let gauge = Gauge::default();
    let source = gauge.clone();
    let pipeline = Pipeline::from_iter((0..n).inspect(move |_| source.take())).max_in_flight(limit);
    let finished = shape(pipeline, gauge.clone())
        .for_each({
            let gauge = gauge.clone();
            move |_| gauge.finish(1)
        })
        .run()
        .unwrap();
    assert_eq!(finished.report.items_in(), n);
    assert_eq!(
        gauge.done.load(Ordering::SeqCst),
        n,
        "every item done once\n{}",
        finished.report
    );
    gauge.most.load(Ordering::SeqCst)
}

/// Every shape of stage holds the bound and gives every credit back: the items that leave
/// the flight early (a filter, a failure skipped, a fork_join's failed pair, an overflow's
/// drops) give their credits back where they leave, or the source would wait for ever.
#[test]
fn every_shape_of_stage_gives_its_credits_back() {
    within(LIMIT, || {
        let n = scaled(10_000, 200) as u64;
        for limit in [1, 3, 64] {
            let check = |shape: &str, most: u64| {
                assert!(
                    most <= limit,
                    "{shape}: {most} items in flight, {limit} allowed"
                );
            };
            let most = most_in_flight(n, limit, |p, _| {
                p.parallel(Workers::new(2).ordered(), |s| s.map(|x| x + 1))
            });
            check("ordered", most);
            let most = most_in_flight(n, limit, |p, gauge| {
                p.parallel(Workers::new(2).ordered(), move |s| {
                    let gauge = gauge.clone();
                    s.flat_map(move |x| {
                        // An empty frame stands for each item filtered out: not an item.
                        if x % 3 == 0 {
                            gauge.finish(1);
                        }
                        (x % 3 != 0).then_some(x)
                    })
                })
            });
            check("ordered, filtering", most);
            let most = most_in_flight(n, limit, |p, _| {
                p.partition(2, |x: &u64| *x % 7, |_, s| s.map(|x| x * 2))
            });
            check("partition", most);
            let most = most_in_flight(n, limit, |p, gauge| {
                p.fork_join(
                    move |s| {
                        s.filter(move |x| {
                            // Its pair fails: done here.
                            let keep = x % 4 != 0;
                            if !keep {
                                gauge.finish(1);
                            }
                            keep
                        })
                    },
                    |s| s.map(|x| x + 1),
                )
                .on_error(OnError::Skip)
            });
            check("fork_join", most);
            let most = most_in_flight(n, limit, |p, gauge| {
                p.on_error(OnError::Skip)
                    .try_map(move |x| {
                        if x % 5 == 0 {
                            gauge.finish(1);
                            Err(std::fmt::Error)
                        } else {
                            Ok(x)
                        }
                    })
                    .parallel(Workers::new(2).ordered(), |s| s.map(|x| x))
            });
            check("failures skipped", most);
        }
    });
}

/// An item that becomes several is in flight until the last of them is done: the extra
/// outputs owe their credits before they go on, so the source never runs ahead.
#[test]
fn a_flat_map_keeps_the_bound_in_items_of_the_source() {
    within(LIMIT, || {
        let n = scaled(5_000, 100) as u64;
        // 2500 outputs of one item fill more than one chunk (1024): the stage sends in the
        // middle of the item, and what it sent must owe its credits while the item goes on.
        for (items, limit, fan) in [(n, 1, 3), (n, 4, 3), (n / 20, 4, 2_500)] {
            let n = items;
            let gauge = Gauge::default();
            let source = gauge.clone();
            let sink = gauge.clone();
            let mut outputs = HashMap::new();
            let finished = Pipeline::from_iter((0..n).inspect(move |_| source.take()))
                .max_in_flight(limit)
                .flat_map(move |x| (0..fan).map(move |k| (x, k)))
                .parallel(2, |s| s.map(|pair| pair))
                .for_each(move |(x, _)| {
                    let count = outputs.entry(x).or_insert(0u64);
                    *count += 1;
                    if *count == fan {
                        outputs.remove(&x);
                        sink.finish(1);
                    }
                })
                .run()
                .unwrap();
            assert_eq!(finished.report.items_out(), n * fan, "{}", finished.report);
            let most = gauge.most.load(Ordering::SeqCst);
            assert!(
                most <= limit,
                "{most} items in flight, {limit} allowed (fan {fan})"
            );
        }
    });
}

/// A batch holds the items it gathers out of the flight (else a bound below the batch size
/// could never fill one, and the run would wait for ever), and is one item once made.
#[test]
fn a_batch_larger_than_the_bound_fills() {
    within(LIMIT, || {
        let n = scaled(10_000, 200) as u64;
        let finished = Pipeline::from_iter(0..n)
            .max_in_flight(3)
            .batch(7)
            .map(|batch| batch.len() as u64)
            .fold(0, |sum, len| sum + len)
            .run()
            .unwrap();
        assert_eq!(finished.output, n);
    });
}

/// Items an overflow policy drops give their credits back: the source, held to a few items,
/// goes on while a slow stage drops most of them.
#[test]
fn dropped_items_give_their_credits_back() {
    within(LIMIT, || {
        for policy in [Overflow::DropNewest, Overflow::DropOldest] {
            let finished = Pipeline::from_iter(0..2_000u64)
                .max_in_flight(8)
                .capacity(2)
                .map(|x| x)
                .overflow(policy)
                .capacity(2)
                .map(|x| {
                    if x % 64 == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    x
                })
                .collect::<Vec<_>>()
                .run()
                .unwrap();
            assert_eq!(finished.report.items_in(), 2_000);
            assert_accounts(&finished.report);
        }
    });
}

#[test]
fn a_source_held_back_when_everything_is_filtered_still_goes_on() {
    within(LIMIT, || {
        let finished = Pipeline::from_iter(0..10_000u64)
            .max_in_flight(2)
            .filter(|_| false)
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert!(finished.output.is_empty());
        assert_eq!(finished.report.items_in(), 10_000);
    });
}

#[test]
fn a_cancel_ends_a_source_held_back() {
    within(LIMIT, || {
        let running = Pipeline::from_iter(0u64..)
            .max_in_flight(4)
            .map(|x| x)
            .for_each(|_| std::thread::sleep(Duration::from_millis(1)))
            .spawn();
        while running.report().items_out() < 5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());
    });
}

#[test]
#[should_panic(expected = "weir_pipeline::Pipeline::max_in_flight: at least one item")]
fn zero_panics() {
    let _ = Pipeline::from_iter(0..1u8).max_in_flight(0);
}
