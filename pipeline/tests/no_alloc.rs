//! No heap allocation per item: a run of many items allocates what a run of few does (thread
//! starts, queues, chunk buffers), on every thread of the process. One test in this binary, so
//! that no other test allocates meanwhile.

use weir_pipeline::{Pipeline, Workers};
use weir_test_support::{every_core, scaled, total_allocations, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// The allocations of one run of `build(items)`.
fn allocations(items: u64, run: impl Fn(u64) -> u64) -> usize {
    let before = total_allocations();
    std::hint::black_box(run(items));
    total_allocations() - before
}

#[test]
fn steady_state_allocates_nothing_per_item() {
    let few = scaled(20_000, 2_000) as u64;
    let many = 10 * few;
    type Run = fn(u64) -> u64;
    let shapes: [(&str, Run); 10] = [
        ("linear", |n| {
            Pipeline::from_iter(0..n)
                .map(|x| x + 1)
                .filter(|x| x % 3 != 0)
                .flat_map(|x| [x, x])
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("unordered", |n| {
            Pipeline::from_iter(0..n)
                .parallel(2, |s| s.map(|x| x * 2).filter(|x| x % 3 != 0))
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        // At least as many workers as cores: the sink's thread runs the last one, its outputs
        // kept in turns (pipeline/src/help.rs).
        ("ordered", |n| {
            Pipeline::from_iter(0..n)
                .parallel(Workers::new(every_core().max(3)).ordered(), |s| {
                    s.filter_map(|x| (x % 5 != 0).then_some(x))
                })
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("batched", |n| {
            Pipeline::from_iter(0..n)
                .capacity(16)
                .batch(64)
                .map(|batch| batch.iter().sum::<u64>())
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("fork_join", |n| {
            Pipeline::from_iter(0..n)
                .capacity(64)
                .fork_join(|s| s.map(|x| x + 1), |s| s.map(|x| x * 2))
                .fold(0, |a, (x, y)| a + x + y)
                .run()
                .unwrap()
                .output
        }),
        ("partition", |n| {
            Pipeline::from_iter(0..n)
                .partition(2, |x: &u64| x % 7, |_, s| s.map(|x| x + 1))
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("priority", |n| {
            Pipeline::from_iter(0..n)
                .priority(3, |x: &u64| (x % 3) as usize)
                .map(|x| x + 1)
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("overflow", |n| {
            Pipeline::from_iter(0..n)
                .capacity(16)
                .overflow(weir_pipeline::Overflow::DropOldest)
                .map(|x| x + 1)
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        ("max_in_flight", |n| {
            Pipeline::from_iter(0..n)
                .max_in_flight(32)
                .flat_map(|x| [x, x])
                .parallel(2, |s| s.map(|x| x + 1))
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
        // As many workers as cores: the next stage's thread runs the last worker and keeps its
        // outputs (pipeline/src/help.rs), here a batch's.
        ("unordered, reader's worker, batched", |n| {
            Pipeline::from_iter(0..n)
                .capacity(16)
                .parallel(every_core(), |s| s.map(|x| x * 2).filter(|x| x % 3 != 0))
                .batch(64)
                .map(|batch| batch.iter().sum::<u64>())
                .fold(0, |a, x| a + x)
                .run()
                .unwrap()
                .output
        }),
    ];
    for (name, run) in shapes {
        // A first run warms up what the process allocates once (thread-locals, the clock).
        allocations(few, run);
        let small = allocations(few, run);
        let large = allocations(many, run);
        eprintln!("{name}: {small} allocations for {few} items, {large} for {many}");
        // Thread starts, queue sizes and the batch buffers in flight at the peak (more when a
        // cheap stage is lent to the sink, which then holds a chunk of batches more) vary a
        // little from run to run: 150 to 170 for the reader's-worker shape, whether 20 000 or
        // 20 000 000 items go through. Per item would be hundreds of thousands more.
        assert!(
            large <= small + 32,
            "{name}: {small} allocations for {few} items, {large} for {many}"
        );
    }
}
