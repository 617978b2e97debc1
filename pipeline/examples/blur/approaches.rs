//! The four ways the example blurs a set of images, each a function the tests call too:
//! [`sequential`], [`tiles`] (one image at a time, its tiles blurred by a weir `parallel`
//! stage), [`pipelined`] (load, cut, blur, assemble and save overlapping, tiles of several
//! images in flight) and [`rayon`] (rows split between threads, pass by pass).
//!
//! Each loads image after image from [`Inputs`] and hands each blurred image to a [`Sink`].
//! An image that cannot be loaded or saved is an [`ImageError`] in the [`Outcome`], and the
//! others go on; a failure of the run itself (a panic in a stage) is the `PipelineError`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use weir_pipeline::{Pipeline, PipelineError, Report};

use crate::image_ops::{
    blur, blur_tile, cut_tile, horizontal_row, place_tile, tile_count, tile_grid, vertical_rows,
    Image, ImageError, Kernel, Scratch, Tile,
};
use crate::timeline::{Lane, Spans};

/// Where the images come from: generated, or files.
pub(crate) trait Inputs: Send + Sync {
    /// How many images.
    fn len(&self) -> usize;
    /// Image `id`'s name, for errors and output files.
    fn name(&self, id: usize) -> String;
    /// Loads (or makes) image `id`.
    fn load(&self, id: usize) -> Result<Image, ImageError>;
}

/// Where the blurred images go.
pub(crate) trait Sink: Send + Sync {
    /// Takes blurred image `id`.
    fn save(&self, id: usize, image: Image) -> Result<(), ImageError>;
}

/// How to blur, and the pipeline's shape.
#[derive(Clone, Debug)]
pub(crate) struct Params {
    /// The Gaussian's standard deviation, in pixels.
    pub(crate) sigma: f64,
    /// Tiles are `tile` x `tile` pixels (plus the halo).
    pub(crate) tile: usize,
    /// Threads that blur (weir's `parallel` stage, rayon's pool).
    pub(crate) workers: usize,
    /// Loaded images waiting to be cut (pipelined).
    pub(crate) image_queue: usize,
    /// Tiles waiting to be blurred, and blurred tiles waiting to be put back.
    pub(crate) tile_queue: usize,
    /// Blurred images waiting to be saved (pipelined).
    pub(crate) save_queue: usize,
    /// For the tests: the blur of tile `(image, index)` panics.
    pub(crate) panic_at: Option<(usize, usize)>,
}

