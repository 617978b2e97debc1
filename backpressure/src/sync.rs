//! The one place that names atomics, `UnsafeCell`, and every way of waiting: spinning, yielding and sleeping
//! on a futex.
//!
//! Under `cfg(loom)` these are loom's, so that the models in `loom-tests/` explore every
//! interleaving of the protocols here. crossbeam's `Backoff` and `atomic_wait::wait` are
//! invisible to loom (a model that waits through them spins forever or hangs), so here a spin
//! and a yield become loom yields, and the futex becomes a loom mutex and condition variable,
//! which loom sees block and wake (and reports a deadlock when nobody is left to wake it).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
/// The channels' shared state: loom's `Arc` under loom, so that loom checks the last handle's
/// drop against every other handle's use.
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

pub(crate) use std::time::Instant;

#[cfg(not(loom))]
pub(crate) use cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(loom))]
mod cell {
    /// `core`'s `UnsafeCell` behind loom's API (`with`, `with_mut`), so that under loom every
    /// access is checked against the atomics that are meant to order it.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(core::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

pub(crate) use futex::Futex;
pub(crate) use spin::{spin_loop, yield_now, Backoff};

#[cfg(not(loom))]
mod spin {
    pub(crate) use core::hint::spin_loop;
    pub(crate) use crossbeam_utils::Backoff;
    pub(crate) use std::thread::yield_now;
}

#[cfg(loom)]
mod spin {
    /// Under loom a spin is a yield, so that loom runs the thread being waited for.
    pub(crate) fn spin_loop() {
        loom::thread::yield_now();
    }

    pub(crate) use loom::thread::yield_now;

    /// crossbeam's `Backoff` as loom sees it: every step yields, and it is completed at once,
    /// so that a waiter goes straight to sleeping on its futex, the path the models check.
    #[derive(Debug, Default)]
    pub(crate) struct Backoff;

    impl Backoff {
        pub(crate) fn new() -> Self {
            Backoff
        }

        pub(crate) fn snooze(&self) {
            loom::thread::yield_now();
        }

        pub(crate) fn is_completed(&self) -> bool {
            true
        }
    }
}

#[cfg(not(loom))]
mod futex {
    use super::{AtomicU32, Instant, Ordering};

    /// A 32-bit atomic that threads can sleep on until it changes: Linux's futex, and its
    /// equivalents elsewhere, through `atomic-wait`.
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub(crate) struct Futex(AtomicU32);

    impl Futex {
        pub(crate) fn new(value: u32) -> Self {
            Futex(AtomicU32::new(value))
        }

        #[inline]
        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.0.load(order)
        }

        #[inline]
        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.0.fetch_add(value, order)
        }

        /// Sleeps while the value is `expected`, until a wake, the deadline, or a spurious
        /// return. Returns `false` once the deadline has passed, `true` otherwise.
        pub(crate) fn wait(&self, expected: u32, deadline: Option<Instant>) -> bool {
            match deadline {
                None => {
                    atomic_wait::wait(&self.0, expected);
                    true
                }
                Some(deadline) => timed_wait(&self.0, expected, deadline),
            }
        }

        #[inline]
        pub(crate) fn wake_one(&self) {
            atomic_wait::wake_one(&self.0);
        }

        #[inline]
        pub(crate) fn wake_all(&self) {
            atomic_wait::wake_all(&self.0);
        }
    }

    /// `FUTEX_WAIT` with a timeout, which `atomic-wait` does not offer.
    #[cfg(target_os = "linux")]
    fn timed_wait(atomic: &AtomicU32, expected: u32, deadline: Instant) -> bool {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        // A timeout too long for `time_t` is as good as none.
        let seconds = libc::time_t::try_from(left.as_secs()).unwrap_or(libc::time_t::MAX);
        let timeout = libc::timespec {
            tv_sec: seconds,
            // Below 10^9, which fits every platform's `c_long`.
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: FUTEX_WAIT reads the `u32` at `atomic` (an `AtomicU32`, which lives as long as
        // this call) and `timeout`, a valid relative timespec; it writes nothing. Its result only
        // says why it returned, and the deadline check below covers every case.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                atomic.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                &timeout as *const libc::timespec,
            );
        }
        Instant::now() < deadline
    }

    /// Elsewhere, a timed wait sleeps in slices of at most a millisecond and looks at the value
    /// between them, so a wake-up can be up to a millisecond late.
    #[cfg(not(target_os = "linux"))]
    fn timed_wait(atomic: &AtomicU32, expected: u32, deadline: Instant) -> bool {
        const SLICE: std::time::Duration = std::time::Duration::from_millis(1);
        while atomic.load(Ordering::Relaxed) == expected {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            std::thread::sleep(left.min(SLICE));
        }
        Instant::now() < deadline
    }
}

#[cfg(loom)]
mod futex {
    use super::{AtomicU32, Instant, Ordering};
    use loom::sync::{Condvar, Mutex};

    /// A futex as loom sees it: the value check and the sleep are atomic with respect to a wake,
    /// as in the kernel, through a loom mutex and condition variable.
    #[derive(Debug)]
    pub(crate) struct Futex {
        value: AtomicU32,
        lock: Mutex<()>,
        wakes: Condvar,
    }

    impl Futex {
        pub(crate) fn new(value: u32) -> Self {
            Futex {
                value: AtomicU32::new(value),
                lock: Mutex::new(()),
                wakes: Condvar::new(),
            }
        }

        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.value.load(order)
        }

        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.value.fetch_add(value, order)
        }

        /// With a deadline, loom sees a yield and a spurious return (callers look again): the
        /// models check the untimed protocol.
        pub(crate) fn wait(&self, expected: u32, deadline: Option<Instant>) -> bool {
            if deadline.is_some() {
                loom::thread::yield_now();
                return true;
            }
            let guard = self.lock.lock().unwrap();
            if self.value.load(Ordering::Relaxed) == expected {
                drop(self.wakes.wait(guard).unwrap());
            }
            true
        }

        pub(crate) fn wake_one(&self) {
            let _guard = self.lock.lock().unwrap();
            self.wakes.notify_one();
        }

        pub(crate) fn wake_all(&self) {
            let _guard = self.lock.lock().unwrap();
            self.wakes.notify_all();
        }
    }
}
