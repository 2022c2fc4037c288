//! Command-line definitions, turned into validated library options.

use crate::analyze::{AnalyzeOptions, SaltSource};
use crate::error::{Error, Result};
use crate::generate::{Compress, GenerateOptions, Output, Style};
use crate::parse::Format;
use crate::parse::access::LoginRule;
use crate::report::lang::Lang;
use crate::spill::SpillOptions;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

/// entlog: ENT connection logs to exact audience figures and Parquet.
#[derive(Debug, Parser)]
#[command(name = "entlog", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs and write audience tables, user activity and run.json.
    Analyze(Box<AnalyzeArgs>),
    /// Write a synthetic ENT event dump and its referential.
    Generate(GenerateArgs),
    /// Generate the built-in scenario, analyze it, print the summary.
    Demo(DemoArgs),
    /// Print the summary of a finished run from its tables, and write the
    /// HTML report.
    Report(ReportArgs),
    /// Combine runs over disjoint shards of the logs into the outputs of
    /// one run over all of them, from their tables alone.
    Merge(MergeArgs),
    /// Print the completion script of a shell (bash, zsh, fish, elvish,
    /// powershell), e.g. `entlog completions bash >
    /// ~/.local/share/bash-completion/completions/entlog`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Arguments of `entlog merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output directories of finished `analyze` (or `merge`) runs over
    /// disjoint shards of the logs, made with the same salt, time zone and
    /// visit gap.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Output directory for the merged tables and run.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Do not print the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the self-contained HTML report to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Language of the summary: `fr` or `en` [default: French when
    /// LC_ALL, LC_MESSAGES or LANG starts with `fr`, else English].
    #[arg(long, value_parser = Lang::parse)]
    pub lang: Option<Lang>,
    /// Memory for visits, and where the rest goes.
    #[command(flatten)]
    pub spill: SpillArgs,
}

/// How much memory visits may take, and where the rest goes (`analyze`
/// and `merge`).
#[derive(Debug, Args)]
pub struct SpillArgs {
    /// Memory the lists of visits may take (`K`, `M` or `G`); beyond it
    /// they are written to a file in --spill-dir and read back from there
    /// (the kernel's page cache, not the run's memory). `0` spills them
    /// all.
    #[arg(long, default_value = "256M", value_parser = parse_size)]
    pub visit_memory: usize,
    /// Where visit lists beyond --visit-memory go: a file with no name,
    /// gone when the run ends [default: the output directory's parent].
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
}

impl SpillArgs {
    /// The options these arguments give.
    pub fn options(&self) -> SpillOptions {
        SpillOptions { budget: self.visit_memory, dir: self.spill_dir.clone() }
    }
}

/// Arguments of `entlog report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output directory of a finished `analyze` run.
    pub dir: PathBuf,
    /// Write the self-contained HTML report to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also print every school of that month: UAI, name, connections,
    /// distinct pupils and parents, most connections first.
    #[arg(long)]
    pub by_school: bool,
    /// The month the details are about (default: the latest).
    #[arg(long, value_parser = parse_month)]
    pub month: Option<i32>,
    /// Language of the summary: `fr` or `en` [default: French when
    /// LC_ALL, LC_MESSAGES or LANG starts with `fr`, else English].
    #[arg(long, value_parser = Lang::parse)]
    pub lang: Option<Lang>,
}

/// Parses `YYYY-MM` into the day number of the month's first day.
fn parse_month(text: &str) -> std::result::Result<i32, String> {
    let bad = || format!("{text:?}: expected YYYY-MM");
    let (y, m) = text.split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(1..=9999).contains(&y) {
        return Err(bad());
    }
    Ok(crate::time::days_from_civil(y, m, 1))
}

/// Arguments of `entlog generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The scenario to generate.
    #[arg(long, default_value = "somme-2020", value_parser = ["somme-2020"])]
    pub scenario: String,
    /// Output directory (events/ and structures.csv are written there).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    /// Multiplies users and events; 1 gives the published figures.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Compress the dumps.
    #[arg(long, default_value = "none", value_parser = ["none", "gz", "zst"])]
    pub compress: String,
    /// Write the event store (`entcore-json`), or the front's access log
    /// as `combined`, `nginx` (with X-Forwarded-For and request times; its
    /// log_format is written to DIR/log_format.conf) or `entcore-access`,
    /// with users.csv.
    #[arg(long, default_value = "entcore-json",
          value_parser = ["entcore-json", "combined", "nginx", "entcore-access"])]
    pub format: String,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl GenerateArgs {
    /// Validated options.
    pub fn options(&self) -> GenerateOptions {
        let compress = match self.compress.as_str() {
            "gz" => Compress::Gzip,
            "zst" => Compress::Zstd,
            _ => Compress::None,
        };
        let output = match self.format.as_str() {
            "combined" => Output::AccessLog(Style::Combined),
            "nginx" => Output::AccessLog(Style::Nginx),
            "entcore-access" => Output::AccessLog(Style::EntcoreAccess),
            _ => Output::EventStore,
        };
        GenerateOptions {
            out: self.out.clone(),
            seed: self.seed,
            scale: self.scale,
            compress,
            output,
        }
    }
}

