//! Visits held compact: the closed days of the scan and every visit of
//! the final stage, until `user_visits` is written.
//!
//! A run holds all its visits at once (33 M at `--scale 10`), so a visit
//! ([`VisitSpan`]) keeps 24 bytes: its user, day, start and end, with the
//! profile and device in the low bits of the instants, and how many
//! structures and points it has. Its structures and points are in two
//! lists shared by the list's visits, in visit order: a visit's start
//! where the counts of the visits before it end, so no visit holds an
//! offset. Reading visits in order ([`VisitList::iter`]) keeps the
//! running offsets; reading them out of order goes through an index of
//! every sixteenth visit's offsets ([`VisitIndex`]).

use super::scope::StructureId;
use crate::device::Device;
use crate::parse::Profile;
use crate::spill::{Items, Plain, Spill};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::ops::Range;

/// The instant offsets of a day's visits count from: the start of the
/// UTC day before the local day, so that every instant of the local day
/// (whatever the time zone) is a positive `u32` of milliseconds.
pub fn day_base_ms(day: i32) -> i64 {
    (i64::from(day) - 1) * 86_400_000
}

/// The largest instant a visit holds, ms after [`day_base_ms`]: the end
/// of a local day of 25 hours in a zone 26 hours behind UTC is below it,
/// and it leaves four bits of a `u32` for a profile or a device.
pub const MAX_AT: u32 = (1 << 28) - 1;

/// The service of a [`Point`] of an event that counts for none.
pub const NO_SERVICE: u8 = u8::MAX;

/// An event's place in its visit, kept when the services of visits are
/// counted: its instant (milliseconds after [`day_base_ms`]) and the
/// service it counts for ([`NO_SERVICE`] when none). A visit keeps each
/// distinct point once, so the same events read twice keep the same
/// points. Packed: five bytes where alignment would take eight, for every
/// event of every visit held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(C, packed)]
pub struct Point {
    /// Instant, ms after [`day_base_ms`].
    pub at: u32,
    /// Service, or [`NO_SERVICE`].
    pub service: u8,
}

// SAFETY: packed integers: no padding, any bytes are a point.
#[allow(unsafe_code)]
unsafe impl Plain for Point {}

/// A visit's distinct points, sorted; three held inline, in the room two
/// unpacked points took (the scenario's visits average two events, and
/// every inline slot is paid by every visit).
pub type Points = SmallVec<[Point; 3]>;

/// Adds the sorted distinct `more` to the sorted distinct `points`.
pub fn union_points(points: &mut Points, more: &[Point]) {
    if !more.is_empty() {
        points.extend_from_slice(more);
        points.sort_unstable();
        points.dedup();
    }
}

/// A count of a visit's structures or points at or above this is not in
/// the visit but ahead of its items, in the shared list.
const LONG: u16 = u16::MAX;

/// One visit of a [`VisitList`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct VisitSpan {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day.
    pub day: i32,
    /// First event (ms after [`day_base_ms`] of its day) in the high 28
    /// bits, the profile of the first event in the low 4: ordering by it
    /// orders by start, then profile.
    start: u32,
    /// Last event the same way, with the device of the first event.
    end: u32,
    /// How many structures it names, or [`LONG`].
    structure_count: u16,
    /// How many points it has, or [`LONG`].
    point_count: u16,
}

// Held for every visit of a run: keep them small.
const _: () = assert!(size_of::<VisitSpan>() == 24 && size_of::<Point>() == 5);

// SAFETY: `repr(C)` integers whose sizes add up to the span's (asserted
// above): no padding. Any bytes are a span (profile and device are read
// from four bits, and a spill file holds only spans written from spans).
#[allow(unsafe_code)]
unsafe impl Plain for VisitSpan {}

impl VisitSpan {
    /// A visit of `user` on `day` from `start` to `end` (ms after
    /// [`day_base_ms`], at most [`MAX_AT`]), whose first event has
    /// `profile` and `device`; its structures and points are given when
    /// it is pushed ([`VisitList::push`]).
    pub fn new(
        user: u64,
        day: i32,
        (start, end): (u32, u32),
        profile: Profile,
        device: Device,
    ) -> VisitSpan {
        debug_assert!(start <= MAX_AT && end <= MAX_AT);
        VisitSpan {
            user,
            day,
            start: start.min(MAX_AT) << 4 | profile as u32,
            end: end.min(MAX_AT) << 4 | device as u32,
            structure_count: 0,
            point_count: 0,
        }
    }

