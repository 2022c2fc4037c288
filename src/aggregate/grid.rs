//! A dense grid of distinct-visitor counts by (grain, period, scope,
//! profile).
//!
//! Counting distinct users adds one to a cell per distinct (user, row)
//! pair: hundreds of millions of increments at national scale. In a hash
//! map each costs a cache miss; here a cell is found by arithmetic. The
//! grid spans the periods observed times the scopes known (platform,
//! segments, structures) times seven profiles (six and `All`), with `u32`
//! cells: 31 MB for 4,400 structures over seven months.

use super::finish::{Grain, RowKey};
use super::scope::{Dimensions, Scope, ScopeKey};
use crate::parse::Profile;
use crate::time::{civil_from_days, days_from_civil, month_start, week_start};

/// Profiles per scope: the six of [`crate::parse::Profile`] and `All`.
const PROFILES: usize = 7;

/// Where each (grain, period, scope, profile) lives in the grid.
pub struct Layout {
    first_day: i32,
    days: usize,
    first_week: i32,
    weeks: usize,
    first_month: i32,
    months: usize,
    segments: usize,
    scopes: usize,
}

/// Months since year 0 of the month holding `day`.
fn month_number(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + m as i32 - 1
}

impl Layout {
    /// A layout covering the local days `first..=last` and every
    /// structure and segment of `dims`.
    pub fn new(first: i32, last: i32, dims: &Dimensions) -> Layout {
        let (first, last) = if first <= last { (first, last) } else { (0, -1) };
        let segments = dims.segments.len();
        Layout {
            first_day: first,
            days: (last - first + 1) as usize,
            first_week: week_start(first),
            weeks: ((week_start(last) - week_start(first)) / 7 + 1).max(0) as usize,
            first_month: month_number(month_start(first)),
            months: (month_number(last) - month_number(first) + 1).max(0) as usize,
            segments,
            scopes: 1 + segments + dims.structures.len(),
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        (self.days + self.weeks + self.months) * self.scopes * PROFILES
    }

    /// The cell of a row key; the key's day must be in the layout's range.
    #[inline]
    pub fn index(&self, k: &RowKey) -> usize {
        let period = match k.grain {
            Grain::Day => (k.period - self.first_day) as usize,
            Grain::Week => self.days + ((k.period - self.first_week) / 7) as usize,
            Grain::Month => {
                self.days + self.weeks + (month_number(k.period) - self.first_month) as usize
            }
        };
        self.cell(period, k.scope, k.profile)
    }

    /// The period slots of the day, the month and the ISO week holding
    /// `day` (the order of [`Grain::ALL`]; `day` must be in the layout's
    /// range), for [`Layout::cell`].
    #[inline]
    pub fn periods_of(&self, day: i32) -> [usize; 3] {
        [
            (day - self.first_day) as usize,
            self.days + self.weeks + (month_number(day) - self.first_month) as usize,
            self.days + ((week_start(day) - self.first_week) / 7) as usize,
        ]
    }

    /// The first cell of month rows: month cells are the last ones, from
    /// this index to [`Layout::len`].
    pub fn first_month_cell(&self) -> usize {
        (self.days + self.weeks) * self.scopes * PROFILES
    }

    /// The cell of a period slot, scope and profile.
    #[inline]
    pub fn cell(&self, period: usize, scope: ScopeKey, profile: Option<Profile>) -> usize {
        let scope = match scope.scope() {
            Scope::Platform => 0,
            Scope::Segment(s) => 1 + s as usize,
            Scope::Structure(s) => 1 + self.segments + s as usize,
        };
        let profile = profile.map_or(PROFILES - 1, |p| usize::from(p.code()));
        (period * self.scopes + scope) * PROFILES + profile
    }
}

impl Layout {
    /// The row key of cell `i` (inverse of [`Layout::index`]).
    pub fn key(&self, i: usize) -> RowKey {
        let profile = Profile::ALL.get(i % PROFILES).copied();
        let scope = (i / PROFILES) % self.scopes;
        let period = i / PROFILES / self.scopes;
        let scope = match scope {
            0 => ScopeKey::PLATFORM,
            s if s <= self.segments => ScopeKey::segment((s - 1) as u32),
            s => ScopeKey::structure((s - 1 - self.segments) as u32),
        };
        let (grain, period) = if period < self.days {
            (Grain::Day, self.first_day + period as i32)
        } else if period < self.days + self.weeks {
            (Grain::Week, self.first_week + 7 * (period - self.days) as i32)
        } else {
            let m = self.first_month + (period - self.days - self.weeks) as i32;
            (Grain::Month, days_from_civil(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1))
        };
        RowKey { grain, period, scope, profile }
    }
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

    #[test]
    fn every_key_has_its_own_cell() {
        let entry =
            |id: &str| StructureEntry { id: id.into(), segment: None, uai: None, name: None };
        let dims = Dimensions {
            structures: vec![entry("a"), entry("b")],
            segments: vec!["X".into()],
            apps: vec![],
        };
        let (first, last) = (days_from_civil(2019, 12, 30), days_from_civil(2020, 3, 2));
        let layout = Layout::new(first, last, &dims);
        let scopes = [
            ScopeKey::PLATFORM,
            ScopeKey::segment(0),
            ScopeKey::structure(0),
            ScopeKey::structure(1),
        ];
        let mut seen = vec![false; layout.len()];
        for day in first..=last {
            for grain in Grain::ALL {
                if grain.period(day) != grain.period(day.max(first)) {
                    continue;
                }
                for scope in scopes {
                    for profile in Profile::ALL.map(Some).into_iter().chain([None]) {
                        let key = RowKey { grain, period: grain.period(day), scope, profile };
                        let i = layout.index(&key);
                        assert_eq!(layout.key(i), key);
                        let slot = layout.periods_of(day)[grain as usize];
                        assert_eq!(layout.cell(slot, scope, profile), i);
                        // A week or month is reached from each of its days.
                        if grain == Grain::Day {
                            assert!(!seen[i], "{key:?}");
                        }
                        seen[i] = true;
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "every cell belongs to a key");
    }
}
