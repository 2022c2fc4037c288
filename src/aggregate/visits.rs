//! Visits, as the national audience measure defines them: per user, a run
//! of activity with no gap over the visit gap (30 minutes by default; a gap
//! of exactly the visit gap continues the visit), cut at local midnight.
//! A visit lasts from its first to its last event, in whole seconds
//! (truncated), and belongs to the period, profile and structures of its
//! events: the profile of its first event, every structure its events
//! name.
//!
//! Visits are built as events come, whatever their order and however the
//! input was cut between workers: each user's day holds its visits so far
//! ([`DayVisits`]), kept joined (sorted, each more than the gap after the
//! one before). An event extends the visit it falls in or within the gap
//! of, joins two visits it bridges, or starts one; two workers' visits of
//! one user and day join the same way, and so do the visits of runs being
//! merged ([`VisitList::joined`]). Memory therefore follows the visits, not
//! the events: the same dump read four times keeps the same visits.

use super::grid::{self, Layout};
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, StructureId};
use crate::hash::{FastMap, FastSet};
use crate::parse::Profile;
use crate::time::{civil_from_days, days_in_month, month_start, week_start};
use hdrhistogram::Histogram;
use smallvec::SmallVec;

/// The instant offsets of a day's visits count from: the start of the
/// UTC day before the local day, so that every instant of the local day
/// (whatever the time zone) is a positive `u32` of milliseconds.
pub fn day_base_ms(day: i32) -> i64 {
    (i64::from(day) - 1) * 86_400_000
}

/// One visit being built: the span of its events (milliseconds after
/// [`day_base_ms`]), the profile of its first event (the lowest profile
/// among events of the same first instant), the structures its events
/// name. 32 bytes, with up to two structures inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenVisit {
    /// First event.
    pub start: u32,
    /// Last event.
    pub end: u32,
    /// Profile of the first event.
    pub profile: Profile,
    /// Distinct structures named by its events (never [`NO_STRUCTURE`]).
    pub structures: SmallVec<[StructureId; 2]>,
}

impl OpenVisit {
    /// Adds `o`'s events (a visit of the same user and day that starts no
    /// earlier, or starts at the same instant with no lower profile).
    fn absorb(&mut self, o: &OpenVisit) {
        self.end = self.end.max(o.end);
        for &s in &o.structures {
            if !self.structures.contains(&s) {
                self.structures.push(s);
            }
        }
    }
}

/// The visits of one user on one local day so far, sorted by start, each
/// more than the visit gap after the end of the one before. Most user
/// days have one visit, held inline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayVisits(pub SmallVec<[OpenVisit; 1]>);

impl DayVisits {
    /// Folds in one event `at` milliseconds after [`day_base_ms`] of its
    /// day, under `profile`, naming `structures` ([`NO_STRUCTURE`] is
    /// skipped).
    #[inline]
    pub fn add(
        &mut self,
        at: u32,
        profile: Profile,
        structures: impl Iterator<Item = StructureId>,
        gap_ms: u32,
    ) {
        let v = &mut self.0;
        // The first visit that ends no more than the gap before the event;
        // logs come in time order, so it is nearly always the last.
        let reaches = |x: &OpenVisit| x.end.saturating_add(gap_ms) >= at;
        let i = match v.last() {
            Some(last) if reaches(last) => v.partition_point(|x| !reaches(x)),
            _ => v.len(),
        };
        if v.get(i).is_none_or(|x| x.start > at.saturating_add(gap_ms)) {
            let visit = OpenVisit { start: at, end: at, profile, structures: SmallVec::new() };
            v.insert(i, visit);
        }
        let x = &mut v[i];
        if (at, profile) < (x.start, x.profile) {
            (x.start, x.profile) = (at, profile);
        }
        x.end = x.end.max(at);
        for s in structures {
            if s != NO_STRUCTURE && !x.structures.contains(&s) {
                x.structures.push(s);
            }
        }
        // A later end may reach the next visit: the event bridged them.
        // (An earlier start cannot reach the visit before: it ends more
        // than the gap before the event.)
        if v.get(i + 1).is_some_and(|n| n.start <= v[i].end.saturating_add(gap_ms)) {
            let next = v.remove(i + 1);
            v[i].absorb(&next);
        }
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
    /// Appends the visits of `user` on `day`.
    pub fn push_day(&mut self, user: u64, day: i32, visits: &DayVisits) {
        let base = day_base_ms(day);
        for v in &visits.0 {
            let span = VisitSpan {
                user,
                day,
                start_ms: base + i64::from(v.start),
                end_ms: base + i64::from(v.end),
                profile: v.profile,
                first_structure: 0,
                structure_count: 0,
            };
            self.push_span(span, &v.structures);
        }
    }

    /// Sorts the visits by user, day and start (their structures stay
    /// where they are in the shared list).
    pub fn sort(&mut self) {
        self.spans.sort_unstable_by_key(|s| (s.user, s.day, s.start_ms));
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
    /// [`DayVisits`] does) and names the structures of both.
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
            // Distinct scopes, so every cell below is distinct.
            cx.dims.scopes_naming(structures, &mut scopes);
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
    use crate::time::{LocalDays, parse_iso_ms};
    use jiff::tz::TimeZone;

    /// Events: instant, profile, structure.
    type Events<'a> = [(&'a str, Profile, StructureId)];

