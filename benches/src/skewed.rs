//! Skewed work: many tasks whose costs vary 100x, run on [`WORKERS`] workers; the result is the
//! makespan (first task handed over to last task finished), beside the ideal, total work /
//! workers.
//!
//! A task's cost is a number of *units* of a calibrated busy loop ([`calibrate`]), fixed by its
//! index alone ([`cost_of`]): one task in [`HEAVY_ONE_IN`] (chosen by a hash of the index, so
//! without a period a scheduler could fall into step with) costs [`HEAVY_UNITS`], the others 1.
//! Every implementation runs the same tasks through the same [`Work::run`], and counts what it
//! ran per worker in a [`Tally`]; the run stops with a message unless every task ran exactly
//! once (count and units both add up).
//!
//! An implementation is a [`Scheduler`]: it gets the tasks, runs them on its workers however it
//! likes, and returns the makespan. The baselines are rayon (a 2-thread pool,
//! `par_iter().for_each`) and crossbeam-deque (an `Injector` fed by a submitting thread, two
//! `Worker`s and their `Stealer`s, the usual find-task loop). weir's distributors
//! ([`WeirRoundRobin`], [`WeirLeastLoaded`]) are fed by a submitting thread the same way, each
//! worker popping from its own weir ring; weir's work-stealing [`WeirPool`] is
//! `Pool::new(2).run(tasks, f)`, fed by the calling thread.

use std::cell::Cell;
use std::hint::black_box;
use std::iter;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use crossbeam_utils::CachePadded;
use weir_mpmc::distribute::{Distributor, LeastLoaded, Pool, RoundRobin};

use crate::pin::{pin_current, run_group, Job, Pinning};
use crate::wait::wait_for;
use crate::{fail, CAPACITY};

/// Worker threads per run.
pub const WORKERS: usize = 2;
/// One task in this many is heavy.
pub const HEAVY_ONE_IN: u64 = 10;
/// Units of work in a heavy task (a light one is 1).
pub const HEAVY_UNITS: u8 = 100;

/// The cost in units of task `index`: [`HEAVY_UNITS`] for one index in [`HEAVY_ONE_IN`], picked
/// by a fixed hash (splitmix64's finaliser), else 1. The same for every run and machine.
pub fn cost_of(index: u64) -> u8 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z.is_multiple_of(HEAVY_ONE_IN) {
        HEAVY_UNITS
    } else {
        1
    }
}

/// The busy loop: `iterations` dependent multiply-adds the optimiser cannot fold away (also
/// the per-item work of [`crate::pipeline_dynamic`]).
#[inline(always)]
pub fn spin(iterations: u64) -> u64 {
    let mut x = iterations;
    for _ in 0..iterations {
        x = black_box(x.wrapping_mul(0x5851_F42D_4C95_7F2D).wrapping_add(1));
    }
    x
}

/// How many iterations of the busy loop take `unit` on the calling thread: the median of a few
/// timed runs.
pub fn calibrate(unit: Duration) -> u64 {
    const PROBE: u64 = 2_000_000;
    let mut per_iteration: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            black_box(spin(PROBE));
            start.elapsed().as_secs_f64() / PROBE as f64
        })
        .collect();
    per_iteration.sort_by(f64::total_cmp);
    let iterations = unit.as_secs_f64() / per_iteration[per_iteration.len() / 2];
    (iterations.round() as u64).max(1)
}

/// A set of tasks and the size of a unit.
#[derive(Clone, Debug)]
pub struct Work {
    costs: Vec<u8>,
    iterations_per_unit: u64,
    total_units: u64,
}

impl Work {
    /// `tasks` tasks costed by [`cost_of`], a unit being `iterations_per_unit` iterations of the
    /// busy loop (see [`calibrate`]).
    pub fn new(tasks: usize, iterations_per_unit: u64) -> Self {
        let costs: Vec<u8> = (0..tasks as u64).map(cost_of).collect();
        let total_units = costs.iter().map(|&cost| u64::from(cost)).sum();
        Work {
            costs,
            iterations_per_unit,
            total_units,
        }
    }

    /// Every task's cost in units, in order; a task is handed around as its cost.
    pub fn costs(&self) -> &[u8] {
        &self.costs
    }

    /// The sum of all costs.
    pub fn total_units(&self) -> u64 {
        self.total_units
    }

