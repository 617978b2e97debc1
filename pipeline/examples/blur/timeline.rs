//! Where the pipelined run's time went: each stage's closures record spans (which lane, which
//! image and tile, when), and [`draw_svg`] draws them as a timeline, one lane per stage or
//! worker.
//!
//! Recording is cheap: one short lock per span (a span is a whole image or tile, milliseconds
//! of work) into a vector whose capacity is reserved up front.

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where a span ran: a stage, or one worker of the blur stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Lane {
    Load,
    Cut,
    Blur(usize),
    Assemble,
    Save,
}

impl Lane {
    fn name(self) -> String {
        match self {
            Lane::Load => "load".to_owned(),
            Lane::Cut => "cut".to_owned(),
            Lane::Blur(worker) => format!("blur {worker}"),
            Lane::Assemble => "assemble".to_owned(),
            Lane::Save => "save".to_owned(),
        }
    }
}

/// One piece of work: a lane, an image, a tile of it (`None` for a whole image), and when.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub(crate) lane: Lane,
    pub(crate) image: usize,
    pub(crate) tile: Option<usize>,
    pub(crate) start: Duration,
    pub(crate) end: Duration,
}

/// The spans of one run, from its start.
#[derive(Debug)]
pub(crate) struct Spans {
    start: Instant,
    spans: Mutex<Vec<Span>>,
}

impl Spans {
    /// A recorder starting now, with room for `capacity` spans.
    pub(crate) fn new(capacity: usize) -> Self {
        Spans {
            start: Instant::now(),
            spans: Mutex::new(Vec::with_capacity(capacity)),
        }
    }

    /// Runs `f` and records it as a span of `lane` on `image` (and `tile`).
    pub(crate) fn time<R>(
        &self,
        lane: Lane,
        image: usize,
        tile: Option<usize>,
        f: impl FnOnce() -> R,
    ) -> R {
        let start = self.start.elapsed();
        let result = f();
        let end = self.start.elapsed();
        let span = Span {
            lane,
            image,
            tile,
            start,
            end,
        };
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
        result
    }

    /// The spans recorded so far.
    pub(crate) fn spans(&self) -> Vec<Span> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A colour per image, told apart at a glance (cycling after ten).
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Draws `spans` as an SVG timeline at `path`: a lane per stage and worker, a box per span,
/// coloured by image (tiles alternate light and dark so that each one shows), labelled with
/// the image (and tile) where it is wide enough, with `title` above and a time axis below.
pub(crate) fn draw_svg(path: &Path, title: &str, spans: &[Span]) -> Result<(), String> {
    use plotters::prelude::*;

    let mut lanes: Vec<Lane> = spans.iter().map(|s| s.lane).collect();
    lanes.sort_unstable();
    lanes.dedup();
    let (width, lane_height, left, top, bottom, right) = (1400i32, 34i32, 90, 50, 60, 20);
    let height = top + lane_height * lanes.len() as i32 + bottom;
    let end = spans
        .iter()
        .map(|s| s.end)
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1e-3);
    let plot_width = f64::from(width - left - right);
    let x_of = |t: Duration| left + (t.as_secs_f64() / end * plot_width).round() as i32;

    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    let fail = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(fail)?;
    let text = |size: u32| ("sans-serif", size).into_font().color(&BLACK);
    root.draw(&Text::new(title.to_owned(), (left, 15), text(16)))
        .map_err(fail)?;
    for (row, lane) in lanes.iter().enumerate() {
        let y = top + row as i32 * lane_height;
        root.draw(&Text::new(
            lane.name(),
            (8, y + lane_height / 2 - 7),
            text(13),
        ))
        .map_err(fail)?;
        root.draw(&Rectangle::new(
            [(left, y), (width - right, y + lane_height)],
            RGBColor(245, 245, 245).filled(),
        ))
        .map_err(fail)?;
    }
    for span in spans {
        let row = lanes.binary_search(&span.lane).unwrap_or(0) as i32;
        let y = top + row * lane_height;
        let (x0, x1) = (x_of(span.start), x_of(span.end).max(x_of(span.start) + 1));
        let (r, g, b) = PALETTE[span.image % PALETTE.len()];
        let shade = |c: u8| match span.tile {
            Some(tile) if tile % 2 == 1 => c / 2 + 64,
            _ => c,
        };
        let colour = RGBColor(shade(r), shade(g), shade(b));
        root.draw(&Rectangle::new(
            [(x0, y + 3), (x1, y + lane_height - 3)],
            colour.filled(),
        ))
        .map_err(fail)?;
        let label = match span.tile {
            Some(tile) => format!("{}.{tile}", span.image),
            None => format!("img {}", span.image),
        };
        if x1 - x0 >= 9 * label.len() as i32 {
            root.draw(&Text::new(
                label,
                (x0 + 3, y + lane_height / 2 - 6),
                ("sans-serif", 11).into_font().color(&WHITE),
            ))
            .map_err(fail)?;
        }
    }
    // The time axis: a tick about every tenth of the run, at a round number of milliseconds.
    let axis_y = top + lane_height * lanes.len() as i32 + 4;
    let step_ms = nice_step(end * 1e3 / 10.0);
    let mut tick = 0.0;
    while tick <= end * 1e3 + 1e-9 {
        let x = x_of(Duration::from_secs_f64(tick / 1e3));
        root.draw(&PathElement::new(
            vec![(x, axis_y), (x, axis_y + 6)],
            BLACK.stroke_width(1),
        ))
        .map_err(fail)?;
        root.draw(&Text::new(
            format!("{tick:.0}"),
            (x - 8, axis_y + 10),
            text(11),
        ))
        .map_err(fail)?;
        tick += step_ms;
    }
    root.draw(&Text::new(
        "ms since the start of the run; a box per image (load, cut, assemble, save) or tile (blur), coloured by image, tiles alternating light and dark; labels: image.tile"
            .to_owned(),
        (left, axis_y + 30),
        text(12),
    ))
    .map_err(fail)?;
    root.present().map_err(fail)?;
    Ok(())
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let power = 10f64.powf(rough.max(1e-3).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * power)
}
