//! What only the MPMC channel does: cloned senders and receivers, each item to exactly one
//! receiver, and the channel disconnecting when the last clone of a side is gone.

use std::sync::mpsc::{RecvError, SendError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use weir_backpressure::mpmc::channel;
use weir_test_support::{scaled, within, Tally};

const HANG: Duration = Duration::from_secs(30);

/// Producers × consumers over a small channel: every item received exactly once, and each
/// producer's items in the order it sent them as seen by each consumer.
fn exactly_once(producers: usize, consumers: usize, capacity: usize, batch: bool) {
    // Under Miri, 40 per producer: at least 80 items, four times round the largest ring (20).
    let per_producer = scaled(40_000, 40);
    let total = producers * per_producer;
    let tally = Arc::new(Tally::new(total));
    let (sender, receiver) = channel::<usize>(capacity);
    let tally_in = Arc::clone(&tally);
    within(HANG, move || {
        let senders: Vec<_> = (0..producers)
            .map(|p| {
                let sender = sender.clone();
                thread::spawn(move || {
                    let ids = (0..per_producer).map(|i| p * per_producer + i);
                    if batch {
                        let mut buffer = Vec::with_capacity(16);
                        let ids: Vec<usize> = ids.collect();
                        for chunk in ids.chunks(16) {
                            buffer.extend_from_slice(chunk);
                            sender.send_many(&mut buffer).unwrap();
                        }
                    } else {
                        for id in ids {
                            sender.send(id).unwrap();
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        let receivers: Vec<_> = (0..consumers)
            .map(|_| {
                let receiver = receiver.clone();
                let tally = Arc::clone(&tally_in);
                thread::spawn(move || {
                    let mut last_seen = vec![None; producers];
                    let mut note = |id: usize| {
                        let (producer, index) = (id / per_producer, id % per_producer);
                        assert!(last_seen[producer] < Some(index), "out of order");
                        last_seen[producer] = Some(index);
                        tally.see(id);
                    };
                    if batch {
                        let mut out = Vec::with_capacity(32);
                        while receiver.recv_many(&mut out, 32).is_ok() {
                            out.drain(..).for_each(&mut note);
                        }
                    } else {
                        receiver.iter().for_each(note);
                    }
                })
            })
            .collect();
        drop(receiver);
        for handle in senders.into_iter().chain(receivers) {
            handle.join().unwrap();
        }
    });
    tally.assert_each_seen_once();
}

#[test]
fn two_producers_one_consumer() {
    exactly_once(2, 1, 4, false);
}

#[test]
fn one_producer_two_consumers() {
    exactly_once(1, 2, 4, false);
}

#[test]
fn more_threads_than_cores() {
    exactly_once(4, 4, 8, false);
}

#[test]
fn batches_across_threads() {
    exactly_once(3, 3, 20, true);
}

#[test]
fn disconnects_only_when_the_last_clone_of_a_side_is_gone() {
    let (sender, receiver) = channel(4);
    let second_sender = sender.clone();
    drop(sender);
    assert!(!receiver.is_disconnected());
    second_sender.send(1).unwrap();
    drop(second_sender);
    assert!(receiver.is_disconnected());
    let second_receiver = receiver.clone();
    drop(receiver);
    assert_eq!(second_receiver.recv(), Ok(1));
    assert_eq!(second_receiver.recv(), Err(RecvError));
}

#[test]
fn every_blocked_sender_learns_the_receivers_left() {
    let (sender, receiver) = channel(1);
    sender.send(0).unwrap();
    let blocked: Vec<_> = (1..=3)
        .map(|i| {
            let sender = sender.clone();
            thread::spawn(move || sender.send(i))
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    let second = receiver.clone();
    drop(receiver);
    drop(second);
    let mut back: Vec<i32> = within(HANG, move || {
        blocked
            .into_iter()
            .map(|handle| match handle.join().unwrap() {
                Err(SendError(item)) => item,
                Ok(()) => panic!("a send succeeded with no receiver left"),
            })
            .collect()
    });
    back.sort_unstable();
    assert_eq!(back, [1, 2, 3]);
}

#[test]
fn every_blocked_receiver_learns_the_senders_left() {
    let (sender, receiver) = channel::<u8>(1);
    let blocked: Vec<_> = (0..3)
        .map(|_| {
            let receiver = receiver.clone();
            thread::spawn(move || receiver.recv())
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    drop(sender);
    within(HANG, move || {
        for handle in blocked {
            assert_eq!(handle.join().unwrap(), Err(RecvError));
        }
    });
}
