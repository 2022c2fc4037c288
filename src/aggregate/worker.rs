//! Workers: from a parsed event to a resolved [`Record`] folded into the
//! worker's [`Agg`], with what every worker shares ([`Context`]).

use super::accounts::{Directory, KnownUser};
use super::app_names::{AppId, Apps, LocalApps};
use super::class_names::{ClassId, Classes, DIRECTORY_CLASSES, LocalClasses};
use super::dedup::Dedup;
use super::owners::{Forward, Mailboxes};
use super::scope::{Dimensions, Interner, LocalInterner, SegmentId, StructureId};
use super::state::{Agg, DEFAULT_VISIT_GAP_MS, Record, UserRecord};
use super::visit_list::{NO_SERVICE, day_base_ms};
use super::visits::Touch;
use crate::device::{AgentCache, Device};
use crate::keys::UserKeyer;
use crate::parse::access::LoginRule;
use crate::parse::{Event, EventKind, ParseError, Profile};
use crate::referential::Referential;
use crate::service::{ServiceMap, app_of_path};
use crate::sketch;
use crate::spill::Spill;
use crate::time::LocalDays;
use std::ops::RangeInclusive;
use std::sync::Arc;

/// What every worker shares: the salt's keyer, the structure table and
/// the time zone.
pub struct Context {
    /// Hashes user ids to pseudonyms.
    pub keyer: UserKeyer,
    /// Structures and segments seen so far.
    pub interner: Interner,
    /// Applications seen so far.
    pub apps: Apps,
    /// Classes seen so far, named from the referential's `classes.csv`.
    pub classes: Classes,
    /// Local days in the run's time zone.
    pub days: LocalDays,
    /// Whether to keep what visits need.
    pub visits: bool,
    /// Longest gap inside a visit, ms.
    pub visit_gap_ms: i64,
    /// Users of the referential, by key: they give the profile and
    /// structures of records that do not carry them, and are the accounts.
    pub users: Directory,
    /// Which HTTP requests are logins.
    pub login: LoginRule,
    /// The local days an event may fall on; events outside are rejected
    /// (a device with a reset clock must not add a year to every table).
    pub valid_days: RangeInclusive<i32>,
    /// The local days read (`--since`, `--until`); events outside are
    /// skipped, not rejected.
    pub period: RangeInclusive<i32>,
    /// The ids read so far, with `--dedup`.
    pub dedup: Option<Dedup>,
    /// Which application counts for which national service.
    pub services: ServiceMap,
    /// Whether visits keep their events' points to count their time in
    /// each service: only when some structure has a school code, as only
    /// the national datasets show services.
    pub count_services: bool,
    /// Where visits go once the memory they may take is spent (`None`:
    /// they stay in memory).
    pub spill: Option<Arc<Spill>>,
}

impl Context {
    /// A context with visits on and the default login rule; structures
    /// and users come from `referential`.
    pub fn new(keyer: UserKeyer, mut referential: Referential, days: LocalDays) -> Context {
        let users = std::mem::take(&mut referential.users);
        let classes = Classes::new(std::mem::take(&mut referential.classes));
        let count_services = referential.has_school_codes();
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
                let mut known: Vec<ClassId> = u.classes.iter().map(|c| classes.intern(c)).collect();
                known.sort_unstable();
                known.dedup();
                let (profile, activated) = (u.profile, u.activated);
                (keyer.key(&u.id), KnownUser { profile, structures, classes: known, activated })
            })
            .collect();
        Context {
            keyer,
            interner,
            apps: Apps::default(),
            classes,
            days,
            visits: true,
            visit_gap_ms: DEFAULT_VISIT_GAP_MS,
            users,
            login: LoginRule::default(),
            valid_days: i32::MIN..=i32::MAX,
            period: i32::MIN..=i32::MAX,
            dedup: None,
            services: ServiceMap::default(),
            count_services,
            spill: None,
        }
    }
}

impl Context {
    /// A copy of the names of structures, segments, applications and
    /// classes as they are now, for the final stage.
    pub fn dimensions(&self) -> Dimensions {
        Dimensions { classes: self.classes.entries(), ..self.interner.dimensions(&self.apps) }
    }
}

