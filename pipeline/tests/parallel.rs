//! `parallel`: every item once, order where asked, uneven work, stages in a row.

use std::time::Duration;

use weir_pipeline::{Pipeline, Workers};
use weir_test_support::{scaled, within, Rng};

const LIMIT: Duration = Duration::from_secs(60);

/// Busy work of `units` steps, so that items take uneven times.
fn work(x: u64, units: u64) -> u64 {
    let mut h = x;
    for _ in 0..units {
        h = std::hint::black_box(h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7));
    }
    h
}

#[test]
fn unordered_gives_every_item_once() {
    within(LIMIT, || {
        for workers in [1, 2, 3, 5] {
            let n = scaled(50_000, 300) as u64;
            let finished = Pipeline::from_iter(0..n)
                .parallel(workers, |s| s.map(|x| x * 2))
                .named("double")
                .collect::<Vec<_>>()
                .run()
                .unwrap();
            let mut out = finished.output;
            out.sort_unstable();
            assert_eq!(out, (0..n).map(|x| x * 2).collect::<Vec<_>>());
            let stage = finished.report.stage("double").unwrap();
            assert_eq!(stage.workers(), workers);
            assert_eq!((stage.items_in(), stage.items_out()), (n, n));
        }
    });
}

/// The names of the threads that called the source's `next`, with the items: a source right
/// before a parallel stage, ordered or not, is read by its workers, any other by a thread of
/// its own.
#[test]
fn the_workers_of_a_parallel_stage_read_the_source_themselves() {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};

    within(LIMIT, || {
        let n = scaled(20_000, 200) as u64;
        let readers = |record: &Arc<Mutex<BTreeSet<String>>>| {
            let record = Arc::clone(record);
            (0..n).inspect(move |_| {
                let name = std::thread::current().name().unwrap_or("").to_owned();
                record.lock().unwrap().insert(name);
            })
        };
        let caller = std::thread::current().name().unwrap_or("").to_owned();

        for workers in [Workers::new(2), Workers::new(2).ordered()] {
            let pulled = Arc::new(Mutex::new(BTreeSet::new()));
            let finished = Pipeline::from_iter(readers(&pulled))
                .parallel(workers, |s| s.map(|x| x + 1))
                .named("inc")
                .fold(0u64, |sum, x| sum + x)
                .run()
                .unwrap();
            assert_eq!(finished.output, n * (n + 1) / 2);
            let names = pulled.lock().unwrap().clone();
            // When the two workers fill every core, the sink's thread (`run`'s caller) runs
            // the second worker between its reads (see `reader_runs_a_worker` in
            // tests/help.rs).
            assert!(
                names
                    .iter()
                    .all(|name| name.starts_with("weir-inc-") || *name == caller),
                "{names:?}"
            );
            let report = &finished.report;
            assert_eq!(report.items_in(), n);
            assert_eq!(report.stage("inc").unwrap().items_in(), n);
        }

        // After a serial stage, the source has a thread of its own, which the serial stage's
        // queue takes from.
        for workers in [Workers::new(2), Workers::new(2).ordered()] {
            let fed = Arc::new(Mutex::new(BTreeSet::new()));
            let sum = Pipeline::from_iter(readers(&fed))
                .map(|x| x)
                .parallel(workers, |s| s.map(|x| x + 1))
                .fold(0u64, |sum, x| sum + x)
                .run()
                .unwrap()
                .output;
            assert_eq!(sum, n * (n + 1) / 2);
            let names = fed.lock().unwrap().clone();
            assert_eq!(names, BTreeSet::from(["weir-from_iter".to_owned()]));
        }
    });
}

/// Slow items are shared between the workers instead of going to whichever took the first
/// chunk: a worker sharing its input takes what it works through in a short while.
#[test]
fn slow_items_are_shared_between_the_workers() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    within(LIMIT, || {
        let n = 40u64;
        for shared_queue in [false, true] {
            let by_worker = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
            let record = Arc::clone(&by_worker);
            let pipeline = Pipeline::from_iter(0..n);
            // Read from the source by the workers, or from a queue that a stage fills.
            let pipeline = if shared_queue {
                pipeline.map(|x| x)
            } else {
                pipeline
            };
            pipeline
                .parallel(2, move |s| {
                    let record = Arc::clone(&record);
                    s.inspect(move |_| {
                        std::thread::sleep(Duration::from_millis(2));
                        let name = std::thread::current().name().unwrap_or("").to_owned();
                        *record.lock().unwrap().entry(name).or_default() += 1;
                    })
                })
                .for_each(drop)
                .run()
                .unwrap();
            let counts = by_worker.lock().unwrap().clone();
            assert_eq!(counts.values().sum::<u64>(), n);
            assert_eq!(counts.len(), 2, "one worker took every item: {counts:?}");
            // Not an even split (a busy machine may hold one worker back), but never one
            // worker holding most of them as a chunk.
            assert!(
                counts.values().all(|&c| c >= n / 10),
                "the items were not shared: {counts:?}"
            );
        }
    });
}

