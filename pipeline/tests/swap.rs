//! `Swap`: a stage's closure replaced while the pipeline runs takes over at the next item, in
//! every stage and worker that runs it.

use std::time::Duration;

use weir_pipeline::{Pipeline, Swap, Workers};
use weir_test_support::within;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn a_replacement_reaches_the_next_item_in_every_worker() {
    within(LIMIT, || {
        for workers in [Workers::new(1), Workers::new(3), Workers::new(2).ordered()] {
            let scale = Swap::new(|x: u64| x);
            let (input, pipeline) = Pipeline::input::<u64>(8);
            let stage = scale.clone();
            let mut output = pipeline
                .parallel(workers, move |s| s.map(stage.stage()))
                .into_iter();
            // Lock step: each item goes in and comes out before the next replacement, so
            // whichever worker takes it must run the closure set last.
            for factor in 1..=20u64 {
                scale.replace(move |x| x * factor);
                input.send(7).unwrap();
                assert_eq!(output.next(), Some(7 * factor));
            }
            assert_eq!(scale.replacements(), 20);
            drop(input);
            assert_eq!(output.next(), None);
            output.finish().unwrap();
        }
    });
}

#[test]
fn items_in_flight_run_the_old_or_the_new_closure_never_back() {
    within(LIMIT, || {
        let swap = Swap::new(|x: u64| (x, 0u64));
        let running = Pipeline::from_iter(0..200_000u64)
            .map(swap.stage())
            .collect::<Vec<_>>()
            .spawn();
        for version in 1..=50u64 {
            swap.replace(move |x| (x, version));
            std::thread::yield_now();
        }
        let output = running.join().unwrap().output;
        assert_eq!(output.len(), 200_000);
        // One serial stage: the versions it ran never go down.
        assert!(output.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(output.iter().enumerate().all(|(i, &(x, _))| x == i as u64));
    });
}

#[test]
fn debug_shows_the_replacements() {
    let swap = Swap::new(|x: u8| x);
    swap.replace(|x| x + 1);
    assert_eq!(format!("{swap:?}"), "Swap { replacements: 1, .. }");
}