impl Params {
    /// The example's defaults: tiles of 256, a worker per core, small queues.
    pub(crate) fn new(sigma: f64, tile: usize, workers: usize) -> Self {
        Params {
            sigma,
            tile,
            workers,
            image_queue: 1,
            tile_queue: 4 * workers,
            save_queue: 1,
            panic_at: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Images the sink took.
    pub(crate) saved: usize,
    /// Images that could not be loaded or saved, in the order they failed.
    pub(crate) errors: Vec<ImageError>,
    /// The weir pipelines' reports: one per image for `tiles`, one for `pipelined`.
    pub(crate) reports: Vec<Report>,
    /// Images started but never completed (some tiles never arrived): always 0 in a run that
    /// succeeded, else tiles were lost.
    pub(crate) incomplete: usize,
}

/// Runs `f`, as a span of `lane` if spans are recorded.
fn timed<R>(
    spans: &Option<Arc<Spans>>,
    lane: Lane,
    image: usize,
    tile: Option<usize>,
    f: impl FnOnce() -> R,
) -> R {
    match spans {
        Some(spans) => spans.time(lane, image, tile, f),
        None => f(),
    }
}

/// Saves one image, recording an error instead of stopping.
fn save(sink: &dyn Sink, id: usize, image: Image, outcome: &mut Outcome) {
    match sink.save(id, image) {
        Ok(()) => outcome.saved += 1,
        Err(error) => outcome.errors.push(error),
    }
}

/// Approach 1, one image after another on this thread: load, blur, save.
pub(crate) fn sequential(
    inputs: &dyn Inputs,
    params: &Params,
    sink: &dyn Sink,
) -> Result<Outcome, PipelineError> {
    let kernel = Kernel::gaussian(params.sigma);
    let mut outcome = Outcome::default();
    for id in 0..inputs.len() {
        match inputs.load(id) {
            Ok(image) => {
                let blurred = blur(&image, &kernel);
                drop(image);
                save(sink, id, blurred, &mut outcome);
            }
            Err(error) => outcome.errors.push(error),
        }
    }
    Ok(outcome)
}

/// The blur stage's segment for each worker: blurs tiles (and panics on
/// [`Params::panic_at`]'s tile, for the tests).
fn blur_worker(
    kernel: Arc<Kernel>,
    panic_at: Option<(usize, usize)>,
    spans: Option<Arc<Spans>>,
    worker: usize,
) -> impl FnMut(Tile) -> Tile + Send + 'static {
    let mut scratch = Scratch::default();
    move |tile: Tile| {
        if panic_at == Some((tile.image, tile.index)) {
            panic!(
                "blur: tile {} of image {} (a test's panic)",
                tile.index, tile.image
            );
        }
        let (image, index) = (tile.image, tile.index);
        timed(&spans, Lane::Blur(worker), image, Some(index), || {
            blur_tile(tile, &kernel, &mut scratch)
        })
    }
}

/// Approach 2, one image at a time: its tiles (with a halo of the kernel's radius) are cut on one
/// thread, blurred by a weir `parallel` stage, and put back by the sink.
pub(crate) fn tiles(
    inputs: &dyn Inputs,
    params: &Params,
    sink: &dyn Sink,
) -> Result<Outcome, PipelineError> {
    let kernel = Arc::new(Kernel::gaussian(params.sigma));
    let (size, halo, panic_at) = (params.tile, kernel.radius(), params.panic_at);
    let mut outcome = Outcome::default();
    for id in 0..inputs.len() {
        let image = match inputs.load(id) {
            Ok(image) => Arc::new(image),
            Err(error) => {
                outcome.errors.push(error);
                continue;
            }
        };
        let count = tile_count(image.width, image.height, size);
        let rects: Vec<_> = tile_grid(image.width, image.height, size)
            .enumerate()
            .collect();
        let output = Image::new(image.width, image.height, image.channels);
        let source = Arc::clone(&image);
        let kernel = Arc::clone(&kernel);
        let next_worker = AtomicUsize::new(0);
        // A `map` stage cuts the tiles, so that the blur stage reads a queue, whose
        // capacity bounds the tiles a worker takes at once (reading `from_iter` directly,
        // a worker would take up to 256 tiles in one go and leave the others idle).
        let finished = Pipeline::from_iter(rects)
            .capacity(1)
            .map(move |(index, rect)| cut_tile(&source, id, index, count, rect, halo))
            .named("cut")
            .capacity(params.tile_queue)
            .parallel(params.workers, move |segment| {
                let worker = next_worker.fetch_add(1, Ordering::Relaxed);
                segment.map(blur_worker(Arc::clone(&kernel), panic_at, None, worker))
            })
            .named("blur")
            .capacity(params.tile_queue)
            .fold(output, |mut output, tile| {
                place_tile(&mut output, &tile);
                output
            })
            .run()?;
        drop(image);
        outcome.reports.push(finished.report);
        save(sink, id, finished.output, &mut outcome);
    }
    Ok(outcome)
}

/// An image being put back together from its tiles.
struct Partial {
    image: Image,
    seen: Vec<bool>,
    left: usize,
}

/// Approach 3, every step overlapping: `load` (a serial stage) → `cut` into tiles (`flat_map`) →
/// `blur` (`parallel`, unordered) → `assemble` (a serial stage that keeps the images whose
/// tiles are arriving, each complete when its last tile arrives) → `save`. Tiles of several
/// images are in flight at once; the queues' capacities bound how many images.
///
/// `spans`, if given, records each step of each image and tile for the timeline.
pub(crate) fn pipelined(
    inputs: Arc<dyn Inputs>,
    params: &Params,
    sink: Arc<dyn Sink>,
    spans: Option<Arc<Spans>>,
) -> Result<Outcome, PipelineError> {
    let kernel = Arc::new(Kernel::gaussian(params.sigma));
    let (size, halo, panic_at) = (params.tile, kernel.radius(), params.panic_at);
    let images = inputs.len();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let incomplete = Arc::new(AtomicUsize::new(0));
    let record = |errors: &Mutex<Vec<ImageError>>, error| {
        errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(error);
    };

    let load = {
        let (errors, spans) = (Arc::clone(&errors), spans.clone());
        move |id: usize| match timed(&spans, Lane::Load, id, None, || inputs.load(id)) {
            Ok(image) => Some((id, image)),
            Err(error) => {
                record(&errors, error);
                None
            }
        }
    };
    let cut = {
        let spans = spans.clone();
        move |(id, image): (usize, Image)| {
            let spans = spans.clone();
            let count = tile_count(image.width, image.height, size);
            // Lazily: a tile is cut as the stage hands the previous ones on.
            let rects: Vec<_> = tile_grid(image.width, image.height, size).collect();
            rects.into_iter().enumerate().map(move |(index, rect)| {
                timed(&spans, Lane::Cut, id, Some(index), || {
                    cut_tile(&image, id, index, count, rect, halo)
                })
            })
        }
    };
    let blur_stage = {
        let (kernel, spans) = (Arc::clone(&kernel), spans.clone());
        let next_worker = AtomicUsize::new(0);
        move |segment: weir_pipeline::Segment<Tile>| {
            let worker = next_worker.fetch_add(1, Ordering::Relaxed);
            segment.map(blur_worker(
                Arc::clone(&kernel),
                panic_at,
                spans.clone(),
                worker,
            ))
        }
    };
    let assemble = {
        let (spans, incomplete) = (spans.clone(), Arc::clone(&incomplete));
        let mut partials: HashMap<usize, Partial> = HashMap::new();
        move |tile: Tile| {
            let (id, index) = (tile.image, tile.index);
            timed(&spans, Lane::Assemble, id, Some(index), || {
                let partial = partials.entry(id).or_insert_with(|| {
                    incomplete.fetch_add(1, Ordering::Relaxed);
                    Partial {
                        image: Image::new(tile.image_width, tile.image_height, tile.channels),
                        seen: vec![false; tile.count],
                        left: tile.count,
                    }
                });
                assert!(
                    !std::mem::replace(&mut partial.seen[index], true),
                    "tile {index} of image {id} arrived twice"
                );
                place_tile(&mut partial.image, &tile);
                partial.left -= 1;
                if partial.left != 0 {
                    return None;
                }
                incomplete.fetch_sub(1, Ordering::Relaxed);
                partials.remove(&id).map(|done| (id, done.image))
            })
        }
    };
    let save = {
        let (errors, spans) = (Arc::clone(&errors), spans.clone());
        move |(id, image): (usize, Image)| match timed(&spans, Lane::Save, id, None, || {
            sink.save(id, image)
        }) {
            Ok(()) => true,
            Err(error) => {
                record(&errors, error);
                false
            }
        }
    };

    // `from_iter` hands out image numbers only: the loading is a stage of its own, so that it
    // overlaps the rest and is held back by the queue after it.
    let finished = Pipeline::from_iter(0..images)
        // One image at a time into each stage that turns one item into a big one: a stage
        // hands its outputs on when it has done its whole input chunk.
        .capacity(1)
        .filter_map(load)
        .named("load")
        .capacity(params.image_queue)
        .flat_map(cut)
        .named("cut")
        .capacity(params.tile_queue)
        .parallel(params.workers, blur_stage)
        .named("blur")
        .capacity(params.tile_queue)
        .flat_map(assemble)
        .named("assemble")
        .capacity(params.save_queue)
        .map(save)
        .named("save")
        .fold(0usize, |saved, ok| saved + usize::from(ok))
        .run()?;
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(Outcome {
        saved: finished.output,
        errors,
        reports: vec![finished.report],
        incomplete: incomplete.load(Ordering::Relaxed),
    })
}

/// Approach 4, what a Rust user writes today: one image at a time, each pass's rows split between
/// rayon's threads (`par_chunks_mut`).
pub(crate) fn rayon(
    inputs: &dyn Inputs,
    params: &Params,
    sink: &dyn Sink,
) -> Result<Outcome, PipelineError> {
    use ::rayon::prelude::*;

    let kernel = Kernel::gaussian(params.sigma);
    let pool = ::rayon::ThreadPoolBuilder::new()
        .num_threads(params.workers)
        .build()
        .expect("rayon's thread pool starts");
    let mut outcome = Outcome::default();
    for id in 0..inputs.len() {
        let image = match inputs.load(id) {
            Ok(image) => image,
            Err(error) => {
                outcome.errors.push(error);
                continue;
            }
        };
        let blurred = pool.install(|| {
            let (stride, height) = (image.stride(), image.height);
            let mut output = Image::new(image.width, height, image.channels);
            if stride == 0 || height == 0 {
                return output;
            }
            let mut between = vec![0u16; stride * height];
            between.par_chunks_mut(stride).enumerate().for_each_init(
                Scratch::default,
                |scratch, (y, row)| {
                    horizontal_row(&image, y, &kernel, scratch, row);
                },
            );
            output
                .pixels
                .par_chunks_mut(stride)
                .enumerate()
                .for_each_init(Vec::new, |sums, (y, row)| {
                    vertical_rows(&between, stride, height, y..y + 1, &kernel, sums, row);
                });
            output
        });
        drop(image);
        save(sink, id, blurred, &mut outcome);
    }
    Ok(outcome)
}
