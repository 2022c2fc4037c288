//! Stray and corrupt dates: rejected with their own reason, and never a
//! cost in memory beyond the events that carry them.

use crate::util::{analyze, entlog_peak, generate, run_json};
use std::path::Path;

/// The reason `run.json` gives for events outside the window.
const OUTSIDE: &str = "date outside --valid-from/--valid-until";

/// The first `n` lines of the generated scenario's March 2020 dump (scale
/// 0.1: 455,650 lines).
fn march_lines(dir: &Path, n: usize) -> Vec<String> {
    let dump = dir.join("dump");
    generate(&dump, "0.1", "2020", &[]);
    let text = std::fs::read_to_string(dump.join("events/2020-03.json")).unwrap();
    let lines: Vec<String> = text.lines().take(n).map(str::to_string).collect();
    assert_eq!(lines.len(), n);
    lines
}

/// `line` with its numeric `date` moved by `ms` (the generator's bad
/// lines, without one, as they are).
fn shifted(line: &str, ms: i64) -> String {
    let Some(at) = line.find(r#""date":"#).map(|i| i + 7) else { return line.to_string() };
    let len = line[at..].find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
    match line[at..at + len].parse::<i64>() {
        Ok(date) => format!("{}{}{}", &line[..at], date + ms, &line[at + len..]),
        Err(_) => line.to_string(),
    }
}

fn write(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Analyzes `input` on two threads; returns the peak anonymous memory, KiB.
fn peak(input: &Path, out: &Path, extra: &[&str]) -> u64 {
    let mut args = vec!["analyze", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(&["--threads", "2"]);
    args.extend_from_slice(extra);
    let (code, kib) = entlog_peak(&args);
    assert_eq!(code, Some(0), "entlog {args:?}");
    kib
}

/// Peak `b` is within a quarter (and 16 MiB of allocator noise) of `a`.
fn about_the_same(what: &str, a: u64, b: u64) {
    eprintln!("{what}: peak {b} KiB against {a} KiB");
    assert!(b <= a + a / 4 + 16 * 1024, "{what}: peak {b} KiB against {a} KiB");
}

#[test]
fn stray_dates_are_rejected_and_cost_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = march_lines(dir.path(), 200_000);
    let base = dir.path().join("base.json");
    write(&base, &lines);
    let event = |date: &str| {
        format!(
            r#"{{"event-type":"LOGIN","date":{date},"userId":"x","profil":"Student","structures":["s"]}}"#
        )
    };
    // Year 1, the epoch, year 9999: lines 101, 202 and 303, before the
    // generator's own bad lines, so that run.json samples all three.
    lines.insert(300, event(r#"{"$date":"9999-06-30T12:00:00Z"}"#));
    lines.insert(200, event("0"));
    lines.insert(100, event(r#"{"$date":"0001-01-01T00:00:00Z"}"#));
    let stray = dir.path().join("stray.json");
    write(&stray, &lines);

    let out = dir.path().join("out");
    let alone = peak(&base, &out, &[]);
    let run = run_json(&out);
    let records = run["records"].as_u64().unwrap();
    assert!(records > 190_000, "{records}");
    // The generator writes some bad lines of its own.
    let bad = run["rejected"].as_u64().unwrap();

    let with_stray = peak(&stray, &out, &[]);
    about_the_same("stray dates rejected", alone, with_stray);
    let run = run_json(&out);
    assert_eq!(run["records"].as_u64(), Some(records));
    assert_eq!(run["rejected"].as_u64(), Some(bad + 3));
    let input = &run["inputs"][0];
    assert_eq!(input["rejected_by_reason"][OUTSIDE], 3, "{input}");
    let sampled: Vec<u64> = input["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == OUTSIDE)
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(sampled, [101, 202, 303]);
    assert_eq!(run["options"]["valid_from"], "2000-01-01");

    // With the window wide open the three are counted, and cost one month
    // of grid each, not the ten thousand years between them.
    let wide = ["--valid-from", "0001-01-01", "--valid-until", "9999-12-31"];
    let accepted = peak(&stray, &out, &wide);
    about_the_same("stray dates accepted", alone, accepted);
    let input = &run_json(&out)["inputs"][0];
    assert_eq!(input["records"].as_u64(), Some(records + 3));
    assert_eq!(input["first_event"], "0001-01-01T00:00:00Z");
    assert_eq!(input["last_event"], "9999-06-30T12:00:00Z");
}

#[test]
fn years_apart_cost_what_their_events_cost() {
    let dir = tempfile::tempdir().unwrap();
    let lines = march_lines(dir.path(), 100_000);
    let copies = |step_ms: i64| -> Vec<String> {
        (0..5).flat_map(|k| lines.iter().map(move |l| shifted(l, -k * step_ms))).collect()
    };
    // The same events five times: five months in a row, or five dates
    // four years apart (2004 to 2020).
    const DAY: i64 = 86_400_000;
    let near = dir.path().join("near.json");
    write(&near, &copies(35 * DAY));
    let far = dir.path().join("far.json");
    write(&far, &copies(4 * 365 * DAY));
    let out = dir.path().join("out");
    let near_peak = peak(&near, &out, &[]);
    let near_run = run_json(&out);
    let far_peak = peak(&far, &out, &[]);
    let run = run_json(&out);
    assert_eq!(run["records"], near_run["records"]);
    assert_eq!(run["rejected"], near_run["rejected"]);
    assert!(run["inputs"][0]["first_event"].as_str().unwrap().starts_with("2004-"));
    about_the_same("sixteen years against five months", near_peak, far_peak);
}

#[test]
fn corrupt_number_longs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.json");
    let line = |date: &str| {
        format!(r#"{{"event-type":"LOGIN","date":{date},"userId":"u","profil":"Student"}}"#)
    };
    let lines = [
        line(r#"{"$numberLong":"15848149-5724"}"#),
        line(r#"{"$numberLong":"1584211696687-"}"#),
        line(r#"{"$numberLong":"1584211696687"}"#),
    ];
    write(&input, &lines);
    let out = dir.path().join("out");
    let o = analyze(&input, &out, &["-q", "--max-rejected", "100%"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let input = &run_json(&out)["inputs"][0];
    assert_eq!(input["records"], 1);
    assert_eq!(input["rejected_by_reason"]["date is not a readable time"], 2);
}
