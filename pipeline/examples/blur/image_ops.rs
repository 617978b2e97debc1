//! The image side of the blur example, shared by every approach and by the tests
//! (`pipeline/tests/blur.rs` includes this file): 8-bit RGB(A) images, the Gaussian kernel,
//! the separable blur with clamped edges, and the tiles (cut with a halo, blurred, put back).
//!
//! The arithmetic is integer and the same whatever the approach, so that outputs compare byte
//! for byte: the kernel's weights are integers summing to 2^14; the horizontal pass keeps
//! 8 fractional bits in a `u16`, the vertical pass rounds back to `u8`. A sum of integers does
//! not depend on the order it is taken in, and every approach calls the same two row functions
//! ([`blur_row_h`], [`blur_row_v`]) on the same values: the whole image with its edges
//! clamped, or a tile whose halo was cut from the image with the same clamping.

use std::fmt;
use std::ops::Range;

/// An 8-bit image, rows top to bottom, `channels` bytes a pixel (3: RGB, 4: RGBA).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) channels: usize,
    pub(crate) pixels: Vec<u8>,
}

impl Image {
    /// A black image.
    ///
    /// # Panics
    ///
    /// If `channels` is not 3 or 4.
    pub(crate) fn new(width: usize, height: usize, channels: usize) -> Self {
        assert!(
            channels == 3 || channels == 4,
            "an image has 3 (RGB) or 4 (RGBA) channels, not {channels}"
        );
        Image {
            width,
            height,
            channels,
            pixels: vec![0; width * height * channels],
        }
    }

    /// A deterministic RGB test picture: gradients, rings and a little noise, different for
    /// each `seed`, with enough detail that a blur changes most of its bytes.
    pub(crate) fn generated(width: usize, height: usize, seed: u64) -> Self {
        let mut image = Image::new(width, height, 3);
        let (cx, cy) = (
            (seed.wrapping_mul(7919) % width.max(1) as u64) as i64,
            (seed.wrapping_mul(104_729) % height.max(1) as u64) as i64,
        );
        let stride = image.stride();
        for (y, row) in image.pixels.chunks_exact_mut(stride.max(1)).enumerate() {
            for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
                let (dx, dy) = (x as i64 - cx, y as i64 - cy);
                let ring = ((dx * dx + dy * dy) >> 6) as u64;
                let noise = mix(seed ^ ((y as u64) << 32) ^ x as u64);
                pixel[0] = (x * 255 / width.max(1)) as u8 ^ (noise as u8 & 0x1f);
                pixel[1] = (y * 255 / height.max(1)) as u8 ^ ((noise >> 8) as u8 & 0x1f);
                pixel[2] = (ring.wrapping_add(seed) as u8) ^ ((noise >> 16) as u8 & 0x0f);
            }
        }
        image
    }

    /// Bytes in a row.
    pub(crate) fn stride(&self) -> usize {
        self.width * self.channels
    }

    /// Row `y`.
    pub(crate) fn row(&self, y: usize) -> &[u8] {
        let stride = self.stride();
        &self.pixels[y * stride..(y + 1) * stride]
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Image({}x{}x{})", self.width, self.height, self.channels)
    }
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of a number.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Bits of the kernel's fixed-point weights: they sum to `1 << WEIGHT_BITS`.
const WEIGHT_BITS: u32 = 14;
/// Fractional bits the horizontal pass keeps in its `u16` output.
const KEEP_BITS: u32 = 8;
/// Shift and rounding of the horizontal pass: 255 << 14 becomes 255 << 8 (fits a `u16`).
const H_SHIFT: u32 = WEIGHT_BITS - KEEP_BITS;
const H_ROUND: u32 = 1 << (H_SHIFT - 1);
/// Shift and rounding of the vertical pass: (255 << 8) << 14 (< 2^30) becomes 255.
const V_SHIFT: u32 = WEIGHT_BITS + KEEP_BITS;
const V_ROUND: u32 = 1 << (V_SHIFT - 1);

