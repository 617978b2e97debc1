//! A global allocator that counts, per thread, the allocations made, so that a test can show
//! that an operation allocates nothing even while other tests run on other threads.
//!
//! A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: weir_test_support::CountingAlloc = weir_test_support::CountingAlloc;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the calls to `alloc`/`realloc` made on each thread, then forwards to `System`.
#[derive(Debug)]
pub struct CountingAlloc;

thread_local! {
    // `const` and `Copy`: accessing it neither allocates nor registers a destructor.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations made on every thread since the process started.
static TOTAL: AtomicUsize = AtomicUsize::new(0);

fn bump() {
    TOTAL.fetch_add(1, Ordering::Relaxed);
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

/// Allocations made on this thread by `f` (counted only where [`CountingAlloc`] is the global
/// allocator), with `f`'s result.
pub fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

/// Allocations made on every thread of the process so far (counted only where
/// [`CountingAlloc`] is the global allocator): for code that allocates on threads of its own.
/// Read it where no other test runs at the same time (a test binary with one test).
pub fn total_allocations() -> usize {
    TOTAL.load(Ordering::Relaxed)
}
