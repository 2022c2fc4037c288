//! The monthly summary printed after a run: one table per scope (the
//! platform, then each segment), and the sentence an operator would write
//! about the latest month.

use crate::aggregate::finish::{Grain, Tables, profile_name};
use crate::aggregate::scope::{Scope, ScopeKey};
use crate::time::{civil_from_days, month_start};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Profiles shown as columns, with the words used in sentences.
const PROFILES: [(&str, &str); 4] = [
    ("Student", "pupils"),
    ("Relative", "parents"),
    ("Teacher", "teachers"),
    ("Personnel", "staff"),
];

/// One month of one scope.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MonthFigures {
    /// First day of the month.
    pub month: i32,
    /// `LOGIN` events.
    pub connections: i64,
    /// Distinct visitors, by profile name (and `All`).
    pub visitors: BTreeMap<&'static str, i64>,
}

/// Monthly figures of one scope: the platform or a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeMonths {
    /// `platform` or the segment's name.
    pub label: String,
    /// Months in order.
    pub months: Vec<MonthFigures>,
}

/// Collects the monthly rows of the platform and of each segment.
pub fn monthly(t: &Tables) -> Vec<ScopeMonths> {
    let mut by_scope: BTreeMap<ScopeKey, BTreeMap<i32, MonthFigures>> = BTreeMap::new();
    for (k, m) in &t.audience {
        if k.grain != Grain::Month || matches!(k.scope.scope(), Scope::Structure(_)) {
            continue;
        }
        let fig = by_scope.entry(k.scope).or_default().entry(k.period).or_default();
        fig.month = k.period;
        if k.profile.is_none() {
            fig.connections = m.connections;
        }
        fig.visitors.insert(profile_name(k.profile), m.unique_visitors);
    }
    let mut out: Vec<ScopeMonths> = by_scope
        .into_iter()
        .map(|(scope, months)| ScopeMonths {
            label: t.segment_name(scope).unwrap_or("platform").to_string(),
            months: months.into_values().collect(),
        })
        .collect();
    // The platform first, then segments by name.
    out.sort_by(|a, b| (a.label != "platform", &a.label).cmp(&(b.label != "platform", &b.label)));
    out
}

/// Growth of `months[i]` against the previous month and against the mean
/// of all the other months, in percent (`None` when undefined).
pub fn growth(months: &[MonthFigures], i: usize) -> (Option<f64>, Option<f64>) {
    let pct = |now: i64, base: f64| (base > 0.0).then(|| (now as f64 / base - 1.0) * 100.0);
    let now = months[i].connections;
    let prev = i.checked_sub(1).and_then(|p| pct(now, months[p].connections as f64));
    let others: Vec<i64> =
        months.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, m)| m.connections).collect();
    let mean = if others.is_empty() {
        0.0
    } else {
        others.iter().sum::<i64>() as f64 / others.len() as f64
    };
    (prev, pct(now, mean))
}

/// Renders the summary of a run.
pub fn render(t: &Tables, tz: &str) -> String {
    let mut out = String::new();
    let scopes = monthly(t);
    if scopes.is_empty() {
        return "No connections found.\n".to_string();
    }
    let _ = writeln!(out, "Monthly audience (periods in {tz})");
    let peaks = peak_hours(t);
    for s in &scopes {
        let _ = writeln!(out, "\n{}", s.label);
        let _ = write!(
            out,
            "  {:<8} {:>12} {:>8} {:>9} {:>10}",
            "month", "connections", "vs prev", "vs others", "visitors"
        );
        for (p, _) in PROFILES {
            let _ = write!(out, " {p:>10}");
        }
        if s.label == "platform" {
            let _ = write!(out, " {:>9}", "peak hour");
        }
        out.push('\n');
        for (i, m) in s.months.iter().enumerate() {
            let (prev, others) = growth(&s.months, i);
            let _ = write!(
                out,
                "  {:<8} {:>12} {:>8} {:>9} {:>10}",
                month_label(m.month),
                thousands(m.connections),
                percent(prev),
                percent(others),
                thousands(m.visitors.get("All").copied().unwrap_or(0)),
            );
            for (p, _) in PROFILES {
                let _ = write!(out, " {:>10}", thousands(m.visitors.get(p).copied().unwrap_or(0)));
            }
            if s.label == "platform" {
                let peak = peaks.get(&m.month).map_or("-".to_string(), |h| format!("{h:02}h"));
                let _ = write!(out, " {peak:>9}");
            }
            out.push('\n');
        }
    }
    out.push('\n');
    let latest = scopes[0].months.last().map_or(0, |m| m.month);
    let top = top_apps(t, latest, 5);
    if !top.is_empty() {
        let (y, mo, _) = civil_from_days(latest);
        let _ = write!(out, "Top apps, {} {y}:", MONTHS[mo as usize - 1]);
        for (i, (name, access, users)) in top.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            let _ = write!(out, "{sep}{name} {} ({} users)", thousands(*access), thousands(*users));
        }
        out.push_str(".\n\n");
    }
    for s in &scopes {
        let _ = writeln!(out, "{}", sentence(s));
    }
    out
}

