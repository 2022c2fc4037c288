//! The final stage: from a merged state to the rows of the output tables.
//!
//! Counters are summed into weeks, months and the `All` profile. Distinct
//! users are counted user by user: each user's facts yield the set of rows
//! (grain, period, scope, profile) the user is a visitor of, and each row
//! of the set gets one. Users are disjoint across shards, so these counts
//! add up across shards exactly and shards are finished in parallel.

use super::accounts::{self, AccountRow, Directory};
use super::apps::{AppMetrics, AppPartial, AppRowKey, AppUserRow};
use super::audience_cells::AudienceCells;
use super::by_day::ByDay;
use super::classes::ClassRowKey;
use super::classes::{self, ClassActivity, ClassFactKey, ClassMetrics};
use super::events::EventCounts;
use super::grid::{self, Layout};
use super::hourly::{HourlyCounts, HourlyRow};
use super::http::HttpRow;
use super::key::{Counts, Grain, Metrics, RowKey, profile_name};
use super::key::{Fact, FactKey, SHARDS, concat_moved, user_shard};
use super::month_rows::Combine;
use super::open_visits::OpenVisits;
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, StructureEntry};
use super::state::Agg;
use super::structure_apps::{StructureAppKey, StructureApps};
use super::users::{self, UserActivityRow, Visitors};
use super::visit_list::VisitList;
use super::visit_table::VisitTable;
use super::visits::{self, NationalCells};
use crate::annuaire::Annuaire;
use crate::hash::{FastMap, FastSet};
use crate::parse::Profile;
use crate::sketch;
use crate::time::LocalDays;
use datasketches::hll::HllUnion;
use hdrhistogram::Histogram;
use rayon::prelude::*;

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

/// One row of the national datasets: a school and an ISO week, with
/// visits, distinct users and seconds of every column group (see
/// [`crate::national`]); each dataset writes its range of groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalRow {
    /// School code.
    pub uai: String,
    /// Monday of the week.
    pub week: i32,
    /// The figures of every group, in group order.
    pub figures: NationalCells,
}

/// Settings of the final stage.
#[derive(Clone)]
pub struct Settings {
    /// Local days of the run's time zone.
    pub days: LocalDays,
    /// Longest gap inside a visit, ms.
    pub visit_gap_ms: i64,
}

/// Everything the sinks write, in output order.
#[derive(Debug)]
pub struct Tables {
    /// `visits.parquet` rows, by month and profile.
    pub visits: Vec<VisitRow>,
    /// The national datasets' rows, by school code and week.
    pub national: Vec<NationalRow>,
    /// `hourly.parquet` rows, sorted by day, hour, profile.
    pub hourly: Vec<HourlyRow>,
    /// `modules.parquet` rows, sorted by grain, period, profile, application.
    pub apps: Vec<(AppRowKey, AppMetrics)>,
    /// `audience.parquet` rows, sorted.
    pub audience: Vec<(RowKey, Metrics)>,
    /// `user_activity` rows, sorted by month, user key, profile and
    /// structure id.
    pub user_activity: Vec<UserActivityRow>,
    /// The canonical HLL sketch of each month row of `audience.parquet`.
    pub sketches: FastMap<RowKey, Vec<u8>>,
    /// `user_visits` rows, sorted by month, user key and start (empty
    /// without visits).
    pub user_visits: VisitTable,
    /// `user_modules` rows, sorted by month, user key, profile and
    /// application name.
    pub user_modules: Vec<AppUserRow>,
    /// `http.parquet` rows, sorted by grain, period and profile.
    pub http: Vec<HttpRow>,
    /// `accounts.parquet` rows, sorted by user key, profile and structure.
    pub accounts: Vec<AccountRow>,
    /// `structure_modules.parquet` rows, sorted by structure id, month,
    /// profile and application.
    pub structure_apps: Vec<(StructureAppKey, i64)>,
    /// `classes.parquet` rows, sorted by grain, period, structure id,
    /// class id and profile.
    pub classes: Vec<(ClassRowKey, ClassMetrics)>,
    /// `class_activity.parquet` rows, sorted by user, day, class id and
    /// profile.
    pub class_activity: Vec<(ClassFactKey, Counts)>,
    /// `class_members.parquet` rows, sorted by user key, profile and class
    /// id.
    pub class_members: Vec<AccountRow>,
    /// Users with a `LOGIN` missing from the directory, when there is one.
    pub visitors_without_account: u64,
    /// Names of structures and segments.
    pub dims: Dimensions,
    /// The national directory's context of each school (empty without
    /// `--annuaire`).
    pub schools: Annuaire,
}

