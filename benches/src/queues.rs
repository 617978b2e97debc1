//! One adapter per implementation, behind one trait, so every harness runs the same loop.
//!
//! Every adapter moves `u64`s and never blocks: a push reports a full queue, a pop an empty
//! one, and the caller waits through [`crate::wait::wait_for`]. For the two channels that also
//! have blocking calls (`std::sync::mpsc`, `crossbeam-channel`, `kanal` and `flume`) that means
//! `try_send` and `try_recv`: this is the non-blocking comparison, and the labels say so.
//!
//! The MPMC workloads use the same adapters: [`MpmcQueue`] adds how to hand out more producer
//! and consumer handles.

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;

use crate::fail;

/// A bounded single-producer single-consumer queue of `u64`, used without blocking.
pub trait Queue {
    /// The implementation's name, as printed in a table row.
    const NAME: &'static str;
    /// A short name without spaces or slashes, for criterion's benchmark ids.
    const ID: &'static str;
    /// Whether this is weir's own implementation (and so not a peer).
    const IS_WEIR: bool = false;
    /// The producer's handle.
    type Tx: Send;
    /// The consumer's handle.
    type Rx: Send;

    /// Makes a queue that holds `capacity` items (the disruptor needs a power of two).
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Pushes `item`, or returns `false` if the queue is full.
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool;
    /// Pops the oldest item, or returns `None` if the queue is empty.
    fn try_pop(rx: &mut Self::Rx) -> Option<u64>;
}

/// A [`Queue`] that can move items in batches.
///
/// The defaults loop over [`Queue::try_push`] and [`Queue::try_pop`]: implementations without
/// a batch API keep them (and their row label says so).
pub trait BatchQueue: Queue {
    /// The row label for the batched workloads.
    const BATCH_NAME: &'static str;

    /// Pushes up to `n` items, `first`, `first + 1`, ..., and returns how many went in (`0`
    /// when the queue is full).
    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        let mut pushed = 0;
        while pushed < n && Self::try_push(tx, first + pushed as u64) {
            pushed += 1;
        }
        pushed
    }

    /// Pops up to `max` items, adds each to `sum` (wrapping), and returns how many it popped
    /// (`0` when the queue is empty).
    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, max: usize, sum: &mut u64) -> usize {
        let mut popped = 0;
        while popped < max {
            let Some(item) = Self::try_pop(rx) else { break };
            *sum = sum.wrapping_add(item);
            popped += 1;
        }
        popped
    }
}

/// Adds up a chunk handed out as two slices.
#[inline(always)]
fn sum_slices(first: &[u64], second: &[u64]) -> u64 {
    first
        .iter()
        .chain(second)
        .fold(0, |sum, &item| sum.wrapping_add(item))
}

/// `weir_ring::channel`; batches through `write_chunk` + `fill_from_iter` and `read_chunk`.
#[derive(Debug)]
pub enum WeirRing {}

impl Queue for WeirRing {
    const ID: &'static str = "weir-ring";
    const NAME: &'static str = "weir-ring";
    const IS_WEIR: bool = true;
    type Tx = weir_ring::Producer<u64>;
    type Rx = weir_ring::Consumer<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        weir_ring::channel(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        tx.try_push(item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_pop()
    }
}

impl BatchQueue for WeirRing {
    const BATCH_NAME: &'static str = "weir-ring (write_chunk.fill_from_iter / read_chunk)";

    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        tx.write_chunk(n).fill_from_iter(first..first + n as u64)
    }
    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, max: usize, sum: &mut u64) -> usize {
        let chunk = rx.read_chunk(max);
        let (first, second) = chunk.as_slices();
        *sum = sum.wrapping_add(sum_slices(first, second));
        let n = chunk.len();
        chunk.release(n);
        n
    }
}

/// `weir_ring::channel` again, but batching through the `Copy`-only `push_slice` and
/// `pop_slice`, which copy from and to a buffer the caller owns (allocated with the queue,
/// outside the timed loop).
#[derive(Debug)]
pub enum WeirRingSlices {}

/// The largest batch [`WeirRingSlices`] moves at once (the size of its buffers).
pub const MAX_BATCH: usize = 256;

impl Queue for WeirRingSlices {
    const ID: &'static str = "weir-ring-slices";
    const NAME: &'static str = "weir-ring";
    const IS_WEIR: bool = true;
    type Tx = (weir_ring::Producer<u64>, Box<[u64; MAX_BATCH]>);
    type Rx = (weir_ring::Consumer<u64>, Box<[u64; MAX_BATCH]>);

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        let (tx, rx) = weir_ring::channel(capacity);
        (
            (tx, Box::new([0; MAX_BATCH])),
            (rx, Box::new([0; MAX_BATCH])),
        )
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        tx.0.try_push(item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.0.try_pop()
    }
}

