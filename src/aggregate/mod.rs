//! Per-worker aggregate state: fold events in, merge states, finish into
//! rows.
//!
//! A worker keeps two tables:
//!
//! - **counters** by (local day, scope, profile): connections, access and
//!   activations. Counts add up, so weeks, months and the `All` profile are
//!   sums of these at the end. An event counts once at platform level,
//!   once per distinct segment and once per distinct structure it names.
//! - **facts** by (user key, local day, structure, profile): the user's
//!   connections, access and first/last instants that day. Every distinct
//!   count and the `user_activity` table come from facts, grouped by user;
//!   nothing distinct is ever summed. Facts are kept in one table per
//!   local day, as logs come in time order and the day being read then
//!   has a table that stays in cache; states merge day by day in
//!   parallel, and the final stage deals the facts into shards by user
//!   key, one shard per task.
//!
//! Both tables only grow with the number of distinct (user, day) pairs and
//! (day, structure) pairs, never with the number of events.

pub mod apps;
mod by_day;
pub mod finish;
mod grid;
pub mod http;
pub mod intern;
pub mod scope;
pub mod users;
pub mod visits;

use crate::hash::FastMap;
use crate::keys::UserKeyer;
use crate::parse::access::LoginRule;
use crate::parse::{Event, EventKind, ParseError, Profile};
use crate::referential::Referential;
use crate::sketch;
use crate::time::LocalDays;
use apps::{AppId, Apps, LocalApps};
use by_day::ByDay;
use datasketches::hll::Coupon;
use http::HttpAgg;
use rayon::prelude::*;
use scope::{Interner, LocalInterner, NO_STRUCTURE, ScopeKey, SegmentId, StructureId};
use std::ops::{AddAssign, RangeInclusive};
use visits::VisitEvent;

/// Number of user shards (by the top bits of the user key): what the
/// final stage and merges split users into, one task per shard.
pub const SHARDS: usize = 64;