impl Tables {
    /// The text of a row's segment: the segment itself, or the segment of
    /// its structure.
    pub fn segment_name(&self, scope: ScopeKey) -> Option<&str> {
        self.dims.segment_name(scope)
    }

    /// The structure of a row, when its scope is a structure.
    pub fn structure(&self, scope: ScopeKey) -> Option<&StructureEntry> {
        self.dims.structure(scope)
    }

    /// The structure id of a row, when its scope is a structure.
    pub fn structure_id(&self, scope: ScopeKey) -> Option<&str> {
        self.dims.structure_id(scope)
    }
}

/// What the final stage works from, as a run folds it from logs or a
/// merge reads it back from runs' tables. Users are sharded by the top
/// bits of their key, as in [`Agg`].
pub struct Partials {
    /// Event counts by (day, scope, profile).
    pub counters: EventCounts,
    /// Connections by (day, hour, profile).
    pub hourly: HourlyCounts,
    /// User activity rows of each shard, in any order; rows of the same
    /// key are combined.
    pub users: Vec<Vec<UserActivityRow>>,
    /// Visits of each shard, joined (see [`VisitList::joined`]): sorted by
    /// user, day and start, none within the visit gap of another. `None`
    /// when visits are not computed.
    pub visits: Option<Vec<VisitList>>,
    /// Where the month sketches come from.
    pub sketches: SketchSource,
    /// Application use.
    pub apps: AppPartial,
    /// `http.parquet` rows.
    pub http: Vec<HttpRow>,
    /// Accounts of the directory, one row per account and structure, in
    /// any order; rows of the same account and structure are combined.
    pub accounts: Vec<AccountRow>,
    /// Application use per structure.
    pub structure_apps: StructureApps,
    /// Class facts.
    pub classes: ClassActivity,
    /// Accounts of classes, one row per account and class, in any order;
    /// rows of the same account and class are combined.
    pub class_members: Vec<AccountRow>,
}

/// Where the HLL sketches of month rows come from.
pub enum SketchSource {
    /// The coupons of the user activity rows (see
    /// [`UserActivityRow::coupon`]).
    Coupons,
    /// Sketches of the same rows to union (from runs being merged).
    Sketches(FastMap<RowKey, HllUnion>),
}

impl Agg {
    /// The partials of this state, the accounts being those of
    /// `directory`: facts become user activity rows and visits are dealt
    /// into user shards, in parallel. The HTTP rows, which need none of
    /// that, are counted meanwhile.
    pub fn into_partials(mut self, directory: &Directory) -> Partials {
        self.settle_facts();
        let accounts = accounts::rows(directory, &self.activations, accounts::structures_of);
        let class_members =
            accounts::rows(directory, &self.activations, |u, out| out.extend(&u.classes));
        let classes = std::mem::take(&mut self.classes).resolved(directory);
        let Agg {
            facts,
            closed_facts,
            app_facts,
            visits,
            counters,
            hourly,
            http,
            structure_apps,
            ..
        } = self;
        let (http, (users, visits, apps)) = rayon::join(
            || http.rows(),
            || {
                let users = closed_facts.into_shards_with(user_rows(facts));
                (users, visits.map(OpenVisits::into_lists), app_facts.into_partial())
            },
        );
        Partials {
            counters,
            hourly,
            users,
            visits,
            sketches: SketchSource::Coupons,
            apps,
            http,
            accounts,
            structure_apps,
            classes,
            class_members,
        }
    }
}

