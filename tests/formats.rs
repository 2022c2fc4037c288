//! Formats other than the event store: access logs (the real Apache log,
//! generated combined and nginx logs), the PostgreSQL CSV export, and a
//! run mixing formats.

use crate::util::{analyze, cu, fixture, generate, python, rejections, row};
use entlog::analyze::{AnalyzeOptions, analyze as run};
use entlog::parse::Format;
use std::path::{Path, PathBuf};

/// The real Apache log of the shared data: `$ENTLOG_REAL_DATA`, else next
/// to the repository (`../shared/data/real`), else where this machine keeps
/// it (`/work/shared/data/real`), as CI runs on a clone elsewhere.
fn real_apache_log() -> PathBuf {
    let name = "apache_combined_10k.log";
    let candidates = [
        std::env::var_os("ENTLOG_REAL_DATA").map(PathBuf::from),
        Some(crate::util::root().join("../shared/data/real")),
        Some(PathBuf::from("/work/shared/data/real")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} not found: set ENTLOG_REAL_DATA to its directory"))
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

/// The number after `rejected=` in the cross-check's report.
fn python_rejected(said: &str) -> u64 {
    said.split("rejected=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn real_apache_log_matches_python_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let log = real_apache_log();
    // The log's own zone, so that days are the log's days.
    let o = analyze(&log, &out, &["--tz", "UTC", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run = run_json(&out);
    let input = &run["inputs"][0];
    assert_eq!(input["format"], "combined");
    assert_eq!((input["lines"].as_u64(), input["records"].as_u64()), (Some(10_000), Some(9_999)));
    // The Googlebot line whose user agent lacks its closing quote.
    assert_eq!(input["rejected_samples"][0]["line"], 8899);
    assert_eq!(input["rejected_samples"][0]["reason"], "quoted field without closing quote");
    let said = python(
        "http_crosscheck.py",
        &[out.to_str().unwrap(), "UTC", "combined", log.to_str().unwrap()],
    );
    assert!(said.starts_with("ok: 4 days, 9999 requests"), "{said}");
    assert_eq!(python_rejected(&said), 1);
}

/// Generates the scenario at a small scale in `format` into `dir`.
fn generated(dir: &Path, format: &str) -> PathBuf {
    let dump = dir.join(format);
    generate(&dump, "0.01", "4", &["--format", format]);
    dump
}

fn analyze_generated(dump: &Path, out: &Path, format: Option<Format>) -> entlog::analyze::Analysis {
    let input = if dump.join("events").exists() { "events" } else { "access" };
    let mut opts = AnalyzeOptions::new(vec![dump.join(input)], out.into());
    opts.referential = Some(dump.into());
    opts.format = format;
    run(&opts).unwrap()
}

fn logs(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn generated_access_logs_match_python_and_the_event_store() {
    let dir = tempfile::tempdir().unwrap();
    let json =
        analyze_generated(&generated(dir.path(), "entcore-json"), &dir.path().join("oj"), None);
    let combined = generated(dir.path(), "combined");
    let nginx = generated(dir.path(), "nginx");
    let conf = std::fs::read_to_string(nginx.join("log_format.conf")).unwrap();
    let nginx_format = Format::from_name(&format!("nginx:{conf}")).unwrap();
    let by_format = [
        ("combined", combined.clone(), analyze_generated(&combined, &dir.path().join("oc"), None)),
        (
            "nginx",
            nginx.clone(),
            analyze_generated(&nginx, &dir.path().join("on"), Some(nginx_format)),
        ),
    ];
    for (style, dump, a) in &by_format {
        let out = dir.path().join(if *style == "nginx" { "on" } else { "oc" });
        assert!(a.report.inputs.iter().all(|i| i.format.as_deref() == Some(*style)));
        assert!(a.report.rejected > 0, "the generator writes broken lines");
        let files = logs(&dump.join("access"));
        let mut args = vec![out.to_str().unwrap(), "Europe/Paris", style];
        args.extend(files.iter().map(String::as_str));
        let said = python("http_crosscheck.py", &args);
        assert!(said.starts_with("ok:"), "{said}");
        assert_eq!(python_rejected(&said), a.report.rejected, "{style}: {said}");
        let timed = a.tables.http.iter().all(|r| !r.counts.latency.is_empty());
        assert_eq!(style != &"combined", timed, "{style}");
        // A connection is one successful POST /auth/login, so the access
        // log of a seed has the connections and visitors of its event
        // store, at every level the users referential gives.
        for (grain, period) in
            [("month", "2020-03-01"), ("day", "2020-03-17"), ("week", "2020-03-16")]
        {
            for (scope, name) in
                [("platform", None), ("segment", Some("ECOLE")), ("segment", Some("COLLEGE"))]
            {
                for profile in ["All", "Student", "Relative", "Teacher"] {
                    let want = cu(row(&json.tables, grain, period, scope, name, profile));
                    let got = cu(row(&a.tables, grain, period, scope, name, profile));
                    assert!(want.0 > 0, "{grain} {period} {scope} {name:?} {profile}");
                    assert_eq!(got, want, "{style}: {grain} {period} {scope} {name:?} {profile}");
                }
            }
        }
    }
}

#[test]
fn postgres_csv_export_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = AnalyzeOptions::new(vec![fixture("pg/events.csv")], dir.path().into());
    opts.referential = Some(fixture("pg/referential"));
    let a = run(&opts).unwrap();
    let input = &a.report.inputs[0];
    assert_eq!(input.format.as_deref(), Some("entcore-pg-csv"));
    // 12 lines: two headers, seven rows read, three rejected.
    assert_eq!((input.lines, input.records, input.rejected), (12, 7, 3));
    assert_eq!(
        rejections(input),
        [
            (8, "no user id"),
            (9, "date is not a readable time"),
            (10, "CSV row does not have the header's fields"),
        ]
    );
    let t = &a.tables;
    // Wall-clock dates in Paris: 23:59:59.999 is still the 24th.
    assert_eq!(cu(row(t, "day", "2020-10-24", "platform", None, "All")), (1, 1));
    // 25 October: 00:00, then 02:30 twice (the fold: the first is summer
    // time, the one written +01 is winter time), and an ACCESS whose
    // profile comes from users.csv.
    assert_eq!(cu(row(t, "day", "2020-10-25", "platform", None, "All")), (3, 2));
    assert_eq!(cu(row(t, "day", "2020-10-25", "platform", None, "Relative")), (2, 1));
    let access = row(t, "day", "2020-10-25", "platform", None, "Teacher").unwrap();
    assert_eq!((access.access, access.connections), (1, 0));
    // Structures come from users.csv.
    assert_eq!(cu(row(t, "day", "2020-10-25", "structure", Some("s1"), "All")), (3, 2));
    assert_eq!(cu(row(t, "day", "2020-10-25", "segment", Some("COLLEGE"), "All")), (2, 1));
    let hour = |h: u8| {
        t.hourly
            .iter()
            .filter(|r| {
                entlog::time::format_day(r.day) == "2020-10-25"
                    && r.hour == h
                    && r.profile.is_none()
            })
            .map(|r| r.connections)
            .sum::<i64>()
    };
    assert_eq!((hour(0), hour(2)), (1, 2));
    // 02:30 on 29 March does not exist in Paris: moved to 03:30.
    assert_eq!(cu(row(t, "day", "2020-03-29", "platform", None, "Student")), (1, 1));
    assert!(
        t.hourly.iter().any(|r| entlog::time::format_day(r.day) == "2020-03-29" && r.hour == 3)
    );
    // No HTTP figures from an event table.
    assert!(t.http.is_empty());
}

#[test]
fn one_run_mixes_formats_and_says_which_it_chose() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(fixture("quirks/events.json"), inputs.join("a.json")).unwrap();
    std::fs::copy(fixture("pg/events.csv"), inputs.join("b.csv")).unwrap();
    std::fs::copy(real_apache_log(), inputs.join("c.log")).unwrap();
    // The first lines of the real log cut to NCSA common.
    let common: String = std::fs::read_to_string(real_apache_log())
        .unwrap()
        .lines()
        .take(50)
        .map(|l| {
            let request_end = l.find("\" ").unwrap() + 2;
            format!("{}\n", &l[..request_end + l[request_end..].find(" \"").unwrap()])
        })
        .collect();
    std::fs::write(inputs.join("d.log"), common).unwrap();
    let out = dir.path().join("out");
    let o = analyze(
        &inputs,
        &out,
        &["--referential", fixture("pg/referential").to_str().unwrap(), "-q"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run = run_json(&out);
    let formats: Vec<&str> =
        run["inputs"].as_array().unwrap().iter().map(|i| i["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["entcore-json", "entcore-pg-csv", "combined", "common"]);
    assert_eq!(run["options"]["format"], "auto");
    assert_eq!(run["records"], 20 + 7 + 9_999 + 50);
}

/// The format detected for each input of a run, or the error of each
/// input detection refused, from `run.json`.
fn detected(input: &Path, out: &Path) -> (Option<i32>, Vec<String>) {
    let o = analyze(input, out, &["-q", "--max-rejected", "100%"]);
    let failed = entlog::analyze::failed_dir(out);
    let dir = if o.status.code() == Some(0) { out.to_path_buf() } else { failed };
    let run = crate::util::run_json(&dir);
    let seen = run["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match i["error"].as_str() {
            Some(e) => format!("refused: {e}"),
            None => i["format"].as_str().unwrap().to_string(),
        })
        .collect();
    (o.status.code(), seen)
}

#[test]
fn detection_is_right_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases = [
        (generated(dir.path(), "entcore-json").join("events"), "entcore-json"),
        (generated(dir.path(), "combined").join("access"), "combined"),
        (generated(dir.path(), "entcore-access").join("access"), "entcore-access"),
        (fixture("pg/events.csv"), "entcore-pg-csv"),
        (real_apache_log(), "combined"),
    ];
    for (input, want) in cases {
        let (_, seen) = detected(&input, &out);
        assert!(!seen.is_empty() && seen.iter().all(|s| s == want), "{input:?}: {seen:?}");
    }
    // nginx with X-Forwarded-For and request times: entcore-access would
    // read a time as the user id. Refused, with the candidates and the
    // option to pass; exit 1.
    let nginx = generated(dir.path(), "nginx").join("access");
    let (code, seen) = detected(&nginx, &out);
    assert_eq!(code, Some(1));
    for s in &seen {
        assert!(s.starts_with("refused: cannot detect the log format"), "{s}");
        assert!(s.contains("combined: 0/20 exactly, 20/20 with text after it"), "{s}");
        assert!(s.contains("--format nginx:"), "{s}");
    }
}
