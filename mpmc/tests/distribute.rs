//! The distributors' routing rules: round-robin order, random spread, stable per-key homes,
//! exact weighted sequences, least-loaded choices; every fallback when targets are full; and
//! several senders sharing one rotation with every item delivered exactly once.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use weir_mpmc::distribute::{
    Affinity, Distributor, LeastLoaded, Random, RoundRobin, Target, TargetsError, Weighted,
};
use weir_mpmc::{Full, Queue};
use weir_test_support::{scaled, Waiter};

/// Sends `0..n` and returns the index each item went to.
fn picks<D: Distributor<u32>>(d: &mut D, n: u32) -> Vec<usize> {
    (0..n).map(|i| d.send(i).expect("room")).collect()
}

/// How many of `picks` went to each of `targets` targets.
fn counts(picks: &[usize], targets: usize) -> Vec<usize> {
    let mut counts = vec![0; targets];
    picks.iter().for_each(|&i| counts[i] += 1);
    counts
}

/// A target with a fixed length that records, in a shared log, each time its length is read.
struct Fixed {
    id: usize,
    len: usize,
    capacity: usize,
    log: Rc<RefCell<Vec<usize>>>,
}

impl Target<u32> for Fixed {
    fn try_push(&mut self, item: u32) -> Result<(), Full<u32>> {
        if self.len == self.capacity {
            Err(Full(item))
        } else {
            Ok(())
        }
    }

    fn len(&self) -> usize {
        self.log.borrow_mut().push(self.id);
        self.len
    }

    fn capacity(&self) -> usize {
        self.capacity
    }
}

fn fixed(lens: &[usize], capacity: usize) -> (Vec<Fixed>, Rc<RefCell<Vec<usize>>>) {
    let log = Rc::default();
    let targets = lens
        .iter()
        .enumerate()
        .map(|(id, &len)| Fixed {
            id,
            len,
            capacity,
            log: Rc::clone(&log),
        })
        .collect();
    (targets, log)
}

// ---- round-robin ----

#[test]
fn round_robin_visits_in_order() {
    let queues: Vec<Queue<u32>> = (0..3).map(|_| Queue::new(10)).collect();
    let mut rr = RoundRobin::new(&queues);
    assert_eq!(picks(&mut rr, 7), [0, 1, 2, 0, 1, 2, 0]);
    assert_eq!(rr.targets(), 3);
}

#[test]
fn round_robin_keeps_each_rings_order() {
    let (producers, mut consumers): (Vec<_>, Vec<_>) =
        (0..3).map(|_| weir_ring::channel::<u32>(4)).unzip();
    let mut rr = RoundRobin::new(producers);
    picks(&mut rr, 12);
    for (index, consumer) in consumers.iter_mut().enumerate() {
        let got: Vec<u32> = consumer.drain().collect();
        let expected: Vec<u32> = (0..12).filter(|i| *i as usize % 3 == index).collect();
        assert_eq!(got, expected);
    }
    // The ring's own length, as the distributor sees it.
    assert!(rr.as_slice().iter().all(|p| Target::<u32>::len(p) == 0));
}

#[test]
fn round_robin_skips_full_targets_without_losing_its_turn() {
    let queues = [Queue::new(10), Queue::new(1), Queue::new(10)];
    queues[1].try_push(99).unwrap();
    let mut rr = RoundRobin::new(&queues);
    // Turns 0,1,2,0,1,2: target 1 is full, so its turns go to target 2.
    assert_eq!(picks(&mut rr, 6), [0, 2, 2, 0, 2, 2]);
    assert_eq!(queues[1].try_pop(), Some(99));
    // Room again: target 1 gets its next turn.
    assert_eq!(picks(&mut rr, 3), [0, 1, 2]);
}

