//! The committed fixture of real-dump quirks: every quirk of the engine
//! issue, with hand-checked figures, and the independent recomputation.

use crate::util::{cu, fixture, python, rejections, row};
use entlog::analyze::{AnalyzeOptions, analyze};

const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
const C: &str = "cccccccc-0000-4000-8000-00000000000c";

#[test]
fn quirks_fixture_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = AnalyzeOptions::new(vec![fixture("quirks/events.json")], dir.path().into());
    opts.referential = Some(fixture("quirks/referential"));
    let run = analyze(&opts).unwrap();
    let t = &run.tables;
    let input = &run.report.inputs[0];
    // 31 lines: 20 records, 9 rejections, 2 blank lines; no final newline.
    assert_eq!((input.lines, run.report.records, run.report.rejected), (31, 20, 9));
    assert_eq!(
        rejections(input),
        [
            (22, "not valid JSON"),
            (23, "not valid JSON"),
            (24, "not a JSON object"),
            (25, "no date"),
            (26, "date is not a readable time"),
            (27, "no user id"),
            (28, "no user id"),
            (29, "no user id"),
            (30, "not valid JSON"),
        ]
    );
    // March: 12 logins by 7 users (missing/null profil -> Unknown, escaped
    // id, no structures, unknown structure included).
    assert_eq!(cu(row(t, "month", "2020-03-01", "platform", None, "All")), (12, 7));
    assert_eq!(cu(row(t, "month", "2020-03-01", "platform", None, "Unknown")), (1, 1));
    // Schools: an event naming two schools counts once; u1 and u6 pupils.
    assert_eq!(cu(row(t, "month", "2020-03-01", "segment", Some("ECOLE"), "All")), (9, 4));
    assert_eq!(cu(row(t, "month", "2020-03-01", "segment", Some("ECOLE"), "Student")), (4, 2));
    // Structure A: 7 logins; C: 2, its duplicated id counted once.
    assert_eq!(cu(row(t, "month", "2020-03-01", "structure", Some(A), "All")), (7, 3));
    assert_eq!(cu(row(t, "month", "2020-03-01", "structure", Some(C), "All")), (2, 1));
    // Escaped `\/` in a structure id is unescaped before the join.
    let s1 = row(t, "month", "2020-03-01", "structure", Some("s/1"), "All");
    assert_eq!(cu(s1), (1, 1));
    // Month end at local midnight: 23:59:59.999 on 31 March (CEST) is
    // March, the next millisecond is April.
    assert_eq!(cu(row(t, "day", "2020-03-31", "platform", None, "All")), (1, 1));
    assert_eq!(cu(row(t, "month", "2020-04-01", "platform", None, "All")), (1, 1));
    // Both DST changes of 2020: the two logins each side of the change
    // fall on the day of the change.
    assert_eq!(cu(row(t, "day", "2020-03-29", "platform", None, "All")), (2, 1));
    assert_eq!(cu(row(t, "day", "2020-10-25", "platform", None, "All")), (2, 1));
    assert_eq!(cu(row(t, "day", "2020-10-24", "platform", None, "All")), (0, 0));
    // ISO week of Monday 16 March.
    assert_eq!(cu(row(t, "week", "2020-03-16", "platform", None, "All")), (9, 7));
    // ACCESS (typo kept as is), ACTIVATION, CONNECTOR and CREATE_USER.
    let m = row(t, "month", "2020-03-01", "platform", None, "All").unwrap();
    assert_eq!((m.access, m.activations), (2, 1));
    // The unknown structure keeps its id and has no school code.
    let unknown =
        t.audience.iter().find(|(k, _)| t.structure_id(k.scope) == Some("zzzzzzzz-unknown"));
    assert!(unknown.is_some());
    assert_eq!(t.segment_name(unknown.unwrap().0.scope), None);
}

#[test]
fn quirks_fixture_matches_python() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let input = fixture("quirks/events.json");
    let referential = fixture("quirks/referential");
    let status = crate::util::entlog(&[
        "analyze",
        input.to_str().unwrap(),
        "--referential",
        referential.to_str().unwrap(),
        "--out",
        out,
        "-q",
        // A third of the fixture's lines are broken on purpose.
        "--max-rejected",
        "100%",
    ]);
    assert_eq!(status.status.code(), Some(0));
    python(
        "crosscheck.py",
        &[out, referential.to_str().unwrap(), "Europe/Paris", input.to_str().unwrap()],
    );
}
