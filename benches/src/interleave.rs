//! The one runner behind every row of the table: the implementations of a workload take turns.
//!
//! The machine drifts over seconds (the hypervisor moves the vCPUs), so running all the
//! repetitions of one implementation and then all of the next measures them under different
//! conditions. Here every round runs one repetition of every implementation of the workload,
//! starting each round with a different one (round `i` starts at implementation `i mod n`), so
//! no implementation always goes first; the warm-up rounds run the same way, untimed. Each row
//! keeps the median of its own repetitions, and its ratios are *paired*: for every round, the
//! row's time against the others' times in that same round, and the median over the rounds.

use std::time::Duration;

use weir_bench::cpu::Usage;
use weir_bench::probe;

use crate::cli::Config;
use crate::table::{Cost, Metric, Row};

/// What one repetition measured: its time, and what it cost the process when the caller
/// measured that (see [`weir_bench::cpu`]).
type Sample = (Duration, Option<Usage>);

/// One implementation of a workload: how to run one repetition (which checks what it moved),
/// and an optional extra pass run once after the rounds (the ping-pong p50/p99).
struct Entry<'a> {
    implementation: &'static str,
    is_weir: bool,
    rep: Box<dyn FnMut() -> Sample + 'a>,
    extra: Option<Box<dyn FnOnce() -> (f64, f64) + 'a>>,
}

/// The implementations of one workload, all moving the same `units` per repetition.
pub(crate) struct Group<'a> {
    config: &'a Config,
    workload: String,
    units: u64,
    entries: Vec<Entry<'a>>,
    /// The implementation every row's note compares it with, if any.
    reference: Option<&'static str>,
}

impl<'a> Group<'a> {
    /// An empty group for `workload`, whose repetitions each move `units` items (or round
    /// trips; 1 for a makespan).
    pub(crate) fn new(config: &'a Config, workload: impl Into<String>, units: u64) -> Self {
        Group {
            config,
            workload: workload.into(),
            units,
            entries: Vec::new(),
            reference: None,
        }
    }

    /// Compares every row with `implementation` (a row of this group, all of them weir's, say)
    /// in its note: the paired ratio, as the table's other ratios are taken.
    pub(crate) fn compare_with(&mut self, implementation: &'static str) {
        self.reference = Some(implementation);
    }

    /// Adds an implementation, unless `--filter` leaves it out.
    pub(crate) fn add(
        &mut self,
        implementation: &'static str,
        is_weir: bool,
        rep: impl FnMut() -> Duration + 'a,
    ) {
        self.add_with(implementation, is_weir, rep, None::<fn() -> (f64, f64)>);
    }

    /// Adds an implementation whose repetitions also report the process's CPU time and
    /// context switches, unless `--filter` leaves it out. Its row gets a [`Cost`] when every
    /// repetition reported one.
    pub(crate) fn add_measured(
        &mut self,
        implementation: &'static str,
        is_weir: bool,
        rep: impl FnMut() -> Sample + 'a,
    ) {
        self.push(implementation, is_weir, Box::new(rep), None);
    }

