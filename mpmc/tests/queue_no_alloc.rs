//! No allocation per item: once `Queue::new` has returned, pushes, pops, forced pushes and
//! batches (into a `Vec` with room) allocate nothing, on one thread and under contention.

use std::thread;

use weir_mpmc::Queue;
use weir_test_support::{allocations_in, scaled, CountingAlloc, Waiter};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn cycles() -> usize {
    scaled(100_000, 50)
}

#[test]
fn the_counter_counts() {
    let (n, queue) = allocations_in(|| Queue::<u64>::new(8));
    assert!(n >= 1, "new() allocates the slots");
    drop(queue);
}

#[test]
fn single_thread_operations_allocate_nothing() {
    let queue = Queue::new(64);
    let mut batch = Vec::with_capacity(64);
    let mut out = Vec::with_capacity(64);
    let (n, ()) = allocations_in(|| {
        for i in 0..cycles() as u64 {
            queue.try_push(i).unwrap();
            assert_eq!(queue.try_pop(), Some(i));
            batch.extend([i, i + 1, i + 2]);
            assert_eq!(queue.try_push_many(&mut batch), 3);
            out.clear();
            assert_eq!(queue.try_pop_many(&mut out, 3), 3);
        }
        // Full and empty paths, and eviction.
        for i in 0..64 {
            queue.try_push(i).unwrap();
        }
        assert!(queue.try_push(0).is_err());
        assert_eq!(queue.force_push(99), Some(0));
        out.clear();
        assert_eq!(queue.try_pop_many(&mut out, 64), 64);
        assert_eq!(queue.try_pop(), None);
    });
    assert_eq!(n, 0, "allocations in {} cycles", cycles());
}

#[test]
fn contended_operations_allocate_nothing() {
    let queue = Queue::new(16);
    let items = cycles() as u64;
    thread::scope(|s| {
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let queue = &queue;
                s.spawn(move || {
                    allocations_in(|| {
                        let mut waiter = Waiter::default();
                        for i in 0..items {
                            let mut item = i;
                            while let Err(full) = queue.try_push(item) {
                                item = full.into_inner();
                                waiter.wait();
                            }
                        }
                    })
                    .0
                })
            })
            .collect();
        let (n, popped) = allocations_in(|| {
            let mut popped = 0;
            let mut waiter = Waiter::default();
            while popped < 2 * items {
                match queue.try_pop() {
                    Some(_) => popped += 1,
                    None => waiter.wait(),
                }
            }
            popped
        });
        assert_eq!(popped, 2 * items);
        assert_eq!(n, 0, "consumer allocations");
        for producer in producers {
            assert_eq!(producer.join().unwrap(), 0, "producer allocations");
        }
    });
}