/// The shard of a user key: its top six bits.
#[inline]
pub fn user_shard(user: u64) -> usize {
    (user >> (u64::BITS - SHARDS.trailing_zeros())) as usize
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
    fn of(kind: EventKind) -> Option<Counts> {
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
}

impl Fact {
    fn merge(&mut self, o: &Fact) {
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

/// One event, resolved: what [`Agg::add`] folds in.
#[derive(Clone, Copy, Debug)]
pub struct Record<'s> {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day number.
    pub day: i32,
    /// Local hour, 0-23.
    pub hour: u8,
    /// The user's profile.
    pub profile: Profile,
    /// What happened.
    pub kind: EventKind,
    /// The instant, epoch ms.
    pub time_ms: i64,
    /// Distinct structures of the event, with their segments.
    pub structures: &'s [(StructureId, Option<SegmentId>)],
    /// The application opened, for `ACCESS` events.
    pub app: Option<AppId>,
    /// The raw user id, hashed into an HLL coupon on the user's first
    /// `LOGIN` in this state.
    pub raw_user: &'s [u8],
}

/// One worker's aggregate state.
#[derive(Clone, Debug)]
pub struct Agg {
    /// Longest gap inside a visit, ms: visit events that cannot change a
    /// visit are not kept (see [`push_visit_event`]).
    visit_gap_ms: i64,
    counters: FastMap<CounterKey, Counts>,
    /// Connections by (local day, local hour, profile).
    hourly: FastMap<(i32, u8, Profile), u64>,
    /// Facts by day: the table of the day being read stays in cache.
    facts: ByDay<FastMap<FactKey, Fact>>,
    /// Facts of the last (user, day, profile) folded in, one per structure,
    /// not yet in `facts`: a page is many requests of one user in a row,
    /// and a lookup in a large table costs a cache miss per event.
    /// [`Agg::settle_facts`] moves them in.
    pending: Vec<(FactKey, Fact)>,
    /// `ACCESS` events by user, day, application and profile (sharded by
    /// user key).
    app_facts: Vec<FastMap<AppFactKey, u32>>,
    /// Every activity event, for visits (sharded by user key).
    /// A shard is a list of pieces: merging states moves pieces instead of
    /// copying events; the final stage joins a shard's pieces.
    visit_events: Vec<Vec<Vec<VisitEvent>>>,
    /// Whether `visit_events` is kept (it is the largest part of the state).
    keep_visits: bool,
    /// The HLL coupon of each user with a `LOGIN` (sharded by user like
    /// `facts`): the raw id is gone by the final stage.
    coupons: Vec<FastMap<u64, Coupon>>,
    /// Figures of HTTP access logs.
    pub http: HttpAgg,
}

impl Default for Agg {
    fn default() -> Self {
        Agg::new()
    }
}

impl Agg {
    /// An empty state; cheap (no table is allocated before use).
    pub fn new() -> Agg {
        Agg {
            visit_gap_ms: DEFAULT_VISIT_GAP_MS,
            counters: FastMap::default(),
            hourly: FastMap::default(),
            facts: ByDay::default(),
            pending: Vec::new(),
            app_facts: vec![FastMap::default(); SHARDS],
            visit_events: vec![vec![Vec::new()]; SHARDS],
            keep_visits: true,
            coupons: vec![FastMap::default(); SHARDS],
            http: HttpAgg::default(),
        }
    }

    /// An empty state that does not keep what visits need: no visit
    /// figures, and no memory spent on every event.
    pub fn without_visits() -> Agg {
        Agg { keep_visits: false, ..Agg::new() }
    }

    /// An empty state for visits cut at gaps over `gap_ms`.
    pub fn with_visit_gap(gap_ms: i64) -> Agg {
        Agg { visit_gap_ms: gap_ms, ..Agg::new() }
    }

    /// Folds one resolved event in.
    #[inline]
    pub fn add(&mut self, r: &Record<'_>) {
        let Record { user, day, hour, profile, kind, time_ms, structures, app, raw_user } = *r;
        if kind == EventKind::Admin {
            return;
        }
        if kind == EventKind::Login {
            *self.hourly.entry((day, hour, profile)).or_default() += 1;
            self.coupons[user_shard(user)].entry(user).or_insert_with(|| sketch::coupon(raw_user));
        }
        if let Some(app) = app {
            *self.app_facts[user_shard(user)]
                .entry(AppFactKey { user, day, app, profile })
                .or_default() += 1;
        }
        if let Some(delta) = Counts::of(kind) {
            let mut count = |scope| {
                *self.counters.entry(CounterKey { day, scope, profile }).or_default() += delta;
            };
            count(ScopeKey::PLATFORM);
            for (i, &(s, seg)) in structures.iter().enumerate() {
                count(ScopeKey::structure(s));
                // Once per distinct segment: skip a segment already counted
                // for an earlier structure of this event.
                if let Some(seg) = seg
                    && !structures[..i].iter().any(|&(_, g)| g == Some(seg))
                {
                    count(ScopeKey::segment(seg));
                }
            }
        }
        let fact = Fact {
            connections: u32::from(kind == EventKind::Login),
            access: u32::from(kind == EventKind::Access),
            first_ms: time_ms,
            last_ms: time_ms,
        };
        if self
            .pending
            .first()
            .is_some_and(|(k, _)| (k.user, k.day, k.profile) != (user, day, profile))
        {
            self.settle_facts();
        }
        let pending = &mut self.pending;
        // A worker's own events go to the first piece of the shard.
        let mut events = self.keep_visits.then(|| &mut self.visit_events[user_shard(user)][0]);
        let gap_ms = self.visit_gap_ms;
        let mut put = |structure| {
            match pending.iter_mut().find(|(k, _)| k.structure == structure) {
                Some((_, f)) => f.merge(&fact),
                None => pending.push((FactKey { user, day, structure, profile }, fact)),
            }
            if let Some(events) = events.as_mut() {
                let e = VisitEvent { user, time_ms, profile, structure, day_tag: day as u8 };
                push_visit_event(events, e, gap_ms);
            }
        };
        if structures.is_empty() {
            put(NO_STRUCTURE);
        }
        for &(s, _) in structures {
            put(s);
        }
    }

    /// Moves the pending facts into the fact table.
    fn settle_facts(&mut self) {
        for (k, f) in self.pending.drain(..) {
            self.facts.at(k.day).entry(k).and_modify(|g| g.merge(&f)).or_insert(f);
        }
    }

    /// Combines two states; the result is the state of the events of both.
    pub fn merge(mut self, mut other: Agg) -> Agg {
        self.settle_facts();
        other.settle_facts();
        // The HTTP figures merge alongside the other tables.
        let http = &mut self.http;
        rayon::join(
            || http.merge(other.http),
            || {
                merge_maps(&mut self.counters, &mut other.counters, |x, y| *x += *y);
                merge_maps(&mut self.hourly, &mut other.hourly, |x, y| *x += y);
                self.facts.merge(other.facts, |a, mut b| merge_maps(a, &mut b, Fact::merge));
                self.app_facts.par_iter_mut().zip(other.app_facts.par_iter_mut()).for_each(
                    |(a, b)| {
                        merge_maps(a, b, |x, y| *x += y);
                    },
                );
                for (a, b) in self.coupons.iter_mut().zip(other.coupons.iter_mut()) {
                    merge_maps(a, b, |_, _| {});
                }
                for (a, b) in self.visit_events.iter_mut().zip(other.visit_events) {
                    a.extend(b);
                }
            },
        );
        self
    }

    /// Number of facts held (distinct user x day x structure x profile),
    /// the pending ones moved into the table first.
    pub fn fact_count(&mut self) -> usize {
        self.settle_facts();
        self.facts.iter().map(|(_, m)| m.len()).sum()
    }
}

/// The visit gap of the national audience measure, 30 minutes.
pub const DEFAULT_VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// Appends `e` to a worker's visit events, or replaces the last event with
/// it when that one cannot change any visit: when the last two events `a`,
/// `b` and `e` are the same user's, in the same structure under the same
/// profile, in time order, and `e` is within the visit gap of `a` on the
/// same local day. Then `a` and `e` fall in one visit whatever else the
/// user did, and `b`, between them, adds no start, end, profile or
/// structure to it. Access logs write a page's requests in a burst: most
/// of them go.
#[inline]
fn push_visit_event(events: &mut Vec<VisitEvent>, e: VisitEvent, gap_ms: i64) {
    // `day_tag` is the local day modulo 256: equal tags are the same day
    // for events less than 256 days apart.
    const MAX_GAP_MS: i64 = 255 * 86_400_000;
    if let [.., a, b] = events.as_mut_slice() {
        let track = |x: &VisitEvent| (x.user, x.profile, x.structure);
        if track(a) == track(b)
            && track(b) == track(&e)
            && a.time_ms <= b.time_ms
            && b.time_ms <= e.time_ms
            && e.time_ms - a.time_ms <= gap_ms
            && gap_ms < MAX_GAP_MS
            && a.day_tag == e.day_tag
        {
            *b = e;
            return;
        }
    }
    events.push(e);
}

/// Moves the entries of `b` into `a` (the larger of the two receives),
/// combining values of equal keys with `combine`.
fn merge_maps<K: Eq + std::hash::Hash, V>(
    a: &mut FastMap<K, V>,
    b: &mut FastMap<K, V>,
    combine: impl Fn(&mut V, &V),
) {
    if a.len() < b.len() {
        std::mem::swap(a, b);
    }
    for (k, v) in b.drain() {
        match a.get_mut(&k) {
            Some(x) => combine(x, &v),
            None => {
                a.insert(k, v);
            }
        }
    }
}

/// What the users referential says of a user, resolved for the hot path.
#[derive(Clone, Debug)]
pub struct KnownUser {
    /// The user's profile.
    pub profile: Profile,
    /// The user's distinct structures, with their segments.
    pub structures: Vec<(StructureId, Option<SegmentId>)>,
}

/// What every worker shares: the salt's keyer, the structure table and
/// the time zone.
pub struct Context {
    /// Hashes user ids to pseudonyms.
    pub keyer: UserKeyer,
    /// Structures and segments seen so far.
    pub interner: Interner,
    /// Applications seen so far.
    pub apps: Apps,
    /// Local days in the run's time zone.
    pub days: LocalDays,
    /// Whether to keep what visits need.
    pub visits: bool,
    /// Longest gap inside a visit, ms.
    pub visit_gap_ms: i64,
    /// Users of the referential, by key: they give the profile and
    /// structures of records that do not carry them.
    pub users: FastMap<u64, KnownUser>,
    /// Which HTTP requests are logins.
    pub login: LoginRule,
    /// The local days an event may fall on; events outside are rejected
    /// (a device with a reset clock must not add a year to every table).
    pub valid_days: RangeInclusive<i32>,
}

impl Context {
    /// A context with visits on and the default login rule; structures
    /// and users come from `referential`.
    pub fn new(keyer: UserKeyer, mut referential: Referential, days: LocalDays) -> Context {
        let users = std::mem::take(&mut referential.users);
        let interner = Interner::new(referential);
        let users = users
            .into_iter()
            .map(|u| {
                let mut structures: Vec<(StructureId, Option<SegmentId>)> = Vec::new();
                for s in &u.structures {
                    let id = interner.intern(s);
                    if !structures.contains(&id) {
                        structures.push(id);
                    }
                }
                (keyer.key(&u.id), KnownUser { profile: u.profile, structures })
            })
            .collect();
        Context {
            keyer,
            interner,
            apps: Apps::default(),
            days,
            visits: true,
            visit_gap_ms: DEFAULT_VISIT_GAP_MS,
            users,
            login: LoginRule::default(),
            valid_days: i32::MIN..=i32::MAX,
        }
    }
}

/// The last user a worker keyed.
struct LastUser<'c> {
    id: Vec<u8>,
    key: u64,
    known: Option<&'c KnownUser>,
}

/// A worker: its caches and its aggregate state.
pub struct Worker<'c> {
    ctx: &'c Context,
    days: LocalDays,
    structures: LocalInterner,
    apps: LocalApps,
    scratch: Vec<(StructureId, Option<SegmentId>)>,
    /// The last user id keyed and its key: access logs write a user's
    /// requests in runs, and comparing is cheaper than keying.
    /// With the user's entry in the users referential.
    last_user: LastUser<'c>,
    /// [`Context::valid_days`], first and last.
    valid_days: (i32, i32),
    /// The state folded so far.
    pub agg: Agg,
}

