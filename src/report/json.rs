//! `summary.json`: what the terminal summary shows, as data, for every
//! month (the terminal details only the latest).
//!
//! ```text
//! { "time_zone": "Europe/Paris",
//!   "scopes": [ { "scope": "platform" | segment,
//!                 "months": [ { "month": "2020-03", "connections": 1780781,
//!                               "partial": false,
//!                               "growth_vs_previous_pct": 12.3 | null,
//!                               "growth_vs_other_months_pct": 1500.0 | null,
//!                               "visitors": { "All": .., "Student": .., .. },
//!                               "visits": 2201485,
//!                               "visits_per_visitor": 1.85 | null,
//!                               "accounts": { "All": { "loaded", "activated",
//!                                   "activated_pct", "connected_pct" }, .. },
//!                               "sentence": "ECOLE, March 2020: ..." } ] } ],
//!   "months": [ { "month": "2020-03", "peak_hour": 9 | null,
//!                 "applications": [ { "name", "access", "users" } ],
//!                 "visits": { "visits", "p50_s", "p90_s", "p99_s", "max_s" } | null,
//!                 "schools": [ { "id", "uai", "name", "connections",
//!                                "pupils", "parents" } ] } ] }
//! ```
//!
//! Applications are in the summary's order (most accessed first), schools
//! by connections, then id.

use super::data::{MonthFigures, ReportData};
use super::summary::{growth, peak_hours, sentence};
use crate::aggregate::key::ALL_PROFILES;
use serde_json::{Value, json};

/// `YYYY-MM` of a month's first day.
fn month_text(day: i32) -> String {
    crate::time::format_day(day)[..7].to_string()
}

/// The summary of `d`, periods cut in `tz`.
pub fn summary(d: &ReportData, tz: &str) -> Value {
    let scopes: Vec<Value> = d
        .scopes
        .iter()
        .map(|s| {
            let months: Vec<Value> = s
                .months
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let (prev, others) = growth(&s.months, i);
                    json!({
                        "month": month_text(m.month),
                        "connections": m.connections,
                        "partial": m.partial,
                        "growth_vs_previous_pct": prev,
                        "growth_vs_other_months_pct": others,
                        "visitors": m.visitors,
                        "visits": m.visits,
                        // Two decimals: a ratio, not a count to add up.
                        "visits_per_visitor": m.visits_per_visitor().map(|r| (r * 100.0).round() / 100.0),
                        "accounts": accounts(m),
                        "sentence": sentence(s, i),
                    })
                })
                .collect();
            json!({ "scope": s.label, "months": months })
        })
        .collect();
    let peaks = peak_hours(d);
    let months: Vec<Value> = d.months().into_iter().map(|m| month(d, m, peaks.get(&m))).collect();
    json!({ "time_zone": tz, "scopes": scopes, "months": months })
}

/// The accounts of a scope's month by profile: loaded, activated, and the
/// shares activated and connected (percent, one decimal); `{}` without
/// `users.csv`.
fn accounts(m: &MonthFigures) -> Value {
    let one = |x: f64| (x * 10.0).round() / 10.0;
    let by_profile: serde_json::Map<String, Value> = m
        .accounts
        .iter()
        .map(|(profile, &[loaded, activated])| {
            let [act, used] = m.account_rates(profile).unwrap_or([0.0, 0.0]);
            let v = json!({ "loaded": loaded, "activated": activated,
                            "activated_pct": one(act), "connected_pct": one(used) });
            (profile.clone(), v)
        })
        .collect();
    Value::Object(by_profile)
}

/// The details of one month.
fn month(d: &ReportData, m: i32, peak: Option<&u8>) -> Value {
    let apps: Vec<Value> = d
        .apps
        .get(&m)
        .into_iter()
        .flatten()
        .map(|(name, access, users)| json!({ "name": name, "access": access, "users": users }))
        .collect();
    let visits = d.visits.iter().find(|v| v.month == m && v.profile == ALL_PROFILES).map(|v| {
        let [p50, p90, p99, max] = v.seconds;
        json!({ "visits": v.visits, "p50_s": p50, "p90_s": p90, "p99_s": p99, "max_s": max })
    });
    let schools: Vec<Value> = d
        .schools_of(m)
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id, "uai": s.uai, "name": s.name, "connections": s.connections,
                "pupils": s.pupils, "parents": s.parents,
            })
        })
        .collect();
    json!({
        "month": month_text(m),
        "peak_hour": peak,
        "applications": apps,
        "visits": visits,
        "schools": schools,
    })
}

/// Writes `summary.json` of `d` to `path`.
pub fn write(path: &std::path::Path, d: &ReportData, tz: &str) -> crate::error::Result<()> {
    let text = serde_json::to_vec_pretty(&summary(d, tz))
        .map_err(|e| crate::error::Error::output(path, e))?;
    std::fs::write(path, text).map_err(|e| crate::error::Error::io(path, e))
}
