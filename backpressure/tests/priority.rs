//! The priority queue: order by level, the quota against starvation, bad input, waiting pops,
//! no allocation per item, drops of what is left inside, and exactly-once delivery under
//! contention.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use weir_backpressure::priority::{PriorityError, PriorityQueue};
use weir_backpressure::wait::{Backoff, Park};
use weir_test_support::{allocations_in, scaled, Counted, CountingAlloc, DropLog, Rng, Tally};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn pops_by_level_then_fifo_within_a_level() {
    let queue = PriorityQueue::new(4, 8);
    let pushes = [
        (3, 'a'),
        (1, 'b'),
        (3, 'c'),
        (0, 'd'),
        (2, 'e'),
        (1, 'f'),
        (0, 'g'),
    ];
    for (level, item) in pushes {
        queue.push(level, item).unwrap();
    }
    assert_eq!(queue.len(), 7);
    assert_eq!(queue.len_at(1), 2);
    let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
    assert_eq!(
        order,
        [
            (0, 'd'),
            (0, 'g'),
            (1, 'b'),
            (1, 'f'),
            (2, 'e'),
            (3, 'a'),
            (3, 'c')
        ]
    );
    assert!(queue.is_empty());
}

#[test]
fn each_level_has_its_own_capacity() {
    let queue = PriorityQueue::with_capacities(&[1, 2]);
    assert!(queue.push(0, 1).is_ok());
    assert_eq!(queue.push(0, 2).unwrap_err().into_inner(), 2);
    assert!(queue.push(1, 3).is_ok());
    assert!(queue.push(1, 4).is_ok());
    assert!(queue.push(1, 5).is_err());
    assert_eq!(
        (queue.capacity(0), queue.capacity(1), queue.levels()),
        (1, 2, 2)
    );
}

#[test]
fn without_a_quota_lower_levels_wait() {
    let queue = PriorityQueue::new(2, 64);
    queue.push(1, 1000).unwrap();
    for i in 0..50 {
        queue.push(0, i).unwrap();
        assert_eq!(queue.pop(), Some((0, i)));
    }
    assert_eq!(queue.pop(), Some((1, 1000)));
}

/// The bug this guards against: the quota once protected only the level below the top, so
/// with levels 0 and 1 always refilled, level 2 was never served. Now every level that stays
/// non-empty is served within `quota + levels - 1` pops.
#[test]
fn a_busy_middle_level_does_not_starve_the_levels_below() {
    let quota = 2;
    let queue = PriorityQueue::new(3, 8).with_quota(quota);
    queue.push(2, 2000).unwrap();
    let mut next = 0;
    let mut pops = 0;
    loop {
        for level in 0..2 {
            while queue.len_at(level) < 2 {
                queue.push(level, next).unwrap();
                next += 1;
            }
        }
        pops += 1;
        if queue.pop().unwrap().0 == 2 {
            break;
        }
        assert!(
            pops < quota + 3,
            "{pops} pops and level 2 still waits behind levels 0 and 1"
        );
    }
    assert_eq!(pops, quota + 2, "served as soon as its turn came");
}

/// With quota q and every level kept non-empty, each level is served at least once in every
/// q + levels - 1 pops, and the top level still gets most of them.
#[test]
fn a_quota_serves_every_level_within_quota_plus_levels_minus_one_pops() {
    for quota in 1..=scaled(5, 2) {
        for levels in 2..=scaled(5, 3) {
            let bound = quota + levels - 1;
            let queue = PriorityQueue::new(levels, 64).with_quota(quota);
            let mut next = 0;
            let mut unserved = vec![0; levels];
            let mut served = vec![0; levels];
            for _ in 0..scaled(200, 30) {
                // Keep every level from ever running dry.
                for level in 0..levels {
                    while queue.len_at(level) < 4 {
                        queue.push(level, next).unwrap();
                        next += 1;
                    }
                }
                let (level, _) = queue.pop().unwrap();
                served[level] += 1;
                for (other, pops) in unserved.iter_mut().enumerate() {
                    *pops = if other == level { 0 } else { *pops + 1 };
                    assert!(
                        *pops < bound,
                        "quota {quota}, {levels} levels: level {other} unserved for {pops} pops"
                    );
                }
            }
            assert!(
                served[0] >= served[1..].iter().copied().max().unwrap(),
                "quota {quota}, {levels} levels: the top level served least: {served:?}"
            );
        }
    }
}

