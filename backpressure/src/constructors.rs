//! The constructors every channel flavour has (`channel`, `channel_with`, `try_channel`), written
//! once: a flavour module defines its `Sender`, `Receiver` and `try_channel_with`, and calls
//! [`constructors!`] with its name and an example for each.

/// Defines `channel`, `channel_with` and `try_channel` in a flavour module over its
/// `try_channel_with`, with the docs they share and the examples given.
macro_rules! constructors {
    (
        $flavour:literal,
        $(#[$channel_example:meta])* fn channel;
        $(#[$with_example:meta])* fn channel_with;
        $(#[$try_example:meta])* fn try_channel;
    ) => {
        /// A channel of `capacity` items, whose ends sleep in the kernel when they must wait
        /// ([`Park`]).
        ///
        /// With `capacity` 0 it is a rendezvous channel, as `std::sync::mpsc::sync_channel(0)`:
        /// it holds no item, and a [`send`](channel::Sender::send) hands its item straight to a
        /// receiver, returning only once a receive has taken it.
        /// [`try_send`](channel::Sender::try_send) succeeds only while a receiver is blocked in
        /// a receive (it then waits for that receiver to take the item, never for one to come),
        /// and otherwise returns `Full`; a timed-out send and a send whose receivers are gone
        /// hand the item back. Batches go one item per hand-off.
        ///
        /// # Panics
        ///
        /// If `capacity` is too large for memory; [`try_channel`] returns the error instead.
        ///
        $(#[$channel_example])*
        #[track_caller]
        pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
            match try_channel_with(capacity, Park) {
                Ok(ends) => ends,
                Err(error) => panic!(concat!("weir_backpressure::", $flavour, "::channel: {}"), error),
            }
        }

        /// As [`channel()`], with the ends waiting in `wait`'s way.
        ///
        /// # Panics
        ///
        /// If `capacity` is too large for memory. A `capacity` of 0 makes a rendezvous channel
        /// (see [`channel()`]).
        ///
        $(#[$with_example])*
        #[track_caller]
        pub fn channel_with<T, W: WaitStrategy>(
            capacity: usize,
            wait: W,
        ) -> (Sender<T, W>, Receiver<T, W>) {
            match try_channel_with(capacity, wait) {
                Ok(ends) => ends,
                Err(error) => {
                    panic!(concat!("weir_backpressure::", $flavour, "::channel_with: {}"), error)
                }
            }
        }

        /// As [`channel()`], but returns an error instead of panicking.
        ///
        /// # Errors
        ///
        /// [`CapacityError`] if `capacity` is too large to allocate.
        ///
        $(#[$try_example])*
        pub fn try_channel<T>(capacity: usize) -> Result<(Sender<T>, Receiver<T>), CapacityError> {
            try_channel_with(capacity, Park)
        }
    };
}
