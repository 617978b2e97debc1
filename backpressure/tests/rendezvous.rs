//! Channels of capacity 0: rendezvous, as `std::sync::mpsc::sync_channel(0)`. A send hands its
//! item straight to a receiver and returns only once one has taken it; `try_send` succeeds only
//! while a receiver waits; timeouts and disconnections hand the item back.
//!
//! The same tests run on `spsc` and `mpmc` (one module each, from one macro).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};
use std::thread;
use std::time::{Duration, Instant};
use weir_test_support::{scaled, within, Counted, DropLog};

/// A bound on a hang, never a measure of speed.
const HANG: Duration = Duration::from_secs(20);

/// Calls `try_send` until a receiver is there to take the item (a receiver blocked in `recv`
/// on another thread), or fails after `HANG`.
macro_rules! try_send_until_taken {
    ($sender:expr, $item:expr) => {{
        let give_up = Instant::now() + HANG;
        let mut item = $item;
        loop {
            match $sender.try_send(item) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => item = back,
                Err(TrySendError::Disconnected(_)) => panic!("the receiver left"),
            }
            assert!(Instant::now() < give_up, "no receiver came to wait");
            thread::sleep(Duration::from_millis(1));
        }
    }};
}

macro_rules! rendezvous_tests {
    ($flavour:ident) => {
        mod $flavour {
            use super::*;
            use weir_backpressure::wait::{Backoff, Spin};
            use weir_backpressure::$flavour::{channel, channel_with, try_channel};
            use weir_backpressure::SendTimeoutError;

            #[test]
            fn capacity_zero_makes_a_rendezvous_channel() {
                let (sender, receiver) = try_channel::<u8>(0).unwrap();
                assert_eq!((sender.capacity(), receiver.capacity()), (0, 0));
                assert_eq!((sender.len(), receiver.len()), (0, 0));
                assert!(sender.is_full() && receiver.is_empty());
                let (sender, _receiver) = channel::<u8>(0);
                assert_eq!(sender.capacity(), 0);
            }

            /// std's promise: a send returns only after its item was taken by a receive that
            /// had started.
            #[test]
            fn send_returns_only_once_a_receiver_took_the_item() {
                let (sender, receiver) = channel(0);
                let returned = &AtomicUsize::new(0);
                let rounds = scaled(200, 10);
                thread::scope(|s| {
                    s.spawn(move || {
                        for i in 0..rounds {
                            sender.send(i).unwrap();
                            returned.fetch_add(1, Ordering::SeqCst);
                        }
                    });
                    for i in 0..rounds {
                        if i % 50 == 0 {
                            // Time for a send that did not wait for its receive to return.
                            thread::sleep(Duration::from_millis(2));
                        }
                        // i items taken so far: at most i sends may have returned.
                        assert!(
                            returned.load(Ordering::SeqCst) <= i,
                            "a send returned early"
                        );
                        assert_eq!(receiver.recv_timeout(HANG), Ok(i));
                    }
                });
                assert_eq!(returned.load(Ordering::SeqCst), rounds);
            }

            #[test]
            fn try_send_needs_a_waiting_receiver() {
                let (sender, receiver) = channel(0);
                assert_eq!(sender.try_send(1), Err(TrySendError::Full(1)));
                assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
                let waiting = thread::spawn(move || {
                    let got = receiver.recv_timeout(HANG);
                    (got, receiver)
                });
                try_send_until_taken!(sender, 2);
                let (got, receiver) = waiting.join().unwrap();
                assert_eq!(got, Ok(2));
                // Nobody waits any more.
                assert_eq!(sender.try_send(3), Err(TrySendError::Full(3)));
                drop(receiver);
                assert_eq!(sender.try_send(4), Err(TrySendError::Disconnected(4)));
            }

            #[test]
            fn try_recv_takes_from_a_blocked_sender() {
                let (sender, receiver) = channel(0);
                let sending = thread::spawn(move || sender.send(5));
                let give_up = Instant::now() + HANG;
                let got = loop {
                    match receiver.try_recv() {
                        Ok(item) => break item,
                        Err(TryRecvError::Empty) => {
                            assert!(Instant::now() < give_up, "the sender never offered");
                            thread::sleep(Duration::from_millis(1));
                        }
                        Err(TryRecvError::Disconnected) => panic!("the sender left"),
                    }
                };
                assert_eq!(got, 5);
                assert_eq!(within(HANG, move || sending.join().unwrap()), Ok(()));
                assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
            }

            #[test]
            fn timeouts_hand_the_item_back() {
                let (sender, receiver) = channel(0);
                assert_eq!(
                    sender.send_timeout(1, Duration::from_millis(10)),
                    Err(SendTimeoutError::Timeout(1))
                );
                assert_eq!(
                    sender.send_deadline(2, Instant::now()),
                    Err(SendTimeoutError::Timeout(2))
                );
                assert_eq!(
                    receiver.recv_timeout(Duration::from_millis(10)),
                    Err(RecvTimeoutError::Timeout)
                );
                // A timed-out send left nothing behind.
                assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
            }

            #[test]
            fn a_blocked_send_gets_its_item_back_when_the_receiver_leaves() {
                let log = DropLog::new(1);
                let (sender, receiver) = channel(0);
                let blocked = {
                    let item = Counted::new(&log, 0);
                    thread::spawn(move || sender.send(item).map_err(|SendError(item)| item.id))
                };
                thread::sleep(Duration::from_millis(20));
                drop(receiver);
                assert_eq!(within(HANG, move || blocked.join().unwrap()), Err(0));
                log.assert_dropped_exactly([0]);
            }

            #[test]
            fn a_blocked_receive_learns_the_sender_left() {
                let (sender, receiver) = channel::<u8>(0);
                let blocked = thread::spawn(move || receiver.recv());
                thread::sleep(Duration::from_millis(20));
                drop(sender);
                assert_eq!(
                    within(HANG, move || blocked.join().unwrap()),
                    Err(RecvError)
                );
            }

            #[test]
            fn every_item_goes_through_in_order_with_each_wait_strategy() {
                let items = scaled(2_000, 20) as u64;
                fn run<W: weir_backpressure::wait::WaitStrategy>(items: u64, wait: W) {
                    let (sender, receiver) = channel_with(0, wait);
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
                    assert_eq!(received, (0..items).collect::<Vec<_>>());
                }
                run(items, weir_backpressure::wait::Park);
                run(items, Backoff);
                if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
                    run(items, Spin);
                }
            }

            #[test]
            fn batches_go_one_item_at_a_time() {
                let (sender, receiver) = channel(0);
                let done = &AtomicBool::new(false);
                thread::scope(|s| {
                    s.spawn(move || {
                        let mut batch = vec![1, 2, 3];
                        sender.send_many(&mut batch).unwrap();
                        assert!(batch.is_empty());
                        done.store(true, Ordering::SeqCst);
                    });
                    let mut out = Vec::new();
                    while out.len() < 3 {
                        assert!(!done.load(Ordering::SeqCst), "send_many returned early");
                        assert_eq!(receiver.recv_many(&mut out, 10), Ok(1));
                    }
                    assert_eq!(out, [1, 2, 3]);
                });
            }

            #[test]
            fn every_item_is_dropped_once_wherever_it_ends() {
                let log = DropLog::new(4);
                let (sender, receiver) = channel::<Counted>(0);
                let consumer = thread::spawn(move || {
                    let first = receiver.recv_timeout(HANG).unwrap();
                    assert_eq!(first.id, 0);
                    // Leaves with a sender blocked on item 1.
                });
                sender.send(Counted::new(&log, 0)).unwrap();
                let back = sender.send(Counted::new(&log, 1)).unwrap_err().0;
                assert_eq!(back.id, 1);
                consumer.join().unwrap();
                assert!(sender.try_send(Counted::new(&log, 2)).is_err());
                assert!(sender.send_timeout(Counted::new(&log, 3), HANG).is_err());
                drop(back);
                drop(sender);
                log.assert_dropped_exactly(0..4);
            }
        }
    };
}

rendezvous_tests!(spsc);
rendezvous_tests!(mpmc);

/// Several senders and receivers on one rendezvous channel: every item exactly once.
#[test]
fn mpmc_rendezvous_delivers_each_item_once() {
    let per_sender = scaled(500, 10);
    let (sender, receiver) = weir_backpressure::mpmc::channel(0);
    let total = within(HANG, move || {
        thread::scope(|s| {
            for t in 0..2 {
                let sender = sender.clone();
                s.spawn(move || {
                    for i in 0..per_sender {
                        sender.send(t * per_sender + i).unwrap();
                    }
                });
            }
            drop(sender);
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let receiver = receiver.clone();
                    s.spawn(move || receiver.iter().collect::<Vec<_>>())
                })
                .collect();
            drop(receiver);
            let mut all: Vec<usize> = workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect();
            all.sort_unstable();
            all
        })
    });
    assert_eq!(total, (0..2 * per_sender).collect::<Vec<_>>());
}
