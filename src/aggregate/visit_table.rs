//! The `user_visits` table as the final stage leaves it: the joined visit
//! list of each user shard, read in the table's order (month, user key as
//! signed, start) through places (shard, visit) made when the table is
//! written. The order is made there, not with the other figures: it is a
//! place per visit, and the final stage's peak is no place to hold it.

use super::visits::{VisitList, VisitSpan};
use crate::time::month_start;

/// The visits of `user_visits`, left where the final stage made them.
#[derive(Clone, Debug, Default)]
pub struct VisitTable {
    /// The joined visits of each user shard.
    pub lists: Vec<VisitList>,
}

impl VisitTable {
    /// The list holding the visit at `place`, and the visit.
    pub fn get(&self, (list, i): (u32, u32)) -> (&VisitList, &VisitSpan) {
        let list = &self.lists[list as usize];
        (list, &list.spans[i as usize])
    }

    /// The table's rows in order, as the place of each visit.
    pub fn order(&self) -> Vec<(u32, u32)> {
        order(&self.lists)
    }
}

/// The places of all visits of `shards` in the order of the table.
/// Each shard is already in (user, start) order, and shards hold
/// consecutive ranges of keys, so visits are only dealt into months: a
/// counting sort, stable, in three passes.
fn order(shards: &[VisitList]) -> Vec<(u32, u32)> {
    let half = shards.len() / 2;
    // Shards of keys with the top bit set hold the negative signed keys.
    let lists: Vec<(u32, &VisitList)> =
        (half..shards.len()).chain(0..half).map(|s| (s as u32, &shards[s])).collect();
    // The month changes rarely from one visit to the next: it is looked up
    // only then, in the months met so far (few, kept sorted).
    let (mut months, mut counts): (Vec<i32>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut at = (i32::MIN, 0);
    for_each_month(&lists, |month, _, _| {
        if month != at.0 {
            let i = months.binary_search(&month).unwrap_or_else(|i| {
                months.insert(i, month);
                counts.insert(i, 0);
                i
            });
            at = (month, i);
        }
        counts[at.1] += 1;
    });
    // Where the next visit of each month goes.
    let mut slots: Vec<usize> = counts
        .iter()
        .scan(0, |next, n| {
            let slot = *next;
            *next += n;
            Some(slot)
        })
        .collect();
    let mut order = vec![(0u32, 0u32); counts.iter().sum()];
    at = (i32::MIN, 0);
    for_each_month(&lists, |month, list, i| {
        if month != at.0 {
            // Every month was counted in the first pass.
            at = (month, months.binary_search(&month).unwrap_or_default());
        }
        order[slots[at.1]] = (list, i as u32);
        slots[at.1] += 1;
    });
    order
}

/// Calls `f(month, shard, index)` for each visit of `lists`, in order.
fn for_each_month(lists: &[(u32, &VisitList)], mut f: impl FnMut(i32, u32, usize)) {
    let mut month = (i32::MIN, 0);
    for &(l, list) in lists {
        for (i, v) in list.spans.iter().enumerate() {
            if v.day != month.0 {
                month = (v.day, month_start(v.day));
            }
            f(month.1, l, i);
        }
    }
}
