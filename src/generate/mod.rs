//! `entlog generate`: a deterministic synthetic ENT, for demos, tests and
//! benchmarks.
//!
//! The scenario `somme-2020` is a departmental ENT like Somme Numérique's
//! from September 2019 to March 2020: several hundred primary schools
//! (`ECOLE`) and a few dozen middle schools (`COLLEGE`) of the Somme, their
//! pupils, parents, teachers and staff, and activity that follows school
//! life, up to the closure of schools on 16 March 2020. At scale 1, March
//! 2020 in schools has exactly the published figures: 1,780,781
//! connections, +1500% against the mean of the other months, 31,640
//! distinct pupils and 22,437 distinct parents.
//!
//! Output: `DIR/events/YYYY-MM.json` (one `mongoexport` dump per month,
//! optionally gzip or zstd) and `DIR/structures.csv`; or, as the front's
//! access log, `DIR/access/YYYY-MM.log` (combined, or nginx with
//! [`NGINX_LOG_FORMAT`]) with the users referential `DIR/users.csv`. The same seed gives
//! the same bytes, whatever the thread count: each day is drawn from its
//! own random stream and days are written in order.

mod access_log;
mod agents;
mod calendar;
mod population;
mod render;
pub mod rng;
mod schedule;

use crate::error::{Error, Result};
use crate::time::{LocalDays, civil_from_days, month_start};
use population::Population;
use rayon::prelude::*;
use rng::Rng;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use access_log::{NGINX_LOG_FORMAT, Style};
pub use population::{MARCH_CONNECTIONS, MARCH_PARENTS, MARCH_PUPILS};

/// What the scenario is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The event store (`events/YYYY-MM.json`).
    EventStore,
    /// The front's access log (`access/YYYY-MM.log`), with `users.csv`.
    AccessLog(Style),
}

/// Compression of generated dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compress {
    /// Plain JSON lines.
    None,
    /// gzip, one member per day (a valid multi-member gzip file).
    Gzip,
    /// zstd, one frame per day.
    Zstd,
}

impl Compress {
    fn suffix(self) -> &'static str {
        match self {
            Compress::None => "",
            Compress::Gzip => ".gz",
            Compress::Zstd => ".zst",
        }
    }
}

/// Options of `entlog generate`.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Seed of every random draw.
    pub seed: u64,
    /// Multiplies users and events (1.0: the published figures).
    pub scale: f64,
    /// Compression of the dumps.
    pub compress: Compress,
    /// Event store or access log.
    pub output: Output,
}

/// What was generated.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Events written.
    pub events: u64,
    /// Bytes of JSON written (before compression).
    pub bytes: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Structures in the referential.
    pub structures: usize,
    /// Users in the population.
    pub users: usize,
}

/// Smallest and largest scales accepted: below, a school would have less
/// than one pupil; above, a dump would not fit on most disks.
pub const SCALE_RANGE: (f64, f64) = (0.001, 100.0);

/// Generates the scenario into `opts.out`.
pub fn generate(opts: &GenerateOptions) -> Result<Generated> {
    if !(SCALE_RANGE.0..=SCALE_RANGE.1).contains(&opts.scale) {
        return Err(Error::usage(format!(
            "--scale must be between {} and {}",
            SCALE_RANGE.0, SCALE_RANGE.1
        )));
    }
    let tz = jiff::tz::TimeZone::get("Europe/Paris").map_err(|e| Error::usage(e.to_string()))?;
    let pop = Population::new(&mut Rng::new(opts.seed, 0), opts.scale);
    let plan = schedule::schedule(&pop, &mut Rng::new(opts.seed, 1), opts.scale);
    let (dir, extension) = match opts.output {
        Output::EventStore => ("events", "json"),
        Output::AccessLog(_) => ("access", "log"),
    };
    let events_dir = opts.out.join(dir);
    std::fs::create_dir_all(&events_dir).map_err(|e| Error::io(&events_dir, e))?;
    let mut done = write_referential(opts, &pop, &plan.first_login)?;
    let scenario = Scenario { opts, days: LocalDays::new(tz.clone()), tz, pop, plan };
    let n_days = scenario.plan.by_day.len();
    let mut day = 0;
    while day < n_days {
        // One file per month.
        let first_day = scenario.plan.first_day;
        let month = month_start(first_day + day as i32);
        let (y, m, _) = civil_from_days(month);
        let path = events_dir.join(format!("{y:04}-{m:02}.{extension}{}", opts.compress.suffix()));
        let month_days: Vec<usize> =
            (day..n_days).take_while(|&d| month_start(first_day + d as i32) == month).collect();
        scenario.write_month(&path, &month_days, &mut done)?;
        done.files.push(path);
        day += month_days.len();
    }
    Ok(done)
}

