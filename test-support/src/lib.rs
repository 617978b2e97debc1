//! What weir's integration tests share (not published): a deterministic pseudo-random source,
//! a waiting strategy for the multi-thread tests, a tally of the items seen, drop-counting items,
//! a counting global allocator for the "no allocation per item" tests, and a panic's message
//! and location, and a real redis-server of a test's own.

mod alloc_counter;
mod panics;
mod redis_server;

pub use alloc_counter::{allocations_in, total_allocations, CountingAlloc};
pub use panics::{panic_of, try_panic_of};
pub use redis_server::RedisServer;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
#[cfg(target_os = "linux")]
use std::time::Duration;

/// As many threads as the machine has cores, at least 2: the count of workers with which a
/// weir-pipeline `parallel` stage runs its last worker on the thread that reads its output.
pub fn every_core() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .max(2)
}

/// `full` when running natively, `miri` under Miri (which is roughly a thousand times slower).
pub fn scaled(full: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        full
    }
}

/// SplitMix64: a tiny deterministic pseudo-random generator (no `rand` needed).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator that starts from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Waits a little: spins for a while, then yields the thread.
#[derive(Debug, Default)]
pub struct Waiter(u32);

impl Waiter {
    /// Waits once: a spin while the wait is young, a yield after.
    pub fn wait(&mut self) {
        if self.0 < 32 {
            std::hint::spin_loop();
            self.0 += 1;
        } else {
            std::thread::yield_now();
        }
    }

    /// Starts the next wait young again, after progress was made.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// How many times each of the items `0..n` was seen, for the multi-thread tests that check that
/// every item was taken exactly once (never lost, never twice).
#[derive(Debug)]
pub struct Tally {
    seen: Vec<AtomicUsize>,
}

impl Tally {
    /// A tally for items `0..items`, none seen yet.
    pub fn new(items: usize) -> Self {
        Tally {
            seen: (0..items).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Records one sighting of item `id` (a relaxed increment: read the tally only after the
    /// threads that record are joined).
    pub fn see(&self, id: usize) {
        self.seen[id].fetch_add(1, Ordering::Relaxed);
    }

    /// Asserts that every item was seen exactly once, naming the first ten that were not.
    pub fn assert_each_seen_once(&self) {
        let wrong: Vec<usize> = (0..self.seen.len())
            .filter(|&id| self.seen[id].load(Ordering::Relaxed) != 1)
            .collect();
        assert!(
            wrong.is_empty(),
            "items not seen exactly once: {:?}",
            &wrong[..wrong.len().min(10)]
        );
    }
}

/// Per-item drop counts: `counts[id]` is how many times item `id` has been dropped.
#[derive(Debug)]
pub struct DropLog {
    counts: Vec<AtomicUsize>,
}

impl DropLog {
    /// A log for items with ids `0..items`.
    pub fn new(items: usize) -> Arc<Self> {
        Arc::new(DropLog {
            counts: (0..items).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    /// How many times item `id` was dropped.
    pub fn count(&self, id: usize) -> usize {
        self.counts[id].load(Ordering::SeqCst)
    }

    /// Total drops over all items.
    pub fn total(&self) -> usize {
        (0..self.counts.len()).map(|id| self.count(id)).sum()
    }

    /// Asserts that the items in `ids` were dropped exactly once and every other item never.
    pub fn assert_dropped_exactly(&self, ids: impl IntoIterator<Item = usize>) {
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
pub struct Counted {
    /// The item's id in its log.
    pub id: usize,
    log: Arc<DropLog>,
    panic_on_drop: bool,
}

impl Counted {
    /// Item `id`, recording its drop in `log`.
    pub fn new(log: &Arc<DropLog>, id: usize) -> Self {
        Counted {
            id,
            log: Arc::clone(log),
            panic_on_drop: false,
        }
    }

    /// An item whose destructor records the drop and then panics.
    pub fn bomb(log: &Arc<DropLog>, id: usize) -> Self {
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

/// Runs `f` on a thread of its own and returns what it returns, or fails the test if it has
/// not finished within `limit`: for the tests of blocking code, so that a lost wake-up fails
/// instead of hanging. The limit is a generous bound on a hang, never a check of speed.
///
/// Under Miri the limit is 100 times longer: Miri's clock advances with the instructions it
/// interprets, so a thread that spins while it waits (the `Spin` and `Backoff` strategies)
/// uses up seconds of it (and Miri reports a real deadlock itself).
///
/// # Panics
///
/// If `f` panics (with its message), or takes longer than `limit`.
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let limit = if cfg!(miri) { limit * 100 } else { limit };
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = f();
        let _ = done.send(());
        result
    });
    match finished.recv_timeout(limit) {
        // Finished, or panicked (which drops `done`): `join` tells which.
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("still blocked after {limit:?}: a lost wake-up?")
        }
    }
}

/// User plus system CPU time of the whole process so far.
#[cfg(target_os = "linux")]
pub fn process_cpu_time() -> Duration {
    // SAFETY: `usage` is a plain C struct for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a `rusage` it fills in.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(status, 0, "getrusage failed");
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
