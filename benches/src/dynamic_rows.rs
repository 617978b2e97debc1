//! The table's rows of weir-pipeline's dynamic, hierarchical and stream workloads (the
//! harnesses are in [`weir_bench::pipeline_dynamic`]): scaling, fork_join, overload, and the
//! seed's targets, each target printed in the row's note beside whether the row met it.
//!
//! In each of these workloads every row is weir's; the row marked "the baseline" joins the
//! group as a peer would, so that the "vs best peer" column is the paired ratio to it.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use weir_bench::pipeline::Latencies;
use weir_bench::pipeline_dynamic::{
    self as dynamic, iterations, max_workers, Overload, Phases, ScaleRun, Steps, Survived,
    FORK_JOIN, HIERARCHICAL, ONE_STAGE, STREAM, STREAM_RATE,
};
use weir_pipeline::{Overflow, Workers};

use crate::cli::Config;
use crate::interleave::{self, Group};
use crate::table::{Metric, Row};

/// The workload name of the seed's target rows.
const TARGETS: &str = "pipeline part two: seed targets (issue 12)";
/// The dynamic target's row label.
const DYNAMIC: &str = "dynamic: parallel(Workers::scaling(1, max)) over the scaling phases \
     (target > 300K items/s)";
/// The seed's targets, in items per second, and the stream's p99 bound.
const DYNAMIC_TARGET: f64 = 300e3;
const HIERARCHICAL_TARGET: f64 = 800e3;
const STREAM_TARGET: f64 = 1.5e6;
const STREAM_P99_TARGET_NS: f64 = 500e3;

/// Items per second from the scaling workload's source.
const SCALING_RATE: u64 = 400_000;
/// The length of an expensive item of the scaling workload: one worker keeps up with
/// [`SCALING_RATE`] only up to 1 / this (about 286K items/s), two up to twice that (the stage
/// then 70% busy on 2 cores).
const SCALING_EXPENSIVE: Duration = Duration::from_nanos(3_500);
/// The length of each step of the fork_join workload.
const STEP: Duration = Duration::from_micros(2);
/// The overload workload's source rate, and its stage's time per item: half that rate.
const OVERLOAD_RATE: u64 = 200_000;
const OVERLOAD_STAGE: Duration = Duration::from_micros(10);
/// The capacity of the queue into the overloaded stage.
const OVERLOAD_CAPACITY: usize = 256;

/// The sizes of every workload here, full or `--quick`.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    /// The scaling phases' lengths: cheap, expensive, cheap.
    phases: [Duration; 3],
    fork_join_items: u64,
    overload_items: u64,
    hierarchical_items: u64,
    stream_items: u64,
}

impl Sizes {
    fn of(config: &Config) -> Self {
        let ms = Duration::from_millis;
        if config.quick {
            Sizes {
                phases: [ms(10), ms(20), ms(20)],
                fork_join_items: 2_000,
                overload_items: 4_000,
                hierarchical_items: 20_000,
                stream_items: 40_000,
            }
        } else {
            Sizes {
                phases: [ms(100), ms(400), ms(400)],
                fork_join_items: 50_000,
                overload_items: 100_000,
                hierarchical_items: 2_000_000,
                stream_items: 2_000_000,
            }
        }
    }
}

/// A label made at run time, kept for the rest of the process (a few per run).
fn label(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The median of `values` (NaN when there are none).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_unstable_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The samples of the timed repetitions (the warm-ups ran first).
fn timed<'s, S>(config: &Config, samples: &'s RefCell<Vec<S>>) -> std::cell::Ref<'s, [S]> {
    std::cell::Ref::map(samples.borrow(), |all| {
        all.get(config.warmups..).unwrap_or_default()
    })
}

/// The medians of some latencies, field by field.
fn median_latencies<'l>(all: impl Iterator<Item = &'l Latencies> + Clone) -> Latencies {
    Latencies {
        p50: median(all.clone().map(|l| l.p50)),
        p99: median(all.clone().map(|l| l.p99)),
        max: median(all.map(|l| l.max)),
    }
}

