//! Accounts loaded and activated, from a users.csv written the way
//! directory exports are (a BOM, quoted fields, accents), with a user
//! activated mid-month and a visitor missing from the directory; the
//! same by class, with a pupil in two classes and classes named by a
//! classes.csv.

use crate::util::{analyze, python};
use std::path::Path;

/// Two users in the directory who log in (one activated on 16 March in
/// the logs), one who never does, and one visitor the directory lacks.
/// The first pupil is in classes c1 and c2, the parent in c1 but logs in
/// with an event naming c2, the other pupil in c2.
fn write_inputs(dir: &Path) {
    let refdir = dir.join("ref");
    std::fs::create_dir_all(&refdir).unwrap();
    std::fs::write(
        refdir.join("structures.csv"),
        "id,uai,name,type\ns1,0801234A,\"École Jean-Jaurès, Amiens\",ECOLE\n",
    )
    .unwrap();
    let users = "\u{feff}id,profile,structures,activated,classes\n\
                 \"élève-1\",Student,\"s1\",false,\"c1; c2\"\n\
                 \"parent \"\"2\"\"\",Relative,s1,TRUE,c1\n\
                 dormant-3,Student,\"s1;\",false,c2;\n";
    std::fs::write(refdir.join("users.csv"), users).unwrap();
    let classes = "\u{feff}id,name,structure_id\nc1,\"6ᵉ A, latin\",s1\nc2,\"CM2 \"\"B\"\"\",s1\n";
    std::fs::write(refdir.join("classes.csv"), classes).unwrap();
    let event = |kind: &str, user: &str, date: &str| {
        let user = serde_json::to_string(user).unwrap();
        let classes = if user.starts_with("\"parent") { r#","classes":["c2"]"# } else { "" };
        format!(
            r#"{{"event-type":"{kind}","module":"Auth","date":{{"$date":"{date}"}},"userId":{user},"structures":["s1"]{classes}}}"#
        )
    };
    let lines = [
        event("LOGIN", "élève-1", "2020-03-02T08:00:00Z"),
        event("ACTIVATION", "élève-1", "2020-03-16T08:00:00Z"),
        event("LOGIN", "élève-1", "2020-03-16T08:00:01Z"),
        event("LOGIN", "parent \"2\"", "2020-03-03T18:00:00Z"),
        event("LOGIN", "stranger", "2020-03-04T18:00:00Z"),
    ];
    std::fs::write(dir.join("events.json"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn accounts_come_from_users_csv_and_activations() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let out = dir.path().join("out");
    let refdir = dir.path().join("ref");
    let o = analyze(
        &dir.path().join("events.json"),
        &out,
        &["--referential", refdir.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 user(s) logged in who are not in users.csv"), "{stderr}");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["visitors_without_account"], 1);
    // Profiles come from the directory (the events carry none), accounts
    // by day around the activation, the month, and ODE's export.
    let said = python("accounts_check.py", &[out.to_str().unwrap()]);
    assert_eq!(said.trim(), "ok", "{said}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let march = &summary["scopes"][0]["months"][0]["accounts"]["All"];
    assert_eq!((march["loaded"].as_i64(), march["activated"].as_i64()), (Some(3), Some(2)));
}
