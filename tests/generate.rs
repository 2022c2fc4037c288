//! The generator: same seed same bytes; another seed, other data with the
//! same headline figures.

use crate::util::{analyze_dump, entlog, generate};
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("events"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.push(("structures.csv".into(), std::fs::read(dir.join("structures.csv")).unwrap()));
    v.sort();
    v
}

fn headline(dump: &Path, out: &Path) -> String {
    let text = analyze_dump(dump, out);
    text.lines().find(|l| l.starts_with("ECOLE, March 2020")).unwrap().to_string()
}

#[test]
fn same_seed_same_bytes_other_seed_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    generate(&a, "0.01", "1", &["--threads", "1"]);
    generate(&b, "0.01", "1", &["--threads", "2"]);
    generate(&c, "0.01", "2", &[]);
    assert_eq!(files(&a), files(&b));
    assert_ne!(files(&a), files(&c));
    // round(1,780,781 x 0.01), round(31,640 x 0.01), round(22,437 x 0.01).
    let expected = "ECOLE, March 2020: 17,808 connections (+1500% vs the mean of the other \
                    months), 316 distinct pupils, 224 distinct parents.";
    assert_eq!(headline(&a, &dir.path().join("oa")), expected);
    assert_eq!(headline(&c, &dir.path().join("oc")), expected);
}

#[test]
fn scale_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = entlog(&["generate", "--out", dir.path().to_str().unwrap(), "--scale", "0"]);
    assert_eq!(o.status.code(), Some(2));
}
