//! `user_visits/`: one row per visit, partitioned by month: what merging
//! runs over shards of the logs needs to join visits cut by the shards.

use super::table::{Merged, Table};
use super::{TableLayout, instant_field, instants, partitioned};
use crate::aggregate::finish::Tables;
use crate::aggregate::gather::SharedRows;
use crate::aggregate::key::{SHARDS, user_shard};
use crate::aggregate::scope::{Dimensions, StructureId};
use crate::aggregate::visit_list::day_base_ms;
use crate::aggregate::visit_list::{MAX_AT, NO_SERVICE, Point, VisitList, VisitSpan};
use crate::aggregate::visit_table::VisitTable;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::parse::Profile;
use crate::service::{SERVICES, service_id};
use crate::stored::{batches, column, dates, ints, strings};
use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Date32Array, Int32Array, Int64Array, ListArray, RecordBatch, StringArray,
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
const DEVICE: &str = "device";
const EVENT_OFFSETS: &str = "event_offsets_ms";
const EVENT_SERVICES: &str = "event_services";

const LAYOUT: TableLayout =
    TableLayout { sorted_by: &[USER_KEY, START], plain: &[USER_KEY, START, END, EVENT_OFFSETS] };

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
            Field::new(STRUCTURE_IDS, DataType::List(Arc::new(item.clone())), false),
            Field::new(DEVICE, DataType::Utf8, false),
            Field::new(EVENT_OFFSETS, DataType::List(Arc::new(offset_item())), false),
            Field::new(EVENT_SERVICES, DataType::List(Arc::new(item)), false),
        ]))
    }

    fn write(&self, dir: &Path, tables: &Tables) -> Result<()> {
        if tables.user_visits.is_written() {
            return Ok(());
        }
        self.write_visits(dir, &tables.user_visits, &tables.dims)
    }

    fn merged(&self) -> Merged {
        Merged::Partitioned(gather)
    }
}

/// The items of `event_offsets_ms`.
fn offset_item() -> Field {
    Field::new("item", DataType::Int32, true)
}

impl UserVisits {
    /// Writes `table` into `dir`, its structures named by `dims`: as the
    /// other tables are, or while the final stage counts the other figures
    /// (see [`VisitWriter`](crate::aggregate::finish::VisitWriter)).
    pub fn write_visits(&self, dir: &Path, table: &VisitTable, dims: &Dimensions) -> Result<()> {
        let months = table.months();
        partitioned::write_months(
            &dir.join(NAME),
            self.schema(),
            &LAYOUT,
            months.len(),
            |i| (months[i].0, table.places(months[i])),
            |path, rows| self.batch(path, table, dims, rows),
        )
    }

    fn batch(
        &self,
        path: &Path,
        table: &VisitTable,
        dims: &Dimensions,
        places: &[(u32, u32)],
    ) -> Result<RecordBatch> {
        let visits = table.visits(places);
        let rows = || visits.iter().map(|v| v.span);
        let mut structures = ListBuilder::new(StringBuilder::new());
        let mut ids: Vec<&str> = Vec::new();
        for v in &visits {
            ids.clear();
            ids.extend(v.structures.iter().map(|&s| dims.structures[s as usize].id.as_str()));
            // Sorted by text, so that the list does not depend on the order
            // the events came in.
            ids.sort_unstable();
            for id in &ids {
                structures.values().append_value(id);
            }
            structures.append(true);
        }
        let mut offsets = ListBuilder::new(Int32Builder::new()).with_field(offset_item());
        let mut services = ListBuilder::new(StringBuilder::new());
        for v in &visits {
            let start = i64::from(v.span.start());
            for p in v.points {
                offsets.values().append_value((i64::from(p.at) - start) as i32);
                services.values().append_option(SERVICES.get(usize::from(p.service)));
            }
            offsets.append(true);
            services.append(true);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows().map(|r| r.user as i64).collect::<Int64Array>()),
            Arc::new(Date32Array::from_iter_values(rows().map(|r| r.day))),
            instants(rows().map(VisitSpan::start_ms)),
            instants(rows().map(VisitSpan::end_ms)),
            Arc::new(rows().map(|r| Some(r.profile().name())).collect::<StringArray>()),
            Arc::new(structures.finish()),
            Arc::new(rows().map(|r| Some(r.device().name())).collect::<StringArray>()),
            Arc::new(offsets.finish()),
            Arc::new(services.finish()),
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
    let mut visit_points: Vec<Point> = Vec::new();
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
        let device = strings(&b, DEVICE, path)?;
        let points = Points::of(&b, path)?;
        for i in 0..b.num_rows() {
            ids.clear();
            for j in offsets[i] as usize..offsets[i + 1] as usize {
                ids.push(names.structure(values.value(j)));
            }
            let user_key = user.value(i);
            let day = day.value(i);
            // A span holds its instants as offsets in its day.
            let offset = |micros: i64| {
                u32::try_from(micros.div_euclid(1000) - day_base_ms(day))
                    .ok()
                    .filter(|&at| at <= MAX_AT)
                    .ok_or_else(|| Error::output(path, "a visit's start or end is outside its day"))
            };
            let span = VisitSpan::new(
                user_key as u64,
                day,
                (offset(start.value(i))?, offset(end.value(i))?),
                Profile::from_name(profile.value(i).as_bytes()),
                Device::from_name(device.value(i)),
            );
            points.read(i, i64::from(span.start()), &mut visit_points);
            out[user_shard(user_key as u64)].push(span, &ids, &visit_points);
        }
    }
    into.add_visits(out);
    Ok(())
}

/// The points columns of a batch: `event_offsets_ms` and `event_services`.
struct Points<'b> {
    offsets: &'b ListArray,
    offset_values: &'b Int32Array,
    services: &'b ListArray,
    service_values: &'b StringArray,
}

impl<'b> Points<'b> {
    /// The two columns of `b`, read from `path`.
    fn of(b: &'b RecordBatch, path: &Path) -> Result<Points<'b>> {
        let offsets: &ListArray = column(b, EVENT_OFFSETS, path)?;
        let services: &ListArray = column(b, EVENT_SERVICES, path)?;
        let not = |what: &str| Error::output(path, format!("{what} has the wrong type"));
        Ok(Points {
            offset_values: offsets
                .values()
                .as_any()
                .downcast_ref()
                .ok_or_else(|| not(EVENT_OFFSETS))?,
            service_values: services
                .values()
                .as_any()
                .downcast_ref()
                .ok_or_else(|| not(EVENT_SERVICES))?,
            offsets,
            services,
        })
    }

    /// The points of row `i`, whose visit starts `start` ms after the base
    /// of its day, into `out` (sorted, distinct).
    fn read(&self, i: usize, start: i64, out: &mut Vec<Point>) {
        out.clear();
        let (o, s) = (self.offsets.value_offsets(), self.services.value_offsets());
        let services = s[i] as usize..s[i + 1] as usize;
        for (j, k) in (o[i] as usize..o[i + 1] as usize).zip(services) {
            let service = match self.service_values.is_null(k) {
                true => None,
                false => service_id(self.service_values.value(k)),
            };
            let service = service.unwrap_or(NO_SERVICE);
            let at = start + i64::from(self.offset_values.value(j));
            out.push(Point { at: at as u32, service });
        }
        out.sort_unstable();
        out.dedup();
    }
}
