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
