//! Serial stages: every operation, order, names, and the report's counts.

use std::time::Duration;

use weir_pipeline::{Pipeline, DEFAULT_CAPACITY};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn every_operation_keeps_order_and_counts() {
    within(LIMIT, || {
        let n = scaled(100_000, 500) as u64;
        let finished = Pipeline::from_iter(0..n)
            .map(|x| x * 3)
            .named("triple")
            .filter(|x| x % 2 == 0)
            .filter_map(|x| (x % 5 != 0).then_some(x + 1))
            .flat_map(|x| [x, x])
            .inspect(|_| {})
            .try_map(|x| Ok::<u64, std::fmt::Error>(x * 2))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let expected: Vec<u64> = (0..n)
            .map(|x| x * 3)
            .filter(|x| x % 2 == 0)
            .filter_map(|x| (x % 5 != 0).then_some(x + 1))
            .flat_map(|x| [x, x])
            .map(|x| x * 2)
            .collect();
        assert_eq!(finished.output, expected);
        let report = &finished.report;
        let names: Vec<&str> = report.stages().iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "triple",
                "filter",
                "filter_map",
                "flat_map",
                "inspect",
                "try_map"
            ]
        );
        assert_eq!(report.items_in(), n);
        assert_eq!(report.items_out(), expected.len() as u64);
        assert_eq!(report.discarded(), 0);
        let triple = report.stage("triple").unwrap();
        assert_eq!((triple.items_in(), triple.items_out()), (n, n));
        let filter = report.stage("filter").unwrap();
        assert_eq!(filter.items_in(), n);
        assert_eq!(filter.items_out() + filter.filtered(), n);
        let filter_map = report.stage("filter_map").unwrap();
        assert_eq!(filter_map.items_in(), filter.items_out());
        assert_eq!(
            filter_map.items_out() + filter_map.filtered(),
            filter_map.items_in()
        );
        let flat = report.stage("flat_map").unwrap();
        assert_eq!(flat.items_out(), 2 * flat.items_in());
        for stage in report.stages() {
            assert_eq!(stage.workers(), 1);
            assert_eq!(stage.failed(), 0);
            assert_eq!(stage.capacity(), DEFAULT_CAPACITY);
            assert!(stage.max_occupancy() <= stage.capacity());
        }
    });
}

#[test]
fn sinks_fold_for_each_collect_and_iterate() {
    within(LIMIT, || {
        let n = scaled(10_000, 300) as u64;
        let sum = Pipeline::from_iter(0..n)
            .fold(0u64, |a, x| a + x)
            .run()
            .unwrap()
            .output;
        assert_eq!(sum, n * (n - 1) / 2);

        let (sender, receiver) = std::sync::mpsc::channel();
        Pipeline::from_iter(0..n)
            .map(|x| x + 1)
            .for_each(move |x| sender.send(x).unwrap())
            .run()
            .unwrap();
        assert_eq!(
            receiver.iter().collect::<Vec<_>>(),
            (1..=n).collect::<Vec<_>>()
        );

        let set: std::collections::BTreeSet<u64> =
            Pipeline::from_iter(0..n).collect().run().unwrap().output;
        assert_eq!(set.len(), n as usize);

        let mut output = Pipeline::from_iter(0..n).map(|x| x * 2).into_iter();
        let items: Vec<u64> = output.by_ref().collect();
        assert_eq!(items, (0..n).map(|x| x * 2).collect::<Vec<_>>());
        let report = output.finish().unwrap();
        assert_eq!((report.items_in(), report.items_out()), (n, n));
    });
}

#[test]
fn a_source_with_no_items_and_a_pipeline_with_no_stages() {
    within(LIMIT, || {
        let out: Vec<u8> = Pipeline::from_iter(std::iter::empty())
            .map(|x: u8| x)
            .collect()
            .run()
            .unwrap()
            .output;
        assert!(out.is_empty());
        let finished = Pipeline::from_iter(0..10u8)
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert_eq!(finished.output, (0..10).collect::<Vec<_>>());
        assert!(finished.report.stages().is_empty());
        assert_eq!(finished.report.items_out(), 10);
    });
}

