//! `weir-bench`: weir-ring and weir-mpmc beside `std::sync::mpsc` and their peers, in one table.
//!
//! `cargo run --release -p weir-bench [-- --markdown | --quick | --items N | --help]`
//!
//! Every SPSC workload moves `u64`s through queues of capacity 1024 between two threads pinned
//! to two cores; the MPMC workloads do the same from 1 or 2 producers to 1 or 2 consumers; the
//! skewed-work rows run tasks of uneven cost on two workers. The implementations of a workload
//! take turns, one repetition each per round (see [`interleave`]), so that they all meet the same
//! drift of the machine; every row is the median of its repetitions, and its ratios are paired
//! round by round. Beside every workload is the raw cache-line round trip measured before its
//! first round and after its last (see [`weir_bench::probe`]): on a virtual machine that number
//! moves. Progress goes to stderr, the table to stdout.
//!
//! The blocking workloads (`--filter blocking`) drive weir-backpressure's channels and the
//! peers' through their blocking `send` / `recv`, each waiting in its own way, and add the
//! process's CPU time per item to their rows (see [`weir_bench::blocking`]).
//!
//! The pipeline workloads (`--filter pipeline`) run a source, three cheap stages and a sink:
//! linear (items per second), fanned out to two workers over the skewed tasks (makespan), and
//! paced for end-to-end latency (p50 / p99 / max), beside the same pipelines built by hand
//! from channels and their peers (see [`weir_bench::pipeline`]); then weir-pipeline's own
//! dynamic shapes: a parallel stage scaling with its load, `fork_join`, `DropOldest` under
//! overload, and the seed's targets (see [`weir_bench::pipeline_dynamic`] and [`dynamic_rows`]).

mod cli;
mod dynamic_rows;
mod interleave;
mod table;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use weir_bench::blocking::{self, Batches, PerItem, Transfer};
use weir_bench::blocking_queues::{
    BlockingBatch, BlockingQueue, StdSharedReceiver, WeirMpmcChannel, WeirSpscChannel,
};
use weir_bench::distribute::{self, Layout as _};
use weir_bench::mpmc::{self, Shape};
use weir_bench::pin::Pinning;
use weir_bench::pipeline::{self, FanOut, Latencies};
use weir_bench::pipeline_weir;
use weir_bench::queues::{
    ArrayQueue, BatchQueue, CrossbeamChannel, Disruptor, Flume, Kanal, MpmcQueue, Queue, Rtrb,
    StdSyncChannel, WeirMpmc, WeirRing, WeirRingSlices,
};
use weir_bench::skewed::{self, Scheduler, Work};
use weir_bench::{cpu, pin, pingpong, probe, spsc, CAPACITY};

use cli::Config;
use interleave::Group;
use table::{Metric, Row};

/// The batch sizes of the batched workloads.
const BATCHES: [usize; 2] = [64, 256];

/// The capacity of each channel of the blocking ping-pong: every send waits for its echo.
const PING_PONG_CAPACITY: usize = 1;
/// The shape of the oversubscribed blocking workload: more threads than a 2-core machine has.
const OVERSUBSCRIBED: Shape = Shape::new(4, 4);
/// The capacity of the channel of the oversubscribed workload.
const OVERSUBSCRIBED_CAPACITY: usize = 256;
/// std's and flume's blocking ping-pong park at once (40-120 µs per round trip): their rows
/// run one in this many of the round trips, their time and cost scaled up.
const SLOW_PING_PONG_SHARE: u64 = 20;
const _: () = assert!(SLOW_PING_PONG_SHARE == 20, "the ping-pong labels say 1/20");

