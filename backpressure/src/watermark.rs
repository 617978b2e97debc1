//! A watermark: high and low thresholds over a queue's occupancy, with hysteresis, so that a
//! producer can back off while a queue is too full and resume once it has drained.

use crate::channel::{self, RecvEnd, SendEnd};
use crate::event_count::EventCount;
use crate::sync::{AtomicU64, Instant, Ordering};
use crate::wait::{Park, WaitStrategy};
use std::fmt;
use std::time::Duration;

/// Whether a [`Watermark`] says its queue is under pressure.
///
/// # Examples
///
/// ```
/// use weir_backpressure::{Pressure, Watermark};
///
/// let watermark = Watermark::new(2, 8);
/// assert_eq!(watermark.update(9), Pressure::High);
/// assert!(watermark.pressure().is_high());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pressure {
    /// The occupancy has not reached the high threshold, or has fallen to the low one since.
    Normal,
    /// The occupancy reached the high threshold and has not yet fallen to the low one.
    High,
}

impl Pressure {
    /// Whether this is [`Pressure::High`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::Pressure;
    ///
    /// assert!(Pressure::High.is_high());
    /// assert!(!Pressure::Normal.is_high());
    /// ```
    pub fn is_high(self) -> bool {
        self == Pressure::High
    }

    /// The pressure after `transitions` changes of state from [`Normal`](Pressure::Normal):
    /// an even count is normal, an odd one high.
    fn after(transitions: u64) -> Self {
        if transitions.is_multiple_of(2) {
            Pressure::Normal
        } else {
            Pressure::High
        }
    }
}

/// Why [`Watermark::try_new`] refused its thresholds: the low one must be below the high one.
///
/// # Examples
///
/// ```
/// use weir_backpressure::Watermark;
///
/// let error = Watermark::try_new(8, 8).unwrap_err();
/// assert_eq!((error.low(), error.high()), (8, 8));
/// assert_eq!(
///     error.to_string(),
///     "the low watermark (8) must be below the high watermark (8)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdError {
    low: usize,
    high: usize,
}

impl ThresholdError {
    /// The low threshold that was asked for.
    pub fn low(&self) -> usize {
        self.low
    }

    /// The high threshold that was asked for.
    pub fn high(&self) -> usize {
        self.high
    }
}

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the low watermark ({}) must be below the high watermark ({})",
            self.low, self.high
        )
    }
}

impl std::error::Error for ThresholdError {}

/// Something whose occupancy a [`Watermark`] can [`observe`](Watermark::observe): the ends of
/// this crate's channels and `weir-mpmc`'s queue.
///
/// # Examples
///
/// ```
/// use weir_backpressure::watermark::Occupancy;
///
/// let (sender, receiver) = weir_backpressure::spsc::channel(4);
/// sender.send(1).unwrap();
/// assert_eq!((sender.occupancy(), receiver.occupancy()), (1, 1));
/// ```
pub trait Occupancy {
    /// How many items it holds now: a snapshot, which other threads may change at once.
    fn occupancy(&self) -> usize;
}

impl<E: SendEnd, W: WaitStrategy> Occupancy for channel::Sender<E, W> {
    fn occupancy(&self) -> usize {
        self.len()
    }
}

impl<E: RecvEnd, W: WaitStrategy> Occupancy for channel::Receiver<E, W> {
    fn occupancy(&self) -> usize {
        self.len()
    }
}

impl<T> Occupancy for weir_mpmc::Queue<T> {
    fn occupancy(&self) -> usize {
        self.len()
    }
}

impl<T: ?Sized + Occupancy> Occupancy for &T {
    fn occupancy(&self) -> usize {
        (**self).occupancy()
    }
}

