//! Credits: a bound on the items in flight across several stages, the way a counting semaphore
//! bounds the holders of a resource.

use crate::event_count::EventCount;
use crate::sync::{AtomicUsize, Instant, Ordering};
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use weir_ring::CapacityError;

mod error;
mod guard;

pub use error::{AcquireError, ReleaseError};
pub use guard::{Credit, OwnedCredit};

/// A fixed number of credits, each a permit for one item in flight: a stage acquires one before
/// it takes an item in, and the credit is given back when the item is done, however many stages
/// later. While every credit is out, [`acquire`](Self::acquire) waits (in the way of its
/// [`WaitStrategy`], by default sleeping in the kernel) until one comes back.
///
/// Credits are never over-issued: an acquisition takes credits with one compare-and-swap, and
/// only when enough remain. A [`Credit`] gives its credits back when dropped, and wakes the
/// threads waiting for them. To move a credit to another thread with its item, send the
/// [`Credit`] itself (it borrows the `Credits`, so scoped threads suit it), acquire an
/// [`OwnedCredit`] from an `Arc<Credits>`, or [`forget`](Credit::forget) it and
/// [`release`](Self::release) the credits by hand.
///
/// Giving a credit back happens before its next acquisition: whatever a holder did with the
/// resource a credit stands for, the next holder sees.
///
/// # Examples
///
/// At most 4 items between the reader and the writer, whatever the channels between them hold:
///
/// ```
/// use weir_backpressure::Credits;
///
/// let credits = Credits::new(4);
/// let (to_worker, from_reader) = weir_backpressure::spsc::channel(16);
/// let (to_writer, from_worker) = weir_backpressure::spsc::channel(16);
/// let credits = &credits;
/// std::thread::scope(|s| {
///     s.spawn(move || {
///         for (credit, item) in from_reader {
///             to_writer.send((credit, item * 2)).unwrap();
///         }
///     });
///     s.spawn(move || {
///         for i in 0..100u64 {
///             let credit = credits.acquire();
///             assert!(credits.available() < 4);
///             to_worker.send((credit, i)).unwrap();
///         }
///     });
///     let total: u64 = from_worker.iter().map(|(_credit, item)| item).sum();
///     assert_eq!(total, 99 * 100);
/// });
/// ```
pub struct Credits<W: WaitStrategy = Park> {
    capacity: usize,
    /// The credits not held by anyone; never above `capacity`.
    available: AtomicUsize,
    /// Acquirers sleep on it; a release notifies it.
    released: EventCount,
    /// Credits that guards found already given back (see [`over_released`](Self::over_released)).
    over_released: AtomicUsize,
    wait: W,
}

impl Credits {
    /// `capacity` credits, all available, whose acquirers sleep in the kernel when they must
    /// wait ([`Park`]).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0; [`try_new`](Self::try_new) returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(3);
    /// assert_eq!((credits.capacity(), credits.available()), (3, 3));
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        match Credits::try_with_wait(capacity, Park) {
            Ok(credits) => credits,
            Err(error) => panic!("weir_backpressure::Credits::new: {error}"),
        }
    }

    /// As [`new`](Self::new), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = weir_backpressure::Credits::try_new(0).unwrap_err();
    /// assert_eq!(error.to_string(), "capacity must be at least 1");
    /// ```
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        Credits::try_with_wait(capacity, Park)
    }
}

impl<W: WaitStrategy> Credits<W> {
    /// As [`new`](Credits::new), with acquirers waiting in `wait`'s way.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{wait::Backoff, Credits};
    ///
    /// let credits = Credits::with_wait(2, Backoff);
    /// let _credit = credits.acquire();
    /// assert_eq!(credits.available(), 1);
    /// ```
    #[track_caller]
    pub fn with_wait(capacity: usize, wait: W) -> Self {
        match Credits::try_with_wait(capacity, wait) {
            Ok(credits) => credits,
            Err(error) => panic!("weir_backpressure::Credits::with_wait: {error}"),
        }
    }

    /// As [`with_wait`](Self::with_wait), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{wait::Spin, Credits};
    ///
    /// assert!(Credits::try_with_wait(0, Spin).is_err());
    /// assert!(Credits::try_with_wait(1, Spin).is_ok());
    /// ```
    pub fn try_with_wait(capacity: usize, wait: W) -> Result<Self, CapacityError> {
        if capacity == 0 {
            return Err(CapacityError::for_items::<()>(0, usize::MAX));
        }
        Ok(Credits {
            capacity,
            available: AtomicUsize::new(capacity),
            released: EventCount::new(),
            over_released: AtomicUsize::new(0),
            wait,
        })
    }