/// Writes the referential beside the dump: `structures.csv`, the
/// directory of every account `users.csv` (for access logs, the only word
/// on who users are), the names of classes `classes.csv`, and for nginx
/// `log_format.conf`.
fn write_referential(
    opts: &GenerateOptions,
    pop: &Population,
    first_login: &[i32],
) -> Result<Generated> {
    write_structures(&opts.out.join("structures.csv"), pop)?;
    let mut rng = Rng::new(opts.seed, 2);
    write_users(&opts.out.join("users.csv"), pop, first_login, &mut rng)?;
    write_classes(&opts.out.join("classes.csv"), pop)?;
    let mut done = Generated {
        structures: pop.structures.len(),
        users: pop.users.len(),
        files: ["structures.csv", "users.csv", "classes.csv"].map(|f| opts.out.join(f)).into(),
        ..Generated::default()
    };
    if opts.output == Output::AccessLog(Style::Nginx) {
        let path = opts.out.join("log_format.conf");
        let directive = format!("log_format entlog '{NGINX_LOG_FORMAT}';\n");
        crate::sink::atomic_write(&path, |f| {
            f.write_all(directive.as_bytes()).map_err(|e| Error::io(&path, e))
        })?;
        done.files.push(path);
    }
    Ok(done)
}

/// What every day of the dump is rendered from.
struct Scenario<'o> {
    opts: &'o GenerateOptions,
    days: LocalDays,
    tz: jiff::tz::TimeZone,
    pop: Population,
    plan: schedule::Schedule,
}

impl Scenario<'_> {
    /// Writes the days `month_days` (indexes in the schedule) into the
    /// file `path`, a few days at a time rendered in parallel, so that
    /// memory holds a few days, not a month.
    fn write_month(&self, path: &Path, month_days: &[usize], done: &mut Generated) -> Result<()> {
        crate::sink::atomic_write(path, |file| {
            let mut w = BufWriter::with_capacity(1 << 20, file);
            for batch in month_days.chunks(rayon::current_num_threads().max(1) * 2) {
                let parts: Vec<(Vec<u8>, u64, u64)> = batch
                    .par_iter()
                    .map(|&d| self.day(d))
                    .collect::<std::io::Result<_>>()
                    .map_err(|e| Error::io(path, e))?;
                for (bytes, raw, events) in parts {
                    w.write_all(&bytes).map_err(|e| Error::io(path, e))?;
                    done.bytes += raw;
                    done.events += events;
                }
            }
            w.flush().map_err(|e| Error::io(path, e))
        })
    }

    /// Day `d` of the schedule: its bytes as written (compressed or
    /// not), its size before compression and its events.
    fn day(&self, d: usize) -> std::io::Result<(Vec<u8>, u64, u64)> {
        let (opts, plan) = (self.opts, &self.plan);
        let date = plan.first_day + d as i32;
        let (evs, mut rng) = render::day_events(
            &self.pop,
            date,
            &plan.by_day[d],
            &plan.first_login,
            opts.seed,
            &self.days,
        );
        let out = match opts.output {
            Output::EventStore => render::event_store(&self.pop, &evs, &mut rng),
            Output::AccessLog(style) => {
                access_log::render(&self.pop, &evs, &mut rng, style, &self.tz)
            }
        };
        let mut bytes = out.bytes;
        // The dump's very last line has no newline, as when a file is cut
        // by hand.
        if d + 1 == plan.by_day.len() && bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        let raw = bytes.len() as u64;
        compress(opts.compress, bytes).map(|b| (b, raw, out.events))
    }
}

/// Compresses one day's lines as a self-contained gzip member or zstd
/// frame; concatenated, they form a valid file.
fn compress(how: Compress, bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    match how {
        Compress::None => Ok(bytes),
        Compress::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(bytes.len() / 6),
                flate2::Compression::fast(),
            );
            enc.write_all(&bytes)?;
            enc.finish()
        }
        Compress::Zstd => zstd::encode_all(&bytes[..], 3),
    }
}

