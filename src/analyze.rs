//! `entlog analyze`: inputs in, tables and `run.json` out.

use crate::aggregate::dedup::Dedup;
use crate::aggregate::finish::{Settings, Tables, VisitWriter, count};
use crate::aggregate::key::Grain;
use crate::aggregate::scope::Dimensions;
use crate::aggregate::scope::ScopeKey;
use crate::aggregate::visit_table::VisitTable;
use crate::aggregate::{Agg, Context, Worker};
use crate::annuaire::Annuaire;
use crate::error::{Error, Result};
use crate::hash::FastMap;
use crate::input;
use crate::keys::UserKeyer;
use crate::parse::Format;
use crate::parse::Profile;
use crate::parse::access::LoginRule;
use crate::referential::{self, Referential};
use crate::report::data::ReportData;
use crate::scan::scan_input;
use crate::service::ServiceMap;
use crate::sink::lake;
use crate::sink::outdir::Staging;
use crate::sink::registry::TABLES;
use crate::sink::run_json;
use crate::sink::run_json::{InputReport, Phases, RunOptions, RunReport};
use crate::sink::table::{Table, file_names};
use crate::sink::user_visits::UserVisits;
use crate::spill::{Spill, SpillOptions};
use crate::time::{LocalDays, format_day};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::tz::TimeZone;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where the salt of user pseudonyms came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaltSource {
    /// `--salt`.
    Flag,
    /// The `ENTLOG_SALT` environment variable.
    Env,
    /// [`crate::keys::DEFAULT_SALT`]: not for production.
    Default,
}

impl SaltSource {
    fn name(self) -> &'static str {
        match self {
            SaltSource::Flag => "--salt",
            SaltSource::Env => "ENTLOG_SALT",
            SaltSource::Default => "default",
        }
    }
}

/// Everything `analyze` needs to know.
#[derive(Clone, Debug)]
pub struct AnalyzeOptions {
    /// Files, directories, or `-` for stdin.
    pub inputs: Vec<PathBuf>,
    /// Output directory (created if missing).
    pub out: PathBuf,
    /// Format of every input, or `None` to detect each.
    pub format: Option<Format>,
    /// IANA time zone name periods are cut in.
    pub tz: String,
    /// Directory holding `structures.csv`.
    pub referential: Option<PathBuf>,
    /// The national school directory's CSV (`--annuaire`).
    pub annuaire: Option<PathBuf>,
    /// The application -> national service mapping (`--services`), in
    /// place of the default.
    pub services: Option<PathBuf>,
    /// A shared table location the run's per-user partial tables are
    /// added to (`--lake`).
    pub lake: Option<PathBuf>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Secret salt of user pseudonyms.
    pub salt: String,
    /// Where the salt came from (recorded, the salt is not).
    pub salt_source: SaltSource,
    /// Memory-map plain files (otherwise read them as streams).
    pub mmap: bool,
    /// Longest gap inside a visit, ms (a gap of exactly this continues the
    /// visit).
    pub visit_gap_ms: i64,
    /// Compute visits (they need memory for every activity event).
    pub visits: bool,
    /// Memory visit lists may take; beyond it they go to a spill file and
    /// are read back through a memory map.
    pub spill: SpillOptions,
    /// Show a progress bar on stderr (the caller checks it is a terminal).
    pub progress: bool,
    /// Which requests of access logs are logins.
    pub login: LoginRule,
    /// First local day an event may fall on (default 2000-01-01).
    pub valid_from: i32,
    /// Last local day an event may fall on; `None`: the day after the
    /// run's own day, in the run's time zone.
    pub valid_until: Option<i32>,
    /// Largest share of rejected lines (0 to 1) a run may have and still
    /// succeed.
    pub max_rejected: f64,
    /// First local day read (`--since`); earlier events are skipped.
    pub since: Option<i32>,
    /// Last local day read (`--until`); later events are skipped.
    pub until: Option<i32>,
    /// Skip events whose id was already read (`--dedup`).
    pub dedup: bool,
}

/// The default of `--valid-from`: ENT platforms are younger than this.
pub const DEFAULT_VALID_FROM: &str = "2000-01-01";

