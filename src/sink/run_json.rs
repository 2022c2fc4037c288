//! `run.json`: what was read, what was rejected and where, how fast.

use super::atomic_write;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The whole report of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// entlog's version.
    pub version: &'static str,
    /// The options that shaped the figures.
    pub options: RunOptions,
    /// One entry per input, in the order read.
    pub inputs: Vec<InputReport>,
    /// Lines read, all inputs.
    pub lines: u64,
    /// Records parsed, all inputs.
    pub records: u64,
    /// Lines rejected, all inputs.
    pub rejected: u64,
    /// Inputs that could not be read (fully or at all).
    pub failed_inputs: u64,
    /// Bytes parsed (after decompression).
    pub bytes: u64,
    /// Wall time of the run, seconds.
    pub wall_seconds: f64,
    /// Where the wall time went.
    pub phase_seconds: Phases,
    /// Bytes parsed per second of wall time, in MB (10^6 bytes).
    pub throughput_mb_per_s: f64,
    /// Records per second of wall time.
    pub records_per_s: f64,
    /// Tables written, relative to the output directory.
    pub outputs: Vec<String>,
    /// For `entlog merge`: the run directories merged, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_runs: Vec<String>,
    /// Why the run failed (exit code 1), one sentence each; empty when it
    /// succeeded. A failed run's outputs are in `OUT.failed`, and `OUT`
    /// keeps the previous run's.
    pub problems: Vec<String>,
    /// Users who logged in but are missing from the referential's
    /// `users.csv` (0 without one): counted as visitors, not as accounts.
    /// More than a few means the directory export is not complete, and
    /// the usage rates overstate.
    pub visitors_without_account: u64,
    /// Bytes of visit lists written to the spill file once `--visit-memory`
    /// was spent (0: every visit stayed in memory).
    pub spilled_bytes: u64,
    /// Why visits could not be spilled, if they could not: they were held
    /// in memory instead, and every figure is whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spill_failure: Option<String>,
    /// The run's id, which names its files in a lake (`--lake`); none for
    /// a run that read stdin or a merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Wall time of each phase of a run, seconds.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Phases {
    /// Reading, parsing and folding every input.
    pub scan: f64,
    /// Merging worker states and computing the rows.
    pub finish: f64,
    /// Writing the tables.
    pub write: f64,
}

/// Options recorded in `run.json` (never the salt itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunOptions {
    /// `auto` or a format name.
    pub format: String,
    /// Time zone periods are cut in.
    pub tz: String,
    /// Worker threads.
    pub threads: usize,
    /// Referential directory, if any.
    pub referential: Option<String>,
    /// `--annuaire`, as given.
    #[serde(default)]
    pub annuaire: Option<String>,
    /// `--services`, as given.
    #[serde(default)]
    pub services: Option<String>,
    /// `--lake`, as given.
    #[serde(default)]
    pub lake: Option<String>,
    /// Where the salt came from: `--salt`, `ENTLOG_SALT` or `default`.
    pub salt_source: String,
    /// A fingerprint of the salt (see
    /// [`crate::keys::UserKeyer::fingerprint`]).
    pub salt_fingerprint: String,
    /// Whether plain files were memory-mapped.
    pub mmap: bool,
    /// Whether visits were computed.
    pub visits: bool,
    /// Longest gap inside a visit, ms.
    pub visit_gap_ms: i64,
    /// Fingerprint of the referential's `structures.csv` and `users.csv`
    /// (`None` without a referential): runs made with different
    /// referentials are not merged.
    #[serde(default)]
    pub referential_fingerprint: Option<String>,
    /// First local day events were accepted on (`YYYY-MM-DD`; empty in
    /// runs of versions without the window).
    #[serde(default)]
    pub valid_from: String,
    /// Last local day events were accepted on.
    #[serde(default)]
    pub valid_until: String,
    /// First local day read (`--since`).
    #[serde(default)]
    pub since: Option<String>,
    /// Last local day read (`--until`).
    #[serde(default)]
    pub until: Option<String>,
    /// Whether repeated event ids were skipped (`--dedup`).
    #[serde(default)]
    pub dedup: bool,
}

/// One input's account.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InputReport {
    /// Path as given or found (`-` for stdin).
    pub path: String,
    /// Format used, if one was chosen.
    pub format: Option<String>,
    /// `none`, `gzip` or `zstd`.
    pub compression: Option<String>,
    /// Size on disk, for files.
    pub bytes_on_disk: Option<u64>,
    /// Bytes parsed (after decompression).
    pub bytes: u64,
    /// Lines read (blank lines included).
    pub lines: u64,
    /// Lines parsed into records.
    pub records: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Rejections by reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// The first rejected lines, with their 1-based line numbers.
    pub rejected_samples: Vec<RejectedLine>,
    /// Lines left out by `--dedup`, `--since` or `--until` (neither
    /// records nor rejections).
    #[serde(default)]
    pub skipped: u64,
    /// Skipped lines by reason.
    #[serde(default)]
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Earliest event instant (RFC 3339, UTC).
    pub first_event: Option<String>,
    /// Latest event instant (RFC 3339, UTC).
    pub last_event: Option<String>,
    /// Why the input could not be read, or stopped being readable.
    pub error: Option<String>,
    /// Size and sampled content of the file
    /// ([`crate::input::fingerprint`]): the same content under another
    /// name is not read twice, in a run or across a merge.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// A rejected line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectedLine {
    /// 1-based line number in the (decompressed) input.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// What `merge` reads back of a run's `run.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredRun {
    /// The run's options.
    pub options: RunOptions,
    /// Its inputs.
    pub inputs: Vec<InputReport>,
    /// Its outputs.
    pub outputs: Vec<String>,
}

/// Reads the `run.json` of a finished run.
pub fn read(path: &Path) -> Result<StoredRun> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| Error::output(path, format!("not a run.json: {e}")))
}

/// Writes `report` as pretty JSON to `path`, atomically.
pub fn write(path: &Path, report: &RunReport) -> Result<()> {
    atomic_write(path, |f| {
        serde_json::to_writer_pretty(&mut *f, report).map_err(|e| Error::output(path, e))?;
        std::io::Write::write_all(f, b"\n").map_err(|e| Error::io(path, e))
    })
}
