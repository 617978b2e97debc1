//! The distributed blur end to end, as separate processes on a real redis-server: a
//! coordinator, workers and an assembler, with a worker killed (SIGKILL), the assembler killed
//! and restarted, and the server itself killed and restarted mid-run. Every image must come out
//! byte-equal to the sequential blur, saved once, with every tile applied once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use weir_test_support::RedisServer;

const BINARY: &str = env!("CARGO_BIN_EXE_weir-blur-cluster");
/// 4 generated images of 256x192 in tiles of 32: 48 tiles each.
const IMAGES: &[&str] = &["--images", "4", "--width", "256", "--height", "192"];
const TILES: u64 = 4 * 48;
const BLUR: &[&str] = &["--tile", "32", "--sigma", "1.5"];

/// A scratch directory of the test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-blur-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(server: &RedisServer, subcommand: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg(subcommand)
        .args(["--redis", &server.address()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn start(server: &RedisServer, subcommand: &str, args: &[&str]) -> Child {
    command(server, subcommand, args)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BINARY} {subcommand}: {e}"))
}

/// Waits for a process to end by itself and checks that it succeeded.
fn finish(child: Child, what: &str, limit: Duration) -> Output {
    let pid = child.id();
    let deadline = Instant::now() + limit;
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{what} (pid {pid}) did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn redis(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.address())
        .and_then(|client| client.get_connection())
        .expect("connect to the test's redis-server")
}

/// Waits until `ready` holds, polling every 10 ms.
fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many results were ever appended (the assembler deletes those of saved images, so
/// the stream's length says less).
fn results_written(server: &RedisServer) -> u64 {
    let info: Result<std::collections::HashMap<String, redis::Value>, _> = redis::cmd("XINFO")
        .arg("STREAM")
        .arg("blur:results")
        .query(&mut redis(server));
    match info
        .ok()
        .and_then(|info| info.get("entries-added").cloned())
    {
        Some(redis::Value::Int(added)) => added as u64,
        _ => 0, // no results yet
    }
}

/// The tiles pending on consumer `name` of the workers' group.
fn pending_on(server: &RedisServer, name: &str) -> u64 {
    let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg("blur:tiles")
        .arg("workers")
        .arg("-")
        .arg("+")
        .arg(10_000)
        .arg(name)
        .query(&mut redis(server))
        .unwrap();
    pending.len() as u64
}

/// The coordinator, started: manifest and tiles, waiting while the tiles stream holds
/// `backlog` unfinished tiles.
fn coordinator(server: &RedisServer, backlog: u64) -> Child {
    let backlog = backlog.to_string();
    let args: Vec<&str> = IMAGES
        .iter()
        .chain(BLUR)
        .chain(&["--backlog", &backlog])
        .copied()
        .collect();
    start(server, "coordinator", &args)
}

/// The coordinator's whole run, before any worker starts.
fn coordinate(server: &RedisServer) {
    finish(
        coordinator(server, TILES),
        "the coordinator",
        Duration::from_secs(60),
    );
}

fn worker(server: &RedisServer, name: &str) -> Child {
    start(
        server,
        "worker",
        &[
            "--name",
            name,
            "--threads",
            "2",
            "--claim-idle-ms",
            "300",
            "--exit-when-drained-ms",
            "1000",
            "--tile-delay-ms",
            "15",
        ],
    )
}

/// Checks the outcome: every image byte-equal to the sequential blur's, each saved once,
/// every tile applied once, nothing left pending.
fn check(server: &RedisServer, dir: &Path, out: &Path) {
    let expected = dir.join("sequential");
    let args: Vec<&str> = IMAGES
        .iter()
        .chain(&["--sigma", "1.5", "--output", expected.to_str().unwrap()])
        .copied()
        .collect();
    let sequential = Command::new(BINARY)
        .arg("sequential")
        .args(&args)
        .output()
        .unwrap();
    assert!(sequential.status.success(), "{sequential:?}");
    for id in 0..4 {
        let name = format!("generated-{id:03}.png");
        let want = std::fs::read(expected.join(&name)).unwrap();
        let got =
            std::fs::read(out.join(&name)).unwrap_or_else(|e| panic!("{name} was not saved: {e}"));
        assert!(want == got, "{name} differs from the sequential blur");
    }
    let mut plain = redis(server);
    let stats: std::collections::HashMap<String, u64> = redis::cmd("HGETALL")
        .arg("blur:stats")
        .query(&mut plain)
        .unwrap();
    for id in 0..4 {
        assert_eq!(
            stats.get(&format!("saves:{id}")),
            Some(&1),
            "image {id} saved once: {stats:?}"
        );
    }
    assert_eq!(
        stats.get("applied"),
        Some(&TILES),
        "every tile applied once: {stats:?}"
    );
    let mut pending = |stream: &str, group: &str| -> u64 {
        let (count, _, _, _): (u64, redis::Value, redis::Value, redis::Value) =
            redis::cmd("XPENDING")
                .arg(stream)
                .arg(group)
                .query(&mut plain)
                .unwrap();
        count
    };
    assert_eq!(
        pending("blur:tiles", "workers"),
        0,
        "every tile acknowledged"
    );
    assert_eq!(
        pending("blur:results", "assembler"),
        0,
        "every result acknowledged"
    );
    let dead: u64 = redis::cmd("EXISTS")
        .arg("blur:tiles:dead")
        .query(&mut plain)
        .unwrap();
    assert_eq!(dead, 0, "no tile went to the dead letters");
    for stream in ["blur:tiles", "blur:results"] {
        let left: u64 = redis::cmd("XLEN").arg(stream).query(&mut plain).unwrap();
        assert_eq!(left, 0, "every entry of {stream} deleted once acknowledged");
    }
}

#[test]
fn a_worker_killed_mid_run_loses_no_tile() {
    let server = RedisServer::start();
    let dir = scratch("killed-worker");
    let out = dir.join("out");
    // The coordinator runs beside the workers, held to 32 unfinished tiles in the stream (of
    // 192): it can end only as they finish tiles, the stranded ones included.
    let coordinator = coordinator(&server, 32);
    let assembler = start(&server, "assembler", &["--output", out.to_str().unwrap()]);
    let mut doomed = worker(&server, "doomed");
    let survivor = worker(&server, "survivor");
    wait_until("the first results", Duration::from_secs(60), || {
        results_written(&server) >= 20
    });
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let stranded = pending_on(&server, "doomed");
    assert!(
        stranded > 0,
        "the killed worker held tiles it had not finished"
    );
    let survivor = finish(survivor, "the surviving worker", Duration::from_secs(120));
    finish(coordinator, "the coordinator", Duration::from_secs(60));
    let log = String::from_utf8_lossy(&survivor.stdout);
    let claimed: u64 = log
        .split_once("done; ")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("the survivor's log says what it claimed: {log}"));
    assert!(
        claimed >= stranded,
        "it claimed the {stranded} stranded tiles: {log}"
    );
    finish(assembler, "the assembler", Duration::from_secs(60));
    assert_eq!(
        pending_on(&server, "doomed"),
        0,
        "its {stranded} tiles were claimed"
    );
    check(&server, &dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_assembler_killed_and_restarted_saves_each_image_once() {
    let server = RedisServer::start();
    let dir = scratch("restarted-assembler");
    let out = dir.join("out");
    let out_arg = out.to_str().unwrap().to_owned();
    coordinate(&server);
    let workers = [worker(&server, "w1"), worker(&server, "w2")];
    let mut assembler = start(&server, "assembler", &["--output", &out_arg]);
    wait_until("some results", Duration::from_secs(60), || {
        results_written(&server) >= TILES / 3
    });
    assembler.kill().unwrap();
    assembler.wait().unwrap();
    let assembler = start(&server, "assembler", &["--output", &out_arg]);
    for (n, w) in workers.into_iter().enumerate() {
        finish(w, &format!("worker {n}"), Duration::from_secs(120));
    }
    finish(
        assembler,
        "the restarted assembler",
        Duration::from_secs(60),
    );
    check(&server, &dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_redis_restart_between_batches_loses_nothing() {
    let mut server = RedisServer::start_persistent();
    let dir = scratch("restarted-redis");
    let out = dir.join("out");
    coordinate(&server);
    let assembler = start(&server, "assembler", &["--output", out.to_str().unwrap()]);
    let workers = [worker(&server, "w1"), worker(&server, "w2")];
    wait_until("some results", Duration::from_secs(60), || {
        results_written(&server) >= TILES / 4
    });
    // A crash: SIGKILL, then the server comes back from its append-only file 300 ms later.
    server.kill();
    std::thread::sleep(Duration::from_millis(300));
    server.start_again();
    for (n, w) in workers.into_iter().enumerate() {
        finish(w, &format!("worker {n}"), Duration::from_secs(120));
    }
    finish(assembler, "the assembler", Duration::from_secs(60));
    check(&server, &dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}
