//! `hourly.parquet`: connections by local day, hour and profile.

use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::finish::{HourlyRow, Tables};
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table's schema, as documented in the README.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        Field::new("hour", DataType::Int64, false),
        Field::new("profile", DataType::Utf8, false),
        Field::new("connections", DataType::Int64, false),
    ]))
}

const LAYOUT: TableLayout = TableLayout { sorted_by: &["day", "hour", "profile"], plain: &[] };

/// Writes the hourly rows of `tables` to `path`.
pub fn write(path: &Path, tables: &Tables) -> Result<()> {
    let batches = tables.hourly.chunks(BATCH_ROWS).map(|rows| batch(path, rows));
    write_parquet(path, schema(), &LAYOUT, batches)
}

fn batch(path: &Path, rows: &[HourlyRow]) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.day))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| i64::from(r.hour)))),
        Arc::new(rows.iter().map(|r| Some(profile_name(r.profile))).collect::<StringArray>()),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.connections))),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
