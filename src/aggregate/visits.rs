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
use super::key::{SHARDS, user_shard};
use super::scope::{Dimensions, NO_STRUCTURE, ScopeKey, StructureId};
use super::visit_list::{NO_SERVICE, Point, Points, Visit, VisitList, VisitSpan, union_points};
use crate::device::Device;
use crate::hash::{FastMap, FastSet, merge_maps};
use crate::national::{GROUPS, Group, service_group, visit_groups};
use crate::parse::Profile;
use crate::time::{civil_from_days, days_in_month, month_start, week_start};
use hdrhistogram::Histogram;
use smallvec::SmallVec;

/// What one event tells the visit it falls in (with its device, see
/// [`DayVisits::add`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    /// Instant, ms after [`day_base_ms`](super::visit_list::day_base_ms).
    pub at: u32,
    /// The user's profile.
    pub profile: Profile,
    /// The service the event counts for ([`NO_SERVICE`] when none), or
    /// `None` when the services of visits are not counted.
    pub service: Option<u8>,
}

/// One visit being built: the span of its events (milliseconds after
/// [`day_base_ms`](super::visit_list::day_base_ms)), the profile and device of its first event (the lowest
/// among events of the same first instant), the structures its events
/// name, and its points when services are counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenVisit {
    /// First event.
    pub start: u32,
    /// Last event.
    pub end: u32,
    /// Profile of the first event.
    pub profile: Profile,
    /// Device of the first event.
    pub device: Device,
    /// Distinct structures named by its events (never [`NO_STRUCTURE`]).
    pub structures: SmallVec<[StructureId; 2]>,
    /// Its distinct points, sorted (empty when services are not counted).
    pub points: Points,
}

impl OpenVisit {
    /// Adds `o`'s events (a visit of the same user and day that starts no
    /// earlier, or starts at the same instant with no lower profile and
    /// device).
    fn absorb(&mut self, o: &OpenVisit) {
        self.end = self.end.max(o.end);
        for &s in &o.structures {
            if !self.structures.contains(&s) {
                self.structures.push(s);
            }
        }
        union_points(&mut self.points, &o.points);
    }
}

/// The time of a visit in each service it used, from its sorted distinct
/// points: from each instant with an event of the service to the next
/// instant with an event of the visit (none after the last), in ms, by
/// service.
pub fn service_ms(points: &[Point]) -> SmallVec<[(u8, i64); 4]> {
    let mut out: SmallVec<[(u8, i64); 4]> = SmallVec::new();
    let mut rest = points;
    while let Some(first) = rest.first() {
        // The points of this instant, then the next instant.
        let n = rest.partition_point(|p| p.at == first.at);
        let ms = i64::from(rest.get(n).map_or(first.at, |p| p.at) - first.at);
        for p in rest[..n].iter().filter(|p| p.service != NO_SERVICE) {
            match out.iter_mut().find(|(s, _)| *s == p.service) {
                Some((_, total)) => *total += ms,
                None => out.push((p.service, ms)),
            }
        }
        rest = &rest[n..];
    }
    out
}

/// The visits of one user on one local day so far, sorted by start, each
/// more than the visit gap after the end of the one before. Most user
/// days have one visit, held inline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayVisits(pub SmallVec<[OpenVisit; 1]>);

impl DayVisits {
    /// Appends these visits of `user` on `day` to `list`.
    pub fn push_into(&self, list: &mut VisitList, user: u64, day: i32) {
        for v in &self.0 {
            let span = VisitSpan::new(user, day, (v.start, v.end), v.profile, v.device);
            list.push(span, &v.structures, &v.points);
        }
    }

    /// The visits of `users` on `day`, dealt into a list per user shard,
    /// each made at its size.
    pub fn deal(day: i32, users: &FastMap<u64, DayVisits>) -> Vec<VisitList> {
        // Sized first: grown by doubling, the lists were copied over and
        // over.
        let mut sizes = [(0, 0, 0); SHARDS];
        for (&user, v) in users {
            for o in &v.0 {
                VisitList::grow(&mut sizes[user_shard(user)], o.structures.len(), o.points.len());
            }
        }
        let mut shards: Vec<VisitList> =
            sizes.iter().map(|&(v, s, p)| VisitList::with_capacity(v, s, p)).collect();
        for (&user, v) in users {
            v.push_into(&mut shards[user_shard(user)], user, day);
        }
        shards
    }

