//! Drops: every item is dropped exactly once, whoever ends up owning it: items left in the
//! ring when the handles go (in either order, wrapped around the buffer end, on other threads),
//! items popped, handed back in `Full`, released from a chunk (also when a destructor panics),
//! or committed by a `fill_from_iter` whose iterator panicked.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use weir_ring::{channel, Consumer, Full, Producer};
use weir_test_support::{scaled, Counted, DropLog};

/// A ring of `capacity` whose positions were moved on by `offset` (with items that are popped
/// and dropped), then filled with the items `ids`.
fn ring_with(
    log: &Arc<DropLog>,
    capacity: usize,
    offset: usize,
    ids: impl IntoIterator<Item = usize>,
) -> (Producer<Counted>, Consumer<Counted>) {
    let (mut producer, mut consumer) = channel(capacity);
    for _ in 0..offset {
        // Item 0 is the scratch item for moving the positions; its drops are not checked.
        producer.try_push(Counted::new(log, 0)).unwrap();
        drop(consumer.try_pop().unwrap());
    }
    for id in ids {
        producer.try_push(Counted::new(log, id)).unwrap();
    }
    (producer, consumer)
}

/// The drop counts, not counting scratch item 0.
fn assert_dropped(log: &DropLog, ids: impl IntoIterator<Item = usize>) {
    let mut ids: Vec<usize> = ids.into_iter().collect();
    ids.extend(std::iter::repeat_n(0, log.count(0)));
    log.assert_dropped_exactly(ids);
}

#[derive(Clone, Copy, Debug)]
enum Order {
    ProducerFirst,
    ConsumerFirst,
}

const ORDERS: [Order; 2] = [Order::ProducerFirst, Order::ConsumerFirst];

fn drop_in_order(order: Order, producer: Producer<Counted>, consumer: Consumer<Counted>) {
    match order {
        Order::ProducerFirst => {
            drop(producer);
            drop(consumer);
        }
        Order::ConsumerFirst => {
            drop(consumer);
            drop(producer);
        }
    }
}

#[test]
fn items_left_behind_are_dropped_once_in_either_order() {
    let capacity = 4;
    for order in ORDERS {
        // Every offset (so the items left behind wrap the buffer end or not) and every count.
        for offset in 0..capacity {
            for left in 0..=capacity {
                let log = DropLog::new(capacity + 1);
                let (producer, consumer) = ring_with(&log, capacity, offset, 1..=left);
                assert_dropped(&log, []);
                drop_in_order(order, producer, consumer);
                assert_dropped(&log, 1..=left);
            }
        }
    }
}

#[test]
fn the_first_handle_to_go_drops_nothing() {
    for order in ORDERS {
        let log = DropLog::new(4);
        let (producer, consumer) = ring_with(&log, 3, 2, 1..=3);
        let survivor_is_producer = matches!(order, Order::ConsumerFirst);
        let (keep_p, keep_c) = if survivor_is_producer {
            drop(consumer);
            (Some(producer), None)
        } else {
            drop(producer);
            (None, Some(consumer))
        };
        assert_dropped(&log, []);
        drop((keep_p, keep_c));
        assert_dropped(&log, 1..=3);
    }
}

#[test]
fn popped_items_are_not_dropped_again() {
    for order in ORDERS {
        let log = DropLog::new(7);
        let (mut producer, mut consumer) = ring_with(&log, 3, 0, 1..=3);
        let first = consumer.try_pop().unwrap();
        assert_eq!(first.id, 1);
        assert_dropped(&log, []);
        drop(first);
        assert_dropped(&log, [1]);
        // Push more so the ring wraps, pop some of those too.
        producer.try_push(Counted::new(&log, 4)).unwrap();
        let popped: Vec<Counted> = consumer.drain().take(2).collect();
        assert_eq!(popped.iter().map(|c| c.id).collect::<Vec<_>>(), [2, 3]);
        producer.try_push(Counted::new(&log, 5)).unwrap();
        producer.try_push(Counted::new(&log, 6)).unwrap();
        assert_dropped(&log, [1]);
        drop_in_order(order, producer, consumer);
        // Items 4, 5, 6 were in the ring; 2 and 3 are still held here.
        assert_dropped(&log, [1, 4, 5, 6]);
        drop(popped);
        assert_dropped(&log, 1..=6);
    }
}

#[test]
fn full_hands_the_item_back_undropped() {
    let log = DropLog::new(3);
    let (mut producer, consumer) = channel(1);
    producer.try_push(Counted::new(&log, 1)).unwrap();
    let Full(back) = producer.try_push(Counted::new(&log, 2)).unwrap_err();
    assert_eq!(back.id, 2);
    assert_dropped(&log, []);
    drop(back);
    assert_dropped(&log, [2]);
    drop((producer, consumer));
    assert_dropped(&log, [1, 2]);
}

