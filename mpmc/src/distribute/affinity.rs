//! Affinity: the same key always goes to the same worker, by a stable hash.

use core::hash::{Hash, Hasher};

use super::list::{built, list_distributor, Targets};
use super::rng::{mix64, scale};
use super::{Distributor, Target, TargetsError};
use crate::Full;

/// Sends each item to the target its key hashes to: items with equal keys go to the same worker
/// (its *home*), so a worker can keep per-key state, and one key's items stay in order.
///
/// `key` maps an item to its key (`|order: &Order| order.account`). The hash is FNV-1a over the
/// bytes the key's [`Hash`] impl writes, finished with a 64-bit mixer and mapped onto the
/// targets by a multiply and a shift. It has no random seed, so a key's home is the same in
/// every run and every process built for the same target (the bytes `Hash` writes for integers
/// are native-endian and `usize`-sized, so a 32-bit and a 64-bit build may differ), for as long
/// as the number of targets stays the same. It is not a defence against keys chosen to collide.
///
/// # Overflow
///
/// When the home target is full, the item goes to the next target with room, like every other
/// distributor: nothing blocks and nothing is lost, but that item is then handled away from its
/// key's other items, and may overtake or be overtaken by them. Affinity is broken only under
/// overflow. Where that is not acceptable (per-key order, per-key state owned by one worker),
/// [`strict`](Affinity::strict) makes a full home target return [`Full`] at once, so the caller
/// can wait and retry; the other targets are then never tried.
///
/// # Examples
///
/// ```
/// use weir_mpmc::distribute::{Affinity, Distributor};
/// use weir_mpmc::Queue;
///
/// struct Order {
///     account: u64,
///     amount: u32,
/// }
///
/// let queues: Vec<Queue<Order>> = (0..4).map(|_| Queue::new(16)).collect();
/// let mut by_account = Affinity::new(&queues, |order: &Order| order.account).strict();
/// let home = by_account.send(Order { account: 7, amount: 10 }).unwrap();
/// assert_eq!(by_account.send(Order { account: 7, amount: 25 }).ok(), Some(home));
/// assert_eq!(by_account.home_of(&Order { account: 7, amount: 0 }), home);
/// assert_eq!(queues[home].len(), 2);
/// ```
pub struct Affinity<P, F> {
    targets: Targets<P>,
    key: F,
    strict: bool,
}

static_assertions::assert_impl_all!(Affinity<weir_ring::Producer<u8>, fn(&u8) -> u8>: Send);

impl<P, F> Affinity<P, F> {
    /// Sends each item to the target that `key(&item)` hashes to; when that one is full, to the
    /// next with room (see [`strict`](Affinity::strict) for the alternative).
    ///
    /// # Panics
    ///
    /// If `targets` is empty; [`try_new`](Affinity::try_new) returns the error instead.
    #[track_caller]
    pub fn new(targets: impl IntoIterator<Item = P>, key: F) -> Self {
        built(Self::try_new(targets, key), "Affinity::new")
    }

    /// Sends each item to the target that `key(&item)` hashes to.
    ///
    /// # Errors
    ///
    /// [`TargetsError::NoTargets`] if `targets` is empty.
    pub fn try_new(targets: impl IntoIterator<Item = P>, key: F) -> Result<Self, TargetsError> {
        Ok(Affinity {
            targets: Targets::new(targets)?,
            key,
            strict: false,
        })
    }

    /// Never sends an item away from its home target: when the home is full,
    /// [`send`](Distributor::send) returns [`Full`] without trying the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_mpmc::distribute::{Affinity, Distributor};
    /// use weir_mpmc::Queue;
    ///
    /// let queues = [Queue::new(1), Queue::new(1)];
    /// let mut strict = Affinity::new(&queues, |n: &u32| *n).strict();
    /// let home = strict.send(7).unwrap();
    /// assert_eq!(strict.send(7).unwrap_err().into_inner(), 7); // home full, other one empty
    /// assert!(queues[1 - home].is_empty());
    /// ```
    #[must_use = "the strict distributor is returned; an ignored one is dropped with its targets"]
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// The home target of `item`: where [`send`](Distributor::send) puts it unless that target
    /// is full.
    pub fn home_of<T, K>(&self, item: &T) -> usize
    where
        F: Fn(&T) -> K,
        K: Hash,
    {
        scale(stable_hash(&(self.key)(item)), self.targets.len())
    }
}

impl<T, K, P, F> Distributor<T> for Affinity<P, F>
where
    P: Target<T>,
    F: Fn(&T) -> K,
    K: Hash,
{
    #[inline]
    fn send(&mut self, item: T) -> Result<usize, Full<T>> {
        let home = self.home_of(&item);
        if self.strict {
            return self.targets[home].try_push(item).map(|()| home);
        }
        self.targets.push_from(home, item)
    }

    #[inline]
    fn targets(&self) -> usize {
        self.targets.len()
    }
}

list_distributor!(Affinity<P, F>; |affinity| strict = affinity.strict);

/// A hash of `key` that depends on nothing but the bytes its `Hash` impl writes: no per-process
/// seed, unlike std's `RandomState`.
fn stable_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut hasher = Fnv1a::default();
    key.hash(&mut hasher);
    // FNV-1a spreads its last bytes poorly into the high bits, which `scale` keeps; the mixer
    // fixes that.
    mix64(hasher.finish())
}

/// 64-bit FNV-1a: for each byte, xor it in, then multiply by the FNV prime.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        // The 64-bit FNV offset basis.
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        // The published test vectors of 64-bit FNV-1a.
        let fnv = |bytes: &[u8]| {
            let mut h = Fnv1a::default();
            h.write(bytes);
            h.finish()
        };
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stable_hash_is_fixed() {
        // Pinned, so that a change to the hash (which would move every key's home) is noticed.
        assert_eq!(stable_hash(&0u64), mix64(0xa8c7_f832_281a_39c5));
        assert_eq!(
            stable_hash("ada"),
            stable_hash(&alloc::string::String::from("ada"))
        );
    }
}
