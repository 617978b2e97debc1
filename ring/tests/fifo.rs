//! FIFO order across two threads: every item the producer thread pushes arrives at the consumer
//! thread exactly once and in order, through single items, slices and chunks.

use std::thread;

use weir_ring::{channel, Consumer, Full, Producer};
use weir_test_support::{scaled, Rng, Waiter};

/// Items per test: 10M natively, 10k under Miri.
fn items() -> u64 {
    scaled(10_000_000, 10_000) as u64
}

/// Runs `produce` on a new thread and `consume` on this one, then checks the ring is left empty
/// and each side sees the other gone.
fn run_pair<P, C>(capacity: usize, produce: P, consume: C)
where
    P: FnOnce(&mut Producer<u64>) + Send + 'static,
    C: FnOnce(&mut Consumer<u64>),
{
    let (mut producer, mut consumer) = channel::<u64>(capacity);
    let writer = thread::spawn(move || {
        produce(&mut producer);
        producer
    });
    consume(&mut consumer);
    let producer = writer.join().expect("producer thread panicked");
    assert!(consumer.is_empty());
    assert_eq!(consumer.try_pop(), None);
    assert_eq!(producer.slots(), capacity);
    assert!(!consumer.is_abandoned());
    drop(producer);
    assert!(consumer.is_abandoned());
}

fn push_one_by_one(producer: &mut Producer<u64>, n: u64) {
    let mut wait = Waiter::default();
    for i in 0..n {
        let mut item = i;
        loop {
            match producer.try_push(item) {
                Ok(()) => break,
                Err(Full(back)) => {
                    assert_eq!(back, i, "Full must hand back the same item");
                    item = back;
                    wait.wait();
                }
            }
        }
        wait.reset();
    }
}

fn pop_one_by_one(consumer: &mut Consumer<u64>, n: u64) {
    let mut wait = Waiter::default();
    let mut expected = 0;
    while expected < n {
        match consumer.try_pop() {
            Some(item) => {
                assert_eq!(item, expected, "items out of order");
                expected += 1;
                wait.reset();
            }
            None => wait.wait(),
        }
    }
}

#[test]
fn try_push_try_pop_keep_order() {
    let n = items();
    // Under Miri a big ring makes every call slow (Stacked Borrows retags the whole buffer).
    run_pair(
        scaled(1024, 16),
        move |p| push_one_by_one(p, n),
        |c| pop_one_by_one(c, n),
    );
}

#[test]
fn try_push_try_pop_keep_order_capacity_1_and_3() {
    // The tightest rings: the two sides hand every slot back and forth.
    let n = items() / 20;
    for capacity in [1, 3] {
        run_pair(
            capacity,
            move |p| push_one_by_one(p, n),
            |c| pop_one_by_one(c, n),
        );
    }
}

#[test]
fn peek_then_pop_across_threads() {
    let n = items() / 10;
    run_pair(
        7,
        move |p| push_one_by_one(p, n),
        |c| {
            let mut wait = Waiter::default();
            let mut expected = 0;
            while expected < n {
                match c.peek() {
                    Some(&front) => {
                        assert_eq!(front, expected);
                        assert_eq!(c.try_pop(), Some(expected));
                        expected += 1;
                        wait.reset();
                    }
                    None => wait.wait(),
                }
            }
        },
    );
}

#[test]
fn push_slice_pop_slice_keep_order() {
    let n = items();
    let capacity = 1000;
    run_pair(
        capacity,
        move |p| {
            let mut rng = Rng::new(1);
            let mut buf = vec![0u64; capacity + 50];
            let mut wait = Waiter::default();
            let mut next = 0;
            while next < n {
                // Slices from empty up to longer than the ring.
                let want = rng.range(0, capacity + 50).min((n - next) as usize);
                for (k, slot) in buf[..want].iter_mut().enumerate() {
                    *slot = next + k as u64;
                }
                let mut sent = 0;
                while sent < want {
                    let pushed = p.push_slice(&buf[sent..want]);
                    assert!(pushed <= want - sent);
                    if pushed == 0 {
                        wait.wait();
                    } else {
                        wait.reset();
                    }
                    sent += pushed;
                }
                next += want as u64;
            }
        },
        |c| {
            let mut rng = Rng::new(2);
            let mut buf = vec![u64::MAX; capacity + 50];
            let mut wait = Waiter::default();
            let mut expected = 0;
            while expected < n {
                let want = rng.range(0, capacity + 50);
                let got = c.pop_slice(&mut buf[..want]);
                assert!(got <= want);
                for &item in &buf[..got] {
                    assert_eq!(item, expected, "items out of order");
                    expected += 1;
                }
                if got == 0 {
                    wait.wait();
                } else {
                    wait.reset();
                }
            }
        },
    );
}

