//! loom models of weir-mpmc's work-stealing deque and injector.
//!
//! The threads are real owners and stealers. Slot accesses go through loom's `UnsafeCell`, so a
//! steal that reads an item before its write is ordered, or a push that overwrites a slot a
//! steal is still reading, fails the model as a data race; the assertions check that every item
//! is taken exactly once (never twice, never lost) and dropped exactly once.
//!
//! Between them the models need every Acquire, Release and SeqCst in `mpmc/src/deque/`:
//! `../shared/tools/loom-mutants.sh . mpmc --test deque` weakens each one and checks that a
//! model fails.

#![cfg(loom)]

use loom::thread;
use loom_tests::{model, Counted, DropCounter};
use weir_mpmc::deque::{Injector, Steal, Stealer, Worker};

/// Steals until the steal is not a lost race: the item, or `None` for empty.
fn steal_once<T>(stealer: &Stealer<T>) -> Option<T> {
    loop {
        match stealer.steal() {
            Steal::Success(item) => return Some(item),
            Steal::Empty => return None,
            Steal::Retry => thread::yield_now(),
        }
    }
}

/// Pushes `item`, yielding to loom while the deque is full.
fn push<T>(worker: &Worker<T>, mut item: T) {
    while let Err(full) = worker.push(item) {
        item = full.into_inner();
        thread::yield_now();
    }
}

/// Asserts that the taken values are exactly `0..n`, each once.
fn assert_each_once(mut taken: Vec<u32>, n: u32) {
    taken.sort_unstable();
    assert_eq!(
        taken,
        (0..n).collect::<Vec<_>>(),
        "each item taken exactly once"
    );
}

/// Pop against steal for the last item: the owner pushes one item (while the stealer is already
/// looking) and pops; the stealer steals once. Exactly one of them gets it: never both (the
/// fences and the CAS on `top`), never neither (the pop only gives up when a steal claimed it).
#[test]
fn lifo_pop_and_steal_race_for_the_last_item() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::<Counted>::new_lifo(2);
        let stealer = worker.stealer();
        let thief = thread::spawn(move || steal_once(&stealer).map(|item| item.value));
        worker.push(drops.item(7)).unwrap();
        let popped = worker.pop().map(|item| item.value);
        let stolen = thief.join().unwrap();
        assert!(
            popped.is_some() != stolen.is_some(),
            "popped {popped:?}, stolen {stolen:?}"
        );
        assert_eq!(popped.or(stolen), Some(7));
        drop(worker);
        assert_eq!(drops.dropped(), 1);
    });
}

/// The owner pushes two items and pops twice while a stealer steals twice: the pops lower
/// `bottom` below items the steal may still take, so every store of `bottom` must publish the
/// items below it. No item is lost or taken twice, none is read before it is written, and each
/// is dropped once, the leftovers (if a pop and a steal both found nothing) with the last
/// handle.
#[test]
fn lifo_push_pop_against_steals_two_items() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::<Counted>::new_lifo(2);
        let stealer = worker.stealer();
        let thief = thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..2 {
                if let Some(item) = steal_once(&stealer) {
                    got.push(item.value);
                }
            }
            got
        });
        worker.push(drops.item(0)).unwrap();
        worker.push(drops.item(1)).unwrap();
        let mut taken: Vec<u32> = (0..2)
            .filter_map(|_| worker.pop())
            .map(|i| i.value)
            .collect();
        taken.extend(thief.join().unwrap());
        assert_each_once(taken, 2);
        drop(worker);
        assert_eq!(drops.dropped(), 2);
    });
}

/// Two stealers and a LIFO pop over two items pushed beforehand: each stealer steals once and
/// the owner pops once. A pop whose fence comes after a steal's must see at least the `top`
/// that steal started from (which another steal may have written): else it takes, without a
/// CAS, the item that steal is claiming. Each item is taken at most once, and all three
/// together take both unless one of them saw the deque empty.
#[test]
fn two_stealers_and_a_lifo_pop() {
    model(|| {
        let worker = Worker::new_lifo(2);
        worker.push(0u32).unwrap();
        worker.push(1).unwrap();
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let stealer = worker.stealer();
                thread::spawn(move || steal_once(&stealer))
            })
            .collect();
        let popped = worker.pop();
        let mut taken: Vec<u32> = popped.into_iter().collect();
        taken.extend(thieves.into_iter().filter_map(|t| t.join().unwrap()));
        while let Some(item) = worker.pop() {
            taken.push(item);
        }
        assert_each_once(taken, 2);
    });
}

