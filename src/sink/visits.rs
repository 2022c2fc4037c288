//! `visits.parquet`: visits of each month and profile, with duration
//! percentiles and the histogram itself.

use super::{TableLayout, write_parquet};
use crate::aggregate::finish::{Tables, VisitRow};
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, BinaryArray, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use std::path::Path;
use std::sync::Arc;

/// The table's schema, as documented in the README.
pub fn schema() -> SchemaRef {
    let i = |n| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        Field::new("month", DataType::Date32, false),
        Field::new("profile", DataType::Utf8, false),
        i("visits"),
        i("visit_seconds"),
        i("p50_seconds"),
        i("p90_seconds"),
        i("p99_seconds"),
        i("max_seconds"),
        Field::new("duration_hdr", DataType::Binary, false),
    ]))
}

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &["month", "profile"], plain: &["duration_hdr"] };

/// Writes the visit rows of `tables` to `path`.
pub fn write(path: &Path, tables: &Tables) -> Result<()> {
    write_parquet(path, schema(), &LAYOUT, [batch(path, &tables.visits)])
}

fn batch(path: &Path, rows: &[VisitRow]) -> Result<RecordBatch> {
    let q = |q: f64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.histogram.value_at_quantile(q) as i64),
        ))
    };
    let mut encoded = Vec::with_capacity(rows.len());
    let mut ser = V2Serializer::new();
    for r in rows {
        let mut bytes = Vec::new();
        ser.serialize(&r.histogram, &mut bytes)
            .map_err(|e| Error::output(path, format!("{e:?}")))?;
        encoded.push(bytes);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.month))),
        Arc::new(rows.iter().map(|r| Some(profile_name(r.profile))).collect::<StringArray>()),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.histogram.len() as i64))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.seconds))),
        q(0.5),
        q(0.9),
        q(0.99),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.histogram.max() as i64))),
        Arc::new(encoded.iter().map(|b| Some(b.as_slice())).collect::<BinaryArray>()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
