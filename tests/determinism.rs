//! Identical outputs whatever the thread count or the way files are read.

use crate::util::{analyze, generate, table};
use entlog::sink::registry::output_names;

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
        // With the referential's accounts: every table, the accounts and
        // the exports included.
        let mut args = vec!["-q", "--referential", dump.to_str().unwrap()];
        args.extend(extra);
        let o = analyze(&events, &out, &args);
        assert_eq!(o.status.code(), Some(0));
        results.push(output_names().into_iter().map(|t| table(&out, t)).collect::<Vec<_>>());
    }
    assert!(results.iter().all(|r| *r == results[0]), "outputs differ across thread counts");
}

#[test]
fn shuffled_input_gives_the_same_tables_including_visits() {
    // Every line of a month in another order: each user's events are out
    // of order and spread over several 4 MiB chunks and both workers.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "5", &[]);
    let month = dump.join("events/2020-03.json");
    let data = std::fs::read(&month).unwrap();
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in (1..lines.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lines.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let shuffled = dir.path().join("shuffled.json");
    std::fs::write(&shuffled, lines.join(&b'\n')).unwrap();
    let tables = |input: &std::path::Path, name: &str| {
        let out = dir.path().join(name);
        let o = analyze(
            input,
            &out,
            &["--referential", dump.to_str().unwrap(), "--threads", "2", "-q"],
        );
        assert_eq!(o.status.code(), Some(0));
        [
            "audience.parquet",
            "user_activity",
            "user_visits",
            "visits.parquet",
            "fr-en-dnma-par-uai-profils.csv",
            "fr-en-dnma-par-uai-profils-appareils.csv",
            "fr-en-dnma-par-uai-services.csv",
            "hourly.parquet",
            "modules.parquet",
        ]
        .map(|t| table(&out, t))
    };
    assert!(data.len() > 3 * (4 << 20), "the month spans several chunks");
    assert!(tables(&month, "ordered") == tables(&shuffled, "shuffled"));
}
