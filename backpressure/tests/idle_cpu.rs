//! An idle channel burns no CPU: with a sender blocked on a full channel and receivers blocked
//! on empty ones, for both flavours, the whole process uses next to no CPU time over 200 ms.
//!
//! This file holds one test, so that its process runs nothing else while it measures.

#![cfg(all(target_os = "linux", not(miri)))]

use std::thread;
use std::time::Duration;
use weir_backpressure::{mpmc, spsc};
use weir_test_support::process_cpu_time;

#[test]
fn blocked_ends_sleep_without_burning_cpu() {
    // A sender blocked on a full channel and a receiver blocked on an empty one, each flavour.
    let (spsc_full, spsc_full_rx) = spsc::channel(1);
    spsc_full.send(0u64).unwrap();
    let (spsc_empty_tx, spsc_empty) = spsc::channel::<u64>(1);
    let (mpmc_full, mpmc_full_rx) = mpmc::channel(1);
    mpmc_full.send(0u64).unwrap();
    let (mpmc_empty_tx, mpmc_empty) = mpmc::channel::<u64>(1);
    let blocked = vec![
        thread::spawn(move || spsc_full.send(1).is_ok()),
        thread::spawn(move || spsc_empty.recv().is_ok()),
        thread::spawn(move || mpmc_full.send(1).is_ok()),
        thread::spawn(move || mpmc_empty.recv().is_ok()),
    ];
    // Past the waiters' short spin and yield, into their sleep.
    thread::sleep(Duration::from_millis(50));

    let before = process_cpu_time();
    thread::sleep(Duration::from_millis(200));
    let used = process_cpu_time() - before;

    // Wake them all by disconnecting; each blocked call then fails.
    drop((spsc_full_rx, spsc_empty_tx, mpmc_full_rx, mpmc_empty_tx));
    for handle in blocked {
        assert!(!handle.join().unwrap());
    }
    // Spinning or yielding threads would use most of the 200 ms of each core; sleeping ones
    // use none. The bound leaves room for the test's own threads and the machine's noise.
    assert!(
        used < Duration::from_millis(20),
        "4 blocked channel ends used {used:?} of CPU in 200 ms"
    );
}