#[test]
fn ordered_keeps_the_input_order_with_uneven_work() {
    within(LIMIT, || {
        for (workers, capacity) in [(2, 1024), (3, 7), (4, 1), (2, 33)] {
            let n = scaled(20_000, 200) as u64;
            let out: Vec<u64> = Pipeline::from_iter(0..n)
                .capacity(capacity)
                .parallel(Workers::new(workers).ordered(), |s| {
                    s.map(|x| (x, work(x, x % 7 * 20))).map(|(x, _)| x + 1)
                })
                .collect()
                .run()
                .unwrap()
                .output;
            assert_eq!(
                out,
                (1..=n).collect::<Vec<_>>(),
                "{workers} workers, capacity {capacity}"
            );
        }
    });
}

/// An ordered stage right after `from_iter` whose iterator is slow now and then: its workers
/// take their turns from it themselves, and a slow stretch cuts a chunk (a turn) short, so the
/// turns come in every size. The order holds, each item once, whether or not the sink runs a
/// worker, and with a `filter` inside (a turn's count is of items, not of outputs).
#[test]
fn ordered_workers_reading_an_uneven_source_keep_the_order() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        for workers in [2, 3, 4] {
            let source = (0..n).inspect(|x| {
                if x % 101 == 0 {
                    std::thread::sleep(Duration::from_micros(100));
                }
            });
            let out: Vec<u64> = Pipeline::from_iter(source)
                .capacity(64)
                .parallel(Workers::new(workers).ordered(), |s| {
                    s.map(|x| work(x, x % 5 * 20) % 2 + x * 2)
                        .filter(|x| x % 3 != 0)
                })
                .collect()
                .run()
                .unwrap()
                .output;
            let expected: Vec<u64> = (0..n)
                .map(|x| work(x, x % 5 * 20) % 2 + x * 2)
                .filter(|x| x % 3 != 0)
                .collect();
            assert_eq!(out, expected, "{workers} workers");
        }
    });
}

#[test]
fn ordered_with_filter_and_flat_map_inside() {
    within(LIMIT, || {
        let n = scaled(30_000, 300) as u64;
        let mut rng = Rng::new(7);
        let fan: Vec<u64> = (0..n).map(|_| rng.range(0, 3) as u64).collect();
        let fan_copy = fan.clone();
        let finished = Pipeline::from_iter(0..n)
            .capacity(16)
            .parallel(Workers::new(3).ordered(), move |s| {
                let fan = fan_copy.clone();
                s.filter(|x| x % 11 != 0)
                    .flat_map(move |x| (0..fan[x as usize]).map(move |k| (x, k)))
            })
            .named("fan")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let expected: Vec<(u64, u64)> = (0..n)
            .filter(|x| x % 11 != 0)
            .flat_map(|x| (0..fan[x as usize]).map(move |k| (x, k)))
            .collect();
        assert_eq!(finished.output, expected);
        let stage = finished.report.stage("fan").unwrap();
        assert_eq!(stage.items_in(), n);
        assert_eq!(
            stage.filtered(),
            (0..n).filter(|x| x % 11 == 0).count() as u64
        );
        assert_eq!(stage.items_out(), expected.len() as u64);
    });
}

#[test]
fn parallel_stages_in_a_row_and_serial_stages_between() {
    within(LIMIT, || {
        let n = scaled(20_000, 200) as u64;
        // unordered -> ordered (relay that deals), ordered -> unordered (relay that merges),
        // ordered -> ordered, unordered -> unordered (shared queue).
        let out: Vec<u64> = Pipeline::from_iter(0..n)
            .parallel(2, |s| s.map(|x| x + 1))
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x * 2))
            .parallel(3, |s| s.map(|x| x + 1))
            .parallel(2, |s| s.map(|x| x - 1))
            .map(|x| x / 2)
            .collect()
            .run()
            .unwrap()
            .output;
        let mut sorted = out.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=n).collect::<Vec<_>>());

        let finished = Pipeline::from_iter(0..n)
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x * 3))
            .parallel(Workers::new(3).ordered(), |s| s.filter(|x| x % 2 == 0))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let expected: Vec<u64> = (0..n).map(|x| x * 3).filter(|x| x % 2 == 0).collect();
        assert_eq!(finished.output, expected);
        assert_eq!(finished.report.stages().len(), 2);
        assert_eq!(finished.report.discarded(), 0);
    });
}

#[test]
fn workers_own_their_state() {
    within(LIMIT, || {
        // A closure that is Send but not Sync: each worker builds its own.
        let n = scaled(10_000, 100) as u64;
        let out: u64 = Pipeline::from_iter(0..n)
            .parallel(3, |s| {
                let seen = std::cell::Cell::new(0u64);
                s.map(move |x| {
                    seen.set(seen.get() + 1);
                    x
                })
            })
            .fold(0, |a, x| a + x)
            .run()
            .unwrap()
            .output;
        assert_eq!(out, n * (n - 1) / 2);
    });
}

#[test]
#[should_panic(expected = "at least one worker")]
fn zero_workers_panics() {
    let _ = Workers::new(0);
}