/// "met" or "missed", as the note says it.
fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// Every row of these workloads, in table order.
pub(crate) fn rows(config: &Config, rows: &mut Vec<Row>) {
    let sizes = Sizes::of(config);
    let dynamic = scaling_rows(config, sizes, rows);
    fork_join_rows(config, sizes, rows);
    overload_rows(config, sizes, rows);
    target_rows(config, sizes, dynamic, rows);
}

/// The header line that says what these rows ran.
pub(crate) fn describe(config: &Config) -> String {
    let sizes = Sizes::of(config);
    let [a, b, c] = sizes.phases.map(|d| d.as_millis());
    format!(
        "dynamic pipeline rows (every row weir-pipeline's; the row marked 'the baseline' sits \
         in the peer's place, so 'vs best peer' is the paired ratio to it): scaling: from_iter \
         rate_limit({SCALING_RATE}/s) through one parallel stage (1 worker, {max} workers, or \
         Workers::scaling(1, {max})) whose items cost nothing for {a} ms, a {} ns busy loop for \
         {b} ms, nothing for {c} ms; result items/s, CPU the process's per M items, note the \
         workers at the end and the scale events (medians); fork_join: {} items, two \
         independent {} µs busy steps each, makespan beside the ideal (both steps on one \
         thread / 2); overload: {} items from a source at {OVERLOAD_RATE}/s into a stage of \
         {} µs per item (2x overload), the queue into it of {OVERLOAD_CAPACITY}, DropOldest or \
         Block, result the p99 latency from each item's due instant (i / rate) to the sink, \
         note the share dropped and the p99 from the source taking the item; seed targets: \
         dynamic is the scaling(1, max) row's throughput, hierarchical {} items, stream {} \
         items at {STREAM_RATE}/s, DropOldest on every queue (p50 / p99 / max from the source \
         taking an item to the sink); counts, sums, \
         order and the report's accounting checked in every run",
        SCALING_EXPENSIVE.as_nanos(),
        sizes.fork_join_items,
        STEP.as_micros(),
        sizes.overload_items,
        OVERLOAD_STAGE.as_micros(),
        sizes.hierarchical_items,
        sizes.stream_items,
        max = max_workers(),
    )
}

/// Fixed 1, fixed max and scaling(1, max) over the phases; returns the scaling row, for the
/// dynamic target.
fn scaling_rows(config: &Config, sizes: Sizes, rows: &mut Vec<Row>) -> Option<Row> {
    let max = max_workers();
    let [a, b, c] = sizes.phases.map(|d| d.as_millis());
    let workload = format!(
        "pipeline part two: scaling, {SCALING_RATE} items/s, phases cheap {a} ms, {} ns/item {b} ms, \
         cheap {c} ms",
        SCALING_EXPENSIVE.as_nanos()
    );
    let one = "weir-pipeline parallel(1, map) (fixed 1)";
    let fixed = label(format!(
        "weir-pipeline parallel({max}, map) (fixed max, the baseline)"
    ));
    let scaling = label(format!(
        "weir-pipeline parallel(Workers::scaling(1, {max}), map)"
    ));
    let dynamic_wanted = interleave::selected(config, TARGETS, DYNAMIC);
    let wanted = [one, fixed, scaling]
        .iter()
        .any(|name| interleave::selected(config, &workload, name));
    if !wanted && !dynamic_wanted {
        return None;
    }
    let phases = Arc::new(Phases::new(
        SCALING_RATE,
        sizes.phases,
        iterations(SCALING_EXPENSIVE),
    ));
    let runs: [RefCell<Vec<ScaleRun>>; 3] = Default::default();
    let mut group = Group::new(config, workload.clone(), phases.total());
    let entries = [
        (one, true, Workers::new(1)),
        (fixed, false, Workers::new(max)),
        (scaling, true, Workers::scaling(1, max)),
    ];
    for ((name, is_weir, workers), runs) in entries.into_iter().zip(&runs) {
        let phases = Arc::clone(&phases);
        group.add_measured(name, is_weir, move || {
            let run = dynamic::scaling(name, &phases, workers);
            runs.borrow_mut().push(run);
            (run.elapsed, run.usage)
        });
    }
    let mut measured = group.run();
    for row in &mut measured {
        if let Some(i) = entries.iter().position(|e| e.0 == row.implementation) {
            let runs = timed(config, &runs[i]);
            row.note = Some(format!(
                "workers at the end {:.0}, scale events {:.0}",
                median(runs.iter().map(|r| r.workers as f64)),
                median(runs.iter().map(|r| r.scale_events as f64)),
            ));
        }
    }
    let mut dynamic = measured
        .iter()
        .find(|row| row.implementation == scaling)
        .cloned();
    rows.extend(measured);
    if dynamic.is_none() && dynamic_wanted {
        // The target row alone: its own run of the scaling row.
        let mut group = Group::new(config, TARGETS, phases.total());
        group.add_measured(DYNAMIC, true, move || {
            let run = dynamic::scaling(DYNAMIC, &phases, Workers::scaling(1, max));
            (run.elapsed, run.usage)
        });
        dynamic = group.run().pop();
    }
    dynamic
}