fn main() {
    let config = match cli::parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err((text, code)) => {
            if code == 0 {
                println!("{text}");
            } else {
                eprintln!("{text}");
            }
            std::process::exit(code);
        }
    };

    // The first probe of a process reads high (threads and pages still cold): spend it here.
    probe::probe(config.probe_round_trips / 10);
    let mut rows = Vec::new();
    per_item_rows(&config, &mut rows);
    for batch in BATCHES {
        batched_rows(&config, batch, &mut rows);
    }
    ping_pong_rows(&config, &mut rows);
    for shape in mpmc::SHAPES {
        mpmc_rows(&config, shape, &mut rows);
    }
    skewed_rows(&config, &mut rows);
    distribute_rows(&config, &mut rows);
    blocking_rows(&config, &mut rows);
    pipeline_rows(&config, &mut rows);

    print_header(&config);
    if config.markdown {
        print!("{}", table::markdown(&rows));
    } else {
        print!("{}", table::plain(&rows));
    }
}

/// SPSC, one item per push and per pop.
fn per_item_rows(config: &Config, rows: &mut Vec<Row>) {
    fn add<Q: Queue>(group: &mut Group<'_>, items: u64) {
        group.add(Q::NAME, Q::IS_WEIR, move || {
            spsc::per_item::<Q>(items, CAPACITY)
        });
    }
    let items = config.items;
    let mut group = Group::new(config, "SPSC per-item", items);
    add::<WeirRing>(&mut group, items);
    add::<StdSyncChannel>(&mut group, items);
    add::<CrossbeamChannel>(&mut group, items);
    add::<ArrayQueue>(&mut group, items);
    add::<Rtrb>(&mut group, items);
    rows.extend(group.run());
}

/// SPSC, up to `batch` items per push and per pop.
fn batched_rows(config: &Config, batch: usize, rows: &mut Vec<Row>) {
    fn add<Q: BatchQueue>(group: &mut Group<'_>, items: u64, batch: usize) {
        group.add(Q::BATCH_NAME, Q::IS_WEIR, move || {
            spsc::batched::<Q>(items, batch, CAPACITY)
        });
    }
    let items = config.items;
    let mut group = Group::new(config, format!("SPSC batch {batch}"), items);
    add::<WeirRing>(&mut group, items, batch);
    add::<WeirRingSlices>(&mut group, items, batch);
    add::<StdSyncChannel>(&mut group, items, batch);
    add::<CrossbeamChannel>(&mut group, items, batch);
    add::<ArrayQueue>(&mut group, items, batch);
    add::<Rtrb>(&mut group, items, batch);
    rows.extend(group.run());
}

/// Round trips over two queues.
fn ping_pong_rows(config: &Config, rows: &mut Vec<Row>) {
    fn add<Q: Queue>(group: &mut Group<'_>, n: u64, p99: bool) {
        let rep = move || pingpong::round_trips::<Q>(n, CAPACITY);
        let p99 = p99.then_some(move || pingpong::percentiles::<Q>(n.min(200_000), CAPACITY));
        group.add_with(Q::NAME, Q::IS_WEIR, rep, p99);
    }
    let n = config.round_trips;
    let mut group = Group::new(config, "ping-pong round trip", n);
    add::<WeirRing>(&mut group, n, config.p99);
    add::<StdSyncChannel>(&mut group, n, config.p99);
    add::<CrossbeamChannel>(&mut group, n, config.p99);
    add::<ArrayQueue>(&mut group, n, config.p99);
    add::<Rtrb>(&mut group, n, config.p99);
    add::<Disruptor>(&mut group, n, config.p99);
    rows.extend(group.run().into_iter().map(|mut row| {
        row.metric = Metric::Latency;
        row.value = 1e9 / row.value;
        row
    }));
}

