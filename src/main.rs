//! The `entlog` binary: parse arguments, call the library, map the outcome
//! to an exit code: 0 ok; 1 the run finished but its figures are not to be
//! trusted (see `analyze::problems`), its outputs set aside and the
//! previous ones kept; 2 usage or fatal error, nothing written.

use clap::Parser;
use entlog::cli::{AnalyzeArgs, Cli, Command, DemoArgs, GenerateArgs, MergeArgs, ReportArgs};
use entlog::report::data::ReportData;
use entlog::report::lang::Lang;
use entlog::report::summary;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout with exit 0, as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // clap's own message, in entlog's one style of error.
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("entlog: error: {text}");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`entlog ... | head`) is not a failure.
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("entlog: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze(&args),
        Command::Generate(args) => generate(&args),
        Command::Report(args) => report(&args),
        Command::Merge(args) => merge(&args),
        Command::Demo(args) => demo(&args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "entlog", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `entlog analyze`: the run, its failures on stderr, its summary.
fn analyze(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let opts = args.options(std::env::var("ENTLOG_SALT").ok())?;
    if opts.salt_source == entlog::analyze::SaltSource::Default {
        eprintln!(
            "entlog: warning: user pseudonyms use the public default salt: anyone can \
             link them to user ids; pass --salt or set ENTLOG_SALT"
        );
    }
    let analysis = entlog::analyze::analyze(&opts)?;
    let failed = report_failures(&analysis.report, &opts.out);
    let data = &analysis.summary;
    let view = View {
        print: !args.quiet,
        by_school: args.by_school,
        html: args.html.as_deref(),
        lang: args.lang,
        ..View::default()
    };
    show(data, &opts.tz, &view)?;
    Ok(exit_code(failed))
}

/// `entlog generate`: the scenario, and what it wrote.
fn generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let opts = args.options();
    let start = Instant::now();
    let done = with_threads(args.threads, || entlog::generate::generate(&opts))??;
    let secs = start.elapsed().as_secs_f64();
    let (what, format) = match opts.output {
        entlog::generate::Output::EventStore => ("events", "JSON"),
        entlog::generate::Output::AccessLog(_) => ("requests", "access log"),
    };
    println!(
        "generated {} {what} ({:.0} MB of {format}) for {} users in {} structures into {} \
         in {secs:.1} s: {:.0} {what}/s, {:.0} MB/s",
        done.events,
        done.bytes as f64 / 1e6,
        done.users,
        done.structures,
        opts.out.display(),
        done.events as f64 / secs,
        done.bytes as f64 / 1e6 / secs,
    );
    Ok(ExitCode::SUCCESS)
}

/// `entlog merge`: the merged run and its summary.
fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let merged = with_threads(args.threads, || {
        entlog::merge::merge(&args.runs, &args.out, &args.spill.options())
    })??;
    warn_missing_accounts(&merged.report);
    let data = &merged.summary;
    let tz = &merged.report.options.tz;
    let view =
        View { print: !args.quiet, html: args.html.as_deref(), lang: args.lang, ..View::default() };
    show(data, tz, &view)?;
    Ok(ExitCode::SUCCESS)
}

/// `entlog demo`: the scenario generated, analyzed and summarised.
fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.as_deref();
    let demo = with_threads(args.threads, || {
        entlog::demo::demo(out, args.scale, args.seed, args.threads)
    })??;
    eprintln!(
        "entlog demo: generated {} events ({:.0} MB) in {}, tables in {}",
        demo.generated.events,
        demo.generated.bytes as f64 / 1e6,
        demo.dump.display(),
        demo.tables.display(),
    );
    let failed = report_failures(&demo.analysis.report, &demo.tables);
    let data = &demo.analysis.summary;
    let tz = &demo.analysis.report.options.tz;
    let view = View { print: true, html: args.html.as_deref(), lang: args.lang, ..View::default() };
    show(data, tz, &view)?;
    Ok(exit_code(failed))
}

