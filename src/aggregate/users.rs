//! The per-user fact table (`user_activity`) and the distinct counts
//! drawn from it.
//!
//! A row holds one user's month in one structure under one profile, with
//! the days of the month they logged in and were active as bit sets. That
//! is all a distinct count at day, week or month grain needs, so a run
//! over all the logs and a merge of runs over shards of them count from
//! the same rows: rows of the same key from two shards combine by adding
//! counts and joining day sets.

use super::grid::Layout;
use super::key::{Fact, FactKey, Grain};
use super::month_rows::Combine;
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, StructureId};
use crate::hash::FastSet;
use crate::parse::Profile;
use crate::sketch;
use crate::time::month_start;
use datasketches::hll::{Coupon, HllSketch};

/// One row of `user_activity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserActivityRow {
    /// First day of the month.
    pub month: i32,
    /// Keyed pseudonym of the user.
    pub user_key: i64,
    /// Profile of the user's events.
    pub profile: Profile,
    /// Structure index, or [`NO_STRUCTURE`].
    pub structure: StructureId,
    /// `LOGIN` events.
    pub connections: i64,
    /// `ACCESS` events.
    pub access: i64,
    /// Local days of the month with a `LOGIN`: bit `d - 1` for day `d`.
    pub login_days: u32,
    /// Local days of the month with any event, the same way.
    pub active_days: u32,
    /// First event, epoch ms.
    pub first_ms: i64,
    /// Last event, epoch ms.
    pub last_ms: i64,
    /// The HLL coupon of the user's raw id, in a run's rows with a
    /// `LOGIN` (not written: a merge reads the runs' sketches instead).
    pub coupon: Option<Coupon>,
}

impl UserActivityRow {
    /// The row of one day's fact.
    pub fn of_fact(k: &FactKey, f: &Fact) -> UserActivityRow {
        let month = month_start(k.day);
        let bit = 1u32 << (k.day - month);
        UserActivityRow {
            month,
            user_key: k.user as i64,
            profile: k.profile,
            structure: k.structure,
            connections: i64::from(f.connections),
            access: i64::from(f.access),
            login_days: if f.connections > 0 { bit } else { 0 },
            active_days: bit,
            first_ms: f.first_ms,
            last_ms: f.last_ms,
            coupon: f.coupon,
        }
    }
}

/// The local days of a day set of the month starting on day `month`.
pub fn days_of(month: i32, mut days: u32) -> impl Iterator<Item = i32> {
    std::iter::from_fn(move || {
        (days != 0).then(|| {
            let d = days.trailing_zeros();
            days &= days - 1;
            month + d as i32
        })
    })
}

impl Combine for UserActivityRow {
    type Key = (u64, i32, Profile, StructureId);

    fn key(&self) -> Self::Key {
        (self.user_key as u64, self.month, self.profile, self.structure)
    }

    fn fold(&mut self, o: &Self) {
        self.coupon = self.coupon.or(o.coupon);
        self.connections += o.connections;
        self.access += o.access;
        self.login_days |= o.login_days;
        self.active_days |= o.active_days;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }
}

/// The months of `rows` (first days), each once.
pub fn months(rows: &[UserActivityRow]) -> FastSet<i32> {
    let mut months = FastSet::default();
    let mut last = None;
    for r in rows {
        // A user's rows come month after month: most repeat the last.
        if last != Some(r.month) {
            months.insert(r.month);
            last = Some(r.month);
        }
    }
    months
}

/// Distinct visitors of some users: a grid of counts, and the month
/// sketches of the users' coupons.
pub struct Visitors {
    /// One count per cell of the layout, beside the number of the last
    /// user counted in it: a user's days reach the same week and month
    /// cells many times, and this tells a repeat without sorting the
    /// user's cells. Side by side, the two are one cache line to fetch.
    cells: Vec<SeenCount>,
    /// Sketches of the month cells of the layout (numbered by
    /// [`Layout::month_cell`]), when coupons are given.
    pub sketches: Vec<Option<HllSketch>>,
    /// Users counted so far.
    users: u32,
}

/// A cell of [`Visitors`]: the last user counted, and the count.
#[derive(Clone, Copy, Default)]
struct SeenCount {
    seen: u32,
    count: u32,
}

impl Visitors {
    /// No visitor yet, in `layout`; with room for month sketches if
    /// `sketches`.
    pub fn new(layout: &Layout, sketches: bool) -> Visitors {
        let months = if sketches { layout.month_cells() } else { 0 };
        Visitors {
            cells: vec![SeenCount::default(); layout.len()],
            sketches: vec![None; months],
            users: 0,
        }
    }

    /// The count of every cell of the layout, and the sketch of every
    /// month cell.
    pub fn into_grid(self) -> (Vec<u32>, Vec<Option<HllSketch>>) {
        (self.cells.iter().map(|c| c.count).collect(), self.sketches)
    }

    /// Counts user number `user` in cell `i`, once.
    #[inline]
    fn count(&mut self, i: usize, user: u32) {
        let cell = &mut self.cells[i];
        if cell.seen != user {
            cell.seen = user;
            cell.count += 1;
        }
    }
}

/// The scopes a row of `structure` counts in: the platform, then the
/// structure and its segment when there are; the first `n` of the array.
fn scopes_of(dims: &Dimensions, structure: StructureId) -> ([ScopeKey; 3], usize) {
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
    (scopes, n)
}

/// Counts the users of `rows` (combined, sorted by user) into `out`: each
/// user counts once in every row (grain, period, scope, profile) they
/// logged in. When `out` keeps sketches, each user with a coupon (see
/// [`UserActivityRow::coupon`]) also enters the sketch of each of their
/// month rows.
pub fn count_visitors(
    rows: &[UserActivityRow],
    dims: &Dimensions,
    layout: &Layout,
    out: &mut Visitors,
) {
    let keeps_sketches = !out.sketches.is_empty();
    for user_rows in rows.chunk_by(|a, b| a.user_key == b.user_key) {
        out.users += 1;
        let user = out.users;
        for r in user_rows {
            let (scopes, n) = scopes_of(dims, r.structure);
            // The row's (scope, profile) pairs: its profile and `All`.
            let mut pairs = [(ScopeKey::PLATFORM, None); 6];
            for (i, &s) in scopes[..n].iter().enumerate() {
                (pairs[2 * i], pairs[2 * i + 1]) = ((s, Some(r.profile)), (s, None));
            }
            let pairs = &pairs[..2 * n];
            // The layout is made from the rows' months: every one is there.
            let Some(periods_of) = layout.month_periods(r.month) else { continue };
            for day in days_of(r.month, r.login_days) {
                for period in periods_of(day) {
                    for &(scope, profile) in pairs {
                        out.count(layout.cell(period, scope, profile), user);
                    }
                }
            }
            // A sketch takes a coupon once however often it is given: each
            // row with a login enters its month cells.
            if let Some(c) = r.coupon.filter(|_| keeps_sketches && r.login_days != 0) {
                let month = periods_of(r.month)[Grain::Month as usize];
                for &(scope, profile) in pairs {
                    let sketch = &mut out.sketches[layout.month_cell(month, scope, profile)];
                    sketch.get_or_insert_with(sketch::new_sketch).update_with_coupon(c);
                }
            }
        }
    }
}
