//! Application use: `ACCESS` events and distinct users by grain, period,
//! profile and application (`modules.parquet`, `user_modules`).

use super::app_names::AppId;
use super::by_day::{ByDay, deal_day};
use super::key::{AppFactKey, Grain, SHARDS, concat_moved, profile_name, user_shard};
use super::month_rows::{Combine, MonthRows};
use super::scope::Dimensions;
use super::users;
use crate::hash::FastMap;
use crate::parse::Profile;
use crate::time::month_start;
use rayon::prelude::*;

/// Identifies one row of `modules.parquet`; `profile` is `None` for `All`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppRowKey {
    /// Grain of the period.
    pub grain: Grain,
    /// First day of the period.
    pub period: i32,
    /// One profile, or `None` for all of them.
    pub profile: Option<Profile>,
    /// The application.
    pub app: AppId,
}

/// Figures of one row of `modules.parquet`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppMetrics {
    /// `ACCESS` events.
    pub access: i64,
    /// Distinct users with at least one `ACCESS` to the application.
    pub unique_users: i64,
}

/// One row of `user_modules`: one user's month of one application under
/// one profile, with the days of use as a bit set (as in
/// [`UserActivityRow`](super::users::UserActivityRow)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppUserRow {
    /// First day of the month.
    pub month: i32,
    /// Keyed pseudonym of the user.
    pub user_key: i64,
    /// Profile of the events.
    pub profile: Profile,
    /// The application.
    pub app: AppId,
    /// `ACCESS` events.
    pub access: i64,
    /// Local days of the month with an `ACCESS`: bit `d - 1` for day `d`.
    pub days: u32,
}

impl AppUserRow {
    /// The row of one day's application fact.
    pub fn of_fact(k: &AppFactKey, &access: &u32) -> AppUserRow {
        let month = month_start(k.day);
        AppUserRow {
            month,
            user_key: k.user as i64,
            profile: k.profile,
            app: k.app,
            access: i64::from(access),
            days: 1 << (k.day - month),
        }
    }
}

impl Combine for AppUserRow {
    type Key = (u64, i32, Profile, AppId);

    fn key(&self) -> Self::Key {
        (self.user_key as u64, self.month, self.profile, self.app)
    }

    fn fold(&mut self, o: &Self) {
        self.access += o.access;
        self.days |= o.days;
    }
}

/// `ACCESS` events by (local day, profile, application).
pub type AppCounters = FastMap<(i32, Profile, AppId), i64>;

/// A worker's application use: `ACCESS` events by (user, day,
/// application, profile), in one table per local day while the day is
/// read (see [`ByDay`]: the day being read stays in cache), in counters
/// and month rows once it is closed.
#[derive(Clone, Debug, Default)]
pub struct AppFacts {
    /// Days being read.
    open: ByDay<FastMap<AppFactKey, u32>>,
    /// The counters of closed days.
    counters: AppCounters,
    /// The user rows of closed days.
    closed: MonthRows<AppUserRow>,
}

impl AppFacts {
    /// Counts one `ACCESS` of `user` to `app`.
    #[inline]
    pub fn add(&mut self, user: u64, day: i32, app: AppId, profile: Profile) {
        *self.open.at(day).entry(AppFactKey { user, day, app, profile }).or_default() += 1;
    }

    /// Closes the tables of the days for which `closing` holds into
    /// counters and month rows.
    pub fn close(&mut self, closing: impl Fn(i32) -> bool) {
        for (_, table) in self.open.take_days(closing) {
            count(&mut self.counters, &table);
            self.closed.add(deal_day(&table, |k| user_shard(k.user), AppUserRow::of_fact));
        }
    }

    /// Adds the facts of `other`, days in parallel.
    pub fn merge(&mut self, other: AppFacts) {
        self.open.merge_tables(other.open, |x, y| *x += y);
        add_counters(&mut self.counters, other.counters);
        self.closed.merge(other.closed);
    }

    /// The counters and per-user rows of these facts.
    pub fn into_partial(self) -> AppPartial {
        let AppFacts { open, counters: of_closed, closed } = self;
        let mut counters = open
            .par_values()
            .fold(AppCounters::default, |mut c, day| {
                count(&mut c, day);
                c
            })
            .reduce(AppCounters::default, |mut a, b| {
                add_counters(&mut a, b);
                a
            });
        add_counters(&mut counters, of_closed);
        let users = closed.into_shards_with(open.deal(|k| user_shard(k.user), AppUserRow::of_fact));
        AppPartial { counters, users }
    }
}

/// Adds the facts of one day's table to `counters`.
fn count(counters: &mut AppCounters, day: &FastMap<AppFactKey, u32>) {
    for (k, &n) in day {
        *counters.entry((k.day, k.profile, k.app)).or_default() += i64::from(n);
    }
}

/// Adds `b` to `a`.
fn add_counters(a: &mut AppCounters, b: AppCounters) {
    for (k, n) in b {
        *a.entry(k).or_default() += n;
    }
}

