//! Bounded lock-free queues for many threads: an MPMC [`Queue`], a fixed-capacity
//! work-stealing deque, and distributors that hand each item to one of N workers.
//!
//! Everything here has a fixed capacity chosen at construction: nothing allocates after `new`,
//! and an operation that cannot proceed hands its item back ([`Full`]) instead of blocking or
//! growing.
//!
//! - [`Queue`]: a bounded MPMC queue with a sequence stamp per slot (Vyukov's array queue),
//!   `force_push` that overwrites the oldest item, and batch forms that claim many slots with
//!   one compare-and-swap. It reports full (or empty) only when it really is.
//! - [`deque`]: a fixed-capacity Chase–Lev work-stealing deque ([`deque::Worker`],
//!   [`deque::Stealer`]) and an [`deque::Injector`] for work from outside the pool.
//! - [`distribute`]: hand each item to one of N workers' queues (round-robin, random, by key,
//!   weighted, least-loaded, work-stealing), and a worker pool built on work-stealing.
//!
//! Every protocol here is model-checked with loom (the workspace's `loom-tests`), and its
//! tests run under Miri and ThreadSanitizer.
//!
//! # Features
//!
//! `std` (default) adds the worker pool; without it the crate is `no_std` and needs `alloc`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

pub mod deque;
pub mod distribute;
mod drop_all;
mod queue;
mod sync;

pub use queue::{IntoIter, Queue};
pub use weir_ring::{CapacityError, Full};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
