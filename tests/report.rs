//! The report of a finished run, read back from its Parquet tables, is the
//! report of the run.

use crate::util::{entlog, fixture, generate};
use entlog::analyze::{AnalyzeOptions, analyze};
use entlog::report::data::ReportData;
use std::path::Path;
use std::process::Command;

#[test]
fn report_from_parquet_equals_report_from_the_run() {
    let dir = tempfile::tempdir().unwrap();
    for (name, input, referential) in [
        ("quirks", fixture("quirks/events.json"), fixture("quirks/referential")),
        ("generated", dir.path().join("dump/events"), dir.path().join("dump")),
    ] {
        if name == "generated" {
            generate(&dir.path().join("dump"), "0.01", "3", &[]);
        }
        let out = dir.path().join(name);
        let mut opts = AnalyzeOptions::new(vec![input], out.clone());
        opts.referential = Some(referential);
        // A third of the quirks fixture's lines are broken on purpose.
        opts.max_rejected = 1.0;
        let run = analyze(&opts).unwrap();
        let live = ReportData::from_tables(&run.tables);
        assert!(!live.scopes.is_empty() && !live.schools.is_empty());
        assert_eq!(ReportData::load(&out).unwrap(), live, "{name}");
    }
}

/// The HTML report renders in headless Chromium at desktop width: its
/// script runs to the end without errors and a screenshot comes out. Run
/// where Chromium is installed (build.rs looks), ignored elsewhere.
#[test]
#[cfg_attr(not(chromium), ignore = "Chromium is not installed")]
fn html_report_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "3", &[]);
    let out = dir.path().join("out");
    let html = dir.path().join("report.html");
    let o = entlog(&[
        "analyze",
        dump.join("events").to_str().unwrap(),
        "--referential",
        dump.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    renders_in_chromium(&html, dir.path());
}

/// Opens the page in headless Chromium at desktop width: its script must
/// run to the end (it marks the body) without errors, and a screenshot
/// must come out.
fn renders_in_chromium(html: &Path, dir: &Path) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let run = |extra: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let o = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,2400",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .expect("run chromium (apt-get install chromium; .ci/run does)");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let dom = run(&["--dump-dom"]);
    assert!(
        String::from_utf8_lossy(&dom.stdout).contains("data-ready=\"1\""),
        "script did not finish"
    );
    let console = String::from_utf8_lossy(&dom.stderr);
    assert!(!console.contains("Uncaught"), "script error: {console}");
    let shot = dir.join("report.png");
    run(&[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "no screenshot");
}