/// A normalised 1-D Gaussian kernel in fixed point: `2 * radius + 1` symmetric weights that
/// sum to exactly `1 << 14`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Kernel {
    radius: usize,
    weights: Vec<u32>,
}

impl Kernel {
    /// The kernel of standard deviation `sigma` (in pixels), cut at a radius of
    /// `ceil(3 * sigma)`.
    ///
    /// # Panics
    ///
    /// If `sigma` is not a positive finite number, or above 1000.
    pub(crate) fn gaussian(sigma: f64) -> Self {
        assert!(
            sigma.is_finite() && sigma > 0.0 && sigma <= 1000.0,
            "sigma must be a number in (0, 1000], not {sigma}"
        );
        let radius = (3.0 * sigma).ceil() as usize;
        let exact: Vec<f64> = (0..=2 * radius)
            .map(|i| {
                let x = i as f64 - radius as f64;
                (-x * x / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let total: f64 = exact.iter().sum();
        let scale = f64::from(1u32 << WEIGHT_BITS) / total;
        let mut weights: Vec<u32> = exact.iter().map(|w| (w * scale).round() as u32).collect();
        // Rounding leaves the sum a little off: the centre takes the difference, so that a
        // flat image stays exactly flat.
        let sum: u32 = weights.iter().sum();
        weights[radius] = (weights[radius] + (1 << WEIGHT_BITS)) - sum;
        Kernel { radius, weights }
    }

    /// The weights, `2 * radius + 1` of them.
    #[allow(dead_code)] // read by the tests
    pub(crate) fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// Pixels each side of the centre: the width of a tile's halo.
    pub(crate) fn radius(&self) -> usize {
        self.radius
    }
}

/// Reusable buffers of the row functions (so that a blur allocates per image or per tile,
/// never per row).
#[derive(Default)]
pub(crate) struct Scratch {
    padded: Vec<u8>,
    sums: Vec<u32>,
}

/// Copies pixels `from .. from + count` of `row` (of `channels` bytes each) into `out`,
/// clamping each position into the row: outside it, the nearest edge pixel is repeated.
fn copy_clamped(row: &[u8], channels: usize, from: isize, count: usize, out: &mut Vec<u8>) {
    let width = (row.len() / channels) as isize;
    let to = from + count as isize;
    // The part inside the row, copied at once; the edges pixel by pixel.
    let (inside_from, inside_to) = (from.clamp(0, width), to.clamp(0, width));
    for _ in from..inside_from.min(to) {
        out.extend_from_slice(&row[..channels]);
    }
    if inside_from < inside_to {
        out.extend_from_slice(&row[inside_from as usize * channels..inside_to as usize * channels]);
    }
    for _ in inside_to.max(from)..to {
        out.extend_from_slice(&row[row.len() - channels..]);
    }
}

/// The horizontal pass over one row: `out[i] = Σ_k w[k] · padded[i + k · channels]`, scaled
/// to 8 fractional bits and rounded. `padded` holds the row's pixels plus `radius` pixels
/// each side (`out.len() + 2 · radius · channels` bytes).
pub(crate) fn blur_row_h(
    padded: &[u8],
    channels: usize,
    kernel: &Kernel,
    sums: &mut Vec<u32>,
    out: &mut [u16],
) {
    let (n, r) = (out.len(), kernel.radius);
    debug_assert_eq!(padded.len(), n + 2 * r * channels);
    sums.clear();
    sums.resize(n, 0);
    let sums = &mut sums[..n];
    let (centre, w) = (&padded[r * channels..][..n], kernel.weights[r]);
    for i in 0..n {
        sums[i] = w * u32::from(centre[i]);
    }
    // Symmetric weights: one multiplication for the two taps at the same distance.
    for k in 0..r {
        let left = &padded[k * channels..][..n];
        let right = &padded[(2 * r - k) * channels..][..n];
        add_pair(sums, kernel.weights[k], left, right);
    }
    for i in 0..n {
        out[i] = ((sums[i] + H_ROUND) >> H_SHIFT) as u16;
    }
}

/// `sums[i] += w · (a[i] + b[i])`: the inner loop of both passes. A function of its own (not
/// inlined), so that the compiler knows its slices do not overlap and vectorises it.
#[inline(never)]
fn add_pair<T: Copy + Into<u32>>(sums: &mut [u32], w: u32, a: &[T], b: &[T]) {
    let n = sums.len();
    let (a, b) = (&a[..n], &b[..n]);
    for i in 0..n {
        sums[i] += w * (a[i].into() + b[i].into());
    }
}

/// The vertical pass over one row: `out[i] = Σ_k w[k] · rows(k)[i]`, rounded to 8 bits, where
/// `rows(k)` is the horizontal pass's row `k - radius` rows away (`k` in `0..=2 · radius`).
pub(crate) fn blur_row_v<'a>(
    rows: impl Fn(usize) -> &'a [u16],
    kernel: &Kernel,
    sums: &mut Vec<u32>,
    out: &mut [u8],
) {
    let (n, r) = (out.len(), kernel.radius);
    sums.clear();
    sums.resize(n, 0);
    let sums = &mut sums[..n];
    let (centre, w) = (&rows(r)[..n], kernel.weights[r]);
    for i in 0..n {
        sums[i] = w * u32::from(centre[i]);
    }
    for k in 0..r {
        let (above, below) = (&rows(k)[..n], &rows(2 * r - k)[..n]);
        add_pair(sums, kernel.weights[k], above, below);
    }
    for i in 0..n {
        out[i] = ((sums[i] + V_ROUND) >> V_SHIFT) as u8;
    }
}

/// Row `y + k - radius` clamped into `0..height`: the `k`-th input row of output row `y`.
pub(crate) fn clamped_row(y: usize, k: usize, radius: usize, height: usize) -> usize {
    (y + k).saturating_sub(radius).min(height - 1)
}

/// The horizontal pass of row `y` of `image`, edges clamped, into `out` (`stride` values).
pub(crate) fn horizontal_row(
    image: &Image,
    y: usize,
    kernel: &Kernel,
    scratch: &mut Scratch,
    out: &mut [u16],
) {
    let (r, ch) = (kernel.radius as isize, image.channels);
    scratch.padded.clear();
    copy_clamped(
        image.row(y),
        ch,
        -r,
        image.width + 2 * kernel.radius,
        &mut scratch.padded,
    );
    blur_row_h(&scratch.padded, ch, kernel, &mut scratch.sums, out);
}

/// The sequential blur of a whole image: the horizontal pass over every row, then the
/// vertical pass, edges clamped.
pub(crate) fn blur(image: &Image, kernel: &Kernel) -> Image {
    let mut out = Image::new(image.width, image.height, image.channels);
    let stride = image.stride();
    if stride == 0 || image.height == 0 {
        return out;
    }
    let mut scratch = Scratch::default();
    let mut between = vec![0u16; stride * image.height];
    for (y, row) in between.chunks_exact_mut(stride).enumerate() {
        horizontal_row(image, y, kernel, &mut scratch, row);
    }
    let (r, height) = (kernel.radius, image.height);
    for (y, row) in out.pixels.chunks_exact_mut(stride).enumerate() {
        let rows = |k| {
            let from = clamped_row(y, k, r, height) * stride;
            &between[from..from + stride]
        };
        blur_row_v(rows, kernel, &mut scratch.sums, row);
    }
    out
}

/// Where a tile sits in its image (its pixels without the halo).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Rect {
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

/// The tiles of a `width` x `height` image, `size` x `size` (smaller at the right and bottom
/// edges), row by row.
///
/// # Panics
///
/// If `size` is 0.
pub(crate) fn tile_grid(width: usize, height: usize, size: usize) -> impl Iterator<Item = Rect> {
    assert!(size > 0, "the tile size must be at least 1");
    let steps = move |len: usize| {
        (0..len.div_ceil(size)).map(move |i| (i * size, size.min(len - i * size)))
    };
    steps(height).flat_map(move |(y, h)| {
        steps(width).map(move |(x, w)| Rect {
            x,
            y,
            width: w,
            height: h,
        })
    })
}

/// How many tiles [`tile_grid`] gives.
pub(crate) fn tile_count(width: usize, height: usize, size: usize) -> usize {
    width.div_ceil(size) * height.div_ceil(size)
}

/// A piece of an image on its way through the blur: which image, which tile of how many,
/// where, and its pixels (with a halo of the kernel's radius around `rect` before the blur,
/// just `rect` after).
pub(crate) struct Tile {
    /// The image's number in the input set.
    pub(crate) image: usize,
    /// The tile's number in its image (row by row).
    pub(crate) index: usize,
    /// How many tiles the image has.
    pub(crate) count: usize,
    /// The image's size and channels, to start its output when its first tile arrives.
    pub(crate) image_width: usize,
    pub(crate) image_height: usize,
    pub(crate) channels: usize,
    pub(crate) rect: Rect,
    /// The halo's width around `rect` in `pixels` (0 once blurred).
    pub(crate) halo: usize,
    pub(crate) pixels: Vec<u8>,
}

impl fmt::Debug for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tile(image {}, {} of {}, {:?}, halo {})",
            self.image, self.index, self.count, self.rect, self.halo
        )
    }
}

