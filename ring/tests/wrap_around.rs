//! Wrap-around: at capacities 1, 2, 3 and 1000, push/pop patterns that cross the end of the
//! buffer (and the positions' `2 * capacity` lap) many times, checked step by step against a
//! `VecDeque` model: order, `len`, `slots`, `is_full`, `is_empty` and `peek`.

use std::collections::VecDeque;

use weir_ring::{channel, Consumer, Full, Producer};
use weir_test_support::{scaled, Rng};

const CAPACITIES: [usize; 4] = [1, 2, 3, 1000];

/// The capacities for the tests that move one item at a time. Under Miri every ring call on the
/// big ring costs milliseconds (Stacked Borrows retags its whole buffer), so there the big ring
/// goes round its lap only in `random_mix_of_every_operation`, by batches.
fn one_at_a_time_capacities() -> &'static [usize] {
    if cfg!(miri) {
        &CAPACITIES[..3]
    } else {
        &CAPACITIES
    }
}

/// The ring under test beside its model, with a count of pushes (to prove the positions went
/// round their lap).
struct Checked {
    producer: Producer<u64>,
    consumer: Consumer<u64>,
    model: VecDeque<u64>,
    capacity: usize,
    next: u64,
    pushed: usize,
    /// How many times the ring went from empty to full or from full to empty, and which of
    /// the two it was last.
    swings: usize,
    last_full: bool,
    /// The state is compared after every `check_every`-th operation (every one natively; the
    /// items themselves are compared on every pop).
    check_every: usize,
    ops: usize,
}

impl Checked {
    fn new(capacity: usize) -> Self {
        let (producer, consumer) = channel(capacity);
        let mut checked = Checked {
            producer,
            consumer,
            model: VecDeque::new(),
            capacity,
            next: 0,
            pushed: 0,
            swings: 0,
            last_full: false,
            // Under Miri every ring call is slow: the big ring is checked on a sample of steps.
            check_every: if cfg!(miri) && capacity > 100 { 37 } else { 1 },
            ops: 0,
        };
        checked.check();
        checked
    }

    fn check(&mut self) {
        let len = self.model.len();
        let (full, empty) = (len == self.capacity, len == 0);
        if (full && !self.last_full) || (empty && self.last_full) {
            self.swings += 1;
            self.last_full = full;
        }
        self.ops += 1;
        if !self.ops.is_multiple_of(self.check_every) {
            return;
        }
        // The cached-position paths first (`is_full`, `is_empty`, `peek` reload the other
        // side's position only when their cached copy says full or empty), then the calls that
        // always reload it.
        assert_eq!(self.producer.is_full(), len == self.capacity, "is_full");
        assert_eq!(self.consumer.is_empty(), len == 0, "is_empty");
        assert_eq!(self.consumer.peek(), self.model.front(), "peek");
        assert_eq!(self.consumer.len(), len, "len");
        assert_eq!(self.producer.slots(), self.capacity - len, "slots");
        assert_eq!(self.producer.capacity(), self.capacity);
        assert_eq!(self.consumer.capacity(), self.capacity);
    }

    fn push(&mut self) {
        let item = self.next;
        match self.producer.try_push(item) {
            Ok(()) => {
                assert!(self.model.len() < self.capacity, "pushed into a full ring");
                self.model.push_back(item);
                self.next += 1;
                self.pushed += 1;
            }
            Err(Full(back)) => {
                assert_eq!(back, item);
                assert_eq!(
                    self.model.len(),
                    self.capacity,
                    "Full from a ring with room"
                );
            }
        }
        self.check();
    }

    fn pop(&mut self) {
        assert_eq!(self.consumer.try_pop(), self.model.pop_front());
        self.check();
    }

    fn push_slice(&mut self, n: usize) {
        let items: Vec<u64> = (self.next..self.next + n as u64).collect();
        let pushed = self.producer.push_slice(&items);
        assert_eq!(pushed, n.min(self.capacity - self.model.len()));
        self.model.extend(&items[..pushed]);
        self.next += pushed as u64;
        self.pushed += pushed;
        self.check();
    }

    fn pop_slice(&mut self, n: usize) {
        let mut out = vec![u64::MAX; n];
        let popped = self.consumer.pop_slice(&mut out);
        assert_eq!(popped, n.min(self.model.len()));
        let expected: Vec<u64> = self.model.drain(..popped).collect();
        assert_eq!(out[..popped], expected[..]);
        assert!(
            out[popped..].iter().all(|&x| x == u64::MAX),
            "wrote past the items"
        );
        self.check();
    }

    fn write_chunk(&mut self, n: usize, commit_fraction: usize) {
        let mut chunk = self.producer.write_chunk(n);
        let len = chunk.len();
        assert_eq!(len, n.min(self.capacity - self.model.len()));
        let commit = len * commit_fraction / 4;
        let (first, second) = chunk.as_mut_slices();
        for (k, slot) in first.iter_mut().chain(second.iter_mut()).enumerate() {
            slot.write(self.next + k as u64);
        }
        // SAFETY: all `len >= commit` slots were written just above.
        unsafe { chunk.commit(commit) };
        self.model.extend(self.next..self.next + commit as u64);
        self.next += commit as u64;
        self.pushed += commit;
        self.check();
    }