/// The local hour with the most connections in each month (the earliest
/// hour on a tie).
pub fn peak_hours(t: &Tables) -> BTreeMap<i32, u8> {
    let mut by_month: BTreeMap<i32, [i64; 24]> = BTreeMap::new();
    for r in t.hourly.iter().filter(|r| r.profile.is_none()) {
        by_month.entry(month_start(r.day)).or_insert([0; 24])[usize::from(r.hour)] += r.connections;
    }
    by_month
        .into_iter()
        .map(|(m, hours)| {
            let best = (0..24).max_by_key(|&h| (hours[h], std::cmp::Reverse(h))).unwrap_or(0);
            (m, best as u8)
        })
        .collect()
}

/// The `n` applications with the most `ACCESS` events in the month
/// starting on `month`: (name, access, distinct users).
pub fn top_apps(t: &Tables, month: i32, n: usize) -> Vec<(String, i64, i64)> {
    let mut apps: Vec<(String, i64, i64)> = t
        .apps
        .iter()
        .filter(|(k, _)| k.grain == Grain::Month && k.period == month && k.profile.is_none())
        .map(|(k, m)| (t.dims.apps[k.app as usize].name.clone(), m.access, m.unique_users))
        .collect();
    apps.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    apps.truncate(n);
    apps
}

/// The operator's sentence about the latest month of a scope.
pub fn sentence(s: &ScopeMonths) -> String {
    let i = s.months.len() - 1;
    let m = &s.months[i];
    let (y, mo, _) = civil_from_days(m.month);
    let (_, others) = growth(&s.months, i);
    let mut text = format!(
        "{}, {} {y}: {} connections ({} vs the mean of the other months)",
        s.label,
        MONTHS[mo as usize - 1],
        thousands(m.connections),
        percent(others),
    );
    for (p, word) in &PROFILES[..2] {
        let n = m.visitors.get(p).copied().unwrap_or(0);
        let _ = write!(text, ", {} distinct {word}", thousands(n));
    }
    text.push('.');
    text
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_label(day: i32) -> String {
    let (y, m, _) = civil_from_days(day);
    format!("{y:04}-{m:02}")
}

/// A signed percentage rounded to the unit, or `-` when undefined.
pub fn percent(p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{:+}%", p.round() as i64),
        None => "-".to_string(),
    }
}

/// Formats an integer with commas between thousands: `1,780,781`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_780_781), "1,780,781");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(percent(Some(1499.6)), "+1500%");
        assert_eq!(percent(Some(-3.2)), "-3%");
        assert_eq!(percent(None), "-");
    }

    #[test]
    fn growth_against_previous_and_others() {
        let m = |c| MonthFigures { connections: c, ..Default::default() };
        let months = [m(100), m(100), m(1600)];
        let (prev, others) = growth(&months, 2);
        assert_eq!((prev.unwrap().round(), others.unwrap().round()), (1500.0, 1500.0));
        assert_eq!(growth(&months, 0).0, None);
        assert_eq!(growth(&[m(5)], 0), (None, None));
    }
}
