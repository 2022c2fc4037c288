//! Application use per structure: `ACCESS` events by month, structure,
//! profile and application, what the statistics module of Open Digital
//! Education exports per school ("Nombre d'accès"). Counts add up, so
//! workers, runs and merges combine by summing.

use super::app_names::AppId;
use super::scope::{Dimensions, SegmentId, StructureId};
use crate::parse::Profile;
use crate::time::month_start;

/// Key of a count: a month (its first day), a structure, a profile and an
/// application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructureAppKey {
    /// First day of the month.
    pub month: i32,
    /// The structure the event names.
    pub structure: StructureId,
    /// The event's profile.
    pub profile: Profile,
    /// The application opened.
    pub app: AppId,
}

/// `ACCESS` events by (month, structure, profile, application).
///
/// Structures, profiles and applications are small dense numbers, so a
/// count is found by indexing, not by hashing a key into a table that
/// holds every school's applications: one table per month, a row per
/// (structure, profile), a count per application.
#[derive(Clone, Debug, Default)]
pub struct StructureApps {
    /// The months counted, in order, each with its table.
    months: Vec<(i32, MonthCounts)>,
    /// The last day counted and its month's index in `months`: logs come
    /// in time order, and the calendar arithmetic and the search are then
    /// done once a day, not once an event.
    last: Option<(i32, usize)>,
}

/// Profiles per structure in a month's lists.
const PROFILES: usize = Profile::ALL.len();

/// Where the counts of `structure` and `profile` are in a month's lists.
fn slot(structure: StructureId, profile: Profile) -> usize {
    structure as usize * PROFILES + usize::from(profile.code())
}

impl StructureApps {
    /// Counts one `ACCESS` event of local day `day` in each structure it
    /// names (events without a structure belong to no school).
    #[inline]
    pub fn add(
        &mut self,
        day: i32,
        profile: Profile,
        structures: &[(StructureId, Option<SegmentId>)],
        app: AppId,
    ) {
        if structures.is_empty() {
            return;
        }
        let m = match self.last {
            Some((d, m)) if d == day => m,
            _ => {
                let m = self.month(month_start(day));
                self.last = Some((day, m));
                m
            }
        };
        for &(structure, _) in structures {
            *self.months[m].1.count(slot(structure, profile), app) += 1;
        }
    }

    /// The index in `months` of the month starting on `month`, added if
    /// new (which moves the months after it, so `last` is forgotten).
    fn month(&mut self, month: i32) -> usize {
        match self.months.binary_search_by_key(&month, |&(m, _)| m) {
            Ok(i) => i,
            Err(i) => {
                self.months.insert(i, (month, MonthCounts::default()));
                self.last = None;
                i
            }
        }
    }

    /// Adds `n` events to one cell (a row read back from a run).
    pub fn add_cell(&mut self, key: StructureAppKey, n: i64) {
        let m = self.month(key.month);
        *self.months[m].1.count(slot(key.structure, key.profile), key.app) += n;
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: StructureApps) {
        for (month, table) in other.months {
            let m = self.month(month);
            for (at, app, n) in table.counts().filter(|&(.., n)| n != 0) {
                *self.months[m].1.count(at, app) += n;
            }
        }
    }

    /// The counts as rows, sorted by structure id, month, profile and
    /// application name.
    pub fn rows(self, dims: &Dimensions) -> Vec<(StructureAppKey, i64)> {
        let mut rows = Vec::new();
        for (month, table) in self.months {
            for (at, app, n) in table.counts().filter(|&(.., n)| n > 0) {
                let structure = (at / PROFILES) as StructureId;
                let profile = Profile::from_code((at % PROFILES) as u8);
                rows.push((StructureAppKey { month, structure, profile, app }, n));
            }
        }
        let text = |k: &StructureAppKey| {
            let structure = dims.structures[k.structure as usize].id.as_str();
            (structure, k.month, k.profile.name(), dims.apps[k.app as usize].name.as_str())
        };
        rows.sort_unstable_by(|a, b| text(&a.0).cmp(&text(&b.0)));
        rows
    }
}

