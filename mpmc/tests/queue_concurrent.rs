//! The queue under contention: no item lost or duplicated with several producers and consumers
//! (single items and batches), order kept per producer, `force_push` accounted for, drops
//! counted, and neither `Full` nor `None` reported when the queue was not really full or empty.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::thread;

use weir_mpmc::Queue;
use weir_test_support::{scaled, Counted, DropLog, Waiter};

/// An item: which producer pushed it, and its sequence number there.
type Item = (usize, usize);

/// Pushes `item`, waiting while the queue is full.
fn push(queue: &Queue<Item>, mut item: Item) {
    let mut waiter = Waiter::default();
    while let Err(full) = queue.try_push(item) {
        item = full.into_inner();
        waiter.wait();
    }
}

/// Runs `producers` producers of `per_producer` items each against `consumers` consumers, and
/// checks that every item arrived exactly once, and in order per producer at each consumer.
fn run(producers: usize, consumers: usize, per_producer: usize, batches: bool) {
    let queue = Queue::new(64);
    let total = producers * per_producer;
    let seen: Vec<AtomicU8> = (0..total).map(|_| AtomicU8::new(0)).collect();
    let popped = AtomicUsize::new(0);
    thread::scope(|s| {
        for p in 0..producers {
            let queue = &queue;
            s.spawn(move || {
                if batches {
                    let mut batch = Vec::with_capacity(16);
                    let mut next = 0;
                    let mut waiter = Waiter::default();
                    while next < per_producer || !batch.is_empty() {
                        while batch.len() < 16 && next < per_producer {
                            batch.push((p, next));
                            next += 1;
                        }
                        if queue.try_push_many(&mut batch) == 0 {
                            waiter.wait();
                        }
                    }
                } else {
                    (0..per_producer).for_each(|i| push(queue, (p, i)));
                }
            });
        }
        for _ in 0..consumers {
            let (queue, seen, popped) = (&queue, &seen, &popped);
            s.spawn(move || {
                let mut last = vec![None; producers];
                let mut out = Vec::with_capacity(16);
                let mut waiter = Waiter::default();
                while popped.load(Ordering::Relaxed) < total {
                    out.clear();
                    if batches {
                        // `out` shows how many came.
                        let _ = queue.try_pop_many(&mut out, 16);
                    } else {
                        out.extend(queue.try_pop());
                    }
                    if out.is_empty() {
                        waiter.wait();
                        continue;
                    }
                    waiter.reset();
                    for &(p, i) in &out {
                        assert!(last[p] < Some(i), "producer {p}: {i} after {:?}", last[p]);
                        last[p] = Some(i);
                        seen[p * per_producer + i].fetch_add(1, Ordering::Relaxed);
                    }
                    popped.fetch_add(out.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let counts: Vec<u8> = seen.iter().map(|n| n.load(Ordering::Relaxed)).collect();
    let wrong: Vec<usize> = (0..total).filter(|&i| counts[i] != 1).collect();
    assert!(wrong.is_empty(), "items not seen exactly once: {wrong:?}");
    assert!(queue.is_empty());
}

fn per_producer() -> usize {
    scaled(100_000, 40)
}

#[test]
fn one_producer_one_consumer() {
    run(1, 1, per_producer(), false);
}

#[test]
fn two_producers_one_consumer() {
    run(2, 1, per_producer(), false);
}

#[test]
fn one_producer_two_consumers() {
    run(1, 2, per_producer(), false);
}

#[test]
fn three_producers_three_consumers() {
    run(3, 3, per_producer(), false);
}

#[test]
fn batches_two_producers_two_consumers() {
    run(2, 2, per_producer(), true);
}

/// Each of `threads` threads pushes one item and then pops one, over and over, on a queue with
/// room for `threads` items. At any moment each thread has at most one item inside, so no push
/// may find the queue full; and when a thread pops, it has pushed more than it has popped, so
/// the queue holds an item and no pop may find it empty. A queue that reports "full" (or
/// "empty") for a slot another thread has claimed but not finished with fails here.
#[test]
fn never_full_or_empty_unless_really_so() {
    let threads = 4;
    let queue = Queue::new(threads);
    let spurious_full = AtomicUsize::new(0);
    let spurious_empty = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..threads {
            let (queue, spurious_full, spurious_empty) = (&queue, &spurious_full, &spurious_empty);
            s.spawn(move || {
                for i in 0..scaled(1_000_000, 30) {
                    if queue.try_push(t * 1_000_000 + i).is_err() {
                        spurious_full.fetch_add(1, Ordering::Relaxed);
                    }
                    if queue.try_pop().is_none() {
                        spurious_empty.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(
        spurious_full.load(Ordering::Relaxed),
        0,
        "pushes that found room refused"
    );
    assert_eq!(
        spurious_empty.load(Ordering::Relaxed),
        0,
        "pops that found items refused"
    );
    assert!(queue.is_empty());
}

/// Two threads force-push into a small queue while a third pops: every item pushed is either
/// popped, handed back by `force_push`, or still inside at the end, exactly once.
#[test]
fn force_push_under_contention_accounts_for_every_item() {
    let per_producer = scaled(50_000, 30);
    let queue = Queue::new(8);
    let seen: Vec<AtomicU8> = (0..2 * per_producer).map(|_| AtomicU8::new(0)).collect();
    let producers_done = AtomicBool::new(false);
    let see = |id: usize| seen[id].fetch_add(1, Ordering::Relaxed);
    thread::scope(|s| {
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let (queue, see) = (&queue, &see);
                s.spawn(move || {
                    for i in 0..per_producer {
                        if let Some(evicted) = queue.force_push(p * per_producer + i) {
                            see(evicted);
                        }
                    }
                })
            })
            .collect();
        let (queue, see, producers_done) = (&queue, &see, &producers_done);
        s.spawn(move || {
            let mut waiter = Waiter::default();
            while !producers_done.load(Ordering::Acquire) {
                match queue.try_pop() {
                    Some(id) => {
                        see(id);
                    }
                    None => waiter.wait(),
                }
            }
        });
        producers.into_iter().for_each(|p| p.join().unwrap());
        producers_done.store(true, Ordering::Release);
    });
    while let Some(id) = queue.try_pop() {
        see(id);
    }
    let wrong: Vec<usize> = (0..2 * per_producer)
        .filter(|&i| seen[i].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "items not accounted for exactly once: {wrong:?}"
    );
}

/// Items with destructors through two producers and two consumers; the consumers stop early,
/// and the queue drops what is left: every item is dropped exactly once.
#[test]
fn drops_exactly_once_under_contention() {
    let per_producer = scaled(20_000, 20);
    let log = DropLog::new(2 * per_producer);
    let created;
    {
        let queue = Queue::new(32);
        let popped = AtomicUsize::new(0);
        let target = per_producer; // consumers stop after half the items
        created = thread::scope(|s| {
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let (queue, log, popped) = (&queue, &log, &popped);
                    s.spawn(move || {
                        for i in 0..per_producer {
                            let mut item = Counted::new(log, p * per_producer + i);
                            let mut waiter = Waiter::default();
                            loop {
                                match queue.try_push(item) {
                                    Ok(()) => break,
                                    Err(full) => item = full.into_inner(),
                                }
                                // Once the consumers have stopped, drop what does not fit.
                                if popped.load(Ordering::Relaxed) >= target {
                                    return p * per_producer..p * per_producer + i + 1;
                                }
                                waiter.wait();
                            }
                        }
                        p * per_producer..(p + 1) * per_producer
                    })
                })
                .collect();
            for _ in 0..2 {
                let (queue, popped) = (&queue, &popped);
                s.spawn(move || {
                    let mut waiter = Waiter::default();
                    while popped.load(Ordering::Relaxed) < target {
                        match queue.try_pop() {
                            Some(item) => {
                                popped.fetch_add(1, Ordering::Relaxed);
                                drop(item);
                            }
                            None => waiter.wait(),
                        }
                    }
                });
            }
            producers
                .into_iter()
                .flat_map(|p| p.join().unwrap())
                .collect::<Vec<_>>()
        });
    }
    // Popped, left inside, or handed back when the consumers had stopped: each item made was
    // dropped exactly once.
    assert!(created.len() >= per_producer);
    log.assert_dropped_exactly(created);
}
