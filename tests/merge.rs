//! `entlog merge`: runs over shards of a dump, cut by file, by day or line
//! by line, merge into exactly the outputs of one run over the whole dump.

use crate::util::{TableFiles, analyze, entlog, generate, python, table, write_annuaire};
use entlog::sink::registry::output_names;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Every output a merge must reproduce (`run.json` is compared apart).
fn tables() -> impl Iterator<Item = &'static str> {
    output_names().into_iter()
}

fn outputs(out: &Path) -> Vec<TableFiles> {
    tables().map(|t| table(out, t)).collect()
}

/// Writes the lines of every file of `events` into `n` shard directories
/// under `dir`, the shard of a line chosen by `pick(file index, line
/// index, line)`; returns the shard directories.
fn shard_lines(
    events: &Path,
    dir: &Path,
    n: usize,
    pick: impl Fn(usize, usize, &[u8]) -> usize,
) -> Vec<PathBuf> {
    let shards: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("shard-{i}"))).collect();
    let mut bufs = vec![Vec::new(); n];
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(events).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for (f, file) in files.iter().enumerate() {
        let data = std::fs::read(file).unwrap();
        for (i, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
            let buf = &mut bufs[pick(f, i, line)];
            buf.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                buf.push(b'\n');
            }
        }
    }
    for (shard, buf) in shards.iter().zip(bufs) {
        std::fs::create_dir_all(shard).unwrap();
        std::fs::write(shard.join("events.json"), buf).unwrap();
    }
    shards
}

/// The epoch day (UTC) of an event store line, from its `date` field.
fn utc_day(line: &[u8]) -> usize {
    let text = String::from_utf8_lossy(line);
    let ms: i64 = text
        .split_once("\"date\":")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    (ms / 86_400_000) as usize
}

