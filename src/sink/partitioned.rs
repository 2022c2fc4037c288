//! Hive-style partitioned tables: `NAME/month=YYYY-MM-01/part-0.parquet`,
//! so that DuckDB, Spark and Trino prune by month and a data team can
//! gather the partitions of many runs under one table.
//!
//! The partition column lives in the directory names only, as those
//! engines expect. Tables are written into a run's staging directory,
//! which replaces the output directory as a whole ([`super::outdir`]).

use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::error::{Error, Result};
use crate::time::{format_day, parse_day};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Batches of one file made at once.
const BATCHES_AHEAD: usize = 4;

/// Name of each partition's file.
pub const PART_FILE: &str = "part-0.parquet";

/// Writes `rows` (sorted by month, `month` giving the first day of each
/// row's) as the partitioned table `dir` (see [`write_months`]).
pub fn write<R: Sync>(
    dir: &Path,
    schema: SchemaRef,
    layout: &TableLayout,
    rows: &[R],
    month: impl Fn(&R) -> i32 + Sync,
    batch: impl Fn(&Path, &[R]) -> Result<RecordBatch> + Sync,
) -> Result<()> {
    // Each month's end is found by bisection: a month per row would cost
    // a pass over millions of rows on one thread before any file is begun.
    let mut months: Vec<&[R]> = Vec::new();
    let mut rest = rows;
    while let Some(first) = rest.first() {
        let m = month(first);
        let (group, tail) = rest.split_at(rest.partition_point(|r| month(r) <= m));
        months.push(group);
        rest = tail;
    }
    write_months(dir, schema, layout, months.len(), |i| (month(&months[i][0]), months[i]), batch)
}

/// Writes the partitioned table `dir` (a new directory, or an empty one)
/// of `count` months, month `i` being `part(i)`: its first day and its
/// rows, made when its file is begun. One file per month, from the
/// record batches `batch` makes of its rows, [`BATCH_ROWS`] at a time.
pub fn write_months<R: Sync, S: AsRef<[R]>>(
    dir: &Path,
    schema: SchemaRef,
    layout: &TableLayout,
    count: usize,
    part: impl Fn(usize) -> (i32, S) + Sync,
    batch: impl Fn(&Path, &[R]) -> Result<RecordBatch> + Sync,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Months are independent files: written in parallel.
    (0..count).into_par_iter().try_for_each(|i| {
        let (month, rows) = part(i);
        let part = dir.join(format!("month={}", format_day(month)));
        std::fs::create_dir(&part).map_err(|e| Error::io(&part, e))?;
        let file = part.join(PART_FILE);
        // Batches are made a few at a time, side by side: one month often
        // holds most rows, and its file is written by one writer.
        let batches = rows.as_ref().chunks(BATCH_ROWS * BATCHES_AHEAD).flat_map(|window| {
            let made: Vec<Result<RecordBatch>> =
                window.par_chunks(BATCH_ROWS).map(|rows| batch(&file, rows)).collect();
            made
        });
        write_parquet(&file, schema.clone(), layout, batches)
    })
}

/// The files of the partitioned table `dir`, with the month of each:
/// every Parquet file under a `month=YYYY-MM-DD` directory, in order.
pub fn files(dir: &Path) -> Result<Vec<(i32, PathBuf)>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let part = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(month) = part
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("month="))
            .and_then(parse_day)
        else {
            continue;
        };
        for file in std::fs::read_dir(&part).map_err(|e| Error::io(&part, e))? {
            let file = file.map_err(|e| Error::io(&part, e))?.path();
            if file.extension().is_some_and(|x| x == "parquet") {
                files.push((month, file));
            }
        }
    }
    files.sort();
    Ok(files)
}
