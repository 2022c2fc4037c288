"""Cross-checks http.parquet (day rows, profile All) against an independent
reading of the raw access log lines with Python's re and zoneinfo, and
decodes every serialized latency histogram with the `hdrhistogram`
package.

usage: http_crosscheck.py OUT_DIR TZ combined|nginx|entcore-access LOG...

Prints "ok: ..." and exits 0 when every figure agrees.
"""

import base64
import datetime as dt
import math
import re
import struct
import sys
from collections import defaultdict
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
from hdrh.histogram import HdrHistogram

QUOTED = r'"((?:[^"\\]|\\.)*)"'
COMBINED = (
    r"^(\S+) \S+ (\S+) \[([^\]]+)\] " + QUOTED + r" (\d{3}) (\S+) " + QUOTED + " " + QUOTED
)
# The log_format `entlog generate --format nginx` writes.
NGINX = COMBINED + " " + QUOTED + r" (\S+) (.+)$"
# entcore-access: request time, upstream time, user id header.
ENTCORE = COMBINED + r" (\S+) (.+) (\S+)$"


def instant(text):
    return dt.datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")


def read(paths, style, tz):
    pattern = re.compile(
        {"nginx": NGINX, "entcore-access": ENTCORE}.get(style, COMBINED + "(.*)$"))
    days = defaultdict(
        lambda: {"requests": 0, "clients": set(), "users": set(), "status": [0] * 5,
                 "bytes": 0, "latency": []}
    )
    rejected = []
    for path in paths:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not line.strip():
                    continue
                m = pattern.match(line)
                if not m:
                    rejected.append((path, number))
                    continue
                addr, user, when, _request, status, sent = m.group(1, 2, 3, 4, 5, 6)
                day = instant(when).astimezone(tz).date()
                d = days[day]
                d["requests"] += 1
                client = addr
                if style == "nginx":
                    forwarded = m.group(9).split(",")[0].strip()
                    if forwarded and forwarded != "-":
                        client = forwarded
                    d["latency"].append(round(float(m.group(10)) * 1e6))
                elif style == "entcore-access":
                    d["latency"].append(round(float(m.group(9)) * 1e6))
                    user = m.group(11)
                d["clients"].add(client)
                if user != "-":
                    d["users"].add(user)
                if 100 <= int(status) < 600:
                    d["status"][int(status) // 100 - 1] += 1
                d["bytes"] += 0 if sent == "-" else int(sent)
    return days, rejected


def decode(blob):
    # The column holds the binary V2 "compressed" encoding; the package
    # reads it base64-wrapped, as Java's and C's tools write it.
    return HdrHistogram.decode(base64.b64encode(blob))


def nearest_rank(h, q):
    """The q-quantile by nearest rank, as HdrHistogram's Java (since
    2.1.10) and Rust libraries compute it. (The Python package's own
    get_value_at_percentile rounds the rank instead, which can move a
    percentile by one bucket.)"""
    target = max(1, math.ceil(q * h.get_total_count()))
    total = 0
    for item in h.get_recorded_iterator():
        total += item.count_at_value_iterated_to
        if total >= target:
            return h.get_highest_equivalent_value(item.value_iterated_to)
    return 0


def main():
    out, tz, style, *paths = sys.argv[1:]
    days, rejected = read(paths, style, ZoneInfo(tz))
    rows = [
        r for r in pq.read_table(f"{out}/http.parquet").to_pylist()
        if r["grain"] == "day" and r["profile"] == "All"
    ]
    got = {r["period_start"]: r for r in rows}
    assert set(got) == set(days), (sorted(set(got) ^ set(days)))[:5]
    for day, d in days.items():
        r = got[day]
        want = {
            "requests": d["requests"],
            "unique_clients": len(d["clients"]),
            "unique_users": len(d["users"]),
            "status_1xx": d["status"][0],
            "status_2xx": d["status"][1],
            "status_3xx": d["status"][2],
            "status_4xx": d["status"][3],
            "status_5xx": d["status"][4],
            "bytes_sent": d["bytes"],
            "latency_count": len(d["latency"]),
        }
        for k, v in want.items():
            assert r[k] == v, (day, k, r[k], v)
    checked = 0
    for r in pq.read_table(f"{out}/http.parquet").to_pylist():
        if r["latency_hdr"] is None:
            assert r["latency_count"] == 0 and r["latency_p50_ms"] is None, r
            continue
        h = decode(r["latency_hdr"])
        assert h.get_total_count() == r["latency_count"], r["latency_count"]
        for q, col in [(0.5, "latency_p50_ms"), (0.9, "latency_p90_ms"), (0.99, "latency_p99_ms")]:
            assert nearest_rank(h, q) / 1000 == r[col], (q, nearest_rank(h, q), r[col])
        assert h.get_max_value() / 1000 == r["latency_max_ms"]
        checked += 1
    # The histograms against the exact times: within HDR's 3 digits.
    for day, d in days.items():
        if not d["latency"]:
            continue
        times = sorted(d["latency"])
        exact = times[max(0, math.ceil(0.99 * len(times)) - 1)]
        p99 = got[day]["latency_p99_ms"] * 1000
        assert abs(p99 - exact) <= exact * 0.001 + 1, (day, p99, exact)
    print(f"ok: {len(days)} days, {sum(d['requests'] for d in days.values())} requests, "
          f"{checked} histograms decoded, rejected={len(rejected)} lines, first: "
          f"{[n for _, n in rejected][:10]}")


if __name__ == "__main__":
    main()
