//! Chunks: `write_chunk`/`commit` and `read_chunk`/`release` at every starting offset, fill
//! level, chunk length and commit/release count of a small ring (the split into the part up to
//! the end of the buffer and the wrapped part, the contents, and `len`/`slots` after), and
//! `fill_from_iter` with short, long, exact and panicking iterators.

use std::panic::{catch_unwind, AssertUnwindSafe};

use weir_ring::{channel, Consumer, Producer};
use weir_test_support::scaled;

const CAPACITY: usize = 5;

/// A ring of `capacity` whose positions are at slot `offset`, holding `filled` items
/// `1000..1000 + filled`.
fn ring_at(capacity: usize, offset: usize, filled: usize) -> (Producer<u64>, Consumer<u64>) {
    let (mut producer, mut consumer) = channel(capacity);
    for i in 0..offset {
        producer.try_push(i as u64).unwrap();
        assert_eq!(consumer.try_pop(), Some(i as u64));
    }
    for i in 0..filled {
        producer.try_push(1000 + i as u64).unwrap();
    }
    (producer, consumer)
}

/// The chunk lengths to ask for when `available` slots (or items) are there: every length
/// from 0 past the capacity, or under Miri (where each case is slow) every length up to
/// `available` and one beyond the capacity, which still covers every resulting chunk.
fn asks(available: usize) -> Vec<usize> {
    if cfg!(miri) {
        (0..=available).chain([CAPACITY + 1]).collect()
    } else {
        (0..=CAPACITY + 1).collect()
    }
}

/// The expected split of `len` slots starting at slot `start`: (up to the end, wrapped part).
fn split(capacity: usize, start: usize, len: usize) -> (usize, usize) {
    let to_end = capacity - start;
    (len.min(to_end), len.saturating_sub(to_end))
}

#[test]
fn write_chunk_every_offset_fill_length_and_commit() {
    let cap = CAPACITY;
    for offset in 0..cap {
        for filled in 0..=cap {
            for asked in asks(cap - filled) {
                let len = asked.min(cap - filled);
                for commit in 0..=len {
                    let (mut producer, mut consumer) = ring_at(cap, offset, filled);
                    let mut chunk = producer.write_chunk(asked);
                    assert_eq!(chunk.len(), len);
                    assert_eq!(chunk.is_empty(), len == 0);
                    let (first, second) = chunk.as_mut_slices();
                    let tail_slot = (offset + filled) % cap;
                    assert_eq!(
                        (first.len(), second.len()),
                        split(cap, tail_slot, len),
                        "offset {offset} filled {filled} asked {asked}"
                    );
                    for (k, slot) in first.iter_mut().chain(second.iter_mut()).enumerate() {
                        slot.write(2000 + k as u64);
                    }
                    // SAFETY: all `len >= commit` slots were written just above.
                    unsafe { chunk.commit(commit) };

                    assert_eq!(consumer.len(), filled + commit);
                    assert_eq!(producer.slots(), cap - filled - commit);
                    assert_eq!(producer.is_full(), filled + commit == cap);
                    let expected: Vec<u64> = (1000..1000 + filled as u64)
                        .chain(2000..2000 + commit as u64)
                        .collect();
                    assert_eq!(consumer.drain().collect::<Vec<_>>(), expected);
                    // The slots written but not committed stayed free and unpublished.
                    assert_eq!(producer.slots(), cap);
                    assert!(consumer.is_empty());
                }
            }
        }
    }
}

#[test]
fn read_chunk_every_offset_fill_length_and_release() {
    let cap = CAPACITY;
    for offset in 0..cap {
        for filled in 0..=cap {
            for asked in asks(filled) {
                let len = asked.min(filled);
                for release in 0..=len {
                    let (mut producer, mut consumer) = ring_at(cap, offset, filled);
                    let chunk = consumer.read_chunk(asked);
                    assert_eq!(chunk.len(), len);
                    assert_eq!(chunk.is_empty(), len == 0);
                    let (first, second) = chunk.as_slices();
                    assert_eq!(
                        (first.len(), second.len()),
                        split(cap, offset, len),
                        "offset {offset} filled {filled} asked {asked}"
                    );
                    let seen: Vec<u64> = first.iter().chain(second).copied().collect();
                    let expected: Vec<u64> = (1000..1000 + len as u64).collect();
                    assert_eq!(seen, expected);
                    chunk.release(release);

                    assert_eq!(consumer.len(), filled - release);
                    assert_eq!(producer.slots(), cap - filled + release);
                    let rest: Vec<u64> = (1000 + release as u64..1000 + filled as u64).collect();
                    assert_eq!(consumer.peek(), rest.first());
                    assert_eq!(consumer.drain().collect::<Vec<_>>(), rest);
                    // The freed slots are usable: the ring fills to capacity again.
                    assert_eq!(producer.push_slice(&[7; CAPACITY + 1]), cap);
                }
            }
        }
    }
}

