//! A worker: tiles from the stream, blurred on every core, results appended and the tiles
//! acknowledged once they are written.

use std::fmt;
use std::time::Duration;

use weir_redis::{Entry, EntryId, StreamSink, StreamSource};

use crate::args::Worker;
use crate::image_ops::{blur_tile, Kernel, Scratch};
use crate::{wire, Failure, Keys, WORKERS_GROUP};

/// Tiles read a round trip, and results written one.
const BATCH: usize = 8;
/// A partial batch of results goes out after this long without another.
const BATCH_IDLE: Duration = Duration::from_millis(5);
/// Deliveries of one tile before it goes to the dead-letter stream.
const MAX_DELIVERIES: u64 = 5;

/// A tile that could not be decoded.
#[derive(Debug)]
struct BadTile {
    id: EntryId,
    reason: String,
}

impl fmt::Display for BadTile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.id, self.reason)
    }
}

impl std::error::Error for BadTile {}

pub(crate) fn run(args: &Worker) -> Result<(), Failure> {
    let keys = Keys::new(&args.common.prefix);
    let mut source =
        StreamSource::builder(&args.common.redis, &keys.tiles, WORKERS_GROUP, &args.name)
            .count(BATCH)
            .delete_acknowledged()
            .claim_idle(args.claim_idle)
            .max_deliveries(MAX_DELIVERIES);
    if let Some(idle) = args.exit_when_drained {
        source = source.stop_when_drained(idle);
    }
    let source = source.connect()?;
    let counts = source.counts();
    let group = source.group().clone();
    let mut sink = StreamSink::connect(&args.common.redis, &keys.results)?;
    let delay = args.tile_delay;
    println!(
        "worker {}: reading {} as group {WORKERS_GROUP}",
        args.name, keys.tiles
    );
    // Short queues: every tile read in is pending on this worker, and one that waited in a
    // queue longer than the claim time would be claimed and blurred twice.
    let finished = source
        .into_pipeline()
        .capacity(BATCH)
        .try_map(|entry| entry)
        .named("read")
        .parallel(args.threads, move |tiles| {
            let mut scratch = Scratch::default();
            let mut kernel: Option<(f64, Kernel)> = None;
            tiles.try_map(move |entry: Entry| {
                let job = wire::decode(&entry.payload).map_err(|reason| BadTile {
                    id: entry.id.clone(),
                    reason,
                })?;
                let kernel = match &kernel {
                    Some((sigma, kernel)) if *sigma == job.sigma => kernel,
                    _ => &kernel.insert((job.sigma, Kernel::gaussian(job.sigma))).1,
                };
                if job.tile.halo != kernel.radius() {
                    return Err(BadTile {
                        id: entry.id,
                        reason: format!(
                            "a halo of {} for a kernel of radius {}",
                            job.tile.halo,
                            kernel.radius()
                        ),
                    });
                }
                std::thread::sleep(delay);
                let blurred = blur_tile(job.tile, kernel, &mut scratch);
                Ok((entry.id, wire::encode(&blurred, job.sigma)))
            })
        })
        .named("blur")
        .batch_timeout(BATCH, BATCH_IDLE)
        .try_map(move |batch| {
            let results = batch.iter().map(|(_, payload)| payload);
            sink.append_and_ack(results, &group, batch.iter().map(|(id, _)| id))
        })
        .named("write")
        .for_each(drop)
        .run()?;
    println!(
        "worker {}: done; {} tiles claimed from quiet workers, {} read again from its own backlog, \
         {} sent to the dead letters\n{}",
        args.name,
        counts.claimed(),
        counts.backlog(),
        counts.dead_lettered(),
        finished.report
    );
    Ok(())
}
