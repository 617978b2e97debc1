//! Every panic of the deque and the distributors has one form: `weir_mpmc::<path of the
//! function>: <what was wrong>`, reported at the caller's line (`#[track_caller]`).
//!
//! One test in its own binary, as it swaps the process's panic hook to see the locations.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use weir_mpmc::deque::{Injector, Worker};
use weir_mpmc::distribute::{
    Affinity, LeastLoaded, Pool, Random, RoundRobin, Weighted, WorkStealing,
};
use weir_mpmc::Queue;

#[test]
fn panics_name_their_function_at_the_callers_line() {
    let seen: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let hook_seen = Arc::clone(&seen);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let file = info
            .location()
            .map(|l| l.file().to_owned())
            .unwrap_or_default();
        *hook_seen.lock().unwrap() = Some((message, file));
    }));
    let check = |function: &str, call: &mut dyn FnMut()| {
        let result = panic::catch_unwind(AssertUnwindSafe(call));
        assert!(result.is_err(), "{function} did not panic");
        let (message, file) = seen.lock().unwrap().take().expect("the hook saw the panic");
        let prefix = format!("weir_mpmc::{function}: ");
        assert!(
            message.starts_with(&prefix),
            "{message:?} is not {prefix:?}..."
        );
        assert_eq!(file, file!(), "{function} reports its caller's line");
    };
    let none: Vec<&Queue<u8>> = Vec::new();
    let queue = Queue::<u8>::new(1);
    let worker = Worker::<u8>::new_fifo(1);
    let injector = Injector::<u8>::new(1);
    check("deque::Worker::new_fifo", &mut || {
        drop(Worker::<u8>::new_fifo(0))
    });
    check("deque::Worker::new_lifo", &mut || {
        drop(Worker::<u8>::new_lifo(0))
    });
    check("deque::Worker::new_fifo_at", &mut || {
        drop(Worker::<u8>::new_fifo_at(0, 1))
    });
    check("deque::Worker::new_lifo_at", &mut || {
        drop(Worker::<u8>::new_lifo_at(0, 1))
    });
    check("deque::Injector::new", &mut || drop(Injector::<u8>::new(0)));
    check("deque::Stealer::steal_batch_with_limit", &mut || {
        let _ = worker.stealer().steal_batch_with_limit(&worker, 0);
    });
    check(
        "deque::Stealer::steal_batch_with_limit_and_pop",
        &mut || {
            let _ = worker.stealer().steal_batch_with_limit_and_pop(&worker, 0);
        },
    );
    check("deque::Injector::steal_batch_with_limit", &mut || {
        let _ = injector.steal_batch_with_limit(&worker, 0);
    });
    check(
        "deque::Injector::steal_batch_with_limit_and_pop",
        &mut || {
            let _ = injector.steal_batch_with_limit_and_pop(&worker, 0);
        },
    );
    check("distribute::RoundRobin::new", &mut || {
        drop(RoundRobin::new(none.clone()))
    });
    check("distribute::Random::new", &mut || {
        drop(Random::new(none.clone(), 1))
    });
    check("distribute::LeastLoaded::new", &mut || {
        drop(LeastLoaded::new(none.clone(), 1))
    });
    check("distribute::Affinity::new", &mut || {
        drop(Affinity::new(none.clone(), |x: &u8| *x))
    });
    check("distribute::Weighted::new", &mut || {
        drop(Weighted::new([(&queue, 0)]))
    });
    check("distribute::WorkStealing::new", &mut || {
        drop(WorkStealing::<u8>::new(0, 1, 1))
    });
    check("distribute::Pool::new", &mut || {
        let _ = Pool::new(0);
    });
    check("distribute::Pool::capacities", &mut || {
        let _ = Pool::new(1).capacities(0, 1);
    });
    check("distribute::Pool::run", &mut || {
        let _ = Pool::new(1)
            .capacities(usize::MAX / 8, 1)
            .run(0..1u64, |_| {});
    });
    panic::set_hook(previous);
}
