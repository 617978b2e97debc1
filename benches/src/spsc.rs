//! Throughput from one producer thread to one consumer thread.
//!
//! The producer pushes `0, 1, ..., items - 1`; the consumer pops exactly `items` items and
//! checks their count and sum (and that nothing is left over), failing the whole run with a
//! message if either is wrong. The time runs from the moment both pinned threads pass the
//! start barrier (taken on the producer) to the consumer's last pop.

use std::time::{Duration, Instant};

use crate::fail;
use crate::pin::run_pair;
use crate::queues::{BatchQueue, Queue};
use crate::wait::wait_for;

/// `0 + 1 + ... + (items - 1)`, wrapping like the consumers' sums.
pub(crate) fn expected_sum(items: u64) -> u64 {
    let (a, b) = if items.is_multiple_of(2) {
        (items / 2, items.wrapping_sub(1))
    } else {
        (items, (items - 1) / 2)
    };
    a.wrapping_mul(b)
}

/// Checks what the consumer saw; the run stops if it is wrong.
pub(crate) fn check(name: &str, items: u64, received: u64, sum: u64, leftover: Option<u64>) {
    if received != items {
        fail(&format!(
            "{name}: received {received} items, expected {items}"
        ));
    }
    if sum != expected_sum(items) {
        fail(&format!(
            "{name}: sum of {items} received items is {sum}, expected {}",
            expected_sum(items)
        ));
    }
    if let Some(extra) = leftover {
        fail(&format!(
            "{name}: an extra item {extra} after all {items} were received"
        ));
    }
}

/// Moves `items` items one per push and one per pop through a fresh queue of `capacity`,
/// and returns the time it took.
pub fn per_item<Q: Queue>(items: u64, capacity: usize) -> Duration {
    let (mut tx, mut rx) = Q::channel(capacity);
    let (start, end) = run_pair(
        move || {
            let start = Instant::now();
            for item in 0..items {
                wait_for(|| Q::try_push(&mut tx, item).then_some(()));
            }
            // Keep the producer alive until the consumer is done: some queues report a
            // disconnection, which is not what is measured here.
            (start, tx)
        },
        move || {
            let mut sum = 0u64;
            for _ in 0..items {
                sum = sum.wrapping_add(wait_for(|| Q::try_pop(&mut rx)));
            }
            let end = Instant::now();
            check(Q::NAME, items, items, sum, Q::try_pop(&mut rx));
            end
        },
    );
    end.saturating_duration_since(start.0)
}

/// Moves `items` items in batches of up to `batch` (per push and per pop) through a fresh
/// queue of `capacity`, and returns the time it took.
pub fn batched<Q: BatchQueue>(items: u64, batch: usize, capacity: usize) -> Duration {
    let (mut tx, mut rx) = Q::channel(capacity);
    let batch = batch.max(1) as u64;
    let (start, end) = run_pair(
        move || {
            let start = Instant::now();
            let mut next = 0;
            while next < items {
                let want = batch.min(items - next) as usize;
                next += wait_for(|| {
                    let pushed = Q::push_batch(&mut tx, next, want);
                    (pushed > 0).then_some(pushed as u64)
                });
            }
            (start, tx)
        },
        move || {
            let mut sum = 0u64;
            let mut received = 0;
            while received < items {
                let want = batch.min(items - received) as usize;
                received += wait_for(|| {
                    let popped = Q::pop_batch(&mut rx, want, &mut sum);
                    (popped > 0).then_some(popped as u64)
                });
            }
            let end = Instant::now();
            check(Q::BATCH_NAME, items, received, sum, Q::try_pop(&mut rx));
            end
        },
    );
    end.saturating_duration_since(start.0)
}

#[cfg(test)]
mod tests {
    use super::expected_sum;

    #[test]
    fn expected_sum_matches_a_loop() {
        for items in [0u64, 1, 2, 3, 10, 1001] {
            assert_eq!(expected_sum(items), (0..items).sum::<u64>());
        }
    }
}