/// fork_join of the two steps against both in one stage: makespans beside the ideal.
fn fork_join_rows(config: &Config, sizes: Sizes, rows: &mut Vec<Row>) {
    let workload = format!(
        "pipeline part two: fork_join, {} items, 2 independent steps of {} µs (makespan)",
        sizes.fork_join_items,
        STEP.as_micros()
    );
    if ![FORK_JOIN, ONE_STAGE]
        .iter()
        .any(|name| interleave::selected(config, &workload, name))
    {
        return;
    }
    let steps = Steps {
        items: sizes.fork_join_items,
        iterations: iterations(STEP),
    };
    let sequential = median((0..config.reps.max(3)).map(|_| steps.sequential().as_secs_f64()));
    let ideal = sequential / 2.0;
    let mut group = Group::new(config, workload, 1);
    group.add(FORK_JOIN, true, move || dynamic::fork_join(steps));
    group.add(ONE_STAGE, false, move || dynamic::one_stage(steps));
    rows.extend(group.run().into_iter().map(|mut row| {
        row.metric = Metric::Makespan { ideal };
        row.value = 1.0 / row.value;
        row
    }));
}

/// DropOldest against Block under a 2x overload: p99 latency from the due instant.
fn overload_rows(config: &Config, sizes: Sizes, rows: &mut Vec<Row>) {
    let workload = format!(
        "pipeline part two: overload 2x, {OVERLOAD_RATE}/s into {} µs/item, queue {OVERLOAD_CAPACITY} \
         (result: p99)",
        OVERLOAD_STAGE.as_micros()
    );
    let drop_oldest = "weir-pipeline rate_limit, overflow(DropOldest), map";
    let block = "weir-pipeline rate_limit, overflow(Block), map (the baseline)";
    if ![drop_oldest, block]
        .iter()
        .any(|name| interleave::selected(config, &workload, name))
    {
        return;
    }
    let work = Overload {
        items: sizes.overload_items,
        rate: OVERLOAD_RATE,
        iterations: iterations(OVERLOAD_STAGE),
        capacity: OVERLOAD_CAPACITY,
    };
    let runs: [RefCell<Vec<Survived>>; 2] = Default::default();
    let entries = [
        (drop_oldest, true, Overflow::DropOldest),
        (block, false, Overflow::Block),
    ];
    let mut group = Group::new(config, workload, 1);
    for ((name, is_weir, policy), runs) in entries.into_iter().zip(&runs) {
        let work = work.clone();
        group.add(name, is_weir, move || {
            let run = dynamic::overload(name, &work, policy);
            runs.borrow_mut().push(run);
            Duration::from_nanos(run.from_due.p99 as u64)
        });
    }
    let measured = group.run();
    rows.extend(measured.into_iter().map(|mut row| {
        row.metric = Metric::Latency;
        row.value = 1e9 / row.value;
        if let Some(i) = entries.iter().position(|e| e.0 == row.implementation) {
            let runs = timed(config, &runs[i]);
            let due = median_latencies(runs.iter().map(|r| &r.from_due));
            let taken = median_latencies(runs.iter().map(|r| &r.from_taken));
            row.p99 = Some((due.p50, due.p99));
            row.max = Some(due.max);
            row.note = Some(format!(
                "dropped {:.1}%, p50 {:.2} ms / p99 {:.2} ms from due; p99 {:.2} ms from the \
                 source taking the item",
                100.0 * median(runs.iter().map(Survived::dropped_share)),
                due.p50 / 1e6,
                due.p99 / 1e6,
                taken.p99 / 1e6,
            ));
        }
        row
    }));
}

