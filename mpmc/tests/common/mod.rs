//! What the queue's single-thread tests share.

use std::collections::VecDeque;

use weir_mpmc::{Full, Queue};
use weir_test_support::Rng;

/// Runs `steps` random pushes, pops, forced pushes and batches on an empty `queue`, checking
/// each result, `len`, `is_empty` and `is_full` against a `VecDeque` of the same capacity.
pub(crate) fn matches_a_model(queue: &Queue<u64>, rng: &mut Rng, steps: usize) {
    let capacity = queue.capacity();
    let mut model = VecDeque::new();
    let mut next = 0u64;
    let mut out = Vec::new();
    for _ in 0..steps {
        match rng.range(0, 4) {
            0 => {
                let result = queue.try_push(next);
                if model.len() < capacity {
                    assert_eq!(result, Ok(()));
                    model.push_back(next);
                } else {
                    assert_eq!(result, Err(Full(next)));
                }
                next += 1;
            }
            1 => assert_eq!(queue.try_pop(), model.pop_front()),
            2 => {
                let expected = if model.len() == capacity {
                    model.pop_front()
                } else {
                    None
                };
                assert_eq!(queue.force_push(next), expected);
                model.push_back(next);
                next += 1;
            }
            3 => {
                let mut items: Vec<u64> = (next..next + rng.range(0, 5) as u64).collect();
                next += items.len() as u64;
                let before = items.clone();
                let pushed = queue.try_push_many(&mut items);
                assert_eq!(pushed, before.len().min(capacity - model.len()));
                model.extend(&before[..pushed]);
                assert_eq!(items, before[pushed..]);
            }
            _ => {
                let max = rng.range(0, 5);
                out.clear();
                let popped = queue.try_pop_many(&mut out, max);
                assert_eq!(popped, max.min(model.len()));
                let expected: Vec<u64> = model.drain(..popped).collect();
                assert_eq!(out, expected);
            }
        }
        assert_eq!(queue.len(), model.len());
        assert_eq!(queue.is_empty(), model.is_empty());
        assert_eq!(queue.is_full(), model.len() == capacity);
    }
}
