//! The national audience measure's weekly per-school datasets
//! (`fr-en-dnma-par-uai-profils`, `-profils-appareils`, `-services`): one
//! row per school (UAI) and ISO week, each as `.csv` (`;`-separated, the
//! form of French open data) and `.parquet`, in the published column
//! order: the week, the school, its context (from the national school
//! directory, `--annuaire`; empty without it) and the figures of the
//! dataset's column groups, visits, distinct users and duration.

use super::table::{Merged, Table};
use super::{TableLayout, atomic_write, write_parquet};
use crate::aggregate::finish::{NationalRow, Tables};
use crate::aggregate::gather::Gathered;
use crate::aggregate::visits::NationalMetrics;
use crate::annuaire::{CONTEXT, School};
use crate::error::{Error, Result};
use crate::national::{self, Dataset, suffix};
use crate::stored::{batches, dates, ints, strings, text};
use crate::time::format_day;
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// One dataset: the same rows as CSV and as Parquet.
pub struct National {
    dataset: Dataset,
    csv: &'static str,
    /// The Parquet twin, the one companion.
    parquet: &'static [&'static str],
}

/// `fr-en-dnma-par-uai-profils`: everyone and each profile.
pub const PROFILS: National = National {
    dataset: national::PROFILS,
    csv: "fr-en-dnma-par-uai-profils.csv",
    parquet: &["fr-en-dnma-par-uai-profils.parquet"],
};
/// `fr-en-dnma-par-uai-profils-appareils`: each profile on each device.
pub const PROFILS_APPAREILS: National = National {
    dataset: national::PROFILS_APPAREILS,
    csv: "fr-en-dnma-par-uai-profils-appareils.csv",
    parquet: &["fr-en-dnma-par-uai-profils-appareils.parquet"],
};
/// `fr-en-dnma-par-uai-services`: each service.
pub const SERVICES: National = National {
    dataset: national::SERVICES_DATASET,
    csv: "fr-en-dnma-par-uai-services.csv",
    parquet: &["fr-en-dnma-par-uai-services.parquet"],
};

const UAI: &str = "uai";
const WEEK: &str = "debutsemaine";

const LAYOUT: TableLayout = TableLayout { sorted_by: &[UAI, WEEK], plain: &[] };

/// A column of a dataset, in the published order.
enum Column {
    Week,
    Uai,
    /// A context column, by its index in [`CONTEXT`].
    Context(usize),
    /// A figure: visits, users or duration (0, 1, 2) of a group.
    Figure(usize, usize),
}

impl National {
    /// Every column, in the published order.
    fn columns(&self) -> Vec<Column> {
        let context = (0..CONTEXT.len()).map(Column::Context);
        let figures =
            self.dataset.groups.clone().flat_map(|g| (0..3).map(move |m| Column::Figure(g, m)));
        let mut c = vec![Column::Week, Column::Uai];
        if self.dataset.context_first {
            c.extend(context.chain(figures));
        } else {
            c.extend(figures.chain(context));
        }
        c
    }

    /// The name of a column.
    fn column_name(column: &Column) -> String {
        match *column {
            Column::Week => WEEK.to_string(),
            Column::Uai => UAI.to_string(),
            Column::Context(i) => CONTEXT[i].0.to_string(),
            Column::Figure(g, m) => {
                format!("{}_{}", ["visites", "utilisateurs", "duree"][m], suffix(g))
            }
        }
    }

    /// The text of a column in a row into `out` (`context(row, i)` gives
    /// the school's context column `i`).
    fn cell<'r>(
        column: &Column,
        r: &'r NationalRow,
        context: &impl Fn(&NationalRow, usize) -> Option<&'r str>,
        out: &mut String,
    ) {
        out.clear();
        let _ = match *column {
            Column::Week => write!(out, "{}", format_day(r.week)),
            Column::Uai => write!(out, "{}", r.uai),
            Column::Context(i) => write!(out, "{}", context(r, i).unwrap_or("")),
            Column::Figure(g, m) => write!(out, "{}", figure(r, g, m)),
        };
    }
}

