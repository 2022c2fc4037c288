//! The national weekly export: one row per school (UAI) and ISO week, as
//! `national_weekly.csv` (`;`-separated, the usual form of French open
//! data) and `national_weekly.parquet`.

use super::table::{Merged, Table};
use super::{TableLayout, atomic_write, write_parquet};
use crate::aggregate::finish::{NATIONAL_PROFILES, NationalRow, Tables};
use crate::error::{Error, Result};
use crate::time::format_day;
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table: the same rows as CSV and as Parquet.
pub struct National;

const CSV: &str = "national_weekly.csv";
const PARQUET: &str = "national_weekly.parquet";
const UAI: &str = "uai";
const WEEK: &str = "debutsemaine";

/// Column names, in the order of the national open data: the school, the
/// Monday, then visits, distinct users and duration (seconds) for
/// everyone, then for each profile.
fn columns() -> Vec<String> {
    let mut c = vec![UAI.to_string(), WEEK.to_string()];
    // Everyone is `globales` in every column, as the ministry's
    // `fr-en-dnma-par-uai-profils` dataset names them.
    for p in std::iter::once("globales").chain(NATIONAL_PROFILES.map(|(_, p)| p)) {
        c.extend([format!("visites_{p}"), format!("utilisateurs_{p}"), format!("duree_{p}")]);
    }
    c
}

/// The Parquet schema: the same columns.
fn schema() -> SchemaRef {
    let names = columns();
    let mut fields = vec![
        Field::new(&names[0], DataType::Utf8, false),
        Field::new(&names[1], DataType::Date32, false),
    ];
    fields.extend(names[2..].iter().map(|n| Field::new(n, DataType::Int64, false)));
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

    /// Its visits are joined again from `user_visits`.
    fn merged(&self) -> Merged {
        Merged::Derived
    }
}

/// The figures of a row in column order.
fn figures(r: &NationalRow) -> impl Iterator<Item = i64> + '_ {
    r.figures.iter().flat_map(|m| [m.visits, m.users, m.seconds])
}

/// Writes both files into `dir`.
fn write(dir: &Path, tables: &Tables) -> Result<()> {
    let csv_path = dir.join(CSV);
    atomic_write(&csv_path, |file| {
        let err = |e: csv::Error| Error::output(&csv_path, e);
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
        w.write_record(columns()).map_err(err)?;
        for r in &tables.national {
            let mut record = vec![r.uai.clone(), format_day(r.week)];
            record.extend(figures(r).map(|n| n.to_string()));
            w.write_record(&record).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(&csv_path, e))
    })?;
    let path = dir.join(PARQUET);
    let rows = &tables.national;
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.uai.as_str())).collect::<StringArray>()),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.week))),
    ];
    for i in 0..15 {
        let values = rows.iter().map(|r| figures(r).nth(i).unwrap_or(0));
        cols.push(Arc::new(Int64Array::from_iter_values(values)));
    }
    let batch = RecordBatch::try_new(schema(), cols).map_err(|e| Error::output(&path, e));
    write_parquet(&path, schema(), &LAYOUT, [batch])
}