impl BatchQueue for WeirRingSlices {
    const BATCH_NAME: &'static str = "weir-ring (push_slice / pop_slice, via a buffer)";

    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        let (producer, buffer) = tx;
        let buffer = &mut buffer[..n.min(MAX_BATCH)];
        for (slot, item) in buffer.iter_mut().zip(first..) {
            *slot = item;
        }
        producer.push_slice(buffer)
    }
    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, max: usize, sum: &mut u64) -> usize {
        let (consumer, buffer) = rx;
        let n = consumer.pop_slice(&mut buffer[..max.min(MAX_BATCH)]);
        *sum = sum.wrapping_add(sum_slices(&buffer[..n], &[]));
        n
    }
}

/// A [`Queue`] whose handles can be multiplied, for several producer and consumer threads.
pub trait MpmcQueue: Queue {
    /// Whether more than one thread may pop (`false` for `std::sync::mpsc`, whose `Receiver` is
    /// single); the MPMC workloads with several consumers leave such a queue out.
    const MULTI_CONSUMER: bool = true;

    /// Another producer handle onto the same queue.
    fn clone_tx(tx: &Self::Tx) -> Self::Tx;
    /// Another consumer handle onto the same queue; only called when
    /// [`MULTI_CONSUMER`](MpmcQueue::MULTI_CONSUMER) is set.
    fn clone_rx(rx: &Self::Rx) -> Self::Rx;
}

/// `weir_mpmc::Queue`, shared through an `Arc`.
#[derive(Debug)]
pub enum WeirMpmc {}

impl Queue for WeirMpmc {
    const ID: &'static str = "weir-mpmc";
    const NAME: &'static str = "weir-mpmc Queue (Arc)";
    const IS_WEIR: bool = true;
    type Tx = Arc<weir_mpmc::Queue<u64>>;
    type Rx = Arc<weir_mpmc::Queue<u64>>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        let queue = Arc::new(weir_mpmc::Queue::new(capacity));
        (Arc::clone(&queue), queue)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        tx.try_push(item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_pop()
    }
}

impl MpmcQueue for WeirMpmc {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        Arc::clone(tx)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        Arc::clone(rx)
    }
}

/// `std::sync::mpsc::sync_channel`, through `try_send` / `try_recv`.
#[derive(Debug)]
pub enum StdSyncChannel {}

impl Queue for StdSyncChannel {
    const ID: &'static str = "std-sync_channel";
    const NAME: &'static str = "std::sync::mpsc::sync_channel (try_send/try_recv)";
    type Tx = SyncSender<u64>;
    type Rx = Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        mpsc::sync_channel(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        match tx.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => fail("std sync_channel: receiver gone"),
        }
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        match rx.try_recv() {
            Ok(item) => Some(item),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => fail("std sync_channel: sender gone"),
        }
    }
}

impl MpmcQueue for StdSyncChannel {
    const MULTI_CONSUMER: bool = false;

    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(_: &Self::Rx) -> Self::Rx {
        fail("std::sync::mpsc has a single receiver")
    }
}

impl BatchQueue for StdSyncChannel {
    const BATCH_NAME: &'static str =
        "std::sync::mpsc::sync_channel (try_send/try_recv; per-item loop, no batch API)";
}

/// `crossbeam_channel::bounded`, through `try_send` / `try_recv`.
#[derive(Debug)]
pub enum CrossbeamChannel {}

impl Queue for CrossbeamChannel {
    const ID: &'static str = "crossbeam-channel";
    const NAME: &'static str = "crossbeam-channel bounded (try_send/try_recv)";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        match tx.try_send(item) {
            Ok(()) => true,
            Err(crossbeam_channel::TrySendError::Full(_)) => false,
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                fail("crossbeam-channel: receiver gone")
            }
        }
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        match rx.try_recv() {
            Ok(item) => Some(item),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                fail("crossbeam-channel: sender gone")
            }
        }
    }
}

impl MpmcQueue for CrossbeamChannel {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

impl BatchQueue for CrossbeamChannel {
    const BATCH_NAME: &'static str =
        "crossbeam-channel bounded (try_send/try_recv; per-item loop, no batch API)";
}

/// `crossbeam_queue::ArrayQueue` (an MPMC queue), shared through an `Arc`.
#[derive(Debug)]
pub enum ArrayQueue {}

impl Queue for ArrayQueue {
    const ID: &'static str = "ArrayQueue";
    const NAME: &'static str = "crossbeam-queue ArrayQueue (Arc)";
    type Tx = Arc<crossbeam_queue::ArrayQueue<u64>>;
    type Rx = Arc<crossbeam_queue::ArrayQueue<u64>>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        let queue = Arc::new(crossbeam_queue::ArrayQueue::new(capacity));
        (Arc::clone(&queue), queue)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        tx.push(item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.pop()
    }
}

impl MpmcQueue for ArrayQueue {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        Arc::clone(tx)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        Arc::clone(rx)
    }
}

impl BatchQueue for ArrayQueue {
    const BATCH_NAME: &'static str =
        "crossbeam-queue ArrayQueue (Arc; per-item loop, no batch API)";
}

/// `kanal::bounded`, through `try_send` / `try_recv`.
#[derive(Debug)]
pub enum Kanal {}

