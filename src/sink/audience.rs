//! `audience.parquet`: one row per (grain, period, scope, profile).

use super::table::{Merged, Table};
use super::{BATCH_ROWS, TableLayout, key_texts, write_parquet};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::Gathered;
use crate::aggregate::key::{CounterKey, Counts, Grain, Metrics, RowKey, profile_name, profile_of};
use crate::aggregate::scope::ScopeKey;
use crate::error::{Error, Result};
use crate::sketch;
use crate::stored::{batches, column, dates, ints, strings, text};
use crate::time::format_day;
use arrow_array::{Array, ArrayRef, BinaryArray, Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datasketches::hll::HllSketch;
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct Audience;

const NAME: &str = "audience.parquet";
const GRAIN: &str = "grain";
const PERIOD: &str = "period_start";
const SCOPE: &str = "scope";
const SEGMENT: &str = "segment";
const STRUCTURE_ID: &str = "structure_id";
const UAI: &str = "uai";
const STRUCTURE_NAME: &str = "structure_name";
const PROFILE: &str = "profile";
const CONNECTIONS: &str = "connections";
const UNIQUE_VISITORS: &str = "unique_visitors";
const ACCESS: &str = "access";
const ACTIVATIONS: &str = "activations";
const VISITS: &str = "visits";
const VISIT_SECONDS: &str = "visit_seconds";
const ACCOUNTS: &str = "accounts";
const ACTIVATED_ACCOUNTS: &str = "activated_accounts";
const HLL_SKETCH: &str = "hll_sketch";

const LAYOUT: TableLayout = TableLayout {
    sorted_by: &[GRAIN, PERIOD, SCOPE, SEGMENT, STRUCTURE_ID, PROFILE],
    plain: &[HLL_SKETCH],
};

impl Table for Audience {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema, as documented in the README.
    fn schema(&self) -> SchemaRef {
        let s = |n, null| Field::new(n, DataType::Utf8, null);
        let i = |n| Field::new(n, DataType::Int64, false);
        Arc::new(Schema::new(vec![
            s(GRAIN, false),
            Field::new(PERIOD, DataType::Date32, false),
            s(SCOPE, false),
            s(SEGMENT, true),
            s(STRUCTURE_ID, true),
            s(UAI, true),
            s(STRUCTURE_NAME, true),
            s(PROFILE, false),
            i(CONNECTIONS),
            i(UNIQUE_VISITORS),
            i(ACCESS),
            i(ACTIVATIONS),
            i(VISITS),
            i(VISIT_SECONDS),
            i(ACCOUNTS),
            i(ACTIVATED_ACCOUNTS),
            Field::new(HLL_SKETCH, DataType::Binary, true),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let path = dir.join(NAME);
        let batches =
            tables.audience.chunks(BATCH_ROWS).map(|rows| self.batch(&path, tables, rows));
        write_parquet(&path, self.schema(), &LAYOUT, batches)
    }

    fn merged(&self) -> Merged {
        Merged::Whole(gather)
    }
}

impl Audience {
    fn batch(&self, path: &Path, t: &Tables, rows: &[(RowKey, Metrics)]) -> Result<RecordBatch> {
        let int = |f: fn(&Metrics) -> i64| -> ArrayRef {
            Arc::new(rows.iter().map(|(_, m)| f(m)).collect::<Int64Array>())
        };
        let structure = |k: &RowKey| t.structure(k.scope);
        let columns: Vec<ArrayRef> = vec![
            key_texts(rows, |k| Some(k.grain.name())),
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|(k, _)| k.period))),
            key_texts(rows, |k| Some(k.scope.scope().name())),
            key_texts(rows, |k| t.segment_name(k.scope)),
            key_texts(rows, |k| t.structure_id(k.scope)),
            key_texts(rows, |k| structure(k).and_then(|s| s.uai.as_deref())),
            key_texts(rows, |k| structure(k).and_then(|s| s.name.as_deref())),
            key_texts(rows, |k| Some(profile_name(k.profile))),
            int(|m| m.connections),
            int(|m| m.unique_visitors),
            int(|m| m.access),
            int(|m| m.activations),
            int(|m| m.visits),
            int(|m| m.visit_seconds),
            int(|m| m.accounts),
            int(|m| m.activated_accounts),
            Arc::new(
                rows.iter()
                    .map(|(k, _)| t.sketches.get(k).map(Vec::as_slice))
                    .collect::<BinaryArray>(),
            ),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// One row as read back from a file, its text borrowed.
pub struct Record<'a> {
    /// `day`, `week`, `month` or `all`.
    pub grain: &'a str,
    /// First day of the period.
    pub period: i32,
    /// `platform`, `segment` or `structure`.
    pub scope: &'a str,
    /// The segment (of the structure, for a structure row).
    pub segment: Option<&'a str>,
    /// The structure's id, for a structure row.
    pub structure_id: Option<&'a str>,
    /// The structure's school code, when known.
    pub uai: Option<&'a str>,
    /// The structure's name, when known.
    pub name: Option<&'a str>,
    /// A profile name, or `All`.
    pub profile: &'a str,
    /// The row's figures (`unique_visitors` as written).
    pub metrics: Metrics,
    /// The HLL sketch of a month row.
    pub sketch: Option<&'a [u8]>,
}

/// Calls `f` with every row of the table at `path`.
pub fn read(path: &Path, mut f: impl FnMut(Record<'_>) -> Result<()>) -> Result<()> {
    for b in batches(path)? {
        let s = |n| strings(&b, n, path);
        let (grain, scope, segment, sid) = (s(GRAIN)?, s(SCOPE)?, s(SEGMENT)?, s(STRUCTURE_ID)?);
        let (uai, name, profile) = (s(UAI)?, s(STRUCTURE_NAME)?, s(PROFILE)?);
        let period = dates(&b, PERIOD, path)?;
        let i = |n| ints(&b, n, path);
        let (connections, unique, access) = (i(CONNECTIONS)?, i(UNIQUE_VISITORS)?, i(ACCESS)?);
        let (activations, visits, seconds) = (i(ACTIVATIONS)?, i(VISITS)?, i(VISIT_SECONDS)?);
        // Tables of runs made before accounts were counted lack these two
        // columns: their rows have no accounts.
        let optional = |n| b.column_by_name(n).is_some().then(|| i(n)).transpose();
        let (accounts, activated) = (optional(ACCOUNTS)?, optional(ACTIVATED_ACCOUNTS)?);
        let value = |c: Option<&Int64Array>, r| c.map_or(0, |c| c.value(r));
        let hll: &BinaryArray = column(&b, HLL_SKETCH, path)?;
        for r in 0..b.num_rows() {
            f(Record {
                grain: grain.value(r),
                period: period.value(r),
                scope: scope.value(r),
                segment: text(segment, r),
                structure_id: text(sid, r),
                uai: text(uai, r),
                name: text(name, r),
                profile: profile.value(r),
                metrics: Metrics {
                    connections: connections.value(r),
                    unique_visitors: unique.value(r),
                    access: access.value(r),
                    activations: activations.value(r),
                    visits: visits.value(r),
                    visit_seconds: seconds.value(r),
                    accounts: value(accounts, r),
                    activated_accounts: value(activated, r),
                },
                sketch: (!hll.is_null(r)).then(|| hll.value(r)),
            })?;
        }
    }
    Ok(())
}

/// What a merge keeps of a run's rows: the event counts of day rows per
/// profile (every other grain and `All` are sums of them) and the
/// sketches of month rows.
fn gather(path: &Path, into: &mut Gathered) -> Result<()> {
    read(path, |r| {
        let scope = match r.scope {
            "platform" => ScopeKey::PLATFORM,
            "segment" => ScopeKey::segment(into.dims.segment(r.segment.unwrap_or_default())),
            _ => ScopeKey::structure(into.dims.structure(
                r.structure_id.unwrap_or_default(),
                r.segment,
                r.uai,
                r.name,
            )),
        };
        let profile = profile_of(r.profile);
        let day = r.period;
        match (Grain::from_name(r.grain), profile, r.sketch) {
            (Some(Grain::Day), Some(profile), _) => {
                let m = &r.metrics;
                into.counters.add_cell(
                    CounterKey { day, scope, profile },
                    Counts {
                        connections: m.connections as u64,
                        access: m.access as u64,
                        activations: m.activations as u64,
                    },
                );
            }
            (Some(Grain::Month), _, Some(bytes)) => {
                let s = HllSketch::deserialize(bytes).map_err(|e| {
                    Error::output(
                        path,
                        format!("{} row {}: bad hll_sketch: {e}", r.grain, format_day(day)),
                    )
                })?;
                let key = RowKey { grain: Grain::Month, period: day, scope, profile };
                into.sketches.entry(key).or_insert_with(sketch::new_union).update(&s);
            }
            _ => {}
        }
        Ok(())
    })
}
