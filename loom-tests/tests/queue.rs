//! loom models of weir-mpmc's bounded queue.
//!
//! Slots are loom cells (see `mpmc/src/sync.rs`), so an item read before its push published it,
//! or a slot overwritten before its pop was done with it, fails a model as a data race. The
//! assertions check that nothing is lost, duplicated, reordered (per producer) or dropped twice,
//! and that `Full` and `None` are reported only when the queue really is full or empty.
//!
//! Between them the models need every Acquire and Release in the queue:
//! `../shared/tools/loom-mutants.sh . mpmc --test queue` weakens each one in turn.

#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use loom_tests::{model, model_with_bound, Counted, DropCounter};
use weir_mpmc::Queue;

/// Pushes `item`, yielding to loom while the queue is full.
fn push<T>(queue: &Queue<T>, mut item: T) {
    while let Err(full) = queue.try_push(item) {
        item = full.into_inner();
        thread::yield_now();
    }
}

/// Two producers, one consumer, one slot, no waiting: each producer tries one push, the
/// consumer tries two pops. Every item comes out exactly once (popped, handed back by `Full`,
/// or left inside), and at most one push can fail, for the slot holds one item. When the
/// consumer pops between the pushes, the second push reuses the slot the pop has just read.
#[test]
fn two_producers_one_consumer_capacity_1() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(Queue::new(1));
        let producers: Vec<_> = (0..2)
            .map(|value| {
                let (queue, item) = (Arc::clone(&queue), drops.item(value));
                thread::spawn(move || queue.try_push(item).err().map(|full| full.0.value))
            })
            .collect();
        let popped: Vec<u32> = (0..2)
            .filter_map(|_| queue.try_pop())
            .map(|i| i.value)
            .collect();
        let refused: Vec<u32> = producers
            .into_iter()
            .filter_map(|p| p.join().unwrap())
            .collect();
        assert!(
            refused.len() <= 1,
            "both pushes refused by a queue with room for one"
        );
        let left: Vec<u32> = queue.try_pop().into_iter().map(|item| item.value).collect();
        let mut all = [popped, refused, left].concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1]);
        assert_eq!(drops.dropped(), 2);
    });
}

/// One producer, two consumers, two slots, three items, no waiting: the producer tries each
/// push once, each consumer tries one pop, racing the other for the front. Every item comes out
/// exactly once (popped, refused or left), and the third push wraps round to slot 0 when a
/// consumer has freed it.
///
/// Bound 1: both consumers may spin waiting for the producer's half-done write, and with more
/// forced switches loom's search does not finish. One preemption still puts a switch between
/// the producer's claim and its write, and between either consumer's claim and its read.
#[test]
fn one_producer_two_consumers_capacity_2() {
    model_with_bound(1, || {
        let drops = DropCounter::default();
        let queue = Arc::new(Queue::<Counted>::new(2));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || queue.try_pop().map(|item| item.value))
            })
            .collect();
        let refused: Vec<u32> = (0..3)
            .filter_map(|value| queue.try_push(drops.item(value)).err())
            .map(|full| full.0.value)
            .collect();
        let mut all: Vec<u32> = consumers
            .into_iter()
            .filter_map(|c| c.join().unwrap())
            .collect();
        all.extend(refused);
        // What is left comes out in push order.
        let left: Vec<u32> = std::iter::from_fn(|| queue.try_pop())
            .map(|i| i.value)
            .collect();
        assert!(
            left.windows(2).all(|w| w[0] < w[1]),
            "out of order: {left:?}"
        );
        all.extend(left);
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
        assert_eq!(drops.dropped(), 3);
    });
}

/// Two threads each push one item and then pop one, on a queue with room for two: no push may
/// find it full and no pop may find it empty (each thread has pushed more than it popped when
/// it pops), whatever stale view of `head` and `tail` a thread has.
#[test]
fn full_and_empty_only_when_really_so() {
    model(|| {
        let queue = Arc::new(Queue::new(2));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    assert!(queue.try_push(t).is_ok(), "refused with room");
                    assert!(queue.try_pop().is_some(), "empty with an item inside");
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(queue.try_pop(), None);
    });
}

/// The mirror image: a full queue with room for two, and two threads that each pop one item
/// and then push one. When a thread pushes it has popped more than it pushed, so the queue has
/// room and no push may find it full; no pop may find it empty either. A thread that sees the
/// other's push move `tail` must also see that thread's pop before it, or it would take the
/// slot that pop freed for still full.
#[test]
fn full_only_when_really_full() {
    model(|| {
        let queue = Arc::new(Queue::new(2));
        queue.try_push(10).unwrap();
        queue.try_push(11).unwrap();
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    assert!(queue.try_pop().is_some(), "empty with two items inside");
                    assert!(queue.try_push(t).is_ok(), "refused with room");
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let mut left = [queue.try_pop(), queue.try_pop()];
        left.sort_unstable();
        assert_eq!(left, [Some(0), Some(1)]);
    });
}

