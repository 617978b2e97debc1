//! The owning iterator over a queue's items.

use core::fmt;
use core::iter::FusedIterator;

use super::Queue;

/// The items of a [`Queue`], oldest first, taken by value; made by `Queue`'s
/// [`IntoIterator`] impl.
///
/// The iterator owns the queue, so nothing can push behind it: it yields exactly the items the
/// queue held. Items it has not yielded when it drops are dropped then, each once.
///
/// # Examples
///
/// ```
/// let queue = weir_mpmc::Queue::new(4);
/// for word in ["a", "b", "c"] {
///     queue.try_push(word).unwrap();
/// }
/// let mut items = queue.into_iter();
/// assert_eq!(items.len(), 3);
/// assert_eq!(items.next(), Some("a"));
/// assert_eq!(items.collect::<Vec<_>>(), ["b", "c"]);
/// ```
pub struct IntoIter<T> {
    queue: Queue<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.queue.try_pop()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact: no other thread can reach the queue.
        let len = self.queue.len();
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

// Nothing can push once the queue is owned here, so the first `None` is the last item's end.
impl<T> FusedIterator for IntoIter<T> {}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("len", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl<T> IntoIterator for Queue<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// The queue's items, oldest first. The items not iterated are dropped with the iterator.
    #[inline]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { queue: self }
    }
}
