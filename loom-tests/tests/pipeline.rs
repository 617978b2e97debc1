//! loom models of weir-pipeline's own protocols, run through its public API: the source, the
//! stage threads and the workers are loom threads, and the queues between them are
//! weir-backpressure's channels built under loom, so that every interleaving of a small run is
//! explored. Under loom an ordered stage deals one item per turn (instead of 16), so that a
//! model of a few items goes round its workers.
//!
//! A thread left blocked is a deadlock that loom reports; an item lost, twice or out of order
//! fails the models' checks. loom runs at most 5 threads, the model's own included: each model
//! is a source, one or two stage threads, and the sink on the model's thread.

#![cfg(loom)]

use loom_tests::{model, model_with_bound};
use weir_pipeline::{ErrorKind, OnError, Pipeline, Swap, Workers};

#[derive(Debug)]
struct Odd;

impl std::fmt::Display for Odd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("odd")
    }
}

impl std::error::Error for Odd {}

/// Runs `pipeline` to its end and gives its items sorted (for shapes that do not keep order).
fn sorted(pipeline: Pipeline<u32>) -> Vec<u32> {
    let mut out: Vec<u32> = pipeline.collect().run().unwrap().output;
    out.sort_unstable();
    out
}

/// End of stream through an unordered parallel stage: two workers read the source in turns
/// (under its lock) and share the output queue; the sink gets every item once before the
/// end, whichever worker finishes last, and the report's counts agree.
#[test]
fn end_of_stream_through_a_parallel_stage() {
    model_with_bound(1, || {
        let finished = Pipeline::from_iter(0..2u32)
            .capacity(4)
            .parallel(2, |s| s.map(|x| x + 10))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        assert_eq!(out, [10, 11]);
        assert_eq!(finished.report.items_in(), 2);
        assert_eq!(finished.report.items_out(), 2);
        assert_eq!(finished.report.discarded(), 0);
    });
}

/// The ordered window: items dealt in turns to two workers (by the source's thread), one of
/// which filters, come back in the input order, each once, through queues of
/// one slot per worker (a full window holds the dealer back instead of deadlocking).
#[test]
fn ordered_window_keeps_order_when_full() {
    model_with_bound(1, || {
        ordered_window_of_one_slot_per_worker(Pipeline::from_iter_on_its_own_thread(0..4u32))
    });
}

/// The same window when the two workers take their turns from the source themselves, logging
/// each under the source's lock: a worker may wait for room in the log (one turn per worker
/// under loom) while it holds the lock, and the reader, behind on turns whose outputs come,
/// catches up. The order holds, each item once.
#[test]
fn ordered_workers_take_their_turns_through_a_full_log() {
    model_with_bound(1, || {
        ordered_window_of_one_slot_per_worker(Pipeline::from_iter(0..4u32))
    });
}

/// Cancel racing blocked ends: the sink takes one item and drops the output while the source
/// and the stage may be blocked on full queues of one slot; every thread ends (no deadlock)
/// and the run reports the cancel.
#[test]
fn early_drop_ends_threads_blocked_on_full_queues() {
    model_with_bound(1, || {
        let mut output = Pipeline::from_iter(0..3u32)
            .capacity(1)
            .map(|x| x * 2)
            .into_iter();
        assert_eq!(output.next(), Some(0));
        let error = output.finish().unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Cancelled) || error.report().items_out() == 3);
    });
}

/// A cheap stage lent to the thread after it. Under loom a serial stage starts lent, goes
/// back to its thread after every chunk its reader runs, and is lent again after the next
/// one it runs itself: its thread's chunk sent after the offer races the reader's look at
/// the queue, its wait on it and its count of what it still owes. Every item once, in
/// order, and every thread ends.
#[test]
fn a_stage_lent_and_given_back_keeps_every_item_in_order() {
    model_with_bound(1, || {
        let finished = Pipeline::from_iter(0..4u32)
            .capacity(1)
            .map(|x| x + 10)
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert_eq!(finished.output, [10, 11, 12, 13]);
        assert_eq!(finished.report.stage("map").unwrap().items_out(), 4);
    });
}

/// Two cheap stages in a row, the second running the first once both are lent (a loan
/// inside a loan), one of them filtering: the items that remain, once each, in order.
#[test]
fn nested_loans_keep_every_item_in_order() {
    model_with_bound(1, || {
        let finished = Pipeline::from_iter(0..2u32)
            .capacity(1)
            .map(|x| x + 10)
            .filter(|x| *x != 10)
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        assert_eq!(finished.output, [11]);
        let report = finished.report;
        assert_eq!(report.stage("filter").unwrap().filtered(), 1);
        assert_eq!(report.items_out(), 1);
    });
}

