//! The final stage: from a merged state to the rows of the output tables.
//!
//! Counters are summed into weeks, months and the `All` profile. Distinct
//! users are counted user by user: each user's facts yield the set of rows
//! (grain, period, scope, profile) the user is a visitor of, and each row
//! of the set gets one. Users are disjoint across shards, so these counts
//! add up across shards exactly and shards are finished in parallel.

use super::apps::{self, AppMetrics, AppRowKey};
use super::grid::{self, Layout};
use super::http::HttpRow;
use super::scope::{Dimensions, NO_STRUCTURE, Scope, ScopeKey, StructureEntry};
use super::visits::{self, NationalMetrics};
use super::{Agg, Fact, FactKey, SHARDS};
use crate::hash::FastMap;
use crate::parse::Profile;
use crate::time::LocalDays;
use crate::time::{month_start, week_start};
use hdrhistogram::Histogram;
use rayon::prelude::*;
use std::cmp::Ordering;

/// A calendar grain. Variants are in the alphabetical order of their
/// names, which is the order of the output rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    /// A local day.
    Day,
    /// A calendar month.
    Month,
    /// An ISO week, starting on Monday.
    Week,
}

impl Grain {
    /// Every grain.
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Month, Grain::Week];

    /// The name written in output tables.
    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Month => "month",
            Grain::Week => "week",
        }
    }

    /// The first day of the period of this grain that holds `day`.
    pub fn period(self, day: i32) -> i32 {
        match self {
            Grain::Day => day,
            Grain::Week => week_start(day),
            Grain::Month => month_start(day),
        }
    }
}

/// Identifies one row of `audience.parquet`. `profile` is `None` for `All`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// Grain of the period.
    pub grain: Grain,
    /// First day of the period.
    pub period: i32,
    /// Platform, segment or structure.
    pub scope: ScopeKey,
    /// One profile, or `None` for all of them.
    pub profile: Option<Profile>,
}

/// One row of `audience.parquet`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// `LOGIN` events.
    pub connections: i64,
    /// Distinct users with at least one `LOGIN`.
    pub unique_visitors: i64,
    /// `ACCESS` events.
    pub access: i64,
    /// `ACTIVATION` events.
    pub activations: i64,
    /// Visits starting in the period.
    pub visits: i64,
    /// Total duration of those visits, seconds.
    pub visit_seconds: i64,
}

/// One row of `visits.parquet`: the visits of a month and profile.
#[derive(Clone, Debug)]
pub struct VisitRow {
    /// First day of the month.
    pub month: i32,
    /// One profile, or `None` for all.
    pub profile: Option<Profile>,
    /// Duration histogram (seconds).
    pub histogram: Histogram<u64>,
    /// Total duration, seconds.
    pub seconds: i64,
}

/// One row of the national weekly export: a school and an ISO week, with
/// visits, distinct users and seconds for everyone, then for each of
/// [`NATIONAL_PROFILES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalRow {
    /// School code.
    pub uai: String,
    /// Monday of the week.
    pub week: i32,
    /// Everyone, then each national profile.
    pub figures: [NationalMetrics; 5],
}

/// The profiles of the national export, in its column order, with their
/// column suffixes.
pub const NATIONAL_PROFILES: [(Profile, &str); 4] = [
    (Profile::Student, "eleve"),
    (Profile::Relative, "parent"),
    (Profile::Teacher, "enseignant"),
    (Profile::Personnel, "admin_vie_scol_tech"),
];

/// Settings of the final stage.
#[derive(Clone)]
pub struct Settings {
    /// Local days of the run's time zone.
    pub days: LocalDays,
    /// Longest gap inside a visit, ms.
    pub visit_gap_ms: i64,
}

/// One row of `user_activity.parquet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserActivityRow {
    /// First day of the month.
    pub month: i32,
    /// Keyed pseudonym of the user.
    pub user_key: i64,
    /// Profile of the user's events.
    pub profile: Profile,
    /// Structure index, or [`NO_STRUCTURE`].
    pub structure: u32,
    /// `LOGIN` events.
    pub connections: i64,
    /// `ACCESS` events.
    pub access: i64,
    /// Local days with at least one event.
    pub active_days: i64,
    /// First event, epoch ms.
    pub first_ms: i64,
    /// Last event, epoch ms.
    pub last_ms: i64,
}

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

