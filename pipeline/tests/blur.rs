//! The blur example (`examples/blur/`), on small images: every approach byte-equal to the
//! sequential one whatever the sizes, tiles and sigma; every tile accounted for; a bad file
//! failing only its image; a panic in the blur failing the run cleanly; and the images in
//! flight bounded by the pipeline's capacities.
//!
//! The example's modules are compiled in here as they are, so there is one copy of the code.

#![cfg_attr(miri, allow(unused))]

#[allow(dead_code)]
#[path = "../examples/blur/approaches.rs"]
mod approaches;
#[allow(dead_code)]
#[path = "../examples/blur/image_ops.rs"]
mod image_ops;
#[allow(dead_code)]
#[path = "../examples/blur/timeline.rs"]
mod timeline;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use approaches::{Inputs, Outcome, Params, Sink};
use image_ops::{blur, Image, ImageError, Kernel};
use weir_pipeline::ErrorKind;
use weir_test_support::within;

const LIMIT: Duration = Duration::from_secs(120);

/// Images held in memory.
struct Set(Vec<Image>);

impl Inputs for Set {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn name(&self, id: usize) -> String {
        format!("image {id}")
    }

    fn load(&self, id: usize) -> Result<Image, ImageError> {
        Ok(self.0[id].clone())
    }
}

/// Files, loaded with the example's loader.
struct Files(Vec<PathBuf>);

impl Inputs for Files {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn name(&self, id: usize) -> String {
        self.0[id].display().to_string()
    }

    fn load(&self, id: usize) -> Result<Image, ImageError> {
        image_ops::load_file(&self.0[id])
    }
}

/// Keeps what it is given, and how many times each image came.
struct Collect {
    images: Mutex<Vec<Option<Image>>>,
    times: Vec<AtomicUsize>,
}

