//! Panics on bad input name the function (`weir_mpmc::<fn>: ...`) and point at the caller's
//! line (`#[track_caller]`), not at a line inside the crate.
//!
//! One test in this binary: it replaces the panic hook, which is process-wide.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use weir_mpmc::Queue;

/// Runs `f`, which must panic, and returns the panic's message and the file it reports.
fn panic_of(f: impl FnOnce()) -> (String, String) {
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
    let payload = result.expect_err("no panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let file = seen.lock().unwrap().take().unwrap();
    (message, file)
}

#[test]
fn bad_input_panics_name_the_function_at_the_callers_line() {
    let here = file!().to_owned();
    let (message, file) = panic_of(|| drop(Queue::<u8>::new(0)));
    assert_eq!(
        message,
        "weir_mpmc::Queue::new: capacity must be at least 1"
    );
    assert_eq!(file, here);

    let (message, file) = panic_of(|| drop(Queue::<u8>::with_start_index(0, usize::MAX)));
    assert_eq!(
        message,
        "weir_mpmc::Queue::with_start_index: capacity must be at least 1"
    );
    assert_eq!(file, here);

    let (message, file) = panic_of(|| drop(Queue::<u64>::new(usize::MAX)));
    assert!(
        message.starts_with("weir_mpmc::Queue::new: capacity"),
        "{message}"
    );
    assert_eq!(file, here);
}