#[test]
fn capacity_one_still_flows_and_bounds_the_queues() {
    within(LIMIT, || {
        let n = scaled(20_000, 200) as u64;
        let finished = Pipeline::from_iter(0..n)
            .capacity(1)
            .map(|x| x + 1)
            .capacity(3)
            .filter(|x| x % 3 != 0)
            .fold(0u64, |a, x| a + x)
            .run()
            .unwrap();
        assert_eq!(finished.output, (1..=n).filter(|x| x % 3 != 0).sum::<u64>());
        let map = finished.report.stage("map").unwrap();
        assert_eq!(map.capacity(), 1);
        assert!(map.max_occupancy() <= 1);
        let filter = finished.report.stage("filter").unwrap();
        assert_eq!(filter.capacity(), 3);
        assert!(filter.max_occupancy() <= 3);
    });
}

#[test]
fn a_slow_sink_holds_the_source_back() {
    within(LIMIT, || {
        // Backpressure: the source cannot run ahead of a slow sink by more than the queues hold.
        let produced = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&produced);
        let source = (0..2_000u64).inspect(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let mut output = Pipeline::from_iter(source)
            .capacity(8)
            .map(|x| x)
            .into_iter();
        assert_eq!(output.next(), Some(0));
        std::thread::sleep(Duration::from_millis(50));
        let ahead = produced.load(std::sync::atomic::Ordering::Relaxed);
        // Two queues of 8, the chunks in the stage's and the source's hands (1024 each at most).
        assert!(
            ahead <= 8 + 8 + 2 * 1024 + 1,
            "the source ran {ahead} items ahead"
        );
        assert_eq!(output.by_ref().count(), 1_999);
        output.finish().unwrap();
    });
}

#[test]
fn the_report_prints_one_row_per_stage() {
    let finished = Pipeline::from_iter(0..100u32)
        .map(|x| x)
        .named("first")
        .map(|x| x)
        .named("second")
        .for_each(drop)
        .run()
        .unwrap();
    let text = finished.report.to_string();
    assert!(text.contains("first"), "{text}");
    assert!(text.contains("second"), "{text}");
    assert!(text.contains("end to end: p50"), "{text}");
    // The totals, the end-to-end latency, the header and a row per stage.
    assert_eq!(text.lines().count(), 1 + 1 + 1 + 2, "{text}");
}

#[test]
#[should_panic(expected = "no stage to name yet")]
fn naming_before_any_stage_panics() {
    let _ = Pipeline::from_iter(0..1u8).named("x");
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn capacity_zero_panics() {
    let _ = Pipeline::from_iter(0..1u8).capacity(0);
}

#[test]
fn into_sender_feeds_a_channel_and_fails_when_its_receiver_is_gone() {
    within(LIMIT, || {
        let (sender, receiver) = weir_backpressure::mpmc::channel(8);
        let running = Pipeline::from_iter(0..1000u32)
            .map(|x| x + 1)
            .into_sender(sender)
            .spawn();
        let received: Vec<u32> = receiver.iter().collect();
        assert_eq!(received, (1..=1000).collect::<Vec<_>>());
        running.join().unwrap();

        let (sender, receiver) = weir_backpressure::mpmc::channel(8);
        drop(receiver);
        let error = Pipeline::from_iter(0..1000u32)
            .into_sender(sender)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "into_sender");
        assert!(
            matches!(error.kind(), weir_pipeline::ErrorKind::Failed(e) if e.is::<weir_pipeline::ReceiverGone>())
        );
    });
}

