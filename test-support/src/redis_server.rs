//! A real `redis-server` for the tests of weir-redis and of the distributed blur: started on
//! 127.0.0.1 on a free port with a directory of its own, stopped (and the directory removed)
//! when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How to get the server where none is found.
const INSTALL_HINT: &str = "these tests need a real redis-server: install it with \
    `apt-get install -y redis-server` (Debian, Ubuntu) or `brew install redis` (macOS), \
    or set REDIS_SERVER to its path";

/// A `redis-server` process of the test's own.
pub struct RedisServer {
    program: PathBuf,
    dir: PathBuf,
    port: u16,
    append_only: bool,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server without persistence.
    ///
    /// # Panics
    ///
    /// If no `redis-server` is found (the message says how to install it), or it does not
    /// answer `PING` within 10 s.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server that writes every change to its append-only file before replying
    /// (`appendfsync always`), so that [`kill`](Self::kill) and
    /// [`start_again`](Self::start_again) lose nothing.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_persistent() -> Self {
        Self::start_with(true)
    }

    fn start_with(append_only: bool) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let program = find_program();
        let dir = std::env::temp_dir().join(format!(
            "weir-redis-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory left by an earlier run of a process with the same id goes first.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the redis-server's directory");
        let port = free_port();
        let mut server = RedisServer {
            program,
            dir,
            port,
            append_only,
            child: None,
        };
        server.spawn();
        server
    }

    /// The address clients connect to: `redis://127.0.0.1:<port>/`.
    pub fn address(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (its log, its append-only file).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (after [`kill`](Self::kill));
    /// a persistent one loads its data back before answering.
    ///
    /// # Panics
    ///
    /// If it does not come back within 10 s.
    pub fn start_again(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let log = self.dir.join("redis.log");
        let mut command = Command::new(&self.program);
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .args(["--save", "", "--daemonize", "no", "--protected-mode", "no"])
            .args(["--appendonly", if self.append_only { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e}; {INSTALL_HINT}",
                self.program.display()
            )
        });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.ping() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("redis-server exited ({status}) at start; its log:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer PING within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server answers `PING` with `PONG` (not `LOADING`, not a refusal).
    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok();
        if stream.write_all(&resp(&["PING"])).is_err() {
            return false;
        }
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("+PONG")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A command in the protocol's request form.
fn resp(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    out
}

/// `REDIS_SERVER`, else `redis-server` on the `PATH`.
///
/// # Panics
///
/// If there is none, with the message that says how to install it.
fn find_program() -> PathBuf {
    if let Some(path) = std::env::var_os("REDIS_SERVER") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("redis-server"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no redis-server on the PATH: {INSTALL_HINT}"))
}

/// A port nobody listens on now (the system's choice for an ephemeral bind), and never
/// handed to another server of this process: a server that is down for a restart must find
/// its port free when it comes back, not taken by another test's server.
fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("bind a free port on 127.0.0.1");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}
