//! The vocabulary every figure shares: calendar grains, row keys, the keys
//! and values of the per-user facts, user shards. It imports no figure.

use super::app_names::AppId;
use super::scope::{ScopeKey, StructureId};
use crate::alloc::HandBack;
use crate::parse::{EventKind, Profile};
use crate::time::{month_start, next_month_start, week_start};
use datasketches::hll::Coupon;
use std::ops::AddAssign;

/// Number of user shards (by the top bits of the user key): what the
/// final stage and merges split users into, one task per shard.
pub const SHARDS: usize = 64;

/// The shard of a user key: its top six bits.
#[inline]
pub fn user_shard(user: u64) -> usize {
    (user >> (u64::BITS - SHARDS.trailing_zeros())) as usize
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
    /// Accounts of the directory (`users.csv`) in the row's scope and
    /// profile.
    pub accounts: i64,
    /// Of those, the accounts activated by the end of the period.
    pub activated_accounts: i64,
}

/// Event counts of one counter cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `LOGIN` events.
    pub connections: u64,
    /// `ACCESS` events.
    pub access: u64,
    /// `ACTIVATION` events.
    pub activations: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.connections += o.connections;
        self.access += o.access;
        self.activations += o.activations;
    }
}

impl Counts {
    /// The counts one event of `kind` adds, or `None` for kinds that are
    /// not counted.
    pub(super) fn of(kind: EventKind) -> Option<Counts> {
        let one = |c, a, v| Some(Counts { connections: c, access: a, activations: v });
        match kind {
            EventKind::Login => one(1, 0, 0),
            EventKind::Access => one(0, 1, 0),
            EventKind::Activation => one(0, 0, 1),
            EventKind::Admin | EventKind::Other => None,
        }
    }
}

/// Key of a counter cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    /// Local day number.
    pub day: i32,
    /// Platform, segment or structure.
    pub scope: ScopeKey,
    /// The event's profile.
    pub profile: Profile,
}

/// Key of a fact: one user, one local day, one structure, one profile.
/// The derived order groups facts by user, then day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FactKey {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day number.
    pub day: i32,
    /// Structure, or [`NO_STRUCTURE`].
    pub structure: StructureId,
    /// The profile the user had in the events.
    pub profile: Profile,
}

/// What a user did on one day in one structure under one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact {
    /// `LOGIN` events.
    pub connections: u32,
    /// `ACCESS` events.
    pub access: u32,
    /// First event instant, epoch ms.
    pub first_ms: i64,
    /// Last event instant, epoch ms.
    pub last_ms: i64,
    /// The HLL coupon of the user's raw id, once a `LOGIN` was folded in
    /// (see [`crate::sketch`]): kept with the facts the user's `LOGIN`
    /// updates anyway, not in a table of every user looked up again.
    pub coupon: Option<Coupon>,
}

impl Fact {
    pub(super) fn merge(&mut self, o: &Fact) {
        self.coupon = self.coupon.or(o.coupon);
        self.connections += o.connections;
        self.access += o.access;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }
}

/// Key of an application-use fact: one user, one day, one application,
/// one profile. Ordered by user first, like [`FactKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppFactKey {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day number.
    pub day: i32,
    /// The application (normalized).
    pub app: AppId,
    /// The profile of the events.
    pub profile: Profile,
}

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

    /// The grain written as `name`.
    pub fn from_name(name: &str) -> Option<Grain> {
        Grain::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The first day of the period of this grain that holds `day`.
    pub fn period(self, day: i32) -> i32 {
        match self {
            Grain::Day => day,
            Grain::Week => week_start(day),
            Grain::Month => month_start(day),
        }
    }

    /// The last day of the period of this grain that starts on `start`.
    pub fn last_day(self, start: i32) -> i32 {
        match self {
            Grain::Day => start,
            Grain::Week => start + 6,
            Grain::Month => next_month_start(start) - 1,
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

/// The profile name of rows over every profile.
pub const ALL_PROFILES: &str = "All";

/// The name of a row's profile.
pub fn profile_name(p: Option<Profile>) -> &'static str {
    p.map_or(ALL_PROFILES, Profile::name)
}

/// The profile a row's profile name stands for: `None` for
/// [`ALL_PROFILES`].
pub fn profile_of(name: &str) -> Option<Profile> {
    (name != ALL_PROFILES).then(|| Profile::from_name(name.as_bytes()))
}

/// The pieces one after the other, each freed once copied and handed
/// back to the system every so often ([`HandBack`]): the rows are held
/// once and a little more, not twice.
pub fn concat_moved<T>(pieces: Vec<Vec<T>>) -> Vec<T> {
    let mut all = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
    let mut hand_back = HandBack::default();
    for piece in pieces {
        let bytes = piece.capacity() * size_of::<T>();
        all.extend(piece);
        hand_back.freed(bytes);
    }
    all
}

/// Sorts rows by `key` (user first) and folds rows of equal keys into one
/// with `fold`.
pub fn combine_rows<R, K: Ord>(
    mut rows: Vec<R>,
    key: impl Fn(&R) -> K,
    fold: impl Fn(&mut R, &R),
) -> Vec<R> {
    rows.sort_unstable_by_key(&key);
    rows.dedup_by(|b, a| {
        let same = key(a) == key(b);
        if same {
            fold(a, b);
        }
        same
    });
    rows
}
