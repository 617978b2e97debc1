//! loom models of every weir primitive. Not published.
//!
//! The models live in `tests/`, one file per crate; this library holds what they share. Run them
//! with a target directory of their own (the `cfg` change rebuilds every dependency):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p loom-tests --release
//! ```
//!
//! `LOOM_MAX_PREEMPTIONS` bounds the search (default here: 3, which explores every interleaving
//! of these small models with up to three forced context switches).

#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Runs `f` under loom, exploring its interleavings with the preemption bound
/// `LOOM_MAX_PREEMPTIONS` (3 when unset).
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Runs `f` under loom with at most `bound` forced context switches, whatever
/// `LOOM_MAX_PREEMPTIONS` says: for models where two threads spin waiting on a third, which
/// loom's search cannot finish with a larger bound. Each such model says why its bound suffices.
pub fn model_with_bound<F>(bound: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// An item that counts how often it is dropped, to check that each is dropped exactly once.
///
/// The counter is a plain `std` atomic: loom runs a model's threads one at a time on one OS
/// thread, and the counts are only read after every thread has been joined.
#[derive(Debug)]
pub struct Counted {
    /// The item's value, to check order.
    pub value: u32,
    drops: Arc<AtomicUsize>,
}

/// Hands out [`Counted`] items that share one drop counter.
#[derive(Clone, Debug, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A new item with `value`.
    pub fn item(&self, value: u32) -> Counted {
        Counted {
            value,
            drops: Arc::clone(&self.0),
        }
    }

    /// How many items have been dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}
