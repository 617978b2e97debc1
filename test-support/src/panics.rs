//! Looking at a panic from the outside: its message, and where it says it happened.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// Runs `f`, which must panic, and returns the panic's message and the file its location
/// names (the caller's, for a `#[track_caller]` function).
///
/// It replaces the process's panic hook while `f` runs: call it from a test binary with one
/// test, or from tests that do not panic at the same time.
///
/// # Panics
///
/// If `f` does not panic.
pub fn panic_of(f: impl FnOnce()) -> (String, String) {
    try_panic_of(f).expect("no panic")
}

/// As [`panic_of`], but `None` when `f` returns without panicking.
pub fn try_panic_of(f: impl FnOnce()) -> Option<(String, String)> {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let file = info
            .location()
            .map_or(String::new(), |l| l.file().to_owned());
        *hook_seen.lock().unwrap() = Some(file);
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    let payload = result.err()?;
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let file = seen.lock().unwrap().take().unwrap_or_default();
    Some((message, file))
}
