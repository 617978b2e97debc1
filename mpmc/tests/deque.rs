//! The work-stealing deque: order, capacity, errors, batches, drops, ZSTs, and owner, pops and
//! steals racing on real threads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use weir_mpmc::deque::{Steal, Stealer, Worker};
use weir_mpmc::Full;
use weir_test_support::{scaled, Counted, DropLog, Tally};

/// Where a deque's positions start: 0, as `new_*` makes them, and just before the two points
/// where they wrap: `usize::MAX` to 0, and `isize::MAX` to `isize::MIN` (for a difference of
/// positions taken as signed). The tests of order, capacity, batches, drops and races run from
/// each.
const STARTS: [usize; 3] = [0, usize::MAX - 1, isize::MAX as usize - 1];

/// A LIFO or FIFO deque whose positions start at `start`.
fn deque<T>(lifo: bool, capacity: usize, start: usize) -> Worker<T> {
    if lifo {
        Worker::new_lifo_at(capacity, start)
    } else {
        Worker::new_fifo_at(capacity, start)
    }
}

/// Both flavours of deque, their positions starting at each of [`STARTS`].
fn every_deque<T>(capacity: usize) -> impl Iterator<Item = (bool, Worker<T>)> {
    STARTS
        .into_iter()
        .flat_map(move |start| [true, false].map(|lifo| (lifo, deque(lifo, capacity, start))))
}

/// Steals until the steal is not a lost race.
fn steal<T>(stealer: &Stealer<T>) -> Option<T> {
    loop {
        match stealer.steal() {
            Steal::Success(item) => return Some(item),
            Steal::Empty => return None,
            Steal::Retry => thread::yield_now(),
        }
    }
}

#[test]
fn lifo_pops_newest_first() {
    for worker in STARTS.map(|start| deque(true, 4, start)) {
        lifo_pops_newest_first_from(worker);
    }
}

fn lifo_pops_newest_first_from(worker: Worker<i32>) {
    for i in 0..4 {
        worker.push(i).unwrap();
    }
    assert_eq!(worker.len(), 4);
    assert_eq!(
        (0..5).map(|_| worker.pop()).collect::<Vec<_>>(),
        [Some(3), Some(2), Some(1), Some(0), None]
    );
    assert!(worker.is_empty());
}

#[test]
fn fifo_pops_oldest_first() {
    for worker in STARTS.map(|start| deque(false, 4, start)) {
        for i in 0..4 {
            worker.push(i).unwrap();
        }
        assert_eq!(
            (0..5).map(|_| worker.pop()).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(2), Some(3), None]
        );
    }
}

#[test]
fn steals_take_the_oldest_in_both_flavours() {
    for (_, worker) in every_deque(8) {
        let stealer = worker.stealer();
        for i in 0..5 {
            worker.push(i).unwrap();
        }
        assert_eq!(stealer.len(), 5);
        assert_eq!(stealer.steal(), Steal::Success(0));
        assert_eq!(stealer.clone().steal(), Steal::Success(1));
        assert_eq!(worker.len(), 3);
        let rest: Vec<_> = (0..3).map(|_| stealer.steal().success().unwrap()).collect();
        assert_eq!(rest, [2, 3, 4]);
        assert_eq!(stealer.steal(), Steal::Empty);
        assert!(stealer.is_empty());
    }
}

#[test]
fn full_at_exactly_capacity_gives_the_item_back() {
    // 3 is not a power of two: the ring has 4 slots, but only 3 items fit.
    for capacity in [1, 3, 4] {
        for (_, worker) in every_deque(capacity) {
            for i in 0..capacity {
                worker.push(i).unwrap();
            }
            assert_eq!(worker.push(99), Err(Full(99)));
            assert_eq!(worker.len(), capacity);
            // A steal makes room for exactly one more.
            assert_eq!(worker.stealer().steal(), Steal::Success(0));
            worker.push(100).unwrap();
            assert_eq!(worker.push(101).unwrap_err().into_inner(), 101);
        }
    }
}

