//! Starting a run: each stage, asked by the stage after it for an input queue of some shape,
//! asks the stage before it for its own, starts its threads, and hands back the queue's far
//! end. The source starts first and the sink last.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use weir_backpressure::overflow::{Overflow, OverflowStats};

use crate::control::Control;
use crate::error::{panic_message, ErrorKind};

use crate::deal::{deal, Staffing, TurnLog};
use crate::lend::{Borrowing, Desk};
use crate::link::{
    mpmc_channel, spsc_channel, Inlet, MpmcReceiver, Outlet, Overflowing, SpscReceiver,
};
use crate::marks::{marked, marked_shared, Marked};
use crate::metrics::StageMetrics;
use crate::op::Identity;
use crate::room::Awake;
use crate::source::Pulled;
use crate::stage::{run_stage, Context};
use crate::sync::stats::{AtomicUsize, Ordering};
use crate::sync::{spawn, thread::JoinHandle};

/// The shape of input queue a stage needs.
#[derive(Clone, Debug)]
pub(crate) enum Want {
    /// One consumer thread; `lend` if that thread can run the stage before it when the stage
    /// lends itself ([`crate::lend`]: a serial stage or the sink, reading a blocking queue).
    One {
        capacity: usize,
        overflow: Overflow,
        lend: bool,
    },
    /// Any number of consumer threads sharing one queue; or, if `pull` and from a source
    /// that allows it, the source itself, read by the consumer threads in turns ([`Pulled`]).
    Shared {
        capacity: usize,
        pull: bool,
        overflow: Overflow,
    },
    /// One queue per worker, dealt in turns to as many of them as `staffing` says (an ordered
    /// stage); or, from a source that allows it, the source itself, read by the workers in
    /// turns of at most half their `window` (the outputs each worker's ring holds), which they
    /// log for the stage's reader ([`Taken::PulledTurns`]).
    Dealt {
        workers: usize,
        capacity: usize,
        window: usize,
        staffing: Staffing,
    },
}

impl Want {
    /// One consumer thread that cannot run the stage before it.
    pub(crate) fn one(capacity: usize, overflow: Overflow) -> Self {
        Want::One {
            capacity,
            overflow,
            lend: false,
        }
    }

    /// One consumer thread that runs the stage before it when the stage lends itself.
    pub(crate) fn lending(capacity: usize, overflow: Overflow) -> Self {
        Want::One {
            capacity,
            overflow,
            lend: true,
        }
    }

    /// Whether the queue waits for room when full (no overflow policy drops items).
    pub(crate) fn blocks(&self) -> bool {
        match self {
            Want::One { overflow, .. } | Want::Shared { overflow, .. } => {
                *overflow == Overflow::Block
            }
            Want::Dealt { .. } => true,
        }
    }

    /// How many items the queues of this shape hold in all.
    pub(crate) fn capacity(&self) -> usize {
        match *self {
            Want::One { capacity, .. } | Want::Shared { capacity, .. } => capacity,
            Want::Dealt {
                workers, capacity, ..
            } => workers * capacity,
        }
    }
}

/// The far end of the queue a stage asked for, in the shape it asked for.
pub(crate) enum Taken<T> {
    One(Box<dyn Inlet<T>>),
    Shared(Marked<MpmcReceiver<T>>),
    /// The workers' inputs, and the log of which worker each turn was dealt to.
    Dealt(Vec<Marked<SpscReceiver<T>>>, TurnLog),
    Pulled(Pulled<T>),
    /// A source the workers of an ordered stage read in turns ([`Pulled::worker`] gives
    /// each its handle), and the log of those turns.
    PulledTurns(Pulled<T>, TurnLog),
}

impl<T: Send + 'static> Taken<T> {
    /// Whether a consumer can take from it without waiting when it holds nothing: a queue,
    /// or a source read in turns that [never waits](crate::stage::Source::never_waits).
    pub(crate) fn takes_without_waiting(&self) -> bool {
        match self {
            Taken::Shared(_) => true,
            Taken::Pulled(source) => source.never_waits(),
            Taken::One(_) | Taken::Dealt(..) | Taken::PulledTurns(..) => false,
        }
    }

    /// One more consumer's inlet of a queue that any number of consumers share.
    pub(crate) fn share(&self) -> Box<dyn Inlet<T>> {
        match self {
            Taken::Shared(receiver) => Box::new(receiver.clone()),
            Taken::Pulled(source) => Box::new(source.clone()),
            Taken::One(_) | Taken::Dealt(..) | Taken::PulledTurns(..) => {
                unreachable!("a shared queue was asked for")
            }
        }
    }
}

