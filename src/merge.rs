//! `entlog merge`: runs over disjoint shards of the logs (files, days, or
//! lines cut anywhere) into exactly the outputs of one run over all of
//! them, from the runs' tables alone.
//!
//! What each table adds up from:
//! - event counts (connections, access, activations, hourly connections)
//!   are sums, so the runs' day rows per profile are added;
//! - distinct visitors are recounted from the `user_activity` rows of all
//!   runs, rows of the same (month, user, profile, structure) combined by
//!   joining their day sets;
//! - visits are rebuilt from `user_visits`: the visits of one user and day
//!   from different runs join where they overlap or lie within the visit
//!   gap, then durations, histograms and the national export are counted
//!   again;
//! - application use adds up like events (access from the day rows of
//!   `modules.parquet`) and like users (`user_modules` rows);
//! - the HLL sketches of month rows are unioned.
//!
//! `http.parquet` counts distinct client addresses, which no partial table
//! keeps: it is merged only when every run's is empty, and otherwise left
//! out of the merged output (said on stderr and in `run.json`).

use crate::aggregate::app_names::{AppEntry, AppId};
use crate::aggregate::apps::{AppCounters, AppUserRow};
use crate::aggregate::finish::{Partials, Settings, SketchSource, finish_partials};
use crate::aggregate::key::{Grain, RowKey};
use crate::aggregate::scope::{
    Dimensions, NO_STRUCTURE, ScopeKey, SegmentId, StructureEntry, StructureId,
};
use crate::aggregate::users::UserActivityRow;
use crate::aggregate::visits::{VisitList, VisitSpan};
use crate::aggregate::{CounterKey, Counts, SHARDS, user_shard};
use crate::analyze::{Analysis, RUN_JSON, run_report, write_summary, write_tables};
use crate::error::{Error, Result};
use crate::hash::FastMap;
use crate::parse::Profile;
use crate::sink::outdir::Staging;
use crate::sink::run_json::{self, Phases, StoredRun};
use crate::sketch;
use crate::stored::{batches, column, dates, ints, strings};
use crate::time::{LocalDays, parse_day};
use arrow_array::{Array, BinaryArray, ListArray, StringArray, TimestampMicrosecondArray};
use datasketches::hll::HllSketch;
use jiff::tz::TimeZone;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The tables that count distinct clients no partial table keeps.
const UNMERGEABLE: [&str; 1] = ["http.parquet"];

/// Reads the runs in `runs`, merges them and writes the outputs into
/// `out`. Fails if the runs were made with different time zones, visit
/// gaps or salts, if two of them read the same input, or if a table
/// cannot be read.
pub fn merge(runs: &[PathBuf], out: &Path) -> Result<Analysis> {
    let start = Instant::now();
    let stored =
        runs.iter().map(|r| run_json::read(&r.join(RUN_JSON))).collect::<Result<Vec<_>>>()?;
    let options = check_runs(runs, &stored)?;
    let tz = TimeZone::get(&options.tz)
        .map_err(|e| Error::usage(format!("unknown time zone {:?}: {e}", options.tz)))?;
    let mut reader = Reader::default();
    let mut omit = Vec::new();
    // Runs of entlog versions before user_modules cannot give the
    // distinct users of applications.
    let modules = runs.iter().all(|r| r.join("user_modules").is_dir());
    if !modules {
        eprintln!("entlog merge: modules.parquet is left out: some runs have no user_modules/");
        omit.extend(["modules.parquet", "user_modules"]);
    }
    for run in runs {
        reader.run(run, modules)?;
    }
    reader.partitions(runs, modules)?;
    for table in UNMERGEABLE {
        // A run may lack the table: a merge that left it out.
        let mut rows = 0;
        for run in runs {
            let path = run.join(table);
            rows += if path.exists() { row_count(&path)? } else { 1 };
        }
        if rows > 0 {
            eprintln!(
                "entlog merge: {table} is left out: its distinct counts cannot be rebuilt \
                 from the runs' tables"
            );
            omit.push(table);
        }
    }
    let read = start.elapsed().as_secs_f64();
    let settings = Settings { days: LocalDays::new(tz), visit_gap_ms: options.visit_gap_ms };
    let (partials, dims) = reader.into_partials(options.visits, options.visit_gap_ms);
    let tables = finish_partials(partials, dims, &settings);
    let finished = start.elapsed().as_secs_f64();
    let staging = Staging::new(out)?;
    let mut outputs = write_tables(staging.path(), &tables, &omit)?;
    write_summary(staging.path(), &tables, &options.tz, &mut outputs)?;
    let wall = start.elapsed().as_secs_f64();
    let phases = Phases { scan: read, finish: finished - read, write: wall - finished };
    let inputs = stored.into_iter().flat_map(|s| s.inputs).collect();
    let mut report = run_report(options, inputs, outputs, wall, phases);
    report.merged_runs = runs.iter().map(|r| r.display().to_string()).collect();
    report.options.threads = rayon::current_num_threads();
    run_json::write(&staging.path().join(RUN_JSON), &report)?;
    staging.commit(out)?;
    Ok(Analysis { tables, report })
}