/// P producers to C consumers through one queue, one item per push and per pop (and weir-mpmc
/// in batches too).
fn mpmc_rows(config: &Config, shape: Shape, rows: &mut Vec<Row>) {
    fn add<Q: MpmcQueue>(group: &mut Group<'_>, config: &Config, shape: Shape) {
        if !shape.fits::<Q>() {
            return;
        }
        let (items, pinning) = (config.mpmc_items, config.mpmc_pinning);
        group.add(Q::NAME, Q::IS_WEIR, move || {
            mpmc::per_item::<Q>(items, shape, CAPACITY, pinning)
        });
    }
    let mut group = Group::new(config, format!("MPMC {}", shape.name()), config.mpmc_items);
    add::<WeirMpmc>(&mut group, config, shape);
    let (items, pinning) = (config.mpmc_items, config.mpmc_pinning);
    group.add(mpmc::BATCH_NAME, true, move || {
        mpmc::batches(items, shape, CAPACITY, pinning)
    });
    add::<StdSyncChannel>(&mut group, config, shape);
    add::<CrossbeamChannel>(&mut group, config, shape);
    add::<ArrayQueue>(&mut group, config, shape);
    add::<Kanal>(&mut group, config, shape);
    add::<Flume>(&mut group, config, shape);
    rows.extend(group.run());
}

/// Tasks of uneven cost on two workers: makespan beside the ideal.
fn skewed_rows(config: &Config, rows: &mut Vec<Row>) {
    fn add<'a, S: Scheduler>(group: &mut Group<'a>, work: &'a Work) {
        group.add(S::NAME, S::IS_WEIR, move || skewed::makespan::<S>(work));
    }
    let workload = format!(
        "skewed {} tasks on {} workers",
        config.tasks,
        skewed::WORKERS
    );
    // The calibration and the ideal take a while: only when some row is wanted.
    let names = [
        skewed::WeirRoundRobin::NAME,
        skewed::WeirLeastLoaded::NAME,
        skewed::WeirPool::NAME,
        skewed::Rayon::NAME,
        skewed::CrossbeamDeque::NAME,
    ];
    if !names
        .iter()
        .any(|name| interleave::selected(config, &workload, name))
    {
        return;
    }
    let (work, ideal) = skewed_work(config);
    let mut group = Group::new(config, workload, 1);
    add::<skewed::WeirRoundRobin>(&mut group, &work);
    add::<skewed::WeirLeastLoaded>(&mut group, &work);
    add::<skewed::WeirPool>(&mut group, &work);
    add::<skewed::Rayon>(&mut group, &work);
    add::<skewed::CrossbeamDeque>(&mut group, &work);
    rows.extend(group.run().into_iter().map(|mut row| {
        row.metric = Metric::Makespan { ideal };
        row.value = 1.0 / row.value;
        row
    }));
}

/// Routing onto 8 rings through a distributor, flat or as a tree of 2 groups of 4: from one
/// thread in bursts (the cost of a send), and with a drainer on the other core. Each row's
/// ratio to the flat `LeastLoaded` is in its note.
fn distribute_rows(config: &Config, rows: &mut Vec<Row>) {
    type Run = fn(u64) -> Duration;
    fn add<L: distribute::Layout>(group: &mut Group<'_>, items: u64, bursts: bool) {
        let run: Run = if bursts {
            distribute::bursts::<L>
        } else {
            distribute::drained::<L>
        };
        group.add(L::NAME, true, move || run(items));
    }
    let items = config.mpmc_items;
    for bursts in [true, false] {
        let mut group = Group::new(
            config,
            format!(
                "distribute to {} rings, {}",
                distribute::WORKERS,
                if bursts {
                    "1 thread in bursts"
                } else {
                    "drained by another core"
                }
            ),
            items,
        );
        group.compare_with(distribute::FlatLeastLoaded::NAME);
        add::<distribute::FlatLeastLoaded>(&mut group, items, bursts);
        add::<distribute::FlatRoundRobin>(&mut group, items, bursts);
        add::<distribute::TreeRoundRobinOfLeastLoaded>(&mut group, items, bursts);
        add::<distribute::TreeLeastLoadedOfRoundRobin>(&mut group, items, bursts);
        rows.extend(group.run());
    }
}