#[test]
fn handles_dropped_on_other_threads() {
    let capacity = 5;
    let rounds = scaled(200, 10);
    for round in 0..rounds {
        let order = ORDERS[round % 2];
        let log = DropLog::new(capacity + 1);
        // Offset 3 of 5 with 4 items: the items wrap the buffer end.
        let (producer, consumer) = ring_with(&log, capacity, 3, 1..=4);
        match round % 3 {
            // Both handles go to one other thread and are dropped there.
            0 => thread::spawn(move || drop_in_order(order, producer, consumer))
                .join()
                .unwrap(),
            // One handle is dropped on another thread, the other here.
            1 => {
                let (here, there): (Box<dyn Send>, Box<dyn Send>) = match order {
                    Order::ProducerFirst => (Box::new(consumer), Box::new(producer)),
                    Order::ConsumerFirst => (Box::new(producer), Box::new(consumer)),
                };
                thread::spawn(move || drop(there)).join().unwrap();
                assert_dropped(&log, []);
                drop(here);
            }
            // Each handle on its own thread, dropped at the same time: whichever is last
            // frees the ring, and nothing is dropped twice or leaked.
            _ => {
                let barrier = Arc::new(std::sync::Barrier::new(2));
                let b = Arc::clone(&barrier);
                let p = thread::spawn(move || {
                    b.wait();
                    drop(producer);
                });
                let b = Arc::clone(&barrier);
                let c = thread::spawn(move || {
                    b.wait();
                    drop(consumer);
                });
                p.join().unwrap();
                c.join().unwrap();
            }
        }
        assert_dropped(&log, 1..=4);
    }
}

#[test]
fn items_pushed_on_one_thread_left_for_the_other_to_drop() {
    // The producer pushes on its thread and leaves; the consumer pops some on another thread
    // and drops the rest with itself.
    let log = DropLog::new(101);
    let (mut producer, mut consumer) = channel::<Counted>(64);
    let l = Arc::clone(&log);
    thread::spawn(move || {
        for id in 1..=100 {
            let mut item = Counted::new(&l, id);
            while let Err(Full(back)) = producer.try_push(item) {
                item = back;
                thread::yield_now();
            }
        }
    });
    let mut next = 1;
    while next <= 50 {
        if let Some(item) = consumer.try_pop() {
            assert_eq!(item.id, next);
            next += 1;
        } else {
            thread::yield_now();
        }
    }
    while !consumer.is_abandoned() {
        thread::yield_now();
    }
    assert_dropped(&log, 1..=50);
    thread::spawn(move || drop(consumer)).join().unwrap();
    assert_dropped(&log, 1..=100);
}

#[test]
fn release_drops_exactly_k() {
    let capacity = 5;
    for offset in 0..capacity {
        for filled in 0..=capacity {
            for k in 0..=filled {
                let log = DropLog::new(capacity + 1);
                let (producer, mut consumer) = ring_with(&log, capacity, offset, 1..=filled);
                let chunk = consumer.read_chunk(capacity);
                assert_eq!(chunk.len(), filled);
                chunk.release(k);
                assert_dropped(&log, 1..=k);
                assert_eq!(consumer.len(), filled - k);
                assert_eq!(consumer.peek().map(|c| c.id), (k < filled).then_some(k + 1));
                drop((producer, consumer));
                assert_dropped(&log, 1..=filled);
            }
        }
    }
}

/// A ring of 4 whose positions start at `offset`, holding items 1 to 4, of which `bomb` panics
/// when dropped.
fn ring_with_a_bomb(
    log: &std::sync::Arc<DropLog>,
    offset: usize,
    bomb: usize,
) -> (weir_ring::Producer<Counted>, weir_ring::Consumer<Counted>) {
    let (mut producer, mut consumer) = channel::<Counted>(4);
    for _ in 0..offset {
        producer.try_push(Counted::new(log, 0)).unwrap();
        drop(consumer.try_pop());
    }
    for id in 1..=4 {
        let item = if id == bomb {
            Counted::bomb(log, id)
        } else {
            Counted::new(log, id)
        };
        producer.try_push(item).unwrap();
    }
    (producer, consumer)
}

#[test]
fn panicking_drop_inside_release() {
    // The ring of 4 starts at offset 2, so items 1, 2 sit before the buffer end and 3, 4 after:
    // the panicking item is in either part, and the drop spans both.
    for bomb in 1..=4 {
        let log = DropLog::new(8);
        let (mut producer, mut consumer) = ring_with_a_bomb(&log, 2, bomb);
        let result = catch_unwind(AssertUnwindSafe(|| consumer.read_chunk(4).release(4)));
        let message = result.expect_err("the destructor's panic must go on");
        assert_eq!(
            message.downcast_ref::<String>().map(String::as_str),
            Some(format!("Counted({bomb}) panics on drop").as_str())
        );
        // Every item was dropped exactly once, the panicking one included.
        assert_dropped(&log, 1..=4);
        // The slots were freed, and the ring goes on working.
        assert!(consumer.is_empty());
        assert_eq!(producer.slots(), 4);
        for id in 5..=7 {
            producer.try_push(Counted::new(&log, id)).unwrap();
        }
        assert_eq!(consumer.try_pop().map(|c| c.id), Some(5));
        drop((producer, consumer));
        assert_dropped(&log, 1..=7);
    }
}

