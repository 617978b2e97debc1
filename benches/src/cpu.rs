//! What a run cost the machine, beside how long it took: the CPU time of the whole process
//! (every thread, the finished ones included) and its context switches, from
//! `getrusage(RUSAGE_SELF)`.
//!
//! A blocking channel that spins where it should sleep can match a sleeping one in items/s
//! and still burn twice the CPU for them; with more threads than cores, that CPU is taken from
//! the threads doing the work.

use std::time::Duration;

/// The process's resource use so far, or between two readings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// User plus system CPU time of all the process's threads.
    pub cpu: Duration,
    /// Context switches a thread asked for (it slept: a futex wait, a blocking call).
    pub voluntary_switches: u64,
    /// Context switches the scheduler forced (the time slice ran out, or a woken thread took
    /// the core).
    pub involuntary_switches: u64,
}

impl Usage {
    /// The process's use so far, or `None` where `getrusage` is not available (or failed).
    pub fn now() -> Option<Usage> {
        #[cfg(unix)]
        {
            // SAFETY: an all-zero `rusage` is a valid value of the plain C struct, and
            // `getrusage` only writes into the struct it is given.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `usage` is a valid, writable `rusage` for the duration of the call.
            if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
                return None;
            }
            let time = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec.max(0) as u64)
                    + Duration::from_micros(t.tv_usec.max(0) as u64)
            };
            Some(Usage {
                cpu: time(usage.ru_utime) + time(usage.ru_stime),
                voluntary_switches: usage.ru_nvcsw.max(0) as u64,
                involuntary_switches: usage.ru_nivcsw.max(0) as u64,
            })
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// What was used from `earlier` to `self`.
    pub fn since(self, earlier: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(earlier.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(earlier.involuntary_switches),
        }
    }

    /// The use of a run `factor` times as long (for a row that ran a share of the work).
    pub fn scaled(self, factor: f64) -> Usage {
        Usage {
            cpu: self.cpu.mul_f64(factor),
            voluntary_switches: (self.voluntary_switches as f64 * factor).round() as u64,
            involuntary_switches: (self.involuntary_switches as f64 * factor).round() as u64,
        }
    }

    /// All context switches.
    pub fn switches(self) -> u64 {
        self.voluntary_switches + self.involuntary_switches
    }
}

/// Runs `run` and returns its result with the process's use while it ran (`None` without
/// `getrusage`).
pub fn measure<R>(run: impl FnOnce() -> R) -> (R, Option<Usage>) {
    let before = Usage::now();
    let result = run();
    let after = Usage::now();
    let used = before.zip(after).map(|(before, after)| after.since(before));
    (result, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_costs_cpu() {
        let (sum, used) = measure(|| {
            let start = std::time::Instant::now();
            let mut sum = 0u64;
            while start.elapsed() < Duration::from_millis(30) {
                sum = std::hint::black_box(sum.wrapping_add(1));
            }
            sum
        });
        assert!(sum > 0);
        if let Some(used) = used {
            assert!(used.cpu >= Duration::from_millis(10), "{used:?}");
        }
    }

    #[test]
    fn scaling_and_differences() {
        let a = Usage {
            cpu: Duration::from_millis(10),
            voluntary_switches: 4,
            involuntary_switches: 2,
        };
        let b = a.scaled(3.0);
        assert_eq!(b.cpu, Duration::from_millis(30));
        assert_eq!(b.since(a).switches(), 12);
        assert_eq!(a.since(b), Usage::default());
    }
}