#[test]
fn every_distributor_hands_the_item_back_when_all_are_full() {
    let queues = [Queue::new(1), Queue::new(1), Queue::new(1)];
    for (i, queue) in queues.iter().enumerate() {
        queue.try_push(format!("old {i}")).unwrap();
    }
    let mut distributors: Vec<Box<dyn Distributor<String> + '_>> = vec![
        Box::new(RoundRobin::new(&queues)),
        Box::new(Random::new(&queues, 1)),
        Box::new(Affinity::new(&queues, |s: &String| s.len())),
        Box::new(Weighted::new(queues.iter().map(|q| (q, 2)))),
        Box::new(LeastLoaded::new(&queues, 1)),
    ];
    for d in &mut distributors {
        let err = d.send("new".to_owned()).unwrap_err();
        assert_eq!(err.into_inner(), "new");
    }
    // Nothing was pushed, nothing was lost.
    assert!(queues.iter().all(|q| q.len() == 1));
}

#[test]
fn clones_share_one_rotation() {
    let queues: Vec<Arc<Queue<u32>>> = (0..3).map(|_| Arc::new(Queue::new(10))).collect();
    let mut a = RoundRobin::new(queues.clone());
    let mut b = a.clone();
    let turns: Vec<usize> = (0..6)
        .map(|i| if i % 2 == 0 { a.send(i) } else { b.send(i) }.unwrap())
        .collect();
    assert_eq!(turns, [0, 1, 2, 0, 1, 2]);
    // And they fed the same queues.
    assert!(queues.iter().all(|q| q.len() == 2));
}

#[test]
fn no_targets_is_an_error() {
    let none = Vec::<&Queue<u32>>::new;
    assert_eq!(
        RoundRobin::try_new(none()).unwrap_err(),
        TargetsError::NoTargets
    );
    assert!(Random::try_new(none(), 0).is_err());
    assert!(LeastLoaded::try_new(none(), 0).is_err());
    assert!(Affinity::try_new(none(), |x: &u32| *x).is_err());
    assert!(Weighted::try_new(none().into_iter().map(|q| (q, 1))).is_err());
    assert_eq!(
        TargetsError::NoTargets.to_string(),
        "there must be at least one target"
    );
}

#[test]
#[should_panic(
    expected = "weir_mpmc::distribute::RoundRobin::new: there must be at least one target"
)]
fn round_robin_new_panics_without_targets() {
    let _ = RoundRobin::new(Vec::<&Queue<u32>>::new());
}

// ---- random ----

#[test]
fn random_spreads_evenly_and_replays_by_seed() {
    let n = scaled(40_000, 400) as u32;
    let queues: Vec<Queue<u32>> = (0..4).map(|_| Queue::new(n as usize)).collect();
    let first = picks(&mut Random::new(&queues, 9), n);
    let again = picks(&mut Random::new(&queues, 9), n);
    let other = picks(&mut Random::new(&queues, 10), n);
    assert_eq!(first, again, "same seed, same choices");
    assert_ne!(first, other, "another seed, other choices");
    if !cfg!(miri) {
        let expected = n as usize / 4;
        for count in counts(&first, 4) {
            assert!(
                count.abs_diff(expected) < expected / 20,
                "{count} vs {expected}"
            );
        }
    }
}

#[test]
fn random_skips_full_targets() {
    let queues = [Queue::new(100), Queue::new(1), Queue::new(100)];
    queues[1].try_push(0).unwrap();
    let got = picks(&mut Random::new(&queues, 3), 100);
    assert!(!got.contains(&1));
    assert_eq!(queues[0].len() + queues[2].len(), 100);
}

// ---- affinity ----

