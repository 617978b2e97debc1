//! Cutting images into tiles onto the tiles stream, after the manifest; and the sequential
//! blur to compare with.

use std::time::{Duration, Instant};

use weir_pipeline::Pipeline;
use weir_redis::{Reconnecting, StreamSink, DEFAULT_RECONNECT_WINDOW};

use crate::args::{Coordinator, Sequential};
use crate::image_ops::{blur, cut_tile, save_file, tile_count, tile_grid, Kernel};
use crate::images::Inputs;
use crate::{wire, Failure, Keys};

/// Tiles appended in one round trip.
const BATCH: usize = 16;
/// How long the coordinator waits for workers to take tiles from a full stream (none
/// running, say) before it gives up.
const BACKLOG_PATIENCE: Duration = Duration::from_secs(600);

pub(crate) fn run(args: &Coordinator) -> Result<(), Failure> {
    let started = Instant::now();
    let keys = Keys::new(&args.common.prefix);
    let inputs = Inputs::open(&args.source)?;
    let radius = Kernel::gaussian(args.sigma).radius();
    let tile = args.tile;

    // The manifest first, so that the assembler knows an image's name and how many images
    // to wait for before the first tile arrives.
    let mut redis = Reconnecting::open(&args.common.redis, DEFAULT_RECONNECT_WINDOW)?;
    let mut manifest = redis::pipe();
    manifest.atomic().cmd("DEL").arg(&keys.manifest).ignore();
    let mut tiles = 0;
    for id in 0..inputs.len() {
        let (width, height) = inputs.size(id)?;
        let count = tile_count(width, height, tile);
        tiles += count;
        manifest
            .cmd("HSET")
            .arg(&keys.manifest)
            .arg(format!("name:{id}"))
            .arg(inputs.name(id))
            .arg(format!("tiles:{id}"))
            .arg(count)
            .ignore();
    }
    manifest
        .cmd("HSET")
        .arg(&keys.manifest)
        .arg("images")
        .arg(inputs.len())
        .ignore();
    redis.run("HSET manifest", |c| manifest.query::<()>(c))?;

    // Workers delete the tiles they finish: waiting while the stream holds `backlog` tiles
    // keeps the server's memory to that many, not every image's (and leaves the cores to
    // the workers rather than to tiles cut far ahead).
    let mut sink = StreamSink::builder(&args.common.redis, &keys.tiles)
        .backpressure(args.backlog, BACKLOG_PATIENCE)
        .connect()?;
    let sigma = args.sigma;
    let report = Pipeline::from_iter(0..inputs.len())
        .try_map(move |id| inputs.load(id).map(|image| (id, image)))
        .named("load")
        .flat_map(move |(id, image)| {
            let count = tile_count(image.width, image.height, tile);
            tile_grid(image.width, image.height, tile)
                .enumerate()
                .map(|(index, rect)| {
                    wire::encode(&cut_tile(&image, id, index, count, rect, radius), sigma)
                })
                .collect::<Vec<_>>()
        })
        .named("cut")
        .batch(BATCH)
        .try_map(move |batch| sink.append(batch.iter()))
        .named("append")
        .for_each(drop)
        .run()?
        .report;
    println!(
        "coordinator: {tiles} tiles of {} images appended to {} in {:.2?}\n{report}",
        report.stages().first().map_or(0, |s| s.items_out()),
        keys.tiles,
        started.elapsed()
    );
    Ok(())
}

pub(crate) fn sequential(args: &Sequential) -> Result<(), Failure> {
    let started = Instant::now();
    let inputs = Inputs::open(&args.source)?;
    let kernel = Kernel::gaussian(args.sigma);
    std::fs::create_dir_all(&args.output)?;
    for id in 0..inputs.len() {
        let image = inputs.load(id)?;
        save_file(
            &args.output.join(format!("{}.png", inputs.name(id))),
            &blur(&image, &kernel),
        )?;
    }
    println!(
        "sequential: {} images in {:.2?}",
        inputs.len(),
        started.elapsed()
    );
    Ok(())
}
