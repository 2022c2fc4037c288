//! A worker's visits while the logs are read: the days still being read
//! in tables by user, where events fold into their visits, and the days
//! left behind closed into compact lists by user shard.
//!
//! A table of a day's users costs about twice what its visits take in a
//! [`VisitList`] (the table's slack, inline slots for visits and points
//! most user days do not fill). Logs come in time order, so a day that no
//! event touched for a while is closed: its visits move to lists, and the
//! table is freed for the days to come. An event of a closed day (a late
//! line, a file read out of order, a dump given twice) opens the day
//! again: its lists go back into a table, where the event folds into the
//! visits as if the day had never closed, so visits are held once however
//! often their events are read. Beyond the run's budget, closed lists go
//! to the spill file (the `spill` module): a day's lists of each closing
//! are then kept apart, never appended, as appending would read them back.

use super::by_day::{ByDay, by_shard};
use super::scope::StructureId;
use super::visit_list::{Visit, VisitList};
use super::visits::{DayVisits, OpenVisit, Touch};
use crate::device::Device;
use crate::hash::FastMap;
use crate::spill::Spill;
use rayon::prelude::*;
use std::sync::Arc;

/// The visits of one worker's open days: by local day, by user.
pub type VisitDays = ByDay<FastMap<u64, DayVisits>>;

/// A worker's visits: open days in tables, closed days in lists.
#[derive(Clone, Debug)]
pub struct OpenVisits {
    /// Longest gap inside a visit, ms (a visit never crosses midnight, so
    /// a `u32` holds every useful gap).
    gap_ms: u32,
    /// Open days, by piece: a worker folds into the first; merged states
    /// bring theirs, moved rather than joined.
    pieces: Vec<VisitDays>,
    /// Visits of closed days, by day: a list per user shard for each
    /// closing (merged states bring theirs, moved rather than appended,
    /// which would read spilled lists back into memory).
    closed: FastMap<i32, Vec<Vec<VisitList>>>,
    /// Where lists go once the memory they may take is spent (`None`:
    /// they stay in memory).
    spill: Option<Arc<Spill>>,
}

impl OpenVisits {
    /// No visits yet, cut at gaps over `gap_ms`.
    pub fn new(gap_ms: i64) -> OpenVisits {
        OpenVisits {
            gap_ms: gap_ms.clamp(0, i64::from(u32::MAX)) as u32,
            pieces: vec![VisitDays::default()],
            closed: FastMap::default(),
            spill: None,
        }
    }

    /// The same, its closed days and final lists going to `spill` once
    /// its budget is spent.
    pub fn spilling(self, spill: Option<Arc<Spill>>) -> OpenVisits {
        OpenVisits { spill, ..self }
    }

    /// Notes that events of `day` are read again after other days
    /// ([`DayClock::read`](super::day_clock::DayClock::read)): a closed
    /// day goes back into a table, where its events fold in as if it had
    /// never closed. The day being read is never closed.
    pub fn read_day(&mut self, day: i32) {
        if let Some(closings) = self.closed.remove(&day) {
            let users = self.pieces[0].at(day);
            for lists in &closings {
                reopen(lists, users);
            }
        }
    }

    /// Folds one event of `user`'s visits on local `day` in (see
    /// [`DayVisits::add`]).
    #[inline]
    pub fn add(
        &mut self,
        user: u64,
        day: i32,
        touch: Touch,
        device: impl FnOnce() -> Device,
        structures: impl Iterator<Item = StructureId>,
    ) {
        let visits = self.pieces[0].at(day).entry(user).or_default();
        visits.add(touch, device, structures, self.gap_ms);
    }

    /// Closes the days of `idle` (left behind, see
    /// [`DayClock`](super::day_clock::DayClock)) in the first piece.
    pub fn close_days(&mut self, idle: &[i32]) {
        let closing = self.pieces[0].take_days(|day| idle.contains(&day));
        // On this worker's thread: the other workers go on reading.
        for (day, users) in closing {
            let lists = VisitList::spill(DayVisits::deal(day, &users), self.spill.as_deref());
            self.closed.entry(day).or_default().push(lists);
        }
    }

    /// Adds the visits of `other` (its pieces and closed days are moved).
    pub fn merge(&mut self, other: OpenVisits) {
        self.pieces.extend(other.pieces);
        for (day, closings) in other.closed {
            self.closed.entry(day).or_default().extend(closings);
        }
    }

    /// Days open in the first piece (for tests).
    #[cfg(test)]
    pub(super) fn open_days(&self) -> usize {
        self.pieces[0].iter().count()
    }

    /// Days closed (for tests).
    #[cfg(test)]
    pub(super) fn closed_days(&self) -> usize {
        self.closed.len()
    }

    /// The visits of each user shard, the open days dealt into shards as
    /// closed ones were, and joined shard by shard across pieces and
    /// closings ([`VisitList::joined`]).
    pub fn into_lists(self) -> Vec<VisitList> {
        let gap_ms = i64::from(self.gap_ms);
        let days: Vec<(i32, FastMap<u64, DayVisits>)> =
            self.pieces.into_iter().flat_map(ByDay::into_days).collect();
        let by_day: Vec<Vec<VisitList>> =
            days.into_par_iter().map(|(day, users)| DayVisits::deal(day, &users)).collect();
        // The open days were many small blocks, freed: handed back before
        // the shards' lists, large and new, are made.
        crate::alloc::release_free_memory();
        let shards = by_shard(self.closed.into_values().flatten().chain(by_day));
        VisitList::join_shards(shards, gap_ms, self.spill.as_deref())
    }
}

/// Puts the visits of a closed day (`lists`, one per user shard) back
/// into its table `users`: each user's visits, sorted, as they were.
fn reopen(lists: &[VisitList], users: &mut FastMap<u64, DayVisits>) {
    for list in lists {
        for Visit { span, structures, points } in list.iter() {
            users.entry(span.user).or_default().0.push(OpenVisit {
                start: span.start(),
                end: span.end(),
                profile: span.profile(),
                device: span.device(),
                structures: structures.into(),
                points: points.into(),
            });
        }
    }
}