#[test]
fn same_key_same_worker_across_distributors() {
    let queues: Vec<Queue<(u64, u32)>> = (0..8).map(|_| Queue::new(10_000)).collect();
    let mut one = Affinity::new(&queues, |&(key, _): &(u64, u32)| key);
    // Built independently, with another closure and the key's owned twin.
    let keys: Vec<String> = (0..200u64).map(|k| k.to_string()).collect();
    let other_queues: Vec<Queue<String>> = (0..8).map(|_| Queue::new(10_000)).collect();
    let mut two = Affinity::new(&other_queues, |s: &String| s.parse::<u64>().unwrap());
    for round in 0..3 {
        for (key, text) in (0..200u64).zip(&keys) {
            let home = one.send((key, round)).unwrap();
            assert_eq!(home, one.home_of(&(key, 0)));
            assert_eq!(two.send(text.clone()), Ok(home), "key {key}");
        }
    }
    // Each queue holds whole keys: three rounds of each.
    for queue in &queues {
        let mut keys: Vec<u64> = std::iter::from_fn(|| queue.try_pop().map(|(k, _)| k)).collect();
        keys.sort_unstable();
        assert!(keys.chunks(3).all(|c| c.len() == 3 && c[0] == c[2]));
    }
}

#[test]
fn homes_are_pinned_across_runs() {
    // The hash has no per-process seed: these homes are the same in every run and process (on
    // 64-bit little-endian targets, where the integers' `Hash` bytes are these). A change here
    // moves every user's keys: it must be deliberate.
    let queues: Vec<Queue<u64>> = (0..8).map(|_| Queue::new(1)).collect();
    let by_number = Affinity::new(&queues, |n: &u64| *n);
    let by_name = Affinity::new(&queues, |s: &&'static str| *s);
    let numbers: Vec<usize> = (0..8).map(|n| by_number.home_of(&n)).collect();
    let names: Vec<usize> = ["ada", "grace", "edsger", "barbara"]
        .iter()
        .map(|s| by_name.home_of(s))
        .collect();
    if cfg!(all(target_endian = "little", target_pointer_width = "64")) {
        assert_eq!(numbers, PINNED_NUMBERS);
    }
    assert_eq!(names, PINNED_NAMES);
}

const PINNED_NUMBERS: [usize; 8] = [4, 2, 3, 5, 3, 0, 1, 5];
const PINNED_NAMES: [usize; 4] = [4, 5, 5, 0];

#[test]
fn keys_spread_over_the_targets() {
    let keys = scaled(10_000, 500);
    let queues: Vec<Queue<u64>> = (0..8).map(|_| Queue::new(keys)).collect();
    let mut by_key = Affinity::new(&queues, |n: &u64| *n);
    let sequential = picks_u64(&mut by_key, 0..keys as u64);
    let strided = picks_u64(&mut by_key, (0..keys as u64).map(|k| k << 16));
    let tolerance = if cfg!(miri) { 0.5 } else { 0.1 };
    for got in [sequential, strided] {
        let expected = keys as f64 / 8.0;
        for count in counts(&got, 8) {
            let off = (count as f64 - expected).abs() / expected;
            assert!(off < tolerance, "{count} vs {expected}");
        }
    }
}

fn picks_u64<D: Distributor<u64>>(d: &mut D, items: impl Iterator<Item = u64>) -> Vec<usize> {
    items.map(|i| d.send(i).unwrap()).collect()
}

#[test]
fn affinity_overflow_spills_unless_strict() {
    let queues = [Queue::new(1), Queue::new(1), Queue::new(1)];
    let mut spill = Affinity::new(&queues, |n: &u32| *n);
    let home = spill.send(5).unwrap();
    assert_eq!(
        spill.send(5),
        Ok((home + 1) % 3),
        "next after the full home"
    );
    assert_eq!(spill.send(5), Ok((home + 2) % 3));
    assert_eq!(spill.send(5).unwrap_err().into_inner(), 5);

    queues.iter().for_each(|q| assert!(q.try_pop().is_some()));
    let mut strict = Affinity::new(&queues, |n: &u32| *n).strict();
    assert_eq!(strict.send(5), Ok(home));
    assert_eq!(strict.send(5).unwrap_err().into_inner(), 5);
    assert_eq!(queues.iter().map(Queue::len).sum::<usize>(), 1);
}

// ---- weighted ----

#[test]
fn weighted_is_smooth_and_exact() {
    let queues: Vec<Queue<u32>> = (0..3).map(|_| Queue::new(100_000)).collect();
    let mut weighted = Weighted::new([(&queues[0], 5), (&queues[1], 1), (&queues[2], 1)]);
    // nginx's smooth sequence for 5:1:1, twice: a a b a c a a.
    let (a, b, c) = (0, 1, 2);
    assert_eq!(
        picks(&mut weighted, 14),
        [a, a, b, a, c, a, a, a, a, b, a, c, a, a]
    );
    // Over whole periods the ratio is exact.
    let n = scaled(7_000, 70) as u32;
    assert_eq!(
        counts(&picks(&mut weighted, n), 3),
        [5, 1, 1].map(|w| w * n as usize / 7)
    );
}

#[test]
fn weighted_ratios_and_spacing() {
    let weights = [3, 7, 1, 9];
    let total: u32 = weights.iter().sum();
    let queues: Vec<Queue<u32>> = (0..4).map(|_| Queue::new(100_000)).collect();
    let mut weighted = Weighted::new(queues.iter().zip(weights));
    assert_eq!(weighted.weights(), weights);
    let periods = scaled(500, 5) as u32;
    let got = picks(&mut weighted, total * periods);
    let expected: Vec<usize> = weights.iter().map(|&w| (w * periods) as usize).collect();
    assert_eq!(counts(&got, 4), expected);
    // Every window of one period holds each target exactly `weight` times.
    for window in got.windows(total as usize).step_by(7) {
        let expected: Vec<usize> = weights.iter().map(|&w| w as usize).collect();
        assert_eq!(counts(window, 4), expected);
    }
}

#[test]
fn weighted_skips_full_and_rejects_zero() {
    let queues = [Queue::new(10), Queue::new(1), Queue::new(10)];
    queues[1].try_push(0).unwrap();
    let mut weighted = Weighted::new([(&queues[0], 1), (&queues[1], 1), (&queues[2], 1)]);
    assert_eq!(picks(&mut weighted, 6), [0, 2, 2, 0, 2, 2]);
    assert_eq!(
        Weighted::try_new([(&queues[0], 1), (&queues[1], 0)]).unwrap_err(),
        TargetsError::ZeroWeight { index: 1 }
    );
}

#[test]
#[should_panic(expected = "weir_mpmc::distribute::Weighted::new: target 0 has weight 0")]
fn weighted_new_panics_on_zero() {
    let queue = Queue::<u8>::new(1);
    let _ = Weighted::new([(&queue, 0)]);
}

// ---- least-loaded ----

#[test]
fn least_loaded_never_picks_the_fuller_sample() {
    // Distinct lengths, and two pairs of equal ones (for ties).
    let lens = [40, 10, 70, 30, 30, 0, 60, 10];
    let (targets, log) = fixed(&lens, 1000);
    let mut least = LeastLoaded::new(targets, 5);
    let n = scaled(10_000, 300);
    let mut chosen = vec![0; lens.len()];
    for i in 0..n {
        log.borrow_mut().clear();
        let got = least.send(i as u32).unwrap();
        chosen[got] += 1;
        let sampled = log.borrow().clone();
        assert_eq!(sampled.len(), 2, "two lengths read");
        let (first, second) = (sampled[0], sampled[1]);
        assert_ne!(first, second, "two distinct targets");
        let want = if lens[second] < lens[first] {
            second
        } else {
            first
        };
        assert_eq!(got, want, "sampled {first} and {second}");
    }
    // The fullest target loses every comparison.
    assert_eq!(chosen[2], 0);
    if !cfg!(miri) {
        // The emptiest wins every comparison it is in: 2/8 of the sends.
        let share = chosen[5] as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.03, "{share}");
    }
}

