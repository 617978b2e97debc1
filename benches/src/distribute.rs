//! Distribution to many workers, flat or as a tree: a distributor over [`WORKERS`] weir rings
//! (of [`RING_CAPACITY`] each, [`crate::CAPACITY`] in all), flat over all the rings or a tree of
//! [`GROUPS`] groups of [`WORKERS`] / [`GROUPS`] rings (round-robin over least-loaded groups, or
//! the other way round). Two workloads:
//!
//! - [`bursts`]: one thread (pinned) sends a burst of [`BURST`] items through the distributor
//!   (half the rings' room: a balancing distributor never finds them full), then empties every
//!   ring, and again until every item went through. Nothing waits and no cache line moves
//!   between cores, so the rows differ by their routing alone: the cost of a send.
//! - [`drained`]: one sender thread routes every item while one drainer thread, on the other
//!   core, empties the rings in turn, a slice at a time. The drainer stands in for the workers;
//!   it is slower than the sender, so the rings run full and a send that finds every ring full
//!   waits (spin, then yield) and tries again: this measures routing when the lengths it reads
//!   are cache lines the other core keeps writing, and what its retries cost the drainer.
//!
//! Every repetition checks that each item `0..items` arrived once (count and sum), and that
//! every ring took a share (no distributor left a worker idle).

use std::time::{Duration, Instant};

use weir_mpmc::distribute::{Distributor, LeastLoaded, RoundRobin};
use weir_ring::{Consumer, Producer};

use crate::pin::{run_group, run_pair, Job, Pinning};
use crate::wait::wait_for;
use crate::{fail, CAPACITY};

/// Workers (rings) per run.
pub const WORKERS: usize = 8;
/// Groups of a tree: each has `WORKERS / GROUPS` rings.
pub const GROUPS: usize = 2;
/// Each ring's capacity: all of them together hold [`CAPACITY`] items, like the one queue of
/// the other workloads.
pub const RING_CAPACITY: usize = CAPACITY / WORKERS;
/// The drainer's slice: at most this many items popped from a ring per visit.
const SLICE: usize = 64;
/// Items per burst of [`bursts`]: half of what the rings hold.
pub const BURST: u64 = (WORKERS * RING_CAPACITY / 2) as u64;

const _: () = assert!(WORKERS.is_multiple_of(GROUPS));

/// One way to route items onto the rings.
pub trait Layout {
    /// The implementation's name, as printed in a table row.
    const NAME: &'static str;
    /// A short name without spaces or slashes, for criterion's benchmark ids.
    const ID: &'static str;
    /// The distributor over the rings' producers, in order (group `g` is rings
    /// `g * WORKERS / GROUPS ..`).
    fn build(rings: Vec<Producer<u64>>) -> impl Distributor<u64> + Send;
}

/// The rings' producers in [`GROUPS`] groups, in order.
fn groups(rings: Vec<Producer<u64>>) -> impl Iterator<Item = Vec<Producer<u64>>> {
    let mut rings = rings.into_iter();
    (0..GROUPS).map(move |_| rings.by_ref().take(WORKERS / GROUPS).collect())
}

/// A flat [`LeastLoaded`] over all the rings: the row the trees are compared with.
#[derive(Debug)]
pub enum FlatLeastLoaded {}

impl Layout for FlatLeastLoaded {
    const NAME: &'static str = "weir-mpmc LeastLoaded over 8 rings (flat)";
    const ID: &'static str = "flat-least-loaded";

    fn build(rings: Vec<Producer<u64>>) -> impl Distributor<u64> + Send {
        LeastLoaded::new(rings, 1)
    }
}

/// A flat [`RoundRobin`] over all the rings.
#[derive(Debug)]
pub enum FlatRoundRobin {}

impl Layout for FlatRoundRobin {
    const NAME: &'static str = "weir-mpmc RoundRobin over 8 rings (flat)";
    const ID: &'static str = "flat-round-robin";

    fn build(rings: Vec<Producer<u64>>) -> impl Distributor<u64> + Send {
        RoundRobin::new(rings)
    }
}

/// A tree: [`RoundRobin`] over [`GROUPS`] groups, each a [`LeastLoaded`] over its rings.
#[derive(Debug)]
pub enum TreeRoundRobinOfLeastLoaded {}

impl Layout for TreeRoundRobinOfLeastLoaded {
    const NAME: &'static str = "weir-mpmc RoundRobin over 2 LeastLoaded x 4 rings (tree)";
    const ID: &'static str = "tree-rr-of-least-loaded";

    fn build(rings: Vec<Producer<u64>>) -> impl Distributor<u64> + Send {
        RoundRobin::new(
            groups(rings)
                .enumerate()
                .map(|(g, group)| LeastLoaded::new(group, g as u64 + 1)),
        )
    }
}

