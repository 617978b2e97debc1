//! `weir-bench`: weir-ring beside `std::sync::mpsc` and its peers, in one table.
//!
//! `cargo run --release -p weir-bench [-- --markdown | --quick | --items N | --help]`
//!
//! Every workload moves `u64`s through queues of capacity 1024 between two threads pinned to
//! two cores; every row is the median of several repetitions after a warm-up, and beside
//! every row is the raw cache-line round trip measured right before and after it (see
//! [`weir_bench::probe`]): on a virtual machine that number moves, and rows are comparable
//! only when their probes agree. Progress goes to stderr, the table to stdout.

mod cli;
mod table;

use std::time::Duration;

use weir_bench::queues::{
    ArrayQueue, BatchQueue, CrossbeamChannel, Disruptor, Queue, Rtrb, StdSyncChannel, WeirRing,
    WeirRingSlices,
};
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
    if let Some(filter) = &config.filter {
        if !format!("{workload} {implementation}").contains(filter.as_str()) {
            return None;
        }
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
        "ratios: >1.00x means the row is better than std::sync::mpsc / than the best non-weir \
         implementation of the same workload (higher items/s, or fewer ns per round trip)"
            .to_owned(),
        "every harness waits the same way (try, then crossbeam Backoff::snooze: bounded spin, then yield); \
         std and crossbeam channels run through try_send/try_recv (the non-blocking comparison)"
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
