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
fn an_entry_without_the_payload_field_stays_in_the_stream_of_a_deleting_group() {
    let server = RedisServer::start();
    redis::cmd("XADD")
        .arg("s")
        .arg("*")
        .arg("other")
        .arg("x")
        .query::<String>(&mut connection(&server))
        .unwrap();
    let mut worker = source(&server, "s", "c1")
        .delete_acknowledged()
        .connect()
        .unwrap();
    assert!(worker.next().is_none());
    assert_eq!(worker.dead_lettered(), 1);
    assert_eq!(pending(&server, "s"), 0, "acknowledged");
    // The dead letter does not copy its fields: the entry stays for whoever looks into it.
    let kept = common::stored(&server, "s");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].1, [("other".to_owned(), b"x".to_vec())]);
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

#[test]
fn a_stop_wakes_a_source_waiting_on_the_server() {
    let server = RedisServer::start();
    fill(&server, "s", 0..3);
    // A block time far beyond the test's limit: only the unblock can end the wait in time.
    let mut source = StreamSource::builder(&server.address(), "s", "g", "c1")
        .block(Duration::from_secs(600))
        .connect()
        .unwrap();
    let stopper = source.stopper();
    let first: Vec<u64> = source
        .by_ref()
        .take(3)
        .map(|entry| common::number(&entry.unwrap().payload))
        .collect();
    assert_eq!(first, [0, 1, 2]);
    let reader = std::thread::spawn(move || source.count());
    // Until the source waits on the server (its connection is listed as blocked).
    while !blocked_clients(&server) {
        std::thread::sleep(Duration::from_millis(5));
    }
    stopper.stop();
    let after = weir_test_support::within(Duration::from_secs(60), move || reader.join());
    assert_eq!(after.unwrap(), 0);
    stopper.stop(); // a second stop, after the end, does nothing
}

#[test]
fn a_stop_before_the_first_read_reads_nothing() {
    let server = RedisServer::start();
    fill(&server, "s", 0..3);
    let source = StreamSource::builder(&server.address(), "s", "g", "c1")
        .block(Duration::from_secs(600))
        .connect()
        .unwrap();
    source.stopper().stop();
    assert_eq!(source.count(), 0);
    assert_eq!(pending(&server, "s"), 0, "nothing delivered");
}

#[test]
fn a_stop_wakes_a_source_that_reconnected_during_its_wait() {
    let server = RedisServer::start();
    let source = StreamSource::builder(&server.address(), "s", "g", "c1")
        .block(Duration::from_secs(600))
        .connect()
        .unwrap();
    let stopper = source.stopper();
    let reader = std::thread::spawn(move || source.count());
    while !blocked_clients(&server) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // The server drops the waiting connection; the source reconnects and waits again, on a
    // connection with another id.
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query(&mut connection(&server))
        .unwrap();
    assert!(killed >= 1);
    std::thread::sleep(Duration::from_millis(50));
    while !blocked_clients(&server) {
        std::thread::sleep(Duration::from_millis(5));
    }
    stopper.stop();
    let after = weir_test_support::within(Duration::from_secs(60), move || reader.join());
    assert_eq!(after.unwrap(), 0);
}

#[test]
fn a_block_of_zero_waits_a_millisecond_not_for_ever() {
    let server = RedisServer::start();
    let source = StreamSource::builder(&server.address(), "s", "g", "c1")
        .block(Duration::ZERO)
        .connect()
        .unwrap();
    let stopper = source.stopper();
    let reader = std::thread::spawn(move || source.count());
    std::thread::sleep(Duration::from_millis(50));
    stopper.stop();
    let after = weir_test_support::within(Duration::from_secs(60), move || reader.join());
    assert_eq!(after.unwrap(), 0);
}

/// Whether a client of the server waits in a blocking command.
fn blocked_clients(server: &RedisServer) -> bool {
    let info: String = redis::cmd("INFO")
        .arg("clients")
        .query(&mut connection(server))
        .unwrap();
    info.lines().any(|line| {
        line.strip_prefix("blocked_clients:")
            .is_some_and(|n| n.trim() != "0")
    })
}

#[test]
fn a_group_that_deletes_what_it_acknowledges_leaves_only_unfinished_entries() {
    let server = RedisServer::start();
    fill(&server, "s", 0..10);
    let mut source = source(&server, "s", "c1")
        .delete_acknowledged()
        .connect()
        .unwrap();
    assert!(source.group().deletes_acknowledged());
    let mut acker = source.acker().unwrap();
    assert!(acker.group().deletes_acknowledged());
    let entries: Vec<Entry> = source.by_ref().take(10).map(Result::unwrap).collect();
    assert_eq!(acker.ack(entries[..4].iter().map(|e| &e.id)).unwrap(), 4);
    assert_eq!(length(&server, "s"), 6, "the four acknowledged are deleted");
    assert_eq!(pending(&server, "s"), 6);
    let left: Vec<u64> = common::stored(&server, "s")
        .iter()
        .map(|(_, fields)| common::number(&fields[0].1))
        .collect();
    assert_eq!(
        left,
        [4, 5, 6, 7, 8, 9],
        "exactly the unacknowledged ones stay"
    );
    // Acknowledging again counts nothing and deletes nothing more.
    assert_eq!(acker.ack(entries[..4].iter().map(|e| &e.id)).unwrap(), 0);
    assert_eq!(acker.ack(entries[4..].iter().map(|e| &e.id)).unwrap(), 6);
    assert_eq!(length(&server, "s"), 0);
    assert_eq!(pending(&server, "s"), 0);
}

#[test]
fn a_dead_letter_of_a_deleting_group_leaves_the_stream() {
    let server = RedisServer::start();
    fill(&server, "s", 0..2);
    let mut first = source(&server, "s", "c1")
        .delete_acknowledged()
        .max_deliveries(1)
        .connect()
        .unwrap();
    let taken: Vec<Entry> = first.by_ref().take(2).map(Result::unwrap).collect();
    first.acker().unwrap().ack([&taken[1].id]).unwrap();
    drop(first); // dies holding entry 0
    let mut again = source(&server, "s", "c1")
        .delete_acknowledged()
        .max_deliveries(1)
        .connect()
        .unwrap();
    assert!(again.next().is_none(), "entry 0 went to the dead letters");
    assert_eq!(again.dead_lettered(), 1);
    assert_eq!(length(&server, "s:dead"), 1);
    assert_eq!(length(&server, "s"), 0, "and out of the stream");
    assert_eq!(pending(&server, "s"), 0);
}
