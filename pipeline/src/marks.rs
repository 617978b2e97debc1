//! End-to-end latency marks: a few items are stamped with the time the source took them, and
//! the stamp rides along beside the queues, never inside an item, so an item costs nothing
//! more.
//!
//! A queue between two stages keeps its marks apart from its items, as positions in its
//! stream: the mark at position `p` belongs to the `p`-th item ever sent into the queue. The
//! sending side counts what it sends, the taking side what it takes; a taker whose count passes
//! a mark's position has taken that item, and carries the mark on to the first output of the
//! same chunk. The sink records the time since the source took the item.
//!
//! Positions are exact in a queue between two single threads (FIFO, one sender, one taker).
//! In a queue shared by the workers of an unordered parallel stage, several threads count, so a
//! mark lands within a chunk or so of its item: the latency is sampled, and close.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::link::{Inlet, Outlet, Recv};
use crate::sync::stats::{AtomicU64, Mutex, Ordering};

/// The most marks a queue holds; more are dropped (the source makes about one a millisecond).
const MAX_MARKS: usize = 16;

/// How often a source marks an item.
const MARK_EVERY: Duration = Duration::from_millis(1);

/// No mark is waiting.
const NONE: u64 = u64::MAX;

/// When a source marks its next item: the first one, then about one every [`MARK_EVERY`].
#[derive(Debug, Default)]
pub(crate) struct MarkClock {
    last: Option<Instant>,
}

impl MarkClock {
    /// Whether an item taken at `now` is to be marked.
    pub(crate) fn due(&mut self, now: Instant) -> bool {
        let due = self.last.is_none_or(|last| now - last >= MARK_EVERY);
        if due {
            self.last = Some(now);
        }
        due
    }
}

/// The marks of one queue and its two counts.
#[derive(Debug)]
pub(crate) struct Marks {
    /// Items sent into the queue.
    sent: AtomicU64,
    /// Items taken from the queue.
    taken: AtomicU64,
    /// The position of the oldest waiting mark, or [`NONE`]: a hint read once per chunk,
    /// so that a taker looks at the lock only when a mark is due.
    next: AtomicU64,
    waiting: Mutex<VecDeque<(u64, Instant)>>,
}

impl Marks {
    fn new() -> Arc<Self> {
        Arc::new(Marks {
            sent: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            next: AtomicU64::new(NONE),
            waiting: Mutex::new(VecDeque::with_capacity(MAX_MARKS)),
        })
    }

    /// Counts `n` items about to be sent; the first of them carries `mark`, if any.
    fn send(&self, n: usize, mark: Option<Instant>) {
        // Relaxed, here and below: a statistic. The mark is stored before its item is sent,
        // and the channel's hand-off of the item orders the two for the taker.
        let first = self.sent.fetch_add(n as u64, Ordering::Relaxed);
        let Some(mark) = mark else { return };
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.len() < MAX_MARKS {
            waiting.push_back((first, mark));
            let oldest = waiting.front().map_or(NONE, |&(position, _)| position);
            self.next.store(oldest, Ordering::Relaxed);
        }
    }

    /// Corrects the counts for what an overflow policy did: `dropped` items counted as sent
    /// never entered the queue, and `evicted` ones left it at its front without being taken,
    /// as if taken.
    fn overflowed(&self, dropped: u64, evicted: u64) {
        self.sent.fetch_sub(dropped, Ordering::Relaxed);
        self.taken.fetch_add(evicted, Ordering::Relaxed);
    }

    /// Counts `n` items just taken; gives the oldest mark among them, if any (the others
    /// are dropped: marks are samples).
    fn take(&self, n: usize) -> Option<Instant> {
        let end = self.taken.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if self.next.load(Ordering::Relaxed) >= end {
            return None;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mut oldest = None;
        while let Some(&(position, mark)) = waiting.front() {
            if position >= end {
                break;
            }
            waiting.pop_front();
            oldest.get_or_insert(mark);
        }
        let next = waiting.front().map_or(NONE, |&(position, _)| position);
        self.next.store(next, Ordering::Relaxed);
        oldest
    }
}

/// One end of a queue, with the queue's marks: an [`Outlet`] that counts what it sends and
/// places the mark it carries, or an [`Inlet`] that counts what it takes and picks marks up.
#[derive(Debug)]
pub(crate) struct Marked<E> {
    end: E,
    marks: Arc<Marks>,
    mark: Option<Instant>,
}

/// The two ends of a queue, sharing one set of marks.
pub(crate) fn marked<S, R>((sender, receiver): (S, R)) -> (Marked<S>, Marked<R>) {
    let marks = Marks::new();
    let sender = Marked {
        end: sender,
        marks: Arc::clone(&marks),
        mark: None,
    };
    let receiver = Marked {
        end: receiver,
        marks,
        mark: None,
    };
    (sender, receiver)
}

/// Another end of a shared queue (a worker's), carrying no mark yet.
impl<E: Clone> Clone for Marked<E> {
    fn clone(&self) -> Self {
        Marked {
            end: self.end.clone(),
            marks: Arc::clone(&self.marks),
            mark: None,
        }
    }
}

impl<T, O: Outlet<T>> Outlet<T> for Marked<O> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), crate::link::Gone> {
        if !buf.is_empty() {
            self.marks.send(buf.len(), self.mark.take());
        }
        let sent = self.end.send(buf);
        let (dropped, evicted) = self.end.overflowed();
        if dropped + evicted != 0 {
            self.marks.overflowed(dropped, evicted);
        }
        sent
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }
}

impl<T, I: Inlet<T>> Inlet<T> for Marked<I> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let before = buf.len();
        let got = self.end.recv(buf, max, deadline);
        let taken = buf.len() - before;
        if taken != 0 {
            if let Some(mark) = self.marks.take(taken) {
                self.mark.get_or_insert(mark);
            }
        }
        got
    }

    fn queued(&self) -> usize {
        self.end.queued()
    }

    fn capacity(&self) -> usize {
        self.end.capacity()
    }

    fn take_mark(&mut self) -> Option<Instant> {
        self.mark.take()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A mark is picked up with the chunk that holds its item, and only then.
    #[test]
    fn a_mark_is_taken_with_its_item() {
        let marks = Marks::new();
        let at = Instant::now();
        marks.send(3, None);
        marks.send(2, Some(at)); // position 3
        assert_eq!(marks.take(3), None);
        assert_eq!(marks.take(1), Some(at));
        assert_eq!(marks.take(1), None);
    }

    /// An overflow policy's drops do not shift the positions of the marks after them (found in
    /// review: a dropping queue made every later mark land on a later item).
    #[test]
    fn drops_and_evictions_keep_the_positions() {
        let marks = Marks::new();
        let at = Instant::now();
        // 8 sent, the last 4 dropped before they were queued: 4 in the queue.
        marks.send(8, None);
        marks.overflowed(4, 0);
        marks.send(1, Some(at)); // the 5th item in the queue: position 4
        assert_eq!(marks.take(4), None);
        assert_eq!(marks.take(1), Some(at));

        // 2 queued items evicted at the front: the taker never takes them.
        let marks = Marks::new();
        marks.send(2, None);
        marks.overflowed(0, 2);
        marks.send(1, Some(at)); // position 2, the first one the taker takes
        assert_eq!(marks.take(1), Some(at));
    }
}