/// Everything the sinks write, in output order.
#[derive(Debug)]
pub struct Tables {
    /// `visits.parquet` rows, by month and profile.
    pub visits: Vec<VisitRow>,
    /// `national_weekly` rows, by school code and week.
    pub national: Vec<NationalRow>,
    /// `hourly.parquet` rows, sorted by day, hour, profile.
    pub hourly: Vec<HourlyRow>,
    /// `modules.parquet` rows, sorted by grain, period, profile, application.
    pub apps: Vec<(AppRowKey, AppMetrics)>,
    /// `audience.parquet` rows, sorted.
    pub audience: Vec<(RowKey, Metrics)>,
    /// `user_activity.parquet` rows, sorted.
    pub user_activity: Vec<UserActivityRow>,
    /// `http.parquet` rows, sorted by grain, period and profile.
    pub http: Vec<HttpRow>,
    /// Names of structures and segments.
    pub dims: Dimensions,
}

impl Tables {
    /// The text of a row's segment: the segment itself, or the segment of
    /// its structure.
    pub fn segment_name(&self, scope: ScopeKey) -> Option<&str> {
        let seg = match scope.scope() {
            Scope::Platform => None,
            Scope::Segment(s) => Some(s),
            Scope::Structure(s) => self.dims.structures[s as usize].segment,
        };
        seg.map(|s| self.dims.segments[s as usize].as_str())
    }

    /// The structure of a row, when its scope is a structure.
    pub fn structure(&self, scope: ScopeKey) -> Option<&StructureEntry> {
        match scope.scope() {
            Scope::Structure(s) => Some(&self.dims.structures[s as usize]),
            _ => None,
        }
    }

    /// The structure id of a row, when its scope is a structure.
    pub fn structure_id(&self, scope: ScopeKey) -> Option<&str> {
        self.structure(scope).map(|s| s.id.as_str())
    }
}

/// The name of a row's profile.
pub fn profile_name(p: Option<Profile>) -> &'static str {
    p.map_or("All", Profile::name)
}

