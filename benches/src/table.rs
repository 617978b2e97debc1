//! The one table the comparison binary prints: plain text, or GitHub markdown.

use weir_bench::cpu::Usage;

use crate::interleave::Spread;

/// What a row's number means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Metric {
    /// Items per second: higher is better.
    Throughput,
    /// Nanoseconds per round trip: lower is better.
    Latency,
    /// Seconds from the first task to the last: lower is better. `ideal` is the least possible
    /// (total work / workers), shown beside it.
    Makespan {
        /// Seconds.
        ideal: f64,
    },
}

/// One measured implementation on one workload.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    /// The workload, e.g. `SPSC per-item`; rows of one workload are compared with each other.
    pub(crate) workload: String,
    /// The implementation's label.
    pub(crate) implementation: &'static str,
    /// How to read `value`.
    pub(crate) metric: Metric,
    /// The median over the timed repetitions: items/s, ns per round trip, or seconds.
    pub(crate) value: f64,
    /// Paired against `std::sync::mpsc`: the median over rounds of this row's speed over
    /// std's in the same round (see [`crate::interleave`]).
    pub(crate) vs_std: Option<Spread>,
    /// Paired against the fastest non-weir implementation of each round.
    pub(crate) vs_best_peer: Option<Spread>,
    /// The median and 99th percentile of single round trips, in ns, for latency rows.
    pub(crate) p99: Option<(f64, f64)>,
    /// The largest latency beside them, in ns, for the rows that measured one (the pipeline's
    /// end-to-end latencies).
    pub(crate) max: Option<f64>,
    /// What the process spent per unit moved, for the rows that measured it.
    pub(crate) cost: Option<Cost>,
    /// A remark printed in the last column (the seed's target and whether the row met it,
    /// the share dropped, the workers at the end), for the rows that have one.
    pub(crate) note: Option<String>,
    /// The cache-line probe (ns per round trip) right before the row.
    pub(crate) probe_before: f64,
    /// The cache-line probe right after the row.
    pub(crate) probe_after: f64,
}

/// What a row cost the process per unit it moved (item or round trip): the medians over its
/// repetitions, each taken on its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cost {
    /// CPU seconds (user + system, every thread) per million units.
    pub(crate) cpu_per_million: f64,
    /// Context switches a thread asked for (it went to sleep), per unit.
    pub(crate) voluntary_per_unit: f64,
    /// Context switches the scheduler forced, per unit.
    pub(crate) forced_per_unit: f64,
}

