//! Visits, as the national audience measure defines them: per user, a run
//! of activity with no gap over the visit gap (30 minutes by default; a gap
//! of exactly the visit gap continues the visit), cut at local midnight.
//! A visit lasts from its first to its last event, in whole seconds
//! (truncated), and belongs to the period, profile and structures of its
//! events: the profile of its first event, every structure its events
//! name.
//!
//! Sessionization needs each user's events in time order, whatever the
//! order of the input and however it was cut between workers. Workers keep
//! one small record per event and structure ([`VisitEvent`], 24 bytes),
//! sharded by user key like the facts; at the end each shard is sorted by
//! (user, time) on its own thread and cut into visits. Memory is therefore
//! 24 bytes per activity event kept (times the structures it names), on
//! top of the facts: about 170 MB for the 6.7 million events of the
//! scale-1 scenario.

use super::grid::{self, Layout};
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, StructureId};
use crate::hash::{FastMap, FastSet};
use crate::parse::Profile;
use crate::time::{LocalDays, civil_from_days, days_in_month, month_start, week_start};
use hdrhistogram::Histogram;

/// One activity event of one user in one structure (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VisitEvent {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Instant, epoch ms.
    pub time_ms: i64,
    /// The profile of the event.
    pub profile: Profile,
    /// A structure the event names, or [`NO_STRUCTURE`].
    pub structure: StructureId,
    /// The local day, modulo 256 (it fits in the record's padding).
    pub day_tag: u8,
}

/// One visit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visit {
    /// Local day of the visit.
    pub day: i32,
    /// First event, epoch ms.
    pub start_ms: i64,
    /// Last event, epoch ms.
    pub end_ms: i64,
    /// Profile of the first event.
    pub profile: Option<Profile>,
    /// Distinct structures named by the visit's events.
    pub structures: Vec<StructureId>,
}

/// Cuts the events of one user, sorted by time, into visits, calling
/// `emit` for each. Instants outside the calendar are skipped (the parser
/// already rejected them).
pub fn sessionize(
    events: &[VisitEvent],
    gap_ms: i64,
    days: &mut LocalDays,
    mut emit: impl FnMut(&Visit),
) {
    let mut v = Visit::default();
    for e in events {
        let Some(day) = days.day_of(e.time_ms) else { continue };
        let continues = v.profile.is_some() && e.time_ms - v.end_ms <= gap_ms && day == v.day;
        if !continues {
            if v.profile.is_some() {
                emit(&v);
            }
            v.day = day;
            v.start_ms = e.time_ms;
            v.profile = Some(e.profile);
            v.structures.clear();
        }
        v.end_ms = e.time_ms;
        if e.structure != NO_STRUCTURE && !v.structures.contains(&e.structure) {
            v.structures.push(e.structure);
        }
    }
    if v.profile.is_some() {
        emit(&v);
    }
}

/// Significant digits of the duration histograms.
const SIGFIG: u8 = 3;
/// Longest visit the histograms hold, seconds: a visit never crosses local
/// midnight, and the longest day has 25 hours.
const MAX_SECONDS: u64 = 25 * 3600;

/// An empty duration histogram (seconds, 1 to 25 hours, 3 digits).
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that `new_with_bounds` accepts.
    Histogram::new_with_bounds(1, MAX_SECONDS, SIGFIG).unwrap_or_else(|_| unreachable!())
}

/// The national export's key: ISO week, school code (index in
/// [`Partial::uais`]'s list) and profile (`None`: everyone).
pub type NationalKey = (i32, u32, Option<Profile>);

/// Visits, distinct users and seconds of one national export row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NationalMetrics {
    /// Visits.
    pub visits: i64,
    /// Distinct users with a visit.
    pub users: i64,
    /// Total duration, seconds.
    pub seconds: i64,
}

/// What the visits of some users add up to.
pub struct Partial {
    /// Visits per cell of the audience layout.
    pub visits: Vec<u32>,
    /// Seconds per cell of the audience layout.
    pub seconds: Vec<i64>,
    /// Durations by (month, profile; `None` for all).
    pub histograms: FastMap<(i32, Option<Profile>), Histogram<u64>>,
    /// National export rows.
    pub national: FastMap<NationalKey, NationalMetrics>,
}