impl<'c> Worker<'c> {
    /// A worker with an empty state.
    pub fn new(ctx: &'c Context) -> Worker<'c> {
        Worker {
            ctx,
            days: ctx.days.clone(),
            structures: LocalInterner::default(),
            apps: LocalApps::default(),
            scratch: Vec::with_capacity(8),
            last_user: LastUser { id: Vec::with_capacity(64), key: 0, known: None },
            valid_days: (*ctx.valid_days.start(), *ctx.valid_days.end()),
            agg: if ctx.visits {
                Agg::with_visit_gap(ctx.visit_gap_ms)
            } else {
                Agg::without_visits()
            },
        }
    }

    /// Folds one parsed event in and returns its instant (a wall-clock
    /// time is converted in the run's time zone). Fails when the instant
    /// is outside the calendar's range or its local day outside
    /// [`Context::valid_days`].
    #[inline]
    pub fn consume(&mut self, ev: &Event<'_>) -> Result<i64, ParseError> {
        let time_ms = if ev.naive_time {
            self.days.naive_to_ms(ev.time_ms).ok_or(ParseError::InvalidDate)?
        } else {
            ev.time_ms
        };
        let (day, hour) = self.days.locate(time_ms).ok_or(ParseError::InvalidDate)?;
        if day < self.valid_days.0 || day > self.valid_days.1 {
            return Err(ParseError::OutsideWindow);
        }
        if ev.kind == EventKind::Admin {
            return Ok(time_ms);
        }
        // Access logs have requests without a logged user: they count in
        // the HTTP figures only.
        let (user, known) = if ev.user.is_empty() {
            (None, None)
        } else {
            let last = &mut self.last_user;
            if *ev.user != *last.id || last.id.is_empty() {
                last.key = self.ctx.keyer.key(&ev.user);
                last.id.clear();
                last.id.extend_from_slice(&ev.user);
                last.known = self.ctx.users.get(&last.key);
            }
            (Some(last.key), last.known)
        };
        let profile = match (ev.profile, known) {
            (Profile::Unknown, Some(k)) => k.profile,
            (p, _) => p,
        };
        let mut kind = ev.kind;
        if let Some(h) = &ev.http {
            self.agg.http.add(day, profile, h, user);
            if self.ctx.login.matches(h) {
                kind = EventKind::Login;
            }
        }
        let Some(user) = user else { return Ok(time_ms) };
        self.scratch.clear();
        for s in &ev.structures {
            let (id, seg) = self.structures.get(&self.ctx.interner, s);
            if !self.scratch.iter().any(|&(x, _)| x == id) {
                self.scratch.push((id, seg));
            }
        }
        let structures = match known {
            Some(k) if self.scratch.is_empty() => &k.structures,
            _ => &self.scratch,
        };
        let app = (kind == EventKind::Access).then(|| self.apps.get(&self.ctx.apps, &ev.module));
        let raw_user = &ev.user;
        self.agg.add(&Record {
            user,
            day,
            hour,
            profile,
            kind,
            time_ms,
            structures,
            app,
            raw_user,
        });
        Ok(time_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Format;
    use jiff::tz::TimeZone;

    fn context() -> Context {
        Context::new(
            UserKeyer::new("test"),
            Referential::empty(),
            LocalDays::new(TimeZone::get("Europe/Paris").unwrap()),
        )
    }

    fn fold(ctx: &Context, lines: &[String]) -> Agg {
        let mut w = Worker::new(ctx);
        for l in lines {
            let mut ev = Event::default();
            if Format::EntcoreJson.parse(l.as_bytes(), &mut ev).is_ok() {
                w.consume(&ev).unwrap();
            }
        }
        w.agg
    }

    fn sample_lines() -> Vec<String> {
        let kinds = ["LOGIN", "ACCESS", "ACTIVATION", "CONNECTOR", "CREATE_USER"];
        let profiles = ["Student", "Relative", "Teacher"];
        (0..3000u64)
            .map(|i| {
                let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                format!(
                    r#"{{"event-type":"{}","date":{},"userId":"u{}","profil":"{}","structures":["s{}","s{}"]}}"#,
                    kinds[(x >> 3) as usize % kinds.len()],
                    1_580_000_000_000 + (x >> 20) as i64 % 5_000_000_000,
                    (x >> 11) % 97,
                    profiles[(x >> 17) as usize % 3],
                    (x >> 23) % 5,
                    (x >> 29) % 5,
                )
            })
            .collect()
    }

    /// The figures of a state, finished (visit events are not comparable
    /// as such: which ones a worker keeps depends on how input was cut).
    fn figures(agg: Agg, ctx: &Context) -> impl PartialEq + std::fmt::Debug {
        let settings =
            finish::Settings { days: ctx.days.clone(), visit_gap_ms: DEFAULT_VISIT_GAP_MS };
        let t = finish::finish(agg, ctx.interner.dimensions(&ctx.apps), &settings);
        (t.audience, t.user_activity, t.user_visits, t.hourly, t.apps, t.user_modules, t.sketches)
    }

    #[test]
    fn merge_of_folds_is_fold_of_concatenation() {
        let ctx = context();
        let lines = sample_lines();
        let mut whole = fold(&ctx, &lines);
        assert!(whole.fact_count() > 1000);
        let whole = figures(whole, &ctx);
        for cut in [0, 1, 1500, 2999, 3000] {
            let (a, b) = lines.split_at(cut);
            let ab = figures(fold(&ctx, a).merge(fold(&ctx, b)), &ctx);
            assert!(ab == whole, "cut at {cut}");
            let ba = figures(fold(&ctx, b).merge(fold(&ctx, a)), &ctx);
            assert!(ba == whole, "cut at {cut}");
        }
    }

    #[test]
    fn an_event_counts_once_per_distinct_structure() {
        let ctx = context();
        let line = r#"{"event-type":"LOGIN","date":1584345600000,"userId":"u","structures":["a","a","b"]}"#;
        let mut agg = fold(&ctx, &[line.to_string()]);
        let platform: u64 = agg
            .counters
            .iter()
            .filter(|(k, _)| k.scope == ScopeKey::PLATFORM)
            .map(|(_, c)| c.connections)
            .sum();
        assert_eq!(platform, 1);
        assert_eq!(agg.counters.len(), 3);
        assert_eq!(agg.fact_count(), 2);
    }
}
