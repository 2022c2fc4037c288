//! The algebra the engine relies on, as property tests over random event
//! streams (users, profiles, structures, applications and instants drawn
//! small, so that users meet, visits straddle cuts and a DST change falls
//! in): folding the whole stream equals merging the folds of its parts
//! wherever it is cut; merging states is commutative and associative; and
//! `entlog merge` of runs over any split equals one run, in any order.
//! Equality is of every output file byte for byte, so every figure
//! (counters, distinct users, sketches, visits, hourly, applications,
//! HTTP, national weeks, per-user tables) is checked at once.

use crate::util::{TableFiles, analyze, entlog, snapshot};
use entlog::aggregate::finish::{Settings, finish};
use entlog::aggregate::{Agg, Context, Worker};
use entlog::analyze::{RUN_JSON, write_tables};
use entlog::keys::UserKeyer;
use entlog::parse::{Format, Layout};
use entlog::referential::Referential;
use entlog::scan::scan_chunk;
use entlog::time::LocalDays;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use std::path::Path;

/// 2020-03-27 00:00 UTC: the stream spans the night France moves to
/// summer time (2020-03-29).
const START_MS: i64 = 1_585_267_200_000;

/// One drawn event: user, profile, structure, application, minute.
type Drawn = (u8, u8, u8, u8, u32);

fn events() -> impl Strategy<Value = Vec<Drawn>> {
    prop::collection::vec((0u8..8, 0u8..4, 0u8..3, 0u8..5, 0u32..6 * 24 * 60), 1..120)
}

/// The event store line of an event (application 0 is a login).
fn json_line((user, profile, structure, app, minute): Drawn) -> String {
    let profile = ["Student", "Relative", "Teacher", "Personnel"][usize::from(profile)];
    let (kind, module) = match app {
        0 => ("LOGIN", "Auth".to_string()),
        a => ("ACCESS", format!("app-{a}")),
    };
    let ms = START_MS + i64::from(minute) * 60_000 + i64::from(user) * 1_000;
    format!(
        r#"{{"event-type":"{kind}","module":"{module}","date":{ms},"userId":"u{user}","profil":"{profile}","structures":["s{structure}"]}}"#
    )
}

/// The combined access log line of an event (application 0 is a login
/// request; the structure picks the client address).
fn access_line((user, _, structure, app, minute): Drawn) -> String {
    let at = jiff::Timestamp::from_millisecond(START_MS + i64::from(minute) * 60_000).unwrap();
    let time = at.strftime("%d/%b/%Y:%H:%M:%S +0000");
    let request = match app {
        0 => "POST /auth/login HTTP/1.1".to_string(),
        a => format!("GET /app-{a}/ HTTP/1.1"),
    };
    format!(r#"203.0.113.{structure} - u{user} [{time}] "{request}" 200 {minute} "-" "ua""#)
}

fn text(events: &[Drawn], line: fn(Drawn) -> String) -> Vec<u8> {
    events.iter().map(|&e| line(e) + "\n").collect::<String>().into_bytes()
}

fn context() -> Context {
    let days = LocalDays::new(TimeZone::get("Europe/Paris").unwrap());
    Context::new(UserKeyer::new("algebra"), Referential::empty(), days)
}

/// The state of one worker that read `chunks` in order.
fn fold(ctx: &Context, format: &Format, chunks: &[&[u8]]) -> Agg {
    let mut w = Worker::new(ctx);
    for chunk in chunks {
        let stats = scan_chunk(&mut w, format, chunk);
        assert!(stats.rejected.is_empty());
    }
    w.agg
}

/// Every file the tables of `agg` are written to.
fn written(ctx: &Context, agg: Agg) -> TableFiles {
    let settings = Settings { days: ctx.days.clone(), visit_gap_ms: ctx.visit_gap_ms };
    let tables = finish(agg, ctx.dimensions(), &ctx.users, &settings);
    let dir = tempfile::tempdir().unwrap();
    write_tables(dir.path(), &tables, &[]).unwrap();
    snapshot(dir.path())
}

/// `data` cut at the line boundaries nearest to `cuts` (fractions).
fn cut<'d>(data: &'d [u8], cuts: &[f64]) -> Vec<&'d [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|f| {
            let p = (data.len() as f64 * f) as usize;
            data[p..].iter().position(|&b| b == b'\n').map_or(data.len(), |i| p + i + 1)
        })
        .collect();
    at.push(data.len());
    at.sort_unstable();
    let mut start = 0;
    at.into_iter()
        .map(|end| {
            let part = &data[start..end];
            start = end;
            part
        })
        .collect()
}