/// The last user a worker keyed.
struct LastUser<'c> {
    id: Vec<u8>,
    key: u64,
    /// The user's entry in the directory, once looked up (`None`: not
    /// yet).
    known: Option<Option<&'c KnownUser>>,
}

/// A worker: its caches and its aggregate state.
pub struct Worker<'c> {
    ctx: &'c Context,
    days: LocalDays,
    structures: LocalInterner,
    apps: LocalApps,
    classes: LocalClasses,
    agents: AgentCache,
    /// The national service of each application seen, by [`AppId`].
    app_services: Vec<Option<u8>>,
    scratch: Vec<(StructureId, Option<SegmentId>)>,
    class_scratch: Vec<ClassId>,
    /// The structure ids of the event being folded.
    ids: Vec<StructureId>,
    /// The last user id keyed and its key: access logs write a user's
    /// requests in runs, and comparing is cheaper than keying.
    /// With the user's entry in the users referential.
    last_user: LastUser<'c>,
    /// This worker's number in its team.
    id: usize,
    /// The team's mailboxes (a worker alone is a team of one, owning
    /// every user).
    team: Arc<Mailboxes>,
    /// Events of users owned by other workers, by owner, until the end
    /// of the chunk.
    outboxes: Vec<Vec<Forward>>,
    /// The state folded so far.
    pub agg: Agg,
}

