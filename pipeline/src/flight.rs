//! [`max_in_flight`](crate::Pipeline::max_in_flight): the run's credits, one for each item
//! between the source and the sink (weir-backpressure's [`Credits`], as oneTBB's tokens).
//!
//! - The source takes a credit for each item it reads, and waits while none is left.
//! - An item gives its credit back where it leaves the flight: the sink takes it, a stage
//!   filters or fails it, an overflow policy drops it, a `batch` folds it into a batch, its
//!   `fork_join` pair fails.
//! - An item that becomes several (a `flat_map`'s outputs; a batch, one item again) owes a
//!   credit for each one beyond the first, before it is sent on; the next credits given back
//!   pay that debt first. Each owed credit is recorded before the item that owes it can reach
//!   any thread that lands it (the queue between them orders it), so the credits given back
//!   never outnumber those taken, and all of them are back once the run has drained.
//! - A stop gives every credit back, which wakes a source that waits for one.
//!
//! A stage settles a chunk as a whole: what it took less what it made is given back when it is
//! more, owed when it is less, before the chunk's outputs go on.

use weir_backpressure::{Credit, Credits};

use crate::control::Control;
use crate::sync::stats::AtomicBool;
use crate::sync::{AtomicUsize, Ordering};

/// The credits of a run with `max_in_flight`, and what the items made beyond one per item owe.
#[derive(Debug)]
pub(crate) struct Flight {
    credits: Credits,
    /// Credits owed by the extra items made: paid out of the next credits given back.
    owed: AtomicUsize,
    /// Set by a stop, after which items may land whose credits were already given back.
    opened: AtomicBool,
}

impl Flight {
    /// Credits for `items` items in flight (at least one).
    pub(crate) fn new(items: usize) -> Self {
        Flight {
            credits: Credits::new(items),
            owed: AtomicUsize::new(0),
            opened: AtomicBool::new(false),
        }
    }

    /// Takes credits for between 1 and `max` items (whatever is free, waiting for one if
    /// none is), and returns how many; 0 if `max` is, or once the run has stopped.
    pub(crate) fn take(&self, max: usize, control: &Control) -> usize {
        if max == 0 || control.is_stopped() {
            return 0;
        }
        let free = self.credits.available().min(max);
        if let Ok(credit) = self.credits.try_acquire_many(free.max(1)) {
            return credit.forget();
        }
        // None free: wait for one (a stop gives them all back), then take what came with it.
        let one = self.credits.acquire().forget();
        let more = self.credits.available().min(max - one);
        one + self
            .credits
            .try_acquire_many(more)
            .map_or(0, Credit::forget)
    }

    /// Takes up to `max` credits that are free now, without waiting: 0 when none is.
    pub(crate) fn try_take(&self, max: usize) -> usize {
        let free = self.credits.available().min(max);
        if free == 0 {
            return 0;
        }
        self.credits
            .try_acquire_many(free)
            .map_or(0, Credit::forget)
    }