/// One month's counts: a row per (structure, profile) slot, a count per
/// application, all in one block. A list per slot cost two cache misses
/// per event (the list, then its counts); the block costs one.
#[derive(Clone, Debug)]
struct MonthCounts {
    /// Counts per row: the applications known when the block was last
    /// widened, and more room (a row widens rarely, as new applications
    /// are seen).
    width: usize,
    /// The rows of slots 0, 1, ..., as far as the last slot counted.
    counts: Vec<i64>,
}

/// The width of a month's first rows.
const FIRST_WIDTH: usize = 16;

impl Default for MonthCounts {
    fn default() -> Self {
        MonthCounts { width: FIRST_WIDTH, counts: Vec::new() }
    }
}

impl MonthCounts {
    /// The count of application `app` in the row of `slot`, the block
    /// widened and grown to hold it.
    #[inline]
    fn count(&mut self, slot: usize, app: AppId) -> &mut i64 {
        let app = app as usize;
        if app >= self.width {
            self.widen(app + 1);
        }
        let i = slot * self.width + app;
        if i >= self.counts.len() {
            self.counts.resize((slot + 1) * self.width, 0);
        }
        &mut self.counts[i]
    }

    /// Rows of room for `apps` applications at least, the counts moved.
    #[cold]
    fn widen(&mut self, apps: usize) {
        let width = apps.next_power_of_two();
        let mut counts = vec![0; self.counts.len() / self.width * width];
        for (new, old) in counts.chunks_exact_mut(width).zip(self.counts.chunks_exact(self.width)) {
            new[..self.width].copy_from_slice(old);
        }
        (self.width, self.counts) = (width, counts);
    }

    /// Every (slot, application, count), zeros included.
    fn counts(&self) -> impl Iterator<Item = (usize, AppId, i64)> + '_ {
        let width = self.width;
        self.counts.iter().enumerate().map(move |(i, &n)| (i / width, (i % width) as AppId, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::app_names::AppEntry;
    use crate::aggregate::scope::StructureEntry;
    use crate::time::days_from_civil;
    use std::collections::BTreeMap;

    /// `n` structures and `n` applications, named in order.
    fn dims(n: u32) -> Dimensions {
        let name = |i: u32| format!("{i:03}");
        let structure = |i| StructureEntry { id: name(i), segment: None, uai: None, name: None };
        Dimensions {
            structures: (0..n).map(structure).collect(),
            segments: vec![],
            apps: (0..n).map(|i| AppEntry { name: name(i), raw: Default::default() }).collect(),
            classes: vec![],
        }
    }

    #[test]
    fn counts_survive_new_applications_structures_and_merges() {
        let march = days_from_civil(2020, 3, 1);
        let mut want: BTreeMap<(StructureId, i32, &str, AppId), i64> = BTreeMap::new();
        let mut halves = [StructureApps::default(), StructureApps::default()];
        // Applications and structures seen late (beyond the first widths),
        // months out of order, one event naming two structures.
        for i in 0..2000u32 {
            let (app, structure) = ((i * 7) % 40, (i * 13) % 50);
            let day = if i % 3 == 0 { march + 40 } else { march + (i % 20) as i32 };
            let profile = Profile::ALL[(i % 4) as usize];
            let structures = [(structure, None), ((structure + 1) % 50, None)];
            let named = if i % 5 == 0 { &structures[..] } else { &structures[..1] };
            halves[(i % 2) as usize].add(day, profile, named, app as AppId);
            for &(s, _) in named {
                *want.entry((s, month_start(day), profile.name(), app as AppId)).or_default() += 1;
            }
        }
        let [mut a, b] = halves;
        a.merge(b);
        let key =
            StructureAppKey { month: march, structure: 49, profile: Profile::Teacher, app: 63 };
        a.add_cell(key, 5);
        want.insert((49, march, Profile::Teacher.name(), 63), 5);
        let rows = a.rows(&dims(64));
        let got: Vec<_> = rows
            .iter()
            .map(|(k, n)| ((k.structure, k.month, k.profile.name(), k.app), *n))
            .collect();
        // Rows come sorted by structure id, month, profile and application.
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
    }
}
