//! Identical outputs whatever the thread count or the way files are read.

use crate::util::{entlog, generate};

#[test]
fn thread_count_and_mmap_do_not_change_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    // About 55 MB: a dozen chunks per month of closure.
    generate(&dump, "0.02", "11", &[]);
    let events = dump.join("events");
    let mut results = Vec::new();
    for (name, extra) in [
        ("t1", vec!["--threads", "1"]),
        ("t2", vec!["--threads", "2"]),
        ("t3", vec!["--threads", "3", "--no-mmap"]),
    ] {
        let out = dir.path().join(name);
        let mut args =
            vec!["analyze", events.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
        args.extend(extra);
        let o = entlog(&args);
        assert_eq!(o.status.code(), Some(0));
        results.push((
            std::fs::read(out.join("audience.parquet")).unwrap(),
            std::fs::read(out.join("user_activity.parquet")).unwrap(),
        ));
    }
    assert!(results.iter().all(|r| *r == results[0]), "outputs differ across thread counts");
}
