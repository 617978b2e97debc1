//! What the tests of weir-redis share: payloads that say which number they carry, and
//! readings of the server's state.

#![allow(dead_code)] // each test file uses its own part

use std::time::Duration;

use weir_redis::{Entry, StreamSink, StreamSource};
use weir_test_support::RedisServer;

/// The payload of item `n`.
pub(crate) fn payload(n: u64) -> Vec<u8> {
    format!("item-{n}").into_bytes()
}

/// The number an item's payload carries.
pub(crate) fn number(payload: &[u8]) -> u64 {
    std::str::from_utf8(payload)
        .ok()
        .and_then(|text| text.strip_prefix("item-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an item's payload: {payload:?}"))
}

/// Appends items `range` to `stream`.
pub(crate) fn fill(server: &RedisServer, stream: &str, range: std::ops::Range<u64>) {
    let mut sink = StreamSink::connect(&server.address(), stream).expect("connect a sink");
    let payloads: Vec<Vec<u8>> = range.map(payload).collect();
    for chunk in payloads.chunks(500) {
        sink.append(chunk).expect("append items");
    }
}

/// A source on `stream`, group `g`, that ends once the group is drained.
pub(crate) fn source(
    server: &RedisServer,
    stream: &str,
    consumer: &str,
) -> weir_redis::SourceBuilder {
    StreamSource::builder(&server.address(), stream, "g", consumer)
        .block(Duration::from_millis(50))
        .stop_when_drained(Duration::from_millis(100))
}

/// A plain connection for the tests' own checks.
pub(crate) fn connection(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.address())
        .and_then(|client| client.get_connection())
        .expect("connect to the test's redis-server")
}

/// How many entries of group `g` of `stream` are pending (delivered, not acknowledged).
pub(crate) fn pending(server: &RedisServer, stream: &str) -> u64 {
    let (count, _, _, _): (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(stream)
        .arg("g")
        .query(&mut connection(server))
        .expect("XPENDING");
    count
}

/// The length of `stream`.
pub(crate) fn length(server: &RedisServer, stream: &str) -> u64 {
    redis::cmd("XLEN")
        .arg(stream)
        .query(&mut connection(server))
        .expect("XLEN")
}

/// A stream's entries as `XRANGE` gives them: ids and field-value pairs.
pub(crate) type Stored = Vec<(String, Vec<(String, Vec<u8>)>)>;

/// Every entry of `stream`, oldest first.
pub(crate) fn stored(server: &RedisServer, stream: &str) -> Stored {
    redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query(&mut connection(server))
        .expect("XRANGE")
}

/// The numbers the entries carry, sorted.
pub(crate) fn numbers(entries: &[Entry]) -> Vec<u64> {
    let mut numbers: Vec<u64> = entries.iter().map(|e| number(&e.payload)).collect();
    numbers.sort_unstable();
    numbers
}
