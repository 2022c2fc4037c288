//! `user_activity/`: one row per (month, user, profile, structure), the
//! mergeable fact table behind every distinct count, partitioned by month.

use super::{TableLayout, partitioned};
use crate::aggregate::finish::Tables;
use crate::aggregate::scope::NO_STRUCTURE;
use crate::aggregate::users::UserActivityRow;
use crate::error::{Error, Result};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::path::Path;
use std::sync::Arc;

/// The schema of each partition's file (the month is in its directory
/// name), as documented in the README.
pub fn schema() -> SchemaRef {
    let i = |n| Field::new(n, DataType::Int64, false);
    let ts =
        |n| Field::new(n, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false);
    Arc::new(Schema::new(vec![
        i("user_key"),
        Field::new("profile", DataType::Utf8, false),
        Field::new("structure_id", DataType::Utf8, true),
        i("connections"),
        i("access"),
        i("active_days"),
        i("login_day_mask"),
        i("active_day_mask"),
        ts("first_seen"),
        ts("last_seen"),
    ]))
}

const LAYOUT: TableLayout = TableLayout {
    sorted_by: &["user_key", "profile", "structure_id"],
    plain: &["user_key", "first_seen", "last_seen"],
};

/// Writes the user activity rows of `tables` as the partitioned table
/// `dir`.
pub fn write(dir: &Path, tables: &Tables) -> Result<()> {
    let rows = &tables.user_activity;
    partitioned::write(
        dir,
        schema(),
        &LAYOUT,
        rows,
        |r| r.month,
        |path, rows| batch(path, tables, rows),
    )
}

fn batch(path: &Path, t: &Tables, rows: &[UserActivityRow]) -> Result<RecordBatch> {
    let int = |f: fn(&UserActivityRow) -> i64| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let micros = |f: fn(&UserActivityRow) -> i64| -> ArrayRef {
        let values: TimestampMicrosecondArray = rows.iter().map(|r| Some(f(r) * 1000)).collect();
        Arc::new(values.with_timezone("UTC"))
    };
    let columns: Vec<ArrayRef> = vec![
        int(|r| r.user_key),
        Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
        Arc::new(
            rows.iter()
                .map(|r| {
                    (r.structure != NO_STRUCTURE)
                        .then(|| t.dims.structures[r.structure as usize].id.as_str())
                })
                .collect::<StringArray>(),
        ),
        int(|r| r.connections),
        int(|r| r.access),
        int(|r| i64::from(r.active_days.count_ones())),
        int(|r| i64::from(r.login_days)),
        int(|r| i64::from(r.active_days)),
        micros(|r| r.first_ms),
        micros(|r| r.last_ms),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::output(path, e))
}
