//! `user_modules/`: one row per (month, user, profile, application),
//! partitioned by month: what merging runs needs to count the distinct
//! users of each application again.

use super::{TableLayout, partitioned};
use crate::aggregate::apps::AppUserRow;
use crate::aggregate::finish::Tables;
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The schema of each partition's file, as documented in the README.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_key", DataType::Int64, false),
        Field::new("profile", DataType::Utf8, false),
        Field::new("module", DataType::Utf8, false),
        Field::new("access", DataType::Int64, false),
        Field::new("access_day_mask", DataType::Int64, false),
    ]))
}

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &["user_key", "profile", "module"], plain: &["user_key"] };

/// Writes the application use of `tables` as the partitioned table `dir`.
pub fn write(dir: &Path, tables: &Tables) -> Result<()> {
    let rows = &tables.user_modules;
    partitioned::write(
        dir,
        schema(),
        &LAYOUT,
        rows,
        |r| r.month,
        |path, rows| batch(path, tables, rows),
    )
}

fn batch(path: &Path, t: &Tables, rows: &[AppUserRow]) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.user_key).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
        Arc::new(
            rows.iter()
                .map(|r| Some(t.dims.apps[r.app as usize].name.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(rows.iter().map(|r| r.access).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| i64::from(r.days)).collect::<Int64Array>()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
