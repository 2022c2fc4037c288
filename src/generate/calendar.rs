//! The school year 2019-2020 in the Somme (holiday zone B): which days
//! are busy, which hours.

use crate::time::days_from_civil;

/// First day of the scenario: 1 September 2019.
pub fn first_day() -> i32 {
    days_from_civil(2019, 9, 1)
}

/// Last day of the scenario: 31 March 2020 (the operator's note was
/// written in early April).
pub fn last_day() -> i32 {
    days_from_civil(2020, 3, 31)
}

/// Schools close on Monday 16 March 2020.
pub fn closure_day() -> i32 {
    days_from_civil(2020, 3, 16)
}

/// School holidays of zone B, first and last day off (inclusive).
fn holidays() -> [(i32, i32); 3] {
    [
        (days_from_civil(2019, 10, 19), days_from_civil(2019, 11, 3)),
        (days_from_civil(2019, 12, 21), days_from_civil(2020, 1, 5)),
        (days_from_civil(2020, 2, 15), days_from_civil(2020, 3, 1)),
    ]
}

/// Day of week, 0 = Monday.
pub fn weekday(day: i32) -> i32 {
    (day + 3).rem_euclid(7)
}

/// Relative activity of a day: weekdays far above weekends (Wednesday
/// lower: primary schools are closed on Wednesday afternoon), holidays
/// low, a surge on the first days of the closure, then a high plateau.
pub fn day_weight(day: i32) -> f64 {
    let wd = weekday(day);
    let closure = closure_day();
    if day >= closure {
        return match day - closure {
            0 => 3.4,
            1 => 2.8,
            2 => 2.4,
            _ if wd >= 5 => 1.0,
            _ => 2.0,
        };
    }
    let base: f64 = [1.0, 1.0, 0.75, 1.0, 0.95, 0.3, 0.35][wd as usize];
    let off = holidays().iter().any(|&(a, b)| (a..=b).contains(&day))
        || day == days_from_civil(2019, 11, 11)
        || day < days_from_civil(2019, 9, 2);
    if off { 0.18 * base.max(0.5) } else { base }
}

/// Relative weight of each month of the scenario outside March (September
/// to February): the back-to-school month and January busier, December and
/// February (holidays) quieter.
pub const MONTH_WEIGHTS: [f64; 6] = [1.05, 0.95, 1.0, 0.8, 1.1, 0.85];

/// Activity by local hour (0-23) for a profile code (see
/// [`crate::parse::Profile`]), during the closure or not.
pub fn hour_weights(profile: u8, closure: bool) -> [f64; 24] {
    #[rustfmt::skip]
    let w: [f64; 24] = match profile {
        // Pupils: before school, after school, evening homework.
        0 => [0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.3, 1.2, 1.4, 0.8, 0.7, 0.8,
              1.0, 1.1, 0.9, 0.9, 1.3, 1.9, 2.2, 2.0, 1.5, 0.9, 0.4, 0.2],
        // Parents: morning, then the evening peak.
        1 | 4 => [0.1, 0.05, 0.02, 0.02, 0.05, 0.2, 0.9, 2.0, 1.4, 0.8, 0.6, 0.7,
              1.1, 1.0, 0.7, 0.7, 0.9, 1.4, 1.8, 2.3, 2.6, 2.0, 1.0, 0.3],
        // Teachers: early, lunch, long evening.
        2 => [0.05, 0.02, 0.01, 0.01, 0.02, 0.2, 1.2, 2.0, 1.6, 1.0, 0.9, 1.0,
              1.5, 1.3, 1.0, 1.0, 1.3, 1.6, 1.8, 2.0, 2.2, 1.8, 1.0, 0.3],
        // Staff: office hours.
        _ => [0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 0.4, 1.5, 2.0, 2.0, 1.8, 1.5,
              1.0, 1.6, 1.9, 1.8, 1.5, 0.8, 0.3, 0.1, 0.05, 0.03, 0.02, 0.01],
    };
    if !closure || profile != 0 {
        return w;
    }
    // Closed schools: pupils work from home during school hours.
    let mut w = w;
    for (h, x) in w.iter_mut().enumerate() {
        if (9..12).contains(&h) || (14..17).contains(&h) {
            *x *= 2.5;
        }
    }
    w
}

/// Running sums of `w`, for weighted draws.
pub fn cumulative(w: &[f64]) -> Vec<f64> {
    w.iter()
        .scan(0.0, |acc, &x| {
            *acc += x;
            Some(*acc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_shape() {
        let monday = days_from_civil(2020, 1, 13);
        assert_eq!(weekday(monday), 0);
        assert!(day_weight(monday) > 2.0 * day_weight(monday + 5));
        // Christmas holidays are low.
        assert!(day_weight(days_from_civil(2019, 12, 23)) < 0.3);
        // The first day of the closure is the busiest.
        let c = closure_day();
        assert!((c - 40..=last_day()).all(|d| day_weight(d) <= day_weight(c)));
    }
}
