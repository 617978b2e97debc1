//! weir pipelines between two streams: what a failing sink leaves pending, and workers that
//! share a group.

mod common;

use std::time::Duration;

use common::{fill, length, number, payload, pending, source};
use weir_pipeline::ErrorKind;
use weir_redis::StreamSink;
use weir_test_support::RedisServer;

/// Why the test's sink failed.
#[derive(Debug)]
enum SinkError {
    Refused(u64),
    Redis(weir_redis::Error),
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkError::Refused(n) => write!(f, "the sink refused item {n}"),
            SinkError::Redis(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SinkError {}

/// The numbers written to `stream`, sorted.
fn written(server: &RedisServer, stream: &str) -> Vec<u64> {
    let mut numbers: Vec<u64> = common::stored(server, stream)
        .iter()
        .map(|(_, fields)| number(&fields[0].1))
        .collect();
    numbers.sort_unstable();
    numbers
}

/// One worker's run: entries of `in` doubled into `out` in batches of 10, failing at the
/// batch that holds `poison`.
fn run_worker(
    server: &RedisServer,
    name: &str,
    poison: Option<u64>,
) -> Result<(), weir_pipeline::PipelineError> {
    let source = source(server, "in", name).count(10).connect().unwrap();
    let group = source.group().clone();
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    source
        .into_pipeline()
        .capacity(16)
        .try_map(|entry| entry)
        .parallel(2, |s| {
            s.map(|entry| (entry.id.clone(), number(&entry.payload)))
        })
        .batch_timeout(10, Duration::from_millis(5))
        .try_map(move |batch| {
            if let Some(&(_, n)) = batch.iter().find(|(_, n)| Some(*n) == poison) {
                return Err(SinkError::Refused(n));
            }
            let results = batch.iter().map(|&(_, n)| payload(n));
            sink.append_and_ack(results, &group, batch.iter().map(|(id, _)| id))
                .map_err(SinkError::Redis)
        })
        .for_each(drop)
        .run()
        .map(drop)
}

#[test]
fn a_failing_sink_leaves_exactly_the_unwritten_entries_pending() {
    let server = RedisServer::start();
    fill(&server, "in", 0..100);
    let error = run_worker(&server, "c1", Some(57)).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Failed(_)), "{error}");
    assert!(error.to_string().contains("refused item 57"), "{error}");
    let out = written(&server, "out");
    assert!(!out.contains(&57));
    // An entry read in and not written stays pending (the rest were never read: the reader
    // stopped with the pipeline); one written is not pending.
    let still: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg("in")
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(1000)
        .query(&mut common::connection(&server))
        .unwrap();
    assert!(still.len() + out.len() <= 100, "{still:?}");
    let by_id: std::collections::HashMap<String, u64> = common::stored(&server, "in")
        .into_iter()
        .map(|(id, fields)| (id, number(&fields[0].1)))
        .collect();
    for (id, ..) in &still {
        assert!(
            !out.contains(&by_id[id]),
            "item {} written and still pending",
            by_id[id]
        );
    }
    assert!(
        still.iter().any(|(id, ..)| by_id[id] == 57),
        "the refused item stays pending"
    );
    // Run again: the backlog first, then the rest; every item is written, and an item
    // acknowledged without its result would be missing now.
    run_worker(&server, "c1", None).unwrap();
    assert_eq!(pending(&server, "in"), 0);
    let mut out = written(&server, "out");
    out.dedup();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
    assert_eq!(length(&server, "out"), 100, "nothing written twice");
}

#[test]
fn workers_of_one_group_write_every_result_once() {
    let server = RedisServer::start();
    fill(&server, "in", 0..2000);
    std::thread::scope(|scope| {
        for name in ["a", "b", "c"] {
            let server = &server;
            scope.spawn(move || run_worker(server, name, None).unwrap());
        }
    });
    assert_eq!(written(&server, "out"), (0..2000).collect::<Vec<_>>());
    assert_eq!(pending(&server, "in"), 0);
}

#[test]
fn the_reader_stops_reading_once_its_pipeline_has_failed() {
    let server = RedisServer::start();
    fill(&server, "in", 0..5);
    // No drained end: without the check, the reader would wait for new entries for ever.
    let source = weir_redis::StreamSource::builder(&server.address(), "in", "g", "c1")
        .block(Duration::from_millis(20))
        .count(5)
        .connect()
        .unwrap();
    let error = source
        .into_pipeline()
        .try_map(|entry| entry)
        .try_map(|entry| Err::<(), _>(SinkError::Refused(number(&entry.payload))))
        .for_each(drop)
        .run()
        .unwrap_err();
    assert!(error.to_string().contains("refused item 0"), "{error}");
    std::thread::sleep(Duration::from_millis(300));
    // Entries appended now are not read by a reader of a pipeline that is gone: they stay
    // undelivered, for the next worker.
    fill(&server, "in", 5..10);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        pending(&server, "in"),
        5,
        "only the first five were ever read"
    );
}
