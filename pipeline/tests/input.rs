//! `Pipeline::input`: feeding a pipeline from threads, with backpressure, and the item back
//! once the pipeline is gone.

use std::sync::mpsc::TrySendError;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use weir_pipeline::{Pipeline, Workers};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn several_feeders_and_the_end_when_all_are_dropped() {
    within(LIMIT, || {
        // Under Miri, 120 items: past the end of the input's ring of 64, and several turns of the
        // ordered stage's deal to its two workers.
        let per_feeder = scaled(20_000, 40) as u64;
        let (input, pipeline) = Pipeline::input::<u64>(64);
        let running = pipeline
            .map(|x| x * 2)
            .parallel(Workers::new(2).ordered(), |s| s.map(|x| x + 1))
            .fold(0u64, |a, x| a + x)
            .spawn();
        let feeders: Vec<_> = (0..3)
            .map(|f| {
                let input = input.clone();
                std::thread::spawn(move || {
                    for i in 0..per_feeder {
                        input.send(f * per_feeder + i).unwrap();
                    }
                })
            })
            .collect();
        drop(input);
        for feeder in feeders {
            feeder.join().unwrap();
        }
        let total = 3 * per_feeder;
        let finished = running.join().unwrap();
        assert_eq!(finished.output, (0..total).map(|x| x * 2 + 1).sum::<u64>());
        assert_eq!(finished.report.items_in(), total);
    });
}

#[test]
fn a_stalled_pipeline_pushes_back_on_its_input() {
    within(LIMIT, || {
        let gate = Arc::new(Barrier::new(2));
        let stage_gate = Arc::clone(&gate);
        let (input, pipeline) = Pipeline::input::<u32>(4);
        let running = pipeline
            .capacity(1)
            .map(move |x| {
                if x == 0 {
                    stage_gate.wait();
                }
                x
            })
            .collect::<Vec<_>>()
            .spawn();
        // The stage holds item 0; the queues fill; then try_send reports Full.
        let mut sent = 0;
        let full = loop {
            match input.try_send(sent) {
                Ok(()) => sent += 1,
                Err(TrySendError::Full(item)) => break item,
                Err(TrySendError::Disconnected(_)) => panic!("the pipeline is running"),
            }
            if sent > 1_000 {
                panic!("no backpressure after {sent} items");
            } else if sent > 4 {
                // The source may still be moving items on; give it time to block.
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        assert_eq!(full, sent);
        gate.wait();
        drop(input);
        let out = running.join().unwrap().output;
        assert_eq!(out, (0..sent).collect::<Vec<_>>());
    });
}

#[test]
fn an_input_whose_pipeline_never_ran_gives_the_item_back() {
    let (input, pipeline) = Pipeline::input::<String>(2);
    drop(pipeline);
    assert_eq!(input.send("lost?".to_owned()).unwrap_err().0, "lost?");
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn an_input_of_capacity_zero_panics() {
    let _ = Pipeline::input::<u8>(0);
}
