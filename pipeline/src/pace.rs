//! A source's rate limit: how many items it may take now, and how long to wait for more.

use std::time::{Duration, Instant};

use crate::control::Control;

/// The longest a limited source sleeps at once, so that it notices a cancel, a pause or a new
/// rate soon enough.
const NAP: Duration = Duration::from_millis(10);

/// How far ahead of its rate a source may run after an idle spell: a few milliseconds' worth,
/// so that a slow iterator does not earn a burst.
const SLACK: Duration = Duration::from_millis(5);

/// The items a rate-limited source took since the rate was last set, against the time.
#[derive(Debug)]
pub(crate) struct Pacer {
    rate: u64,
    since: Instant,
    taken: u64,
}

impl Pacer {
    pub(crate) fn new() -> Self {
        Pacer {
            rate: 0,
            since: Instant::now(),
            taken: 0,
        }
    }

    /// How many items the source may take now, at most `max`, waiting (in naps that look at
    /// `control`) until it may take one. 0 only when the run stopped.
    pub(crate) fn allowance(&mut self, max: usize, control: &Control) -> usize {
        loop {
            match self.allowance_now(max, control) {
                Ok(allowed) => return allowed,
                Err(wait) => {
                    std::thread::sleep(wait.min(NAP));
                    control.wait_while_paused();
                }
            }
        }
    }

    /// How many items the source may take now, at most `max`, without waiting: `Err` with
    /// the time until it may take one when that is 0 (and the run has not stopped).
    pub(crate) fn allowance_now(
        &mut self,
        max: usize,
        control: &Control,
    ) -> Result<usize, Duration> {
        let rate = control.rate();
        if rate != self.rate {
            // A new rate counts from now.
            *self = Pacer {
                rate,
                since: Instant::now(),
                taken: 0,
            };
        }
        if rate == 0 {
            return Ok(max);
        }
        if control.is_stopped() {
            return Ok(0);
        }
        let elapsed = self.since.elapsed();
        let due = (elapsed.as_secs_f64() * rate as f64) as u64;
        let slack = ((SLACK.as_secs_f64() * rate as f64) as u64).max(1);
        if due > self.taken + slack {
            // Idle for a while: no burst to catch up.
            self.taken = due - slack;
        }
        let allowed = due.saturating_sub(self.taken);
        if allowed > 0 {
            return Ok(usize::try_from(allowed).unwrap_or(usize::MAX).min(max));
        }
        let next = Duration::from_secs_f64((self.taken + 1) as f64 / rate as f64);
        Err(next.saturating_sub(elapsed))
    }

    /// Counts `n` items taken.
    pub(crate) fn took(&mut self, n: usize) {
        self.taken += n as u64;
    }
}
