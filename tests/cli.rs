//! Exit codes, the handling of unreadable inputs, and failed runs that
//! leave the previous output directory as it was.

use crate::util::{analyze, assert_nothing_hidden, entlog, fixture, generate, run_json, snapshot};
use std::path::Path;

#[test]
fn unreadable_inputs_are_reported_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    // A gzip file cut in the middle: readable up to the cut.
    let data = std::fs::read(fixture("quirks/events.json")).unwrap().repeat(200);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &data).unwrap();
    let gz = enc.finish().unwrap();
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let out = dir.path().join("out");
    let o = entlog(&[
        "analyze",
        "/nonexistent/file.json",
        fixture("quirks/events.json").to_str().unwrap(),
        cut.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--max-rejected",
        "100%",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("entlog: error: /nonexistent/file.json: No such file"), "{stderr}");
    // The cause is said once.
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
    // The run failed: its outputs are set aside, complete.
    assert!(!out.exists());
    let out = dir.path().join("out.failed");
    let run = run_json(&out);
    assert_eq!(run["failed_inputs"], 2);
    assert_eq!(run["problems"][0], "2 input(s) could not be read");
    assert!(run["inputs"][0]["error"].is_string());
    assert_eq!(run["inputs"][1]["records"], 20);
    let partial = run["inputs"][2]["records"].as_u64().unwrap();
    assert!(partial > 0 && partial < 20 * 200, "{partial}");
    assert!(run["inputs"][2]["error"].as_str().unwrap().contains("read error"));
    assert!(out.join("audience.parquet").exists());
}

#[test]
fn fatal_errors_exit_2_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("quirks/events.json");
    let o = analyze(&input, &out, &["--tz", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Mars/Olympus"));
    assert!(!out.join("audience.parquet").exists());
    let o = analyze(&input, &out, &["--referential", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
    let o = entlog(&["analyze", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn undetectable_format_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.log");
    std::fs::write(&f, "17/May/2015 10:05:03 GET / 200\n").unwrap();
    let out = dir.path().join("out");
    let o = entlog(&["analyze", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot detect"));
}

/// Runs `analyze INPUT --out OUT EXTRA` and returns its exit code and
/// stderr.
fn run(input: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let o = analyze(input, out, &[&["-q"], extra].concat());
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn failed_runs_leave_the_previous_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    generate(&dump, "0.002", "9", &[]);
    let access = dir.path().join("access");
    generate(&access, "0.002", "9", &["--format", "combined"]);
    let good = dir.path().join("good");
    let (code, err) = run(&dump.join("events"), &good, &["--referential", dump.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let before = snapshot(&good);
    assert!(before.iter().any(|(f, _)| f.starts_with("user_activity/month=")));
    let cases: [(&Path, &[&str], &str); 4] = [
        // Tonight's dump is missing.
        (&dir.path().join("missing-tonight"), &[], "1 input(s) could not be read"),
        // The wrong format: every line rejected.
        (&dump.join("events"), &["--format", "combined"], "no record was accepted"),
        // Access logs without users.csv: nobody profiled.
        (&access.join("access"), &[], "no user could be profiled"),
        // Too many bad lines for the default --max-rejected 1%.
        (&fixture("quirks/events.json"), &[], "more than --max-rejected 1%"),
    ];
    for (input, extra, problem) in cases {
        let (code, err) = run(input, &good, extra);
        assert_eq!(code, Some(1), "{input:?} {extra:?}: {err}");
        assert!(err.contains(problem), "{input:?}: {err}");
        assert!(err.contains("is left as it was"), "{err}");
        assert!(snapshot(&good) == before, "{input:?} {extra:?} changed the output");
        let failed = run_json(&dir.path().join("good.failed"));
        assert!(
            failed["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| { p.as_str().unwrap().contains(problem) })
        );
    }
    // A run that succeeds replaces the output and clears the failed one.
    let (code, err) = run(&dump.join("events"), &good, &["--referential", dump.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!dir.path().join("good.failed").exists());
    assert_nothing_hidden(dir.path());
}

#[test]
fn an_output_inside_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("quirks/events.json"), dir.path().join("events.json")).unwrap();
    let (code, err) = run(dir.path(), &dir.path().join("sub/out"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is inside the input directory"), "{err}");
}

#[test]
fn the_public_salt_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("quirks/events.json");
    let (_, err) = run(&input, &dir.path().join("a"), &["--max-rejected", "100%"]);
    assert!(err.contains("warning: user pseudonyms use the public default salt"), "{err}");
    let (_, err) =
        run(&input, &dir.path().join("b"), &["--max-rejected", "100%", "--salt", "secret"]);
    assert!(!err.contains("public default salt"), "{err}");
}

#[test]
fn messages_name_the_file_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("quirks/events.json");
    let out = dir.path().join("out");
    let lax = ["--max-rejected", "100%"];
    // A referential of users.csv alone is a referential.
    let users = dir.path().join("users-only");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("users.csv"), "id,profile,structures\nu1,Student,s1\n").unwrap();
    let (code, err) =
        run(&input, &out, &[&lax[..], &["--referential", users.to_str().unwrap()]].concat());
    assert_eq!(code, Some(0), "{err}");
    // The file instead of its directory.
    let file = fixture("quirks/referential/structures.csv");
    let (code, err) = run(&input, &out, &["--referential", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("give the directory") && err.contains("not a file"), "{err}");
    assert!(!err.contains("Not a directory"), "{err}");
    // `nginx` without its log_format, and an unknown name.
    let (code, err) = run(&input, &out, &["--format", "nginx"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--format nginx:'"), "{err}");
    let (_, err) = run(&input, &out, &["--format", "apache"]);
    assert!(err.contains("entcore-access") && err.contains("nginx:'<log_format>'"), "{err}");
    // One prefix for every error.
    assert!(err.starts_with("entlog: error: "), "{err}");
    // A month without data is an error, with the months there are.
    let (code, err) = run(&input, &out, &lax);
    assert_eq!(code, Some(0), "{err}");
    let o = entlog(&["report", out.to_str().unwrap(), "--month", "2021-05"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--month 2021-05: no data") && err.contains("2020-03"), "{err}");
}

#[test]
fn command_line_mistakes_speak_in_the_same_style_and_shells_complete() {
    // clap's own errors (an unknown option, a missing value) take the
    // prefix of every other error, and exit 2.
    for args in [&["analyze", "--bogus"][..], &["analyze", "x.json"], &["merge"]] {
        let o = entlog(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("entlog: error: ") && !err.contains("error: error"), "{err}");
    }
    // Help still goes to stdout with exit 0.
    let o = entlog(&["analyze", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--dedup"));
    for (shell, marker) in
        [("bash", "_entlog()"), ("zsh", "#compdef entlog"), ("fish", "complete -c entlog")]
    {
        let o = entlog(&["completions", shell]);
        let script = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0));
        assert!(script.contains(marker) && script.contains("valid-from"), "{shell}");
    }
}
