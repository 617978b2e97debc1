//! A cheap serial stage lends itself to the thread that reads its output: a chain of cheap
//! stages runs on the sink's thread, in order, each with its own row in the report; a stage
//! that grows costly goes back to its own thread; and a run that ends while a stage is lent
//! (its input ends, a cancel, a panic, its output dropped) ends every thread, with every item
//! accounted for and dropped once.

#![cfg(not(miri))] // Lending follows the clock (the cost of an item); Miri's is far too slow.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline};
use weir_test_support::{within, Counted, DropLog};

const LIMIT: Duration = Duration::from_secs(60);

/// Sets a flag the first time a closure runs on a given thread; cheap enough that the
/// closure stays far below the cost a stage is lent under.
#[derive(Clone)]
struct SeenOn {
    thread: ThreadId,
    seen: Arc<AtomicBool>,
}

impl SeenOn {
    fn this_thread() -> Self {
        SeenOn {
            thread: std::thread::current().id(),
            seen: Arc::new(AtomicBool::new(false)),
        }
    }

    fn look(&self) {
        if std::thread::current().id() == self.thread {
            self.seen.store(true, Ordering::Relaxed);
        }
    }

    fn seen(&self) -> bool {
        self.seen.load(Ordering::Relaxed)
    }
}

#[test]
fn a_chain_of_cheap_stages_runs_on_the_sinks_thread_in_order() {
    within(LIMIT, || {
        let n = 400_000u64;
        let (first, last) = (SeenOn::this_thread(), SeenOn::this_thread());
        let (f, l) = (first.clone(), last.clone());
        let mut output = Pipeline::from_iter(0..n)
            .map(move |x| {
                f.look();
                x * 3
            })
            .named("first")
            .filter(|x| x % 2 == 0)
            .map(move |x| {
                l.look();
                x / 2
            })
            .named("last")
            .into_iter();
        let mut expected = (0..n).map(|x| x * 3).filter(|x| x % 2 == 0).map(|x| x / 2);
        let mut count = 0;
        for item in output.by_ref() {
            assert_eq!(Some(item), expected.next(), "item {count} out of order");
            count += 1;
        }
        assert_eq!(expected.next(), None);
        let report = output.finish().unwrap();
        assert!(
            first.seen() && last.seen(),
            "no stage ran on the sink's thread\n{report}"
        );
        assert_accounts(&report);
        assert_eq!(report.items_out(), count);
        let filter = report.stage("filter").unwrap();
        assert_eq!((filter.items_in(), filter.filtered()), (n, n / 2));
        assert_eq!(report.stage("last").unwrap().items_out(), n / 2);
    });
}

#[test]
fn a_stage_that_grows_costly_goes_back_to_its_thread() {
    within(LIMIT, || {
        // Cheap for the first items, then 20 µs an item: lent, then given back.
        let n = 60_000u64;
        let costly_from = 50_000;
        let sink = SeenOn::this_thread();
        let (on_sink, late_on_sink) = (sink.clone(), SeenOn::this_thread());
        let late = late_on_sink.clone();
        let out: Vec<u64> = Pipeline::from_iter(0..n)
            .map(move |x| {
                if x < costly_from {
                    on_sink.look();
                } else {
                    let until = std::time::Instant::now() + Duration::from_micros(20);
                    while std::time::Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    if x >= n - 100 {
                        late.look();
                    }
                }
                x
            })
            .named("grows")
            .map(|x| x + 1)
            .collect::<Vec<_>>()
            .run()
            .map(|finished| {
                assert_accounts(&finished.report);
                finished.output
            })
            .unwrap();
        assert_eq!(out, (1..=n).collect::<Vec<_>>());
        assert!(sink.seen(), "the cheap stage was never lent");
        assert!(
            !late_on_sink.seen(),
            "the costly stage still ran on the sink's thread at the end"
        );
    });
}

#[test]
fn a_cancel_while_stages_are_lent_ends_every_thread() {
    within(LIMIT, || {
        let running = Pipeline::from_iter(0u64..)
            .map(|x| x + 1)
            .filter(|x| x % 3 != 0)
            .map(|x| x * 2)
            .fold(0u64, |sum, x| sum.wrapping_add(x))
            .spawn();
        while running.report().items_out() < 1_000_000 {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled), "{error}");
        assert_accounts(error.report());
    });
}

#[test]
fn dropping_the_output_while_stages_are_lent_ends_the_run() {
    within(LIMIT, || {
        let mut output = Pipeline::from_iter(0u64..)
            .map(|x| x + 1)
            .map(|x| x * 2)
            .into_iter();
        for (index, item) in output.by_ref().take(1_000_000).enumerate() {
            assert_eq!(item, (index as u64 + 1) * 2);
        }
        drop(output);
    });
}

#[test]
fn a_panic_in_a_lent_stage_fails_the_run_and_drops_every_item_once() {
    within(LIMIT, || {
        let n = 300_000;
        let log = DropLog::new(n);
        let items: Vec<Counted> = (0..n).map(|id| Counted::new(&log, id)).collect();
        let reached = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&reached);
        let error = Pipeline::from_iter(items)
            .map(|item| item)
            .map(move |item: Counted| {
                seen.fetch_add(1, Ordering::Relaxed);
                assert!(item.id != n - 1_000, "stop here");
                item
            })
            .named("bomb")
            .filter(|item| !item.id.is_multiple_of(5))
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "bomb");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m.contains("stop here")));
        assert_accounts(error.report());
        assert!(reached.load(Ordering::Relaxed) > n as u64 / 2);
        log.assert_dropped_exactly(0..n);
    });
}

#[test]
fn every_item_is_dropped_once_when_a_cancel_meets_lent_stages() {
    within(LIMIT, || {
        let n = 500_000;
        let log = DropLog::new(n);
        let items: Vec<Counted> = (0..n).map(|id| Counted::new(&log, id)).collect();
        let running = Pipeline::from_iter(items)
            .capacity(64)
            .map(|item| item)
            .filter(|item: &Counted| !item.id.is_multiple_of(7))
            .inspect(|_| {})
            .for_each(drop)
            .spawn();
        while running.report().items_out() < 100_000 {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.cancel();
        let report = match running.join() {
            Ok(finished) => finished.report,
            Err(error) => error.report().clone(),
        };
        assert_accounts(&report);
        log.assert_dropped_exactly(0..n);
    });
}
