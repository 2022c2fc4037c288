//! The `user_visits` table as the final stage leaves it: the joined visit
//! list of each user shard, read in the table's order (month, user key as
//! signed, start) through places (shard, visit) made a month at a time
//! when the table is written: a place per visit is no small thing to hold.

use super::visit_list::{Cursor, Visit, VisitIndex, VisitList};
use crate::time::{month_start, next_month_start};
use rayon::prelude::*;

/// The visits of `user_visits`, left where the final stage made them.
#[derive(Clone, Debug, Default)]
pub struct VisitTable {
    /// The joined visits of each user shard.
    lists: Vec<VisitList>,
    /// An index of each list, to read it in the table's order.
    indexes: Vec<VisitIndex>,
    /// The table was written while the other figures were counted, and
    /// its lists freed (the final stage's `VisitWriter`).
    written: bool,
}

impl VisitTable {
    /// The table of the joined visits of each user shard.
    pub fn new(lists: Vec<VisitList>) -> VisitTable {
        let indexes = lists.par_iter().map(VisitList::index).collect();
        VisitTable { lists, indexes, written: false }
    }

    /// The joined visits of each user shard.
    pub fn lists(&self) -> &[VisitList] {
        &self.lists
    }

    /// What is left of a table written before the others: nothing.
    pub fn written() -> VisitTable {
        VisitTable { written: true, ..VisitTable::default() }
    }

    /// True when the table was written before the others.
    pub fn is_written(&self) -> bool {
        self.written
    }

    /// The visits at `places` (in the table's order, as
    /// [`VisitTable::places`] makes them).
    pub fn visits(&self, places: &[(u32, u32)]) -> Vec<Visit<'_>> {
        let mut at = (u32::MAX, Cursor::default());
        let mut visits = Vec::with_capacity(places.len());
        for &(list, i) in places {
            if list != at.0 {
                at = (list, Cursor::default());
            }
            let l = list as usize;
            visits.push(self.indexes[l].get(&self.lists[l], i as usize, &mut at.1));
        }
        visits
    }

    /// The months of the visits, in order, with how many visits each
    /// holds.
    pub fn months(&self) -> Vec<(i32, usize)> {
        let mut months: Vec<(i32, usize)> = Vec::new();
        // Visits come by user, then day: the month changes a few times per
        // user, and is looked up only then, among the months met so far
        // (few, kept sorted).
        let mut at = (0..0, 0);
        for v in self.lists.iter().flat_map(VisitList::spans) {
            if !at.0.contains(&v.day) {
                let month = month_start(v.day);
                let i = months.binary_search_by_key(&month, |m| m.0).unwrap_or_else(|i| {
                    months.insert(i, (month, 0));
                    i
                });
                at = (month..next_month_start(v.day), i);
            }
            months[at.1].1 += 1;
        }
        months
    }

    /// The rows of `month`, which holds `count` visits, in the table's
    /// order (user key as signed, start), as the place of each visit.
    /// Made a month at a time: a place per visit of every month was the
    /// largest thing made while the table was written.
    pub fn places(&self, (month, count): (i32, usize)) -> Vec<(u32, u32)> {
        let days = month..next_month_start(month);
        let mut places = Vec::with_capacity(count);
        for (l, list) in self.in_key_order() {
            for (i, v) in list.spans().iter().enumerate() {
                if days.contains(&v.day) {
                    places.push((l, i as u32));
                }
            }
        }
        places
    }

    /// The lists in the order of their users' keys as signed numbers, with
    /// the number of each. Each list is in (user, day, start) order and lists
    /// hold consecutive ranges of keys, those with the top bit set (the
    /// negative signed keys) in the second half.
    fn in_key_order(&self) -> Vec<(u32, &VisitList)> {
        let half = self.lists.len() / 2;
        (half..self.lists.len()).chain(0..half).map(|s| (s as u32, &self.lists[s])).collect()
    }
}