/// The same bound with levels that fill and run dry at random: a level that stays non-empty
/// over `quota + levels - 1` pops is served in one of them.
#[test]
fn a_quota_bounds_the_wait_of_every_non_empty_level_under_random_load() {
    let mut rng = Rng::new(7);
    for quota in 1..=scaled(4, 2) {
        for levels in 2..=scaled(5, 3) {
            let bound = quota + levels - 1;
            let queue = PriorityQueue::new(levels, 64).with_quota(quota);
            let mut unserved = vec![0; levels];
            for _ in 0..scaled(2_000, 30) {
                for level in 0..levels {
                    for _ in 0..rng.range(0, 2) {
                        let _ = queue.push(level, ());
                    }
                }
                let non_empty: Vec<bool> = (0..levels).map(|l| queue.len_at(l) > 0).collect();
                let Some((level, ())) = queue.pop() else {
                    continue;
                };
                for other in 0..levels {
                    if other == level || !non_empty[other] {
                        unserved[other] = 0;
                    } else {
                        unserved[other] += 1;
                        assert!(
                            unserved[other] < bound,
                            "quota {quota}, {levels} levels: level {other} waited {} pops",
                            unserved[other]
                        );
                    }
                }
            }
        }
    }
}

/// With one item waiting low and the level above refilled after every pop, the low item is
/// served within quota + 1 pops.
#[test]
fn a_low_item_is_served_within_quota_plus_one_pops() {
    for quota in 1..=6 {
        let queue = PriorityQueue::new(2, 64).with_quota(quota);
        for i in 0..3 {
            queue.push(0, i).unwrap();
        }
        queue.push(1, 1000).unwrap();
        let mut pops = 0;
        loop {
            pops += 1;
            let (level, item) = queue.pop().unwrap();
            if level == 1 {
                assert_eq!(item, 1000);
                break;
            }
            queue.push(0, item).unwrap();
            assert!(
                pops <= quota,
                "quota {quota}: {pops} pops and the low item still waits"
            );
        }
        assert_eq!(pops, quota + 1);
    }
}

/// Among levels whose turn has come, the one that waited longest goes first; between levels
/// that waited as long, the higher.
#[test]
fn the_quota_serves_the_level_that_waited_longest() {
    let queue = PriorityQueue::new(3, 8).with_quota(1);
    queue.push(0, "a0").unwrap();
    queue.push(0, "a1").unwrap();
    queue.push(1, "b").unwrap();
    queue.push(2, "c").unwrap();
    assert_eq!(queue.pop(), Some((0, "a0")));
    assert_eq!(
        queue.pop(),
        Some((1, "b")),
        "level 1 before level 2: as long a wait"
    );
    assert_eq!(
        queue.pop(),
        Some((2, "c")),
        "level 2 waited two pops, level 0 one"
    );
    assert_eq!(queue.pop(), Some((0, "a1")));
    assert_eq!(queue.pop(), None);
    assert_eq!(queue.quota(), 1);
}

#[test]
fn bad_input_is_refused() {
    assert_eq!(
        PriorityQueue::<u8>::try_new(0, 4).unwrap_err(),
        PriorityError::NoLevels
    );
    assert_eq!(
        PriorityQueue::<u8>::try_with_capacities(&[]).unwrap_err(),
        PriorityError::NoLevels
    );
    let error = PriorityQueue::<u8>::try_with_capacities(&[2, 3, 0]).unwrap_err();
    assert!(matches!(error, PriorityError::Capacity { level: 2, .. }));
    assert_eq!(
        error.to_string(),
        "priority level 2: capacity must be at least 1"
    );
    assert!(PriorityQueue::<u64>::try_new(2, usize::MAX / 2).is_err());
}

