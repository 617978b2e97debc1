//! The command line of the comparison binary (plain `std::env::args`, no parser crate).

use std::fmt::Write as _;
use std::time::Duration;

use weir_bench::pin::Pinning;

/// What to run and how to print it.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Items per repetition of each throughput row.
    pub(crate) items: u64,
    /// Items per repetition of each MPMC row.
    pub(crate) mpmc_items: u64,
    /// Where the threads of the MPMC rows run.
    pub(crate) mpmc_pinning: Pinning,
    /// Items per repetition of each blocking throughput row.
    pub(crate) blocking_items: u64,
    /// Round trips per repetition of each blocking ping-pong row (std's rows run a share).
    pub(crate) blocking_round_trips: u64,
    /// Tasks per repetition of the skewed-work rows.
    pub(crate) tasks: u64,
    /// The length of one unit of work of the skewed-work rows.
    pub(crate) unit: Duration,
    /// Items per repetition of each pipeline latency row (paced at
    /// [`Config::latency_rate`] items per second).
    pub(crate) latency_items: u64,
    /// Items per second from the source of the pipeline latency rows.
    pub(crate) latency_rate: u64,
    /// Round trips per repetition of each ping-pong row.
    pub(crate) round_trips: u64,
    /// Round trips of the cache-line probe beside each row.
    pub(crate) probe_round_trips: u64,
    /// Timed repetitions per row (the median is reported).
    pub(crate) reps: usize,
    /// Untimed repetitions before them.
    pub(crate) warmups: usize,
    /// `--quick`: the smoke run's sizes.
    pub(crate) quick: bool,
    /// Print a GitHub-markdown table instead of a plain one.
    pub(crate) markdown: bool,
    /// Print the p99 column (an extra, per-round-trip timed pass of each ping-pong row).
    pub(crate) p99: bool,
    /// Only the rows whose "workload implementation" contains this text.
    pub(crate) filter: Option<String>,
    /// The command line, as it would be typed, for the header.
    pub(crate) command: String,
}

/// Text for `--help`.
const USAGE: &str = "\
usage: cargo run --release -p weir-bench -- [options]

  --items N        items per repetition of each throughput row (default 10000000;
                   also env WEIR_BENCH_ITEMS)
  --round-trips N  round trips per repetition of each ping-pong row (default items / 50)
  --mpmc-items N   items per repetition of each MPMC row (default: --items)
  --mpmc-pin P     MPMC threads: 'alternate' (thread i on core i % 2) or 'none' (default)
  --blocking-items N
                   items per repetition of each blocking throughput row (default 10000000)
  --blocking-round-trips N
                   round trips per repetition of each blocking ping-pong row (default
                   blocking items / 20; std::sync::mpsc and flume run 1/20 of them, time
                   scaled)
  --tasks N        tasks per repetition of the skewed-work rows (default 1000000)
  --unit-ns N      nanoseconds in one unit of work of a skewed task (default 50; the
                   pipeline fan-out rows run the same tasks)
  --latency-items N
                   items per repetition of each pipeline latency row (default 200000)
  --latency-rate N items per second from the source of the pipeline latency rows
                   (default 100000)
  --reps N         timed repetitions per row, median reported (default 5)
  --quick          smoke run for CI: 100000 items (MPMC 20000, blocking 10000, 2000 tasks,
                   pipeline latency 5000, the dynamic pipeline rows about 1/10
                   to 1/100 of their sizes), 1 repetition, no warm-up
  --markdown       print the table as GitHub markdown
  --filter TEXT    only rows whose 'workload implementation' contains TEXT
                   ('blocking': the blocking workloads only; 'pipeline': the
                   pipeline workloads only)
  --no-p99         skip the extra per-round-trip timed pass of the ping-pong rows
  --help           this text";

