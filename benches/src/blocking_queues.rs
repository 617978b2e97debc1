//! The blocking side of the adapters: [`BlockingQueue`] adds `send` and `recv` that wait (in
//! the channel's own way: spin, yield, sleep) to a [`Queue`], so that the blocking workloads
//! (see [`crate::blocking`]) drive every channel through its own blocking calls and the bench
//! code never spins.
//!
//! The peers reuse their markers from [`crate::queues`] (the same handles, `try_send` /
//! `try_recv` there, `send` / `recv` here). weir's two blocking channels get markers of their
//! own, and so does `std::sync::mpsc` with its receiver behind an `Arc<Mutex<_>>`, the usual way
//! to share it between consumer threads.
//!
//! A receive returns `None` once every sender is gone and the channel is empty: the blocking
//! workloads stop on that disconnection, the way blocking consumers do.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use weir_backpressure::{mpmc, spsc};

use crate::fail;
use crate::queues::{CrossbeamChannel, Flume, Kanal, MpmcQueue, Queue, StdSyncChannel};

/// A [`Queue`] with calls that wait: a send while the channel is full, a receive while it is
/// empty.
pub trait BlockingQueue: Queue {
    /// The row label for the blocking workloads.
    const BLOCKING_NAME: &'static str;

    /// Sends `item`, waiting while the channel is full; the run stops if every receiver is gone.
    fn send(tx: &mut Self::Tx, item: u64);
    /// Receives an item, waiting while the channel is empty; `None` once it is empty and every
    /// sender is gone.
    fn recv(rx: &mut Self::Rx) -> Option<u64>;
}

/// A [`BlockingQueue`] with blocking batch calls (weir's channels only).
pub trait BlockingBatch: BlockingQueue {
    /// The row label for the batched rows of the blocking workloads.
    const BLOCKING_BATCH_NAME: &'static str;

    /// Sends every item of `items`, draining it, waiting while the channel is full; the run
    /// stops if every receiver is gone.
    fn send_many(tx: &mut Self::Tx, items: &mut Vec<u64>);
    /// Appends at least one and at most `max` items to `out`, waiting while the channel is
    /// empty, and returns how many; `0` once it is empty and every sender is gone.
    fn recv_many(rx: &mut Self::Rx, out: &mut Vec<u64>, max: usize) -> usize;
}

/// Maps a `try_send` error: `false` when full, the run stops when disconnected.
#[inline(always)]
fn full_or_fail<T>(result: Result<(), TrySendError<T>>, name: &str) -> bool {
    match result {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => false,
        Err(TrySendError::Disconnected(_)) => fail(&format!("{name}: receiver gone")),
    }
}

/// Maps a `try_recv` error: `None` when empty, the run stops when disconnected.
#[inline(always)]
fn empty_or_fail<T>(result: Result<T, TryRecvError>, name: &str) -> Option<T> {
    match result {
        Ok(item) => Some(item),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) => fail(&format!("{name}: sender gone")),
    }
}

/// `weir_backpressure::spsc::channel` (over a weir-ring ring; default wait, `Park`).
#[derive(Debug)]
pub enum WeirSpscChannel {}

impl Queue for WeirSpscChannel {
    const ID: &'static str = "weir-spsc-channel";
    const NAME: &'static str = "weir-backpressure spsc::channel (try_send/try_recv)";
    const IS_WEIR: bool = true;
    type Tx = spsc::Sender<u64>;
    type Rx = spsc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        spsc::channel(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        full_or_fail(tx.try_send(item), Self::ID)
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        empty_or_fail(rx.try_recv(), Self::ID)
    }
}

impl BlockingQueue for WeirSpscChannel {
    const BLOCKING_NAME: &'static str = "weir-backpressure spsc::channel (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("weir spsc::channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl BlockingBatch for WeirSpscChannel {
    const BLOCKING_BATCH_NAME: &'static str =
        "weir-backpressure spsc::channel, batches of 64 (send_many/recv_many; batch API, not a peer)";

