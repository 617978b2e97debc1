//! A tile as the bytes of a stream entry's payload: a fixed little-endian header, then the
//! pixels. The same form carries a tile to a worker (with its halo) and back (without).

use crate::image_ops::{Rect, Tile};

/// The first bytes of every tile: the format and its version.
const MAGIC: &[u8; 4] = b"WBT1";
/// The header: magic, image, index, count, image width, image height, x, y, width,
/// height, halo (u32 each), channels (u8), sigma (f64).
const HEADER: usize = 4 + 10 * 4 + 1 + 8;

/// A tile and the blur it is for.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) tile: Tile,
    /// The standard deviation of the Gaussian blur, in pixels.
    pub(crate) sigma: f64,
}

/// The payload of `tile`, for a blur of `sigma`.
///
/// # Panics
///
/// If a dimension does not fit in 32 bits (an image wider than 4 billion pixels).
pub(crate) fn encode(tile: &Tile, sigma: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + tile.pixels.len());
    out.extend_from_slice(MAGIC);
    for value in [
        tile.image,
        tile.index,
        tile.count,
        tile.image_width,
        tile.image_height,
        tile.rect.x,
        tile.rect.y,
        tile.rect.width,
        tile.rect.height,
        tile.halo,
    ] {
        let value = u32::try_from(value).expect("a tile's dimensions fit in 32 bits");
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.push(tile.channels as u8);
    out.extend_from_slice(&sigma.to_le_bytes());
    out.extend_from_slice(&tile.pixels);
    out
}

/// The tile in `payload`.
///
/// # Errors
///
/// A message saying what is wrong: not a tile, a truncated one, or pixels that do not
/// match the sizes in the header.
pub(crate) fn decode(payload: &[u8]) -> Result<Job, String> {
    if payload.len() < HEADER || &payload[..4] != MAGIC {
        return Err(format!(
            "not a tile ({} bytes without the {MAGIC:?} header)",
            payload.len()
        ));
    }
    let word = |i: usize| {
        let at = 4 + 4 * i;
        u32::from_le_bytes(payload[at..at + 4].try_into().expect("4 bytes")) as usize
    };
    let channels = payload[44] as usize;
    let sigma = f64::from_le_bytes(payload[45..53].try_into().expect("8 bytes"));
    let rect = Rect {
        x: word(5),
        y: word(6),
        width: word(7),
        height: word(8),
    };
    let halo = word(9);
    let tile = Tile {
        image: word(0),
        index: word(1),
        count: word(2),
        image_width: word(3),
        image_height: word(4),
        channels,
        rect,
        halo,
        pixels: payload[HEADER..].to_vec(),
    };
    let expected = (rect.width + 2 * halo) * (rect.height + 2 * halo) * channels;
    if !(channels == 3 || channels == 4)
        || tile.index >= tile.count
        || rect.x + rect.width > tile.image_width
        || rect.y + rect.height > tile.image_height
        || tile.pixels.len() != expected
        || !(sigma.is_finite() && sigma > 0.0 && sigma <= 1000.0)
    {
        return Err(format!(
            "a tile whose header does not match its {} pixel bytes: {tile:?}, sigma {sigma}",
            tile.pixels.len()
        ));
    }
    Ok(Job { tile, sigma })
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use crate::image_ops::{cut_tile, tile_grid, Image};

    #[test]
    fn a_tile_comes_back_as_it_went() {
        let image = Image::generated(100, 70, 3);
        for (index, rect) in tile_grid(100, 70, 32).enumerate() {
            let tile = cut_tile(&image, 7, index, 12, rect, 5);
            let job = decode(&encode(&tile, 1.5)).unwrap();
            assert_eq!(job.sigma, 1.5);
            assert_eq!(
                (
                    job.tile.image,
                    job.tile.index,
                    job.tile.count,
                    job.tile.rect,
                    job.tile.halo
                ),
                (7, index, 12, rect, 5)
            );
            assert_eq!(
                (
                    job.tile.image_width,
                    job.tile.image_height,
                    job.tile.channels
                ),
                (100, 70, 3)
            );
            assert_eq!(job.tile.pixels, tile.pixels);
        }
    }

    #[test]
    fn damaged_payloads_are_refused() {
        let image = Image::generated(40, 40, 1);
        let rect = tile_grid(40, 40, 16).next().unwrap();
        let good = encode(&cut_tile(&image, 0, 0, 9, rect, 2), 1.0);
        assert!(decode(&good[..10]).unwrap_err().contains("not a tile"));
        assert!(decode(&good[..good.len() - 1])
            .unwrap_err()
            .contains("does not match"));
        let mut other = good.clone();
        other[0] = b'X';
        assert!(decode(&other).is_err());
        assert!(decode(b"").is_err());
    }
}
