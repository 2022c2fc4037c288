//! Application use per structure: `ACCESS` events by month, structure,
//! profile and application, what the statistics module of Open Digital
//! Education exports per school ("Nombre d'accès"). Counts add up, so
//! workers, runs and merges combine by summing.

use super::app_names::AppId;
use super::scope::{Dimensions, SegmentId, StructureId};
use crate::hash::{FastMap, merge_maps};
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
#[derive(Clone, Debug, Default)]
pub struct StructureApps {
    cells: FastMap<StructureAppKey, i64>,
    /// The last day counted and its month: logs come in time order, and
    /// the calendar arithmetic is then done once a day, not once an event.
    last: Option<(i32, i32)>,
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
        let month = match self.last {
            Some((d, m)) if d == day => m,
            _ => {
                let m = month_start(day);
                self.last = Some((day, m));
                m
            }
        };
        for &(structure, _) in structures {
            *self.cells.entry(StructureAppKey { month, structure, profile, app }).or_default() += 1;
        }
    }

    /// Adds `n` events to one cell (a row read back from a run).
    pub fn add_cell(&mut self, key: StructureAppKey, n: i64) {
        *self.cells.entry(key).or_default() += n;
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, mut other: StructureApps) {
        merge_maps(&mut self.cells, &mut other.cells, |x, y| *x += y);
    }

    /// The counts as rows, sorted by structure id, month, profile and
    /// application name.
    pub fn rows(self, dims: &Dimensions) -> Vec<(StructureAppKey, i64)> {
        let mut rows: Vec<_> = self.cells.into_iter().filter(|&(_, n)| n > 0).collect();
        let text = |k: &StructureAppKey| {
            let structure = dims.structures[k.structure as usize].id.as_str();
            (structure, k.month, k.profile.name(), dims.apps[k.app as usize].name.as_str())
        };
        rows.sort_unstable_by(|a, b| text(&a.0).cmp(&text(&b.0)));
        rows
    }
}