#[test]
fn write_chunk_read_chunk_keep_order() {
    let n = items();
    let capacity = 777;
    run_pair(
        capacity,
        move |p| {
            let mut rng = Rng::new(3);
            let mut wait = Waiter::default();
            let mut next = 0u64;
            while next < n {
                let want = rng.range(0, capacity + 10).min((n - next) as usize);
                let mut chunk = p.write_chunk(want);
                assert!(chunk.len() <= want);
                if chunk.is_empty() {
                    wait.wait();
                    continue;
                }
                wait.reset();
                if rng.next_u64().is_multiple_of(2) {
                    // Write every slot in place, then commit only some of them.
                    let commit = rng.range(0, chunk.len());
                    let (first, second) = chunk.as_mut_slices();
                    for (k, slot) in first.iter_mut().chain(second.iter_mut()).enumerate() {
                        slot.write(next + k as u64);
                    }
                    // SAFETY: all `chunk.len()` slots were written just above.
                    unsafe { chunk.commit(commit) };
                    next += commit as u64;
                } else {
                    let len = chunk.len();
                    let filled = chunk.fill_from_iter(next..n);
                    assert_eq!(filled, len.min((n - next) as usize));
                    next += filled as u64;
                }
            }
        },
        |c| {
            let mut rng = Rng::new(4);
            let mut wait = Waiter::default();
            let mut expected = 0;
            while expected < n {
                let want = rng.range(0, capacity + 10);
                let chunk = c.read_chunk(want);
                assert!(chunk.len() <= want);
                if chunk.is_empty() {
                    wait.wait();
                    continue;
                }
                wait.reset();
                let release = rng.range(0, chunk.len());
                let (first, second) = chunk.as_slices();
                // Everything in the chunk is checked, but only `release` items are consumed:
                // the rest must come again, at the front of the next chunk.
                for (k, &item) in first.iter().chain(second).enumerate() {
                    assert_eq!(item, expected + k as u64, "items out of order");
                }
                chunk.release(release);
                expected += release as u64;
            }
        },
    );
}

#[test]
fn consumer_reads_everything_after_the_producer_is_gone() {
    // The pattern documented on `Consumer`: check `is_abandoned` before the pop that finds the
    // ring empty; then an empty ring means every item has been read.
    let n = items() / 10;
    let (mut producer, mut consumer) = channel::<u64>(64);
    let writer = thread::spawn(move || push_one_by_one(&mut producer, n));
    let mut wait = Waiter::default();
    let mut expected = 0;
    loop {
        let abandoned = consumer.is_abandoned();
        match consumer.try_pop() {
            Some(item) => {
                assert_eq!(item, expected);
                expected += 1;
                wait.reset();
            }
            None if abandoned => break,
            None => wait.wait(),
        }
    }
    assert_eq!(expected, n, "items lost");
    writer.join().unwrap();
}

/// A small ring handed back and forth in chunks, as fast as possible. Under Miri this is the
/// regression test for chunks that kept references to their slots while `commit`/`release`
/// handed them to the other thread (Stacked Borrows UB with `-Zmiri-seed=7`); chunks now keep
/// raw slices and make references only inside `as_slices`/`as_mut_slices`.
#[test]
fn chunk_handover_keeps_order() {
    let n = scaled(1_000_000, 300) as u64;
    run_pair(
        4,
        move |p| {
            let mut next = 0u64;
            while next < n {
                let mut chunk = p.write_chunk(3);
                let (first, second) = chunk.as_mut_slices();
                let mut k = 0;
                for slot in first.iter_mut().chain(second.iter_mut()) {
                    if next + k == n {
                        break;
                    }
                    slot.write(next + k);
                    k += 1;
                }
                // SAFETY: the first `k` slots were written just above.
                unsafe { chunk.commit(k as usize) };
                next += k;
                thread::yield_now();
            }
        },
        |c| {
            let mut expected = 0u64;
            while expected < n {
                let chunk = c.read_chunk(3);
                let (first, second) = chunk.as_slices();
                for &item in first.iter().chain(second) {
                    assert_eq!(item, expected, "items out of order");
                    expected += 1;
                }
                let len = chunk.len();
                chunk.release(len);
                thread::yield_now();
            }
        },
    );
}
