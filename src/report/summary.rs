//! The summary printed after a run and by `entlog report`: one table per
//! scope (the platform, then each segment) by month, then, for the latest
//! (or chosen) month, its peak hour, top applications, visit durations and
//! the sentence an operator would write for each scope.

use super::data::{MonthFigures, ReportData, ScopeMonths};
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

/// Renders the summary of `d`; `month` (first day) picks the month the
/// details are about (default: the latest); `bold` emphasises headings
/// with terminal escapes (only for a terminal).
pub fn render(d: &ReportData, tz: &str, month: Option<i32>, bold: bool) -> String {
    let mut out = String::new();
    if d.scopes.is_empty() {
        return "No connections found.\n".to_string();
    }
    let (b0, b1) = if bold { ("\x1b[1m", "\x1b[0m") } else { ("", "") };
    let _ = writeln!(out, "{b0}Monthly audience{b1} (periods in {tz})");
    let peaks = peak_hours(d);
    for s in &d.scopes {
        let _ = writeln!(out, "\n{b0}{}{b1}", s.label);
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
    let chosen = month.or_else(|| d.months().last().copied()).unwrap_or(0);
    let name = month_name(chosen);
    let _ = writeln!(out, "\n{b0}{name}{b1}");
    if let Some(h) = peaks.get(&chosen) {
        let _ = writeln!(out, "  peak hour: {h:02}:00-{h:02}:59");
    }
    if let Some(apps) = d.apps.get(&chosen) {
        let _ = write!(out, "  top apps:");
        for (i, (app, access, users)) in apps.iter().take(5).enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            let _ = write!(out, "{sep}{app} {} ({} users)", thousands(*access), thousands(*users));
        }
        out.push('\n');
    }
    if let Some(v) = d.visits.iter().find(|v| v.month == chosen && v.profile == "All") {
        let _ = writeln!(
            out,
            "  visits: {}, duration median {}, p90 {}, p99 {}",
            thousands(v.visits),
            duration(v.seconds[0]),
            duration(v.seconds[1]),
            duration(v.seconds[2]),
        );
    }
    out.push('\n');
    for s in &d.scopes {
        if let Some(i) = s.months.iter().position(|m| m.month == chosen) {
            let _ = writeln!(out, "{}", sentence(s, i));
        }
    }
    out
}

/// The local hour with the most connections in each month (the earliest
/// hour on a tie).
pub fn peak_hours(d: &ReportData) -> BTreeMap<i32, u8> {
    let mut by_month: BTreeMap<i32, [i64; 24]> = BTreeMap::new();
    for (&(day, hour), &n) in &d.hourly {
        by_month.entry(month_start(day)).or_insert([0; 24])[usize::from(hour % 24)] += n;
    }
    by_month
        .into_iter()
        .map(|(m, hours)| {
            let best = (0..24).max_by_key(|&h| (hours[h], std::cmp::Reverse(h))).unwrap_or(0);
            (m, best as u8)
        })
        .collect()
}

/// `12 min 5 s`, `45 s`.
fn duration(seconds: i64) -> String {
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}

/// `March 2020`.
pub fn month_name(day: i32) -> String {
    let (y, m, _) = civil_from_days(day);
    format!("{} {y}", MONTHS[m as usize - 1])
}

/// The operator's sentence about month `i` of a scope.
pub fn sentence(s: &ScopeMonths, i: usize) -> String {
    let m = &s.months[i];
    let (_, others) = growth(&s.months, i);
    let mut text = format!(
        "{}, {}: {} connections ({} vs the mean of the other months)",
        s.label,
        month_name(m.month),
        thousands(m.connections),
        percent(others),
    );
    for (p, word) in &PROFILES[..2] {
        let n = m.visitors.get(*p).copied().unwrap_or(0);
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

/// `2020-03`.
pub fn month_label(day: i32) -> String {
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
