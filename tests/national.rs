//! The services and devices datasets end to end: `--services` replaces the
//! default mapping and is recorded, runs made with different mappings are
//! not merged, and access logs count services from their paths and
//! devices from their user agents.

use crate::util::{analyze, entlog, generate};
use std::collections::BTreeMap;
use std::path::Path;

/// Column -> total over every row of a `;`-separated national dataset.
fn totals(path: &Path) -> BTreeMap<String, i64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let mut sums = BTreeMap::new();
    for line in lines {
        for (name, value) in header.iter().zip(line.split(';')) {
            if let Ok(n) = value.parse::<i64>() {
                *sums.entry(name.to_string()).or_insert(0) += n;
            }
        }
    }
    sums
}

#[test]
fn a_services_file_replaces_the_default_and_runs_with_another_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.005", "11", &[]);
    let events = dump.join("events");
    let referential = dump.to_str().unwrap();
    let default = dir.path().join("default");
    let o = analyze(&events, &default, &["-q", "--referential", referential]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let services = dir.path().join("services.csv");
    // Blogs count as notes, and nothing else counts for any service.
    std::fs::write(&services, "application,service\nBLOG,notes\n").unwrap();
    let custom = dir.path().join("custom");
    let with = ["-q", "--referential", referential, "--services", services.to_str().unwrap()];
    let o = analyze(&events, &custom, &with);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));

    let [d, c] = [&default, &custom].map(|o| totals(&o.join("fr-en-dnma-par-uai-services.csv")));
    assert!(d["visites_accueil"] > 0 && d["visites_notes"] == 0, "{d:?}");
    assert_eq!(c["visites_accueil"], 0);
    assert_eq!(c["visites_production_collaborative"], 0);
    // Every visit with a blog, and only those, counts for notes: what the
    // default counted as collaborative work with blogs among other
    // applications, at most.
    assert!(c["visites_notes"] > 0 && c["visites_notes"] <= d["visites_production_collaborative"]);
    // The profiles datasets do not depend on the mapping.
    for name in ["fr-en-dnma-par-uai-profils.csv", "fr-en-dnma-par-uai-profils-appareils.csv"] {
        let same =
            std::fs::read(default.join(name)).unwrap() == std::fs::read(custom.join(name)).unwrap();
        assert!(same, "{name}");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(custom.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["options"]["services"], services.to_str().unwrap());

    let merged = dir.path().join("merged");
    let o = entlog(&[
        "merge",
        "-q",
        "--out",
        merged.to_str().unwrap(),
        default.to_str().unwrap(),
        custom.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different referential"));

    // A service the national measure does not have is refused, naming the
    // file and line.
    std::fs::write(&services, "application,service\nBlog,notes\nWiki,gazette\n").unwrap();
    let o = analyze(&events, &dir.path().join("refused"), &with);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("services.csv:3") && err.contains("gazette"), "{err}");
}

#[test]
fn access_logs_count_services_from_paths_and_devices_from_agents() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.005", "12", &["--format", "entcore-access"]);
    let out = dir.path().join("out");
    let referential = dump.to_str().unwrap();
    let input = std::fs::read_dir(&dump)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("the access logs' directory");
    let o = analyze(&input, &out, &["-q", "--referential", referential]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let services = totals(&out.join("fr-en-dnma-par-uai-services.csv"));
    // `/timeline/...` after every login, `/conversation/...` after every
    // application opened.
    assert!(services["visites_accueil"] > 0, "{services:?}");
    assert!(services["visites_courrier_electronique"] > 0, "{services:?}");
    let devices = totals(&out.join("fr-en-dnma-par-uai-profils-appareils.csv"));
    for device in ["ordinateur", "smartphone", "tablette"] {
        assert!(devices[&format!("visites_eleve_{device}")] > 0, "{device}: {devices:?}");
    }
}
