//! Tables by local day, the day last used kept at hand.
//!
//! Logs come in time order, so the day being read has small tables that
//! stay in the processor's cache, where one table of every day (or one
//! sharded by user) would miss it on most lookups.

use super::key::{SHARDS, concat_moved};
use crate::hash::{FastMap, merge_maps};
use rayon::prelude::*;
use std::hash::Hash;

/// Values by local day.
#[derive(Clone, Debug, Default)]
pub struct ByDay<T> {
    index: FastMap<i32, usize>,
    days: Vec<(i32, T)>,
    /// The day last used and its index in `days`.
    last: Option<(i32, usize)>,
}

impl<T: Default> ByDay<T> {
    /// The value of `day`, added empty on first use.
    #[inline]
    pub fn at(&mut self, day: i32) -> &mut T {
        let i = match self.last {
            Some((d, i)) if d == day => i,
            _ => {
                let i = self.slot(day);
                self.last = Some((day, i));
                i
            }
        };
        &mut self.days[i].1
    }

    fn slot(&mut self, day: i32) -> usize {
        let days = &mut self.days;
        *self.index.entry(day).or_insert_with(|| {
            days.push((day, T::default()));
            days.len() - 1
        })
    }

    /// Removes the days for which `take` holds, and returns them with
    /// their values.
    pub fn take_days(&mut self, mut take: impl FnMut(i32) -> bool) -> Vec<(i32, T)> {
        if !self.days.iter().any(|&(d, _)| take(d)) {
            return Vec::new();
        }
        let (taken, kept) = std::mem::take(&mut self.days).into_iter().partition(|&(d, _)| take(d));
        self.days = kept;
        self.index = self.days.iter().enumerate().map(|(i, &(d, _))| (d, i)).collect();
        self.last = None;
        taken
    }

    /// Whether no day was used.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The days and their values, in the order days were first used.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &T)> {
        self.days.iter().map(|(d, v)| (*d, v))
    }

    /// The days and their values, mutable, in the order days were first
    /// used.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (i32, &mut T)> {
        self.days.iter_mut().map(|(d, v)| (*d, v))
    }

    /// The days and their values, in the order days were first used.
    pub fn into_days(self) -> impl Iterator<Item = (i32, T)> {
        self.days.into_iter()
    }

    /// The values, in the order days were first used.
    pub fn into_values(self) -> impl Iterator<Item = T> {
        self.days.into_iter().map(|(_, v)| v)
    }
}

impl<K: Sync, V: Sync> ByDay<FastMap<K, V>> {
    /// The entries of every day made into rows by `row` and dealt into
    /// the user shards by `shard`, days in parallel: the final stage
    /// works shard by shard, the scan day by day.
    pub fn deal<R: Send>(
        self,
        shard: impl Fn(&K) -> usize + Sync,
        row: impl Fn(&K, &V) -> R + Sync,
    ) -> Vec<Vec<R>>
    where
        FastMap<K, V>: Send,
    {
        let days: Vec<FastMap<K, V>> = self.into_values().collect();
        let by_day: Vec<Vec<Vec<R>>> =
            days.into_par_iter().map(|day| deal_day(&day, &shard, &row)).collect();
        by_shard(by_day).into_par_iter().map(concat_moved).collect()
    }
}

/// The entries of one day's table made into rows by `row` and dealt into
/// the user shards by `shard`.
pub fn deal_day<K, V, R>(
    day: &FastMap<K, V>,
    shard: impl Fn(&K) -> usize,
    row: impl Fn(&K, &V) -> R,
) -> Vec<Vec<R>> {
    let mut shards: Vec<Vec<R>> = (0..SHARDS).map(|_| Vec::new()).collect();
    for (k, v) in day {
        shards[shard(k)].push(row(k, v));
    }
    shards
}

impl<K: Eq + Hash + Send, V: Send> ByDay<FastMap<K, V>> {
    /// Adds the tables of `o` day by day, days in parallel, `combine`
    /// adding the value of a key both hold.
    pub fn merge_tables(&mut self, o: Self, combine: impl Fn(&mut V, V) + Sync) {
        self.merge(o, |mine, mut theirs| merge_maps(mine, &mut theirs, &combine));
    }
}

impl<T: Sync> ByDay<T> {
    /// The values, in parallel.
    pub fn par_values(&self) -> impl ParallelIterator<Item = &T> {
        self.days.par_iter().map(|(_, v)| v)
    }
}

/// What each day dealt into the user shards (one `Vec` of pieces per day,
/// a piece per shard), moved into one `Vec` of pieces per shard, in the
/// order of the days.
pub fn by_shard<T>(days: impl IntoIterator<Item = Vec<T>>) -> Vec<Vec<T>> {
    let mut shards: Vec<Vec<T>> = (0..SHARDS).map(|_| Vec::new()).collect();
    for day in days {
        for (s, piece) in day.into_iter().enumerate() {
            shards[s].push(piece);
        }
    }
    shards
}

impl<T: Default + Send> ByDay<T> {
    /// Adds `o`'s values day by day with `add`, days in parallel.
    pub fn merge(&mut self, o: ByDay<T>, add: impl Fn(&mut T, T) + Sync) {
        let mut theirs: FastMap<i32, T> = o.days.into_iter().collect();
        let pairs: Vec<(&mut T, T)> = self
            .days
            .iter_mut()
            .filter_map(|(day, mine)| theirs.remove(day).map(|t| (mine, t)))
            .collect();
        pairs.into_par_iter().for_each(|(mine, t)| add(mine, t));
        for (day, t) in theirs {
            let i = self.slot(day);
            self.days[i].1 = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_common_days_and_takes_the_others() {
        let mut a: ByDay<u32> = ByDay::default();
        let mut b: ByDay<u32> = ByDay::default();
        *a.at(3) += 1;
        *a.at(1) += 2;
        *b.at(1) += 10;
        *b.at(7) += 20;
        a.merge(b, |x, y| *x += y);
        *a.at(7) += 1;
        let mut days: Vec<(i32, u32)> = a.iter().map(|(d, &v)| (d, v)).collect();
        days.sort();
        assert_eq!(days, [(1, 12), (3, 1), (7, 21)]);
    }
}
