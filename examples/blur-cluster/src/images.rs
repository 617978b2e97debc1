//! The input images, by number: generated test pictures or the files of a directory.

use std::path::PathBuf;

use crate::args::Source;
use crate::image_ops::{load_file, Image, ImageError};

/// The images of a run, loaded one at a time when asked for.
pub(crate) enum Inputs {
    Generated {
        count: usize,
        width: usize,
        height: usize,
    },
    Files(Vec<PathBuf>),
}

impl Inputs {
    /// # Errors
    ///
    /// If the directory cannot be read or holds no PNG or JPEG file.
    pub(crate) fn open(source: &Source) -> Result<Self, String> {
        match source {
            &Source::Generated {
                count,
                width,
                height,
            } => Ok(Inputs::Generated {
                count,
                width,
                height,
            }),
            Source::Directory(dir) => {
                let entries = std::fs::read_dir(dir)
                    .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|path| {
                        path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str())
                        })
                    })
                    .collect();
                files.sort();
                if files.is_empty() {
                    return Err(format!("no PNG or JPEG file in {}", dir.display()));
                }
                Ok(Inputs::Files(files))
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Inputs::Generated { count, .. } => *count,
            Inputs::Files(files) => files.len(),
        }
    }

    /// The name image `id` is saved under, without its extension.
    pub(crate) fn name(&self, id: usize) -> String {
        match self {
            Inputs::Generated { .. } => format!("generated-{id:03}"),
            Inputs::Files(files) => files[id].file_stem().map_or_else(
                || format!("image-{id:03}"),
                |s| s.to_string_lossy().into_owned(),
            ),
        }
    }

    /// The width and height of image `id`, read from its file's header (not decoded).
    ///
    /// # Errors
    ///
    /// If its file cannot be read or is not a PNG or JPEG image.
    pub(crate) fn size(&self, id: usize) -> Result<(usize, usize), ImageError> {
        match self {
            &Inputs::Generated { width, height, .. } => Ok((width, height)),
            Inputs::Files(files) => image::image_dimensions(&files[id])
                .map(|(w, h)| (w as usize, h as usize))
                .map_err(|e| ImageError {
                    name: files[id].display().to_string(),
                    reason: format!("cannot read its size: {e}"),
                }),
        }
    }

    /// Image `id`.
    ///
    /// # Errors
    ///
    /// If its file cannot be read or decoded.
    pub(crate) fn load(&self, id: usize) -> Result<Image, ImageError> {
        match self {
            &Inputs::Generated { width, height, .. } => {
                Ok(Image::generated(width, height, id as u64))
            }
            Inputs::Files(files) => load_file(&files[id]),
        }
    }
}
