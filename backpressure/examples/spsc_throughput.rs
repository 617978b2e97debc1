//! Moves 20 million integers from one thread to another through a blocking SPSC channel and
//! prints the rate: `cargo run --release -p weir-backpressure --example spsc_throughput`.

use std::time::Instant;

fn main() {
    const ITEMS: u64 = 20_000_000;
    let (sender, receiver) = weir_backpressure::spsc::channel(1024);
    let start = Instant::now();
    let producer = std::thread::spawn(move || {
        for i in 0..ITEMS {
            sender.send(i).unwrap();
        }
    });
    let sum: u64 = receiver.iter().sum();
    producer.join().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    println!(
        "{ITEMS} items in {elapsed:.2?}: {:.1} M items/s",
        ITEMS as f64 / elapsed.as_secs_f64() / 1e6
    );
}
