//! loom models of weir-backpressure's `EventCount`: no lost wake-up.
//!
//! A waiter listens, looks at its condition once more, then sleeps; a notifier makes the
//! condition true, then notifies. A lost wake-up leaves a waiter asleep forever, which loom
//! reports as a deadlock (its futex is a loom condition variable; see the crate's `sync.rs`).
//!
//! The condition here is a Relaxed counter of tokens, as weak as the protocol allows, so that
//! the models depend on nothing but the event count's own fences and orderings: its two SeqCst
//! fences settle the store-buffering race between "announce, then look" and "change, then check
//! for waiters", and its count of the listeners already woken must never let a notify skip
//! the wake-up of a waiter that nothing else will wake.

#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::{model, model_with_bound};
use weir_backpressure::EventCount;

struct Tokens {
    count: AtomicUsize,
    event: EventCount,
}

impl Tokens {
    fn new() -> Arc<Self> {
        Arc::new(Tokens {
            count: AtomicUsize::new(0),
            event: EventCount::new(),
        })
    }

    fn try_take(&self) -> bool {
        self.count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Gives one token and wakes one waiter.
    fn give(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.event.notify_one();
    }

    /// Two threads, each taking one token.
    fn two_waiters(this: &Arc<Self>) -> Vec<thread::JoinHandle<()>> {
        (0..2)
            .map(|_| {
                let tokens = Arc::clone(this);
                thread::spawn(move || tokens.take())
            })
            .collect()
    }

    /// Takes one token, sleeping while there is none.
    fn take(&self) {
        loop {
            if self.try_take() {
                return;
            }
            let listener = self.event.listen();
            if self.try_take() {
                return;
            }
            listener.wait();
        }
    }
}

/// Two waiters, one notifier giving a token and waking one waiter, twice: each waiter gets a
/// token. `notify_one` must wake a sleeper each time, whatever the other waiter is doing.
#[test]
fn notify_one_wakes_each_of_two_waiters() {
    model(|| {
        let tokens = Tokens::new();
        let waiters = Tokens::two_waiters(&tokens);
        for _ in 0..2 {
            tokens.give();
        }
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(tokens.count.load(Ordering::Relaxed), 0);
    });
}

/// Two waiters and two notifiers, each giving one token and waking one waiter. A notify that
/// finds every listener already woken skips its wake-up: whichever waiter leaves first, and
/// whether or not it was the one woken, the other still gets a token and its wake-up.
///
/// Four threads: with loom's default bound of 3 preemptions this model takes a minute (it
/// passes); CI runs it with 2, which still lets either notify land between any waiter's
/// listen, re-check and sleep.
#[test]
fn two_notifiers_wake_each_of_two_waiters() {
    model_with_bound(2, || {
        let tokens = Tokens::new();
        let waiters = Tokens::two_waiters(&tokens);
        let notifier = {
            let tokens = Arc::clone(&tokens);
            thread::spawn(move || tokens.give())
        };
        tokens.give();
        notifier.join().unwrap();
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(tokens.count.load(Ordering::Relaxed), 0);
        assert!(!tokens.event.has_waiters());
    });
}

/// Two waiters, one notifier giving both tokens at once and waking everyone: both wake.
#[test]
fn notify_all_wakes_both_waiters() {
    model(|| {
        let tokens = Tokens::new();
        let waiters = Tokens::two_waiters(&tokens);
        tokens.count.fetch_add(2, Ordering::Relaxed);
        tokens.event.notify_all();
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(tokens.count.load(Ordering::Relaxed), 0);
    });
}

/// A notify with nobody listening is not remembered: a later listener still sleeps until the
/// next notify (here, the second one), and the event count is left with no waiters.
#[test]
fn a_notify_before_listening_is_not_needed_again() {
    model(|| {
        let tokens = Tokens::new();
        tokens.count.fetch_add(1, Ordering::Relaxed);
        tokens.event.notify_one();
        let waiter = {
            let tokens = Arc::clone(&tokens);
            thread::spawn(move || {
                tokens.take();
                tokens.take();
            })
        };
        tokens.count.fetch_add(1, Ordering::Relaxed);
        tokens.event.notify_one();
        waiter.join().unwrap();
        assert!(!tokens.event.has_waiters());
    });
}
