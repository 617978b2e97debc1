//! Abandonment: `is_abandoned` is false while both handles live, and true on each side once the
//! other has been dropped (on this thread or another), with the ring still usable.

use std::thread;

use weir_ring::channel;

#[test]
fn false_while_both_handles_live() {
    let (mut producer, mut consumer) = channel::<u32>(2);
    assert!(!producer.is_abandoned());
    assert!(!consumer.is_abandoned());
    producer.try_push(1).unwrap();
    consumer.try_pop().unwrap();
    assert!(!producer.is_abandoned());
    assert!(!consumer.is_abandoned());
}

#[test]
fn producer_sees_the_consumer_gone() {
    let (mut producer, consumer) = channel::<u32>(2);
    producer.try_push(1).unwrap();
    drop(consumer);
    assert!(producer.is_abandoned());
    // Pushing still works (nobody will read the items; the producer's drop frees them).
    producer.try_push(2).unwrap();
    assert!(producer.try_push(3).is_err());
    assert_eq!(producer.slots(), 0);
    assert!(producer.is_abandoned());
}

#[test]
fn consumer_sees_the_producer_gone_and_keeps_the_items() {
    let (mut producer, mut consumer) = channel::<u32>(3);
    assert_eq!(producer.push_slice(&[1, 2]), 2);
    drop(producer);
    assert!(consumer.is_abandoned());
    assert_eq!(consumer.len(), 2);
    assert_eq!(consumer.drain().collect::<Vec<_>>(), [1, 2]);
    assert!(consumer.is_abandoned());
}

#[test]
fn abandonment_on_another_thread_is_seen() {
    let (producer, consumer) = channel::<u32>(1);
    thread::spawn(move || drop(consumer)).join().unwrap();
    assert!(producer.is_abandoned());

    let (producer, consumer) = channel::<u32>(1);
    let watcher = thread::spawn(move || {
        while !consumer.is_abandoned() {
            thread::yield_now();
        }
        consumer
    });
    assert!(!producer.is_abandoned());
    drop(producer);
    let consumer = watcher.join().unwrap();
    assert!(consumer.is_abandoned());
}

#[test]
fn debug_output_mentions_abandonment() {
    let (producer, consumer) = channel::<u32>(4);
    assert!(format!("{producer:?}").contains("is_abandoned: false"));
    drop(consumer);
    let text = format!("{producer:?}");
    assert!(text.contains("is_abandoned: true"), "{text}");
    assert!(text.contains("capacity: 4"), "{text}");
}
