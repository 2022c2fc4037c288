//! The demo at scale 1 reproduces the operator's published March 2020, and
//! its report (terminal and HTML) says so.

use crate::util::{entlog, python};

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
}
