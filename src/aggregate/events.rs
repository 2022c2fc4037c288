//! The event-count figure: connections, access and activations by local
//! day, scope and profile, the counting columns of `audience.parquet`.
//! Counts add up, so workers, runs and merges combine by summing, and
//! weeks, months and the `All` profile are sums of day cells.

use super::by_day::ByDay;
use super::grid::Layout;
use super::key::{CounterKey, Counts};
use super::scope::{ScopeKey, SegmentId, StructureId};
use crate::hash::FastMap;
use crate::parse::Profile;
use crate::time::month_start;
use std::ops::AddAssign;

/// Event counts by (local day, scope, profile): a worker's state, a run's
/// partial, and what a merge gathers from runs. One table per day (see
/// [`ByDay`]): an event counts in three cells or more, and the day being
/// read has a table small enough to stay in cache.
#[derive(Clone, Debug, Default)]
pub struct EventCounts(ByDay<FastMap<CounterKey, Counts>>);

impl EventCounts {
    /// Counts one event of `day` and `profile` once at platform level,
    /// once per structure it names and once per distinct segment of those.
    #[inline]
    pub fn add(
        &mut self,
        day: i32,
        profile: Profile,
        structures: &[(StructureId, Option<SegmentId>)],
        delta: Counts,
    ) {
        let cells = self.0.at(day);
        let mut count = |scope| {
            *cells.entry(CounterKey { day, scope, profile }).or_default() += delta;
        };
        count(ScopeKey::PLATFORM);
        for (i, &(s, seg)) in structures.iter().enumerate() {
            count(ScopeKey::structure(s));
            // Once per distinct segment: skip a segment already counted
            // for an earlier structure of this event.
            if let Some(seg) = seg
                && !structures[..i].iter().any(|&(_, g)| g == Some(seg))
            {
                count(ScopeKey::segment(seg));
            }
        }
    }

    /// Adds the counts of one cell (a day row read back from a run); a
    /// row of no event (its other figures only, such as accounts) makes
    /// no cell, as in the run that wrote it.
    pub fn add_cell(&mut self, key: CounterKey, counts: Counts) {
        if counts != Counts::default() {
            *self.0.at(key.day).entry(key).or_default() += counts;
        }
    }

    /// The cells counted so far.
    pub(super) fn cells(&self) -> impl Iterator<Item = (&CounterKey, &Counts)> {
        self.0.iter().flat_map(|(_, cells)| cells.iter())
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: EventCounts) {
        self.0.merge_tables(other.0, |x, y| *x += y);
    }

    /// The first days of the months of the counted days: the months an
    /// audience layout must hold for [`EventCounts::grid`].
    pub fn months(&self) -> impl Iterator<Item = i32> + '_ {
        self.0.iter().map(|(day, _)| month_start(day))
    }

    /// The counts of every cell of `layout` (whose months hold those of
    /// [`EventCounts::months`]), summed into weeks, months and `All`, and
    /// which cells were counted at all: a counted cell is a row of the
    /// audience table, whatever its counts.
    pub fn grid(&self, layout: &Layout) -> (Vec<Counts>, Vec<Counted>) {
        let mut counts = vec![Counts::default(); layout.len()];
        let mut counted = vec![Counted::default(); layout.len()];
        for (k, c) in self.cells() {
            // Never skipped: the layout holds the months of every day.
            let Some([day, ..]) = layout.periods_of(k.day) else { continue };
            let i = layout.cell(day, k.scope, Some(k.profile));
            counts[i] += *c;
            counted[i] = Counted(1);
        }
        layout.roll_up(&mut counts);
        layout.roll_up(&mut counted);
        (counts, counted)
    }
}

/// How many counted (day, profile) cells a cell of the audience layout
/// sums: a cell is counted when this is not zero. At most 31 days of six
/// profiles, a month's `All`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted(pub u16);

impl AddAssign for Counted {
    fn add_assign(&mut self, other: Counted) {
        self.0 += other.0;
    }
}
