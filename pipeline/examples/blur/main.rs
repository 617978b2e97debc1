//! Tile-parallel Gaussian blur of a set of images, four ways, timed side by side: one image
//! after another on one thread; one image at a time with its tiles blurred by a weir
//! `parallel` stage; a weir pipeline where loading, cutting, blurring, assembling and saving
//! overlap; and rayon over rows. Every output is checked byte-equal to the sequential one.
//!
//! ```text
//! cargo run --release -p weir-pipeline --example blur -- [--input DIR] [--output DIR]
//!     [--sigma S] [--tile N] [--approach all|sequential|tiles|pipelined|rayon]
//!     [--workers N] [--images N] [--tile-queue N] [--timeline FILE]
//! ```
//!
//! Without `--input` it blurs 8 generated 2048x1536 RGB images (and saves nothing unless
//! `--output` is given); with it, the PNG and JPEG files in DIR, saved to `--output`
//! (`blurred/` by default). The pipelined run prints its report and draws its timeline
//! (`--timeline`, by default `target/blur-timeline.svg`, or `blur-timeline.svg` where there is
//! no `target/`).

mod approaches;
mod image_ops;
mod memory;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use approaches::{Inputs, Outcome, Params, Sink};
use image_ops::{Image, ImageError};
use timeline::Spans;

#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

/// The command line.
struct Args {
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    sigma: f64,
    tile: usize,
    approaches: Vec<&'static str>,
    workers: usize,
    images: usize,
    tile_queue: Option<usize>,
    timeline: PathBuf,
}

const APPROACHES: [&str; 4] = ["sequential", "tiles", "pipelined", "rayon"];

fn parse_args() -> Result<Args, String> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = Args {
        input: None,
        output: None,
        sigma: 4.0,
        tile: 256,
        approaches: APPROACHES.to_vec(),
        workers,
        images: 8,
        tile_queue: None,
        // Under cargo's `target/` when run from the workspace, out of the way of the sources.
        timeline: if Path::new("target").is_dir() {
            PathBuf::from("target/blur-timeline.svg")
        } else {
            PathBuf::from("blur-timeline.svg")
        },
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{flag} needs a positive whole number, not {text:?}"))
        };
        match flag.as_str() {
            "--input" => args.input = Some(PathBuf::from(value()?)),
            "--output" => args.output = Some(PathBuf::from(value()?)),
            "--sigma" => {
                let text = value()?;
                args.sigma = text
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 1000.0)
                    .ok_or_else(|| format!("--sigma needs a number in (0, 1000], not {text:?}"))?;
            }
            "--tile" => args.tile = number(value()?)?,
            "--workers" => args.workers = number(value()?)?,
            "--images" => args.images = number(value()?)?,
            "--tile-queue" => args.tile_queue = Some(number(value()?)?),
            "--timeline" => args.timeline = PathBuf::from(value()?),
            "--approach" => {
                let text = value()?;
                args.approaches = match text.as_str() {
                    "all" => APPROACHES.to_vec(),
                    one => vec![*APPROACHES.iter().find(|&&a| a == one).ok_or_else(|| {
                        format!(
                            "--approach is all, sequential, tiles, pipelined or rayon, not {one:?}"
                        )
                    })?],
                };
            }
            "-h" | "--help" => {
                return Err(
                    "usage: blur [--input DIR] [--output DIR] [--sigma S] [--tile N] \
                     [--approach all|sequential|tiles|pipelined|rayon] [--workers N] \
                     [--images N] [--tile-queue N] [--timeline FILE]"
                        .to_owned(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if args.input.is_some() && args.output.is_none() {
        args.output = Some(PathBuf::from("blurred"));
    }
    Ok(args)
}

/// A deterministic set of RGB test images, made when loaded.
struct Generated {
    count: usize,
    width: usize,
    height: usize,
}

impl Inputs for Generated {
    fn len(&self) -> usize {
        self.count
    }

    fn name(&self, id: usize) -> String {
        format!("generated-{id}.png")
    }

    fn load(&self, id: usize) -> Result<Image, ImageError> {
        Ok(Image::generated(self.width, self.height, id as u64))
    }
}

/// The PNG and JPEG files of a folder.
struct Files {
    paths: Vec<PathBuf>,
}

impl Files {
    /// The files of `dir` whose names end in `.png`, `.jpg` or `.jpeg`, by name; the others
    /// are listed in `skipped`.
    fn in_dir(dir: &Path) -> Result<(Files, Vec<PathBuf>), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let (mut paths, mut skipped) = (Vec::new(), Vec::new());
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .path();
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match extension.as_deref() {
                Some("png" | "jpg" | "jpeg") => paths.push(path),
                _ => skipped.push(path),
            }
        }
        paths.sort();
        skipped.sort();
        Ok((Files { paths }, skipped))
    }
}

