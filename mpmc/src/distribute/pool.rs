//! The worker pool: a closure run over a stream of items on N threads, fed through the
//! work-stealing distributor.

use std::panic;
use std::thread;
use std::vec::Vec;

use super::run_state::{Phase, RunState};
use super::sleep::Sleepers;
use super::{Distributor, Local, Source, TargetsError, WorkStealing};
use crate::sync::Backoff;
#[cfg(loom)]
use crate::sync::{spawn, Arc};
use crate::Full;

/// Runs a closure over a stream of items on N worker threads, and returns when every item has
/// been handled.
///
/// The calling thread feeds the items into a [`WorkStealing`] injector; each worker runs its
/// own deque, then takes batches from the injector, then steals from its siblings, so items of
/// very uneven cost still spread over all workers. A worker with nothing to do spins briefly,
/// then parks (no thread spins while idle, so a pool may have more workers than cores), and is
/// unparked when new work arrives. A full injector makes the feeder wait (spinning, then
/// yielding); nothing is dropped.
///
/// The threads are scoped to each [`run`](Pool::run): the closure and the items may borrow from
/// the caller's stack.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use weir_mpmc::distribute::Pool;
///
/// let sum = AtomicU64::new(0);
/// let report = Pool::new(4).run(1..=1000u64, |n| {
///     sum.fetch_add(n * n, Ordering::Relaxed);
/// });
/// assert_eq!(sum.into_inner(), (1..=1000).map(|n| n * n).sum());
/// assert_eq!(report.items(), 1000);
/// assert_eq!(report.workers.len(), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Pool {
    workers: usize,
    local_capacity: usize,
    injector_capacity: usize,
}

/// What a [`Pool::run`] did, worker by worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// One entry per worker, in the workers' order.
    pub workers: Vec<WorkerReport>,
}

/// What one worker did during a [`Pool::run`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Items it ran the closure on.
    pub items: u64,
    /// Successful steals from siblings' deques (each moved a batch of up to half their items).
    pub steals: u64,
    /// Times it parked, having found nothing to do.
    pub parks: u64,
}

impl Report {
    /// Items handled by all workers together.
    pub fn items(&self) -> u64 {
        self.workers.iter().map(|w| w.items).sum()
    }
}

/// Deque and injector sizes, when not chosen with [`Pool::capacities`].
const LOCAL_CAPACITY: usize = 256;
const INJECTOR_CAPACITY: usize = 1024;

impl Pool {
    /// A pool of `workers` threads.
    ///
    /// # Panics
    ///
    /// If `workers` is 0; [`try_new`](Pool::try_new) returns the error instead.
    #[track_caller]
    pub fn new(workers: usize) -> Self {
        match Self::try_new(workers) {
            Ok(pool) => pool,
            Err(err) => panic!("weir_mpmc::distribute::Pool::new: {err}"),
        }
    }

    /// A pool of `workers` threads.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `workers` is 0.
    pub fn try_new(workers: usize) -> Result<Self, TargetsError> {
        if workers == 0 {
            return Err(TargetsError::NoTargets);
        }
        Ok(Pool {
            workers,
            local_capacity: LOCAL_CAPACITY,
            injector_capacity: INJECTOR_CAPACITY,
        })
    }