    /// Runs a task of `cost` units on worker `worker`, counting it in `tally`.
    #[inline(always)]
    pub fn run(&self, cost: u8, worker: usize, tally: &Tally) {
        black_box(spin(u64::from(cost) * self.iterations_per_unit));
        tally.add(worker, cost);
    }
}

/// Tasks and units run by each worker: one cache line per worker, written only by its worker.
#[derive(Debug)]
pub struct Tally {
    workers: Vec<CachePadded<[AtomicU64; 2]>>,
}

impl Tally {
    /// Zero counts for `workers` workers.
    pub fn new(workers: usize) -> Self {
        Tally {
            workers: (0..workers)
                .map(|_| CachePadded::new([AtomicU64::new(0), AtomicU64::new(0)]))
                .collect(),
        }
    }

    /// Counts one task of `cost` units on `worker`. Only that worker may call this (a load and a
    /// store, no read-modify-write: the line stays in its core's cache).
    #[inline(always)]
    fn add(&self, worker: usize, cost: u8) {
        let [tasks, units] = &*self.workers[worker];
        tasks.store(tasks.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        units.store(
            units.load(Ordering::Relaxed) + u64::from(cost),
            Ordering::Relaxed,
        );
    }

    /// Tasks run so far by all workers together.
    pub fn tasks(&self) -> u64 {
        self.workers
            .iter()
            .map(|worker| worker[0].load(Ordering::Relaxed))
            .sum()
    }

    /// Stops the run unless exactly the tasks of `work` ran.
    pub fn check(&self, name: &str, work: &Work) {
        let units: u64 = self
            .workers
            .iter()
            .map(|worker| worker[1].load(Ordering::Relaxed))
            .sum();
        let (tasks, expected) = (self.tasks(), work.costs().len() as u64);
        if tasks != expected || units != work.total_units() {
            fail(&format!(
                "{name}: ran {tasks} tasks of {units} units, expected {expected} of {}",
                work.total_units()
            ));
        }
    }
}

/// A way to run every task of a [`Work`] on [`WORKERS`] workers.
pub trait Scheduler {
    /// The implementation's name, as printed in a table row.
    const NAME: &'static str;
    /// A short name without spaces or slashes, for criterion's benchmark ids.
    const ID: &'static str;
    /// Whether this is weir's own implementation (and so not a peer).
    const IS_WEIR: bool = false;

    /// Runs every task of `work` once, on worker `w` calling `work.run(cost, w, tally)` for `w`
    /// in `0..WORKERS`, and returns the makespan: from handing over the first task to the end
    /// of the last (thread start-up excluded where the implementation allows).
    fn run(work: &Work, tally: &Tally) -> Duration;
}

/// Runs `S` over `work` and returns its makespan, after checking that every task ran once.
pub fn makespan<S: Scheduler>(work: &Work) -> Duration {
    let tally = Tally::new(WORKERS);
    let makespan = S::run(work, &tally);
    tally.check(S::NAME, work);
    makespan
}

/// Runs every task of `work` on one thread (pinned to the first core) and returns the time:
/// the total work, of which [`WORKERS`] workers need at least a [`WORKERS`]th.
pub fn sequential(work: &Work) -> Duration {
    let tally = Tally::new(1);
    let job: Job<'_, Duration> = Box::new(|| {
        let start = Instant::now();
        for &cost in work.costs() {
            work.run(cost, 0, &tally);
        }
        start.elapsed()
    });
    let elapsed = run_group(Pinning::Alternate, vec![job])[0];
    tally.check("sequential", work);
    elapsed
}

/// rayon: a `ThreadPool` of [`WORKERS`] threads (pinned to the two cores) and
/// `par_iter().for_each` over the costs.
#[derive(Debug)]
pub enum Rayon {}

impl Scheduler for Rayon {
    const NAME: &'static str = "rayon ThreadPool(2), par_iter().for_each";
    const ID: &'static str = "rayon";

    fn run(work: &Work, tally: &Tally) -> Duration {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(WORKERS)
            .start_handler(pin_current)
            .build()
            .unwrap_or_else(|err| fail(&format!("rayon: {err}")));
        // Wake both threads before the clock starts.
        pool.broadcast(|_| ());
        let start = Instant::now();
        pool.install(|| {
            work.costs().par_iter().for_each(|&cost| {
                let worker = rayon::current_thread_index().unwrap_or(0);
                work.run(cost, worker, tally);
            });
        });
        start.elapsed()
    }
}

