//! `batch(n)` and `batch_timeout(n, idle)`: items grouped into [`Batch`]es whose buffers go
//! back to the stage when dropped, so that batching allocates nothing in steady state.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_mpmc::Queue;

use crate::link::{Inlet, Outlet, Recv};
use crate::metrics::Local;
use crate::stage::{Context, CHUNK};

/// Up to `n` items of a `batch(n)` stage, in order; the last batch of a stream may be shorter.
///
/// A batch derefs to a slice (and to a mutable one) and iterates by value or by reference.
/// When it is dropped (or its iterator is), its buffer, emptied, goes back to the stage that
/// made it, which fills it again: a pipeline that batches allocates no buffer per batch once
/// it runs.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Pipeline;
///
/// let sums: Vec<u32> = Pipeline::from_iter(1..=10u32)
///     .batch(4)
///     .map(|batch| batch.iter().sum())
///     .collect::<Vec<_>>()
///     .run()
///     .unwrap()
///     .output;
/// assert_eq!(sums, [10, 26, 19]);
/// ```
pub struct Batch<T> {
    items: Vec<T>,
    home: Option<Arc<Queue<Vec<T>>>>,
}

impl<T> Batch<T> {
    /// A batch of these items that belongs to no stage (its buffer is freed when dropped).
    pub fn from_vec(items: Vec<T>) -> Self {
        Batch { items, home: None }
    }

    /// The items, as a vector; the buffer does not go back to the stage.
    pub fn into_vec(mut self) -> Vec<T> {
        self.home = None;
        std::mem::take(&mut self.items)
    }
}

impl<T> Deref for Batch<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> DerefMut for Batch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

impl<T> Drop for Batch<T> {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            let mut buffer = std::mem::take(&mut self.items);
            buffer.clear();
            // A full pool (more batches alive than it keeps) frees this buffer instead.
            let _ = home.try_push(buffer);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.items).finish()
    }
}

impl<T: PartialEq> PartialEq for Batch<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<'a, T> IntoIterator for &'a Batch<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> IntoIterator for Batch<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// The items by value, in order; the buffer goes back to the stage when the iterator is
    /// dropped.
    fn into_iter(mut self) -> IntoIter<T> {
        // Reversed, so that each next item comes off the end without moving the others.
        self.items.reverse();
        IntoIter { batch: self }
    }
}

/// The items of a [`Batch`] by value.
pub struct IntoIter<T> {
    batch: Batch<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.batch.items.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.batch.items.len(), Some(self.batch.items.len()))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

impl<T: fmt::Debug> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter")
            .field(&self.batch.items.len())
            .finish()
    }
}

/// The buffers a batch stage refills: at most `keep` wait here between uses.
pub(crate) fn pool<T>(keep: usize) -> Arc<Queue<Vec<T>>> {
    Arc::new(Queue::new(keep.max(2)))
}

/// Runs a batch stage until its input ends or the run stops.
pub(crate) fn run_batch<T>(
    size: usize,
    idle: Option<Duration>,
    pool: Arc<Queue<Vec<T>>>,
    mut inlet: Box<dyn Inlet<T>>,
    mut outlet: Box<dyn Outlet<Batch<T>>>,
    cx: Context,
) {
    let fresh =
        |pool: &Arc<Queue<Vec<T>>>| pool.try_pop().unwrap_or_else(|| Vec::with_capacity(size));
    let mut input = Vec::with_capacity(CHUNK);
    let mut output = Vec::with_capacity(CHUNK / size + 1);
    let mut current = fresh(&pool);
    let mut local = Local::new();
    let mut last_item = Instant::now();
    let mut ended = false;
    // A latency mark taken with an item that is not in a batch sent yet.
    let mut mark = None;
    while !ended && !cx.control.is_stopped() {
        let deadline = match idle {
            Some(idle) if !current.is_empty() => Some(last_item + idle),
            _ => None,
        };
        local.observe_queue(&cx.metrics, inlet.queued());
        let waited = Instant::now();
        let got = inlet.recv(&mut input, CHUNK, deadline);
        let started = Instant::now();
        local.input_wait += started - waited;
        match got {
            Recv::Got => {
                local.items_in += input.len() as u64;
                last_item = started;
                mark = mark.or(inlet.take_mark());
                for item in input.drain(..) {
                    current.push(item);
                    if current.len() == size {
                        let full = std::mem::replace(&mut current, fresh(&pool));
                        output.push(Batch {
                            items: full,
                            home: Some(Arc::clone(&pool)),
                        });
                    }
                }
            }
            Recv::Timeout => {}
            Recv::End => ended = true,
        }
        if (got != Recv::Got || ended) && !current.is_empty() {
            let partial = std::mem::replace(&mut current, fresh(&pool));
            output.push(Batch {
                items: partial,
                home: Some(Arc::clone(&pool)),
            });
        }
        local.items_out += output.len() as u64;
        if !output.is_empty() {
            outlet.carry(mark.take());
        }
        if let Some(flight) = cx.flight() {
            // The items taken are out of the flight, folded into batches (held ones too, or a
            // bound below the batch size could never fill one); the batches made are in it.
            flight.settle(local.items_in, local.items_out, &mut local.settled, false);
        }
        let fed = Instant::now();
        local.busy += fed - started;
        let sent = outlet.send(&mut output).is_ok();
        cx.land_overflow(&mut *outlet);
        local.output_wait += fed.elapsed();
        output.clear();
        local.flush(&cx.metrics);
        if !sent {
            break;
        }
    }
    // Items of a batch that never went out.
    local.discarded += current.len() as u64;
    let _ = catch_unwind(AssertUnwindSafe(|| drop(current)));
    local.finish(&cx.metrics);
}
