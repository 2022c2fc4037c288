//! `modules.parquet`: application use by grain, period, profile and
//! application.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, user_modules, write_parquet};
use crate::aggregate::apps::{AppMetrics, AppRowKey};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::key::{Grain, profile_name, profile_of};
use crate::error::{Error, Result};
use crate::stored::{batches, dates, ints, strings};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Modules;

const NAME: &str = "modules.parquet";
const GRAIN: &str = "grain";
const PERIOD: &str = "period_start";
const PROFILE: &str = "profile";
const MODULE: &str = "module";
const RAW_MODULES: &str = "raw_modules";
const ACCESS: &str = "access";
const UNIQUE_USERS: &str = "unique_users";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[GRAIN, PERIOD, PROFILE, MODULE], plain: &[] };

impl Table for Modules {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        let s = |n| Field::new(n, DataType::Utf8, false);
        Arc::new(Schema::new(vec![
            s(GRAIN),
            Field::new(PERIOD, DataType::Date32, false),
            s(PROFILE),
            s(MODULE),
            s(RAW_MODULES),
            Field::new(ACCESS, DataType::Int64, false),
            Field::new(UNIQUE_USERS, DataType::Int64, false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let batches = tables.apps.chunks(BATCH_ROWS).map(|rows| self.batch(&path, tables, rows));
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }

    /// Distinct users of each application are counted again from
    /// `user_modules`.
    fn requires(&self) -> &'static [&'static str] {
        &[user_modules::NAME]
    }
}

impl Modules {
    fn batch(
        &self,
        path: &Path,
        t: &Tables,
        rows: &[(AppRowKey, AppMetrics)],
    ) -> Result<RecordBatch> {
        let app = |k: &AppRowKey| &t.dims.apps[k.app as usize];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|(k, _)| Some(k.grain.name())).collect::<StringArray>()),
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.period))),
            Arc::new(
                rows.iter().map(|(k, _)| Some(profile_name(k.profile))).collect::<StringArray>(),
            ),
            Arc::new(rows.iter().map(|(k, _)| Some(app(k).name.as_str())).collect::<StringArray>()),
            Arc::new(
                rows.iter()
                    .map(|(k, _)| Some(app(k).raw.iter().cloned().collect::<Vec<_>>().join("|")))
                    .collect::<StringArray>(),
            ),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, m)| m.access))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, m)| m.unique_users))),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// One row as read back from a file, its text borrowed.
pub struct Record<'a> {
    /// `day`, `week`, `month` or `all`.
    pub grain: &'a str,
    /// First day of the period.
    pub period: i32,
    /// A profile name, or `All`.
    pub profile: &'a str,
    /// The application's name.
    pub module: &'a str,
    /// Its spellings in the logs, `|`-separated.
    pub raw_modules: &'a str,
    /// `ACCESS` events.
    pub access: i64,
    /// Distinct users.
    pub unique_users: i64,
}

/// Calls `f` with every row of the table at `path`.
pub fn read(path: &Path, mut f: impl FnMut(Record<'_>)) -> Result<()> {
    for b in batches(path)? {
        let (grain, period) = (strings(&b, GRAIN, path)?, dates(&b, PERIOD, path)?);
        let (profile, module) = (strings(&b, PROFILE, path)?, strings(&b, MODULE, path)?);
        let (raw, access) = (strings(&b, RAW_MODULES, path)?, ints(&b, ACCESS, path)?);
        let users = ints(&b, UNIQUE_USERS, path)?;
        for i in 0..b.num_rows() {
            f(Record {
                grain: grain.value(i),
                period: period.value(i),
                profile: profile.value(i),
                module: module.value(i),
                raw_modules: raw.value(i),
                access: access.value(i),
                unique_users: users.value(i),
            });
        }
    }
    Ok(())
}

/// Access events of the day rows per profile, and the spellings of each
/// application.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    read(path, |r| {
        let app = into.dims.app(r.module, r.raw_modules.split('|'));
        let profile = profile_of(r.profile);
        if let (Some(Grain::Day), Some(profile)) = (Grain::from_name(r.grain), profile) {
            *into.apps.counters.entry((r.period, profile, app)).or_default() += r.access;
        }
    })
}