impl National {
    /// Reads the dataset's Parquet file in `dir` back: `f(week, group,
    /// figures)` for every group of every row.
    pub fn read(&self, dir: &Path, mut f: impl FnMut(i32, usize, NationalMetrics)) -> Result<()> {
        let path = dir.join(self.parquet[0]);
        for b in batches(&path)? {
            let week = dates(&b, WEEK, &path)?;
            for g in self.dataset.groups.clone() {
                let [v, u, s] = [0, 1, 2]
                    .map(|m| ints(&b, &National::column_name(&Column::Figure(g, m)), &path));
                let (v, u, s) = (v?, u?, s?);
                for i in 0..b.num_rows() {
                    let m = NationalMetrics {
                        visits: v.value(i),
                        users: u.value(i),
                        seconds: s.value(i),
                    };
                    f(week.value(i), g, m);
                }
            }
        }
        Ok(())
    }
}

/// Visits, users or seconds (`m` = 0, 1, 2) of group `g` in row `r`.
fn figure(r: &NationalRow, g: usize, m: usize) -> i64 {
    let f = &r.figures[g];
    [f.visits, f.users, f.seconds][m]
}

impl Table for National {
    fn name(&self) -> &'static str {
        self.csv
    }

    fn companions(&self) -> &'static [&'static str] {
        self.parquet
    }

    fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns()
            .iter()
            .map(|c| {
                let name = National::column_name(c);
                match c {
                    Column::Week => Field::new(name, DataType::Date32, false),
                    Column::Uai => Field::new(name, DataType::Utf8, false),
                    Column::Context(_) => Field::new(name, DataType::Utf8, true),
                    Column::Figure(..) => Field::new(name, DataType::Int64, false),
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        self.write_files(dir, tables)
    }

    /// Its visits are joined again from `user_visits`; the context of each
    /// school is read back from the runs' profiles dataset.
    fn merged(&self) -> Merged {
        if self.dataset == national::PROFILS { Merged::Whole(gather) } else { Merged::Derived }
    }

    fn requires(&self) -> &'static [&'static str] {
        self.companions()
    }
}

impl National {
    /// Writes both files into `dir`.
    fn write_files(&self, dir: &Path, tables: &Tables) -> Result<()> {
        // The school's context column `i`, empty when the directory is
        // silent.
        let context = |r: &NationalRow, i: usize| {
            tables.schools.school(&r.uai).and_then(|s| s.context[i].as_deref())
        };
        let columns = self.columns();
        let csv_path = dir.join(self.csv);
        atomic_write(&csv_path, |file| {
            let err = |e: csv::Error| Error::output(&csv_path, e);
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
            w.write_record(columns.iter().map(National::column_name)).map_err(err)?;
            let mut cell = String::new();
            for r in &tables.national {
                for c in &columns {
                    National::cell(c, r, &context, &mut cell);
                    w.write_field(&cell).map_err(err)?;
                }
                w.write_record(None::<&[u8]>).map_err(err)?;
            }
            w.flush().map_err(|e| Error::io(&csv_path, e))
        })?;
        let path = dir.join(self.parquet[0]);
        let rows = &tables.national;
        let cols: Vec<ArrayRef> = columns
            .iter()
            .map(|c| -> ArrayRef {
                match *c {
                    Column::Week => {
                        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.week)))
                    }
                    Column::Uai => {
                        Arc::new(rows.iter().map(|r| Some(r.uai.as_str())).collect::<StringArray>())
                    }
                    Column::Context(i) => {
                        Arc::new(rows.iter().map(|r| context(r, i)).collect::<StringArray>())
                    }
                    Column::Figure(g, m) => {
                        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| figure(r, g, m))))
                    }
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema(), cols).map_err(|e| Error::output(&path, e));
        write_parquet(&path, self.schema(), &LAYOUT, [batch])
    }
}

/// The context of each school of a run's profiles dataset (`path` names
/// the CSV; the Parquet twin is read), kept for the merged output.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    let path = path.with_file_name(PROFILS.parquet[0]);
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