#[test]
fn chunks_wrap_around_many_laps() {
    // Chunks of a length coprime with the capacity start at every offset in turn.
    let (mut producer, mut consumer) = channel::<u64>(CAPACITY);
    let mut next = 0u64;
    let mut expected = 0u64;
    for _ in 0..scaled(1000, 100) {
        let chunk = producer.write_chunk(3);
        assert_eq!(chunk.len(), 3);
        assert_eq!(chunk.fill_from_iter(next..), 3);
        next += 3;
        let chunk = consumer.read_chunk(3);
        let (first, second) = chunk.as_slices();
        for &item in first.iter().chain(second) {
            assert_eq!(item, expected);
            expected += 1;
        }
        chunk.release(3);
    }
    assert!(consumer.is_empty());
}

#[test]
fn dropped_chunks_commit_and_release_nothing() {
    let (mut producer, mut consumer) = channel::<u64>(4);
    {
        let mut chunk = producer.write_chunk(3);
        let (first, _) = chunk.as_mut_slices();
        first[0].write(1);
        // Dropped without `commit`.
    }
    assert!(consumer.is_empty());
    assert_eq!(producer.slots(), 4);
    assert_eq!(producer.push_slice(&[5, 6]), 2);
    {
        let chunk = consumer.read_chunk(2);
        assert_eq!(chunk.len(), 2);
        // Dropped without `release`.
    }
    assert_eq!(consumer.len(), 2);
    assert_eq!(producer.slots(), 2);
    assert_eq!(consumer.drain().collect::<Vec<_>>(), [5, 6]);
}

#[test]
fn zero_length_chunks() {
    let (mut producer, mut consumer) = channel::<u64>(2);
    let chunk = producer.write_chunk(0);
    assert!(chunk.is_empty());
    // SAFETY: committing nothing needs nothing written.
    unsafe { chunk.commit(0) };
    assert!(consumer.read_chunk(5).is_empty());
    consumer.read_chunk(0).release(0);
    assert_eq!(producer.push_slice(&[1, 2]), 2);
    // Full ring: an empty write chunk.
    assert!(producer.write_chunk(1).is_empty());
    assert!(consumer.read_chunk(0).is_empty());
    assert_eq!(consumer.len(), 2);
}

#[test]
#[should_panic(expected = "weir_ring::WriteChunk::commit: cannot commit 3 slots of a chunk of 2")]
fn commit_more_than_the_chunk_panics() {
    let (mut producer, _consumer) = channel::<u64>(4);
    assert_eq!(producer.push_slice(&[1, 2]), 2);
    let mut chunk = producer.write_chunk(5);
    for slot in chunk.as_mut_slices().0 {
        slot.write(0);
    }
    // SAFETY: never reached: the assertion on the count fails first (and every slot is
    // written anyway).
    unsafe { chunk.commit(3) };
}

#[test]
fn commit_more_than_the_chunk_publishes_nothing() {
    let (mut producer, consumer) = channel::<u64>(4);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut chunk = producer.write_chunk(1);
        chunk.as_mut_slices().0[0].write(9);
        // SAFETY: never reached past the assertion; the one slot is written.
        unsafe { chunk.commit(2) };
    }));
    assert!(result.is_err());
    assert!(consumer.is_empty());
    assert_eq!(producer.slots(), 4);
}

#[test]
#[should_panic(expected = "weir_ring::ReadChunk::release: cannot release 2 items of a chunk of 1")]
fn release_more_than_the_chunk_panics() {
    let (mut producer, mut consumer) = channel::<u64>(4);
    producer.try_push(1).unwrap();
    consumer.read_chunk(3).release(2);
}

