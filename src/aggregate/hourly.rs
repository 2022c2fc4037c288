//! The hourly figure: connections by local day, hour and profile
//! (`hourly.parquet`). Counts add up, so workers, runs and merges all
//! combine by summing.

use super::key::profile_name;
use crate::hash::{FastMap, merge_maps};
use crate::parse::Profile;

/// Connections by (local day, hour, profile): a worker's state, a run's
/// partial, and what a merge gathers from runs.
#[derive(Clone, Debug, Default)]
pub struct HourlyCounts(FastMap<(i32, u8, Profile), u64>);

/// One row of `hourly.parquet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourlyRow {
    /// Local day.
    pub day: i32,
    /// Local hour, 0-23.
    pub hour: u8,
    /// One profile, or `None` for all.
    pub profile: Option<Profile>,
    /// `LOGIN` events.
    pub connections: i64,
}

impl HourlyCounts {
    /// Counts `n` connections.
    #[inline]
    pub fn add(&mut self, day: i32, hour: u8, profile: Profile, n: u64) {
        *self.0.entry((day, hour, profile)).or_default() += n;
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, mut other: HourlyCounts) {
        merge_maps(&mut self.0, &mut other.0, |x, y| *x += y);
    }

    /// The rows, with `All`, sorted by day, hour and profile name.
    pub fn rows(&self) -> Vec<HourlyRow> {
        let mut all: FastMap<(i32, u8), i64> = FastMap::default();
        let mut rows = Vec::with_capacity(self.0.len() * 2);
        for (&(day, hour, profile), &n) in &self.0 {
            rows.push(HourlyRow { day, hour, profile: Some(profile), connections: n as i64 });
            *all.entry((day, hour)).or_default() += n as i64;
        }
        rows.extend(all.into_iter().map(|((day, hour), n)| HourlyRow {
            day,
            hour,
            profile: None,
            connections: n,
        }));
        rows.sort_unstable_by_key(|r| (r.day, r.hour, profile_name(r.profile)));
        rows
    }
}
