//! Panics on bad input name the function (`weir_ring::<fn>: ...`) and point at the caller's
//! line (`#[track_caller]`), not at a line inside the crate.
//!
//! One test in this binary: it replaces the panic hook, which is process-wide.

use weir_ring::{channel, channel_with_start_index};
use weir_test_support::panic_of;

#[test]
fn bad_input_panics_name_the_function_at_the_callers_line() {
    let here = file!().to_owned();
    let (message, file) = panic_of(|| drop(channel::<u8>(0)));
    assert_eq!(message, "weir_ring::channel: capacity must be at least 1");
    assert_eq!(file, here);

    let (message, file) = panic_of(|| drop(channel_with_start_index::<u8>(0, 3)));
    assert_eq!(
        message,
        "weir_ring::channel_with_start_index: capacity must be at least 1"
    );
    assert_eq!(file, here);

    let (mut producer, mut consumer) = channel::<u8>(2);
    let (message, file) = panic_of(|| {
        let chunk = producer.write_chunk(1);
        // SAFETY: never reached past the count's check, which fails.
        unsafe { chunk.commit(2) };
    });
    assert_eq!(
        message,
        "weir_ring::WriteChunk::commit: cannot commit 2 slots of a chunk of 1"
    );
    assert_eq!(file, here);

    producer.try_push(1).unwrap();
    let (message, file) = panic_of(|| consumer.read_chunk(1).release(2));
    assert_eq!(
        message,
        "weir_ring::ReadChunk::release: cannot release 2 items of a chunk of 1"
    );
    assert_eq!(file, here);
}