/// The default of `--max-rejected`: a dump with more bad lines than this
/// is more likely the wrong format or a damaged file than real noise.
pub const DEFAULT_MAX_REJECTED: f64 = 0.01;

impl AnalyzeOptions {
    /// Options with the documented defaults for `inputs` and `out`.
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> AnalyzeOptions {
        AnalyzeOptions {
            inputs,
            out,
            format: None,
            tz: "Europe/Paris".to_string(),
            referential: None,
            annuaire: None,
            services: None,
            lake: None,
            threads: 0,
            salt: crate::keys::DEFAULT_SALT.to_string(),
            salt_source: SaltSource::Default,
            mmap: true,
            visit_gap_ms: 30 * 60 * 1000,
            visits: true,
            spill: SpillOptions::default(),
            progress: false,
            login: LoginRule::default(),
            valid_from: crate::time::days_from_civil(2000, 1, 1),
            valid_until: None,
            max_rejected: DEFAULT_MAX_REJECTED,
            since: None,
            until: None,
            dedup: false,
        }
    }
}

/// The result of a run: the tables written and the run's report.
#[derive(Debug)]
pub struct Analysis {
    /// The rows written.
    pub tables: Tables,
    /// What `summary.json` holds, for the terminal and the HTML report.
    pub summary: ReportData,
    /// What was written to `run.json`.
    pub report: RunReport,
}

/// The run's report, written last.
pub const RUN_JSON: &str = "run.json";

/// Reads every input, writes the tables into `opts.out`, and returns them.
///
/// Inputs that cannot be read are reported in `run.json` (with
/// `failed_inputs`) and the others are still processed. When the run has
/// [`problems`] (a failed input, no record, too many rejected lines,
/// logins of nobody profiled), its outputs go to [`failed_dir`] instead
/// and `opts.out` is left as it was. Errors are only returned for what
/// stops the whole run: a bad option, an unreadable referential, an output
/// that cannot be written.
pub fn analyze(opts: &AnalyzeOptions) -> Result<Analysis> {
    let start = Instant::now();
    refuse_output_in_inputs(&opts.out, &opts.inputs)?;
    if opts.lake.is_some() && opts.inputs.iter().any(|i| i.as_os_str() == "-") {
        return Err(Error::usage(
            "--lake: a run that reads stdin has no fingerprint to name its files by",
        ));
    }
    let annuaire = match &opts.annuaire {
        Some(path) => Annuaire::load(path)?,
        None => Annuaire::default(),
    };
    let ctx = context(opts, &annuaire)?;
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::usage(format!("cannot start {threads} threads: {e}")))?;
    let mut workers = Worker::team(&ctx, threads);
    let inputs = scan_inputs(opts, &pool, &mut workers);
    let scanned = start.elapsed().as_secs_f64();
    let agg =
        pool.install(|| workers.into_iter().map(|w| w.agg).reduce(Agg::merge).unwrap_or_default());
    let settings = Settings { days: ctx.days.clone(), visit_gap_ms: opts.visit_gap_ms };
    let staging = Staging::new(&opts.out)?;
    let mut tables = pool.install(|| {
        count_writing_visits(staging.path(), &[], |write| {
            count(agg, ctx.dimensions(), &ctx.users, &settings, write)
        })
    })?;
    tables.schools = annuaire;
    // What the final stage freed is handed back before the writers take
    // theirs.
    crate::alloc::release_free_memory();
    let finished = start.elapsed().as_secs_f64();

    let (outputs, summary) =
        pool.install(|| write_outputs(staging.path(), &tables, &[], &opts.tz))?;
    let wall = start.elapsed().as_secs_f64();
    let phases = Phases { scan: scanned, finish: finished - scanned, write: wall - finished };
    let options = run_options(opts, &ctx, threads)?;
    let mut report = run_report(options, inputs, outputs, wall, phases);
    report.problems = problems(&report, &tables, opts.max_rejected);
    report.visitors_without_account = tables.visitors_without_account;
    report_spill(&mut report, ctx.spill.as_deref());
    report.run_id = lake::run_id(&report);
    run_json::write(&staging.path().join(RUN_JSON), &report)?;
    let ok = report.problems.is_empty();
    publish(staging, &opts.out, ok)?;
    // A failed run's tables are set aside, and kept out of the lake too.
    if let (Some(dir), Some(id), true) = (&opts.lake, &report.run_id, ok) {
        lake::add(&opts.out, dir, id)?;
    }
    Ok(Analysis { tables, summary, report })
}

