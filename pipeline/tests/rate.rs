//! `rate_limit` and `Running::set_rate`: the source takes no more items than its rate allows
//! (the limiter's promise, a bound on counts, not on speed), and a new rate applies at once.

use std::thread::sleep;
use std::time::{Duration, Instant};

use weir_pipeline::Pipeline;
use weir_test_support::within;

const LIMIT: Duration = Duration::from_secs(30);

/// What the limiter may take ahead of its rate: a few milliseconds' worth, plus one item.
fn slack(rate: u64) -> u64 {
    rate * 5 / 1000 + 1
}

#[test]
fn a_limited_source_takes_no_more_than_its_rate() {
    within(LIMIT, || {
        let rate = 2_000;
        for parallel in [false, true] {
            let pipeline = Pipeline::from_iter(0u64..).rate_limit(rate);
            let pipeline = if parallel {
                pipeline.parallel(2, |s| s.map(|x| x))
            } else {
                pipeline.map(|x| x)
            };
            let started = Instant::now();
            let running = pipeline.for_each(drop).spawn();
            assert_eq!(running.rate(), Some(rate));
            sleep(Duration::from_millis(100));
            let taken = running.report().items_in();
            let allowed = (started.elapsed().as_secs_f64() * rate as f64) as u64 + slack(rate);
            assert!(taken <= allowed, "took {taken} items, {allowed} allowed");
            assert!(taken > 0);
            running.cancel();
            let _ = running.join();
        }
    });
}

#[test]
fn a_new_rate_applies_from_the_next_chunk() {
    within(LIMIT, || {
        let running = Pipeline::from_iter(0u64..)
            .map(|x| x)
            .rate_limit(100)
            .for_each(drop)
            .spawn();
        sleep(Duration::from_millis(50));
        // Lifted: the source races ahead of 100 a second.
        running.set_rate(None);
        assert_eq!(running.rate(), None);
        while running.report().items_in() < 10_000 {
            sleep(Duration::from_millis(1));
        }
        // Set again, low: from now on at most 50 a second (and the slack).
        running.set_rate(50);
        sleep(Duration::from_millis(20));
        let before = running.report().items_in();
        let from = Instant::now();
        sleep(Duration::from_millis(100));
        let taken = running.report().items_in() - before;
        let allowed = (from.elapsed().as_secs_f64() * 50.0) as u64 + slack(50) + 256;
        assert!(taken <= allowed, "took {taken} items at 50 a second");
        running.cancel();
        let _ = running.join();
    });
}

#[test]
fn a_finite_limited_source_still_ends() {
    within(LIMIT, || {
        let out = Pipeline::from_iter(0..300u64)
            .rate_limit(10_000)
            .collect::<Vec<_>>()
            .run()
            .unwrap()
            .output;
        assert_eq!(out, (0..300).collect::<Vec<_>>());
    });
}

#[test]
#[should_panic(expected = "weir_pipeline::Pipeline::rate_limit: the rate must be at least 1")]
fn a_rate_of_zero_panics() {
    let _ = Pipeline::from_iter(0..1u8).rate_limit(0);
}

#[test]
#[should_panic(expected = "weir_pipeline::Running::set_rate: the rate must be at least 1")]
fn setting_a_rate_of_zero_panics() {
    let running = Pipeline::from_iter(0..1u8).for_each(drop).spawn();
    running.set_rate(0);
}
