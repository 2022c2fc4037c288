//! `--lake DIR`: a run's per-user partial tables added to one shared
//! table location that Spark, Trino and DuckDB read as one table.
//!
//! Each table partitioned by month (`user_activity/`, `user_visits/`,
//! `user_modules/`) keeps its Hive layout under `DIR`
//! (`DIR/user_activity/month=2020-03-01/`), and each run's file in a month
//! is named by the run: `part-<run id>.parquet`. The run id is a hash of
//! what makes the run's figures (the fingerprints of its inputs, its salt,
//! time zone, visit gap, referential, date window and options), so runs
//! over other shards add files beside each other's, and a run done again
//! over the same inputs replaces its own files instead of adding a second
//! copy. Each file is written under a hidden temporary name, synced, then
//! renamed: a reader never sees half a file.

use super::outdir::sync;
use super::partitioned;
use super::registry::TABLES;
use super::run_json::RunReport;
use super::table::Merged;
use crate::error::{Error, Result};
use siphasher::sip::SipHasher13;
use std::hash::Hasher;
use std::path::Path;

/// The id of a run: a stable hash (the same on every machine and in every
/// version) of what its figures depend on. `None` for a run that read
/// stdin, whose content has no fingerprint.
pub fn run_id(report: &RunReport) -> Option<String> {
    let mut inputs: Vec<&str> =
        report.inputs.iter().map(|i| i.fingerprint.as_deref()).collect::<Option<_>>()?;
    inputs.sort_unstable();
    let o = &report.options;
    let mut h = SipHasher13::new_with_keys(0, 0);
    // Fields joined with a separator no fingerprint or option holds.
    let mut field = |text: &str| {
        h.write(text.as_bytes());
        h.write_u8(0);
    };
    for input in inputs {
        field(input);
    }
    field(&o.salt_fingerprint);
    field(&o.tz);
    field(&format!("{} {}", o.visits, o.visit_gap_ms));
    field(o.referential_fingerprint.as_deref().unwrap_or("-"));
    field(&format!("{} {} {:?} {:?} {}", o.valid_from, o.valid_until, o.since, o.until, o.dedup));
    field(&o.format);
    Some(format!("{:016x}", h.finish()))
}

/// Adds the partitioned tables of the finished run in `out` to the lake
/// `lake` under the run's id `id`.
pub fn add(out: &Path, lake: &Path, id: &str) -> Result<()> {
    for table in TABLES.iter().filter(|t| matches!(t.merged(), Merged::Partitioned(_))) {
        let dest = lake.join(table.name());
        for (_, file) in partitioned::files(&out.join(table.name()))? {
            let Some(month) = file.parent().and_then(Path::file_name) else { continue };
            let dir = dest.join(month);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let target = dir.join(format!("part-{id}.parquet"));
            let temp = dir.join(format!(".part-{id}.parquet.tmp"));
            std::fs::copy(&file, &temp).map_err(|e| Error::io(&temp, e))?;
            sync(&temp)?;
            std::fs::rename(&temp, &target).map_err(|e| Error::io(&target, e))?;
            sync(&dir)?;
        }
    }
    Ok(())
}