impl Partial {
    /// An empty partial for `layout`.
    pub fn new(layout: &Layout) -> Partial {
        Partial {
            visits: vec![0; layout.len()],
            seconds: vec![0; layout.len()],
            histograms: FastMap::default(),
            national: FastMap::default(),
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(mut self, other: Partial) -> Partial {
        if self.visits.is_empty() {
            return other;
        }
        self.visits = grid::add(self.visits, other.visits);
        self.seconds = grid::add(self.seconds, other.seconds);
        for (k, h) in other.histograms {
            match self.histograms.get_mut(&k) {
                // Same bounds everywhere, so addition cannot fail.
                Some(mine) => mine.add(&h).unwrap_or_else(|_| unreachable!()),
                None => {
                    self.histograms.insert(k, h);
                }
            }
        }
        for (k, m) in other.national {
            let e = self.national.entry(k).or_default();
            e.visits += m.visits;
            e.users += m.users;
            e.seconds += m.seconds;
        }
        self
    }
}

/// The school codes of the referential, and the index of each structure's
/// code.
pub fn uai_index(dims: &Dimensions) -> (Vec<String>, Vec<Option<u32>>) {
    let mut codes: Vec<String> = dims.structures.iter().filter_map(|s| s.uai.clone()).collect();
    codes.sort();
    codes.dedup();
    let of = dims
        .structures
        .iter()
        .map(|s| s.uai.as_ref().and_then(|u| codes.binary_search(u).ok()).map(|i| i as u32))
        .collect();
    (codes, of)
}

/// Everything the visits of one shard need to know.
pub struct Context<'a> {
    /// Structures, segments.
    pub dims: &'a Dimensions,
    /// The audience grid's layout.
    pub layout: &'a Layout,
    /// School code index of each structure.
    pub uai_of: &'a [Option<u32>],
    /// Visit gap, ms.
    pub gap_ms: i64,
}

/// Visits of some users, with their structures in one shared list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitList {
    /// The visits, by user, day and start.
    pub spans: Vec<VisitSpan>,
    /// The structures of every span, each span's in a range of this list.
    pub structures: Vec<StructureId>,
}

/// One visit of a [`VisitList`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VisitSpan {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day.
    pub day: i32,
    /// First event, epoch ms.
    pub start_ms: i64,
    /// Last event, epoch ms.
    pub end_ms: i64,
    /// Profile of the first event.
    pub profile: Profile,
    /// Where its structures start in [`VisitList::structures`].
    pub first_structure: u32,
    /// How many structures it names.
    pub structure_count: u32,
}

impl VisitSpan {
    /// Duration in whole seconds, truncated.
    pub fn seconds(&self) -> i64 {
        (self.end_ms - self.start_ms) / 1000
    }
}

impl VisitList {
    /// Appends a visit.
    pub fn push(&mut self, user: u64, v: &Visit) {
        self.push_span(
            VisitSpan {
                user,
                day: v.day,
                start_ms: v.start_ms,
                end_ms: v.end_ms,
                // A visit always has a first event.
                profile: v.profile.unwrap_or(Profile::Unknown),
                first_structure: 0,
                structure_count: 0,
            },
            &v.structures,
        );
    }

    /// Appends a span with `structures` as its structures.
    pub fn push_span(&mut self, mut span: VisitSpan, structures: &[StructureId]) {
        span.first_structure = self.structures.len() as u32;
        span.structure_count = structures.len() as u32;
        self.structures.extend_from_slice(structures);
        self.spans.push(span);
    }

    /// The structures of `span`.
    pub fn structures_of(&self, span: &VisitSpan) -> &[StructureId] {
        let start = span.first_structure as usize;
        &self.structures[start..start + span.structure_count as usize]
    }

