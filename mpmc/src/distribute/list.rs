//! What the distributors over a list of targets share, written once: the list (never empty),
//! the fallback when the first choice is full, the panic of their `new`, and, through
//! [`list_distributor!`], their `as_slice`, `into_targets`, `Debug`, and the [`Target`] impl
//! that lets a distributor be another distributor's target.

use alloc::boxed::Box;
use core::ops::{Deref, DerefMut};

use super::{Target, TargetsError};
use crate::Full;

/// A distributor's targets: at least one, in order.
#[derive(Clone)]
pub(super) struct Targets<P>(Box<[P]>);

impl<P> Targets<P> {
    /// Collects the targets, refusing an empty list.
    pub(super) fn new(targets: impl IntoIterator<Item = P>) -> Result<Self, TargetsError> {
        let targets: Box<[P]> = targets.into_iter().collect();
        if targets.is_empty() {
            return Err(TargetsError::NoTargets);
        }
        Ok(Targets(targets))
    }

    /// Gives the list back.
    pub(super) fn into_boxed(self) -> Box<[P]> {
        self.0
    }

    /// Pushes `item` into target `first`, or into the first target after it (wrapping round)
    /// with room: the fallback every distributor shares. Returns the index that took it.
    #[inline]
    pub(super) fn push_from<T>(&mut self, first: usize, mut item: T) -> Result<usize, Full<T>>
    where
        P: Target<T>,
    {
        let targets = &mut *self.0;
        debug_assert!(first < targets.len());
        let mut index = first;
        for _ in 0..targets.len() {
            match targets[index].try_push(item) {
                Ok(()) => return Ok(index),
                Err(Full(back)) => item = back,
            }
            index += 1;
            if index == targets.len() {
                index = 0;
            }
        }
        Err(Full(item))
    }

    /// The sum of the targets' lengths: a nested distributor's load. Each length is its own
    /// snapshot, so the sum is only as exact as they are.
    pub(super) fn load<T>(&self) -> usize
    where
        P: Target<T>,
    {
        self.0
            .iter()
            .fold(0, |sum: usize, target| sum.saturating_add(target.len()))
    }

    /// The sum of the targets' capacities.
    pub(super) fn capacity<T>(&self) -> usize
    where
        P: Target<T>,
    {
        self.0.iter().fold(0, |sum: usize, target| {
            sum.saturating_add(target.capacity())
        })
    }
}

impl<P> Deref for Targets<P> {
    type Target = [P];

    #[inline]
    fn deref(&self) -> &[P] {
        &self.0
    }
}

impl<P> DerefMut for Targets<P> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [P] {
        &mut self.0
    }
}

/// What every `new` does with its `try_new`'s error: panic with the one message form,
/// `weir_mpmc::distribute::<constructor>: <error>`, at the caller's line.
#[track_caller]
pub(super) fn built<D>(made: Result<D, TargetsError>, constructor: &str) -> D {
    match made {
        Ok(distributor) => distributor,
        Err(err) => panic!("weir_mpmc::distribute::{constructor}: {err}"),
    }
}

/// Writes, for a distributor type `Name<P, ...>` with a `targets: Targets<P>` field, what every
/// such distributor has: `as_slice`, `into_targets`, a `Debug` that shows the number of targets
/// and the fields named after `|this|` (never the targets themselves), and the [`Target`] impl
/// that makes it nest.
macro_rules! list_distributor {
    ($name:ident<P $(, $param:ident)*> $(; |$this:ident| $($field:ident = $value:expr),+)?) => {
        impl<P $(, $param)*> $name<P $(, $param)*> {
            /// The targets, in order.
            pub fn as_slice(&self) -> &[P] {
                &self.targets
            }

            /// Gives the targets back.
            pub fn into_targets(self) -> alloc::boxed::Box<[P]> {
                self.targets.into_boxed()
            }
        }

        impl<P $(, $param)*> core::fmt::Debug for $name<P $(, $param)*> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut debug = f.debug_struct(stringify!($name));
                debug.field("targets", &self.targets.len());
                $(
                    let $this = self;
                    $(debug.field(stringify!($field), &$value);)+
                )?
                debug.finish_non_exhaustive()
            }
        }

        /// A distributor is a target too, so distributors nest: a push is a
        /// [`send`](super::Distributor::send) (its index dropped), full only when every target
        /// below was tried and none had room; the length is the sum of the targets' lengths,
        /// and the capacity the sum of their capacities. See [nesting](super#nesting).
        impl<T, P: super::Target<T> $(, $param)*> super::Target<T> for $name<P $(, $param)*>
        where
            Self: super::Distributor<T>,
        {
            #[inline]
            fn try_push(&mut self, item: T) -> Result<(), crate::Full<T>> {
                super::Distributor::send(self, item).map(|_| ())
            }

            #[inline]
            fn len(&self) -> usize {
                self.targets.load()
            }

            #[inline]
            fn capacity(&self) -> usize {
                self.targets.capacity()
            }
        }
    };
}

pub(super) use list_distributor;
