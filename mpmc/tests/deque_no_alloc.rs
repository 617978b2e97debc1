//! No allocation after construction: a counting global allocator shows that pushing, popping and
//! stealing (single and by batches, from a worker and from the injector) allocate nothing. The
//! counter is per thread, so other tests running meanwhile do not disturb it.

use weir_mpmc::deque::{Injector, Steal, Worker};
use weir_test_support::{allocations_in, scaled, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn cycles() -> u64 {
    scaled(50_000, 10) as u64
}

#[test]
fn the_counter_counts() {
    let (n, worker) = allocations_in(|| Worker::<u64>::new_lifo(8));
    assert!(n >= 1, "new allocates the ring");
    drop(worker);
}

#[test]
fn push_pop_steal_allocate_nothing() {
    for lifo in [true, false] {
        let worker = if lifo {
            Worker::new_lifo(64)
        } else {
            Worker::new_fifo(64)
        };
        let dest = Worker::new_fifo(64);
        let (stealer, injector) = (worker.stealer(), Injector::new(64));
        let (n, ()) = allocations_in(|| {
            for i in 0..cycles() {
                for k in 0..20 {
                    worker.push(i + k).unwrap();
                    injector.push(i + k).unwrap();
                }
                assert!(worker.pop().is_some());
                assert!(stealer.steal().is_success());
                assert!(stealer.steal_batch_and_pop(&dest).is_success());
                assert!(stealer.steal_batch(&dest).is_success());
                assert!(stealer.steal_batch_with_limit(&dest, 2).is_success());
                assert!(stealer
                    .steal_batch_with_limit_and_pop(&dest, 2)
                    .is_success());
                assert!(injector.steal().is_success());
                assert!(injector.steal_batch_and_pop(&dest).is_success());
                assert!(injector.steal_batch(&dest).is_success());
                assert!(injector.steal_batch_with_limit(&dest, 2).is_success());
                assert!(injector
                    .steal_batch_with_limit_and_pop(&dest, 2)
                    .is_success());
                let found: Steal<_> = [stealer.steal(), injector.steal()].into_iter().collect();
                assert!(found.is_success());
                while dest.pop().is_some() {}
                while worker.pop().is_some() {}
                while injector.steal().is_success() {}
                let _ = stealer.clone();
            }
            // The full and empty paths too.
            for i in 0..64 {
                worker.push(i).unwrap();
            }
            assert!(worker.push(0).is_err());
            while worker.pop().is_some() {}
            assert!(stealer.steal().is_empty());
        });
        assert_eq!(n, 0, "allocations in {} cycles", cycles());
    }
}