/// A cancel racing a loan: whether the stage's loop is at home, on offer, run by the sink or
/// on its way back, every thread ends and the run reports the cancel or its end.
#[test]
fn a_cancel_races_a_loan() {
    model_with_bound(1, || {
        let running = Pipeline::from_iter(0..3u32)
            .capacity(1)
            .map(|x| x + 1)
            .fold(0, |sum, x| sum + x)
            .spawn();
        running.cancel();
        match running.join() {
            Ok(finished) => assert_eq!(finished.output, 6),
            Err(error) => assert!(matches!(error.kind(), ErrorKind::Cancelled)),
        }
    });
}

/// A failure racing the threads around it: the middle stage's `try_map` fails while the source
/// may be blocked on its full input and the next stage waits on its empty one; the run returns
/// the error, every thread ends, and the counts add up.
#[test]
fn failure_in_a_stage_stops_the_others() {
    model_with_bound(1, || {
        let error = Pipeline::from_iter(0..3u32)
            .capacity(1)
            .on_error(OnError::FailFast)
            .try_map(|x| if x == 1 { Err(Odd) } else { Ok(x) })
            .named("check")
            .map(|x| x)
            .for_each(drop)
            .run()
            .unwrap_err();
        assert_eq!(error.stage(), "check");
        let report = error.report();
        let stage = report.stage("check").unwrap();
        assert_eq!(stage.failed(), 1);
        assert_eq!(
            report.items_in(),
            report.items_out() + stage.failed() + report.discarded()
        );
    });
}

/// Pause, resume and cancel racing the source: whatever it is doing when they come, a resume
/// or a cancel never leaves it waiting (a lost wake-up would be a deadlock loom reports).
#[test]
fn resume_or_cancel_wakes_a_paused_source() {
    model_with_bound(1, || {
        let running = Pipeline::from_iter(0..2u32).fold(0, |a, x| a + x).spawn();
        running.pause();
        running.resume();
        assert_eq!(running.join().unwrap().output, 1);

        let running = Pipeline::from_iter(0..2u32).fold(0, |a, x| a + x).spawn();
        running.pause();
        running.cancel();
        match running.join() {
            Ok(finished) => assert_eq!(finished.output, 1),
            Err(error) => assert!(matches!(error.kind(), ErrorKind::Cancelled)),
        }
    });
}

/// A `Swap` replaced while a stage runs it: the stage runs the old closure or the new one,
/// never the old after the new, and the new one once the replacement happened before.
#[test]
fn a_swapped_closure_takes_over_and_never_goes_back() {
    model(|| {
        let swap = Swap::new(|x: u32| x);
        let mut stage = swap.stage();
        let replacer = {
            let swap = swap.clone();
            loom::thread::spawn(move || swap.replace(|x| x + 1))
        };
        let (first, second) = (stage(0), stage(0));
        assert!(first <= second, "ran the old closure after the new one");
        replacer.join().unwrap();
        assert_eq!(stage(0), 1);
    });
}

/// The count of a parallel stage's workers changed while items and the end of the stream go
/// through: a retired worker parks after its chunk and comes back when the count rises; every
/// item comes out once, and no worker is left parked at the end (the output ends).
#[test]
fn set_workers_races_the_items_and_the_end() {
    model_with_bound(1, || {
        let running = Pipeline::from_iter(0..2u32)
            .parallel(2, |s| s.map(|x| x + 10))
            .named("p")
            .collect::<Vec<_>>()
            .spawn();
        running.set_workers("p", 1).unwrap();
        running.set_workers("p", 2).unwrap();
        running.set_workers("p", 1).unwrap();
        let mut out = running.join().unwrap().output;
        out.sort_unstable();
        assert_eq!(out, [10, 11]);
    });
}

/// The count of an ordered stage's workers changed while its items go through: the dealer
/// reads the count at each turn and logs the worker it deals the turn to, and the reader
/// follows the log, so both agree on every turn; the output stays in order, each item once,
/// and no thread is left blocked on a turn that never comes.
#[test]
fn set_workers_of_an_ordered_stage_races_its_turns() {
    model_with_bound(1, || {
        ordered_stage_down_to_one_worker(Pipeline::from_iter_on_its_own_thread(0..4u32))
    });
}