/// The skewed tasks of `config` and their ideal makespan: one thread's time for every task
/// (the median of a few runs), shared perfectly between the workers.
fn skewed_work(config: &Config) -> (Work, f64) {
    let work = Work::new(config.tasks as usize, skewed::calibrate(config.unit));
    let mut sequential: Vec<_> = (0..config.reps.max(3))
        .map(|_| skewed::sequential(&work))
        .collect();
    sequential.sort_unstable();
    let total = sequential[sequential.len() / 2].as_secs_f64();
    let ideal = total / skewed::WORKERS as f64;
    eprintln!(
        "skewed work: {} tasks, {} units of ~{} ns, one thread {:.1} ms, ideal makespan {:.1} ms",
        config.tasks,
        work.total_units(),
        config.unit.as_nanos(),
        total * 1e3,
        ideal * 1e3
    );
    (work, ideal)
}

/// The blocking workloads, in table order: SPSC, MPMC 2p2c, ping-pong, and 4p4c on however
/// many cores there are (two here: oversubscribed).
fn blocking_rows(config: &Config, rows: &mut Vec<Row>) {
    blocking_spsc_rows(config, rows);
    let pair = Shape::new(2, 2);
    blocking_mpmc_rows(
        config,
        "blocking MPMC 2p2c",
        pair,
        CAPACITY,
        config.mpmc_pinning,
        rows,
    );
    blocking_ping_pong_rows(config, rows);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let workload = format!(
        "blocking {} on {cores} cores, capacity {OVERSUBSCRIBED_CAPACITY}",
        OVERSUBSCRIBED.name()
    );
    // Not pinned: the OS spreads the threads as it would for any oversubscribed program.
    blocking_mpmc_rows(
        config,
        workload,
        OVERSUBSCRIBED,
        OVERSUBSCRIBED_CAPACITY,
        Pinning::None,
        rows,
    );
}

/// Adds a blocking row: each repetition runs `rep` and measures what the process spent on it.
fn add_blocking<'a>(
    group: &mut Group<'a>,
    implementation: &'static str,
    is_weir: bool,
    mut rep: impl FnMut() -> Duration + 'a,
) {
    group.add_measured(implementation, is_weir, move || cpu::measure(&mut rep));
}

/// One producer to one consumer (pinned), blocking `send` / `recv` (and weir's batch calls).
fn blocking_spsc_rows(config: &Config, rows: &mut Vec<Row>) {
    fn add<Q: BlockingQueue, T: Transfer<Q>>(group: &mut Group<'_>, items: u64) {
        add_blocking(group, T::NAME, Q::IS_WEIR, move || {
            blocking::spsc::<Q, T>(items, CAPACITY)
        });
    }
    let items = config.blocking_items;
    let mut group = Group::new(config, "blocking SPSC", items);
    add::<WeirSpscChannel, PerItem>(&mut group, items);
    add::<WeirSpscChannel, Batches>(&mut group, items);
    add::<WeirMpmcChannel, PerItem>(&mut group, items);
    add::<StdSyncChannel, PerItem>(&mut group, items);
    add::<CrossbeamChannel, PerItem>(&mut group, items);
    add::<Kanal, PerItem>(&mut group, items);
    add::<Flume, PerItem>(&mut group, items);
    rows.extend(group.run());
}