impl Collect {
    fn new(count: usize) -> Arc<Self> {
        Arc::new(Collect {
            images: Mutex::new(vec![None; count]),
            times: (0..count).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    fn images(&self) -> Vec<Option<Image>> {
        self.images.lock().unwrap().clone()
    }

    fn assert_each_once(&self) {
        for (id, times) in self.times.iter().enumerate() {
            assert_eq!(times.load(Ordering::Relaxed), 1, "image {id} saved once");
        }
    }
}

impl Sink for Collect {
    fn save(&self, id: usize, image: Image) -> Result<(), ImageError> {
        self.times[id].fetch_add(1, Ordering::Relaxed);
        self.images.lock().unwrap()[id] = Some(image);
        Ok(())
    }
}

/// Writes each image to a folder, as the example does.
struct Folder {
    dir: PathBuf,
    names: Vec<String>,
}

impl Sink for Folder {
    fn save(&self, id: usize, image: Image) -> Result<(), ImageError> {
        image_ops::save_file(&self.dir.join(&self.names[id]), &image)
    }
}

const APPROACHES: [&str; 4] = ["sequential", "tiles", "pipelined", "rayon"];

/// Runs approach `name` on `inputs`.
fn run(
    name: &str,
    inputs: Arc<dyn Inputs>,
    params: &Params,
    sink: Arc<dyn Sink>,
) -> Result<Outcome, weir_pipeline::PipelineError> {
    match name {
        "sequential" => approaches::sequential(&*inputs, params, &*sink),
        "tiles" => approaches::tiles(&*inputs, params, &*sink),
        "pipelined" => approaches::pipelined(inputs, params, sink, None),
        "rayon" => approaches::rayon(&*inputs, params, &*sink),
        other => unreachable!("no approach {other}"),
    }
}

/// Runs every approach on `images`; checks that each gives the sequential blur of each image,
/// once, and accounts for every tile; returns the blurred images.
fn check_all(images: Vec<Image>, params: &Params) -> Vec<Image> {
    let kernel = Kernel::gaussian(params.sigma);
    let expected: Vec<Image> = images.iter().map(|image| blur(image, &kernel)).collect();
    let tiles: Vec<usize> = images
        .iter()
        .map(|i| image_ops::tile_count(i.width, i.height, params.tile))
        .collect();
    let inputs: Arc<dyn Inputs> = Arc::new(Set(images));
    for name in APPROACHES {
        let sink = Collect::new(inputs.len());
        let outcome = run(name, Arc::clone(&inputs), params, Arc::clone(&sink) as _)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
        assert_eq!(outcome.saved, inputs.len(), "{name}");
        assert_eq!(outcome.incomplete, 0, "{name}: images never completed");
        sink.assert_each_once();
        for (id, got) in sink.images().into_iter().enumerate() {
            let got = got.expect("saved");
            assert!(
                got == expected[id],
                "{name}: image {id} ({:?}, tile {}, sigma {}) differs from the sequential blur",
                expected[id],
                params.tile,
                params.sigma
            );
        }
        assert_tiles_accounted(name, &outcome, &tiles);
    }
    expected
}

/// The reports' counts: tiles cut = tiles blurred = tiles assembled, per image for `tiles`
/// and in all for `pipelined`.
fn assert_tiles_accounted(name: &str, outcome: &Outcome, tiles: &[usize]) {
    let out =
        |report: &weir_pipeline::Report, stage: &str| report.stage(stage).unwrap().items_out();
    let into =
        |report: &weir_pipeline::Report, stage: &str| report.stage(stage).unwrap().items_in();
    match name {
        "tiles" => {
            assert_eq!(outcome.reports.len(), tiles.len());
            for (report, &count) in outcome.reports.iter().zip(tiles) {
                let count = count as u64;
                assert_eq!(out(report, "cut"), count, "{report}");
                assert_eq!(into(report, "blur"), count, "{report}");
                assert_eq!(out(report, "blur"), count, "{report}");
                assert_eq!(report.items_out(), count, "assembled\n{report}");
                assert_eq!(report.discarded(), 0, "{report}");
            }
        }
        "pipelined" => {
            let report = &outcome.reports[0];
            let (count, images) = (tiles.iter().sum::<usize>() as u64, tiles.len() as u64);
            assert_eq!(out(report, "load"), images, "{report}");
            assert_eq!(out(report, "cut"), count, "{report}");
            assert_eq!(into(report, "blur"), count, "{report}");
            assert_eq!(out(report, "blur"), count, "{report}");
            assert_eq!(into(report, "assemble"), count, "{report}");
            assert_eq!(out(report, "assemble"), images, "{report}");
            assert_eq!(out(report, "save"), images, "{report}");
            assert_eq!(report.discarded(), 0, "{report}");
        }
        _ => assert!(outcome.reports.is_empty()),
    }
}

fn params(sigma: f64, tile: usize) -> Params {
    let mut params = Params::new(sigma, tile, 2);
    // Small queues: several images' tiles in flight even with small images.
    params.tile_queue = 3;
    params
}

/// An RGBA version of a generated picture, with a varying alpha.
fn with_alpha(image: &Image) -> Image {
    let pixels = image
        .pixels
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i * 7 % 256) as u8])
        .collect();
    Image {
        channels: 4,
        pixels,
        ..image.clone()
    }
}

/// The blur straight from its definition, pixel by pixel: the horizontal sum over clamped
/// columns rounded to 8 fractional bits, then the vertical sum over clamped rows rounded to
/// 8 bits, with the kernel's fixed-point weights.
fn blur_by_definition(image: &Image, sigma: f64) -> Image {
    let kernel = Kernel::gaussian(sigma);
    let r = kernel.radius();
    let taps = kernel.weights();
    assert_eq!(taps.iter().sum::<u32>(), 1 << 14, "the weights sum to 2^14");
    let (w, h, ch) = (image.width, image.height, image.channels);
    let at = |x: isize, y: isize, c: usize| {
        let x = x.clamp(0, w as isize - 1) as usize;
        let y = y.clamp(0, h as isize - 1) as usize;
        image.pixels[(y * w + x) * ch + c]
    };
    let mut between = vec![0u32; w * h * ch];
    for y in 0..h {
        for x in 0..w {
            for c in 0..ch {
                let sum: u32 = (0..=2 * r)
                    .map(|k| {
                        taps[k] * u32::from(at(x as isize + k as isize - r as isize, y as isize, c))
                    })
                    .sum();
                between[(y * w + x) * ch + c] = (sum + (1 << 5)) >> 6;
            }
        }
    }
    let mut out = Image::new(w, h, ch);
    for y in 0..h {
        for x in 0..w {
            for c in 0..ch {
                let sum: u32 = (0..=2 * r)
                    .map(|k| {
                        let yy = (y as isize + k as isize - r as isize).clamp(0, h as isize - 1)
                            as usize;
                        taps[k] * between[(yy * w + x) * ch + c]
                    })
                    .sum();
                out.pixels[(y * w + x) * ch + c] = ((sum + (1 << 21)) >> 22) as u8;
            }
        }
    }
    out
}