    /// Adds an implementation with an extra pass (median and p99 of single round trips, in
    /// ns) run once after the rounds, unless `--filter` leaves it out.
    pub(crate) fn add_with(
        &mut self,
        implementation: &'static str,
        is_weir: bool,
        rep: impl FnMut() -> Duration + 'a,
        extra: Option<impl FnOnce() -> (f64, f64) + 'a>,
    ) {
        let mut rep = rep;
        let extra = extra.map(|pass| Box::new(pass) as Box<dyn FnOnce() -> (f64, f64) + 'a>);
        self.push(
            implementation,
            is_weir,
            Box::new(move || (rep(), None)),
            extra,
        );
    }

    fn push(
        &mut self,
        implementation: &'static str,
        is_weir: bool,
        rep: Box<dyn FnMut() -> Sample + 'a>,
        extra: Option<Box<dyn FnOnce() -> (f64, f64) + 'a>>,
    ) {
        if !selected(self.config, &self.workload, implementation) {
            return;
        }
        self.entries.push(Entry {
            implementation,
            is_weir,
            rep,
            extra,
        });
    }

    /// Runs the warm-up rounds and the timed rounds, interleaved and rotated, with a probe
    /// before the first round and after the last, and returns one row per implementation
    /// (metric [`Metric::Throughput`], value in units per second over the median time).
    pub(crate) fn run(mut self) -> Vec<Row> {
        let n = self.entries.len();
        if n == 0 {
            return Vec::new();
        }
        let (warmups, reps) = (self.config.warmups, self.config.reps.max(1));
        eprint!("{:<30} {n} implementation(s), rounds: ", self.workload);
        let probe_before = probe::probe(self.config.probe_round_trips);
        // times[i][r]: implementation i's time in timed round r.
        let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); n];
        // usages[i][r]: what implementation i's repetition in timed round r cost, if measured.
        let mut usages: Vec<Vec<Option<Usage>>> = vec![Vec::with_capacity(reps); n];
        for round in 0..warmups + reps {
            for k in 0..n {
                let i = (round + k) % n;
                let (time, usage) = (self.entries[i].rep)();
                if round >= warmups {
                    times[i].push(time);
                    usages[i].push(usage);
                }
            }
            eprint!("{}", if round < warmups { 'w' } else { '.' });
        }
        let extras: Vec<Option<(f64, f64)>> = self
            .entries
            .iter_mut()
            .map(|entry| entry.extra.take().map(|pass| pass()))
            .collect();
        let probe_after = probe::probe(self.config.probe_round_trips);
        eprintln!("  probe {probe_before:.0}/{probe_after:.0} ns");

        let is_weir: Vec<bool> = self.entries.iter().map(|entry| entry.is_weir).collect();
        let std = self
            .entries
            .iter()
            .position(|entry| entry.implementation.starts_with(crate::table::STD_PREFIX));
        let paired = Paired::new(&times, &is_weir, std);
        let reference = self.reference.and_then(|name| {
            let index = self
                .entries
                .iter()
                .position(|entry| entry.implementation == name)?;
            Some((name, Paired::against(&times, index)))
        });
        self.entries
            .iter()
            .zip(extras)
            .enumerate()
            .map(|(i, (entry, p99))| {
                let mut sorted = times[i].clone();
                sorted.sort_unstable();
                let median = sorted[sorted.len() / 2];
                let cost = Cost::median(&usages[i], self.units);
                eprintln!(
                    "  {:<80} median {:>9.3} ms  (min {:.3}, max {:.3}){}",
                    entry.implementation,
                    median.as_secs_f64() * 1e3,
                    sorted[0].as_secs_f64() * 1e3,
                    sorted[sorted.len() - 1].as_secs_f64() * 1e3,
                    cost.map_or_else(String::new, |cost| format!(
                        "  cpu {:.3} s/M, {:.3} voluntary + {:.3} forced switches per unit",
                        cost.cpu_per_million, cost.voluntary_per_unit, cost.forced_per_unit
                    )),
                );
                Row {
                    workload: self.workload.clone(),
                    implementation: entry.implementation,
                    metric: Metric::Throughput,
                    value: self.units as f64 / median.as_secs_f64().max(f64::MIN_POSITIVE),
                    vs_std: paired.vs_std[i],
                    vs_best_peer: paired.vs_best_peer[i],
                    p99,
                    max: None,
                    cost,
                    note: reference.as_ref().map(|(name, ratios)| {
                        format!("{} vs {name} (paired)", crate::table::ratio(ratios[i]))
                    }),
                    probe_before,
                    probe_after,
                }
            })
            .collect()
    }
}

/// Whether `--filter` keeps the row.
pub(crate) fn selected(config: &Config, workload: &str, implementation: &str) -> bool {
    config
        .filter
        .as_ref()
        .is_none_or(|filter| format!("{workload} {implementation}").contains(filter.as_str()))
}