/// Arguments of `entlog demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the dump (in OUT/dump) and the tables (in OUT); by default
    /// both go to a temporary directory that is removed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Multiplies users and events; 1 gives the published figures.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Also write the self-contained HTML report to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Language of the summary: `fr` or `en` [default: French when
    /// LC_ALL, LC_MESSAGES or LANG starts with `fr`, else English].
    #[arg(long, value_parser = Lang::parse)]
    pub lang: Option<Lang>,
}

/// Arguments of `entlog analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Log files or directories (walked recursively); `-` reads stdin.
    /// gzip and zstd inputs are detected and decompressed.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output directory for the tables and run.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Log format: `auto` detects it per input from its first lines;
    /// otherwise `entcore-json`, `entcore-pg-csv`, `entcore-access`,
    /// `common`, `combined`, or `nginx:'<log_format>'` with the log_format
    /// of nginx.conf.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Which access log requests are logins (answered 2xx or 3xx): a
    /// method and a path, the query string not compared.
    #[arg(long, default_value = "POST /auth/login", value_parser = LoginRule::parse)]
    pub login_request: LoginRule,
    /// Time zone in which days, weeks and months are cut.
    #[arg(long, default_value = "Europe/Paris")]
    pub tz: String,
    /// Directory holding structures.csv (id,uai,name[,type]) and/or
    /// users.csv (id,profile,structures[,activated][,classes]; ids
    /// separated by `;`), the accounts and who users are for logs that do
    /// not say; optionally classes.csv (id,name,structure_id).
    #[arg(long)]
    pub referential: Option<PathBuf>,
    /// The national school directory (`fr-en-annuaire-education`, the CSV
    /// as downloaded): fills the context columns of the national datasets,
    /// and the name and type of schools the referential lacks.
    #[arg(long)]
    pub annuaire: Option<PathBuf>,
    /// Which application counts for which national service: a CSV with
    /// the header `application,service` (names compared without regard to
    /// case) replacing the default mapping the README lists.
    #[arg(long)]
    pub services: Option<PathBuf>,
    /// Also add the run's per-user partial tables (user_activity,
    /// user_visits, user_modules) to this shared table location, each
    /// month's file named by the run, so that Spark, Trino or DuckDB read
    /// every run there as one table; a run done again replaces its files.
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Secret salt of user pseudonyms [default: $ENTLOG_SALT, else a
    /// public salt unfit for production].
    #[arg(long)]
    pub salt: Option<String>,
    /// Longest gap inside a visit: a number with a unit, `s`, `m` or `h`
    /// (a gap of exactly this continues the visit).
    #[arg(long, default_value = "30m", value_parser = parse_gap)]
    pub visit_gap: i64,
    /// Do not compute visits: saves the memory they need (about 40 bytes
    /// per visit); visit columns are then zero and visit tables empty.
    #[arg(long)]
    pub no_visits: bool,
    /// Memory for visits, and where the rest goes.
    #[command(flatten)]
    pub spill: SpillArgs,
    /// Read plain files instead of memory-mapping them (for files that may
    /// change while being read).
    #[arg(long)]
    pub no_mmap: bool,
    /// Events dated before this local day (YYYY-MM-DD) are rejected as
    /// implausible (reset clocks, epoch-0 defaults, corrupt fields).
    #[arg(long, default_value = crate::analyze::DEFAULT_VALID_FROM, value_parser = parse_day_arg)]
    pub valid_from: i32,
    /// Events dated after this local day (YYYY-MM-DD) are rejected
    /// [default: the day after the run].
    #[arg(long, value_parser = parse_day_arg)]
    pub valid_until: Option<i32>,
    /// Largest share of rejected lines for a run to succeed, as a
    /// percentage (`1%`) or a fraction (`0.01`); above it the run fails
    /// (exit 1) and the output directory is left as it was.
    #[arg(long, default_value = "1%", value_parser = parse_share)]
    pub max_rejected: f64,
    /// Read only events from this local day (YYYY-MM-DD) on: the others
    /// are skipped, not rejected (dumps that overlap).
    #[arg(long, value_parser = parse_day_arg)]
    pub since: Option<i32>,
    /// Read only events up to this local day (YYYY-MM-DD), included.
    #[arg(long, value_parser = parse_day_arg)]
    pub until: Option<i32>,
    /// Skip an event whose id (`_id` of the event store, `id` of a
    /// PostgreSQL export) was already read, so that dumps that overlap, or
    /// the same export read twice, count each event once. Holds about 24
    /// bytes per event.
    #[arg(long)]
    pub dedup: bool,
    /// Print nothing on stdout, and no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also print, for the latest month, every school: UAI, name,
    /// connections, distinct pupils and parents, most connections first.
    #[arg(long)]
    pub by_school: bool,
    /// Also write the self-contained HTML report to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Language of the summary: `fr` or `en` [default: French when
    /// LC_ALL, LC_MESSAGES or LANG starts with `fr`, else English].
    #[arg(long, value_parser = Lang::parse)]
    pub lang: Option<Lang>,
}

