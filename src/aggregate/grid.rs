//! The grid of audience cells by (grain, period, scope, profile): distinct
//! visitors, visits and every figure of `audience.parquet` are counted in
//! its cells (see `audience_cells.rs`).
//!
//! Counting distinct users adds one to a cell per distinct (user, row)
//! pair: hundreds of millions of increments at national scale. In a hash
//! map each costs a cache miss; here a cell is found by arithmetic.
//!
//! The grid holds the months that have data, not the span between the
//! first and last date: each such month brings its days, the ISO weeks
//! that overlap it (a week across two months with data is held once) and
//! itself, times the scopes known (platform, segments, structures) times
//! seven profiles (six and `All`), with `u32` cells: 31 MB for 4,400
//! structures over seven months. One event dated in year 1 adds one month
//! of cells, not two thousand years of them.
//!
//! Cells are laid out scope by scope, then profile by profile: the
//! periods of one scope and profile side by side. A user counts in the
//! cells of the few scopes of their structures, in their profile and
//! `All`, on each of their days, so their counts land in a few hundred
//! bytes per scope: their days, weeks and months are neighbours (with the
//! profiles of each period side by side, each day of theirs was a cache
//! line of its own; period-major, every day of a structure was a grid's
//! row apart).

use super::key::{Grain, RowKey};
use super::scope::{Dimensions, Scope, ScopeKey};
use crate::parse::Profile;
use crate::time::{civil_from_days, days_in_month, month_start, week_start};

/// Profiles per scope: the six of [`crate::parse::Profile`] and `All`.
const PROFILES: usize = 7;

/// Where the period slots of one month with data start.
#[derive(Clone, Copy, Debug)]
struct MonthSlots {
    /// First day of the month.
    start: i32,
    /// Slot of the month's first day.
    first_day_slot: usize,
    /// Monday of the week holding the month's first day.
    first_week: i32,
    /// Slot of that week, counted from the first week slot.
    first_week_slot: usize,
}

/// Where each (grain, period, scope, profile) lives in the grid.
pub struct Layout {
    /// The months with data, in order.
    months: Vec<MonthSlots>,
    days: usize,
    weeks: usize,
    segments: usize,
    scopes: usize,
}

impl Layout {
    /// A layout covering the months that start on the days of `months`
    /// (in any order, repeats allowed) and every structure and segment of
    /// `dims`.
    pub fn new(months: impl IntoIterator<Item = i32>, dims: &Dimensions) -> Layout {
        let mut starts: Vec<i32> = months.into_iter().collect();
        starts.sort_unstable();
        starts.dedup();
        let (mut days, mut weeks) = (0, 0);
        // The last week of the previous month and its slot: shared when
        // the next month starts in it.
        let mut last_week: Option<(i32, usize)> = None;
        let months = starts
            .into_iter()
            .map(|start| {
                let (y, m, _) = civil_from_days(start);
                let len = days_in_month(y, m) as i32;
                let (first_week, end_week) = (week_start(start), week_start(start + len - 1));
                let first_week_slot = match last_week {
                    Some((w, slot)) if w == first_week => slot,
                    _ => weeks,
                };
                let slots = MonthSlots { start, first_day_slot: days, first_week, first_week_slot };
                days += len as usize;
                weeks = first_week_slot + ((end_week - first_week) / 7) as usize + 1;
                last_week = Some((end_week, weeks - 1));
                slots
            })
            .collect();
        let segments = dims.segments.len();
        Layout { months, days, weeks, segments, scopes: 1 + segments + dims.structures.len() }
    }

    /// Period slots per scope: days, then weeks, then months.
    #[inline]
    fn periods(&self) -> usize {
        self.days + self.weeks + self.months.len()
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.periods() * self.scopes * PROFILES
    }

    /// The index in `months` of the month starting on `start`.
    #[inline]
    fn month(&self, start: i32) -> Option<usize> {
        self.months.binary_search_by_key(&start, |m| m.start).ok()
    }

