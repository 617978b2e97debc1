//! The report's end-to-end latency: sampled marks reach the sink through every kind of stage,
//! and what they measure includes the time the items spent in the stages.

use std::thread::sleep;
use std::time::Duration;

use weir_pipeline::{Pipeline, Workers};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

/// A stage that holds every item this long makes every item at least this late.
const HOLD: Duration = Duration::from_millis(2);

#[test]
fn marks_reach_the_sink_through_every_kind_of_stage() {
    within(LIMIT, || {
        let n = scaled(200_000, 300) as u64;
        let finished = Pipeline::from_iter(0..n)
            .map(|x| x + 1)
            .parallel(2, |s| s.map(|x| x * 2))
            .parallel(Workers::new(2).ordered(), |s| s.filter(|x| x % 3 != 0))
            .batch(7)
            .flat_map(|batch| batch.into_iter().collect::<Vec<_>>())
            .fold(0u64, |count, _| count + 1)
            .run()
            .unwrap();
        let latency = finished.report.latency();
        assert!(
            latency.samples >= 1,
            "no mark reached the sink: {latency:?}"
        );
        assert!(latency.p50 <= latency.p99 && latency.p99 <= latency.max);
        assert!(latency.max <= finished.report.elapsed());
        assert!(finished.report.to_string().contains("end to end: p50"));
    });
}

#[test]
fn the_latency_includes_the_time_spent_in_stages() {
    within(LIMIT, || {
        let n = scaled(40, 5) as u64;
        let finished = Pipeline::from_iter(0..n)
            .map(|x| {
                sleep(HOLD);
                x
            })
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x + 1))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert_eq!(finished.output, (1..=n).collect::<Vec<_>>());
        let latency = finished.report.latency();
        assert!(
            latency.samples >= 1,
            "no mark reached the sink: {latency:?}"
        );
        // The marked item was held at least HOLD (the histogram keeps 2 significant digits).
        assert!(latency.max >= HOLD * 98 / 100, "{latency:?}");
    });
}

#[test]
fn a_stage_that_filters_everything_leaves_no_samples() {
    within(LIMIT, || {
        let finished = Pipeline::from_iter(0..10_000u64)
            .filter(|_| false)
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert!(finished.output.is_empty());
        assert_eq!(finished.report.latency().samples, 0);
    });
}
