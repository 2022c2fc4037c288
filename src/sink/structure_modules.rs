//! `structure_modules.parquet`: `ACCESS` events by month, structure,
//! profile and application, what `stats-access.csv` is written from and
//! what a merge adds up.

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, key_texts, write_parquet};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::structure_apps::StructureAppKey;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, dates, ints, strings, text};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct StructureModules;

/// Its file name.
pub const NAME: &str = "structure_modules.parquet";
const MONTH: &str = "month";
const STRUCTURE_ID: &str = "structure_id";
const UAI: &str = "uai";
const STRUCTURE_NAME: &str = "structure_name";
const PROFILE: &str = "profile";
const MODULE: &str = "module";
const ACCESS: &str = "access";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[STRUCTURE_ID, MONTH, PROFILE, MODULE], plain: &[] };

impl Table for StructureModules {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        let s = |n, null| Field::new(n, DataType::Utf8, null);
        Arc::new(Schema::new(vec![
            Field::new(MONTH, DataType::Date32, false),
            s(STRUCTURE_ID, false),
            s(UAI, true),
            s(STRUCTURE_NAME, true),
            s(PROFILE, false),
            s(MODULE, false),
            Field::new(ACCESS, DataType::Int64, false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let batches = tables.structure_apps.chunks(BATCH_ROWS).map(|rows| {
            let dims = &tables.dims;
            let structure = |k: &StructureAppKey| &dims.structures[k.structure as usize];
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.month))),
                key_texts(rows, |k| Some(structure(k).id.as_str())),
                key_texts(rows, |k| structure(k).uai.as_deref()),
                key_texts(rows, |k| structure(k).name.as_deref()),
                key_texts(rows, |k| Some(k.profile.name())),
                key_texts(rows, |k| Some(dims.apps[k.app as usize].name.as_str())),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|&(_, n)| n))),
            ];
            RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(&path, e))
        });
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }
}

/// Adds the counts of the table at `path`.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    for b in batches(path)? {
        let month = dates(&b, MONTH, path)?;
        let s = |n| strings(&b, n, path);
        let (sid, uai, name) = (s(STRUCTURE_ID)?, s(UAI)?, s(STRUCTURE_NAME)?);
        let (profile, module) = (s(PROFILE)?, s(MODULE)?);
        let access = ints(&b, ACCESS, path)?;
        for i in 0..b.num_rows() {
            let structure = into.dims.structure(sid.value(i), None, text(uai, i), text(name, i));
            let key = StructureAppKey {
                month: month.value(i),
                structure,
                profile: Profile::from_name(profile.value(i).as_bytes()),
                app: into.dims.app(module.value(i), std::iter::empty()),
            };
            into.structure_apps.add_cell(key, access.value(i));
        }
    }
    Ok(())
}