/// Cuts tile `index` (at `rect`) out of image number `id` with a halo of `halo` pixels, the
/// pixels outside the image clamped to its edges as the whole-image blur clamps them.
pub(crate) fn cut_tile(
    image: &Image,
    id: usize,
    index: usize,
    count: usize,
    rect: Rect,
    halo: usize,
) -> Tile {
    let ch = image.channels;
    let (padded_width, padded_height) = (rect.width + 2 * halo, rect.height + 2 * halo);
    let mut pixels = Vec::with_capacity(padded_width * padded_height * ch);
    for py in 0..padded_height {
        let y = clamped_row(rect.y, py, halo, image.height);
        let from = rect.x as isize - halo as isize;
        copy_clamped(image.row(y), ch, from, padded_width, &mut pixels);
    }
    Tile {
        image: id,
        index,
        count,
        image_width: image.width,
        image_height: image.height,
        channels: ch,
        rect,
        halo,
        pixels,
    }
}

/// Blurs a tile cut with a halo of the kernel's radius: the same passes as [`blur`], on the
/// tile's padded pixels, give exactly the pixels the whole-image blur gives at `rect`.
///
/// # Panics
///
/// If the tile's halo is not the kernel's radius.
pub(crate) fn blur_tile(tile: Tile, kernel: &Kernel, scratch: &mut Scratch) -> Tile {
    assert_eq!(
        tile.halo, kernel.radius,
        "a tile is cut with a halo of the kernel's radius"
    );
    let (ch, r) = (tile.channels, kernel.radius);
    let stride = tile.rect.width * ch;
    let padded_stride = stride + 2 * r * ch;
    let padded_height = tile.rect.height + 2 * r;
    let mut pixels = vec![0u8; stride * tile.rect.height];
    if stride != 0 && tile.rect.height != 0 {
        let mut between = vec![0u16; stride * padded_height];
        for (padded, row) in tile
            .pixels
            .chunks_exact(padded_stride)
            .zip(between.chunks_exact_mut(stride))
        {
            blur_row_h(padded, ch, kernel, &mut scratch.sums, row);
        }
        for (y, row) in pixels.chunks_exact_mut(stride).enumerate() {
            let rows = |k: usize| &between[(y + k) * stride..(y + k + 1) * stride];
            blur_row_v(rows, kernel, &mut scratch.sums, row);
        }
    }
    Tile {
        halo: 0,
        pixels,
        ..tile
    }
}

