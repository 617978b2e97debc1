//! `batch` and `batch_timeout`.

use std::time::Duration;

use weir_pipeline::{Batch, Pipeline};
use weir_test_support::{scaled, within};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn batches_are_full_but_the_last() {
    within(LIMIT, || {
        let n = scaled(10_003, 103) as u64;
        let finished = Pipeline::from_iter(0..n)
            .batch(10)
            .map(|batch| batch.into_iter().collect::<Vec<u64>>())
            .collect::<Vec<_>>()
            .run()
            .unwrap();
        let batches = finished.output;
        assert_eq!(batches.len() as u64, n.div_ceil(10));
        assert!(batches[..batches.len() - 1].iter().all(|b| b.len() == 10));
        assert_eq!(batches.last().unwrap().len() as u64, n - (n - 1) / 10 * 10);
        assert_eq!(batches.concat(), (0..n).collect::<Vec<_>>());
        let stage = finished.report.stage("batch").unwrap();
        assert_eq!(
            (stage.items_in(), stage.items_out()),
            (n, batches.len() as u64)
        );
    });
}

#[test]
fn a_batch_derefs_and_iterates() {
    let mut batch = Batch::from_vec(vec![3, 1, 2]);
    batch.sort_unstable();
    assert_eq!(&*batch, &[1, 2, 3]);
    assert_eq!((&batch).into_iter().sum::<i32>(), 6);
    assert_eq!(batch.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(Batch::from_vec(vec![1]).into_vec(), [1]);
}

#[test]
fn batch_timeout_sends_a_short_batch_when_the_input_is_idle() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u32>(16);
        let mut output = pipeline
            .batch_timeout(100, Duration::from_millis(20))
            .map(|batch| batch.to_vec())
            .into_iter();
        for i in 0..3 {
            input.send(i).unwrap();
        }
        // Far fewer than 100 items, and no end of stream: the idle timeout sends them.
        assert_eq!(output.next(), Some(vec![0, 1, 2]));
        input.send(9).unwrap();
        drop(input);
        assert_eq!(output.next(), Some(vec![9]));
        assert_eq!(output.next(), None);
        output.finish().unwrap();
    });
}

#[test]
#[should_panic(expected = "size must be at least 1")]
fn batch_of_zero_panics() {
    let _ = Pipeline::from_iter(0..1u8).batch(0);
}
