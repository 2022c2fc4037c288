//! Hive-style partitioned tables: `NAME/month=YYYY-MM-01/part-0.parquet`,
//! so that DuckDB, Spark and Trino prune by month and a data team can
//! gather the partitions of many runs under one table.
//!
//! The partition column lives in the directory names only, as those
//! engines expect. The whole directory is built under a temporary name
//! and swapped into place, so a reader never sees a partly written table.

use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::error::{Error, Result};
use crate::time::format_day;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use std::path::Path;

/// Name of each partition's file.
pub const PART_FILE: &str = "part-0.parquet";

/// Writes `rows` (sorted by month) as the partitioned table `dir`: one
/// file per month, from the record batches `batch` makes of that month's
/// rows, [`BATCH_ROWS`] at a time.
pub fn write<R>(
    dir: &Path,
    schema: SchemaRef,
    layout: &TableLayout,
    rows: &[R],
    month: impl Fn(&R) -> i32,
    batch: impl Fn(&Path, &[R]) -> Result<RecordBatch>,
) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".entlog-")
        .suffix(".tmp")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    for group in rows.chunk_by(|a, b| month(a) == month(b)) {
        let part = tmp.path().join(format!("month={}", format_day(month(&group[0]))));
        std::fs::create_dir(&part).map_err(|e| Error::io(&part, e))?;
        let file = part.join(PART_FILE);
        let batches = group.chunks(BATCH_ROWS).map(|rows| batch(&file, rows));
        write_parquet(&file, schema.clone(), layout, batches)?;
    }
    // A table from an earlier run is moved aside, then removed; the name
    // is the table's own, as tables are written in parallel.
    let name = dir.file_name().map_or_else(Default::default, |n| n.to_string_lossy());
    let old = parent.join(format!(".entlog-old-{name}-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = tmp.keep();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(&tmp, mode).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))?;
    if had_old {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}
