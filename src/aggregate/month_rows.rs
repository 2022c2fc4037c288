//! Per-user month rows of the days a worker has closed.
//!
//! A user's facts of one day are kept in hash tables while the day is
//! read (see [`ByDay`](super::by_day::ByDay)); once the day is left
//! behind (see [`DayClock`](super::day_clock::DayClock)) they become the
//! rows the final stage works from, one per user, month and key, with the
//! days as a bit set. A month row holds what up to 31 day facts held, in
//! no hash table's slack, so the heap of a long dump grows with its
//! user-months rather than its user-days.

use super::key::{SHARDS, combine_rows};
use rayon::prelude::*;
use std::cmp::Ordering;

/// Rows that add up by key.
pub trait Combine: Sized {
    /// What rows are sorted and combined by, user first.
    type Key: Ord;

    /// The row's key.
    fn key(&self) -> Self::Key;

    /// Adds `other`, a row of the same key, to this row.
    fn fold(&mut self, other: &Self);

    /// Sorts `rows` by key and combines the rows of equal keys.
    fn combine(rows: Vec<Self>) -> Vec<Self> {
        combine_rows(rows, Self::key, Self::fold)
    }
}

/// A shard is combined again once its rows reach a quarter more than
/// they were after the last combining, plus this many: a dump read twice
/// holds its rows once, and the combined rows are only merged with the
/// new ones, not sorted again.
const SLACK_ROWS: usize = 256;

/// How many rows a shard of `combined` rows takes before it is combined
/// again.
fn threshold(combined: usize) -> usize {
    combined + combined / 4 + SLACK_ROWS
}

/// Rows by user shard, combined as they come.
#[derive(Clone, Debug)]
pub struct MonthRows<R> {
    /// The rows of each shard, the first ones combined.
    shards: Vec<Vec<R>>,
    /// How many rows of each shard were left by the last combining.
    combined: Vec<usize>,
}

impl<R> Default for MonthRows<R> {
    fn default() -> Self {
        MonthRows { shards: (0..SHARDS).map(|_| Vec::new()).collect(), combined: vec![0; SHARDS] }
    }
}

impl<R: Combine> MonthRows<R> {
    /// Adds rows dealt into the user shards (one `Vec` per shard).
    pub fn add(&mut self, dealt: Vec<Vec<R>>) {
        for ((rows, combined), new) in self.shards.iter_mut().zip(&mut self.combined).zip(dealt) {
            rows.extend(new);
            if rows.len() >= threshold(*combined) {
                *rows = combined_with_rest(std::mem::take(rows), *combined);
                *combined = rows.len();
                // Room for the rows to come, and no more: a `Vec` grown by
                // doubling would hold up to twice its rows.
                rows.reserve_exact(threshold(*combined) - rows.len());
            }
        }
    }

    /// Adds the rows of `other`, combined later.
    pub fn merge(&mut self, other: MonthRows<R>) {
        for (rows, theirs) in self.shards.iter_mut().zip(other.shards) {
            append(rows, theirs);
        }
    }
}

impl<R: Combine + Send> MonthRows<R> {
    /// The rows of each shard with those of `open` (one `Vec` per shard),
    /// combined and sorted by key, shards in parallel.
    pub fn into_shards_with(self, open: Vec<Vec<R>>) -> Vec<Vec<R>> {
        (self.shards, self.combined, open)
            .into_par_iter()
            .map(|(mut rows, combined, more)| {
                append(&mut rows, more);
                combined_with_rest(rows, combined)
            })
            .collect()
    }
}

/// Moves `more` to the end of `rows` (taking it whole when `rows` is
/// empty, rather than copying it).
fn append<R>(rows: &mut Vec<R>, more: Vec<R>) {
    if rows.is_empty() {
        *rows = more;
    } else {
        rows.extend(more);
    }
}

/// `rows` combined, the first `combined` of them being combined already:
/// the rest is combined and merged in.
fn combined_with_rest<R: Combine>(mut rows: Vec<R>, combined: usize) -> Vec<R> {
    let rest = R::combine(rows.split_off(combined));
    if rows.is_empty() {
        return rest;
    }
    let mut out = Vec::with_capacity(rows.len() + rest.len());
    let (mut a, mut b) = (rows.into_iter().peekable(), rest.into_iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        match x.key().cmp(&y.key()) {
            Ordering::Less => out.extend(a.next()),
            Ordering::Greater => out.extend(b.next()),
            Ordering::Equal => {
                if let (Some(mut x), Some(y)) = (a.next(), b.next()) {
                    x.fold(&y);
                    out.push(x);
                }
            }
        }
    }
    out.extend(a);
    out.extend(b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A (key, count) row.
    impl Combine for (u32, u32) {
        type Key = u32;

        fn key(&self) -> u32 {
            self.0
        }

        fn fold(&mut self, other: &Self) {
            self.1 += other.1;
        }
    }

    fn one_shard(rows: Vec<(u32, u32)>) -> Vec<Vec<(u32, u32)>> {
        let mut dealt = vec![Vec::new(); SHARDS];
        dealt[3] = rows;
        dealt
    }

    #[test]
    fn rows_read_many_times_are_held_once_and_add_up() {
        let mut m: MonthRows<(u32, u32)> = MonthRows::default();
        let keys = 1000;
        for _ in 0..50 {
            m.add(one_shard((0..keys).map(|k| (k, 1)).collect()));
        }
        let held = m.shards[3].capacity();
        assert!(held <= threshold(keys as usize) + keys as usize, "held {held}");
        let mut open = vec![Vec::new(); SHARDS];
        open[3] = vec![(keys + 1, 7), (5, 1)];
        let shards = m.into_shards_with(open);
        let mut expected: Vec<(u32, u32)> = (0..keys).map(|k| (k, 50)).collect();
        expected[5].1 += 1;
        expected.push((keys + 1, 7));
        assert_eq!(shards[3], expected);
        assert!(shards.iter().enumerate().all(|(i, s)| i == 3 || s.is_empty()));
    }
}
