//! One worker's aggregate state ([`Agg`]): every figure's table, folded
//! event by event and merged between workers.

use super::app_names::AppId;
use super::apps::AppFacts;
use super::by_day::{ByDay, deal_day};
use super::class_names::ClassId;
use super::classes::ClassActivity;
use super::day_clock::DayClock;
use super::events::EventCounts;
use super::hourly::HourlyCounts;
use super::http::HttpAgg;
use super::key::{Counts, Fact, FactKey, user_shard};
use super::month_rows::MonthRows;
use super::open_visits::OpenVisits;
use super::scope::{NO_STRUCTURE, SegmentId, StructureId};
use super::structure_apps::StructureApps;
use super::users::UserActivityRow;
use super::visit_list::day_base_ms;
use super::visits::Touch;
use crate::device::Device;
use crate::hash::{FastMap, merge_maps};
use crate::parse::{EventKind, Profile};
use crate::spill::Spill;
use datasketches::hll::Coupon;
use std::sync::Arc;

/// One event, resolved: what [`Agg::add`] folds in, the figures any
/// worker may count.
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
    /// Distinct structures of the event, with their segments.
    pub structures: &'s [(StructureId, Option<SegmentId>)],
    /// The application opened, for `ACCESS` events.
    pub app: Option<AppId>,
}

/// One event, resolved: what [`Agg::add_user`] folds in, the facts and
/// visits kept by user, which the worker that owns the user counts (see
/// the `owners` module, which posts it as a `Forward`).
#[derive(Clone, Copy, Debug)]
pub struct UserRecord<'s> {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day number.
    pub day: i32,
    /// The event's instant in its day, the user's profile and the event's
    /// service.
    pub touch: Touch,
    /// What happened.
    pub kind: EventKind,
    /// Distinct structures of the event.
    pub structures: &'s [StructureId],
    /// Distinct classes of the event (or of its user, from the directory).
    pub classes: &'s [ClassId],
    /// The application opened, for `ACCESS` events.
    pub app: Option<AppId>,
    /// The HLL coupon of the user's raw id, for a `LOGIN` (the raw id
    /// stays with the reader).
    pub coupon: Option<Coupon>,
}