    fn read_chunk(&mut self, n: usize, release_fraction: usize) {
        let chunk = self.consumer.read_chunk(n);
        let len = chunk.len();
        assert_eq!(len, n.min(self.model.len()));
        let (first, second) = chunk.as_slices();
        let seen: Vec<u64> = first.iter().chain(second).copied().collect();
        let expected: Vec<u64> = self.model.iter().take(len).copied().collect();
        assert_eq!(seen, expected);
        let release = len * release_fraction / 4;
        chunk.release(release);
        self.model.drain(..release);
        self.check();
    }
}

#[test]
fn one_in_one_out_wraps_many_laps() {
    for &capacity in one_at_a_time_capacities() {
        let mut ring = Checked::new(capacity);
        // At every fill level, pop one and push one `2 * laps + 1` times: each pair moves both
        // positions on by one, so the positions go round their `2 * capacity` lap more than
        // `laps` times in all.
        let laps = 5;
        let moves_per_level = 2 * laps + 1;
        for fill in 0..capacity {
            ring.push();
            assert_eq!(ring.model.len(), fill + 1);
            for _ in 0..moves_per_level {
                ring.pop();
                ring.push();
            }
            assert_eq!(ring.model.len(), fill + 1);
        }
        while !ring.model.is_empty() {
            ring.pop();
        }
        assert!(
            ring.pushed > 2 * capacity * laps,
            "capacity {capacity}: only {} pushes",
            ring.pushed
        );
    }
}

#[test]
fn fill_and_empty_repeatedly() {
    for &capacity in one_at_a_time_capacities() {
        let mut ring = Checked::new(capacity);
        let rounds = if capacity > 100 { 5 } else { scaled(50, 10) };
        for round in 0..rounds {
            // Fill completely (one more push must fail), then empty completely (one more pop
            // must find nothing), starting each round at a different offset.
            for _ in 0..=capacity {
                ring.push();
            }
            assert!(ring.producer.is_full());
            for _ in 0..=capacity {
                ring.pop();
            }
            assert!(ring.consumer.is_empty());
            for _ in 0..round % capacity {
                ring.push();
                ring.pop();
            }
        }
        assert!(ring.pushed > 2 * capacity);
    }
}

#[test]
fn random_mix_of_every_operation() {
    for capacity in CAPACITIES {
        let mut rng = Rng::new(capacity as u64);
        let mut ring = Checked::new(capacity);
        // Under Miri the big ring gets small batches (each batch costs time in proportion to its
        // length); the push-favouring phases still fill it, and the pushes still go round.
        let (steps, max_batch) = match capacity {
            _ if !cfg!(miri) => (20_000, capacity + 2),
            1000 => (300, 100),
            _ => (400, capacity + 2),
        };
        // Alternate phases that favour pushing and popping, long enough for the ring to swing
        // between full and empty instead of hovering in the middle.
        let phase = 12 * capacity / max_batch.min(capacity) + 7;
        for step in 0..steps {
            let push_bias = if (step / phase) % 2 == 0 { 7 } else { 3 };
            let op = rng.range(0, 9);
            let n = rng.range(0, max_batch);
            let fraction = rng.range(0, 4);
            match op {
                _ if op < push_bias => match op % 3 {
                    0 => ring.push(),
                    1 => ring.push_slice(n),
                    _ => ring.write_chunk(n, fraction),
                },
                _ => match op % 3 {
                    0 => ring.pop(),
                    1 => ring.pop_slice(n),
                    _ => ring.read_chunk(n, fraction),
                },
            }
        }
        assert!(
            ring.pushed > 2 * capacity,
            "capacity {capacity}: only {} pushes",
            ring.pushed
        );
        assert!(
            ring.swings >= 2,
            "capacity {capacity}: went between empty and full only {} times",
            ring.swings
        );
        while !ring.model.is_empty() {
            ring.pop();
        }
    }
}

#[test]
fn slices_of_every_length_at_every_offset() {
    // For small rings: every batch length at every starting position, through both slice and
    // chunk operations, for more than two laps.
    for capacity in [1, 2, 3, 5] {
        let mut ring = Checked::new(capacity);
        for _lap in 0..scaled(3, 1) {
            for offset in 0..capacity {
                for n in 0..=capacity + 1 {
                    ring.push_slice(n);
                    ring.pop_slice(n);
                    ring.write_chunk(n, 4);
                    ring.read_chunk(n, 4);
                    // Move the start on by `offset` for the next round.
                    ring.push_slice(offset);
                    ring.pop_slice(offset);
                }
            }
        }
        assert!(ring.pushed > 2 * capacity);
    }
}

/// `try_pop_many` across the end of the buffer and the positions' lap: every item once, in
/// order, as many as asked or as are there, and `len` agreeing with the model after each call.
#[test]
fn pop_many_crosses_the_end_in_order() {
    for &capacity in &CAPACITIES[..3] {
        let (mut producer, mut consumer) = channel(capacity);
        let mut model = VecDeque::new();
        let mut rng = Rng::new(capacity as u64);
        let mut next = 0u64;
        let mut out = Vec::new();
        for _ in 0..scaled(2_000, 200) {
            for _ in 0..rng.range(0, capacity) {
                if producer.try_push(next).is_ok() {
                    model.push_back(next);
                    next += 1;
                }
            }
            let max = rng.range(0, capacity + 1);
            out.clear();
            let got = consumer.try_pop_many(&mut out, max);
            assert_eq!(got, max.min(model.len()));
            let expected: Vec<u64> = model.drain(..got).collect();
            assert_eq!(out, expected);
            assert_eq!(consumer.len(), model.len());
        }
    }
}
