//! The output directory is replaced as a whole or not at all: a full disk
//! at any point of the writes, or a kill at any point of the run, leaves
//! the previous run's tables and run.json as they were.

use crate::util::{TableFiles, analyze, assert_nothing_hidden, generate, run_json, snapshot};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Bytes `dir`'s files take on a tmpfs (whole 4 KiB pages).
fn pages(dir: &Path) -> u64 {
    snapshot(dir).iter().map(|(_, b)| (b.len() as u64).div_ceil(4096) * 4096).sum()
}

/// The tables of a snapshot, without `run.json` (whose timings differ
/// from run to run).
fn tables(files: &TableFiles) -> TableFiles {
    files.iter().filter(|(f, _)| f != "run.json").cloned().collect()
}

/// A small input (one month) and a larger one (every month).
fn inputs(dir: &Path, scale: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dump = dir.join("dump");
    generate(&dump, scale, "5", &[]);
    (dump.join("events/2019-10.json"), dump.join("events"))
}

#[test]
fn a_full_disk_at_any_point_leaves_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = inputs(dir.path(), "0.01");
    let reference = dir.path().join("reference");
    for (input, name) in [(&small, "small"), (&large, "large")] {
        let o = analyze(input, &reference.join(name), &["-q"]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (first, second) = (pages(&reference.join("small")), pages(&reference.join("large")));
    let entlog = env!("CARGO_BIN_EXE_entlog");
    // The space left for the second run's staging directory runs out at
    // ever later points of its writes (it needs `second` bytes in all).
    for share in [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.97] {
        let size = first + (share * second as f64) as u64;
        let case = dir.path().join(format!("case-{share}"));
        let mnt = case.join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        // In a mount namespace of its own, so that no privilege is needed
        // and nothing stays mounted.
        let script = format!(
            r#"set -e
mount -t tmpfs -o size={size} tmpfs "$0/mnt"
"{entlog}" analyze "{small}" --out "$0/mnt/out" -q
cp -a "$0/mnt/out" "$0/before"
set +e
"{entlog}" analyze "{large}" --out "$0/mnt/out" -q 2>"$0/stderr"
echo $? >"$0/code"
set -e
cp -a "$0/mnt/out" "$0/after"
ls -A "$0/mnt" >"$0/listing"
"#,
            small = small.display(),
            large = large.display(),
        );
        let o = Command::new("unshare")
            .args(["--mount", "--map-root-user", "sh", "-c", &script])
            .arg(&case)
            .output()
            .expect("run unshare (util-linux)");
        assert!(o.status.success(), "{share}: {}", String::from_utf8_lossy(&o.stderr));
        let read = |f: &str| std::fs::read_to_string(case.join(f)).unwrap();
        let stderr = read("stderr");
        assert_eq!(read("code").trim(), "2", "{share}: {stderr}");
        assert!(stderr.contains("No space left on device"), "{share}: {stderr}");
        assert!(snapshot(&case.join("before")) == snapshot(&case.join("after")), "{share}");
        assert_eq!(read("listing"), "out\n", "{share}: left beside the output");
    }
}

#[test]
fn a_kill_at_any_point_leaves_a_complete_output() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = inputs(dir.path(), "0.05");
    let out = dir.path().join("out");
    let reference = dir.path().join("reference");
    let o = analyze(&large, &reference, &["-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let new = (tables(&snapshot(&reference)), run_json(&reference)["records"].clone());
    let o = analyze(&small, &out, &["-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let old = (tables(&snapshot(&out)), run_json(&out)["records"].clone());
    // How long a run takes, to kill runs at points spread over it.
    let start = Instant::now();
    assert!(analyze(&large, &dir.path().join("timing"), &["-q"]).status.success());
    let wall = start.elapsed();
    let args = ["analyze", large.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
    for share in [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_entlog"))
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wall.mul_f64(share));
        child.kill().unwrap();
        child.wait().unwrap();
        // Either the previous complete set, or the new one, with its
        // own run.json.
        let now = (tables(&snapshot(&out)), run_json(&out)["records"].clone());
        assert!(now == old || now == new, "killed at {share} of the run: a mixed directory");
        // Early kills land in the scan, long before anything is replaced.
        assert!(share > 0.2 || now == old, "killed at {share}: the output changed");
    }
    // The next run completes and clears what the killed ones left.
    let o = analyze(&large, &out, &["-q"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(tables(&snapshot(&out)) == new.0);
    assert_nothing_hidden(dir.path());
}
