//! loom models of weir-backpressure's blocking channels: disconnection racing a blocked send
//! and a blocked receive, and wake-ups between a full or empty queue's two sides.
//!
//! A lost wake-up leaves a thread asleep forever, which loom reports as a deadlock; a lost item
//! or one dropped twice fails the models' counts. The queues underneath (weir-ring's ring and
//! weir-mpmc's queue) are built under loom too, so their own orderings are part of each model.

#![cfg(loom)]

use loom::thread;
use loom_tests::{model, DropCounter};
use std::sync::mpsc::{RecvError, SendError};
use weir_backpressure::{mpmc, spsc, SendTimeoutError};

/// The sender sends one item and leaves while the receiver may be asleep on the empty
/// channel: the receiver gets the item, then `RecvError`, and never sleeps through the
/// disconnection. The item is dropped once.
#[test]
fn spsc_receiver_drains_then_sees_the_sender_gone() {
    model(|| {
        let drops = DropCounter::default();
        let (sender, receiver) = spsc::channel(1);
        let item = drops.item(7);
        let producer = thread::spawn(move || {
            sender.send(item).unwrap();
        });
        assert_eq!(receiver.recv().unwrap().value, 7);
        assert_eq!(receiver.recv().err(), Some(RecvError));
        producer.join().unwrap();
        assert_eq!(drops.dropped(), 1);
    });
}

/// The sender fills the channel and blocks on a second item while the receiver takes one item
/// and leaves: the sender's later sends end in `SendError` with their item, not in a sleep
/// nobody ends. Every item is dropped exactly once, whether it was received, handed back, or
/// left in the ring.
#[test]
fn spsc_blocked_sender_sees_the_receiver_gone() {
    model(|| {
        let drops = DropCounter::default();
        let (sender, receiver) = spsc::channel(1);
        sender.send(drops.item(0)).unwrap();
        let consumer = thread::spawn(move || {
            assert_eq!(receiver.recv().unwrap().value, 0);
        });
        let mut next = 1;
        let returned = loop {
            match sender.send(drops.item(next)) {
                Ok(()) => next += 1,
                Err(SendError(item)) => break item,
            }
        };
        assert_eq!(returned.value, next);
        // At most one more item fit: the ring's one slot, freed by the receiver.
        assert!(next <= 2);
        drop(returned);
        consumer.join().unwrap();
        drop(sender);
        assert_eq!(drops.dropped(), next as usize + 1);
    });
}

/// Two senders send one item each and leave, one of them on the receiver's thread; the
/// receiver gets both, then `RecvError`. Whichever sender leaves last, its disconnection must
/// carry the other sender's item with it (the count's release sequence).
#[test]
fn mpmc_receiver_drains_two_senders_then_sees_them_gone() {
    model(|| {
        let (sender, receiver) = mpmc::channel(2);
        let other = sender.clone();
        let second = thread::spawn(move || other.send(2).unwrap());
        sender.send(1).unwrap();
        drop(sender);
        let mut sum = 0;
        while let Ok(item) = receiver.recv() {
            sum += item;
        }
        assert_eq!(sum, 3);
        second.join().unwrap();
    });
}

/// A sender blocked on a full channel of capacity 1 is woken by each receive: two items go
/// through a one-slot channel, in order.
#[test]
fn mpmc_blocked_sender_is_woken_by_a_receive() {
    model(|| {
        let (sender, receiver) = mpmc::channel(1);
        let producer = thread::spawn(move || {
            sender.send(1).unwrap();
            sender.send(2).unwrap();
        });
        assert_eq!(receiver.recv(), Ok(1));
        assert_eq!(receiver.recv(), Ok(2));
        producer.join().unwrap();
    });
}

/// A receiver blocked in `recv` while the other receiver and the sender leave: the sender's
/// disconnection wakes it.
#[test]
fn mpmc_blocked_receiver_sees_the_sender_gone() {
    model(|| {
        let (sender, receiver) = mpmc::channel::<u8>(1);
        let other = receiver.clone();
        let waiting = thread::spawn(move || other.recv());
        drop(receiver);
        drop(sender);
        assert_eq!(waiting.join().unwrap(), Err(RecvError));
    });
}