impl<'c> Worker<'c> {
    /// A team of `n` workers (at least one) with empty states, each
    /// owning the facts and visits of a share of the users: see
    /// [`owners`](super::owners).
    pub fn team(ctx: &'c Context, n: usize) -> Vec<Worker<'c>> {
        let mail = Mailboxes::new(n);
        (0..mail.workers()).map(|id| Worker::member(ctx, id, Arc::clone(&mail))).collect()
    }

    /// A worker alone, with an empty state.
    pub fn new(ctx: &'c Context) -> Worker<'c> {
        Worker::member(ctx, 0, Mailboxes::new(1))
    }

    /// Worker `id` of the team of `team`, with an empty state.
    fn member(ctx: &'c Context, id: usize, team: Arc<Mailboxes>) -> Worker<'c> {
        Worker {
            id,
            outboxes: vec![Vec::new(); team.workers()],
            team,
            ctx,
            days: ctx.days.clone(),
            structures: LocalInterner::default(),
            apps: LocalApps::default(),
            classes: LocalClasses::default(),
            agents: AgentCache::default(),
            app_services: Vec::new(),
            scratch: Vec::with_capacity(8),
            class_scratch: Vec::with_capacity(4),
            ids: Vec::with_capacity(8),
            last_user: LastUser { id: Vec::with_capacity(64), key: 0, known: None },
            agg: if ctx.visits {
                Agg::with_visits(ctx.visit_gap_ms, ctx.spill.clone())
            } else {
                Agg::without_visits()
            },
        }
    }

    /// Folds one parsed event in and returns its instant (a wall-clock
    /// time is converted in the run's time zone). Fails when the instant
    /// is outside the calendar's range or its local day outside
    /// [`Context::valid_days`]; skips (with an error that says so, see
    /// [`ParseError::is_skip`]) events outside [`Context::period`] and
    /// repeated ids.
    #[inline]
    pub fn consume(&mut self, ev: &Event<'_>) -> Result<i64, ParseError> {
        let time_ms = if ev.naive_time {
            self.days.naive_to_ms(ev.time_ms).ok_or(ParseError::InvalidDate)?
        } else {
            ev.time_ms
        };
        let (day, hour) = self.days.locate(time_ms).ok_or(ParseError::InvalidDate)?;
        if !self.ctx.valid_days.contains(&day) {
            return Err(ParseError::OutsideWindow);
        }
        if !self.ctx.period.contains(&day) {
            return Err(ParseError::OutsidePeriod);
        }
        if let Some(dedup) = &self.ctx.dedup
            && !ev.id.is_empty()
            && !dedup.first_time(&ev.id)
        {
            return Err(ParseError::Duplicate);
        }
        if ev.kind == EventKind::Admin {
            return Ok(time_ms);
        }
        let (user, known) = self.user_of(ev);
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
        self.intern_places(ev);
        let app = (kind == EventKind::Access).then(|| self.apps.get(&self.ctx.apps, &ev.module));
        let service = self.ctx.count_services.then(|| self.service_of(ev, kind, app));
        let structures = match known {
            Some(k) if self.scratch.is_empty() => &k.structures,
            _ => &self.scratch,
        };
        self.agg.add(&Record { user, day, hour, profile, kind, structures, app });
        // Hashed here: the owner of the user has the key, not the raw id.
        let coupon = (kind == EventKind::Login).then(|| sketch::coupon(&ev.user));
        self.ids.clear();
        self.ids.extend(structures.iter().map(|&(s, _)| s));
        let touch = Touch { at: (time_ms - day_base_ms(day)) as u32, profile, service };
        let (structures, classes) = (&self.ids, &self.class_scratch);
        let record = UserRecord { user, day, touch, kind, structures, classes, app, coupon };
        let owner = self.team.owner(user);
        if owner == self.id {
            let agents = &mut self.agents;
            self.agg.add_user(&record, || agents.device(&ev.ua));
        } else {
            // The owner asks for the device only to start a visit.
            let device =
                if self.agg.visits.is_some() { self.agents.device(&ev.ua) } else { Device::Other };
            self.outboxes[owner].push(Forward::of(&record, device));
        }
        Ok(time_ms)
    }

    /// Posts the events of users this worker does not own to their
    /// owners, folds in those posted to it, and ends the chunk for its
    /// tables (days left behind are closed, see
    /// [`DayClock`](super::day_clock::DayClock)). Workers of a team call
    /// this after each chunk; once every worker is done with an input,
    /// each calls it once more so that nothing stays in a mailbox.
    pub fn exchange(&mut self) {
        for (to, outbox) in self.outboxes.iter_mut().enumerate() {
            if !outbox.is_empty() {
                self.team.post(to, std::mem::take(outbox));
            }
        }
        for batch in self.team.collect(self.id) {
            for f in batch {
                self.agg.add_user(&f.record(), || f.device);
            }
        }
        self.agg.end_chunk();
    }
}

impl<'c> Worker<'c> {
    /// The key of `ev`'s user (none for an access log's request without a
    /// logged user, which counts in the HTTP figures only), with their
    /// entry in the directory when the record needs it.
    #[inline]
    fn user_of(&mut self, ev: &Event<'_>) -> (Option<u64>, Option<&'c KnownUser>) {
        if ev.user.is_empty() {
            return (None, None);
        }
        // The directory is read only for what the record does not say: a
        // lookup in a table of every account misses the cache.
        let needs_directory = ev.profile == Profile::Unknown || ev.structures.is_empty();
        let last = &mut self.last_user;
        if *ev.user != *last.id || last.id.is_empty() {
            last.key = self.ctx.keyer.key(&ev.user);
            last.id.clear();
            last.id.extend_from_slice(&ev.user);
            last.known = None;
        }
        if needs_directory && last.known.is_none() {
            last.known = Some(self.ctx.users.get(&last.key));
        }
        (Some(last.key), last.known.flatten())
    }

    /// The national service `ev` (of `kind`, opening `app`) counts for:
    /// its application's (`module`, else the first segment of an HTTP
    /// request's path), or [`NO_SERVICE`]. A login opens no application.
    fn service_of(&mut self, ev: &Event<'_>, kind: EventKind, app: Option<AppId>) -> u8 {
        let services = &self.ctx.services;
        let lookup = |name: &[u8]| services.service_of(name).unwrap_or(NO_SERVICE);
        match (kind, app, &ev.http) {
            (EventKind::Login, ..) => NO_SERVICE,
            // Applications are few: each one's service is looked up once.
            (_, Some(app), _) => {
                let i = app as usize;
                if self.app_services.len() <= i {
                    self.app_services.resize(i + 1, None);
                }
                *self.app_services[i].get_or_insert_with(|| lookup(&ev.module))
            }
            (_, None, Some(h)) if ev.module.is_empty() => lookup(app_of_path(h.path)),
            _ => lookup(&ev.module),
        }
    }

    /// Interns the distinct structures of `ev` into `scratch` and its
    /// distinct classes into `class_scratch`. An event that names no class
    /// counts in its user's classes of the directory, found at the end
    /// (see `ClassActivity::resolved`).
    fn intern_places(&mut self, ev: &Event<'_>) {
        self.scratch.clear();
        for s in &ev.structures {
            let (id, seg) = self.structures.get(&self.ctx.interner, s);
            if !self.scratch.iter().any(|&(x, _)| x == id) {
                self.scratch.push((id, seg));
            }
        }
        self.class_scratch.clear();
        for c in &ev.classes {
            let id = self.classes.get(&self.ctx.classes, c);
            if !self.class_scratch.contains(&id) {
                self.class_scratch.push(id);
            }
        }
        if self.class_scratch.is_empty() && !self.ctx.users.is_empty() {
            self.class_scratch.push(DIRECTORY_CLASSES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::finish;
    use crate::aggregate::scope::ScopeKey;
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

    /// The figures of a state, finished: what must not depend on how the
    /// input was cut.
    fn figures(agg: Agg, ctx: &Context) -> impl PartialEq + std::fmt::Debug {
        let settings =
            finish::Settings { days: ctx.days.clone(), visit_gap_ms: DEFAULT_VISIT_GAP_MS };
        let t = finish::finish(agg, ctx.dimensions(), &ctx.users, &settings);
        // Each visit with its structures and points.
        let table = &t.user_visits;
        let places: Vec<_> = table.months().into_iter().flat_map(|m| table.places(m)).collect();
        let visits: Vec<_> = (table.visits(&places).into_iter())
            .map(|v| (*v.span, v.structures.to_vec(), v.points.to_vec()))
            .collect();
        (t.audience, t.user_activity, visits, t.hourly, t.apps, t.user_modules, t.sketches)
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
    fn a_team_that_owns_users_gives_the_figures_of_one_worker() {
        let ctx = context();
        let lines = sample_lines();
        let whole = figures(fold(&ctx, &lines), &ctx);
        let mut team = Worker::team(&ctx, 3);
        // Chunks of 100 lines dealt round the team, each worker
        // exchanging after its chunk, as the scan does.
        for (i, chunk) in lines.chunks(100).enumerate() {
            let w = &mut team[i % 3];
            for l in chunk {
                let mut ev = Event::default();
                if Format::EntcoreJson.parse(l.as_bytes(), &mut ev).is_ok() {
                    w.consume(&ev).unwrap();
                }
            }
            w.exchange();
        }
        for w in &mut team {
            w.exchange();
        }
        let held: Vec<(usize, usize)> = (team.iter())
            .map(|w| w.agg.visits.as_ref().map_or((0, 0), |v| (v.open_days(), v.closed_days())))
            .collect();
        assert!(held.iter().all(|&(_, closed)| closed > 0), "every worker closes days: {held:?}");
        assert!(held.iter().all(|&(open, _)| open > 0), "and holds some open: {held:?}");
        let merged = team.into_iter().map(|w| w.agg).reduce(Agg::merge).unwrap();
        assert!(figures(merged, &ctx) == whole);
    }

    #[test]
    fn an_event_counts_once_per_distinct_structure() {
        let ctx = context();
        let line = r#"{"event-type":"LOGIN","date":1584345600000,"userId":"u","structures":["a","a","b"]}"#;
        let mut agg = fold(&ctx, &[line.to_string()]);
        let platform: u64 = agg
            .counters
            .cells()
            .filter(|(k, _)| k.scope == ScopeKey::PLATFORM)
            .map(|(_, c)| c.connections)
            .sum();
        assert_eq!(platform, 1);
        assert_eq!(agg.counters.cells().count(), 3);
        assert_eq!(agg.fact_count(), 2);
    }
}
