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

/// The marks of one queue, and the counts its ends share.
#[derive(Debug)]
pub(crate) struct Marks {
    /// Items sent into the queue, by ends that share it (one that has it alone counts in
    /// its own [`Marked`]).
    sent: AtomicU64,
    /// Items taken from the queue, likewise.
    taken: AtomicU64,
    /// Items an overflow policy took back out of the queue at its front, as if taken.
    evicted: AtomicU64,
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
            evicted: AtomicU64::new(0),
            next: AtomicU64::new(NONE),
            waiting: Mutex::new(VecDeque::with_capacity(MAX_MARKS)),
        })
    }

    /// Puts `mark` on the item at `position`.
    fn place(&self, position: u64, mark: Instant) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.len() < MAX_MARKS {
            waiting.push_back((position, mark));
            let oldest = waiting.front().map_or(NONE, |&(position, _)| position);
            // Relaxed, here and below: a statistic. The mark is placed before its item is
            // sent, and the channel's hand-off of the item orders the two for the taker.
            self.next.store(oldest, Ordering::Relaxed);
        }
    }

    /// The taker has taken every item before position `end` (evictions included): gives the
    /// oldest mark among them, if any (the others are dropped: marks are samples).
    fn pass(&self, end: u64) -> Option<Instant> {
        let end = end + self.evicted.load(Ordering::Relaxed);
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
///
/// An end that is its side's only one (a queue between two single threads) counts in a plain
/// field; ends that share a side (workers) count in the [`Marks`]' atomics, once per chunk.
#[derive(Debug)]
pub(crate) struct Marked<E> {
    end: E,
    marks: Arc<Marks>,
    mark: Option<Instant>,
    /// This end's count, when it is its side's only end.
    alone: Option<u64>,
    /// What its overflow policy dropped and evicted since `Outlet::overflowed` was last
    /// called.
    overflowed: (u64, u64),
}

impl<E> Marked<E> {
    /// The end itself (for what the marks do not count: its queue's length, its limit).
    pub(crate) fn end(&self) -> &E {
        &self.end
    }

    /// Counts `n` items through this end: the position of the first, if `sending`.
    fn count(&mut self, n: u64, sending: bool) -> u64 {
        let shared = if sending {
            &self.marks.sent
        } else {
            &self.marks.taken
        };
        match &mut self.alone {
            Some(count) => {
                *count += n;
                *count - n
            }
            None => shared.fetch_add(n, Ordering::Relaxed),
        }
    }
}

/// The two ends of a queue between two single threads, sharing its marks.
pub(crate) fn marked<S, R>(ends: (S, R)) -> (Marked<S>, Marked<R>) {
    pair(ends, Some(0))
}

/// The first two ends of a queue whose ends are cloned for several threads.
pub(crate) fn marked_shared<S, R>(ends: (S, R)) -> (Marked<S>, Marked<R>) {
    pair(ends, None)
}

fn pair<S, R>((sender, receiver): (S, R), alone: Option<u64>) -> (Marked<S>, Marked<R>) {
    let marks = Marks::new();
    let sender = Marked {
        end: sender,
        marks: Arc::clone(&marks),
        mark: None,
        alone,
        overflowed: (0, 0),
    };
    let receiver = Marked {
        end: receiver,
        marks,
        mark: None,
        alone,
        overflowed: (0, 0),
    };
    (sender, receiver)
}

/// Another end of a shared queue (a worker's), carrying no mark yet.
impl<E: Clone> Clone for Marked<E> {
    fn clone(&self) -> Self {
        debug_assert!(
            self.alone.is_none(),
            "an end counted alone is cloned: make its queue with marked_shared"
        );
        Marked {
            end: self.end.clone(),
            marks: Arc::clone(&self.marks),
            mark: None,
            alone: None,
            overflowed: (0, 0),
        }
    }
}

impl<T, O: Outlet<T>> Outlet<T> for Marked<O> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), crate::link::Gone> {
        if !buf.is_empty() {
            let first = self.count(buf.len() as u64, true);
            if let Some(mark) = self.mark.take() {
                self.marks.place(first, mark);
            }
        }
        let sent = self.end.send(buf);
        // What an overflow policy did: dropped items never entered the queue; evicted ones
        // left it at its front without being taken.
        let (dropped, evicted) = self.end.overflowed();
        self.overflowed.0 += dropped;
        self.overflowed.1 += evicted;
        if dropped != 0 {
            match &mut self.alone {
                Some(count) => *count -= dropped,
                None => {
                    self.marks.sent.fetch_sub(dropped, Ordering::Relaxed);
                }
            }
        }
        if evicted != 0 {
            self.marks.evicted.fetch_add(evicted, Ordering::Relaxed);
        }
        sent
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }

    fn overflowed(&mut self) -> (u64, u64) {
        std::mem::take(&mut self.overflowed)
    }
}

