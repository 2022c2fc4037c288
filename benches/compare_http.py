"""Whole-process comparison on an access log: entlog analyze against
GoAccess (--log-format=COMBINED, JSON output) and DuckDB (read_csv split on
spaces + GROUP BY), on the same generated combined log, the same machine,
in one run.

The job: http.parquet without its latency columns (no request times in a
combined log): for day, ISO week and month x the logged user's profile
(from users.csv; `Unknown` without one) and `All`: requests, distinct
client addresses, distinct logged users, requests by status class, bytes
sent. DuckDB computes exactly that; entlog computes it and everything else
it writes (audience, user activity, visits, hourly, ...); GoAccess
computes its own report (hits, visitors = distinct IP + user agent per day,
requested files, status codes, ...). The script checks that DuckDB's
rows equal http.parquet's and that GoAccess's daily hits equal
entlog's requests, then prints a Markdown table.

usage: python3 benches/compare_http.py DUMP_DIR [--threads 2] [--runs 3]
                                       [--goaccess-runs 1] [--entlog-args=...]
  DUMP_DIR: written by `entlog generate --format combined`
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

from peak import run

ENTLOG = os.environ.get("ENTLOG", "target/release/entlog")

DUCKDB_JOB = r"""
import sys, duckdb
log, users, threads, out = sys.argv[1:5]
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
# Split on spaces, fields in double quotes: `[16/Mar/2020:08:12:33` and
# `+0100]` are two columns; the date part is the log's local day.
con.execute(f'''
CREATE TEMP TABLE r AS
SELECT CAST(strptime(t, '[%d/%b/%Y:%H:%M:%S') AS DATE) AS d, ip, u, s,
       CASE WHEN b = '-' THEN 0 ELSE CAST(b AS BIGINT) END AS b
FROM read_csv('{log}', delim=' ', quote='"', escape='\\', header=false,
              strict_mode=false, ignore_errors=true, auto_detect=false,
              columns={{ip:'VARCHAR', l:'VARCHAR', u:'VARCHAR', t:'VARCHAR',
                        z:'VARCHAR', r:'VARCHAR', s:'INTEGER', b:'VARCHAR',
                        ref:'VARCHAR', ua:'VARCHAR'}})
WHERE ua IS NOT NULL
''')
# The profile of the logged user from users.csv, as entlog does.
con.execute(f'''
CREATE TEMP TABLE g AS
SELECT r.*, coalesce(users.profile, 'Unknown') AS p,
       unnest(['day', 'week', 'month']) AS grain,
       unnest([d, date_trunc('week', d)::DATE, date_trunc('month', d)::DATE]) AS period
FROM r LEFT JOIN read_csv('{users}') AS users ON users.id = r.u
''')
con.execute(f'''
COPY (
  SELECT grain, period AS period_start, coalesce(p, 'All') AS profile,
         count(*) AS requests,
         count(DISTINCT ip) AS unique_clients,
         count(DISTINCT u) FILTER (u <> '-') AS unique_users,
         count(*) FILTER (s BETWEEN 100 AND 199) AS status_1xx,
         count(*) FILTER (s BETWEEN 200 AND 299) AS status_2xx,
         count(*) FILTER (s BETWEEN 300 AND 399) AS status_3xx,
         count(*) FILTER (s BETWEEN 400 AND 499) AS status_4xx,
         count(*) FILTER (s BETWEEN 500 AND 599) AS status_5xx,
         CAST(sum(b) AS BIGINT) AS bytes_sent
  FROM g GROUP BY GROUPING SETS ((grain, period, p), (grain, period))
) TO '{out}' (FORMAT parquet)
''')
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--goaccess-runs", type=int, default=1)
    ap.add_argument("--entlog-args", default="",
                    help="extra arguments of entlog analyze, e.g. --no-visits")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="entlog-http-bench-")
    # One file, as GoAccess and read_csv take it, without the generator's
    # cut lines (about 3 in 100,000): read_csv would join a line whose
    # last quote is missing with the next one, and the figures would
    # differ for that reason alone.
    log = os.path.join(tmp, "access.log")
    dropped = 0
    with open(log, "wb") as out:
        for f in sorted(glob.glob(f"{a.dump}/access/*.log")):
            with open(f, "rb") as fh:
                for line in fh:
                    quotes = line.count(b'"') - line.count(b'\\"')
                    if line.rstrip(b"\r\n").endswith(b'"') and quotes == 6:
                        out.write(line)
                    else:
                        dropped += 1
    size = os.path.getsize(log)
    with open(log, "rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
    job = os.path.join(tmp, "duckdb_job.py")
    with open(job, "w") as f:
        f.write(DUCKDB_JOB)
    out = os.path.join(tmp, "entlog")
    duck_out = os.path.join(tmp, "duckdb.parquet")
    goaccess_out = os.path.join(tmp, "goaccess.json")
    runs = {"entlog": [], "duckdb": [], "goaccess": []}
    for i in range(a.runs):
        runs["entlog"].append(run([ENTLOG, "analyze", log, "--referential", a.dump, "--out", out,
                                   "--threads", a.threads, "-q", *a.entlog_args.split()]))
        runs["duckdb"].append(run([sys.executable, job, log, f"{a.dump}/users.csv", a.threads,
                                   duck_out]))
        if i < a.goaccess_runs:
            runs["goaccess"].append(run(["goaccess", log, "--log-format=COMBINED",
                                         "--no-global-config", "--no-progress",
                                         "-o", goaccess_out]))
    check(out, duck_out, goaccess_out)
    version = subprocess.run(["goaccess", "--version"], capture_output=True, text=True)
    print(f"\ninput: one combined log, {size / 1e6:.0f} MB, {lines:,} lines "
          f"({dropped} cut lines left out); threads: "
          f"{a.threads} (GoAccess {version.stdout.split()[2].rstrip('.')}: one); "
          f"best of {a.runs} alternating runs ({a.goaccess_runs} for GoAccess)\n")
    print("| tool | wall (s) | MB/s | lines/s | peak heap (MiB) | entlog is |")
    print("|---|---|---|---|---|---|")
    best = {k: min(v) for k, v in runs.items() if v}
    for name in best:
        wall, heap = best[name]
        ratio = "" if name == "entlog" else f"{wall / best['entlog'][0]:.1f}x faster"
        print(f"| {name} | {wall:.2f} | {size / 1e6 / wall:.0f} | {lines / wall:,.0f} "
              f"| {heap:.0f} | {ratio} |")


def check(out, duck_out, goaccess_out):
    import duckdb
    diff = duckdb.sql(f"""
        WITH e AS (SELECT * EXCLUDE (latency_count, latency_p50_ms, latency_p90_ms,
                                     latency_p99_ms, latency_max_ms, latency_hdr)
                   FROM read_parquet('{out}/http.parquet')),
             d AS (SELECT * FROM read_parquet('{duck_out}'))
        SELECT count(*) FROM ((SELECT * FROM e EXCEPT ALL SELECT * FROM d)
                              UNION ALL (SELECT * FROM d EXCEPT ALL SELECT * FROM e))
    """).fetchall()[0][0]
    if diff:
        sys.exit(f"DuckDB and entlog disagree on {diff} rows")
    print("figures: DuckDB and entlog agree on every row of http.parquet")
    if not os.path.exists(goaccess_out):
        return
    report = json.load(open(goaccess_out))
    hits = {}
    for d in report["visitors"]["data"]:
        day = f"{d['data'][:4]}-{d['data'][4:6]}-{d['data'][6:]}"
        hits[day] = d["hits"]["count"]
    ours = dict(duckdb.sql(f"""SELECT CAST(period_start AS VARCHAR), requests
                                FROM read_parquet('{out}/http.parquet')
                                WHERE grain = 'day' AND profile = 'All'""").fetchall())
    if hits != ours:
        bad = sorted(k for k in set(hits) | set(ours) if hits.get(k) != ours.get(k))
        print(f"GoAccess and entlog differ on daily hits of {len(bad)} days, e.g. "
              f"{[(k, hits.get(k), ours.get(k)) for k in bad[:3]]}")
    else:
        print("figures: GoAccess's daily hits equal entlog's requests")


main()