impl Queue for Kanal {
    const ID: &'static str = "kanal";
    const NAME: &'static str = "kanal bounded (try_send/try_recv)";
    type Tx = kanal::Sender<u64>;
    type Rx = kanal::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded(capacity)
    }
    /// kanal's `try_send` reports a full channel as `Ok(false)` (dropping the item, a copy here).
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        match tx.try_send(item) {
            Ok(sent) => sent,
            Err(_) => fail("kanal: receiver gone"),
        }
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        match rx.try_recv() {
            Ok(item) => item,
            Err(_) => fail("kanal: sender gone"),
        }
    }
}

impl MpmcQueue for Kanal {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

/// `flume::bounded`, through `try_send` / `try_recv`.
#[derive(Debug)]
pub enum Flume {}

impl Queue for Flume {
    const ID: &'static str = "flume";
    const NAME: &'static str = "flume bounded (try_send/try_recv)";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        match tx.try_send(item) {
            Ok(()) => true,
            Err(flume::TrySendError::Full(_)) => false,
            Err(flume::TrySendError::Disconnected(_)) => fail("flume: receiver gone"),
        }
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        match rx.try_recv() {
            Ok(item) => Some(item),
            Err(flume::TryRecvError::Empty) => None,
            Err(flume::TryRecvError::Disconnected) => fail("flume: sender gone"),
        }
    }
}

impl MpmcQueue for Flume {
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

/// `rtrb::RingBuffer`; batches through `write_chunk_uninit` + `fill_from_iter` and
/// `read_chunk`.
#[derive(Debug)]
pub enum Rtrb {}

impl Queue for Rtrb {
    const ID: &'static str = "rtrb";
    const NAME: &'static str = "rtrb";
    type Tx = rtrb::Producer<u64>;
    type Rx = rtrb::Consumer<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        tx.push(item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.pop().ok()
    }
}

impl BatchQueue for Rtrb {
    const BATCH_NAME: &'static str = "rtrb (write_chunk_uninit.fill_from_iter / read_chunk)";

    /// rtrb's chunks are all-or-nothing: asking for more slots than are free fails and says
    /// how many are, so a partial batch takes a second call (the idiomatic use).
    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        let free = match tx.write_chunk_uninit(n) {
            Ok(chunk) => return chunk.fill_from_iter(first..first + n as u64),
            Err(rtrb::chunks::ChunkError::TooFewSlots(0)) => return 0,
            Err(rtrb::chunks::ChunkError::TooFewSlots(free)) => free,
        };
        match tx.write_chunk_uninit(free) {
            Ok(chunk) => chunk.fill_from_iter(first..first + free as u64),
            Err(_) => fail("rtrb: free slots vanished between two calls"),
        }
    }
    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, max: usize, sum: &mut u64) -> usize {
        let ready = match rx.read_chunk(max) {
            Ok(chunk) => return take_rtrb_chunk(chunk, sum),
            Err(rtrb::chunks::ChunkError::TooFewSlots(0)) => return 0,
            Err(rtrb::chunks::ChunkError::TooFewSlots(ready)) => ready,
        };
        match rx.read_chunk(ready) {
            Ok(chunk) => take_rtrb_chunk(chunk, sum),
            Err(_) => fail("rtrb: ready items vanished between two calls"),
        }
    }
}

/// Adds up an rtrb read chunk and frees it; returns its length.
#[inline(always)]
fn take_rtrb_chunk(chunk: rtrb::chunks::ReadChunk<'_, u64>, sum: &mut u64) -> usize {
    let (first, second) = chunk.as_slices();
    *sum = sum.wrapping_add(sum_slices(first, second));
    let n = chunk.len();
    chunk.commit_all();
    n
}

/// The `disruptor` crate (v4): a single-producer disruptor of `u64` events read through an
/// `EventPoller`, so that we own (and pin) the consumer thread instead of the disruptor
/// spawning its own. Its ring size must be a power of two.
#[derive(Debug)]
pub enum Disruptor {}

impl Queue for Disruptor {
    const ID: &'static str = "disruptor";
    const NAME: &'static str = "disruptor 4 (SingleProducer + EventPoller)";
    type Tx = disruptor::SingleProducer<u64, disruptor::SingleConsumerBarrier>;
    type Rx = disruptor::EventPoller<u64, disruptor::SingleProducerBarrier>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        // The wait strategy only matters for threads the disruptor manages; it has none here.
        let builder = disruptor::build_single_producer(capacity, || 0u64, disruptor::BusySpin);
        let (poller, builder) = builder.new_event_poller();
        (builder.build(), poller)
    }
    #[inline(always)]
    fn try_push(tx: &mut Self::Tx, item: u64) -> bool {
        use disruptor::Producer as _;
        tx.try_publish(|event| *event = item).is_ok()
    }
    #[inline(always)]
    fn try_pop(rx: &mut Self::Rx) -> Option<u64> {
        match rx.take(1) {
            Ok(mut events) => (&mut events).next().copied(),
            Err(disruptor::Polling::NoEvents) => None,
            Err(disruptor::Polling::Shutdown) => fail("disruptor: producer gone"),
        }
    }
}