    /// The visits of one user's events, folded in the order given, as
    /// (local day, seconds, profile, sorted structures).
    fn visits(events: &Events<'_>) -> Vec<(i32, i64, Profile, Vec<StructureId>)> {
        let mut days = LocalDays::new(TimeZone::get("Europe/Paris").unwrap());
        let mut by_day: std::collections::BTreeMap<i32, DayVisits> = Default::default();
        for &(at, profile, s) in events {
            let ms = parse_iso_ms(at.as_bytes()).unwrap();
            let day = days.day_of(ms).unwrap();
            let at = (ms - day_base_ms(day)) as u32;
            by_day.entry(day).or_default().add(at, profile, [s].into_iter(), 30 * 60_000);
        }
        let mut out = Vec::new();
        for (day, dv) in by_day {
            for v in dv.0 {
                let mut s = v.structures.to_vec();
                s.sort();
                let ms = |at: u32| day_base_ms(day) + i64::from(at);
                out.push((day, (ms(v.end) - ms(v.start)) / 1000, v.profile, s));
            }
        }
        out
    }

    fn seconds(events: &[(&str, StructureId)]) -> Vec<(i64, Vec<StructureId>)> {
        let e: Vec<_> = events.iter().map(|&(at, s)| (at, Profile::Student, s)).collect();
        visits(&e).into_iter().map(|(_, secs, _, s)| (secs, s)).collect()
    }

    #[test]
    fn a_gap_of_exactly_thirty_minutes_continues_the_visit() {
        let e = [("2020-03-16T08:00:00Z", 0), ("2020-03-16T08:30:00Z", 1)];
        assert_eq!(seconds(&e), [(1800, vec![0, 1])]);
        let e = [("2020-03-16T08:00:00Z", 0), ("2020-03-16T08:30:00.001Z", 0)];
        assert_eq!(seconds(&e), [(0, vec![0]), (0, vec![0])]);
    }

    #[test]
    fn durations_are_truncated_to_the_second() {
        let e = [("2020-03-16T08:00:00.900Z", 0), ("2020-03-16T08:00:02.899Z", 0)];
        assert_eq!(seconds(&e), [(1, vec![0])]);
    }

    #[test]
    fn visits_are_cut_at_local_midnight_across_dst() {
        // 23:50 and 00:10 local on the night of the spring change (CET,
        // UTC+1) and on the night after it (CEST, UTC+2).
        let e = [("2020-03-28T22:50:00Z", 0), ("2020-03-28T23:10:00Z", 0)];
        assert_eq!(seconds(&e).len(), 2);
        let e = [("2020-03-29T21:50:00Z", 0), ("2020-03-29T22:10:00Z", 0)];
        assert_eq!(seconds(&e).len(), 2);
        // 20 minutes apart within the same local day: one visit, although
        // the UTC dates differ (00:50 local is 23:50 UTC the day before).
        let e = [("2020-03-27T23:10:00Z", 0), ("2020-03-27T23:30:00Z", 0)];
        assert_eq!(seconds(&e).len(), 1);
        // The fall change: 02:10 CEST and 02:20 CET are 70 minutes apart.
        let e = [("2020-10-25T00:10:00Z", 0), ("2020-10-25T01:20:00Z", 0)];
        assert_eq!(seconds(&e).len(), 2);
    }

    #[test]
    fn the_first_events_profile_names_the_visit() {
        let e = [
            ("2020-03-16T08:10:00Z", Profile::Student, 3),
            ("2020-03-16T08:00:00Z", Profile::Relative, NO_STRUCTURE),
        ];
        assert_eq!(visits(&e), [(18_337, 600, Profile::Relative, vec![3])]);
    }

    #[test]
    fn any_order_gives_the_visits_of_time_order() {
        // Two visits of one day; the event at 08:45 bridges 08:20 and
        // 09:10, which are 50 minutes apart.
        let mut e = vec![
            ("2020-03-16T08:00:00Z", Profile::Teacher, 1),
            ("2020-03-16T08:20:00Z", Profile::Teacher, 2),
            ("2020-03-16T09:10:00Z", Profile::Student, 1),
            ("2020-03-16T11:00:00Z", Profile::Student, 3),
            ("2020-03-16T08:45:00Z", Profile::Relative, 4),
            ("2020-03-16T08:00:00Z", Profile::Student, 5),
            ("2020-03-16T11:00:00Z", Profile::Student, 3),
        ];
        let mut sorted = e.clone();
        sorted.sort_by_key(|&(at, p, s)| (at, p, s));
        let want = visits(&sorted);
        assert_eq!(want.len(), 2, "{want:?}");
        assert_eq!(want[0].1, 70 * 60, "{want:?}");
        for k in 0..e.len() {
            e.rotate_left(1);
            assert_eq!(visits(&e), want, "rotation {k}");
            let mut r = e.clone();
            r.reverse();
            assert_eq!(visits(&r), want, "reversed rotation {k}");
        }
        // Cut in two (two workers) and joined as the final stage joins
        // them, whatever the cut.
        let gap = 30 * 60_000;
        for cut in 0..=e.len() {
            let fold = |part: &Events<'_>| {
                let mut dv = DayVisits::default();
                for &(at, p, s) in part {
                    let ms = parse_iso_ms(at.as_bytes()).unwrap();
                    dv.add((ms - day_base_ms(18_337)) as u32, p, [s].into_iter(), gap);
                }
                dv
            };
            let list = |parts: &[DayVisits]| {
                let mut l = VisitList::default();
                for p in parts {
                    l.push_day(1, 18_337, p);
                }
                let l = l.joined(i64::from(gap));
                let structures = |s: &VisitSpan| {
                    let mut v = l.structures_of(s).to_vec();
                    v.sort();
                    v
                };
                l.spans
                    .iter()
                    .map(|s| (s.start_ms, s.end_ms, s.profile, structures(s)))
                    .collect::<Vec<_>>()
            };
            let whole = list(&[fold(&sorted)]);
            assert_eq!(list(&[fold(&e[..cut]), fold(&e[cut..])]), whole, "cut at {cut}");
        }
    }
}
