//! Overflow policies: what each does with a full channel, that disconnection hands the item back,
//! that forced pushes wake receivers, that nothing is allocated per item, and, under
//! contention, the accounting identity `sent == received + dropped + rejected` with every item
//! accounted for exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use weir_backpressure::mpmc;
use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
use weir_test_support::{allocations_in, scaled, Counted, CountingAlloc, DropLog};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn block_waits_for_room() {
    let (sender, receiver) = mpmc::channel(1);
    let sender = OverflowSender::new(sender, Overflow::Block);
    assert_eq!(sender.send(1), Ok(Sent::Queued));
    thread::scope(|s| {
        let blocked = s.spawn(|| sender.send(2));
        // Whenever the receive happens, the blocked send completes after it.
        assert_eq!(receiver.recv_timeout(LONG), Ok(1));
        assert_eq!(blocked.join().unwrap(), Ok(Sent::Queued));
    });
    assert_eq!(receiver.recv_timeout(LONG), Ok(2));
    let stats = sender.stats();
    assert_eq!((stats.sent(), stats.queued(), stats.dropped()), (2, 2, 0));
}

#[test]
fn reject_hands_the_item_back() {
    let (sender, receiver) = mpmc::channel(2);
    let sender = OverflowSender::new(sender, Overflow::Reject);
    assert_eq!(sender.send(1), Ok(Sent::Queued));
    assert_eq!(sender.send(2), Ok(Sent::Queued));
    assert_eq!(sender.send(3), Err(TrySendError::Full(3)));
    assert_eq!(sender.send(4), Err(TrySendError::Full(4)));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [1, 2]);
    let stats = sender.stats();
    assert_eq!((stats.sent(), stats.rejected(), stats.dropped()), (4, 2, 0));
    assert_eq!(stats.sent(), 2 + stats.dropped() + stats.rejected());
}

#[test]
fn drop_newest_drops_the_incoming_item_once() {
    let log = DropLog::new(4);
    let (sender, receiver) = mpmc::channel(2);
    let sender = OverflowSender::new(sender, Overflow::DropNewest);
    for id in 0..4 {
        let outcome = sender.send(Counted::new(&log, id)).unwrap();
        assert_eq!(matches!(outcome, Sent::Dropped), id >= 2);
    }
    log.assert_dropped_exactly([2, 3]);
    let received: Vec<usize> = receiver.try_iter().map(|item| item.id).collect();
    assert_eq!(received, [0, 1]);
    log.assert_dropped_exactly([0, 1, 2, 3]);
    let stats = sender.stats();
    assert_eq!((stats.sent(), stats.dropped(), stats.evicted()), (4, 2, 0));
}

#[test]
fn drop_oldest_evicts_and_hands_back_the_oldest() {
    let (sender, receiver) = mpmc::channel(2);
    let sender = OverflowSender::new(sender, Overflow::DropOldest);
    assert_eq!(sender.send(1), Ok(Sent::Queued));
    assert_eq!(sender.send(2), Ok(Sent::Queued));
    assert_eq!(sender.send(3), Ok(Sent::Evicted(1)));
    assert_eq!(sender.send(4), Ok(Sent::Evicted(2)));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [3, 4]);
    let stats = sender.stats();
    assert_eq!(
        (
            stats.sent(),
            stats.queued(),
            stats.dropped(),
            stats.evicted()
        ),
        (4, 4, 2, 2)
    );
    assert_eq!(stats.sent(), 2 + stats.dropped() + stats.rejected());
}

#[test]
fn every_policy_hands_the_item_back_when_disconnected() {
    for policy in [
        Overflow::Block,
        Overflow::Reject,
        Overflow::DropNewest,
        Overflow::DropOldest,
    ] {
        let (sender, receiver) = mpmc::channel(1);
        let sender = OverflowSender::new(sender, policy);
        assert_eq!(sender.send(1), Ok(Sent::Queued), "{policy:?}");
        drop(receiver);
        assert_eq!(
            sender.send(2),
            Err(TrySendError::Disconnected(2)),
            "{policy:?}"
        );
        assert_eq!(sender.stats().sent(), 1, "{policy:?}: not counted");
    }
}

#[test]
fn a_blocked_send_sees_the_disconnection() {
    let (sender, receiver) = mpmc::channel(1);
    let sender = OverflowSender::new(sender, Overflow::Block);
    sender.send(1).unwrap();
    thread::scope(|s| {
        let blocked = s.spawn(|| sender.send(2));
        thread::sleep(Duration::from_millis(10));
        drop(receiver);
        assert_eq!(blocked.join().unwrap(), Err(TrySendError::Disconnected(2)));
    });
}

#[test]
fn forced_pushes_wake_a_sleeping_receiver() {
    for round in 0..scaled(50, 3) {
        let (sender, receiver) = mpmc::channel(1);
        let sender = OverflowSender::new(sender, Overflow::DropOldest);
        thread::scope(|s| {
            let waiting = s.spawn(|| receiver.recv_timeout(LONG));
            if round % 2 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            let _ = sender.send(round);
            let _ = sender.send(round + 1);
            // The receiver took one of them, or is woken for the one left.
            let got = waiting
                .join()
                .unwrap()
                .expect("a receiver slept through a send");
            assert!(got == round || got == round + 1);
        });
    }
}

