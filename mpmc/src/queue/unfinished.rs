//! Claims not yet finished: positions a thread has claimed and must still write or read. Each
//! guard finishes its claim when dropped, so that code which runs between the claim and the
//! slot's access (a batch's sink, a caller's hook) cannot leave a claimed slot behind by
//! unwinding: every later push or pop of that slot would wait for it forever.

use core::mem::ManuallyDrop;

use super::Queue;

/// Claimed pop positions whose items have not been taken yet. [`next`](Self::next) takes them
/// one by one; whatever is left when the guard drops (only when the taker unwound) is read out,
/// which frees each slot for the next lap, and dropped.
pub(super) struct Unread<'a, T> {
    queue: &'a Queue<T>,
    pos: usize,
    left: usize,
}

impl<'a, T> Unread<'a, T> {
    /// # Safety
    ///
    /// This thread has claimed the `left` positions from `pos` for a pop, and each slot holds
    /// its item.
    pub(super) unsafe fn new(queue: &'a Queue<T>, pos: usize, left: usize) -> Self {
        Unread { queue, pos, left }
    }

    /// The next claimed item, taken out of its slot; `None` once all were.
    pub(super) fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        let pos = self.pos;
        // Moved on first: whatever happens to this item, it is never read again.
        self.left -= 1;
        self.pos = self.queue.next(pos);
        // SAFETY: `new`'s caller claimed `left` positions from `pos`, each holding its item,
        // and each is read once, as `pos` moves on.
        Some(unsafe { self.queue.read(pos) })
    }
}

impl<T> Drop for Unread<'_, T> {
    fn drop(&mut self) {
        // Only after an unwind: at the normal end nothing is left.
        while let Some(item) = self.next() {
            drop(item);
        }
    }
}

/// A claimed push position and the item that goes there: dropping the guard writes the item
/// and publishes it, whether the code before the drop returned or unwound.
pub(super) struct Unwritten<'a, T> {
    queue: &'a Queue<T>,
    pos: usize,
    item: ManuallyDrop<T>,
}

impl<'a, T> Unwritten<'a, T> {
    /// # Safety
    ///
    /// This thread has claimed position `pos` for a push, and its slot is free.
    pub(super) unsafe fn new(queue: &'a Queue<T>, pos: usize, item: T) -> Self {
        Unwritten {
            queue,
            pos,
            item: ManuallyDrop::new(item),
        }
    }
}

impl<T> Drop for Unwritten<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `item` is taken once, here, and the guard is gone after.
        let item = unsafe { ManuallyDrop::take(&mut self.item) };
        // SAFETY: `new`'s caller claimed `pos` for a push, with a free slot; this is its one
        // write.
        unsafe { self.queue.write(self.pos, item) };
    }
}
