//! Failures: `try_map` errors under both policies, panics anywhere, and the accounting that
//! holds whatever happened.

mod common;

use std::fmt;
use std::time::Duration;

use common::assert_accounts;
use weir_pipeline::{ErrorKind, OnError, Pipeline, Workers};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, PartialEq)]
struct Bad(u64);

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad item {}", self.0)
    }
}

impl std::error::Error for Bad {}

fn check(x: u64) -> Result<u64, Bad> {
    if x % 1000 == 999 {
        Err(Bad(x))
    } else {
        Ok(x)
    }
}

#[test]
fn fail_fast_stops_at_the_first_error_and_names_the_stage() {
    within(LIMIT, || {
        let n = scaled(1_000_000, 3_000) as u64;
        let error = Pipeline::from_iter(0..n)
            .map(|x| x)
            .try_map(check)
            .named("check")
            .filter(|x| x % 2 == 0)
            .fold(0u64, |a, x| a + x)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "check");
        match error.kind() {
            ErrorKind::Failed(inner) => assert_eq!(inner.to_string(), "bad item 999"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "pipeline stage `check` failed: bad item 999"
        );
        assert!(std::error::Error::source(&error).is_some());
        let report = error.report();
        assert_eq!(report.stage("check").unwrap().failed(), 1);
        assert!(report.items_in() < n, "the source stopped early");
        assert_accounts(report);
        match error.into_kind() {
            ErrorKind::Failed(inner) => assert_eq!(inner.downcast_ref::<Bad>(), Some(&Bad(999))),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn fail_fast_in_a_parallel_stage() {
    within(LIMIT, || {
        let n = scaled(200_000, 3_000) as u64;
        for workers in [Workers::new(3), Workers::new(2).ordered()] {
            let error = Pipeline::from_iter(0..n)
                .capacity(64)
                .parallel(workers, |s| s.try_map(check))
                .named("check")
                .for_each(drop)
                .run()
                .unwrap_err();
            assert_eq!(error.stage(), "check");
            assert!(matches!(error.kind(), ErrorKind::Failed(_)));
            assert!(error.report().stage("check").unwrap().failed() >= 1);
            assert_accounts(error.report());
        }
    });
}

#[test]
fn skip_counts_errors_and_goes_on() {
    within(LIMIT, || {
        let n = scaled(100_000, 3_000) as u64;
        for workers in [Workers::new(2), Workers::new(2).ordered()] {
            let finished = Pipeline::from_iter(0..n)
                .on_error(OnError::Skip)
                .try_map(check)
                .named("serial")
                .parallel(workers, |s| s.try_map(|x| check(x + 1)))
                .named("parallel")
                .collect::<Vec<_>>()
                .run()
                .unwrap();
            let mut out = finished.output;
            out.sort_unstable();
            let expected: Vec<u64> = (0..n)
                .filter(|x| check(*x).is_ok() && check(x + 1).is_ok())
                .map(|x| x + 1)
                .collect();
            assert!(
                out == expected,
                "{} items out, {} expected",
                out.len(),
                expected.len()
            );
            let report = &finished.report;
            assert_eq!(report.stage("serial").unwrap().failed(), n / 1000);
            assert_eq!(report.stage("parallel").unwrap().failed(), n / 1000);
            assert_eq!(report.errors().len(), 8, "the first few errors are kept");
            assert!(
                report.errors()[0].contains("bad item"),
                "{:?}",
                report.errors()
            );
            assert_accounts(report);
        }
    });
}

#[test]
fn a_panic_anywhere_fails_the_run_without_hanging() {
    within(LIMIT, || {
        let n = scaled(100_000, 2_000) as u64;
        let boom = move |x: u64| {
            if x == n / 2 {
                panic!("boom at {x}");
            }
            x
        };
        let serial = Pipeline::from_iter(0..n)
            .map(boom)
            .named("boom")
            .for_each(drop)
            .run()
            .unwrap_err();
        let parallel = Pipeline::from_iter(0..n)
            .parallel(2, move |s| s.map(boom))
            .named("boom")
            .for_each(drop)
            .run()
            .unwrap_err();
        let ordered = Pipeline::from_iter(0..n)
            .parallel(Workers::new(2).ordered(), move |s| s.map(boom))
            .named("boom")
            .for_each(drop)
            .run()
            .unwrap_err();
        for error in [serial, parallel, ordered] {
            assert_eq!(error.stage(), "boom");
            match error.kind() {
                ErrorKind::Panicked(message) => assert_eq!(message, &format!("boom at {}", n / 2)),
                other => panic!("unexpected {other:?}"),
            }
            assert_eq!(error.report().stage("boom").unwrap().failed(), 1);
            assert_accounts(error.report());
        }
        // Under OnError::Skip too: a panic is not an error to skip.
        let skipped = Pipeline::from_iter(0..n)
            .on_error(OnError::Skip)
            .map(boom)
            .for_each(drop)
            .run()
            .unwrap_err();
        assert!(matches!(skipped.kind(), ErrorKind::Panicked(_)));
    });
}

#[test]
fn a_panic_in_the_source_or_the_sink() {
    within(LIMIT, || {
        let source = (0..1000u64).map(|x| if x == 500 { panic!("source broke") } else { x });
        let error = Pipeline::from_iter(source)
            .map(|x| x)
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "from_iter");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m == "source broke"));
        assert_accounts(error.report());

        // Read by the workers of a parallel stage: the same error, every worker ends.
        let source = (0..100_000u64).map(|x| if x == 5000 { panic!("source broke") } else { x });
        let error = Pipeline::from_iter(source)
            .parallel(3, |s| s.map(|x| x))
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "from_iter");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m == "source broke"));
        assert_accounts(error.report());
        assert!(error.report().items_in() >= 5000, "{}", error.report());

        let error = Pipeline::from_iter(0..100_000u64)
            .map(|x| x)
            .for_each(|x| assert!(x < 10, "sink broke"))
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "for_each");
        assert!(matches!(error.kind(), ErrorKind::Panicked(m) if m == "sink broke"));
        assert_accounts(error.report());

        let error = Pipeline::from_iter(0..100_000u64)
            .fold(
                0u64,
                |a, x| if x == 77 { panic!("fold broke") } else { a + x },
            )
            .spawn()
            .join()
            .unwrap_err();
        assert_eq!(error.stage(), "fold");
    });
}

#[test]
fn a_failed_run_does_not_poison_the_next() {
    within(LIMIT, || {
        for round in 0..scaled(20, 2) as u64 {
            let result = Pipeline::from_iter(0..2_000u64)
                .capacity(4)
                .parallel(2, move |s| {
                    s.try_map(move |x| if x == round * 50 { Err(Bad(x)) } else { Ok(x) })
                })
                .fold(0u64, |a, x| a + x)
                .run();
            assert!(result.is_err());
            let ok = Pipeline::from_iter(0..2_000u64)
                .parallel(2, |s| s.map(|x| x))
                .fold(0u64, |a, x| a + x)
                .run()
                .unwrap();
            assert_eq!(ok.output, 1999 * 1000);
        }
    });
}