    /// First event, ms after [`day_base_ms`] of its day.
    pub fn start(&self) -> u32 {
        self.start >> 4
    }

    /// Last event, ms after [`day_base_ms`] of its day.
    pub fn end(&self) -> u32 {
        self.end >> 4
    }

    /// Profile of the first event.
    pub fn profile(&self) -> Profile {
        Profile::ALL[(self.start & 15) as usize]
    }

    /// Device of the first event.
    pub fn device(&self) -> Device {
        Device::ALL[(self.end & 15) as usize]
    }

    /// The same visit ending at `end` (ms after [`day_base_ms`]).
    fn ending_at(self, end: u32) -> VisitSpan {
        VisitSpan { end: end << 4 | (self.end & 15), ..self }
    }

    /// Duration in whole seconds, truncated.
    pub fn seconds(&self) -> i64 {
        (i64::from(self.end()) - i64::from(self.start())) / 1000
    }

    /// First event, epoch ms.
    pub fn start_ms(&self) -> i64 {
        day_base_ms(self.day) + i64::from(self.start())
    }

    /// Last event, epoch ms.
    pub fn end_ms(&self) -> i64 {
        day_base_ms(self.day) + i64::from(self.end())
    }

    /// The order visits are joined in: user, day, start, then the lowest
    /// profile and device first (the first event's, on a tie), then end.
    fn join_order(&self) -> (u64, i32, u32, u32, u32) {
        (self.user, self.day, self.start, self.end & 15, self.end >> 4)
    }
}

/// A visit of a list with its structures and points.
#[derive(Clone, Copy, Debug)]
pub struct Visit<'a> {
    /// The visit.
    pub span: &'a VisitSpan,
    /// Its structures.
    pub structures: &'a [StructureId],
    /// Its points (sorted, distinct).
    pub points: &'a [Point],
}

/// Visits of some users, with their structures and points in shared
/// lists, in the order of the visits; in memory, or in a spill file
/// ([`VisitList::spill`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitList {
    spans: Items<VisitSpan>,
    structures: Items<StructureId>,
    points: Items<Point>,
}

/// Where the items of a visit lie in a shared list, its run starting at
/// `at` and its count field being `count`; `long` reads the count ahead
/// of the items of a long visit. The next visit's run starts at the
/// range's end.
fn item_range(at: usize, count: u16, long: impl FnOnce() -> usize) -> Range<usize> {
    match count {
        LONG => at + 1..at + 1 + long(),
        n => at..at + usize::from(n),
    }
}

/// Puts `items` at the end of `list` and returns the count field that
/// says how many: [`LONG`] when they are too many, their number then
/// ahead of them (made by `header`).
#[inline]
fn put<T: Copy>(list: &mut Vec<T>, items: &[T], header: impl Fn(usize) -> T) -> u16 {
    match items.len() {
        // Most visits name one structure and hold a few points: pushed one
        // by one, they cost less than a call to copy them.
        n @ 0..=4 => {
            for &item in items {
                list.push(item);
            }
            n as u16
        }
        n if n < usize::from(LONG) => {
            list.extend_from_slice(items);
            n as u16
        }
        n => {
            list.push(header(n));
            list.extend_from_slice(items);
            LONG
        }
    }
}

/// Items a list holds for `n` items.
fn stored(n: usize) -> usize {
    if n < usize::from(LONG) { n } else { n + 1 }
}

impl VisitList {
    /// An empty list with room for `spans` visits and for `structures`
    /// and `points` items in its shared lists (a long visit's count takes
    /// an item: see [`VisitList::grow`]).
    pub fn with_capacity(spans: usize, structures: usize, points: usize) -> VisitList {
        VisitList {
            spans: Items::from(Vec::with_capacity(spans)),
            structures: Items::from(Vec::with_capacity(structures)),
            points: Items::from(Vec::with_capacity(points)),
        }
    }

    /// The room `with_capacity` needs for a visit with `structures` and
    /// `points`, added to `size` (visits, structures, points).
    pub fn grow(size: &mut (usize, usize, usize), structures: usize, points: usize) {
        *size = (size.0 + 1, size.1 + stored(structures), size.2 + stored(points));
    }

