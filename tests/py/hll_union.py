"""Unions the HLL sketches of two runs' audience.parquet with the
DataSketches Python package, as Spark's hll_union_agg does, and checks,
row by row, that the estimate is within the sketch's stated error (three
standard deviations) of the exact distinct count of the run merging both,
and that the union holds what the merged run's own sketch holds.

usage: hll_union.py RUN_A RUN_B MERGED_A_B
"""
import sys

import datasketches
import pyarrow.parquet as pq

import hll


def month_rows(run):
    rows = {}
    for r in pq.read_table(f"{run}/audience.parquet").to_pylist():
        if r["grain"] == "month" and r["hll_sketch"] is not None:
            key = (r["period_start"], r["scope"], r["segment"], r["structure_id"], r["profile"])
            rows[key] = r
    return rows


def main():
    a, b, merged = (month_rows(r) for r in sys.argv[1:4])
    problems, dense, worst = [], 0, 0.0
    if set(a) | set(b) != set(merged):
        problems.append("the merged run has other month rows than the two runs")
    for key, row in merged.items():
        union = datasketches.hll_union(hll.LG_K)
        for part in (a.get(key), b.get(key)):
            if part is not None:
                union.update(datasketches.hll_sketch.deserialize(part["hll_sketch"]))
        result = union.get_result(datasketches.tgt_hll_type.HLL_8)
        exact = row["unique_visitors"]
        low, high = result.get_lower_bound(3), result.get_upper_bound(3)
        if not low <= exact <= high:
            problems.append(f"{key}: exact {exact} outside [{low:.1f}, {high:.1f}]")
        if hll.content(result.serialize_compact()) != hll.content(row["hll_sketch"]):
            problems.append(f"{key}: the union differs from the merged sketch")
        if hll.content(row["hll_sketch"])[0] == "registers":
            dense += 1
            worst = max(worst, abs(result.get_estimate() - exact) / exact)
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"ok: {len(merged)} unions within 3 standard deviations of the exact counts; "
          f"{dense} dense, worst relative error {worst:.4f}")


if __name__ == "__main__":
    main()
