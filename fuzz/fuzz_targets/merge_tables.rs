//! What `entlog merge` reads of a run: one of its files (a table, a
//! partition of a per-user table, or run.json; the first byte picks which)
//! is replaced by the rest of the input and read with that table's own
//! merge reader, then the rows read are counted by the final stage, as a
//! merge counts them: the file is read and counted, or refused with an
//! error, and nothing panics.
//!
//! Each execution reads only the file it changed (reading the unchanged
//! ones, and writing the merged tables, made an execution a hundred times
//! slower and adds no coverage): a run whose other tables are missing is
//! a run a merge must survive too. The integration tests merge whole runs.
#![no_main]

use entlog::aggregate::finish::{Settings, finish_partials};
use entlog::aggregate::gather::{Gathered, ReadPartition};
use entlog::analyze::{AnalyzeOptions, RUN_JSON, analyze};
use entlog::sink::registry::TABLES;
use entlog::sink::table::{Merged, file_names};
use entlog::sink::{partitioned, run_json};
use entlog::time::LocalDays;
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How a file of the run is read by a merge.
enum Reader {
    RunJson,
    Whole(fn(&Path, &mut Gathered) -> entlog::error::Result<()>),
    Partition(ReadPartition, i32),
}

/// A small real run, and the files a merge reads in it with their bytes.
struct Template {
    _dir: tempfile::TempDir,
    files: Vec<(PathBuf, Vec<u8>, Reader)>,
}

/// entlog catches the panics of the parquet crate on damaged files and
/// reports them as errors (`stored::batches`): those unwind to it, where
/// libFuzzer's hook aborts on every panic. Any other panic still aborts,
/// and one of the parquet crate that entlog failed to catch aborts in
/// libFuzzer's own catch.
fn let_parquet_panics_unwind() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.location().is_some_and(|l| l.file().contains("/parquet-")) {
            abort(info)
        }
    }));
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let_parquet_panics_unwind();
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
                        r#"{{"event-type":"{kind}","module":"{module}","date":{{"$date":"{date}"}},"userId":"{user}","profil":"{profile}","structures":["s1"],"classes":["c1"],"ua":"Mozilla/5.0 (iPad)"}}"#
                    ));
                    lines.push('\n');
                }
            }
        }
        std::fs::write(&log, lines).unwrap();
        // A school code, so that the national datasets have rows and
        // visits keep the points of their services.
        std::fs::write(dir.path().join("structures.csv"), "id,uai,name\ns1,0800001A,S\n").unwrap();
        let run = dir.path().join("run");
        let mut opts = AnalyzeOptions::new(vec![log], run.clone());
        opts.referential = Some(dir.path().to_path_buf());
        analyze(&opts).unwrap();
        let mut readers = vec![(run.join(RUN_JSON), Reader::RunJson)];
        for table in TABLES {
            let path = run.join(table.name());
            match table.merged() {
                // A table's reader may read a companion file (the national
                // dataset reads its Parquet twin): each file is a target.
                Merged::Whole(read) => readers.extend(
                    file_names(table).map(|name| (run.join(name), Reader::Whole(read))),
                ),
                Merged::Partitioned(read) => readers.extend(
                    partitioned::files(&path).unwrap().into_iter().map(|(m, f)| (f, Reader::Partition(read, m))),
                ),
                Merged::Derived | Merged::Unmergeable => {}
            }
        }
        let files = readers.into_iter().map(|(p, r)| (p.clone(), std::fs::read(&p).unwrap(), r)).collect();
        Template { _dir: dir, files }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let t = template();
    let (path, original, reader) = &t.files[usize::from(pick) % t.files.len()];
    std::fs::write(path, bytes).unwrap();
    let mut gathered = Gathered::default();
    let read = match reader {
        Reader::RunJson => run_json::read(path).map(|_| ()),
        Reader::Whole(read) => read(path, &mut gathered),
        Reader::Partition(read, month) => gathered.partitions(&[(*read, *month, path.clone())]),
    };
    if read.is_ok() {
        let settings =
            Settings { days: LocalDays::new(jiff::tz::TimeZone::UTC), visit_gap_ms: 1_800_000 };
        let (partials, dims) = gathered.into_partials(true, settings.visit_gap_ms);
        finish_partials(partials, dims, &settings);
    }
    std::fs::write(path, original).unwrap();
});
