//! The channels' soft limit: sends stop at it inside the allocated capacity, a lowered limit
//! keeps every item, a raised one wakes the senders blocked on the old one, `DropOldest`
//! evicts at it, and under load with the limit moving every item arrives once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weir_backpressure::overflow::{Overflow, OverflowSender, Sent};
use weir_backpressure::{mpmc, spsc};
use weir_test_support::{scaled, within};

const HANG: Duration = Duration::from_secs(20);

#[test]
fn the_limit_stops_sends_inside_the_capacity() {
    let (sender, receiver) = spsc::channel(8);
    assert_eq!((sender.limit(), receiver.limit()), (8, 8));
    assert_eq!(sender.set_limit(3), 3);
    assert_eq!(receiver.limit(), 3);
    let mut batch = vec![0, 1, 2, 3, 4];
    // Only what the limit lets in; the rest waits (here: try one by one).
    for i in batch.drain(..3) {
        sender.try_send(i).unwrap();
    }
    assert_eq!(sender.try_send(3), Err(TrySendError::Full(3)));
    assert!(sender.is_full());
    assert_eq!(sender.capacity(), 8);
    // Clamped to 1..=capacity; the capacity lifts the limit.
    assert_eq!(sender.set_limit(0), 1);
    assert_eq!(sender.set_limit(100), 8);
    assert_eq!(sender.try_send(3), Ok(()));
}

#[test]
fn lowering_below_the_length_keeps_every_item() {
    let (sender, receiver) = mpmc::channel(8);
    for i in 0..6 {
        sender.send(i).unwrap();
    }
    sender.limiter().set_limit(2);
    assert_eq!(sender.len(), 6);
    assert_eq!(sender.try_send(6), Err(TrySendError::Full(6)));
    for i in 0..4 {
        assert_eq!(receiver.recv(), Ok(i));
    }
    // Down to 2, the limit: still full.
    assert_eq!(sender.try_send(6), Err(TrySendError::Full(6)));
    assert_eq!(receiver.recv(), Ok(4));
    assert_eq!(sender.try_send(6), Ok(()));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [5, 6]);
}

/// A sender blocked at the old limit wakes when the limit is raised, with nothing received
/// (a lost wake-up would hang, which `within` turns into a failure).
fn raise_wakes(spsc_or_mpmc: bool) {
    within(HANG, move || {
        let (sender, receiver, limiter) = if spsc_or_mpmc {
            let (s, r) = spsc::channel::<u32>(4);
            let limiter = r.limiter();
            (
                Box::new(move |batch: &mut Vec<u32>| s.send_many(batch).is_ok())
                    as Box<dyn FnMut(&mut Vec<u32>) -> bool + Send>,
                Box::new(move || r.try_iter().count()) as Box<dyn FnMut() -> usize + Send>,
                limiter,
            )
        } else {
            let (s, r) = mpmc::channel::<u32>(4);
            let limiter = r.limiter();
            (
                Box::new(move |batch: &mut Vec<u32>| s.send_many(batch).is_ok())
                    as Box<dyn FnMut(&mut Vec<u32>) -> bool + Send>,
                Box::new(move || r.try_iter().count()) as Box<dyn FnMut() -> usize + Send>,
                limiter,
            )
        };
        let (mut send, mut drain) = (sender, receiver);
        limiter.set_limit(1);
        let sent = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&sent);
        let producer = thread::spawn(move || {
            let mut batch = vec![1, 2, 3];
            assert!(send(&mut batch));
            done.store(true, Ordering::SeqCst);
        });
        // Let the producer block at the limit of 1 (if it has not yet, it sees the raise).
        thread::sleep(Duration::from_millis(50));
        assert!(!sent.load(Ordering::SeqCst), "went over the limit of 1");
        limiter.set_limit(3);
        producer.join().unwrap();
        assert_eq!(drain(), 3);
    });
}

#[test]
fn a_raise_wakes_a_blocked_spsc_sender() {
    raise_wakes(true);
}

#[test]
fn a_raise_wakes_a_blocked_mpmc_sender() {
    raise_wakes(false);
}

#[test]
fn drop_oldest_evicts_at_the_limit() {
    let (sender, receiver) = mpmc::channel(8);
    let sender = OverflowSender::new(sender, Overflow::DropOldest);
    sender.sender().set_limit(2);
    assert_eq!(sender.send(1), Ok(Sent::Queued));
    assert_eq!(sender.send(2), Ok(Sent::Queued));
    assert_eq!(sender.send(3), Ok(Sent::Evicted(1)));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [2, 3]);
    assert_eq!(sender.stats().dropped(), 1);
}

/// A limit lowered below the queue's length: the next send evicts the oldest items down to
/// the limit, not one for one, so the queue holds the newest items within the limit from then
/// on. The first item evicted comes back; the others are dropped and counted.
#[test]
fn drop_oldest_shrinks_a_queue_above_a_lowered_limit() {
    let (sender, receiver) = mpmc::channel(8);
    let sender = OverflowSender::new(sender, Overflow::DropOldest);
    for item in 0..8 {
        assert_eq!(sender.send(item), Ok(Sent::Queued));
    }
    sender.sender().set_limit(3);
    assert_eq!(sender.send(8), Ok(Sent::Evicted(0)));
    assert_eq!(receiver.len(), 3);
    assert_eq!(sender.send(9), Ok(Sent::Evicted(6)));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [7, 8, 9]);
    let stats = sender.stats();
    assert_eq!((stats.sent(), stats.dropped()), (10, 7));
    assert_eq!(stats.sent(), 3 + stats.dropped());
}

/// One sender, one receiver, the limit moved all the time by a third thread: every item
/// arrives once and in order, and nothing waits forever on a limit that moved.
#[test]
fn the_limit_moves_under_load_and_nothing_is_lost() {
    let items = scaled(200_000, 2_000) as u64;
    within(HANG * 3, move || {
        let (sender, receiver) = spsc::channel(64);
        let limiter = sender.limiter();
        let stop = Arc::new(AtomicBool::new(false));
        let mover = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut limit = 1;
                while !stop.load(Ordering::Relaxed) {
                    limiter.set_limit(limit);
                    limit = limit % 64 + 7;
                    thread::yield_now();
                }
                limiter.set_limit(64);
            })
        };
        let producer = thread::spawn(move || {
            let mut batch = Vec::with_capacity(16);
            let mut next = 0;
            while next < items {
                batch.extend(next..(next + 16).min(items));
                next += batch.len() as u64;
                sender.send_many(&mut batch).unwrap();
            }
        });
        let mut expected = 0;
        for item in receiver.iter() {
            assert_eq!(item, expected);
            expected += 1;
        }
        assert_eq!(expected, items);
        stop.store(true, Ordering::Relaxed);
        producer.join().unwrap();
        mover.join().unwrap();
    });
}