    /// Sets the capacity of each worker's deque (default 256) and of the injector (default
    /// 1024). Small values are for tests; they do not limit how many items a run can take.
    ///
    /// # Panics
    ///
    /// If either is 0.
    #[track_caller]
    #[must_use = "the pool is returned with the capacities set; an ignored one is dropped"]
    pub fn capacities(mut self, local: usize, injector: usize) -> Self {
        assert!(
            local > 0 && injector > 0,
            "weir_mpmc::distribute::Pool::capacities: capacities must be at least 1"
        );
        self.local_capacity = local;
        self.injector_capacity = injector;
        self
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `f` on every item of `items`, on the pool's workers, and returns when all are done.
    ///
    /// Each item is handled exactly once, by one worker; in no particular order. The iterator
    /// runs on the calling thread.
    ///
    /// # Panics
    ///
    /// If `f` panics (on any worker), or the iterator panics: the feeding stops, every worker
    /// stops after its current item, the items not yet handled are dropped, and once all the
    /// threads have stopped the first panic is resumed on the calling thread with its own
    /// payload. Also if a deque or the injector of the chosen capacity cannot be allocated.
    ///
    /// # Examples
    ///
    /// A panic in the closure reaches the caller:
    ///
    /// ```
    /// use weir_mpmc::distribute::Pool;
    ///
    /// let result = std::panic::catch_unwind(|| {
    ///     Pool::new(2).run(0..100, |i| assert_ne!(i, 42, "item 42 is cursed"));
    /// });
    /// let payload = result.unwrap_err();
    /// assert!(payload.downcast_ref::<String>().unwrap().contains("item 42 is cursed"));
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn run<I, F>(&self, items: I, f: F) -> Report
    where
        I: IntoIterator,
        I::Item: Send,
        F: Fn(I::Item) + Sync,
    {
        let (sender, locals, state) = self.start();
        let (state, f) = (&state, &f);
        thread::scope(|s| {
            let handles: Vec<_> = locals
                .into_iter()
                .map(|local| s.spawn(move || work(local, state, f)))
                .collect();
            feed(sender, items, state);
            collect(handles.into_iter().map(|handle| handle.join()))
        })
    }

    /// [`run`](Pool::run) for the loom models: the same feeder, workers and reports, on loom's
    /// threads, which cannot borrow from the caller (loom has no scoped threads), hence the
    /// `'static` bounds.
    #[cfg(loom)]
    #[doc(hidden)]
    #[track_caller]
    pub fn run<I, F>(&self, items: I, f: F) -> Report
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) + Send + Sync + 'static,
    {
        let (sender, locals, state) = self.start();
        let shared = Arc::new((state, f));
        let handles: Vec<_> = locals
            .into_iter()
            .map(|local| {
                let shared = Arc::clone(&shared);
                spawn(move || work(local, &shared.0, &shared.1))
            })
            .collect();
        feed(sender, items, &shared.0);
        collect(handles.into_iter().map(|handle| handle.join()))
    }

    /// A run's distributor and shared state.
    #[track_caller]
    fn start<T>(&self) -> (WorkStealing<T>, Vec<Local<T>>, State) {
        let (sender, locals) = match WorkStealing::try_new(
            self.workers,
            self.local_capacity,
            self.injector_capacity,
        ) {
            Ok(made) => made,
            Err(err) => panic!("weir_mpmc::distribute::Pool::run: {err}"),
        };
        let state = State {
            sleepers: Sleepers::new(self.workers),
            room: Sleepers::new(1),
            run: RunState::new(),
        };
        (sender, locals, state)
    }
}

/// The report of a run from its workers' ends, in order; or the first worker's panic, resumed.
fn collect(ends: impl Iterator<Item = thread::Result<WorkerReport>>) -> Report {
    let mut first_panic = None;
    let workers = ends
        .filter_map(|end| match end {
            Ok(report) => Some(report),
            Err(payload) => {
                first_panic.get_or_insert(payload);
                None
            }
        })
        .collect();
    if let Some(payload) = first_panic {
        panic::resume_unwind(payload);
    }
    Report { workers }
}

/// What the feeder and the workers share, beside the distributor.
struct State {
    sleepers: Sleepers,
    /// The feeder, asleep while the injector is full: the one slot of its own `Sleepers`,
    /// woken by a worker that has taken items out of the injector.
    room: Sleepers,
    /// Running, done (every item is in the injector) or stopped (a panic).
    run: RunState,
}