#[test]
fn least_loaded_falls_back_when_the_choice_is_full() {
    // Target 1 is empty but has no room (capacity 0 here); the item goes on to target 2.
    let (targets, log) = fixed(&[5, 0, 3], 5);
    let mut targets = targets;
    targets[1].capacity = 0;
    let mut least = LeastLoaded::new(targets, 0);
    for i in 0..100 {
        let got = least.send(i).unwrap();
        assert_eq!(got, 2);
    }
    drop(log);
    // One target: nothing to compare, no length read.
    let (one, log) = fixed(&[3], 10);
    let mut least = LeastLoaded::new(one, 0);
    assert_eq!(least.send(1), Ok(0));
    assert!(log.borrow().is_empty());
}

#[test]
fn least_loaded_over_queues_evens_them_out() {
    let queues: Vec<Queue<u32>> = (0..4).map(|_| Queue::new(1000)).collect();
    (0..100).for_each(|i| queues[0].try_push(i).unwrap());
    let mut least = LeastLoaded::new(&queues, 11);
    picks(&mut least, 300);
    // 400 items in all: the loaded queue got few of the new ones, and none is far off 100.
    let lens: Vec<usize> = queues.iter().map(Queue::len).collect();
    assert!(lens[0] < 110, "{lens:?}");
    assert!(lens.iter().all(|&len| len.abs_diff(100) < 25), "{lens:?}");
}