    /// The cell of a row key, or `None` when its period holds no data.
    pub fn index(&self, k: &RowKey) -> Option<usize> {
        let period = match k.grain {
            Grain::Day => self.periods_of(k.period)?[0],
            Grain::Month => self.days + self.weeks + self.month(k.period)?,
            // A week is reached from whichever of its days has its month.
            Grain::Week => (k.period..k.period + 7).find_map(|d| self.periods_of(d))?[2],
        };
        Some(self.cell(period, k.scope, k.profile))
    }

    /// The period slots of the day, the month and the ISO week holding
    /// `day` (the order of [`Grain::ALL`]), for [`Layout::cell`]; `None`
    /// when the day's month holds no data.
    #[inline]
    pub fn periods_of(&self, day: i32) -> Option<[usize; 3]> {
        let i = self.month(month_start(day))?;
        Some(self.slots_in(i, day))
    }

    /// The period slots of `day`, a day of the month at index `i`.
    #[inline]
    fn slots_in(&self, i: usize, day: i32) -> [usize; 3] {
        let m = &self.months[i];
        [
            m.first_day_slot + (day - m.start) as usize,
            self.days + self.weeks + i,
            self.days + m.first_week_slot + ((week_start(day) - m.first_week) / 7) as usize,
        ]
    }

