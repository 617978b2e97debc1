//! The adaptive queue: the limit is exact, moves without losing items, follows the watermark
//! rule in `adapt`, refuses bad input, allocates nothing per item, drops what is left inside
//! once, and under contention with random limit changes never lets a push above the limit it
//! reserved under, while every item is received once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use weir_backpressure::adaptive::{AdaptiveError, AdaptiveQueue};
use weir_test_support::{allocations_in, scaled, Counted, CountingAlloc, DropLog, Rng, Tally};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn the_limit_is_exact_and_moves() {
    let queue = AdaptiveQueue::new(2, 8);
    assert_eq!(queue.limit(), 2);
    for n in 1..=2 {
        assert_eq!(queue.try_push(n), Ok(n));
    }
    assert_eq!(queue.try_push(3).unwrap_err().into_inner(), 3);
    assert_eq!(queue.set_limit(8), 8);
    for n in 3..=8 {
        assert_eq!(queue.try_push(n), Ok(n));
    }
    assert!(queue.try_push(9).is_err(), "full at the capacity");
    assert_eq!(queue.len(), 8);
}

#[test]
fn lowering_the_limit_keeps_every_item() {
    let queue = AdaptiveQueue::new(1, 8);
    queue.set_limit(8);
    for i in 0..8 {
        queue.try_push(i).unwrap();
    }
    assert_eq!(queue.set_limit(3), 3);
    assert_eq!(queue.len(), 8, "nothing dropped");
    let mut popped = Vec::new();
    for _ in 0..5 {
        assert!(queue.try_push(100).is_err(), "over the limit: pushes fail");
        popped.push(queue.try_pop().unwrap());
    }
    assert_eq!(queue.len(), 3);
    assert!(queue.try_push(100).is_err(), "at the limit");
    popped.push(queue.try_pop().unwrap());
    assert_eq!(queue.try_push(100), Ok(3));
    popped.extend(std::iter::from_fn(|| queue.try_pop()));
    assert_eq!(popped, [0, 1, 2, 3, 4, 5, 6, 7, 100]);
    assert!(queue.is_empty());
}

#[test]
fn set_limit_clamps_to_min_and_max() {
    let queue = AdaptiveQueue::<u8>::new(4, 16);
    assert_eq!(queue.set_limit(0), 4);
    assert_eq!(queue.set_limit(17), 16);
    assert_eq!(queue.set_limit(9), 9);
    assert_eq!((queue.min(), queue.max(), queue.limit()), (4, 16, 9));
}

#[test]
fn adapt_grows_on_pressure_and_shrinks_when_idle() {
    let queue = AdaptiveQueue::new(2, 16);
    // Refused a push: grow, doubling up to max.
    queue.try_push(0).unwrap();
    queue.try_push(1).unwrap();
    assert!(queue.try_push(2).is_err());
    assert_eq!(queue.adapt(), 4);
    // 2 of 4 is between the marks: stay.
    assert_eq!(queue.adapt(), 4);
    // 3 of 4 is at the high mark: grow.
    queue.try_push(2).unwrap();
    assert_eq!(queue.adapt(), 8);
    // 3 of 8 is between the marks.
    assert_eq!(queue.adapt(), 8);
    for i in 3..8 {
        queue.try_push(i).unwrap();
    }
    assert_eq!(queue.adapt(), 16);
    assert_eq!(queue.adapt(), 16, "capped at max");
    while queue.len() > 4 {
        queue.try_pop().unwrap();
    }
    // 4 of 16 is at the low mark: shrink, halving down to min.
    assert_eq!(queue.adapt(), 8);
    assert_eq!(queue.adapt(), 8, "4 of 8 is between the marks");
    while queue.try_pop().is_some() {}
    assert_eq!(queue.adapt(), 4);
    assert_eq!(queue.adapt(), 2);
    assert_eq!(queue.adapt(), 2, "floored at min");
}

#[test]
fn bad_input_is_refused() {
    assert_eq!(
        AdaptiveQueue::<u8>::try_new(0, 4).unwrap_err(),
        AdaptiveError::ZeroMin
    );
    assert_eq!(
        AdaptiveQueue::<u8>::try_new(5, 4).unwrap_err(),
        AdaptiveError::MinAboveMax { min: 5, max: 4 }
    );
    let zero = AdaptiveQueue::<u8>::try_new(1, 0).unwrap_err();
    assert!(matches!(zero, AdaptiveError::Capacity(_)));
    assert_eq!(zero.to_string(), "capacity must be at least 1");
    let huge = AdaptiveQueue::<u8>::try_new(1, u32::MAX as usize + 1).unwrap_err();
    assert!(matches!(huge, AdaptiveError::Capacity(_)));
    assert_eq!(AdaptiveQueue::<u8>::try_new(3, 3).unwrap().limit(), 3);
}

#[test]
#[should_panic(
    expected = "weir_backpressure::AdaptiveQueue::new: the smallest limit 9 is above the capacity 4"
)]
fn new_panics_when_min_is_above_max() {
    let _ = AdaptiveQueue::<u8>::new(9, 4);
}

#[test]
#[should_panic(expected = "weir_backpressure::AdaptiveQueue::new: capacity must be at least 1")]
fn new_panics_on_zero_capacity() {
    let _ = AdaptiveQueue::<u8>::new(1, 0);
}