#[test]
#[cfg_attr(miri, ignore = "seconds of blurring")]
fn the_blur_is_the_clamped_convolution() {
    for (width, height, sigma) in [(23, 17, 0.5), (23, 17, 2.0), (5, 3, 5.0), (1, 1, 1.0)] {
        let image = Image::generated(width, height, 7);
        let kernel = Kernel::gaussian(sigma);
        assert_eq!(
            blur(&image, &kernel),
            blur_by_definition(&image, sigma),
            "{width}x{height} sigma {sigma}"
        );
        let rgba = with_alpha(&image);
        assert_eq!(blur(&rgba, &kernel), blur_by_definition(&rgba, sigma));
    }
    // A flat image stays exactly flat.
    let flat = Image {
        pixels: vec![200; 30 * 20 * 3],
        ..Image::new(30, 20, 3)
    };
    assert_eq!(blur(&flat, &Kernel::gaussian(3.0)), flat);
}

#[test]
#[cfg_attr(miri, ignore = "seconds of blurring")]
fn every_approach_is_byte_equal_to_sequential() {
    within(LIMIT, || {
        // Odd sizes, a 1x1 image, an image narrower than the kernel, RGB and RGBA.
        let base = Image::generated(301, 203, 1);
        let images = vec![
            base.clone(),
            Image::generated(1, 1, 2),
            with_alpha(&Image::generated(37, 5, 3)),
            Image::generated(64, 64, 4),
        ];
        // Tiles that do not divide the sizes (7, 48), that divide one (64), larger than the
        // images (512); small tiles only with the small kernel (a halo of 15 around a tile of
        // 7 is a lot of work for little).
        for (sigma, tile) in [
            (0.5, 7),
            (0.5, 64),
            (0.5, 512),
            (5.0, 48),
            (5.0, 64),
            (5.0, 512),
        ] {
            check_all(images.clone(), &params(sigma, tile));
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "seconds of blurring")]
fn a_bad_file_fails_only_that_image() {
    within(LIMIT, || {
        let dir = TempDir::new("bad-file");
        let good = Image::generated(61, 43, 5);
        let good_rgba = with_alpha(&Image::generated(20, 31, 6));
        let names = [
            "a-good.png",
            "b-garbage.png",
            "c-truncated.png",
            "d-good.png",
            "e-empty.jpg",
        ];
        image_ops::save_file(&dir.path.join(names[0]), &good).unwrap();
        std::fs::write(dir.path.join(names[1]), b"this is not an image at all").unwrap();
        image_ops::save_file(&dir.path.join(names[2]), &good).unwrap();
        let bytes = std::fs::read(dir.path.join(names[2])).unwrap();
        std::fs::write(dir.path.join(names[2]), &bytes[..bytes.len() / 2]).unwrap();
        image_ops::save_file(&dir.path.join(names[3]), &good_rgba).unwrap();
        std::fs::write(dir.path.join(names[4]), b"").unwrap();
        let paths: Vec<PathBuf> = names.iter().map(|n| dir.path.join(n)).collect();
        let inputs: Arc<dyn Inputs> = Arc::new(Files(paths.clone()));
        let kernel = Kernel::gaussian(2.0);
        for name in APPROACHES {
            let out = TempDir::new(&format!("bad-file-out-{name}"));
            let sink = Arc::new(Folder {
                dir: out.path.clone(),
                names: names.iter().map(|n| n.to_string()).collect(),
            });
            let outcome = run(name, Arc::clone(&inputs), &params(2.0, 16), sink)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let failed: Vec<&str> = outcome.errors.iter().map(|e| e.name.as_str()).collect();
            let bad: Vec<String> = [1, 2, 4]
                .iter()
                .map(|&i| paths[i].display().to_string())
                .collect();
            assert_eq!(failed, bad, "{name}: {:?}", outcome.errors);
            for error in &outcome.errors {
                assert!(error.to_string().starts_with(&error.name), "{error}");
            }
            assert_eq!(outcome.saved, 2, "{name}");
            for (i, source) in [(0, &good), (3, &good_rgba)] {
                let saved = image_ops::load_file(&out.path.join(names[i])).unwrap();
                assert_eq!(saved, blur(source, &kernel), "{name}: {}", names[i]);
            }
            for i in [1, 2, 4] {
                assert!(!out.path.join(names[i]).exists(), "{name}: {}", names[i]);
            }
            assert_eq!(out.files().len(), 2, "{name}: {:?}", out.files());
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "seconds of blurring")]
fn a_panic_in_the_blur_fails_the_run_cleanly() {
    let images: Vec<Image> = (0..6).map(|seed| Image::generated(48, 40, seed)).collect();
    let kernel = Kernel::gaussian(1.5);
    let expected: Vec<Image> = images.iter().map(|i| blur(i, &kernel)).collect();
    let inputs: Arc<dyn Inputs> = Arc::new(Set(images));
    for name in ["tiles", "pipelined"] {
        let out = TempDir::new(&format!("panic-{name}"));
        let names: Vec<String> = (0..6).map(|id| format!("{id}.png")).collect();
        let sink = Arc::new(Folder {
            dir: out.path.clone(),
            names: names.clone(),
        });
        let mut params = params(1.5, 16);
        params.panic_at = Some((3, 4));
        let inputs = Arc::clone(&inputs);
        let error = within(LIMIT, move || run(name, inputs, &params, sink))
            .expect_err("a panic fails the run");
        assert_eq!(error.stage(), "blur", "{name}");
        match error.kind() {
            ErrorKind::Panicked(message) => {
                assert!(message.contains("tile 4 of image 3"), "{name}: {message}")
            }
            other => panic!("{name}: {other}"),
        }
        // What was saved is whole and right, under its final name; image 3 is not there, and
        // no temporary file is left.
        let files = out.files();
        assert!(!files.contains(&"3.png".to_owned()), "{name}: {files:?}");
        for file in &files {
            let id: usize = file
                .strip_suffix(".png")
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("{name}: a stray file {file}"));
            let saved = image_ops::load_file(&out.path.join(file)).unwrap();
            assert_eq!(saved, expected[id], "{name}: {file}");
        }
    }
}

/// Counts images loaded and not yet saved, and the most at once.
struct InFlight {
    set: Set,
    now: AtomicUsize,
    peak: AtomicUsize,
    saved: AtomicUsize,
}

impl Inputs for InFlight {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn name(&self, id: usize) -> String {
        self.set.name(id)
    }

    fn load(&self, id: usize) -> Result<Image, ImageError> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.set.load(id)
    }
}

impl Sink for InFlight {
    fn save(&self, _: usize, _: Image) -> Result<(), ImageError> {
        self.now.fetch_sub(1, Ordering::SeqCst);
        self.saved.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
#[cfg_attr(miri, ignore = "seconds of blurring")]
fn the_images_in_flight_are_bounded_by_the_capacities() {
    within(LIMIT, || {
        let images = 80;
        let (width, height, tile) = (64, 48, 16);
        let counter = Arc::new(InFlight {
            set: Set((0..images)
                .map(|seed| Image::generated(width, height, seed as u64))
                .collect()),
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            saved: AtomicUsize::new(0),
        });
        let mut params = params(1.0, tile);
        params.tile_queue = 4;
        let outcome = approaches::pipelined(
            Arc::clone(&counter) as _,
            &params,
            Arc::clone(&counter) as _,
            None,
        )
        .unwrap();
        assert_eq!(outcome.saved, images);
        assert_eq!(counter.saved.load(Ordering::SeqCst), images);
        // Loaded and not yet saved, at most: one being loaded, the image queue, one being
        // cut; an image for each tile in flight (in the blur stage's queue, held by a worker,
        // which takes at most a queue's worth at once, in the assembler's queue or in its
        // chunk); the images completed in the assembler's chunk, the save queue, one being
        // saved. (Queues rounded up to a power of two, in case.)
        let queue = |capacity: usize| capacity.next_power_of_two();
        let tiles_in_flight = queue(params.tile_queue) * (3 + params.workers);
        let bound = 1
            + queue(params.image_queue)
            + 1
            + tiles_in_flight
            + queue(params.tile_queue)
            + queue(params.save_queue)
            + 1;
        let peak = counter.peak.load(Ordering::SeqCst);
        assert!(bound < images / 2, "the bound {bound} means something");
        assert!(
            peak <= bound,
            "{peak} images in flight at once, bound {bound}"
        );
        assert!(
            peak >= 2,
            "the pipeline overlaps images ({peak} at most at once)"
        );
    });
}

/// A folder of its own under the system's temporary one, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("weir-blur-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// The names of the files in it, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
