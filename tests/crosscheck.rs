//! Every row of audience.parquet against an independent computation in
//! Python (json module + zoneinfo) over the raw lines of a generated dump
//! with quirks, read back with pyarrow.

use crate::util::{analyze, generate, python, write_annuaire};

#[test]
fn generated_dump_matches_python_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    // Scale 0.02: about 135,000 events, with every generator quirk.
    generate(&dump, "0.02", "2020", &[]);
    let out = dir.path().join("out");
    let annuaire = dir.path().join("annuaire.csv");
    write_annuaire(&dump, &annuaire);
    let o = analyze(
        &dump.join("events"),
        &out,
        &["--referential", dump.to_str().unwrap(), "--annuaire", annuaire.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert!(run["records"].as_u64().unwrap() >= 100_000);
    assert!(run["rejected"].as_u64().unwrap() > 0, "the dump should hold bad lines");
    let mut files: Vec<String> = std::fs::read_dir(dump.join("events"))
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    files.sort();
    let mut args = vec![
        "--annuaire",
        annuaire.to_str().unwrap(),
        out.to_str().unwrap(),
        dump.to_str().unwrap(),
        "Europe/Paris",
    ];
    args.extend(files.iter().map(String::as_str));
    let said = python("crosscheck.py", &args);
    assert!(said.starts_with("ok:"), "{said}");
    // The generated directory lists every account.
    assert!(!said.contains(" 0 accounts"), "{said}");
}