/// RUSTSEC-2021-0093's race: crossbeam-deque's FIFO pop could take a task that a steal also
/// took. Here the owner pushes two items and pops (FIFO) while a stealer steals; each item is
/// taken exactly once (every position is claimed by one CAS on `top`), and a pushed item is
/// never read before its write is published.
#[test]
fn fifo_pop_against_steal() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::<Counted>::new_fifo(2);
        let stealer = worker.stealer();
        let thief = thread::spawn(move || steal_once(&stealer).map(|item| item.value));
        worker.push(drops.item(0)).unwrap();
        worker.push(drops.item(1)).unwrap();
        let mut taken: Vec<u32> = worker.pop().into_iter().map(|i| i.value).collect();
        taken.extend(thief.join().unwrap());
        while let Some(item) = worker.pop() {
            taken.push(item.value);
        }
        assert_each_once(taken, 2);
        drop(worker);
        assert_eq!(drops.dropped(), 2);
    });
}

/// RUSTSEC-2021-0093's race with a batch: a FIFO owner pops while a stealer moves a batch (one
/// CAS for several positions) into its own worker. Of three items each is taken exactly once,
/// the batch keeps their order, and the stolen ones reach the thief's worker intact.
#[test]
fn fifo_pop_against_steal_batch() {
    model(|| {
        let worker = Worker::new_fifo(4);
        for value in 0..3u32 {
            worker.push(value).unwrap();
        }
        let stealer = worker.stealer();
        let thief = thread::spawn(move || {
            let mine = Worker::new_fifo(4);
            let mut got = Vec::new();
            loop {
                match stealer.steal_batch_and_pop(&mine) {
                    Steal::Success(first) => got.push(first),
                    Steal::Empty => break,
                    Steal::Retry => thread::yield_now(),
                }
                while let Some(item) = mine.pop() {
                    got.push(item);
                }
            }
            assert!(got.windows(2).all(|w| w[0] < w[1]), "batch order {got:?}");
            got
        });
        let mut taken = Vec::new();
        while let Some(item) = worker.pop() {
            taken.push(item);
        }
        taken.extend(thief.join().unwrap());
        assert_each_once(taken, 3);
    });
}

/// A LIFO owner pops while a stealer moves a batch: the owner pops without a CAS while it sees
/// more than one item, so a batch claimed with one CAS could overlap its pops. Of three items
/// each is taken exactly once.
#[test]
fn lifo_pops_against_steal_batch() {
    model(|| {
        let worker = Worker::new_lifo(4);
        for value in 0..3u32 {
            worker.push(value).unwrap();
        }
        let stealer = worker.stealer();
        let thief = thread::spawn(move || {
            let mine = Worker::new_lifo(4);
            let mut got = Vec::new();
            if let Steal::Success(first) = stealer.steal_batch_and_pop(&mine) {
                got.push(first);
            }
            while let Some(item) = mine.pop() {
                got.push(item);
            }
            got
        });
        let mut taken = Vec::new();
        while let Some(item) = worker.pop() {
            taken.push(item);
        }
        taken.extend(thief.join().unwrap());
        // Whatever the batch found empty or lost is still in the deque.
        while let Some(item) = worker.pop() {
            taken.push(item);
        }
        assert_each_once(taken, 3);
    });
}

/// The stamp wait, in a deque of one slot: a stealer claims the item and reads it while the
/// owner pushes the next item into the same slot. The push must wait for the read (else loom
/// reports the write racing with it), must not report `Full` once the claim is made (it loops
/// on `Full` only until then), and the owner then pops the new item.
#[test]
fn push_waits_for_a_steal_reading_the_same_slot() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::new_lifo(1);
        worker.push(drops.item(0)).unwrap();
        let stealer = worker.stealer();
        let thief = thread::spawn(move || {
            let stolen: Counted = loop {
                if let Some(item) = steal_once(&stealer) {
                    break item;
                }
            };
            stolen.value
        });
        push(&worker, drops.item(1));
        assert_eq!(thief.join().unwrap(), 0);
        assert_eq!(worker.pop().map(|item| item.value), Some(1));
        assert_eq!(drops.dropped(), 2);
    });
}

/// The same slot handed round a two-slot FIFO deque: the owner pops (taking `top` like a steal)
/// and pushes while a stealer steals, so slots are reused by pushes after reads by both the owner
/// and the stealer. Each of three items is taken once and dropped once.
#[test]
fn fifo_slots_reused_after_pop_and_steal() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::new_fifo(2);
        worker.push(drops.item(0)).unwrap();
        worker.push(drops.item(1)).unwrap();
        let stealer = worker.stealer();
        let thief = thread::spawn(move || steal_once(&stealer).map(|item| item.value));
        let mut taken: Vec<u32> = worker.pop().into_iter().map(|i| i.value).collect();
        push(&worker, drops.item(2));
        taken.extend(thief.join().unwrap());
        while let Some(item) = worker.pop() {
            taken.push(item.value);
        }
        assert_each_once(taken, 3);
        assert_eq!(drops.dropped(), 3);
    });
}

