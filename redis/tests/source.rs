//! The stream source against a real redis-server: batches, acknowledgement only of what was
//! handled, the backlog after a restart, claims from a dead consumer, dead letters.

mod common;

use std::time::Duration;

use common::{connection, fill, length, numbers, payload, pending, source};
use weir_redis::{Entry, EntryId, StreamSource};
use weir_test_support::RedisServer;

#[test]
fn reads_every_entry_once_in_batches_of_count() {
    let server = RedisServer::start();
    fill(&server, "s", 0..200);
    let mut source = source(&server, "s", "c1").count(32).connect().unwrap();
    let first = source.next().unwrap().unwrap();
    assert_eq!(first.payload, payload(0));
    assert_eq!(first.deliveries, 1);
    // One round trip brought a whole batch: all of it is pending on this consumer.
    assert_eq!(pending(&server, "s"), 32);
    let mut acker = source.acker().unwrap();
    acker.ack([&first.id]).unwrap();
    let mut rest = Vec::new();
    for entry in source.by_ref().take(199) {
        let entry = entry.unwrap();
        acker.ack([&entry.id]).unwrap();
        rest.push(entry);
    }
    assert_eq!(numbers(&rest), (1..200).collect::<Vec<_>>());
    // Everything acknowledged: the source sees the group drained and ends.
    assert!(source.next().is_none());
    assert_eq!(pending(&server, "s"), 0);
}

#[test]
fn in_stream_order_for_one_consumer() {
    let server = RedisServer::start();
    fill(&server, "s", 0..100);
    let mut source = source(&server, "s", "c1").count(7).connect().unwrap();
    let mut acker = source.acker().unwrap();
    let entries: Vec<Entry> = source.by_ref().take(100).map(Result::unwrap).collect();
    let seen: Vec<Vec<u8>> = entries.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(seen, (0..100).map(payload).collect::<Vec<_>>());
    let ids: Vec<&EntryId> = entries.iter().map(|e| &e.id).collect();
    assert_eq!(acker.ack(ids.iter().copied()).unwrap(), 100);
    // Twice: the server had them no longer pending.
    assert_eq!(acker.ack(ids.iter().copied()).unwrap(), 0);
    assert_eq!(acker.ack([]).unwrap(), 0);
}

#[test]
fn only_acknowledged_entries_leave_the_pending_list_and_a_restart_reads_the_rest() {
    let server = RedisServer::start();
    fill(&server, "s", 0..50);
    {
        let mut source = source(&server, "s", "c1").connect().unwrap();
        let mut acker = source.acker().unwrap();
        for entry in source.by_ref().take(50) {
            let entry = entry.unwrap();
            if common::number(&entry.payload).is_multiple_of(2) {
                acker.ack([&entry.id]).unwrap();
            }
        }
        // The worker "dies" here with the odd items unacknowledged.
    }
    assert_eq!(pending(&server, "s"), 25);
    // The same consumer name, restarted: its backlog first, delivered a second time.
    let mut again = source(&server, "s", "c1").connect().unwrap();
    let mut acker = again.acker().unwrap();
    let backlog: Vec<Entry> = again.by_ref().take(25).map(Result::unwrap).collect();
    assert_eq!(
        numbers(&backlog),
        (0..50).filter(|n| n % 2 == 1).collect::<Vec<_>>()
    );
    assert!(backlog.iter().all(|e| e.deliveries == 2), "{backlog:?}");
    acker.ack(backlog.iter().map(|e| &e.id)).unwrap();
    assert!(again.next().is_none(), "drained");
    assert_eq!(pending(&server, "s"), 0);
}

#[test]
fn a_quiet_consumers_entries_are_claimed_by_a_live_one() {
    let server = RedisServer::start();
    fill(&server, "s", 0..40);
    // Consumer "dead" takes a batch and never acknowledges it.
    let mut dead = source(&server, "s", "dead")
        .count(10)
        .claim_idle(None)
        .connect()
        .unwrap();
    let taken: Vec<Entry> = dead.by_ref().take(10).map(Result::unwrap).collect();
    drop(dead);
    assert_eq!(pending(&server, "s"), 10);

    let mut live = source(&server, "s", "live")
        .claim_idle(Duration::from_millis(200))
        .connect()
        .unwrap();
    let mut acker = live.acker().unwrap();
    let mut seen = Vec::new();
    for entry in live.by_ref() {
        let entry = entry.unwrap();
        acker.ack([&entry.id]).unwrap();
        seen.push(entry);
    }
    assert_eq!(
        numbers(&seen),
        (0..40).collect::<Vec<_>>(),
        "every entry, once"
    );
    for entry in &taken {
        let again = seen.iter().find(|e| e.id == entry.id).unwrap();
        assert_eq!(
            again.deliveries, 2,
            "claimed entries count their second delivery"
        );
    }
    assert_eq!(live.claimed(), 10);
    assert_eq!(pending(&server, "s"), 0);
}

