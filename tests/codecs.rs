//! The same data plain, gzip, zstd, multi-member, through stdin: the same
//! aggregates.

use crate::util::{TableFiles, analyze, fixture, generate, table};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn analyze_quietly(input: &Path, out: &Path) {
    // The quirks fixture's broken lines are part of what is compared.
    let o = analyze(input, out, &["-q", "--max-rejected", "100%"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

fn tables(out: &Path) -> (TableFiles, TableFiles) {
    (table(out, "audience.parquet"), table(out, "user_activity"))
}

#[test]
fn every_codec_gives_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(fixture("quirks/events.json")).unwrap();
    // Two gzip members, split mid-line, as `cat a.gz b.gz` makes.
    let (a, b) = data.split_at(data.len() / 2);
    let multi = [gzip(a), gzip(b)].concat();
    let inputs = [
        ("plain.json", data.clone()),
        ("gzip.json", gzip(&data)),
        ("multi.gz", multi),
        ("zstd.log", zstd::encode_all(&data[..], 3).unwrap()),
    ];
    let reference = dir.path().join("out-plain.json");
    for (name, bytes) in &inputs {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        analyze_quietly(&path, &out);
        assert_eq!(tables(&out), tables(&reference), "{name}");
    }
    // stdin, compressed.
    let out = dir.path().join("out-stdin");
    let mut child = Command::new(env!("CARGO_BIN_EXE_entlog"))
        .args(["analyze", "-", "--out", out.to_str().unwrap(), "-q", "--max-rejected", "100%"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&zstd::encode_all(&data[..], 1).unwrap()).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(tables(&out), tables(&reference));
}

#[test]
fn generated_dumps_in_every_codec_give_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for codec in ["none", "gz", "zst"] {
        let dump = dir.path().join(format!("dump-{codec}"));
        generate(&dump, "0.01", "7", &["--compress", codec]);
        let out = dir.path().join(format!("out-{codec}"));
        analyze_quietly(&dump.join("events"), &out);
        outs.push(tables(&out));
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}

/// A compressed input holding a 300 MiB line without a line end between
/// good lines (what a corrupt or hostile dump can be): the line is
/// rejected as too long with its line number, the others are read, and
/// memory stays near the 64 MiB longest line, not the line's size.
#[test]
fn an_overlong_line_costs_the_longest_line_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("quirks/events.json")).unwrap();
    let first = good.lines().next().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(enc, "{first}").unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..300 {
        enc.write_all(&block).unwrap();
    }
    writeln!(enc, "\n{first}").unwrap();
    let input = dir.path().join("long.json.gz");
    std::fs::write(&input, enc.finish().unwrap()).unwrap();
    let out = dir.path().join("out");
    let args = [
        "analyze",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--max-rejected",
        "50%",
    ];
    let (code, kib) = crate::util::entlog_peak(&args);
    assert_eq!(code, Some(0));
    let run = crate::util::run_json(&out);
    let input = &run["inputs"][0];
    assert_eq!((input["lines"].as_u64(), input["records"].as_u64()), (Some(3), Some(2)));
    let sample = &input["rejected_samples"][0];
    assert_eq!(sample["line"].as_u64(), Some(2));
    assert_eq!(sample["reason"].as_str(), Some("line longer than 64 MiB"));
    eprintln!("peak {kib} KiB");
    assert!(kib < 200 * 1024, "peak {kib} KiB for a 300 MiB line");
}
