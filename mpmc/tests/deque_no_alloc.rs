//! No allocation after construction: a counting global allocator shows that pushing, popping and
//! stealing (single and by batches, from a worker and from the injector) allocate nothing. The
//! counter is per thread, so other tests running meanwhile do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use weir_mpmc::deque::{Injector, Worker};

/// Counts the calls to `alloc`/`realloc` made on each thread, then forwards to `System`.
struct CountingAlloc;

thread_local! {
    // `const` and `Copy`: accessing it neither allocates nor registers a destructor.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the allocator can be called while the thread-local is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Allocations made on this thread by `f`.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

fn cycles() -> u64 {
    if cfg!(miri) {
        100
    } else {
        50_000
    }
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
                for k in 0..4 {
                    worker.push(i + k).unwrap();
                    injector.push(i + k).unwrap();
                }
                assert!(worker.pop().is_some());
                assert!(stealer.steal().is_success());
                assert!(stealer.steal_batch_and_pop(&dest).is_success());
                assert!(injector.steal().is_success());
                assert!(injector.steal_batch_and_pop(&dest).is_success());
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