/// Turns a merged state into sorted output rows.
pub fn finish(agg: Agg, dims: Dimensions, settings: &Settings) -> Tables {
    let mut rows: FastMap<RowKey, Metrics> = FastMap::default();
    for (k, c) in &agg.counters {
        for grain in Grain::ALL {
            for profile in [Some(k.profile), None] {
                let key = RowKey { grain, period: grain.period(k.day), scope: k.scope, profile };
                let m = rows.entry(key).or_default();
                m.connections += c.connections as i64;
                m.access += c.access as i64;
                m.activations += c.activations as i64;
            }
        }
    }
    // Every day with activity: visits can fall on days without counters.
    let (first, last) = agg
        .facts
        .iter()
        .flat_map(|shard| shard.keys().map(|k| k.day))
        .fold((i32::MAX, i32::MIN), |(a, b), d| (a.min(d), b.max(d)));
    let layout = Layout::new(first, last, &dims);
    let (uais, uai_of) = visits::uai_index(&dims);
    let visit_cx = visits::Context {
        dims: &dims,
        layout: &layout,
        uai_of: &uai_of,
        gap_ms: settings.visit_gap_ms,
    };
    // One grid per worker (at most one per thread), added up at the end.
    let per_thread = SHARDS.div_ceil(rayon::current_num_threads());
    let (visitors, mut user_activity) = agg
        .facts
        .into_par_iter()
        .with_min_len(per_thread)
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut grid, mut activity), shard| {
                if grid.is_empty() {
                    grid = vec![0u32; layout.len()];
                }
                finish_shard(shard, &dims, &layout, &mut grid, &mut activity);
                (grid, activity)
            },
        )
        .reduce(
            || (Vec::new(), Vec::new()),
            |(ga, mut ra), (gb, rb)| {
                ra.extend(rb);
                (grid::add(ga, gb), ra)
            },
        );
    let per_thread = SHARDS.div_ceil(rayon::current_num_threads());
    let visited = agg
        .visit_events
        .into_par_iter()
        .with_min_len(per_thread)
        .fold(
            || None,
            |acc: Option<(visits::Partial, LocalDays)>, shard| {
                let (mut part, mut days) =
                    acc.unwrap_or_else(|| (visits::Partial::new(&layout), settings.days.clone()));
                visits::count_shard(shard, &visit_cx, &mut days, &mut part);
                Some((part, days))
            },
        )
        .map(|acc| acc.map(|(part, _)| part))
        .reduce(
            || None,
            |a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a.merge(b)),
                (a, b) => a.or(b),
            },
        );
    if !visitors.is_empty() {
        for (k, m) in rows.iter_mut() {
            m.unique_visitors = i64::from(visitors[layout.index(k)]);
        }
    }
    let (visit_rows, national) = match visited {
        Some(v) => {
            for (i, &n) in v.visits.iter().enumerate().filter(|(_, n)| **n > 0) {
                let m = rows.entry(layout.key(i)).or_default();
                m.visits = i64::from(n);
                m.visit_seconds = v.seconds[i];
            }
            (
                visit_rows(v.histograms, &v.visits, &v.seconds, &layout),
                national_rows(v.national, &uais),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut apps: Vec<_> = agg
        .app_facts
        .into_par_iter()
        .map(apps::count_shard)
        .reduce(FastMap::default, apps::merge_rows)
        .into_iter()
        .collect();
    let mut hourly = hourly_rows(&agg.hourly);
    let mut tables = Tables {
        visits: visit_rows,
        national,
        audience: Vec::new(),
        user_activity: Vec::new(),
        hourly: Vec::new(),
        apps: Vec::new(),
        http: agg.http.rows(),
        dims,
    };
    hourly.sort_unstable_by_key(|r| (r.day, r.hour, profile_name(r.profile)));
    apps.sort_unstable_by(|(a, _), (b, _)| {
        let text = |k: &AppRowKey| {
            (k.grain, k.period, profile_name(k.profile), &tables.dims.apps[k.app as usize].name)
        };
        text(a).cmp(&text(b))
    });
    let mut audience: Vec<_> = rows.into_iter().filter(|(_, m)| *m != Metrics::default()).collect();
    audience.par_sort_unstable_by(|a, b| output_order(&tables, &a.0, &b.0));
    let structure_text =
        |s: u32| (s != NO_STRUCTURE).then(|| tables.dims.structures[s as usize].id.as_str());
    user_activity.par_sort_unstable_by(|a, b| {
        (a.month, a.user_key, a.profile.name(), structure_text(a.structure)).cmp(&(
            b.month,
            b.user_key,
            b.profile.name(),
            structure_text(b.structure),
        ))
    });
    tables.audience = audience;
    tables.user_activity = user_activity;
    tables.hourly = hourly;
    tables.apps = apps;
    tables
}

/// The rows of `visits.parquet`, sorted by month and profile name; the
/// total seconds are read from the platform cells of the grid.
fn visit_rows(
    histograms: FastMap<(i32, Option<Profile>), Histogram<u64>>,
    visits: &[u32],
    seconds: &[i64],
    layout: &Layout,
) -> Vec<VisitRow> {
    let mut rows: Vec<VisitRow> = histograms
        .into_iter()
        .map(|((month, profile), histogram)| {
            let key =
                RowKey { grain: Grain::Month, period: month, scope: ScopeKey::PLATFORM, profile };
            let i = layout.index(&key);
            debug_assert_eq!(u64::from(visits[i]), histogram.len());
            VisitRow { month, profile, histogram, seconds: seconds[i] }
        })
        .collect();
    rows.sort_by_key(|r| (r.month, profile_name(r.profile)));
    rows
}

/// The national export's rows, sorted by school code and week.
fn national_rows(
    national: FastMap<visits::NationalKey, NationalMetrics>,
    uais: &[String],
) -> Vec<NationalRow> {
    let mut rows: FastMap<(u32, i32), [NationalMetrics; 5]> = FastMap::default();
    for ((week, uai, profile), m) in national {
        let column = match profile {
            None => Some(0),
            Some(p) => NATIONAL_PROFILES.iter().position(|(q, _)| *q == p).map(|i| i + 1),
        };
        if let Some(c) = column {
            rows.entry((uai, week)).or_default()[c] = m;
        }
    }
    let mut rows: Vec<NationalRow> = rows
        .into_iter()
        .map(|((uai, week), figures)| NationalRow {
            uai: uais[uai as usize].clone(),
            week,
            figures,
        })
        .collect();
    rows.sort_by(|a, b| (&a.uai, a.week).cmp(&(&b.uai, b.week)));
    rows
}

/// Connections by local day, hour and profile, with `All`.
fn hourly_rows(hourly: &FastMap<(i32, u8, Profile), u64>) -> Vec<HourlyRow> {
    let mut all: FastMap<(i32, u8), i64> = FastMap::default();
    let mut rows = Vec::with_capacity(hourly.len() * 2);
    for (&(day, hour, profile), &n) in hourly {
        rows.push(HourlyRow { day, hour, profile: Some(profile), connections: n as i64 });
        *all.entry((day, hour)).or_default() += n as i64;
    }
    rows.extend(all.into_iter().map(|((day, hour), n)| HourlyRow {
        day,
        hour,
        profile: None,
        connections: n,
    }));
    rows
}

/// Order of `audience.parquet`: grain, period, scope, segment, structure
/// id, profile, all by their written text.
fn output_order(t: &Tables, a: &RowKey, b: &RowKey) -> Ordering {
    let text = |k: &RowKey| {
        let kind = k.scope.scope().name();
        (kind, t.segment_name(k.scope), t.structure_id(k.scope), profile_name(k.profile))
    };
    (a.grain, a.period).cmp(&(b.grain, b.period)).then_with(|| text(a).cmp(&text(b)))
}

/// Counts the distinct visitors of the users of one shard into `grid` and
/// appends their user activity rows to `activity`.
fn finish_shard(
    shard: FastMap<FactKey, Fact>,
    dims: &Dimensions,
    layout: &Layout,
    grid: &mut [u32],
    activity: &mut Vec<UserActivityRow>,
) {
    let mut facts: Vec<(FactKey, Fact)> = shard.into_iter().collect();
    facts.sort_unstable_by_key(|(k, _)| *k);
    let mut keys: Vec<RowKey> = Vec::new();
    let mut periods = Vec::new();
    let mut months: Vec<(i32, Profile, u32, i32, Fact)> = Vec::new();
    for user_facts in facts.chunk_by(|a, b| a.0.user == b.0.user) {
        // First the user's distinct (period, structure, profile) triples,
        // then their scopes: a month of daily logins collapses to one
        // triple per structure before anything is expanded.
        periods.clear();
        for (k, _) in user_facts.iter().filter(|(_, f)| f.connections > 0) {
            for grain in Grain::ALL {
                periods.push((grain, grain.period(k.day), k.structure, k.profile));
            }
        }
        periods.sort_unstable();
        periods.dedup();
        keys.clear();
        for &(grain, period, structure, profile) in &periods {
            let mut scopes = [ScopeKey::PLATFORM; 3];
            let mut n = 1;
            if structure != NO_STRUCTURE {
                scopes[n] = ScopeKey::structure(structure);
                n += 1;
                if let Some(seg) = dims.structures[structure as usize].segment {
                    scopes[n] = ScopeKey::segment(seg);
                    n += 1;
                }
            }
            for &scope in &scopes[..n] {
                for profile in [Some(profile), None] {
                    keys.push(RowKey { grain, period, scope, profile });
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for k in &keys {
            grid[layout.index(k)] += 1;
        }
        months.clear();
        months.extend(
            user_facts.iter().map(|(k, f)| (month_start(k.day), k.profile, k.structure, k.day, *f)),
        );
        months.sort_unstable_by_key(|m| (m.0, m.1, m.2, m.3));
        for group in months.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
            let (month, profile, structure, ..) = group[0];
            let mut row = UserActivityRow {
                month,
                user_key: user_facts[0].0.user as i64,
                profile,
                structure,
                connections: 0,
                access: 0,
                active_days: 0,
                first_ms: i64::MAX,
                last_ms: i64::MIN,
            };
            for &(.., f) in group {
                row.connections += i64::from(f.connections);
                row.access += i64::from(f.access);
                // One fact per day within a group: facts are keyed by day.
                row.active_days += 1;
                row.first_ms = row.first_ms.min(f.first_ms);
                row.last_ms = row.last_ms.max(f.last_ms);
            }
            activity.push(row);
        }
    }
}