/// crossbeam-deque: a submitting thread pushes every task into an `Injector`; [`WORKERS`]
/// workers, each with a FIFO `Worker` deque, take from their own deque, else a batch from the
/// injector, else steal from the others (the find-task loop of crossbeam-deque's docs).
#[derive(Debug)]
pub enum CrossbeamDeque {}

/// What a thread of a [`CrossbeamDeque`] run hands back: when it started and, for a worker,
/// when it saw every task done. The worker that ran the last task sees that right after it;
/// the other may see it a yield later, so the earliest of these is the end.
type Span = (Instant, Option<Instant>);

impl Scheduler for CrossbeamDeque {
    const NAME: &'static str = "crossbeam-deque Injector + 2 Workers/Stealers";
    const ID: &'static str = "crossbeam-deque";

    fn run(work: &Work, tally: &Tally) -> Duration {
        let injector = Injector::new();
        let locals: Vec<Worker<u8>> = (0..WORKERS).map(|_| Worker::new_fifo()).collect();
        let stealers: Vec<Stealer<u8>> = locals.iter().map(Worker::stealer).collect();
        let total = work.costs().len() as u64;
        let (injector, stealers) = (&injector, &stealers[..]);
        let mut jobs: Vec<Job<'_, Span>> = locals
            .into_iter()
            .enumerate()
            .map(|(index, local)| -> Job<'_, Span> {
                Box::new(move || {
                    let start = Instant::now();
                    loop {
                        // Done only once every task has run: an empty injector and empty
                        // deques can still mean a batch in transit between them.
                        let task = wait_for(|| {
                            if let Some(cost) = find_task(&local, injector, stealers) {
                                return Some(Some(cost));
                            }
                            (tally.tasks() == total).then_some(None)
                        });
                        match task {
                            Some(cost) => work.run(cost, index, tally),
                            None => break,
                        }
                    }
                    (start, Some(Instant::now()))
                })
            })
            .collect();
        jobs.push(Box::new(move || {
            let start = Instant::now();
            for &cost in work.costs() {
                injector.push(cost);
            }
            (start, None)
        }));
        makespan_of(&run_group(Pinning::Alternate, jobs))
    }
}

/// The span of a run whose threads each hand back a [`Span`]: from the earliest start to the
/// earliest end (see [`Span`]).
fn makespan_of(spans: &[Span]) -> Duration {
    let start = spans.iter().map(|&(start, _)| start).min();
    let end = spans.iter().filter_map(|&(_, end)| end).min();
    match (start, end) {
        (Some(start), Some(end)) => end.saturating_duration_since(start),
        _ => Duration::ZERO,
    }
}

/// A weir distributor over one weir ring (of [`CAPACITY`]) per worker: a submitting thread
/// sends every task through the distributor that `make` builds over the rings' producers
/// (waiting whenever every ring is full), and each worker pops from its own ring.
fn run_distributed<D: Distributor<u8> + Send>(
    work: &Work,
    tally: &Tally,
    make: impl FnOnce(Vec<weir_ring::Producer<u8>>) -> D,
) -> Duration {
    let (producers, consumers): (Vec<_>, Vec<_>) =
        (0..WORKERS).map(|_| weir_ring::channel(CAPACITY)).unzip();
    let mut distributor = make(producers);
    let total = work.costs().len() as u64;
    let mut jobs: Vec<Job<'_, Span>> = consumers
        .into_iter()
        .enumerate()
        .map(|(index, mut ring)| -> Job<'_, Span> {
            Box::new(move || {
                let start = Instant::now();
                loop {
                    let task = wait_for(|| {
                        if let Some(cost) = ring.try_pop() {
                            return Some(Some(cost));
                        }
                        (tally.tasks() == total).then_some(None)
                    });
                    match task {
                        Some(cost) => work.run(cost, index, tally),
                        None => break,
                    }
                }
                (start, Some(Instant::now()))
            })
        })
        .collect();
    jobs.push(Box::new(move || {
        let start = Instant::now();
        for &cost in work.costs() {
            let mut task = cost;
            wait_for(|| match distributor.send(task) {
                Ok(_) => Some(()),
                Err(full) => {
                    task = full.into_inner();
                    None
                }
            });
        }
        (start, None)
    }));
    makespan_of(&run_group(Pinning::Alternate, jobs))
}

