//! `user_visits/`: one row per visit, partitioned by month: what merging
//! runs over shards of the logs needs to join visits cut by the shards.

use super::table::{Merged, Table};
use super::{TableLayout, instant_field, instants, partitioned};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::SharedRows;
use crate::aggregate::key::{SHARDS, user_shard};
use crate::aggregate::scope::StructureId;
use crate::aggregate::visits::{VisitList, VisitSpan};
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::stored::{batches, column, dates, ints, strings};
use crate::time::month_start;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Date32Array, Int64Array, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::Path;
use std::sync::Arc;

/// The table.
pub struct UserVisits;

const NAME: &str = "user_visits";
const USER_KEY: &str = "user_key";
const DAY: &str = "day";
const START: &str = "visit_start";
const END: &str = "visit_end";
const PROFILE: &str = "profile";
const STRUCTURE_IDS: &str = "structure_ids";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, START], plain: &[USER_KEY, START, END] };

impl Table for UserVisits {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema of each partition's file, as documented in the README.
    fn schema(&self) -> SchemaRef {
        let item = Field::new("item", DataType::Utf8, true);
        Arc::new(Schema::new(vec![
            Field::new(USER_KEY, DataType::Int64, false),
            Field::new(DAY, DataType::Date32, false),
            instant_field(START),
            instant_field(END),
            Field::new(PROFILE, DataType::Utf8, false),
            Field::new(STRUCTURE_IDS, DataType::List(Arc::new(item)), false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        let spans = &tables.user_visits.spans;
        partitioned::write(
            &dir.join(NAME),
            self.schema(),
            &LAYOUT,
            spans,
            |v| month_start(v.day),
            |path, rows| self.batch(path, tables, rows),
        )
    }

    fn merged(&self) -> Merged {
        Merged::Partitioned(gather)
    }
}

impl UserVisits {
    fn batch(&self, path: &Path, t: &Tables, rows: &[VisitSpan]) -> Result<RecordBatch> {
        let mut structures = ListBuilder::new(StringBuilder::new());
        let mut ids: Vec<&str> = Vec::new();
        for v in rows {
            ids.clear();
            ids.extend(
                t.user_visits
                    .structures_of(v)
                    .iter()
                    .map(|&s| t.dims.structures[s as usize].id.as_str()),
            );
            // Sorted by text, so that the list does not depend on the order
            // the events came in.
            ids.sort_unstable();
            for id in &ids {
                structures.values().append_value(id);
            }
            structures.append(true);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| r.user as i64).collect::<Int64Array>()),
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.day))),
            instants(rows.iter().map(|r| r.start_ms)),
            instants(rows.iter().map(|r| r.end_ms)),
            Arc::new(rows.iter().map(|r| Some(r.profile.name())).collect::<StringArray>()),
            Arc::new(structures.finish()),
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::output(path, e))
    }
}

/// The visits of the file `path`, dealt into the user shards (the month
/// is in each visit's day).
fn gather(_month: i32, path: &Path, into: &SharedRows<'_>) -> Result<()> {
    let mut names = into.names();
    let mut out = vec![VisitList::default(); SHARDS];
    let mut ids: Vec<StructureId> = Vec::new();
    for b in batches(path)? {
        let (user, day) = (ints(&b, USER_KEY, path)?, dates(&b, DAY, path)?);
        let start: &TimestampMicrosecondArray = column(&b, START, path)?;
        let end: &TimestampMicrosecondArray = column(&b, END, path)?;
        let profile = strings(&b, PROFILE, path)?;
        let lists: &ListArray = column(&b, STRUCTURE_IDS, path)?;
        let values = lists
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::output(path, "structure_ids is not a list of strings"))?;
        let offsets = lists.value_offsets();
        for i in 0..b.num_rows() {
            ids.clear();
            for j in offsets[i] as usize..offsets[i + 1] as usize {
                ids.push(names.structure(values.value(j)));
            }
            let user_key = user.value(i);
            let span = VisitSpan {
                user: user_key as u64,
                day: day.value(i),
                start_ms: start.value(i).div_euclid(1000),
                end_ms: end.value(i).div_euclid(1000),
                profile: Profile::from_name(profile.value(i).as_bytes()),
                first_structure: 0,
                structure_count: 0,
            };
            out[user_shard(user_key as u64)].push_span(span, &ids);
        }
    }
    into.add_visits(out);
    Ok(())
}
