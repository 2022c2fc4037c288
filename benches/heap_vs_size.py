"""Peak heap of entlog against input size, for the same users.

Builds, from a generated dump, an input holding every event once (1x) and
one holding every event four times (4x: same users, same days, four times
the bytes), analyzes each with and without visits, and prints wall time and
peak anonymous memory (RssAnon sampled from /proc: the heap, not the mapped
file's pages).

With `--referential DIR` (the dump's own, whose structures have school
codes), visits also keep the points the national services dataset counts
from.

usage: python3 benches/heap_vs_size.py DUMP_DIR [--threads 2] [--referential DIR]
"""
import argparse
import glob
import os
import subprocess
import tempfile

from peak import run

ENTLOG = os.environ.get("ENTLOG", "target/release/entlog")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--referential")
    a = ap.parse_args()
    files = sorted(glob.glob(f"{a.dump}/events/*.json"))
    referential = ["--referential", a.referential] if a.referential else []
    with tempfile.TemporaryDirectory(prefix="entlog-heap-") as tmp:
        print("| input | size (MB) | visits | wall (s) | peak heap (MiB) |")
        print("|---|---|---|---|---|")
        for copies in (1, 4):
            path = os.path.join(tmp, f"x{copies}.json")
            with open(path, "wb") as out:
                for _ in range(copies):
                    for f in files:
                        with open(f, "rb") as src:
                            data = src.read()
                        out.write(data if data.endswith(b"\n") else data + b"\n")
            size = os.path.getsize(path)
            # Read once so both runs find the file in the page cache.
            subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
            for visits in ([], ["--no-visits"]):
                wall, heap = run([ENTLOG, "analyze", path, "--out", os.path.join(tmp, "out"),
                                  "--threads", a.threads, "-q", *visits, *referential])
                kept = "no" if visits else "yes"
                print(f"| {copies}x | {size / 1e6:.0f} | {kept} | {wall:.2f} | {heap:.0f} |")
            os.remove(path)


main()
