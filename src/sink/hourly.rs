//! `hourly.parquet`: connections by local day, hour and profile.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::hourly::HourlyRow;
use crate::aggregate::key::{profile_name, profile_of};
use crate::error::{Error, Result};
use crate::stored::{batches, dates, ints, strings};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Hourly;

const NAME: &str = "hourly.parquet";
const DAY: &str = "day";
const HOUR: &str = "hour";
const PROFILE: &str = "profile";
const CONNECTIONS: &str = "connections";

const LAYOUT: TableLayout = TableLayout { sorted_by: &[DAY, HOUR, PROFILE], plain: &[] };

impl Table for Hourly {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(DAY, DataType::Date32, false),
            Field::new(HOUR, DataType::Int64, false),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(CONNECTIONS, DataType::Int64, false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let batches = tables.hourly.chunks(BATCH_ROWS).map(|rows| self.batch(&path, rows));
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }
}

impl Hourly {
    fn batch(&self, path: &Path, rows: &[HourlyRow]) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.day))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| i64::from(r.hour)))),
            Arc::new(rows.iter().map(|r| Some(profile_name(r.profile))).collect::<StringArray>()),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.connections))),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// Calls `f` with every row of the table at `path`: local day, hour,
/// profile name (or `All`) and connections.
pub fn read(path: &Path, mut f: impl FnMut(i32, u8, &str, i64)) -> Result<()> {
    for b in batches(path)? {
        let (day, hour) = (dates(&b, DAY, path)?, ints(&b, HOUR, path)?);
        let (profile, n) = (strings(&b, PROFILE, path)?, ints(&b, CONNECTIONS, path)?);
        for i in 0..b.num_rows() {
            f(day.value(i), hour.value(i) as u8, profile.value(i), n.value(i));
        }
    }
    Ok(())
}

/// The rows of each profile (`All` is their sum).
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    read(path, |day, hour, profile, n| {
        if let Some(profile) = profile_of(profile) {
            into.hourly.add(day, hour, profile, n as u64);
        }
    })
}
