//! The thread that reads an unordered parallel stage's output runs the stage's last worker
//! when the workers fill every core: every item once, nothing left waiting behind a source
//! that may wait, and the worker's failures, retirement and figures as a thread's.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline, Workers};
use weir_test_support::{every_core, scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

fn this_thread() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

/// The names of the threads that ran something, shared with the closures that record them.
#[derive(Clone, Default)]
struct RanOn(Arc<Mutex<BTreeSet<String>>>);

impl RanOn {
    fn record(&self) {
        self.0.lock().unwrap().insert(this_thread());
    }

    /// Whether the thread calling this (the reader of `run`) is among them.
    fn includes_this_thread(&self) -> bool {
        self.0.lock().unwrap().contains(&this_thread())
    }

    fn names(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The two shapes in which the reader runs a worker: unordered and ordered.
fn both_shapes() -> [Workers; 2] {
    [
        Workers::new(every_core()),
        Workers::new(every_core()).ordered(),
    ]
}

/// Slow enough that the reader, which has nothing else to do, takes chunks of its own.
fn work(x: u64) -> u64 {
    let mut h = x;
    for _ in 0..200 {
        h = std::hint::black_box(h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7));
    }
    h
}

#[test]
fn the_reader_runs_a_worker_and_every_item_comes_out_once() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        let ran_on = RanOn::default();
        let record = ran_on.clone();
        let finished = Pipeline::from_iter(0..n)
            .parallel(every_core(), move |s| {
                let record = record.clone();
                s.map(move |x| {
                    record.record();
                    work(x);
                    x
                })
            })
            .named("work")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        assert_eq!(out, (0..n).collect::<Vec<_>>());
        assert!(ran_on.includes_this_thread(), "{:?}", ran_on.names());
        let stage = finished.report.stage("work").unwrap();
        assert_eq!(stage.workers(), every_core());
        assert_eq!((stage.items_in(), stage.items_out()), (n, n));
        assert_accounts(&finished.report);
    });
}

/// A source that may wait for its items (an iterator with no upper bound to its length, such
/// as a channel's receiver) is read by the worker threads only: the reader, waiting in it,
/// would hold back what the other workers made.
#[test]
fn a_source_that_may_wait_is_read_by_the_worker_threads_only() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        let readers = RanOn::default();
        let record = readers.clone();
        // `from_fn` gives no bound: for all the pipeline knows, its `next` may wait.
        let mut next = 0;
        let source = std::iter::from_fn(move || {
            record.record();
            next += 1;
            (next <= n).then_some(next)
        });
        let finished = Pipeline::from_iter(source)
            .parallel(every_core(), |s| s.map(work))
            .fold(0u64, |count, _| count + 1)
            .run()
            .unwrap();
        assert_eq!(finished.output, n);
        assert!(!readers.includes_this_thread(), "{:?}", readers.names());
        assert_accounts(&finished.report);
    });
}

/// The same behind a serial stage: the reader's worker takes only what is queued.
#[test]
fn outputs_do_not_wait_behind_an_empty_queue() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(16);
        let mut output = pipeline
            .map(|x| x + 1)
            .parallel(every_core(), |s| s.map(|x| x * 10))
            .into_iter();
        for i in 1..=20 {
            input.send(i).unwrap();
            assert_eq!(output.next(), Some((i + 1) * 10));
        }
        drop(input);
        assert_eq!(output.next(), None);
        assert_accounts(&output.finish().unwrap());
    });
}

#[test]
fn the_readers_worker_retires_and_comes_back() {
    within(LIMIT, || {
        let n = scaled(40_000, 400) as u64;
        let cores = every_core();
        let seen = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&seen);
        let running = Pipeline::from_iter(0..n)
            .parallel(cores, |s| s.map(work))
            .named("work")
            .for_each(move |_| {
                counted.fetch_add(1, Ordering::Relaxed);
            })
            .spawn();
        running.set_workers("work", 1).unwrap();
        while seen.load(Ordering::Relaxed) < n / 2 && !running.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.set_workers("work", cores).unwrap();
        let finished = running.join().unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), n);
        assert_eq!(finished.report.stage("work").unwrap().items_out(), n);
        assert_accounts(&finished.report);
    });
}

#[test]
fn the_readers_worker_keeps_max_in_flight() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        let taken = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let (t, d, m) = (Arc::clone(&taken), Arc::clone(&done), Arc::clone(&most));
        let source = (0..n).inspect(move |_| {
            let in_flight = t.fetch_add(1, Ordering::SeqCst) + 1 - d.load(Ordering::SeqCst);
            m.fetch_max(in_flight, Ordering::SeqCst);
        });
        let finished = Pipeline::from_iter(source)
            .max_in_flight(1)
            .parallel(every_core(), |s| s.map(work))
            .for_each(move |_| {
                done.fetch_add(1, Ordering::SeqCst);
            })
            .run()
            .unwrap();
        assert_eq!(finished.report.items_out(), n);
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 1, "{most} items in flight, 1 allowed");
        assert_accounts(&finished.report);
    });
}

