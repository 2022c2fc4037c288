//! `accounts.parquet`: one row per account of the directory (`users.csv`)
//! and structure, with its activation: what a merge counts the accounts
//! and activated accounts of every audience row from.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::accounts::AccountRow;
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::scope::NO_STRUCTURE;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, column, dates, ints, strings};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Accounts;

const NAME: &str = "accounts.parquet";
const USER_KEY: &str = "user_key";
const PROFILE: &str = "profile";
const STRUCTURE_ID: &str = "structure_id";
const ACTIVATED: &str = "activated";
const ACTIVATED_ON: &str = "activated_on";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, PROFILE, STRUCTURE_ID], plain: &[USER_KEY] };

impl Table for Accounts {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(USER_KEY, DataType::Int64, false),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(STRUCTURE_ID, DataType::Utf8, true),
            Field::new(ACTIVATED, DataType::Boolean, false),
            Field::new(ACTIVATED_ON, DataType::Date32, true),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let batches = tables.accounts.chunks(BATCH_ROWS).map(|rows| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(rows.iter().map(|r| r.user_key).collect::<Int64Array>()),
                Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
                Arc::new(
                    rows.iter()
                        .map(|r| tables.dims.structure_text(r.structure))
                        .collect::<StringArray>(),
                ),
                Arc::new(rows.iter().map(|r| Some(r.activated)).collect::<BooleanArray>()),
                Arc::new(rows.iter().map(|r| r.activated_on).collect::<Date32Array>()),
            ];
            RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(&path, e))
        });
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }
}

/// Adds the rows of the table at `path` to the accounts gathered.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    for b in batches(path)? {
        let user = ints(&b, USER_KEY, path)?;
        let (profile, sid) = (strings(&b, PROFILE, path)?, strings(&b, STRUCTURE_ID, path)?);
        let activated: &BooleanArray = column(&b, ACTIVATED, path)?;
        let on = dates(&b, ACTIVATED_ON, path)?;
        for i in 0..b.num_rows() {
            let structure = if sid.is_null(i) {
                NO_STRUCTURE
            } else {
                into.dims.structure(sid.value(i), None, None, None)
            };
            into.accounts.push(AccountRow {
                user_key: user.value(i),
                profile: Profile::from_name(profile.value(i).as_bytes()),
                structure,
                activated: activated.value(i),
                activated_on: (!on.is_null(i)).then(|| on.value(i)),
            });
        }
    }
    Ok(())
}
