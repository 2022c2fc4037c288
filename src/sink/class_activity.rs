//! `class_activity.parquet`: one row per user, week part (the days of an
//! ISO week within one month), class and profile, with the user's
//! connections, access and activations in the class then: what a merge
//! counts the class figures from.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, key_texts, write_parquet};
use crate::aggregate::classes::ClassFactKey;
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::key::Counts;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, dates, ints, strings};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct ClassActivity;

/// Its file name.
pub const NAME: &str = "class_activity.parquet";
const USER_KEY: &str = "user_key";
const WEEK_PART: &str = "week_part";
const CLASS_ID: &str = "class_id";
const PROFILE: &str = "profile";
const CONNECTIONS: &str = "connections";
const ACCESS: &str = "access";
const ACTIVATIONS: &str = "activations";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, WEEK_PART, CLASS_ID, PROFILE], plain: &[USER_KEY] };

impl Table for ClassActivity {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        let int = |n| Field::new(n, DataType::Int64, false);
        Arc::new(Schema::new(vec![
            int(USER_KEY),
            Field::new(WEEK_PART, DataType::Date32, false),
            Field::new(CLASS_ID, DataType::Utf8, false),
            Field::new(PROFILE, DataType::Utf8, false),
            int(CONNECTIONS),
            int(ACCESS),
            int(ACTIVATIONS),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let classes = &tables.dims.classes;
        let batches = tables.class_activity.chunks(BATCH_ROWS).map(|rows| {
            let count = |f: fn(&Counts) -> u64| -> ArrayRef {
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, c)| f(c) as i64)))
            };
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|(k, _)| k.user as i64))),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.part))),
                key_texts(rows, |k| Some(classes[k.class as usize].id.as_str())),
                key_texts(rows, |k| Some(k.profile.name())),
                count(|c| c.connections),
                count(|c| c.access),
                count(|c| c.activations),
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

/// Adds the facts of the table at `path`.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    for b in batches(path)? {
        let (user, part) = (ints(&b, USER_KEY, path)?, dates(&b, WEEK_PART, path)?);
        let (class, profile) = (strings(&b, CLASS_ID, path)?, strings(&b, PROFILE, path)?);
        let count = |n| ints(&b, n, path);
        let (connections, access) = (count(CONNECTIONS)?, count(ACCESS)?);
        let activations = count(ACTIVATIONS)?;
        // A negative count is a damaged table: read as none.
        let small = |v: i64| v.max(0) as u64;
        for i in 0..b.num_rows() {
            let key = ClassFactKey {
                user: user.value(i) as u64,
                part: part.value(i),
                class: into.dims.class(class.value(i), None, None),
                profile: Profile::from_name(profile.value(i).as_bytes()),
            };
            let counts = Counts {
                connections: small(connections.value(i)),
                access: small(access.value(i)),
                activations: small(activations.value(i)),
            };
            into.class_activity.add_fact(key, counts);
        }
    }
    Ok(())
}
