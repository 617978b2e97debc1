//! `Running::pause` and `resume`: a paused source takes nothing more, a resumed one goes on
//! where it stopped, and a cancel ends a paused run.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline, Workers};
use weir_test_support::within;

const LIMIT: Duration = Duration::from_secs(30);

/// Waits until the source has taken at least `items` items.
fn wait_for_items<R>(running: &weir_pipeline::Running<R>, items: u64) {
    while running.report().items_in() < items {
        sleep(Duration::from_millis(1));
    }
}

/// Waits until the source's count stays put for a while, and gives it.
fn settled<R>(running: &weir_pipeline::Running<R>) -> u64 {
    let mut last = running.report().items_in();
    loop {
        sleep(Duration::from_millis(20));
        let now = running.report().items_in();
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn a_paused_source_takes_nothing_until_resumed() {
    within(LIMIT, || {
        // A source on its own thread, a serial stage, and a source read by parallel workers.
        for parallel in [false, true] {
            let seen = Arc::new(AtomicU64::new(0));
            let counter = Arc::clone(&seen);
            let pipeline = Pipeline::from_iter(0u64..).capacity(64);
            let pipeline = if parallel {
                pipeline.parallel(2, |s| s.map(|x| x + 1))
            } else {
                pipeline.map(|x| x + 1)
            };
            let running = pipeline
                .for_each(move |_| {
                    counter.fetch_add(1, Ordering::Relaxed);
                })
                .spawn();
            wait_for_items(&running, 1);
            running.pause();
            assert!(running.is_paused());
            let held = settled(&running);
            sleep(Duration::from_millis(50));
            assert_eq!(
                running.report().items_in(),
                held,
                "the source went on while paused"
            );
            running.resume();
            assert!(!running.is_paused());
            wait_for_items(&running, held + 1);
            running.cancel();
            let error = running.join().unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Cancelled));
            assert_accounts(error.report());
            assert_eq!(error.report().items_out(), seen.load(Ordering::Relaxed));
        }
    });
}

#[test]
fn a_cancel_ends_a_paused_run() {
    within(LIMIT, || {
        for workers in [Workers::new(2), Workers::new(2).ordered()] {
            let running = Pipeline::from_iter(0u64..)
                .parallel(workers, |s| s.map(|x| x))
                .for_each(drop)
                .spawn();
            running.pause();
            sleep(Duration::from_millis(10));
            running.cancel();
            let error = running.join().unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Cancelled));
            assert_accounts(error.report());
        }
    });
}

#[test]
fn a_paused_input_holds_its_senders_back() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(4);
        let running = pipeline
            .capacity(4)
            .map(|x| x)
            .fold(0, |a, x| a + x)
            .spawn();
        running.pause();
        sleep(Duration::from_millis(20));
        // The source takes nothing while paused: the input's queue fills and stays full.
        let mut sent = 0;
        while input.try_send(sent).is_ok() {
            sent += 1;
        }
        assert!(sent >= 4, "{sent}");
        assert_eq!(input.len(), input.capacity());
        running.resume();
        for x in sent..sent + 100 {
            input.send(x).unwrap();
        }
        drop(input);
        let total: u64 = (0..sent + 100).sum();
        assert_eq!(running.join().unwrap().output, total);
    });
}

#[test]
fn pausing_a_finished_run_does_nothing() {
    let running = Pipeline::from_iter(0..10u64).fold(0, |a, x| a + x).spawn();
    while !running.is_finished() {
        sleep(Duration::from_millis(1));
    }
    running.pause();
    running.resume();
    running.pause();
    assert_eq!(running.join().unwrap().output, 45);
}