/// High and low thresholds over a queue's occupancy, with hysteresis: the pressure turns
/// [`High`](Pressure::High) when an [`update`](Self::update) reports an occupancy at or above
/// the high threshold, and back to [`Normal`](Pressure::Normal) only when one reports an
/// occupancy at or below the low threshold. In between it stays as it was, so that a queue
/// hovering around one threshold does not flap.
///
/// Whoever knows the occupancy updates the watermark: a producer after a send, a consumer after
/// a receive ([`observe`](Self::observe) reads a channel's length). Producers read the
/// [`pressure`](Self::pressure) or sleep in [`wait_normal`](Self::wait_normal) until it is
/// normal again. [`events`](Self::events) counts the times the pressure turned high.
///
/// Any number of threads may update it at once: each change of state is made by exactly one
/// compare-and-swap, so racing updates never count one event twice, and the state and the
/// count are one word, so they never disagree. The watermark follows the updates it is given:
/// with racing updates the last one to land decides the state, even if the occupancy it
/// reports is already out of date, until the next update.
///
/// The pressure is a signal, not a lock: seeing it change orders nothing else a thread did.
///
/// # Examples
///
/// ```
/// use weir_backpressure::{Pressure, Watermark};
///
/// let watermark = Watermark::new(2, 8);
/// assert_eq!(watermark.update(5), Pressure::Normal);
/// assert_eq!(watermark.update(8), Pressure::High); // reached the high threshold
/// assert_eq!(watermark.update(5), Pressure::High); // not yet down to the low one
/// assert_eq!(watermark.update(2), Pressure::Normal);
/// assert_eq!(watermark.events(), 1);
/// ```
///
/// A producer that slows down while its consumer is behind:
///
/// ```
/// use std::time::Duration;
/// use weir_backpressure::Watermark;
///
/// let (sender, receiver) = weir_backpressure::mpmc::channel(64);
/// let watermark = Watermark::new(8, 48);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for item in &receiver {
///             watermark.observe(&receiver);
///             std::hint::black_box(item);
///         }
///     });
///     for i in 0..1000 {
///         if watermark.observe(&sender).is_high() {
///             // Sleep until the consumer has drained the queue to 8 items or fewer (or give
///             // up waiting after a while: the consumer may have updated with an old length).
///             watermark.wait_normal_timeout(Duration::from_millis(10));
///         }
///         sender.send(i).unwrap();
///     }
///     drop(sender);
/// });
/// ```
pub struct Watermark<W: WaitStrategy = Park> {
    low: usize,
    high: usize,
    /// How many times the pressure has changed, in either direction: even while it is normal,
    /// odd while it is high. One word, so that one compare-and-swap changes the state and
    /// counts the change together.
    transitions: AtomicU64,
    /// Threads in `wait_normal` sleep on it; a return to normal notifies it.
    normal: EventCount,
    wait: W,
}

impl Watermark {
    /// A watermark that turns high at `high` items and normal again at `low`, and whose
    /// [`wait_normal`](Self::wait_normal) sleeps in the kernel ([`Park`]). The pressure starts
    /// normal.
    ///
    /// # Panics
    ///
    /// Unless `low < high`; [`try_new`](Self::try_new) returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::new(16, 96);
    /// assert_eq!((watermark.low(), watermark.high()), (16, 96));
    /// ```
    #[track_caller]
    pub fn new(low: usize, high: usize) -> Self {
        match Watermark::try_with_wait(low, high, Park) {
            Ok(watermark) => watermark,
            Err(error) => panic!("weir_backpressure::Watermark::new: {error}"),
        }
    }

    /// As [`new`](Self::new), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ThresholdError`] unless `low < high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::Watermark;
    ///
    /// assert!(Watermark::try_new(1, 2).is_ok());
    /// assert!(Watermark::try_new(3, 2).is_err());
    /// ```
    pub fn try_new(low: usize, high: usize) -> Result<Self, ThresholdError> {
        Watermark::try_with_wait(low, high, Park)
    }
}

impl<W: WaitStrategy> Watermark<W> {
    /// As [`new`](Watermark::new), with [`wait_normal`](Self::wait_normal) waiting in
    /// `wait`'s way.
    ///
    /// # Panics
    ///
    /// Unless `low < high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::wait::Backoff;
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::with_wait(1, 4, Backoff);
    /// assert!(watermark.wait_normal_timeout(std::time::Duration::ZERO));
    /// ```
    #[track_caller]
    pub fn with_wait(low: usize, high: usize, wait: W) -> Self {
        match Watermark::try_with_wait(low, high, wait) {
            Ok(watermark) => watermark,
            Err(error) => panic!("weir_backpressure::Watermark::with_wait: {error}"),
        }
    }

    /// As [`with_wait`](Self::with_wait), but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ThresholdError`] unless `low < high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::wait::Spin;
    /// use weir_backpressure::Watermark;
    ///
    /// assert!(Watermark::try_with_wait(0, 1, Spin).is_ok());
    /// assert!(Watermark::try_with_wait(0, 0, Spin).is_err());
    /// ```
    pub fn try_with_wait(low: usize, high: usize, wait: W) -> Result<Self, ThresholdError> {
        if low >= high {
            return Err(ThresholdError { low, high });
        }
        Ok(Watermark {
            low,
            high,
            transitions: AtomicU64::new(0),
            normal: EventCount::new(),
            wait,
        })
    }

    /// Reports the queue's occupancy now and returns the pressure after it: high from
    /// `occupancy >= high()`, normal from `occupancy <= low()`, unchanged in between. A return
    /// to normal wakes the threads in [`wait_normal`](Self::wait_normal).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{Pressure, Watermark};
    ///
    /// let watermark = Watermark::new(0, 1);
    /// assert_eq!(watermark.update(1), Pressure::High);
    /// assert_eq!(watermark.update(0), Pressure::Normal);
    /// ```
    pub fn update(&self, occupancy: usize) -> Pressure {
        let target = if occupancy >= self.high {
            Pressure::High
        } else if occupancy <= self.low {
            Pressure::Normal
        } else {
            return self.pressure();
        };
        // Relaxed, here and in the compare-and-swap: the state publishes no data (see the type's
        // documentation), and a waiter's wake-up is ordered by the event count's fences, which
        // order this write before its check for sleepers; the compare-and-swap, Relaxed or
        // not, makes each change of state exactly once.
        let mut seen = self.transitions.load(Ordering::Relaxed);
        loop {
            if Pressure::after(seen) == target {
                return target;
            }
            match self.transitions.compare_exchange(
                seen,
                seen.wrapping_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => seen = now,
            }
        }
        if target == Pressure::Normal {
            self.normal.notify_all();
        }
        target
    }