/// What a stage gets from the stage before it: its input queue, who fills it, and what the
/// queue's overflow policy dropped (unless it blocks).
pub(crate) struct Upstream<T> {
    pub(crate) taken: Taken<T>,
    pub(crate) producer: Arc<StageMetrics>,
    pub(crate) dropped: Option<Arc<OverflowStats>>,
}

/// A queue just made: the end its producer fills, the end its consumer asked for, and the
/// counts of its overflow policy.
pub(crate) struct Made<T> {
    pub(crate) outlet: Box<dyn Outlet<T>>,
    pub(crate) taken: Taken<T>,
    pub(crate) dropped: Option<Arc<OverflowStats>>,
}

impl<T> Made<T> {
    /// What the consumer gets, filled by `producer`.
    pub(crate) fn upstream(
        taken: Taken<T>,
        dropped: Option<Arc<OverflowStats>>,
        producer: Arc<StageMetrics>,
    ) -> Upstream<T> {
        Upstream {
            taken,
            producer,
            dropped,
        }
    }
}

/// How a pipeline's last stage starts, given the shape its consumer wants.
pub(crate) type Tail<T> = Box<dyn FnOnce(&mut Launch, Want) -> Upstream<T> + Send>;

/// A run being started: its threads and figures.
pub(crate) struct Launch {
    pub(crate) control: Arc<Control>,
    /// The figures of every stage the user added, in order (the report's rows).
    pub(crate) stages: Vec<Arc<StageMetrics>>,
    /// The source, the relays and the sink.
    pub(crate) hidden: Vec<Arc<StageMetrics>>,
    /// Every queue: who fills it and who empties it.
    pub(crate) links: Vec<(Arc<StageMetrics>, Arc<StageMetrics>)>,
    pub(crate) threads: Vec<JoinHandle<()>>,
    pub(crate) source: Option<Arc<StageMetrics>>,
    pub(crate) sink: Option<Arc<StageMetrics>>,
    /// How many of the run's threads have not ended yet.
    pub(crate) live: Arc<AtomicUsize>,
}