/// `shape` producers and consumers on clones of one channel of `capacity`, blocking `send` /
/// `recv` (and weir's batch calls); std's receiver is shared behind a mutex.
fn blocking_mpmc_rows(
    config: &Config,
    workload: impl Into<String>,
    shape: Shape,
    capacity: usize,
    pinning: Pinning,
    rows: &mut Vec<Row>,
) {
    fn add<Q: BlockingQueue + MpmcQueue, T: Transfer<Q>>(
        group: &mut Group<'_>,
        items: u64,
        shape: Shape,
        capacity: usize,
        pinning: Pinning,
    ) {
        add_blocking(group, T::NAME, Q::IS_WEIR, move || {
            blocking::mpmc::<Q, T>(items, shape, capacity, pinning)
        });
    }
    fn add_all<Q: BlockingBatch + MpmcQueue>(
        group: &mut Group<'_>,
        items: u64,
        shape: Shape,
        capacity: usize,
        pinning: Pinning,
    ) {
        add::<Q, PerItem>(group, items, shape, capacity, pinning);
        add::<Q, Batches>(group, items, shape, capacity, pinning);
    }
    let items = config.blocking_items;
    let mut group = Group::new(config, workload, items);
    add_all::<WeirMpmcChannel>(&mut group, items, shape, capacity, pinning);
    add::<StdSharedReceiver, PerItem>(&mut group, items, shape, capacity, pinning);
    add::<CrossbeamChannel, PerItem>(&mut group, items, shape, capacity, pinning);
    add::<Kanal, PerItem>(&mut group, items, shape, capacity, pinning);
    add::<Flume, PerItem>(&mut group, items, shape, capacity, pinning);
    rows.extend(group.run());
}

/// Round trips over two blocking channels of capacity 1 between two pinned threads.
fn blocking_ping_pong_rows(config: &Config, rows: &mut Vec<Row>) {
    /// Runs `n / share` round trips, reported as if it had run all `n`.
    fn add<Q: BlockingQueue>(group: &mut Group<'_>, label: &'static str, n: u64, share: u64) {
        let run = (n / share).max(1);
        let scale = n as f64 / run as f64;
        group.add_measured(label, Q::IS_WEIR, move || {
            let (time, usage) = cpu::measure(|| blocking::ping_pong::<Q>(run, PING_PONG_CAPACITY));
            (time.mul_f64(scale), usage.map(|usage| usage.scaled(scale)))
        });
    }
    let n = config.blocking_round_trips;
    let mut group = Group::new(config, "blocking ping-pong, capacity 1", n);
    add::<WeirSpscChannel>(&mut group, WeirSpscChannel::BLOCKING_NAME, n, 1);
    add::<WeirMpmcChannel>(&mut group, WeirMpmcChannel::BLOCKING_NAME, n, 1);
    add::<StdSyncChannel>(
        &mut group,
        "std::sync::mpsc::sync_channel (send/recv; 1/20 of the round trips, scaled)",
        n,
        SLOW_PING_PONG_SHARE,
    );
    add::<CrossbeamChannel>(&mut group, CrossbeamChannel::BLOCKING_NAME, n, 1);
    add::<Kanal>(&mut group, Kanal::BLOCKING_NAME, n, 1);
    add::<Flume>(
        &mut group,
        "flume bounded (send/recv; 1/20 of the round trips, scaled)",
        n,
        SLOW_PING_PONG_SHARE,
    );
    rows.extend(group.run().into_iter().map(|mut row| {
        row.metric = Metric::Latency;
        row.value = 1e9 / row.value;
        row
    }));
}

/// The pipeline workloads: linear throughput, fan-out makespan, paced end-to-end latency,
/// and weir-pipeline's dynamic shapes.
fn pipeline_rows(config: &Config, rows: &mut Vec<Row>) {
    pipeline_linear_rows(config, rows);
    pipeline_fan_out_rows(config, rows);
    pipeline_latency_rows(config, rows);
    dynamic_rows::rows(config, rows);
}

