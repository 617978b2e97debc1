//! loom models of weir-ring's protocol.
//!
//! Every model runs a real producer and consumer on two loom threads. Slot accesses are reported
//! to loom (see `ring/src/sync.rs`), so an item read before its write was published, or a slot
//! written before the consumer was done with it, fails the model as a data race; the
//! assertions check that nothing is lost, duplicated, reordered or dropped twice.
//!
//! Between them the models need every Acquire and Release in the ring:
//! `../shared/tools/loom-mutants.sh . ring` weakens each one and checks that a model fails.

#![cfg(loom)]

use loom::thread;
use loom_tests::{model, DropCounter};
use weir_ring::{Consumer, Producer};

/// Pushes `item`, yielding to loom while the ring is full.
fn push<T>(producer: &mut Producer<T>, mut item: T) {
    while let Err(full) = producer.try_push(item) {
        item = full.into_inner();
        thread::yield_now();
    }
}

/// Pops one item, yielding to loom while the ring is empty.
fn pop<T>(consumer: &mut Consumer<T>) -> T {
    loop {
        if let Some(item) = consumer.try_pop() {
            return item;
        }
        thread::yield_now();
    }
}

/// No item lost, duplicated or reordered, and each dropped once, through a ring of one slot:
/// every push waits for the pop before it, and three items take the positions round their full
/// `2 * capacity` lap.
#[test]
fn push_pop_one_slot_keeps_order() {
    model(|| {
        let drops = DropCounter::default();
        let (mut producer, mut consumer) = weir_ring::channel(1);
        let items = drops.clone();
        let writer = thread::spawn(move || {
            for value in 0..3 {
                push(&mut producer, items.item(value));
            }
        });
        for expected in 0..3 {
            assert_eq!(pop(&mut consumer).value, expected);
        }
        writer.join().unwrap();
        drop(consumer);
        assert_eq!(drops.dropped(), 3);
    });
}

/// The same through chunks: the producer fills a write chunk of two slots across the end of a
/// ring of two while the consumer reads and releases chunks, so each chunk's slices are
/// published and freed by one store. Checks order, count and drops.
#[test]
fn chunks_across_the_wrap_keep_order() {
    model(|| {
        let drops = DropCounter::default();
        let (mut producer, mut consumer) = weir_ring::channel(2);
        let items = drops.clone();
        let writer = thread::spawn(move || {
            push(&mut producer, items.item(0));
            let mut next = 1;
            while next < 3 {
                // One slot is taken at first, so a chunk of two wraps round the end.
                let values = (next..3).map(|value| items.item(value));
                next += producer.write_chunk(2).fill_from_iter(values) as u32;
                thread::yield_now();
            }
        });
        let mut expected = 0;
        while expected < 3 {
            let chunk = consumer.read_chunk(2);
            let (first, second) = chunk.as_slices();
            for item in first.iter().chain(second) {
                assert_eq!(item.value, expected);
                expected += 1;
            }
            let n = chunk.len();
            chunk.release(n);
            thread::yield_now();
        }
        writer.join().unwrap();
        assert_eq!(drops.dropped(), 3);
    });
}

/// `try_pop_many` moves what is ready out in one step and frees its slots with one store: with
/// a ring of two and three items, the consumer's batches cross the end of the buffer while the
/// producer refills the slots just freed. Checks order, count and drops.
#[test]
fn pop_many_frees_slots_once_per_batch() {
    model(|| {
        let drops = DropCounter::default();
        let (mut producer, mut consumer) = weir_ring::channel(2);
        let items = drops.clone();
        let writer = thread::spawn(move || {
            for value in 0..3 {
                push(&mut producer, items.item(value));
            }
        });
        let mut out = Vec::with_capacity(3);
        while out.len() < 3 {
            if consumer.try_pop_many(&mut out, 2) == 0 {
                thread::yield_now();
            }
        }
        let values: Vec<u32> = out.iter().map(|item| item.value).collect();
        assert_eq!(values, [0, 1, 2]);
        drop(out);
        writer.join().unwrap();
        assert_eq!(drops.dropped(), 3);
    });
}

/// `push_slice`, `pop_slice`, `peek` and `slots` follow the same protocol: a consumer that peeks
/// then pops by slice sees every item in order, and a producer that waits on `slots()` before
/// writing never overwrites a slot the consumer still reads.
#[test]
fn slices_peek_and_slots_keep_order() {
    model(|| {
        let (mut producer, mut consumer) = weir_ring::channel::<u32>(2);
        let writer = thread::spawn(move || {
            assert_eq!(producer.push_slice(&[0, 1]), 2);
            while producer.slots() == 0 {
                thread::yield_now();
            }
            // `slots()` saw a free slot, so this push cannot fail.
            assert!(producer.try_push(2).is_ok());
        });
        let mut expected = 0;
        while expected < 3 {
            match consumer.peek() {
                Some(&front) => assert_eq!(front, expected),
                None => {
                    thread::yield_now();
                    continue;
                }
            }
            let mut out = [u32::MAX; 2];
            let n = consumer.pop_slice(&mut out);
            assert!(n >= 1, "peek saw an item, so pop_slice must get it");
            for value in &out[..n] {
                assert_eq!(*value, expected);
                expected += 1;
            }
        }
        writer.join().unwrap();
    });
}

/// A consumer that sees the producer gone then pops finds every item the producer pushed
/// before it went: none is lost to a stale view of the ring.
#[test]
fn abandoned_producer_leaves_every_item_visible() {
    model(|| {
        let (mut producer, mut consumer) = weir_ring::channel::<u32>(2);
        let writer = thread::spawn(move || {
            push(&mut producer, 7);
            push(&mut producer, 8);
        });
        let mut received = Vec::new();
        loop {
            let abandoned = consumer.is_abandoned();
            match consumer.try_pop() {
                Some(item) => received.push(item),
                None if abandoned => break,
                None => thread::yield_now(),
            }
        }
        assert_eq!(received, [7, 8]);
        writer.join().unwrap();
    });
}

/// A producer that sees the consumer gone knows it for good, and the items it pushes after are
/// dropped with the ring, not lost or dropped twice.
#[test]
fn abandoned_consumer_is_seen_and_items_dropped_once() {
    model(|| {
        let drops = DropCounter::default();
        let (mut producer, consumer) = weir_ring::channel(2);
        let items = drops.clone();
        let reader = thread::spawn(move || drop(consumer));
        while !producer.is_abandoned() {
            thread::yield_now();
        }
        push(&mut producer, items.item(1));
        drop(producer);
        reader.join().unwrap();
        assert_eq!(drops.dropped(), 1);
    });
}

/// Items left in the ring are dropped exactly once, whichever handle drops last: the two
/// handles drop concurrently on two threads, one item popped and two left behind (one of them
/// across the end of the ring).
#[test]
fn items_left_behind_are_dropped_once_by_the_last_handle() {
    model(|| {
        let drops = DropCounter::default();
        let (mut producer, mut consumer) = weir_ring::channel(2);
        push(&mut producer, drops.item(0));
        let items = drops.clone();
        let writer = thread::spawn(move || {
            push(&mut producer, items.item(1));
            push(&mut producer, items.item(2));
        });
        assert_eq!(pop(&mut consumer).value, 0);
        drop(consumer);
        writer.join().unwrap();
        assert_eq!(drops.dropped(), 3);
    });
}