/// The user activity rows of the facts of each day, dealt into the user
/// shards (the final stage works shard by shard).
fn user_rows(facts: ByDay<FastMap<FactKey, Fact>>) -> Vec<Vec<UserActivityRow>> {
    facts.deal(|k| user_shard(k.user), UserActivityRow::of_fact)
}

/// Turns a merged state into sorted output rows, the accounts being those
/// of `directory`.
pub fn finish(agg: Agg, dims: Dimensions, directory: &Directory, settings: &Settings) -> Tables {
    count(agg, dims, directory, settings, None)
}

/// Writes the visits' table while the other figures are counted: it needs
/// nothing of them, and its lists are the largest thing the final stage
/// holds. A writer that fails keeps its error for its caller.
pub type VisitWriter<'w> = &'w (dyn Fn(&VisitTable, &Dimensions) + Sync);

/// Counts the figures of a merged state (see [`count_audience`]), the
/// accounts being those of `directory`.
pub fn count(
    agg: Agg,
    dims: Dimensions,
    directory: &Directory,
    settings: &Settings,
    write: Option<VisitWriter<'_>>,
) -> Tables {
    crate::alloc::release_free_memory();
    let partials = agg.into_partials(directory);
    crate::alloc::release_free_memory();
    count_audience(partials, dims, settings, write)
}

/// Turns partials into sorted output rows.
pub fn finish_partials(p: Partials, dims: Dimensions, settings: &Settings) -> Tables {
    count_audience(p, dims, settings, None)
}

/// Counts every figure of `p`. With `write`, the visits' table is written
/// meanwhile and its lists freed before the other tables are (they then
/// say it is written, [`VisitTable::written`]).
pub fn count_audience(
    p: Partials,
    dims: Dimensions,
    settings: &Settings,
    write: Option<VisitWriter<'_>>,
) -> Tables {
    let Partials {
        counters,
        hourly,
        users,
        visits,
        sketches,
        apps,
        http,
        accounts,
        structure_apps,
        classes,
        class_members,
    } = p;
    let visit_table = VisitTable::new(visits.unwrap_or_default());
    let accounts = accounts::combine(accounts, |s| dims.structure_text(s));
    // Applications and hours need nothing of the audience figures: they
    // are made meanwhile. Classes come after: their facts are held twice
    // while they become rows, and beside the audience's own tables that
    // made the final stage's peak. `user_visits` needs none of them, and
    // is written alongside all three.
    let joined = visit_table.lists();
    let count_figures = || {
        let (audience, rest) = rayon::join(
            || audience_figures(&counters, users, joined, sketches, &accounts, &dims, settings),
            || {
                let (apps, user_modules) = apps.finish(&dims);
                (apps, user_modules, hourly.rows(), structure_apps.rows(&dims))
            },
        );
        (audience, rest, classes::count(classes, class_members, &dims.classes))
    };
    let write_visits = || {
        if let Some(write) = write {
            write(&visit_table, &dims);
        }
    };
    let ((audience, (apps, user_modules, hourly, structure_apps), classes), ()) =
        rayon::join(count_figures, write_visits);
    let user_visits = if write.is_some() { VisitTable::written() } else { visit_table };
    // Classes have accounts in every period with data, as the audience.
    let mut periods: Vec<(Grain, i32)> =
        audience.rows.iter().map(|(k, _)| (k.grain, k.period)).collect();
    periods.dedup();
    let classes = classes.finish(&periods, &dims.classes);
    Tables {
        visits: audience.visits,
        national: audience.national,
        hourly,
        apps,
        audience: audience.rows,
        user_activity: audience.user_activity,
        sketches: audience.sketches,
        user_visits,
        user_modules,
        http,
        visitors_without_account: audience.visitors_without_account,
        accounts,
        structure_apps,
        classes: classes.rows,
        class_activity: classes.facts,
        class_members: classes.members,
        dims,
        schools: Annuaire::default(),
    }
}

