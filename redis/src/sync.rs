//! The one place that names the atomics of the stop handshake (`handshake.rs`).
//!
//! Under `cfg(loom)` these are loom's, so that the model in `loom-tests/tests/redis_stop.rs`
//! explores every interleaving and weak-memory outcome of the handshake; otherwise `std`'s.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, Ordering};