fn run_json(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

/// The options of every run of a dump: its referential, and a national
/// directory of its schools written beside it.
fn run_options(dump: &Path) -> Vec<String> {
    let annuaire = dump.join("annuaire.csv");
    if !annuaire.exists() {
        write_annuaire(dump, &annuaire);
    }
    let (referential, annuaire) = (dump.to_str().unwrap(), annuaire.to_str().unwrap());
    ["--referential", referential, "--annuaire", annuaire, "-q"].map(String::from).to_vec()
}

/// Analyzes each shard into `dir/run-i` and returns the run directories.
fn analyze_shards(shards: &[PathBuf], dump: &Path, dir: &Path) -> Vec<PathBuf> {
    let options = run_options(dump);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    shards
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let out = dir.join(format!("run-{i}"));
            let o = analyze(shard, &out, &options);
            assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .collect()
}

/// Runs `entlog merge -q --out OUT EXTRA... RUNS...`.
fn merge_command(runs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["merge", "-q", "--out", out.to_str().unwrap()];
    args.extend(extra);
    args.extend(runs.iter().map(|r| r.to_str().unwrap()));
    entlog(&args)
}

fn merge(runs: &[PathBuf], out: &Path) {
    let o = merge_command(runs, out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Analyzes the shards, merges them, and checks the merge against
/// `whole`: every table byte for byte, and the totals of `run.json`.
fn check_merge(name: &str, shards: &[PathBuf], dump: &Path, whole: &Path, dir: &Path) {
    let dir = dir.join(name);
    let runs = analyze_shards(shards, dump, &dir);
    let merged = dir.join("merged");
    merge(&runs, &merged);
    for (t, (a, b)) in tables().zip(outputs(whole).iter().zip(outputs(&merged))) {
        assert!(*a == b, "{name}: merged {t} differs from the single run's");
    }
    let (a, b) = (run_json(whole), run_json(&merged));
    for total in ["lines", "records", "rejected", "failed_inputs"] {
        assert_eq!(a[total], b[total], "{name}: run.json {total}");
    }
    assert_eq!(b["merged_runs"].as_array().unwrap().len(), shards.len());
    // Every visit list through the spill file: the same tables.
    let spilled = dir.join("merged-spilled");
    let o = merge_command(&runs, &spilled, &["--visit-memory", "0"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(run_json(&spilled)["spilled_bytes"].as_u64().unwrap() > 0, "{name}: nothing spilled");
    assert_eq!(run_json(&merged)["spilled_bytes"], 0, "{name}: spilled within the budget");
    for (t, (a, b)) in tables().zip(outputs(&merged).iter().zip(outputs(&spilled))) {
        assert!(*a == b, "{name}: {t} differs once visits are spilled");
    }
    // The Spark job over the same runs (local[2], loopback only) rebuilds
    // the merge's audience rows.
    let mut args = vec![merged.to_str().unwrap()];
    args.extend(runs.iter().map(|r| r.to_str().unwrap()));
    let said = python("spark_check.py", &args);
    assert!(said.starts_with("ok:"), "{name}: {said}");
}

#[test]
fn shards_cut_by_file_by_day_or_line_by_line_merge_into_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.02", "7", &[]);
    let events = dump.join("events");
    let whole = dir.path().join("whole");
    let options = run_options(&dump);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let o = analyze(&events, &whole, &options);
    assert_eq!(o.status.code(), Some(0));
    let national = std::fs::read_to_string(whole.join("fr-en-dnma-par-uai-profils.csv")).unwrap();
    assert!(national.contains(";Amiens;"), "the directory's context is in the single run");

    // By file: the monthly dumps dealt to three runs.
    let by_file = shard_lines(&events, &dir.path().join("by-file"), 3, |f, _, _| f % 3);
    check_merge("by file", &by_file, &dump, &whole, dir.path());

    // By day (UTC, so a local day is cut at 1 or 2 am): dumps arriving
    // day by day, every day to another of four runs.
    let by_day = shard_lines(&events, &dir.path().join("by-day"), 4, |_, _, l| utc_day(l) % 4);
    check_merge("by day", &by_day, &dump, &whole, dir.path());

    // Line by line: consecutive events of a visit land in different runs,
    // whose visits must join again.
    let by_line = shard_lines(&events, &dir.path().join("by-line"), 3, |_, i, _| i % 3);
    check_merge("by line", &by_line, &dump, &whole, dir.path());

    // A merge is a run like the others: merging merged runs gives the same.
    let runs: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("by line/run-{i}"))).collect();
    let partial = dir.path().join("partial");
    merge(&runs[..2], &partial);
    let twice = dir.path().join("twice");
    merge(&[partial.clone(), runs[2].clone()], &twice);
    assert!(outputs(&twice) == outputs(&whole), "a merge of merges differs");

    // The README's SQL over the partial tables of the runs gives the
    // merged monthly figures (DuckDB from pip).
    let runs = dir.path().join("by line");
    python("merge_sql.py", &[runs.to_str().unwrap(), whole.to_str().unwrap()]);
    // The sketches of two runs, unioned by the DataSketches Python
    // package, estimate the exact distinct counts of the merge of both.
    // (The crosscheck tests compare every sketch of a run with one built
    // in Python from the raw ids.)
    let (a, b) = (runs.join("run-0"), runs.join("run-1"));
    let ab = dir.path().join("partial");
    python("hll_union.py", &[a.to_str().unwrap(), b.to_str().unwrap(), ab.to_str().unwrap()]);
}

#[test]
fn runs_added_to_a_lake_read_as_one_table_and_a_run_done_again_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "5", &[]);
    let events = dump.join("events");
    let whole = dir.path().join("whole");
    let options = run_options(&dump);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    assert_eq!(analyze(&events, &whole, &options).status.code(), Some(0));
    let lake = dir.path().join("lake");
    let with_lake = |out: &Path, shard: &Path| {
        let mut args = options.clone();
        args.extend(["--lake", lake.to_str().unwrap()]);
        let o = analyze(shard, out, &args);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    };
    // The monthly dumps dealt to three runs, each adding to the lake.
    let shards = shard_lines(&events, &dir.path().join("by-file"), 3, |f, _, _| f % 3);
    for (i, shard) in shards.iter().enumerate() {
        with_lake(&dir.path().join(format!("run-{i}")), shard);
    }
    let files = || crate::util::snapshot(&lake);
    let before = files();
    // One file per run and month, named by the run.
    let id = run_json(&dir.path().join("run-0"))["run_id"].as_str().unwrap().to_string();
    assert!(before.iter().any(|(name, _)| name.ends_with(&format!("part-{id}.parquet"))));
    assert!(before.iter().all(|(name, _)| name.contains("/month=") && name.contains("/part-")));
    // Done again over the same inputs, a run replaces its own files.
    with_lake(&dir.path().join("run-0-again"), &shards[0]);
    assert!(files() == before, "a run done again changed the lake");
    python("merge_sql.py", &["--lake", lake.to_str().unwrap(), whole.to_str().unwrap()]);
    // The README's Spark SQL: the lake's table declared and queried, the
    // runs' sketches unioned.
    let runs = dir.path().join("run-[0-9]");
    let args = [lake.to_str().unwrap(), runs.to_str().unwrap(), whole.to_str().unwrap()];
    let said = python("spark_sql_check.py", &args);
    assert!(said.starts_with("ok:"), "{said}");
    // A run that reads stdin has no fingerprint to name its files by.
    let o = entlog(&[
        "analyze",
        "-",
        "--out",
        dir.path().join("stdin").to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--lake"));
}

#[test]
fn runs_with_different_salts_or_the_same_inputs_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.002", "3", &[]);
    let events = dump.join("events");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert_eq!(analyze(&events, &a, &["-q"]).status.code(), Some(0));
    assert_eq!(analyze(&events, &b, &["-q", "--salt", "other"]).status.code(), Some(0));
    let out = dir.path().join("m");
    let o = merge_command(&[a.clone(), b], &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different salt"));
    // Nor a run with itself: its counts would be doubled.
    let o = merge_command(&[a.clone(), a], &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("disjoint shards"));
    assert!(!out.exists());
}

#[test]
fn the_same_content_under_another_name_counts_once_or_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.002", "3", &[]);
    let month = dump.join("events/2020-03.json");
    let copy = dir.path().join("copy/march-again.json");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&month, &copy).unwrap();
    // In one run: the copy is refused, the run fails, nothing is doubled.
    let out = dir.path().join("both");
    let o = entlog(&[
        "analyze",
        month.to_str().unwrap(),
        copy.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("same content as"), "{stderr}");
    assert!(!out.exists());
    // Across a merge: two runs over the two names are refused.
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_eq!(analyze(&month, &a, &["-q"]).status.code(), Some(0));
    assert_eq!(analyze(&copy, &b, &["-q"]).status.code(), Some(0));
    let merged = dir.path().join("m");
    let o = merge_command(&[a.clone(), b], &merged, &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("the same content") && stderr.contains("march-again.json"), "{stderr}");
    // A run made with the referential and one without are not merged.
    let c = dir.path().join("c");
    let other = dump.join("events/2020-02.json");
    let with = ["-q", "--referential", dump.to_str().unwrap()];
    assert_eq!(analyze(&other, &c, &with).status.code(), Some(0));
    let o = merge_command(&[a, c.clone()], &merged, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different referential"));
    assert!(!merged.exists());
    // Nor two whose referentials differ by the names of classes alone.
    let renamed = dir.path().join("renamed");
    std::fs::create_dir_all(&renamed).unwrap();
    for file in ["structures.csv", "users.csv"] {
        std::fs::copy(dump.join(file), renamed.join(file)).unwrap();
    }
    let classes = std::fs::read_to_string(dump.join("classes.csv")).unwrap();
    let other_names = classes.replace("6e A", "6e Alpha");
    assert_ne!(other_names, classes);
    std::fs::write(renamed.join("classes.csv"), other_names).unwrap();
    let d = dir.path().join("d");
    let with = ["-q", "--referential", renamed.to_str().unwrap()];
    assert_eq!(analyze(&month, &d, &with).status.code(), Some(0));
    let o = merge_command(&[c, d], &merged, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different referential"));
}
