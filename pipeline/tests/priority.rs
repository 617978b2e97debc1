//! `priority`: every item once, the most urgent first when the next stage is behind, and a
//! level out of range fails the run.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn every_item_once_through_the_levels() {
    within(LIMIT, || {
        let n = scaled(50_000, 300) as u64;
        let finished = Pipeline::from_iter(0..n)
            .capacity(16)
            .priority(4, |x: &u64| (x % 4) as usize)
            .map(|x| x + 1)
            .named("after")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        assert_eq!(out, (1..=n).collect::<Vec<_>>());
        assert_eq!(finished.report.stage("after").unwrap().items_in(), n);
        assert_accounts(&finished.report);
    });
}

#[test]
fn urgent_items_overtake_when_the_stage_is_behind() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<(usize, u32)>(64);
        let (gate, opened) = mpsc::channel::<()>();
        let mut first = true;
        let mut output = pipeline
            .capacity(64)
            .priority(2, |(level, _): &(usize, u32)| *level)
            .map(move |item| {
                // The stage is held on its first item while the rest queue behind it.
                if std::mem::take(&mut first) {
                    opened.recv().unwrap();
                }
                item.1
            })
            .into_iter();
        input.send((1, 0)).unwrap();
        for x in 1..=20 {
            input.send((1, x)).unwrap();
        }
        input.send((0, 99)).unwrap();
        drop(input);
        // Let the sorter queue everything (the order checked below holds whatever it did
        // not queue yet: the urgent item is the last sent).
        std::thread::sleep(Duration::from_millis(50));
        gate.send(()).unwrap();
        let out: Vec<u32> = output.by_ref().collect();
        assert_eq!(out.len(), 22);
        let urgent = out.iter().position(|&x| x == 99).unwrap();
        assert!(urgent < 21, "the urgent item came last: {out:?}");
        output.finish().unwrap();
    });
}

#[test]
fn a_level_out_of_range_fails_the_run() {
    within(LIMIT, || {
        let error = Pipeline::from_iter(0..100u64)
            .priority(2, |x: &u64| if *x == 50 { 7 } else { 0 })
            .map(|x| x)
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "priority");
        assert!(
            matches!(error.kind(), ErrorKind::Panicked(m) if m.contains("level 7 out of 0..2")),
            "{error}"
        );
        assert_accounts(error.report());
    });
}

#[test]
#[should_panic(expected = "weir_pipeline::Pipeline::priority: a priority queue needs at least one")]
fn zero_levels_panics() {
    let _ = Pipeline::from_iter(0..1u8).priority(0, |_| 0);
}