/// Rendezvous (capacity 0), no early return and no lost wake-up: the sender hands over two
/// items and leaves; a send returns only after its item was taken (before the receiver's `k`-th
/// receive, at most `k - 1` sends have returned), both items arrive in order, and the receiver,
/// possibly asleep, then sees the sender gone. The sender's second item goes into the slot the
/// receiver read the first from: the take must happen before that write (loom checks the slot).
#[test]
fn spsc_rendezvous_send_returns_only_after_the_receive() {
    model(|| {
        let (sender, receiver) = spsc::channel(0);
        let returned = loom::sync::Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let producer = {
            let returned = returned.clone();
            thread::spawn(move || {
                for item in 1..=2 {
                    sender.send(item).unwrap();
                    returned.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        };
        for (taken, item) in (1..=2).enumerate() {
            assert!(returned.load(std::sync::atomic::Ordering::SeqCst) <= taken);
            assert_eq!(receiver.recv(), Ok(item));
        }
        assert_eq!(receiver.recv(), Err(RecvError));
        producer.join().unwrap();
    });
}

/// Rendezvous, the receiver leaving: it looks once for an offered item and leaves, while the
/// sender may be asleep waiting for a taker. The sender either had its item taken (`Ok`) or gets
/// it back in `SendError`, never sleeps through the disconnection, and the item is dropped
/// exactly once either way.
#[test]
fn spsc_rendezvous_sender_gets_its_item_back_when_the_receiver_leaves() {
    model(|| {
        let drops = DropCounter::default();
        let (sender, receiver) = spsc::channel(0);
        let consumer = thread::spawn(move || receiver.try_recv().is_ok());
        let sent = sender.send(drops.item(7));
        let took = consumer.join().unwrap();
        match sent {
            Ok(()) => assert!(took),
            Err(SendError(item)) => {
                assert!(!took);
                assert_eq!(item.value, 7);
            }
        }
        assert_eq!(drops.dropped(), 1);
    });
}

/// Rendezvous between two senders: the main thread's send gives up at once (its deadline has
/// passed) and takes its item back out of the slot, while the other sender waits to offer its
/// own, which the main thread then receives. The other sender writes the slot after the main
/// thread read its item back from it, which only the emptying of the slot orders (loom checks
/// the slot).
#[test]
fn mpmc_rendezvous_a_withdrawn_item_frees_the_slot_for_another_sender() {
    model(|| {
        let (sender, receiver) = mpmc::channel(0);
        let other = sender.clone();
        let second = thread::spawn(move || other.send(2).unwrap());
        let late = sender.send_deadline(1, std::time::Instant::now());
        assert_eq!(late, Err(SendTimeoutError::Timeout(1)));
        assert_eq!(receiver.recv(), Ok(2));
        second.join().unwrap();
    });
}

/// A soft limit raised while the sender may be blocked at the old one (nothing is received
/// before the sender is joined, so only the raise can let it go on): the sender wakes, and
/// both items arrive once, in order. A lost wake-up is a deadlock loom reports.
#[test]
fn spsc_raised_limit_wakes_a_blocked_sender() {
    model(|| {
        let (sender, receiver) = spsc::channel(2);
        sender.set_limit(1);
        let limiter = receiver.limiter();
        let producer = thread::spawn(move || {
            sender.send(1).unwrap();
            sender.send(2).unwrap();
        });
        limiter.set_limit(2);
        producer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(1));
        assert_eq!(receiver.try_recv(), Ok(2));
    });
}

/// The same through the MPMC channel, with the batch send the pipeline uses, and the limit
/// lowered under the queued item first: nothing queued is lost, and the raise still wakes
/// the sender.
#[test]
fn mpmc_raised_limit_wakes_a_blocked_batch_sender() {
    model(|| {
        let (sender, receiver) = mpmc::channel(2);
        sender.send(0).unwrap();
        let limiter = receiver.limiter();
        let producer = thread::spawn(move || {
            let mut batch = vec![1];
            sender.send_many(&mut batch).unwrap();
        });
        limiter.set_limit(1);
        limiter.set_limit(2);
        producer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(0));
        assert_eq!(receiver.try_recv(), Ok(1));
    });
}