    /// The visits, without their structures and points.
    pub fn spans(&self) -> &[VisitSpan] {
        &self.spans
    }

    /// Appends `span` with `structures` as its structures and `points`
    /// (sorted, distinct) as its points.
    #[inline]
    pub fn push(&mut self, mut span: VisitSpan, structures: &[StructureId], points: &[Point]) {
        span.structure_count = put(self.structures.held(), structures, |n| n as StructureId);
        span.point_count = put(self.points.held(), points, |n| Point { at: n as u32, service: 0 });
        self.spans.held().push(span);
    }

    /// The visits in order, with their structures and points.
    pub fn iter(&self) -> impl Iterator<Item = Visit<'_>> {
        let (mut s, mut p) = (0, 0);
        self.spans.iter().map(move |span| self.visit_at(span, &mut s, &mut p))
    }

    /// The visit `span` whose structures and points start at `s` and `p`;
    /// moves them to the next visit's.
    #[inline]
    fn visit_at<'a>(&'a self, span: &'a VisitSpan, s: &mut usize, p: &mut usize) -> Visit<'a> {
        let (structures, points) = self.ranges(span, s, p);
        Visit { span, structures: &self.structures[structures], points: &self.points[points] }
    }

    /// Moves `s` and `p`, where the structures and points of `span` start,
    /// to where the next visit's start.
    fn skip(&self, span: &VisitSpan, s: &mut usize, p: &mut usize) {
        self.ranges(span, s, p);
    }

    /// Where the structures and points of `span` lie, its runs starting at
    /// `s` and `p`; moves them to the next visit's.
    #[inline]
    fn ranges(
        &self,
        span: &VisitSpan,
        s: &mut usize,
        p: &mut usize,
    ) -> (Range<usize>, Range<usize>) {
        let structures = item_range(*s, span.structure_count, || self.structures[*s] as usize);
        let points = item_range(*p, span.point_count, || self.points[*p].at as usize);
        (*s, *p) = (structures.end, points.end);
        (structures, points)
    }

    /// The visits of `lists`, one after the other, in one list made at
    /// its final size.
    pub fn concat(lists: Vec<VisitList>) -> VisitList {
        let size = |f: fn(&VisitList) -> usize| lists.iter().map(f).sum();
        let mut all = VisitList::with_capacity(
            size(|l| l.spans.len()),
            size(|l| l.structures.len()),
            size(|l| l.points.len()),
        );
        for l in lists {
            all.append(l);
        }
        all
    }

    /// Moves the visits of `other` to the end of `self`.
    pub fn append(&mut self, other: VisitList) {
        self.structures.held().extend_from_slice(&other.structures);
        self.points.held().extend_from_slice(&other.points);
        self.spans.held().extend_from_slice(&other.spans);
    }

    /// Bytes of memory the list holds (none once spilled).
    fn held_bytes(&self) -> usize {
        self.spans.held_bytes() + self.structures.held_bytes() + self.points.held_bytes()
    }

    /// `lists` kept in memory if there is no spill file or its budget
    /// allows it, else written to it, together, and read from there (kept
    /// in memory if the write fails: see [`Spill::write`]).
    pub fn spill(lists: Vec<VisitList>, spill: Option<&Spill>) -> Vec<VisitList> {
        let Some(spill) = spill else { return lists };
        if spill.keeps(lists.iter().map(VisitList::held_bytes).sum()) {
            return lists;
        }
        let parts: Vec<&[u8]> = lists
            .iter()
            .flat_map(|l| [l.spans.bytes(), l.structures.bytes(), l.points.bytes()])
            .collect();
        let Some((map, starts)) = spill.write(&parts) else { return lists };
        let spilled: Option<Vec<VisitList>> = lists
            .iter()
            .zip(starts.chunks_exact(3))
            .map(|(l, at)| {
                Some(VisitList {
                    spans: l.spans.spilled_at(&map, at[0])?,
                    structures: l.structures.spilled_at(&map, at[1])?,
                    points: l.points.spilled_at(&map, at[2])?,
                })
            })
            .collect();
        spilled.unwrap_or(lists)
    }

    /// The visits of each user shard's lists in one list, joined (see
    /// [`VisitList::joined`]), shards in parallel; spilled once `spill`'s
    /// budget is spent, counted afresh: the lists given are freed as the
    /// joined ones are made.
    pub fn join_shards(
        shards: Vec<Vec<VisitList>>,
        gap_ms: i64,
        spill: Option<&Spill>,
    ) -> Vec<VisitList> {
        if let Some(spill) = spill {
            spill.restart();
        }
        shards
            .into_par_iter()
            .map(|lists| {
                let joined = VisitList::concat(lists).joined(gap_ms);
                VisitList::spill(vec![joined], spill).pop().unwrap_or_default()
            })
            .collect()
    }

    /// The visits of the union of the events behind the visits of `self`,
    /// sorted by user, day and start: visits of one user and day that
    /// overlap or lie within `gap_ms` of each other join into one, which
    /// starts with the earliest start (the lowest profile and device on a
    /// tie, as the visits of a day do), names the structures of both and
    /// holds the points of both. Visits cut from the same events by
    /// shards of the input join back into the visits of the whole.
    pub fn joined(self, gap_ms: i64) -> VisitList {
        // Each visit with where its items start, sorted: the order is
        // read from the spans themselves, not through references.
        let (mut s, mut p) = (0, 0);
        let mut order: Vec<(VisitSpan, usize, usize)> = Vec::with_capacity(self.spans.len());
        for span in self.spans.iter() {
            order.push((*span, s, p));
            self.skip(span, &mut s, &mut p);
        }
        order.sort_unstable_by_key(|(span, ..)| span.join_order());
        let joins = |a: &VisitSpan, b: &VisitSpan| {
            (a.user, a.day) == (b.user, b.day)
                && i64::from(b.start()) - i64::from(a.end()) <= gap_ms
        };
        let mut out =
            VisitList::with_capacity(self.spans.len(), self.structures.len(), self.points.len());
        let mut names: Vec<StructureId> = Vec::new();
        let mut points = Points::new();
        let mut visits = order
            .iter()
            .map(|(span, s, p)| self.visit_at(span, &mut { *s }, &mut { *p }))
            .peekable();
        while let Some(first) = visits.next() {
            if !visits.peek().is_some_and(|n| joins(first.span, n.span)) {
                // Alone, as nearly every visit of a run is: copied as it is.
                out.push(*first.span, first.structures, first.points);
                continue;
            }
            let mut cur = *first.span;
            names.clear();
            names.extend_from_slice(first.structures);
            points.clear();
            points.extend_from_slice(first.points);
            while let Some(next) = visits.next_if(|n| joins(&cur, n.span)) {
                cur = cur.ending_at(cur.end().max(next.span.end()));
                for s in next.structures {
                    if !names.contains(s) {
                        names.push(*s);
                    }
                }
                union_points(&mut points, next.points);
            }
            out.push(cur, &names, &points);
        }
        out
    }

    /// An index for reading the visits out of order.
    pub fn index(&self) -> VisitIndex {
        let (mut s, mut p) = (0, 0);
        let mut marks = Vec::with_capacity(self.spans.len().div_ceil(MARK_EVERY));
        for (i, span) in self.spans.iter().enumerate() {
            if i % MARK_EVERY == 0 {
                marks.push((s, p));
            }
            self.skip(span, &mut s, &mut p);
        }
        VisitIndex { marks }
    }
}

