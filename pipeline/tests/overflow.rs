//! `overflow`: a queue that drops the newest or the oldest item when full instead of making the
//! stage before it wait; every drop is counted and the accounts still add up.

mod common;

use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Overflow, Pipeline, Workers};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

/// A stage slow enough that a fast source overflows its queue.
fn slow(x: u64) -> u64 {
    std::thread::sleep(Duration::from_micros(20));
    x
}

#[test]
fn drop_newest_keeps_the_first_and_counts_the_rest() {
    within(LIMIT, || {
        let n = scaled(20_000, 500) as u64;
        let finished = Pipeline::from_iter(0..n)
            .capacity(16)
            .overflow(Overflow::DropNewest)
            .map(slow)
            .named("slow")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let out = finished.output;
        let report = &finished.report;
        let slow = report.stage("slow").unwrap();
        assert!(slow.dropped() > 0, "{report}");
        assert_eq!(out.len() as u64 + slow.dropped(), n);
        assert!(
            out.windows(2).all(|w| w[0] < w[1]),
            "order kept among the kept"
        );
        assert_eq!(out[0], 0);
        assert_accounts(report);
        assert!(report
            .to_string()
            .contains("dropped by the overflow policy before slow"));
    });
}

#[test]
fn drop_oldest_lets_the_freshest_through() {
    within(LIMIT, || {
        let n = scaled(20_000, 500) as u64;
        for workers in [None, Some(2)] {
            let pipeline = Pipeline::from_iter(0..n)
                .capacity(16)
                .overflow(Overflow::DropOldest);
            let pipeline = match workers {
                None => pipeline.map(slow),
                Some(workers) => pipeline.parallel(workers, |s| s.map(slow)),
            };
            let finished = pipeline.named("slow").collect::<Vec<_>>().run().unwrap();
            let mut out = finished.output;
            let report = &finished.report;
            let dropped = report.stage("slow").unwrap().dropped();
            assert!(dropped > 0, "{report}");
            assert_eq!(out.len() as u64 + dropped, n);
            if workers.is_none() {
                assert!(out.windows(2).all(|w| w[0] < w[1]));
            }
            out.sort_unstable();
            // The newest item is never the one dropped.
            assert_eq!(out.last(), Some(&(n - 1)));
            out.dedup();
            assert_eq!(out.len() as u64 + dropped, n, "an item came out twice");
            assert_accounts(report);
        }
    });
}

#[test]
fn the_policy_applies_to_the_next_stage_only() {
    within(LIMIT, || {
        let n = scaled(5_000, 200) as u64;
        let finished = Pipeline::from_iter(0..n)
            .capacity(4)
            .overflow(Overflow::DropNewest)
            .map(|x| x)
            .named("lossy")
            .map(slow)
            .named("lossless")
            .for_each(drop)
            .run()
            .unwrap();
        let report = &finished.report;
        assert_eq!(report.stage("lossless").unwrap().dropped(), 0);
        assert_accounts(report);

        // Before the sink, when no stage follows.
        let finished = Pipeline::from_iter(0..n)
            .capacity(4)
            .overflow(Overflow::DropNewest)
            .for_each(|_| std::thread::sleep(Duration::from_micros(20)))
            .run()
            .unwrap();
        let report = &finished.report;
        assert_eq!(report.items_in(), n);
        assert!(report.items_out() <= n);
        assert!(report.dropped() > 0);
        assert_accounts(report);
    });
}

#[test]
fn a_cancel_with_a_dropping_queue_still_adds_up() {
    within(LIMIT, || {
        let running = Pipeline::from_iter(0u64..)
            .capacity(8)
            .overflow(Overflow::DropOldest)
            .map(slow)
            .named("slow")
            .for_each(drop)
            .spawn();
        while running.report().stage("slow").unwrap().dropped() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());
    });
}

#[test]
#[should_panic(expected = "weir_pipeline::Pipeline::overflow: Reject has no caller")]
fn reject_is_refused() {
    let _ = Pipeline::from_iter(0..1u8).overflow(Overflow::Reject);
}

#[test]
#[should_panic(expected = "an ordered stage cannot follow a dropping overflow policy")]
fn an_ordered_stage_after_a_dropping_queue_is_refused() {
    let _ = Pipeline::from_iter(0..1u8)
        .overflow(Overflow::DropNewest)
        .parallel(Workers::new(2).ordered(), |s| s.map(|x| x));
}
