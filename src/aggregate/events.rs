//! The event-count figure: connections, access and activations by local
//! day, scope and profile, the counting columns of `audience.parquet`.
//! Counts add up, so workers, runs and merges combine by summing, and
//! weeks, months and the `All` profile are sums of day cells.

use super::by_day::ByDay;
use super::key::{CounterKey, Counts, Grain, Metrics, RowKey};
use super::scope::{ScopeKey, SegmentId, StructureId};
use crate::hash::FastMap;
use crate::parse::Profile;

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

    /// The counts summed into every grain, for each profile and `All`.
    pub fn rows(&self) -> FastMap<RowKey, Metrics> {
        let mut rows: FastMap<RowKey, Metrics> = FastMap::default();
        for (k, c) in self.cells() {
            for grain in Grain::ALL {
                for profile in [Some(k.profile), None] {
                    let key =
                        RowKey { grain, period: grain.period(k.day), scope: k.scope, profile };
                    let m = rows.entry(key).or_default();
                    m.connections += c.connections as i64;
                    m.access += c.access as i64;
                    m.activations += c.activations as i64;
                }
            }
        }
        rows
    }
}
