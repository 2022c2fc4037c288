//! What a merge gathers from the tables of runs before the final stage:
//! the same partials a run folds from logs ([`Partials`]), with the names
//! of structures, segments and applications turned back into indexes.
//!
//! Each output table reads its own rows into this state (see
//! `sink::table`); small tables are read run by run into [`Gathered`],
//! partitioned ones file by file, in parallel, into [`SharedRows`].

use super::accounts::AccountRow;
use super::app_names::{AppEntry, AppId};
use super::apps::{AppPartial, AppUserRow};
use super::class_names::{ClassEntry, ClassId};
use super::classes::ClassActivity;
use super::events::EventCounts;
use super::finish::{Partials, SketchSource};
use super::hourly::HourlyCounts;
use super::key::{RowKey, SHARDS};
use super::scope::{Dimensions, SegmentId, StructureEntry, StructureId};
use super::structure_apps::StructureApps;
use super::users::UserActivityRow;
use super::visit_list::VisitList;
use crate::annuaire::Annuaire;
use crate::error::Result;
use crate::hash::FastMap;
use crate::spill::Spill;
use datasketches::hll::HllUnion;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Partials gathered from the runs read so far.
#[derive(Default)]
pub struct Gathered {
    /// Event counts by (day, scope, profile).
    pub counters: EventCounts,
    /// Connections by (day, hour, profile).
    pub hourly: HourlyCounts,
    /// The month sketches to union, by row.
    pub sketches: FastMap<RowKey, HllUnion>,
    /// Application use: `ACCESS` events by (day, profile, application)
    /// here, per-user rows from the partitions.
    pub apps: AppPartial,
    /// Names of structures, segments and applications.
    pub dims: DimsBuilder,
    /// Accounts, one row per account and structure (of every run: they
    /// are combined).
    pub accounts: Vec<AccountRow>,
    /// Application use per structure.
    pub structure_apps: StructureApps,
    /// Class facts.
    pub class_activity: ClassActivity,
    /// Accounts of classes, one row per account and class (of every run:
    /// they are combined).
    pub class_members: Vec<AccountRow>,
    /// The national directory's context of each school, as the runs
    /// wrote it.
    pub schools: Annuaire,
    /// Where visit lists go once the memory they may take is spent.
    pub spill: Option<Arc<Spill>>,
    users: Vec<Vec<UserActivityRow>>,
    /// The visits of each user shard, a list per file read.
    visits: Vec<Vec<VisitList>>,
}

impl Gathered {
    /// Reads the files of partitioned tables, each with its table's reader
    /// and month, in parallel, the rows going straight into shared shards
    /// (so that rows are held once).
    pub fn partitions(&mut self, files: &[(ReadPartition, i32, PathBuf)]) -> Result<()> {
        let dims = Mutex::new(std::mem::take(&mut self.dims));
        let shared = SharedRows {
            users: shards(),
            visits: shards(),
            apps: shards(),
            dims: &dims,
            spill: self.spill.as_deref(),
        };
        files.par_iter().try_for_each(|(read, month, file)| read(*month, file, &shared))?;
        let SharedRows { users, visits, apps, .. } = shared;
        (self.users, self.visits, self.apps.users) = (taken(users), taken(visits), taken(apps));
        self.dims = dims.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(())
    }

    /// The partials of everything read, visits joined across runs, and
    /// the names of the merged runs.
    pub fn into_partials(self, visits: bool, gap_ms: i64) -> (Partials, Dimensions) {
        let joined = VisitList::join_shards(self.visits, gap_ms, self.spill.as_deref());
        let partials = Partials {
            counters: self.counters,
            hourly: self.hourly,
            users: self.users,
            visits: visits.then_some(joined),
            sketches: SketchSource::Sketches(self.sketches),
            apps: self.apps,
            http: Vec::new(),
            accounts: self.accounts,
            structure_apps: self.structure_apps,
            classes: self.class_activity,
            class_members: self.class_members,
        };
        (partials, self.dims.finish())
    }
}

/// How a partitioned table reads one of its files: `read(month, file,
/// shards)`.
pub type ReadPartition = fn(i32, &Path, &SharedRows<'_>) -> Result<()>;

/// The shards that the tasks reading partitioned tables fill, by user.
pub struct SharedRows<'d> {
    users: Vec<Mutex<Vec<UserActivityRow>>>,
    visits: Vec<Mutex<Vec<VisitList>>>,
    apps: Vec<Mutex<Vec<AppUserRow>>>,
    dims: &'d Mutex<DimsBuilder>,
    spill: Option<&'d Spill>,
}

impl SharedRows<'_> {
    /// Moves the user activity rows of one file, by user shard, in.
    pub fn add_users(&self, rows: Vec<Vec<UserActivityRow>>) {
        give(&self.users, rows, Vec::extend);
    }

    /// Moves the visits of one file, by user shard, in: kept beside the
    /// other files' (appending would read spilled lists back), spilled
    /// once the budget is spent.
    pub fn add_visits(&self, rows: Vec<VisitList>) {
        give(&self.visits, VisitList::spill(rows, self.spill), Vec::push);
    }

    /// Moves the application use rows of one file, by user shard, in.
    pub fn add_app_users(&self, rows: Vec<Vec<AppUserRow>>) {
        give(&self.apps, rows, Vec::extend);
    }

    /// A cache of names for one reading task.
    pub fn names(&self) -> Names<'_> {
        Names { shared: self.dims, structures: FastMap::default(), apps: FastMap::default() }
    }
}