// ---- several threads ----

#[test]
fn concurrent_senders_share_a_rotation_and_deliver_exactly_once() {
    let senders = 3;
    let per_sender = scaled(20_000, 100);
    let total = senders * per_sender;
    let queues: Vec<Arc<Queue<usize>>> = (0..3).map(|_| Arc::new(Queue::new(64))).collect();
    let rr = RoundRobin::new(queues.clone());
    let seen: Vec<AtomicBool> = (0..total).map(|_| AtomicBool::new(false)).collect();
    let received = AtomicUsize::new(0);
    let sum = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for sender in 0..senders {
            let mut rr = rr.clone();
            s.spawn(move || {
                let mut waiter = Waiter::default();
                for i in 0..per_sender {
                    let mut item = sender * per_sender + i;
                    loop {
                        match rr.send(item) {
                            Ok(_) => break,
                            Err(Full(back)) => item = back,
                        }
                        waiter.wait();
                    }
                    waiter.reset();
                }
            });
        }
        for queue in &queues {
            let (seen, received, sum) = (&seen, &received, &sum);
            s.spawn(move || {
                let mut waiter = Waiter::default();
                while received.load(Ordering::Relaxed) < total {
                    match queue.try_pop() {
                        Some(item) => {
                            assert!(!seen[item].swap(true, Ordering::Relaxed), "{item} twice");
                            sum.fetch_add(item, Ordering::Relaxed);
                            received.fetch_add(1, Ordering::Relaxed);
                            waiter.reset();
                        }
                        None => waiter.wait(),
                    }
                }
            });
        }
    });
    assert_eq!(received.into_inner(), total);
    assert_eq!(sum.into_inner(), total * (total - 1) / 2);
    assert!(seen.iter().all(|s| s.load(Ordering::Relaxed)));
}

#[test]
fn concurrent_senders_balance_exactly_when_nothing_is_full() {
    let senders = 4;
    let per_sender = scaled(3_000, 30);
    let total = senders * per_sender;
    // Room for everything: no send ever skips, so the shared ticket alone decides.
    let queues: Vec<Arc<Queue<usize>>> = (0..3).map(|_| Arc::new(Queue::new(total))).collect();
    let rr = RoundRobin::new(queues.clone());
    std::thread::scope(|s| {
        for _ in 0..senders {
            let mut rr = rr.clone();
            s.spawn(move || (0..per_sender).for_each(|i| assert!(rr.send(i).is_ok())));
        }
    });
    let lens: Vec<usize> = queues.iter().map(|q| q.len()).collect();
    assert_eq!(lens, [total / 3; 3]);
}

// ---- work-stealing ----

