//! The one place that names atomics, interior mutability and waiting.
//!
//! Under `cfg(loom)` these are loom's, so that the models in `loom-tests/` explore every
//! interleaving and weak-memory outcome of the protocols here; otherwise they are `core`'s (and
//! crossbeam's `Backoff`), behind the same API. Nothing else in the crate imports
//! `core::sync::atomic` or `UnsafeCell`.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{fence, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicUsize, Ordering};

/// The deque's handles share their ring through this (and round-robin distributors their
/// ticket): loom's `Arc` under loom, so that loom sees the last handle's drop (and checks that
/// it happens after every other handle's use).
#[cfg(not(loom))]
pub(crate) use alloc::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

#[cfg(not(loom))]
pub(crate) use core_cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

pub(crate) use backoff::Backoff;

#[cfg(all(feature = "std", loom))]
pub(crate) use loom::thread::{current as current_thread, park, spawn, Thread};
/// Parking and waking threads: the pool's idle workers and feeder (see `distribute::sleep`).
#[cfg(all(feature = "std", not(loom)))]
pub(crate) use std::thread::{current as current_thread, park, Thread};

#[cfg(not(loom))]
mod core_cell {
    /// `core::cell::UnsafeCell` with loom's closure-based API, so that loom sees every access.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline(always)]
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(core::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a pointer that may be read through.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a pointer that may be written through.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(not(loom))]
mod backoff {
    /// Waiting for another thread to finish a step it has started (a slot half-way through a
    /// push or a pop): crossbeam's exponential spin, then yielding the time slice.
    pub(crate) use crossbeam_utils::Backoff;
}

#[cfg(loom)]
mod backoff {
    /// Under loom, every wait is a yield, so that loom schedules the thread being waited for
    /// (crossbeam's `Backoff` spins, which loom cannot see).
    #[derive(Debug, Default)]
    pub(crate) struct Backoff;

    impl Backoff {
        pub(crate) fn new() -> Self {
            Backoff
        }

        pub(crate) fn spin(&self) {
            loom::thread::yield_now();
        }

        pub(crate) fn snooze(&self) {
            loom::thread::yield_now();
        }

        /// Complete from the start: its one user, the pool, then goes straight from a failed
        /// look for work (or for room) to its sleep protocol, the part that can lose a wake-up
        /// and that the models must explore; the spinning before it only delays.
        #[allow(dead_code)] // the pool is built with `std` only
        pub(crate) fn is_completed(&self) -> bool {
            true
        }
    }
}
