//! No allocation per item: once a channel exists, sends and receives (single and batched, into
//! buffers with room) allocate nothing, on either flavour, including when an end has to wait.

use std::thread;
use weir_test_support::{allocations_in, scaled, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

macro_rules! no_alloc_tests {
    ($flavour:ident) => {
        mod $flavour {
            use super::*;

            #[test]
            fn sends_and_receives_allocate_nothing() {
                let (sender, receiver) = weir_backpressure::$flavour::channel(64);
                let mut batch = Vec::with_capacity(8);
                let mut out = Vec::with_capacity(8);
                let (n, ()) = allocations_in(|| {
                    for i in 0..scaled(50_000, 50) as u64 {
                        sender.send(i).unwrap();
                        sender.try_send(i).unwrap();
                        assert_eq!(receiver.recv(), Ok(i));
                        assert_eq!(receiver.try_recv(), Ok(i));
                        batch.extend([i, i, i]);
                        sender.send_many(&mut batch).unwrap();
                        out.clear();
                        assert_eq!(receiver.recv_many(&mut out, 8), Ok(3));
                    }
                });
                assert_eq!(n, 0, "allocations on the send/receive paths");
            }

            #[test]
            fn a_waiting_receiver_allocates_nothing() {
                let items = scaled(20_000, 50) as u64;
                let (sender, receiver) = weir_backpressure::$flavour::channel(2);
                let consumer = thread::spawn(move || {
                    allocations_in(|| {
                        let mut sum = 0;
                        while let Ok(item) = receiver.recv() {
                            sum += item;
                        }
                        sum
                    })
                });
                let (n, ()) = allocations_in(|| {
                    for i in 0..items {
                        sender.send(i).unwrap();
                    }
                    drop(sender);
                });
                let (m, sum) = consumer.join().unwrap();
                assert_eq!(sum, items * (items - 1) / 2);
                assert_eq!((n, m), (0, 0), "allocations by the sender and the receiver");
            }
        }
    };
}

no_alloc_tests!(spsc);
no_alloc_tests!(mpmc);