/// `force_push` into a full one-slot queue while a consumer pops: the item pushed first comes
/// out exactly once, from the consumer or handed back by `force_push`, and the new item is
/// either popped or left inside. The evicting thread reads the old item, so its claim must
/// see that item's write.
#[test]
fn force_push_evicts_each_item_once() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(Queue::new(1));
        let (pusher_queue, first, second) = (Arc::clone(&queue), drops.item(0), drops.item(1));
        let pusher = thread::spawn(move || {
            push(&pusher_queue, first);
            pusher_queue.force_push(second).map(|item| item.value)
        });
        let popped = loop {
            // Pop until one of the two items comes out.
            if let Some(item) = queue.try_pop() {
                break item.value;
            }
            thread::yield_now();
        };
        let evicted = pusher.join().unwrap();
        let left = queue.try_pop().map(|item| item.value);
        let mut all: Vec<u32> = [Some(popped), evicted, left]
            .into_iter()
            .flatten()
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [0, 1],
            "popped {popped}, evicted {evicted:?}, left {left:?}"
        );
        assert_eq!(drops.dropped(), 2);
    });
}

/// A batch push of three items through two slots against a consumer popping batches: the
/// second batch claim reuses the slot the consumer freed. Order, count and drops hold.
#[test]
fn batches_keep_order_across_the_wrap() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(Queue::new(2));
        let (writer_queue, items) = (Arc::clone(&queue), drops.clone());
        let writer = thread::spawn(move || {
            let mut batch: Vec<Counted> = (0..3).map(|value| items.item(value)).collect();
            while !batch.is_empty() {
                if writer_queue.try_push_many(&mut batch) == 0 {
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::with_capacity(3);
        while got.len() < 3 {
            if queue.try_pop_many(&mut got, 2) == 0 {
                thread::yield_now();
            }
        }
        let values: Vec<u32> = got.iter().map(|item| item.value).collect();
        assert_eq!(values, [0, 1, 2]);
        writer.join().unwrap();
        drop(got);
        assert_eq!(drops.dropped(), 3);
    });
}

/// Items still inside when the last handle drops are dropped exactly once, after a producer and
/// a consumer on other threads have used the queue.
#[test]
fn leftovers_dropped_once() {
    model(|| {
        let drops = DropCounter::default();
        let queue = Arc::new(Queue::new(2));
        let (producer_queue, items) = (Arc::clone(&queue), drops.clone());
        let producer = thread::spawn(move || {
            push(&producer_queue, items.item(0));
            push(&producer_queue, items.item(1));
        });
        let consumer_queue = Arc::clone(&queue);
        let consumer = thread::spawn(move || consumer_queue.try_pop().map(|item| item.value));
        producer.join().unwrap();
        let popped = consumer.join().unwrap();
        assert!(matches!(popped, None | Some(0)), "{popped:?}");
        drop(queue);
        assert_eq!(drops.dropped(), 2);
    });
}

/// `len()` never reports more items than the queue held at one moment. One thread pushes and
/// pops twice on a queue with room for two, so it never holds more than one item; another reads
/// `len()`. A reader whose view of `head` is newer than its view of `tail` (`head` at position
/// 4, a lap on, while `tail` still reads 0 twice) would take the two for a lap apart and report a
/// full queue.
///
/// The reader is the spawned thread and the main thread does the pushes and pops: loom runs the
/// main thread first, so the reader's loads come after every move of `head` and `tail` and may
/// return any of their values. (With the roles the other way round, loom's search misses those
/// schedules: it tracks only the last access to an atomic, and each push's own load of `tail`
/// hides the reader's earlier one from its compare-and-swap.)
#[test]
fn len_never_more_than_was_held() {
    model(|| {
        let queue = Arc::new(Queue::new(2));
        let reader_queue = Arc::clone(&queue);
        let reader = thread::spawn(move || reader_queue.len());
        for item in 0..2 {
            queue.try_push(item).unwrap();
            assert_eq!(queue.try_pop(), Some(item));
        }
        let len = reader.join().unwrap();
        assert!(
            len <= 1,
            "len() = {len}, but the queue never held more than 1"
        );
        assert_eq!(queue.len(), 0);
    });
}