#[test]
fn capacity_errors() {
    let err = Worker::<u8>::try_new_lifo(0).unwrap_err();
    assert_eq!(err.to_string(), "capacity must be at least 1");
    let err = Worker::<u8>::try_new_fifo(usize::MAX).unwrap_err();
    assert!(err.to_string().contains("is too large"), "{err}");
    // Within the limit, but no allocator can provide it.
    let err = Worker::<u64>::try_new_fifo(usize::MAX / 8).unwrap_err();
    assert!(err.to_string().contains("cannot be allocated"), "{err}");
    assert_eq!(Worker::<u8>::try_new_fifo(7).unwrap().capacity(), 7);
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Worker::new_lifo: capacity must be at least 1")]
fn new_lifo_panics_on_zero() {
    let _ = Worker::<u8>::new_lifo(0);
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Worker::new_fifo: capacity")]
fn new_fifo_panics_when_too_large() {
    let _ = Worker::<u8>::new_fifo(usize::MAX);
}

#[test]
fn steal_batch_and_pop_moves_about_half() {
    for (_, victim) in every_deque(16) {
        for i in 0..10 {
            victim.push(i).unwrap();
        }
        let stealer = victim.stealer();
        let dest = Worker::new_fifo(16);
        // Half of 10 is 5: the first is returned, 4 land in `dest`, in order.
        assert_eq!(stealer.steal_batch_and_pop(&dest), Steal::Success(0));
        assert_eq!(dest.len(), 4);
        assert_eq!(victim.len(), 5);
        assert_eq!(
            (0..4).map(|_| dest.pop().unwrap()).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        // Half of 5, rounded up, is 3.
        assert_eq!(stealer.steal_batch_and_pop(&dest), Steal::Success(5));
        assert_eq!(dest.len(), 2);
        assert_eq!(victim.len(), 2);
    }
}

#[test]
fn steal_batch_and_pop_respects_the_room_in_dest() {
    for (_, victim) in every_deque(16) {
        for i in 0..16 {
            victim.push(i).unwrap();
        }
        let stealer = victim.stealer();
        let dest = Worker::new_lifo(3);
        dest.push(100).unwrap();
        // Room for 2: 3 taken, one returned.
        assert_eq!(stealer.steal_batch_and_pop(&dest), Steal::Success(0));
        assert_eq!(dest.len(), 3);
        // No room: only the returned item is taken.
        assert_eq!(stealer.steal_batch_and_pop(&dest), Steal::Success(3));
        assert_eq!(dest.len(), 3);
        assert_eq!(victim.len(), 12);
        assert_eq!(
            [dest.pop(), dest.pop(), dest.pop()],
            [Some(2), Some(1), Some(100)]
        );
        // Into its own worker: the batch goes back to its bottom.
        let own = victim.stealer().steal_batch_and_pop(&victim);
        assert_eq!(own, Steal::Success(4));
        assert_eq!(victim.len(), 11);
    }
    let empty = Worker::<u8>::new_fifo(2);
    assert_eq!(
        empty.stealer().steal_batch_and_pop(&Worker::new_fifo(2)),
        Steal::Empty
    );
}

#[test]
fn batches_stop_at_32() {
    let victim = Worker::new_fifo(200);
    for i in 0..200 {
        victim.push(i).unwrap();
    }
    let dest = Worker::new_fifo(200);
    assert!(victim.stealer().steal_batch_and_pop(&dest).is_success());
    assert_eq!(dest.len(), 31);
}

#[test]
fn steal_batch_moves_about_half_in_order_within_the_room() {
    for (start, (_, victim)) in STARTS.into_iter().cycle().zip(every_deque(16)) {
        for i in 0..10 {
            victim.push(i).unwrap();
        }
        let stealer = victim.stealer();
        let dest = Worker::new_fifo_at(6, start.wrapping_sub(3));
        // Half of 10 is 5, all into `dest`, in order.
        assert_eq!(stealer.steal_batch(&dest), Steal::Success(()));
        assert_eq!((dest.len(), victim.len()), (5, 5));
        // Half of 5, rounded up, is 3, but only 1 fits.
        assert_eq!(stealer.steal_batch(&dest), Steal::Success(()));
        assert_eq!((dest.len(), victim.len()), (6, 4));
        // `dest` is full: nothing moves.
        assert_eq!(stealer.steal_batch(&dest), Steal::Empty);
        assert_eq!(victim.len(), 4);
        let all: Vec<_> = std::iter::from_fn(|| dest.pop()).collect();
        assert_eq!(all, [0, 1, 2, 3, 4, 5]);
        // At most `limit`, even when half is more.
        assert_eq!(stealer.steal_batch_with_limit(&dest, 1), Steal::Success(()));
        assert_eq!(dest.pop(), Some(6));
        let limited = stealer.steal_batch_with_limit_and_pop(&dest, 2);
        assert_eq!(limited, Steal::Success(7));
        assert_eq!((dest.pop(), dest.pop()), (Some(8), None));
        assert_eq!(stealer.steal_batch_with_limit(&dest, 5), Steal::Success(()));
        assert_eq!((dest.pop(), dest.pop()), (Some(9), None));
        assert_eq!(stealer.steal_batch(&dest), Steal::Empty);
        assert_eq!(
            stealer.steal_batch_with_limit_and_pop(&dest, 3),
            Steal::Empty
        );
    }
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Stealer::steal_batch_with_limit: limit must be")]
fn steal_batch_with_limit_panics_on_zero() {
    let worker = Worker::new_fifo(2);
    worker.push(1).unwrap();
    let _ = worker
        .stealer()
        .steal_batch_with_limit(&Worker::new_fifo(2), 0);
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Stealer::steal_batch_with_limit_and_pop: limit")]
fn steal_batch_with_limit_and_pop_panics_on_zero() {
    let worker = Worker::<u8>::new_lifo(2);
    let _ = worker.stealer().steal_batch_with_limit_and_pop(&worker, 0);
}

/// Collecting steals: the first success wins (and the steals after it are not made), else
/// `Retry` if any steal lost a race, else `Empty`.
#[test]
fn collected_steals_first_success_then_retry_then_empty() {
    use Steal::{Empty, Retry, Success};
    let collect = |steals: Vec<Steal<u8>>| steals.into_iter().collect::<Steal<u8>>();
    assert_eq!(collect(vec![]), Empty);
    assert_eq!(collect(vec![Empty, Empty]), Empty);
    assert_eq!(collect(vec![Empty, Retry, Empty]), Retry);
    assert_eq!(collect(vec![Retry, Success(1), Success(2)]), Success(1));
    assert_eq!(collect(vec![Empty, Success(3), Retry]), Success(3));
    // Lazily: nothing after the first success is stolen.
    let worker = Worker::new_fifo(4);
    worker.push(1).unwrap();
    worker.push(2).unwrap();
    let stealers = [worker.stealer(), worker.stealer()];
    let got: Steal<_> = stealers.iter().map(Stealer::steal).collect();
    assert_eq!(got, Success(1));
    assert_eq!(worker.len(), 1);
    // `or_else` keeps a `Retry` over a later `Empty`, and takes a later success.
    assert_eq!(Retry.or_else(|| collect(vec![Empty])), Retry);
    assert_eq!(Retry.or_else(|| collect(vec![Success(4)])), Success(4));
    assert_eq!(Empty.or_else(|| collect(vec![Retry])), Retry);
}

/// Every operation against a `VecDeque` model, over many laps of a small ring (3 items in 4
/// slots), so that positions and stamps wrap many times.
#[test]
fn matches_a_model_over_many_laps() {
    for (lifo, worker) in every_deque(3) {
        let stealer = worker.stealer();
        let dest = Worker::new_fifo(3);
        let mut model = VecDeque::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for next in 0..scaled(20_000, 500) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match seed % 4 {
                0 | 1 => {
                    let pushed = worker.push(next);
                    if model.len() < 3 {
                        assert_eq!(pushed, Ok(()));
                        model.push_back(next);
                    } else {
                        assert_eq!(pushed, Err(Full(next)));
                    }
                }
                2 => {
                    let expected = if lifo {
                        model.pop_back()
                    } else {
                        model.pop_front()
                    };
                    assert_eq!(worker.pop(), expected);
                }
                _ => {
                    if seed % 8 == 3 {
                        assert_eq!(stealer.steal().success(), model.pop_front());
                    } else {
                        let len = model.len();
                        let got = stealer.steal_batch_and_pop(&dest).success();
                        assert_eq!(got, model.pop_front());
                        let moved: Vec<_> = std::iter::from_fn(|| dest.pop()).collect();
                        let expected: Vec<_> =
                            model.drain(..len.div_ceil(2).saturating_sub(1)).collect();
                        assert_eq!(moved, expected);
                    }
                }
            }
            assert_eq!(worker.len(), model.len());
        }
    }
}

/// The owner pushes and pops while three stealers (two single, one by batches) take: every
/// item is seen exactly once.
fn owner_and_stealers(lifo: bool, start: usize) {
    let n = scaled(100_000, 300);
    let seen = Arc::new(Tally::new(n));
    let worker: Worker<usize> = deque(lifo, 64, start);
    let done = Arc::new(AtomicUsize::new(0));
    let thieves: Vec<_> = (0..3)
        .map(|k| {
            let stealer = worker.stealer();
            let seen = Arc::clone(&seen);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mine = Worker::new_lifo_at(16, start.wrapping_sub(5));
                let mut taken = 0;
                while done.load(Ordering::SeqCst) == 0 || !stealer.is_empty() {
                    let got = if k == 2 {
                        stealer.steal_batch_and_pop(&mine)
                    } else {
                        stealer.steal()
                    };
                    match got {
                        Steal::Success(i) => {
                            seen.see(i);
                            taken += 1;
                            while let Some(i) = mine.pop() {
                                seen.see(i);
                                taken += 1;
                            }
                        }
                        Steal::Retry => {}
                        Steal::Empty => thread::yield_now(),
                    }
                }
                taken
            })
        })
        .collect();
    let mut popped = 0;
    for i in 0..n {
        let mut item = i;
        while let Err(Full(back)) = worker.push(item) {
            item = back;
            if let Some(j) = worker.pop() {
                seen.see(j);
                popped += 1;
            }
        }
        if i % 3 == 0 {
            if let Some(j) = worker.pop() {
                seen.see(j);
                popped += 1;
            }
        }
    }
    done.store(1, Ordering::SeqCst);
    while let Some(j) = worker.pop() {
        seen.see(j);
        popped += 1;
    }
    let stolen: usize = thieves.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(popped + stolen, n);
    seen.assert_each_seen_once();
}

#[test]
fn lifo_owner_and_three_stealers_see_each_item_once() {
    for start in STARTS {
        owner_and_stealers(true, start);
    }
}

#[test]
fn fifo_owner_and_three_stealers_see_each_item_once() {
    for start in STARTS {
        owner_and_stealers(false, start);
    }
}

#[test]
fn each_item_dropped_once_and_leftovers_with_the_last_handle() {
    for worker_first in [true, false] {
        for (_, worker) in every_deque(4) {
            let log = DropLog::new(6);
            let stealer = worker.stealer();
            // Wrap once so the leftovers straddle the end of the ring.
            for id in 0..3 {
                worker.push(Counted::new(&log, id)).unwrap();
            }
            drop(steal(&stealer));
            drop(steal(&stealer));
            for id in 3..6 {
                worker.push(Counted::new(&log, id)).unwrap();
            }
            drop(worker.pop());
            assert_eq!(log.total(), 3);
            if worker_first {
                drop(worker);
                assert_eq!(log.total(), 3, "the stealer keeps them");
                drop(stealer);
            } else {
                drop(stealer);
                assert_eq!(log.total(), 3, "the worker keeps them");
                drop(worker);
            }
            log.assert_dropped_exactly(0..6);
        }
    }
}

#[test]
fn a_panicking_drop_still_drops_the_rest() {
    let log = DropLog::new(4);
    let worker = Worker::new_fifo(4);
    worker.push(Counted::new(&log, 0)).unwrap();
    worker.push(Counted::bomb(&log, 1)).unwrap();
    worker.push(Counted::new(&log, 2)).unwrap();
    worker.push(Counted::new(&log, 3)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(worker)));
    assert!(result.is_err());
    log.assert_dropped_exactly(0..4);
}

#[test]
fn zero_sized_items() {
    for worker in [Worker::new_lifo(3), Worker::new_fifo(3)] {
        let stealer = worker.stealer();
        for _ in 0..3 {
            worker.push(()).unwrap();
        }
        assert_eq!(worker.push(()), Err(Full(())));
        assert_eq!(stealer.steal(), Steal::Success(()));
        assert_eq!(worker.pop(), Some(()));
        let dest = Worker::new_fifo(1);
        assert_eq!(stealer.steal_batch_and_pop(&dest), Steal::Success(()));
        assert_eq!(worker.pop(), None);
        assert_eq!(dest.pop(), None);
    }
}

#[test]
fn handles_are_debug() {
    let worker = Worker::<String>::new_lifo(2);
    assert!(format!("{worker:?}").contains("capacity: 2"));
    assert!(format!("{:?}", worker.stealer()).contains("len: 0"));
}
