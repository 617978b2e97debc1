//! The blur example spread over processes, and machines, through Redis Streams.
//!
//! ```text
//! weir-blur-cluster coordinator [--images N --width W --height H | --input DIR] [--tile N] [--sigma S]
//! weir-blur-cluster worker      [--name NAME] [--threads N] [--claim-idle-ms MS] [--exit-when-drained-ms MS]
//! weir-blur-cluster assembler   --output DIR [--name NAME]
//! weir-blur-cluster sequential  --output DIR [--images N --width W --height H | --input DIR] [--sigma S]
//!     every one: [--redis redis://127.0.0.1:6379/] [--prefix blur]
//! ```
//!
//! - The **coordinator** cuts each image into tiles (with a halo of the kernel's radius),
//!   writes a manifest (`<prefix>:manifest`: how many images, their names and tile counts),
//!   and appends the tiles to `<prefix>:tiles`.
//! - Each **worker** is a weir pipeline: a consumer-group source on the tiles → a parallel
//!   blur → batches appended to `<prefix>:results` and the tiles acknowledged then. Run as
//!   many as you like, on any machine that reaches the server; give each a name of its own
//!   (the default is the host name and process id). A worker that dies leaves its tiles
//!   pending; the others claim them once idle for `--claim-idle-ms`.
//! - The **assembler** reads the results through its own group, puts each image together,
//!   ignores a tile it has already placed (a re-delivery's duplicate), saves each image once
//!   complete (`<output>/<name>.png`, written to a temporary file and renamed), records it in
//!   `<prefix>:saved` and acknowledges its tiles, and exits when every image of the manifest is
//!   saved. Killed and restarted under the same name, it reads its unacknowledged tiles again.
//! - **sequential** blurs the same images on one thread, for comparison: the files are
//!   byte-equal (`cmp`).

#[allow(dead_code)] // the blur example's image side, shared whole
#[path = "../../../pipeline/examples/blur/image_ops.rs"]
mod image_ops;

mod args;
mod assembler;
mod coordinator;
mod images;
mod wire;
mod worker;

use std::process::ExitCode;

/// The Redis keys of one run, under a prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub(crate) tiles: String,
    pub(crate) results: String,
    pub(crate) manifest: String,
    pub(crate) saved: String,
    pub(crate) stats: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        let key = |name: &str| format!("{prefix}:{name}");
        Keys {
            tiles: key("tiles"),
            results: key("results"),
            manifest: key("manifest"),
            saved: key("saved"),
            stats: key("stats"),
        }
    }
}

/// The consumer group of the workers on the tiles stream.
pub(crate) const WORKERS_GROUP: &str = "workers";
/// The consumer group of the assembler on the results stream.
pub(crate) const ASSEMBLER_GROUP: &str = "assembler";

/// What a subcommand's failure carries.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A [`Failure`] as a type that implements `Error` (a boxed error does not), for a
/// pipeline stage's `try_map`.
#[derive(Debug)]
pub(crate) struct Failed(pub(crate) Failure);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        args::Command::Coordinator(c) => coordinator::run(&c),
        args::Command::Worker(w) => worker::run(&w),
        args::Command::Assembler(a) => assembler::run(&a),
        args::Command::Sequential(s) => coordinator::sequential(&s),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("weir-blur-cluster: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
