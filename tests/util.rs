//! Helpers shared by the integration tests.

use entlog::aggregate::finish::Tables;
use entlog::aggregate::key::Metrics;
use entlog::aggregate::key::profile_name;
use entlog::aggregate::scope::Scope;
use entlog::sink::run_json::InputReport;
use entlog::time::format_day;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed fixture.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Runs the entlog binary, in an English locale (the summary's language
/// follows the environment's unless `--lang` says otherwise).
pub fn entlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_entlog"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("run entlog")
}

/// The Python of the tests' virtual environment, `target/py-venv`, made
/// from `python3` and `tests/requirements.txt` on first use and remade
/// when the requirements change. Safe when tests (or test processes) run
/// in parallel: one makes it under a file lock, the others wait.
pub fn venv_python() -> &'static Path {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = root().join("target/py-venv");
        let python = venv.join("bin/python");
        let requirements = std::fs::read(root().join("tests/requirements.txt")).unwrap();
        std::fs::create_dir_all(root().join("target")).unwrap();
        let lock = std::fs::File::create(root().join("target/py-venv.lock")).unwrap();
        lock.lock().expect("lock target/py-venv.lock");
        let stamp = venv.join("requirements.txt");
        if std::fs::read(&stamp).ok().as_deref() != Some(&requirements[..]) {
            let _ = std::fs::remove_dir_all(&venv);
            let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            let run = |cmd: &mut Command, what: &str| {
                let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(o.status.success(), "{what}: {}", String::from_utf8_lossy(&o.stderr));
            };
            run(Command::new(&system).args(["-m", "venv"]).arg(&venv), "python3 -m venv");
            run(
                Command::new(&python)
                    .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
                    .arg(root().join("tests/requirements.txt")),
                "pip install -r tests/requirements.txt",
            );
            std::fs::write(&stamp, &requirements).unwrap();
        }
        python
    })
}

/// Runs a Python script of `tests/py` with the tests' virtual environment
/// ([`venv_python`]) and fails the test with its output if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new(venv_python())
        .arg(root().join("tests/py").join(script))
        .args(args)
        .output()
        .expect("run the tests' Python");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Generates the scenario at `scale` into `dir` with the binary.
pub fn generate(dir: &Path, scale: &str, seed: &str, extra: &[&str]) {
    let mut args =
        vec!["generate", "--out", dir.to_str().unwrap(), "--scale", scale, "--seed", seed];
    args.extend_from_slice(extra);
    let out = entlog(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `entlog analyze INPUT --out OUT EXTRA...`.
pub fn analyze(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["analyze", input.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    entlog(&args)
}

/// Analyzes a generated dump (its `events/` with its referential) into
/// `out`, and returns the summary printed on stdout.
pub fn analyze_dump(dump: &Path, out: &Path) -> String {
    let o = analyze(&dump.join("events"), out, &["--referential", dump.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// One audience row of `tables`, found by its written text:
/// (grain, period_start, scope, segment or structure id, profile).
pub fn row(
    t: &Tables,
    grain: &str,
    period: &str,
    scope: &str,
    name: Option<&str>,
    profile: &str,
) -> Option<Metrics> {
    t.audience.iter().find_map(|(k, m)| {
        let text = match k.scope.scope() {
            Scope::Segment(_) => t.segment_name(k.scope),
            _ => t.structure_id(k.scope),
        };
        (k.grain.name() == grain
            && format_day(k.period) == period
            && k.scope.scope().name() == scope
            && text == name
            && profile_name(k.profile) == profile)
            .then_some(*m)
    })
}

/// Connections and unique visitors of a row (0, 0 if absent).
pub fn cu(m: Option<Metrics>) -> (i64, i64) {
    m.map_or((0, 0), |m| (m.connections, m.unique_visitors))
}

/// The rejections `run.json` samples for an input: (line, reason).
pub fn rejections(input: &InputReport) -> Vec<(u64, &str)> {
    input.rejected_samples.iter().map(|s| (s.line, s.reason.as_str())).collect()
}

/// The files of an output: (path relative to the output directory, bytes).
pub type TableFiles = Vec<(String, Vec<u8>)>;

/// The files of output `name` under `out` (a file, or a partitioned
/// table's directory), sorted by path.
pub fn table(out: &Path, name: &str) -> TableFiles {
    let mut files = Vec::new();
    walk(&out.join(name), out, &mut files);
    assert!(!files.is_empty(), "no output {name} in {}", out.display());
    files.sort();
    files
}

/// Every file under `dir`, with its path relative to `dir`, sorted.
pub fn snapshot(dir: &Path) -> TableFiles {
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}

fn walk(path: &Path, base: &Path, files: &mut TableFiles) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            walk(&entry.unwrap().path(), base, files);
        }
    } else {
        let rel = path.strip_prefix(base).unwrap().display().to_string();
        files.push((rel, std::fs::read(path).unwrap()));
    }
}

/// Runs the entlog binary and samples its anonymous memory (`RssAnon`:
/// the heap, not the pages of mapped inputs) every millisecond until it
/// exits; returns its exit code and peak anonymous memory in KiB.
pub fn entlog_peak(args: &[&str]) -> (Option<i32>, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entlog"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run entlog");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let anon = text.lines().find_map(|l| l.strip_prefix("RssAnon:"));
            let kib = anon.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak = peak.max(kib.unwrap_or(0));
        }
        if let Some(exit) = child.try_wait().expect("wait for entlog") {
            return (exit.code(), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// The `run.json` of a finished run in `out`.
pub fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).expect("read run.json"))
        .expect("parse run.json")
}

/// Fails if `dir` holds a hidden entry: a staging or replaced output
/// directory that a run left beside its output.
pub fn assert_nothing_hidden(dir: &Path) {
    let hidden: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left beside the output: {hidden:?}");
}

/// A national school directory for the dump's schools, with the published
/// header of the committed excerpt: every school but the last (whose
/// context columns must then stay empty), public and private in turn.
pub fn write_annuaire(dump: &Path, path: &Path) {
    let excerpt = std::fs::read_to_string(fixture("annuaire/excerpt.csv")).unwrap();
    let header: Vec<&str> = excerpt.lines().next().unwrap().split(';').collect();
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_path(path).unwrap();
    w.write_record(&header).unwrap();
    let mut structures = csv::Reader::from_path(dump.join("structures.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = structures.records().map(Result::unwrap).collect();
    for (i, s) in rows.iter().enumerate().take(rows.len() - 1) {
        let (uai, name, kind) = (&s[1], &s[2], &s[3]);
        let commune = format!("Commune {i}");
        let value = |column: &str| -> String {
            match column {
                "Identifiant_de_l_etablissement" => uai.to_string(),
                "Nom_etablissement" => name.to_string(),
                "Type_etablissement" => if kind == "ECOLE" { "Ecole" } else { "Collège" }.into(),
                "Statut_public_prive" => if i % 2 == 0 { "Public" } else { "Privé" }.into(),
                "Nom_commune" => commune.clone(),
                "Libelle_departement" => "Somme".into(),
                "Libelle_academie" => "Amiens".into(),
                "Libelle_region" => "Hauts-de-France".into(),
                "ministere_tutelle" => "MINISTERE DE L'EDUCATION NATIONALE".into(),
                "nom_circonscription" if kind == "ECOLE" => format!("Circonscription {i}"),
                "code_nature" => if kind == "ECOLE" { "151" } else { "340" }.into(),
                _ => String::new(),
            }
        };
        w.write_record(header.iter().map(|c| value(c))).unwrap();
    }
    w.flush().unwrap();
}
