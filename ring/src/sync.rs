//! The one place that names atomics and interior mutability.
//!
//! Under `cfg(loom)` these are loom's types, so that the models in `loom-tests/` explore every
//! interleaving and every weak-memory outcome of the ring's protocol; otherwise they are `core`'s,
//! behind the same API. Nothing else in the crate imports `core::sync::atomic` or `UnsafeCell`.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Storage for one slot: always `core`'s `UnsafeCell`, because the chunk API hands out slots as
/// contiguous slices, and loom's `UnsafeCell` is not layout-compatible with its contents.
/// Loom still sees every access to a slot, through [`Trackers`].
pub(crate) use core::cell::UnsafeCell;

pub(crate) use trackers::Trackers;

#[cfg(not(loom))]
mod trackers {
    /// Outside loom, the access trackers are nothing at all.
    #[derive(Debug)]
    pub(crate) struct Trackers;

    impl Trackers {
        #[inline(always)]
        pub(crate) fn new(_slots: usize) -> Self {
            Trackers
        }

        #[inline(always)]
        pub(crate) fn read(&self, _slot: usize) {}

        #[inline(always)]
        pub(crate) fn write(&self, _slot: usize) {}

        #[inline(always)]
        pub(crate) fn read_range(&self, _first: usize, _len: usize) {}

        #[inline(always)]
        pub(crate) fn write_range(&self, _first: usize, _len: usize) {}
    }
}

#[cfg(loom)]
mod trackers {
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    /// Under loom, one `loom::cell::UnsafeCell<()>` per slot shadows that slot: every read or
    /// write of the slot's memory is reported here first, so loom's causality checker flags any
    /// access that is not ordered by the ring's atomics (a data race), exactly as it would if the
    /// slot itself were a loom cell.
    #[derive(Debug)]
    pub(crate) struct Trackers(Box<[loom::cell::UnsafeCell<()>]>);

    impl Trackers {
        pub(crate) fn new(slots: usize) -> Self {
            Trackers(
                (0..slots)
                    .map(|_| loom::cell::UnsafeCell::new(()))
                    .collect::<Vec<_>>()
                    .into(),
            )
        }

        pub(crate) fn read(&self, slot: usize) {
            self.0[slot].with(|_| ());
        }

        pub(crate) fn write(&self, slot: usize) {
            self.0[slot].with_mut(|_| ());
        }

        pub(crate) fn read_range(&self, first: usize, len: usize) {
            (first..first + len).for_each(|slot| self.read(slot));
        }

        pub(crate) fn write_range(&self, first: usize, len: usize) {
            (first..first + len).for_each(|slot| self.write(slot));
        }
    }
}