#[test]
fn panicking_drop_inside_partial_release_keeps_the_rest() {
    let log = DropLog::new(5);
    let (mut producer, mut consumer) = channel::<Counted>(4);
    producer.try_push(Counted::new(&log, 1)).unwrap();
    producer.try_push(Counted::bomb(&log, 2)).unwrap();
    producer.try_push(Counted::new(&log, 3)).unwrap();
    producer.try_push(Counted::new(&log, 4)).unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| consumer.read_chunk(4).release(2)));
    assert!(result.is_err());
    assert_dropped(&log, [1, 2]);
    assert_eq!(consumer.len(), 2);
    assert_eq!(consumer.try_pop().map(|c| c.id), Some(3));
    drop((producer, consumer));
    assert_dropped(&log, 1..=4);
}

#[test]
fn fill_from_iter_panicking_iterator_items_dropped_once() {
    let log = DropLog::new(6);
    let (mut producer, mut consumer) = channel::<Counted>(5);
    let mut id = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let source = std::iter::from_fn(|| {
            id += 1;
            if id == 4 {
                panic!("iterator fails");
            }
            Some(Counted::new(&log, id))
        });
        producer.write_chunk(5).fill_from_iter(source)
    }));
    assert!(result.is_err());
    assert_dropped(&log, []);
    assert_eq!(consumer.len(), 3);
    assert_eq!(consumer.try_pop().map(|c| c.id), Some(1));
    assert_dropped(&log, [1]);
    drop((producer, consumer));
    assert_dropped(&log, 1..=3);
}

#[test]
fn drain_partially_consumed_leaves_the_rest_to_the_ring() {
    let log = DropLog::new(6);
    let (producer, mut consumer) = ring_with(&log, 5, 3, 1..=5);
    let taken: Vec<Counted> = consumer.drain().take(2).collect();
    assert_dropped(&log, []);
    assert_eq!(consumer.len(), 3);
    drop(consumer);
    drop(producer);
    assert_dropped(&log, 3..=5);
    drop(taken);
    assert_dropped(&log, 1..=5);
}

#[test]
fn uncommitted_chunk_slots_are_not_dropped() {
    // Only committed slots hold items: the ring drops those once and never touches the
    // uncommitted (here unwritten) rest of the chunk.
    let log = DropLog::new(4);
    let (mut producer, consumer) = channel::<Counted>(4);
    let mut chunk = producer.write_chunk(3);
    assert_eq!(chunk.len(), 3);
    let (first, _) = chunk.as_mut_slices();
    first[0].write(Counted::new(&log, 1));
    first[1].write(Counted::new(&log, 2));
    // SAFETY: the first two slots were written just above.
    unsafe { chunk.commit(2) };
    assert_eq!(producer.slots(), 2);
    drop((producer, consumer));
    assert_dropped(&log, [1, 2]);
}

#[test]
fn panicking_drop_when_the_last_handle_goes() {
    // Items left behind wrap the buffer end (offset 3 of 4); whichever item panics, the others
    // are still dropped once, and the ring's memory is freed (Miri's leak check sees that).
    for bomb in 1..=4 {
        for order in ORDERS {
            let log = DropLog::new(5);
            let (producer, consumer) = ring_with_a_bomb(&log, 3, bomb);
            let (first, last): (Box<dyn Send>, Box<dyn Send>) = match order {
                Order::ProducerFirst => (Box::new(producer), Box::new(consumer)),
                Order::ConsumerFirst => (Box::new(consumer), Box::new(producer)),
            };
            drop(first);
            let result = catch_unwind(AssertUnwindSafe(move || drop(last)));
            assert!(result.is_err(), "the destructor's panic must go on");
            assert_dropped(&log, 1..=4);
        }
    }
}

/// Items moved out by `try_pop_many` are dropped once, by their new owner; the rest once,
/// with the ring.
#[test]
fn pop_many_moves_items_out_without_dropping_them() {
    let log = DropLog::new(6);
    let (mut producer, mut consumer) = channel(4);
    for id in 0..4 {
        assert!(producer.try_push(Counted::new(&log, id)).is_ok());
    }
    let mut out = Vec::new();
    assert_eq!(consumer.try_pop_many(&mut out, 3), 3);
    assert_eq!(log.total(), 0);
    for id in 4..6 {
        assert!(producer.try_push(Counted::new(&log, id)).is_ok());
    }
    assert_eq!(consumer.try_pop_many(&mut out, 2), 2);
    assert_eq!(
        out.iter().map(|item| item.id).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    drop(out);
    log.assert_dropped_exactly(0..5);
    drop((producer, consumer));
    log.assert_dropped_exactly(0..6);
}