impl Cost {
    /// The median cost per unit of repetitions that each moved `units`; `None` unless every
    /// repetition measured its use.
    pub(crate) fn median(usages: &[Option<Usage>], units: u64) -> Option<Cost> {
        let usages: Vec<Usage> = usages.iter().copied().collect::<Option<_>>()?;
        if usages.is_empty() {
            return None;
        }
        let units = units.max(1) as f64;
        let median = |value: fn(&Usage) -> f64| {
            let mut values: Vec<f64> = usages.iter().map(value).collect();
            values.sort_unstable_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Some(Cost {
            cpu_per_million: median(|u| u.cpu.as_secs_f64()) / units * 1e6,
            voluntary_per_unit: median(|u| u.voluntary_switches as f64) / units,
            forced_per_unit: median(|u| u.involuntary_switches as f64) / units,
        })
    }
}

/// The name every "vs std" ratio is taken against.
pub(crate) const STD_PREFIX: &str = "std::sync::mpsc";

impl Row {
    fn result(&self) -> String {
        match self.metric {
            Metric::Throughput => format!("{:.1} M/s", self.value / 1e6),
            Metric::Latency => format!("{:.0} ns", self.value),
            Metric::Makespan { ideal } => format!(
                "{:.1} ms ({:.2}x ideal)",
                self.value * 1e3,
                self.value / ideal
            ),
        }
    }
}

/// A paired ratio as a cell: the median, and the range over rounds when there were several;
/// `-` when there is nothing to compare with.
pub(crate) fn ratio(spread: Option<Spread>) -> String {
    match spread {
        Some(Spread { median, min, max }) if min < max => {
            format!("{median:.2}x ({min:.2}-{max:.2})")
        }
        Some(Spread { median, .. }) => format!("{median:.2}x"),
        None => "-".to_owned(),
    }
}

/// Renders the header line and the cells of every row; the cost column only when some row
/// measured its cost.
fn cells(rows: &[Row]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let with_cost = rows.iter().any(|row| row.cost.is_some());
    let with_max = rows.iter().any(|row| row.max.is_some());
    let mut header = vec![
        "workload",
        "implementation",
        "result (median)",
        "vs std::sync::mpsc (paired)",
        "vs best peer (paired)",
        if with_max {
            "round trip p50 / p99, end to end p50 / p99 / max"
        } else {
            "round trip p50 / p99"
        },
        "probe ns (before/after)",
    ];
    if with_cost {
        header.push("CPU s per M (switches per unit)");
    }
    let with_note = rows.iter().any(|row| row.note.is_some());
    if with_note {
        header.push("note");
    }
    let body = rows
        .iter()
        .map(|row| {
            let mut line = vec![
                row.workload.clone(),
                row.implementation.to_owned(),
                row.result(),
                ratio(row.vs_std),
                ratio(row.vs_best_peer),
                match (row.p99, row.max) {
                    (Some((p50, p99)), Some(max)) => format!("{p50:.0} / {p99:.0} / {max:.0} ns"),
                    (Some((p50, p99)), None) => format!("{p50:.0} / {p99:.0} ns"),
                    (None, _) => "-".to_owned(),
                },
                format!("{:.0} / {:.0}", row.probe_before, row.probe_after),
            ];
            if with_cost {
                line.push(row.cost.map_or_else(
                    || "-".to_owned(),
                    |cost| {
                        format!(
                            "{:.3} ({:.2})",
                            cost.cpu_per_million,
                            cost.voluntary_per_unit + cost.forced_per_unit
                        )
                    },
                ));
            }
            if with_note {
                line.push(row.note.clone().unwrap_or_else(|| "-".to_owned()));
            }
            line
        })
        .collect();
    (header, body)
}

/// Whether a column holds numbers (right-aligned): all but the two names and the note.
fn numeric(column: usize, columns: usize, with_note: bool) -> bool {
    column >= 2 && !(with_note && column + 1 == columns)
}

/// The table as aligned plain text.
pub(crate) fn plain(rows: &[Row]) -> String {
    let (header, body) = cells(rows);
    let with_note = header.last() == Some(&"note");
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for line in &body {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |line: &[String]| {
        let mut text = String::new();
        for (column, (cell, width)) in line.iter().zip(&widths).enumerate() {
            if column > 0 {
                text.push_str(" | ");
            }
            let pad = " ".repeat(width - cell.chars().count());
            if numeric(column, columns, with_note) {
                text.push_str(&pad);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&pad);
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = render(&header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&render(&rule).replace(" | ", "-+-"));
    let mut previous: Option<&str> = None;
    for (line, row) in body.iter().zip(rows) {
        if previous.is_some_and(|p| p != row.workload) {
            out.push('\n');
        }
        previous = Some(&row.workload);
        out.push_str(&render(line));
    }
    out
}

/// The table as GitHub markdown.
pub(crate) fn markdown(rows: &[Row]) -> String {
    let (header, body) = cells(rows);
    let with_note = header.last() == Some(&"note");
    let mut out = format!("| {} |\n", header.join(" | "));
    let rule: Vec<&str> = (0..header.len())
        .map(|column| {
            if numeric(column, header.len(), with_note) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for line in body {
        let escaped: Vec<String> = line.iter().map(|cell| cell.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", escaped.join(" | ")));
    }
    out
}
