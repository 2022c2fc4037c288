//! The summary printed after a run and by `entlog report`: one table per
//! scope (the platform, then each segment) by month, then, for the latest
//! (or chosen) month, its peak hour, top applications, visit durations and
//! the sentence an operator would write for each scope.

use super::data::{MonthFigures, ReportData, ScopeMonths, next_month};
use super::lang::Lang;
use crate::aggregate::key::ALL_PROFILES;
use crate::time::{civil_from_days, month_start};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Profiles shown as columns (their names in the tables).
const PROFILES: [&str; 4] = ["Student", "Relative", "Teacher", "Personnel"];

/// Growth of `months[i]` against the previous month and against the mean
/// of all the other months, in percent (`None` when undefined). Partial
/// months are compared with nothing and nothing is compared with them; a
/// month after a month without data has no previous month.
pub fn growth(months: &[MonthFigures], i: usize) -> (Option<f64>, Option<f64>) {
    let pct = |now: i64, base: f64| (base > 0.0).then(|| (now as f64 / base - 1.0) * 100.0);
    if months[i].partial {
        return (None, None);
    }
    let now = months[i].connections;
    let prev = i
        .checked_sub(1)
        .map(|p| &months[p])
        .filter(|p| !p.partial && next_month(p.month) == months[i].month)
        .and_then(|p| pct(now, p.connections as f64));
    let others: Vec<i64> = months
        .iter()
        .enumerate()
        .filter(|(j, m)| *j != i && !m.partial)
        .map(|(_, m)| m.connections)
        .collect();
    let mean = if others.is_empty() {
        0.0
    } else {
        others.iter().sum::<i64>() as f64 / others.len() as f64
    };
    (prev, pct(now, mean))
}

/// Renders the summary of `d` in `lang`; `month` (first day) picks the
/// month the details are about (default: the latest); `bold` emphasises
/// headings with terminal escapes (only for a terminal).
pub fn render(d: &ReportData, tz: &str, month: Option<i32>, bold: bool, lang: Lang) -> String {
    let mut out = String::new();
    let w = lang.words();
    if d.scopes.is_empty() {
        return format!("{}\n", w.nothing);
    }
    let (b0, b1) = if bold { ("\x1b[1m", "\x1b[0m") } else { ("", "") };
    let _ = writeln!(out, "{b0}{}{b1} ({tz})", w.monthly);
    let peaks = peak_hours(d);
    let n = |x: i64| lang.thousands(x);
    for s in &d.scopes {
        let _ = writeln!(out, "\n{b0}{}{b1}", s.label);
        scope_table(&mut out, s, &peaks, lang);
    }
    if d.scopes.iter().any(|s| s.months.iter().any(|m| m.partial)) {
        let _ = writeln!(out, "  {}", w.partial);
    }
    let chosen = month.or_else(|| d.months().last().copied()).unwrap_or(0);
    let _ = writeln!(out, "\n{b0}{}{b1}", lang.month_name(chosen));
    if let Some(h) = peaks.get(&chosen) {
        let _ = writeln!(out, "  {}: {h:02}h", w.details[0]);
    }
    if let Some(apps) = d.apps.get(&chosen) {
        let _ = write!(out, "  {}:", w.details[1]);
        for (i, (app, access, users)) in apps.iter().take(5).enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            let _ = write!(out, "{sep}{app} {} ({} {})", n(*access), n(*users), w.details[2]);
        }
        out.push('\n');
    }
    if let Some(m) = d.scopes[0].months.iter().find(|m| m.month == chosen) {
        accounts_line(&mut out, m, lang);
    }
    if let Some(v) = d.visits.iter().find(|v| v.month == chosen && v.profile == "All") {
        let _ = writeln!(
            out,
            "  {}: {}, {} {}, p90 {}, p99 {}",
            w.details[3],
            n(v.visits),
            w.details[4],
            duration(v.seconds[0]),
            duration(v.seconds[1]),
            duration(v.seconds[2]),
        );
    }
    out.push('\n');
    for s in &d.scopes {
        if let Some(i) = s.months.iter().position(|m| m.month == chosen) {
            let _ = writeln!(out, "{}", sentence_in(lang, s, i));
        }
    }
    out
}

/// The accounts of the platform in month `m`, when the directory gives
/// them: loaded, activated (share), connected (share).
fn accounts_line(out: &mut String, m: &MonthFigures, lang: Lang) {
    let (w, n) = (lang.words(), |x: i64| lang.thousands(x));
    let (Some(&[loaded, activated]), Some([act, used])) =
        (m.accounts.get(ALL_PROFILES), m.account_rates(ALL_PROFILES))
    else {
        return;
    };
    let visitors = m.visitors_of(ALL_PROFILES);
    let [label, l, a, c] = w.accounts;
    let _ = writeln!(
        out,
        "  {label}: {} {l}, {} {a} ({}), {} {c} ({})",
        n(loaded),
        n(activated),
        lang.share(Some(act)),
        n(visitors),
        lang.share(Some(used)),
    );
}

