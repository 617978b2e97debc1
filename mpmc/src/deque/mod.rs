//! A fixed-capacity work-stealing deque: each worker thread pushes and pops its own tasks at one
//! end, and idle threads steal the oldest tasks from the other.
//!
//! - [`Worker`]: the owner's end, made LIFO ([`Worker::new_lifo`], the owner pops its newest
//!   task, which is usually the one whose data is still in cache) or FIFO
//!   ([`Worker::new_fifo`]); `push` hands the item back in [`Full`](crate::Full) when the deque
//!   holds `capacity` items.
//! - [`Stealer`]: any number of clones, on any threads; [`Stealer::steal`] takes the oldest
//!   item and [`Stealer::steal_batch_and_pop`] moves about half of them into the thief's own
//!   worker ([`steal_batch`](Stealer::steal_batch) without keeping one out, and
//!   `*_with_limit` forms that take at most a given number). A steal never waits: it returns
//!   [`Steal::Retry`] when it loses a race.
//! - [`Injector`]: a shared queue (the crate's [`Queue`](crate::Queue)) for work from outside
//!   the pool, with the same stealing interface.
//!
//! The names and types follow crossbeam-deque's, so its idioms compile: [`Steal::or_else`] to
//! try one source after another, and collecting steals into a [`Steal`] (the first success,
//! else `Retry` if any lost a race; the `FromIterator` impl on [`Steal`] shows a worker's
//! `find_task`). Unlike crossbeam's, a deque has a fixed capacity: a batch moves no more than
//! fits in the thief's worker.
//!
//! Nothing allocates after construction; items still in a deque when its last handle drops are
//! dropped then.
//!
//! # Examples
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use weir_mpmc::deque::{Steal, Worker};
//!
//! let done = AtomicUsize::new(0);
//! let worker = Worker::new_lifo(1024);
//! for task in 0..1000 {
//!     worker.push(task).unwrap();
//! }
//! let stealer = worker.stealer();
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let mine = Worker::new_lifo(64);
//!         while done.load(Ordering::Relaxed) < 1000 {
//!             match stealer.steal_batch_and_pop(&mine) {
//!                 Steal::Success(_) => {
//!                     done.fetch_add(1, Ordering::Relaxed);
//!                     while mine.pop().is_some() {
//!                         done.fetch_add(1, Ordering::Relaxed);
//!                     }
//!                 }
//!                 Steal::Retry => {}
//!                 Steal::Empty => std::thread::yield_now(),
//!             }
//!         }
//!     });
//!     while worker.pop().is_some() {
//!         done.fetch_add(1, Ordering::Relaxed);
//!     }
//! });
//! assert_eq!(done.into_inner(), 1000);
//! ```
//!
//! # The algorithm
//!
//! Chase and Lev's deque, with the orderings of Lê, Pop, Cohen and Zappa Nardelli, "Correct and
//! Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), over a ring of fixed size
//! instead of a growable array. Two positions, compared by their wrapping signed difference:
//! `top`, where steals (and a FIFO owner's pops) take, moved on only by a compare-and-swap; and
//! `bottom`, where the owner pushes (and a LIFO owner pops), written only by the owner. The
//! deque holds `bottom - top <= capacity` items, in a ring of `size` slots, the power of two at
//! or above the capacity; position `p` lives in slot `p % size`.
//!
//! - **push**: if `bottom - top == capacity`, [`Full`](crate::Full). Else write the slot of
//!   `bottom` and publish it by storing `bottom + 1`.
//! - **LIFO pop** (the paper's `take`): store `bottom - 1`, then a SeqCst fence, then load `top`.
//!   If more than one item was left, the item at the new `bottom` is the owner's without a
//!   race. If one was left, the owner races the steals for it with a CAS on `top`, and restores
//!   `bottom`. If none, it restores `bottom`.
//! - **steal**: load `top`, a SeqCst fence, load `bottom`; if `top < bottom`, claim `top` with a
//!   CAS to `top + 1`, then read the item. A lost CAS is [`Steal::Retry`].
//! - **FIFO pop**: a steal by the owner, which knows `bottom` and never lowers it, so needs no
//!   fence.
//!
//! The two fences settle the race between a LIFO pop and a steal over the last item. It is a
//! store-buffering shape: the pop stores `bottom` and loads `top`, the steal loads `top` and
//! then `bottom`. In the single order of SeqCst fences one of the two fences comes first; if the
//! pop's does, the steal sees the lowered `bottom` (or a later one); if the steal's does, the
//! pop's load of `top` sees at least the value the steal started from (C++20 gives this for the
//! fences alone; C11 needs the orderings of note (4) under [Orderings](#orderings)). Either way
//! they agree on who may take which position, and the one position both may want is decided by
//! the CAS.
//!
//! ## Claim first, then read: the stamps
//!
//! A growable Chase–Lev deque (and crossbeam's) reads the item *before* the steal's CAS, and
//! throws the copy away if the CAS fails: the slot cannot be overwritten in between because a
//! full deque grows into a new array. In a fixed ring it can: once `top` has moved past `p`, the
//! owner may push position `p + size` into the same slot, so a speculative read races with that
//! write: undefined behaviour, which loom and ThreadSanitizer report. Here a thread reads only
//! positions its CAS has claimed, and then the owner's push could overwrite the slot *while* the
//! stealer is reading it. Each slot therefore carries a stamp:
//!
//! - slot `i` starts with stamp `i`;
//! - whoever moves `top` past position `p` (a steal, a FIFO pop, the owner's CAS for the last
//!   item) reads the item and then stores the stamp `p + size`, with Release;
//! - the push of position `p` waits until the stamp is `p`, with Acquire: the reader's read
//!   happens before the write. A LIFO pop of `p` leaves the stamp alone, as the next push reuses
//!   `p`.
//!
//! The wait is not a failure: when the push sees room (`bottom - top < capacity`), position
//! `p - size` is below `top`, so it was claimed by a thread that is now copying the item and
//! about to store the stamp. The push spins, then yields, for those few instructions;
//! [`Full`](crate::Full) means the deque holds `capacity` items and nothing else.
//!
//! ## Batches
//!
//! `steal_batch_and_pop` takes `min(ceil(len / 2), room in dest + 1, 32)` items (`steal_batch`
//! `min(ceil(len / 2), room in dest, 32)`, and the `_with_limit` forms the limit instead of 32). In a FIFO deque
//! it claims them all with one CAS from `top` to `top + n`: the owner never lowers `bottom`, so
//! no pop can take one of them without moving `top` itself. In a LIFO deque that would be wrong:
//! between the steal's look at `bottom` and its CAS, the owner can pop down to positions inside
//! the batch without a CAS (it sees `top` still at the batch's start, and more than one item),
//! so the batch and the pop would both take them. A LIFO batch is therefore claimed item by item,
//! each claim after its own fence and look at `bottom`, as a steal is. The injector's batch is
//! the queue's batch pop, one claim for all.
//!
//! # Orderings
//!
//! This table is the one place where the deque's orderings are argued; the comments at each
//! atomic access point here. Against the paper's Figure 1 (C11), in three kinds:
//!
//! - **paper**: the paper's ordering, kept as it is. The paper proves them in C11's model; in
//!   C++20's, which Rust follows, the fence argument of note (4) covers the same race.
//! - **stronger**: stronger than the paper's, for a reason of this deque's own.
//! - **other**: weaker than the paper's (or not in it), resting on something the paper's growable
//!   deque does not have: the stamps, or that only the owner writes `bottom`. None of them rests
//!   on C++20's rule for SeqCst fences ([atomics.order]/4.4, which orders two Relaxed accesses on
//!   either side of two fences and which C11 lacked): the Relaxed `top` that did rest on it is
//!   back to the paper's Acquire load and SeqCst compare-and-swaps, which cost nothing on x86 (a
//!   load is a `mov` and a CAS a `lock cmpxchg` whatever the ordering).
//!
//! | Operation                 | Paper                 | Here                 | Kind     | Pairs with / why                                |
//! |---------------------------|-----------------------|----------------------|----------|-------------------------------------------------|
//! | push: load `top`          | Acquire               | Relaxed              | other    | only the room check; the stamp orders the slot (3) |
//! | push: load stamp          | (none)                | Acquire              | other    | the reader's Release stamp store (3)            |
//! | push: store `bottom`      | Release fence + store | Release store        | paper    | steal's Acquire load of `bottom`                |
//! | take: store `bottom - 1`  | Relaxed               | Release              | stronger | steal's Acquire load of `bottom` (1)            |
//! | take: fence               | SeqCst                | SeqCst               | paper    | steal's SeqCst fence (store buffering)          |
//! | take: load `top`          | Relaxed               | Relaxed              | paper    | ordered by the fences                           |
//! | take: CAS `top` (last)    | SeqCst / Relaxed      | SeqCst / Relaxed     | paper    | the steals' SeqCst CAS and fence (4)            |
//! | take: restore `bottom`    | Relaxed               | Release              | stronger | steal's Acquire load of `bottom` (1), (2)       |
//! | steal: load `top`         | Acquire               | Acquire              | paper    | the SeqCst CAS that wrote it (4)                |
//! | steal: fence              | SeqCst                | SeqCst               | paper    | take's SeqCst fence                             |
//! | steal: load `bottom`      | Acquire               | Acquire              | paper    | the Release stores of `bottom`                  |
//! | steal: CAS `top`          | SeqCst / Relaxed      | SeqCst / Relaxed     | paper    | take's fence and CAS, the next steal's load (4) |
//! | read item, store stamp    | (read before the CAS) | read, Release store  | other    | the next lap's push's Acquire stamp load (3)    |
//! | LIFO batch: next claim    | (no batch)            | own CAS as the load  | other    | the thread's own SeqCst CAS stands for the Acquire load of `top` |
//! | take: first look at `top` | (none)                | Relaxed              | other    | `top` never decreases: seen at `bottom`, empty  |
//! | FIFO pop: load `top`, CAS | (no FIFO pop)         | Relaxed              | other    | atomicity only: the owner never lowers `bottom`, so there is no store-buffering race to settle, and it wrote the items itself |
//!
//! (1) In C++20 a later Relaxed store by the owner does not continue the release sequence of a
//! push's Release store (C11's did), so a steal that reads it would not be ordered after the
//! items' writes. Every store of `bottom` goes through one Release store
//! (`Buffer::set_bottom`), a plain `mov` on x86.
//!
//! (2) For the restore, the Release also forbids a load-buffering cycle: a steal that reads the
//! restored `bottom` has loaded `top` at most `bottom`, and can only win its CAS if it wrote the
//! `top` this pop read (it took the last item first); the pop's load of `top` reading the
//! steal's CAS, which comes after the steal's load of `bottom`, which reads this store, is a
//! cycle that C++20 allows for Relaxed accesses. Loom does not explore load buffering, so no
//! model needs this one on its own; the models do kill the Relaxed mutant of `set_bottom`
//! through the push's use of it.
//!
//! (3) The paper reads the item before the steal's CAS and needs the push's Acquire load of `top`
//! (against the steal's SeqCst CAS) to keep the push's write after a steal's read of the slot it
//! reuses. Here a slot is read only after its claim, and its stamp (Release store after the
//! read, Acquire load before the next write) orders the reuse slot by slot, so `top` only answers
//! "is there room", for which any value coherence allows is right (a stale one understates it).
//!
//! (4) In C11 these are what settles a pop against a steal whose fence comes first: two Relaxed
//! loads of `top` on either side of two SeqCst fences are not ordered by them, and the paper's
//! proof instead puts the compare-and-swaps in the SeqCst order and reads `top` with Acquire.
//! In C++20 the two fences alone would do (a pop whose fence follows the steal's sees at least
//! the `top` the steal loaded), and loom's SeqCst fence is stronger still (it joins every
//! thread's view through one global clock), so **no loom model can tell these three (the
//! steal's load of `top`, the steal's CAS in `Buffer::claim`, the take's CAS) from Relaxed**:
//! their mutants survive every model, and `../shared/tools/loom-mutants.sh` lists them. They are
//! kept because the published proof needs them and they cost nothing on x86 (measured: the same
//! instructions, and no change in the pool's benchmark); on AArch64 the load becomes `ldar` and
//! the CAS `casal` (or their LL/SC forms), a small cost there, paid for a proof that holds.

#[macro_use]
mod batch_steals;
mod buffer;
mod injector;
mod steal;
mod stealer;
mod worker;

pub use injector::Injector;
pub use steal::Steal;
pub use stealer::Stealer;
pub use worker::Worker;

/// The most items one `steal_batch_and_pop` moves.
const MAX_BATCH: usize = 32;