#[test]
fn items_left_inside_are_dropped_once() {
    let log = DropLog::new(10);
    let queue = AdaptiveQueue::new(10, 10);
    for id in 0..10 {
        queue.try_push(Counted::new(&log, id)).unwrap();
    }
    queue.set_limit(1);
    let back = queue
        .try_push(Counted::new(&log, 0))
        .unwrap_err()
        .into_inner();
    drop(back);
    log.assert_dropped_exactly([0]);
    drop(queue.try_pop());
    drop(queue.try_pop());
    log.assert_dropped_exactly([0, 0, 1]);
    drop(queue);
    log.assert_dropped_exactly([0].into_iter().chain(0..10));
}

#[test]
fn operations_allocate_nothing() {
    let queue = AdaptiveQueue::new(2, 64);
    let (n, ()) = allocations_in(|| {
        for i in 0..scaled(10_000, 20) {
            while queue.try_push(i).is_ok() {}
            queue.adapt();
            queue.set_limit(i % 70);
            while queue.try_pop().is_some() {}
            queue.adapt();
        }
    });
    assert_eq!(n, 0, "allocations on the push, pop and limit paths");
}

/// Three pushers, two poppers and a thread that sets the limit at random. The limits it sets are a fixed sequence, and `version` says how far along it
/// is: a push that started at version `v0` and ended at `v1` reserved under one of the limits
/// `seq[v0..=v1 + 1]` (`v1 + 1`: the limit may be set before its version is published), so the
/// occupancy it returns must not exceed the largest of them. Every item is received exactly
/// once.
#[test]
fn concurrent_pushes_never_exceed_the_limit() {
    let per_pusher = scaled(30_000, 100);
    let pushers = 3;
    let items = per_pusher * pushers;
    let (min, max) = (2, 32);
    let changes = scaled(5_000, 20);
    let mut rng = Rng::new(7);
    let seq: Vec<usize> = std::iter::once(min)
        .chain((0..changes).map(|_| rng.range(min, max)))
        .collect();
    let queue = AdaptiveQueue::new(min, max);
    let version = AtomicUsize::new(0);
    let tally = Tally::new(items);
    let pushed_done = AtomicUsize::new(0);
    let max_seen = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        // The controller: walks through `seq`, then leaves the limit at max so the run ends.
        s.spawn(|| {
            for (k, &limit) in seq.iter().enumerate().skip(1) {
                assert_eq!(queue.set_limit(limit), limit);
                version.store(k, Ordering::SeqCst);
                for _ in 0..50 {
                    std::hint::spin_loop();
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        for _ in 0..2 {
            s.spawn(|| {
                let mut waits = 0u32;
                loop {
                    match queue.try_pop() {
                        Some(id) => {
                            tally.see(id);
                            waits = 0;
                        }
                        None if pushed_done.load(Ordering::SeqCst) == pushers
                            && queue.is_empty() =>
                        {
                            return
                        }
                        None => {
                            waits += 1;
                            if waits > 16 {
                                thread::yield_now();
                            }
                        }
                    }
                }
            });
        }
        for p in 0..pushers {
            let (queue, seq, version, max_seen, pushed_done) =
                (&queue, &seq, &version, &max_seen, &pushed_done);
            s.spawn(move || {
                for i in 0..per_pusher {
                    let mut item = p * per_pusher + i;
                    loop {
                        let v0 = version.load(Ordering::SeqCst);
                        let pushed = queue.try_push(item);
                        let v1 = version.load(Ordering::SeqCst);
                        match pushed {
                            Ok(occupancy) => {
                                let bound =
                                    seq[v0..=(v1 + 1).min(seq.len() - 1)].iter().max().unwrap();
                                assert!(
                                    occupancy <= *bound,
                                    "occupancy {occupancy} above every limit in force ({:?})",
                                    &seq[v0..=(v1 + 1).min(seq.len() - 1)]
                                );
                                max_seen.fetch_max(occupancy, Ordering::Relaxed);
                                break;
                            }
                            Err(full) => {
                                item = full.into_inner();
                                thread::yield_now();
                            }
                        }
                    }
                }
                pushed_done.fetch_add(1, Ordering::SeqCst);
            });
        }
        // Once the pushers are done, the controller can stop too.
        while pushed_done.load(Ordering::SeqCst) < pushers {
            thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
    });
    tally.assert_each_seen_once();
    assert!(queue.is_empty());
    let max_seen = max_seen.into_inner();
    assert!(max_seen <= max, "occupancy {max_seen} above the capacity");
    assert!(
        max_seen > min,
        "the limit never rose: max occupancy {max_seen}"
    );
}

/// Driven by a watermark through a random walk of the occupancy (a surge, then a drain), the limit stays within
/// `min..=max`, grows only while the watermark is high (or after a refused push), shrinks only
/// at or below the low mark, and the watermark counts each surge once.
#[test]
fn a_watermark_drives_the_limit_within_its_bounds() {
    let queue = AdaptiveQueue::new(2, 64);
    let watermark = weir_backpressure::Watermark::new(4, 12);
    let mut rng = Rng::new(11);
    let mut surges = 0;
    let mut high = false;
    let steps = scaled(5_000, 200);
    for step in 0..steps {
        // Up-biased for the first half, down-biased after: a surge, then a drain, even in the
        // short walk under Miri.
        let push = rng.range(0, 2) > 0;
        if push == (step < steps / 2) {
            let _ = queue.try_push(0u8);
        } else {
            let _ = queue.try_pop();
        }
        let before = queue.limit();
        let occupancy = queue.len();
        let after = queue.adapt_with(&watermark);
        assert!((2..=64).contains(&after));
        if occupancy >= 12 && !high {
            surges += 1;
        }
        high = watermark.pressure().is_high();
        if after < before {
            assert!(occupancy <= 4 && !high, "shrank at occupancy {occupancy}");
        }
    }
    assert!(surges > 0, "the walk never reached the high mark");
    assert_eq!(watermark.events(), surges);
}
