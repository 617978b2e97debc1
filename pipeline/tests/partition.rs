//! `partition`: equal keys go to the same branch (per-key state without locks, per-key order
//! kept), every item once, and failures stop the run cleanly.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, Pipeline};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn equal_keys_meet_in_one_branch_in_order() {
    within(LIMIT, || {
        let n = scaled(50_000, 300) as u64;
        for branches in [1, 3, 4] {
            let finished = Pipeline::from_iter(0..n)
                .capacity(64)
                .partition(
                    branches,
                    |x: &u64| x % 13,
                    |index, s| {
                        // Per-key state, owned by the branch: a running count per key.
                        let mut counts = HashMap::new();
                        s.map(move |x| {
                            let count = counts.entry(x % 13).or_insert(0u64);
                            *count += 1;
                            (x, index, *count)
                        })
                    },
                )
                .named("by_key")
                .collect::<Vec<_>>()
                .run()
                .unwrap();
            let out = finished.output;
            assert_eq!(out.len() as u64, n);
            let mut home = HashMap::new();
            let mut last = HashMap::new();
            for &(x, branch, count) in &out {
                let key = x % 13;
                // One branch per key...
                assert_eq!(*home.entry(key).or_insert(branch), branch, "key {key}");
                // ...which sees the key's items in order, each once.
                let previous = last.insert(key, (x, count));
                if let Some((px, pcount)) = previous {
                    assert!(x > px && count == pcount + 1, "key {key}: {px} then {x}");
                } else {
                    assert_eq!(count, 1);
                }
            }
            assert_eq!(home.len(), 13);
            let mut xs: Vec<u64> = out.iter().map(|&(x, _, _)| x).collect();
            xs.sort_unstable();
            assert_eq!(xs, (0..n).collect::<Vec<_>>());
            let stage = finished.report.stage("by_key").unwrap();
            assert_eq!((stage.items_in(), stage.items_out()), (n, n));
            assert_eq!(stage.workers(), branches);
            assert_accounts(&finished.report);
        }
    });
}

#[test]
fn a_panic_in_a_branch_or_a_cancel_ends_every_thread() {
    within(LIMIT, || {
        let error = Pipeline::from_iter(0..100_000u64)
            .capacity(8)
            .partition(
                3,
                |x: &u64| *x,
                |_, s| s.inspect(|x| assert!(*x != 500, "branch broke")),
            )
            .named("by_key")
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "by_key");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m == "branch broke"));
        assert_accounts(error.report());

        let running = Pipeline::from_iter(0u64..)
            .capacity(8)
            .partition(2, |x: &u64| x % 2, |_, s| s.map(|x| x))
            .for_each(|_| std::thread::sleep(Duration::from_micros(20)))
            .spawn();
        while running.report().items_out() < 10 {
            std::thread::sleep(Duration::from_millis(1));
        }
        running.cancel();
        let error = running.join().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled));
        assert_accounts(error.report());
    });
}

#[test]
#[should_panic(expected = "weir_pipeline::Pipeline::partition: a partition needs at least one")]
fn zero_branches_panics() {
    let _ = Pipeline::from_iter(0..1u8).partition(0, |x: &u8| *x, |_, s| s);
}

/// A panic in the key closure (run by the router, outside any stage closure) fails the run
/// under the stage's name, even when no chunk fills up; the scaling workers before it, some of
/// them retired, all end (found in review: the router's thread died, the run ended "Ok" with
/// half the items, or hung on a parked worker).
#[test]
fn a_panic_in_the_key_fails_the_run() {
    use weir_pipeline::Workers;

    within(LIMIT, || {
        let slow = |x: u64| {
            if x < 3000 {
                std::thread::sleep(Duration::from_micros(50));
            }
            x
        };
        let key = |k: &u64| {
            assert!(*k != 1000, "key broke");
            *k
        };
        let error = Pipeline::from_iter(0..2_000u64)
            .map(slow)
            .partition(2, key, |_, s| s.map(|x| x))
            .named("by_key")
            .collect::<Vec<_>>()
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "by_key");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m == "key broke"));
        assert_accounts(error.report());

        let error = Pipeline::from_iter(0..100_000u64)
            .map(slow)
            .parallel(Workers::scaling(1, 2), |s| s.map(|x| x))
            .partition(2, key, |_, s| s.map(|x| x))
            .named("by_key")
            .collect::<Vec<_>>()
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "by_key");
        assert_accounts(error.report());
    });
}

/// What a dropping queue before a partition drops is the partition's (found in review: it
/// went to the hidden router and out of the accounts).
#[test]
fn drops_before_a_partition_are_counted() {
    use weir_pipeline::Overflow;

    within(LIMIT, || {
        let finished = Pipeline::from_iter(0..20_000u64)
            .map(|x| x)
            .overflow(Overflow::DropNewest)
            .capacity(4)
            .partition(
                2,
                |k: &u64| *k,
                |_, s| {
                    s.map(|x| {
                        std::thread::sleep(Duration::from_micros(20));
                        x
                    })
                },
            )
            .named("by_key")
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let report = &finished.report;
        let dropped = report.stage("by_key").unwrap().dropped();
        assert!(dropped > 0, "{report}");
        assert_eq!(report.dropped(), dropped);
        assert_eq!(finished.output.len() as u64 + dropped, 20_000);
        assert_accounts(report);
    });
}
