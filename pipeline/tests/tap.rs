//! `tap`: the last item that passed a point of a running pipeline, read from `Running::tap`.

use std::time::Duration;

use weir_pipeline::Pipeline;
use weir_test_support::within;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn a_tap_shows_the_last_item_that_passed() {
    within(LIMIT, || {
        let (input, pipeline) = Pipeline::input::<u64>(8);
        let (sink, seen) = std::sync::mpsc::channel::<String>();
        let running = pipeline
            .tap("raw")
            .map(|x| format!("item {x}"))
            .tap("text")
            .named("label")
            .for_each(move |item| sink.send(item).unwrap())
            .spawn();
        assert_eq!(running.tap::<u64>("raw"), None, "nothing passed yet");
        for x in [3, 1, 4, 1, 5] {
            input.send(x).unwrap();
            // Lock step: the item has reached the sink, so it passed both taps.
            assert_eq!(seen.recv().unwrap(), format!("item {x}"));
            assert_eq!(running.tap::<u64>("raw"), Some(x));
            assert_eq!(running.tap::<String>("label"), Some(format!("item {x}")));
        }
        // The renamed tap answers to its new name only; a wrong type or name gives nothing.
        assert_eq!(running.tap::<String>("text"), None);
        assert_eq!(running.tap::<u32>("raw"), None);
        assert_eq!(running.tap::<u64>("nowhere"), None);
        drop(input);
        let report = running.join().unwrap().report;
        let names: Vec<&str> = report.stages().iter().map(|s| s.name()).collect();
        assert_eq!(names, ["raw", "map", "label"]);
        assert_eq!(report.stage("raw").unwrap().items_out(), 5);
    });
}
