//! loom models of weir-backpressure's `AdaptiveQueue`: its limit is never exceeded, even while
//! it moves, and no item is lost or duplicated.
//!
//! The queue below is weir-mpmc's, whose slots are loom cells, so an item read before its write
//! or overwritten before its read fails a model as a data race; a reserved push that finds the
//! queue full (a place counted free whose pop the pusher cannot see) panics.
//!
//! Between them the models need both orderings of `backpressure/src/adaptive.rs`:
//! `../shared/tools/loom-mutants.sh . backpressure --test adaptive` weakens each in turn.

#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use loom_tests::{model, Counted, DropCounter};
use weir_backpressure::adaptive::AdaptiveQueue;

/// Property: room the count says is free is free in the queue (no item lost, none refused
/// wrongly). One place (min = max = 1); the main thread pushes item 0, then races a second
/// push against another thread's pop of item 0. When the second push's reservation counts the
/// pop's place as free, the push must find that slot free, which needs the give-back's Release
/// and the reservation's Acquire: without either, the pusher can see the count moved but the
/// queue's head and stamp still at item 0, and the queue refuses a reserved push. Every item is
/// popped, refused, or left inside, exactly once.
#[test]
fn counted_room_is_room_in_the_queue() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(AdaptiveQueue::new(1, 1));
        assert_eq!(queue.try_push(drops.item(0)).ok(), Some(1));
        let popper = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.try_pop().map(|item| item.value))
        };
        let refused: Vec<u32> = match queue.try_push(drops.item(1)) {
            Ok(occupancy) => {
                assert_eq!(occupancy, 1, "above the limit");
                Vec::new()
            }
            Err(full) => vec![full.into_inner().value],
        };
        let popped = popper.join().unwrap();
        assert_eq!(popped, Some(0), "item 0 was there to pop");
        let left: Vec<u32> = std::iter::from_fn(|| queue.try_pop())
            .map(|item| item.value)
            .collect();
        assert!(left.len() <= 1, "more items inside than the limit");
        let mut all = [popped.into_iter().collect(), refused, left].concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1]);
        drop(queue);
        assert_eq!(drops.dropped(), 2);
    });
}

/// Property: a lowered limit holds against a racing push (the limit is exact, not a hint read
/// before the reservation). The limit starts at 2; one thread pushes items 0 and 1, the other
/// lowers the limit to 1 and then reads the occupancy. If it reads 1, the first push came
/// before its look and the second after its lowering, so the second must be refused: with the
/// limit and the count in separate atomics, the second push could read the old limit, lose the
/// race to the lowering, and still reserve a second place. Nothing is lost: every item is left
/// inside or refused, exactly once, and the queue never holds more than 2 (max).
#[test]
fn a_lowered_limit_holds_against_a_racing_push() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(AdaptiveQueue::new(1, 2));
        assert_eq!(queue.set_limit(2), 2);
        let pusher = {
            let (queue, drops) = (Arc::clone(&queue), drops.clone());
            thread::spawn(move || {
                let mut refused = Vec::new();
                let mut occupancies = Vec::new();
                for value in 0..2 {
                    match queue.try_push(drops.item(value)) {
                        Ok(occupancy) => occupancies.push(occupancy),
                        Err(full) => refused.push(full.into_inner().value),
                    }
                }
                (occupancies, refused)
            })
        };
        assert_eq!(queue.set_limit(1), 1);
        let seen = queue.len();
        let (occupancies, refused) = pusher.join().unwrap();
        if seen == 1 {
            assert_eq!(refused, [1], "a push went above a lowered limit");
        }
        assert!(occupancies.iter().all(|&n| n <= 2), "above the capacity");
        assert_eq!(queue.limit(), 1);
        let left: Vec<Counted> = std::iter::from_fn(|| queue.try_pop()).collect();
        assert_eq!(left.len() + refused.len(), 2, "an item lost or duplicated");
        assert_eq!(left.len(), occupancies.len());
        drop(left);
        drop(queue);
        assert_eq!(drops.dropped(), 2);
    });
}
