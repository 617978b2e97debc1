//! The item operations of a stage: one input item in, any number of output items out through
//! `emit`. A serial stage runs one operation, monomorphised; a [`Segment`](crate::Segment)
//! chains several behind one boxed operation.

use std::cell::Cell;
use std::marker::PhantomData;

use crate::error::BoxError;

/// Why feeding an item did not complete.
#[derive(Debug)]
pub(crate) enum Halt {
    /// The item failed: a `try_map` closure returned this error.
    Failed(BoxError),
    /// The items after this stage cannot go anywhere (the run stopped downstream).
    Stopped,
}

/// What an operation counts besides its outputs, kept by the thread that runs it.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Items a `filter` or `filter_map` dropped.
    pub(crate) filtered: Cell<u64>,
    /// Emitted values that are not items (the ordered stages' empty frames).
    pub(crate) fillers: Cell<u64>,
}

impl Counts {
    pub(crate) fn add_filtered(&self) {
        self.filtered.set(self.filtered.get() + 1);
    }
}

/// One step of a stage.
pub(crate) trait Op<I>: Send {
    type Out;

    /// Feeds one item; every output goes to `emit`, in order.
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(Self::Out) -> Result<(), Halt> + ?Sized;
}

/// [`Op`] behind a pointer: what a [`Segment`](crate::Segment) holds.
pub(crate) trait DynOp<I, O>: Send {
    fn feed_dyn(
        &mut self,
        item: I,
        counts: &Counts,
        emit: &mut dyn FnMut(O) -> Result<(), Halt>,
    ) -> Result<(), Halt>;
}

impl<I, P: Op<I>> DynOp<I, P::Out> for P {
    #[inline]
    fn feed_dyn(
        &mut self,
        item: I,
        counts: &Counts,
        emit: &mut dyn FnMut(P::Out) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        self.feed(item, counts, emit)
    }
}

/// A boxed chain of operations.
pub(crate) type Boxed<I, O> = Box<dyn DynOp<I, O>>;

impl<I, O> Op<I> for Boxed<I, O> {
    type Out = O;

    #[inline]
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(O) -> Result<(), Halt> + ?Sized,
    {
        (**self).feed_dyn(item, counts, &mut |out| emit(out))
    }
}

/// The operation that passes items on unchanged.
pub(crate) struct Identity<T>(PhantomData<fn(T) -> T>);

impl<T> Identity<T> {
    pub(crate) fn new() -> Self {
        Identity(PhantomData)
    }
}

impl<T> Op<T> for Identity<T> {
    type Out = T;

    #[inline]
    fn feed<E>(&mut self, item: T, _: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(T) -> Result<(), Halt> + ?Sized,
    {
        emit(item)
    }
}

/// `first`, then `second` on each of its outputs.
pub(crate) struct Chain<A, B, M> {
    pub(crate) first: A,
    pub(crate) second: B,
    pub(crate) middle: PhantomData<fn(M) -> M>,
}

impl<I, M, A, B> Op<I> for Chain<A, B, M>
where
    A: Op<I, Out = M>,
    B: Op<M>,
{
    type Out = B::Out;

    #[inline]
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(B::Out) -> Result<(), Halt> + ?Sized,
    {
        let second = &mut self.second;
        self.first.feed(item, counts, &mut |middle| {
            second.feed(middle, counts, emit)
        })
    }
}

/// `map(f)`.
pub(crate) struct Map<F>(pub(crate) F);

impl<I, U, F: FnMut(I) -> U + Send> Op<I> for Map<F> {
    type Out = U;

    #[inline]
    fn feed<E>(&mut self, item: I, _: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(U) -> Result<(), Halt> + ?Sized,
    {
        emit((self.0)(item))
    }
}

/// `filter_map(f)`.
pub(crate) struct FilterMap<F>(pub(crate) F);

impl<I, U, F: FnMut(I) -> Option<U> + Send> Op<I> for FilterMap<F> {
    type Out = U;

    #[inline]
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(U) -> Result<(), Halt> + ?Sized,
    {
        match (self.0)(item) {
            Some(out) => emit(out),
            None => {
                counts.add_filtered();
                Ok(())
            }
        }
    }
}

/// `try_map(f)`: an `Err` fails the item.
pub(crate) struct TryMap<F>(pub(crate) F);

impl<I, U, F: FnMut(I) -> Result<U, BoxError> + Send> Op<I> for TryMap<F> {
    type Out = U;

    #[inline]
    fn feed<E>(&mut self, item: I, _: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(U) -> Result<(), Halt> + ?Sized,
    {
        match (self.0)(item) {
            Ok(out) => emit(out),
            Err(error) => Err(Halt::Failed(error)),
        }
    }
}

/// `filter(f)`.
pub(crate) struct Filter<F>(pub(crate) F);

impl<I, F: FnMut(&I) -> bool + Send> Op<I> for Filter<F> {
    type Out = I;

    #[inline]
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(I) -> Result<(), Halt> + ?Sized,
    {
        if (self.0)(&item) {
            emit(item)
        } else {
            counts.add_filtered();
            Ok(())
        }
    }
}

/// `inspect(f)`.
pub(crate) struct Inspect<F>(pub(crate) F);

impl<I, F: FnMut(&I) + Send> Op<I> for Inspect<F> {
    type Out = I;

    #[inline]
    fn feed<E>(&mut self, item: I, _: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(I) -> Result<(), Halt> + ?Sized,
    {
        (self.0)(&item);
        emit(item)
    }
}

/// `flat_map(f)`.
pub(crate) struct FlatMap<F>(pub(crate) F);

impl<I, J, F> Op<I> for FlatMap<F>
where
    F: FnMut(I) -> J + Send,
    J: IntoIterator,
{
    type Out = J::Item;

    #[inline]
    fn feed<E>(&mut self, item: I, _: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(J::Item) -> Result<(), Halt> + ?Sized,
    {
        (self.0)(item).into_iter().try_for_each(&mut *emit)
    }
}

/// What an ordered worker sends for each input item: its outputs, the last one marked, or a
/// marker alone for an item with no output. The merger counts one `Last` or `Empty` per item
/// dealt to the worker, so it knows where each item's outputs end.
#[derive(Debug)]
pub(crate) enum Frame<U> {
    More(U),
    Last(U),
    Empty,
}

/// An operation whose outputs are framed per input item (see [`Frame`]).
pub(crate) struct Framed<P>(pub(crate) P);

impl<I, P: Op<I>> Op<I> for Framed<P> {
    type Out = Frame<P::Out>;

    #[inline]
    fn feed<E>(&mut self, item: I, counts: &Counts, emit: &mut E) -> Result<(), Halt>
    where
        E: FnMut(Frame<P::Out>) -> Result<(), Halt> + ?Sized,
    {
        let mut pending = None;
        let fed = self
            .0
            .feed(item, counts, &mut |out| match pending.replace(out) {
                Some(previous) => emit(Frame::More(previous)),
                None => Ok(()),
            });
        if let Err(Halt::Stopped) = fed {
            return fed;
        }
        // Even a failed item ends with its marker, so that the merger's count stays in step.
        match pending {
            Some(last) => emit(Frame::Last(last))?,
            None => {
                counts.fillers.set(counts.fillers.get() + 1);
                emit(Frame::Empty)?;
            }
        }
        fed
    }
}
