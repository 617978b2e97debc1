//! Panics on bad input name the function (`weir_mpmc::<fn>: ...`) and point at the caller's
//! line (`#[track_caller]`), not at a line inside the crate.
//!
//! One test in this binary: it replaces the panic hook, which is process-wide.

use weir_mpmc::Queue;
use weir_test_support::panic_of;

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
