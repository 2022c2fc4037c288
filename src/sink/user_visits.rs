//! `user_visits/`: one row per visit, partitioned by month: what merging
//! runs over shards of the logs needs to join visits cut by the shards.

use super::{TableLayout, partitioned};
use crate::aggregate::finish::Tables;
use crate::aggregate::visits::VisitSpan;
use crate::error::{Error, Result};
use crate::time::month_start;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::path::Path;
use std::sync::Arc;

/// The schema of each partition's file, as documented in the README.
pub fn schema() -> SchemaRef {
    let ts =
        |n| Field::new(n, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false);
    let item = Field::new("item", DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("user_key", DataType::Int64, false),
        Field::new("day", DataType::Date32, false),
        ts("visit_start"),
        ts("visit_end"),
        Field::new("profile", DataType::Utf8, false),
        Field::new("structure_ids", DataType::List(Arc::new(item)), false),
    ]))
}

const LAYOUT: TableLayout = TableLayout {
    sorted_by: &["user_key", "visit_start"],
    plain: &["user_key", "visit_start", "visit_end"],
};

/// Writes the visits of `tables` as the partitioned table `dir`.
pub fn write(dir: &Path, tables: &Tables) -> Result<()> {
    let spans = &tables.user_visits.spans;
    partitioned::write(
        dir,
        schema(),
        &LAYOUT,
        spans,
        |v| month_start(v.day),
        |path, rows| batch(path, tables, rows),
    )
}

fn batch(path: &Path, t: &Tables, rows: &[VisitSpan]) -> Result<RecordBatch> {
    let micros = |f: fn(&VisitSpan) -> i64| -> ArrayRef {
        let values: TimestampMicrosecondArray = rows.iter().map(|r| Some(f(r) * 1000)).collect();
        Arc::new(values.with_timezone("UTC"))
    };
    let mut structures = ListBuilder::new(StringBuilder::new());
    let mut ids: Vec<&str> = Vec::new();
    for v in rows {
        ids.clear();
        ids.extend(
            t.user_visits
                .structures_of(v)
                .iter()
                .map(|&s| t.dims.structures[s as usize].id.as_str()),
        );
        // Sorted by text, so that the list does not depend on the order
        // the events came in.
        ids.sort_unstable();
        for id in &ids {
            structures.values().append_value(id);
        }
        structures.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.user as i64).collect::<Int64Array>()),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.day))),
        micros(|r| r.start_ms),
        micros(|r| r.end_ms),
        Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
        Arc::new(structures.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
