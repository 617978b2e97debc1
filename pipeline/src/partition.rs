//! [`partition`](crate::Pipeline::partition): items with equal keys go to the same one of a
//! stage's branches, so each branch can keep per-key state without a lock.
//!
//! A router thread takes the stage's input and sends each item to the queue of the branch its
//! key hashes to (weir-mpmc's [`Affinity`] hash: stable, the same key's home in every run);
//! each branch runs its own segment on a thread of its own, and their outputs merge into one
//! queue as they complete. One key's items stay in order through it.

use std::hash::Hash;
use std::time::Instant;

use weir_mpmc::distribute::Affinity;

use crate::link::{Gone, Outlet, SpscSender};
use crate::marks::Marked;

/// The router's outlet: each item to its key's branch.
pub(crate) struct Route<T, F> {
    branches: Vec<Marked<SpscSender<T>>>,
    /// Only its hash is used: the targets are the branches' queues, which wait when full.
    home: Affinity<(), F>,
    pending: Vec<Vec<T>>,
    mark: Option<Instant>,
}

impl<T, K: Hash, F: Fn(&T) -> K> Route<T, F> {
    pub(crate) fn new(branches: Vec<Marked<SpscSender<T>>>, key: F, chunk: usize) -> Self {
        let count = branches.len();
        Route {
            branches,
            home: Affinity::new(vec![(); count], key),
            pending: (0..count).map(|_| Vec::with_capacity(chunk)).collect(),
            mark: None,
        }
    }
}

impl<T: Send, K: Hash, F: Fn(&T) -> K + Send> Outlet<T> for Route<T, F> {
    fn send(&mut self, buf: &mut Vec<T>) -> Result<(), Gone> {
        for item in buf.drain(..) {
            let home = self.home.home_of(&item);
            self.pending[home].push(item);
        }
        for (branch, pending) in self.branches.iter_mut().zip(&mut self.pending) {
            if pending.is_empty() {
                continue;
            }
            if let Some(mark) = self.mark.take() {
                branch.carry(Some(mark));
            }
            if branch.send(pending).is_err() {
                // The run is stopping: every item not sent goes back to the caller.
                for pending in &mut self.pending {
                    buf.append(pending);
                }
                return Err(Gone);
            }
        }
        Ok(())
    }

    fn carry(&mut self, mark: Option<Instant>) {
        self.mark = mark;
    }
}
