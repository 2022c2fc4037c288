//! `http.parquet`: requests of HTTP access logs by grain, period and
//! profile, with status classes, bytes, distinct clients and users, and
//! request-time percentiles with the histogram itself.

use super::table::{Merged, Table};
use super::{TableLayout, write_parquet};
use crate::aggregate::finish::Tables;
use crate::aggregate::http::HttpRow;
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use arrow_array::{
    ArrayRef, BinaryArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Http;

const NAME: &str = "http.parquet";
const GRAIN: &str = "grain";
const PERIOD: &str = "period_start";
const PROFILE: &str = "profile";
const LATENCY_HDR: &str = "latency_hdr";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[GRAIN, PERIOD, PROFILE], plain: &[LATENCY_HDR] };

impl Table for Http {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        write_parquet(&path, schema(), &LAYOUT, [batch(&path, &tables.http)])
    }

    /// Distinct client addresses are in no partial table.
    fn merged(&self) -> Merged {
        Merged::Unmergeable
    }
}

fn schema() -> SchemaRef {
    let i = |n| Field::new(n, DataType::Int64, false);
    let ms = |n| Field::new(n, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        Field::new(GRAIN, DataType::Utf8, false),
        Field::new(PERIOD, DataType::Date32, false),
        Field::new(PROFILE, DataType::Utf8, false),
        i("requests"),
        i("unique_clients"),
        i("unique_users"),
        i("status_1xx"),
        i("status_2xx"),
        i("status_3xx"),
        i("status_4xx"),
        i("status_5xx"),
        i("bytes_sent"),
        i("latency_count"),
        ms("latency_p50_ms"),
        ms("latency_p90_ms"),
        ms("latency_p99_ms"),
        ms("latency_max_ms"),
        Field::new(LATENCY_HDR, DataType::Binary, true),
    ]))
}

fn batch(path: &Path, rows: &[HttpRow]) -> Result<RecordBatch> {
    let int = |f: &dyn Fn(&HttpRow) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| f(r) as i64)))
    };
    // One histogram at a time: each is large while it lives.
    let mut ser = V2DeflateSerializer::new();
    let mut encoded = Vec::with_capacity(rows.len());
    // Count, then p50, p90, p99, max: times are held in µs, written in ms.
    let mut figures: Vec<(i64, [Option<f64>; 4])> = Vec::with_capacity(rows.len());
    for r in rows {
        if r.counts.latency.is_empty() {
            encoded.push(None);
            figures.push((0, [None; 4]));
            continue;
        }
        let h = r.counts.latency.histogram();
        let mut bytes = Vec::new();
        ser.serialize(&h, &mut bytes).map_err(|e| Error::output(path, format!("{e:?}")))?;
        encoded.push(Some(bytes));
        let ms = |us: u64| Some(us as f64 / 1000.0);
        let quantiles = [0.5, 0.9, 0.99].map(|q| ms(h.value_at_quantile(q)));
        figures.push((h.len() as i64, [quantiles[0], quantiles[1], quantiles[2], ms(h.max())]));
    }
    let ms = |i: usize| -> ArrayRef {
        Arc::new(figures.iter().map(|f| f.1[i]).collect::<Float64Array>())
    };
    let status = |class: usize| int(&move |r: &HttpRow| r.counts.status[class]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.grain.name())).collect::<StringArray>()),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.period))),
        Arc::new(rows.iter().map(|r| Some(profile_name(r.profile))).collect::<StringArray>()),
        int(&|r| r.counts.requests),
        int(&|r| r.clients),
        int(&|r| r.users),
        status(0),
        status(1),
        status(2),
        status(3),
        status(4),
        int(&|r| r.counts.bytes),
        Arc::new(Int64Array::from_iter_values(figures.iter().map(|f| f.0))),
        ms(0),
        ms(1),
        ms(2),
        ms(3),
        Arc::new(encoded.iter().map(|b| b.as_deref()).collect::<BinaryArray>()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