/// Empty shards that reading tasks fill.
fn shards<T: Default>() -> Vec<Mutex<T>> {
    (0..SHARDS).map(|_| Mutex::new(T::default())).collect()
}

/// The contents of shards once every task is done.
fn taken<T>(shards: Vec<Mutex<T>>) -> Vec<T> {
    shards.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// Moves the rows of each shard of `rows` into the shared shard.
fn give<T, R>(shared: &[Mutex<T>], rows: Vec<R>, put: impl Fn(&mut T, R)) {
    for (shard, rows) in shared.iter().zip(rows) {
        put(&mut shard.lock().unwrap_or_else(|e| e.into_inner()), rows);
    }
}

/// Structure and application indexes for one reading task: its own cache
/// in front of the shared table, locked only on a miss.
pub struct Names<'d> {
    shared: &'d Mutex<DimsBuilder>,
    structures: FastMap<String, StructureId>,
    apps: FastMap<String, AppId>,
}

impl<'d> Names<'d> {
    fn lock(&self) -> MutexGuard<'d, DimsBuilder> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The index of structure `id`.
    pub fn structure(&mut self, id: &str) -> StructureId {
        if let Some(&s) = self.structures.get(id) {
            return s;
        }
        let s = self.lock().structure(id, None, None, None);
        self.structures.insert(id.to_string(), s);
        s
    }

    /// The index of application `name`.
    pub fn app(&mut self, name: &str) -> AppId {
        if let Some(&a) = self.apps.get(name) {
            return a;
        }
        let a = self.lock().app(name, std::iter::empty());
        self.apps.insert(name.to_string(), a);
        a
    }
}

/// Structures, segments and applications of the merged runs, by their
/// names.
#[derive(Default)]
pub struct DimsBuilder {
    by_id: FastMap<String, StructureId>,
    structures: Vec<StructureEntry>,
    segments: Vec<String>,
    apps: Vec<AppEntry>,
    class_ids: FastMap<String, ClassId>,
    classes: Vec<ClassEntry>,
}

impl DimsBuilder {
    /// The index of class `id`, with the name and structure a row gives
    /// (`classes.parquet` gives them, the class facts and members do not).
    pub fn class(&mut self, id: &str, name: Option<&str>, structure: Option<&str>) -> ClassId {
        let c = match self.class_ids.get(id) {
            Some(&c) => c,
            None => {
                let c = self.classes.len() as ClassId;
                self.classes.push(ClassEntry { id: id.to_string(), ..ClassEntry::default() });
                self.class_ids.insert(id.to_string(), c);
                c
            }
        };
        let e = &mut self.classes[c as usize];
        if e.name.is_none() {
            e.name = name.map(str::to_string);
        }
        if e.structure.is_none() {
            e.structure = structure.map(str::to_string);
        }
        c
    }

    /// The index of application `name`, with more of its raw spellings.
    pub fn app<'a>(&mut self, name: &str, raw: impl Iterator<Item = &'a str>) -> AppId {
        let id = match self.apps.iter().position(|a| a.name == name) {
            Some(i) => i,
            None => {
                self.apps.push(AppEntry { name: name.to_string(), raw: Default::default() });
                self.apps.len() - 1
            }
        };
        self.apps[id].raw.extend(raw.map(str::to_string));
        id as AppId
    }

    /// The index of segment `name`.
    pub fn segment(&mut self, name: &str) -> SegmentId {
        match self.segments.iter().position(|s| s == name) {
            Some(i) => i as SegmentId,
            None => {
                self.segments.push(name.to_string());
                (self.segments.len() - 1) as SegmentId
            }
        }
    }

    /// The index of structure `id`, with the referential details a row
    /// gives (audience rows give them, other tables do not).
    pub fn structure(
        &mut self,
        id: &str,
        segment: Option<&str>,
        uai: Option<&str>,
        name: Option<&str>,
    ) -> StructureId {
        let segment = segment.map(|s| self.segment(s));
        let s = match self.by_id.get(id) {
            Some(&s) => s,
            None => {
                let s = self.structures.len() as StructureId;
                self.structures.push(StructureEntry {
                    id: id.to_string(),
                    segment: None,
                    uai: None,
                    name: None,
                });
                self.by_id.insert(id.to_string(), s);
                s
            }
        };
        let e = &mut self.structures[s as usize];
        e.segment = e.segment.or(segment);
        // Details are copied once, from the first row that gives them.
        if e.uai.is_none() {
            e.uai = uai.map(str::to_string);
        }
        if e.name.is_none() {
            e.name = name.map(str::to_string);
        }
        s
    }

    fn finish(self) -> Dimensions {
        Dimensions {
            structures: self.structures,
            segments: self.segments,
            apps: self.apps,
            classes: self.classes,
        }
    }
}