#[test]
fn clones_share_stats_and_keep_the_channel_connected() {
    let (sender, receiver) = mpmc::channel(1);
    let first = OverflowSender::new(sender, Overflow::DropNewest);
    let second = first.clone();
    drop(first);
    assert!(!second.sender().is_disconnected());
    assert_eq!(second.send(1), Ok(Sent::Queued));
    assert_eq!(second.send(2), Ok(Sent::Dropped));
    let third = second.with_policy(Overflow::Reject);
    assert_eq!(third.send(3), Err(TrySendError::Full(3)));
    assert_eq!(third.policy(), Overflow::Reject);
    assert_eq!(
        (
            second.stats().sent(),
            second.stats().dropped(),
            third.stats().rejected()
        ),
        (3, 1, 1)
    );
    drop((second, third));
    assert_eq!(receiver.recv(), Ok(1));
    assert!(receiver.recv().is_err(), "every sender is gone");
}

#[test]
fn sends_allocate_nothing() {
    let (sender, receiver) = mpmc::channel(4);
    let senders: Vec<_> = [
        Overflow::Block,
        Overflow::Reject,
        Overflow::DropNewest,
        Overflow::DropOldest,
    ]
    .into_iter()
    .map(|policy| OverflowSender::new(sender.clone(), policy))
    .collect();
    let (n, ()) = allocations_in(|| {
        for i in 0..scaled(10_000, 20) as u64 {
            for sender in &senders[1..] {
                for _ in 0..6 {
                    let _ = sender.send(i);
                }
            }
            while receiver.try_recv().is_ok() {}
            let _ = senders[0].send(i);
        }
    });
    assert_eq!(n, 0, "allocations on the send paths");
}

/// Four producers, one per policy, all on one small channel and one set of stats, against two
/// receivers. Every item is received, handed back (rejected or evicted), or dropped by
/// `DropNewest`, exactly once; the counts match what was seen.
#[test]
fn concurrent_accounting_is_exact() {
    let per_producer = scaled(20_000, 100);
    let policies = [
        Overflow::Block,
        Overflow::Reject,
        Overflow::DropNewest,
        Overflow::DropOldest,
    ];
    let items = per_producer * policies.len();
    let log = DropLog::new(items);
    // How many times each item was seen by a receiver or handed back to its producer.
    let seen: Vec<AtomicUsize> = (0..items).map(|_| AtomicUsize::new(0)).collect();
    let (sender, receiver) = mpmc::channel::<Counted>(4);
    let first = OverflowSender::new(sender, policies[0]);
    let stats = Arc::clone(first.stats());
    let received = AtomicUsize::new(0);
    let handed_back = Mutex::new((0usize, 0usize)); // (rejected, evicted) seen by producers
    thread::scope(|s| {
        for _ in 0..2 {
            let receiver = receiver.clone();
            let (seen, received) = (&seen, &received);
            s.spawn(move || {
                let mut count = 0;
                for item in receiver.iter() {
                    seen[item.id].fetch_add(1, Ordering::Relaxed);
                    count += 1;
                }
                received.fetch_add(count, Ordering::Relaxed);
            });
        }
        drop(receiver);
        for (p, &policy) in policies.iter().enumerate() {
            let sender = first.with_policy(policy);
            let (seen, log, handed_back) = (&seen, &log, &handed_back);
            s.spawn(move || {
                let (mut rejected, mut evicted) = (0, 0);
                for i in 0..per_producer {
                    let id = p * per_producer + i;
                    match sender.send(Counted::new(log, id)) {
                        Ok(Sent::Queued | Sent::Dropped) => {}
                        Ok(Sent::Evicted(old)) => {
                            seen[old.id].fetch_add(1, Ordering::Relaxed);
                            evicted += 1;
                        }
                        Err(TrySendError::Full(back)) => {
                            seen[back.id].fetch_add(1, Ordering::Relaxed);
                            rejected += 1;
                        }
                        Err(TrySendError::Disconnected(_)) => panic!("receivers are alive"),
                    }
                    if i % 64 == 0 {
                        thread::yield_now();
                    }
                }
                let mut totals = handed_back.lock().unwrap();
                totals.0 += rejected;
                totals.1 += evicted;
            });
        }
        drop(first);
    });
    let received = received.into_inner();
    let (rejected, evicted) = handed_back.into_inner().unwrap();
    // Never seen: dropped by `DropNewest` inside `send`.
    let dropped_newest = seen
        .iter()
        .filter(|count| count.load(Ordering::Relaxed) == 0)
        .count();
    let wrong: Vec<usize> = (0..items)
        .filter(|&id| seen[id].load(Ordering::Relaxed) > 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "items seen twice: {:?}",
        &wrong[..wrong.len().min(10)]
    );
    log.assert_dropped_exactly(0..items);
    assert_eq!(stats.sent(), items, "no send failed from disconnection");
    assert_eq!(
        stats.sent(),
        received + stats.dropped() + stats.rejected(),
        "sent == received + dropped + rejected"
    );
    assert_eq!(stats.rejected(), rejected);
    assert_eq!(stats.evicted(), evicted);
    assert_eq!(stats.dropped(), dropped_newest + evicted);
    assert_eq!(stats.queued(), received + evicted);
    assert!(
        stats.dropped() > 0 && stats.rejected() > 0,
        "the channel never overflowed: {stats:?}"
    );
}