/// An ordered stage's reader runs the last worker when that worker's turn comes and none of
/// its outputs is ready: the order holds, with items filtered out among them.
#[test]
fn an_ordered_stage_keeps_order_with_the_readers_worker() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        let ran_on = RanOn::default();
        let record = ran_on.clone();
        let out = Pipeline::from_iter(0..n)
            .capacity(64)
            .parallel(Workers::new(every_core()).ordered(), move |s| {
                let record = record.clone();
                s.filter_map(move |x| {
                    record.record();
                    work(x);
                    (x % 7 != 3).then_some(x)
                })
            })
            .named("work")
            .collect::<Vec<_>>()
            .run()
            .unwrap()
            .output;
        assert_eq!(out, (0..n).filter(|x| x % 7 != 3).collect::<Vec<_>>());
        assert!(ran_on.includes_this_thread(), "{:?}", ran_on.names());
    });
}

/// A `flat_map` may make any number of outputs from one item: a worker thread hands them on
/// as it goes, held back by the next queue, where the reader would keep a whole chunk's. So
/// the reader runs no worker of such a stage, ordered or not.
#[test]
fn the_reader_runs_no_worker_of_a_flat_map() {
    within(LIMIT, || {
        let n = scaled(5_000, 200) as u64;
        for workers in both_shapes() {
            let reader = this_thread();
            let mut out = Pipeline::from_iter(0..n)
                .capacity(16)
                .parallel(workers, move |s| {
                    let reader = reader.clone();
                    s.flat_map(move |x| {
                        assert!(this_thread() != reader, "{workers:?} ran on the reader");
                        // Every 500th item makes 300 outputs, more than the queues hold.
                        (0..if x % 500 == 0 { 300 } else { 1 }).map(move |k| (x, k))
                    })
                })
                .collect::<Vec<_>>()
                .run()
                .unwrap()
                .output;
            out.sort_unstable();
            let expected: Vec<(u64, u64)> = (0..n)
                .flat_map(|x| (0..if x % 500 == 0 { 300 } else { 1 }).map(move |k| (x, k)))
                .collect();
            assert_eq!(out, expected, "{workers:?}");
        }
    });
}

/// The reader hands on no more than its own reader asks for at once: a `fork_join` right
/// after the stage copies what it takes into a branch queue of 16.
#[test]
fn the_readers_worker_hands_on_no_more_than_is_asked() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        let finished = Pipeline::from_iter(0..n)
            .capacity(16)
            .parallel(every_core(), |s| s.map(|x| x + 1))
            .fork_join(|s| s.map(|x| x * 2), |s| s.map(|x| x * 3))
            .fold(0u64, |sum, (a, b)| sum + a + b)
            .run()
            .unwrap();
        assert_eq!(finished.output, 5 * n * (n + 1) / 2);
        assert_accounts(&finished.report);
    });
}

/// A `batch_timeout` after the stage gets its partial batch on time even while the reader's
/// worker runs chunks that all filter out.
#[test]
fn a_deadline_passes_while_the_readers_worker_filters_everything() {
    within(LIMIT, || {
        let mut output = Pipeline::from_iter(0..u64::MAX)
            .parallel(every_core(), |s| s.filter(|&x| x == 0))
            .batch_timeout(100, Duration::from_millis(10))
            .into_iter();
        let first = output.next().expect("the partial batch");
        assert_eq!(&*first, &[0]);
        // The source goes on for ever: dropping the output cancels the run.
        drop(first);
        drop(output);
    });
}