    /// Moves the visits of `other` to the end of `self`.
    pub fn append(&mut self, other: VisitList) {
        let offset = self.structures.len() as u32;
        self.structures.extend(other.structures);
        self.spans.extend(other.spans.into_iter().map(|mut s| {
            s.first_structure += offset;
            s
        }));
    }

    /// The visits of the union of the events behind the visits of `self`,
    /// sorted by user, day and start: visits of one user and day that
    /// overlap or lie within `gap_ms` of each other join into one, which
    /// starts with the earliest start (the lowest profile on a tie, as
    /// [`VisitEvent`]s are ordered) and names the structures of both.
    /// Visits cut from the same events by shards of the input join back
    /// into the visits of the whole.
    pub fn joined(mut self, gap_ms: i64) -> VisitList {
        self.spans.sort_unstable_by_key(|s| (s.user, s.day, s.start_ms, s.profile, s.end_ms));
        let mut out = VisitList::default();
        let mut names: Vec<StructureId> = Vec::new();
        let mut spans = self.spans.iter().peekable();
        while let Some(first) = spans.next() {
            let mut cur = *first;
            names.clear();
            names.extend_from_slice(self.structures_of(first));
            while let Some(next) = spans.next_if(|n| {
                (n.user, n.day) == (cur.user, cur.day) && n.start_ms - cur.end_ms <= gap_ms
            }) {
                cur.end_ms = cur.end_ms.max(next.end_ms);
                for s in self.structures_of(next) {
                    if !names.contains(s) {
                        names.push(*s);
                    }
                }
            }
            out.push_span(cur, &names);
        }
        out
    }
}

/// Cuts the users of one shard (given in pieces) into visits.
pub fn sessionize_shard(
    pieces: Vec<Vec<VisitEvent>>,
    gap_ms: i64,
    days: &mut LocalDays,
) -> VisitList {
    let mut events = match <[_; 1]>::try_from(pieces) {
        Ok([one]) => one,
        Err(pieces) => pieces.concat(),
    };
    events.sort_unstable();
    let mut out = VisitList::default();
    for user_events in events.chunk_by(|a, b| a.user == b.user) {
        sessionize(user_events, gap_ms, days, |v| out.push(user_events[0].user, v));
    }
    out
}

/// The months (first days) of the visits of `list`, each once.
pub fn months(list: &VisitList) -> FastSet<i32> {
    let mut months = FastSet::default();
    // The days of the month last seen: most visits fall in it.
    let mut current = (0, 0);
    for v in &list.spans {
        if v.day < current.0 || v.day >= current.1 {
            let start = month_start(v.day);
            let (y, m, _) = civil_from_days(start);
            current = (start, start + days_in_month(y, m) as i32);
            months.insert(start);
        }
    }
    months
}

