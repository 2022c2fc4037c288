"""Runs the Spark job spark/audience.py (local[2], loopback only) over runs
and compares its audience rows with `entlog merge` of the same runs: the
same rows, every column the job rebuilds equal, and on month rows a
sketch of the same content (the same coupons, or the same registers).

Spark's `hll_union_agg` writes HLL_4 images and, when it unions sparse
sketches into a dense one, keeps the HIP estimator, whose value depends
on the order of the union; entlog's canonical sketches drop it (their
bytes do not depend on the order the runs came in). The two then hold the
same registers, whose composite estimate is the same, while HIP's may
differ within the sketch's error: contents are compared, through one
HLL_8 image each.

usage: spark_check.py MERGED_DIR RUN_DIR...
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import datasketches
import pyarrow.parquet as pq

import hll

JOB = pathlib.Path(__file__).parents[2] / "spark" / "audience.py"
DATASETS = ["fr-en-dnma-par-uai-profils", "fr-en-dnma-par-uai-profils-appareils",
            "fr-en-dnma-par-uai-services"]
KEY = ["grain", "period_start", "scope", "segment", "structure_id", "profile"]
COLUMNS = ["uai", "structure_name", "connections", "unique_visitors", "access", "activations",
           "visits", "visit_seconds", "accounts", "activated_accounts"]


def content(sketch):
    """The coupons or registers of a serialized sketch of any type."""
    if sketch is None:
        return None
    union = datasketches.hll_union(hll.LG_K)
    union.update(datasketches.hll_sketch.deserialize(sketch))
    return hll.content(union.get_result(datasketches.tgt_hll_type.HLL_8).serialize_compact())


def main():
    merged, *runs = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="entlog-spark-") as out:
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
        job = subprocess.run([sys.executable, str(JOB), *runs, "--out", out], env=env,
                             capture_output=True, text=True)
        if job.returncode != 0:
            sys.exit(f"the Spark job failed:\n{job.stderr[-3000:]}")
        got = {tuple(r[k] for k in KEY): r
               for r in pq.read_table(f"{out}/audience").to_pylist()}
        national = {name: pq.read_table(f"{out}/{name}") for name in DATASETS}
    want = {tuple(r[k] for k in KEY): r
            for r in pq.read_table(f"{merged}/audience.parquet").to_pylist()}
    if not any(r["accounts"] for r in want.values()):
        sys.exit("the runs have no accounts: nothing to compare them on")
    problems = []
    for key in sorted(set(got) ^ set(want), key=str)[:10]:
        problems.append(f"row {key}: {'only Spark' if key in got else 'only entlog'}")
    months = 0
    for key in set(got) & set(want):
        g, w = got[key], want[key]
        if [g[c] for c in COLUMNS] != [w[c] for c in COLUMNS]:
            problems.append(f"{key}: Spark {[g[c] for c in COLUMNS]}, "
                            f"entlog {[w[c] for c in COLUMNS]}")
        if content(g["hll_sketch"]) != content(w["hll_sketch"]):
            problems.append(f"{key}: sketches of different contents")
        months += w["hll_sketch"] is not None
    rows = 0
    for name, table in national.items():
        mine = pq.read_table(f"{merged}/{name}.parquet")
        if table.column_names != mine.column_names:
            problems.append(f"{name}: columns {table.column_names[:12]}..., "
                            f"entlog {mine.column_names[:12]}...")
            continue
        by_key = lambda t: {(r["uai"], r["debutsemaine"]): r for r in t.to_pylist()}
        a, b = by_key(table), by_key(mine)
        if not b:
            problems.append(f"{name}: entlog wrote no row to compare with")
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                diff = {c: (a.get(key, {}).get(c), b.get(key, {}).get(c))
                        for c in mine.column_names if a.get(key, {}).get(c) != b.get(key, {}).get(c)}
                problems.append(f"{name} {key}: Spark, entlog {diff}")
        rows += len(a)
    if problems:
        print(f"{len(problems)} differences; first ones:")
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"ok: {len(got)} audience rows equal, {months} month sketches of the same content, "
          f"{rows} rows of the national datasets equal")


if __name__ == "__main__":
    main()
