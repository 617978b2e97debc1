//! Changing a parallel stage's count of workers while it runs: by `Running::set_workers` and
//! by the load (`Workers::scaling`), unordered and ordered. Nothing is lost or run twice, an
//! ordered stage's output stays in order, a retired worker takes no more items, and the
//! report shows the count and its changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::Duration;

use weir_pipeline::{ControlError, ErrorKind, Pipeline, Workers};
use weir_test_support::{scaled, within, Rng};

mod common;

const LIMIT: Duration = Duration::from_secs(60);

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn every_item_once_while_the_count_changes() {
    within(LIMIT, || {
        let n = scaled(300_000, 2_000) as u64;
        let running = Pipeline::from_iter(0..n)
            .parallel(Workers::scaling(1, 4), |s| s.map(|x| x * 2))
            .named("double")
            .collect::<Vec<_>>()
            .spawn();
        let mut rng = Rng::new(7);
        let mut changes = 0;
        while !running.is_finished() {
            running.set_workers("double", rng.range(1, 4)).unwrap();
            changes += 1;
            std::thread::yield_now();
        }
        let finished = running.join().unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        assert_eq!(out, (0..n).map(|x| x * 2).collect::<Vec<_>>());
        let stage = finished.report.stage("double").unwrap();
        assert_eq!((stage.items_in(), stage.items_out()), (n, n));
        assert!(stage.scale_events() <= changes + 1000);
    });
}

#[test]
fn a_retired_worker_takes_no_more_items() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(16);
        let (sink, output) = std::sync::mpsc::channel();
        let running = pipeline
            .parallel(3, |s| s.map(|x| (x, thread_name())))
            .named("work")
            .for_each(move |item| sink.send(item).unwrap())
            .spawn();
        // Lock step: each item comes out before the next goes in.
        let step = |x: u64| {
            input.send(x).unwrap();
            let (y, name) = output.recv().unwrap();
            assert_eq!(y, x);
            name
        };
        for x in 0..30 {
            step(x);
        }
        running.set_workers("work", 1).unwrap();
        // A worker waiting for input when the count fell runs one more chunk (here one item:
        // lock step), whenever it gets one, then parks; only the active worker goes on.
        let mut after = HashMap::<String, u64>::new();
        for x in 0..200 {
            *after.entry(step(x)).or_default() += 1;
        }
        let going_on = after.values().filter(|&&items| items > 1).count();
        assert_eq!(going_on, 1, "retired workers went on: {after:?}");
        drop(input);
        let report = running.join().unwrap().report;
        assert_eq!(report.stage("work").unwrap().workers(), 1);
        assert_eq!(report.stage("work").unwrap().scale_events(), 1);
    });
}

/// Slow items from a fast source fill the stage's queue (or, with no queue, keep its workers
/// busy), so workers are added up to the most; then a trickle keeps it nearly empty (the
/// workers mostly waiting), so they are retired down to one. Every worker ran some items, and
/// an ordered stage's output stayed in order throughout.
fn the_load_moves_the_count(workers: Workers, queue: bool) {
    within(LIMIT, move || {
        let seen = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
        let record = Arc::clone(&seen);
        let mut next = 0;
        // A range of known length: the sink's thread may run the last worker, reading the
        // source itself (see tests/help.rs), and counts as that worker here.
        let source = Pipeline::from_iter(0..u64::MAX).capacity(64);
        // A stage between puts a queue before the workers; without one they read the source.
        let source = if queue { source.map(|x| x) } else { source };
        let running = source
            .parallel(workers, move |s| {
                let record = Arc::clone(&record);
                s.inspect(move |_| {
                    sleep(Duration::from_micros(200));
                    *record.lock().unwrap().entry(thread_name()).or_default() += 1;
                })
            })
            .named("slow")
            .for_each(move |x| {
                assert!(
                    !workers.is_ordered() || x == next,
                    "{x} came out for {next}"
                );
                next += 1;
            })
            .spawn();
        let stage = |running: &weir_pipeline::Running<()>| running.report().stage("slow").cloned();
        assert_eq!(stage(&running).unwrap().workers(), 1);
        while stage(&running).unwrap().workers() < 3 {
            sleep(Duration::from_millis(1));
        }
        assert!(stage(&running).unwrap().scale_events() >= 2);
        // The third worker may be the sink's thread (tests/help.rs), which takes a chunk only
        // when the others' outputs are all in: let it run some before the load drops.
        while seen.lock().unwrap().len() < 3 {
            sleep(Duration::from_millis(1));
        }
        running.set_rate(500);
        while stage(&running).unwrap().workers() > 1 {
            sleep(Duration::from_millis(5));
        }
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(error.report().stage("slow").unwrap().scale_events() >= 4);
        assert_eq!(seen.lock().unwrap().len(), 3, "every worker ran some items");
    });
}

#[test]
fn the_load_adds_workers_and_takes_them_away() {
    the_load_moves_the_count(Workers::scaling(1, 3), true);
}