/// The schools of `month` (first day), most connections first: UAI,
/// name (the id when the referential has none), connections, distinct
/// pupils and parents.
pub fn schools(d: &ReportData, month: i32, lang: Lang) -> String {
    let (w, n) = (lang.words(), |x: i64| lang.thousands(x));
    let c = &w.schools;
    let rows = d.schools_of(month);
    let mut out = format!("\n{}, {} ({})\n", c[0], lang.month_name(month), rows.len());
    let width = rows.iter().map(|s| s.name.as_deref().unwrap_or(&s.id).chars().count()).max();
    let width = width.unwrap_or(0).clamp(c[2].len(), 50);
    let _ = writeln!(out, "  {:<8}  {:<width$} {:>12} {:>9} {:>9}", c[1], c[2], c[3], c[4], c[5]);
    for s in rows {
        let name: String = s.name.as_deref().unwrap_or(&s.id).chars().take(width).collect();
        let _ = writeln!(
            out,
            "  {:<8}  {name:<width$} {:>12} {:>9} {:>9}",
            s.uai.as_deref().unwrap_or("-"),
            n(s.connections),
            n(s.pupils),
            n(s.parents),
        );
    }
    out
}

/// The monthly table of one scope: partial months marked `*`, months
/// without data between months with data shown as such.
fn scope_table(out: &mut String, s: &ScopeMonths, peaks: &BTreeMap<i32, u8>, lang: Lang) {
    let (w, n) = (lang.words(), |x: i64| lang.thousands(x));
    let c = &w.columns;
    let _ = write!(out, "  {:<8} {:>12} {:>9} {:>10} {:>10}", c[0], c[1], c[2], c[3], c[4]);
    for p in w.profiles {
        let _ = write!(out, " {p:>11}");
    }
    if s.label == "platform" {
        let _ = write!(out, " {:>9}", c[5]);
    }
    out.push('\n');
    for (i, m) in s.months.iter().enumerate() {
        let mut gap = i.checked_sub(1).map_or(m.month, |p| next_month(s.months[p].month));
        while gap < m.month {
            let _ = writeln!(out, "  {:<8} {:>12}", month_label(gap), w.no_data);
            gap = next_month(gap);
        }
        let (prev, others) = growth(&s.months, i);
        let label = month_label(m.month) + if m.partial { "*" } else { "" };
        let _ = write!(
            out,
            "  {:<8} {:>12} {:>9} {:>10} {:>10}",
            label,
            n(m.connections),
            lang.percent(prev),
            lang.percent(others),
            n(m.visitors_of(ALL_PROFILES)),
        );
        for p in PROFILES {
            let _ = write!(out, " {:>11}", n(m.visitors_of(p)));
        }
        if s.label == "platform" {
            let peak = peaks.get(&m.month).map_or("-".to_string(), |h| format!("{h:02}h"));
            let _ = write!(out, " {peak:>9}");
        }
        out.push('\n');
    }
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

/// `45 s`, `12 min 5 s`, `4 h 27 min` (the same in both languages).
pub fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// `March 2020`.
pub fn month_name(day: i32) -> String {
    Lang::En.month_name(day)
}

/// The operator's sentence about month `i` of a scope, in English.
pub fn sentence(s: &ScopeMonths, i: usize) -> String {
    sentence_in(Lang::En, s, i)
}

/// The operator's sentence about month `i` of a scope, in `lang`.
pub fn sentence_in(lang: Lang, s: &ScopeMonths, i: usize) -> String {
    let m = &s.months[i];
    let (_, others) = growth(&s.months, i);
    lang.sentence(
        &s.label,
        m.month,
        m.connections,
        others,
        m.visitors_of("Student"),
        m.visitors_of("Relative"),
    )
}

/// `2020-03`.
pub fn month_label(day: i32) -> String {
    let (y, m, _) = civil_from_days(day);
    format!("{y:04}-{m:02}")
}

/// A signed percentage rounded to the unit, or `-` when undefined.
pub fn percent(p: Option<f64>) -> String {
    Lang::En.percent(p)
}

/// Formats an integer with commas between thousands: `1,780,781`.
pub fn thousands(n: i64) -> String {
    Lang::En.thousands(n)
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
        // Three consecutive months from January 1970 (day 0).
        let mut month = 0;
        let mut m = |c| {
            let figures = MonthFigures { month, connections: c, ..Default::default() };
            month = next_month(month);
            figures
        };
        let months = [m(100), m(100), m(1600)];
        let (prev, others) = growth(&months, 2);
        assert_eq!((prev.unwrap().round(), others.unwrap().round()), (1500.0, 1500.0));
        assert_eq!(growth(&months, 0).0, None);
        assert_eq!(growth(&[m(5)], 0), (None, None));
    }

    #[test]
    fn partial_and_missing_months_are_not_compared() {
        let sep = crate::time::days_from_civil(2019, 9, 1);
        let m = |month, connections, partial| MonthFigures {
            month,
            connections,
            partial,
            ..Default::default()
        };
        // September, October, then December (November missing), then a
        // partial January.
        let (oct, dec) = (next_month(sep), next_month(next_month(next_month(sep))));
        let months = [
            m(sep, 100, false),
            m(oct, 200, false),
            m(dec, 300, false),
            m(next_month(dec), 5, true),
        ];
        // December: no previous month (November has no data); against the
        // mean of September and October only (the partial January left out).
        let (prev, others) = growth(&months, 2);
        assert_eq!((prev, others.map(f64::round)), (None, Some(100.0)));
        assert_eq!(growth(&months, 1).0.map(f64::round), Some(100.0));
        assert_eq!(growth(&months, 3), (None, None));
    }
}
