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
