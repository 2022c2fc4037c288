//! The report of a finished run, read back from its Parquet tables, is the
//! report of the run.

use crate::util::{analyze_dump, entlog, fixture, generate};
use entlog::analyze::{AnalyzeOptions, analyze};
use entlog::report::data::ReportData;
use std::path::Path;
use std::process::Command;

#[test]
fn report_from_parquet_equals_report_from_the_run() {
    let dir = tempfile::tempdir().unwrap();
    for (name, input, referential) in [
        ("quirks", fixture("quirks/events.json"), fixture("quirks/referential")),
        ("generated", dir.path().join("dump/events"), dir.path().join("dump")),
    ] {
        if name == "generated" {
            generate(&dir.path().join("dump"), "0.01", "3", &[]);
        }
        let out = dir.path().join(name);
        let mut opts = AnalyzeOptions::new(vec![input], out.clone());
        opts.referential = Some(referential);
        // A third of the quirks fixture's lines are broken on purpose.
        opts.max_rejected = 1.0;
        let run = analyze(&opts).unwrap();
        let live = ReportData::from_tables(&run.tables);
        assert!(!live.scopes.is_empty() && !live.schools.is_empty());
        assert_eq!(ReportData::load(&out).unwrap(), live, "{name}");
    }
}

/// A run made before accounts were counted (its `audience.parquet` without
/// `accounts` and `activated_accounts`) still reports, with no accounts.
#[test]
fn a_run_without_account_columns_still_reports() {
    use parquet::arrow::ArrowWriter;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut opts = AnalyzeOptions::new(vec![fixture("quirks/events.json")], out.clone());
    opts.referential = Some(fixture("quirks/referential"));
    opts.max_rejected = 1.0;
    let run = analyze(&opts).unwrap();
    let path = out.join("audience.parquet");
    let old: Vec<_> = entlog::stored::batches(&path)
        .unwrap()
        .into_iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&i| !b.schema().field(i).name().contains("accounts"))
                .collect();
            b.project(&keep).unwrap()
        })
        .collect();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), old[0].schema(), None).unwrap();
    old.iter().for_each(|b| w.write(b).unwrap());
    w.close().unwrap();
    let mut live = ReportData::from_tables(&run.tables);
    for m in live.scopes.iter_mut().flat_map(|s| s.months.iter_mut()) {
        m.accounts.clear();
    }
    assert_eq!(ReportData::load(&out).unwrap(), live);
}