/// Application use as the final stage takes it, from a run's facts or
/// from the tables of runs being merged.
#[derive(Debug)]
pub struct AppPartial {
    /// `ACCESS` events by (day, profile, application).
    pub counters: AppCounters,
    /// Each user shard's rows, in any order; rows of the same key are
    /// combined.
    pub users: Vec<Vec<AppUserRow>>,
}

impl Default for AppPartial {
    fn default() -> Self {
        AppPartial { counters: AppCounters::default(), users: vec![Vec::new(); SHARDS] }
    }
}

impl AppPartial {
    /// The rows of `modules.parquet` (by grain, period, profile and
    /// application name) and of `user_modules` (by month, user key,
    /// profile name and application name).
    pub fn finish(self, dims: &Dimensions) -> (Vec<(AppRowKey, AppMetrics)>, Vec<AppUserRow>) {
        let users: Vec<Vec<AppUserRow>> =
            self.users.into_par_iter().map(AppUserRow::combine).collect();
        // Applications ranked by name once, rather than names compared
        // per comparison.
        let mut by_name: Vec<usize> = (0..dims.apps.len()).collect();
        by_name.sort_by_key(|&i| &dims.apps[i].name);
        let mut rank = vec![0; by_name.len()];
        for (r, &i) in by_name.iter().enumerate() {
            rank[i] = r;
        }
        let mut apps: Vec<_> = rows(&self.counters, &users).into_iter().collect();
        apps.sort_unstable_by_key(|(k, _)| {
            (k.grain, k.period, profile_name(k.profile), rank[k.app as usize])
        });
        let mut user_rows = concat_moved(users);
        user_rows.par_sort_unstable_by_key(|r| {
            (r.month, r.user_key, r.profile.name_rank(), rank[r.app as usize])
        });
        (apps, user_rows)
    }
}

/// The rows of `modules.parquet`: access events summed from `counters`,
/// distinct users counted from the rows of each shard (combined, sorted
/// by user).
fn rows(counters: &AppCounters, shards: &[Vec<AppUserRow>]) -> FastMap<AppRowKey, AppMetrics> {
    let mut rows = shards.par_iter().map(|s| count_users(s)).reduce(FastMap::default, merge_rows);
    for (&(day, profile, app), &n) in counters {
        for grain in Grain::ALL {
            for profile in [Some(profile), None] {
                let key = AppRowKey { grain, period: grain.period(day), profile, app };
                rows.entry(key).or_default().access += n;
            }
        }
    }
    rows
}

/// Counts each user once per row (grain, period, profile, application)
/// they used. A user's rows are taken application by application, and
/// each period is met once: no set of keys to sort per user.
fn count_users(rows: &[AppUserRow]) -> FastMap<AppRowKey, AppMetrics> {
    let mut out: FastMap<AppRowKey, AppMetrics> = FastMap::default();
    let mut mine: Vec<AppUserRow> = Vec::new();
    let mut all: Vec<(i32, u32)> = Vec::new();
    for user_rows in rows.chunk_by(|a, b| a.user_key == b.user_key) {
        mine.clear();
        mine.extend_from_slice(user_rows);
        mine.sort_unstable_by_key(|r| (r.app, r.profile, r.month));
        for app_rows in mine.chunk_by(|a, b| a.app == b.app) {
            let app = app_rows[0].app;
            for rows in app_rows.chunk_by(|a, b| a.profile == b.profile) {
                let months = rows.iter().map(|r| (r.month, r.days));
                count_periods(months, Some(rows[0].profile), app, &mut out);
            }
            // `All`: the days of every profile, month by month.
            all.clear();
            all.extend(app_rows.iter().map(|r| (r.month, r.days)));
            all.sort_unstable_by_key(|&(month, _)| month);
            all.dedup_by(|b, a| {
                let same = a.0 == b.0;
                if same {
                    a.1 |= b.1;
                }
                same
            });
            count_periods(all.iter().copied(), None, app, &mut out);
        }
    }
    out
}

/// Counts one user once in the row of every day, week and month of
/// `months` (month, day set), given in month order.
fn count_periods(
    months: impl Iterator<Item = (i32, u32)>,
    profile: Option<Profile>,
    app: AppId,
    out: &mut FastMap<AppRowKey, AppMetrics>,
) {
    let mut add = |grain, period| {
        out.entry(AppRowKey { grain, period, profile, app }).or_default().unique_users += 1;
    };
    // Days come in order, so a week's days are consecutive, across a
    // month's end too.
    let mut week = i32::MIN;
    for (month, days) in months {
        add(Grain::Month, month);
        for day in users::days_of(month, days) {
            add(Grain::Day, day);
            if Grain::Week.period(day) != week {
                week = Grain::Week.period(day);
                add(Grain::Week, week);
            }
        }
    }
}

/// Adds the rows of `b` into `a`.
fn merge_rows(
    mut a: FastMap<AppRowKey, AppMetrics>,
    b: FastMap<AppRowKey, AppMetrics>,
) -> FastMap<AppRowKey, AppMetrics> {
    for (k, m) in b {
        let e = a.entry(k).or_default();
        e.access += m.access;
        e.unique_users += m.unique_users;
    }
    a
}
