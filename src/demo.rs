//! `entlog demo`: generate the built-in scenario, analyze it, and show the
//! month the way its operator reported it.

use crate::analyze::{Analysis, AnalyzeOptions, analyze};
use crate::error::{Error, Result};
use crate::generate::{Compress, GenerateOptions, Generated, Output, generate};
use std::path::{Path, PathBuf};

/// What the demo did.
pub struct Demo {
    /// The generated dump.
    pub generated: Generated,
    /// Where the dump is (removed at the end unless `--out` was given).
    pub dump: PathBuf,
    /// Where the tables are.
    pub tables: PathBuf,
    /// The analysis.
    pub analysis: Analysis,
}

/// Generates `somme-2020` at `scale` with `seed` into `out/dump` and
/// analyzes it into `out` with its referential. Without `out`, a temporary
/// directory is used and removed afterwards.
pub fn demo(out: Option<&Path>, scale: f64, seed: u64, threads: usize) -> Result<Demo> {
    let tmp;
    let root = match out {
        Some(dir) => dir.to_path_buf(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("entlog-demo-")
                .tempdir()
                .map_err(|e| Error::io(std::env::temp_dir(), e))?;
            tmp.path().to_path_buf()
        }
    };
    let dump = root.join("dump");
    let generated = generate(&GenerateOptions {
        out: dump.clone(),
        seed,
        scale,
        compress: Compress::None,
        output: Output::EventStore,
    })?;
    let mut opts = AnalyzeOptions::new(vec![dump.join("events")], root.clone());
    opts.referential = Some(dump.clone());
    opts.threads = threads;
    let analysis = analyze(&opts)?;
    Ok(Demo { generated, dump, tables: root, analysis })
}