/// What `run.json` says of the spill file.
pub fn report_spill(report: &mut RunReport, spill: Option<&Spill>) {
    if let Some(spill) = spill {
        report.spilled_bytes = spill.written();
        report.spill_failure = spill.failure();
    }
}

/// The options of a run as `run.json` records them.
fn run_options(opts: &AnalyzeOptions, ctx: &Context, threads: usize) -> Result<RunOptions> {
    Ok(RunOptions {
        format: opts.format.as_ref().map_or("auto", Format::name).to_string(),
        tz: opts.tz.clone(),
        threads,
        referential: opts.referential.as_ref().map(|p| p.display().to_string()),
        annuaire: opts.annuaire.as_ref().map(|p| p.display().to_string()),
        services: opts.services.as_ref().map(|p| p.display().to_string()),
        lake: opts.lake.as_ref().map(|p| p.display().to_string()),
        salt_source: opts.salt_source.name().to_string(),
        salt_fingerprint: ctx.keyer.fingerprint(),
        mmap: opts.mmap,
        visits: opts.visits,
        visit_gap_ms: opts.visit_gap_ms,
        referential_fingerprint: referential_fingerprint(
            opts.referential.as_deref(),
            [opts.annuaire.as_deref(), opts.services.as_deref()],
        )?,
        valid_from: format_day(*ctx.valid_days.start()),
        valid_until: format_day(*ctx.valid_days.end()),
        since: opts.since.map(format_day),
        until: opts.until.map(format_day),
        dedup: opts.dedup,
    })
}

/// What every worker of the run shares, from the options: time zone,
/// referential (completed by the national directory), salt, visits, login
/// rule, date window.
fn context(opts: &AnalyzeOptions, annuaire: &Annuaire) -> Result<Context> {
    let tz = TimeZone::get(&opts.tz)
        .map_err(|e| Error::usage(format!("unknown time zone {:?}: {e}", opts.tz)))?;
    let mut referential = match &opts.referential {
        Some(dir) => Referential::load(dir)?,
        None => Referential::empty(),
    };
    referential.fill_from(annuaire);
    let mut ctx = Context::new(UserKeyer::new(&opts.salt), referential, LocalDays::new(tz));
    ctx.visits = opts.visits;
    // Points are kept by visits.
    ctx.count_services &= opts.visits;
    ctx.visit_gap_ms = opts.visit_gap_ms;
    if opts.visits {
        ctx.spill = Some(Arc::new(opts.spill.file_for(&opts.out)));
    }
    ctx.login = opts.login.clone();
    let valid_until = match opts.valid_until {
        Some(day) => day,
        None => {
            let now = jiff::Timestamp::now().as_millisecond();
            ctx.days.day_of(now).map_or(i32::MAX, |today| today + 1)
        }
    };
    if valid_until < opts.valid_from {
        return Err(Error::usage(format!(
            "--valid-until {} is before --valid-from {}",
            format_day(valid_until),
            format_day(opts.valid_from)
        )));
    }
    ctx.valid_days = opts.valid_from..=valid_until;
    ctx.period = opts.since.unwrap_or(i32::MIN)..=opts.until.unwrap_or(i32::MAX);
    if ctx.period.is_empty() {
        return Err(Error::usage("--until is before --since: no day would be read"));
    }
    ctx.dedup = opts.dedup.then(Dedup::default);
    if let Some(path) = &opts.services {
        ctx.services = ServiceMap::load(path)?;
    }
    Ok(ctx)
}