/// Of each profile (by code), the odds that a user of the population has a
/// dormant twin in the directory: an account of the same profile and
/// structures that never logs in (a second parent, a pupil of a primary
/// class that does not use the ENT).
const DORMANT: [f64; 5] = [0.12, 0.45, 0.08, 0.2, 0.0];

/// The directory of every account: `id,profile,structures,activated,
/// classes`, as exported at the end of the school year. Pupils, parents
/// and teachers have the class of [`Population::class_of`] (a dormant
/// twin has its user's), staff none. Users who log in are activated
/// (two in five of those whose first login is before November do it in the
/// logs, with an `ACTIVATION` event); accounts that never log in (the
/// [`DORMANT`] ones and the few users who do not) are, one in four,
/// activated before the logs, and the rest never are.
fn write_users(path: &Path, pop: &Population, first_login: &[i32], rng: &mut Rng) -> Result<()> {
    const PROFILES: [&str; 5] = ["Student", "Relative", "Teacher", "Personnel", "Guest"];
    crate::sink::atomic_write(path, |file| {
        let mut w = csv::Writer::from_writer(BufWriter::new(file));
        let err = |e: csv::Error| Error::output(path, e);
        w.write_record(["id", "profile", "structures", "activated", "classes"]).map_err(err)?;
        let mut structures = String::new();
        for (i, u) in pop.users.iter().enumerate() {
            let dormant = rng.chance(DORMANT[usize::from(u.profile.min(4))]).then(|| rng.uuid());
            let activated = first_login[i] != i32::MAX || rng.chance(0.25);
            structures.clear();
            for (i, &s) in u.structures.iter().enumerate() {
                if i > 0 {
                    structures.push(';');
                }
                structures.push_str(
                    std::str::from_utf8(&pop.structures[s as usize].id).unwrap_or_default(),
                );
            }
            let id = std::str::from_utf8(&u.id).unwrap_or_default();
            let profile = PROFILES[usize::from(u.profile.min(4))];
            let flag = |a: bool| if a { "true" } else { "false" };
            let class = match u.profile {
                0..=2 => pop.class_of(u).map(|c| std::str::from_utf8(c).unwrap_or_default()),
                _ => None,
            };
            let class = class.unwrap_or_default();
            w.write_record([id, profile, &structures, flag(activated), class]).map_err(err)?;
            if let Some(twin) = dormant {
                let twin = std::str::from_utf8(&twin).unwrap_or_default();
                w.write_record([twin, profile, &structures, flag(rng.chance(0.25)), class])
                    .map_err(err)?;
            }
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// Names of the classes of a primary school and of a middle school, in
/// the order of a structure's class ids.
const CLASS_NAMES: [&[&str]; 2] = [
    &["CP-CE1", "CE1-CE2", "CE2-CM1", "CM1-CM2"],
    &[
        "6e A", "6e B", "6e C", "6e D", "5e A", "5e B", "5e C", "5e D", "4e A", "4e B", "4e C",
        "4e D", "3e A", "3e B", "3e C", "3e D",
    ],
];

/// The names of classes: `id,name,structure_id`.
fn write_classes(path: &Path, pop: &Population) -> Result<()> {
    crate::sink::atomic_write(path, |file| {
        let mut w = csv::Writer::from_writer(BufWriter::new(file));
        let err = |e: csv::Error| Error::output(path, e);
        w.write_record(["id", "name", "structure_id"]).map_err(err)?;
        for s in &pop.structures {
            let names = CLASS_NAMES[usize::from(s.kind == population::Kind::College)];
            let structure = std::str::from_utf8(&s.id).unwrap_or_default();
            for (class, name) in s.classes.iter().zip(names.iter().cycle()) {
                let id = std::str::from_utf8(class).unwrap_or_default();
                w.write_record([id, name, structure]).map_err(err)?;
            }
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// The referential: `id,uai,name,type`.
fn write_structures(path: &Path, pop: &Population) -> Result<()> {
    crate::sink::atomic_write(path, |file| {
        let mut w = csv::Writer::from_writer(file);
        let err = |e: csv::Error| Error::output(path, e);
        w.write_record(["id", "uai", "name", "type"]).map_err(err)?;
        for s in &pop.structures {
            let id = std::str::from_utf8(&s.id).unwrap_or_default();
            w.write_record([id, &s.uai, &s.name, s.kind.name()]).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}