/// Copies a blurred tile's pixels into its place in `image`.
///
/// # Panics
///
/// If the tile still has its halo, or does not fit in `image`.
pub(crate) fn place_tile(image: &mut Image, tile: &Tile) {
    assert_eq!(tile.halo, 0, "only a blurred tile goes back into its image");
    let ch = image.channels;
    let stride = image.stride();
    let Rect {
        x,
        y,
        width,
        height,
    } = tile.rect;
    for (row, line) in (y..y + height).zip(tile.pixels.chunks_exact((width * ch).max(1))) {
        image.pixels[row * stride + x * ch..row * stride + (x + width) * ch].copy_from_slice(line);
    }
}

/// The rows `rows` of the vertical pass of a whole image (for approaches that split the rows
/// between threads), from the horizontal pass `between` of all its rows.
pub(crate) fn vertical_rows(
    between: &[u16],
    stride: usize,
    height: usize,
    rows: Range<usize>,
    kernel: &Kernel,
    sums: &mut Vec<u32>,
    out: &mut [u8],
) {
    let r = kernel.radius;
    for (y, row) in rows.zip(out.chunks_exact_mut(stride)) {
        let input = |k| {
            let from = clamped_row(y, k, r, height) * stride;
            &between[from..from + stride]
        };
        blur_row_v(input, kernel, sums, row);
    }
}