/// The seed's targets: dynamic (the scaling row, copied), hierarchical, stream.
fn target_rows(config: &Config, sizes: Sizes, dynamic: Option<Row>, rows: &mut Vec<Row>) {
    if let Some(mut row) = dynamic {
        row.workload = TARGETS.to_owned();
        row.implementation = DYNAMIC;
        row.vs_std = None;
        row.vs_best_peer = None;
        row.note = Some(format!(
            "{}: {:.0}K items/s against > {:.0}K",
            verdict(row.value > DYNAMIC_TARGET),
            row.value / 1e3,
            DYNAMIC_TARGET / 1e3
        ));
        rows.push(row);
    }
    if interleave::selected(config, TARGETS, HIERARCHICAL) {
        let items = sizes.hierarchical_items;
        let expected = dynamic::hierarchical_expected(items);
        let mut group = Group::new(config, TARGETS, items);
        group.add(HIERARCHICAL, true, move || {
            dynamic::hierarchical(items, expected)
        });
        rows.extend(group.run().into_iter().map(|mut row| {
            row.note = Some(format!(
                "{}: {:.0}K items/s against > {:.0}K",
                verdict(row.value > HIERARCHICAL_TARGET),
                row.value / 1e3,
                HIERARCHICAL_TARGET / 1e3
            ));
            row
        }));
    }
    if interleave::selected(config, TARGETS, STREAM) {
        let items = sizes.stream_items;
        let runs = RefCell::new(Vec::new());
        let mut group = Group::new(config, TARGETS, items);
        group.add(STREAM, true, || {
            let run = dynamic::stream(items);
            runs.borrow_mut().push(run);
            run.elapsed
        });
        let measured = group.run();
        rows.extend(measured.into_iter().map(|mut row| {
            let runs = timed(config, &runs);
            let throughput = median(runs.iter().map(Survived::throughput));
            let taken = median_latencies(runs.iter().map(|r| &r.from_taken));
            let due = median_latencies(runs.iter().map(|r| &r.from_due));
            row.value = throughput;
            row.p99 = Some((taken.p50, taken.p99));
            row.max = Some(taken.max);
            let met = throughput > STREAM_TARGET && taken.p99 < STREAM_P99_TARGET_NS;
            row.note = Some(format!(
                "{}: {:.2}M items/s delivered (of {:.1}M/s offered) against > {:.1}M, p99 \
                 {:.3} ms against < {:.1} ms; dropped {:.2}%; p99 from due {:.3} ms",
                verdict(met),
                throughput / 1e6,
                STREAM_RATE as f64 / 1e6,
                STREAM_TARGET / 1e6,
                taken.p99 / 1e6,
                STREAM_P99_TARGET_NS / 1e6,
                100.0 * median(runs.iter().map(Survived::dropped_share)),
                due.p99 / 1e6,
            ));
            row
        }));
    }
}