fn formats() -> impl Strategy<Value = (Format, fn(Drawn) -> String)> {
    prop_oneof![
        Just((Format::EntcoreJson, json_line as fn(Drawn) -> String)),
        Just((Format::Access(Layout::combined()), access_line as fn(Drawn) -> String)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// One worker over the whole stream, and one worker per part merged:
    /// the same tables, wherever the cuts fall.
    #[test]
    fn fold_of_a_concatenation_is_the_merge_of_folds(
        events in events(),
        (format, line) in formats(),
        cuts in prop::collection::vec(0.0..1.0f64, 1..5),
    ) {
        let data = text(&events, line);
        let ctx = context();
        let whole = written(&ctx, fold(&ctx, &format, &[&data]));
        let ctx = context();
        let parts = cut(&data, &cuts);
        let merged = parts.iter().map(|p| fold(&ctx, &format, &[p])).reduce(Agg::merge).unwrap();
        prop_assert!(whole == written(&ctx, merged));
        // One worker reading the parts as separate chunks.
        let ctx = context();
        prop_assert!(whole == written(&ctx, fold(&ctx, &format, &parts)));
    }

    /// merge(a, b) = merge(b, a) and merge(merge(a, b), c) =
    /// merge(a, merge(b, c)), for states folded from three random streams.
    #[test]
    fn merge_is_commutative_and_associative(
        a in events(), b in events(), c in events(), (format, line) in formats(),
    ) {
        let ctx = context();
        let (a, b, c) = (text(&a, line), text(&b, line), text(&c, line));
        let state = |d: &[u8]| fold(&ctx, &format, &[d]);
        let ab = written(&ctx, state(&a).merge(state(&b)));
        prop_assert!(ab == written(&ctx, state(&b).merge(state(&a))));
        let left = written(&ctx, state(&a).merge(state(&b)).merge(state(&c)));
        let right = written(&ctx, state(&a).merge(state(&b).merge(state(&c))));
        prop_assert!(left == right);
    }
}

/// The table files of a run or merge (run.json holds timings and paths).
fn tables(out: &Path) -> TableFiles {
    snapshot(out).into_iter().filter(|(name, _)| name != RUN_JSON).collect()
}

proptest! {
    // Each case runs the binary four to six times.
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// `entlog merge` of runs over the parts of a random split, given in
    /// a random order, writes the tables of one run over the whole.
    #[test]
    fn merge_of_runs_over_any_split_is_one_run(
        events in events(),
        cuts in prop::collection::vec(0.0..1.0f64, 1..4),
        rotate in 0usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let data = text(&events, json_line);
        let run = |input: &Path, out: &Path| {
            let done = analyze(input, out, &["--salt", "algebra", "--max-rejected", "100%"]);
            assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        };
        std::fs::write(d.join("all.json"), &data).unwrap();
        run(&d.join("all.json"), &d.join("whole"));
        let mut runs: Vec<String> = Vec::new();
        for (i, part) in cut(&data, &cuts).into_iter().enumerate().filter(|(_, p)| !p.is_empty()) {
            let input = d.join(format!("part-{i}.json"));
            std::fs::write(&input, part).unwrap();
            let out = d.join(format!("run-{i}"));
            run(&input, &out);
            runs.push(out.display().to_string());
        }
        let n = runs.len();
        runs.rotate_left(rotate % n);
        let merged = d.join("merged");
        let mut args = vec!["merge"];
        args.extend(runs.iter().map(String::as_str));
        args.extend(["--out", merged.to_str().unwrap()]);
        let done = entlog(&args);
        prop_assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        prop_assert!(tables(&d.join("whole")) == tables(&merged));
    }
}