    /// `items` left the flight: pays what is owed out of their credits, and gives the rest
    /// back (waking a source that waits).
    pub(crate) fn land(&self, items: usize) {
        if items == 0 {
            return;
        }
        // Relaxed: the debt this pays was recorded before its items were sent, and the queues
        // that carried them here order that record before this.
        let paid = self
            .owed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |owed| {
                (owed != 0).then(|| owed.saturating_sub(items))
            })
            .map_or(0, |owed| owed.min(items));
        self.untake(items - paid);
    }

    /// Gives back `unused` credits that [`take`](Self::take) gave for items the source did
    /// not have. Not [`land`](Self::land): no item left the flight, so they pay no debt.
    pub(crate) fn untake(&self, unused: usize) {
        if unused != 0 && self.credits.try_release(unused).is_err() {
            debug_assert!(
                self.opened.load(crate::sync::stats::Ordering::Relaxed),
                "weir_pipeline: {unused} credits given back that were never taken"
            );
        }
    }

    /// Records that `items` extra items were made: call it before sending them on.
    pub(crate) fn owe(&self, items: usize) {
        if items != 0 {
            // Relaxed: published to whoever pays it by the queue that carries the items.
            self.owed.fetch_add(items, Ordering::Relaxed);
        }
    }

    /// Settles a stage's work since it last settled: it took `taken` items and made `made`;
    /// `settled` is what it settled of them before (`taken - made` then), and becomes
    /// `taken - made`. With `owe_only`, only the debt: the stage is about to send outputs
    /// mid-chunk, with the rest of its chunk still to do, and `taken` leaves out the item it
    /// is feeding (whose credit must outlast its outputs so far, as it may make more).
    pub(crate) fn settle(&self, taken: u64, made: u64, settled: &mut i64, owe_only: bool) {
        let balance =
            i64::try_from(taken).unwrap_or(i64::MAX) - i64::try_from(made).unwrap_or(i64::MAX);
        let change = balance - *settled;
        if change < 0 {
            self.owe(change.unsigned_abs() as usize);
        } else if change == 0 || owe_only {
            return;
        } else {
            self.land(change as usize);
        }
        *settled = balance;
    }

    /// A stop: gives every credit back, so that a source waiting for one wakes and sees it.
    pub(crate) fn open(&self) {
        self.opened
            .store(true, crate::sync::stats::Ordering::Relaxed);
        // All of them, or on a refusal what it says is out (the latest count, and a refusal
        // comes before any later take, which then sees the stop): see `Credits::try_release`.
        let mut held = self.credits.capacity();
        loop {
            match self.credits.try_release(held) {
                Ok(()) => return,
                Err(error) if error.available() == error.capacity() => return,
                Err(error) => held = error.capacity() - error.available(),
            }
        }
    }

    /// The credits held now: a snapshot, for tests.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.credits.in_use()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::control::Settings;

    fn control() -> Control {
        Control::new(Settings::default())
    }

    #[test]
    fn a_debt_is_paid_before_credits_go_back() {
        let (flight, control) = (Flight::new(4), control());
        assert_eq!(flight.take(10, &control), 4);
        // One item made three outputs, sent mid-chunk: all three owe, as it may make more.
        let mut settled = 0;
        flight.settle(0, 3, &mut settled, true);
        assert_eq!(settled, -3);
        flight.land(2);
        assert_eq!(flight.in_use(), 4);
        // The chunk ends with that item: its own credit pays the last of the debt...
        flight.settle(1, 3, &mut settled, false);
        assert_eq!(flight.in_use(), 4);
        // ...and its last output gives the credit back.
        flight.land(1);
        assert_eq!(flight.in_use(), 3);
        flight.land(3);
        assert_eq!(flight.in_use(), 0);
    }

    #[test]
    fn a_chunk_settles_what_it_did_not_settle_mid_chunk() {
        let (flight, control) = (Flight::new(8), control());
        assert_eq!(flight.take(8, &control), 8);
        let mut settled = 0;
        // Mid-chunk: 3 taken, 2 made: nothing owed, nothing given back yet.
        flight.settle(3, 2, &mut settled, true);
        assert_eq!((settled, flight.in_use()), (0, 8));
        // The chunk ends: 8 taken, 5 made: 3 given back.
        flight.settle(8, 5, &mut settled, false);
        assert_eq!((settled, flight.in_use()), (3, 5));
    }

    #[test]
    fn take_gives_what_is_free_up_to_max() {
        let (flight, control) = (Flight::new(5), control());
        assert_eq!(flight.take(3, &control), 3);
        assert_eq!(flight.take(3, &control), 2);
        assert_eq!(flight.take(0, &control), 0);
        flight.land(4);
        assert_eq!(flight.take(10, &control), 4);
    }

    #[test]
    fn a_stop_wakes_a_source_waiting_for_credits() {
        let control = std::sync::Arc::new(control());
        let flight = std::sync::Arc::new(Flight::new(1));
        assert_eq!(flight.take(1, &control), 1);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| flight.take(1, &control));
            std::thread::sleep(std::time::Duration::from_millis(20));
            control.cancel();
            flight.open();
            // Woken with the credit the stop gave back; the source then sees the stop.
            assert_eq!(waiter.join().unwrap(), 1);
        });
        assert!(control.is_stopped());
        // Items that were in flight land on nothing.
        flight.land(1);
    }
}