    #[inline(always)]
    fn send_many(tx: &mut Self::Tx, items: &mut Vec<u64>) {
        if tx.send_many(items).is_err() {
            fail("weir spsc::channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv_many(rx: &mut Self::Rx, out: &mut Vec<u64>, max: usize) -> usize {
        rx.recv_many(out, max).unwrap_or(0)
    }
}

/// `weir_backpressure::mpmc::channel` (over a weir-mpmc queue; default wait, `Park`).
#[derive(Debug)]
pub enum WeirMpmcChannel {}

impl Queue for WeirMpmcChannel {
    const ID: &'static str = "weir-mpmc-channel";
    const NAME: &'static str = "weir-backpressure mpmc::channel (try_send/try_recv)";
    const IS_WEIR: bool = true;
    type Tx = mpmc::Sender<u64>;
    type Rx = mpmc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        mpmc::channel(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        full_or_fail(tx.try_send(item), Self::ID)
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        empty_or_fail(rx.try_recv(), Self::ID)
    }
}

impl MpmcQueue for WeirMpmcChannel {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

impl BlockingQueue for WeirMpmcChannel {
    const BLOCKING_NAME: &'static str = "weir-backpressure mpmc::channel (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("weir mpmc::channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl BlockingBatch for WeirMpmcChannel {
    const BLOCKING_BATCH_NAME: &'static str =
        "weir-backpressure mpmc::channel, batches of 64 (send_many/recv_many; batch API, not a peer)";

    #[inline(always)]
    fn send_many(tx: &mut Self::Tx, items: &mut Vec<u64>) {
        if tx.send_many(items).is_err() {
            fail("weir mpmc::channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv_many(rx: &mut Self::Rx, out: &mut Vec<u64>, max: usize) -> usize {
        rx.recv_many(out, max).unwrap_or(0)
    }
}

impl BlockingQueue for StdSyncChannel {
    const BLOCKING_NAME: &'static str = "std::sync::mpsc::sync_channel (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("std sync_channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

/// `std::sync::mpsc::sync_channel` with its one receiver in an `Arc<Mutex<_>>`, so that
/// several consumer threads can share it: each locks it and waits in `recv` holding the lock.
#[derive(Debug)]
pub enum StdSharedReceiver {}

impl StdSharedReceiver {
    /// The receiver, whether or not another consumer panicked holding it.
    #[inline(always)]
    fn lock(rx: &Mutex<Receiver<u64>>) -> MutexGuard<'_, Receiver<u64>> {
        rx.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Queue for StdSharedReceiver {
    const ID: &'static str = "std-sync_channel-shared-rx";
    const NAME: &'static str =
        "std::sync::mpsc::sync_channel (try_send/try_recv; receiver in Arc<Mutex>)";
    type Tx = SyncSender<u64>;
    type Rx = Arc<Mutex<Receiver<u64>>>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        (tx, Arc::new(Mutex::new(rx)))
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        full_or_fail(tx.try_send(item), Self::ID)
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        empty_or_fail(Self::lock(rx).try_recv(), Self::ID)
    }
}

impl MpmcQueue for StdSharedReceiver {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        Arc::clone(rx)
    }
}

impl BlockingQueue for StdSharedReceiver {
    const BLOCKING_NAME: &'static str =
        "std::sync::mpsc::sync_channel (send/recv; receiver in Arc<Mutex>)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("std sync_channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        Self::lock(rx).recv().ok()
    }
}

impl BlockingQueue for CrossbeamChannel {
    const BLOCKING_NAME: &'static str = "crossbeam-channel bounded (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("crossbeam-channel: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl BlockingQueue for Kanal {
    const BLOCKING_NAME: &'static str = "kanal bounded (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("kanal: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl BlockingQueue for Flume {
    const BLOCKING_NAME: &'static str = "flume bounded (send/recv)";

    #[inline(always)]
    fn send(tx: &mut Self::Tx, item: u64) {
        if tx.send(item).is_err() {
            fail("flume: receiver gone");
        }
    }
    #[inline(always)]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}
