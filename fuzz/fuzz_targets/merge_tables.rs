//! `entlog merge` over a run one of whose files (a table, a partition of a
//! per-user table, or run.json; the first byte picks which) is replaced by
//! the rest of the input: the merge succeeds or fails with an error, and
//! never panics.
#![no_main]

use entlog::analyze::{AnalyzeOptions, analyze};
use entlog::merge::merge;
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A small real run, and its files with their bytes.
struct Template {
    _dir: tempfile::TempDir,
    run: PathBuf,
    out: PathBuf,
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() { files(&path, out) } else { out.push(path) }
    }
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        let dir = dir.unwrap();
        let log = dir.path().join("events.json");
        let mut lines = String::new();
        for (user, profile) in [("u1", "Student"), ("u2", "Relative"), ("u3", "Teacher")] {
            for (day, hour) in [(16, 8), (16, 9), (17, 20), (18, 7)] {
                let date = format!("2020-03-{day}T{hour:02}:00:00Z");
                for (kind, module) in [("LOGIN", "Auth"), ("ACCESS", "Blog"), ("ACCESS", "Pronote")] {
                    lines.push_str(&format!(
                        r#"{{"event-type":"{kind}","module":"{module}","date":{{"$date":"{date}"}},"userId":"{user}","profil":"{profile}","structures":["s1"]}}"#
                    ));
                    lines.push('\n');
                }
            }
        }
        std::fs::write(&log, lines).unwrap();
        let run = dir.path().join("run");
        analyze(&AnalyzeOptions::new(vec![log], run.clone())).unwrap();
        let mut paths = Vec::new();
        files(&run, &mut paths);
        let files = paths.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
        let out = dir.path().join("merged");
        Template { _dir: dir, run, out, files }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let t = template();
    let (path, original) = &t.files[usize::from(pick) % t.files.len()];
    std::fs::write(path, bytes).unwrap();
    let _ = merge(std::slice::from_ref(&t.run), &t.out);
    std::fs::write(path, original).unwrap();
});
