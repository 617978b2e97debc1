//! Helpers shared by the integration tests: a deterministic pseudo-random source, a waiting
//! strategy for the two-thread tests, and drop-counting items.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// `full` when running natively, `miri` under Miri (which is roughly a thousand times slower).
pub(crate) fn scaled(full: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        full
    }
}

/// SplitMix64: a tiny deterministic pseudo-random generator (no `rand` needed).
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Waits a little: spins for a while, then yields the thread.
#[derive(Debug, Default)]
pub(crate) struct Waiter(u32);

impl Waiter {
    pub(crate) fn wait(&mut self) {
        if self.0 < 32 {
            std::hint::spin_loop();
            self.0 += 1;
        } else {
            std::thread::yield_now();
        }
    }

    pub(crate) fn reset(&mut self) {
        self.0 = 0;
    }
}

/// Per-item drop counts: `counts[id]` is how many times item `id` has been dropped.
#[derive(Debug)]
pub(crate) struct DropLog {
    counts: Vec<AtomicUsize>,
}

impl DropLog {
    pub(crate) fn new(items: usize) -> Arc<Self> {
        Arc::new(DropLog {
            counts: (0..items).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    /// How many times item `id` was dropped.
    pub(crate) fn count(&self, id: usize) -> usize {
        self.counts[id].load(Ordering::SeqCst)
    }

    /// Total drops over all items.
    pub(crate) fn total(&self) -> usize {
        (0..self.counts.len()).map(|id| self.count(id)).sum()
    }

    /// Asserts that the items in `ids` were dropped exactly once and every other item never.
    pub(crate) fn assert_dropped_exactly(&self, ids: impl IntoIterator<Item = usize>) {
        let mut expected = vec![0; self.counts.len()];
        for id in ids {
            expected[id] += 1;
        }
        let actual: Vec<usize> = (0..self.counts.len()).map(|id| self.count(id)).collect();
        assert_eq!(actual, expected, "drop counts per item");
    }
}

/// An item that records its drop in a [`DropLog`], and optionally panics while being dropped.
#[derive(Debug)]
pub(crate) struct Counted {
    pub(crate) id: usize,
    log: Arc<DropLog>,
    panic_on_drop: bool,
}

impl Counted {
    pub(crate) fn new(log: &Arc<DropLog>, id: usize) -> Self {
        Counted {
            id,
            log: Arc::clone(log),
            panic_on_drop: false,
        }
    }

    /// An item whose destructor records the drop and then panics.
    pub(crate) fn bomb(log: &Arc<DropLog>, id: usize) -> Self {
        let mut item = Counted::new(log, id);
        item.panic_on_drop = true;
        item
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.log.counts[self.id].fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop && !std::thread::panicking() {
            panic!("Counted({}) panics on drop", self.id);
        }
    }
}