/// The paired ratios of every implementation of a workload: per round, the row's speed (the
/// inverse of its time) over the other's speed in that round, then the median over rounds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Paired {
    /// Against `std::sync::mpsc` (`None` when it did not run).
    pub(crate) vs_std: Vec<Option<Spread>>,
    /// Against the fastest non-weir implementation of each round (`None` without peers).
    pub(crate) vs_best_peer: Vec<Option<Spread>>,
}

/// The median of per-round ratios, with the smallest and largest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Spread {
    fn of(mut ratios: Vec<f64>) -> Option<Self> {
        ratios.retain(|ratio| ratio.is_finite());
        if ratios.is_empty() {
            return None;
        }
        ratios.sort_unstable_by(f64::total_cmp);
        let len = ratios.len();
        // The median of an even count is the mean of the middle two.
        let median = if len % 2 == 1 {
            ratios[len / 2]
        } else {
            (ratios[len / 2 - 1] + ratios[len / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: ratios[0],
            max: ratios[len - 1],
        })
    }
}

impl Paired {
    /// `times[i][r]` is implementation `i`'s time in round `r`; `std` is the index of
    /// `std::sync::mpsc`, if it ran.
    pub(crate) fn new(times: &[Vec<Duration>], is_weir: &[bool], std: Option<usize>) -> Self {
        let rounds = times.iter().map(Vec::len).min().unwrap_or(0);
        let secs = |i: usize, r: usize| times[i][r].as_secs_f64();
        // Speed over speed: the other's time over this one's time.
        let ratio = |i: usize, other: f64, r: usize| other / secs(i, r);
        let vs_std = std.map_or_else(|| vec![None; times.len()], |std| Self::against(times, std));
        let vs_best_peer = (0..times.len())
            .map(|i| {
                let best = |r: usize| {
                    (0..times.len())
                        .filter(|&p| !is_weir[p])
                        .map(|p| secs(p, r))
                        .reduce(f64::min)
                };
                let ratios: Option<Vec<f64>> =
                    (0..rounds).map(|r| Some(ratio(i, best(r)?, r))).collect();
                Spread::of(ratios?)
            })
            .collect();
        Paired {
            vs_std,
            vs_best_peer,
        }
    }

    /// Every implementation's paired ratio against implementation `reference`: per round, the
    /// reference's time over the row's, then the median over the rounds.
    pub(crate) fn against(times: &[Vec<Duration>], reference: usize) -> Vec<Option<Spread>> {
        let rounds = times.iter().map(Vec::len).min().unwrap_or(0);
        let secs = |i: usize, r: usize| times[i][r].as_secs_f64();
        (0..times.len())
            .map(|i| {
                Spread::of(
                    (0..rounds)
                        .map(|r| secs(reference, r) / secs(i, r))
                        .collect(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn ratios_pair_each_round_and_take_the_median() {
        // weir, std, peer: the machine slows down 4x in round 2, for everyone.
        let times = vec![ms(&[10, 40, 10]), ms(&[20, 80, 20]), ms(&[12, 40, 8])];
        let paired = Paired::new(&times, &[true, false, false], Some(1));
        let weir = paired.vs_best_peer[0].unwrap();
        // Round by round: 12/10, 40/40, 8/10 -> median 1.0.
        assert_eq!(weir.median, 1.0);
        assert_eq!((weir.min, weir.max), (0.8, 1.2));
        assert_eq!(paired.vs_std[0].unwrap().median, 2.0);
        // A peer against the best peer (itself included) is at most 1.
        assert!(paired.vs_best_peer[2].unwrap().max <= 1.0);
        // No std, no ratio.
        assert_eq!(
            Paired::new(&times, &[true, false, false], None).vs_std[0],
            None
        );
    }

    #[test]
    fn no_peers_no_peer_ratio() {
        let times = vec![ms(&[10, 11])];
        let paired = Paired::new(&times, &[true], None);
        assert_eq!(paired.vs_best_peer, vec![None]);
    }

    #[test]
    fn even_counts_take_the_middle_mean() {
        let spread = Spread::of(vec![1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(spread.median, 2.5);
    }
}