#[test]
fn work_stealing_takes_local_then_injector_then_siblings() {
    use weir_mpmc::distribute::{Source, WorkStealing};

    let (mut sender, mut locals) = WorkStealing::new(3, 16, 16);
    assert_eq!((sender.workers(), sender.targets()), (3, 1));
    let mut thief = locals.pop().unwrap();
    let mut victim = locals.pop().unwrap();
    assert_eq!((victim.index(), thief.index()), (1, 2));
    assert_eq!(thief.find(), None, "nothing anywhere");

    // Items of the victim's own (LIFO for the owner): the newest first.
    for i in 0..8 {
        victim.push(i).unwrap();
    }
    assert_eq!(victim.find(), Some((7, Source::Local)));
    // The thief steals the oldest half of what is left, from the only non-empty sibling.
    assert_eq!(thief.find(), Some((0, Source::Sibling(1))));
    assert_eq!((thief.len(), victim.len()), (3, 3));
    assert_eq!(thief.find(), Some((3, Source::Local)));

    // The injector comes before siblings.
    assert_eq!(sender.send(100), Ok(0));
    assert_eq!(sender.injected(), 1);
    let mut idle = locals.pop().unwrap();
    assert_eq!(idle.find(), Some((100, Source::Injector)));
    // Then it steals from whichever sibling has items.
    let mut got = Vec::new();
    while let Some((item, source)) = idle.find() {
        assert!(matches!(source, Source::Sibling(_) | Source::Local));
        got.push(item);
    }
    got.sort_unstable();
    assert_eq!(got, [1, 2, 4, 5, 6]);
    assert!(victim.is_empty() && thief.is_empty());
}

#[test]
fn work_stealing_hands_back_when_full() {
    use weir_mpmc::distribute::WorkStealing;

    let (mut sender, locals) = WorkStealing::new(1, 1, 2);
    assert_eq!(sender.send(1), Ok(0));
    assert_eq!(sender.send(2), Ok(0));
    assert_eq!(sender.send(3).unwrap_err().into_inner(), 3);
    // A worker's push spills into the injector, and is handed back when both are full.
    let (_, locals2) = WorkStealing::new(1, 1, 1);
    locals2[0].push('a').unwrap();
    locals2[0].push('b').unwrap();
    assert_eq!(locals2[0].push('c').unwrap_err().into_inner(), 'c');
    drop(locals);
    assert!(matches!(
        WorkStealing::<u8>::try_new(0, 1, 1),
        Err(TargetsError::NoTargets)
    ));
    assert!(matches!(
        WorkStealing::<u8>::try_new(1, 0, 1),
        Err(TargetsError::Capacity(_))
    ));
}

#[test]
fn stealing_under_a_skewed_workload() {
    use weir_mpmc::distribute::{Source, WorkStealing};

    // All the work lands on worker 0's deque; worker 0 is slow (it yields after each item),
    // the other three only steal. Every item is run once, and the thieves take part: worker 0
    // waits for the first theft before it goes on, as a scheduler on a busy machine may well
    // run it to the end before the thieves' threads start.
    let n = scaled(4_000, 100);
    let (_sender, locals) = WorkStealing::new(4, n, 16);
    for i in 0..n {
        locals[0].push(i).unwrap();
    }
    let tally: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
    let stolen = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for mut local in locals {
            let (tally, stolen) = (&tally, &stolen);
            s.spawn(move || {
                let slow = local.index() == 0;
                while let Some((item, source)) = local.find() {
                    assert!(!tally[item].swap(true, Ordering::Relaxed), "{item} twice");
                    if let Source::Sibling(victim) = source {
                        assert_ne!(victim, local.index());
                        stolen.fetch_add(1, Ordering::Relaxed);
                    }
                    if slow {
                        std::thread::yield_now();
                        // Its deque holds the rest meanwhile, so the thieves cannot all give up.
                        while stolen.load(Ordering::Relaxed) == 0 {
                            std::thread::yield_now();
                        }
                    }
                }
            });
        }
    });
    assert!(tally.iter().all(|t| t.load(Ordering::Relaxed)));
    assert!(stolen.load(Ordering::Relaxed) > 0);
}