/// `0..items` through map, filter, map and a fold, each stage on a thread of its own; every
/// total checked against the plain iterator's.
fn pipeline_linear_rows(config: &Config, rows: &mut Vec<Row>) {
    let items = config.items;
    let mut group = Group::new(config, "pipeline linear: map, filter, map, fold", items);
    let (_, expected) = pipeline::sequential(items);
    group.add(pipeline_weir::CHAIN, true, move || {
        pipeline_weir::linear(items, expected)
    });
    group.add(pipeline::STD_CHAIN, false, move || {
        pipeline::linear_chain::<StdSyncChannel>(pipeline::STD_CHAIN, items, expected)
    });
    group.add(pipeline::CROSSBEAM_CHAIN, false, move || {
        pipeline::linear_chain::<CrossbeamChannel>(pipeline::CROSSBEAM_CHAIN, items, expected)
    });
    group.add(pipeline::DISRUPTOR_CHAIN, false, move || {
        pipeline::linear_disruptor(pipeline::DISRUPTOR_CHAIN, items, expected)
    });
    // The ceiling is no peer: it joins the group the way weir's rows do (left out of "best
    // peer").
    group.add(pipeline::SEQUENTIAL, true, move || {
        let (elapsed, total) = pipeline::sequential(items);
        pipeline::check_total(pipeline::SEQUENTIAL, total, expected);
        elapsed
    });
    rows.extend(group.run());
}

/// The skewed tasks, as their indices, through a parallel stage of two workers: makespan
/// beside the ideal.
fn pipeline_fan_out_rows(config: &Config, rows: &mut Vec<Row>) {
    fn add<'a, F: FanOut>(group: &mut Group<'a>, work: &'a Arc<Work>) {
        group.add(F::NAME, F::IS_WEIR, move || pipeline::fan_out::<F>(work));
    }
    let workload = format!(
        "pipeline fan-out: {} uneven tasks on {} workers",
        config.tasks,
        skewed::WORKERS
    );
    let names = [
        pipeline_weir::Unordered::NAME,
        pipeline_weir::Ordered::NAME,
        pipeline::RayonParBridge::NAME,
        pipeline::RayonParIter::NAME,
        pipeline::Pariter::<0>::NAME,
        pipeline::Pariter::<CAPACITY>::NAME,
    ];
    if !names
        .iter()
        .any(|name| interleave::selected(config, &workload, name))
    {
        return;
    }
    let (work, ideal) = skewed_work(config);
    let work = Arc::new(work);
    let mut group = Group::new(config, workload, 1);
    add::<pipeline_weir::Unordered>(&mut group, &work);
    add::<pipeline_weir::Ordered>(&mut group, &work);
    add::<pipeline::RayonParBridge>(&mut group, &work);
    add::<pipeline::RayonParIter>(&mut group, &work);
    add::<pipeline::Pariter<0>>(&mut group, &work);
    add::<pipeline::Pariter<CAPACITY>>(&mut group, &work);
    rows.extend(group.run().into_iter().map(|mut row| {
        row.metric = Metric::Makespan { ideal };
        row.value = 1.0 / row.value;
        row
    }));
}

