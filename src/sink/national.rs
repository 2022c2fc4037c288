//! The national audience measure's profiles dataset,
//! `fr-en-dnma-par-uai-profils`: one row per school (UAI) and ISO week, as
//! `.csv` (`;`-separated, the form of French open data) and `.parquet`, in
//! the published column order: the week and the school's context (from
//! the national school directory, `--annuaire`; empty without it), then
//! visits, distinct users and duration for everyone and each profile.

use super::table::{Merged, Table};
use super::{TableLayout, atomic_write, write_parquet};
use crate::aggregate::finish::{NATIONAL_PROFILES, NationalRow, Tables};
use crate::aggregate::gather::Gathered;
use crate::annuaire::{CONTEXT, School};
use crate::error::{Error, Result};
use crate::stored::{batches, strings, text};
use crate::time::format_day;
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table: the same rows as CSV and as Parquet.
pub struct National;

const CSV: &str = "fr-en-dnma-par-uai-profils.csv";
const PARQUET: &str = "fr-en-dnma-par-uai-profils.parquet";
const UAI: &str = "uai";
const WEEK: &str = "debutsemaine";

/// The figures of a row: visits, distinct users and duration (seconds)
/// for everyone (`globales`), then for each profile.
fn figure_columns() -> Vec<String> {
    let mut c = Vec::new();
    for p in std::iter::once("globales").chain(NATIONAL_PROFILES.map(|(_, p)| p)) {
        c.extend([format!("visites_{p}"), format!("utilisateurs_{p}"), format!("duree_{p}")]);
    }
    c
}

/// Every column name, in the published order.
fn columns() -> Vec<String> {
    let mut c = vec![WEEK.to_string(), UAI.to_string()];
    c.extend(CONTEXT.iter().map(|&(name, _)| name.to_string()));
    c.extend(figure_columns());
    c
}

/// The Parquet schema: the same columns.
fn schema() -> SchemaRef {
    let mut fields =
        vec![Field::new(WEEK, DataType::Date32, false), Field::new(UAI, DataType::Utf8, false)];
    fields.extend(CONTEXT.iter().map(|&(name, _)| Field::new(name, DataType::Utf8, true)));
    fields.extend(figure_columns().iter().map(|n| Field::new(n, DataType::Int64, false)));
    Arc::new(Schema::new(fields))
}

const LAYOUT: TableLayout = TableLayout { sorted_by: &[UAI, WEEK], plain: &[] };

impl Table for National {
    fn name(&self) -> &'static str {
        CSV
    }

    fn companions(&self) -> &'static [&'static str] {
        &[PARQUET]
    }

    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        write(dir, tables)
    }

    /// Its visits are joined again from `user_visits`; the context of each
    /// school is read back from the runs' Parquet file.
    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }

    fn requires(&self) -> &'static [&'static str] {
        &[PARQUET]
    }
}

/// The figures of a row in column order.
fn figures(r: &NationalRow) -> impl Iterator<Item = i64> + '_ {
    r.figures.iter().flat_map(|m| [m.visits, m.users, m.seconds])
}

/// Writes both files into `dir`.
fn write(dir: &Path, tables: &Tables) -> Result<()> {
    // The school's context column `i`, empty when the directory is silent.
    let context = |r: &NationalRow, i: usize| {
        tables.schools.school(&r.uai).and_then(|s| s.context[i].as_deref())
    };
    let csv_path = dir.join(CSV);
    atomic_write(&csv_path, |file| {
        let err = |e: csv::Error| Error::output(&csv_path, e);
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
        w.write_record(columns()).map_err(err)?;
        for r in &tables.national {
            let mut record = vec![format_day(r.week), r.uai.clone()];
            record.extend((0..CONTEXT.len()).map(|i| context(r, i).unwrap_or("").to_string()));
            record.extend(figures(r).map(|n| n.to_string()));
            w.write_record(&record).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(&csv_path, e))
    })?;
    let path = dir.join(PARQUET);
    let rows = &tables.national;
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.week))),
        Arc::new(rows.iter().map(|r| Some(r.uai.as_str())).collect::<StringArray>()),
    ];
    for i in 0..CONTEXT.len() {
        cols.push(Arc::new(rows.iter().map(|r| context(r, i)).collect::<StringArray>()));
    }
    for i in 0..15 {
        let values = rows.iter().map(|r| figures(r).nth(i).unwrap_or(0));
        cols.push(Arc::new(Int64Array::from_iter_values(values)));
    }
    let batch = RecordBatch::try_new(schema(), cols).map_err(|e| Error::output(&path, e));
    write_parquet(&path, schema(), &LAYOUT, [batch])
}

/// The context of each school of a run's Parquet file (`path` names the
/// CSV; the Parquet twin is read), kept for the merged output.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    let path = path.with_file_name(PARQUET);
    for b in batches(&path)? {
        let uai = strings(&b, UAI, &path)?;
        let context: Vec<&StringArray> =
            CONTEXT.iter().map(|&(name, _)| strings(&b, name, &path)).collect::<Result<_>>()?;
        for i in 0..b.num_rows() {
            let school = School {
                context: std::array::from_fn(|c| text(context[c], i).map(str::to_string)),
                ..School::default()
            };
            if school != School::default() {
                into.schools.add(uai.value(i), school);
            }
        }
    }
    Ok(())
}
