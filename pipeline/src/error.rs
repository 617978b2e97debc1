//! How a run fails: the error policy, the kinds of failure, and the error `run` returns.

use std::error::Error;
use std::fmt;

use crate::report::Report;

/// An error from a stage's closure, boxed.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What a pipeline does when a `try_map` closure returns `Err`.
///
/// A panic in any closure always fails the run, whatever the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OnError {
    /// Stop at the first error: the source stops, what is queued is discarded (and counted in
    /// [`Report::discarded`]), every thread ends, and the run returns the error. The default.
    #[default]
    FailFast,
    /// Count the failed item in its stage's [`failed`](crate::StageReport::failed) and go on;
    /// the report keeps the first few errors ([`Report::errors`]).
    Skip,
}

/// Why a run ended without its output.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `try_map` closure returned this error (under [`OnError::FailFast`]).
    Failed(BoxError),
    /// A closure panicked, with this message.
    Panicked(String),
    /// The run was cancelled: [`Running::cancel`](crate::Running::cancel), or an
    /// [`Output`](crate::Output) or a [`Running`](crate::Running) dropped before the end.
    Cancelled,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Failed(error) => write!(f, "failed: {error}"),
            ErrorKind::Panicked(message) => write!(f, "panicked: {message}"),
            ErrorKind::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// A run that ended early: the stage where it happened, what happened, and the report of
/// everything done until then.
///
/// # Examples
///
/// ```
/// use weir_pipeline::{ErrorKind, Pipeline};
///
/// let error = Pipeline::from_iter(0..100u32)
///     .try_map(|x| if x == 50 { Err(std::fmt::Error) } else { Ok(x) })
///     .named("check")
///     .for_each(drop)
///     .run()
///     .unwrap_err();
/// assert_eq!(error.stage(), "check");
/// assert!(matches!(error.kind(), ErrorKind::Failed(_)));
/// assert_eq!(error.report().stage("check").unwrap().failed(), 1);
/// ```
pub struct PipelineError {
    stage: String,
    kind: ErrorKind,
    // Boxed: a `Result` carrying the error stays small.
    report: Box<Report>,
}

impl PipelineError {
    pub(crate) fn new(stage: String, kind: ErrorKind, report: Report) -> Self {
        PipelineError {
            stage,
            kind,
            report: Box::new(report),
        }
    }

    /// The name of the stage that failed (or `"pipeline"` for a cancel).
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// What happened.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The report of the run until it stopped; its counts add up (see [`Report`]).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The kind, taking it out of the error (to get at a `Failed` error's value).
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Debug for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineError")
            .field("stage", &self.stage)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pipeline stage `{}` {}", self.stage, self.kind)
    }
}

impl Error for PipelineError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            ErrorKind::Failed(error) => Some(&**error),
            _ => None,
        }
    }
}

/// The message of a panic's payload, as `std` prints it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// The error of an [`into_sender`](crate::Pipeline::into_sender) sink whose receivers are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverGone;

impl fmt::Display for ReceiverGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every receiver of the output channel is gone")
    }
}

impl Error for ReceiverGone {}

/// Why a change to a running pipeline ([`Running::set_workers`](crate::Running::set_workers),
/// [`Running::set_capacity`](crate::Running::set_capacity)) was refused. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlError {
    /// No stage has this name.
    UnknownStage(String),
    /// The stage is not a `parallel` one.
    NotParallel(String),
    /// The value is outside what the stage allows, `min..=max`.
    OutOfRange {
        /// The stage's name.
        stage: String,
        /// The value asked for.
        value: usize,
        /// The least the stage allows.
        min: usize,
        /// The most the stage allows.
        max: usize,
        /// What the value counts: `"workers"` ([`set_workers`](crate::Running::set_workers))
        /// or `"items"` ([`set_capacity`](crate::Running::set_capacity)).
        unit: &'static str,
    },
    /// The stage has no input queue whose capacity can be set: a `parallel` stage right after
    /// `from_iter`, whose workers read the source themselves, or a stage after
    /// `priority`, whose input is a priority queue of fixed levels.
    NoQueue(String),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::UnknownStage(stage) => write!(f, "no stage is named `{stage}`"),
            ControlError::NotParallel(stage) => {
                write!(f, "stage `{stage}` is not a parallel stage")
            }
            ControlError::OutOfRange {
                stage,
                value,
                min,
                max,
                unit,
            } => write!(
                f,
                "stage `{stage}` takes {min} to {max} {unit}, not {value}"
            ),
            ControlError::NoQueue(stage) => {
                write!(
                    f,
                    "stage `{stage}` has no input queue whose capacity can be set"
                )
            }
        }
    }
}

impl Error for ControlError {}
