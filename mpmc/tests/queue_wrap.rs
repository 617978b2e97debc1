//! The queue across the wrap of its positions at `usize::MAX`, which a real queue reaches only
//! after `2^64` pushes: queues made by `Queue::with_start_index` start a few positions before
//! it. Order against a `VecDeque` model, `len`, no loss under contention, and every item dropped
//! exactly once, with the oldest items before the wrap and the newest after it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use weir_mpmc::{Full, Queue};
use weir_test_support::{scaled, Counted, DropLog, Rng, Tally, Waiter};

mod common;

/// Capacities: 1, a power of two (no unused positions in a lap), and others.
fn capacities() -> &'static [usize] {
    if cfg!(miri) {
        &[1, 3, 4]
    } else {
        &[1, 2, 3, 4, 5, 7, 8]
    }
}

/// Starting positions up to two laps (`one_lap <= 2 * capacity`) before the wrap, so that
/// the wrap falls at every index and in every state from empty to full.
fn starts(capacity: usize) -> impl Iterator<Item = usize> {
    let step = if cfg!(miri) { 3 } else { 1 };
    (1..=4 * capacity)
        .step_by(step)
        .map(|back| usize::MAX - back + 1)
}

#[test]
fn start_index_is_a_valid_position() {
    // The index within the lap is clamped to the last slot; every start works.
    for &capacity in capacities() {
        for start in starts(capacity).chain([0, 1, usize::MAX / 2]) {
            let queue = Queue::with_start_index(capacity, start);
            assert_eq!(queue.capacity(), capacity);
            assert!(queue.is_empty());
            for i in 0..capacity {
                queue.try_push(i).unwrap();
                assert_eq!(queue.len(), i + 1);
            }
            assert!(queue.is_full());
            assert_eq!(queue.try_push(99), Err(Full(99)));
        }
    }
}

#[test]
#[should_panic(expected = "weir_mpmc::Queue::with_start_index: capacity must be at least 1")]
fn with_start_index_panics_on_capacity_zero() {
    let _ = Queue::<u8>::with_start_index(0, usize::MAX);
}

#[test]
fn fifo_across_the_wrap() {
    for &capacity in capacities() {
        for start in starts(capacity) {
            let queue = Queue::with_start_index(capacity, start);
            let mut next = 0;
            // Fill to the brim and empty, several laps, across the wrap.
            for _ in 0..4 {
                for i in 0..capacity {
                    assert_eq!(queue.len(), i);
                    queue.try_push(next + i).unwrap();
                }
                assert!(queue.is_full());
                for i in 0..capacity {
                    assert_eq!(queue.try_pop(), Some(next + i));
                }
                assert_eq!(queue.try_pop(), None);
                next += capacity;
            }
        }
    }
}

/// Random pushes, pops, forced pushes and batches across the wrap, against a `VecDeque`.
#[test]
fn matches_a_model_across_the_wrap() {
    let mut rng = Rng::new(0x3a9);
    for &capacity in capacities() {
        for start in starts(capacity) {
            let queue = Queue::with_start_index(capacity, start);
            common::matches_a_model(&queue, &mut rng, scaled(300, 12));
        }
    }
}

/// Items left inside when the queue drops, some pushed before the wrap and some after, are
/// dropped exactly once; so are those popped and evicted on the way.
#[test]
fn leftovers_across_the_wrap_dropped_once() {
    for &capacity in capacities() {
        for start in starts(capacity) {
            let items = 3 * capacity;
            let log = DropLog::new(items);
            {
                let queue = Queue::with_start_index(capacity, start);
                let mut popped = Vec::new();
                for id in 0..items {
                    if id % 3 == 2 {
                        popped.extend(queue.try_pop());
                    }
                    drop(queue.force_push(Counted::new(&log, id)));
                }
                assert_eq!(queue.len(), capacity);
                drop(popped);
            }
            log.assert_dropped_exactly(0..items);
        }
    }
}

/// Two producers and two consumers through a queue that starts just before the wrap: every
/// item arrives exactly once, in order per producer.
#[test]
fn no_loss_under_contention_across_the_wrap() {
    let per_producer = scaled(20_000, 40);
    for capacity in [1, 3, 8] {
        let queue = Queue::with_start_index(capacity, usize::MAX - 2);
        let tally = Tally::new(2 * per_producer);
        let popped = AtomicUsize::new(0);
        thread::scope(|s| {
            for p in 0..2 {
                let queue = &queue;
                s.spawn(move || {
                    let mut waiter = Waiter::default();
                    for i in 0..per_producer {
                        let mut item = p * per_producer + i;
                        while let Err(full) = queue.try_push(item) {
                            item = full.into_inner();
                            waiter.wait();
                        }
                        waiter.reset();
                    }
                });
            }
            for _ in 0..2 {
                let (queue, tally, popped) = (&queue, &tally, &popped);
                s.spawn(move || {
                    let mut last = [None; 2];
                    let mut waiter = Waiter::default();
                    while popped.load(Ordering::Relaxed) < 2 * per_producer {
                        let Some(item) = queue.try_pop() else {
                            waiter.wait();
                            continue;
                        };
                        waiter.reset();
                        popped.fetch_add(1, Ordering::Relaxed);
                        let producer = item / per_producer;
                        assert!(last[producer] < Some(item), "out of order");
                        last[producer] = Some(item);
                        tally.see(item);
                    }
                });
            }
        });
        tally.assert_each_seen_once();
        assert!(queue.is_empty());
    }
}

/// `into_iter` across the wrap: order, and the items left dropped once.
#[test]
fn into_iter_across_the_wrap() {
    for &capacity in capacities() {
        for start in starts(capacity) {
            let log = DropLog::new(capacity);
            let queue = Queue::with_start_index(capacity, start);
            for id in 0..capacity {
                queue.try_push(Counted::new(&log, id)).unwrap();
            }
            let mut items = queue.into_iter();
            let half: Vec<usize> = items.by_ref().take(capacity / 2).map(|c| c.id).collect();
            assert_eq!(half, (0..capacity / 2).collect::<Vec<_>>());
            assert_eq!(items.len(), capacity - capacity / 2);
            drop(items);
            log.assert_dropped_exactly(0..capacity);
        }
    }
}
