//! The ring started next to the wrap of its positions, by `channel_with_start_index`: at every
//! position of small rings, and a few positions before `usize::MAX - 1` for the largest ring of
//! a zero-sized type (whose positions wrap there). Order against a `VecDeque` model, `len` and
//! `slots`, chunks split across the end of the buffer, and every item dropped exactly once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use weir_ring::{channel_with_start_index, Full};
use weir_test_support::{scaled, Counted, DropLog, Rng};

fn capacities() -> &'static [usize] {
    if cfg!(miri) {
        &[1, 3]
    } else {
        &[1, 2, 3, 4, 7]
    }
}

/// Every operation at random, from every starting position of the two laps, against a model.
#[test]
fn matches_a_model_from_every_start() {
    let mut rng = Rng::new(0xa11);
    for &capacity in capacities() {
        for start in 0..2 * capacity {
            let (mut producer, mut consumer) = channel_with_start_index(capacity, start);
            let mut model = VecDeque::new();
            let mut next = 0u64;
            for _ in 0..scaled(200, 30) {
                match rng.range(0, 5) {
                    0 => {
                        let result = producer.try_push(next);
                        if model.len() < capacity {
                            assert_eq!(result, Ok(()));
                            model.push_back(next);
                        } else {
                            assert_eq!(result, Err(Full(next)));
                        }
                        next += 1;
                    }
                    1 => assert_eq!(consumer.try_pop(), model.pop_front()),
                    2 => {
                        let items: Vec<u64> = (next..next + rng.range(0, 4) as u64).collect();
                        let pushed = producer.push_slice(&items);
                        assert_eq!(pushed, items.len().min(capacity - model.len()));
                        model.extend(&items[..pushed]);
                        next += items.len() as u64;
                    }
                    3 => {
                        let mut out = vec![0; rng.range(0, 4)];
                        let popped = consumer.pop_slice(&mut out);
                        assert_eq!(popped, out.len().min(model.len()));
                        let expected: Vec<u64> = model.drain(..popped).collect();
                        assert_eq!(out[..popped], expected);
                    }
                    _ => {
                        let chunk = consumer.read_chunk(rng.range(0, 4));
                        let (first, second) = chunk.as_slices();
                        let seen: Vec<u64> = first.iter().chain(second).copied().collect();
                        let expected: Vec<u64> = model.iter().take(seen.len()).copied().collect();
                        assert_eq!(seen, expected);
                        let release = seen.len() / 2;
                        chunk.release(release);
                        model.drain(..release);
                    }
                }
                assert_eq!(consumer.len(), model.len());
                assert_eq!(producer.slots(), capacity - model.len());
                assert_eq!(consumer.peek(), model.front());
            }
        }
    }
}

/// Items left in the ring when both ends drop, from every start (so split across the end of
/// the buffer in every way), are dropped exactly once, as are those taken out by chunks.
#[test]
fn leftovers_from_every_start_dropped_once() {
    for &capacity in capacities() {
        for start in 0..2 * capacity {
            for taken in 0..=capacity {
                let items = capacity + taken;
                let log = DropLog::new(items);
                let (mut producer, mut consumer) = channel_with_start_index(capacity, start);
                // Fill through a chunk, take `taken` out through a chunk, refill.
                let mut ids = 0..items;
                let filled = producer
                    .write_chunk(capacity)
                    .fill_from_iter(ids.by_ref().take(capacity).map(|id| Counted::new(&log, id)));
                assert_eq!(filled, capacity);
                consumer.read_chunk(taken).release(taken);
                let refilled = producer
                    .write_chunk(capacity)
                    .fill_from_iter(ids.map(|id| Counted::new(&log, id)));
                assert_eq!(refilled, taken);
                assert_eq!(consumer.len(), capacity);
                drop(producer);
                drop(consumer);
                log.assert_dropped_exactly(0..items);
            }
        }
    }
}

/// Drops of [`Tick`]s (only the test below makes them).
static TICKS_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A zero-sized item whose drops are counted.
struct Tick;

impl Drop for Tick {
    fn drop(&mut self) {
        TICKS_DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The largest ring of a zero-sized type, started a few positions before its positions wrap at
/// `usize::MAX - 1` (`2 * capacity`): pushes, pops and chunks across it, and the items left
/// dropped exactly once.
#[test]
fn zero_sized_items_across_the_wrap_near_usize_max() {
    let capacity = usize::MAX / 2;
    for back in 1..=6 {
        let drops = &TICKS_DROPPED;
        drops.store(0, Ordering::Relaxed);
        let (mut producer, mut consumer) =
            channel_with_start_index(capacity, usize::MAX - 1 - back);
        assert_eq!(producer.slots(), capacity);
        for k in 1..=8 {
            producer.try_push(Tick).unwrap();
            assert_eq!(consumer.len(), k);
            assert_eq!(producer.slots(), capacity - k);
        }
        for k in 1..=3 {
            drop(consumer.try_pop().unwrap());
            assert_eq!(consumer.len(), 8 - k);
        }
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        // Chunks over the wrap: the head sits just before or after it.
        assert_eq!(
            producer
                .write_chunk(4)
                .fill_from_iter(std::iter::repeat_with(|| Tick)),
            4
        );
        let chunk = consumer.read_chunk(6);
        assert_eq!(chunk.len(), 6);
        chunk.release(6);
        assert_eq!(drops.load(Ordering::Relaxed), 9);
        assert_eq!(consumer.len(), 3);
        drop(consumer);
        drop(producer);
        assert_eq!(drops.load(Ordering::Relaxed), 12);
    }
}

#[test]
#[should_panic(expected = "weir_ring::channel_with_start_index: capacity must be at least 1")]
fn channel_with_start_index_panics_on_capacity_zero() {
    let _ = channel_with_start_index::<u8>(0, 5);
}