    /// Folds in one event, naming `structures` ([`NO_STRUCTURE`] is
    /// skipped).
    #[inline]
    ///
    /// `device` gives the event's device; it is asked only when the event
    /// may be its visit's first (a visit's other events do not need theirs,
    /// and most events are not first).
    pub fn add(
        &mut self,
        t: Touch,
        device: impl FnOnce() -> Device,
        structures: impl Iterator<Item = StructureId>,
        gap_ms: u32,
    ) {
        let Touch { at, profile, service } = t;
        let v = &mut self.0;
        // The first visit that ends no more than the gap before the event;
        // logs come in time order, so it is nearly always the last.
        let reaches = |x: &OpenVisit| x.end.saturating_add(gap_ms) >= at;
        let i = match v.last() {
            Some(last) if reaches(last) => v.partition_point(|x| !reaches(x)),
            _ => v.len(),
        };
        if v.get(i).is_none_or(|x| x.start > at.saturating_add(gap_ms)) {
            let visit = OpenVisit {
                start: at,
                end: at,
                profile,
                device: device(),
                structures: SmallVec::new(),
                points: Points::new(),
            };
            v.insert(i, visit);
        } else if (at, profile) <= (v[i].start, v[i].profile) {
            let x = &mut v[i];
            let device = device();
            if (at, profile, device) < (x.start, x.profile, x.device) {
                (x.start, x.profile, x.device) = (at, profile, device);
            }
        }
        let x = &mut v[i];
        x.end = x.end.max(at);
        if let Some(service) = service {
            let point = Point { at, service };
            // Events come in time order: the point is nearly always last.
            if x.points.last().is_none_or(|l| *l < point) {
                x.points.push(point);
            } else if let Err(k) = x.points.binary_search(&point) {
                x.points.insert(k, point);
            }
        }
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

/// The national datasets' key: ISO week and school code (index in
/// [`uai_index`]'s list).
pub type NationalKey = (i32, u32);

/// The figures of every column group of one national row.
pub type NationalCells = Box<[NationalMetrics; GROUPS]>;

// A user's groups in a row are a bit set.
const _: () = assert!(GROUPS <= 64);

/// Visits, distinct users and seconds of one column group of a national
/// dataset's row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NationalMetrics {
    /// Visits.
    pub visits: i64,
    /// Distinct users with a visit.
    pub users: i64,
    /// Total duration, seconds.
    pub seconds: i64,
}

impl std::ops::AddAssign for NationalMetrics {
    fn add_assign(&mut self, o: NationalMetrics) {
        self.visits += o.visits;
        self.users += o.users;
        self.seconds += o.seconds;
    }
}

/// Visits and seconds of one cell, side by side: one cache line to fetch
/// per cell counted, not two.
#[derive(Clone, Copy, Default)]
struct VisitCell {
    visits: u32,
    seconds: i64,
}

impl std::ops::AddAssign for VisitCell {
    fn add_assign(&mut self, o: VisitCell) {
        self.visits += o.visits;
        self.seconds += o.seconds;
    }
}

/// What the visits of some users add up to: each thread's own. The
/// cells are each thread's too: cells shared by the threads were counted
/// with atomic additions, each a locked instruction, and the platform's
/// and segments' cells, which every visit counts in, went back and forth
/// between the cores.
pub struct Tally {
    /// Visits and seconds per cell of the audience layout.
    cells: Vec<VisitCell>,
    /// Durations by (month, profile; `None` for all).
    pub histograms: FastMap<(i32, Option<Profile>), Histogram<u64>>,
    /// The national datasets' figures.
    pub national: FastMap<NationalKey, NationalCells>,
}

impl Tally {
    /// Nothing counted yet, in the cells of `layout`.
    pub fn new(layout: &Layout) -> Tally {
        Tally {
            cells: vec![VisitCell::default(); layout.len()],
            histograms: FastMap::default(),
            national: FastMap::default(),
        }
    }