/// The same when the workers take their turns from the source: a retired worker has handed on
/// every turn it took before it waits for its seat, so the reader never waits for a turn of a
/// worker that is not coming back; the order holds, each item once.
#[test]
fn set_workers_of_an_ordered_stage_that_reads_the_source() {
    model_with_bound(1, || {
        ordered_stage_down_to_one_worker(Pipeline::from_iter(0..4u32))
    });
}

/// A fork and join through queues of one slot: the left branch's thread copies each chunk to
/// the right branch before running it, in chunks no longer than the queues, so neither branch
/// waits on a full queue behind the other (no deadlock), and the pairs come back in order.
#[test]
fn fork_join_pairs_in_order_through_full_queues() {
    model_with_bound(1, || {
        let out: Vec<(u32, u32)> = Pipeline::from_iter(0..2u32)
            .capacity(1)
            .fork_join(|s| s.map(|x| x + 10), |s| s.map(|x| x * 2))
            .collect()
            .run()
            .unwrap()
            .output;
        assert_eq!(out, [(10, 0), (11, 2)]);
    });
}

/// `set_capacity` racing a blocked push: the source sends its three items in one chunk into
/// a queue of two, whose limit drops to 1 and comes back to 2 while the source may be blocked
/// at either limit and the stage takes items: every item comes out once, in order, and no
/// thread is left asleep. The stage's takes wake the source here too, so this model cannot
/// tell a raise that loses its wake-up (it passes with `Signals::set_limit`'s notify
/// removed); the models `*_raised_limit_wakes_a_blocked_*` in `channel.rs`, where only the
/// raise can wake the sender, do.
#[test]
fn set_capacity_races_a_blocked_push() {
    model_with_bound(1, || {
        let running = Pipeline::from_iter(0..3u32)
            .capacity(2)
            .map(|x| x + 10)
            .named("m")
            .collect::<Vec<_>>()
            .spawn();
        running.set_capacity("m", 1).unwrap();
        running.set_capacity("m", 2).unwrap();
        let finished = running.join().unwrap();
        assert_eq!(finished.output, [10, 11, 12]);
        assert_eq!(finished.report.stage("m").unwrap().limit(), 2);
    });
}

/// A partition's end of stream: the router sends each item to its key's branch, and the
/// branches' outputs merge into one queue; the sink gets every item once, and the output ends
/// only after both branches have.
#[test]
fn partition_routes_every_item_once_and_ends_after_its_branches() {
    model_with_bound(1, || {
        let out = sorted(Pipeline::from_iter(0..2u32).capacity(4).partition(
            2,
            |x| x % 2,
            |_, s| s.map(|x| x + 10),
        ));
        assert_eq!(out, [10, 11]);
    });
}

/// The end of a stream through `priority`: the source pushes its items into the levels and
/// then, dropping its end, closes the priority queue; the next stage, waiting in `pop_wait`,
/// is woken by the close and takes the end only once the queue is empty, after every item
/// pushed before the close (the queue's own model, `close_leaves_no_item_behind_*` in
/// `priority.rs`, checks the orderings).
#[test]
fn priority_sees_every_item_before_the_end() {
    model_with_bound(1, || {
        let out = sorted(
            Pipeline::from_iter(0..2u32)
                .priority(2, |x| (*x % 2) as usize)
                .map(|x| x + 10),
        );
        assert_eq!(out, [10, 11]);
    });
}

/// `max_in_flight(1)` across a `flat_map` that makes two outputs of each item: the extra
/// output owes its credit before it is sent, so the source takes the next item only once both
/// outputs of the one before reached the sink (checked as the source reads it); the source,
/// waiting for the credit, is woken by the sink giving it back (a lost wake-up would be a
/// deadlock loom reports); and no credit is given back twice (debug builds panic on it).
#[test]
fn max_in_flight_waits_for_every_output_of_an_item() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    model_with_bound(1, || {
        // What the sink took; std's types: the model's checks, not part of the protocol.
        let out = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicU32::new(0));
        let (sink, seen) = (Arc::clone(&out), Arc::clone(&done));
        Pipeline::from_iter((0..2u32).inspect(move |x| {
            // Item `x` is read only once both outputs of each item before it are done.
            assert!(
                seen.load(Ordering::SeqCst) >= 2 * x,
                "item {x} read too early"
            );
        }))
        .max_in_flight(1)
        .flat_map(|x| [x, x])
        .for_each(move |x| {
            sink.lock().unwrap().push(x);
            done.fetch_add(1, Ordering::SeqCst);
        })
        .run()
        .unwrap();
        assert_eq!(*out.lock().unwrap(), [0, 0, 1, 1]);
    });
}

