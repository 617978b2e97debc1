//! An idle pipeline burns no CPU: with its source waiting on an `Input` and every stage waiting
//! for items, the whole process uses next to no CPU time over 300 ms.
//!
//! This file holds one test, so that its process runs nothing else while it measures.

#![cfg(all(target_os = "linux", not(miri)))]

use std::time::Duration;

use weir_pipeline::{Pipeline, Workers};
use weir_test_support::process_cpu_time;

#[test]
fn an_idle_pipeline_parks_its_threads() {
    let (input, pipeline) = Pipeline::input::<u64>(64);
    let running = pipeline
        .map(|x| x + 1)
        .parallel(2, |s| s.map(|x| x * 2))
        .parallel(Workers::new(2).ordered(), |s| s.filter(|x| x % 3 != 0))
        .batch_timeout(8, Duration::from_millis(5))
        .for_each(drop)
        .spawn();
    // Some items first, so that every thread has run and then gone idle.
    for i in 0..10_000 {
        input.send(i).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let before = process_cpu_time();
    std::thread::sleep(Duration::from_millis(300));
    let used = process_cpu_time() - before;
    drop(input);
    let finished = running.join().unwrap();
    assert_eq!(finished.report.items_in(), 10_000);
    // Spinning threads would use up to 600 ms here (two cores); parked ones use microseconds
    // (the source looks for a cancel every 10 ms).
    assert!(
        used < Duration::from_millis(30),
        "{used:?} of CPU in 300 ms idle"
    );
}
