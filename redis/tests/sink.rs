//! The stream sink and the acknowledger against a real redis-server.

mod common;

use common::{connection, fill, length, numbers, payload, pending, source};
use weir_redis::{Entry, EntryId, StreamSink};
use weir_test_support::RedisServer;

#[test]
fn appends_a_batch_in_order_and_returns_increasing_ids() {
    let server = RedisServer::start();
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    let ids = sink.append((0..100).map(payload)).unwrap();
    assert_eq!(ids.len(), 100);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    let stored = common::stored(&server, "out");
    let stored_ids: Vec<EntryId> = stored
        .iter()
        .map(|(id, _)| EntryId::new(id.clone()))
        .collect();
    assert_eq!(stored_ids, ids);
    for (n, (_, fields)) in stored.iter().enumerate() {
        assert_eq!(fields, &[("payload".to_owned(), payload(n as u64))]);
    }
    assert!(
        sink.append(Vec::<Vec<u8>>::new()).unwrap().is_empty(),
        "no payloads, no round trip"
    );
}

#[test]
fn max_len_keeps_the_stream_near_its_bound() {
    let server = RedisServer::start();
    let mut sink = StreamSink::builder(&server.address(), "out")
        .max_len(100)
        .connect()
        .unwrap();
    for batch in 0..20 {
        sink.append((batch * 50..batch * 50 + 50).map(payload))
            .unwrap();
    }
    let len = length(&server, "out");
    // `MAXLEN ~` trims whole nodes of entries, so the length is at least the bound and far
    // below the 1000 appended.
    assert!((100..500).contains(&len), "length {len}");
}

#[test]
fn append_and_ack_writes_the_results_then_acknowledges() {
    let server = RedisServer::start();
    fill(&server, "in", 0..10);
    let mut source = source(&server, "in", "c1").connect().unwrap();
    let group = source.group().clone();
    let entries: Vec<Entry> = source.by_ref().take(10).map(Result::unwrap).collect();
    assert_eq!(pending(&server, "in"), 10);
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    let (first, rest) = entries.split_at(4);
    let results = first.iter().map(|e| e.payload.to_ascii_uppercase());
    let ids = sink
        .append_and_ack(results, &group, first.iter().map(|e| &e.id))
        .unwrap();
    assert_eq!(ids.len(), 4);
    assert_eq!(length(&server, "out"), 4);
    assert_eq!(
        pending(&server, "in"),
        6,
        "exactly the handled four acknowledged"
    );
    // Acknowledging with no results is an XACK alone.
    assert!(sink
        .append_and_ack(Vec::<Vec<u8>>::new(), &group, rest.iter().map(|e| &e.id))
        .unwrap()
        .is_empty());
    assert_eq!(pending(&server, "in"), 0);
    assert_eq!(length(&server, "out"), 4);
}

#[test]
fn a_failed_append_acknowledges_nothing() {
    let server = RedisServer::start();
    fill(&server, "in", 0..3);
    let mut source = source(&server, "in", "c1").connect().unwrap();
    let group = source.group().clone();
    let entries: Vec<Entry> = source.by_ref().take(3).map(Result::unwrap).collect();
    // The results' key holds a string: the XADD fails (a MULTI transaction would still have
    // run the XACK after it).
    redis::cmd("SET")
        .arg("out")
        .arg("not a stream")
        .query::<()>(&mut connection(&server))
        .unwrap();
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    let error = sink
        .append_and_ack([b"x".as_slice()], &group, entries.iter().map(|e| &e.id))
        .unwrap_err();
    assert!(
        matches!(error, weir_redis::Error::Refused { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
    assert_eq!(pending(&server, "in"), 3, "nothing acknowledged");
    let mut seen = numbers(&entries);
    seen.dedup();
    assert_eq!(seen, [0, 1, 2]);
}
