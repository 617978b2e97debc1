//! [`Workers`]: how many threads a `parallel` stage runs, and whether it keeps order.

/// The workers of a [`parallel`](crate::Pipeline::parallel) stage: how many, and whether
/// their output keeps the input order.
///
/// A bare number converts into unordered workers: `.parallel(4, build)`.
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
    count: usize,
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
            count,
            ordered: false,
        }
    }

    /// The same workers, with their outputs given back in the input order (through a
    /// reorder window bounded by the stage's capacity).
    pub fn ordered(self) -> Self {
        Workers {
            ordered: true,
            ..self
        }
    }

    /// How many workers.
    pub fn count(&self) -> usize {
        self.count
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
