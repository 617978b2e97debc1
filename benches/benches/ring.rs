//! Criterion benches: weir-ring beside `std::sync::mpsc::sync_channel`, `crossbeam-channel`,
//! crossbeam's `ArrayQueue` and `rtrb`, on the same harnesses as the `weir-bench` binary.
//!
//! Each sample spawns two threads pinned to two cores and times, with `iter_custom`, only the
//! transfer itself (not the spawning): SPSC throughput one item per call, SPSC throughput in
//! batches of 64 and 256, and the ping-pong round trip. Every implementation waits in the same
//! spin-then-yield loop; the channels use `try_send` / `try_recv`.
//!
//! `cargo bench -p weir-bench`; `cargo test --benches -p weir-bench` runs each bench once.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use weir_bench::queues::{
    ArrayQueue, BatchQueue, CrossbeamChannel, Queue, Rtrb, StdSyncChannel, WeirRing,
};
use weir_bench::{pingpong, spsc, CAPACITY};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Calls `$bench::<Q>(group, args..)` for every implementation compared, in table order.
macro_rules! for_each_queue {
    ($bench:ident($group:expr $(, $arg:expr)*)) => {
        $bench::<WeirRing>($group $(, $arg)*);
        $bench::<StdSyncChannel>($group $(, $arg)*);
        $bench::<CrossbeamChannel>($group $(, $arg)*);
        $bench::<ArrayQueue>($group $(, $arg)*);
        $bench::<Rtrb>($group $(, $arg)*);
    };
}

/// One item per push and per pop.
fn per_item(c: &mut Criterion) {
    fn bench<Q: Queue>(group: &mut Group<'_>) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| spsc::per_item::<Q>(iters, CAPACITY));
        });
    }
    let mut group = c.benchmark_group("spsc_per_item");
    group.throughput(Throughput::Elements(1));
    for_each_queue!(bench(&mut group));
    group.finish();
}

/// Up to 64 or 256 items per push and per pop (per-item loops where there is no batch API).
fn batched(c: &mut Criterion) {
    fn bench<Q: BatchQueue>(group: &mut Group<'_>, batch: usize) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| spsc::batched::<Q>(iters, batch, CAPACITY));
        });
    }
    for batch in [64, 256] {
        let mut group = c.benchmark_group(format!("spsc_batch_{batch}"));
        group.throughput(Throughput::Elements(1));
        for_each_queue!(bench(&mut group, batch));
        group.finish();
    }
}

/// One round trip per iteration, over two queues.
fn ping_pong(c: &mut Criterion) {
    fn bench<Q: Queue>(group: &mut Group<'_>) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| pingpong::round_trips::<Q>(iters, CAPACITY));
        });
    }
    let mut group = c.benchmark_group("ping_pong");
    for_each_queue!(bench(&mut group));
    group.finish();
}

/// Short runs: every sample spawns two threads, and the machine is shared.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_item, batched, ping_pong
}
criterion_main!(benches);
