//! Dumps that overlap: `--dedup` counts an event repeated under its id
//! once, `--since` / `--until` read only the days asked for; the lines
//! left out are skipped (counted in `run.json`), never rejected.

use crate::util::{TableFiles, analyze, generate, run_json, snapshot};
use jiff::tz::TimeZone;
use serde_json::Value;
use std::path::Path;

/// The tables of an output (`run.json` holds timings and paths).
fn tables(out: &Path) -> TableFiles {
    snapshot(out).into_iter().filter(|(name, _)| name != "run.json").collect()
}

fn run(inputs: &[&Path], dump: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["--referential", dump.to_str().unwrap(), "-q"];
    args.extend(inputs[1..].iter().map(|p| p.to_str().unwrap()));
    args.extend(extra);
    let o = analyze(inputs[0], out, &args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Totals of `run.json` over its inputs.
fn totals(out: &Path, key: &str) -> u64 {
    run_json(out)["inputs"].as_array().unwrap().iter().map(|i| i[key].as_u64().unwrap()).sum()
}

#[test]
fn dedup_counts_an_overlapping_export_once() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.02", "7", &[]);
    let events = dump.join("events");
    // A second export of the last half of March, under another name.
    let march = std::fs::read_to_string(events.join("2020-03.json")).unwrap();
    let lines: Vec<&str> = march.lines().collect();
    let again = &lines[lines.len() / 2..];
    let overlap = dir.path().join("export-2020-03-15.json");
    std::fs::write(&overlap, again.join("\n") + "\n").unwrap();
    let (alone, both, counted_twice) =
        (dir.path().join("alone"), dir.path().join("both"), dir.path().join("twice"));
    run(&[&events], &dump, &alone, &[]);
    run(&[&events, &overlap], &dump, &both, &["--dedup"]);
    assert!(tables(&alone) == tables(&both), "--dedup: the overlap changed the tables");
    // The repeated lines that are events are skipped with their reason;
    // the broken ones among them are rejected as in the first export (and
    // blank lines are neither).
    let rejected_again = totals(&both, "rejected") - totals(&alone, "rejected");
    let not_blank = again.iter().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(totals(&both, "skipped") + rejected_again, not_blank);
    // Inputs are read in order: the repeats are in the last one.
    let inputs = run_json(&both)["inputs"].as_array().unwrap().clone();
    let reasons = &inputs.last().unwrap()["skipped_by_reason"];
    assert_eq!(reasons["event id already read (--dedup)"].as_u64(), Some(totals(&both, "skipped")));
    // Without --dedup, the same overlap counts twice.
    run(&[&events, &overlap], &dump, &counted_twice, &["--max-rejected", "100%"]);
    assert!(tables(&alone) != tables(&counted_twice));
}

/// Epoch milliseconds of an event store `date` in any shape
/// `mongoexport` writes.
fn millis(date: &Value) -> Option<i64> {
    match date {
        Value::Number(n) => n.as_i64(),
        Value::String(iso) => iso.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond()),
        Value::Object(m) => match (m.get("$numberLong"), m.get("$date")) {
            (Some(Value::String(n)), _) => n.parse().ok(),
            (_, Some(inner)) => millis(inner),
            _ => None,
        },
        _ => None,
    }
}

/// The local day (Europe/Paris) of an event store line, if it has one.
fn local_day(line: &str) -> Option<String> {
    let event: Value = serde_json::from_str(line).ok()?;
    let at = jiff::Timestamp::from_millisecond(millis(event.get("date")?)?).ok()?;
    Some(TimeZone::get("Europe/Paris").unwrap().to_datetime(at).date().to_string())
}

#[test]
fn since_and_until_read_the_days_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.02", "8", &[]);
    let events = dump.join("events");
    // The same days, cut out of the dump by the test: local days from
    // 29 February to 29 March 2020 (a DST change on the 29th), and lines
    // without a readable date kept (both runs reject them).
    let (since, until) = ("2020-02-29", "2020-03-29");
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    for month in ["2020-02", "2020-03"] {
        let text = std::fs::read_to_string(events.join(format!("{month}.json"))).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| local_day(l).is_none_or(|d| (since..=until).contains(&d.as_str())))
            .collect();
        std::fs::write(cut.join(format!("{month}.json")), kept.join("\n") + "\n").unwrap();
    }
    let (period, reference) = (dir.path().join("period"), dir.path().join("reference"));
    run(&[&events], &dump, &period, &["--since", since, "--until", until]);
    run(&[&cut], &dump, &reference, &[]);
    for ((name, a), (other, b)) in tables(&period).iter().zip(&tables(&reference)) {
        assert!(name == other && a == b, "--since/--until: {name} differs from the cut's");
    }
    // Every record of the whole dump outside the days is skipped, and no
    // line is rejected that the whole dump does not reject.
    let whole = dir.path().join("whole");
    run(&[&events], &dump, &whole, &[]);
    let outside = totals(&whole, "records") - totals(&reference, "records");
    assert_eq!(totals(&period, "skipped"), outside);
    assert_eq!(totals(&period, "rejected"), totals(&whole, "rejected"));
}
