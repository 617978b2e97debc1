//! [`Nested`]: a segment that holds a `parallel` stage, so a pipeline nested in a pipeline;
//! and [`Stages`], what [`Pipeline::then`](crate::Pipeline::then) adds.

use std::fmt;

use crate::pipeline::Pipeline;
use crate::segment::Segment;
use crate::workers::Workers;

/// What [`Pipeline::then`](crate::Pipeline::then) can add to a pipeline: a [`Segment`] (one
/// stage, fused on one thread) or a [`Nested`] segment (its stages, `parallel` ones among
/// them).
pub trait Stages<T, U> {
    /// Adds the stages to `pipeline`.
    fn add_to(self, pipeline: Pipeline<T>) -> Pipeline<U>;
}

impl<T: Send + 'static, U: Send + 'static> Stages<T, U> for Segment<T, U> {
    fn add_to(self, pipeline: Pipeline<T>) -> Pipeline<U> {
        let name = self.name.clone();
        let pipeline = pipeline.fused("then", self.op, !self.expands);
        match name {
            Some(name) => pipeline.named(&name),
            None => pipeline,
        }
    }
}

/// Adds stages to a pipeline, boxed.
type Build<T, U> = Box<dyn FnOnce(Pipeline<T>) -> Pipeline<U> + Send>;

/// A segment that holds a [`parallel`](Self::parallel) stage: a pipeline nested in a
/// pipeline, built on its own (by [`Segment::parallel`]) and added with
/// [`Pipeline::then`](crate::Pipeline::then). Each of its operations is a stage of its own
/// (only a [`Segment`] fuses them on one thread), and with [`named`](Self::named) the report
/// shows the nesting: its stages' names are prefixed with the segment's, `"prep/parallel"`.
///
/// A worker of a `parallel` stage runs a [`Segment`], not a `Nested` one: threads do not
/// nest inside a worker.
///
/// # Examples
///
/// ```
/// use weir_pipeline::{Pipeline, Segment};
///
/// let prep = Segment::new()
///     .filter(|x: &u64| x % 2 == 0)
///     .parallel(2, |s| s.map(|x| x * 10))
///     .map(|x| x + 1)
///     .named("prep");
/// let finished = Pipeline::from_iter(0..10u64)
///     .then(prep)
///     .collect::<Vec<_>>()
///     .run()
///     .unwrap();
/// let mut out = finished.output;
/// out.sort_unstable();
/// assert_eq!(out, [1, 21, 41, 61, 81]);
/// let names: Vec<&str> = finished.report.stages().iter().map(|s| s.name()).collect();
/// assert_eq!(names, ["prep/then", "prep/parallel", "prep/map"]);
/// ```
pub struct Nested<T, U> {
    build: Build<T, U>,
    name: Option<String>,
}

impl<T: Send + 'static, U: Send + 'static> Stages<T, U> for Nested<T, U> {
    fn add_to(self, pipeline: Pipeline<T>) -> Pipeline<U> {
        let first = pipeline.specs.len();
        let mut pipeline = (self.build)(pipeline);
        if let Some(prefix) = self.name {
            for spec in &mut pipeline.specs[first..] {
                spec.name = format!("{prefix}/{}", spec.name);
            }
        }
        pipeline
    }
}

impl<T: Send + 'static, U: Send + 'static> Segment<T, U> {
    /// Adds a `parallel` stage after this segment's operations (which become a stage of their
    /// own): the segment becomes a [`Nested`] one, a pipeline nested in a pipeline. See
    /// [`Pipeline::parallel`].
    pub fn parallel<V, B>(mut self, workers: impl Into<Workers>, build: B) -> Nested<T, V>
    where
        V: Send + 'static,
        B: Fn(Segment<U>) -> Segment<U, V> + Send + 'static,
    {
        let workers = workers.into();
        let name = self.name.take();
        let ops = self;
        Nested {
            build: Box::new(move |pipeline: Pipeline<T>| {
                // Operations before the parallel stage are a stage of their own.
                let pipeline: Pipeline<U> = ops.add_to(pipeline);
                pipeline.parallel(workers, build)
            }),
            name,
        }
    }
}

impl<T: Send + 'static, U: Send + 'static> Nested<T, U> {
    fn stage<V: 'static>(
        self,
        add: impl FnOnce(Pipeline<U>) -> Pipeline<V> + Send + 'static,
    ) -> Nested<T, V> {
        let build = self.build;
        Nested {
            build: Box::new(move |pipeline| add(build(pipeline))),
            name: self.name,
        }
    }

    /// Names the segment: the report shows its stages as `"name/stage"`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Adds another `parallel` stage. See [`Pipeline::parallel`].
    pub fn parallel<V, B>(self, workers: impl Into<Workers>, build: B) -> Nested<T, V>
    where
        V: Send + 'static,
        B: Fn(Segment<U>) -> Segment<U, V> + Send + 'static,
    {
        let workers = workers.into();
        self.stage(move |pipeline| pipeline.parallel(workers, build))
    }

    /// Adds a [`Segment`]'s operations as one stage.
    pub fn then<V: Send + 'static>(self, segment: Segment<U, V>) -> Nested<T, V> {
        self.stage(move |pipeline| pipeline.then(segment))
    }

    /// Adds a stage that applies `f` to each item.
    pub fn map<V: Send + 'static, F>(self, f: F) -> Nested<T, V>
    where
        F: FnMut(U) -> V + Send + 'static,
    {
        self.stage(move |pipeline| pipeline.map(f))
    }

    /// Adds a stage that keeps the items for which `f` is true.
    pub fn filter<F>(self, f: F) -> Nested<T, U>
    where
        F: FnMut(&U) -> bool + Send + 'static,
    {
        self.stage(move |pipeline| pipeline.filter(f))
    }

    /// Adds a stage that keeps the `Some` results of `f`.
    pub fn filter_map<V: Send + 'static, F>(self, f: F) -> Nested<T, V>
    where
        F: FnMut(U) -> Option<V> + Send + 'static,
    {
        self.stage(move |pipeline| pipeline.filter_map(f))
    }

    /// Adds a stage that replaces each item by the items of `f(item)`.
    pub fn flat_map<J, F>(self, f: F) -> Nested<T, J::Item>
    where
        F: FnMut(U) -> J + Send + 'static,
        J: IntoIterator + 'static,
        J::Item: Send + 'static,
    {
        self.stage(move |pipeline| pipeline.flat_map(f))
    }

    /// Adds a stage that calls `f` on each item as it passes.
    pub fn inspect<F>(self, f: F) -> Nested<T, U>
    where
        F: FnMut(&U) + Send + 'static,
    {
        self.stage(move |pipeline| pipeline.inspect(f))
    }

    /// Adds a stage that applies `f` to each item; an `Err` fails the item.
    pub fn try_map<V: Send + 'static, E, F>(self, f: F) -> Nested<T, V>
    where
        F: FnMut(U) -> Result<V, E> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.stage(move |pipeline| pipeline.try_map(f))
    }
}

impl<T, U> fmt::Debug for Nested<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nested")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
