//! The handshake between a source about to wait on the server and a stopper.
//!
//! ```text
//! source:  waiting = true;  fence;  if stop { end }     XREADGROUP BLOCK ...   waiting = false
//! stopper: stop = true;     fence;  if waiting { wake the read (stop.rs) }
//! ```
//!
//! The two SeqCst fences rule out the store-buffering outcome where each side misses the
//! other's store: either the source sees the stop before it blocks, or the stopper sees it
//! waiting and wakes it. The model `loom-tests/tests/redis_stop.rs` checks it; the type is
//! public (hidden) only for that model.

use crate::sync::{fence, AtomicBool, Ordering};

/// See the module's documentation.
#[derive(Debug, Default)]
pub struct Handshake {
    stop: AtomicBool,
    /// Whether the source is in (or about to send) a blocking read.
    waiting: AtomicBool,
}

impl Handshake {
    /// Whether a stop was asked for.
    pub fn stopped(&self) -> bool {
        // Relaxed: between reads the flag carries no data and a late look only costs one
        // more read; the look that matters is in `before_wait`.
        self.stop.load(Ordering::Relaxed)
    }

    /// Called before a blocking read: returns false, and the read must not be sent, if a
    /// stop came first.
    pub fn before_wait(&self) -> bool {
        self.waiting.store(true, Ordering::Relaxed);
        // SeqCst fence, pairing with the one in `stop`: the store above and the load below
        // are ordered against the stopper's store of `stop` and load of `waiting`.
        fence(Ordering::SeqCst);
        if self.stop.load(Ordering::Relaxed) {
            self.after_wait();
            return false;
        }
        true
    }

    /// Called once a blocking read returned.
    pub fn after_wait(&self) {
        // Relaxed: it only tells a stopper to stop trying; one that reads it late sends one
        // more unblock, which finds nothing to unblock.
        self.waiting.store(false, Ordering::Relaxed);
    }

    /// Whether the source is still in its blocking read, as far as this thread sees.
    pub fn waiting(&self) -> bool {
        // Relaxed: a reason to go on trying to wake the read, nothing more (see `after_wait`).
        self.waiting.load(Ordering::Relaxed)
    }

    /// Asks for the stop. Returns whether the source may be blocked on the server (or about
    /// to be) and must be woken; false for every stop after the first.
    pub fn stop(&self) -> bool {
        // Relaxed: a read-modify-write, it sees every earlier stop; its ordering against the
        // load of `waiting` is the fence's.
        if self.stop.swap(true, Ordering::Relaxed) {
            return false;
        }
        // SeqCst fence, pairing with the one in `before_wait` (the module's documentation).
        fence(Ordering::SeqCst);
        self.waiting.load(Ordering::Relaxed)
    }
}
