//! `Running::set_capacity`: a soft limit on a stage's input queue, moved while the pipeline
//! runs. Nothing is lost or duplicated when it moves under load (in every shape of input
//! queue), a raise wakes the senders blocked on the old limit, a lowered one keeps what is
//! queued, the report shows it, and bad requests are refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weir_pipeline::{ControlError, Flow, Input, Overflow, Pipeline, Running, Workers};
use weir_test_support::{scaled, within, Rng};

mod common;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `flow` (whose output is its items, in any order) while another thread moves the
/// limit of `stage` between `min` and `max`, 1 and the most often; checks that every item of
/// `0..n` came out once (their count, their sum, and the sorted list), and that the
/// report's accounting holds.
fn moves_under_load(n: u64, stage: &str, min: usize, max: usize, flow: Flow<Vec<u64>>) {
    moves_under_load_with(n, stage, min, max, flow, true);
}

/// As `moves_under_load`; `one_to_one` when every stage makes one output per input (the
/// per-stage accounting holds).
fn moves_under_load_with(
    n: u64,
    stage: &str,
    min: usize,
    max: usize,
    flow: Flow<Vec<u64>>,
    one_to_one: bool,
) {
    let running = flow.spawn();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let mover = s.spawn(|| {
            let mut rng = Rng::new(12);
            let mut moves = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let items = match moves % 3 {
                    0 => min,
                    1 => max,
                    _ => rng.range(min, max),
                };
                running.set_capacity(stage, items).unwrap();
                assert_eq!(running.capacity(stage), Some(items));
                moves += 1;
                thread::sleep(Duration::from_micros(200));
            }
            moves
        });
        while !running.is_finished() {
            thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
        assert!(mover.join().unwrap() > 0);
    });
    let (mut out, report) = join(running);
    assert_eq!(out.len() as u64, n, "{report}");
    assert_eq!(out.iter().sum::<u64>(), n * (n - 1) / 2, "{report}");
    out.sort_unstable();
    assert!(
        out.iter().copied().eq(0..n),
        "an item lost or twice\n{report}"
    );
    assert_eq!(report.discarded(), 0, "{report}");
    if one_to_one {
        common::assert_accounts(&report);
    }
}

fn join(running: Running<Vec<u64>>) -> (Vec<u64>, weir_pipeline::Report) {
    let finished = running.join().unwrap();
    (finished.output, finished.report)
}

/// A few microseconds of work, so that the queues fill and the limit matters.
fn work(x: u64) -> u64 {
    let mut y = x;
    for _ in 0..50 {
        y = std::hint::black_box(y);
    }
    y
}

#[test]
fn a_serial_stage_loses_and_duplicates_nothing() {
    within(LIMIT, || {
        let n = scaled(50_000, 2_000) as u64;
        let flow = Pipeline::from_iter(0..n)
            .capacity(64)
            .map(work)
            .named("work")
            .collect();
        moves_under_load(n, "work", 1, 64, flow);
    });
}

#[test]
fn a_stage_fed_by_parallel_workers_loses_and_duplicates_nothing() {
    within(LIMIT, || {
        let n = scaled(50_000, 2_000) as u64;
        // Three workers feed the `after` stage's queue at once.
        let flow = Pipeline::from_iter(0..n)
            .capacity(64)
            .parallel(3, |s| s.map(work))
            .map(work)
            .named("after")
            .collect();
        moves_under_load(n, "after", 1, 64, flow);
    });
}

#[test]
fn an_unordered_parallel_stage_loses_and_duplicates_nothing() {
    within(LIMIT, || {
        let n = scaled(50_000, 2_000) as u64;
        let flow = Pipeline::from_iter(0..n)
            .map(|x| x)
            .capacity(64)
            .parallel(Workers::scaling(1, 3), |s| s.map(work))
            .named("p")
            .collect();
        moves_under_load(n, "p", 1, 64, flow);
    });
}

#[test]
fn an_ordered_parallel_stage_loses_and_duplicates_nothing() {
    within(LIMIT, || {
        let n = scaled(50_000, 2_000) as u64;
        // A stage before it, so that the ordered stage has input queues (right after
        // `from_iter`, its workers would read the source themselves).
        let flow = Pipeline::from_iter(0..n)
            .map(|x| x)
            .capacity(64)
            .parallel(Workers::new(2).ordered(), |s| s.map(work))
            .named("ordered")
            .collect();
        // At least one item in each of the two workers' queues.
        moves_under_load(n, "ordered", 2, 64, flow);
    });
}

