"""Whole-process comparison: entlog analyze against DuckDB on the same
Entcore JSON dump, the same figures, the same cores, in one run.

Both compute, for day / ISO week / month x profile (and All) x platform /
segment / structure: connections, exact distinct visitors, access and
activations, with periods cut at local midnight in Europe/Paris. The script
checks that DuckDB's figures equal entlog's audience.parquet, then prints a
Markdown table: wall time (best and median), MB/s, events/s, peak
anonymous memory (heap, sampled from /proc, not the mapped file's pages)
and the ratios; then entlog's phases (from run.json: the scan, the final
stage, the writes) and the scan's MB/s per core beside a plain line count
of the same files (`wc -l`, one core), the floor of any line reader.

usage: python3 benches/compare_duckdb.py DUMP_DIR [--threads 2] [--runs 3]
                                         [--entlog-args=--no-visits]
  DUMP_DIR: written by `entlog generate` (events/ and structures.csv)
"""
import argparse
import glob
import statistics
import subprocess
import time
import json
import os
import shutil
import sys
import tempfile

from peak import run

ENTLOG = os.environ.get("ENTLOG", "target/release/entlog")

DUCKDB_JOB = r"""
import sys, duckdb
events, referential, threads, out = sys.argv[1:5]
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'Europe/Paris'")
# Parse once: the date in every mongoexport shape, profile default,
# distinct structures.
con.execute(f'''
CREATE TEMP TABLE ev AS
SELECT row_number() OVER () AS id, "event-type" AS t, userId AS u,
       CASE WHEN profil IN ('Student','Relative','Teacher','Personnel','Guest')
            THEN profil ELSE 'Unknown' END AS p,
       list_distinct(coalesce(structures, [])) AS s,
       CAST(make_timestamptz(1000 * coalesce(
           TRY_CAST(date AS BIGINT),
           TRY_CAST(json_extract_string(date, '$."$numberLong"') AS BIGINT),
           TRY_CAST(json_extract_string(date, '$."$date"."$numberLong"') AS BIGINT),
           TRY_CAST(json_extract_string(date, '$."$date"') AS BIGINT),
           epoch_ms(TRY_CAST(json_extract_string(date, '$."$date"') AS TIMESTAMPTZ)))) AS DATE) AS d
FROM read_json('{events}/*.json', format='newline_delimited', ignore_errors=true,
     columns={{"event-type":'VARCHAR', userId:'VARCHAR', profil:'VARCHAR',
               structures:'VARCHAR[]', date:'JSON'}})
WHERE userId IS NOT NULL AND userId <> ''
''')
con.execute(f"CREATE TEMP TABLE ref AS SELECT id, type FROM read_csv('{referential}/structures.csv')")
con.execute('''
CREATE TEMP TABLE g AS
SELECT id, t, u, p, s, unnest(['day','week','month']) AS grain,
       unnest([d, date_trunc('week', d)::DATE, date_trunc('month', d)::DATE]) AS period
FROM ev WHERE t <> 'CREATE_USER' AND d IS NOT NULL
''')
metrics = '''count(*) FILTER (t = 'LOGIN') AS connections,
             count(DISTINCT u) FILTER (t = 'LOGIN') AS unique_visitors,
             count(*) FILTER (t = 'ACCESS') AS access,
             count(*) FILTER (t = 'ACTIVATION') AS activations'''
con.execute(f'''
COPY (
  SELECT grain, period, 'platform' AS scope, NULL AS name, coalesce(p, 'All') AS profile, {metrics}
  FROM g GROUP BY GROUPING SETS ((grain, period, p), (grain, period))
  UNION ALL
  SELECT grain, period, 'structure', sid, coalesce(p, 'All'), {metrics}
  FROM (SELECT *, unnest(s) AS sid FROM g)
  GROUP BY GROUPING SETS ((grain, period, sid, p), (grain, period, sid))
  UNION ALL
  SELECT grain, period, 'segment', seg, coalesce(p, 'All'), {metrics}
  FROM (SELECT DISTINCT g.id, g.grain, g.period, g.t, g.u, g.p, ref.type AS seg
        FROM (SELECT *, unnest(s) AS sid FROM g) g
        JOIN ref ON ref.id = g.sid)
  GROUP BY GROUPING SETS ((grain, period, seg, p), (grain, period, seg))
) TO '{out}' (FORMAT parquet)
''')
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--entlog-args", default="",
                    help="extra arguments of entlog analyze, e.g. --no-visits")
    a = ap.parse_args()
    files = sorted(glob.glob(f"{a.dump}/events/*.json"))
    size = sum(os.path.getsize(f) for f in files)
    tmp = tempfile.mkdtemp(prefix="entlog-bench-")
    job = os.path.join(tmp, "duckdb_job.py")
    with open(job, "w") as f:
        f.write(DUCKDB_JOB)
    # Warm the page cache so that both read from memory.
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    out = os.path.join(tmp, "entlog")
    duck_out = os.path.join(tmp, "duckdb.parquet")
    # The same job for both: the structures of the referential, not the
    # accounts of users.csv (which DuckDB's job does not count, and which
    # fill the profile of events without one).
    referential = os.path.join(tmp, "referential")
    os.mkdir(referential)
    shutil.copy(f"{a.dump}/structures.csv", referential)
    runs = {"entlog": [], "duckdb": []}
    phases = []
    for _ in range(a.runs):
        runs["entlog"].append(run([ENTLOG, "analyze", f"{a.dump}/events", "--referential",
                                     referential, "--out", out, "--threads", a.threads, "-q",
                                   *a.entlog_args.split()]))
        phases.append(json.load(open(f"{out}/run.json"))["phase_seconds"])
        runs["duckdb"].append(run([sys.executable, job, f"{a.dump}/events", a.dump,
                                     a.threads, duck_out]))
    check(out, duck_out)
    records = json.load(open(f"{out}/run.json"))["records"]
    best = {k: min(v) for k, v in runs.items()}
    median = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    print(f"input: {len(files)} files, {size / 1e6:.0f} MB, {records:,} events; "
          f"threads: {a.threads}; {a.runs} alternating runs\n")
    print("| tool | best wall (s) | median wall (s) | MB/s (best) | events/s (best) "
          "| peak heap (MiB) |")
    print("|---|---|---|---|---|---|")
    for name in ("entlog", "duckdb"):
        wall, heap = best[name]
        print(f"| {name} | {wall:.2f} | {median[name]:.2f} | {size / 1e6 / wall:.0f} "
              f"| {records / wall:,.0f} | {heap:.0f} |")
    ratio = best["duckdb"][0] / best["entlog"][0]
    print(f"\nentlog / DuckDB throughput: {ratio:.1f}x best, "
          f"{median['duckdb'] / median['entlog']:.1f}x median")
    print_phases(phases, size, int(a.threads), files)


def print_phases(phases, size, threads, files):
    """entlog's phases in each run, and the scan beside a line count."""
    print("\n| entlog run | scan (s) | final stage (s) | writes (s) | final + writes |")
    print("|---|---|---|---|---|")
    for i, p in enumerate(phases, 1):
        total = p["scan"] + p["finish"] + p["write"]
        share = (p["finish"] + p["write"]) / total
        print(f"| {i} | {p['scan']:.2f} | {p['finish']:.2f} | {p['write']:.2f} | {share:.0%} |")
    scan = min(p["scan"] for p in phases)
    start = time.perf_counter()
    subprocess.run(["wc", "-l", *files], check=True, stdout=subprocess.DEVNULL)
    count = time.perf_counter() - start
    print(f"\nscan: {size / 1e6 / scan / threads:.0f} MB/s per core (best run); "
          f"`wc -l` of the same files: {size / 1e6 / count:.0f} MB/s on one core")


def check(out, duck_out):
    """DuckDB's rows must equal entlog's audience.parquet."""
    import duckdb
    diff = duckdb.sql(f"""
        WITH e AS (SELECT grain, period_start AS period, scope,
                          CASE scope WHEN 'segment' THEN segment WHEN 'structure' THEN structure_id END AS name,
                          profile, connections, unique_visitors, access, activations
                   FROM read_parquet('{out}/audience.parquet')),
             d AS (SELECT * FROM read_parquet('{duck_out}')
                   WHERE connections + unique_visitors + access + activations > 0)
        SELECT count(*) FROM ((SELECT * FROM e EXCEPT ALL SELECT * FROM d)
                              UNION ALL (SELECT * FROM d EXCEPT ALL SELECT * FROM e))
    """).fetchall()[0][0]
    if diff:
        sys.exit(f"DuckDB and entlog disagree on {diff} rows")
    print("figures: DuckDB and entlog agree on every row")


main()
