//! The report of a finished run, read back from its Parquet tables, is the
//! report of the run.

use crate::util::{fixture, generate};
use entlog::analyze::{AnalyzeOptions, analyze};
use entlog::report::data::ReportData;

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