/// A cancel racing a source that waits for a credit under `max_in_flight(1)`: the stop gives
/// every credit back, which wakes the source, and the run ends (the sink, stopping, gives
/// back nothing more: without that wake-up the source would wait for ever, a deadlock loom
/// reports).
#[test]
fn a_cancel_wakes_a_source_waiting_for_credits() {
    model_with_bound(1, || {
        let running = Pipeline::from_iter(0..3u32)
            .max_in_flight(1)
            .fold(0, |a, x| a + x)
            .spawn();
        running.cancel();
        match running.join() {
            Ok(finished) => assert_eq!(finished.output, 3),
            Err(error) => assert!(matches!(error.kind(), ErrorKind::Cancelled)),
        }
    });
}

/// The reader runs a worker: a stage of three workers (as many as a model's cores) starts two
/// threads, and the sink's thread runs the third between its reads, on input it can take
/// without waiting. Every item comes out once before the end, whichever worker ends last, and
/// an early drop of the output ends every thread.
#[test]
fn the_sink_runs_the_last_worker_of_an_unordered_stage() {
    model_with_bound(1, || {
        let finished = Pipeline::from_iter(0..3u32)
            .capacity(2)
            .parallel(3, |s| s.map(|x| x + 10))
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let mut out = finished.output;
        out.sort_unstable();
        assert_eq!(out, [10, 11, 12]);
        assert_eq!(finished.report.items_in(), 3);
        assert_eq!(finished.report.discarded(), 0);
    });
}

/// The same for an ordered stage dealt to by its source's thread: the merger runs the third
/// worker when its turn comes, and waits for that worker's input as it would have waited for
/// its output. Its rings hold two turns, so the worker's chunk may make the outputs of two
/// turns: the merger hands on one turn's and keeps the next. The order holds, with an item
/// filtered out.
#[test]
fn the_sink_runs_the_last_worker_of_an_ordered_stage() {
    model_with_bound(1, || {
        three_ordered_workers_one_run_by_the_sink(Pipeline::from_iter_on_its_own_thread(0..6u32))
    });
}

/// And for an ordered stage whose workers take their turns from the source: the merger runs
/// the third worker ahead, a turn at a time, whenever it would wait for the log or for another
/// worker's frames, and never waits for room in the log itself (it is the log's reader). The
/// order holds, with an item filtered out.
#[test]
fn the_sink_runs_ahead_the_last_worker_of_an_ordered_stage_that_reads_the_source() {
    model_with_bound(1, || {
        three_ordered_workers_one_run_by_the_sink(Pipeline::from_iter(0..6u32))
    });
}

/// An early drop of the output while the reader's worker holds kept outputs and the other
/// workers wait on a full queue: every thread ends.
#[test]
fn an_early_drop_with_the_readers_worker_ends_every_thread() {
    model_with_bound(1, || {
        let mut output = Pipeline::from_iter(0..4u32)
            .capacity(1)
            .parallel(3, |s| s.map(|x| x * 2))
            .into_iter();
        assert!(output.next().is_some());
        drop(output);
    });
}

/// Four items through an ordered stage of two workers, one of which filters, with one slot
/// per worker's queue: in order, each once.
fn ordered_window_of_one_slot_per_worker(source: Pipeline<u32>) {
    let out: Vec<u32> = source
        .capacity(2)
        .parallel(Workers::new(2).ordered(), |s| s.filter(|x| *x != 2))
        .collect()
        .run()
        .unwrap()
        .output;
    assert_eq!(out, [0, 1, 3]);
}

/// Six items through an ordered stage of three workers (the sink runs the third), one of
/// which filters: in order, each once.
fn three_ordered_workers_one_run_by_the_sink(source: Pipeline<u32>) {
    let out: Vec<u32> = source
        .capacity(6)
        .parallel(Workers::new(3).ordered(), |s| s.filter(|x| *x != 1))
        .collect()
        .run()
        .unwrap()
        .output;
    assert_eq!(out, [0, 2, 3, 4, 5]);
}

/// Four items through an ordered stage of two workers while `set_workers` takes it down to
/// one: in order, each once.
fn ordered_stage_down_to_one_worker(source: Pipeline<u32>) {
    let running = source
        .capacity(4)
        .parallel(Workers::new(2).ordered(), |s| s.map(|x| x + 10))
        .named("p")
        .collect::<Vec<_>>()
        .spawn();
    running.set_workers("p", 1).unwrap();
    assert_eq!(running.join().unwrap().output, [10, 11, 12, 13]);
}