/// weir's [`RoundRobin`] over one ring per worker (a full ring is skipped for the next).
#[derive(Debug)]
pub enum WeirRoundRobin {}

impl Scheduler for WeirRoundRobin {
    const NAME: &'static str = "weir-mpmc RoundRobin over 2 weir rings";
    const ID: &'static str = "weir-round-robin";
    const IS_WEIR: bool = true;

    fn run(work: &Work, tally: &Tally) -> Duration {
        run_distributed(work, tally, RoundRobin::new)
    }
}

/// weir's [`LeastLoaded`] (the shorter of two targets; with two workers, the shorter ring).
#[derive(Debug)]
pub enum WeirLeastLoaded {}

impl Scheduler for WeirLeastLoaded {
    const NAME: &'static str = "weir-mpmc LeastLoaded over 2 weir rings";
    const ID: &'static str = "weir-least-loaded";
    const IS_WEIR: bool = true;

    fn run(work: &Work, tally: &Tally) -> Duration {
        run_distributed(work, tally, |rings| LeastLoaded::new(rings, 1))
    }
}

/// weir's work-stealing [`Pool`] of 2 workers (its own threads, not pinned), fed by the calling
/// thread through its injector. Its closure is not told which worker runs it, so each worker
/// thread takes a tally slot the first time it runs a task of a run (see [`Slots`]).
#[derive(Debug)]
pub enum WeirPool {}

impl Scheduler for WeirPool {
    const NAME: &'static str = "weir-mpmc Pool(2) (work-stealing), run";
    const ID: &'static str = "weir-pool";
    const IS_WEIR: bool = true;

    fn run(work: &Work, tally: &Tally) -> Duration {
        let slots = Slots::new(Self::NAME);
        let pool = Pool::new(WORKERS);
        let start = Instant::now();
        let report = pool.run(work.costs().iter().copied(), |cost| {
            work.run(cost, slots.current(), tally);
        });
        let elapsed = start.elapsed();
        if report.items() != work.costs().len() as u64 {
            fail(&format!(
                "{}: the pool reports {} items",
                Self::NAME,
                report.items()
            ));
        }
        elapsed
    }
}

/// Worker indices for implementations that do not tell their closure which worker runs it
/// (weir's [`Pool`], the pipelines' fan-out): each thread takes the next free index the first
/// time it runs a task of a run. More than [`WORKERS`] threads running tasks of one run stops
/// the run with a message (two threads sharing a [`Tally`] slot would lose counts).
#[derive(Debug)]
pub struct Slots {
    name: &'static str,
    run: u64,
    next: AtomicUsize,
}

impl Slots {
    /// Fresh indices for one run of implementation `name`.
    pub fn new(name: &'static str) -> Self {
        /// Run ids: every `Slots` gets its own, so that a thread kept from an earlier run
        /// takes a new index.
        static RUNS: AtomicU64 = AtomicU64::new(1);
        Slots {
            name,
            run: RUNS.fetch_add(1, Ordering::Relaxed),
            next: AtomicUsize::new(0),
        }
    }

    /// The calling thread's worker index in this run.
    #[inline(always)]
    pub fn current(&self) -> usize {
        thread_local! {
            /// The run this thread last took an index in, and that index.
            static SLOT: Cell<(u64, usize)> = const { Cell::new((0, 0)) };
        }
        SLOT.with(|slot| {
            let (run, worker) = slot.get();
            if run == self.run {
                return worker;
            }
            let worker = self.next.fetch_add(1, Ordering::Relaxed);
            if worker >= WORKERS {
                fail(&format!(
                    "{}: more than {WORKERS} threads ran tasks",
                    self.name
                ));
            }
            slot.set((self.run, worker));
            worker
        })
    }
}

/// The next task for the worker owning `local`: its own deque first, then a batch from the
/// injector, then one stolen from another worker; retried while any steal says `Retry`.
#[inline(always)]
fn find_task<T>(local: &Worker<T>, injector: &Injector<T>, stealers: &[Stealer<T>]) -> Option<T> {
    local.pop().or_else(|| {
        iter::repeat_with(|| {
            injector
                .steal_batch_and_pop(local)
                .or_else(|| stealers.iter().map(Stealer::steal).collect::<Steal<T>>())
        })
        .find(|steal| !steal.is_retry())
        .and_then(Steal::success)
    })
}