/// A source paced at `config.latency_rate` items per second through three stages that hand
/// the items on unchanged; the sink records each item's latency from its due instant. The
/// result is the p99 (the median over repetitions), beside it the medians of p50, p99 and max.
fn pipeline_latency_rows(config: &Config, rows: &mut Vec<Row>) {
    /// Adds a row whose repetitions each run `run` and keep what it measured in `tails`.
    fn add<'a>(
        group: &mut Group<'a>,
        implementation: &'static str,
        is_weir: bool,
        tails: &'a RefCell<Vec<Latencies>>,
        run: impl Fn() -> Latencies + 'a,
    ) {
        group.add(implementation, is_weir, move || {
            let latencies = run();
            tails.borrow_mut().push(latencies);
            Duration::from_nanos(latencies.p99 as u64)
        });
    }
    let (items, rate) = (config.latency_items, config.latency_rate);
    let period = Duration::from_nanos((1_000_000_000 / rate).max(1));
    let workload = format!("pipeline latency: {rate} items/s, 3 stages (result: p99)");
    let weir_tails = RefCell::new(Vec::new());
    let std_tails = RefCell::new(Vec::new());
    let crossbeam_tails = RefCell::new(Vec::new());
    let disruptor_tails = RefCell::new(Vec::new());
    let mut group = Group::new(config, workload, 1);
    add(&mut group, pipeline_weir::CHAIN, true, &weir_tails, || {
        pipeline_weir::latency(items, period)
    });
    add(&mut group, pipeline::STD_CHAIN, false, &std_tails, || {
        pipeline::latency_chain::<StdSyncChannel>(pipeline::STD_CHAIN, items, period)
    });
    add(
        &mut group,
        pipeline::CROSSBEAM_CHAIN,
        false,
        &crossbeam_tails,
        || pipeline::latency_chain::<CrossbeamChannel>(pipeline::CROSSBEAM_CHAIN, items, period),
    );
    add(
        &mut group,
        pipeline::DISRUPTOR_CHAIN,
        false,
        &disruptor_tails,
        || pipeline::latency_disruptor(pipeline::DISRUPTOR_CHAIN, items, period),
    );
    let measured = group.run();
    let tails = [
        (pipeline_weir::CHAIN, weir_tails.into_inner()),
        (pipeline::STD_CHAIN, std_tails.into_inner()),
        (pipeline::CROSSBEAM_CHAIN, crossbeam_tails.into_inner()),
        (pipeline::DISRUPTOR_CHAIN, disruptor_tails.into_inner()),
    ];
    rows.extend(measured.into_iter().map(|mut row| {
        row.metric = Metric::Latency;
        row.value = 1e9 / row.value;
        if let Some((_, tail)) = tails.iter().find(|(name, _)| *name == row.implementation) {
            // Every repetition ran in order, the warm-ups first.
            let timed = tail.get(config.warmups..).unwrap_or_default();
            let median = |value: fn(&Latencies) -> f64| {
                let mut values: Vec<f64> = timed.iter().map(value).collect();
                values.sort_unstable_by(f64::total_cmp);
                values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
            };
            row.p99 = Some((median(|l| l.p50), median(|l| l.p99)));
            row.max = Some(median(|l| l.max));
        }
        row
    }));
}

