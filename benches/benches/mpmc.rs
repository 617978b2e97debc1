//! Criterion benches: weir-mpmc's `Queue` beside `std::sync::mpsc::sync_channel` (one consumer
//! only), `crossbeam-channel`, crossbeam's `ArrayQueue`, `kanal` and `flume`, from 1 or 2
//! producers to 1 or 2 consumers, on the same harness as the `weir-bench` binary; and the
//! skewed-work makespan of weir's distributors beside rayon and crossbeam-deque; and routing
//! onto 8 rings through a flat distributor or a tree of two groups.
//!
//! Each sample spawns the threads and times, with `iter_custom`, only the transfer itself; every
//! implementation waits in the same spin-then-yield loop, the channels through `try_send` /
//! `try_recv`. The MPMC threads are not pinned (as in the binary's default, `--mpmc-pin none`).
//!
//! `cargo bench -p weir-bench --bench mpmc`; `cargo test --benches -p weir-bench` runs each
//! bench once.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use weir_bench::distribute::{self, Layout};
use weir_bench::mpmc::{self, Shape, SHAPES};
use weir_bench::pin::Pinning;
use weir_bench::queues::{
    ArrayQueue, CrossbeamChannel, Flume, Kanal, MpmcQueue, StdSyncChannel, WeirMpmc,
};
use weir_bench::skewed::{self, Scheduler, Work};
use weir_bench::CAPACITY;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Items are moved in one run at least this many at a time (criterion's first iteration counts
/// are tiny, and each run spawns up to four threads).
const MIN_ITEMS: u64 = 10_000;

/// One item per push and per pop, for every shape.
fn per_item(c: &mut Criterion) {
    fn bench<Q: MpmcQueue>(group: &mut Group<'_>, shape: Shape) {
        if !shape.fits::<Q>() {
            return;
        }
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| {
                // Time per item, measured over at least MIN_ITEMS items.
                let items = iters.max(MIN_ITEMS);
                let elapsed = mpmc::per_item::<Q>(items, shape, CAPACITY, Pinning::None);
                elapsed.mul_f64(iters as f64 / items as f64)
            });
        });
    }
    for shape in SHAPES {
        let mut group = c.benchmark_group(format!("mpmc_{}", shape.name()));
        group.throughput(Throughput::Elements(1));
        bench::<WeirMpmc>(&mut group, shape);
        bench::<StdSyncChannel>(&mut group, shape);
        bench::<CrossbeamChannel>(&mut group, shape);
        bench::<ArrayQueue>(&mut group, shape);
        bench::<Kanal>(&mut group, shape);
        bench::<Flume>(&mut group, shape);
        group.finish();
    }
}

/// Makespan of 20000 skewed tasks (units of ~50 ns) on two workers.
fn skewed_work(c: &mut Criterion) {
    fn bench<S: Scheduler>(group: &mut Group<'_>, work: &Work) {
        group.bench_function(S::ID, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| skewed::makespan::<S>(work)).sum());
        });
    }
    let work = Work::new(20_000, skewed::calibrate(Duration::from_nanos(50)));
    let mut group = c.benchmark_group("skewed_20k_tasks_2_workers");
    bench::<skewed::WeirRoundRobin>(&mut group, &work);
    bench::<skewed::WeirLeastLoaded>(&mut group, &work);
    bench::<skewed::WeirPool>(&mut group, &work);
    bench::<skewed::Rayon>(&mut group, &work);
    bench::<skewed::CrossbeamDeque>(&mut group, &work);
    group.finish();
}

/// Routing onto 8 rings from one thread in bursts (the cost of a send): flat or a tree.
fn distribute_rings(c: &mut Criterion) {
    fn bench<L: Layout>(group: &mut Group<'_>) {
        group.bench_function(L::ID, |b| {
            b.iter_custom(|iters| {
                let items = iters.max(MIN_ITEMS);
                distribute::bursts::<L>(items).mul_f64(iters as f64 / items as f64)
            });
        });
    }
    let mut group = c.benchmark_group("distribute_8_rings");
    group.throughput(Throughput::Elements(1));
    bench::<distribute::FlatLeastLoaded>(&mut group);
    bench::<distribute::FlatRoundRobin>(&mut group);
    bench::<distribute::TreeRoundRobinOfLeastLoaded>(&mut group);
    bench::<distribute::TreeLeastLoadedOfRoundRobin>(&mut group);
    group.finish();
}

/// Short runs: every sample spawns threads, and the machine is shared.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_item, skewed_work, distribute_rings
}
criterion_main!(benches);