impl Inputs for Files {
    fn len(&self) -> usize {
        self.paths.len()
    }

    fn name(&self, id: usize) -> String {
        self.paths[id].file_name().map_or_else(
            || format!("image-{id}.png"),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    fn load(&self, id: usize) -> Result<Image, ImageError> {
        image_ops::load_file(&self.paths[id])
    }
}

/// Checks each blurred image against the sequential run's (or keeps it, in the sequential
/// run), and writes it to the output folder if there is one.
struct CheckSink {
    names: Vec<String>,
    output: Option<PathBuf>,
    /// The sequential run's images, by id: filled by the sequential run, read by the others.
    reference: Arc<Mutex<Vec<Option<Image>>>>,
    keep: bool,
    differ: Mutex<Vec<usize>>,
    checked: AtomicUsize,
}

impl Sink for CheckSink {
    fn save(&self, id: usize, image: Image) -> Result<(), ImageError> {
        if let Some(dir) = &self.output {
            image_ops::save_file(&dir.join(&self.names[id]), &image)?;
        }
        let mut reference = self
            .reference
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.keep {
            // Kept for the comparisons, not part of this run's working memory.
            memory::set_aside(image.pixels.capacity());
            reference[id] = Some(image);
        } else if let Some(expected) = &reference[id] {
            self.checked.fetch_add(1, Ordering::Relaxed);
            if *expected != image {
                self.differ
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(id);
            }
        }
        Ok(())
    }
}

/// One approach's row of the table.
struct Row {
    name: &'static str,
    time: Duration,
    cpu: Duration,
    peak: usize,
    check: String,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("blur: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the approaches; `Ok(false)` if an image failed or an output differed.
fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let (inputs, tiles_estimate): (Arc<dyn Inputs>, usize) = match &args.input {
        Some(dir) => {
            let (files, skipped) = Files::in_dir(dir)?;
            for path in skipped {
                println!("skipped (not .png, .jpg or .jpeg): {}", path.display());
            }
            if files.len() == 0 {
                return Err(format!("no PNG or JPEG file in {}", dir.display()));
            }
            let estimate = files.len() * 64;
            (Arc::new(files), estimate)
        }
        None => {
            let (width, height) = (2048, 1536);
            let estimate = args.images * image_ops::tile_count(width, height, args.tile);
            let generated = Generated {
                count: args.images,
                width,
                height,
            };
            (Arc::new(generated), estimate)
        }
    };
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut params = Params::new(args.sigma, args.tile, args.workers);
    if let Some(queue) = args.tile_queue {
        params.tile_queue = queue;
    }
    println!(
        "{} images ({}), sigma {} (radius {}), tiles {}x{}, {} workers, tile queues {}",
        inputs.len(),
        args.input.as_ref().map_or_else(
            || "generated 2048x1536 RGB".to_owned(),
            |d| d.display().to_string()
        ),
        args.sigma,
        image_ops::Kernel::gaussian(args.sigma).radius(),
        args.tile,
        args.tile,
        args.workers,
        params.tile_queue,
    );

    let names: Vec<String> = (0..inputs.len()).map(|id| inputs.name(id)).collect();
    let reference = Arc::new(Mutex::new(vec![None; inputs.len()]));
    let compare = args.approaches.contains(&"sequential") && args.approaches.len() > 1;
    let mut rows = Vec::new();
    let mut all_well = true;
    let mut pipelined_run = None;
    for &name in &args.approaches {
        let sink = Arc::new(CheckSink {
            names: names.clone(),
            output: args.output.clone(),
            reference: Arc::clone(&reference),
            keep: compare && name == "sequential",
            differ: Mutex::new(Vec::new()),
            checked: AtomicUsize::new(0),
        });
        let spans = (name == "pipelined").then(|| Arc::new(Spans::new(tiles_estimate * 3 + 64)));
        memory::reset_peak();
        let (cpu_before, started) = (weir_test_support::process_cpu_time(), Instant::now());
        let result = match name {
            "sequential" => approaches::sequential(&*inputs, &params, &*sink),
            "tiles" => approaches::tiles(&*inputs, &params, &*sink),
            "pipelined" => approaches::pipelined(
                Arc::clone(&inputs),
                &params,
                Arc::clone(&sink) as Arc<dyn Sink>,
                spans.clone(),
            ),
            _ => approaches::rayon(&*inputs, &params, &*sink),
        };
        let time = started.elapsed();
        let cpu = weir_test_support::process_cpu_time().saturating_sub(cpu_before);
        let peak = memory::peak_since_reset();
        let outcome: Outcome = result.map_err(|error| {
            format!(
                "{name}: the run failed at stage {:?}: {error}\n{}",
                error.stage(),
                error.report()
            )
        })?;
        for error in &outcome.errors {
            all_well = false;
            println!("{name}: {error}");
        }
        if outcome.incomplete != 0 {
            all_well = false;
            println!(
                "{name}: {} images never completed (tiles lost)",
                outcome.incomplete
            );
        }
        let differ = sink
            .differ
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let check = if !compare {
            "not compared".to_owned()
        } else if name == "sequential" {
            "reference".to_owned()
        } else if differ.is_empty() {
            format!(
                "byte-equal ({} of {})",
                sink.checked.load(Ordering::Relaxed),
                outcome.saved
            )
        } else {
            all_well = false;
            format!("DIFFERS: images {differ:?}")
        };
        if name == "pipelined" {
            pipelined_run = Some((outcome, spans));
        }
        rows.push(Row {
            name,
            time,
            cpu,
            peak,
            check,
        });
    }

    print_table(&rows);
    if let Some((outcome, spans)) = pipelined_run {
        if let Some(report) = outcome.reports.first() {
            println!("\nthe pipelined run's report:\n{report}");
            let stage = |name: &str| report.stage(name).map_or(0, |s| s.items_out());
            let assembled = report.stage("assemble").map_or(0, |s| s.items_in());
            println!(
                "tiles: {} cut, {} blurred, {} assembled; {} images assembled, {} saved",
                stage("cut"),
                stage("blur"),
                assembled,
                stage("assemble"),
                outcome.saved
            );
        }
        if let Some(spans) = spans {
            let title = format!(
                "weir-pipeline blur example, pipelined: {} images, sigma {}, tiles {}, {} blur workers",
                inputs.len(),
                args.sigma,
                args.tile,
                args.workers
            );
            match timeline::draw_svg(&args.timeline, &title, &spans.spans()) {
                Ok(()) => println!("timeline: {}", args.timeline.display()),
                Err(error) => println!("timeline not drawn: {error}"),
            }
        }
    }
    if let Some(dir) = &args.output {
        println!("blurred images in {}", dir.display());
    }
    Ok(all_well)
}

fn print_table(rows: &[Row]) {
    let sequential = rows
        .iter()
        .find(|row| row.name == "sequential")
        .map(|row| row.time);
    println!(
        "\n{:<10} {:>9} {:>9} {:>9} {:>12}  output",
        "approach", "time", "speed-up", "CPU", "peak memory"
    );
    for row in rows {
        let speedup = sequential.map_or_else(
            || "-".to_owned(),
            |s| format!("{:.2}x", s.as_secs_f64() / row.time.as_secs_f64()),
        );
        println!(
            "{:<10} {:>7.0}ms {:>9} {:>7.0}ms {:>9.1} MB  {}",
            row.name,
            row.time.as_secs_f64() * 1e3,
            speedup,
            row.cpu.as_secs_f64() * 1e3,
            row.peak as f64 / 1e6,
            row.check
        );
    }
}
