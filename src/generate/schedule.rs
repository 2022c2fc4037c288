//! Who logs in on which day: exact login budgets by construction.
//!
//! Each segment has a login budget per month; March 2020 for schools is
//! the published figure, and the six other months share a total chosen so
//! that March is +1500% against their mean. A month's budget is split
//! among the segment's groups (by share), then among days (by the
//! calendar's weights), with integer apportionment so sums are exact. In
//! March every March-active pupil and parent of a school gets one login
//! first, which fixes the distinct counts; the rest of the budget goes to
//! March-active users drawn by activity weight.

use super::calendar::{self, MONTH_WEIGHTS};
use super::population::{Kind, MARCH_CONNECTIONS, Population, scaled};
use super::rng::{Rng, apportion};
use crate::time::{month_start, next_month_start};

/// Logins of the whole scenario, by day.
pub struct Schedule {
    /// First day of the scenario.
    pub first_day: i32,
    /// For each day from `first_day`, the users (indexes) logging in.
    pub by_day: Vec<Vec<u32>>,
    /// For each user, the day of their first login (`i32::MAX` if none).
    pub first_login: Vec<i32>,
}

/// Login budgets of a segment: March, and the total of the six other
/// months.
fn budgets(kind: Option<Kind>, scale: f64) -> (u64, u64) {
    match kind {
        Some(Kind::Ecole) => {
            let march = scaled(MARCH_CONNECTIONS, scale, 16);
            // March / mean(others) = 16, i.e. +1500%.
            (march, (march as f64 * 6.0 / 16.0).round() as u64)
        }
        Some(Kind::College) => (scaled(650_000, scale, 16), scaled(480_000, scale, 6)),
        None => (scaled(1_500, scale, 1), scaled(5_400, scale, 6)),
    }
}

/// Draws every login of the scenario.
pub fn schedule(pop: &Population, rng: &mut Rng, scale: f64) -> Schedule {
    let first = calendar::first_day();
    let last = calendar::last_day();
    let mut by_day = vec![Vec::new(); (last - first + 1) as usize];
    let mut months = Vec::new();
    let mut m = first;
    while m <= last {
        months.push(m);
        m = next_month_start(m);
    }
    let march = month_start(last);
    for kind in [Some(Kind::Ecole), Some(Kind::College), None] {
        let (march_budget, other_budget) = budgets(kind, scale);
        let others = apportion(other_budget, &MONTH_WEIGHTS);
        let groups: Vec<_> = pop.groups.iter().filter(|g| g.kind == kind).collect();
        let shares: Vec<f64> = groups.iter().map(|g| g.share).collect();
        for (mi, &month) in months.iter().enumerate() {
            let is_march = month == march;
            let total = if is_march { march_budget } else { others[mi] };
            let days: Vec<i32> = (month..next_month_start(month)).collect();
            let day_cum = calendar::cumulative(
                &days.iter().map(|&d| calendar::day_weight(d)).collect::<Vec<_>>(),
            );
            for (g, budget) in groups.iter().zip(apportion(total, &shares)) {
                let eligible = if is_march { g.march_active } else { g.users.len() };
                let cum = &g.cumulative[..eligible];
                let mut free = budget;
                if is_march && g.march_required {
                    // One login each for the users the figures count.
                    for u in g.users.start..g.users.start + eligible {
                        let d = days[rng.weighted(&day_cum)];
                        by_day[(d - first) as usize].push(u as u32);
                    }
                    free -= eligible as u64;
                }
                let weights: Vec<f64> = days.iter().map(|&d| calendar::day_weight(d)).collect();
                for (&d, n) in days.iter().zip(apportion(free, &weights)) {
                    let slot = &mut by_day[(d - first) as usize];
                    for _ in 0..n {
                        slot.push((g.users.start + rng.weighted(cum)) as u32);
                    }
                }
            }
        }
    }
    let mut first_login = vec![i32::MAX; pop.users.len()];
    for (i, users) in by_day.iter().enumerate() {
        for &u in users {
            let f = &mut first_login[u as usize];
            *f = (*f).min(first + i as i32);
        }
    }
    Schedule { first_day: first, by_day, first_login }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_make_march_plus_1500_percent() {
        for scale in [0.01, 0.1, 1.0, 10.0] {
            let (march, others) = budgets(Some(Kind::Ecole), scale);
            let growth = (march as f64 / (others as f64 / 6.0) - 1.0) * 100.0;
            assert_eq!(growth.round(), 1500.0, "scale {scale}");
        }
        assert_eq!(budgets(Some(Kind::Ecole), 1.0).0, 1_780_781);
    }
}