/// The options of the runs, which must agree on everything that shapes
/// the figures; fails too if two runs read the same input.
fn check_runs(runs: &[PathBuf], stored: &[StoredRun]) -> Result<run_json::RunOptions> {
    let first = stored.first().ok_or_else(|| Error::usage("merge needs at least one run"))?;
    let o = &first.options;
    for (run, s) in runs.iter().zip(stored).skip(1) {
        let p = &s.options;
        let differs = [
            ("time zone", o.tz != p.tz),
            ("visit gap", o.visit_gap_ms != p.visit_gap_ms),
            ("--no-visits", o.visits != p.visits),
            ("salt", o.salt_fingerprint != p.salt_fingerprint),
            ("referential", o.referential_fingerprint != p.referential_fingerprint),
        ];
        if let Some((what, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(Error::usage(format!(
                "{} and {} were made with a different {what}: their tables cannot be merged",
                runs[0].display(),
                run.display()
            )));
        }
    }
    // Shards must be disjoint: the same run, or the same input read by two
    // runs (the same content, under any name), would be counted twice.
    let mut seen: FastMap<String, (&Path, &str)> = FastMap::default();
    for (run, s) in runs.iter().zip(stored) {
        for i in s.inputs.iter().filter(|i| i.error.is_none()) {
            let id = match &i.fingerprint {
                Some(f) => f.clone(),
                None => format!("{}:{}:{}", i.path, i.bytes, i.lines),
            };
            if let Some((other, path)) = seen.insert(id, (run, &i.path)) {
                return Err(Error::usage(format!(
                    "{} read {path} and {} read {}, the same content ({} lines): runs must be \
                     over disjoint shards",
                    other.display(),
                    run.display(),
                    i.path,
                    i.lines
                )));
            }
        }
    }
    Ok(o.clone())
}

/// Row `i` of a nullable string column.
fn text(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// Rows of a Parquet file.
fn row_count(path: &Path) -> Result<usize> {
    Ok(batches(path)?.iter().map(|b| b.num_rows()).sum())
}

/// Partials gathered from the runs read so far.
#[derive(Default)]
struct Reader {
    counters: FastMap<CounterKey, Counts>,
    hourly: FastMap<(i32, u8, Profile), u64>,
    users: Vec<Vec<UserActivityRow>>,
    visits: Vec<VisitList>,
    sketches: FastMap<RowKey, datasketches::hll::HllUnion>,
    app_counters: AppCounters,
    app_users: Vec<Vec<AppUserRow>>,
    dims: DimsBuilder,
}

impl Reader {
    /// Reads the tables of one run.
    /// Reads the small tables of one run: event counts and the names of
    /// structures and applications.
    fn run(&mut self, dir: &Path, modules: bool) -> Result<()> {
        self.audience(&dir.join("audience.parquet"))?;
        self.hourly(&dir.join("hourly.parquet"))?;
        if modules {
            self.modules(&dir.join("modules.parquet"))?;
        }
        Ok(())
    }

    /// Reads the partitioned tables of every run, one file per task.
    fn partitions(&mut self, runs: &[PathBuf], modules: bool) -> Result<()> {
        let mut files = Vec::new();
        for run in runs {
            let tables = [("user_activity", 0), ("user_visits", 1), ("user_modules", 2)];
            for (table, kind) in &tables[..if modules { 3 } else { 2 }] {
                files.extend(partitions(&run.join(table))?.into_iter().map(|(m, p)| (*kind, m, p)));
            }
        }
        let dims = Mutex::new(std::mem::take(&mut self.dims));
        // Each task moves its rows into the shared shards as soon as its
        // file is read, so that rows are held once.
        let (users, visits, apps) = (shared_shards(), shared_shards(), shared_shards());
        files.par_iter().try_for_each(|(kind, month, path)| {
            let mut names = Names::new(&dims);
            match kind {
                0 => give(&users, user_activity(*month, path, &mut names)?, Vec::extend),
                1 => give(&visits, user_visits(path, &mut names)?, |a, b| a.append(b)),
                _ => give(&apps, user_modules(*month, path, &mut names)?, Vec::extend),
            }
            Ok::<(), Error>(())
        })?;
        self.dims = dims.into_inner().unwrap_or_else(|e| e.into_inner());
        (self.users, self.visits, self.app_users) = (taken(users), taken(visits), taken(apps));
        Ok(())
    }

    fn audience(&mut self, path: &Path) -> Result<()> {
        for b in batches(path)? {
            let s = |n| strings(&b, n, path);
            let (grain, scope, segment, sid) =
                (s("grain")?, s("scope")?, s("segment")?, s("structure_id")?);
            let (uai, name, profile) = (s("uai")?, s("structure_name")?, s("profile")?);
            let period = dates(&b, "period_start", path)?;
            let i64s = |n| ints(&b, n, path);
            let (connections, access, activations) =
                (i64s("connections")?, i64s("access")?, i64s("activations")?);
            let hll: &BinaryArray = column(&b, "hll_sketch", path)?;
            for i in 0..b.num_rows() {
                let scope = match scope.value(i) {
                    "platform" => ScopeKey::PLATFORM,
                    "segment" => ScopeKey::segment(self.dims.segment(segment.value(i))),
                    _ => ScopeKey::structure(self.dims.structure(
                        sid.value(i),
                        text(segment, i),
                        text(uai, i),
                        text(name, i),
                    )),
                };
                let profile = match profile.value(i) {
                    "All" => None,
                    p => Some(Profile::from_name(p.as_bytes())),
                };
                let day = period.value(i);
                match (grain.value(i), profile) {
                    ("day", Some(profile)) => {
                        *self.counters.entry(CounterKey { day, scope, profile }).or_default() +=
                            Counts {
                                connections: connections.value(i) as u64,
                                access: access.value(i) as u64,
                                activations: activations.value(i) as u64,
                            };
                    }
                    ("month", _) if !hll.is_null(i) => {
                        let s = HllSketch::deserialize(hll.value(i)).map_err(|e| {
                            Error::output(path, format!("row {i}: bad hll_sketch: {e}"))
                        })?;
                        let key = RowKey { grain: Grain::Month, period: day, scope, profile };
                        self.sketches.entry(key).or_insert_with(sketch::new_union).update(&s);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn hourly(&mut self, path: &Path) -> Result<()> {
        for b in batches(path)? {
            let (day, hour) = (dates(&b, "day", path)?, ints(&b, "hour", path)?);
            let (profile, n) = (strings(&b, "profile", path)?, ints(&b, "connections", path)?);
            for i in (0..b.num_rows()).filter(|&i| profile.value(i) != "All") {
                let key = (
                    day.value(i),
                    hour.value(i) as u8,
                    Profile::from_name(profile.value(i).as_bytes()),
                );
                *self.hourly.entry(key).or_default() += n.value(i) as u64;
            }
        }
        Ok(())
    }

    /// Access events of the day rows, and the spellings of each
    /// application.
    fn modules(&mut self, path: &Path) -> Result<()> {
        for b in batches(path)? {
            let (grain, day) = (strings(&b, "grain", path)?, dates(&b, "period_start", path)?);
            let (profile, module) = (strings(&b, "profile", path)?, strings(&b, "module", path)?);
            let (raw, access) = (strings(&b, "raw_modules", path)?, ints(&b, "access", path)?);
            for i in 0..b.num_rows() {
                let app = self.dims.app(module.value(i), raw.value(i).split('|'));
                if grain.value(i) == "day" && profile.value(i) != "All" {
                    let profile = Profile::from_name(profile.value(i).as_bytes());
                    *self.app_counters.entry((day.value(i), profile, app)).or_default() +=
                        access.value(i);
                }
            }
        }
        Ok(())
    }

    fn into_partials(self, visits: bool, gap_ms: i64) -> (Partials, Dimensions) {
        let joined = self.visits.into_par_iter().map(|list| list.joined(gap_ms)).collect();
        let partials = Partials {
            counters: self.counters,
            hourly: self.hourly,
            users: self.users,
            visits: visits.then_some(joined),
            sketches: SketchSource::Sketches(self.sketches),
            app_counters: self.app_counters,
            app_users: self.app_users,
            http: Vec::new(),
        };
        (partials, self.dims.finish())
    }
}

/// Empty shards that reading tasks fill.
fn shared_shards<T: Default>() -> Vec<Mutex<T>> {
    (0..SHARDS).map(|_| Mutex::new(T::default())).collect()
}

/// The contents of shards once every task is done.
fn taken<T>(shards: Vec<Mutex<T>>) -> Vec<T> {
    shards.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// Moves the rows of each shard of `rows` into the shared shard.
fn give<T: Default>(shared: &[Mutex<T>], rows: Vec<T>, put: impl Fn(&mut T, T)) {
    for (shard, rows) in shared.iter().zip(rows) {
        put(&mut shard.lock().unwrap_or_else(|e| e.into_inner()), rows);
    }
}

/// Structure and application indexes for one reading task: its own cache
/// in front of the shared table, locked only on a miss.
struct Names<'d> {
    shared: &'d Mutex<DimsBuilder>,
    structures: FastMap<String, StructureId>,
    apps: FastMap<String, AppId>,
}

impl<'d> Names<'d> {
    fn new(shared: &'d Mutex<DimsBuilder>) -> Names<'d> {
        Names { shared, structures: FastMap::default(), apps: FastMap::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'d, DimsBuilder> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn structure(&mut self, id: &str) -> StructureId {
        if let Some(&s) = self.structures.get(id) {
            return s;
        }
        let s = self.lock().structure(id, None, None, None);
        self.structures.insert(id.to_string(), s);
        s
    }

    fn app(&mut self, name: &str) -> AppId {
        if let Some(&a) = self.apps.get(name) {
            return a;
        }
        let a = self.lock().app(name, std::iter::empty());
        self.apps.insert(name.to_string(), a);
        a
    }
}

/// The rows of one `user_activity` file, by user shard.
fn user_activity(
    month: i32,
    path: &Path,
    names: &mut Names<'_>,
) -> Result<Vec<Vec<UserActivityRow>>> {
    let mut out = vec![Vec::new(); SHARDS];
    for b in batches(path)? {
        let i64s = |n| ints(&b, n, path);
        let (user, connections, access) =
            (i64s("user_key")?, i64s("connections")?, i64s("access")?);
        let (login, active) = (i64s("login_day_mask")?, i64s("active_day_mask")?);
        let (profile, sid) = (strings(&b, "profile", path)?, strings(&b, "structure_id", path)?);
        let first: &TimestampMicrosecondArray = column(&b, "first_seen", path)?;
        let last: &TimestampMicrosecondArray = column(&b, "last_seen", path)?;
        for i in 0..b.num_rows() {
            let structure =
                if sid.is_null(i) { NO_STRUCTURE } else { names.structure(sid.value(i)) };
            let user_key = user.value(i);
            out[user_shard(user_key as u64)].push(UserActivityRow {
                month,
                user_key,
                profile: Profile::from_name(profile.value(i).as_bytes()),
                structure,
                connections: connections.value(i),
                access: access.value(i),
                login_days: login.value(i) as u32,
                active_days: active.value(i) as u32,
                first_ms: first.value(i).div_euclid(1000),
                last_ms: last.value(i).div_euclid(1000),
            });
        }
    }
    Ok(out)
}

/// The visits of one `user_visits` file, by user shard.
fn user_visits(path: &Path, names: &mut Names<'_>) -> Result<Vec<VisitList>> {
    let mut out = vec![VisitList::default(); SHARDS];
    let mut ids: Vec<StructureId> = Vec::new();
    for b in batches(path)? {
        let (user, day) = (ints(&b, "user_key", path)?, dates(&b, "day", path)?);
        let start: &TimestampMicrosecondArray = column(&b, "visit_start", path)?;
        let end: &TimestampMicrosecondArray = column(&b, "visit_end", path)?;
        let profile = strings(&b, "profile", path)?;
        let lists: &ListArray = column(&b, "structure_ids", path)?;
        let values = lists
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::output(path, "structure_ids is not a list of strings"))?;
        let offsets = lists.value_offsets();
        for i in 0..b.num_rows() {
            ids.clear();
            for j in offsets[i] as usize..offsets[i + 1] as usize {
                ids.push(names.structure(values.value(j)));
            }
            let user_key = user.value(i);
            let span = VisitSpan {
                user: user_key as u64,
                day: day.value(i),
                start_ms: start.value(i).div_euclid(1000),
                end_ms: end.value(i).div_euclid(1000),
                profile: Profile::from_name(profile.value(i).as_bytes()),
                first_structure: 0,
                structure_count: 0,
            };
            out[user_shard(user_key as u64)].push_span(span, &ids);
        }
    }
    Ok(out)
}

/// The rows of one `user_modules` file, by user shard.
fn user_modules(month: i32, path: &Path, names: &mut Names<'_>) -> Result<Vec<Vec<AppUserRow>>> {
    let mut out = vec![Vec::new(); SHARDS];
    for b in batches(path)? {
        let (user, access, days) = (
            ints(&b, "user_key", path)?,
            ints(&b, "access", path)?,
            ints(&b, "access_day_mask", path)?,
        );
        let (profile, module) = (strings(&b, "profile", path)?, strings(&b, "module", path)?);
        for i in 0..b.num_rows() {
            let user_key = user.value(i);
            out[user_shard(user_key as u64)].push(AppUserRow {
                month,
                user_key,
                profile: Profile::from_name(profile.value(i).as_bytes()),
                app: names.app(module.value(i)),
                access: access.value(i),
                days: days.value(i) as u32,
            });
        }
    }
    Ok(out)
}

/// The files of a partitioned table, with the month of each: every
/// Parquet file under a `month=YYYY-MM-DD` directory.
fn partitions(dir: &Path) -> Result<Vec<(i32, PathBuf)>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let part = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(month) = part
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("month="))
            .and_then(parse_day)
        else {
            continue;
        };
        for file in std::fs::read_dir(&part).map_err(|e| Error::io(&part, e))? {
            let file = file.map_err(|e| Error::io(&part, e))?.path();
            if file.extension().is_some_and(|x| x == "parquet") {
                files.push((month, file));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Structures, segments and applications of the merged runs, by their
/// names.
#[derive(Default)]
struct DimsBuilder {
    by_id: FastMap<String, StructureId>,
    structures: Vec<StructureEntry>,
    segments: Vec<String>,
    apps: Vec<AppEntry>,
}

impl DimsBuilder {
    /// The index of application `name`, with more of its raw spellings.
    fn app<'a>(&mut self, name: &str, raw: impl Iterator<Item = &'a str>) -> AppId {
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

    fn segment(&mut self, name: &str) -> SegmentId {
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
    fn structure(
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
        Dimensions { structures: self.structures, segments: self.segments, apps: self.apps }
    }
}
