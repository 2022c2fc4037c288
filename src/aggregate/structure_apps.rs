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
/// holds every school's applications: one per month, a list per
/// (structure, profile), a count per application.
#[derive(Clone, Debug, Default)]
pub struct StructureApps {
    /// The months counted, in order, each with its lists.
    months: Vec<(i32, Vec<Vec<i64>>)>,
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
            *count(&mut self.months[m].1, slot(structure, profile), app) += 1;
        }
    }

    /// The index in `months` of the month starting on `month`, added if
    /// new (which moves the months after it, so `last` is forgotten).
    fn month(&mut self, month: i32) -> usize {
        match self.months.binary_search_by_key(&month, |&(m, _)| m) {
            Ok(i) => i,
            Err(i) => {
                self.months.insert(i, (month, Vec::new()));
                self.last = None;
                i
            }
        }
    }

    /// Adds `n` events to one cell (a row read back from a run).
    pub fn add_cell(&mut self, key: StructureAppKey, n: i64) {
        let m = self.month(key.month);
        *count(&mut self.months[m].1, slot(key.structure, key.profile), key.app) += n;
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: StructureApps) {
        for (month, lists) in other.months {
            let m = self.month(month);
            for (at, apps) in lists.into_iter().enumerate() {
                for (app, n) in apps.into_iter().enumerate().filter(|&(_, n)| n != 0) {
                    *count(&mut self.months[m].1, at, app as AppId) += n;
                }
            }
        }
    }

    /// The counts as rows, sorted by structure id, month, profile and
    /// application name.
    pub fn rows(self, dims: &Dimensions) -> Vec<(StructureAppKey, i64)> {
        let mut rows = Vec::new();
        for (month, lists) in self.months {
            for (at, apps) in lists.iter().enumerate() {
                let structure = (at / PROFILES) as StructureId;
                let profile = Profile::from_code((at % PROFILES) as u8);
                for (app, &n) in apps.iter().enumerate().filter(|&(_, &n)| n > 0) {
                    let key = StructureAppKey { month, structure, profile, app: app as AppId };
                    rows.push((key, n));
                }
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

/// The count of application `app` in the list at `slot` of a month,
/// the lists grown to hold it.
#[inline]
fn count(lists: &mut Vec<Vec<i64>>, slot: usize, app: AppId) -> &mut i64 {
    if lists.len() <= slot {
        lists.resize_with(slot + 1, Vec::new);
    }
    let apps = &mut lists[slot];
    let app = app as usize;
    if apps.len() <= app {
        apps.resize(app + 1, 0);
    }
    &mut apps[app]
}
