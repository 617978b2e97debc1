//! The queue's protocol: reading positions, claiming them, and handing slots over through their
//! stamps. Every ordering of the queue is decided here, once (the module docs of `queue` say
//! why each is needed; the loom models in `loom-tests/tests/queue.rs` fail without any one).

use core::mem::MaybeUninit;

use super::{Queue, Slot};
use crate::sync::{Backoff, Ordering};

impl<T> Queue<T> {
    /// The slot of position `pos`.
    ///
    /// # Safety
    ///
    /// `pos` is a position of this queue: a value of `head` or `tail`, or one made from such a
    /// value by [`next`](Self::next) or by whole laps (`± one_lap`). Those have an index (the
    /// bits below `one_lap`) below the capacity: the constructor starts `head` and `tail` at
    /// one, and `next` goes from the last index to index 0. Any other number may have an index
    /// between the capacity and `one_lap`, out of bounds.
    #[inline(always)]
    pub(super) unsafe fn slot(&self, pos: usize) -> &Slot<T> {
        let index = pos & (self.one_lap - 1);
        debug_assert!(index < self.slots.len());
        // SAFETY: the caller's promise puts the index below the capacity, in bounds.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// The position after `pos`: the next index, or index 0 of the next lap.
    #[inline(always)]
    pub(super) fn next(&self, pos: usize) -> usize {
        let index = pos & (self.one_lap - 1);
        if index + 1 < self.slots.len() {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// The current `tail`. Acquire, pairing with the Release of the claims that moved it (and of
    /// `replace_oldest`'s store): whoever sees `tail` moved also sees what the mover did before,
    /// so a full check never rests on an older view of `head` than the mover had.
    #[inline(always)]
    fn tail(&self) -> usize {
        self.tail.load(Ordering::Acquire)
    }

    /// The current `head`. Acquire, pairing with the Release of the claims that moved it: whoever
    /// sees `head` moved also sees what the mover did before, such as a push it made before its
    /// pop, so an empty check does not miss that push's item.
    #[inline(always)]
    fn head(&self) -> usize {
        self.head.load(Ordering::Acquire)
    }

    /// A pair `(h, t)` of values of `head` and `tail` with `h <= t <= h + capacity` (in the
    /// order `next` makes positions), such that the queue held at least the `t - h` items
    /// between them at one moment: the moment the claim that moved `tail` to `t` took effect.
    /// For `len`.
    ///
    /// Three loads: `tail` (giving `t`), then `head` (giving `h`), then `tail` again, until the
    /// two reads of `tail` agree.
    ///
    /// - The first load of `tail` is Acquire, pairing with the Release of `move_tail` (every
    ///   move of `tail` goes through it). It makes two facts about the claim `P` that moved
    ///   `tail` to `t` hold for the load of `head` after it:
    ///   - `h >= t - capacity`. `P` claimed each of its positions only after seeing that
    ///     position's slot freed: by an Acquire stamp load in `claim_push` that pairs with the
    ///     Release stamp store of the pop a lap before (which moved `head` past that pop's
    ///     position before it), or, in `replace_oldest`, by moving `head` itself first. So those
    ///     moves of `head` happen before `P`, and so before the load of `head`, which reads them
    ///     or later moves.
    ///   - When `P` took effect, `head` had not yet moved past `h`: a move past it that happened
    ///     before `P` would, in the same way, happen before the load of `head`, which could then
    ///     not read `h`. So at that moment the queue held at least `t - h` items.
    /// - The load of `head` is Acquire, pairing with the Release of `move_head` (every move of
    ///   `head` goes through it): the claim that moved `head` to `h` first saw every position
    ///   before `h` pushed (an Acquire stamp load in `claim_pop` pairing with the Release stamp
    ///   store in `write`, after that push's move of `tail`), or, in `replace_oldest`, read
    ///   `tail` a lap on. So a move of `tail` to at least `h` happens before the second load of
    ///   `tail`, which reads it or a later value.
    /// - The second load of `tail` is Relaxed: it needs nothing more than that Acquire and the
    ///   coherence of `tail`. `tail` only moves forward, so when the second load reads `t`
    ///   again, `h <= t`. Without this check, `h` could be laps ahead of a stale `t`, and the
    ///   indices would lie (loom: `len_never_more_than_was_held`).
    pub(super) fn positions(&self) -> (usize, usize) {
        loop {
            let tail = self.tail.load(Ordering::Acquire);
            let head = self.head.load(Ordering::Acquire);
            if self.tail.load(Ordering::Relaxed) == tail {
                return (head, tail);
            }
        }
    }

    /// Moves `tail` from `from` to `to` if it is still at `from`: a push's claim of the positions
    /// between. Release, pairing with `tail()`'s Acquire (and `positions`'): whoever sees `tail`
    /// moved also sees what this thread did before, such as a pop that freed a slot it may then
    /// find still full without it (the model `full_only_when_really_full`). Every move of
    /// `tail` goes through here. May fail spuriously; the callers retry.
    #[inline(always)]
    fn move_tail(&self, from: usize, to: usize) -> bool {
        self.tail
            .compare_exchange_weak(from, to, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Moves `head` from `from` to `to` if it is still at `from`: a pop's claim of the positions
    /// between. Release, pairing with `head()`'s Acquire (and `positions`'): whoever sees `head`
    /// moved also sees what this thread did before, such as a push whose item it would
    /// otherwise call missing (the model `full_and_empty_only_when_really_so`). Every move of
    /// `head` goes through here. May fail spuriously; the callers retry.
    #[inline(always)]
    fn move_head(&self, from: usize, to: usize) -> bool {
        self.head
            .compare_exchange_weak(from, to, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// The stamp of `pos`'s slot. Acquire, pairing with the Release stamp stores in `write` and
    /// `read`: a push that finds the slot free sees the last pop's read of it done, and a pop that
    /// finds it full sees the push's write of the item.
    ///
    /// # Safety
    ///
    /// `pos` is a position of this queue, as for [`slot`](Self::slot).
    #[inline(always)]
    unsafe fn stamp(&self, pos: usize) -> usize {
        // SAFETY: the caller's promise.
        unsafe { self.slot(pos) }.stamp.load(Ordering::Acquire)
    }

    /// Claims up to `max` (at least 1) consecutive positions at the back, all with free slots,
    /// with one compare-and-swap of `tail`. Returns the first position and how many were
    /// claimed, or `Err(tail)` when the queue is full at `tail`.
    pub(super) fn claim_push(&self, max: usize) -> Result<(usize, usize), usize> {
        debug_assert!(max >= 1);
        let backoff = Backoff::new();
        let mut tail = self.tail();
        loop {
            // SAFETY: `tail` is a value of `tail`, a position of the queue.
            let stamp = unsafe { self.stamp(tail) };
            if stamp == tail {
                // Free for this lap; so may be the slots after it. Nobody can claim a position
                // at or after `tail` without moving `tail`, so they stay free until this claim.
                let (mut end, mut count) = (self.next(tail), 1);
                // SAFETY: `end` is made from `tail` by `next`.
                while count < max && unsafe { self.stamp(end) } == end {
                    end = self.next(end);
                    count += 1;
                }
                if self.move_tail(tail, end) {
                    return Ok((tail, count));
                }
                backoff.spin();
            } else if stamp.wrapping_add(self.one_lap) == tail.wrapping_add(1) {
                // The slot still holds the previous lap's item. Full if `head` is at that item;
                // otherwise a pop has claimed it and is reading it: wait for that pop.
                if self.head().wrapping_add(self.one_lap) == tail {
                    return Err(tail);
                }
                backoff.snooze();
            } else {
                // Another push has claimed `tail` already: look again.
                backoff.snooze();
            }
            tail = self.tail();
        }
    }

    /// Claims up to `max` (at least 1) consecutive positions at the front, all holding items,
    /// with one compare-and-swap of `head`. Returns the first position and how many were
    /// claimed, or `None` when the queue is empty.
    pub(super) fn claim_pop(&self, max: usize) -> Option<(usize, usize)> {
        debug_assert!(max >= 1);
        let backoff = Backoff::new();
        let mut head = self.head();
        loop {
            // SAFETY: `head` is a value of `head`, a position of the queue.
            let stamp = unsafe { self.stamp(head) };
            if stamp == head.wrapping_add(1) {
                // Holds its item; so may the slots after it, which stay so until this claim.
                let (mut end, mut count) = (self.next(head), 1);
                // SAFETY: `end` is made from `head` by `next`.
                while count < max && unsafe { self.stamp(end) } == end.wrapping_add(1) {
                    end = self.next(end);
                    count += 1;
                }
                if self.move_head(head, end) {
                    return Some((head, count));
                }
                backoff.spin();
            } else if stamp == head {
                // Not yet written in this lap. Empty if `tail` is here too; otherwise a push
                // has claimed the slot and is writing it: wait for that push.
                if self.tail() == head {
                    return None;
                }
                backoff.snooze();
            } else {
                // Another pop has claimed `head` already: look again.
                backoff.snooze();
            }
            head = self.head();
        }
    }

    /// For `force_push`: the queue was full at `tail`, so pop the oldest item (at `head`, one
    /// lap behind, in the very slot `tail` needs) and push `item` in its place. Hands `item` back
    /// if another thread moved `head` first.
    pub(super) fn replace_oldest(&self, tail: usize, item: T) -> Result<T, T> {
        let head = tail.wrapping_sub(self.one_lap);
        if !self.move_head(head, self.next(head)) {
            return Err(item);
        }
        // This thread has popped `head`. No push can claim `tail` while its slot's stamp still
        // names the old item, and no other eviction can pop `head` again, so this move of
        // `tail` succeeds unless it fails spuriously.
        while !self.move_tail(tail, self.next(tail)) {}
        // SAFETY: both claims make this thread the slot's only user; it holds the item pushed
        // at `head`, whose write the stamp load in `claim_push` acquired.
        let oldest = unsafe { self.take(head) };
        // SAFETY: the slot is now empty and this thread owns position `tail`.
        unsafe { self.write(tail, item) };
        Ok(oldest)
    }

    /// Writes `item` into the slot of `pos` and publishes it.
    ///
    /// # Safety
    ///
    /// This thread has claimed position `pos` for a push, and the slot is free.
    #[inline(always)]
    pub(super) unsafe fn write(&self, pos: usize, item: T) {
        // SAFETY: a claimed position is a position of the queue.
        let slot = unsafe { self.slot(pos) };
        slot.value.with_mut(|value| {
            // SAFETY: the caller's claim makes this the only access to the slot.
            unsafe { value.write(MaybeUninit::new(item)) }
        });
        // Release, pairing with `stamp()`'s Acquire in the pop of `pos`.
        slot.stamp.store(pos.wrapping_add(1), Ordering::Release);
    }

    /// Moves the item out of the slot of `pos` and frees the slot for the next lap.
    ///
    /// # Safety
    ///
    /// This thread has claimed position `pos` for a pop, and the slot holds its item.
    #[inline(always)]
    pub(super) unsafe fn read(&self, pos: usize) -> T {
        // SAFETY: the caller's promise.
        let item = unsafe { self.take(pos) };
        // Release, pairing with `stamp()`'s Acquire in the push of `pos + one_lap`.
        // SAFETY: a claimed position is a position of the queue.
        unsafe { self.slot(pos) }
            .stamp
            .store(pos.wrapping_add(self.one_lap), Ordering::Release);
        item
    }

    /// Moves the item out of the slot of `pos`, leaving the stamp alone.
    ///
    /// # Safety
    ///
    /// As for [`read`](Self::read); the caller then frees or refills the slot.
    #[inline(always)]
    unsafe fn take(&self, pos: usize) -> T {
        // SAFETY: a claimed position is a position of the queue.
        unsafe { self.slot(pos) }.value.with(|value| {
            // SAFETY: the caller's claim makes this the only access to the initialised slot.
            unsafe { (*value).assume_init_read() }
        })
    }
}
