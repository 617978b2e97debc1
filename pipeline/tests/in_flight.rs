//! `max_in_flight`: never more than that many items between the source and the sink, whatever
//! the stages do with them, and no wait that never ends.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline};
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
