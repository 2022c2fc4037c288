//! Writing outputs: Parquet tables and `run.json`.
//!
//! A run writes them into a staging directory that replaces the output
//! directory as a whole once everything is written ([`outdir`]), so a
//! reader never sees a half-written table or tables of two runs, and a
//! failed run leaves the previous outputs intact. Files written on their
//! own (the HTML report, generated dumps) are written under a temporary
//! name and renamed into place ([`atomic_write`]).

pub mod accounts;
pub mod audience;
pub mod class_activity;
pub mod classes;
pub mod hourly;
pub mod http;
pub mod lake;
pub mod modules;
pub mod national;
pub mod ode;
pub mod outdir;
pub mod partitioned;
pub mod registry;
mod row_groups;
pub mod run_json;
pub mod structure_modules;
pub mod table;
pub mod user_activity;
pub mod user_modules;
pub mod user_visits;
pub mod visits;

use crate::error::{Error, Result};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use row_groups::ParallelWriter;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Rows per record batch handed to the Parquet writer.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Writes `path` atomically: `write` fills a temporary file in the same
/// directory, which is renamed to `path` only if `write` succeeds.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".entlog-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    write(tmp.as_file_mut())?;
    // Temporary files are private (0600); outputs are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(mode).map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file_mut().flush().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// A non-null column of UTC instants in microseconds, the type the
/// per-user tables store instants as.
pub fn instant_field(name: &str) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false)
}

/// Epoch milliseconds as a column of [`instant_field`]'s type.
pub fn instants(ms: impl Iterator<Item = i64>) -> ArrayRef {
    let values = TimestampMicrosecondArray::from_iter_values(ms.map(|ms| ms * 1000));
    Arc::new(values.with_timezone("UTC"))
}

/// A text column of the keys of `rows`, each written as `text` gives it
/// (null for `None`).
pub fn key_texts<'t, K, V>(rows: &[(K, V)], text: impl Fn(&K) -> Option<&'t str>) -> ArrayRef {
    Arc::new(rows.iter().map(|(k, _)| text(k)).collect::<StringArray>())
}

/// How a table is laid out in Parquet.
pub struct TableLayout {
    /// Columns the rows are sorted by, in order (ascending, nulls first).
    pub sorted_by: &'static [&'static str],
    /// Columns of high cardinality, written without a dictionary (a list
    /// column's items).
    pub plain: &'static [&'static str],
}

/// Writes record batches as one Parquet file, atomically, with the
/// settings every reader takes as they are: ZSTD level 1, dictionaries for
/// repetitive columns, row groups of up to a million rows, and the sort
/// order declared so that engines can prune on statistics.
pub fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    layout: &TableLayout,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    let index = |name: &str| schema.index_of(name).map_err(|e| Error::output(path, e));
    let sorting = layout
        .sorted_by
        .iter()
        .map(|c| {
            Ok(SortingColumn { column_idx: index(c)? as i32, descending: false, nulls_first: true })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).map_err(|e| Error::output(path, e))?,
        ))
        .set_sorting_columns(Some(sorting))
        .set_created_by(format!("entlog {}", env!("CARGO_PKG_VERSION")));
    // Every column the layout names must exist: a misspelt one would be
    // matched by no leaf below.
    layout.plain.iter().try_for_each(|c| index(c).map(drop))?;
    // The leaf columns as the writer lays them out: a list's items are the
    // leaf `name.list.<item>`, repeated.
    let leaves =
        ArrowSchemaConverter::new().convert(&schema).map_err(|e| Error::output(path, e))?;
    for column in leaves.columns() {
        let leaf = column.path().clone();
        // No engine prunes on the min and max of a list's items, and they
        // were computed item by item: 7% of the instructions of the
        // `user_visits` write, for statistics nobody reads.
        if column.max_rep_level() > 0 {
            props = props.set_column_statistics_enabled(leaf.clone(), EnabledStatistics::None);
        }
        if layout.plain.contains(&leaf.parts()[0].as_str()) {
            props = props.set_column_dictionary_enabled(leaf, false);
        }
    }
    atomic_write(path, |file| {
        let w = ArrowWriter::try_new(file, schema.clone(), Some(props.build()))
            .map_err(|e| Error::output(path, e))?;
        let mut w = ParallelWriter::new(w).map_err(|e| Error::output(path, e))?;
        for b in batches {
            w.write(&b?).map_err(|e| Error::output(path, e))?;
        }
        w.close().map_err(|e| Error::output(path, e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn list_items_are_written_without_statistics_other_columns_with() {
        let mut items = ListBuilder::new(StringBuilder::new());
        for i in 0..100 {
            items.values().append_value(format!("s{}", i % 7));
            items.append(true);
        }
        let names: StringArray = (0..100).map(|i| Some(format!("n{i}"))).collect();
        let batch = RecordBatch::try_from_iter([
            ("name", Arc::new(names) as ArrayRef),
            ("items", Arc::new(items.finish()) as ArrayRef),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let layout = TableLayout { sorted_by: &[], plain: &[] };
        write_parquet(&path, batch.schema(), &layout, [Ok(batch)]).unwrap();
        let file = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let group = file.metadata().row_group(0);
        assert_eq!(group.column(1).column_path().string(), "items.list.item");
        assert!(group.column(0).statistics().is_some());
        assert!(group.column(1).statistics().is_none());
    }
}