/// Starts a thread that counts itself in `live` until it ends.
pub(crate) fn spawn_counted(
    live: &Arc<AtomicUsize>,
    name: String,
    body: impl FnOnce() + Send + 'static,
) -> JoinHandle<()> {
    /// Counts its thread out when dropped, even by a panic.
    struct Alive(Arc<AtomicUsize>);
    impl Drop for Alive {
        fn drop(&mut self) {
            // Relaxed: a count for `is_finished`; `join` is what synchronizes with the thread.
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    live.fetch_add(1, Ordering::Relaxed);
    let alive = Alive(Arc::clone(live));
    spawn(name, move || {
        let _alive = alive;
        let _awake = Awake::new();
        body();
    })
}

impl Launch {
    pub(crate) fn context(&self, metrics: &Arc<StageMetrics>) -> Context {
        Context {
            metrics: Arc::clone(metrics),
            control: Arc::clone(&self.control),
            seat: None,
            in_branch: false,
        }
    }

    /// Figures for a thread that is not one of the user's stages.
    pub(crate) fn hidden(&mut self, name: &str) -> Arc<StageMetrics> {
        let metrics = Arc::new(StageMetrics::new(name.to_owned(), 1));
        self.hidden.push(Arc::clone(&metrics));
        metrics
    }

    /// Records the queue from `upstream`'s producer to `consumer`, and what its overflow
    /// policy drops as `consumer`'s.
    pub(crate) fn link<T>(&mut self, upstream: &Upstream<T>, consumer: &Arc<StageMetrics>) {
        if let Some(dropped) = &upstream.dropped {
            let _ = consumer.dropped.set(Arc::clone(dropped));
        }
        self.links
            .push((Arc::clone(&upstream.producer), Arc::clone(consumer)));
    }

    /// Starts a thread of the run. A panic that escapes its body (a user's `Drop` or `Clone`
    /// where no closure is guarded) still fails the run, named after the thread's stage, so
    /// that it is never taken for a normal end.
    pub(crate) fn spawn(&mut self, name: String, body: impl FnOnce() + Send + 'static) {
        let control = Arc::clone(&self.control);
        let stage = name.strip_prefix("weir-").unwrap_or(&name).to_owned();
        let handle = spawn_counted(&self.live, name, move || {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
                control.fail(&stage, ErrorKind::Panicked(panic_message(&*payload)));
            }
        });
        self.threads.push(handle);
    }

    /// A single-consumer inlet from whatever `upstream` gave.
    pub(crate) fn one<T: Send + 'static>(taken: Taken<T>) -> Box<dyn Inlet<T>> {
        match taken {
            Taken::One(inlet) => inlet,
            Taken::Shared(receiver) => Box::new(receiver),
            Taken::Pulled(source) => Box::new(source),
            Taken::Dealt(..) | Taken::PulledTurns(..) => {
                unreachable!("turns are only made for an ordered stage")
            }
        }
    }

    /// Makes the queue `want` describes: the outlet for the thread that fills it, and the far
    /// end for the stage that asked. A queue with an overflow policy other than `Block` is an
    /// MPMC channel whose sender applies it.
    pub(crate) fn queue<T: Send + 'static>(want: Want) -> Made<T> {
        match want {
            Want::One {
                capacity,
                overflow: Overflow::Block,
                ..
            } => {
                let (sender, receiver) = marked(spsc_channel(capacity));
                Made {
                    outlet: Box::new(sender),
                    taken: Taken::One(Box::new(receiver)),
                    dropped: None,
                }
            }
            Want::Shared {
                capacity,
                overflow: Overflow::Block,
                ..
            } => {
                let (sender, receiver) = marked_shared(mpmc_channel(capacity));
                Made {
                    outlet: Box::new(sender),
                    taken: Taken::Shared(receiver),
                    dropped: None,
                }
            }
            Want::One {
                capacity, overflow, ..
            }
            | Want::Shared {
                capacity, overflow, ..
            } => {
                let (sender, receiver) = mpmc_channel(capacity);
                let sender = Overflowing::new(sender, overflow);
                let dropped = Some(sender.stats());
                let (sender, receiver) = match want {
                    Want::One { .. } => marked((sender, receiver)),
                    _ => marked_shared((sender, receiver)),
                };
                let taken = match want {
                    Want::One { .. } => Taken::One(Box::new(receiver)),
                    _ => Taken::Shared(receiver),
                };
                Made {
                    outlet: Box::new(sender),
                    taken,
                    dropped,
                }
            }
            Want::Dealt {
                workers,
                capacity,
                staffing,
                ..
            } => {
                let (senders, receivers) =
                    (0..workers).map(|_| marked(spsc_channel(capacity))).unzip();
                let (deal, log) = deal(senders, staffing);
                Made {
                    outlet: Box::new(deal),
                    taken: Taken::Dealt(receivers, log),
                    dropped: None,
                }
            }
        }
    }

    /// The queue of a stage that lends itself to its reader ([`crate::lend`]): a blocking
    /// queue of `want`'s capacity, whose reader also runs the loop on offer at the desk.
    pub(crate) fn lendable_queue<T: Send + 'static>(
        want: Want,
        control: &Arc<Control>,
    ) -> (Arc<Desk<T>>, Made<T>) {
        let desk = Desk::new(Arc::clone(control));
        let Made {
            outlet,
            taken,
            dropped,
        } = Launch::queue(want);
        let taken = Taken::One(Box::new(Borrowing::new(
            Launch::one(taken),
            Arc::clone(&desk),
        )));
        (
            desk,
            Made {
                outlet,
                taken,
                dropped,
            },
        )
    }

    /// Gives `want` from a single-consumer queue that does not have that shape, through a
    /// relay thread (between two parallel stages, say).
    pub(crate) fn relay<T: Send + 'static>(
        &mut self,
        upstream: Upstream<T>,
        name: &str,
        want: Want,
    ) -> Upstream<T> {
        let metrics = self.hidden(name);
        self.link(&upstream, &metrics);
        let inlet = Launch::one(upstream.taken);
        let Made {
            outlet,
            taken,
            dropped,
        } = Launch::queue(want);
        let cx = self.context(&metrics);
        self.spawn(format!("weir-{name}"), move || {
            run_stage(Identity::new(), inlet, outlet, cx);
        });
        Made::upstream(taken, dropped, metrics)
    }
}
