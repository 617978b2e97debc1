//! Cancel and early drop: every thread ends promptly, wherever it waits, and the counts add up.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline, Workers};
use weir_test_support::{within, Counted, DropLog};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn cancel_an_endless_pipeline_with_a_slow_sink() {
    within(LIMIT, || {
        for workers in [Workers::new(2), Workers::new(3).ordered()] {
            let running = Pipeline::from_iter(0u64..)
                .capacity(16)
                .map(|x| x + 1)
                .parallel(workers, |s| s.map(|x| x * 2))
                .for_each(|_| std::thread::sleep(Duration::from_micros(50)))
                .spawn();
            // The live report shows the run going (however slowly the machine starts it).
            while running.report().items_in() == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(!running.is_finished());
            running.cancel();
            let error = running.join().unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
            assert_eq!(error.stage(), "pipeline");
            assert_accounts(error.report());
            assert!(error.report().discarded() > 0);
        }
    });
}

#[test]
fn cancel_an_endless_source_read_by_parallel_workers() {
    within(LIMIT, || {
        // Unordered; ordered, whose workers log their turns (`0..u64::MAX` knows its length,
        // so the sink's thread may run a worker ahead, where `0u64..` does not).
        let shapes: [(Workers, bool); 3] = [
            (Workers::new(2), false),
            (Workers::new(2).ordered(), false),
            (Workers::new(2).ordered(), true),
        ];
        for (workers, exact) in shapes {
            let source: Box<dyn Iterator<Item = u64> + Send> = if exact {
                Box::new(0..u64::MAX)
            } else {
                Box::new(0u64..)
            };
            let running = Pipeline::from_iter(source)
                .capacity(16)
                .parallel(workers, |s| s.map(|x| x * 2))
                .for_each(|_| std::thread::sleep(Duration::from_micros(50)))
                .spawn();
            while running.report().items_in() == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            running.cancel();
            let error = running.join().unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
            assert_accounts(error.report());
        }
    });
}

/// Dropping the output of an ordered stage whose workers read the source (and whose reader
/// runs one of them ahead) ends every thread, with the accounts kept.
#[test]
fn dropping_the_output_of_an_ordered_stage_that_reads_the_source_ends_the_run() {
    within(LIMIT, || {
        let mut output = Pipeline::from_iter(0..u64::MAX)
            .capacity(16)
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x + 1))
            .into_iter();
        let first: Vec<u64> = output.by_ref().take(1000).collect();
        assert_eq!(first, (1..=1000).collect::<Vec<_>>());
        let error = output.finish().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
        assert_accounts(error.report());
    });
}

#[test]
fn cancel_while_every_thread_waits_for_input() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(8);
        let running = pipeline
            .map(|x| x)
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x))
            .fold(0, |a, x| a + x)
            .spawn();
        input.send(5).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());
        // The pipeline is gone: the item comes back.
        assert_eq!(input.send(6).unwrap_err().0, 6);
    });
}

#[test]
fn cancel_while_stages_wait_on_full_queues() {
    within(LIMIT, || {
        // The last stage is slow; everything before it fills up and waits.
        let running = Pipeline::from_iter(0u64..)
            .capacity(1)
            .map(|x| x)
            .map(|x| x)
            .parallel(2, |s| s.map(|x| x))
            .map(|x| {
                std::thread::sleep(Duration::from_millis(1));
                x
            })
            .for_each(drop)
            .spawn();
        std::thread::sleep(Duration::from_millis(50));
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());
    });
}

#[test]
fn dropping_output_or_running_early_ends_the_run() {
    within(LIMIT, || {
        let mut output = Pipeline::from_iter(0u64..)
            .map(|x| x * 2)
            .parallel(2, |s| s.map(|x| x))
            .into_iter();
        assert!(output.by_ref().take(1000).count() == 1000);
        drop(output);

        let output = Pipeline::from_iter(0u64..).map(|x| x).into_iter();
        let error = output.finish().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());

        let seen = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&seen);
        let running = Pipeline::from_iter(0u64..)
            .map(|x| x)
            .for_each(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .spawn();
        std::thread::sleep(Duration::from_millis(10));
        drop(running);
        let after = seen.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(seen.load(Ordering::Relaxed), after, "the threads are gone");
    });
}

#[test]
fn each_item_is_dropped_once_whatever_ends_the_run() {
    within(LIMIT, || {
        let n = 20_000;
        // Cancelled with items everywhere.
        let log = DropLog::new(n);
        let items: Vec<Counted> = (0..n).map(|id| Counted::new(&log, id)).collect();
        let running = Pipeline::from_iter(items)
            .capacity(32)
            .map(|item| item)
            .parallel(Workers::new(2).ordered(), |s| {
                s.filter(|item: &Counted| !item.id.is_multiple_of(7))
            })
            .parallel(2, |s| s.inspect(|_| {}))
            .for_each(|_| std::thread::sleep(Duration::from_micros(20)))
            .spawn();
        std::thread::sleep(Duration::from_millis(20));
        running.cancel();
        let error = running.join().unwrap_err();
        assert_accounts(error.report());
        // The source's iterator still held the items it had not yielded; they go with it.
        log.assert_dropped_exactly(0..n);

        // Failed in the middle.
        let log = DropLog::new(n);
        let items: Vec<Counted> = (0..n).map(|id| Counted::new(&log, id)).collect();
        let error = Pipeline::from_iter(items)
            .map(move |item| {
                assert!(item.id != n / 2, "stop here");
                item
            })
            .collect::<Vec<_>>()
            .run()
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Panicked(_)));
        log.assert_dropped_exactly(0..n);

        // Finished: every item reaches the sink once.
        let log = DropLog::new(n);
        let items: Vec<Counted> = (0..n).map(|id| Counted::new(&log, id)).collect();
        let out = Pipeline::from_iter(items)
            .parallel(3, |s| s.map(|item| item))
            .collect::<Vec<_>>()
            .run()
            .unwrap()
            .output;
        assert_eq!(log.total(), 0);
        drop(out);
        log.assert_dropped_exactly(0..n);
    });
}
