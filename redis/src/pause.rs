//! Pauses that double up to a longest one: for the loops that wait on the server
//! (reconnecting in `link.rs`, a sink's backpressure, a stopper's retries).

use std::thread;
use std::time::Duration;

/// The next pause of a waiting loop, and the longest it grows to.
#[derive(Debug)]
pub(crate) struct Pauses {
    next: Duration,
    longest: Duration,
}

impl Pauses {
    /// Pauses of `first`, doubling up to `longest`.
    pub(crate) fn new(first: Duration, longest: Duration) -> Self {
        Pauses {
            next: first,
            longest,
        }
    }

    /// Sleeps the next pause, or `at_most` if that is shorter (what is left of a deadline),
    /// and doubles the pause after it.
    pub(crate) fn sleep(&mut self, at_most: Duration) {
        thread::sleep(self.next.min(at_most));
        self.next = (self.next * 2).min(self.longest);
    }
}

#[cfg(test)]
mod tests {
    use super::Pauses;
    use std::time::Duration;

    #[test]
    fn pauses_double_up_to_the_longest() {
        let ms = Duration::from_millis;
        let mut pauses = Pauses::new(ms(1), ms(5));
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(pauses.next);
            pauses.sleep(Duration::ZERO); // cut to nothing: the test does not wait
        }
        assert_eq!(seen, [ms(1), ms(2), ms(4), ms(5), ms(5)]);
    }
}
