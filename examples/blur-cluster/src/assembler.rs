//! The assembler: blurred tiles from the results stream put back into their images, each
//! image saved once when complete and its tiles acknowledged then (not before: a restarted
//! assembler reads the tiles of its unfinished images again).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use weir_redis::{Acker, Entry, EntryId, Reconnecting, StreamSource, DEFAULT_RECONNECT_WINDOW};

use crate::args::Assembler;
use crate::image_ops::{place_tile, save_file, Image, Tile};
use crate::{wire, Failed, Failure, Keys, ASSEMBLER_GROUP};

/// An image being put together.
struct Partial {
    image: Image,
    placed: Vec<bool>,
    missing: usize,
    /// The entries of its tiles (and of their duplicates), acknowledged once it is saved.
    entries: Vec<EntryId>,
    duplicates: u64,
}

/// What the assembler knows and holds.
struct State {
    keys: Keys,
    output: std::path::PathBuf,
    redis: Reconnecting,
    acker: Acker,
    partial: HashMap<usize, Partial>,
    saved: HashSet<usize>,
    /// How many images the manifest lists, once it is there.
    images: Option<usize>,
}

pub(crate) fn run(args: &Assembler) -> Result<(), Failure> {
    let started = Instant::now();
    let keys = Keys::new(&args.common.prefix);
    std::fs::create_dir_all(&args.output)?;
    // No claims: the assembler holds an unfinished image's tiles unacknowledged on purpose,
    // and claiming them back from itself would only count deliveries up to the dead letter.
    // For the same reason no delivery limit: a restart reads them again, and counts.
    let source = StreamSource::builder(
        &args.common.redis,
        &keys.results,
        ASSEMBLER_GROUP,
        &args.name,
    )
    .count(64)
    .delete_acknowledged()
    .claim_idle(None)
    .max_deliveries(u64::MAX)
    .connect()?;
    let stopper = source.stopper();
    let mut state = State {
        acker: source.acker()?,
        redis: Reconnecting::open(&args.common.redis, DEFAULT_RECONNECT_WINDOW)?,
        keys,
        output: args.output.clone(),
        partial: HashMap::new(),
        saved: HashSet::new(),
        images: None,
    };
    state.load_progress()?;
    if state.complete() {
        println!(
            "assembler: all {} images were saved already",
            state.saved.len()
        );
        return Ok(());
    }
    let finished = source
        .into_pipeline()
        .try_map(|entry| entry)
        .named("read")
        .try_map(|entry: Entry| match wire::decode(&entry.payload) {
            Ok(job) => Ok((entry.id, job.tile)),
            Err(reason) => Err(Failed(format!("result {}: {reason}", entry.id).into())),
        })
        .named("decode")
        .try_map(move |(id, tile)| {
            if state.take(id, tile).map_err(Failed)? {
                stopper.stop();
            }
            Ok::<_, Failed>(())
        })
        .named("assemble")
        .for_each(drop)
        .run()?;
    println!(
        "assembler: done in {:.2?}\n{}",
        started.elapsed(),
        finished.report
    );
    Ok(())
}

impl State {
    /// The images saved before (by an earlier run of this assembler) and the manifest's count.
    fn load_progress(&mut self) -> Result<(), Failure> {
        let saved_key = self.keys.saved.clone();
        let saved: Vec<usize> = self.redis.run("SMEMBERS saved", |c| {
            redis::cmd("SMEMBERS").arg(&saved_key).query(c)
        })?;
        self.saved.extend(saved);
        self.read_manifest_count()
    }

    fn read_manifest_count(&mut self) -> Result<(), Failure> {
        let manifest = self.keys.manifest.clone();
        self.images = self.redis.run("HGET manifest images", |c| {
            redis::cmd("HGET").arg(&manifest).arg("images").query(c)
        })?;
        Ok(())
    }

    fn complete(&self) -> bool {
        self.images.is_some_and(|images| self.saved.len() >= images)
    }

    /// Places a tile; saves its image if that completed it. Returns whether every image of
    /// the manifest is saved now.
    fn take(&mut self, id: EntryId, tile: Tile) -> Result<bool, Failure> {
        if self.saved.contains(&tile.image) {
            // A duplicate of a tile of an image saved already (a worker's result delivered
            // twice, or a tile re-read after a restart): nothing to do but acknowledge it.
            self.acker.ack([&id])?;
            return Ok(false);
        }
        let image_id = tile.image;
        let partial = self.partial.entry(image_id).or_insert_with(|| Partial {
            image: Image::new(tile.image_width, tile.image_height, tile.channels),
            placed: vec![false; tile.count],
            missing: tile.count,
            entries: Vec::new(),
            duplicates: 0,
        });
        partial.entries.push(id);
        if std::mem::replace(&mut partial.placed[tile.index], true) {
            partial.duplicates += 1;
            return Ok(false);
        }
        place_tile(&mut partial.image, &tile);
        partial.missing -= 1;
        if partial.missing > 0 {
            return Ok(false);
        }
        let partial = self
            .partial
            .remove(&image_id)
            .expect("the image just completed");
        self.save(image_id, partial)?;
        if self.images.is_none() {
            self.read_manifest_count()?;
        }
        Ok(self.complete())
    }

    /// Writes the image (to a temporary file, renamed), then in one transaction records it
    /// as saved, counts the save and the tiles applied, and acknowledges its tiles.
    fn save(&mut self, image_id: usize, partial: Partial) -> Result<(), Failure> {
        let manifest = self.keys.manifest.clone();
        let name: Option<String> = self.redis.run("HGET manifest name", |c| {
            redis::cmd("HGET")
                .arg(&manifest)
                .arg(format!("name:{image_id}"))
                .query(c)
        })?;
        let name = name.unwrap_or_else(|| format!("image-{image_id:03}"));
        let path = self.output.join(format!("{name}.png"));
        save_file(Path::new(&path), &partial.image)?;
        let applied = partial.placed.len();
        let mut record = redis::pipe();
        record
            .atomic()
            .cmd("SADD")
            .arg(&self.keys.saved)
            .arg(image_id)
            .ignore()
            .cmd("HINCRBY")
            .arg(&self.keys.stats)
            .arg(format!("saves:{image_id}"))
            .arg(1)
            .ignore()
            .cmd("HINCRBY")
            .arg(&self.keys.stats)
            .arg("applied")
            .arg(applied)
            .ignore()
            .cmd("HINCRBY")
            .arg(&self.keys.stats)
            .arg("duplicates")
            .arg(partial.duplicates)
            .ignore();
        self.acker.group().ack_in(&mut record, &partial.entries);
        self.redis.run("SADD saved, XACK and XDEL results", |c| {
            record.query::<()>(c)
        })?;
        self.saved.insert(image_id);
        println!(
            "assembler: saved {} ({applied} tiles, {} duplicates ignored)",
            path.display(),
            partial.duplicates
        );
        Ok(())
    }
}