#[test]
#[should_panic(
    expected = "weir_backpressure::PriorityQueue::new: a priority queue needs at least one level"
)]
fn new_panics_on_zero_levels() {
    let _ = PriorityQueue::<u8>::new(0, 4);
}

#[test]
#[should_panic(
    expected = "weir_backpressure::PriorityQueue::new: priority level 0: capacity must be at least 1"
)]
fn new_panics_on_zero_capacity() {
    let _ = PriorityQueue::<u8>::new(2, 0);
}

#[test]
#[should_panic(
    expected = "weir_backpressure::PriorityQueue::push: level 3 is out of range: the queue has 3 levels"
)]
fn push_panics_on_a_bad_level() {
    let queue = PriorityQueue::new(3, 4);
    let _ = queue.push(3, ());
}

/// A push onto a full level waits for a pop from that level (even with other levels full or
/// popped meanwhile), and a timed one hands the item back.
#[test]
fn push_wait_waits_for_room_and_times_out_with_the_item() {
    let queue = PriorityQueue::new(2, 1);
    for round in 0..scaled(50, 3) {
        queue.push(0, round).unwrap();
        queue.push(1, round).unwrap();
        thread::scope(|s| {
            let pusher = s.spawn(|| queue.push_wait(1, round + 1000, &Park, None));
            // Level 0 is popped first: its room is not for the pusher on level 1.
            assert_eq!(queue.pop_wait(&Park, None), Some((0, round)));
            assert_eq!(queue.pop_wait(&Park, None), Some((1, round)));
            assert_eq!(pusher.join().unwrap(), Ok(()));
        });
        assert_eq!(queue.pop(), Some((1, round + 1000)));
        assert!(queue.is_empty());
    }
    queue.push(0, 1).unwrap();
    let start = Instant::now();
    let late = queue.push_wait(0, 2, &Backoff, Some(start + Duration::from_millis(10)));
    assert_eq!(late.unwrap_err().into_inner(), 2);
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert_eq!(queue.push_wait(1, 3, &Park, Some(Instant::now())), Ok(()));
}

#[test]
#[should_panic(
    expected = "weir_backpressure::PriorityQueue::push_wait: level 2 is out of range: the queue has 2 levels"
)]
fn push_wait_panics_on_a_bad_level() {
    let queue = PriorityQueue::new(2, 4);
    let _ = queue.push_wait(2, (), &Park, None);
}

#[test]
fn pop_wait_wakes_on_a_push_and_times_out() {
    let queue = PriorityQueue::new(3, 4);
    for round in 0..scaled(50, 3) {
        thread::scope(|s| {
            let waiter = s.spawn(|| queue.pop_wait(&Park, None));
            if round % 2 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            queue.push(round % 3, round).unwrap();
            assert_eq!(waiter.join().unwrap(), Some((round % 3, round)));
        });
    }
    let start = Instant::now();
    let deadline = start + Duration::from_millis(20);
    assert_eq!(queue.pop_wait(&Park, Some(deadline)), None);
    assert!(Instant::now() >= deadline);
    assert_eq!(queue.pop_wait(&Backoff, Some(Instant::now())), None);
}

/// `close` wakes every waiting popper, whatever its wait strategy; the items pushed before
/// it come out first, each once, and then `pop_wait` returns `None` without waiting.
#[test]
fn close_wakes_the_poppers_after_the_last_items() {
    for round in 0..scaled(30, 3) {
        let queue = PriorityQueue::new(2, 8);
        thread::scope(|s| {
            let parked = s.spawn(|| std::iter::from_fn(|| queue.pop_wait(&Park, None)).count());
            let backing = s.spawn(|| std::iter::from_fn(|| queue.pop_wait(&Backoff, None)).count());
            if round % 2 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            for item in 0..6 {
                queue.push(item % 2, item).unwrap();
            }
            assert!(!queue.is_closed());
            queue.close();
            assert_eq!(parked.join().unwrap() + backing.join().unwrap(), 6);
        });
        assert!(queue.is_closed() && queue.is_empty());
        let start = Instant::now();
        assert_eq!(queue.pop_wait(&Park, None), None);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "waited after the close"
        );
    }
}

