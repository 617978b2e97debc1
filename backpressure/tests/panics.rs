//! Panics on bad input, in one form: `weir_backpressure::<function>: <what is wrong>`, reported
//! at the caller's line (`#[track_caller]`), not inside the crate.
//!
//! One test in a binary of its own: it replaces the process's panic hook to see the location.

use weir_backpressure::adaptive::AdaptiveQueue;
use weir_backpressure::priority::PriorityQueue;
use weir_backpressure::wait::{Park, Spin};
use weir_backpressure::{mpmc, spsc, Credits, Watermark};
use weir_test_support::try_panic_of;

/// A call that should panic, with the function it names.
type Case<'a> = Box<dyn FnOnce() + 'a>;

#[test]
fn bad_input_panics_name_the_function_at_the_callers_line() {
    let queue = PriorityQueue::<u8>::new(2, 1);
    let credits = Credits::new(2);
    let mut held = credits.acquire();
    let cases: Vec<(&str, Case<'_>)> = vec![
        (
            "spsc::channel: ",
            Box::new(|| {
                let _ = spsc::channel::<u64>(usize::MAX);
            }),
        ),
        (
            "spsc::channel_with: ",
            Box::new(|| {
                let _ = spsc::channel_with::<u64, _>(usize::MAX, Spin);
            }),
        ),
        (
            "mpmc::channel: ",
            Box::new(|| {
                let _ = mpmc::channel::<u64>(usize::MAX);
            }),
        ),
        (
            "mpmc::channel_with: ",
            Box::new(|| {
                let _ = mpmc::channel_with::<u64, _>(usize::MAX, Spin);
            }),
        ),
        (
            "Credits::new: ",
            Box::new(|| {
                let _ = Credits::new(0);
            }),
        ),
        (
            "Credits::with_wait: ",
            Box::new(|| {
                let _ = Credits::with_wait(0, Spin);
            }),
        ),
        ("Credits::release: ", Box::new(|| credits.release(5))),
        (
            "Credit::split: ",
            Box::new(|| {
                let _ = held.split(2);
            }),
        ),
        (
            "Watermark::new: ",
            Box::new(|| {
                let _ = Watermark::new(2, 1);
            }),
        ),
        (
            "Watermark::with_wait: ",
            Box::new(|| {
                let _ = Watermark::with_wait(2, 1, Spin);
            }),
        ),
        (
            "AdaptiveQueue::new: ",
            Box::new(|| {
                let _ = AdaptiveQueue::<u8>::new(0, 1);
            }),
        ),
        (
            "PriorityQueue::new: ",
            Box::new(|| {
                let _ = PriorityQueue::<u8>::new(0, 1);
            }),
        ),
        (
            "PriorityQueue::with_capacities: ",
            Box::new(|| {
                let _ = PriorityQueue::<u8>::with_capacities(&[]);
            }),
        ),
        (
            "PriorityQueue::push: ",
            Box::new(|| {
                let _ = queue.push(2, 0);
            }),
        ),
        (
            "PriorityQueue::push_wait: ",
            Box::new(|| {
                let _ = queue.push_wait(2, 0, &Park, None);
            }),
        ),
        (
            "PriorityQueue::capacity: ",
            Box::new(|| {
                let _ = queue.capacity(2);
            }),
        ),
        (
            "PriorityQueue::len_at: ",
            Box::new(|| {
                let _ = queue.len_at(2);
            }),
        ),
    ];
    let mut wrong = Vec::new();
    for (function, case) in cases {
        let seen = try_panic_of(case);
        let panicked = seen.is_some();
        let (message, file) = seen.unwrap_or_default();
        let prefix = format!("weir_backpressure::{function}");
        if !panicked || !message.starts_with(&prefix) || !file.ends_with("tests/panics.rs") {
            wrong.push(format!(
                "{function} panicked: {panicked}, {message:?} at {file}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
