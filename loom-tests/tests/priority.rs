//! loom models of weir-backpressure's `PriorityQueue`: a popper waiting in `pop_wait` is not
//! left asleep by a push or a close, each item comes out once, at its level, and none is left
//! behind a close.
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

/// A queue of two levels of two, and a thread that pushes `item` at `level` and then closes
/// the queue.
fn push_then_close(level: usize, item: u32) -> (Arc<PriorityQueue<u32>>, thread::JoinHandle<()>) {
    let queue = Arc::new(PriorityQueue::new(2, 2));
    let pusher = {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            queue.push(level, item).unwrap();
            queue.close();
        })
    };
    (queue, pusher)
}

/// Property: nothing is left behind a close, and the close wakes a waiting popper. One thread
/// pushes an item and closes the queue; the main thread pops with `pop_wait` until it returns
/// `None`. It must get the item first: a popper that sees the close must see the push before it
/// (the SeqCst fence of the push's notify, ahead of the close's Relaxed store, and `pop_wait`'s
/// Acquire load), and one asleep must be woken by the close.
#[test]
fn close_leaves_no_item_behind_and_wakes_the_popper() {
    model(|| {
        let (queue, pusher) = push_then_close(1, 10);
        let got: Vec<_> = std::iter::from_fn(|| queue.pop_wait(&Park, None)).collect();
        pusher.join().unwrap();
        assert_eq!(got, [(1, 10)]);
        assert!(queue.is_closed());
    });
}

/// Property: `is_closed` returning `true` means every push before the close is visible. One
/// thread pushes an item and closes the queue; the main thread waits (yielding) until it sees
/// the close, then pops without waiting: the item must be there.
#[test]
fn a_close_seen_shows_every_push_before_it() {
    model(|| {
        let (queue, pusher) = push_then_close(0, 7);
        while !queue.is_closed() {
            thread::yield_now();
        }
        assert_eq!(queue.pop(), Some((0, 7)));
        pusher.join().unwrap();
    });
}