impl<T, I: Inlet<T>> Inlet<T> for Marked<I> {
    fn recv(&mut self, buf: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> Recv {
        let before = buf.len();
        let got = self.end.recv(buf, max, deadline);
        let taken = (buf.len() - before) as u64;
        if taken != 0 {
            let end = self.count(taken, false) + taken;
            if let Some(mark) = self.marks.pass(end) {
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

    fn soft_limit(&self) -> Option<crate::link::SoftLimit> {
        self.end.soft_limit()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::link::Gone;

    /// A queue for the tests: a shared `VecDeque`, whose sender can be told to drop items.
    #[derive(Clone, Default)]
    struct Fake {
        items: Arc<Mutex<VecDeque<u32>>>,
        room: Option<usize>,
        dropped: u64,
    }

    impl Outlet<u32> for Fake {
        fn send(&mut self, buf: &mut Vec<u32>) -> Result<(), Gone> {
            for item in buf.drain(..) {
                let mut items = self.items.lock().unwrap();
                if self.room.is_some_and(|room| items.len() >= room) {
                    self.dropped += 1;
                } else {
                    items.push_back(item);
                }
            }
            Ok(())
        }

        fn overflowed(&mut self) -> (u64, u64) {
            (std::mem::take(&mut self.dropped), 0)
        }
    }

    impl Inlet<u32> for Fake {
        fn recv(&mut self, buf: &mut Vec<u32>, max: usize, _: Option<Instant>) -> Recv {
            let mut items = self.items.lock().unwrap();
            let start = buf.len();
            while buf.len() - start < max {
                match items.pop_front() {
                    Some(item) => buf.push(item),
                    None => break,
                }
            }
            Recv::Got
        }

        fn queued(&self) -> usize {
            self.items.lock().unwrap().len()
        }

        fn capacity(&self) -> usize {
            usize::MAX
        }
    }

    /// A mark is picked up with the chunk that holds its item, and only then.
    #[test]
    fn a_mark_is_taken_with_its_item() {
        for shared in [false, true] {
            let fake = Fake::default();
            let ends = (fake.clone(), fake);
            let (mut sender, mut receiver) = if shared {
                marked_shared(ends)
            } else {
                marked(ends)
            };
            let at = Instant::now();
            sender.send(&mut vec![0, 1, 2]).unwrap();
            sender.carry(Some(at));
            sender.send(&mut vec![3, 4]).unwrap(); // the mark is on item 3
            let mut buf = Vec::new();
            receiver.recv(&mut buf, 3, None);
            assert_eq!(receiver.take_mark(), None);
            receiver.recv(&mut buf, 1, None);
            assert_eq!(receiver.take_mark(), Some(at));
            receiver.recv(&mut buf, 1, None);
            assert_eq!(receiver.take_mark(), None);
        }
    }

    /// An overflow policy's drops do not shift the positions of the marks after them (found in
    /// review: a dropping queue made every later mark land on a later item).
    #[test]
    fn drops_keep_the_positions() {
        let fake = Fake {
            room: Some(4),
            ..Fake::default()
        };
        let (mut sender, mut receiver) = marked((fake.clone(), fake));
        let at = Instant::now();
        // 8 sent, the last 4 dropped: 4 in the queue.
        sender.send(&mut (0..8).collect()).unwrap();
        let mut buf = Vec::new();
        receiver.recv(&mut buf, 4, None);
        sender.carry(Some(at));
        sender.send(&mut vec![8]).unwrap(); // the 5th item the queue takes in
        assert_eq!(receiver.take_mark(), None);
        receiver.recv(&mut buf, 1, None);
        assert_eq!(buf, [0, 1, 2, 3, 8]);
        assert_eq!(receiver.take_mark(), Some(at));
    }

    /// Items evicted at the front count as taken: the next mark lands on its own item.
    #[test]
    fn evictions_count_as_taken() {
        let marks = Marks::new();
        let at = Instant::now();
        marks.place(2, at);
        marks.evicted.fetch_add(2, Ordering::Relaxed);
        // The taker's own count says 1 taken; with the 2 evicted, item 2 is passed.
        assert_eq!(marks.pass(1), Some(at));
    }
}