#[test]
fn the_bottleneck_is_the_stage_that_holds_the_run_back() {
    within(LIMIT, || {
        let hold = || std::thread::sleep(Duration::from_micros(100));
        let n = scaled(2_000, 50) as u32;
        let finished = Pipeline::from_iter(0..n)
            .map(|x| x + 1)
            .named("cheap")
            .inspect(move |_| hold())
            .named("slow")
            .map(|x| x * 2)
            .for_each(drop)
            .run()
            .unwrap();
        let report = &finished.report;
        assert_eq!(report.bottleneck(), Some("slow"), "{report}");
        assert!(report.stage("slow").unwrap().busy_share(report.elapsed()) > 0.5);
        let text = report.to_string();
        assert!(text.contains("*slow"), "{text}");
        assert!(text.contains("* the bottleneck: slow"), "{text}");

        // Two workers, both slow: the parallel stage.
        let finished = Pipeline::from_iter(0..n)
            .map(|x| x + 1)
            .parallel(2, move |s| s.inspect(move |_| hold()))
            .named("both")
            .for_each(drop)
            .run()
            .unwrap();
        assert_eq!(finished.report.bottleneck(), Some("both"));

        // No stage at all: nothing to name.
        let finished = Pipeline::from_iter(0..n).for_each(drop).run().unwrap();
        assert_eq!(finished.report.bottleneck(), None);
    });
}

#[test]
fn a_segment_runs_as_one_stage() {
    use weir_pipeline::Segment;

    within(LIMIT, || {
        let n = scaled(10_000, 100) as u64;
        let expand = || {
            Segment::new()
                .filter(|x: &u64| !x.is_multiple_of(3))
                .flat_map(|x| [x, x + 1])
                .map(|x| x * 2)
        };
        let finished = Pipeline::from_iter(0..n)
            .then(expand().then(Segment::new().inspect(|_| {})))
            .named("expand")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let expected: Vec<u64> = (0..n)
            .filter(|x| x % 3 != 0)
            .flat_map(|x| [x, x + 1])
            .map(|x| x * 2)
            .collect();
        assert_eq!(finished.output, expected);
        let report = &finished.report;
        assert_eq!(report.stages().len(), 1, "{report}");
        let stage = report.stage("expand").unwrap();
        assert_eq!(stage.items_in(), n);
        assert_eq!(stage.filtered(), n.div_ceil(3));
        assert_eq!(stage.items_out(), expected.len() as u64);
    });
}

/// A slow stage hands each output on as soon as it is made, not after a chunk of items: it
/// takes chunks sized to what it works through in a short while.
#[test]
fn the_outputs_of_slow_items_move_on_at_once() {
    within(LIMIT, || {
        // Every item after the first waits for the gate: the stage cannot run ahead while the
        // test looks.
        let (gate, opened) = std::sync::mpsc::channel::<()>();
        let mut output = Pipeline::from_iter(0..20u64)
            .map(move |x| {
                std::thread::sleep(Duration::from_millis(2));
                if x > 0 {
                    let _ = opened.recv();
                }
                x
            })
            .named("slow")
            .into_iter();
        assert_eq!(output.next(), Some(0));
        let taken = output.report().stage("slow").unwrap().items_in();
        assert!(
            taken <= 2,
            "the slow stage took {taken} items before its first output"
        );
        drop(gate);
        assert_eq!(output.by_ref().count(), 19);
        output.finish().unwrap();
    });
}

#[test]
fn a_nested_segment_adds_its_stages_under_its_name() {
    use weir_pipeline::Segment;

    within(LIMIT, || {
        let n = scaled(10_000, 100) as u64;
        let inner = Segment::new()
            .map(|x: u64| x + 1)
            .named("ignored once nested")
            .parallel(2, |s| s.map(|x| x * 2))
            .then(Segment::new().filter(|x: &u64| !x.is_multiple_of(3)))
            .parallel(2, |s| s.map(|x| x + 7))
            .named("inner");
        let finished = Pipeline::from_iter(0..n)
            .then(inner)
            .then(Segment::new().map(|x: u64| x).named("outer"))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        let mut expected: Vec<u64> = (0..n)
            .map(|x| (x + 1) * 2)
            .filter(|x| x % 3 != 0)
            .map(|x| x + 7)
            .collect();
        expected.sort_unstable();
        assert_eq!(out, expected);
        let names: Vec<&str> = finished.report.stages().iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "inner/then",
                "inner/parallel",
                "inner/then",
                "inner/parallel",
                "outer"
            ]
        );
    });
}