/// The HTML report renders in headless Chromium at desktop width: its
/// script runs to the end without errors and a screenshot comes out. Run
/// where Chromium is installed (build.rs looks), ignored elsewhere.
#[test]
#[cfg_attr(not(chromium), ignore = "Chromium is not installed")]
fn html_report_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "3", &[]);
    let out = dir.path().join("out");
    let html = dir.path().join("report.html");
    let o = entlog(&[
        "analyze",
        dump.join("events").to_str().unwrap(),
        "--referential",
        dump.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    renders_in_chromium(&html, dir.path());
}

/// Opens the page in headless Chromium at desktop width: its script must
/// run to the end (it marks the body) without errors, and a screenshot
/// must come out.
fn renders_in_chromium(html: &Path, dir: &Path) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let run = |extra: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let o = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,2400",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .expect("run chromium (apt-get install chromium; .ci/run does)");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let dom = run(&["--dump-dom"]);
    assert!(
        String::from_utf8_lossy(&dom.stdout).contains("data-ready=\"1\""),
        "script did not finish"
    );
    let console = String::from_utf8_lossy(&dom.stderr);
    assert!(!console.contains("Uncaught"), "script error: {console}");
    let shot = dir.join("report.png");
    run(&[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "no screenshot");
}

/// A dump whose March is cut after 5,000 lines and whose December is
/// missing: March is marked partial and compared with nothing, December is
/// shown as a month without data, January has no previous month, and the
/// other months are compared without March.
#[test]
fn partial_and_missing_months_are_marked_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    crate::util::generate(&dump, "0.02", "11", &[]);
    let events = dump.join("events");
    std::fs::remove_file(events.join("2019-12.json")).unwrap();
    let march = std::fs::read_to_string(events.join("2020-03.json")).unwrap();
    let cut: Vec<&str> = march.lines().take(5_000).collect();
    std::fs::write(events.join("2020-03.json"), cut.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");
    let stdout = analyze_dump(&dump, &out);
    assert!(stdout.contains("2020-03*") && stdout.contains("* partial month"), "{stdout}");
    let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(stdout.lines().any(|l| words(l) == "2019-12 no data"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let platform = &summary["scopes"][0]["months"];
    let month = |m: &str| platform.as_array().unwrap().iter().find(|x| x["month"] == m).unwrap();
    let (mar, jan) = (month("2020-03"), month("2020-01"));
    assert_eq!(mar["partial"], true);
    assert!(mar["growth_vs_other_months_pct"].is_null() && mar["growth_vs_previous_pct"].is_null());
    assert_eq!(jan["partial"], false);
    assert!(jan["growth_vs_previous_pct"].is_null(), "{jan}");
    // January against the mean of the complete months other than itself:
    // September, October, November and February.
    let connections = |m: &str| month(m)["connections"].as_f64().unwrap();
    let others = ["2019-09", "2019-10", "2019-11", "2020-02"].map(connections);
    let mean = others.iter().sum::<f64>() / 4.0;
    let expected = (connections("2020-01") / mean - 1.0) * 100.0;
    let got = jan["growth_vs_other_months_pct"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} against {expected}");
}

/// `--by-school` prints every school of the month, most connections
/// first, with the figures `summary.json` gives for it.
#[test]
fn by_school_lists_the_schools_of_the_month() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "12", &[]);
    let out = dir.path().join("out");
    analyze_dump(&dump, &out);
    let o = entlog(&[
        "report",
        out.to_str().unwrap(),
        "--by-school",
        "--month",
        "2020-03",
        "--lang",
        "en",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    let table = &text[text.find("\nSchools, March 2020").expect("the schools table")..];
    let rows: Vec<Vec<String>> =
        table.lines().skip(3).map(|l| l.split_whitespace().map(str::to_string).collect()).collect();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let month =
        summary["months"].as_array().unwrap().iter().find(|m| m["month"] == "2020-03").unwrap();
    let schools = month["schools"].as_array().unwrap();
    assert_eq!(rows.len(), schools.len());
    for (row, school) in rows.iter().zip(schools) {
        let number = |i: usize| row[row.len() - 3 + i].replace(',', "");
        assert_eq!(row[0], school["uai"].as_str().unwrap());
        assert_eq!(number(0), school["connections"].to_string());
        assert_eq!(number(1), school["pupils"].to_string());
        assert_eq!(number(2), school["parents"].to_string());
    }
    let connections: Vec<i64> =
        schools.iter().map(|s| s["connections"].as_i64().unwrap()).collect();
    assert!(connections.windows(2).all(|w| w[0] >= w[1]) && connections[0] > 0);
}

/// The HTML report in French: the `lang` attribute, French headings,
/// month names and numbers, the operator's sentence in French; still
/// well-formed and self-contained.
#[test]
fn html_report_speaks_french_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.01", "13", &[]);
    let out = dir.path().join("out");
    analyze_dump(&dump, &out);
    let (fr, en) = (dir.path().join("fr.html"), dir.path().join("en.html"));
    for (lang, page) in [("fr", &fr), ("en", &en)] {
        let o = entlog(&[
            "report",
            out.to_str().unwrap(),
            "--lang",
            lang,
            "--html",
            page.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let page = std::fs::read_to_string(&fr).unwrap();
    let texts = [
        "<html lang=\"fr\">",
        "Audience de l&#39;ENT, mars 2020",
        "Établissements",
        "élèves distincts",
        "visites par visiteur",
        "\u{202F}",
    ];
    crate::util::python("check_html.py", &[&[fr.to_str().unwrap()][..], &texts].concat());
    for english in ["Schools", "Top applications", "connections", "March"] {
        assert!(!page.contains(english), "{english} in the French report");
    }
    let texts = [
        "<html lang=\"en\">",
        "ENT audience, March 2020",
        "Schools",
        "distinct pupils",
        "visits per visitor",
    ];
    crate::util::python("check_html.py", &[&[en.to_str().unwrap()][..], &texts].concat());
}