/// Visits between two marks of a [`VisitIndex`].
const MARK_EVERY: usize = 16;

/// Where the structures and points of every sixteenth visit of a
/// [`VisitList`] start: a visit is found from the mark before it, by the
/// counts of at most fifteen visits, which lie beside it.
#[derive(Clone, Debug, Default)]
pub struct VisitIndex {
    marks: Vec<(usize, usize)>,
}

/// Where reading a list out of order left off: the next visit and where
/// its items start.
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    next: usize,
    s: usize,
    p: usize,
}

impl Default for Cursor {
    /// A cursor that is nowhere: the next visit is found from its mark.
    fn default() -> Self {
        Cursor { next: usize::MAX, s: 0, p: 0 }
    }
}

impl VisitIndex {
    /// Visit `i` of `list` (the list the index was made of), found from
    /// `cursor` when it stands between the mark before the visit and the
    /// visit (a table read in order, a list at a time, reads the visits
    /// of a user one after the other), else from the mark; the cursor
    /// then stands after it.
    pub fn get<'a>(&self, list: &'a VisitList, i: usize, cursor: &mut Cursor) -> Visit<'a> {
        let mark = i - i % MARK_EVERY;
        let (from, mut s, mut p) = if (mark..=i).contains(&cursor.next) {
            (cursor.next, cursor.s, cursor.p)
        } else {
            let (s, p) = self.marks[mark / MARK_EVERY];
            (mark, s, p)
        };
        for span in &list.spans[from..i] {
            list.skip(span, &mut s, &mut p);
        }
        let visit = list.visit_at(&list.spans[i], &mut s, &mut p);
        *cursor = Cursor { next: i + 1, s, p };
        visit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(user: u64, start: u32, end: u32) -> VisitSpan {
        VisitSpan::new(user, 18_337, (start, end), Profile::Teacher, Device::Tablet)
    }

    #[test]
    fn a_span_gives_back_what_it_was_made_of() {
        let s = VisitSpan::new(7, -5, (MAX_AT - 1, MAX_AT), Profile::Unknown, Device::Other);
        assert_eq!((s.user, s.day, s.start(), s.end()), (7, -5, MAX_AT - 1, MAX_AT));
        assert_eq!((s.profile(), s.device()), (Profile::Unknown, Device::Other));
        for p in Profile::ALL {
            for d in Device::ALL {
                let s = VisitSpan::new(1, 2, (3, 4), p, d);
                assert_eq!((s.profile(), s.device(), s.start(), s.end()), (p, d, 3, 4));
            }
        }
    }

    #[test]
    fn long_visits_keep_every_structure_and_point_in_order_and_out_of_it() {
        let mut list = VisitList::default();
        let sizes = [0, 1, 2, 65_534, 65_535, 65_536, 3, 70_000];
        let made: Vec<(Vec<StructureId>, Vec<Point>)> = sizes
            .iter()
            .enumerate()
            .map(|(k, &n)| {
                let structures = (0..n as u32).map(|x| x * 3 + k as u32).collect();
                let points = (0..n as u32).map(|x| Point { at: x, service: k as u8 }).collect();
                (structures, points)
            })
            .collect();
        for (k, (structures, points)) in made.iter().enumerate() {
            list.push(span(k as u64, 1, 2), structures, points);
        }
        // Appended twice: the second copy's items follow the first's.
        list.append(list.clone());
        let index = list.index();
        let mut cursor = Cursor::default();
        for (i, v) in list.iter().enumerate() {
            let (structures, points) = &made[i % sizes.len()];
            assert_eq!((v.structures, v.points), (&structures[..], &points[..]), "visit {i}");
            // From the mark, and from a cursor left one or three visits before.
            let w = index.get(&list, i, &mut Cursor::default());
            assert_eq!((w.span, w.structures, w.points), (v.span, v.structures, v.points));
            let w = index.get(&list, i, &mut cursor);
            assert_eq!((w.span, w.structures, w.points), (v.span, v.structures, v.points));
            if i % 3 == 0 && i + 3 < list.spans().len() {
                index.get(&list, i + 2, &mut cursor);
            }
        }
    }

    #[test]
    fn joining_sorts_and_joins_visits_within_the_gap() {
        let mut list = VisitList::default();
        let p = |at| Point { at, service: 1 };
        list.push(span(2, 5_000, 6_000), &[9], &[p(5_000), p(6_000)]);
        list.push(span(1, 10_000, 20_000), &[4], &[p(10_000)]);
        list.push(span(1, 1_000, 2_000), &[3, 4], &[p(1_000), p(2_000)]);
        list.push(span(1, 2_500, 9_000), &[5], &[p(2_500), p(9_000)]);
        let joined = list.joined(1_000);
        let got: Vec<_> = joined
            .iter()
            .map(|v| {
                (v.span.user, v.span.start(), v.span.end(), v.structures.to_vec(), v.points.len())
            })
            .collect();
        assert_eq!(got, [(1, 1_000, 20_000, vec![3, 4, 5], 5), (2, 5_000, 6_000, vec![9], 2)]);
    }
}