#[test]
fn how_busy_the_workers_are_scales_a_stage_that_reads_its_source() {
    the_load_moves_the_count(Workers::scaling(1, 3), false);
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(4);
        let running = pipeline
            .map(|x| x)
            .named("serial")
            .parallel(3, |s| s.map(|x| x))
            .named("free")
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x))
            .named("ordered")
            .for_each(drop)
            .spawn();
        assert_eq!(
            running.set_workers("none", 1),
            Err(ControlError::UnknownStage("none".into()))
        );
        assert_eq!(
            running.set_workers("serial", 1),
            Err(ControlError::NotParallel("serial".into()))
        );
        let error = running.set_workers("free", 4).unwrap_err();
        assert_eq!(
            error.to_string(),
            "stage `free` takes 1 to 3 workers, not 4"
        );
        assert!(matches!(
            running.set_workers("free", 0),
            Err(ControlError::OutOfRange { min: 1, max: 3, .. })
        ));
        assert!(matches!(
            running.set_workers("ordered", 3),
            Err(ControlError::OutOfRange { min: 1, max: 2, .. })
        ));
        running.set_workers("ordered", 1).unwrap();
        running.set_workers("ordered", 2).unwrap();
        let report = running.report();
        assert_eq!(report.stage("free").unwrap().workers(), 3);
        assert_eq!(report.stage("free").unwrap().scale_events(), 0);
        drop(input);
        running.join().unwrap();
    });
}

/// Items of uneven cost, some filtered and some flat-mapped to several, so that the workers'
/// frames and turns differ from item to item.
fn uneven(x: u64) -> Vec<u64> {
    if x.is_multiple_of(3) {
        std::hint::black_box((0..x % 97).sum::<u64>());
    }
    match x % 5 {
        0 => vec![],
        1 => vec![x, x],
        _ => vec![x],
    }
}

#[test]
fn an_ordered_stage_keeps_order_while_the_count_changes() {
    within(LIMIT, || {
        let n = scaled(300_000, 2_000) as u64;
        let running = Pipeline::from_iter(0..n)
            .capacity(64)
            .parallel(Workers::new(4).ordered(), |s| s.flat_map(uneven))
            .named("ordered")
            .collect::<Vec<_>>()
            .spawn();
        let mut rng = Rng::new(11);
        let mut changes = 0u64;
        while !running.is_finished() {
            running.set_workers("ordered", rng.range(1, 4)).unwrap();
            changes += 1;
            std::thread::yield_now();
        }
        let finished = running.join().unwrap();
        let expected: Vec<u64> = (0..n).flat_map(uneven).collect();
        assert_eq!(finished.output.len(), expected.len());
        assert!(finished.output == expected, "the output is out of order");
        let stage = finished.report.stage("ordered").unwrap();
        assert_eq!(stage.items_in(), n);
        assert_eq!(stage.items_out(), expected.len() as u64);
        assert!(changes > 0);
        assert!(stage.scale_events() > 0);
    });
}

#[test]
fn a_retired_ordered_worker_takes_no_more_items() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(64);
        let (sink, output) = std::sync::mpsc::channel();
        let running = pipeline
            .parallel(Workers::new(3).ordered(), |s| s.map(|x| (x, thread_name())))
            .named("work")
            .for_each(move |item| sink.send(item).unwrap())
            .spawn();
        let mut next = 0;
        let mut run = |items: u64| {
            let mut names = HashMap::<String, u64>::new();
            for x in next..next + items {
                input.send(x).unwrap();
            }
            for x in next..next + items {
                let (y, name) = output.recv().unwrap();
                assert_eq!(y, x, "out of order");
                *names.entry(name).or_default() += 1;
            }
            next += items;
            names
        };
        // Turns of 16 items, each to the emptiest worker, the next one first when they are
        // alike: the three start empty, so the first three turns go to the three of them.
        assert_eq!(run(96).len(), 3);
        running.set_workers("work", 1).unwrap();
        // A turn under way when the count fell stays with its worker; from the next one,
        // every turn is worker 0's.
        run(48);
        let after = run(160);
        assert_eq!(after.len(), 1, "retired workers went on: {after:?}");
        running.set_workers("work", 2).unwrap();
        run(48);
        assert_eq!(run(160).len(), 2);
        drop(input);
        let report = running.join().unwrap().report;
        assert_eq!(report.stage("work").unwrap().workers(), 2);
        assert_eq!(report.stage("work").unwrap().scale_events(), 2);
    });
}

#[test]
fn the_load_scales_an_ordered_stage_up_and_down() {
    the_load_moves_the_count(Workers::scaling(1, 3).ordered(), true);
}

/// A cancel, and a panic in a worker, while an ordered stage's count keeps changing (dealt,
/// and reading its source): every thread ends (`within` fails a hang), the run reports the
/// cause, and the accounting holds with what was discarded.
#[test]
fn an_ordered_stage_changing_its_count_stops_cleanly() {
    within(LIMIT, || {
        for dealt in [false, true] {
            for panic in [false, true] {
                let source = Pipeline::from_iter(0u64..).capacity(64);
                let source = if dealt { source.map(|x| x) } else { source };
                let running = source
                    .parallel(Workers::new(3).ordered(), move |s| {
                        s.map(move |x| {
                            assert!(!(panic && x == 20_000), "item {x} refused");
                            x
                        })
                    })
                    .named("ordered")
                    .for_each(drop)
                    .spawn();
                let mut rng = Rng::new(3);
                while running.report().items_out() < 30_000 && !running.is_finished() {
                    running.set_workers("ordered", rng.range(1, 3)).unwrap();
                    std::thread::yield_now();
                }
                running.cancel();
                let error = running.join().unwrap_err();
                match error.kind() {
                    ErrorKind::Panicked(message) => {
                        assert!(panic && message.contains("item 20000 refused"), "{error}");
                    }
                    ErrorKind::Cancelled => assert!(!panic, "{error}"),
                    other => panic!("unexpected {other:?}"),
                }
                common::assert_accounts(error.report());
            }
        }
    });
}
