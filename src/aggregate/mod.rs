//! Per-worker aggregate state: fold events in, merge states, finish into
//! rows.
//!
//! A worker keeps two tables:
//!
//! - **counters** by (local day, scope, profile): connections, access and
//!   activations. Counts add up, so weeks, months and the `All` profile are
//!   sums of these at the end. An event counts once at platform level,
//!   once per distinct segment and once per distinct structure it names.
//! - **facts** by (user key, local day, structure, profile): the user's
//!   connections, access and first/last instants that day. Every distinct
//!   count and the `user_activity` table come from facts, grouped by user;
//!   nothing distinct is ever summed. Facts are kept in one table per
//!   local day, as logs come in time order and the day being read then
//!   has a table that stays in cache. A day the worker has left behind
//!   ([`day_clock`]) is closed: its facts become month rows by user shard
//!   ([`month_rows`]), a user's days of a month in one row, which is what
//!   the final stage works from. Application facts are kept the same way.
//!
//! The tables grow with the number of distinct (user, day) pairs being
//! read and (user, month) pairs read, never with the number of events.

pub mod accounts;
pub mod app_names;
pub mod apps;
mod audience_cells;
mod by_day;
pub mod class_names;
pub mod classes;
pub mod day_clock;
pub mod dedup;
pub mod events;
pub mod finish;
pub mod gather;
mod grid;
pub mod hourly;
pub mod http;
pub mod intern;
pub mod key;
pub mod month_rows;
pub mod open_visits;
pub mod owners;
pub mod scope;
pub mod state;
pub mod structure_apps;
pub mod users;
pub mod visit_list;
pub mod visit_table;
pub mod visits;
pub mod worker;

pub use accounts::KnownUser;
pub use key::{
    AppFactKey, CounterKey, Counts, Fact, FactKey, Grain, RowKey, SHARDS, profile_name, user_shard,
};
pub use state::{Agg, DEFAULT_VISIT_GAP_MS, Record, UserRecord};
pub use worker::{Context, Worker};
