//! Iterators over a channel's receiver, one set for both channels.

use crate::channel::{Receiver, RecvEnd};
use crate::wait::WaitStrategy;
use std::fmt;

/// Receives items, waiting for each, until every sender is gone and the channel is empty; from
/// `receiver.iter()` or `for item in &receiver`.
pub struct Iter<'a, E: RecvEnd, W: WaitStrategy> {
    receiver: &'a Receiver<E, W>,
}

/// Receives the items in the channel now, without waiting; from `receiver.try_iter()`.
pub struct TryIter<'a, E: RecvEnd, W: WaitStrategy> {
    receiver: &'a Receiver<E, W>,
}

/// Receives items, waiting for each, until every sender is gone and the channel is empty; from
/// `for item in receiver`, which consumes the receiver.
pub struct IntoIter<E: RecvEnd, W: WaitStrategy> {
    receiver: Receiver<E, W>,
}

impl<'a, E: RecvEnd, W: WaitStrategy> Iter<'a, E, W> {
    pub(crate) fn new(receiver: &'a Receiver<E, W>) -> Self {
        Iter { receiver }
    }
}

impl<'a, E: RecvEnd, W: WaitStrategy> TryIter<'a, E, W> {
    pub(crate) fn new(receiver: &'a Receiver<E, W>) -> Self {
        TryIter { receiver }
    }
}

impl<E: RecvEnd, W: WaitStrategy> IntoIter<E, W> {
    pub(crate) fn new(receiver: Receiver<E, W>) -> Self {
        IntoIter { receiver }
    }
}

impl<E: RecvEnd, W: WaitStrategy> Iterator for Iter<'_, E, W> {
    type Item = E::Item;

    fn next(&mut self) -> Option<E::Item> {
        self.receiver.recv().ok()
    }
}

impl<E: RecvEnd, W: WaitStrategy> Iterator for TryIter<'_, E, W> {
    type Item = E::Item;

    fn next(&mut self) -> Option<E::Item> {
        self.receiver.try_recv().ok()
    }
}

impl<E: RecvEnd, W: WaitStrategy> Iterator for IntoIter<E, W> {
    type Item = E::Item;

    fn next(&mut self) -> Option<E::Item> {
        self.receiver.recv().ok()
    }
}

impl<E: RecvEnd, W: WaitStrategy> fmt::Debug for Iter<'_, E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iter { .. }")
    }
}

impl<E: RecvEnd, W: WaitStrategy> fmt::Debug for TryIter<'_, E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryIter { .. }")
    }
}

impl<E: RecvEnd, W: WaitStrategy> fmt::Debug for IntoIter<E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntoIter { .. }")
    }
}
