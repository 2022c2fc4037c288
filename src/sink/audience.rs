//! `audience.parquet`: one row per (grain, period, scope, profile).

use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::finish::{Metrics, Tables};
use crate::aggregate::key::{RowKey, profile_name};
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, BinaryArray, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table's schema, as documented in the README.
pub fn schema() -> SchemaRef {
    let s = |n, null| Field::new(n, DataType::Utf8, null);
    let i = |n| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        s("grain", false),
        Field::new("period_start", DataType::Date32, false),
        s("scope", false),
        s("segment", true),
        s("structure_id", true),
        s("uai", true),
        s("structure_name", true),
        s("profile", false),
        i("connections"),
        i("unique_visitors"),
        i("access"),
        i("activations"),
        i("visits"),
        i("visit_seconds"),
        Field::new("hll_sketch", DataType::Binary, true),
    ]))
}

const LAYOUT: TableLayout = TableLayout {
    sorted_by: &["grain", "period_start", "scope", "segment", "structure_id", "profile"],
    plain: &["hll_sketch"],
};

/// Writes the audience rows of `tables` to `path`.
pub fn write(path: &Path, tables: &Tables) -> Result<()> {
    let batches = tables.audience.chunks(BATCH_ROWS).map(|rows| batch(path, tables, rows));
    write_parquet(path, schema(), &LAYOUT, batches)
}

fn batch(path: &Path, t: &Tables, rows: &[(RowKey, Metrics)]) -> Result<RecordBatch> {
    fn strings<'t>(rows: &[(RowKey, Metrics)], f: impl Fn(&RowKey) -> Option<&'t str>) -> ArrayRef {
        Arc::new(rows.iter().map(|(k, _)| f(k)).collect::<StringArray>())
    }
    let int = |f: fn(&Metrics) -> i64| -> ArrayRef {
        Arc::new(rows.iter().map(|(_, m)| f(m)).collect::<Int64Array>())
    };
    let structure = |k: &RowKey| t.structure(k.scope);
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |k| Some(k.grain.name())),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.period))),
        strings(rows, |k| Some(k.scope.scope().name())),
        strings(rows, |k| t.segment_name(k.scope)),
        strings(rows, |k| t.structure_id(k.scope)),
        strings(rows, |k| structure(k).and_then(|s| s.uai.as_deref())),
        strings(rows, |k| structure(k).and_then(|s| s.name.as_deref())),
        strings(rows, |k| Some(profile_name(k.profile))),
        int(|m| m.connections),
        int(|m| m.unique_visitors),
        int(|m| m.access),
        int(|m| m.activations),
        int(|m| m.visits),
        int(|m| m.visit_seconds),
        Arc::new(
            rows.iter().map(|(k, _)| t.sketches.get(k).map(Vec::as_slice)).collect::<BinaryArray>(),
        ),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
