"""Runs the README's Spark SQL in Spark's local mode (loopback only): the
lake's table declared and queried, and the runs' sketches unioned, then
compares the rows with the month rows of a single run.

usage: spark_sql_check.py LAKE_DIR RUNS_GLOB WHOLE_RUN_DIR
(RUNS_GLOB: a glob of the runs' directories, such as /tmp/x/run-*)
"""
import os
import pathlib
import sys

import pyarrow.parquet as pq

from merge_sql import readme_query

# The job's own session settings (local mode, loopback only).
sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "spark"))
from audience import session  # noqa: E402

# Two standard errors of an lgK 12 sketch.
TOLERANCE = 2 * 1.04 / 64


def statements(name, **paths):
    """The README's statements of `name`, its example paths replaced."""
    sql = readme_query(name)
    for example, path in paths.items():
        sql = sql.replace(example, path)
    lines = [line.split("--")[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def main():
    lake, runs, whole = sys.argv[1:]
    spark = session({"spark.sql.warehouse.dir": os.path.join(lake, "..", "spark-warehouse")})
    rows = [r for r in pq.read_table(f"{whole}/audience.parquet").to_pylist()
            if r["grain"] == "month"]
    problems = []
    for s in statements("spark-lake-table", **{"s3://ent/lake": lake}):
        spark.sql(s)
    (sql,) = statements("spark-lake-platform")
    got = {(r[0], r[1]): r[2] for r in spark.sql(sql).collect() if r[2]}
    want = {(r["period_start"], r["profile"]): r["unique_visitors"] for r in rows
            if r["scope"] == "platform" and r["unique_visitors"]}
    if got != want:
        problems.append(f"spark-lake-platform: {sorted(got.items(), key=str)[:4]}, "
                        f"want {sorted(want.items(), key=str)[:4]}")
    (sql,) = statements("spark-sketches", **{"s3://ent/runs/*": runs})
    exact = {(r["period_start"], r["scope"], r["segment"], r["structure_id"], r["profile"]):
             r["unique_visitors"] for r in rows if r["hll_sketch"] is not None}
    estimates = {tuple(r[:5]): r[5] for r in spark.sql(sql).collect()}
    if set(estimates) != set(exact):
        problems.append(f"spark-sketches: {len(estimates)} rows, want {len(exact)}")
    for key, n in exact.items():
        e = estimates.get(key)
        if e is None or abs(e - n) > TOLERANCE * n:
            problems.append(f"spark-sketches {key}: estimate {e}, exact {n}")
    spark.stop()
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"ok: {len(got)} platform rows of the lake equal, "
          f"{len(exact)} sketch estimates within {TOLERANCE:.1%}")


if __name__ == "__main__":
    main()