#[test]
fn batch_fork_join_and_partition_lose_and_duplicate_nothing() {
    within(LIMIT, || {
        let n = scaled(25_000, 1_000) as u64;
        let batched = Pipeline::from_iter(0..n)
            .capacity(32)
            .batch(7)
            .named("batch")
            .flat_map(|batch| batch.to_vec())
            .collect();
        moves_under_load_with(n, "batch", 1, 32, batched, false);
        let forked = Pipeline::from_iter(0..n)
            .capacity(32)
            .fork_join(|s| s.map(work), |s| s.map(|x| x))
            .named("fork")
            .map(|(a, b)| {
                assert_eq!(a, b);
                a
            })
            .named("after")
            .collect();
        moves_under_load(n, "after", 1, 32, forked);
        let forked = Pipeline::from_iter(0..n)
            .capacity(32)
            .fork_join(|s| s.map(work), |s| s.map(|x| x))
            .named("fork")
            .map(|(a, _)| a)
            .collect();
        moves_under_load(n, "fork", 1, 32, forked);
        let parted = Pipeline::from_iter(0..n)
            .capacity(32)
            .partition(2, |x: &u64| *x % 5, |_, s| s.map(work))
            .named("part")
            .collect();
        moves_under_load(n, "part", 2, 32, parted);
    });
}

/// A pipeline fed through an input of `input_capacity`, whose stage `gated` (input queue of
/// 64) holds item 0 until the gate is sent to; the gate, the input and the running pipeline.
fn gated(input_capacity: usize) -> (mpsc::Sender<()>, Input<u64>, Running<Vec<u64>>) {
    let (gate, opened) = mpsc::channel::<()>();
    let (input, pipeline) = Pipeline::input::<u64>(input_capacity);
    let running = pipeline
        .capacity(64)
        .map(move |x| {
            if x == 0 {
                opened.recv().unwrap();
            }
            x
        })
        .named("gated")
        .collect::<Vec<_>>()
        .spawn();
    (gate, input, running)
}

/// A sender blocked at the old limit goes on when the limit is raised, while the stage it
/// feeds takes nothing: only the raise can wake it (a lost wake-up hangs, and `within` fails
/// the test). The items sent before the raise stay queued, none lost.
#[test]
fn a_raise_wakes_a_blocked_sender() {
    within(LIMIT, || {
        let (gate, input, running) = gated(1);
        running.set_capacity("gated", 1).unwrap();
        let raised = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                // Time for the sends below to fill the limit and block on it.
                thread::sleep(Duration::from_millis(100));
                raised.store(true, Ordering::SeqCst);
                running.set_capacity("gated", 64).unwrap();
            });
            // Item 0 is held in the stage, one item queued (the limit), the source holds
            // the chunk it took last, one waits in the input's queue of 1. The source
            // gathers a chunk from what it finds in the input, so a tight loop of sends could
            // hand it all twenty at once: a pause after each send lets it take one at a
            // time, and twenty items cannot all be sent before the raise.
            for x in 0..20 {
                input.send(x).unwrap();
                thread::sleep(Duration::from_millis(1));
            }
            assert!(
                raised.load(Ordering::SeqCst),
                "twenty items went in under a limit of 1"
            );
        });
        assert_eq!(running.report().stage("gated").unwrap().limit(), 64);
        gate.send(()).unwrap();
        drop(input);
        let finished = running.join().unwrap();
        assert_eq!(finished.output, (0..20).collect::<Vec<_>>());
    });
}

/// Lowering the limit below what is queued loses nothing: the items stay, and the sender
/// waits until the stage has taken the queue below the new limit.
#[test]
fn lowering_below_the_length_keeps_every_item() {
    within(LIMIT, || {
        let (gate, input, running) = gated(4);
        for x in 0..40 {
            input.send(x).unwrap();
        }
        // The source has taken every item, and the stage holds item 0 alone (its first
        // chunk is one item): the other 39 are queued for it, or about to be, far above the
        // limit set next.
        while !input.is_empty() {
            thread::sleep(Duration::from_millis(1));
        }
        running.set_capacity("gated", 1).unwrap();
        // Under the limit nothing more goes into the stage's queue: the source blocks with
        // the chunk it holds, and the input's queue of 4 fills and stays full. Without the
        // limit, the 25 free slots of the stage's queue would take items too. One item at a
        // time, with pauses: the source's chunk is what it finds in the input (at most its 4
        // and a few more that come while it takes them), where a tight loop of sends could
        // feed one chunk of up to 1024 items while the source gathers it.
        let mut next = 40;
        for _ in 0..60 {
            if input.try_send(next).is_ok() {
                next += 1;
            }
            thread::sleep(Duration::from_millis(1));
        }
        assert!(
            next - 40 <= 10,
            "{} items went in after the limit was lowered to 1",
            next - 40
        );
        gate.send(()).unwrap();
        for x in next..100 {
            input.send(x).unwrap();
        }
        drop(input);
        let finished = running.join().unwrap();
        assert_eq!(finished.output, (0..100).collect::<Vec<_>>());
        let stage = finished.report.stage("gated").unwrap();
        assert_eq!((stage.limit(), stage.capacity()), (1, 64));
    });
}

