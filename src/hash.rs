//! Hash tables with a fast hasher and fixed seeds.
//!
//! `ahash` seeds itself at random in every process (another crate of the
//! build turns that on), which changes probe sequences, and so the work
//! done, from one run to the next. The engine's tables hold no secret
//! worth that defence (user keys are already keyed hashes), while the
//! benchmark gate needs runs that execute the same instructions. So every
//! table of the crate uses these fixed seeds.

use std::hash::BuildHasher;

/// Builds `ahash` hashers with fixed seeds.
#[derive(Clone, Debug)]
pub struct FixedState(ahash::RandomState);

impl Default for FixedState {
    fn default() -> Self {
        // Arbitrary odd constants (digits of pi).
        FixedState(ahash::RandomState::with_seeds(
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
        ))
    }
}

impl BuildHasher for FixedState {
    type Hasher = ahash::AHasher;

    #[inline]
    fn build_hasher(&self) -> ahash::AHasher {
        self.0.build_hasher()
    }
}

/// A hash map with [`FixedState`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FixedState>;
/// A hash set with [`FixedState`].
pub type FastSet<K> = std::collections::HashSet<K, FixedState>;

/// Moves the entries of `b` into `a` (the larger of the two receives),
/// combining values of equal keys with `combine`.
pub fn merge_maps<K: Eq + std::hash::Hash, V>(
    a: &mut FastMap<K, V>,
    b: &mut FastMap<K, V>,
    combine: impl Fn(&mut V, V),
) {
    if a.len() < b.len() {
        std::mem::swap(a, b);
    }
    for (k, v) in b.drain() {
        match a.get_mut(&k) {
            Some(x) => combine(x, v),
            None => {
                a.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_the_same_in_every_table() {
        let (a, b) = (FixedState::default(), FixedState::default());
        assert_eq!(a.hash_one(42u64), b.hash_one(42u64));
    }
}
