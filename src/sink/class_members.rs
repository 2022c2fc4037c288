//! `class_members.parquet`: one row per account of the directory
//! (`users.csv`) and class, with its activation: what a merge counts the
//! accounts and activated accounts of every class row from.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::classes::ClassMember;
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
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
pub struct ClassMembers;

/// Its file name.
pub const NAME: &str = "class_members.parquet";
const USER_KEY: &str = "user_key";
const PROFILE: &str = "profile";
const CLASS_ID: &str = "class_id";
const ACTIVATED: &str = "activated";
const ACTIVATED_ON: &str = "activated_on";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, PROFILE, CLASS_ID], plain: &[USER_KEY] };

impl Table for ClassMembers {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(USER_KEY, DataType::Int64, false),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(CLASS_ID, DataType::Utf8, false),
            Field::new(ACTIVATED, DataType::Boolean, false),
            Field::new(ACTIVATED_ON, DataType::Date32, true),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let classes = &tables.dims.classes;
        let batches = tables.class_members.chunks(BATCH_ROWS).map(|rows| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(rows.iter().map(|r| r.user_key).collect::<Int64Array>()),
                Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
                Arc::new(
                    rows.iter()
                        .map(|r| Some(classes[r.class as usize].id.as_str()))
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

    fn requires(&self) -> &'static [&'static str] {
        &[NAME]
    }
}

/// Adds the rows of the table at `path` to the members gathered.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    for b in batches(path)? {
        let user = ints(&b, USER_KEY, path)?;
        let (profile, class) = (strings(&b, PROFILE, path)?, strings(&b, CLASS_ID, path)?);
        let activated: &BooleanArray = column(&b, ACTIVATED, path)?;
        let on = dates(&b, ACTIVATED_ON, path)?;
        for i in 0..b.num_rows() {
            into.class_members.push(ClassMember {
                user_key: user.value(i),
                profile: Profile::from_name(profile.value(i).as_bytes()),
                class: into.dims.class(class.value(i), None, None),
                activated: activated.value(i),
                activated_on: (!on.is_null(i)).then(|| on.value(i)),
            });
        }
    }
    Ok(())
}
