//! `peek` shows the front item without removing it, and `drain` pops until the ring is empty.

use weir_ring::channel;

#[test]
fn peek_returns_the_front_without_removing_it() {
    let (mut producer, mut consumer) = channel::<String>(3);
    assert_eq!(consumer.peek(), None);
    producer.try_push("a".to_owned()).unwrap();
    producer.try_push("b".to_owned()).unwrap();
    for _ in 0..3 {
        assert_eq!(consumer.peek().map(String::as_str), Some("a"));
        assert_eq!(consumer.len(), 2);
        assert_eq!(producer.slots(), 1);
    }
    assert_eq!(consumer.try_pop().as_deref(), Some("a"));
    assert_eq!(consumer.peek().map(String::as_str), Some("b"));
    assert_eq!(consumer.try_pop().as_deref(), Some("b"));
    assert_eq!(consumer.peek(), None);
}

#[test]
fn peek_follows_the_front_around_the_ring() {
    let (mut producer, mut consumer) = channel::<u32>(3);
    for i in 0..20 {
        producer.try_push(i).unwrap();
        if i >= 2 {
            // Three items in: the oldest is at the front.
            assert_eq!(consumer.peek(), Some(&(i - 2)));
            assert_eq!(consumer.try_pop(), Some(i - 2));
            assert_eq!(consumer.peek(), Some(&(i - 1)));
        }
    }
}

#[test]
fn peek_sees_a_push_made_after_an_empty_peek() {
    // The consumer's cached view of the producer's position must be refreshed by `peek`.
    let (mut producer, consumer) = channel::<u32>(2);
    assert_eq!(consumer.peek(), None);
    producer.try_push(5).unwrap();
    assert_eq!(consumer.peek(), Some(&5));
    assert!(!consumer.is_empty());
}

#[test]
fn peek_does_not_drop_or_move_the_item() {
    let (mut producer, mut consumer) = channel::<Box<u64>>(2);
    producer.try_push(Box::new(7)).unwrap();
    let address = &**consumer.peek().unwrap() as *const u64;
    assert_eq!(&**consumer.peek().unwrap() as *const u64, address);
    let popped = consumer.try_pop().unwrap();
    assert_eq!(*popped, 7);
    assert_eq!(
        &*popped as *const u64, address,
        "the box itself moved, not its contents"
    );
}

#[test]
fn drain_pops_everything_in_order() {
    let (mut producer, mut consumer) = channel::<u32>(4);
    assert_eq!(producer.push_slice(&[1, 2]), 2);
    assert_eq!(consumer.try_pop(), Some(1));
    assert_eq!(producer.push_slice(&[3, 4, 5]), 3);
    // Items wrap the buffer end.
    assert_eq!(consumer.drain().collect::<Vec<_>>(), [2, 3, 4, 5]);
    assert!(consumer.is_empty());
    assert_eq!(producer.slots(), 4);
}

#[test]
fn drain_sees_items_pushed_while_it_runs() {
    let (mut producer, mut consumer) = channel::<u32>(2);
    producer.try_push(1).unwrap();
    let mut drain = consumer.drain();
    let (low, high) = drain.size_hint();
    assert!(low <= 1, "size_hint's lower bound {low} exceeds the items");
    assert_eq!(high, None);
    assert_eq!(drain.next(), Some(1));
    assert_eq!(drain.next(), None);
    producer.try_push(2).unwrap();
    // Not fused: the producer pushed again.
    assert_eq!(drain.next(), Some(2));
    assert_eq!(drain.next(), None);
}

#[test]
fn drain_stops_where_it_is_left() {
    let (mut producer, mut consumer) = channel::<u32>(5);
    assert_eq!(producer.push_slice(&[1, 2, 3, 4]), 4);
    assert_eq!(consumer.drain().take(3).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(consumer.len(), 1);
    assert_eq!(consumer.peek(), Some(&4));
}
