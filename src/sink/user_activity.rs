//! `user_activity/`: one row per (month, user, profile, structure), the
//! mergeable fact table behind every distinct count, partitioned by month.

use super::table::{Merged, Table};
use super::{TableLayout, instant_field, instants, partitioned};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::SharedRows;
use crate::aggregate::key::{SHARDS, user_shard};
use crate::aggregate::scope::NO_STRUCTURE;
use crate::aggregate::users::UserActivityRow;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, column, ints, strings};
use arrow_array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct UserActivity;

const NAME: &str = "user_activity";
const USER_KEY: &str = "user_key";
const PROFILE: &str = "profile";
const STRUCTURE_ID: &str = "structure_id";
const CONNECTIONS: &str = "connections";
const ACCESS: &str = "access";
const LOGIN_DAYS: &str = "login_day_mask";
const ACTIVE_DAYS: &str = "active_day_mask";
const FIRST_SEEN: &str = "first_seen";
const LAST_SEEN: &str = "last_seen";

const LAYOUT: TableLayout = TableLayout {
    sorted_by: &[USER_KEY, PROFILE, STRUCTURE_ID],
    plain: &[USER_KEY, FIRST_SEEN, LAST_SEEN],
};

impl Table for UserActivity {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema of each partition's file (the month is in its directory
    /// name), as documented in the README.
    fn schema(&self) -> SchemaRef {
        let i = |n| Field::new(n, DataType::Int64, false);
        Arc::new(Schema::new(vec![
            i(USER_KEY),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(STRUCTURE_ID, DataType::Utf8, true),
            i(CONNECTIONS),
            i(ACCESS),
            i("active_days"),
            i(LOGIN_DAYS),
            i(ACTIVE_DAYS),
            instant_field(FIRST_SEEN),
            instant_field(LAST_SEEN),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let rows = &tables.user_activity;
        partitioned::write(
            &dir.join(NAME),
            self.schema(),
            &LAYOUT,
            rows,
            |r| r.month,
            |path, rows| self.batch(path, tables, rows),
        )
    }

    fn merged(&self) -> Merged {
        Merged::Partitioned(gather)
    }
}

impl UserActivity {
    fn batch(&self, path: &Path, t: &Tables, rows: &[UserActivityRow]) -> Result<RecordBatch> {
        let int = |f: fn(&UserActivityRow) -> i64| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<Int64Array>())
        };
        let columns: Vec<ArrayRef> = vec![
            int(|r| r.user_key),
            Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
            Arc::new(
                rows.iter().map(|r| t.dims.structure_text(r.structure)).collect::<StringArray>(),
            ),
            int(|r| r.connections),
            int(|r| r.access),
            int(|r| i64::from(r.active_days.count_ones())),
            int(|r| i64::from(r.login_days)),
            int(|r| i64::from(r.active_days)),
            instants(rows.iter().map(|r| r.first_ms)),
            instants(rows.iter().map(|r| r.last_ms)),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// The rows of the file `path` of `month`, dealt into the user shards.
fn gather(month: i32, path: &Path, into: &SharedRows<'_>) -> Result<()> {
    let mut names = into.names();
    let mut out = vec![Vec::new(); SHARDS];
    for b in batches(path)? {
        let i64s = |n| ints(&b, n, path);
        let (user, connections, access) = (i64s(USER_KEY)?, i64s(CONNECTIONS)?, i64s(ACCESS)?);
        let (login, active) = (i64s(LOGIN_DAYS)?, i64s(ACTIVE_DAYS)?);
        let (profile, sid) = (strings(&b, PROFILE, path)?, strings(&b, STRUCTURE_ID, path)?);
        let first: &TimestampMicrosecondArray = column(&b, FIRST_SEEN, path)?;
        let last: &TimestampMicrosecondArray = column(&b, LAST_SEEN, path)?;
        for i in 0..b.num_rows() {
            let structure =
                if sid.is_null(i) { NO_STRUCTURE } else { names.structure(sid.value(i)) };
            let user_key = user.value(i);
            out[user_shard(user_key as u64)].push(UserActivityRow {
                month,
                user_key,
                profile: Profile::from_name(profile.value(i).as_bytes()),
                structure,
                connections: connections.value(i),
                access: access.value(i),
                login_days: login.value(i) as u32,
                active_days: active.value(i) as u32,
                first_ms: first.value(i).div_euclid(1000),
                last_ms: last.value(i).div_euclid(1000),
                // The runs' sketches stand for their coupons.
                coupon: None,
            });
        }
    }
    into.add_users(out);
    Ok(())
}
