//! `user_modules/`: one row per (month, user, profile, application),
//! partitioned by month: what merging runs needs to count the distinct
//! users of each application again.

use super::table::{Merged, Table};
use super::{TableLayout, partitioned};
use crate::aggregate::apps::AppUserRow;
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::SharedRows;
use crate::aggregate::key::{SHARDS, user_shard};
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, ints, strings};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct UserModules;

/// Its name: runs of versions before it lack it.
pub const NAME: &str = "user_modules";
const USER_KEY: &str = "user_key";
const PROFILE: &str = "profile";
const MODULE: &str = "module";
const ACCESS: &str = "access";
const ACCESS_DAYS: &str = "access_day_mask";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, PROFILE, MODULE], plain: &[USER_KEY] };

impl Table for UserModules {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema of each partition's file, as documented in the README.
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(USER_KEY, DataType::Int64, false),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(MODULE, DataType::Utf8, false),
            Field::new(ACCESS, DataType::Int64, false),
            Field::new(ACCESS_DAYS, DataType::Int64, false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let rows = &tables.user_modules;
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

    fn requires(&self) -> &'static [&'static str] {
        &[NAME]
    }
}

impl UserModules {
    fn batch(&self, path: &Path, t: &Tables, rows: &[AppUserRow]) -> Result<RecordBatch> {
        let name = |r: &AppUserRow| Some(t.dims.apps[r.app as usize].name.as_str());
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| r.user_key).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
            Arc::new(rows.iter().map(name).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.access).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| i64::from(r.days)).collect::<Int64Array>()),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// The rows of the file `path` of `month`, dealt into the user shards.
fn gather(month: i32, path: &Path, into: &SharedRows<'_>) -> Result<()> {
    let mut names = into.names();
    let mut out = vec![Vec::new(); SHARDS];
    for b in batches(path)? {
        let (user, access) = (ints(&b, USER_KEY, path)?, ints(&b, ACCESS, path)?);
        let days = ints(&b, ACCESS_DAYS, path)?;
        let (profile, module) = (strings(&b, PROFILE, path)?, strings(&b, MODULE, path)?);
        for i in 0..b.num_rows() {
            let user_key = user.value(i);
            out[user_shard(user_key as u64)].push(AppUserRow {
                month,
                user_key,
                profile: Profile::from_name(profile.value(i).as_bytes()),
                app: names.app(module.value(i)),
                access: access.value(i),
                days: days.value(i) as u32,
            });
        }
    }
    into.add_app_users(out);
    Ok(())
}
