//! Accounts loaded and activated ("comptes chargés", "comptes activés"):
//! the denominators of activation and usage rates.
//!
//! The accounts are the users of the referential's `users.csv` (the
//! directory export), whether they log in or not. An account is activated
//! from its first `ACTIVATION` event in the logs; one the directory says is
//! activated and that has no such event was activated before the logs.
//! Each audience row (grain, period, scope, profile) gets the accounts of
//! its scope and profile, and of those the ones activated by the last day
//! of its period; rows are made for every period with data and every
//! scope and profile that has accounts, so a school where nobody logged in
//! shows its accounts beside zero visitors.
//!
//! Runs keep one row per account and structure (`accounts.parquet`), with
//! the first activation they saw: a merge combines the rows of one account
//! by taking the earliest, which is what one run over every log sees.

use super::class_names::ClassId;
use super::grid::Layout;
use super::key::{Grain, RowKey, combine_rows};
use super::scope::{Dimensions, NO_STRUCTURE, SegmentId, StructureId};
use super::users::UserActivityRow;
use crate::hash::FastMap;
use crate::parse::Profile;
use rayon::prelude::*;

/// What the directory (`users.csv`) says of a user, resolved: it gives the
/// profile and structures of records that do not carry them, and makes the
/// user an account.
#[derive(Clone, Debug)]
pub struct KnownUser {
    /// The user's profile.
    pub profile: Profile,
    /// The user's distinct structures, with their segments.
    pub structures: Vec<(StructureId, Option<SegmentId>)>,
    /// The user's distinct classes.
    pub classes: Vec<ClassId>,
    /// Whether the directory says the account is activated.
    pub activated: bool,
}

/// The accounts of the directory, by user key.
pub type Directory = FastMap<u64, KnownUser>;

/// One account in one place: a row of `accounts.parquet` (the place a
/// structure) or of `class_members.parquet` (a class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountRow {
    /// Keyed pseudonym of the user.
    pub user_key: i64,
    /// The account's profile.
    pub profile: Profile,
    /// Structure index, or [`NO_STRUCTURE`], in `accounts.parquet`; class
    /// index in `class_members.parquet`.
    pub place: u32,
    /// Activated by the end of the logs.
    pub activated: bool,
    /// Local day of its first `ACTIVATION` event, if the logs hold one
    /// (an activated account without one was activated before the logs).
    pub activated_on: Option<i32>,
}

/// The rows of every account of `directory` in each of the places
/// `places` lists of it, with the first activation day of each user in
/// `activations`.
pub fn rows(
    directory: &Directory,
    activations: &FastMap<u64, i32>,
    places: impl Fn(&KnownUser, &mut Vec<u32>),
) -> Vec<AccountRow> {
    let mut rows = Vec::with_capacity(directory.len());
    let mut of_user = Vec::new();
    for (&user, u) in directory {
        let activated_on = activations.get(&user).copied();
        of_user.clear();
        places(u, &mut of_user);
        rows.extend(of_user.iter().map(|&place| AccountRow {
            user_key: user as i64,
            profile: u.profile,
            place,
            activated: u.activated || activated_on.is_some(),
            activated_on,
        }));
    }
    rows
}

/// The places of an account in `accounts.parquet`: its structures, or
/// [`NO_STRUCTURE`] for an account without any.
pub fn structures_of(u: &KnownUser, out: &mut Vec<u32>) {
    out.extend(u.structures.iter().map(|&(s, _)| s));
    if out.is_empty() {
        out.push(NO_STRUCTURE);
    }
}

/// Combines the rows of one account and place (from runs being merged:
/// activated if any says so, from the earliest activation seen), and
/// sorts them by user key, profile name and the place's text
/// (`place_text`).
pub fn combine<'d>(
    rows: Vec<AccountRow>,
    place_text: impl Fn(u32) -> Option<&'d str>,
) -> Vec<AccountRow> {
    let mut rows = combine_rows(
        rows,
        |r| (r.user_key, r.profile, r.place),
        |a, o| {
            (a.activated, a.activated_on) =
                earliest_activation((a.activated, a.activated_on), (o.activated, o.activated_on));
        },
    );
    rows.sort_unstable_by(|a, b| {
        (a.user_key, a.profile.name_rank(), place_text(a.place)).cmp(&(
            b.user_key,
            b.profile.name_rank(),
            place_text(b.place),
        ))
    });
    rows
}

/// The users with a `LOGIN` in `users` (user activity rows, by shard) who
/// are not among `accounts` (sorted by user key): logins of users missing
/// from a directory that should list every account. None without
/// accounts.
///
/// Each shard's rows are combined (see `UserActivityRow::combine`), so a user's rows
/// are together.
pub fn visitors_without_account(users: &[Vec<UserActivityRow>], accounts: &[AccountRow]) -> u64 {
    if accounts.is_empty() {
        return 0;
    }
    let known = |user: i64| accounts.binary_search_by_key(&user, |a| a.user_key).is_ok();
    users
        .par_iter()
        .map(|shard| {
            shard
                .chunk_by(|a, b| a.user_key == b.user_key)
                .filter(|rows| rows.iter().any(|r| r.connections > 0) && !known(rows[0].user_key))
                .count() as u64
        })
        .sum()
}

/// The activation of an account that two runs saw as `a` and `b`
/// (activated, and the day of its first `ACTIVATION` event if any): what
/// one run over both runs' logs sees.
pub fn earliest_activation(a: (bool, Option<i32>), b: (bool, Option<i32>)) -> (bool, Option<i32>) {
    let on = match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    (a.0 || b.0, on)
}