    /// [`update`](Self::update)s with `queue`'s occupancy now: a channel's sender or receiver,
    /// or a `weir-mpmc` queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{Pressure, Watermark};
    ///
    /// let (sender, receiver) = weir_backpressure::spsc::channel(4);
    /// let watermark = Watermark::new(1, 3);
    /// for i in 0..3 {
    ///     sender.send(i).unwrap();
    /// }
    /// assert_eq!(watermark.observe(&sender), Pressure::High);
    /// receiver.recv().unwrap();
    /// assert_eq!(watermark.observe(&receiver), Pressure::High);
    /// receiver.recv().unwrap();
    /// assert_eq!(watermark.observe(&receiver), Pressure::Normal);
    /// ```
    pub fn observe(&self, queue: &impl Occupancy) -> Pressure {
        self.update(queue.occupancy())
    }

    /// The pressure now.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::{Pressure, Watermark};
    ///
    /// let watermark = Watermark::new(2, 4);
    /// assert_eq!(watermark.pressure(), Pressure::Normal);
    /// watermark.update(4);
    /// assert_eq!(watermark.pressure(), Pressure::High);
    /// ```
    pub fn pressure(&self) -> Pressure {
        // Relaxed: a snapshot of a signal that publishes no data.
        Pressure::after(self.transitions.load(Ordering::Relaxed))
    }

    /// How many times the pressure has turned high (a pressure event).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::new(2, 4);
    /// for occupancy in [4, 5, 3, 2, 4, 0] {
    ///     watermark.update(occupancy);
    /// }
    /// assert_eq!(watermark.events(), 2);
    /// ```
    pub fn events(&self) -> u64 {
        // Relaxed: a statistic; the count and the state are one word, so they agree.
        self.transitions.load(Ordering::Relaxed).div_ceil(2)
    }

    /// The low threshold: an update at or below it returns the pressure to normal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir_backpressure::Watermark::new(3, 7).low(), 3);
    /// ```
    pub fn low(&self) -> usize {
        self.low
    }

    /// The high threshold: an update at or above it makes the pressure high.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir_backpressure::Watermark::new(3, 7).high(), 7);
    /// ```
    pub fn high(&self) -> usize {
        self.high
    }

    /// Waits until the pressure is normal; returns at once if it is.
    ///
    /// Only an [`update`](Self::update) at or below the low threshold ends the wait, so make
    /// sure someone keeps updating (the consumer, after each receive), or wait with
    /// [`wait_normal_timeout`](Self::wait_normal_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::new(0, 4);
    /// watermark.update(4);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| watermark.update(0));
    ///     watermark.wait_normal();
    /// });
    /// assert!(!watermark.pressure().is_high());
    /// ```
    pub fn wait_normal(&self) {
        self.wait_normal_until(None);
    }

    /// Waits at most `timeout` until the pressure is normal; returns whether it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::new(0, 4);
    /// assert!(watermark.wait_normal_timeout(Duration::from_millis(1)));
    /// watermark.update(4);
    /// assert!(!watermark.wait_normal_timeout(Duration::from_millis(1)));
    /// ```
    pub fn wait_normal_timeout(&self, timeout: Duration) -> bool {
        self.wait_normal_until(Instant::now().checked_add(timeout))
    }

    /// Waits until the pressure is normal or `deadline` passes; returns whether it is normal.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir_backpressure::Watermark;
    ///
    /// let watermark = Watermark::new(0, 4);
    /// watermark.update(9);
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(!watermark.wait_normal_deadline(deadline));
    /// ```
    pub fn wait_normal_deadline(&self, deadline: Instant) -> bool {
        self.wait_normal_until(Some(deadline))
    }

    fn wait_normal_until(&self, deadline: Option<Instant>) -> bool {
        self.wait
            .wait_for(&self.normal, deadline, || {
                (self.pressure() == Pressure::Normal).then_some(())
            })
            .is_some()
    }
}

impl<W: WaitStrategy> fmt::Debug for Watermark<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watermark")
            .field("low", &self.low)
            .field("high", &self.high)
            .field("pressure", &self.pressure())
            .field("events", &self.events())
            .field("wait", &self.wait)
            .finish()
    }
}

static_assertions::assert_impl_all!(Watermark: Send, Sync);
