//! Credits held: guards that give their credits back when dropped, borrowed ([`Credit`]) or
//! owned through an `Arc` ([`OwnedCredit`]).

use super::Credits;
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use std::sync::Arc;

/// Credits held: given back to their [`Credits`] when dropped.
///
/// # Examples
///
/// ```
/// let credits = weir_backpressure::Credits::new(2);
/// {
///     let credit = credits.acquire();
///     assert_eq!((credit.count(), credits.available()), (1, 1));
/// }
/// assert_eq!(credits.available(), 2);
/// ```
#[must_use = "a credit is given back at once when dropped"]
pub struct Credit<'a, W: WaitStrategy = Park> {
    credits: &'a Credits<W>,
    count: usize,
}

impl<'a, W: WaitStrategy> Credit<'a, W> {
    pub(super) fn new(credits: &'a Credits<W>, count: usize) -> Self {
        Credit { credits, count }
    }

    /// How many credits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(4);
    /// assert_eq!(credits.acquire_many(3).unwrap().count(), 3);
    /// ```
    pub fn count(&self) -> usize {
        self.count
    }

    /// Splits `count` credits off into a credit of their own, to hand them on separately
    /// (one per item of a batch, say).
    ///
    /// # Panics
    ///
    /// If this holds fewer than `count` credits.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(4);
    /// let mut batch = credits.acquire_many(3).unwrap();
    /// let one = batch.split(1);
    /// assert_eq!((batch.count(), one.count()), (2, 1));
    /// drop(one);
    /// assert_eq!(credits.available(), 2);
    /// ```
    #[track_caller]
    pub fn split(&mut self, count: usize) -> Credit<'a, W> {
        assert!(
            count <= self.count,
            "weir_backpressure::Credit::split: cannot split {count} credits off a credit of {}",
            self.count
        );
        self.count -= count;
        Credit::new(self.credits, count)
    }

    /// Keeps the credits taken without giving them back, and returns how many: give them back
    /// later with [`Credits::release`], from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(1);
    /// let taken = credits.acquire().forget();
    /// assert_eq!(credits.available(), 0);
    /// credits.release(taken);
    /// assert_eq!(credits.available(), 1);
    /// ```
    pub fn forget(self) -> usize {
        let count = self.count;
        std::mem::forget(self);
        count
    }
}

impl<W: WaitStrategy> Drop for Credit<'_, W> {
    fn drop(&mut self) {
        self.credits.give_back(self.count);
    }
}

impl<W: WaitStrategy> fmt::Debug for Credit<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credit")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

/// Credits held through an `Arc` of their [`Credits`], so that they can go anywhere; given back
/// when dropped. From [`Credits::acquire_owned`] and the like.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weir_backpressure::Credits;
///
/// let credits = Arc::new(Credits::new(2));
/// let (sender, receiver) = std::sync::mpsc::channel();
/// sender.send((credits.acquire_owned(), "item")).unwrap();
/// assert_eq!(credits.available(), 1);
/// let worker = std::thread::spawn(move || {
///     let (_credit, item) = receiver.recv().unwrap();
///     item.len()
/// });
/// assert_eq!(worker.join().unwrap(), 4);
/// assert_eq!(credits.available(), 2);
/// ```
#[must_use = "a credit is given back at once when dropped"]
pub struct OwnedCredit<W: WaitStrategy = Park> {
    credits: Arc<Credits<W>>,
    count: usize,
}

impl<W: WaitStrategy> OwnedCredit<W> {
    pub(super) fn new(credits: Arc<Credits<W>>, count: usize) -> Self {
        OwnedCredit { credits, count }
    }

    /// How many credits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = std::sync::Arc::new(weir_backpressure::Credits::new(4));
    /// assert_eq!(credits.acquire_owned().count(), 1);
    /// ```
    pub fn count(&self) -> usize {
        self.count
    }

    /// Splits `count` credits off into a credit of their own.
    ///
    /// # Panics
    ///
    /// If this holds fewer than `count` credits.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = std::sync::Arc::new(weir_backpressure::Credits::new(4));
    /// let mut batch = credits.acquire_many_owned(2).unwrap();
    /// let one = batch.split(1);
    /// assert_eq!((batch.count(), one.count()), (1, 1));
    /// ```
    #[track_caller]
    pub fn split(&mut self, count: usize) -> OwnedCredit<W> {
        assert!(
            count <= self.count,
            "weir_backpressure::OwnedCredit::split: cannot split {count} credits off a credit \
             of {}",
            self.count
        );
        self.count -= count;
        OwnedCredit::new(Arc::clone(&self.credits), count)
    }

    /// Keeps the credits taken without giving them back, and returns how many: give them back
    /// later with [`Credits::release`].
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = std::sync::Arc::new(weir_backpressure::Credits::new(1));
    /// let taken = credits.acquire_owned().forget();
    /// assert_eq!(credits.available(), 0);
    /// credits.release(taken);
    /// ```
    pub fn forget(mut self) -> usize {
        std::mem::take(&mut self.count)
    }
}

impl<W: WaitStrategy> Drop for OwnedCredit<W> {
    fn drop(&mut self) {
        self.credits.give_back(self.count);
    }
}

impl<W: WaitStrategy> fmt::Debug for OwnedCredit<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedCredit")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

static_assertions::assert_impl_all!(Credits: Send, Sync);
static_assertions::assert_impl_all!(Credit<'static>: Send, Sync);
static_assertions::assert_impl_all!(OwnedCredit: Send, Sync);
