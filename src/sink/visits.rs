//! `visits.parquet`: visits of each month and profile, with duration
//! percentiles and the histogram itself.

use super::table::{Merged, Table};
use super::{TableLayout, write_parquet};
use crate::aggregate::finish::{Tables, VisitRow};
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use crate::stored::{batches, dates, ints, strings};
use arrow_array::{ArrayRef, BinaryArray, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Visits;

const NAME: &str = "visits.parquet";
const MONTH: &str = "month";
const PROFILE: &str = "profile";
const VISITS: &str = "visits";
const PERCENTILES: [&str; 4] = ["p50_seconds", "p90_seconds", "p99_seconds", "max_seconds"];
const DURATION_HDR: &str = "duration_hdr";

const LAYOUT: TableLayout = TableLayout { sorted_by: &[MONTH, PROFILE], plain: &[DURATION_HDR] };

impl Table for Visits {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        let i = |n| Field::new(n, DataType::Int64, false);
        let mut fields = vec![
            Field::new(MONTH, DataType::Date32, false),
            Field::new(PROFILE, DataType::Utf8, false),
            i(VISITS),
            i("visit_seconds"),
        ];
        fields.extend(PERCENTILES.map(i));
        fields.push(Field::new(DURATION_HDR, DataType::Binary, false));
        Arc::new(Schema::new(fields))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        write_parquet(&path, self.schema(), &LAYOUT, [batch(&path, &tables.visits)])
    }

    /// Visits are joined again from `user_visits`.
    fn merged(&self) -> Merged {
        Merged::Derived
    }
}

/// Calls `f` with every row of the table at `path`: month, profile name
/// (or `All`), visits, and the duration percentiles 50, 90, 99 and the
/// longest, seconds.
pub fn read(path: &Path, mut f: impl FnMut(i32, &str, i64, [i64; 4])) -> Result<()> {
    for b in batches(path)? {
        let (month, profile) = (dates(&b, MONTH, path)?, strings(&b, PROFILE, path)?);
        let visits = ints(&b, VISITS, path)?;
        let [p50, p90, p99, max] = PERCENTILES.map(|c| ints(&b, c, path));
        let (p50, p90, p99, max) = (p50?, p90?, p99?, max?);
        for i in 0..b.num_rows() {
            let seconds = [p50.value(i), p90.value(i), p99.value(i), max.value(i)];
            f(month.value(i), profile.value(i), visits.value(i), seconds);
        }
    }
    Ok(())
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
    RecordBatch::try_new(Visits.schema(), columns).map_err(|e| Error::output(path, e))
}