    /// Counts one visit of `seconds` in cell `i`.
    #[inline]
    fn add(&mut self, i: usize, seconds: i64) {
        self.cells[i] += VisitCell { visits: 1, seconds };
    }

    /// Adds `other` into `self` (both of the same layout).
    pub fn merge(mut self, mut other: Tally) -> Tally {
        self.cells = grid::add(self.cells, other.cells);
        // Same bounds everywhere, so adding histograms cannot fail.
        merge_maps(&mut self.histograms, &mut other.histograms, |mine, h| {
            mine.add(&h).unwrap_or_else(|_| unreachable!())
        });
        merge_maps(&mut self.national, &mut other.national, |mine, cells| {
            for (e, &m) in mine.iter_mut().zip(cells.iter()) {
                *e += m;
            }
        });
        self
    }
}

/// What the visits of every user add up to.
pub struct Partial {
    /// Visits per cell of the audience layout.
    pub visits: Vec<u32>,
    /// Seconds per cell of the audience layout.
    pub seconds: Vec<i64>,
    /// Durations by (month, profile; `None` for all).
    pub histograms: FastMap<(i32, Option<Profile>), Histogram<u64>>,
    /// The national datasets' figures.
    pub national: FastMap<NationalKey, NationalCells>,
}

impl Partial {
    /// The figures of `tally` once every visit is counted, the grid's
    /// weeks, months and `All` filled from its days (see [`count`]).
    pub fn new(tally: Tally, layout: &Layout) -> Partial {
        let Tally { cells, histograms, national } = tally;
        let (mut visits, mut seconds): (Vec<u32>, Vec<i64>) =
            cells.into_iter().map(|c| (c.visits, c.seconds)).unzip();
        layout.roll_up(&mut visits);
        layout.roll_up(&mut seconds);
        Partial { visits, seconds, histograms, national }
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

/// The months (first days) of the visits of `list`, each once.
pub fn months(list: &VisitList) -> FastSet<i32> {
    let mut months = FastSet::default();
    // The days of the month last seen: most visits fall in it.
    let mut current = (0, 0);
    for v in list.spans() {
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
pub fn count(list: &VisitList, cx: &Context<'_>, out: &mut Tally) {
    let mut scopes: Vec<ScopeKey> = Vec::new();
    let mut national = NationalScratch::default();
    let mut visits = list.iter().peekable();
    while let Some(visit) = visits.next() {
        count_one(&visit, cx, out, &mut scopes, &mut national);
        // A user's visits are together: the user is counted after the last.
        if visits.peek().is_none_or(|next| next.span.user != visit.span.user) {
            national.count_user(&mut out.national);
        }
    }
}

/// Counts one visit into `out` and the user's national rows.
fn count_one(
    visit: &Visit<'_>,
    cx: &Context<'_>,
    out: &mut Tally,
    scopes: &mut Vec<ScopeKey>,
    national: &mut NationalScratch,
) {
    let v = visit.span;
    let seconds = v.seconds();
    let profile = Some(v.profile());
    // Distinct scopes, so every cell below is distinct.
    cx.dims.scopes_naming(visit.structures, scopes);
    // The layout holds the months of every visit's day. Only the day and
    // profile are counted here: weeks, months and `All` are their sums
    // (see `Partial::new`).
    let Some([day, ..]) = cx.layout.periods_of(v.day) else { return };
    for &scope in scopes.iter() {
        out.add(cx.layout.cell(day, scope, profile), seconds);
    }
    let month = month_start(v.day);
    for profile in [profile, None] {
        out.histograms
            .entry((month, profile))
            .or_insert_with(histogram)
            .saturating_record(seconds as u64);
    }
    national.add(visit, cx);
}

/// What counting the national datasets keeps per user: the user's rows,
/// summed here and added to the dataset's rows once the user's last visit
/// is counted. A dataset's rows are many and large (a cache line per few
/// groups), so each visit counted there missed the cache; a user's rows
/// are few, and are added once each.
#[derive(Default)]
struct NationalScratch {
    /// The user's rows so far, each with the set of its groups.
    rows: Vec<(NationalKey, u64)>,
    /// The visits and seconds of each row of `rows`, by group (more than
    /// `rows` when an earlier user had more rows: only the groups of a
    /// row's set are read, and they are zeroed once added).
    sums: Vec<NationalCells>,
    /// The schools of the visit being counted.
    uais: SmallVec<[u32; 4]>,
    /// Its groups and the seconds it adds to each.
    groups: SmallVec<[(Group, i64); 8]>,
}

impl NationalScratch {
    /// Adds the visit `v` to the user's national rows: its whole duration
    /// to its profile and device groups, its time in each service it used
    /// to that service's, in every school (UAI) its structures belong to,
    /// once per school.
    fn add(&mut self, visit: &Visit<'_>, cx: &Context<'_>) {
        let v = visit.span;
        self.uais.clear();
        self.uais.extend(visit.structures.iter().filter_map(|&s| cx.uai_of[s as usize]));
        if self.uais.is_empty() {
            return;
        }
        self.uais.sort_unstable();
        self.uais.dedup();
        let seconds = v.seconds();
        self.groups.clear();
        self.groups.extend(visit_groups(v.profile(), v.device()).map(|g| (g, seconds)));
        let services = service_ms(visit.points);
        self.groups.extend(services.iter().map(|&(s, ms)| (service_group(s), ms / 1000)));
        let bits = self.groups.iter().fold(0u64, |b, &(g, _)| b | 1 << g);
        let week = week_start(v.day);
        for &uai in &self.uais {
            // A user's visits come by day: the row is nearly always last.
            let i = match self.rows.iter().rposition(|(k, _)| *k == (week, uai)) {
                Some(i) => i,
                None => {
                    self.rows.push(((week, uai), 0));
                    if self.sums.len() < self.rows.len() {
                        self.sums.push(empty_cells());
                    }
                    self.rows.len() - 1
                }
            };
            self.rows[i].1 |= bits;
            let row = &mut self.sums[i];
            for &(g, s) in &self.groups {
                let cell = &mut row[usize::from(g)];
                cell.visits += 1;
                cell.seconds += s;
            }
        }
    }

    /// Adds the user's rows to `national`, the user counted once in every
    /// group of each of their rows.
    fn count_user(&mut self, national: &mut FastMap<NationalKey, NationalCells>) {
        for (&(k, bits), sums) in self.rows.iter().zip(&mut self.sums) {
            let row = national.entry(k).or_insert_with(empty_cells);
            let mut rest = bits;
            while rest != 0 {
                let g = rest.trailing_zeros() as usize;
                row[g] += NationalMetrics { users: 1, ..std::mem::take(&mut sums[g]) };
                rest &= rest - 1;
            }
        }
        self.rows.clear();
    }
}

/// The cells of a new national row.
fn empty_cells() -> NationalCells {
    Box::new([NationalMetrics::default(); GROUPS])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::visit_list::day_base_ms;
    use crate::time::{LocalDays, parse_iso_ms};
    use jiff::tz::TimeZone;

    /// The device of the tests' events.
    fn computer() -> Device {
        Device::Computer
    }

    /// An event without services.
    fn touch(at: u32, profile: Profile) -> Touch {
        Touch { at, profile, service: None }
    }

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
            let t = touch(at, profile);
            by_day.entry(day).or_default().add(t, computer, [s].into_iter(), 30 * 60_000);
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
                    dv.add(
                        touch((ms - day_base_ms(18_337)) as u32, p),
                        computer,
                        [s].into_iter(),
                        gap,
                    );
                }
                dv
            };
            let list = |parts: &[DayVisits]| {
                let mut l = VisitList::default();
                for p in parts {
                    p.push_into(&mut l, 1, 18_337);
                }
                let l = l.joined(i64::from(gap));
                l.iter()
                    .map(|v| {
                        let mut structures = v.structures.to_vec();
                        structures.sort();
                        (v.span.start(), v.span.end(), v.span.profile(), structures)
                    })
                    .collect::<Vec<_>>()
            };
            let whole = list(&[fold(&sorted)]);
            assert_eq!(list(&[fold(&e[..cut]), fold(&e[cut..])]), whole, "cut at {cut}");
        }
    }
}