    /// Takes one credit, waiting until one is available.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(1);
    /// let credit = credits.acquire();
    /// assert_eq!(credits.available(), 0);
    /// drop(credit);
    /// assert_eq!(credits.available(), 1);
    /// ```
    pub fn acquire(&self) -> Credit<'_, W> {
        match self.acquire_until(1, None) {
            Ok(credit) => credit,
            Err(_) => unreachable!("one credit is always within the capacity, and no deadline"),
        }
    }

    /// Takes one credit if one is available now.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(1);
    /// let credit = credits.try_acquire().unwrap();
    /// assert!(credits.try_acquire().is_none());
    /// drop(credit);
    /// assert!(credits.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<Credit<'_, W>> {
        self.try_acquire_many(1).ok()
    }

    /// Takes one credit, waiting at most `timeout` for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let credits = weir_backpressure::Credits::new(1);
    /// let _held = credits.acquire();
    /// assert!(credits.acquire_timeout(Duration::from_millis(1)).is_none());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Credit<'_, W>> {
        self.acquire_many_timeout(1, timeout).ok()
    }

    /// Takes one credit, waiting until `deadline` for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let credits = weir_backpressure::Credits::new(1);
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// let first = credits.acquire_deadline(deadline);
    /// assert!(first.is_some());
    /// assert!(credits.acquire_deadline(deadline).is_none());
    /// ```
    pub fn acquire_deadline(&self, deadline: Instant) -> Option<Credit<'_, W>> {
        self.acquire_many_deadline(1, deadline).ok()
    }

    /// Takes `count` credits at once, waiting until that many are available. Taking them one by
    /// one could deadlock two threads that each hold some and wait for the rest; this takes all
    /// or none. `count == 0` gives an empty credit at once.
    ///
    /// # Errors
    ///
    /// [`AcquireError::TooMany`] if `count` is above the [`capacity`](Self::capacity): it
    /// could never succeed, so it fails at once instead of waiting forever.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(4);
    /// let three = credits.acquire_many(3).unwrap();
    /// assert_eq!(three.count(), 3);
    /// assert_eq!(credits.available(), 1);
    /// assert!(credits.acquire_many(5).is_err());
    /// ```
    pub fn acquire_many(&self, count: usize) -> Result<Credit<'_, W>, AcquireError> {
        self.acquire_until(count, None)
    }

    /// Takes `count` credits if that many are available now.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Unavailable`] if fewer are available now, and
    /// [`AcquireError::TooMany`] if `count` is above the [`capacity`](Self::capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{AcquireError, Credits};
    ///
    /// let credits = Credits::new(4);
    /// let _three = credits.try_acquire_many(3).unwrap();
    /// assert_eq!(credits.try_acquire_many(2).unwrap_err(), AcquireError::Unavailable);
    /// ```
    pub fn try_acquire_many(&self, count: usize) -> Result<Credit<'_, W>, AcquireError> {
        self.check(count)?;
        if self.take(count) {
            Ok(Credit::new(self, count))
        } else {
            Err(AcquireError::Unavailable)
        }
    }

    /// Takes `count` credits, waiting at most `timeout` until that many are available.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Unavailable`] if fewer were available until the timeout, and
    /// [`AcquireError::TooMany`] if `count` is above the [`capacity`](Self::capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let credits = weir_backpressure::Credits::new(2);
    /// let _one = credits.acquire();
    /// assert!(credits.acquire_many_timeout(2, Duration::from_millis(1)).is_err());
    /// ```
    pub fn acquire_many_timeout(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Credit<'_, W>, AcquireError> {
        self.acquire_until(count, Instant::now().checked_add(timeout))
    }

    /// Takes `count` credits, waiting until `deadline` for that many to be available.
    ///
    /// # Errors
    ///
    /// As [`acquire_many_timeout`](Self::acquire_many_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let credits = weir_backpressure::Credits::new(2);
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(credits.acquire_many_deadline(2, deadline).unwrap().count(), 2);
    /// ```
    pub fn acquire_many_deadline(
        &self,
        count: usize,
        deadline: Instant,
    ) -> Result<Credit<'_, W>, AcquireError> {
        self.acquire_until(count, Some(deadline))
    }

    /// As [`acquire`](Self::acquire), but the credit holds an `Arc` of the credits instead of
    /// a borrow, so that it can go anywhere (a `'static` thread, a channel).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_backpressure::Credits;
    ///
    /// let credits = Arc::new(Credits::new(1));
    /// let credit = credits.acquire_owned();
    /// std::thread::spawn(move || drop(credit)).join().unwrap();
    /// assert_eq!(credits.available(), 1);
    /// ```
    pub fn acquire_owned(self: &Arc<Self>) -> OwnedCredit<W> {
        self.acquire().forget();
        OwnedCredit::new(Arc::clone(self), 1)
    }

    /// As [`try_acquire`](Self::try_acquire), for a credit that holds an `Arc` of the credits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_backpressure::Credits;
    ///
    /// let credits = Arc::new(Credits::new(1));
    /// let credit = credits.try_acquire_owned().unwrap();
    /// assert!(credits.try_acquire_owned().is_none());
    /// drop(credit);
    /// ```
    pub fn try_acquire_owned(self: &Arc<Self>) -> Option<OwnedCredit<W>> {
        let count = self.try_acquire()?.forget();
        Some(OwnedCredit::new(Arc::clone(self), count))
    }

    /// As [`acquire_many`](Self::acquire_many), for credits that hold an `Arc` of the credits.
    ///
    /// # Errors
    ///
    /// [`AcquireError::TooMany`] if `count` is above the [`capacity`](Self::capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_backpressure::Credits;
    ///
    /// let credits = Arc::new(Credits::new(3));
    /// let two = credits.acquire_many_owned(2).unwrap();
    /// assert_eq!((two.count(), credits.available()), (2, 1));
    /// ```
    pub fn acquire_many_owned(
        self: &Arc<Self>,
        count: usize,
    ) -> Result<OwnedCredit<W>, AcquireError> {
        let count = self.acquire_many(count)?.forget();
        Ok(OwnedCredit::new(Arc::clone(self), count))
    }

    /// Gives back `count` credits taken out of their guards with [`Credit::forget`] or
    /// [`OwnedCredit::forget`], and wakes the threads waiting for credits.
    ///
    /// # Panics
    ///
    /// If that would make more credits available than the [`capacity`](Self::capacity): they
    /// were never acquired. Nothing is released then; [`try_release`](Self::try_release) returns
    /// the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(2);
    /// let taken = credits.acquire_many(2).unwrap().forget();
    /// assert_eq!(credits.available(), 0);
    /// credits.release(taken);
    /// assert_eq!(credits.available(), 2);
    /// ```
    #[track_caller]
    pub fn release(&self, count: usize) {
        if let Err(error) = self.try_release(count) {
            panic!("weir_backpressure::Credits::release: {error}");
        }
    }

    /// As [`release`](Self::release), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if releasing `count` credits would make more available than the
    /// [`capacity`](Self::capacity); nothing is released then. The error's
    /// [`available`](ReleaseError::available) is the latest count, not an older one, and the
    /// refusal happens before any acquisition that follows it: a thread that holds no credit
    /// can give back all that are out (release the capacity, then on a refusal the capacity
    /// less what it says is available) to wake whoever waits, and the waiter then sees what
    /// that thread did before.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(2);
    /// let one = credits.acquire().forget();
    /// assert!(credits.try_release(one + 1).is_err());
    /// assert!(credits.try_release(one).is_ok());
    /// ```
    pub fn try_release(&self, count: usize) -> Result<(), ReleaseError> {
        if count == 0 {
            return Ok(());
        }
        // Relaxed: only a guess at the value for the compare-and-swap, which checks it.
        let mut available = self.available.load(Ordering::Relaxed);
        loop {
            let after = match available.checked_add(count) {
                Some(after) if after <= self.capacity => after,
                _ => {
                    // Refused only on a value that is still the latest: a plain load may read
                    // an older one, from before credits that this release gives back were
                    // taken. A compare-and-swap that leaves it as it is reads the latest.
                    // Release pairs with the Acquire compare-and-swap in `take`: an
                    // acquisition after a refusal sees what the refuser did before it (a stop
                    // that gives back every credit out, and is refused when none is, must
                    // still reach a thread that takes one later). On failure, Relaxed: the
                    // value read is only the next guess.
                    match self.available.compare_exchange(
                        available,
                        available,
                        Ordering::Release,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            return Err(ReleaseError {
                                released: count,
                                available,
                                capacity: self.capacity,
                            })
                        }
                        Err(now) => {
                            available = now;
                            continue;
                        }
                    }
                }
            };
            // Release pairs with the Acquire compare-and-swap in `take`: what the holders did
            // while they held these credits happens before the next holder's acquisition. On
            // failure, Relaxed: the value read is only the next guess.
            match self.available.compare_exchange(
                available,
                after,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => available = now,
            }
        }
        // Every waiter, not one: a waiter for more credits than came back cannot use them,
        // and a wake-up given to it would be lost to a waiter for fewer.
        self.released.notify_all();
        Ok(())
    }

    /// The credits available now: a snapshot, which other threads may change at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(5);
    /// let _two = credits.acquire_many(2).unwrap();
    /// assert_eq!(credits.available(), 3);
    /// ```
    pub fn available(&self) -> usize {
        // Relaxed: a snapshot, which orders nothing.
        self.available.load(Ordering::Relaxed)
    }

    /// The credits held now (`capacity - available`): the items in flight.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(5);
    /// let _two = credits.acquire_many(2).unwrap();
    /// assert_eq!(credits.in_use(), 2);
    /// ```
    pub fn in_use(&self) -> usize {
        self.capacity - self.available()
    }

    /// How many credits guards ([`Credit`], [`OwnedCredit`]) could not give back when dropped,
    /// because more were available already than they held: someone [`release`](Self::release)d
    /// credits by hand that a guard still held. 0 unless the program has that bug.
    ///
    /// A guard never panics on it while the thread is unwinding from another panic (that would
    /// abort the process): it gives back what fits, so that no more than the
    /// [`capacity`](Self::capacity) are ever available, and counts the rest here. Outside
    /// unwinding, debug builds also panic, to report the bug where it shows.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = weir_backpressure::Credits::new(2);
    /// drop(credits.acquire());
    /// assert_eq!(credits.over_released(), 0);
    /// ```
    pub fn over_released(&self) -> usize {
        // Relaxed: a count for diagnosis, which orders nothing.
        self.over_released.load(Ordering::Relaxed)
    }

    /// The credits there are in all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir_backpressure::Credits::new(5).capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Fails unless `count` credits could ever be available at once.
    fn check(&self, count: usize) -> Result<(), AcquireError> {
        if count > self.capacity {
            Err(AcquireError::TooMany {
                requested: count,
                capacity: self.capacity,
            })
        } else {
            Ok(())
        }
    }

    fn acquire_until(
        &self,
        count: usize,
        deadline: Option<Instant>,
    ) -> Result<Credit<'_, W>, AcquireError> {
        self.check(count)?;
        self.wait
            .wait_for(&self.released, deadline, || self.take(count).then_some(()))
            .map(|()| Credit::new(self, count))
            .ok_or(AcquireError::Unavailable)
    }

    /// Takes `count` credits if that many are available; all or none.
    fn take(&self, count: usize) -> bool {
        if count == 0 {
            return true;
        }
        // Relaxed: only a guess at the value for the compare-and-swap, which checks it.
        let mut available = self.available.load(Ordering::Relaxed);
        loop {
            let Some(after) = available.checked_sub(count) else {
                return false;
            };
            // Acquire pairs with the Release compare-and-swap in `try_release`: the previous
            // holders' use of these credits happens before this holder's. On failure, Relaxed:
            // the value read is only the next guess.
            match self.available.compare_exchange(
                available,
                after,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => available = now,
            }
        }
    }

    /// Gives back a guard's credits. A guard's credits were acquired, so this cannot exceed the
    /// capacity unless someone [`release`](Self::release)d credits they did not hold; then it
    /// gives back what fits (never more than the capacity) and counts the rest in
    /// `over_released`. Debug builds then panic too, but never while the thread is unwinding:
    /// a panic in a destructor during unwinding aborts the process.
    pub(super) fn give_back(&self, count: usize) {
        // What fits of `count`: all of it, unless credits were given back by hand meanwhile.
        let mut returned = count;
        let mut available = 0;
        while let Err(error) = self.try_release(returned) {
            available = error.available();
            // Another thread may give back or take credits meanwhile: look again until what
            // fits goes back, or nothing fits.
            returned = returned.min(error.capacity() - available);
            if returned == 0 {
                break;
            }
        }
        if returned < count {
            // Relaxed: a count for diagnosis (see `over_released`).
            self.over_released
                .fetch_add(count - returned, Ordering::Relaxed);
            if cfg!(debug_assertions) && !std::thread::panicking() {
                panic!(
                    "weir_backpressure::Credit::drop: gave back {count} credits with \
                     {available} of {} available: someone released credits it still held",
                    self.capacity
                );
            }
        }
    }
}

impl<W: WaitStrategy> fmt::Debug for Credits<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credits")
            .field("capacity", &self.capacity)
            .field("available", &self.available())
            .field("wait", &self.wait)
            .finish()
    }
}
