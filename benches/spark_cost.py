"""`entlog merge` against the Spark job (spark/audience.py, local mode) on
the same runs: wall time and peak anonymous memory of each (of the job's
whole process tree, its JVM included), one after the other.

usage: target/py-venv/bin/python benches/spark_cost.py OUT_DIR RUN_DIR...
(SPARK_DRIVER_MEMORY, default 14g: the local JVM's heap)
"""
import os
import shutil
import sys

from peak import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTLOG = os.environ.get("ENTLOG", os.path.join(ROOT, "target", "release", "entlog"))


def main():
    out, *runs = sys.argv[1:]
    merged, spark = os.path.join(out, "merged"), os.path.join(out, "spark")
    for d in (merged, spark):
        shutil.rmtree(d, ignore_errors=True)
    wall, heap = run([ENTLOG, "merge", "-q", "--out", merged, *runs])
    print(f"| `entlog merge` | {wall:.1f} | {heap / 1024:.1f} |")
    memory = os.environ.get("SPARK_DRIVER_MEMORY", "14g")
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1",
               PYSPARK_SUBMIT_ARGS=f"--driver-memory {memory} pyspark-shell")
    job = [sys.executable, os.path.join(ROOT, "spark", "audience.py"), *runs, "--out", spark]
    wall, heap = run(job, tree=True, env=env)
    print(f"| Spark job, local[2], driver {memory} | {wall:.1f} | {heap / 1024:.1f} |")


if __name__ == "__main__":
    main()
