"""Runs the README's merge queries in DuckDB over the partial tables of the
runs RUNS_DIR/run-*/ and compares their rows with the month rows of the
audience.parquet of a single run over all the inputs.

With --lake, runs the README's lake queries over the lake LAKE_DIR the
runs added their partial tables to (`--lake`) instead, and checks that
the lake's visits are the single run's.

usage: merge_sql.py RUNS_DIR WHOLE_RUN_DIR
       merge_sql.py --lake LAKE_DIR WHOLE_RUN_DIR
"""
import pathlib
import re
import sys

import duckdb
import pyarrow.parquet as pq


def readme_query(name):
    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    m = re.search(r"<!-- test: " + re.escape(name) + r" -->\n```sql\n(.*?)```", readme, re.S)
    if not m:
        sys.exit(f"README has no query {name}")
    return m.group(1)


def check_lake(lake, whole):
    """The lake's distinct visitors and visits against the single run's."""
    month_rows = [r for r in pq.read_table(f"{whole}/audience.parquet").to_pylist()
                  if r["grain"] == "month" and r["scope"] == "platform" and r["unique_visitors"]]
    want = {(r["period_start"], r["profile"]): r["unique_visitors"] for r in month_rows}
    sql = readme_query("lake-platform").replace("'lake/", f"'{lake}/")
    got = {(m, p): n for m, p, n in duckdb.sql(sql).fetchall() if n}
    problems = []
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()), key=str)[:10]
        problems.append(f"lake-platform: {len(got)} rows, expected {len(want)}: {diff}")
    visits = duckdb.sql(readme_query("lake-visits").replace("'lake/", f"'{lake}/")).fetchall()
    want_visits = {(r["month"], r["profile"]): r["visits"]
                   for r in pq.read_table(f"{whole}/visits.parquet").to_pylist()}
    got_visits = {(m, p): n for m, p, n in visits}
    if got_visits != want_visits:
        problems.append(f"lake-visits: {sorted(got_visits.items(), key=str)[:5]}, "
                        f"expected {sorted(want_visits.items(), key=str)[:5]}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"ok: {len(got)} platform rows and {len(got_visits)} visit rows of the lake equal")


def main():
    if sys.argv[1] == "--lake":
        return check_lake(*sys.argv[2:])
    runs, whole = sys.argv[1:]
    month_rows = [r for r in pq.read_table(f"{whole}/audience.parquet").to_pylist()
                  if r["grain"] == "month"]
    problems = []

    def compare(name, sql_key, want, cols):
        sql = readme_query(name).replace("'runs/*/", f"'{runs}/run-*/")
        got = {}
        for row in duckdb.sql(sql).fetchall():
            key, values = sql_key(row), row[-len(cols):]
            if key in got:
                problems.append(f"{name}: duplicate {key}")
            if any(values):
                got[key] = tuple(values)
        if got != want:
            diff = sorted(set(got.items()) ^ set(want.items()), key=str)[:10]
            problems.append(f"{name}: {len(got)} rows, expected {len(want)}; first differences {diff}")
        return len(got)

    n = compare(
        "merge-platform", lambda r: (r[0], r[1]),
        {(r["period_start"], r["profile"]): (r["unique_visitors"],)
         for r in month_rows if r["scope"] == "platform" and r["unique_visitors"]},
        ["unique_visitors"])
    m = compare(
        "merge-structures", lambda r: (r[0], r[1], r[2]),
        {(r["period_start"], r["structure_id"], r["profile"]): (r["connections"], r["unique_visitors"])
         for r in month_rows
         if r["scope"] == "structure" and (r["connections"] or r["unique_visitors"])},
        ["connections", "unique_visitors"])
    c = compare(
        "merge-connections", lambda r: (r[0], r[1]),
        {(r["period_start"], r["profile"]): (r["connections"],)
         for r in month_rows if r["scope"] == "platform" and r["connections"]},
        ["connections"])
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"ok: {n} platform, {m} structure and {c} connection rows equal")


if __name__ == "__main__":
    main()