/// The tables of the audience figures: every figure that counts users or
/// visits by (grain, period, scope, profile).
struct AudienceFigures {
    rows: Vec<(RowKey, Metrics)>,
    sketches: FastMap<RowKey, Vec<u8>>,
    user_activity: Vec<UserActivityRow>,
    visits: Vec<VisitRow>,
    national: Vec<NationalRow>,
    visitors_without_account: u64,
}

/// Event counts, distinct visitors and visits into audience rows, with the
/// per-user rows and visit tables made on the way.
fn audience_figures(
    counters: &EventCounts,
    users: Vec<Vec<UserActivityRow>>,
    joined: &[VisitList],
    sketches: SketchSource,
    accounts: &[AccountRow],
    dims: &Dimensions,
    settings: &Settings,
) -> AudienceFigures {
    let users: Vec<Vec<UserActivityRow>> =
        users.into_par_iter().map(UserActivityRow::combine).collect();
    let months = active_months(&users, joined);
    let layout = Layout::new(months.into_iter().chain(counters.months()), dims);
    let (counts, counted) = counters.grid(&layout);
    let (visitors, sketches) = distinct_visitors(&users, dims, &layout, sketches);
    let (uais, uai_of) = visits::uai_index(dims);
    let cx =
        visits::Context { dims, layout: &layout, uai_of: &uai_of, gap_ms: settings.visit_gap_ms };
    let (visit_cells, visits, national) = match count_visits(joined, &cx) {
        Some(v) => {
            let visits = visit_rows(v.histograms, &v.seconds, &layout);
            ((v.visits, v.seconds), visits, national_rows(v.national, &uais))
        }
        None => (Default::default(), Vec::new(), Vec::new()),
    };
    let mut cells =
        AudienceCells { counts, counted, visitors, visits: visit_cells, accounts: Vec::new() };
    cells.accounts = accounts::grid(accounts, dims, &layout, &cells.periods_with_rows(&layout));
    let visitors_without_account = accounts::visitors_without_account(&users, accounts);
    AudienceFigures {
        rows: cells.rows(&layout, dims),
        sketches,
        user_activity: user_activity_rows(users, dims),
        visits,
        national,
        visitors_without_account,
    }
}

/// The months with activity, and only those: one stray date must not make
/// the grids span the years between it and the rest. Visits come from the
/// same events as user rows, but a merge reads them from another table.
fn active_months(users: &[Vec<UserActivityRow>], visits: &[VisitList]) -> FastSet<i32> {
    users
        .par_iter()
        .map(|shard| users::months(shard))
        .chain(visits.par_iter().map(visits::months))
        .reduce(FastSet::default, |mut a, b| {
            a.extend(b);
            a
        })
}

/// Distinct visitors per cell of `layout`, counted user by user, and the
/// canonical sketch of each month row: from the users' coupons, or from
/// the given sketches (a merge) unioned.
fn distinct_visitors(
    users: &[Vec<UserActivityRow>],
    dims: &Dimensions,
    layout: &Layout,
    source: SketchSource,
) -> (Vec<u32>, FastMap<RowKey, Vec<u8>>) {
    let (from_rows, mut unions) = match source {
        SketchSource::Coupons => (true, FastMap::default()),
        SketchSource::Sketches(given) => (false, given),
    };
    // One grid per worker (at most one per thread), added up at the end.
    let per_thread = SHARDS.div_ceil(rayon::current_num_threads());
    let per_worker: Vec<Visitors> = users
        .par_iter()
        .with_min_len(per_thread)
        .fold(
            || None,
            |acc: Option<Visitors>, shard| {
                let mut v = acc.unwrap_or_else(|| Visitors::new(layout, from_rows));
                users::count_visitors(shard, dims, layout, &mut v);
                Some(v)
            },
        )
        .flatten()
        .collect();
    let mut visitors = Vec::new();
    for v in per_worker {
        let (grid, month_sketches) = v.into_grid();
        visitors = grid::add(visitors, grid);
        for (j, s) in month_sketches.iter().enumerate() {
            if let Some(s) = s {
                unions.entry(layout.month_key(j)).or_insert_with(sketch::new_union).update(s);
            }
        }
    }
    let sketches = unions.par_iter().map(|(k, u)| (*k, sketch::canonical_bytes(u))).collect();
    (visitors, sketches)
}