#[test]
fn the_report_shows_the_limit() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(8);
        let running = pipeline
            .capacity(128)
            .map(|x| x + 1)
            .named("inc")
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x * 2))
            .named("ordered")
            .for_each(drop)
            .spawn();
        let stage = |name: &str| running.report().stage(name).unwrap().clone();
        assert_eq!((stage("inc").limit(), stage("inc").capacity()), (128, 128));
        assert_eq!(running.capacity("inc"), Some(128));
        running.set_capacity("inc", 5).unwrap();
        assert_eq!((stage("inc").limit(), stage("inc").capacity()), (5, 128));
        assert_eq!(running.capacity("inc"), Some(5));
        // Shared out over the two workers' queues of 64: 3 and 2.
        running.set_capacity("ordered", 5).unwrap();
        assert_eq!(stage("ordered").limit(), 5);
        // The table's queue column shows mean/max/limit.
        let table = running.report().to_string();
        let row = table
            .lines()
            .find(|l| l.trim_start().starts_with("inc"))
            .unwrap();
        assert!(row.contains("/5 "), "{table}");
        // The capacity lifts the limit.
        running.set_capacity("inc", 128).unwrap();
        assert_eq!(stage("inc").limit(), 128);
        drop(input);
        running.join().unwrap();
    });
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let (input, pipeline) = Pipeline::input::<u64>(8);
    let running = pipeline
        .capacity(16)
        .map(|x| x)
        .named("m")
        .parallel(Workers::new(4).ordered(), |s| s.map(|x| x))
        .named("ordered")
        .priority(2, |x: &u64| (*x % 2) as usize)
        .map(|x| x)
        .named("urgent")
        .for_each(drop)
        .spawn();
    assert_eq!(
        running.set_capacity("nope", 1),
        Err(ControlError::UnknownStage("nope".to_owned()))
    );
    assert_eq!(running.capacity("nope"), None);
    let error = running.set_capacity("m", 0).unwrap_err();
    assert!(matches!(
        error,
        ControlError::OutOfRange {
            value: 0,
            min: 1,
            max: 16,
            unit: "items",
            ..
        }
    ));
    assert_eq!(error.to_string(), "stage `m` takes 1 to 16 items, not 0");
    assert!(matches!(
        running.set_capacity("m", 17),
        Err(ControlError::OutOfRange {
            value: 17,
            max: 16,
            ..
        })
    ));
    // One item at least in each of an ordered stage's four queues.
    assert!(matches!(
        running.set_capacity("ordered", 3),
        Err(ControlError::OutOfRange {
            min: 4,
            max: 16,
            ..
        })
    ));
    let error = running.set_capacity("urgent", 4).unwrap_err();
    assert_eq!(error, ControlError::NoQueue("urgent".to_owned()));
    assert_eq!(
        error.to_string(),
        "stage `urgent` has no input queue whose capacity can be set"
    );
    assert_eq!(running.capacity("urgent"), None);
    assert_eq!(running.capacity("m"), Some(16));
    drop(input);
    running.join().unwrap();

    // Workers that read the source themselves: no queue.
    let running = Pipeline::from_iter(0..10u64)
        .parallel(2, |s| s.map(|x| x))
        .named("pulled")
        .for_each(drop)
        .spawn();
    assert_eq!(
        running.set_capacity("pulled", 1),
        Err(ControlError::NoQueue("pulled".to_owned()))
    );
    running.join().unwrap();
}

/// Under `DropOldest`, a lowered limit is where the oldest items go: with the stage held,
/// the queue keeps the newest `limit` items, and the drops are counted.
#[test]
fn an_overflow_policy_drops_at_the_limit() {
    within(LIMIT, || {
        let (gate, opened) = mpsc::channel::<()>();
        let (entered, holding) = mpsc::channel::<()>();
        let (input, pipeline) = Pipeline::input::<u64>(1);
        let running = pipeline
            .overflow(Overflow::DropOldest)
            .capacity(64)
            .map(move |x| {
                if x == 0 {
                    entered.send(()).unwrap();
                    opened.recv().unwrap();
                }
                x
            })
            .named("gated")
            .collect::<Vec<_>>()
            .spawn();
        running.set_capacity("gated", 3).unwrap();
        input.send(0).unwrap();
        // Wait until the stage holds item 0.
        holding.recv().unwrap();
        for x in 1..=20 {
            input.send(x).unwrap();
        }
        drop(input);
        // Let the source send the last items before the gate opens.
        while running.report().items_in() < 21 {
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(Duration::from_millis(50));
        gate.send(()).unwrap();
        let finished = running.join().unwrap();
        assert_eq!(finished.output, [0, 18, 19, 20], "{}", finished.report);
        assert_eq!(finished.report.stage("gated").unwrap().dropped(), 17);
        common::assert_accounts(&finished.report);
    });
}
