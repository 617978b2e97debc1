//! Clear errors: a server that is down, one that refuses, one that answers nonsense, bad
//! arguments; and a server that restarts mid-run, which is not an error.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{fill, numbers, payload, pending, source};
use weir_redis::{Acker, Entry, Error, Group, StreamSink, StreamSource};
use weir_test_support::RedisServer;

/// An address where nothing listens.
fn nowhere() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://127.0.0.1:{port}/")
}

#[test]
fn a_server_that_is_down_is_unreachable_after_the_reconnect_window() {
    let address = nowhere();
    let started = Instant::now();
    let error = StreamSource::builder(&address, "s", "g", "c")
        .reconnect_for(Duration::from_millis(200))
        .connect()
        .err()
        .expect("nothing listens there");
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    assert!(error.is_transient());
    let message = error.to_string();
    assert!(
        message.contains(&address) && message.contains("is redis-server running"),
        "{message}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "it retried for the window"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The sink and the acknowledger say the same.
    let error = StreamSink::builder(&address, "s")
        .reconnect_for(Duration::from_millis(100))
        .connect()
        .err()
        .unwrap();
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
}

#[test]
fn a_key_of_another_type_is_refused_with_the_servers_reason() {
    let server = RedisServer::start();
    redis::cmd("SET")
        .arg("s")
        .arg("a string")
        .query::<()>(&mut common::connection(&server))
        .unwrap();
    let error = source(&server, "s", "c").connect().err().unwrap();
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(
        message.contains("XGROUP CREATE s g") && message.contains("WRONGTYPE"),
        "{message}"
    );
    let mut sink = StreamSink::connect(&server.address(), "s").unwrap();
    let error = sink.append([b"x"]).unwrap_err();
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
}

#[test]
fn acknowledging_in_a_missing_group_is_refused() {
    let server = RedisServer::start();
    fill(&server, "s", 0..1);
    let mut acker = Acker::connect(&server.address(), Group::new("s", "nobody")).unwrap();
    let id = weir_redis::EntryId::new("1-1");
    // XACK of an unknown group counts 0 rather than failing; of a key of another type, fails.
    assert_eq!(acker.ack([&id]).unwrap(), 0);
    redis::cmd("SET")
        .arg("t")
        .arg("x")
        .query::<()>(&mut common::connection(&server))
        .unwrap();
    let mut acker = Acker::connect(&server.address(), Group::new("t", "g")).unwrap();
    let error = acker.ack([&id]).unwrap_err();
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
}

/// A server that answers `+OK` to every command, whatever it is.
fn yes_man() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("redis://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for connection in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = connection.try_clone().unwrap();
                let mut reader = BufReader::new(connection);
                let mut line = String::new();
                // Each request is `*<n>` then n times `$<len>` and the bytes.
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    let words: usize = line.trim()[1..].parse().unwrap_or(0);
                    for _ in 0..words {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        let len: usize = line.trim()[1..].parse().unwrap();
                        let mut word = vec![0; len + 2];
                        reader.read_exact(&mut word).unwrap();
                    }
                    if writer.write_all(b"+OK\r\n").is_err() {
                        return;
                    }
                    line.clear();
                }
            });
        }
    });
    address
}

#[test]
fn a_reply_of_the_wrong_shape_is_an_unexpected_reply() {
    let address = yes_man();
    let mut source = StreamSource::builder(&address, "s", "g", "c")
        .claim_idle(None)
        .connect()
        .expect("XGROUP CREATE is answered OK");
    let error = source.next().unwrap().unwrap_err();
    assert!(matches!(error, Error::UnexpectedReply { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("XREADGROUP s g") && message.contains("expected"),
        "{message}"
    );
    assert!(source.next().is_none(), "an error ends the iteration");

    let mut sink = StreamSink::connect(&address, "out").unwrap();
    let error = sink.append([b"x"]).unwrap_err();
    assert!(matches!(error, Error::UnexpectedReply { .. }), "{error:?}");
}

#[test]
fn bad_arguments_are_named() {
    let server = RedisServer::start();
    let error = source(&server, "s", "c").count(0).connect().err().unwrap();
    assert!(error.to_string().contains("not 0"), "{error}");
    let error = source(&server, "", "c").connect().err().unwrap();
    assert!(
        error.to_string().contains("stream name is empty"),
        "{error}"
    );
    let error = StreamSink::connect("no such scheme://x", "s")
        .err()
        .unwrap();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
}

#[test]
fn a_server_restart_mid_run_loses_nothing() {
    let mut server = RedisServer::start_persistent();
    fill(&server, "s", 0..300);
    let mut source = source(&server, "s", "c1").count(50).connect().unwrap();
    let group = source.group().clone();
    let mut sink = StreamSink::connect(&server.address(), "out").unwrap();
    let mut handled: Vec<Entry> = Vec::new();
    let first: Vec<Entry> = source.by_ref().take(100).map(Result::unwrap).collect();
    sink.append_and_ack(
        first.iter().map(|e| &e.payload),
        &group,
        first.iter().map(|e| &e.id),
    )
    .unwrap();
    handled.extend(first);

    // The server crashes between two batches and comes back half a second later; the
    // source and the sink reconnect by themselves.
    server.kill();
    let restarter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        server.start_again();
        server
    });
    for entry in source.by_ref() {
        let entry = entry.expect("the source reconnects");
        sink.append_and_ack([&entry.payload], &group, [&entry.id])
            .expect("the sink reconnects");
        handled.push(entry);
    }
    let server = restarter.join().unwrap();
    let mut seen = numbers(&handled);
    // The entries read after the reconnect may include some delivered before it (the
    // backlog is read again): at least once, each of them.
    seen.dedup();
    let missing: Vec<u64> = (0..300)
        .filter(|n| seen.binary_search(n).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?} of {} handled",
        handled.len()
    );
    assert_eq!(pending(&server, "s"), 0);
    let mut written: Vec<u64> = common::stored(&server, "out")
        .iter()
        .map(|(_, fields)| common::number(&fields[0].1))
        .collect();
    written.sort_unstable();
    written.dedup();
    assert_eq!(written, (0..300).collect::<Vec<_>>());
    assert_eq!(payload(0), b"item-0");
}

#[test]
fn a_server_that_wants_a_password_refuses_with_its_reason() {
    let server = RedisServer::start();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("sesame")
        .query::<()>(&mut common::connection(&server))
        .unwrap();
    let error = source(&server, "s", "c").connect().err().unwrap();
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
    assert!(error.to_string().contains("NOAUTH"), "{error}");
    // With the password in the address, it connects.
    let address = server.address().replace("redis://", "redis://:sesame@");
    StreamSource::builder(&address, "s", "g", "c")
        .connect()
        .unwrap();
    let wrong = server.address().replace("redis://", "redis://:wrong@");
    let error = StreamSink::connect(&wrong, "s").err().unwrap();
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
}
