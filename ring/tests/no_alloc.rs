//! No allocation per item: a counting global allocator shows that once `channel` has returned,
//! pushing and popping (single items, slices, chunks) allocate nothing, on one thread and on
//! two. The counter is per thread, so other tests running meanwhile do not disturb it.

use std::thread;

use weir_ring::{channel, Full};
use weir_test_support::{allocations_in, scaled, CountingAlloc, Waiter};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn cycles() -> usize {
    scaled(100_000, 200)
}

#[test]
fn the_counter_counts() {
    // The instrument works: an allocation on this thread is seen.
    let (n, v) = allocations_in(|| vec![1u8; 10]);
    assert_eq!(n, 1);
    assert_eq!(v.len(), 10);
    let (n, pair) = allocations_in(|| channel::<u64>(8));
    assert!(n >= 1, "channel() allocates its buffer");
    drop(pair);
}

#[test]
fn single_thread_push_pop_allocates_nothing() {
    let (mut producer, mut consumer) = channel::<u64>(64);
    let (n, ()) = allocations_in(|| {
        for i in 0..cycles() as u64 {
            producer.try_push(i).unwrap();
            if i % 3 == 0 {
                producer.try_push(i).unwrap();
                assert_eq!(consumer.peek(), Some(&i));
                consumer.try_pop().unwrap();
            }
            consumer.try_pop().unwrap();
        }
        // Full and empty paths too.
        for i in 0..64 {
            producer.try_push(i).unwrap();
        }
        assert!(matches!(producer.try_push(0), Err(Full(0))));
        assert_eq!(consumer.drain().count(), 64);
        assert_eq!(consumer.try_pop(), None);
    });
    assert_eq!(n, 0, "allocations in {} push/pop cycles", cycles());
}

#[test]
fn single_thread_slices_allocate_nothing() {
    let (mut producer, mut consumer) = channel::<u64>(100);
    let input = [7u64; 37];
    let mut output = [0u64; 41];
    let (n, ()) = allocations_in(|| {
        for _ in 0..cycles() {
            let pushed = producer.push_slice(&input);
            assert!(pushed > 0);
            assert!(consumer.pop_slice(&mut output) > 0);
        }
    });
    assert_eq!(n, 0, "allocations in {} slice cycles", cycles());
}

#[test]
fn single_thread_chunks_allocate_nothing() {
    let (mut producer, mut consumer) = channel::<u64>(100);
    let (n, ()) = allocations_in(|| {
        for i in 0..cycles() as u64 {
            let mut chunk = producer.write_chunk(13);
            let (first, second) = chunk.as_mut_slices();
            for slot in first.iter_mut().chain(second.iter_mut()) {
                slot.write(i);
            }
            let len = chunk.len();
            // SAFETY: every slot of the chunk was written just above.
            unsafe { chunk.commit(len) };
            assert_eq!(producer.write_chunk(5).fill_from_iter(i..), 5);
            let chunk = consumer.read_chunk(18);
            assert_eq!(chunk.len(), 18);
            chunk.release(18);
        }
    });
    assert_eq!(n, 0, "allocations in {} chunk cycles", cycles());
}

#[test]
fn single_thread_boxed_items_allocate_only_the_boxes() {
    // The ring adds nothing on top of what the items themselves allocate.
    let (mut producer, mut consumer) = channel::<Box<u64>>(16);
    let boxes: Vec<Box<u64>> = (0..16).map(Box::new).collect();
    let (n, ()) = allocations_in(|| {
        for b in boxes {
            producer.try_push(b).unwrap();
        }
        while let Some(b) = consumer.try_pop() {
            drop(b);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn two_threads_allocate_nothing_in_their_loops() {
    let n = cycles() as u64;
    // Each side cycles through single items, slices and chunks. Under Miri only single items:
    // the slice and chunk paths trip Stacked Borrows when the other thread is running (the bug
    // the ignored tests in `fifo.rs` show).
    let modes = if cfg!(miri) { 1 } else { 3 };
    let (mut producer, mut consumer) = channel::<u64>(128);
    // Each thread counts its own allocations inside its loop only (the thread spawn itself
    // allocates, outside the measured part).
    let writer = thread::spawn(move || {
        allocations_in(|| {
            let mut wait = Waiter::default();
            let mut next = 0u64;
            let batch = [0u64; 8];
            while next < n {
                let pushed = match next % modes {
                    0 => {
                        let mut item = next;
                        loop {
                            match producer.try_push(item) {
                                Ok(()) => break 1,
                                Err(Full(back)) => {
                                    item = back;
                                    wait.wait();
                                }
                            }
                        }
                    }
                    1 => {
                        let k = (n - next).min(8) as usize;
                        let mut items = batch;
                        for (j, slot) in items[..k].iter_mut().enumerate() {
                            *slot = next + j as u64;
                        }
                        producer.push_slice(&items[..k]) as u64
                    }
                    _ => producer.write_chunk(8).fill_from_iter(next..n) as u64,
                };
                if pushed == 0 {
                    wait.wait();
                } else {
                    wait.reset();
                }
                next += pushed;
            }
        })
        .0
    });
    let (reader_allocations, ()) = allocations_in(|| {
        let mut wait = Waiter::default();
        let mut expected = 0u64;
        let mut buf = [0u64; 8];
        while expected < n {
            let got = match expected % modes {
                0 => match consumer.try_pop() {
                    Some(item) => {
                        assert_eq!(item, expected);
                        1
                    }
                    None => 0,
                },
                1 => {
                    let got = consumer.pop_slice(&mut buf);
                    for (j, &item) in buf[..got].iter().enumerate() {
                        assert_eq!(item, expected + j as u64);
                    }
                    got as u64
                }
                _ => {
                    let chunk = consumer.read_chunk(8);
                    let (first, second) = chunk.as_slices();
                    for (j, &item) in first.iter().chain(second).enumerate() {
                        assert_eq!(item, expected + j as u64);
                    }
                    let len = chunk.len();
                    chunk.release(len);
                    len as u64
                }
            };
            if got == 0 {
                wait.wait();
            } else {
                wait.reset();
            }
            expected += got;
        }
    });
    let writer_allocations = writer.join().unwrap();
    assert_eq!(writer_allocations, 0, "allocations in the producer's loop");
    assert_eq!(reader_allocations, 0, "allocations in the consumer's loop");
}
