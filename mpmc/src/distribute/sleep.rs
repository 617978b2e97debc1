//! How the pool's idle workers sleep without missing the work that would wake them.
//!
//! # The protocol
//!
//! A worker that found nothing to do *announces* itself (its flag, then the count of
//! sleepers), issues a SeqCst fence, looks for work once more, and only then parks. Whoever
//! makes work available (the feeder after a push, a worker after moving a batch into its
//! deque, the end of the stream) first publishes it, then issues a SeqCst fence, then reads the
//! count, and unparks an announced worker if there is one.
//!
//! This is the store-buffering shape: each side writes one location and then reads the other's.
//! Without the fences, both reads could miss both writes (the worker sees no work, the waker
//! sees no sleeper) and the worker would sleep on work it will never be told about. With a
//! SeqCst fence between each side's write and read, the fences are ordered one way or the
//! other in the single total order of SeqCst operations: if the worker's fence comes first, the
//! waker's read of the count sees the announcement; if the waker's comes first, the worker's
//! second look sees the work. (The work is published by the queues' own Release stores, not by
//! SeqCst ones, which is why fences are needed rather than SeqCst accesses alone.)
//!
//! A wake-up that arrives before the worker has parked is not lost either: `unpark` leaves a
//! token that makes the next `park` return at once. Exactly one of the worker (after waking)
//! and a waker clears a given announcement (by swapping its flag), and that one lowers the
//! count, so the count never drifts.

// Public items: reachable only under `cfg(loom)`, where the model uses them.
#![cfg_attr(not(loom), allow(unreachable_pub))]

use std::boxed::Box;
use std::sync::OnceLock;

use crossbeam_utils::CachePadded;

use crate::sync::{current_thread, fence, park, AtomicUsize, Ordering, Thread};

/// The sleep state of a pool's workers. (Public only under `cfg(loom)`, for the model of this
/// protocol in `loom-tests/tests/pool.rs`.)
#[doc(hidden)]
#[derive(Debug)]
pub struct Sleepers {
    /// How many workers have announced themselves and not been cleared since: when 0, a waker
    /// has nobody to wake and stops after one load.
    count: CachePadded<AtomicUsize>,
    workers: Box<[Slot]>,
}

#[derive(Debug)]
struct Slot {
    /// 1 while the worker is announced as (about to be) asleep.
    asleep: AtomicUsize,
    /// The worker's thread, set once by the worker itself when it starts.
    thread: OnceLock<Thread>,
}

impl Sleepers {
    pub fn new(workers: usize) -> Self {
        Sleepers {
            count: CachePadded::new(AtomicUsize::new(0)),
            workers: (0..workers)
                .map(|_| Slot {
                    asleep: AtomicUsize::new(0),
                    thread: OnceLock::new(),
                })
                .collect(),
        }
    }

    /// Records the calling thread as worker `index`'s, before it first looks for work.
    pub fn register(&self, index: usize) {
        let _ = self.workers[index].thread.set(current_thread());
    }

    /// Announces worker `index` as about to sleep. The caller must look for work (and for the
    /// end of the stream) once more afterwards, and then either [`sleep`](Sleepers::sleep) or
    /// [`cancel`](Sleepers::cancel).
    pub fn announce(&self, index: usize) {
        self.workers[index].asleep.store(1, Ordering::Relaxed);
        // Relaxed: the fence below orders this (and the flag) before the waker's look, or the
        // waker's publication before this worker's look (see the module docs).
        self.count.fetch_add(1, Ordering::Relaxed);
        // SeqCst, pairing with the fence in `wake_one` and `wake_all`: see the module docs.
        fence(Ordering::SeqCst);
    }

    /// Withdraws worker `index`'s announcement, unless a waker has already cleared it.
    pub fn cancel(&self, index: usize) {
        if self.workers[index].asleep.swap(0, Ordering::Relaxed) == 1 {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Parks the calling worker `index` (announced, and found no work since), then withdraws
    /// its announcement. May return spuriously: the caller looks for work again either way.
    pub fn sleep(&self, index: usize) {
        park();
        self.cancel(index);
    }

    /// Wakes one announced worker, if there is one. Call after making work available.
    pub fn wake_one(&self) {
        // SeqCst, pairing with the fence in `announce`: see the module docs.
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence above, as is the flag read below.
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        for slot in self.workers.iter() {
            if slot.asleep.load(Ordering::Relaxed) == 1
                && slot.asleep.swap(0, Ordering::Relaxed) == 1
            {
                self.count.fetch_sub(1, Ordering::Relaxed);
                if let Some(thread) = slot.thread.get() {
                    thread.unpark();
                }
                return;
            }
        }
    }

    /// Wakes every worker, announced or not. Call after setting the flag that ends the run.
    pub fn wake_all(&self) {
        // SeqCst, pairing with the fence in `announce`: a worker whose registration this misses
        // sees the flag after its own fence, and does not park.
        fence(Ordering::SeqCst);
        for slot in self.workers.iter() {
            if let Some(thread) = slot.thread.get() {
                thread.unpark();
            }
        }
    }
}