/// Counts the visits of `list` (sorted by user) into `out`.
pub fn count(list: &VisitList, cx: &Context<'_>, out: &mut Partial) {
    let mut scopes: Vec<ScopeKey> = Vec::new();
    let mut national: Vec<(NationalKey, i64)> = Vec::new();
    let mut user_weeks: Vec<NationalKey> = Vec::new();
    for user_spans in list.spans.chunk_by(|a, b| a.user == b.user) {
        user_weeks.clear();
        for v in user_spans {
            let seconds = v.seconds();
            let structures = list.structures_of(v);
            let profile = Some(v.profile);
            // Distinct scopes (a segment named by two structures of the
            // visit counts once), so every cell below is distinct.
            scopes.clear();
            scopes.push(ScopeKey::PLATFORM);
            for &s in structures {
                scopes.push(ScopeKey::structure(s));
                if let Some(seg) = cx.dims.structures[s as usize].segment
                    && !scopes.contains(&ScopeKey::segment(seg))
                {
                    scopes.push(ScopeKey::segment(seg));
                }
            }
            // The layout holds the months of every visit's day.
            let Some(periods) = cx.layout.periods_of(v.day) else { continue };
            for period in periods {
                for &scope in &scopes {
                    for profile in [profile, None] {
                        let i = cx.layout.cell(period, scope, profile);
                        out.visits[i] += 1;
                        out.seconds[i] += seconds;
                    }
                }
            }
            let month = month_start(v.day);
            for profile in [profile, None] {
                out.histograms
                    .entry((month, profile))
                    .or_insert_with(histogram)
                    .saturating_record(seconds as u64);
            }
            national.clear();
            for &s in structures {
                if let Some(uai) = cx.uai_of[s as usize] {
                    for profile in [profile, None] {
                        national.push(((week_start(v.day), uai, profile), seconds));
                    }
                }
            }
            national.sort_unstable();
            national.dedup();
            for &(k, seconds) in &national {
                let e = out.national.entry(k).or_default();
                e.visits += 1;
                e.seconds += seconds;
                user_weeks.push(k);
            }
        }
        user_weeks.sort_unstable();
        user_weeks.dedup();
        for k in &user_weeks {
            out.national.entry(*k).or_default().users += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_iso_ms;
    use jiff::tz::TimeZone;

    fn ev(at: &str, structure: StructureId) -> VisitEvent {
        let time_ms = parse_iso_ms(at.as_bytes()).unwrap();
        VisitEvent { user: 1, time_ms, profile: Profile::Student, structure, day_tag: 0 }
    }

    fn visits(events: &[VisitEvent]) -> Vec<(i64, Vec<StructureId>)> {
        let mut days = LocalDays::new(TimeZone::get("Europe/Paris").unwrap());
        let mut list = VisitList::default();
        sessionize(events, 30 * 60_000, &mut days, |v| list.push(1, v));
        list.spans.iter().map(|s| (s.seconds(), list.structures_of(s).to_vec())).collect()
    }

    #[test]
    fn a_gap_of_exactly_thirty_minutes_continues_the_visit() {
        let e = [ev("2020-03-16T08:00:00Z", 0), ev("2020-03-16T08:30:00Z", 1)];
        assert_eq!(visits(&e), [(1800, vec![0, 1])]);
        let e = [ev("2020-03-16T08:00:00Z", 0), ev("2020-03-16T08:30:00.001Z", 0)];
        assert_eq!(visits(&e), [(0, vec![0]), (0, vec![0])]);
    }

    #[test]
    fn durations_are_truncated_to_the_second() {
        let e = [ev("2020-03-16T08:00:00.900Z", 0), ev("2020-03-16T08:00:02.899Z", 0)];
        assert_eq!(visits(&e), [(1, vec![0])]);
    }

    #[test]
    fn visits_are_cut_at_local_midnight_across_dst() {
        // 23:50 and 00:10 local on the night of the spring change (CET,
        // UTC+1) and on the night after it (CEST, UTC+2).
        let e = [ev("2020-03-28T22:50:00Z", 0), ev("2020-03-28T23:10:00Z", 0)];
        assert_eq!(visits(&e).len(), 2);
        let e = [ev("2020-03-29T21:50:00Z", 0), ev("2020-03-29T22:10:00Z", 0)];
        assert_eq!(visits(&e).len(), 2);
        // 20 minutes apart within the same local day: one visit, although
        // the UTC dates differ (00:50 local is 23:50 UTC the day before).
        let e = [ev("2020-03-27T23:10:00Z", 0), ev("2020-03-27T23:30:00Z", 0)];
        assert_eq!(visits(&e).len(), 1);
        // The fall change: 02:10 CEST and 02:20 CET are 70 minutes apart.
        let e = [ev("2020-10-25T00:10:00Z", 0), ev("2020-10-25T01:20:00Z", 0)];
        assert_eq!(visits(&e).len(), 2);
    }

    #[test]
    fn the_first_events_profile_names_the_visit() {
        let mut days = LocalDays::new(TimeZone::get("Europe/Paris").unwrap());
        let mut a = ev("2020-03-16T08:00:00Z", NO_STRUCTURE);
        a.profile = Profile::Relative;
        let b = ev("2020-03-16T08:10:00Z", 3);
        let mut got = Vec::new();
        sessionize(&[a, b], 1_800_000, &mut days, |v| got.push(v.clone()));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].profile, got[0].structures.clone()), (Some(Profile::Relative), vec![3]));
    }
}
