//! The injector: order, capacity, errors, batches into a worker, and pushers against stealing
//! workers on real threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use weir_mpmc::deque::{Injector, Steal, Worker};
use weir_mpmc::Full;
use weir_test_support::{scaled, Counted, DropLog, Tally};

#[test]
fn steals_oldest_first_and_never_retries() {
    let injector = Injector::new(4);
    assert_eq!(injector.steal(), Steal::<u32>::Empty);
    for i in 0..4 {
        injector.push(i).unwrap();
    }
    assert_eq!(injector.len(), 4);
    let got: Vec<_> = (0..5).map(|_| injector.steal()).collect();
    assert_eq!(
        got,
        [
            Steal::Success(0),
            Steal::Success(1),
            Steal::Success(2),
            Steal::Success(3),
            Steal::Empty
        ]
    );
    assert!(injector.is_empty());
}

#[test]
fn full_at_exactly_capacity_gives_the_item_back() {
    let injector = Injector::new(3);
    for i in 0..3 {
        injector.push(i).unwrap();
    }
    assert_eq!(injector.push(9), Err(Full(9)));
    assert_eq!(injector.steal(), Steal::Success(0));
    injector.push(9).unwrap();
    assert_eq!(injector.capacity(), 3);
}

#[test]
fn capacity_errors() {
    assert_eq!(
        Injector::<u8>::try_new(0).unwrap_err().to_string(),
        "capacity must be at least 1"
    );
    assert!(Injector::<u64>::try_new(usize::MAX).is_err());
    let panic = std::panic::catch_unwind(|| Injector::<u8>::new(0)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "weir_mpmc::deque::Injector::new: capacity must be at least 1"
    );
}

#[test]
fn steal_batch_and_pop_moves_about_half_within_the_room() {
    let injector = Injector::new(16);
    for i in 0..12 {
        injector.push(i).unwrap();
    }
    let worker = Worker::new_fifo(8);
    // Half of 12 is 6: one returned, five into the worker, in order.
    assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(0));
    assert_eq!(worker.len(), 5);
    assert_eq!(injector.len(), 6);
    // Half of 6 is 3, and 3 fit: one returned, two into the worker.
    assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(6));
    assert_eq!(worker.len(), 7);
    assert_eq!(injector.len(), 3);
    // Half of 3, rounded up, is 2, but there is room for only 1: two taken.
    assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(9));
    assert_eq!(worker.len(), 8);
    // No room: one taken.
    assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Success(11));
    assert_eq!(injector.steal_batch_and_pop(&worker), Steal::Empty);
    let all: Vec<_> = std::iter::from_fn(|| worker.pop()).collect();
    assert_eq!(all, [1, 2, 3, 4, 5, 7, 8, 10]);
    assert!(worker.is_empty());
}

#[test]
fn steal_batch_moves_about_half_within_the_room_and_the_limit() {
    let injector = Injector::new(16);
    for i in 0..12 {
        injector.push(i).unwrap();
    }
    let worker = Worker::new_lifo(8);
    // Half of 12 is 6, all into the worker.
    assert_eq!(injector.steal_batch(&worker), Steal::Success(()));
    assert_eq!((worker.len(), injector.len()), (6, 6));
    // Half of 6 is 3, but the limit is 1.
    assert_eq!(
        injector.steal_batch_with_limit(&worker, 1),
        Steal::Success(())
    );
    // Half of 5, rounded up, is 3, but only 1 fits.
    assert_eq!(injector.steal_batch(&worker), Steal::Success(()));
    assert_eq!((worker.len(), injector.len()), (8, 4));
    // Full: nothing moves, and nothing is taken.
    assert_eq!(injector.steal_batch(&worker), Steal::Empty);
    assert_eq!(injector.steal_batch_with_limit(&worker, 3), Steal::Empty);
    assert_eq!(injector.len(), 4);
    let all: Vec<_> = std::iter::from_fn(|| worker.pop()).collect();
    assert_eq!(all, [7, 6, 5, 4, 3, 2, 1, 0]);
    // At most `limit` in all, the returned one included.
    let limited = injector.steal_batch_with_limit_and_pop(&worker, 2);
    assert_eq!(limited, Steal::Success(8));
    assert_eq!((worker.pop(), worker.pop()), (Some(9), None));
    // Half of 2 is 1, below the limit.
    assert_eq!(
        injector.steal_batch_with_limit_and_pop(&worker, 9),
        Steal::Success(10)
    );
    assert_eq!(worker.pop(), None);
    assert_eq!(injector.steal_batch(&worker), Steal::Success(()));
    assert_eq!((worker.pop(), worker.pop()), (Some(11), None));
    assert_eq!(injector.steal_batch(&worker), Steal::Empty);
    assert_eq!(
        injector.steal_batch_with_limit_and_pop(&worker, 1),
        Steal::Empty
    );
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Injector::steal_batch_with_limit: limit must be")]
fn steal_batch_with_limit_panics_on_zero() {
    let injector = Injector::new(2);
    injector.push(1).unwrap();
    let _ = injector.steal_batch_with_limit(&Worker::new_fifo(2), 0);
}

#[test]
#[should_panic(expected = "weir_mpmc::deque::Injector::steal_batch_with_limit_and_pop: limit")]
fn steal_batch_with_limit_and_pop_panics_on_zero() {
    let _ = Injector::<u8>::new(2).steal_batch_with_limit_and_pop(&Worker::new_fifo(2), 0);
}

#[test]
fn leftovers_are_dropped_once() {
    let log = DropLog::new(3);
    let injector = Injector::new(4);
    for id in 0..3 {
        injector.push(Counted::new(&log, id)).unwrap();
    }
    drop(injector.steal());
    log.assert_dropped_exactly([0]);
    drop(injector);
    log.assert_dropped_exactly(0..3);
}

#[test]
fn pushers_and_stealing_workers_see_each_item_once() {
    let per_pusher = scaled(50_000, 200);
    let n = 2 * per_pusher;
    let injector = Arc::new(Injector::new(32));
    let seen = Arc::new(Tally::new(n));
    let total = Arc::new(AtomicUsize::new(0));
    let pushers: Vec<_> = (0..2)
        .map(|p| {
            let injector = Arc::clone(&injector);
            thread::spawn(move || {
                for i in 0..per_pusher {
                    let mut item = p * per_pusher + i;
                    while let Err(Full(back)) = injector.push(item) {
                        item = back;
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let injector = Arc::clone(&injector);
            let seen = Arc::clone(&seen);
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let mine = Worker::new_lifo(8);
                while total.load(Ordering::SeqCst) < n {
                    let got = if w == 0 {
                        injector.steal_batch_and_pop(&mine)
                    } else {
                        injector.steal()
                    };
                    match got {
                        Steal::Success(i) => {
                            seen.see(i);
                            total.fetch_add(1, Ordering::SeqCst);
                            while let Some(i) = mine.pop() {
                                seen.see(i);
                                total.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Steal::Empty | Steal::Retry => thread::yield_now(),
                    }
                }
            })
        })
        .collect();
    pushers.into_iter().for_each(|t| t.join().unwrap());
    workers.into_iter().for_each(|t| t.join().unwrap());
    seen.assert_each_seen_once();
}
