//! [`priority`](crate::Pipeline::priority): the queue before the next stage hands out its
//! most urgent items first, through weir-backpressure's [`PriorityQueue`] and its
//! anti-starvation quota.
//!
//! A hidden thread takes the items in arrival order and pushes each into its level of the
//! priority queue (waiting while that level is full); the next stage pops the most urgent
//! item there is. When the pushing end goes it closes the queue, which wakes the popping end
//! and ends its stream once the queue is empty. A pusher waiting on a full level looks every
//! [`POLL`] whether the popping end is gone, as the priority queue has no disconnection of
//! its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_backpressure::priority::PriorityQueue;

use crate::link::{Gone, Inlet, Outlet, Recv, Wait};
use crate::sync::stats::Mutex;
use crate::sync::{AtomicBool, Ordering};

/// How often a waiting end looks whether the other one is gone.
const POLL: Duration = Duration::from_millis(10);

/// Pops this many turns before a waiting lower level is served.
pub(crate) const QUOTA: usize = 8;

/// What the two ends share.
struct Shared<T> {
    /// Closed when the pushing end goes: once it is empty, the stream has ended.
    queue: PriorityQueue<T>,
    /// The popping end is gone: pushing is useless.
    gone: AtomicBool,
    /// An end-to-end latency mark waiting for the next chunk taken.
    mark: Mutex<Option<Instant>>,
}

/// The pushing end.
pub(crate) struct Prioritize<T, F> {
    shared: Arc<Shared<T>>,
    level: F,
    wait: Wait,
    mark: Option<Instant>,
}

/// The popping end.
pub(crate) struct Prioritized<T> {
    shared: Arc<Shared<T>>,
    wait: Wait,
}

/// A priority queue of `levels` levels of `capacity` items each, as its two ends.
pub(crate) fn priority_queue<T, F>(
    levels: usize,
    capacity: usize,
    level: F,
) -> (Prioritize<T, F>, Prioritized<T>) {
    let shared = Arc::new(Shared {
        queue: PriorityQueue::new(levels, capacity).with_quota(QUOTA),
        gone: AtomicBool::new(false),
        mark: Mutex::new(None),
    });
    let pushing = Prioritize {
        shared: Arc::clone(&shared),
        level,
        wait: Wait,
        mark: None,
    };
    (pushing, Prioritized { shared, wait: Wait })
}

impl<T: Send, F: Fn(&T) -> usize + Send> Outlet<T> for Prioritize<T, F> {
    /// Pushes each item into its level, waiting while that level is full.
    ///
    /// # Panics
    ///
    /// If the level function gives a level the queue does not have (the stage that sends
    /// fails the run with it).
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        if let Some(mark) = self.mark.take() {
            let mut slot = self.shared.mark.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(mark);
        }
        let levels = self.shared.queue.levels();
        let mut items = buf.drain(..);
        while let Some(item) = items.next() {
            let level = (self.level)(&item);
            assert!(
                level < levels,
                "weir_pipeline::Pipeline::priority: level {level} out of 0..{levels}"
            );
            let mut item = item;
            loop {
                // Relaxed: see `Prioritized`'s drop.
                if self.shared.gone.load(Ordering::Relaxed) {
                    let rest: Vec<T> = std::iter::once(item).chain(items).collect();
                    buf.extend(rest);
                    return Err(Gone);
                }
                let soon = Some(Instant::now() + POLL);
                match self.shared.queue.push_wait(level, item, &self.wait, soon) {
                    Ok(()) => break,
                    Err(full) => item = full.into_inner(),
                }
            }
        }
        Ok(())
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }
}

impl<T, F> Drop for Prioritize<T, F> {
    fn drop(&mut self) {
        // The taker sees every push before the close, so an empty closed queue means the
        // stream is done.
        self.shared.queue.close();
    }
}

impl<T: Send> Inlet<T> for Prioritized<T> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let start = buf.len();
        loop {
            while buf.len() - start < max {
                match self.shared.queue.pop() {
                    Some((_, item)) => buf.push(item),
                    None => break,
                }
            }
            if buf.len() > start {
                return Recv::Got;
            }
            match self.shared.queue.pop_wait(&self.wait, deadline) {
                Some((_, item)) => buf.push(item),
                // Closed: once empty, every item pushed has been taken. (A wait that timed out
                // just as the last items and the close came finds them on the next turn.)
                None if self.shared.queue.is_closed() => {
                    if self.shared.queue.is_empty() {
                        return Recv::End;
                    }
                }
                None => return Recv::Timeout,
            }
        }
    }

    fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    fn capacity(&self) -> usize {
        (0..self.shared.queue.levels())
            .map(|level| self.shared.queue.capacity(level))
            .sum()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.shared
            .mark
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl<T> Drop for Prioritized<T> {
    fn drop(&mut self) {
        // Relaxed: the pusher polls it only to stop waiting; it orders nothing.
        self.shared.gone.store(true, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The most urgent items come out first, the stream ends once the pushing end is gone and
    /// the queue is empty, and a pusher stops when the taker is gone.
    #[test]
    fn urgent_first_then_the_end() {
        let (mut pushing, mut popping) = priority_queue(3, 8, |x: &u32| (*x % 3) as usize);
        let mut items = vec![2, 5, 1, 4, 0, 3];
        pushing.send(&mut items).unwrap();
        assert!(items.is_empty());
        drop(pushing);
        let mut out = Vec::new();
        while popping.recv(&mut out, 1, None) == Recv::Got {}
        // Level 0 first (0, 3), then 1 (1, 4), then 2 (2, 5), each level in arrival order.
        assert_eq!(out, [0, 3, 1, 4, 2, 5]);

        let (mut pushing, popping) = priority_queue(1, 1, |_: &u32| 0);
        drop(popping);
        let mut items = vec![7, 8];
        assert!(pushing.send(&mut items).is_err());
        assert_eq!(items, [7, 8], "the items not sent come back");
    }
}