/// What the visits of every shard add up to (`None` without visits:
/// there is then no list).
fn count_visits(joined: &[VisitList], cx: &visits::Context<'_>) -> Option<visits::Partial> {
    let per_thread = SHARDS.div_ceil(rayon::current_num_threads());
    let tally = joined
        .par_iter()
        .with_min_len(per_thread)
        .fold(
            || visits::Tally::new(cx.layout),
            |mut tally, list| {
                visits::count(list, cx, &mut tally);
                tally
            },
        )
        .reduce_with(visits::Tally::merge)?;
    Some(visits::Partial::new(tally, cx.layout))
}

/// `user_activity` rows sorted by month, user key, profile name and
/// structure id, by numbers: texts compared on every comparison made
/// this sort cost more than the rest of the final stage.
fn user_activity_rows(users: Vec<Vec<UserActivityRow>>, dims: &Dimensions) -> Vec<UserActivityRow> {
    let rank = structure_ranks(dims);
    let mut rows = concat_moved(users);
    rows.par_sort_unstable_by_key(|r| {
        let structure = if r.structure == NO_STRUCTURE { 0 } else { rank[r.structure as usize] };
        (r.month, r.user_key, r.profile.name_rank(), structure)
    });
    rows
}

/// The rank of each structure number in the order of the structures' ids
/// as written, from 1 (0 is left for [`NO_STRUCTURE`], which has no id
/// and comes first).
fn structure_ranks(dims: &Dimensions) -> Vec<u32> {
    let id = |s: u32| &dims.structures[s as usize].id;
    let mut order: Vec<u32> = (0..dims.structures.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| id(a).cmp(id(b)));
    let mut rank = vec![0; dims.structures.len()];
    for (r, s) in order.into_iter().enumerate() {
        rank[s as usize] = r as u32 + 1;
    }
    rank
}

/// The rows of `visits.parquet`, sorted by month and profile name; the
/// total seconds are read from the platform cells of the grid.
fn visit_rows(
    histograms: FastMap<(i32, Option<Profile>), Histogram<u64>>,
    seconds: &[i64],
    layout: &Layout,
) -> Vec<VisitRow> {
    let mut rows: Vec<VisitRow> = histograms
        .into_iter()
        .map(|((month, profile), histogram)| {
            let key =
                RowKey { grain: Grain::Month, period: month, scope: ScopeKey::PLATFORM, profile };
            // A month with visits is in the layout.
            let seconds = layout.index(&key).map_or(0, |i| seconds[i]);
            VisitRow { month, profile, histogram, seconds }
        })
        .collect();
    rows.sort_by_key(|r| (r.month, profile_name(r.profile)));
    rows
}

/// The national datasets' rows, sorted by school code and week.
fn national_rows(
    national: FastMap<visits::NationalKey, NationalCells>,
    uais: &[String],
) -> Vec<NationalRow> {
    let mut rows: Vec<NationalRow> = national
        .into_iter()
        .map(|((week, uai), figures)| NationalRow {
            uai: uais[uai as usize].clone(),
            week,
            figures,
        })
        .collect();
    rows.sort_by(|a, b| (&a.uai, a.week).cmp(&(&b.uai, b.week)));
    rows
}
