//! Memory follows what the figures hold, not the bytes read.

use crate::util::{entlog_peak, generate};
use std::io::Write;
use std::path::Path;

/// Peak anonymous memory (KiB) of `entlog analyze INPUT` on two threads
/// with the dump's referential.
fn peak(input: &Path, dump: &Path, out: &Path) -> u64 {
    let (input, dump, out) =
        (input.to_str().unwrap(), dump.to_str().unwrap(), out.to_str().unwrap());
    let args = ["analyze", input, "--referential", dump, "--out", out, "--threads", "2", "-q"];
    let (code, kib) = entlog_peak(&args);
    assert_eq!(code, Some(0), "entlog {args:?}");
    kib
}

#[test]
fn the_same_dump_four_times_over_costs_the_heap_of_one() {
    // Both workers read a part of nearly every user's day when the dump
    // repeats: visits held per worker grew a third; owned per user, they
    // do not grow.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.1", "14", &[]);
    let mut events: Vec<_> =
        std::fs::read_dir(dump.join("events")).unwrap().map(|e| e.unwrap().path()).collect();
    events.sort();
    let (once, four) = (dir.path().join("x1.json"), dir.path().join("x4.json"));
    for (path, copies) in [(&once, 1), (&four, 4)] {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for _ in 0..copies {
            for f in &events {
                let data = std::fs::read(f).unwrap();
                out.write_all(&data).unwrap();
                if !data.ends_with(b"\n") {
                    out.write_all(b"\n").unwrap();
                }
            }
        }
        out.flush().unwrap();
    }
    let out = dir.path().join("out");
    // The peak is reached as the last tables are written side by side,
    // and which of them overlap varies from run to run (by up to a tenth
    // of the peak at this size): the lower of two runs is what the
    // figures hold.
    let lower = |input| peak(input, &dump, &out).min(peak(input, &dump, &out));
    let a = lower(&once);
    let b = lower(&four);
    eprintln!("peak heap: {a} KiB for the dump, {b} KiB for it four times over");
    assert!(b <= a + a * 15 / 100, "{b} KiB against {a} KiB");
}