/// A tree: [`LeastLoaded`] over [`GROUPS`] groups (by the sum of their rings' lengths), each a
/// [`RoundRobin`] over its rings.
#[derive(Debug)]
pub enum TreeLeastLoadedOfRoundRobin {}

impl Layout for TreeLeastLoadedOfRoundRobin {
    const NAME: &'static str = "weir-mpmc LeastLoaded over 2 RoundRobin x 4 rings (tree)";
    const ID: &'static str = "tree-least-loaded-of-rr";

    fn build(rings: Vec<Producer<u64>>) -> impl Distributor<u64> + Send {
        LeastLoaded::new(groups(rings).map(RoundRobin::new), 1)
    }
}

/// One thread, pinned: sends `items` items through `L`'s distributor onto [`WORKERS`] rings in
/// bursts of [`BURST`], emptying the rings after each; returns the time it took.
pub fn bursts<L: Layout>(items: u64) -> Duration {
    let (producers, mut consumers): (Vec<_>, Vec<Consumer<u64>>) = (0..WORKERS)
        .map(|_| weir_ring::channel(RING_CAPACITY))
        .unzip();
    let mut distributor = L::build(producers);
    let job: Job<'_, (Duration, u64, u64, [u64; WORKERS])> = Box::new(move || {
        let mut slice = [0u64; SLICE];
        let (mut count, mut sum) = (0u64, 0u64);
        let mut per_ring = [0u64; WORKERS];
        let start = Instant::now();
        let mut next = 0;
        while next < items {
            let end = items.min(next + BURST);
            for item in next..end {
                if let Err(full) = distributor.send(item) {
                    fail(&format!(
                        "{}: every ring full at item {}",
                        L::NAME,
                        full.into_inner()
                    ));
                }
            }
            next = end;
            for (ring, taken) in consumers.iter_mut().zip(&mut per_ring) {
                loop {
                    let n = ring.pop_slice(&mut slice);
                    if n == 0 {
                        break;
                    }
                    sum = slice[..n]
                        .iter()
                        .fold(sum, |sum, &item| sum.wrapping_add(item));
                    *taken += n as u64;
                    count += n as u64;
                }
            }
        }
        (start.elapsed(), count, sum, per_ring)
    });
    let (elapsed, count, sum, per_ring) = run_group(Pinning::Alternate, vec![job])
        .pop()
        .unwrap_or_else(|| fail("the burst thread returned nothing"));
    check::<L>(items, count, sum, &per_ring);
    elapsed
}

/// Stops the run unless `count` items summing to `sum` came out, each of `0..items` once, and,
/// given enough items, every ring took some.
fn check<L: Layout>(items: u64, count: u64, sum: u64, per_ring: &[u64; WORKERS]) {
    if count != items || sum != items * items.saturating_sub(1) / 2 {
        fail(&format!(
            "{}: drained {count} items summing to {sum}, expected {items}",
            L::NAME
        ));
    }
    if items >= BURST && per_ring.contains(&0) {
        fail(&format!("{}: a ring took nothing: {per_ring:?}", L::NAME));
    }
}

/// Routes `items` items through `L`'s distributor onto [`WORKERS`] rings from one thread while
/// another drains them; returns the time from the first send to the last item drained.
pub fn drained<L: Layout>(items: u64) -> Duration {
    let (producers, consumers): (Vec<_>, Vec<Consumer<u64>>) = (0..WORKERS)
        .map(|_| weir_ring::channel(RING_CAPACITY))
        .unzip();
    let mut distributor = L::build(producers);
    let (start, (end, count, sum, per_ring)) = run_pair(
        move || {
            let start = Instant::now();
            for i in 0..items {
                let mut item = i;
                wait_for(|| match distributor.send(item) {
                    Ok(_) => Some(()),
                    Err(full) => {
                        item = full.into_inner();
                        None
                    }
                });
            }
            start
        },
        move || drain(consumers, items),
    );
    check::<L>(items, count, sum, &per_ring);
    end.saturating_duration_since(start)
}

/// Empties the rings in turn until `items` items came out: when it ended, how many, their sum,
/// and how many each ring gave.
fn drain(mut rings: Vec<Consumer<u64>>, items: u64) -> (Instant, u64, u64, [u64; WORKERS]) {
    let mut slice = [0u64; SLICE];
    let (mut count, mut sum) = (0u64, 0u64);
    let mut per_ring = [0u64; WORKERS];
    while count < items {
        wait_for(|| {
            let mut got = 0;
            for (ring, taken) in rings.iter_mut().zip(&mut per_ring) {
                let n = ring.pop_slice(&mut slice);
                sum = slice[..n]
                    .iter()
                    .fold(sum, |sum, &item| sum.wrapping_add(item));
                *taken += n as u64;
                got += n as u64;
            }
            count += got;
            (got > 0).then_some(())
        });
    }
    (Instant::now(), count, sum, per_ring)
}