/// The fingerprint of the referential in `dir` and of the other files
/// the figures depend on (the national directory, the services
/// mapping), if any is given.
fn referential_fingerprint(
    dir: Option<&Path>,
    others: [Option<&Path>; 2],
) -> Result<Option<String>> {
    let mut files: Vec<PathBuf> = match dir {
        Some(dir) => referential::FILES.iter().map(|f| dir.join(f)).collect(),
        None => Vec::new(),
    };
    files.extend(others.iter().flatten().map(|p| p.to_path_buf()));
    if files.is_empty() {
        return Ok(None);
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let place = dir.or(others.into_iter().flatten().next()).unwrap_or(Path::new("."));
    input::fingerprint::of_files(&paths).map(Some).map_err(|e| Error::io(place, e))
}

/// Reads every input into `workers`; returns the report of each, in the
/// order read (directories that could not be walked first).
fn scan_inputs(
    opts: &AnalyzeOptions,
    pool: &rayon::ThreadPool,
    workers: &mut [Worker<'_>],
) -> Vec<InputReport> {
    let (files, walk_errors) = input::expand(&opts.inputs);
    let mut inputs: Vec<InputReport> = walk_errors
        .iter()
        .map(|e| InputReport {
            path: e.path().map(|p| p.display().to_string()).unwrap_or_default(),
            error: Some(e.cause()),
            ..InputReport::default()
        })
        .collect();
    let progress = progress_bar(opts.progress, &files);
    let mut seen: FastMap<String, PathBuf> = FastMap::default();
    for path in files {
        let mut report = InputReport { path: path.display().to_string(), ..InputReport::default() };
        if path.as_os_str() != "-" {
            report.fingerprint = input::fingerprint::of_file(&path).ok();
        }
        if let Some(first) = report.fingerprint.as_ref().and_then(|f| seen.get(f)) {
            report.error = Some(format!(
                "same content as {} (size and sampled bytes): not read twice",
                first.display()
            ));
            inputs.push(report);
            continue;
        }
        if let Some(f) = &report.fingerprint {
            seen.insert(f.clone(), path.clone());
        }
        match input::open(&path, opts.mmap) {
            Ok(input) => {
                scan_input(pool, workers, input, opts.format.as_ref(), &mut report, &progress)
            }
            Err(e) => report.error = Some(e.cause()),
        }
        inputs.push(report);
    }
    progress.finish_and_clear();
    inputs
}

/// The final stage, `count`, given a writer of `user_visits` into `dir`
/// (none if `omit` names it), which writes the table while the other
/// figures are counted; fails if the write did.
pub fn count_writing_visits(
    dir: &Path,
    omit: &[&str],
    count: impl FnOnce(Option<VisitWriter<'_>>) -> Tables,
) -> Result<Tables> {
    let failed = Mutex::new(None);
    let write = |table: &VisitTable, dims: &Dimensions| {
        if let Err(e) = UserVisits.write_visits(dir, table, dims) {
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
    };
    let writer: Option<VisitWriter<'_>> = (!omit.contains(&UserVisits.name())).then_some(&write);
    let tables = count(writer);
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(tables),
    }
}

/// Writes the tables not named in `omit` and `summary.json` into `dir`;
/// returns the names of the files written (`run.json`, still to write,
/// last) and the summary. The summary is made while the tables are being
/// written, once: the terminal and the HTML report show it too.
pub fn write_outputs(
    dir: &Path,
    tables: &Tables,
    omit: &[&str],
    tz: &str,
) -> Result<(Vec<String>, ReportData)> {
    let (written, summary) =
        rayon::join(|| write_tables(dir, tables, omit), || ReportData::from_tables(tables));
    let mut outputs = written?;
    crate::report::json::write(&dir.join(SUMMARY_JSON), &summary, tz)?;
    outputs.insert(outputs.len().saturating_sub(1), SUMMARY_JSON.to_string());
    Ok((outputs, summary))
}

/// What the terminal summary shows, as data ([`crate::report::json`]).
pub const SUMMARY_JSON: &str = "summary.json";

/// Puts a run's outputs in place: into `out` when the run succeeded (and
/// the outputs of an earlier failed run are removed), into
/// [`failed_dir`] otherwise, leaving `out` as it was.
pub fn publish(staging: Staging, out: &Path, ok: bool) -> Result<()> {
    let failed = failed_dir(out);
    if ok {
        staging.commit(out)?;
        if failed.is_dir() {
            std::fs::remove_dir_all(&failed).map_err(|e| Error::io(&failed, e))?;
        }
        Ok(())
    } else {
        staging.commit(&failed)
    }
}

/// Where a failed run into `out` puts its outputs: `OUT.failed` beside it.
pub fn failed_dir(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".failed");
    out.with_file_name(name)
}

/// Why a run's figures are not to be trusted, one sentence each; empty
/// when they are.
pub fn problems(report: &RunReport, tables: &Tables, max_rejected: f64) -> Vec<String> {
    let mut problems = Vec::new();
    if report.failed_inputs > 0 {
        problems.push(format!("{} input(s) could not be read", report.failed_inputs));
    }
    if report.records == 0 {
        problems.push("no record was accepted: is the format right?".to_string());
    }
    let read = report.records + report.rejected;
    if read > 0 && report.rejected as f64 > max_rejected * read as f64 {
        problems.push(format!(
            "{} of {read} lines rejected ({:.2}%), more than --max-rejected {}%",
            report.rejected,
            100.0 * report.rejected as f64 / read as f64,
            100.0 * max_rejected
        ));
    }
    let logins = |profile: Option<Profile>| {
        tables
            .audience
            .iter()
            .filter(|(k, _)| k.grain == Grain::Month && k.scope == ScopeKey::PLATFORM)
            .filter(|(k, _)| k.profile == profile)
            .map(|(_, m)| m.connections)
            .sum::<i64>()
    };
    let all = logins(None);
    if all > 0 && logins(Some(Profile::Unknown)) == all {
        problems.push(format!(
            "{all} connections but no user could be profiled: access logs need users.csv \
             (id,profile,structures) in --referential"
        ));
    }
    problems
}

/// Refuses an output directory inside an input directory: the next run
/// would read the tables back as logs.
fn refuse_output_in_inputs(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let out = resolved(out);
    for input in inputs.iter().filter(|i| i.is_dir()) {
        if out.starts_with(resolved(input)) {
            return Err(Error::usage(format!(
                "--out {} is inside the input directory {}: the next run would read the \
                 tables as logs; write them elsewhere",
                out.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// `path` with its existing part resolved (symbolic links, `..`) and the
/// rest appended, so that two spellings of one place compare equal.
fn resolved(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(real) = base.canonicalize() {
            return rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return abs,
        }
    }
}

/// A progress bar over the bytes on disk of `files`, or a hidden one.
fn progress_bar(show: bool, files: &[PathBuf]) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let total = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// Writes every table of [`TABLES`] into `out` (created if missing), in
/// parallel, except those named in `omit`; returns the names written, in
/// the registry's order, then `run.json` (written last by the caller).
pub fn write_tables(out: &Path, tables: &Tables, omit: &[&str]) -> Result<Vec<String>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let kept: Vec<&dyn Table> = TABLES.into_iter().filter(|t| !omit.contains(&t.name())).collect();
    kept.par_iter().try_for_each(|t| t.write(out, tables))?;
    let mut written: Vec<String> =
        kept.iter().flat_map(|&t| file_names(t)).map(str::to_string).collect();
    written.push(RUN_JSON.to_string());
    Ok(written)
}

/// The report of a run over `inputs`: totals are sums over the inputs.
pub fn run_report(
    options: RunOptions,
    inputs: Vec<InputReport>,
    outputs: Vec<String>,
    wall_seconds: f64,
    phase_seconds: Phases,
) -> RunReport {
    let sum = |f: fn(&InputReport) -> u64| inputs.iter().map(f).sum::<u64>();
    let (bytes, records) = (sum(|i| i.bytes), sum(|i| i.records));
    let per_s = |n: u64| if wall_seconds > 0.0 { n as f64 / wall_seconds } else { 0.0 };
    RunReport {
        version: env!("CARGO_PKG_VERSION"),
        options,
        lines: sum(|i| i.lines),
        records,
        rejected: sum(|i| i.rejected),
        failed_inputs: sum(|i| u64::from(i.error.is_some())),
        bytes,
        wall_seconds,
        phase_seconds,
        throughput_mb_per_s: per_s(bytes) / 1e6,
        records_per_s: per_s(records),
        outputs,
        merged_runs: Vec::new(),
        problems: Vec::new(),
        visitors_without_account: 0,
        spilled_bytes: 0,
        spill_failure: None,
        run_id: None,
        inputs,
    }
}
