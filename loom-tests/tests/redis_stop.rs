//! loom model of weir-redis's stop handshake (`redis/src/handshake.rs`): a stop never leaves a
//! source blocked on the server.
//!
//! The server's side of a blocking read is modelled as far as a stop sees it: the read returns
//! once a stopper has asked for the unblock. (The stopper retries `CLIENT UNBLOCK` for as long
//! as the source waits, so its request stands until the read ends; the block time, which would
//! end the read anyway, is left out, so that only the handshake can end it.) A source that
//! blocks with no stopper coming waits for ever, which loom reports as a deadlock.

#![cfg(loom)]

use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use loom_tests::model;
use weir_redis::Handshake;

/// The server, as far as a stop sees it: whether an unblock was asked for.
#[derive(Default)]
struct Server {
    unblock: Mutex<bool>,
    changed: Condvar,
}

impl Server {
    /// A blocking read: returns once an unblock was asked for.
    fn read(&self) {
        let mut asked = self.unblock.lock().unwrap();
        while !*asked {
            asked = self.changed.wait(asked).unwrap();
        }
    }

    fn unblock(&self) {
        *self.unblock.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

/// A source: its loop around one blocking read, then its look at the flag, on a thread.
fn spawn_source(handshake: &Arc<Handshake>, server: &Arc<Server>) -> thread::JoinHandle<()> {
    let (handshake, server) = (Arc::clone(handshake), Arc::clone(server));
    thread::spawn(move || {
        if handshake.before_wait() {
            server.read();
            handshake.after_wait();
        }
        assert!(handshake.stopped(), "the read ended, so the stop is seen");
    })
}

/// A stop, and the unblock it sends if the source may be waiting. Returns whether it sent it.
fn stop(handshake: &Handshake, server: &Server) -> bool {
    let woke = handshake.stop();
    if woke {
        server.unblock();
    }
    woke
}

#[test]
fn a_stop_never_leaves_a_source_blocked_on_the_server() {
    model(|| {
        let handshake = Arc::new(Handshake::default());
        let server = Arc::new(Server::default());
        let source = spawn_source(&handshake, &server);
        stop(&handshake, &server);
        source.join().unwrap();
    });
}

#[test]
fn only_the_first_of_two_racing_stops_wakes_the_source() {
    model(|| {
        let handshake = Arc::new(Handshake::default());
        let server = Arc::new(Server::default());
        let source = spawn_source(&handshake, &server);
        let second = {
            let (handshake, server) = (Arc::clone(&handshake), Arc::clone(&server));
            thread::spawn(move || stop(&handshake, &server))
        };
        let woke = stop(&handshake, &server);
        let other = second.join().unwrap();
        assert!(!(woke && other), "one stop at most sends the unblock");
        source.join().unwrap();
    });
}
