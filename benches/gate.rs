//! The workload of the benchmark gate (`benches/gate.py`): each hot stage
//! once, on a fixed generated input, in a function of its own named
//! `gate_stage_*` so that callgrind can count the instructions of each.
//!
//! Instruction counts do not depend on the machine's load, unlike times,
//! so they can fail a CI build on a shared machine. Run alone, it prints
//! what each stage produced (a check that it did the work).

use entlog::aggregate::accounts::Directory;
use entlog::aggregate::finish::{Settings, Tables, finish};
use entlog::aggregate::scope::Dimensions;
use entlog::aggregate::{Agg, Context, Worker};
use entlog::generate::{Compress, GenerateOptions, Output, generate};
use entlog::keys::{DEFAULT_SALT, UserKeyer};
use entlog::parse::{Event, Format};
use entlog::referential::Referential;
use entlog::sink::audience::Audience;
use entlog::sink::table::Table;
use entlog::sink::user_activity::UserActivity;
use entlog::split::{CHUNK_SIZE, chunks, lines};
use entlog::time::LocalDays;
use std::hint::black_box;
use std::path::{Path, PathBuf};

#[inline(never)]
fn gate_stage_split(data: &[u8]) -> usize {
    chunks(data, CHUNK_SIZE).iter().map(|c| lines(c).count()).sum()
}

#[inline(never)]
fn gate_stage_parse(data: &[u8]) -> usize {
    let mut ev = Event::default();
    lines(data).filter(|l| Format::EntcoreJson.parse(l, &mut ev).is_ok()).count()
}

#[inline(never)]
fn gate_stage_aggregate(ctx: &Context, events: &[Event<'_>]) -> Agg {
    let mut w = Worker::new(ctx);
    for ev in events {
        let _ = w.consume(ev);
    }
    w.agg
}

#[inline(never)]
fn gate_stage_finish(agg: Agg, dims: Dimensions, dir: &Directory, settings: &Settings) -> Tables {
    finish(agg, dims, dir, settings)
}

#[inline(never)]
fn gate_stage_write(tables: &Tables, dir: &Path) {
    Audience.write(dir, tables).unwrap();
    UserActivity.write(dir, tables).unwrap();
}

/// Usage: `gate DUMP_DIR`. Generates the fixed input into `DUMP_DIR`
/// unless it is there, then runs each stage once. (The whole pipeline is
/// measured by running `entlog analyze` on the same dump.)
fn main() {
    let Some(dump) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) else {
        eprintln!("usage: gate DUMP_DIR (see benches/gate.py)");
        std::process::exit(2);
    };
    // One thread, as `benches/gate.py` says and as the pipeline stage runs
    // (`--threads 1`): on more, the final stage's parallel parts split their
    // work differently from run to run, and so does their instruction count.
    // The stages run on that thread (`install`), so that the work they hand
    // to rayon runs under the stage's function, where callgrind counts it.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    pool.install(|| run_stages(PathBuf::from(dump)));
}

/// Runs each stage once on the dump in `dump`, generating it first if
/// needed.
fn run_stages(dump: PathBuf) {
    if !dump.join("structures.csv").exists() {
        let opts = GenerateOptions {
            out: dump.clone(),
            seed: 8,
            scale: 0.005,
            compress: Compress::None,
            output: Output::EventStore,
        };
        generate(&opts).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(dump.join("events/2020-03.json")).unwrap();

    let lines_seen = gate_stage_split(black_box(&data));
    let parsed = gate_stage_parse(black_box(&data));
    let events: Vec<Event<'_>> = lines(&data)
        .filter_map(|l| {
            let mut ev = Event::default();
            Format::EntcoreJson.parse(l, &mut ev).ok().map(|()| ev)
        })
        .collect();
    let ctx = Context::new(
        UserKeyer::new(DEFAULT_SALT),
        Referential::load(&dump).unwrap(),
        LocalDays::new(jiff::tz::TimeZone::get("Europe/Paris").unwrap()),
    );
    let agg = gate_stage_aggregate(&ctx, black_box(&events));
    let tables = gate_stage_finish(agg, ctx.dimensions(), &ctx.users, &settings(&ctx));
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    gate_stage_write(&tables, &out);
    println!(
        "{} bytes, {lines_seen} lines, {parsed} events parsed, {} audience rows",
        data.len(),
        tables.audience.len()
    );
}

/// The final stage's settings with the defaults of `analyze`.
fn settings(ctx: &Context) -> Settings {
    Settings { days: ctx.days.clone(), visit_gap_ms: 30 * 60 * 1000 }
}
