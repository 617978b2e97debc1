//! The one place that names atomics and threads: loom's under `cfg(loom)`, std's otherwise,
//! behind the same paths, so that the loom models run the pipeline's own code.

#[cfg(loom)]
pub(crate) use loom::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    sync::{Condvar, Mutex, MutexGuard},
    thread,
};

#[cfg(not(loom))]
pub(crate) use std::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    sync::{Condvar, Mutex, MutexGuard},
    thread,
};

/// The run's statistics (the report's counters, the count of live threads, the latency
/// histograms): std's atomics and locks even under loom. They order nothing that the protocols
/// rely on, and as loom objects they would multiply the interleavings a model explores.
pub(crate) mod stats {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use std::sync::Mutex;
}

/// Starts a thread named `name` (under loom, an unnamed loom thread).
///
/// # Panics
///
/// If the operating system cannot start a thread.
#[cfg(not(loom))]
pub(crate) fn spawn<F>(name: String, body: F) -> thread::JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    thread::Builder::new()
        .name(name.clone())
        .spawn(body)
        .unwrap_or_else(|error| panic!("weir_pipeline: cannot start thread `{name}`: {error}"))
}

/// Starts a thread named `name` (under loom, an unnamed loom thread).
#[cfg(loom)]
pub(crate) fn spawn<F>(_name: String, body: F) -> thread::JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    thread::spawn(body)
}
