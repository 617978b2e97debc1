//! A linear pipeline of trivial stages over many items, with its report: for profiling the
//! per-item and per-chunk costs of the stage loop (`perf record`, `perf stat`).
//!
//! `cargo run --release -p weir-pipeline --example linear [-- ITEMS]`

use std::time::Instant;

use weir_pipeline::Pipeline;

fn main() {
    let items: u64 = std::env::args().nth(1).map_or(10_000_000, |arg| {
        arg.parse().expect("ITEMS must be a number")
    });
    let started = Instant::now();
    let finished = Pipeline::from_iter(0..items)
        .map(|x: u64| x.wrapping_mul(3))
        .filter(|x| x % 4 != 1)
        .map(|x| x ^ (x >> 3))
        .fold(0u64, |sum, x| sum.wrapping_add(x))
        .run()
        .expect("the pipeline runs to its end");
    let seconds = started.elapsed().as_secs_f64();
    println!("{}", finished.report);
    println!(
        "{items} items in {:.1} ms: {:.1} M items/s (sum {})",
        seconds * 1e3,
        items as f64 / seconds / 1e6,
        finished.output
    );
}
