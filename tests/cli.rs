//! Exit codes and the handling of unreadable inputs.

use crate::util::{analyze, entlog, fixture};

#[test]
fn unreadable_inputs_are_reported_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    // A gzip file cut in the middle: readable up to the cut.
    let data = std::fs::read(fixture("quirks/events.json")).unwrap().repeat(200);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &data).unwrap();
    let gz = enc.finish().unwrap();
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let out = dir.path().join("out");
    let o = entlog(&[
        "analyze",
        "/nonexistent/file.json",
        fixture("quirks/events.json").to_str().unwrap(),
        cut.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("/nonexistent/file.json"), "{stderr}");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["failed_inputs"], 2);
    assert!(run["inputs"][0]["error"].is_string());
    assert_eq!(run["inputs"][1]["records"], 20);
    let partial = run["inputs"][2]["records"].as_u64().unwrap();
    assert!(partial > 0 && partial < 20 * 200, "{partial}");
    assert!(run["inputs"][2]["error"].as_str().unwrap().contains("read error"));
    assert!(out.join("audience.parquet").exists());
}

#[test]
fn fatal_errors_exit_2_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("quirks/events.json");
    let o = analyze(&input, &out, &["--tz", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Mars/Olympus"));
    assert!(!out.join("audience.parquet").exists());
    let o = analyze(&input, &out, &["--referential", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
    let o = entlog(&["analyze", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn undetectable_format_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.log");
    std::fs::write(&f, "17/May/2015 10:05:03 GET / 200\n").unwrap();
    let out = dir.path().join("out");
    let o = entlog(&["analyze", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot detect"));
}
