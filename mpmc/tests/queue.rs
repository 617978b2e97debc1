//! The queue on one thread: order, capacity edges, errors, `force_push`, the batch forms, drop
//! counting and zero-sized items, checked against a `VecDeque` model where order matters.

use std::error::Error;

use weir_mpmc::{Full, Queue};
use weir_test_support::{scaled, Counted, DropLog, Rng};

mod common;

#[test]
fn fifo_order_at_every_capacity_edge() {
    let capacities: &[usize] = if cfg!(miri) {
        &[1, 2, 3, 8]
    } else {
        &[1, 2, 3, 4, 5, 7, 8, 9, 1000]
    };
    for &capacity in capacities {
        let queue = Queue::new(capacity);
        assert_eq!(queue.capacity(), capacity);
        // Several laps, filling to the brim each time.
        for lap in 0..scaled(5, 2) {
            for i in 0..capacity {
                assert_eq!(queue.len(), i);
                queue.try_push(lap * capacity + i).unwrap();
            }
            assert!(queue.is_full());
            assert_eq!(queue.try_push(usize::MAX), Err(Full(usize::MAX)));
            for i in 0..capacity {
                assert_eq!(queue.try_pop(), Some(lap * capacity + i));
            }
            assert!(queue.is_empty());
            assert_eq!(queue.try_pop(), None);
        }
    }
}

/// Random pushes, pops, forced pushes and batches, against a `VecDeque` of the same capacity.
#[test]
fn matches_a_model_under_random_operations() {
    let mut rng = Rng::new(0x5eed);
    for capacity in [1, 2, 3, 8, 13] {
        common::matches_a_model(&Queue::new(capacity), &mut rng, scaled(20_000, 60));
    }
}

#[test]
fn capacity_zero_is_an_error() {
    let err = Queue::<u64>::try_new(0).unwrap_err();
    assert_eq!(err.requested(), 0);
    assert_eq!(err.to_string(), "capacity must be at least 1");
}

#[test]
#[should_panic(expected = "weir_mpmc::Queue::new: capacity must be at least 1")]
fn new_panics_on_capacity_zero() {
    let _ = Queue::<u64>::new(0);
}

#[test]
fn capacity_too_large_is_an_error() {
    let err = Queue::<u64>::try_new(usize::MAX).unwrap_err();
    assert_eq!(err.requested(), usize::MAX);
    assert_eq!(
        err.to_string(),
        format!(
            "capacity {} is too large: at most {} items fit",
            usize::MAX,
            usize::MAX / 4
        )
    );
    // Within the limit, but not allocatable.
    let err = Queue::<[u8; 1024]>::try_new(usize::MAX / 8).unwrap_err();
    assert!(err.to_string().contains("cannot be allocated"), "{err}");
    // The error is a `std::error::Error`.
    let boxed: Box<dyn Error + Send + Sync> = Box::new(err);
    assert!(boxed.to_string().starts_with("capacity"));
}

#[test]
#[should_panic(expected = "weir_mpmc::Queue::new: capacity")]
fn new_panics_on_capacity_too_large() {
    let _ = Queue::<u64>::new(usize::MAX / 2);
}

/// An item that is neither `Debug` nor `Clone` nor `PartialEq`.
struct Opaque(u32);

#[test]
fn full_gives_the_item_back() {
    let queue = Queue::new(1);
    queue.try_push(Opaque(1)).unwrap();
    let err = queue.try_push(Opaque(2)).unwrap_err();
    assert_eq!(err.to_string(), "the queue is full");
    assert_eq!(err.into_inner().0, 2);
    assert_eq!(queue.try_pop().map(|item| item.0), Some(1));
}

#[test]
fn force_push_accounts_for_every_item() {
    let capacity = 4;
    let queue = Queue::new(capacity);
    let mut evicted = Vec::new();
    for i in 0..10 {
        evicted.extend(queue.force_push(i));
    }
    // 10 in, 4 left, the 6 oldest handed back in order.
    assert_eq!(evicted, [0, 1, 2, 3, 4, 5]);
    let mut left = Vec::new();
    assert_eq!(queue.try_pop_many(&mut left, usize::MAX), 4);
    assert_eq!(left, [6, 7, 8, 9]);
}

#[test]
fn batches_wrap_around_the_end() {
    let queue = Queue::new(5);
    let mut out = Vec::new();
    for round in 0..20u32 {
        let mut items: Vec<u32> = (round * 3..round * 3 + 3).collect();
        assert_eq!(queue.try_push_many(&mut items), 3);
        assert!(items.is_empty());
        out.clear();
        assert_eq!(queue.try_pop_many(&mut out, 3), 3);
        assert_eq!(out, [round * 3, round * 3 + 1, round * 3 + 2]);
    }
    // Empty input and `max == 0` do nothing.
    assert_eq!(queue.try_push_many(&mut Vec::new()), 0);
    queue.try_push(1).unwrap();
    assert_eq!(queue.try_pop_many(&mut out, 0), 0);
    assert_eq!(queue.len(), 1);
}