    /// The period slots of each day of the month starting on `month` (for
    /// callers that walk the days of one month), or `None` when the month
    /// holds no data.
    #[inline]
    pub fn month_periods(&self, month: i32) -> Option<impl Fn(i32) -> [usize; 3] + '_> {
        let i = self.month(month)?;
        Some(move |day| self.slots_in(i, day))
    }

    /// Number of month cells: the cells [`Layout::month_cell`] numbers.
    pub fn month_cells(&self) -> usize {
        self.months.len() * self.scopes * PROFILES
    }

    /// The number, among month cells only (`0..month_cells()`), of the
    /// cell of a month slot (the second of [`Layout::periods_of`]), scope
    /// and profile.
    #[inline]
    pub fn month_cell(&self, period: usize, scope: ScopeKey, profile: Option<Profile>) -> usize {
        let month = period - self.days - self.weeks;
        (self.scope_index(scope) * self.months.len() + month) * PROFILES + profile_index(profile)
    }

    /// The row key of month cell number `j` (inverse of
    /// [`Layout::month_cell`]).
    pub fn month_key(&self, j: usize) -> RowKey {
        let months = self.months.len();
        let (scope, rest) = (j / PROFILES / months, j / PROFILES % months);
        let period = self.days + self.weeks + rest;
        self.key((scope * PROFILES + j % PROFILES) * self.periods() + period)
    }

    /// Every scope of the grid: the platform, the segments, then the
    /// structures.
    pub fn scopes(&self) -> impl Iterator<Item = ScopeKey> + '_ {
        (0..self.scopes).map(|s| self.scope_at(s))
    }

    /// The scope at position `s` in the grid (inverse of
    /// [`Layout::scope_index`]).
    #[inline]
    fn scope_at(&self, s: usize) -> ScopeKey {
        match s {
            0 => ScopeKey::PLATFORM,
            s if s <= self.segments => ScopeKey::segment((s - 1) as u32),
            s => ScopeKey::structure((s - 1 - self.segments) as u32),
        }
    }

    /// Every period slot with its grain and first day, in the order of
    /// (grain, first day).
    pub fn period_slots(&self) -> Vec<(usize, Grain, i32)> {
        let mut slots: Vec<(usize, Grain, i32)> = (0..self.periods())
            .map(|p| {
                let k = self.key(p);
                (p, k.grain, k.period)
            })
            .collect();
        slots.sort_unstable_by_key(|&(_, grain, period)| (grain, period));
        slots
    }

    /// The period slot of cell `i`.
    #[inline]
    pub fn period_slot(&self, i: usize) -> usize {
        i % self.periods()
    }

    /// The position of a scope in the grid.
    #[inline]
    fn scope_index(&self, scope: ScopeKey) -> usize {
        match scope.scope() {
            Scope::Platform => 0,
            Scope::Segment(s) => 1 + s as usize,
            Scope::Structure(s) => 1 + self.segments + s as usize,
        }
    }

    /// The cell of a period slot, scope and profile.
    #[inline]
    pub fn cell(&self, period: usize, scope: ScopeKey, profile: Option<Profile>) -> usize {
        (self.scope_index(scope) * PROFILES + profile_index(profile)) * self.periods() + period
    }

    /// Fills the `All` cells of every day, then every week and month cell,
    /// from the cells of each day and profile (which alone were counted):
    /// for figures that add up, such as visits, each counted once in its
    /// day and profile. A week across two months of the layout gets the
    /// days of both.
    pub fn roll_up<T: Copy + Default + std::ops::AddAssign>(&self, grid: &mut [T]) {
        if self.months.is_empty() {
            // No period, no cell.
            return;
        }
        let periods = self.periods();
        for scope in grid.chunks_exact_mut(periods * PROFILES) {
            // `All` comes last: its days are the sums of the profiles'
            // days, read before they are written.
            let (profiles, all) = scope.split_at_mut((PROFILES - 1) * periods);
            all[..self.days].fill(T::default());
            for profile in profiles.chunks_exact(periods) {
                for (a, &x) in all[..self.days].iter_mut().zip(&profile[..self.days]) {
                    *a += x;
                }
            }
            for cells in scope.chunks_exact_mut(periods) {
                // Day slots come first: what is read lies before what is
                // written.
                let (days, longer) = cells.split_at_mut(self.days);
                for (i, m) in self.months.iter().enumerate() {
                    let (y, mo, _) = civil_from_days(m.start);
                    for day in m.start..m.start + days_in_month(y, mo) as i32 {
                        let [d, month, week] = self.slots_in(i, day);
                        for period in [month, week] {
                            longer[period - self.days] += days[d];
                        }
                    }
                }
            }
        }
    }

    /// The row key of cell `i` (inverse of [`Layout::index`]).
    pub fn key(&self, i: usize) -> RowKey {
        let period = i % self.periods();
        let profile = Profile::ALL.get(i / self.periods() % PROFILES).copied();
        let scope = self.scope_at(i / self.periods() / PROFILES);
        // The last month whose first slot is at or before `slot`.
        let last_from = |slot: usize, first: fn(&MonthSlots) -> usize| {
            &self.months[self.months.partition_point(|m| first(m) <= slot) - 1]
        };
        let (grain, period) = if period < self.days {
            let m = last_from(period, |m| m.first_day_slot);
            (Grain::Day, m.start + (period - m.first_day_slot) as i32)
        } else if period < self.days + self.weeks {
            let w = period - self.days;
            let m = last_from(w, |m| m.first_week_slot);
            (Grain::Week, m.first_week + 7 * (w - m.first_week_slot) as i32)
        } else {
            (Grain::Month, self.months[period - self.days - self.weeks].start)
        };
        RowKey { grain, period, scope, profile }
    }
}

/// The position of a profile among a cell's seven, `All` last.
#[inline]
fn profile_index(profile: Option<Profile>) -> usize {
    profile.map_or(PROFILES - 1, |p| usize::from(p.code()))
}

