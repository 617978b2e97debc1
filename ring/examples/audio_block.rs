//! A real-time consumer that must never block or allocate: an "audio callback" takes blocks of
//! 64 samples from a ring in place, while a producer thread writes samples as they come.
//!
//! Run with `cargo run --release -p weir-ring --example audio_block`.

use std::time::Duration;

const BLOCK: usize = 64;
const BLOCKS: usize = 2_000;

fn main() {
    let (mut producer, mut consumer) = weir_ring::channel::<f32>(4 * BLOCK);

    let writer = std::thread::spawn(move || {
        let mut samples = (0..BLOCK * BLOCKS).map(|i| (i as f32 * 0.01).sin());
        let mut left = BLOCK * BLOCKS;
        while left > 0 {
            // Writes in place whatever room there is; the iterator is not advanced past it.
            let written = producer.write_chunk(left).fill_from_iter(&mut samples);
            left -= written;
            if written == 0 {
                std::thread::yield_now();
            }
        }
    });

    // The "callback": each call takes exactly one block, or plays silence on an underrun.
    let mut played = 0;
    let mut underruns = 0;
    let mut energy = 0.0f64;
    while played < BLOCKS {
        let chunk = consumer.read_chunk(BLOCK);
        if chunk.len() < BLOCK {
            drop(chunk); // leave the partial block for next time
            underruns += 1;
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        let (first, second) = chunk.as_slices();
        energy += first
            .iter()
            .chain(second)
            .map(|s| f64::from(s * s))
            .sum::<f64>();
        chunk.release(BLOCK);
        played += 1;
    }
    writer.join().unwrap();
    println!(
        "played {played} blocks of {BLOCK} samples, {underruns} underruns, energy {energy:.1}"
    );
}
