//! A global allocator that counts the bytes allocated now and their peak, for the table's
//! peak memory column: the most bytes live at once during a run, above what was live when it
//! started, not counting what was [`set_aside`] (the reference images kept for comparison).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Forwards to `System`, counting the bytes live.
pub(crate) struct Counting;

/// Bytes allocated and not yet freed.
static CURRENT: AtomicUsize = AtomicUsize::new(0);
/// Bytes kept on purpose outside the runs' working memory.
static ASIDE: AtomicUsize = AtomicUsize::new(0);
/// The most of `CURRENT - ASIDE` since the last reset.
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// `CURRENT - ASIDE` at the last reset.
static BASE: AtomicUsize = AtomicUsize::new(0);

// Relaxed everywhere: these are statistics, read after the threads that moved them have been
// joined.
fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(
        now.saturating_sub(ASIDE.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counting touches only atomics (it allocates nothing).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded; the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded; the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size);
            shrank(layout.size());
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
}

fn live() -> usize {
    CURRENT
        .load(Ordering::Relaxed)
        .saturating_sub(ASIDE.load(Ordering::Relaxed))
}

/// Counts `bytes` that are live now as kept on purpose, outside the runs' working memory.
pub(crate) fn set_aside(bytes: usize) {
    ASIDE.fetch_add(bytes, Ordering::Relaxed);
}

/// Starts a new peak from what is live now.
pub(crate) fn reset_peak() {
    let now = live();
    BASE.store(now, Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
}

/// The most bytes live at once since [`reset_peak`], above what was live then.
pub(crate) fn peak_since_reset() -> usize {
    PEAK.load(Ordering::Relaxed)
        .saturating_sub(BASE.load(Ordering::Relaxed))
}
