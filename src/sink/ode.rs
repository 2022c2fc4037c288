//! The two exports of Open Digital Education's statistics module, column
//! for column (`;`, every field quoted, UTF-8), so that a platform's users
//! can set entlog's figures beside the module's row for row:
//! `stats-accounts.csv` (one row per structure, month and profile) and
//! `stats-access.csv` (the same, per application).

use super::atomic_write;
use super::table::{Merged, Table};
use crate::aggregate::finish::Tables;
use crate::aggregate::key::{Grain, Metrics, RowKey};
use crate::aggregate::scope::{Scope, StructureEntry};
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::time::format_day;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The accounts export.
pub struct StatsAccounts;

/// The application access export.
pub struct StatsAccess;

const NAME: &str = "stats-accounts.csv";
const ACCESS_NAME: &str = "stats-access.csv";

/// The module's header of the access export, as it writes it.
const ACCESS_HEADER: [&str; 6] =
    ["Etablissement", "UAI", "Date", "Profil", "Nombre d'accès", "Application"];

/// The module's header of the accounts export, as it writes it.
const HEADER: [&str; 8] = [
    "Etablissement",
    "UAI",
    "Date",
    "Profil",
    "Connexions",
    "Visiteurs uniques",
    "Comptes chargés",
    "Comptes activés",
];

/// The French label of a profile, as the module's interface shows it.
fn label(p: Profile) -> &'static str {
    match p {
        Profile::Student => "Élève",
        Profile::Relative => "Parent",
        Profile::Teacher => "Enseignant",
        Profile::Personnel => "Personnel",
        Profile::Guest => "Invité",
        Profile::Unknown => "Inconnu",
    }
}

/// The columns of a CSV export as a schema: text, then counts from column
/// `counts` on (the exports have no Parquet twin).
fn csv_schema(header: &[&str], counts: std::ops::Range<usize>) -> SchemaRef {
    let fields = header.iter().enumerate().map(|(i, n)| {
        Field::new(*n, if counts.contains(&i) { DataType::Int64 } else { DataType::Utf8 }, false)
    });
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// Writes `path` as the module writes its exports: `header`, then `rows`,
/// `;`-separated, every field quoted.
fn write_csv<const N: usize>(
    path: &Path,
    header: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
) -> Result<()> {
    atomic_write(path, |file| {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(std::io::BufWriter::new(file));
        let err = |e: csv::Error| Error::output(path, e);
        w.write_record(header).map_err(err)?;
        for row in rows {
            w.write_record(row).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

impl Table for StatsAccounts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        csv_schema(&HEADER, 4..8)
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let rows = rows(tables).into_iter().filter_map(|(name, uai, k, m)| {
            Some([
                name.to_string(),
                uai.to_string(),
                format_day(k.period),
                label(k.profile?).to_string(),
                m.connections.to_string(),
                m.unique_visitors.to_string(),
                m.accounts.to_string(),
                m.activated_accounts.to_string(),
            ])
        });
        write_csv(&dir.join(NAME), HEADER, rows)
    }

    /// Written again from the merged audience rows.
    fn merged(&self) -> Merged {
        Merged::Derived
    }
}

impl Table for StatsAccess {
    fn name(&self) -> &'static str {
        ACCESS_NAME
    }

    fn schema(&self) -> SchemaRef {
        csv_schema(&ACCESS_HEADER, 4..5)
    }

    /// One row per structure, month, profile and application, from
    /// `structure_modules.parquet`'s rows, sorted like `stats-accounts.csv`
    /// then by application.
    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let mut rows: Vec<_> = tables
            .structure_apps
            .iter()
            .map(|(k, n)| {
                let (name, uai) = establishment(&tables.dims.structures[k.structure as usize]);
                let app = tables.dims.apps[k.app as usize].name.as_str();
                ((name, uai, k.month, k.profile, app), *n)
            })
            .collect();
        rows.sort_unstable();
        let rows = rows.into_iter().map(|((name, uai, month, profile, app), n)| {
            let text = |s: &str| s.to_string();
            [
                text(name),
                text(uai),
                format_day(month),
                text(label(profile)),
                n.to_string(),
                text(app),
            ]
        });
        write_csv(&dir.join(ACCESS_NAME), ACCESS_HEADER, rows)
    }

    /// Written again from the merged `structure_modules.parquet`.
    fn merged(&self) -> Merged {
        Merged::Derived
    }
}

/// The `Etablissement` and `UAI` columns of a structure: its name (its id
/// when the referential has none) and school code (empty when unknown).
fn establishment(s: &StructureEntry) -> (&str, &str) {
    (s.name.as_deref().unwrap_or(&s.id), s.uai.as_deref().unwrap_or(""))
}

/// The month rows of every structure and profile, with the structure's
/// name (its id when the referential has none) and school code, sorted by
/// name, code, month and profile (pupils, parents, teachers, staff,
/// guests, unknown).
fn rows(t: &Tables) -> Vec<(&str, &str, &RowKey, &Metrics)> {
    let mut rows: Vec<_> = t
        .audience
        .iter()
        .filter(|(k, _)| k.grain == Grain::Month && k.profile.is_some())
        .filter(|(k, _)| matches!(k.scope.scope(), Scope::Structure(_)))
        .filter_map(|(k, m)| {
            let (name, uai) = establishment(t.structure(k.scope)?);
            Some((name, uai, k, m))
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.0, a.1, a.2.period, a.2.profile).cmp(&(b.0, b.1, b.2.period, b.2.profile))
    });
    rows
}