#[test]
fn items_left_inside_are_dropped_once() {
    let items = 30;
    let log = DropLog::new(items);
    let queue = PriorityQueue::new(3, 16).with_quota(2);
    for id in 0..items {
        queue.push(id % 3, Counted::new(&log, id)).unwrap();
    }
    let mut popped = Vec::new();
    for _ in 0..12 {
        popped.push(queue.pop().unwrap().1.id);
    }
    log.assert_dropped_exactly(popped.iter().copied());
    drop(queue);
    log.assert_dropped_exactly(0..items);

    // A full level hands the item back, to be dropped by the caller, not inside.
    let log = DropLog::new(2);
    let full = PriorityQueue::new(1, 1);
    full.push(0, Counted::new(&log, 0)).unwrap();
    let back = full
        .push(0, Counted::new(&log, 1))
        .unwrap_err()
        .into_inner();
    log.assert_dropped_exactly([]);
    drop(back);
    drop(full);
    log.assert_dropped_exactly([0, 1]);
}

#[test]
fn pushes_and_pops_allocate_nothing() {
    let queue = PriorityQueue::new(3, 8).with_quota(2);
    let (n, ()) = allocations_in(|| {
        for i in 0..scaled(10_000, 20) {
            for level in 0..3 {
                queue.push(level, i).unwrap();
            }
            for _ in 0..3 {
                assert!(queue.pop().is_some());
            }
            assert_eq!(queue.pop_wait(&Park, Some(Instant::now())), None);
        }
    });
    assert_eq!(n, 0, "allocations on the push and pop paths");
}

/// Three pushers at random levels, two poppers (one spinning on `pop`, one waiting in
/// `pop_wait`), with a quota: every item comes out exactly once, at the level it went in.
#[test]
fn concurrent_delivery_is_exactly_once() {
    // Under Miri, 120 items: about 30 per level, three times round each level's ring of 8.
    let per_pusher = scaled(20_000, 40);
    let pushers = 3;
    let items = per_pusher * pushers;
    let levels = 4;
    let queue = PriorityQueue::new(levels, 8).with_quota(3);
    let tally = Tally::new(items);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let poppers: Vec<_> = (0..2)
            .map(|popper| {
                let (queue, tally, done) = (&queue, &tally, &done);
                s.spawn(move || {
                    let mut count = 0usize;
                    loop {
                        let popped = if popper == 0 {
                            queue.pop()
                        } else {
                            queue.pop_wait(&Park, Some(Instant::now() + Duration::from_millis(5)))
                        };
                        match popped {
                            Some((level, (id, pushed_at))) => {
                                assert_eq!(level, pushed_at, "item {id} at the wrong level");
                                tally.see(id);
                                count += 1;
                            }
                            None if done.load(Ordering::Acquire) && queue.is_empty() => {
                                return count
                            }
                            None => thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        let pushing: Vec<_> = (0..pushers)
            .map(|p| {
                let queue = &queue;
                s.spawn(move || {
                    let mut rng = Rng::new(p as u64 + 1);
                    for i in 0..per_pusher {
                        let id = p * per_pusher + i;
                        let level = rng.range(0, levels - 1);
                        let mut item = (id, level);
                        while let Err(full) = queue.push(level, item) {
                            item = full.into_inner();
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for pusher in pushing {
            pusher.join().unwrap();
        }
        done.store(true, Ordering::Release);
        let total: usize = poppers.into_iter().map(|p| p.join().unwrap()).sum();
        assert_eq!(total, items);
    });
    tally.assert_each_seen_once();
}
