//! `weir-bench`: weir-ring and weir-mpmc beside `std::sync::mpsc` and their peers, in one table.
//!
//! `cargo run --release -p weir-bench [-- --markdown | --quick | --items N | --help]`
//!
//! Every SPSC workload moves `u64`s through queues of capacity 1024 between two threads pinned
//! to two cores; the MPMC workloads do the same from 1 or 2 producers to 1 or 2 consumers; the
//! skewed-work rows run tasks of uneven cost on two workers. Every row is the median of several
//! repetitions after a warm-up, and beside
//! every row is the raw cache-line round trip measured right before and after it (see
//! [`weir_bench::probe`]): on a virtual machine that number moves, and rows are comparable
//! only when their probes agree. Progress goes to stderr, the table to stdout.

mod cli;
mod table;

use std::time::Duration;

use weir_bench::mpmc::{self, Shape};
use weir_bench::queues::{
    ArrayQueue, BatchQueue, CrossbeamChannel, Disruptor, Flume, Kanal, MpmcQueue, Queue, Rtrb,
    StdSyncChannel, WeirMpmc, WeirRing, WeirRingSlices,
};
use weir_bench::skewed::{self, Scheduler, Work};
use weir_bench::{pin, pingpong, probe, spsc, CAPACITY};

use cli::Config;
use table::{Metric, Row};

/// The batch sizes of the batched workloads.
const BATCHES: [usize; 2] = [64, 256];

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

    print_header(&config);
    if config.markdown {
        print!("{}", table::markdown(&rows));
    } else {
        print!("{}", table::plain(&rows));
    }
}

/// SPSC, one item per push and per pop.
fn per_item_rows(config: &Config, rows: &mut Vec<Row>) {
    fn row<Q: Queue>(config: &Config, rows: &mut Vec<Row>) {
        let items = config.items;
        let rep = || spsc::per_item::<Q>(items, CAPACITY);
        rows.extend(measure(
            config,
            "SPSC per-item",
            Q::NAME,
            Q::IS_WEIR,
            items,
            rep,
            NO_P99,
        ));
    }
    row::<WeirRing>(config, rows);
    row::<StdSyncChannel>(config, rows);
    row::<CrossbeamChannel>(config, rows);
    row::<ArrayQueue>(config, rows);
    row::<Rtrb>(config, rows);
}

/// SPSC, up to `batch` items per push and per pop.
fn batched_rows(config: &Config, batch: usize, rows: &mut Vec<Row>) {
    fn row<Q: BatchQueue>(config: &Config, batch: usize, rows: &mut Vec<Row>) {
        let items = config.items;
        let workload = format!("SPSC batch {batch}");
        let rep = || spsc::batched::<Q>(items, batch, CAPACITY);
        rows.extend(measure(
            config,
            &workload,
            Q::BATCH_NAME,
            Q::IS_WEIR,
            items,
            rep,
            NO_P99,
        ));
    }
    row::<WeirRing>(config, batch, rows);
    row::<WeirRingSlices>(config, batch, rows);
    row::<StdSyncChannel>(config, batch, rows);
    row::<CrossbeamChannel>(config, batch, rows);
    row::<ArrayQueue>(config, batch, rows);
    row::<Rtrb>(config, batch, rows);
}

/// Round trips over two queues.
fn ping_pong_rows(config: &Config, rows: &mut Vec<Row>) {
    fn row<Q: Queue>(config: &Config, rows: &mut Vec<Row>) {
        let n = config.round_trips;
        let rep = || pingpong::round_trips::<Q>(n, CAPACITY);
        let p99 = || pingpong::percentiles::<Q>(n.min(200_000), CAPACITY);
        let workload = "ping-pong round trip";
        let p99 = config.p99.then_some(p99);
        if let Some(mut row) = measure(config, workload, Q::NAME, Q::IS_WEIR, n, rep, p99) {
            row.metric = Metric::Latency;
            row.value = 1e9 / row.value;
            rows.push(row);
        }
    }
    row::<WeirRing>(config, rows);
    row::<StdSyncChannel>(config, rows);
    row::<CrossbeamChannel>(config, rows);
    row::<ArrayQueue>(config, rows);
    row::<Rtrb>(config, rows);
    row::<Disruptor>(config, rows);
}

