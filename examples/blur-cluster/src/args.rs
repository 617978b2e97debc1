//! The command line.

use std::path::PathBuf;
use std::time::Duration;

/// Where the images come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// `count` generated RGB test pictures of `width` x `height` (seeds 0, 1, ...).
    Generated {
        count: usize,
        width: usize,
        height: usize,
    },
    /// The PNG and JPEG files of a directory.
    Directory(PathBuf),
}

/// What every subcommand takes.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub(crate) redis: String,
    pub(crate) prefix: String,
}

#[derive(Debug)]
pub(crate) struct Coordinator {
    pub(crate) common: Common,
    pub(crate) source: Source,
    pub(crate) tile: usize,
    pub(crate) sigma: f64,
    /// Tiles the tiles stream may hold (unfinished) before appending waits.
    pub(crate) backlog: usize,
}

#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) common: Common,
    pub(crate) name: String,
    pub(crate) threads: usize,
    pub(crate) claim_idle: Duration,
    pub(crate) exit_when_drained: Option<Duration>,
    /// A pause per tile, to slow a worker down in tests and demonstrations.
    pub(crate) tile_delay: Duration,
}

#[derive(Debug)]
pub(crate) struct Assembler {
    pub(crate) common: Common,
    pub(crate) name: String,
    pub(crate) output: PathBuf,
}

#[derive(Debug)]
pub(crate) struct Sequential {
    pub(crate) source: Source,
    pub(crate) sigma: f64,
    pub(crate) output: PathBuf,
}

#[derive(Debug)]
pub(crate) enum Command {
    Coordinator(Coordinator),
    Worker(Worker),
    Assembler(Assembler),
    Sequential(Sequential),
}

const USAGE: &str = "usage: weir-blur-cluster <coordinator|worker|assembler|sequential> [options]
  every one:    --redis URL (redis://127.0.0.1:6379/)  --prefix P (blur)
  coordinator:  --images N --width W --height H (8, 1024, 768) | --input DIR   --tile N (256)  --sigma S (4)
                --backlog N (256: unfinished tiles in the stream before appending waits)
  worker:       --name NAME  --threads N (cores)  --claim-idle-ms MS (30000)  --exit-when-drained-ms MS
                --tile-delay-ms MS (0)
  assembler:    --output DIR  --name NAME (assembler)
  sequential:   --output DIR  and the coordinator's image options and --sigma";

/// Reads the command line (without the program's name).
///
/// # Errors
///
/// The usage, or what is wrong with an argument.
pub(crate) fn parse(mut given: impl Iterator<Item = String>) -> Result<Command, String> {
    let command = given.next().ok_or_else(|| USAGE.to_owned())?;
    let mut common = Common {
        redis: "redis://127.0.0.1:6379/".to_owned(),
        prefix: "blur".to_owned(),
    };
    let (mut count, mut width, mut height, mut input) = (8, 1024, 768, None);
    let (mut tile, mut sigma, mut backlog) = (256, 4.0, 256);
    let mut name = None;
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut claim_idle = Duration::from_secs(30);
    let (mut exit_when_drained, mut tile_delay) = (None, Duration::ZERO);
    let mut output = None;
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{flag} needs a positive whole number, not {text:?}"))
        };
        let millis = |text: String| {
            text.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{flag} needs a number of milliseconds, not {text:?}"))
        };
        match flag.as_str() {
            "--redis" => common.redis = value()?,
            "--prefix" => common.prefix = value()?,
            "--images" => count = number(value()?)?,
            "--width" => width = number(value()?)?,
            "--height" => height = number(value()?)?,
            "--input" => input = Some(PathBuf::from(value()?)),
            "--tile" => tile = number(value()?)?,
            "--sigma" => {
                let text = value()?;
                sigma = text
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 1000.0)
                    .ok_or_else(|| format!("--sigma needs a number in (0, 1000], not {text:?}"))?;
            }
            "--backlog" => backlog = number(value()?)?,
            "--name" => name = Some(value()?),
            "--threads" => threads = number(value()?)?,
            "--claim-idle-ms" => claim_idle = millis(value()?)?,
            "--exit-when-drained-ms" => exit_when_drained = Some(millis(value()?)?),
            "--tile-delay-ms" => tile_delay = millis(value()?)?,
            "--output" => output = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let source = match input {
        Some(dir) => Source::Directory(dir),
        None => Source::Generated {
            count,
            width,
            height,
        },
    };
    let output = || {
        output
            .clone()
            .ok_or_else(|| format!("{command} needs --output DIR\n{USAGE}"))
    };
    Ok(match command.as_str() {
        "coordinator" => Command::Coordinator(Coordinator {
            common,
            source,
            tile,
            sigma,
            backlog,
        }),
        "worker" => Command::Worker(Worker {
            common,
            name: name.unwrap_or_else(default_name),
            threads,
            claim_idle,
            exit_when_drained,
            tile_delay,
        }),
        "assembler" => Command::Assembler(Assembler {
            output: output()?,
            common,
            name: name.unwrap_or_else(|| "assembler".to_owned()),
        }),
        "sequential" => Command::Sequential(Sequential {
            output: output()?,
            source,
            sigma,
        }),
        "-h" | "--help" => return Err(USAGE.to_owned()),
        other => return Err(format!("unknown command {other:?}\n{USAGE}")),
    })
}

/// `<host>-<pid>`: unique among live workers, and new when a worker restarts (which then
/// leaves its old backlog for the others to claim).
fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}
