//! `entlog merge`: runs over disjoint shards of the logs (files, days, or
//! lines cut anywhere) into exactly the outputs of one run over all of
//! them, from the runs' tables alone.
//!
//! What each table adds up from:
//! - event counts (connections, access, activations, hourly connections)
//!   are sums, so the runs' day rows per profile are added;
//! - distinct visitors are recounted from the `user_activity` rows of all
//!   runs, rows of the same (month, user, profile, structure) combined by
//!   joining their day sets;
//! - visits are rebuilt from `user_visits`: the visits of one user and day
//!   from different runs join where they overlap or lie within the visit
//!   gap, then durations, histograms and the national export are counted
//!   again;
//! - application use adds up like events (access from the day rows of
//!   `modules.parquet`) and like users (`user_modules` rows);
//! - the HLL sketches of month rows are unioned.
//!
//! `http.parquet` counts distinct client addresses, which no partial table
//! keeps: it is merged only when every run's is empty, and otherwise left
//! out of the merged output (said on stderr and in `run.json`).

use crate::aggregate::finish::{Settings, count_audience};
use crate::aggregate::gather::Gathered;
use crate::analyze::{
    Analysis, RUN_JSON, count_writing_visits, report_spill, run_report, write_outputs,
};
use crate::error::{Error, Result};
use crate::hash::FastMap;
use crate::sink::outdir::Staging;
use crate::sink::partitioned;
use crate::sink::registry::TABLES;
use crate::sink::run_json::{self, Phases, StoredRun};
use crate::sink::table::{Merged, Table};
use crate::spill::{Spill, SpillOptions};
use crate::stored::batches;
use crate::time::LocalDays;
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Reads the runs in `runs`, merges them and writes the outputs into
/// `out`, visits spilled as `spill` says. Fails if the runs were made
/// with different time zones, visit gaps or salts, if two of them read the
/// same input, or if a table cannot be read.
pub fn merge(runs: &[PathBuf], out: &Path, spill: &SpillOptions) -> Result<Analysis> {
    let start = Instant::now();
    let stored =
        runs.iter().map(|r| run_json::read(&r.join(RUN_JSON))).collect::<Result<Vec<_>>>()?;
    let options = check_runs(runs, &stored)?;
    let tz = TimeZone::get(&options.tz)
        .map_err(|e| Error::usage(format!("unknown time zone {:?}: {e}", options.tz)))?;
    let (merged, omit) = mergeable(runs)?;
    let spill = options.visits.then(|| Arc::new(spill.file_for(out)));
    let mut gathered = gather(runs, &merged, spill.clone())?;
    let schools = std::mem::take(&mut gathered.schools);
    let read = start.elapsed().as_secs_f64();
    let settings = Settings { days: LocalDays::new(tz), visit_gap_ms: options.visit_gap_ms };
    let (partials, dims) = gathered.into_partials(options.visits, options.visit_gap_ms);
    // What reading the runs' tables freed is handed back before the final
    // stage builds its own, and what the final stage freed before the
    // writes (see `alloc`).
    crate::alloc::release_free_memory();
    let staging = Staging::new(out)?;
    let mut tables = count_writing_visits(staging.path(), &omit, |write| {
        count_audience(partials, dims, &settings, write)
    })?;
    tables.schools = schools;
    crate::alloc::release_free_memory();
    let finished = start.elapsed().as_secs_f64();
    let (outputs, summary) = write_outputs(staging.path(), &tables, &omit, &options.tz)?;
    let wall = start.elapsed().as_secs_f64();
    let phases = Phases { scan: read, finish: finished - read, write: wall - finished };
    let inputs = stored.into_iter().flat_map(|s| s.inputs).collect();
    let mut report = run_report(options, inputs, outputs, wall, phases);
    report.merged_runs = runs.iter().map(|r| r.display().to_string()).collect();
    report.visitors_without_account = tables.visitors_without_account;
    report_spill(&mut report, spill.as_deref());
    report.options.threads = rayon::current_num_threads();
    run_json::write(&staging.path().join(RUN_JSON), &report)?;
    staging.commit(out)?;
    Ok(Analysis { tables, summary, report })
}