/// Adds `b` into `a`, cell by cell.
pub fn add<T: Copy + std::ops::AddAssign>(mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
    if a.is_empty() {
        return b;
    }
    for (x, &y) in a.iter_mut().zip(&b) {
        *x += y;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scope::StructureEntry;
    use crate::time::days_from_civil;

    fn dims() -> Dimensions {
        let entry =
            |id: &str| StructureEntry { id: id.into(), segment: None, uai: None, name: None };
        Dimensions {
            structures: vec![entry("a"), entry("b")],
            segments: vec!["X".into()],
            apps: vec![],
            classes: vec![],
        }
    }

    /// Every key of every day of `months` has its own cell, found back
    /// from it; weeks and months are reached from each of their days.
    fn check(months: &[i32]) {
        let layout = Layout::new(months.iter().copied(), &dims());
        let scopes = [
            ScopeKey::PLATFORM,
            ScopeKey::segment(0),
            ScopeKey::structure(0),
            ScopeKey::structure(1),
        ];
        let mut seen = vec![false; layout.len()];
        let mut distinct = months.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for month in distinct {
            let (y, m, _) = civil_from_days(month);
            for day in month..month + days_in_month(y, m) as i32 {
                let walk = layout.month_periods(month).unwrap();
                assert_eq!(walk(day), layout.periods_of(day).unwrap());
                for grain in Grain::ALL {
                    for scope in scopes {
                        for profile in Profile::ALL.map(Some).into_iter().chain([None]) {
                            let key = RowKey { grain, period: grain.period(day), scope, profile };
                            let i = layout.index(&key).unwrap();
                            assert_eq!(layout.key(i), key);
                            let slot = layout.periods_of(day).unwrap()[grain as usize];
                            assert_eq!(layout.cell(slot, scope, profile), i);
                            if grain == Grain::Month {
                                let j = layout.month_cell(slot, scope, profile);
                                assert!(j < layout.month_cells());
                                assert_eq!(layout.month_key(j), key);
                            }
                            if grain == Grain::Day {
                                assert!(!seen[i], "{key:?}");
                            }
                            seen[i] = true;
                        }
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "every cell belongs to a key");
    }

    #[test]
    fn every_key_has_its_own_cell() {
        // Consecutive months share the week across their boundary.
        let m = |y, m| days_from_civil(y, m, 1);
        check(&[m(2019, 12), m(2020, 1), m(2020, 2), m(2020, 3)]);
        // Months far apart, given out of order and repeated.
        check(&[m(2020, 3), m(1, 1), m(9999, 12), m(2020, 3), m(1970, 1)]);
    }

    #[test]
    fn rolled_up_days_equal_every_period_counted() {
        let m = |y, m| days_from_civil(y, m, 1);
        // Two consecutive months share a week; March's first week has no
        // February in the layout.
        let layout = Layout::new([m(2019, 12), m(2020, 1), m(2020, 3)], &dims());
        let scopes = [ScopeKey::PLATFORM, ScopeKey::segment(0), ScopeKey::structure(1)];
        let (mut counted, mut rolled) = (vec![0u64; layout.len()], vec![0u64; layout.len()]);
        for day in m(2019, 11)..m(2020, 4) {
            let Some(periods) = layout.periods_of(day) else { continue };
            for (n, scope) in scopes.iter().enumerate() {
                for profile in Profile::ALL {
                    let value = (day as u64 % 7) * 100 + n as u64 * 10 + u64::from(profile.code());
                    for period in periods {
                        for p in [Some(profile), None] {
                            counted[layout.cell(period, *scope, p)] += value;
                        }
                    }
                    rolled[layout.cell(periods[0], *scope, Some(profile))] += value;
                }
            }
        }
        layout.roll_up(&mut rolled);
        assert!(counted.iter().filter(|&&x| x > 0).count() > 1000);
        assert_eq!(rolled, counted);
    }

    #[test]
    fn a_layout_without_months_has_no_cell_to_roll_up() {
        let layout = Layout::new([], &dims());
        assert_eq!((layout.len(), layout.month_cells()), (0, 0));
        layout.roll_up::<u32>(&mut []);
    }

    #[test]
    fn months_far_apart_cost_their_own_cells_only() {
        let m = |y, m| days_from_civil(y, m, 1);
        let one = Layout::new([m(2020, 3)], &dims()).len();
        let spread = Layout::new([m(1, 1), m(2020, 3), m(9999, 12)], &dims()).len();
        assert!(spread <= 3 * one + 3 * 7 * 4, "{spread} cells vs {one}");
        let layout = Layout::new([m(2020, 3)], &dims());
        assert_eq!(layout.periods_of(m(2020, 4)), None);
        assert_eq!(
            layout.index(&RowKey {
                grain: Grain::Month,
                period: m(1970, 1),
                scope: ScopeKey::PLATFORM,
                profile: None,
            }),
            None
        );
    }
}
