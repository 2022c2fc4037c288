//! One output table behind one trait.
//!
//! A table's module owns its name, its schema (each column name written
//! once, as a constant the writer and the reader share), how its rows are
//! written and how they are read back: by `merge`, into the partials the
//! final stage works from, and by `report`, through the module's own
//! row reader. Adding a table is adding its module and one line to
//! `TABLES` in `sink/registry.rs`.

use crate::aggregate::finish::Tables;
use crate::aggregate::gather::{Gathered, ReadPartition};
use crate::error::Result;
use arrow_schema::SchemaRef;
use std::path::Path;

/// One output table.
pub trait Table: Sync {
    /// Its name in an output directory: a file, or the directory of a
    /// partitioned table.
    fn name(&self) -> &'static str;
    /// Other files written with it, from the same rows.
    fn companions(&self) -> &'static [&'static str] {
        &[]
    }
    /// The schema of its Parquet file (of each partition's file, for a
    /// partitioned table).
    fn schema(&self) -> SchemaRef;
    /// Writes its rows of `tables` into the directory `dir`.
    fn write(&self, dir: &Path, tables: &Tables) -> Result<()>;
    /// How `merge` gets its rows back from the runs.
    fn merged(&self) -> Merged;
    /// Tables of each run it is rebuilt from that runs of older versions
    /// may lack: a merge leaves it out when one does.
    fn requires(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The names `table` takes in an output directory: its own, then its
/// companions'.
pub fn file_names(table: &dyn Table) -> impl Iterator<Item = &'static str> {
    std::iter::once(table.name()).chain(table.companions().iter().copied())
}

/// How a merge rebuilds a table from the runs' tables.
pub enum Merged {
    /// Read run by run: `read(path, state)` with the table's path in the
    /// run.
    Whole(fn(&Path, &mut Gathered) -> Result<()>),
    /// Partitioned by month: its reader of each file, one task per file.
    Partitioned(ReadPartition),
    /// Computed again from other tables' rows: nothing of its own is read.
    Derived,
    /// Counts what no partial table keeps: merged only when every run's
    /// is empty (its rows are then empty too), otherwise left out.
    Unmergeable,
}
