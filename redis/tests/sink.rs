//! The stream sink and the acknowledger against a real redis-server.

mod common;

use common::{connection, fill, length, numbers, payload, pending, source};
use std::time::Duration;

use weir_redis::{Entry, EntryId, Error, StreamSink};
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

#[test]
fn append_and_ack_of_a_deleting_group_deletes_the_handled_entries() {
    let server = RedisServer::start();
    fill(&server, "in", 0..10);
    let mut source = source(&server, "in", "c1")
        .delete_acknowledged()
        .connect()
        .unwrap();
    let group = source.group().clone();
    let entries: Vec<Entry> = source.by_ref().take(10).map(Result::unwrap).collect();
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    let results = entries[..7].iter().map(|e| e.payload.to_ascii_uppercase());
    sink.append_and_ack(results, &group, entries[..7].iter().map(|e| &e.id))
        .unwrap();
    assert_eq!(length(&server, "out"), 7);
    assert_eq!(length(&server, "in"), 3, "the seven handled are deleted");
    assert_eq!(pending(&server, "in"), 3);
}

#[test]
fn ack_in_acknowledges_and_deletes_in_a_transaction_of_ones_own() {
    let server = RedisServer::start();
    fill(&server, "in", 0..5);
    let mut source = source(&server, "in", "c1")
        .delete_acknowledged()
        .connect()
        .unwrap();
    let entries: Vec<Entry> = source.by_ref().take(5).map(Result::unwrap).collect();
    let ids: Vec<EntryId> = entries[..3].iter().map(|e| e.id.clone()).collect();
    let mut done = redis::pipe();
    done.atomic().cmd("SADD").arg("done").arg(1).ignore();
    source.group().ack_in(&mut done, &ids);
    source.group().ack_in(&mut done, &[]); // nothing to add
    done.query::<()>(&mut connection(&server)).unwrap();
    assert_eq!(pending(&server, "in"), 2);
    assert_eq!(length(&server, "in"), 2);
    // A group that keeps its entries only acknowledges them.
    let keeping = weir_redis::Group::new("in", "g");
    let mut ack = redis::pipe();
    keeping.ack_in(&mut ack, &[entries[3].id.clone()]);
    assert_eq!(ack.cmd_iter().count(), 1);
    ack.query::<()>(&mut connection(&server)).unwrap();
    assert_eq!(pending(&server, "in"), 1);
    assert_eq!(length(&server, "in"), 2);
}

#[test]
fn backpressure_holds_an_append_until_the_stream_is_below_its_bound() {
    let server = RedisServer::start();
    let mut sink = StreamSink::builder(&server.address(), "q")
        .backpressure(4, Duration::from_secs(60))
        .connect()
        .unwrap();
    sink.append((0..3).map(payload)).unwrap();
    sink.append((3..6).map(payload)).unwrap(); // 3 < 4: goes out whole
    assert_eq!(length(&server, "q"), 6);
    let consumer = {
        let address = server.address();
        std::thread::spawn(move || {
            // Takes entries out, one at a time, until the stream is below the bound.
            let mut redis = redis::Client::open(address)
                .unwrap()
                .get_connection()
                .unwrap();
            let mut deleted = Vec::new();
            while deleted.len() < 3 {
                std::thread::sleep(Duration::from_millis(20));
                let first: common::Stored = redis::cmd("XRANGE")
                    .arg("q")
                    .arg("-")
                    .arg("+")
                    .arg("COUNT")
                    .arg(1)
                    .query(&mut redis)
                    .unwrap();
                let (id, fields) = first.into_iter().next().unwrap();
                redis::cmd("XDEL")
                    .arg("q")
                    .arg(&id)
                    .query::<u64>(&mut redis)
                    .unwrap();
                deleted.push(common::number(&fields[0].1));
            }
            deleted
        })
    };
    sink.append([payload(6)]).unwrap(); // waits for the third deletion
    assert_eq!(consumer.join().unwrap(), [0, 1, 2]);
    let left: Vec<u64> = common::stored(&server, "q")
        .iter()
        .map(|(_, fields)| common::number(&fields[0].1))
        .collect();
    assert_eq!(left, [3, 4, 5, 6], "nothing lost, in order");
}

#[test]
fn backpressure_gives_up_after_its_patience_with_nothing_appended() {
    let server = RedisServer::start();
    fill(&server, "q", 0..5);
    let mut sink = StreamSink::builder(&server.address(), "q")
        .backpressure(5, Duration::from_millis(50))
        .connect()
        .unwrap();
    let error = sink.append([payload(5)]).unwrap_err();
    match &error {
        Error::StillFull {
            stream,
            entries,
            bound,
            ..
        } => assert_eq!((stream.as_str(), *entries, *bound), ("q", 5, 5)),
        other => panic!("expected StillFull, got {other:?}"),
    }
    assert!(error.is_transient());
    assert!(
        error.to_string().contains("still holds 5 entries"),
        "{error}"
    );
    assert_eq!(length(&server, "q"), 5, "nothing appended");
    // An acknowledgement with nothing to append does not wait.
    let mut source = source(&server, "q", "c1").count(1).connect().unwrap();
    let group = source.group().clone();
    let entry = source.next().unwrap().unwrap();
    sink.append_and_ack(Vec::<Vec<u8>>::new(), &group, [&entry.id])
        .unwrap();
    assert_eq!(pending(&server, "q"), 0);
    let zero = StreamSink::builder(&server.address(), "q")
        .backpressure(0, Duration::from_secs(1))
        .connect();
    assert!(matches!(zero, Err(Error::InvalidArgument(_))));
}
