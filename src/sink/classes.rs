//! `classes.parquet`: the class figures, one row per (grain, period,
//! class, profile), with the class's name and structure from the
//! referential's `classes.csv`. A merge computes the rows again from the
//! runs' class facts and members; it reads only the names back from here.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, accounts, class_activity, key_texts, write_parquet};
use crate::aggregate::classes::{ClassMetrics, ClassRowKey};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::key::profile_name;
use crate::error::{Error, Result};
use crate::stored::{batches, strings, text};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Classes;

const NAME: &str = "classes.parquet";
const GRAIN: &str = "grain";
const PERIOD_START: &str = "period_start";
const STRUCTURE_ID: &str = "structure_id";
const CLASS_ID: &str = "class_id";
const CLASS_NAME: &str = "class_name";
const PROFILE: &str = "profile";
/// How a figure is read from a row.
type Figure = fn(&ClassMetrics) -> i64;
/// The figures, in column order, with how each is read from a row.
const FIGURES: [(&str, Figure); 6] = [
    ("connections", |m| m.connections),
    ("unique_visitors", |m| m.unique_visitors),
    ("access", |m| m.access),
    ("activations", |m| m.activations),
    ("accounts", |m| m.accounts),
    ("activated_accounts", |m| m.activated_accounts),
];

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[GRAIN, PERIOD_START, STRUCTURE_ID, CLASS_ID, PROFILE], plain: &[] };

impl Table for Classes {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        let s = |n, null| Field::new(n, DataType::Utf8, null);
        let mut fields = vec![
            s(GRAIN, false),
            Field::new(PERIOD_START, DataType::Date32, false),
            s(STRUCTURE_ID, true),
            s(CLASS_ID, false),
            s(CLASS_NAME, true),
            s(PROFILE, false),
        ];
        fields.extend(FIGURES.map(|(n, _)| Field::new(n, DataType::Int64, false)));
        Arc::new(Schema::new(fields))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let classes = &tables.dims.classes;
        let batches = tables.classes.chunks(BATCH_ROWS).map(|rows| {
            let class = |k: &ClassRowKey| &classes[k.class as usize];
            let mut columns: Vec<ArrayRef> = vec![
                key_texts(rows, |k| Some(k.grain.name())),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.period))),
                key_texts(rows, |k| class(k).structure.as_deref()),
                key_texts(rows, |k| Some(class(k).id.as_str())),
                key_texts(rows, |k| class(k).name.as_deref()),
                key_texts(rows, |k| Some(profile_name(k.profile))),
            ];
            columns.extend(FIGURES.map(|(_, figure)| -> ArrayRef {
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, m)| figure(m))))
            }));
            RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(&path, e))
        });
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(names)
    }

    fn requires(&self) -> &'static [&'static str] {
        &[NAME, class_activity::NAME, accounts::CLASS_MEMBERS_NAME]
    }
}

/// Reads the names and structures of the classes of the table at `path`.
fn names(path: &Path, into: &mut Gathered) -> Result<()> {
    for b in batches(path)? {
        let s = |n| strings(&b, n, path);
        let (class, name, structure) = (s(CLASS_ID)?, s(CLASS_NAME)?, s(STRUCTURE_ID)?);
        for i in 0..b.num_rows() {
            into.dims.class(class.value(i), text(name, i), text(structure, i));
        }
    }
    Ok(())
}
