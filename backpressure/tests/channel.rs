//! What both blocking channels promise, checked on each: std's errors with the item handed
//! back, draining after the senders leave, waking on disconnection, timeouts, batches, order,
//! and each item dropped exactly once.
//!
//! The same tests run on `spsc` and `mpmc` (one module each, from one macro); what only
//! `mpmc` can do (clones) is in `mpmc_channel.rs`.

use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};
use std::thread;
use std::time::{Duration, Instant};
use weir_test_support::{scaled, within, Counted, DropLog};

/// A bound on a hang, never a measure of speed.
const HANG: Duration = Duration::from_secs(20);

macro_rules! channel_tests {
    ($flavour:ident) => {
        mod $flavour {
            use super::*;
            use weir_backpressure::wait::{Backoff, Spin};
            use weir_backpressure::$flavour::{channel, channel_with, try_channel};
            use weir_backpressure::SendTimeoutError;

            /// Capacity 0 is a rendezvous (`rendezvous.rs`); only a capacity too large to
            /// allocate is an error.
            #[test]
            fn a_capacity_too_large_is_an_error() {
                let error = try_channel::<u64>(usize::MAX).unwrap_err();
                assert!(error.to_string().contains("too large"), "{error}");
                assert!(try_channel::<u8>(0).is_ok());
            }

            #[test]
            #[should_panic(expected = "::channel: capacity")]
            fn channel_of_a_capacity_too_large_panics() {
                let _ = channel::<u64>(usize::MAX);
            }

            #[test]
            fn try_send_hands_the_item_back_when_full_or_disconnected() {
                let (sender, receiver) = channel(2);
                assert_eq!(sender.capacity(), 2);
                sender.try_send(1).unwrap();
                sender.try_send(2).unwrap();
                assert!(sender.is_full());
                assert_eq!(sender.try_send(3), Err(TrySendError::Full(3)));
                assert_eq!(receiver.len(), 2);
                drop(receiver);
                assert!(sender.is_disconnected());
                assert_eq!(sender.try_send(4), Err(TrySendError::Disconnected(4)));
                assert_eq!(sender.send(5), Err(SendError(5)));
                assert_eq!(
                    sender.send_timeout(6, Duration::from_secs(1)),
                    Err(SendTimeoutError::Disconnected(6))
                );
            }

            #[test]
            fn try_recv_tells_empty_from_disconnected_after_draining() {
                let (sender, receiver) = channel(4);
                assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
                sender.send('a').unwrap();
                sender.send('b').unwrap();
                drop(sender);
                assert!(receiver.is_disconnected());
                assert_eq!(receiver.try_recv(), Ok('a'));
                assert_eq!(receiver.recv(), Ok('b'));
                assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
                assert_eq!(receiver.recv(), Err(RecvError));
                assert_eq!(
                    receiver.recv_timeout(Duration::from_secs(1)),
                    Err(RecvTimeoutError::Disconnected)
                );
            }

            #[test]
            fn timeouts_give_up_and_hand_the_item_back() {
                let (sender, receiver) = channel(1);
                let start = Instant::now();
                assert_eq!(
                    receiver.recv_timeout(Duration::from_millis(20)),
                    Err(RecvTimeoutError::Timeout)
                );
                assert!(start.elapsed() >= Duration::from_millis(20));
                sender.send(1).unwrap();
                let start = Instant::now();
                assert_eq!(
                    sender.send_timeout(2, Duration::from_millis(20)),
                    Err(SendTimeoutError::Timeout(2))
                );
                assert!(start.elapsed() >= Duration::from_millis(20));
                assert!(start.elapsed() < HANG);
                // A deadline already past still looks once.
                assert_eq!(receiver.recv_deadline(Instant::now()), Ok(1));
                assert_eq!(sender.send_deadline(3, Instant::now()), Ok(()));
            }

            #[test]
            fn a_timed_receive_gets_an_item_sent_while_it_waits() {
                let (sender, receiver) = channel(1);
                let waiting = thread::spawn(move || receiver.recv_timeout(Duration::from_secs(30)));
                thread::sleep(Duration::from_millis(20));
                sender.send(9).unwrap();
                assert_eq!(waiting.join().unwrap(), Ok(9));
            }

            #[test]
            fn a_blocked_send_learns_the_receiver_left_and_gets_its_item_back() {
                let (sender, receiver) = channel(1);
                sender.send(1).unwrap();
                let blocked = thread::spawn(move || sender.send(2));
                thread::sleep(Duration::from_millis(20));
                drop(receiver);
                let result = within(HANG, move || blocked.join().unwrap());
                assert_eq!(result, Err(SendError(2)));
            }

            #[test]
            fn a_blocked_receive_learns_the_sender_left() {
                let (sender, receiver) = channel::<u8>(1);
                let blocked = thread::spawn(move || receiver.recv());
                thread::sleep(Duration::from_millis(20));
                drop(sender);
                let result = within(HANG, move || blocked.join().unwrap());
                assert_eq!(result, Err(RecvError));
            }

            #[test]
            fn one_sender_one_receiver_in_order() {
                // Under Miri, 64 items: four times round the ring of 16.
                let items = scaled(200_000, 64) as u64;
                let (sender, receiver) = channel(16);
                let received = within(HANG, move || {
                    let producer = thread::spawn(move || {
                        for i in 0..items {
                            sender.send(i).unwrap();
                        }
                    });
                    let received: Vec<u64> = receiver.iter().collect();
                    producer.join().unwrap();
                    received
                });
                assert!(received.iter().copied().eq(0..items));
            }

            #[test]
            fn batches_in_order_with_one_slot_or_many() {
                for capacity in [1, 7, 64] {
                    // Under Miri, twice round each ring and more (the blocking send of
                    // capacity 1 on every item), not 200 items for every capacity.
                    let items = scaled(50_000, 2 * capacity + 30);
                    let (sender, receiver) = channel(capacity);
                    let received = within(HANG, move || {
                        let producer = thread::spawn(move || {
                            let mut batch = Vec::with_capacity(10);
                            for start in (0..items).step_by(10) {
                                batch.extend(start..(start + 10).min(items));
                                sender.send_many(&mut batch).unwrap();
                                assert!(batch.is_empty());
                            }
                        });
                        let mut out = Vec::with_capacity(items);
                        while receiver.recv_many(&mut out, 13).is_ok() {}
                        producer.join().unwrap();
                        out
                    });
                    assert!(received.iter().copied().eq(0..items), "capacity {capacity}");
                }
            }

            #[test]
            fn send_many_leaves_what_it_could_not_send_when_the_receiver_leaves() {
                let (sender, receiver) = channel(2);
                let mut batch = vec![1, 2, 3, 4, 5];
                let blocked = thread::spawn(move || {
                    let result = sender.send_many(&mut batch);
                    (result, batch)
                });
                thread::sleep(Duration::from_millis(20));
                drop(receiver);
                let (result, left) = within(HANG, move || blocked.join().unwrap());
                assert_eq!(result, Err(SendError(())));
                assert_eq!(left, [3, 4, 5]);
            }

            #[test]
            fn recv_many_of_nothing_returns_at_once() {
                let (_sender, receiver) = channel::<u8>(2);
                assert_eq!(receiver.recv_many(&mut Vec::new(), 0), Ok(0));
            }

            #[test]
            fn iterators() {
                let (sender, receiver) = channel(8);
                for i in 0..5 {
                    sender.send(i).unwrap();
                }
                assert_eq!(receiver.try_iter().take(2).collect::<Vec<_>>(), [0, 1]);
                assert_eq!((&receiver).into_iter().next(), Some(2));
                drop(sender);
                assert_eq!(receiver.into_iter().collect::<Vec<_>>(), [3, 4]);
            }

            #[test]
            fn every_item_is_dropped_once_wherever_it_ends() {
                let log = DropLog::new(6);
                let (sender, receiver) = channel(3);
                for id in 0..3 {
                    sender.send(Counted::new(&log, id)).unwrap();
                }
                // Handed back: full.
                let back = sender.try_send(Counted::new(&log, 3)).unwrap_err();
                assert_eq!(log.total(), 0);
                drop(back);
                // Received.
                drop(receiver.recv().unwrap());
                drop(receiver);
                // Handed back: disconnected.
                let back = sender.send(Counted::new(&log, 4)).unwrap_err();
                drop(back);
                assert_eq!(log.total(), 3);
                // Left in the channel: dropped with its last end.
                drop(sender);
                log.assert_dropped_exactly([0, 1, 2, 3, 4]);
            }

            #[test]
            fn other_wait_strategies_deliver_the_same() {
                // Under Miri, 24 items: six times round each ring of 4 (the spinning waits cost Miri
                // most of this test's time).
                let items = scaled(20_000, 24) as u64;
                let (sender, receiver) = channel_with(4, Spin);
                let (back, replies) = channel_with(4, Backoff);
                let total = within(HANG, move || {
                    let echo = thread::spawn(move || {
                        for item in receiver {
                            back.send(item * 2).unwrap();
                        }
                    });
                    let feeder = thread::spawn(move || {
                        for i in 0..items {
                            sender.send(i).unwrap();
                        }
                    });
                    let total: u64 = replies.iter().sum();
                    feeder.join().unwrap();
                    echo.join().unwrap();
                    total
                });
                assert_eq!(total, items * (items - 1));
            }

            #[test]
            fn debug_shows_the_state() {
                let (sender, receiver) = channel::<u8>(2);
                sender.send(1).unwrap();
                let shown = format!("{sender:?}");
                assert!(shown.contains("len: 1"), "{shown}");
                assert!(format!("{receiver:?}").contains("capacity: 2"));
            }
        }
    };
}

channel_tests!(spsc);
channel_tests!(mpmc);

#[test]
fn park_early_channels_move_every_item_and_wake_sleepers() {
    use weir_backpressure::wait::ParkEarly;
    within(HANG, || {
        // Under Miri, 60 items: fifteen times round each ring of 4, parking on most of them.
        let n = scaled(100_000, 60) as u64;
        let (sender, receiver) = weir_backpressure::spsc::channel_with(4, ParkEarly);
        let (back, results) = weir_backpressure::mpmc::channel_with(4, ParkEarly);
        let producer = std::thread::spawn(move || {
            for i in 0..n {
                sender.send(i).unwrap();
            }
        });
        let relay = std::thread::spawn(move || {
            for item in receiver {
                back.send(item).unwrap();
            }
        });
        let received: Vec<u64> = results.iter().collect();
        producer.join().unwrap();
        relay.join().unwrap();
        assert_eq!(received, (0..n).collect::<Vec<_>>());
    });
}