#[test]
fn every_item_is_dropped_exactly_once() {
    let log = DropLog::new(15);
    {
        let queue = Queue::new(8);
        let mut id = 0;
        let mut popped = Vec::new();
        // Through every path: push, force_push (evicting), batch push, pop, batch pop.
        for _ in 0..5 {
            queue.try_push(Counted::new(&log, id)).unwrap();
            id += 1;
        }
        for _ in 0..6 {
            drop(queue.force_push(Counted::new(&log, id)));
            id += 1;
        }
        popped.extend(queue.try_pop());
        let mut batch: Vec<Counted> = (id..id + 4).map(|i| Counted::new(&log, i)).collect();
        id += 4;
        let pushed = queue.try_push_many(&mut batch);
        assert_eq!(pushed, 1);
        drop(batch); // the three that did not fit
        assert_eq!(queue.try_pop_many(&mut popped, 3), 3);
        assert_eq!(
            log.total(),
            3 + 3,
            "evicted by force_push, and the unfitting batch"
        );
        drop(popped);
        assert_eq!(log.total(), 6 + 4);
        // The queue still holds 5; dropping it drops them.
        assert_eq!(queue.len(), 5);
        assert_eq!(id, 15);
    }
    log.assert_dropped_exactly(0..15);
}

#[test]
fn a_panicking_destructor_does_not_leak_the_rest() {
    let log = DropLog::new(6);
    let queue = Queue::new(6);
    for id in 0..6 {
        let item = if id == 2 {
            Counted::bomb(&log, id)
        } else {
            Counted::new(&log, id)
        };
        queue.try_push(item).unwrap();
    }
    queue.try_pop().unwrap(); // item 0
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(queue)));
    assert!(result.is_err(), "item 2's destructor panics");
    log.assert_dropped_exactly(0..6);
}

#[test]
fn zero_sized_items() {
    let queue = Queue::new(3);
    assert_eq!(queue.try_push(()), Ok(()));
    assert_eq!(queue.try_push(()), Ok(()));
    assert_eq!(queue.try_push(()), Ok(()));
    assert_eq!(queue.try_push(()), Err(Full(())));
    assert_eq!(queue.force_push(()), Some(()));
    assert_eq!(queue.len(), 3);
    let mut out = Vec::new();
    assert_eq!(queue.try_pop_many(&mut out, 10), 3);
    assert_eq!(queue.try_pop(), None);
    // A huge capacity of a ZST still needs one stamp per slot, so it is refused cleanly.
    assert!(Queue::<()>::try_new(usize::MAX / 8).is_err());
}

#[test]
fn debug_shows_len_and_capacity() {
    let queue = Queue::new(3);
    queue.try_push(Opaque(0)).unwrap();
    assert_eq!(format!("{queue:?}"), "Queue { len: 1, capacity: 3, .. }");
}

#[test]
fn into_iter_yields_the_items_oldest_first() {
    let queue = Queue::new(4);
    // Start the items part-way round, so that they wrap round the end of the slots.
    for i in 0..3 {
        queue.try_push(i).unwrap();
        assert_eq!(queue.try_pop(), Some(i));
    }
    for i in 10..14 {
        queue.try_push(i).unwrap();
    }
    let mut items = queue.into_iter();
    assert_eq!(items.size_hint(), (4, Some(4)));
    assert_eq!(items.next(), Some(10));
    assert_eq!(items.len(), 3);
    assert_eq!(items.by_ref().collect::<Vec<_>>(), [11, 12, 13]);
    assert_eq!(items.next(), None);
    assert_eq!(format!("{items:?}"), "IntoIter { len: 0, .. }");
    let mut total = 0;
    for item in Queue::<u8>::new(1) {
        total += item;
    }
    assert_eq!(total, 0);
}

/// Items taken by the iterator are the caller's; those it never reached are dropped with it,
/// each exactly once.
#[test]
fn into_iter_drops_the_items_not_iterated_once() {
    for taken in 0..=5 {
        let log = DropLog::new(5);
        let queue = Queue::new(5);
        for id in 0..5 {
            queue.try_push(Counted::new(&log, id)).unwrap();
        }
        let mut items = queue.into_iter();
        for id in 0..taken {
            let item = items.next().unwrap();
            assert_eq!(item.id, id);
            drop(item);
            assert_eq!(log.total(), id + 1);
        }
        assert_eq!(log.total(), taken);
        drop(items);
        log.assert_dropped_exactly(0..5);
    }
}
