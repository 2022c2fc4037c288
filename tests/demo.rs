//! The demo at scale 1 reproduces the operator's published March 2020, and
//! its report (terminal and HTML) says so.

use crate::util::{entlog, python};

const SENTENCE: &str = "ECOLE, March 2020: 1,780,781 connections (+1500% vs the mean of the \
                        other months), 31,640 distinct pupils, 22,437 distinct parents.";

/// The seed's sentence as a French operator writes it: narrow no-break
/// spaces between thousands and before `%`, a no-break space before `:`.
const SENTENCE_FR: &str = "ECOLE, mars 2020\u{a0}: 1\u{202F}780\u{202F}781 connexions \
                           (+1500\u{202F}% par rapport à la moyenne des autres mois), \
                           31\u{202F}640 élèves distincts, 22\u{202F}437 parents distincts.";

#[test]
fn demo_reproduces_the_published_figures_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = entlog(&["demo", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains(SENTENCE), "{stdout}");
    // As a data team would: DuckDB over the Parquet table.
    let said = python("demo_figures.py", &[out]);
    assert_eq!(said.trim(), "1780781 1500 31640 22437");
    // The same figures as data, in summary.json.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let ecole = summary["scopes"].as_array().unwrap().iter().find(|s| s["scope"] == "ECOLE");
    let march =
        ecole.unwrap()["months"].as_array().unwrap().iter().find(|m| m["month"] == "2020-03");
    let march = march.unwrap();
    assert_eq!(march["connections"], 1_780_781);
    assert_eq!(march["visitors"]["Student"], 31_640);
    assert_eq!(march["visitors"]["Relative"], 22_437);
    assert_eq!(march["growth_vs_other_months_pct"].as_f64().unwrap().round(), 1500.0);
    assert_eq!(march["sentence"], SENTENCE);

    // `report` reads the tables back and prints the same summary.
    let html = dir.path().join("report.html");
    let o = entlog(&["report", out, "--html", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), stdout);
    // In French, for French users: the same figures, French numbers.
    let o = entlog(&["report", out, "--lang", "fr"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let french = String::from_utf8(o.stdout).unwrap();
    assert!(french.contains(SENTENCE_FR), "{french}");
    assert!(french.trim_end().ends_with("parents distincts."), "{french}");
    // With the devices and services of the national datasets.
    let texts = [SENTENCE, "1,780,781", "Top applications", "Devices and services", "smartphone"];
    python("check_html.py", &[&[html.to_str().unwrap()][..], &texts].concat());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<td class=\"t\">courrier electronique</td>"), "services in the report");
}
