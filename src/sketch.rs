//! Apache DataSketches HLL sketches of distinct users, the kind Spark's
//! `hll_sketch_agg`, Druid, Hive and Snowflake union.
//!
//! A user enters a sketch as the DataSketches hash (MurmurHash3, seed
//! 9001) of the raw id's bytes, as Spark hashes a string column; the raw
//! id itself is never kept, only its 32-bit coupon.
//!
//! Sketches are written in a canonical form so that a sketch depends only
//! on the users it holds, not on the order they came in, how the input was
//! cut between threads, or how many runs were merged: `entlog merge` then
//! writes the very bytes a single run would. A sketch still holding exact
//! coupons (list or set mode) lists them in ascending order; a dense
//! sketch (HLL_8 registers) is written with its HIP accumulator dropped, as
//! after any union, so its estimate comes from the registers alone.

use datasketches::hash::value::raw_bytes;
use datasketches::hll::{Coupon, HllSketch, HllType, HllUnion};

/// log2 of the number of registers: 4096 registers, a relative standard
/// error of about 1.6%.
pub const LG_K: u8 = 12;

/// The coupon of a raw user id.
#[inline]
pub fn coupon(raw_id: &[u8]) -> Coupon {
    Coupon::from_value(raw_bytes::from_slice(raw_id))
}

/// An empty sketch.
pub fn new_sketch() -> HllSketch {
    // LG_K is within the supported range (4 to 21).
    HllSketch::new(LG_K, HllType::Hll8).unwrap_or_else(|_| unreachable!())
}

/// An empty union.
pub fn new_union() -> HllUnion {
    HllUnion::new(LG_K).unwrap_or_else(|_| unreachable!())
}

/// Bytes 0 and 7 of a serialized HLL sketch: preamble length in 32-bit
/// words, and the mode (low two bits: 0 list, 1 set, 2 dense).
const PREAMBLE_INTS: usize = 0;
const MODE_BYTE: usize = 7;
const DENSE: u8 = 2;

/// The canonical serialization of what `union` holds.
pub fn canonical_bytes(union: &HllUnion) -> Vec<u8> {
    let sketch = union.to_sketch(HllType::Hll8);
    let mut bytes = sketch.serialize();
    if bytes[MODE_BYTE] & 3 == DENSE {
        // A union of a dense sketch with itself keeps the registers and
        // drops the history-dependent HIP accumulator.
        let mut u = new_union();
        u.update(&sketch);
        u.update(&sketch);
        return u.to_sketch(HllType::Hll8).serialize();
    }
    // Compact list and set images: the coupons follow the preamble.
    let start = usize::from(bytes[PREAMBLE_INTS]) * 4;
    let mut coupons: Vec<[u8; 4]> =
        bytes[start..].chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
    coupons.sort_unstable_by_key(|c| u32::from_le_bytes(*c));
    bytes.truncate(start);
    bytes.extend(coupons.iter().flatten());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(ids: impl Iterator<Item = u32>, parts: usize) -> Vec<u8> {
        let mut sketches: Vec<HllSketch> = (0..parts).map(|_| new_sketch()).collect();
        for (i, id) in ids.enumerate() {
            sketches[i % parts].update_with_coupon(coupon(format!("user-{id}").as_bytes()));
        }
        let mut u = new_union();
        for s in &sketches {
            u.update(s);
        }
        canonical_bytes(&u)
    }

    #[test]
    fn the_bytes_depend_only_on_the_users() {
        // List, set and dense modes.
        for n in [5u32, 300, 50_000] {
            let one = canonical(0..n, 1);
            assert_eq!(canonical((0..n).rev(), 1), one, "{n} users reversed");
            assert_eq!(canonical((0..n).chain(0..n / 2), 3), one, "{n} users in 3 parts");
            let back = HllSketch::deserialize(&one).unwrap();
            let err = (back.estimate() - f64::from(n)).abs() / f64::from(n);
            assert!(err < 0.05, "{n} users estimated {}", back.estimate());
        }
    }

    #[test]
    fn a_merged_sketch_is_the_sketch_of_the_union() {
        let whole = canonical(0..20_000, 1);
        let mut u = new_union();
        for part in [canonical(0..12_000, 2), canonical(8_000..20_000, 1)] {
            u.update(&HllSketch::deserialize(&part).unwrap());
        }
        assert_eq!(canonical_bytes(&u), whole);
        // A list-mode part into a dense one.
        let mut u = new_union();
        for part in [canonical(0..19_997, 1), canonical(19_997..20_000, 1)] {
            u.update(&HllSketch::deserialize(&part).unwrap());
        }
        assert_eq!(canonical_bytes(&u), whole);
    }
}