#[test]
fn an_entry_delivered_too_often_goes_to_the_dead_letter_stream() {
    let server = RedisServer::start();
    fill(&server, "s", 0..1);
    // A poison entry: every worker that takes it dies before acknowledging.
    for delivery in 1..=2 {
        let mut worker = source(&server, "s", "c1")
            .max_deliveries(2)
            .connect()
            .unwrap();
        let entry = worker.next().unwrap().unwrap();
        assert_eq!(entry.deliveries, delivery);
    }
    let mut worker = source(&server, "s", "c1")
        .max_deliveries(2)
        .connect()
        .unwrap();
    assert!(worker.next().is_none(), "the third delivery is not yielded");
    assert_eq!(worker.dead_lettered(), 1);
    assert_eq!(pending(&server, "s"), 0, "acknowledged once moved");
    assert_eq!(length(&server, "s:dead"), 1);
    let dead = common::stored(&server, "s:dead");
    let fields = &dead[0].1;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
    };
    assert_eq!(field("payload"), payload(0));
    assert_eq!(field("deliveries"), b"3");
    assert_eq!(field("stream"), b"s");
    assert_eq!(field("group"), b"g");
}

#[test]
fn an_entry_without_the_payload_field_goes_to_the_dead_letter_stream() {
    let server = RedisServer::start();
    let mut plain = connection(&server);
    redis::cmd("XADD")
        .arg("s")
        .arg("*")
        .arg("other")
        .arg("x")
        .query::<String>(&mut plain)
        .unwrap();
    fill(&server, "s", 0..1);
    let mut worker = source(&server, "s", "c1")
        .dead_letter("bad")
        .connect()
        .unwrap();
    let entry = worker.next().unwrap().unwrap();
    assert_eq!(entry.payload, payload(0));
    assert_eq!(worker.dead_lettered(), 1);
    assert_eq!(length(&server, "bad"), 1);
}

#[test]
fn a_pending_entry_deleted_from_the_stream_is_acknowledged_not_yielded() {
    let server = RedisServer::start();
    fill(&server, "s", 0..3);
    let mut first = source(&server, "s", "c1").connect().unwrap();
    let entries: Vec<Entry> = first.by_ref().take(3).map(Result::unwrap).collect();
    drop(first);
    redis::cmd("XDEL")
        .arg("s")
        .arg(&entries[1].id)
        .query::<u64>(&mut connection(&server))
        .unwrap();
    let mut again = source(&server, "s", "c1").connect().unwrap();
    let mut acker = again.acker().unwrap();
    let backlog: Vec<Entry> = again.by_ref().take(2).map(Result::unwrap).collect();
    assert_eq!(numbers(&backlog), [0, 2]);
    acker.ack(backlog.iter().map(|e| &e.id)).unwrap();
    assert!(again.next().is_none());
    assert_eq!(pending(&server, "s"), 0);
}

#[test]
fn a_stopper_ends_a_source_waiting_for_entries() {
    let server = RedisServer::start();
    let source = StreamSource::builder(&server.address(), "s", "g", "c1")
        .block(Duration::from_millis(20))
        .connect()
        .unwrap();
    let stopper = source.stopper();
    let reader = std::thread::spawn(move || source.count());
    std::thread::sleep(Duration::from_millis(100));
    stopper.stop();
    assert_eq!(reader.join().unwrap(), 0);
}

#[test]
fn two_sources_of_one_group_share_the_entries() {
    let server = RedisServer::start();
    fill(&server, "s", 0..1000);
    let readers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let mut source = source(&server, "s", name).count(16).connect().unwrap();
            std::thread::spawn(move || {
                let mut acker = source.acker().unwrap();
                let mut seen = Vec::new();
                for entry in source.by_ref() {
                    let entry = entry.unwrap();
                    acker.ack([&entry.id]).unwrap();
                    seen.push(entry);
                }
                seen
            })
        })
        .collect();
    let mut all: Vec<Entry> = Vec::new();
    for reader in readers {
        all.extend(reader.join().unwrap());
    }
    assert_eq!(numbers(&all), (0..1000).collect::<Vec<_>>(), "each once");
}
