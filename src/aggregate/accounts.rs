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
use super::key::{Grain, Metrics, RowKey, combine_rows};
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, SegmentId, StructureId};
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

/// One row of `accounts.parquet`: one account in one structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountRow {
    /// Keyed pseudonym of the user.
    pub user_key: i64,
    /// The account's profile.
    pub profile: Profile,
    /// Structure index, or [`NO_STRUCTURE`].
    pub structure: StructureId,
    /// Activated by the end of the logs.
    pub activated: bool,
    /// Local day of its first `ACTIVATION` event, if the logs hold one
    /// (an activated account without one was activated before the logs).
    pub activated_on: Option<i32>,
}

/// The rows of every account of `directory`, with the first activation
/// day of each user in `activations`.
pub fn rows(directory: &Directory, activations: &FastMap<u64, i32>) -> Vec<AccountRow> {
    let mut rows = Vec::with_capacity(directory.len());
    for (&user, u) in directory {
        let activated_on = activations.get(&user).copied();
        let row = |structure| AccountRow {
            user_key: user as i64,
            profile: u.profile,
            structure,
            activated: u.activated || activated_on.is_some(),
            activated_on,
        };
        if u.structures.is_empty() {
            rows.push(row(NO_STRUCTURE));
        }
        rows.extend(u.structures.iter().map(|&(s, _)| row(s)));
    }
    rows
}

/// Combines the rows of one account and structure (from runs being
/// merged: activated if any says so, from the earliest activation seen),
/// and sorts them by user key, profile name and structure id.
pub fn combine(rows: Vec<AccountRow>, dims: &Dimensions) -> Vec<AccountRow> {
    let mut rows = combine_rows(
        rows,
        |r| (r.user_key, r.profile, r.structure),
        |a, o| {
            (a.activated, a.activated_on) =
                earliest_activation((a.activated, a.activated_on), (o.activated, o.activated_on));
        },
    );
    let text = |s| dims.structure_text(s);
    rows.sort_unstable_by(|a, b| {
        (a.user_key, a.profile.name(), text(a.structure)).cmp(&(
            b.user_key,
            b.profile.name(),
            text(b.structure),
        ))
    });
    rows
}

/// The users with a `LOGIN` in `users` (user activity rows, by shard) who
/// are not among `accounts` (sorted by user key): logins of users missing
/// from a directory that should list every account. None without
/// accounts.
///
/// Each shard's rows are combined (see `users::combine`), so a user's rows
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

/// Fills `accounts` and `activated_accounts` into `rows`: for each period
/// already in `rows`, every scope and profile with accounts (combined
/// rows, sorted by account: see [`combine`]).
pub fn fill(rows: &mut FastMap<RowKey, Metrics>, accounts: &[AccountRow], dims: &Dimensions) {
    if accounts.is_empty() {
        return;
    }
    // The activation day of each account in each (scope, profile) cell,
    // sorted: the activated accounts of a period are a prefix.
    let mut cells: FastMap<(ScopeKey, Option<Profile>), Vec<i32>> = FastMap::default();
    let (mut structures, mut scopes) = (Vec::new(), Vec::new());
    for account in accounts.chunk_by(|a, b| a.user_key == b.user_key) {
        let day = account
            .iter()
            .map(|r| activation_day(r.activated, r.activated_on))
            .min()
            .unwrap_or(i32::MAX);
        structures.clear();
        structures.extend(account.iter().map(|r| r.structure).filter(|&s| s != NO_STRUCTURE));
        structures.sort_unstable();
        structures.dedup();
        dims.scopes_naming(&structures, &mut scopes);
        for &scope in &scopes {
            for profile in [Some(account[0].profile), None] {
                cells.entry((scope, profile)).or_default().push(day);
            }
        }
    }
    cells.values_mut().for_each(|days| days.sort_unstable());
    let mut periods: Vec<(Grain, i32)> = rows.keys().map(|k| (k.grain, k.period)).collect();
    periods.sort_unstable();
    periods.dedup();
    // Most cells of days without activity are new rows: one growth of
    // the table rather than several.
    rows.reserve(periods.len() * cells.len() / 4);
    for (grain, period) in periods {
        let last = grain.last_day(period);
        for (&(scope, profile), days) in &cells {
            let m = rows.entry(RowKey { grain, period, scope, profile }).or_default();
            m.accounts = days.len() as i64;
            m.activated_accounts = days.partition_point(|&d| d <= last) as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::days_from_civil;

    fn row(user: i64, structure: StructureId, activated: bool, on: Option<i32>) -> AccountRow {
        AccountRow {
            user_key: user,
            profile: Profile::Student,
            structure,
            activated,
            activated_on: on,
        }
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
            &Dimensions::default(),
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
        let mut rows = FastMap::default();
        for day in [march, mid - 1, mid, march + 30] {
            rows.insert(
                RowKey { grain: Grain::Day, period: day, scope: ScopeKey::PLATFORM, profile: None },
                Metrics::default(),
            );
        }
        let month =
            RowKey { grain: Grain::Month, period: march, scope: ScopeKey::PLATFORM, profile: None };
        rows.insert(month, Metrics::default());
        let accounts = combine(
            vec![
                row(1, NO_STRUCTURE, true, Some(mid)),
                row(2, NO_STRUCTURE, true, None),
                row(3, NO_STRUCTURE, false, None),
            ],
            &dims,
        );
        fill(&mut rows, &accounts, &dims);
        let on = |day| {
            let k =
                RowKey { grain: Grain::Day, period: day, scope: ScopeKey::PLATFORM, profile: None };
            (rows[&k].accounts, rows[&k].activated_accounts)
        };
        assert_eq!(
            [on(march), on(mid - 1), on(mid), on(march + 30)],
            [(3, 1), (3, 1), (3, 2), (3, 2)]
        );
        assert_eq!((rows[&month].accounts, rows[&month].activated_accounts), (3, 2));
        let student = RowKey { profile: Some(Profile::Student), ..month };
        assert_eq!(rows[&student].accounts, 3);
    }
}
