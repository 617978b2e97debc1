//! Waiting, waking and flow control for weir's queues: what makes them usable where threads
//! outnumber cores.
//!
//! - [`wait`]: how a thread waits, as one trait: [`Spin`](wait::Spin),
//!   [`Backoff`](wait::Backoff) (spin, then yield), [`Park`](wait::Park) (spin, yield, then
//!   sleep on a futex) and [`ParkEarly`](wait::ParkEarly) (the same, spinning less: for threads
//!   that outnumber cores), all with deadlines.
//! - [`EventCount`]: sleep until a condition may hold, without a lock and without losing a
//!   wake-up; a notify with nobody waiting makes no system call.
//! - Blocking channels with `std::sync::mpsc`'s API and errors: [`spsc::channel`] over a
//!   `weir-ring` ring, and [`mpmc::channel`] over a `weir-mpmc` queue, with batch forms that
//!   wake once per batch; capacity 0 makes a rendezvous channel, as std's `sync_channel(0)`.
//! - [`Watermark`]: high and low thresholds with hysteresis over a queue's occupancy, a
//!   pressure state that producers read or wait on, and a count of pressure events.
//! - [`Credits`]: a bound on the items in flight across several stages; a [`Credit`] acquired
//!   at the first stage travels with its item and is given back when dropped at the last.
//! - [`overflow`]: policies for producers that must not block (`Block`, `Reject`,
//!   `DropNewest`, `DropOldest`) over an MPMC channel, counting what each turned away.
//! - [`priority`]: a queue of N priority levels, highest non-empty first, with an optional
//!   quota under which every non-empty level is served within a bounded number of pops.
//! - [`adaptive`]: a queue with a soft limit inside its allocated capacity, raised and lowered
//!   at run time without reallocating or copying.
//!
//! # Examples
//!
//! ```
//! use std::sync::mpsc::RecvTimeoutError;
//! use std::time::Duration;
//!
//! let (sender, receiver) = weir_backpressure::spsc::channel(128);
//! std::thread::spawn(move || {
//!     for i in 0..1000u64 {
//!         sender.send(i).unwrap();
//!     }
//! });
//! let mut sum = 0;
//! loop {
//!     match receiver.recv_timeout(Duration::from_secs(10)) {
//!         Ok(i) => sum += i,
//!         Err(RecvTimeoutError::Disconnected) => break,
//!         Err(RecvTimeoutError::Timeout) => panic!("the sender stalled"),
//!     }
//! }
//! assert_eq!(sum, 999 * 1000 / 2);
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[macro_use]
mod constructors;

pub mod adaptive;
pub mod channel;
pub mod credits;
mod error;
mod event_count;
pub mod iter;
pub mod mpmc;
pub mod overflow;
pub mod priority;
mod rendezvous;
mod shared;
pub mod spsc;
mod sync;
pub mod wait;
pub mod watermark;

pub use credits::{AcquireError, Credit, Credits, OwnedCredit, ReleaseError};
pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use event_count::{EventCount, Listener};
pub use watermark::{Pressure, ThresholdError, Watermark};
pub use weir_ring::{CapacityError, Full};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
