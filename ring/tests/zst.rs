//! Zero-sized items: `channel::<()>(3)` behaves exactly like a ring of 3, huge capacities work
//! without a buffer (including going round the positions' lap), and a zero-sized item with a
//! destructor is dropped the right number of times.

use std::sync::atomic::{AtomicUsize, Ordering};

use weir_ring::{channel, try_channel, Full};

#[test]
fn unit_ring_of_three() {
    let (mut producer, mut consumer) = channel::<()>(3);
    assert_eq!(producer.capacity(), 3);
    for round in 0..10 {
        for k in 0..3 {
            assert_eq!(producer.slots(), 3 - k);
            producer.try_push(()).unwrap();
        }
        assert!(producer.is_full());
        assert_eq!(producer.try_push(()), Err(Full(())));
        assert_eq!(consumer.len(), 3);
        assert_eq!(consumer.peek(), Some(&()));
        for k in 0..3 {
            assert_eq!(consumer.len(), 3 - k);
            assert_eq!(consumer.try_pop(), Some(()));
        }
        assert!(consumer.is_empty());
        assert_eq!(consumer.try_pop(), None);
        assert_eq!(consumer.peek(), None);
        // Shift the start so later rounds begin at other offsets.
        for _ in 0..round % 3 {
            producer.try_push(()).unwrap();
            consumer.try_pop().unwrap();
        }
    }
}

#[test]
fn unit_ring_slices_and_chunks() {
    let (mut producer, mut consumer) = channel::<()>(3);
    assert_eq!(producer.push_slice(&[(); 5]), 3);
    let mut out = [(); 2];
    assert_eq!(consumer.pop_slice(&mut out), 2);
    assert_eq!(consumer.len(), 1);
    // The tail is at slot 0 of the second lap, the head at slot 2: chunks split there.
    let chunk = producer.write_chunk(5);
    assert_eq!(chunk.len(), 2);
    assert_eq!(chunk.fill_from_iter(std::iter::repeat(())), 2);
    let chunk = consumer.read_chunk(5);
    let (first, second) = chunk.as_slices();
    assert_eq!((first.len(), second.len()), (1, 2));
    chunk.release(2);
    assert_eq!(consumer.len(), 1);
    assert_eq!(consumer.drain().count(), 1);
}

#[test]
fn huge_capacity_for_zero_sized_items() {
    let capacity = usize::MAX / 4;
    let (mut producer, mut consumer) = try_channel::<()>(capacity).expect("no buffer is needed");
    assert_eq!(producer.capacity(), capacity);
    assert_eq!(consumer.capacity(), capacity);
    assert_eq!(producer.slots(), capacity);
    for _ in 0..10 {
        producer.try_push(()).unwrap();
    }
    assert_eq!(producer.push_slice(&[(); 5]), 5);
    assert_eq!(consumer.len(), 15);
    assert_eq!(producer.slots(), capacity - 15);
    assert_eq!(consumer.try_pop(), Some(()));
    assert_eq!(consumer.len(), 14);
    assert_eq!(consumer.drain().count(), 14);
    assert!(consumer.is_empty());
}

#[test]
fn huge_zero_sized_ring_goes_round_its_lap() {
    // Committing and releasing whole-ring chunks (no per-item work for `()`) moves the
    // positions by `capacity` at a time, round the `2 * capacity` lap several times, at
    // capacities up to the largest that `try_channel` accepts.
    let candidates = [
        usize::MAX / 4,
        usize::MAX / 2 - 1,
        usize::MAX / 2,
        usize::MAX / 2 + 1,
    ];
    let mut accepted = 0;
    for capacity in candidates {
        let Ok((mut producer, mut consumer)) = try_channel::<()>(capacity) else {
            continue;
        };
        accepted += 1;
        for step in 0..7 {
            // Part of the ring first, so the positions are not multiples of the capacity.
            let part = capacity / 3 + step;
            let chunk = producer.write_chunk(part);
            assert_eq!(chunk.len(), part);
            // SAFETY: `()` has no bytes: every slot of it is initialised.
            unsafe { chunk.commit(part) };
            let chunk = producer.write_chunk(usize::MAX);
            assert_eq!(chunk.len(), capacity - part);
            // SAFETY: as above.
            unsafe { chunk.commit(capacity - part) };
            assert!(producer.is_full());
            assert_eq!(producer.try_push(()), Err(Full(())));
            assert_eq!(consumer.len(), capacity);
            let chunk = consumer.read_chunk(usize::MAX);
            assert_eq!(chunk.len(), capacity);
            chunk.release(capacity - 1);
            assert_eq!(consumer.len(), 1);
            assert_eq!(consumer.try_pop(), Some(()));
            assert!(consumer.is_empty());
            assert_eq!(producer.slots(), capacity);
        }
    }
    assert!(accepted >= 1);
    assert!(
        try_channel::<()>(usize::MAX).is_err(),
        "positions cannot run to 2 * usize::MAX"
    );
}

/// Per-test drop counters for zero-sized items: `Zst::<N>` counts into `DROPS[N]`, so tests
/// running in parallel do not share a counter.
static DROPS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

#[derive(Debug, PartialEq)]
struct Zst<const N: usize>;

impl<const N: usize> Drop for Zst<N> {
    fn drop(&mut self) {
        DROPS[N].fetch_add(1, Ordering::SeqCst);
    }
}

fn drops(n: usize) -> usize {
    DROPS[n].load(Ordering::SeqCst)
}

#[test]
fn zero_sized_items_with_drop_are_dropped_once() {
    assert_eq!(std::mem::size_of::<Zst<0>>(), 0);
    let (mut producer, mut consumer) = channel::<Zst<0>>(3);
    // Move the positions on so the items left behind wrap the buffer end.
    for _ in 0..2 {
        producer.try_push(Zst).unwrap();
        drop(consumer.try_pop().unwrap());
    }
    assert_eq!(drops(0), 2);
    for _ in 0..3 {
        producer.try_push(Zst).unwrap();
    }
    let Full(back) = producer.try_push(Zst).unwrap_err();
    assert_eq!(drops(0), 2);
    drop(back);
    assert_eq!(drops(0), 3);
    let popped = consumer.try_pop().unwrap();
    assert_eq!(drops(0), 3);
    drop(popped);
    assert_eq!(drops(0), 4);
    drop(consumer);
    assert_eq!(drops(0), 4, "the first handle to go drops nothing");
    drop(producer);
    assert_eq!(
        drops(0),
        6,
        "the two items left are dropped with the last handle"
    );
}

#[test]
fn zero_sized_items_in_a_huge_ring_are_dropped_once() {
    let (mut producer, consumer) = try_channel::<Zst<1>>(usize::MAX / 4).unwrap();
    for _ in 0..100 {
        producer.try_push(Zst).unwrap();
    }
    drop(producer);
    assert_eq!(drops(1), 0);
    drop(consumer);
    assert_eq!(drops(1), 100);
}

#[test]
fn zero_sized_items_released_from_a_chunk() {
    let (mut producer, mut consumer) = channel::<Zst<2>>(4);
    for _ in 0..3 {
        producer.try_push(Zst).unwrap();
        drop(consumer.try_pop());
    }
    assert_eq!(drops(2), 3);
    assert_eq!(
        producer.write_chunk(4).fill_from_iter((0..4).map(|_| Zst)),
        4
    );
    consumer.read_chunk(4).release(3);
    assert_eq!(drops(2), 6);
    assert_eq!(consumer.len(), 1);
    drop((producer, consumer));
    assert_eq!(drops(2), 7);
}
