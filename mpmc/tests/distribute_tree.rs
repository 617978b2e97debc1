//! Distributors nested into trees (a distributor is a target): which leaf each item lands in,
//! what a group's length and capacity are, the item handed back only when every leaf is full,
//! and several senders through trees over shared queues with every item delivered once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir_mpmc::distribute::{
    Affinity, Distributor, LeastLoaded, Random, RoundRobin, Target, Weighted,
};
use weir_mpmc::{Full, Queue};
use weir_test_support::{scaled, Waiter};

/// `groups` groups of `workers` queues of `capacity` each.
fn racks(groups: usize, workers: usize, capacity: usize) -> Vec<Vec<Queue<u32>>> {
    (0..groups)
        .map(|_| (0..workers).map(|_| Queue::new(capacity)).collect())
        .collect()
}

/// Every queue's length, group by group.
fn lens(racks: &[Vec<Queue<u32>>]) -> Vec<Vec<usize>> {
    racks
        .iter()
        .map(|group| group.iter().map(Queue::len).collect())
        .collect()
}

/// Where each item is: `(group, worker)` per item, for items `0..n`, popping every queue.
fn leaves_of(racks: &[Vec<Queue<u32>>], n: usize) -> Vec<(usize, usize)> {
    let mut at = vec![None; n];
    for (g, group) in racks.iter().enumerate() {
        for (w, queue) in group.iter().enumerate() {
            while let Some(item) = queue.try_pop() {
                assert!(at[item as usize].replace((g, w)).is_none(), "{item} twice");
            }
        }
    }
    at.into_iter()
        .enumerate()
        .map(|(item, leaf)| leaf.unwrap_or_else(|| panic!("{item} lost")))
        .collect()
}

#[test]
fn round_robin_over_least_loaded_groups_routes_leaf_by_leaf() {
    // Two groups of two workers: a least-loaded group of two samples both, so within a group
    // the shorter queue takes the item, and only a tie is left to its generator.
    let racks = racks(2, 2, 16);
    (100..103).for_each(|i| racks[0][0].try_push(i).unwrap());
    racks[1][0].try_push(200).unwrap();
    let mut tree = RoundRobin::new(racks.iter().map(|group| LeastLoaded::new(group, 7)));
    assert_eq!(tree.targets(), 2);
    assert_eq!((tree.len(), tree.capacity()), (4, 64));
    // The root alternates groups, whatever their loads.
    let groups: Vec<usize> = (0..16).map(|i| tree.send(i).unwrap()).collect();
    assert_eq!(groups, [0, 1].repeat(8));
    assert_eq!(tree.len(), 4 + 16);
    assert_eq!(
        (tree.as_slice()[0].len(), tree.as_slice()[1].len()),
        (11, 9)
    );
    // Each group ends even (within one), the preloaded queue having taken less.
    let lens = lens(&racks);
    assert!(
        lens.iter().all(|group| group[0].abs_diff(group[1]) <= 1),
        "{lens:?}"
    );
    // Drain the preloads; then every item is in the group the root named, and the items that
    // met a strictly shorter queue are in it: group 0's first three (0, 2, 4) and group 1's
    // first (1) went to worker 1.
    (0..3).for_each(|_| assert!(racks[0][0].try_pop().unwrap() >= 100));
    assert_eq!(racks[1][0].try_pop(), Some(200));
    let leaves = leaves_of(&racks, 16);
    for (item, &(group, _)) in leaves.iter().enumerate() {
        assert_eq!(group, groups[item], "item {item}");
    }
    let met_shorter = [leaves[0], leaves[1], leaves[2], leaves[4]];
    assert_eq!(met_shorter, [(0, 1), (1, 1), (0, 1), (0, 1)]);
}

#[test]
fn a_wider_least_loaded_group_stays_balanced() {
    // Two groups of four: the root still alternates, and each group's least-loaded sampling
    // keeps its queues close (the power of two choices; not exact, so loosely).
    let racks = racks(2, 4, 64);
    let mut tree = RoundRobin::new(racks.iter().map(|group| LeastLoaded::new(group, 3)));
    let groups: Vec<usize> = (0..200).map(|i| tree.send(i).unwrap()).collect();
    assert_eq!(groups, [0, 1].repeat(100));
    let lens = lens(&racks);
    assert!(
        lens.iter().flatten().all(|&len| len.abs_diff(25) <= 3),
        "{lens:?}"
    );
}

