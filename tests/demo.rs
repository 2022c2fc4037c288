//! The demo at scale 1 reproduces the operator's published March 2020.

use crate::util::{entlog, python};

#[test]
fn demo_reproduces_the_published_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = entlog(&["demo", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(
        stdout.contains(
            "ECOLE, March 2020: 1,780,781 connections (+1500% vs the mean of the other \
             months), 31,640 distinct pupils, 22,437 distinct parents."
        ),
        "{stdout}"
    );
    // As a data team would: DuckDB over the Parquet table.
    let said = python("demo_figures.py", &[out]);
    assert_eq!(said.trim(), "1780781 1500 31640 22437");
}
