//! [`Segment`]: a chain of item operations that runs fused on one thread, such as one worker's
//! share of a `parallel` stage.

use std::fmt;
use std::marker::PhantomData;

use crate::error::BoxError;
use crate::op::{Boxed, Chain, Filter, FilterMap, FlatMap, Identity, Inspect, Map, Op, TryMap};

/// A chain of operations from `T` to `U` that runs fused on one thread: what the `build`
/// closure of [`Pipeline::parallel`](crate::Pipeline::parallel) makes for each worker, and
/// what [`Pipeline::then`](crate::Pipeline::then) runs as one stage.
///
/// It has the item methods of [`Pipeline`](crate::Pipeline) (`map`, `filter`, `filter_map`,
/// `flat_map`, `inspect`, `try_map`), each taking what `Iterator`'s method of the same name
/// takes. Its closures need `Send` but not `Sync`: each worker owns its own.
///
/// # Examples
///
/// ```
/// use weir_pipeline::{Pipeline, Workers};
///
/// let out: Vec<u64> = Pipeline::from_iter(0..100u64)
///     .parallel(Workers::new(2).ordered(), |segment| {
///         segment.filter(|x| x % 2 == 0).map(|x| x * 10)
///     })
///     .collect::<Vec<_>>()
///     .run()
///     .unwrap()
///     .output;
/// assert_eq!(out, (0..100).filter(|x| x % 2 == 0).map(|x| x * 10).collect::<Vec<_>>());
/// ```
pub struct Segment<T, U = T> {
    pub(crate) op: Boxed<T, U>,
    /// The name its stage takes in a pipeline (the prefix of its stages', once nested).
    pub(crate) name: Option<String>,
    /// Whether an item may make more than one output (a `flat_map`): the outputs of one
    /// item then have no bound but the closure's.
    pub(crate) expands: bool,
}

impl<T: Send + 'static> Segment<T> {
    /// A segment that passes items on unchanged; add operations to it.
    pub fn new() -> Self {
        Segment {
            op: Box::new(Identity::new()),
            name: None,
            expands: false,
        }
    }
}

impl<T: Send + 'static> Default for Segment<T> {
    fn default() -> Self {
        Segment::new()
    }
}

impl<T: 'static, U: 'static> Segment<T, U> {
    fn push<V, P: Op<U, Out = V> + 'static>(self, op: P) -> Segment<T, V> {
        Segment {
            op: Box::new(Chain {
                first: self.op,
                second: op,
                middle: PhantomData,
            }),
            name: self.name,
            expands: self.expands,
        }
    }

    /// Names the segment: added with [`Pipeline::then`](crate::Pipeline::then), its stage
    /// takes this name (the default is `"then"`); once it holds a `parallel` stage
    /// ([`Nested`](crate::Nested)), its stages' names are prefixed with it.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Appends `next`'s operations to this segment's: segments built apart (by functions
    /// that return them, say) compose into one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_pipeline::{Pipeline, Segment};
    ///
    /// fn parse() -> Segment<&'static str, u32> {
    ///     Segment::new().filter_map(|s: &str| s.parse().ok())
    /// }
    /// fn scale() -> Segment<u32> {
    ///     Segment::new().map(|x| x * 10)
    /// }
    ///
    /// let out: Vec<u32> = Pipeline::from_iter(["1", "x", "3"])
    ///     .then(parse().then(scale()))
    ///     .collect::<Vec<_>>()
    ///     .run()
    ///     .unwrap()
    ///     .output;
    /// assert_eq!(out, [10, 30]);
    /// ```
    pub fn then<V: 'static>(self, next: Segment<U, V>) -> Segment<T, V> {
        let expands = next.expands;
        let mut joined = self.push(next.op);
        joined.expands |= expands;
        joined
    }

    /// Applies `f` to each item.
    pub fn map<V: 'static, F>(self, f: F) -> Segment<T, V>
    where
        F: FnMut(U) -> V + Send + 'static,
    {
        self.push(Map(f))
    }

    /// Keeps the items for which `f` is true; the others count as filtered.
    pub fn filter<F>(self, f: F) -> Segment<T, U>
    where
        F: FnMut(&U) -> bool + Send + 'static,
    {
        self.push(Filter(f))
    }

    /// Keeps the `Some` results of `f`; a `None` counts as filtered.
    pub fn filter_map<V: 'static, F>(self, f: F) -> Segment<T, V>
    where
        F: FnMut(U) -> Option<V> + Send + 'static,
    {
        self.push(FilterMap(f))
    }

    /// Replaces each item by the items of `f(item)`, in order.
    pub fn flat_map<J, F>(self, f: F) -> Segment<T, J::Item>
    where
        F: FnMut(U) -> J + Send + 'static,
        J: IntoIterator + 'static,
        J::Item: 'static,
    {
        let mut segment = self.push(FlatMap(f));
        segment.expands = true;
        segment
    }

    /// Calls `f` on each item as it passes.
    pub fn inspect<F>(self, f: F) -> Segment<T, U>
    where
        F: FnMut(&U) + Send + 'static,
    {
        self.push(Inspect(f))
    }

    /// Applies `f` to each item; an `Err` fails the item (see
    /// [`OnError`](crate::OnError)).
    pub fn try_map<V: 'static, E, F>(self, mut f: F) -> Segment<T, V>
    where
        F: FnMut(U) -> Result<V, E> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.push(TryMap(move |item| {
            f(item).map_err(|error| Box::new(error) as BoxError)
        }))
    }
}

impl<T, U> fmt::Debug for Segment<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Segment { .. }")
    }
}