/// One worker's aggregate state.
#[derive(Clone, Debug)]
pub struct Agg {
    pub(super) counters: EventCounts,
    /// Connections by (local day, local hour, profile).
    pub(super) hourly: HourlyCounts,
    /// Facts by day: the table of the day being read stays in cache.
    pub(super) facts: ByDay<FastMap<FactKey, Fact>>,
    /// The facts of closed days, as month rows (see
    /// [`MonthRows`]).
    pub(super) closed_facts: MonthRows<UserActivityRow>,
    /// When the days of the user tables (facts, application facts,
    /// visits) were last read: the days left behind are closed.
    clock: DayClock,
    /// Facts of the last (user, day, profile) folded in, one per structure,
    /// not yet in `facts`: a page is many requests of one user in a row,
    /// and a lookup in a large table costs a cache miss per event.
    /// [`Agg::settle_facts`] moves them in.
    pub(super) pending: Vec<(FactKey, Fact)>,
    /// `ACCESS` events by user, day, application and profile, in one
    /// table per day.
    pub(super) app_facts: AppFacts,
    /// The visits of each user, by local day, built as events come
    /// (`None` when visits are not computed). Merging states moves
    /// pieces (one per worker) instead of joining them: the final stage
    /// joins the visits of a user and day across pieces, as a merge of
    /// runs does.
    pub(super) visits: Option<OpenVisits>,
    /// `ACCESS` events by month, structure, profile and application.
    pub(super) structure_apps: StructureApps,
    /// Facts by (user, day, class, profile).
    pub(super) classes: ClassActivity,
    /// The local day of each user's first `ACTIVATION` event.
    pub(super) activations: FastMap<u64, i32>,
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
            counters: EventCounts::default(),
            hourly: HourlyCounts::default(),
            facts: ByDay::default(),
            closed_facts: MonthRows::default(),
            clock: DayClock::default(),
            pending: Vec::new(),
            app_facts: AppFacts::default(),
            visits: Some(OpenVisits::new(DEFAULT_VISIT_GAP_MS)),
            activations: FastMap::default(),
            structure_apps: StructureApps::default(),
            classes: ClassActivity::default(),
            http: HttpAgg::default(),
        }
    }

    /// An empty state that does not build visits: no visit figures, and
    /// no memory spent on them.
    pub fn without_visits() -> Agg {
        Agg { visits: None, ..Agg::new() }
    }

    /// An empty state for visits cut at gaps over `gap_ms`, held in
    /// `spill` once its budget is spent.
    pub fn with_visits(gap_ms: i64, spill: Option<Arc<Spill>>) -> Agg {
        Agg { visits: Some(OpenVisits::new(gap_ms).spilling(spill)), ..Agg::new() }
    }

    /// Folds one resolved event into the figures any worker may count:
    /// event counts, hours, applications by structure and the user's
    /// activation. Its user's facts and visits are folded by the
    /// worker that owns the user ([`Agg::add_user`], [`OpenVisits`]).
    #[inline]
    pub fn add(&mut self, r: &Record<'_>) {
        let Record { user, day, hour, profile, kind, structures, app } = *r;
        if kind == EventKind::Admin {
            return;
        }
        if kind == EventKind::Login {
            self.hourly.add(day, hour, profile, 1);
        }
        if let Some(app) = app {
            self.structure_apps.add(day, profile, structures, app);
        }
        if kind == EventKind::Activation {
            self.activations.entry(user).and_modify(|d| *d = (*d).min(day)).or_insert(day);
        }
        if let Some(delta) = Counts::of(kind) {
            self.counters.add(day, profile, structures, delta);
        }
    }

    /// Folds one event into its user's facts (by day, by application and
    /// by class) and visits; `device` gives its device, asked only when
    /// the event may start a visit.
    #[inline]
    pub fn add_user(&mut self, r: &UserRecord<'_>, device: impl FnOnce() -> Device) {
        let UserRecord { user, day, touch, kind, structures, classes, app, coupon } = *r;
        if kind == EventKind::Admin {
            return;
        }
        let profile = touch.profile;
        let new_day = self.clock.read(day);
        if let Some(visits) = &mut self.visits {
            if new_day {
                visits.read_day(day);
            }
            visits.add(user, day, touch, device, structures.iter().copied());
        }
        if let Some(app) = app {
            self.app_facts.add(user, day, app, profile);
        }
        if let Some(delta) = Counts::of(kind)
            && !classes.is_empty()
        {
            self.classes.add(user, day, profile, delta, classes);
        }
        let time_ms = day_base_ms(day) + i64::from(touch.at);
        let fact = Fact {
            connections: u32::from(kind == EventKind::Login),
            access: u32::from(kind == EventKind::Access),
            first_ms: time_ms,
            last_ms: time_ms,
            coupon,
        };
        if self
            .pending
            .first()
            .is_some_and(|(k, _)| (k.user, k.day, k.profile) != (user, day, profile))
        {
            self.settle_facts();
        }
        let pending = &mut self.pending;
        let mut put = |structure| match pending.iter_mut().find(|(k, _)| k.structure == structure) {
            Some((_, f)) => f.merge(&fact),
            None => pending.push((FactKey { user, day, structure, profile }, fact)),
        };
        if structures.is_empty() {
            put(NO_STRUCTURE);
        }
        for &s in structures {
            put(s);
        }
    }

    /// Ends a chunk of input: the visits, facts and application facts of
    /// days left behind are closed into compact lists and month rows (see
    /// [`OpenVisits`] and [`MonthRows`]).
    pub fn end_chunk(&mut self) {
        let idle = self.clock.end_chunk();
        if idle.is_empty() {
            return;
        }
        if let Some(visits) = &mut self.visits {
            visits.close_days(&idle);
        }
        self.close_days(|day| idle.contains(&day));
    }

    /// Closes the facts and application facts of the days for which
    /// `closing` holds into month rows.
    fn close_days(&mut self, closing: impl Fn(i32) -> bool) {
        self.settle_facts();
        for (_, table) in self.facts.take_days(&closing) {
            let rows = deal_day(&table, |k| user_shard(k.user), UserActivityRow::of_fact);
            self.closed_facts.add(rows);
        }
        self.app_facts.close(closing);
    }

    /// Moves the pending facts into the fact table.
    pub(super) fn settle_facts(&mut self) {
        for (k, f) in self.pending.drain(..) {
            self.facts.at(k.day).entry(k).and_modify(|g| g.merge(&f)).or_insert(f);
        }
    }

    /// Combines two states; the result is the state of the events of both.
    pub fn merge(mut self, mut other: Agg) -> Agg {
        self.settle_facts();
        // Workers own disjoint users: `other`'s facts become rows beside
        // these rather than a table that holds both (built while both are
        // held).
        other.close_days(|_| true);
        // The HTTP figures merge alongside the other tables.
        let http = &mut self.http;
        rayon::join(
            || http.merge(other.http),
            || {
                self.counters.merge(std::mem::take(&mut other.counters));
                self.hourly.merge(std::mem::take(&mut other.hourly));
                self.facts.merge_tables(other.facts, |x, y| x.merge(&y));
                self.closed_facts.merge(std::mem::take(&mut other.closed_facts));
                self.app_facts.merge(std::mem::take(&mut other.app_facts));
                self.structure_apps.merge(std::mem::take(&mut other.structure_apps));
                self.classes.merge(std::mem::take(&mut other.classes));
                merge_maps(&mut self.activations, &mut other.activations, |a, b| *a = (*a).min(b));
                if let (Some(a), Some(b)) = (&mut self.visits, other.visits) {
                    a.merge(b);
                }
            },
        );
        self
    }

    /// Number of facts held in open days (distinct user x day x structure
    /// x profile), the pending ones moved into the table first.
    pub fn fact_count(&mut self) -> usize {
        self.settle_facts();
        self.facts.iter().map(|(_, m)| m.len()).sum()
    }
}

/// The visit gap of the national audience measure, 30 minutes.
pub const DEFAULT_VISIT_GAP_MS: i64 = 30 * 60 * 1000;
