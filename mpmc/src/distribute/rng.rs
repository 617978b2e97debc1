//! The small pseudo-random source of [`Random`](super::Random) and
//! [`LeastLoaded`](super::LeastLoaded), and the bit mixer that [`Affinity`](super::Affinity)
//! finishes its hash with.
//!
//! The crate depends only on crossbeam-utils, static_assertions and weir-ring, so no `rand`:
//! routing needs a fast, well-spread sequence, not cryptographic or even statistical quality,
//! and SplitMix64 (a Weyl sequence through a 64-bit finaliser) is a few instructions per draw.

/// SplitMix64: a counter stepped by an odd constant, each value passed through [`mix64`].
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator that starts from `seed`; equal seeds give equal sequences.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 pseudo-random bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        // The golden-ratio increment: odd, so the counter visits every value once per 2^64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// A number in `0..n`; `n` must not be 0.
    #[inline]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        scale(self.next_u64(), n)
    }
}

/// Scatters the bits of `x`: every input bit affects every output bit (SplitMix64's
/// finaliser, a bijection on `u64`).
#[inline]
pub(crate) fn mix64(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Maps 64 well-spread bits onto `0..n` by a multiply and a shift (the high half of
/// `x * n`): no division, and no bias worth measuring for any `n` a distributor has.
#[inline]
pub(crate) fn scale(x: u64, n: usize) -> usize {
    debug_assert!(n > 0);
    ((u128::from(x) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_below_and_covers() {
        let mut rng = Rng::new(1);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[rng.below(7)] += 1;
        }
        assert!(
            seen.iter().all(|&count| (800..1200).contains(&count)),
            "{seen:?}"
        );
        assert_eq!(scale(u64::MAX, 3), 2);
        assert_eq!(scale(0, 3), 0);
    }

    #[test]
    fn equal_seeds_equal_sequences() {
        let (mut a, mut b, mut c) = (Rng::new(5), Rng::new(5), Rng::new(6));
        let a: [u64; 4] = core::array::from_fn(|_| a.next_u64());
        let b: [u64; 4] = core::array::from_fn(|_| b.next_u64());
        let c: [u64; 4] = core::array::from_fn(|_| c.next_u64());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
