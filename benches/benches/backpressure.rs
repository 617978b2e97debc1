//! Criterion benches: weir-backpressure's blocking channels (`spsc::channel`, `mpmc::channel`)
//! beside `std::sync::mpsc::sync_channel` and `crossbeam-channel`, every one through its own
//! blocking `send` / `recv`, on the same harnesses as the `weir-bench` binary's blocking rows:
//! SPSC (two pinned threads), MPMC 2p2c (threads not pinned; std's receiver shared in an
//! `Arc<Mutex>`), and the ping-pong round trip over two channels of capacity 1.
//!
//! Each sample spawns the threads and times, with `iter_custom`, only the transfer itself.
//!
//! `cargo bench -p weir-bench --bench backpressure`; `cargo test --benches -p weir-bench` runs
//! each bench once.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use weir_bench::blocking::{self, PerItem};
use weir_bench::blocking_queues::{
    BlockingQueue, StdSharedReceiver, WeirMpmcChannel, WeirSpscChannel,
};
use weir_bench::mpmc::Shape;
use weir_bench::pin::Pinning;
use weir_bench::queues::{CrossbeamChannel, MpmcQueue, StdSyncChannel};
use weir_bench::CAPACITY;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Items are moved in one run at least this many at a time (criterion's first iteration counts
/// are tiny, and each run spawns its threads).
const MIN_ITEMS: u64 = 10_000;

/// Time per unit of a run that moved `max(iters, min)` units, scaled to `iters`.
fn per_iters(iters: u64, min: u64, run: impl FnOnce(u64) -> Duration) -> Duration {
    let units = iters.max(min);
    run(units).mul_f64(iters as f64 / units as f64)
}

/// One producer to one consumer.
fn spsc(c: &mut Criterion) {
    fn bench<Q: BlockingQueue>(group: &mut Group<'_>) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| {
                per_iters(iters, MIN_ITEMS, |items| {
                    blocking::spsc::<Q, PerItem>(items, CAPACITY)
                })
            });
        });
    }
    let mut group = c.benchmark_group("blocking_spsc");
    group.throughput(Throughput::Elements(1));
    bench::<WeirSpscChannel>(&mut group);
    bench::<WeirMpmcChannel>(&mut group);
    bench::<StdSyncChannel>(&mut group);
    bench::<CrossbeamChannel>(&mut group);
    group.finish();
}

/// Two producers to two consumers.
fn mpmc_2p2c(c: &mut Criterion) {
    fn bench<Q: BlockingQueue + MpmcQueue>(group: &mut Group<'_>) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| {
                per_iters(iters, MIN_ITEMS, |items| {
                    blocking::mpmc::<Q, PerItem>(items, Shape::new(2, 2), CAPACITY, Pinning::None)
                })
            });
        });
    }
    let mut group = c.benchmark_group("blocking_mpmc_2p2c");
    group.throughput(Throughput::Elements(1));
    bench::<WeirMpmcChannel>(&mut group);
    bench::<StdSharedReceiver>(&mut group);
    bench::<CrossbeamChannel>(&mut group);
    group.finish();
}

/// Round trips over two channels of capacity 1.
fn ping_pong(c: &mut Criterion) {
    fn bench<Q: BlockingQueue>(group: &mut Group<'_>) {
        group.bench_function(Q::ID, |b| {
            b.iter_custom(|iters| per_iters(iters, 100, |n| blocking::ping_pong::<Q>(n, 1)));
        });
    }
    let mut group = c.benchmark_group("blocking_ping_pong");
    group.throughput(Throughput::Elements(1));
    bench::<WeirSpscChannel>(&mut group);
    bench::<WeirMpmcChannel>(&mut group);
    bench::<StdSyncChannel>(&mut group);
    bench::<CrossbeamChannel>(&mut group);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = spsc, mpmc_2p2c, ping_pong
}
criterion_main!(benches);
