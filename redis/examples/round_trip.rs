//! What a round trip through Redis costs a pipeline item, without the work: payloads of a
//! given size appended to a stream, read back through a consumer group, written to a results
//! stream and acknowledged in batches, as the distributed blur's worker does, but with no blur.
//!
//! ```text
//! cargo run --release -p weir-redis --example round_trip -- [--redis URL] [--items N] [--bytes B] [--batch N]
//! ```
//!
//! Defaults: 2000 items of 235,200 bytes (a 256x256 RGB tile with a halo of 12), batches of 8,
//! on `redis://127.0.0.1:6379/` (it uses and then deletes keys under `weir-round-trip:`).

use std::time::{Duration, Instant};

use weir_redis::{Reconnecting, StreamSink, StreamSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut address, mut items, mut bytes, mut batch) = (
        "redis://127.0.0.1:6379/".to_owned(),
        2000usize,
        235_200usize,
        8usize,
    );
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--redis" => address = value,
            "--items" => items = value.parse()?,
            "--bytes" => bytes = value.parse()?,
            "--batch" => batch = value.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let (input, output) = ("weir-round-trip:in", "weir-round-trip:out");
    let mut redis = Reconnecting::open(&address, Duration::from_secs(5))?;
    redis.run("DEL", |c| {
        redis::cmd("DEL").arg(input).arg(output).query::<()>(c)
    })?;

    let payload = vec![0x5a_u8; bytes];
    let mut sink = StreamSink::connect(&address, input)?;
    let started = Instant::now();
    for chunk in (0..items).collect::<Vec<_>>().chunks(batch) {
        sink.append(chunk.iter().map(|_| &payload))?;
    }
    let appended = started.elapsed();

    let source = StreamSource::builder(&address, input, "round-trip", "c1")
        .count(batch)
        .block(Duration::from_millis(10))
        .stop_when_drained(Duration::from_millis(50))
        .connect()?;
    let group = source.group().clone();
    let mut results = StreamSink::connect(&address, output)?;
    let started = Instant::now();
    let mut pending = Vec::with_capacity(batch);
    let mut seen = 0;
    for entry in source {
        pending.push(entry?);
        if pending.len() == batch {
            results.append_and_ack(
                pending.iter().map(|e| &e.payload),
                &group,
                pending.iter().map(|e| &e.id),
            )?;
            seen += pending.len();
            pending.clear();
        }
    }
    results.append_and_ack(
        pending.iter().map(|e| &e.payload),
        &group,
        pending.iter().map(|e| &e.id),
    )?;
    seen += pending.len();
    let processed = started.elapsed();
    assert_eq!(seen, items, "every item once");
    redis.run("DEL", |c| {
        redis::cmd("DEL").arg(input).arg(output).query::<()>(c)
    })?;

    let per = |d: Duration| d.as_secs_f64() * 1e6 / items as f64;
    println!("{items} items of {bytes} bytes, batches of {batch}:");
    println!(
        "  append (XADD)                                  {:8.1} µs per item",
        per(appended)
    );
    println!(
        "  read + append_and_ack (XREADGROUP, XADD, XACK) {:8.1} µs per item",
        per(processed)
    );
    Ok(())
}