/// Reads the arguments (without the program name); `Err` holds the text to print and the
/// exit code (0 for `--help`).
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, (String, i32)> {
    let args: Vec<String> = args.into_iter().collect();
    let mut items = match std::env::var("WEIR_BENCH_ITEMS") {
        Ok(value) => Some(number("WEIR_BENCH_ITEMS", Some(value))?),
        Err(_) => None,
    };
    let mut round_trips = None;
    let mut mpmc_items = None;
    let mut mpmc_pinning = Pinning::None;
    let mut blocking_items = None;
    let mut blocking_round_trips = None;
    let mut tasks = None;
    let mut unit_ns = 50;
    let mut latency_items = None;
    let mut latency_rate = 100_000;
    let mut reps = None;
    let mut quick = false;
    let mut markdown = false;
    let mut p99 = true;
    let mut filter = None;
    let mut rest = args.iter().cloned();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--items" => items = Some(number(&arg, rest.next())?),
            "--round-trips" => round_trips = Some(number(&arg, rest.next())?),
            "--mpmc-items" => mpmc_items = Some(number(&arg, rest.next())?),
            "--mpmc-pin" => {
                mpmc_pinning = match rest.next().as_deref() {
                    Some("alternate") => Pinning::Alternate,
                    Some("none") => Pinning::None,
                    _ => return Err(("--mpmc-pin needs 'alternate' or 'none'".to_owned(), 2)),
                }
            }
            "--blocking-items" => blocking_items = Some(number(&arg, rest.next())?),
            "--blocking-round-trips" => {
                blocking_round_trips = Some(number(&arg, rest.next())?);
            }
            "--tasks" => tasks = Some(number(&arg, rest.next())?),
            "--unit-ns" => unit_ns = number(&arg, rest.next())?.max(1),
            "--latency-items" => latency_items = Some(number(&arg, rest.next())?),
            "--latency-rate" => latency_rate = number(&arg, rest.next())?.max(1),
            "--reps" => reps = Some(number(&arg, rest.next())?.max(1) as usize),
            "--filter" => {
                filter = Some(rest.next().ok_or(("--filter needs a text".to_owned(), 2))?);
            }
            "--quick" => quick = true,
            "--markdown" => markdown = true,
            "--no-p99" => p99 = false,
            "--help" | "-h" => return Err((USAGE.to_owned(), 0)),
            other => return Err((format!("unknown argument `{other}`\n\n{USAGE}"), 2)),
        }
    }
    let items = items
        .unwrap_or(if quick { 100_000 } else { 10_000_000 })
        .max(1);
    let blocking_items = blocking_items
        .unwrap_or(if quick { 10_000 } else { 10_000_000 })
        .max(1);
    let mut command = "cargo run --release -p weir-bench".to_owned();
    if !args.is_empty() {
        command.push_str(" --");
        for arg in &args {
            let _ = write!(command, " {arg}");
        }
    }
    Ok(Config {
        items,
        round_trips: round_trips.unwrap_or((items / 50).max(1)),
        mpmc_items: mpmc_items
            .unwrap_or(if quick { 20_000 } else { items })
            .max(1),
        mpmc_pinning,
        blocking_items,
        blocking_round_trips: blocking_round_trips
            .unwrap_or((blocking_items / 20).max(1))
            .max(1),
        tasks: tasks
            .unwrap_or(if quick { 2_000 } else { 1_000_000 })
            .max(1),
        unit: Duration::from_nanos(unit_ns),
        latency_items: latency_items
            .unwrap_or(if quick { 5_000 } else { 200_000 })
            .max(1),
        latency_rate,
        probe_round_trips: if quick { 10_000 } else { 150_000 },
        reps: reps.unwrap_or(if quick { 1 } else { 5 }),
        warmups: if quick { 0 } else { 1 },
        quick,
        markdown,
        p99,
        filter,
        command,
    })
}

/// Parses the value of `name`.
fn number(name: &str, value: Option<String>) -> Result<u64, (String, i32)> {
    let value = value.ok_or_else(|| (format!("{name} needs a number"), 2))?;
    value
        .replace('_', "")
        .parse()
        .map_err(|_| (format!("{name}: `{value}` is not a number"), 2))
}