/// `entlog report`: the summary and HTML report of a finished run.
fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let tz = entlog::report::run_time_zone(&args.dir)?;
    let data = ReportData::load(&args.dir)?;
    if let Some(month) = args.month
        && !data.months().contains(&month)
    {
        let have: Vec<String> =
            data.months().iter().map(|&m| entlog::time::format_day(m)[..7].to_string()).collect();
        anyhow::bail!(
            "--month {}: no data for that month in {}; months with data: {}",
            &entlog::time::format_day(month)[..7],
            args.dir.display(),
            if have.is_empty() { "none".to_string() } else { have.join(", ") }
        );
    }
    let view = View {
        month: args.month,
        print: true,
        by_school: args.by_school,
        html: args.html.as_deref(),
        lang: args.lang,
    };
    show(&data, &tz, &view)?;
    Ok(ExitCode::SUCCESS)
}

/// What to show of a run's figures.
#[derive(Default)]
struct View<'a> {
    /// The month the details are about (default: the latest).
    month: Option<i32>,
    /// Print the summary on stdout.
    print: bool,
    /// Also print the table of schools of that month.
    by_school: bool,
    /// Write the HTML report there.
    html: Option<&'a Path>,
    /// Language of the summary and the HTML report (default: the
    /// environment's).
    lang: Option<Lang>,
}

/// Prints the summary (if asked) and writes the HTML report (if asked).
fn show(data: &ReportData, tz: &str, view: &View<'_>) -> anyhow::Result<()> {
    let lang = view.lang.unwrap_or_else(Lang::from_env);
    if view.print {
        // Bold only on a terminal, and never when NO_COLOR is set
        // (https://no-color.org).
        let styled = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let mut text = summary::render(data, tz, view.month, styled, lang);
        if view.by_school {
            let month = view.month.or_else(|| data.months().last().copied()).unwrap_or(0);
            text += &summary::schools(data, month, lang);
        }
        std::io::stdout().write_all(text.as_bytes())?;
    }
    if let Some(path) = view.html {
        entlog::report::write_html(path, data, tz, view.month, lang)?;
    }
    Ok(())
}

/// 1 when the run failed, 0 otherwise.
fn exit_code(failed: bool) -> ExitCode {
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Runs `f` on a thread pool of `threads` threads (0: one per core).
fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    Ok(pool.install(f))
}

/// Warns of users who logged in but are not in `users.csv`.
fn warn_missing_accounts(report: &entlog::sink::run_json::RunReport) {
    let n = report.visitors_without_account;
    if n > 0 {
        eprintln!(
            "entlog: warning: {n} user(s) logged in who are not in users.csv: counted as \
             visitors but not as accounts (is the directory export complete?)"
        );
    }
}

/// Warns that visits could not be spilled (they were held in memory).
fn warn_spill(report: &entlog::sink::run_json::RunReport) {
    if let Some(failure) = &report.spill_failure {
        eprintln!(
            "entlog: warning: cannot spill visits to disk ({failure}): they were held in memory \
             (see --spill-dir)"
        );
    }
}

/// Prints unreadable inputs, rejected lines and the run's problems on
/// stderr; true if and only if the run failed (its outputs then went
/// beside `out`, which was left as it was).
fn report_failures(report: &entlog::sink::run_json::RunReport, out: &Path) -> bool {
    for i in &report.inputs {
        if let Some(e) = &i.error {
            eprintln!("entlog: error: {}: {e}", i.path);
        }
        if i.rejected > 0 {
            let first = i.rejected_samples.first();
            eprintln!(
                "entlog: warning: {}: {} line(s) rejected{}",
                i.path,
                i.rejected,
                first
                    .map_or(String::new(), |s| format!(", first at line {}: {}", s.line, s.reason)),
            );
        }
    }
    warn_missing_accounts(report);
    warn_spill(report);
    for p in &report.problems {
        eprintln!("entlog: error: {p}");
    }
    let failed = !report.problems.is_empty();
    if failed {
        eprintln!(
            "entlog: error: run failed: {} is left as it was; this run's tables and run.json \
             are in {}",
            out.display(),
            entlog::analyze::failed_dir(out).display()
        );
    }
    failed
}
