//! What the pipeline's test files share.

use weir_pipeline::Report;

/// The report's accounting, whatever ended the run: for a pipeline of stages with one output
/// per input, `in = out + filtered + failed + dropped + discarded` for the whole run, and
/// `in = out + filtered + failed + discarded` per stage.
pub(crate) fn assert_accounts(report: &Report) {
    let filtered: u64 = report.stages().iter().map(|s| s.filtered()).sum();
    let failed: u64 = report.stages().iter().map(|s| s.failed()).sum();
    let dropped: u64 = report.stages().iter().map(|s| s.dropped()).sum();
    assert!(dropped <= report.dropped(), "{report}");
    let dropped = report.dropped();
    assert_eq!(
        report.items_in(),
        report.items_out() + filtered + failed + dropped + report.discarded(),
        "in = out + filtered + failed + dropped + discarded\n{report}"
    );
    for stage in report.stages() {
        assert_eq!(
            stage.items_in(),
            stage.items_out() + stage.filtered() + stage.failed() + stage.discarded(),
            "stage {}\n{report}",
            stage.name()
        );
    }
}
