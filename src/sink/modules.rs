//! `modules.parquet`: application use by grain, period, profile and
//! application.

use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::apps::{AppMetrics, AppRowKey};
use crate::aggregate::finish::Tables;
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table's schema, as documented in the README.
pub fn schema() -> SchemaRef {
    let s = |n| Field::new(n, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        s("grain"),
        Field::new("period_start", DataType::Date32, false),
        s("profile"),
        s("module"),
        s("raw_modules"),
        Field::new("access", DataType::Int64, false),
        Field::new("unique_users", DataType::Int64, false),
    ]))
}

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &["grain", "period_start", "profile", "module"], plain: &[] };

/// Writes the application rows of `tables` to `path`.
pub fn write(path: &Path, tables: &Tables) -> Result<()> {
    let batches = tables.apps.chunks(BATCH_ROWS).map(|rows| batch(path, tables, rows));
    write_parquet(path, schema(), &LAYOUT, batches)
}

fn batch(path: &Path, t: &Tables, rows: &[(AppRowKey, AppMetrics)]) -> Result<RecordBatch> {
    let app = |k: &AppRowKey| &t.dims.apps[k.app as usize];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|(k, _)| Some(k.grain.name())).collect::<StringArray>()),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.period))),
        Arc::new(rows.iter().map(|(k, _)| Some(profile_name(k.profile))).collect::<StringArray>()),
        Arc::new(rows.iter().map(|(k, _)| Some(app(k).name.as_str())).collect::<StringArray>()),
        Arc::new(
            rows.iter()
                .map(|(k, _)| Some(app(k).raw.iter().cloned().collect::<Vec<_>>().join("|")))
                .collect::<StringArray>(),
        ),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, m)| m.access))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, m)| m.unique_users))),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