impl State {
    /// Ends the run (unless it has already been stopped) and wakes every worker.
    fn finish(&self, how: Phase) {
        if how == Phase::Stopped {
            self.run.stop();
        } else {
            self.run.done();
        }
        self.sleepers.wake_all();
        self.room.wake_all();
    }

    fn finished(&self) -> Phase {
        self.run.phase()
    }
}

/// Ends the run when dropped, normally or by a panic, so that no worker is left parked.
struct Finish<'a>(&'a State);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.finish(if thread::panicking() {
            Phase::Stopped
        } else {
            Phase::Done
        });
    }
}

/// Stops the run if the worker holding it unwinds.
struct StopOnPanic<'a>(&'a State);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.finish(Phase::Stopped);
        }
    }
}

/// The calling thread's part: every item into the injector, waking a worker after each.
fn feed<I: IntoIterator>(mut sender: WorkStealing<I::Item>, items: I, state: &State) {
    let _finish = Finish(state);
    state.room.register(0);
    for item in items {
        let mut item = item;
        let backoff = Backoff::new();
        loop {
            match sender.send(item) {
                Ok(_) => break,
                Err(Full(back)) => item = back,
            }
            if state.finished() == Phase::Stopped {
                return;
            }
            // Full: the workers are awake (none parks while the injector has items), so wait
            // for them to make room: briefly by spinning and yielding, then asleep, so that a
            // feeder that outpaces its workers does not take a core from them. A worker that
            // takes items out of the injector wakes it (see `run_one`).
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            state.room.announce(0);
            // One more try, now that any worker that makes room will see the announcement.
            match sender.send(item) {
                Ok(_) => {
                    state.room.cancel(0);
                    break;
                }
                Err(Full(back)) => item = back,
            }
            if state.finished() == Phase::Stopped {
                state.room.cancel(0);
                return;
            }
            state.room.sleep(0);
        }
        state.sleepers.wake_one();
        if state.finished() == Phase::Stopped {
            return;
        }
    }
}

/// One worker: run items until the stream has ended and nothing is left anywhere.
fn work<T, F: Fn(T)>(mut local: Local<T>, state: &State, f: &F) -> WorkerReport {
    let _stop = StopOnPanic(state);
    let me = local.index();
    state.sleepers.register(me);
    let mut report = WorkerReport::default();
    let mut idle = Backoff::new();
    loop {
        // Read before looking: if this says `DONE`, every item was pushed before it, so a look
        // that finds nothing afterwards means there is nothing left.
        let finished = state.finished();
        if finished == Phase::Stopped {
            break;
        }
        if let Some(found) = local.find() {
            run_one(&local, state, f, found, &mut report);
            idle = Backoff::new();
            continue;
        }
        if finished == Phase::Done {
            break;
        }
        if !idle.is_completed() {
            idle.snooze();
            continue;
        }
        state.sleepers.announce(me);
        // One more look, now that any waker will see the announcement (see module `sleep`).
        if let Some(found) = local.find() {
            state.sleepers.cancel(me);
            run_one(&local, state, f, found, &mut report);
            idle = Backoff::new();
            continue;
        }
        if state.finished() != Phase::Running {
            state.sleepers.cancel(me);
            continue;
        }
        report.parks += 1;
        state.sleepers.sleep(me);
    }
    report
}

/// Runs `f` on an item `local` found, counting it.
fn run_one<T, F: Fn(T)>(
    local: &Local<T>,
    state: &State,
    f: &F,
    (item, source): (T, Source),
    report: &mut WorkerReport,
) {
    report.items += 1;
    if source == Source::Injector {
        // Room in the injector: wake the feeder if it sleeps on a full one.
        state.room.wake_one();
    }
    if source != Source::Local {
        report.steals += u64::from(matches!(source, Source::Sibling(_)));
        // A batch came with the item: wake a sleeping sibling to share it.
        if !local.is_empty() {
            state.sleepers.wake_one();
        }
    }
    f(item);
}
