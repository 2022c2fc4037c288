//! Identical outputs whatever the thread count or the way files are read.

use crate::util::{analyze, generate, run_json, table};
use entlog::sink::registry::output_names;

#[test]
fn thread_count_mmap_and_spilling_do_not_change_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    // About 55 MB: a dozen chunks per month of closure.
    generate(&dump, "0.02", "11", &[]);
    let events = dump.join("events");
    let spill = dir.path().join("spill");
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let (spill, unspillable) = (spill.to_str().unwrap(), blocked.join("spill"));
    let mut results = Vec::new();
    for (name, extra) in [
        ("t1", vec!["--threads", "1"]),
        ("t2", vec!["--threads", "2"]),
        ("t3", vec!["--threads", "3", "--no-mmap"]),
        // Every visit list through the spill file, closed days and the
        // final stage's lists alike.
        ("t2-spilled", vec!["--threads", "2", "--visit-memory", "0", "--spill-dir", spill]),
        // A spill file that cannot be made: visits stay in memory.
        (
            "t2-unspillable",
            vec![
                "--threads",
                "2",
                "--visit-memory",
                "0",
                "--spill-dir",
                unspillable.to_str().unwrap(),
            ],
        ),
    ] {
        let out = dir.path().join(name);
        // With the referential's accounts: every table, the accounts and
        // the exports included.
        let mut args = vec!["-q", "--referential", dump.to_str().unwrap()];
        args.extend(extra);
        let o = analyze(&events, &out, &args);
        assert_eq!(o.status.code(), Some(0));
        let report = run_json(&out);
        let spilled = report["spilled_bytes"].as_u64().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        match name {
            "t2-spilled" => assert!(spilled > 1 << 20, "{name}: {spilled} bytes spilled"),
            _ => assert_eq!(spilled, 0, "{name}"),
        }
        assert_eq!(stderr.contains("cannot spill visits"), name == "t2-unspillable", "{stderr}");
        assert_eq!(report["spill_failure"].is_string(), name == "t2-unspillable");
        results.push(output_names().into_iter().map(|t| table(&out, t)).collect::<Vec<_>>());
    }
    // The spill file has no name: nothing is left behind.
    assert_eq!(std::fs::read_dir(spill).unwrap().count(), 0);
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
    let tables = |input: &std::path::Path, name: &str, visit_memory: &str| {
        let out = dir.path().join(name);
        let o = analyze(
            input,
            &out,
            &[
                "--referential",
                dump.to_str().unwrap(),
                "--threads",
                "2",
                "-q",
                "--visit-memory",
                visit_memory,
            ],
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
    let ordered = tables(&month, "ordered", "256M");
    assert!(ordered == tables(&shuffled, "shuffled", "256M"));
    // Closed days spilled, then opened again by their late events.
    assert!(ordered == tables(&shuffled, "shuffled-spilled", "0"));
}