/// The tables the runs can be merged into, and the names of those left
/// out (said on stderr): tables rebuilt from a table some run lacks (a
/// run of an older version), and tables of distinct counts no partial
/// table keeps, unless every run's is empty.
fn mergeable(runs: &[PathBuf]) -> Result<(Vec<&'static dyn Table>, Vec<&'static str>)> {
    let (mut kept, mut omit) = (Vec::new(), Vec::new());
    for table in TABLES {
        let name = table.name();
        if let Some(lacked) =
            table.requires().iter().find(|r| runs.iter().any(|run| !run.join(r).exists()))
        {
            eprintln!("entlog merge: {name} is left out: some runs have no {lacked}/");
            omit.push(name);
            continue;
        }
        if let Merged::Unmergeable = table.merged() {
            // A run may lack the table: a merge that left it out.
            let mut rows = 0;
            for run in runs {
                let path = run.join(name);
                rows += if path.exists() { row_count(&path)? } else { 1 };
            }
            if rows > 0 {
                eprintln!(
                    "entlog merge: {name} is left out: its distinct counts cannot be rebuilt \
                     from the runs' tables"
                );
                omit.push(name);
                continue;
            }
        }
        kept.push(table);
    }
    Ok((kept, omit))
}

/// Reads the tables of every run: the small ones run by run, then every
/// file of the partitioned ones, one task each.
fn gather(runs: &[PathBuf], tables: &[&dyn Table], spill: Option<Arc<Spill>>) -> Result<Gathered> {
    let mut gathered = Gathered::default();
    gathered.spill = spill;
    let mut files = Vec::new();
    for run in runs {
        for table in tables {
            let path = run.join(table.name());
            match table.merged() {
                Merged::Whole(read) => read(&path, &mut gathered)?,
                Merged::Partitioned(read) => files.extend(
                    partitioned::files(&path)?.into_iter().map(|(month, f)| (read, month, f)),
                ),
                Merged::Derived | Merged::Unmergeable => {}
            }
        }
    }
    gathered.partitions(&files)?;
    Ok(gathered)
}

/// The options of the runs, which must agree on everything that shapes
/// the figures; fails too if two runs read the same input.
fn check_runs(runs: &[PathBuf], stored: &[StoredRun]) -> Result<run_json::RunOptions> {
    let first = stored.first().ok_or_else(|| Error::usage("merge needs at least one run"))?;
    let o = &first.options;
    for (run, s) in runs.iter().zip(stored).skip(1) {
        let p = &s.options;
        let differs = [
            ("time zone", o.tz != p.tz),
            ("visit gap", o.visit_gap_ms != p.visit_gap_ms),
            ("--no-visits", o.visits != p.visits),
            ("salt", o.salt_fingerprint != p.salt_fingerprint),
            ("referential", o.referential_fingerprint != p.referential_fingerprint),
        ];
        if let Some((what, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(Error::usage(format!(
                "{} and {} were made with a different {what}: their tables cannot be merged",
                runs[0].display(),
                run.display()
            )));
        }
    }
    // Shards must be disjoint: the same run, or the same input read by two
    // runs (the same content, under any name), would be counted twice.
    let mut seen: FastMap<String, (&Path, &str)> = FastMap::default();
    for (run, s) in runs.iter().zip(stored) {
        for i in s.inputs.iter().filter(|i| i.error.is_none()) {
            let id = match &i.fingerprint {
                Some(f) => f.clone(),
                None => format!("{}:{}:{}", i.path, i.bytes, i.lines),
            };
            if let Some((other, path)) = seen.insert(id, (run, &i.path)) {
                return Err(Error::usage(format!(
                    "{} read {path} and {} read {}, the same content ({} lines): runs must be \
                     over disjoint shards",
                    other.display(),
                    run.display(),
                    i.path,
                    i.lines
                )));
            }
        }
    }
    Ok(o.clone())
}

/// Rows of a Parquet file.
fn row_count(path: &Path) -> Result<usize> {
    Ok(batches(path)?.iter().map(|b| b.num_rows()).sum())
}