#[test]
fn an_ordered_reader_waiting_for_its_workers_input_stops_cleanly() {
    within(LIMIT, || {
        for workers in both_shapes() {
            let (input, pipeline) = Pipeline::input::<u64>(8);
            let seen = Arc::new(AtomicU64::new(0));
            let sink = Arc::clone(&seen);
            let running = pipeline
                .parallel(workers, |s| s.map(|x| x * 2))
                .for_each(move |_| {
                    sink.fetch_add(1, Ordering::SeqCst);
                })
                .spawn();
            input.send(1).unwrap();
            while seen.load(Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            // Nothing more comes: the sink's thread waits (on its worker's input, or on the
            // queue) until the cancel reaches it.
            running.cancel();
            let error = running.join().expect_err("cancelled");
            assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
            assert!(input.send(2).is_err());
        }
        let (input, pipeline) = Pipeline::input::<u64>(8);
        let mut output = pipeline
            .parallel(Workers::new(every_core()).ordered(), |s| s.map(|x| x + 1))
            .into_iter();
        for x in 0..100 {
            input.send(x).unwrap();
            assert_eq!(output.next(), Some(x + 1));
        }
        drop(input);
        assert_eq!(output.next(), None);
        assert_accounts(&output.finish().unwrap());
    });
}

/// A scaling stage's last worker, the reader's, retires first and comes back with the load;
/// it never makes the reader wait for its turn.
#[test]
fn a_scaling_stage_gives_every_item_once() {
    within(LIMIT, || {
        let n = scaled(40_000, 300) as u64;
        let finished = Pipeline::from_iter(0..n)
            .parallel(Workers::scaling(1, every_core()), |s| s.map(work))
            .named("work")
            .fold(0u64, |count, _| count + 1)
            .run()
            .unwrap();
        assert_eq!(finished.output, n);
        assert_eq!(finished.report.stage("work").unwrap().items_out(), n);
        assert_accounts(&finished.report);
    });
}

/// An iterator with no upper bound to its length may wait in `next` (a channel's receiver):
/// the source hands on each item it has before it waits for the next one, whether a thread of its
/// own reads it or the workers of a parallel stage do. A request and its answer, one at a time.
#[test]
fn an_item_does_not_wait_for_the_next_one_from_a_source_that_waits() {
    within(LIMIT, || {
        for shape in 0..3 {
            let (feed, items) = std::sync::mpsc::channel::<u64>();
            let pipeline = Pipeline::from_iter(items);
            let pipeline = match shape {
                0 => pipeline.map(|x| x * 10),
                1 => pipeline.parallel(every_core(), |s| s.map(|x| x * 10)),
                _ => pipeline.parallel(Workers::new(every_core()).ordered(), |s| s.map(|x| x * 10)),
            };
            let mut output = pipeline.into_iter();
            for i in 1..=50 {
                feed.send(i).unwrap();
                // The channel stays open: the source's `next` waits for the next item.
                assert_eq!(output.next(), Some(i * 10), "shape {shape}");
            }
            drop(feed);
            assert_eq!(output.next(), None);
            assert_accounts(&output.finish().unwrap());
        }
    });
}

/// A panic, or an error under `FailFast`, in the closure of the worker that the reader runs
/// fails the run naming the stage, ends every thread, and the report accounts for every item.
#[test]
fn a_failure_on_the_readers_worker_fails_the_run_and_accounts() {
    within(LIMIT, || {
        let n = scaled(20_000, 300) as u64;
        for workers in both_shapes() {
            for panics in [true, false] {
                let reader = this_thread();
                let result = Pipeline::from_iter(0..n)
                    .parallel(workers, move |s| {
                        let reader = reader.clone();
                        s.try_map(move |x| {
                            let on_reader = this_thread() == reader;
                            assert!(!(panics && on_reader), "boom on the reader");
                            if on_reader {
                                return Err(std::io::Error::other("failed on the reader"));
                            }
                            Ok(work(x))
                        })
                    })
                    .named("work")
                    .fold(0u64, |sum, x| sum.wrapping_add(x))
                    .run();
                let error = result.expect_err("the reader's worker fails");
                assert_eq!(error.stage(), "work", "{workers:?}");
                match (panics, error.kind()) {
                    (true, ErrorKind::Panicked(message)) => assert!(message.contains("boom")),
                    (false, ErrorKind::Failed(error)) => {
                        assert!(error.to_string().contains("on the reader"));
                    }
                    (_, other) => panic!("{workers:?}, panics {panics}: {other:?}"),
                }
                assert_accounts(error.report());
            }
        }
    });
}

/// Every way to stop a run early while the reader runs a worker ends every thread (a thread
/// left blocked would hang the drop, or the join), and the report accounts for every item:
/// dropping the `Output` mid-stream, dropping a `Running`, and `cancel` then `join`.
#[test]
fn stopping_early_with_the_readers_worker_leaves_no_thread_blocked() {
    within(LIMIT, || {
        let n = scaled(200_000, 2_000) as u64;
        for workers in both_shapes() {
            // The Output's reader is this thread: it drops the iterator with a chunk of its
            // worker's outputs kept and the workers blocked on full queues.
            let mut output = Pipeline::from_iter(0..n)
                .capacity(8)
                .parallel(workers, |s| s.map(work))
                .into_iter();
            for _ in 0..100 {
                assert!(output.next().is_some(), "{workers:?}");
            }
            drop(output);

            // The sink's thread runs the worker; nobody joins before the drop.
            let running = Pipeline::from_iter(0..n)
                .capacity(8)
                .parallel(workers, |s| s.map(work))
                .for_each(|_| std::thread::sleep(Duration::from_micros(10)))
                .spawn();
            std::thread::sleep(Duration::from_millis(5));
            drop(running);

            let running = Pipeline::from_iter(0..n)
                .capacity(8)
                .parallel(workers, |s| s.map(work))
                .named("work")
                .for_each(|_| std::thread::sleep(Duration::from_micros(10)))
                .spawn();
            std::thread::sleep(Duration::from_millis(5));
            running.cancel();
            let error = running.join().expect_err("cancelled");
            assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
            assert_accounts(error.report());
        }
    });
}
