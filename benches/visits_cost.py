"""The cost of sessionization: entlog on the same dump with visits (the
default) and with --no-visits, one after the other; wall time, phases from
run.json, and peak heap (RssAnon sampled from /proc).

usage: python3 benches/visits_cost.py DUMP_DIR [--threads 2]
"""
import argparse
import json
import os
import tempfile

from peak import run

ENTLOG = os.environ.get("ENTLOG", "target/release/entlog")

ap = argparse.ArgumentParser()
ap.add_argument("dump")
ap.add_argument("--threads", default="2")
a = ap.parse_args()
print("| run | wall (s) | scan (s) | finish (s) | write (s) | peak heap (GiB) |")
print("|---|---|---|---|---|---|")
with tempfile.TemporaryDirectory(prefix="entlog-visits-") as out:
    for flag in ([], ["--no-visits"]):
        wall, heap = run([ENTLOG, "analyze", f"{a.dump}/events", "--referential", a.dump,
                          "--out", out, "--threads", a.threads, "-q", *flag])
        with open(f"{out}/run.json") as f:
            phases = json.load(f)["phase_seconds"]
        name = "`--no-visits`" if flag else "with visits"
        print(f"| {name} | {wall:.1f} | {phases['scan']:.1f} | {phases['finish']:.1f} | "
              f"{phases['write']:.1f} | {heap / 1024:.1f} |")