impl AnalyzeArgs {
    /// Validated options; `env_salt` is the value of `ENTLOG_SALT`.
    pub fn options(&self, env_salt: Option<String>) -> Result<AnalyzeOptions> {
        let mut o = AnalyzeOptions::new(self.inputs.clone(), self.out.clone());
        o.format = match self.format.as_str() {
            "auto" => None,
            name => {
                Some(Format::from_name(name).map_err(|e| Error::usage(format!("--format: {e}")))?)
            }
        };
        o.tz = self.tz.clone();
        o.login = self.login_request.clone();
        o.referential = self.referential.clone();
        o.annuaire = self.annuaire.clone();
        o.services = self.services.clone();
        o.lake = self.lake.clone();
        o.threads = self.threads;
        o.mmap = !self.no_mmap;
        o.visit_gap_ms = self.visit_gap;
        o.visits = !self.no_visits;
        o.spill = self.spill.options();
        o.valid_from = self.valid_from;
        o.valid_until = self.valid_until;
        o.max_rejected = self.max_rejected;
        (o.since, o.until, o.dedup) = (self.since, self.until, self.dedup);
        o.progress = !self.quiet && std::io::stderr().is_terminal();
        (o.salt, o.salt_source) = match (&self.salt, env_salt) {
            (Some(s), _) => (s.clone(), SaltSource::Flag),
            (None, Some(s)) if !s.is_empty() => (s, SaltSource::Env),
            _ => (o.salt, SaltSource::Default),
        };
        Ok(o)
    }
}

/// Parses a share: `5%` or `0.05`, from 0 to 1.
fn parse_share(text: &str) -> std::result::Result<f64, String> {
    let bad = || format!("{text:?}: expected a percentage such as 1% or a fraction such as 0.01");
    let share = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => text.trim().parse::<f64>().map_err(|_| bad())?,
    };
    if (0.0..=1.0).contains(&share) { Ok(share) } else { Err(bad()) }
}

/// Parses a `YYYY-MM-DD` date into a day number.
fn parse_day_arg(text: &str) -> std::result::Result<i32, String> {
    crate::time::parse_day(text).ok_or_else(|| format!("{text:?}: expected a date YYYY-MM-DD"))
}

/// Parses a duration such as `30m`, `1800s` or `1h` into milliseconds.
fn parse_gap(text: &str) -> std::result::Result<i64, String> {
    let units = [("s", 1000), ("m", 60_000), ("min", 60_000), ("h", 3_600_000)];
    let ms = scaled(text, &units, "s, m or h")?;
    (ms > 0).then_some(ms).ok_or_else(|| format!("{text:?}: out of range"))
}

/// A size of memory: a number and a unit, `K`, `M` or `G` (powers of
/// 1024; `0` needs none).
fn parse_size(text: &str) -> std::result::Result<usize, String> {
    if text == "0" {
        return Ok(0);
    }
    let units = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)];
    let bytes = scaled(text, &units, "K, M or G")?;
    usize::try_from(bytes).map_err(|_| format!("{text:?}: out of range"))
}

/// `text`, a number followed by one of `units` (with its multiplier),
/// as the number times the multiplier; `names` lists the units for the
/// error.
fn scaled(text: &str, units: &[(&str, i64)], names: &str) -> std::result::Result<i64, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit"))?;
    let (_, scale) = units
        .iter()
        .find(|(name, _)| *name == unit)
        .ok_or_else(|| format!("{text:?}: the unit must be {names}"))?;
    n.checked_mul(*scale).ok_or_else(|| format!("{text:?}: out of range"))
}

#[cfg(test)]
mod tests {
    use super::parse_gap;

    #[test]
    fn visit_gaps() {
        assert_eq!(parse_gap("30m"), Ok(1_800_000));
        assert_eq!(parse_gap("1800s"), Ok(1_800_000));
        assert_eq!(parse_gap("1h"), Ok(3_600_000));
        assert!(parse_gap("30").is_err());
        assert!(parse_gap("0m").is_err());
        assert!(parse_gap("m").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("256M"), Ok(256 << 20));
        assert_eq!(super::parse_size("2G"), Ok(2 << 30));
        assert_eq!(super::parse_size("0"), Ok(0));
        assert_eq!(super::parse_size("0K"), Ok(0));
        assert!(super::parse_size("256").is_err());
        assert!(super::parse_size("1T").is_err());
    }

    #[test]
    fn shares() {
        assert_eq!(super::parse_share("1%"), Ok(0.01));
        assert_eq!(super::parse_share("0.25"), Ok(0.25));
        assert_eq!(super::parse_share("100%"), Ok(1.0));
        assert!(super::parse_share("150%").is_err());
        assert!(super::parse_share("-1").is_err());
        assert!(super::parse_share("x%").is_err());
    }

    #[test]
    fn months() {
        assert_eq!(super::parse_month("2020-03"), Ok(18_322));
        assert!(super::parse_month("2020-13").is_err());
        assert!(super::parse_month("march").is_err());
    }
}