/// Items left when the last handle goes are dropped once, by that handle, whichever it is: the
/// stealer steals one of two items and drops its handle while the owner drops the worker.
#[test]
fn leftovers_dropped_once_by_the_last_handle() {
    model(|| {
        let drops = DropCounter::default();
        let worker = Worker::new_lifo(2);
        worker.push(drops.item(0)).unwrap();
        worker.push(drops.item(1)).unwrap();
        let stealer = worker.stealer();
        let thief = thread::spawn(move || {
            drop(steal_once(&stealer));
        });
        drop(worker);
        thief.join().unwrap();
        assert_eq!(drops.dropped(), 2);
    });
}

/// The injector's batch against a push: a pusher thread pushes two items while a worker's owner
/// moves batches into its deque. Both arrive, in order, once each.
#[test]
fn injector_steal_batch_against_push() {
    model(|| {
        let injector = loom::sync::Arc::new(Injector::new(2));
        let pusher = {
            let injector = loom::sync::Arc::clone(&injector);
            thread::spawn(move || {
                for value in 0..2u32 {
                    injector.push(value).unwrap();
                }
            })
        };
        let worker = Worker::new_fifo(2);
        let mut got = Vec::new();
        while got.len() < 2 {
            match injector.steal_batch_and_pop(&worker) {
                Steal::Success(item) => got.push(item),
                Steal::Empty | Steal::Retry => thread::yield_now(),
            }
            while let Some(item) = worker.pop() {
                got.push(item);
            }
        }
        pusher.join().unwrap();
        assert_eq!(got, [0, 1]);
    });
}

/// A batch that waits on its destination while it holds claims on its source: `batch` claims
/// two of `source`'s three items at once and moves them into the owner's deque one by one.
/// That deque (FIFO, capacity 2) held two items, which two stealers are taking: once both have
/// claimed theirs it looks empty, and the batch's first push reuses the slot the first stealer
/// may still be reading, so the push waits for the slot's stamp while the batch still holds its
/// claim on the second item. No item is lost or taken twice (`drain` takes what the batch
/// left), and nobody waits for ever (the stealers being waited for hold nothing the batch has).
///
/// The owner waits for the deque to look empty with a yield loop: loom's search did not reach
/// the stamp wait when the owner made the room itself (by popping) instead.
fn batch_waits_on_its_deque_while_holding_claims<S>(
    source: S,
    batch: impl FnOnce(&S, &Worker<u32>) -> Steal<()>,
    drain: impl FnOnce(&S) -> Vec<u32>,
) {
    let mine = Worker::new_fifo(2);
    mine.push(3).unwrap();
    mine.push(4).unwrap();
    let thieves: Vec<_> = (0..2)
        .map(|_| {
            let stealer = mine.stealer();
            thread::spawn(move || steal_once(&stealer))
        })
        .collect();
    while !mine.is_empty() {
        thread::yield_now();
    }
    assert_eq!(batch(&source, &mine), Steal::Success(()));
    let mut taken = Vec::new();
    while let Some(item) = mine.pop() {
        taken.push(item);
    }
    taken.extend(thieves.into_iter().filter_map(|t| t.join().unwrap()));
    taken.extend(drain(&source));
    assert_each_once(taken, 5);
}

/// A worker's `steal_batch` from a victim deque (see above).
#[test]
fn steal_batch_waits_on_its_deque_while_holding_claims() {
    model(|| {
        let victim = Worker::new_fifo(4);
        for value in 0..3u32 {
            victim.push(value).unwrap();
        }
        batch_waits_on_its_deque_while_holding_claims(
            victim,
            |victim, mine| victim.stealer().steal_batch(mine),
            |victim| std::iter::from_fn(|| victim.pop()).collect(),
        );
    });
}

/// `Injector::steal_batch`: it pops two of its three items with one claim on its queue and
/// hands them to a sink that pushes them into the owner's deque (see above).
#[test]
fn injector_steal_batch_waits_on_its_deque_while_holding_claims() {
    model(|| {
        let injector = Injector::new(4);
        for value in 0..3u32 {
            injector.push(value).unwrap();
        }
        batch_waits_on_its_deque_while_holding_claims(
            injector,
            |injector, mine| injector.steal_batch(mine),
            |injector| std::iter::from_fn(|| injector.steal().success()).collect(),
        );
    });
}