#[test]
fn a_deterministic_tree_names_every_leaf() {
    // Round-robin over round-robin groups of unequal sizes: group 0 has 3 workers, group 1 has 2.
    let racks = [racks(1, 3, 8).remove(0), racks(1, 2, 8).remove(0)];
    let mut tree = RoundRobin::new(racks.iter().map(RoundRobin::new));
    let groups: Vec<usize> = (0..12).map(|i| tree.send(i).unwrap()).collect();
    assert_eq!(groups, [0, 1].repeat(6));
    let leaves = leaves_of(&racks, 12);
    // Group 0 sees items 0, 2, 4, ... and turns through its 3 workers; group 1 through its 2.
    assert_eq!(
        leaves,
        [
            (0, 0),
            (1, 0),
            (0, 1),
            (1, 1),
            (0, 2),
            (1, 0),
            (0, 0),
            (1, 1),
            (0, 1),
            (1, 0),
            (0, 2),
            (1, 1)
        ]
    );
}

#[test]
fn least_loaded_over_groups_compares_group_sums() {
    // Two groups of two: group 0 holds 5 items in all (split 5 / 0), group 1 holds 4 (2 / 2).
    // A flat least-loaded would see group 0's empty queue as the least loaded; over groups the
    // sums decide, so group 1 takes the item (and its shorter-or-first queue within).
    let racks = racks(2, 2, 16);
    (0..5).for_each(|i| racks[0][0].try_push(i).unwrap());
    (0..2).for_each(|i| racks[1][0].try_push(i).unwrap());
    (0..2).for_each(|i| racks[1][1].try_push(i).unwrap());
    let mut tree = LeastLoaded::new(racks.iter().map(|group| RoundRobin::new(group)), 3);
    assert_eq!(tree.send(9), Ok(1));
    assert_eq!(lens(&racks), [[5, 0], [3, 2]]);
    assert_eq!(tree.len(), 10);
    // Now 5 against 5: the tie goes to whichever was sampled first; 6 against 5 next goes to
    // the other one.
    let first = tree.send(10).unwrap();
    assert_eq!(tree.send(11), Ok(1 - first));
}

#[test]
fn three_levels_and_every_kind_of_group() {
    // A root of weighted groups: a random group, an affinity group and a two-level group.
    type Group<'a> = Box<dyn Target<u32> + 'a>;
    let queues: Vec<Queue<u32>> = (0..6).map(|_| Queue::new(64)).collect();
    let random: Group<'_> = Box::new(Random::new(&queues[0..2], 5));
    let affinity: Group<'_> = Box::new(Affinity::new(&queues[2..4], |n: &u32| n % 2));
    let two_level: Group<'_> = Box::new(RoundRobin::new([
        LeastLoaded::new(&queues[4..5], 1),
        LeastLoaded::new(&queues[5..6], 1),
    ]));
    let mut tree = Weighted::new([(random, 2), (affinity, 1), (two_level, 1)]);
    let groups: Vec<usize> = (0..8).map(|i| tree.send(i).unwrap()).collect();
    // Smooth weighted round-robin over weights 2, 1, 1.
    assert_eq!(groups, [0, 1, 2, 0, 0, 1, 2, 0]);
    assert_eq!(tree.len(), 8);
    assert_eq!(tree.capacity(), 6 * 64);
    // The two-level group alternated its two leaves: items 2 and 6.
    assert_eq!(
        (queues[4].try_pop(), queues[5].try_pop()),
        (Some(2), Some(6))
    );
    // The affinity group sent items 1 and 5 (both odd) to one home.
    let odd_home: Vec<usize> = (2..4).filter(|&q| queues[q].len() == 2).collect();
    assert_eq!(odd_home.len(), 1);
    assert_eq!(queues[0].len() + queues[1].len(), 4);
}

#[test]
fn a_full_leaf_spills_within_its_group_then_to_the_next_group() {
    let racks = racks(2, 2, 2);
    let mut tree = RoundRobin::new(racks.iter().map(RoundRobin::new));
    // Fill group 0's worker 0 by hand: group 0's round-robin skips it.
    (0..2).for_each(|i| racks[0][0].try_push(i + 100).unwrap());
    assert_eq!(tree.send(0), Ok(0));
    assert_eq!(lens(&racks), [[2, 1], [0, 0]]);
    // Fill group 0 entirely: its turn goes to group 1.
    racks[0][1].try_push(101).unwrap();
    assert_eq!(tree.send(1), Ok(1));
    assert_eq!(tree.send(2), Ok(1)); // group 0's turn again, still full
    assert_eq!(tree.send(3), Ok(1));
    assert_eq!(lens(&racks), [[2, 2], [2, 1]]);
}