/// What was run, where, and how to read the table.
fn print_header(config: &Config) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    if config.quick {
        println!(
            "--quick: a smoke test that every row runs and checks its output, NOT a comparison. \
             Its repetitions last milliseconds, so they time thread start-up and the first \
             park rather than the queues; rank implementations with a full run \
             (`cargo run --release -p weir-bench`).\n"
        );
    }
    let lines = [
        format!(
            "weir-bench on {cores} cores (std::thread::available_parallelism); threads pinned: {}",
            pin::describe()
        ),
        format!("command: `{}`", config.command),
        format!(
            "u64 items, capacity {CAPACITY}; each row is the median of {} timed repetition(s) after {} warm-up(s); \
             {} items per repetition (throughput), {} round trips (ping-pong)",
            config.reps, config.warmups, config.items, config.round_trips
        ),
        "interleaved: the implementations of a workload take turns, one repetition each per round \
         (warm-up rounds too), each round starting with the next implementation, so that all of them \
         meet the same drift of the machine"
            .to_owned(),
        format!(
            "MPMC rows: {} items per repetition, P producers to C consumers through one queue \
             (PpCc), threads {}; std::sync::mpsc only where it applies (one consumer)",
            config.mpmc_items,
            config.mpmc_pinning.describe()
        ),
        format!(
            "skewed work: {} tasks, 1 in {} costs {} units of a ~{} ns busy loop, the others 1 unit; \
             result: makespan, and its ratio to the ideal (one thread's time for all tasks / {})",
            config.tasks,
            skewed::HEAVY_ONE_IN,
            skewed::HEAVY_UNITS,
            config.unit.as_nanos(),
            skewed::WORKERS
        ),
        format!(
            "distribute rows: {} items per repetition through a weir distributor onto {} weir rings \
             of {}, flat or a tree of {} groups; '1 thread in bursts': one pinned thread sends {} items \
             (nothing is ever full), empties the rings, and again (the cost of a send); 'drained by \
             another core': one sender, one thread emptying the rings a slice at a time on the other \
             core, a send finding every ring full waits and retries; note: the row's speed over the \
             flat LeastLoaded's, paired",
            config.mpmc_items,
            distribute::WORKERS,
            distribute::RING_CAPACITY,
            distribute::GROUPS,
            distribute::BURST
        ),
        "ratios (paired): for each round, the row's speed over std::sync::mpsc's / over the fastest \
         non-weir implementation's in that same round; the cell is the median over the rounds, \
         (min-max) over the rounds beside it; >1.00x means the row is better (higher items/s, \
         or fewer ns per round trip, or a shorter makespan)"
            .to_owned(),
        "every non-blocking harness waits the same way (try, then crossbeam Backoff::snooze: bounded spin, \
         then yield); std, crossbeam, kanal and flume channels run through try_send/try_recv there (the \
         non-blocking comparison)"
            .to_owned(),
        format!(
            "blocking rows: every channel through its own blocking send/recv (weir-backpressure: default \
             wait, Park: spin, yield, then futex), no wait loop in the harness; {} items per repetition, \
             producers drop their senders when done and consumers receive until disconnected (count and \
             sum checked); SPSC pinned like the other pairs, capacity {CAPACITY}; MPMC 2p2c capacity \
             {CAPACITY}, threads {}; {} capacity {OVERSUBSCRIBED_CAPACITY}, threads not pinned; std's \
             one receiver shared by its consumers in an Arc<Mutex>; weir's batch rows (send_many/recv_many \
             of {}) are weir rows, not peers",
            config.blocking_items,
            config.mpmc_pinning.describe(),
            OVERSUBSCRIBED.name(),
            blocking::BATCH
        ),
        format!(
            "blocking ping-pong: {} round trips per repetition over two channels of capacity \
             {PING_PONG_CAPACITY}, threads pinned; std::sync::mpsc and flume run 1/{SLOW_PING_PONG_SHARE} \
             of them, their time and cost scaled",
            config.blocking_round_trips
        ),
        "CPU s per M: the process's user+system CPU time (getrusage, every thread) over each \
         repetition, thread start and join included, per million items (round trips for ping-pong), \
         median over repetitions; in brackets the context switches (voluntary + forced) per item"
            .to_owned(),
        "ping-pong result: mean ns per round trip (median over repetitions), rare stalls included; \
         p50/p99: one extra pass timing every single round trip (timer cost included)"
            .to_owned(),
        format!(
            "pipeline rows: a source, three stages and a sink, every stage on a thread of its own \
             (weir-pipeline's cheap stages lend themselves to the thread after them, so its three \
             stages end up on the sink's thread), no thread pinned; linear: {} items (0..n) through map(x*3), filter(x%4!=1), \
             map(x^(x>>3)) and a wrapping-sum fold, every total checked against the plain \
             iterator's; the hand-built rows: one thread per stage joined by bounded channels of \
             {CAPACITY}, one blocking send/recv per item, the sink on the calling thread; the \
             disruptor: one ring of {CAPACITY}, four chained handlers writing into the slot, \
             yielding between polls; fan-out: the skewed tasks above, as their indices, through \
             two workers (every task counted once, ordered rows checked for order), makespan \
             from the first item to the last, thread start-up included; latency: {} items due \
             at {} items/s (the source spins until each is due: it holds a core), three stages \
             handing them on unchanged, latency from each item's due \
             instant to the sink (an HDR histogram per repetition), result the p99, beside it \
             the medians over repetitions of p50 / p99 / max",
            config.items, config.latency_items, config.latency_rate
        ),
        dynamic_rows::describe(config),
        "probe: raw cache-line round trip between the two threads right before the first round \
         and after the last round of the workload (the same for all its rows)"
            .to_owned(),
    ];
    for line in lines {
        if config.markdown {
            println!("- {line}");
        } else {
            println!("{line}");
        }
    }
    println!();
}
