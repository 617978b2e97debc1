//! loom models of weir-backpressure's `PriorityQueue`: a popper waiting in `pop_wait` is not
//! left asleep by a push, and each item comes out once, at its level.
//!
//! Waiting goes through the crate's `Park` strategy, which under loom sleeps on a loom mutex and
//! condition variable: a lost wake-up leaves the popper asleep with nobody to wake it, which
//! loom reports as a deadlock.

#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use loom_tests::model;
use weir_backpressure::priority::PriorityQueue;
use weir_backpressure::wait::Park;

/// Property: no lost wake-up, no lost or duplicated item. One thread pushes an item at the low
/// level and then one at the high level; the main thread waits for both with `pop_wait`. Each
/// arrives exactly once with the level it was pushed at.
#[test]
fn pop_wait_is_woken_by_every_push() {
    model(|| {
        let queue = Arc::new(PriorityQueue::new(2, 2));
        let pusher = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                queue.push(1, 10).unwrap();
                queue.push(0, 20).unwrap();
            })
        };
        let mut got = [queue.pop_wait(&Park, None), queue.pop_wait(&Park, None)];
        pusher.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [Some((0, 20)), Some((1, 10))]);
        assert!(queue.is_empty());
    });
}

/// Property: no lost wake-up for a pusher. The level holds one item and is full; a thread waits
/// in `push_wait` to add a second while the main thread pops both: the pop that makes room wakes
/// the pusher, and both items come out once, in order.
#[test]
fn push_wait_is_woken_by_a_pop() {
    model(|| {
        let queue = Arc::new(PriorityQueue::new(1, 1));
        queue.push(0, 1).unwrap();
        let pusher = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push_wait(0, 2, &Park, None).unwrap())
        };
        assert_eq!(queue.pop_wait(&Park, None), Some((0, 1)));
        assert_eq!(queue.pop_wait(&Park, None), Some((0, 2)));
        pusher.join().unwrap();
    });
}