/// An image that could not be loaded or saved: its name and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageError {
    pub(crate) name: String,
    pub(crate) reason: String,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.reason)
    }
}

impl std::error::Error for ImageError {}

/// Reads a PNG or JPEG file (its format told by its contents) as RGB, or RGBA if it has an
/// alpha channel.
pub(crate) fn load_file(path: &std::path::Path) -> Result<Image, ImageError> {
    let error = |reason: String| ImageError {
        name: path.display().to_string(),
        reason,
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| error(format!("cannot open: {e}")))?
        .with_guessed_format()
        .map_err(|e| error(format!("cannot read: {e}")))?;
    if reader.format().is_none() {
        return Err(error("not a PNG or JPEG image".to_owned()));
    }
    let decoded = reader
        .decode()
        .map_err(|e| error(format!("cannot decode: {e}")))?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    let (channels, pixels) = if decoded.color().has_alpha() {
        (4, decoded.into_rgba8().into_raw())
    } else {
        (3, decoded.into_rgb8().into_raw())
    };
    Ok(Image {
        width,
        height,
        channels,
        pixels,
    })
}

/// Writes `image` to `path` (PNG, or JPEG if the name ends in `.jpg` or `.jpeg`), atomically:
/// into a temporary file beside it, renamed to `path` once complete, so that a failure never
/// leaves a half-written file under the final name.
pub(crate) fn save_file(path: &std::path::Path, image: &Image) -> Result<(), ImageError> {
    let error = |reason: String| ImageError {
        name: path.display().to_string(),
        reason,
    };
    let jpeg = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
    let file_name = path
        .file_name()
        .ok_or_else(|| error("no file name".to_owned()))?
        .to_string_lossy();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let (width, height) = (
        u32::try_from(image.width).map_err(|_| error("too wide".to_owned()))?,
        u32::try_from(image.height).map_err(|_| error("too tall".to_owned()))?,
    );
    let written = if jpeg {
        // JPEG has no alpha: drop it if the image has one.
        let rgb: Vec<u8> = if image.channels == 4 {
            image
                .pixels
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        } else {
            image.pixels.clone()
        };
        image::save_buffer_with_format(
            &temporary,
            &rgb,
            width,
            height,
            image::ExtendedColorType::Rgb8,
            image::ImageFormat::Jpeg,
        )
    } else {
        let color = if image.channels == 4 {
            image::ExtendedColorType::Rgba8
        } else {
            image::ExtendedColorType::Rgb8
        };
        image::save_buffer_with_format(
            &temporary,
            &image.pixels,
            width,
            height,
            color,
            image::ImageFormat::Png,
        )
    };
    let renamed = written
        .map_err(|e| error(format!("cannot write: {e}")))
        .and_then(|()| {
            std::fs::rename(&temporary, path).map_err(|e| error(format!("cannot rename: {e}")))
        });
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}
