//! The four batch steals that [`Stealer`](super::Stealer) and [`Injector`](super::Injector)
//! both offer (crossbeam-deque's names), written once over each type's own `batch`.

/// Defines `steal_batch`, `steal_batch_with_limit`, `steal_batch_and_pop` and
/// `steal_batch_with_limit_and_pop` in an `impl` of `$owner`, which has
/// `fn batch(&self, dest: &Worker<T>, limit: usize, pop: bool) -> Steal<Option<T>>`, with the
/// docs they share and the examples given.
macro_rules! batch_steals {
    (
        $owner:literal,
        $(#[$batch_example:meta])* fn steal_batch;
        $(#[$limit_example:meta])* fn steal_batch_with_limit;
        $(#[$pop_example:meta])* fn steal_batch_and_pop;
        $(#[$limit_pop_example:meta])* fn steal_batch_with_limit_and_pop;
    ) => {
        /// Takes about half of the oldest items (no more than fit in `dest`, and at most 32)
        /// with one claim, and pushes them into `dest`, in order.
        ///
        /// `dest` is a worker of the calling thread (a `&Worker` cannot be on any other, as
        /// `Worker` is not `Sync`); it may be a stealer's own worker. [`Steal::Empty`] when
        /// there was nothing to take, and also when `dest` is full (nothing could be moved; its
        /// owner has work at hand).
        ///
        $(#[$batch_example])*
        pub fn steal_batch(&self, dest: &Worker<T>) -> Steal<()> {
            self.batch(dest, MAX_BATCH, false).map_to_unit()
        }

        /// As [`steal_batch`](Self::steal_batch), but moves at most `limit` items (and no
        /// more than about half of them, nor more than fit in `dest`).
        ///
        /// # Panics
        ///
        /// If `limit` is 0.
        ///
        $(#[$limit_example])*
        #[track_caller]
        pub fn steal_batch_with_limit(&self, dest: &Worker<T>, limit: usize) -> Steal<()> {
            assert!(
                limit > 0,
                concat!(
                    "weir_mpmc::deque::",
                    $owner,
                    "::steal_batch_with_limit: limit must be at least 1"
                )
            );
            self.batch(dest, limit, false).map_to_unit()
        }

        /// Takes about half of the oldest items (no more than fit in `dest`, and at most 32)
        /// with one claim, moves all but the first of them into `dest` in order, and returns
        /// the first.
        ///
        /// `dest` is a worker of the calling thread, as for
        /// [`steal_batch`](Self::steal_batch). A full `dest` still gets the one item returned.
        ///
        $(#[$pop_example])*
        pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            self.batch(dest, MAX_BATCH, true).map_to_first()
        }

        /// As [`steal_batch_and_pop`](Self::steal_batch_and_pop), but takes at most `limit`
        /// items, the one returned included.
        ///
        /// # Panics
        ///
        /// If `limit` is 0.
        ///
        $(#[$limit_pop_example])*
        #[track_caller]
        pub fn steal_batch_with_limit_and_pop(&self, dest: &Worker<T>, limit: usize) -> Steal<T> {
            assert!(
                limit > 0,
                concat!(
                    "weir_mpmc::deque::",
                    $owner,
                    "::steal_batch_with_limit_and_pop: limit must be at least 1"
                )
            );
            self.batch(dest, limit, true).map_to_first()
        }
    };
}
