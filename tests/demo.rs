//! The demo at scale 1 reproduces the operator's published March 2020, and
//! its report (terminal and HTML) says so.

use crate::util::{entlog, python};
use std::path::Path;
use std::process::Command;

const SENTENCE: &str = "ECOLE, March 2020: 1,780,781 connections (+1500% vs the mean of the \
                        other months), 31,640 distinct pupils, 22,437 distinct parents.";

#[test]
fn demo_reproduces_the_published_figures_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = entlog(&["demo", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains(SENTENCE), "{stdout}");
    // As a data team would: DuckDB over the Parquet table.
    let said = python("demo_figures.py", &[out]);
    assert_eq!(said.trim(), "1780781 1500 31640 22437");

    // `report` reads the tables back and prints the same summary.
    let html = dir.path().join("report.html");
    let o = entlog(&["report", out, "--html", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), stdout);
    python("check_html.py", &[html.to_str().unwrap(), SENTENCE, "1,780,781", "Top applications"]);
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