/// P producers to C consumers through one queue, one item per push and per pop.
fn mpmc_rows(config: &Config, shape: Shape, rows: &mut Vec<Row>) {
    fn row<Q: MpmcQueue>(config: &Config, shape: Shape, rows: &mut Vec<Row>) {
        if !shape.fits::<Q>() {
            return;
        }
        let items = config.mpmc_items;
        let workload = format!("MPMC {}", shape.name());
        let rep = || mpmc::per_item::<Q>(items, shape, CAPACITY, config.mpmc_pinning);
        rows.extend(measure(
            config,
            &workload,
            Q::NAME,
            Q::IS_WEIR,
            items,
            rep,
            NO_P99,
        ));
    }
    row::<WeirMpmc>(config, shape, rows);
    row::<StdSyncChannel>(config, shape, rows);
    row::<CrossbeamChannel>(config, shape, rows);
    row::<ArrayQueue>(config, shape, rows);
    row::<Kanal>(config, shape, rows);
    row::<Flume>(config, shape, rows);
}

/// Tasks of uneven cost on two workers: makespan beside the ideal.
fn skewed_rows(config: &Config, rows: &mut Vec<Row>) {
    fn row<S: Scheduler>(config: &Config, work: &Work, ideal: f64, rows: &mut Vec<Row>) {
        let workload = workload_name(config);
        let rep = || skewed::makespan::<S>(work);
        if let Some(mut row) = measure(config, &workload, S::NAME, S::IS_WEIR, 1, rep, NO_P99) {
            row.metric = Metric::Makespan { ideal };
            row.value = 1.0 / row.value;
            rows.push(row);
        }
    }
    fn workload_name(config: &Config) -> String {
        format!(
            "skewed {} tasks on {} workers",
            config.tasks,
            skewed::WORKERS
        )
    }
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
        .any(|name| selected(config, &workload_name(config), name))
    {
        return;
    }
    let work = Work::new(config.tasks as usize, skewed::calibrate(config.unit));
    // The ideal: one thread's time for every task, shared perfectly between the workers.
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
    row::<skewed::WeirRoundRobin>(config, &work, ideal, rows);
    row::<skewed::WeirLeastLoaded>(config, &work, ideal, rows);
    row::<skewed::WeirPool>(config, &work, ideal, rows);
    row::<skewed::Rayon>(config, &work, ideal, rows);
    row::<skewed::CrossbeamDeque>(config, &work, ideal, rows);
}

/// Whether `--filter` keeps the row.
fn selected(config: &Config, workload: &str, implementation: &str) -> bool {
    config.filter.as_ref().map_or(true, |filter| {
        format!("{workload} {implementation}").contains(filter.as_str())
    })
}

/// No p99 pass, for [`measure`].
const NO_P99: Option<fn() -> (f64, f64)> = None;

/// Probes, warms up, times `config.reps` repetitions of `rep` (each moving `units` items or
/// round trips), runs the `p99` pass (median and p99 of single round trips) if there is one, probes again, and returns the median as
/// a throughput row; `None` if `--filter` leaves the row out.
fn measure(
    config: &Config,
    workload: &str,
    implementation: &'static str,
    is_weir: bool,
    units: u64,
    mut rep: impl FnMut() -> Duration,
    p99: Option<impl FnOnce() -> (f64, f64)>,
) -> Option<Row> {
    if !selected(config, workload, implementation) {
        return None;
    }
    eprint!("{workload:<22} {implementation:<80} ");
    let probe_before = probe::probe(config.probe_round_trips);
    for _ in 0..config.warmups {
        rep();
    }
    let mut times: Vec<Duration> = (0..config.reps).map(|_| rep()).collect();
    let p99 = p99.map(|pass| pass());
    let probe_after = probe::probe(config.probe_round_trips);
    times.sort_unstable();
    let median = times[times.len() / 2];
    let value = units as f64 / median.as_secs_f64().max(f64::MIN_POSITIVE);
    eprintln!(
        "median {:>9.3} ms  (min {:.3}, max {:.3})  probe {probe_before:.0}/{probe_after:.0} ns",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
    Some(Row {
        workload: workload.to_owned(),
        implementation,
        is_weir,
        metric: Metric::Throughput,
        value,
        p99,
        probe_before,
        probe_after,
    })
}

/// What was run, where, and how to read the table.
fn print_header(config: &Config) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
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
        "ratios: >1.00x means the row is better than std::sync::mpsc / than the best non-weir \
         implementation of the same workload (higher items/s, or fewer ns per round trip, or a shorter makespan)"
            .to_owned(),
        "every harness waits the same way (try, then crossbeam Backoff::snooze: bounded spin, then yield); \
         std, crossbeam, kanal and flume channels run through try_send/try_recv (the non-blocking comparison)"
            .to_owned(),
        "ping-pong result: mean ns per round trip (median over repetitions), rare stalls included; \
         p50/p99: one extra pass timing every single round trip (timer cost included)"
            .to_owned(),
        "probe: raw cache-line round trip between the two threads right before/after the row \
         -- compare rows only when their probes agree"
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