#[test]
fn every_leaf_full_hands_the_item_back() {
    let racks = racks(2, 3, 2);
    let mut tree = RoundRobin::new(racks.iter().map(|group| LeastLoaded::new(group, 11)));
    for i in 0..12 {
        assert!(tree.send(i).is_ok(), "item {i}: there was room");
    }
    assert_eq!((tree.len(), tree.capacity()), (12, 12));
    for i in 12..20 {
        assert_eq!(tree.send(i), Err(Full(i)));
    }
    // Through the Target view too, and a group on its own.
    assert_eq!(Target::try_push(&mut tree, 20), Err(Full(20)));
    let mut group = tree.into_targets().into_vec().remove(1);
    assert_eq!(group.send(21), Err(Full(21)));
    // One slot frees up in group 1: the group finds it, whichever two it samples.
    let freed = racks[1][2].try_pop().unwrap();
    assert_eq!(group.send(22), Ok(2));
    // Nothing was lost or duplicated: exactly 0..12 (and 22) went into the leaves.
    let mut held: Vec<u32> = racks
        .iter()
        .flatten()
        .flat_map(|queue| std::iter::from_fn(|| queue.try_pop()))
        .collect();
    held.push(freed);
    held.sort_unstable();
    assert_eq!(held, (0..12).chain([22]).collect::<Vec<_>>());
}

#[test]
fn a_tree_of_rings_owns_its_producers() {
    let (producers, mut consumers): (Vec<_>, Vec<_>) =
        (0..4).map(|_| weir_ring::channel::<u32>(2)).unzip();
    let mut producers = producers.into_iter();
    let mut tree = RoundRobin::new([
        RoundRobin::new(producers.by_ref().take(2)),
        RoundRobin::new(producers),
    ]);
    (0..8).for_each(|i| assert!(tree.send(i).is_ok()));
    assert_eq!(tree.send(8), Err(Full(8)));
    let popped: Vec<Vec<u32>> = consumers
        .iter_mut()
        .map(|c| std::iter::from_fn(|| c.try_pop()).collect())
        .collect();
    assert_eq!(popped, [[0, 4], [2, 6], [1, 5], [3, 7]]);
    // The producers come back, group by group.
    let groups = tree.into_targets();
    assert_eq!(groups[1].as_slice().len(), 2);
    assert!(format!("{:?}", groups[0]).starts_with("RoundRobin { targets: 2"));
}

#[test]
fn concurrent_senders_through_trees_deliver_every_item_once() {
    let (groups, workers, senders) = (2, 3, 3);
    let per_sender = scaled(20_000, 200);
    let total = senders * per_sender;
    let leaves: Vec<Vec<Arc<Queue<usize>>>> = (0..groups)
        .map(|_| (0..workers).map(|_| Arc::new(Queue::new(16))).collect())
        .collect();
    // seen[item]: how many times a consumer popped it.
    let seen: Vec<AtomicUsize> = (0..total).map(|_| AtomicUsize::new(0)).collect();
    let received = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for sender in 0..senders {
            // Each sender builds its own tree over the shared leaves: its generators are its own.
            let mut tree = RoundRobin::new(leaves.iter().enumerate().map(|(g, group)| {
                LeastLoaded::new(group.iter().cloned(), (sender * groups + g) as u64)
            }));
            s.spawn(move || {
                let mut waiter = Waiter::default();
                for i in 0..per_sender {
                    let mut item = sender * per_sender + i;
                    while let Err(Full(back)) = tree.send(item) {
                        item = back;
                        waiter.wait();
                    }
                    waiter.reset();
                }
            });
        }
        for queue in leaves.iter().flatten() {
            let (seen, received) = (&seen, &received);
            s.spawn(move || {
                let mut waiter = Waiter::default();
                while received.load(Ordering::Relaxed) < total {
                    match queue.try_pop() {
                        Some(item) => {
                            seen[item].fetch_add(1, Ordering::Relaxed);
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
    // The multiset of items popped is exactly 0..total, once each.
    let twice: Vec<usize> = (0..total)
        .filter(|&i| seen[i].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(twice.is_empty(), "items not popped exactly once: {twice:?}");
    assert!(leaves.iter().flatten().all(|queue| queue.is_empty()));
}
