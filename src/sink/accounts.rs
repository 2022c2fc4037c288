//! The tables of accounts in places, one row per account of the directory
//! (`users.csv`) and place, with its activation: `accounts.parquet` (the
//! places are structures) and `class_members.parquet` (classes), what a
//! merge counts the accounts and activated accounts of audience and class
//! rows from.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, write_parquet};
use crate::aggregate::accounts::AccountRow;
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::scope::NO_STRUCTURE;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, column, dates, ints, strings, text};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// A table of accounts in places.
pub struct Memberships {
    name: &'static str,
    /// The column of the place's id.
    place_column: &'static str,
    /// Sorted by user key, profile and place.
    layout: TableLayout,
    /// What [`Table::requires`] says.
    requires: &'static [&'static str],
    /// Its rows in the final stage's tables.
    rows: fn(&Tables) -> &[AccountRow],
    /// The id of a place, as written.
    place_text: for<'t> fn(&'t Tables, u32) -> Option<&'t str>,
    /// How a merge reads its rows back.
    gather: fn(&Path, &mut Gathered) -> Result<()>,
}

/// `accounts.parquet`: the accounts in their structures (`structure_id`
/// null for an account without structure).
pub const ACCOUNTS: Memberships = Memberships {
    name: "accounts.parquet",
    place_column: STRUCTURE_ID,
    layout: TableLayout { sorted_by: &[USER_KEY, PROFILE, STRUCTURE_ID], plain: &[USER_KEY] },
    requires: &[],
    rows: |t| &t.accounts,
    place_text: |t, s| t.dims.structure_text(s),
    gather: |path, into| {
        read(path, STRUCTURE_ID, into, |into, id| {
            id.map_or(NO_STRUCTURE, |id| into.dims.structure(id, None, None, None))
        })
    },
};

/// `class_members.parquet`: the accounts in their classes.
pub const CLASS_MEMBERS: Memberships = Memberships {
    name: CLASS_MEMBERS_NAME,
    place_column: CLASS_ID,
    layout: TableLayout { sorted_by: &[USER_KEY, PROFILE, CLASS_ID], plain: &[USER_KEY] },
    // Runs of versions before classes have no class members.
    requires: &[CLASS_MEMBERS_NAME],
    rows: |t| &t.class_members,
    place_text: |t, c| Some(t.dims.classes[c as usize].id.as_str()),
    gather: |path, into| {
        read(path, CLASS_ID, into, |into, id| into.dims.class(id.unwrap_or_default(), None, None))
    },
};

/// The file name of [`CLASS_MEMBERS`].
pub const CLASS_MEMBERS_NAME: &str = "class_members.parquet";
const USER_KEY: &str = "user_key";
const PROFILE: &str = "profile";
const STRUCTURE_ID: &str = "structure_id";
const CLASS_ID: &str = "class_id";
const ACTIVATED: &str = "activated";
const ACTIVATED_ON: &str = "activated_on";

impl Table for Memberships {
    fn name(&self) -> &'static str {
        self.name
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(USER_KEY, DataType::Int64, false),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(self.place_column, DataType::Utf8, true),
            Field::new(ACTIVATED, DataType::Boolean, false),
            Field::new(ACTIVATED_ON, DataType::Date32, true),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(self.name);
        let batches = (self.rows)(tables).chunks(BATCH_ROWS).map(|rows| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(rows.iter().map(|r| r.user_key).collect::<Int64Array>()),
                Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
                Arc::new(
                    rows.iter()
                        .map(|r| (self.place_text)(tables, r.place))
                        .collect::<StringArray>(),
                ),
                Arc::new(rows.iter().map(|r| Some(r.activated)).collect::<BooleanArray>()),
                Arc::new(rows.iter().map(|r| r.activated_on).collect::<Date32Array>()),
            ];
            RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(&path, e))
        });
        write_parquet(&path, self.schema(), &self.layout, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(self.gather)
    }

    fn requires(&self) -> &'static [&'static str] {
        self.requires
    }
}

/// Adds the rows of the table at `path`, its places in `place_column`
/// turned into indexes by `place`, to the accounts gathered (the class
/// members for `class_id`).
fn read(
    path: &Path,
    place_column: &str,
    into: &mut Gathered,
    place: fn(&mut Gathered, Option<&str>) -> u32,
) -> Result<()> {
    for b in batches(path)? {
        let user = ints(&b, USER_KEY, path)?;
        let (profile, places) = (strings(&b, PROFILE, path)?, strings(&b, place_column, path)?);
        let activated: &BooleanArray = column(&b, ACTIVATED, path)?;
        let on = dates(&b, ACTIVATED_ON, path)?;
        for i in 0..b.num_rows() {
            let row = AccountRow {
                user_key: user.value(i),
                profile: Profile::from_name(profile.value(i).as_bytes()),
                place: place(into, text(places, i)),
                activated: activated.value(i),
                activated_on: (!on.is_null(i)).then(|| on.value(i)),
            };
            match place_column {
                CLASS_ID => into.class_members.push(row),
                _ => into.accounts.push(row),
            }
        }
    }
    Ok(())
}