/// When an account was activated, as a day to compare with the last day
/// of a period: before every day, a day, or never.
pub fn activation_day(activated: bool, activated_on: Option<i32>) -> i32 {
    match (activated, activated_on) {
        (_, Some(day)) => day,
        (true, None) => i32::MIN,
        (false, None) => i32::MAX,
    }
}

/// The activation day of every account in each cell `cells_of` puts it
/// in (given the account's rows), sorted: the accounts activated by a day
/// are a prefix. `accounts` are combined rows, sorted by account (see
/// [`combine`]).
pub fn cell_days<C: Eq + std::hash::Hash>(
    accounts: &[AccountRow],
    mut cells_of: impl FnMut(&[AccountRow], &mut Vec<C>),
) -> FastMap<C, Vec<i32>> {
    let mut cells: FastMap<C, Vec<i32>> = FastMap::default();
    let mut of_account = Vec::new();
    for account in accounts.chunk_by(|a, b| a.user_key == b.user_key) {
        let day = account
            .iter()
            .map(|r| activation_day(r.activated, r.activated_on))
            .min()
            .unwrap_or(i32::MAX);
        cells_of(account, &mut of_account);
        for cell in of_account.drain(..) {
            cells.entry(cell).or_default().push(day);
        }
    }
    cells.values_mut().for_each(|days| days.sort_unstable());
    cells
}

/// Calls `set(grain, period, cell, accounts, activated)` for every period
/// of `periods` and cell of `cells` (see [`cell_days`]): the cell's
/// accounts, and those activated by the period's last day.
pub fn fill_periods<C>(
    cells: &FastMap<C, Vec<i32>>,
    periods: &[(Grain, i32)],
    mut set: impl FnMut(Grain, i32, &C, i64, i64),
) {
    for &(grain, period) in periods {
        let last = grain.last_day(period);
        for (cell, days) in cells {
            let activated = days.partition_point(|&d| d <= last);
            set(grain, period, cell, days.len() as i64, activated as i64);
        }
    }
}

/// `accounts` and `activated_accounts` of every cell of `layout`, in the
/// periods `periods` (those with rows): every scope and profile with
/// accounts (combined rows, sorted by account: see [`combine`]) gets
/// them, whether or not it had activity. Empty without accounts.
pub fn grid(
    accounts: &[AccountRow],
    dims: &Dimensions,
    layout: &Layout,
    periods: &[(Grain, i32)],
) -> Vec<(i64, i64)> {
    if accounts.is_empty() {
        return Vec::new();
    }
    let (mut structures, mut scopes) = (Vec::new(), Vec::new());
    let cells = cell_days(accounts, |account, cells| {
        structures.clear();
        structures.extend(account.iter().map(|r| r.place).filter(|&s| s != NO_STRUCTURE));
        structures.sort_unstable();
        structures.dedup();
        dims.scopes_naming(&structures, &mut scopes);
        for &scope in &scopes {
            cells.extend([Some(account[0].profile), None].map(|profile| (scope, profile)));
        }
    });
    let mut grid = vec![(0, 0); layout.len()];
    fill_periods(&cells, periods, |grain, period, &(scope, profile), n, activated| {
        if let Some(i) = layout.index(&RowKey { grain, period, scope, profile }) {
            grid[i] = (n, activated);
        }
    });
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scope::ScopeKey;
    use crate::time::days_from_civil;

    fn row(user: i64, place: StructureId, activated: bool, on: Option<i32>) -> AccountRow {
        AccountRow { user_key: user, profile: Profile::Student, place, activated, activated_on: on }
    }

    #[test]
    fn merged_rows_keep_the_first_activation() {
        let rows = combine(
            vec![
                row(1, NO_STRUCTURE, true, Some(20)),
                row(1, NO_STRUCTURE, false, None),
                row(1, NO_STRUCTURE, true, Some(12)),
                row(2, NO_STRUCTURE, false, None),
            ],
            |s| Dimensions::default().structure_text(s).map(|_| ""),
        );
        assert_eq!(
            rows,
            vec![row(1, NO_STRUCTURE, true, Some(12)), row(2, NO_STRUCTURE, false, None)]
        );
    }

    #[test]
    fn an_account_activated_mid_month_counts_from_that_day() {
        let dims = Dimensions::default();
        let march = days_from_civil(2020, 3, 1);
        let mid = march + 15;
        let layout = Layout::new([march], &dims);
        let mut periods: Vec<(Grain, i32)> =
            [march, mid - 1, mid, march + 30].map(|day| (Grain::Day, day)).to_vec();
        periods.push((Grain::Month, march));
        let month =
            RowKey { grain: Grain::Month, period: march, scope: ScopeKey::PLATFORM, profile: None };
        let accounts = combine(
            vec![
                row(1, NO_STRUCTURE, true, Some(mid)),
                row(2, NO_STRUCTURE, true, None),
                row(3, NO_STRUCTURE, false, None),
            ],
            |s| dims.structure_text(s),
        );
        let grid = grid(&accounts, &dims, &layout, &periods);
        let at = |k: RowKey| grid[layout.index(&k).unwrap()];
        let on = |day| {
            at(RowKey { grain: Grain::Day, period: day, scope: ScopeKey::PLATFORM, profile: None })
        };
        assert_eq!(
            [on(march), on(mid - 1), on(mid), on(march + 30)],
            [(3, 1), (3, 1), (3, 2), (3, 2)]
        );
        assert_eq!(at(month), (3, 2));
        assert_eq!(at(RowKey { profile: Some(Profile::Student), ..month }).0, 3);
        // A period without rows gets no accounts.
        assert_eq!(on(march + 1), (0, 0));
    }
}
