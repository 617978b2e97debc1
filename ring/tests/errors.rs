//! Errors: a capacity of 0 or one too large for the item type (`try_channel`'s
//! `CapacityError`, its `requested()` and message, and `channel`'s panic message), and the
//! `Full` error a push into a full ring returns.

use std::error::Error;
use std::panic::catch_unwind;

use weir_ring::{channel, try_channel, CapacityError, Full};

/// The message of the panic `f` raises.
fn panic_message<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> String {
    let payload = match catch_unwind(f) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => payload,
    };
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("panic payload is not a string")
    }
}

#[test]
fn capacity_zero_is_an_error() {
    let err = try_channel::<u64>(0).unwrap_err();
    assert_eq!(err.requested(), 0);
    assert_eq!(err.to_string(), "capacity must be at least 1");
    // Zero-sized items too: zero is never a capacity.
    assert_eq!(try_channel::<()>(0).unwrap_err().requested(), 0);
}

#[test]
fn channel_panics_on_capacity_zero() {
    assert_eq!(
        panic_message(|| channel::<u64>(0)),
        "weir_ring::channel: capacity must be at least 1"
    );
}

#[test]
fn capacity_too_large_is_an_error() {
    for capacity in [
        usize::MAX,
        usize::MAX / 2 + 1,
        usize::MAX / 4,
        isize::MAX as usize / 8 + 1,
    ] {
        let err = try_channel::<u64>(capacity).unwrap_err();
        assert_eq!(err.requested(), capacity);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("capacity {capacity} is too large")),
            "{text}"
        );
    }
    // Bigger items hit the limit sooner.
    assert!(try_channel::<[u64; 1024]>(usize::MAX / 8192 + 1).is_err());
}

#[test]
fn channel_panics_on_capacity_too_large() {
    let message = panic_message(|| channel::<u64>(usize::MAX));
    assert!(
        message.starts_with(&format!(
            "weir_ring::channel: capacity {} is too large",
            usize::MAX
        )),
        "{message}"
    );
    let message = panic_message(|| channel::<u64>(usize::MAX / 4));
    assert!(
        message.starts_with("weir_ring::channel: capacity "),
        "{message}"
    );
    assert!(message.contains("too large"), "{message}");
}

#[test]
fn capacity_error_is_an_error_value() {
    let err = try_channel::<u64>(0).unwrap_err();
    let copy = err;
    assert_eq!(copy, err);
    assert_ne!(err, try_channel::<u64>(usize::MAX).unwrap_err());
    assert!(format!("{err:?}").contains("CapacityError"));
    let boxed: Box<dyn Error + Send + Sync> = Box::new(err);
    assert_eq!(boxed.to_string(), "capacity must be at least 1");
    assert!(boxed.source().is_none());
    assert_eq!(boxed.downcast_ref::<CapacityError>(), Some(&err));
}

#[test]
fn small_capacities_are_exact() {
    for capacity in [1, 2, 3, 1000] {
        let (mut producer, consumer) = try_channel::<u64>(capacity).unwrap();
        assert_eq!(producer.capacity(), capacity);
        assert_eq!(consumer.capacity(), capacity);
        let items: Vec<u64> = (0..capacity as u64 + 1).collect();
        assert_eq!(producer.push_slice(&items), capacity);
        assert_eq!(consumer.len(), capacity);
    }
}

/// An item that is neither `Debug` nor `Clone`.
struct Opaque(u32);

#[test]
fn full_gives_the_item_back() {
    let (mut producer, _consumer) = channel::<Opaque>(1);
    producer.try_push(Opaque(1)).unwrap();
    let err = producer.try_push(Opaque(2)).unwrap_err();
    assert_eq!(err.into_inner().0, 2);
    let Full(item) = producer.try_push(Opaque(3)).unwrap_err();
    assert_eq!(item.0, 3);
    assert_eq!(producer.try_push(Opaque(4)).unwrap_err().0 .0, 4);
}

#[test]
fn full_display_and_debug_without_item_debug() {
    let (mut producer, _consumer) = channel::<Opaque>(1);
    // `unwrap` needs `Full<Opaque>: Debug`, which holds although `Opaque` is not `Debug`.
    producer.try_push(Opaque(1)).unwrap();
    let err = producer.try_push(Opaque(2)).unwrap_err();
    assert_eq!(err.to_string(), "the queue is full");
    let debug = format!("{err:?}");
    assert!(debug.starts_with("Full"), "{debug}");
    // A `Debug` item is not printed either: the text does not depend on the item.
    assert_eq!(format!("{:?}", Full(12345)), debug);
}

#[test]
fn full_is_an_error() {
    fn push_all(items: Vec<String>) -> Result<(), Box<dyn Error + Send + Sync>> {
        let (mut producer, _consumer) = channel(2);
        for item in items {
            producer.try_push(item)?;
        }
        Ok(())
    }
    assert!(push_all(vec!["a".into(), "b".into()]).is_ok());
    let err = push_all(vec!["a".into(), "b".into(), "c".into()]).unwrap_err();
    assert_eq!(err.to_string(), "the queue is full");
    assert!(err.source().is_none());
    let full = err.downcast::<Full<String>>().expect("a Full<String>");
    assert_eq!(full.into_inner(), "c");

    // Non-`Debug` items work as `Box<dyn Error>` too.
    let (mut producer, _consumer) = channel::<Opaque>(1);
    producer.try_push(Opaque(0)).unwrap();
    let boxed: Box<dyn Error> = Box::new(producer.try_push(Opaque(5)).unwrap_err());
    assert_eq!(boxed.to_string(), "the queue is full");
}

#[test]
fn full_compares_and_copies_by_item() {
    let a = Full(1);
    let b = a;
    assert_eq!(a, b);
    assert_ne!(Full(1), Full(2));
}
