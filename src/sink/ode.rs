//! `stats-accounts.csv`: the accounts export of Open Digital Education's
//! statistics module, column for column (`;`, every field quoted, UTF-8),
//! so that a platform's users can set entlog's figures beside the module's
//! row for row: one row per structure, month and profile.

use super::atomic_write;
use super::table::{Merged, Table};
use crate::aggregate::finish::Tables;
use crate::aggregate::key::{Grain, Metrics, RowKey};
use crate::aggregate::scope::Scope;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::time::format_day;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct StatsAccounts;

const NAME: &str = "stats-accounts.csv";

/// The module's header, as it writes it.
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

impl Table for StatsAccounts {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The columns of the CSV file (it has no Parquet twin).
    fn schema(&self) -> SchemaRef {
        let fields = HEADER.iter().enumerate().map(|(i, n)| {
            Field::new(*n, if i < 4 { DataType::Utf8 } else { DataType::Int64 }, i == 1)
        });
        Arc::new(Schema::new(fields.collect::<Vec<_>>()))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let rows = rows(tables);
        atomic_write(&path, |file| {
            let mut w = csv::WriterBuilder::new()
                .delimiter(b';')
                .quote_style(csv::QuoteStyle::Always)
                .from_writer(std::io::BufWriter::new(file));
            let err = |e: csv::Error| Error::output(&path, e);
            w.write_record(HEADER).map_err(err)?;
            for (name, uai, k, m) in rows {
                let Some(profile) = k.profile else { continue };
                let n = |x: i64| x.to_string();
                w.write_record([
                    name,
                    uai,
                    &format_day(k.period),
                    label(profile),
                    &n(m.connections),
                    &n(m.unique_visitors),
                    &n(m.accounts),
                    &n(m.activated_accounts),
                ])
                .map_err(err)?;
            }
            w.flush().map_err(|e| Error::io(&path, e))
        })
    }

    /// Written again from the merged audience rows.
    fn merged(&self) -> Merged {
        Merged::Derived
    }
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
            let s = t.structure(k.scope)?;
            Some((s.name.as_deref().unwrap_or(&s.id), s.uai.as_deref().unwrap_or(""), k, m))
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.0, a.1, a.2.period, a.2.profile).cmp(&(b.0, b.1, b.2.period, b.2.profile))
    });
    rows
}