#[test]
fn release_more_than_the_chunk_frees_nothing() {
    let (mut producer, mut consumer) = channel::<u64>(4);
    assert_eq!(producer.push_slice(&[1, 2]), 2);
    let result = catch_unwind(AssertUnwindSafe(|| consumer.read_chunk(1).release(2)));
    assert!(result.is_err());
    assert_eq!(consumer.len(), 2);
    assert_eq!(consumer.try_pop(), Some(1));
}

#[test]
fn fill_from_iter_shorter_iterator() {
    let (mut producer, mut consumer) = channel::<u64>(CAPACITY);
    let chunk = producer.write_chunk(4);
    assert_eq!(chunk.fill_from_iter([10, 11]), 2);
    assert_eq!(consumer.len(), 2);
    assert_eq!(producer.slots(), CAPACITY - 2);
    assert_eq!(consumer.drain().collect::<Vec<_>>(), [10, 11]);
}

#[test]
fn fill_from_iter_longer_iterator_keeps_the_rest() {
    for offset in 0..CAPACITY {
        let (mut producer, mut consumer) = ring_at(CAPACITY, offset, 1);
        let mut source = 1..=10u64;
        let chunk = producer.write_chunk(10);
        assert_eq!(chunk.len(), CAPACITY - 1);
        assert_eq!(chunk.fill_from_iter(&mut source), CAPACITY - 1);
        // Exactly the items that fit were taken; the next one is still in the iterator.
        assert_eq!(source.next(), Some(CAPACITY as u64));
        assert!(producer.is_full());
        let expected: Vec<u64> = std::iter::once(1000).chain(1..CAPACITY as u64).collect();
        assert_eq!(consumer.drain().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn fill_from_iter_does_not_pull_past_the_chunk() {
    // An iterator exactly as long as the chunk, and one that must never be pulled at all.
    let (mut producer, mut consumer) = channel::<u64>(3);
    let mut pulled = 0;
    let counting = (0..3u64).inspect(|_| pulled += 1);
    assert_eq!(producer.write_chunk(3).fill_from_iter(counting), 3);
    assert_eq!(pulled, 3);

    // Full ring: the chunk is empty and the iterator is not touched.
    let mut touched = false;
    let never = std::iter::from_fn(|| {
        touched = true;
        Some(99)
    });
    assert_eq!(producer.write_chunk(3).fill_from_iter(never), 0);
    assert!(!touched, "an empty chunk pulled from the iterator");

    // A chunk of 2 from an endless iterator pulls exactly 2.
    assert_eq!(consumer.pop_slice(&mut [0; 2]), 2);
    let mut pulled = 0;
    let endless = (100..).inspect(|_| pulled += 1);
    assert_eq!(producer.write_chunk(9).fill_from_iter(endless), 2);
    assert_eq!(pulled, 2);
    assert_eq!(consumer.drain().collect::<Vec<_>>(), [2, 100, 101]);
}

#[test]
fn fill_from_iter_panicking_iterator_commits_what_it_yielded() {
    for offset in 0..CAPACITY {
        let (mut producer, mut consumer) = ring_at(CAPACITY, offset, 0);
        let mut yielded = 0u64;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let source = std::iter::from_fn(|| {
                if yielded == 3 {
                    panic!("iterator fails");
                }
                yielded += 1;
                Some(yielded)
            });
            producer.write_chunk(CAPACITY).fill_from_iter(source)
        }));
        assert!(result.is_err());
        assert_eq!(yielded, 3);
        assert_eq!(consumer.len(), 3);
        assert_eq!(producer.slots(), CAPACITY - 3);
        // The ring goes on working: push more, and everything comes out in order.
        assert_eq!(producer.push_slice(&[4, 5, 6]), 2);
        assert_eq!(consumer.drain().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }
}

#[test]
fn read_chunk_debug_lists_the_items() {
    let (mut producer, mut consumer) = channel::<u64>(3);
    assert_eq!(producer.push_slice(&[1, 2, 3]), 3);
    assert_eq!(consumer.try_pop(), Some(1));
    producer.try_push(4).unwrap();
    let chunk = consumer.read_chunk(3);
    assert_eq!(format!("{chunk:?}"), "[2, 3, 4]");
    let write = producer.write_chunk(3);
    assert!(format!("{write:?}").contains("len: 0"));
}
