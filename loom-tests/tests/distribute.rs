//! loom models of weir-mpmc's distributors.
//!
//! The round-robin ticket is the one piece of shared state a distributor has (the others keep
//! theirs per sender): senders on several threads, each with its own clone of a `RoundRobin`
//! over the same queues, must take distinct tickets, so that one rotation covers them all.

#![cfg(loom)]

use std::sync::Arc;

use loom::thread;
use loom_tests::model;
use weir_mpmc::distribute::{Distributor, RoundRobin};
use weir_mpmc::Queue;

/// Three senders (two spawned, and the model's own thread) send one item each through clones
/// of one `RoundRobin` over three queues with room to spare: the tickets are distinct, so each
/// queue gets exactly one item and the returned indices are a permutation of 0, 1, 2. (With
/// room in every queue the fallback never runs, so a duplicated ticket would show as a queue
/// with two items.) The queues outlive the senders' clones, so their `Arc` is std's: only the
/// ticket's sharing matters here.
#[test]
fn senders_take_distinct_tickets() {
    model(|| {
        let queues: Vec<Arc<Queue<u32>>> = (0..3).map(|_| Arc::new(Queue::new(3))).collect();
        let rr = RoundRobin::new(queues.clone());
        let senders: Vec<_> = (1..3)
            .map(|id| {
                let mut rr = rr.clone();
                thread::spawn(move || rr.send(id).unwrap())
            })
            .collect();
        let mut rr = rr;
        let mut picked = vec![rr.send(0).unwrap()];
        picked.extend(senders.into_iter().map(|s| s.join().unwrap()));
        picked.sort_unstable();
        assert_eq!(picked, [0, 1, 2]);
        for queue in &queues {
            assert_eq!(queue.len(), 1);
        }
        let mut items: Vec<u32> = queues.iter().filter_map(|q| q.try_pop()).collect();
        items.sort_unstable();
        assert_eq!(items, [0, 1, 2]);
    });
}

/// Two senders, two items each, over two queues: every target gets its two turns (balanced
/// counts), whatever the interleaving, and nothing is lost.
#[test]
fn shared_rotation_stays_balanced() {
    model(|| {
        let queues: Vec<Arc<Queue<u32>>> = (0..2).map(|_| Arc::new(Queue::new(4))).collect();
        let rr = RoundRobin::new(queues.clone());
        let mut other = rr.clone();
        let sender = thread::spawn(move || {
            other.send(10).unwrap();
            other.send(11).unwrap();
        });
        let mut rr = rr;
        rr.send(0).unwrap();
        rr.send(1).unwrap();
        sender.join().unwrap();
        assert_eq!(queues[0].len(), 2);
        assert_eq!(queues[1].len(), 2);
    });
}
