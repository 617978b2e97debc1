//! [`Workers`]: how many threads a `parallel` stage runs, and whether it keeps order.

/// The workers of a [`parallel`](crate::Pipeline::parallel) stage: how many, and whether
/// their output keeps the input order.
///
/// A bare number converts into unordered workers: `.parallel(4, build)`. With
/// [`scaling`](Self::scaling) the count follows the load; and
/// [`Running::set_workers`](crate::Running::set_workers) sets it while the pipeline runs.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Workers;
///
/// let workers = Workers::new(4).ordered();
/// assert_eq!(workers.count(), 4);
/// assert!(workers.is_ordered());
/// assert!(!Workers::from(2).is_ordered());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Workers {
    min: usize,
    max: usize,
    scaling: bool,
    ordered: bool,
}

impl Workers {
    /// `count` workers whose outputs come out as they complete.
    ///
    /// # Panics
    ///
    /// If `count` is 0.
    #[track_caller]
    pub fn new(count: usize) -> Self {
        assert!(
            count > 0,
            "weir_pipeline::Workers::new: a parallel stage needs at least one worker"
        );
        Workers {
            min: count,
            max: count,
            scaling: false,
            ordered: false,
        }
    }

    /// Workers whose count follows the load: the stage starts `min` workers, adds one (up to
    /// `max`) while its input queue stays above three quarters full, and retires one (down to
    /// `min`) while it stays below a quarter full, with hysteresis: a rise must last a few
    /// milliseconds, a fall a tenth of a second, and changes are spaced out, so the count does
    /// not flap. A retired worker finishes its items first; nothing is lost or run twice when
    /// the count changes.
    ///
    /// Right after [`from_iter`](crate::Pipeline::from_iter), where the workers read the
    /// iterator themselves and no queue comes between, the load is how busy they are instead:
    /// one is added while they spend over nine tenths of their time on items rather than
    /// waiting for the source, and one retired while the others could do the same work busy
    /// at most six tenths of theirs.
    ///
    /// The stage starts `max` threads and parks the ones it does not use (a parked thread
    /// costs no CPU). [`StageReport::workers`](crate::StageReport::workers) is the count
    /// now, [`StageReport::scale_events`](crate::StageReport::scale_events) the changes.
    ///
    /// With [`ordered`](Self::ordered), the output keeps the input order as the count
    /// changes: the stage hands its input to the workers in turns, and a new count takes
    /// effect from the next turn. Its input queue (unless its workers read `from_iter`
    /// themselves) is shared out over the `max` workers, so with fewer of them working the
    /// reorder window is that much smaller.
    ///
    /// # Panics
    ///
    /// If `min` is 0 or greater than `max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{Pipeline, Workers};
    ///
    /// let finished = Pipeline::from_iter(0..10_000u64)
    ///     .parallel(Workers::scaling(1, 4), |s| s.map(|x| x * 2))
    ///     .named("double")
    ///     .fold(0, |a, x| a + x)
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(finished.output, 99_990_000);
    /// let workers = finished.report.stage("double").unwrap().workers();
    /// assert!((1..=4).contains(&workers));
    /// ```
    #[track_caller]
    pub fn scaling(min: usize, max: usize) -> Self {
        assert!(
            min > 0,
            "weir_pipeline::Workers::scaling: a parallel stage needs at least one worker"
        );
        assert!(
            min <= max,
            "weir_pipeline::Workers::scaling: min ({min}) is greater than max ({max})"
        );
        Workers {
            min,
            max,
            scaling: true,
            ordered: false,
        }
    }

    /// The same workers, with their outputs given back in the input order (through a
    /// reorder window bounded by the stage's capacity). Combines with
    /// [`scaling`](Self::scaling).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{Pipeline, Workers};
    ///
    /// let out: Vec<u64> = Pipeline::from_iter(0..10_000u64)
    ///     .parallel(Workers::scaling(1, 4).ordered(), |s| s.map(|x| x + 1))
    ///     .collect()
    ///     .run()
    ///     .unwrap()
    ///     .output;
    /// assert_eq!(out, (1..=10_000).collect::<Vec<_>>());
    /// ```
    pub fn ordered(self) -> Self {
        Workers {
            ordered: true,
            ..self
        }
    }

    /// How many workers the stage starts with (`min` for a scaling stage).
    pub fn count(&self) -> usize {
        self.min
    }

    /// The fewest workers the stage scales down to by itself.
    pub fn min(&self) -> usize {
        self.min
    }

    /// The most workers the stage runs (and the threads it starts).
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether the count follows the load ([`scaling`](Self::scaling)).
    pub fn is_scaling(&self) -> bool {
        self.scaling
    }

    /// Whether the output keeps the input order.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }
}

impl From<usize> for Workers {
    /// `Workers::new(count)`.
    ///
    /// # Panics
    ///
    /// If `count` is 0.
    #[track_caller]
    fn from(count: usize) -> Self {
        Workers::new(count)
    }
}
