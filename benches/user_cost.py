#!/usr/bin/env python3
"""What distinct users and distinct client addresses cost in memory: runs
`entlog analyze` on inputs of N distinct users (a login and an access
each, one March day, so every user has a visit) and of N distinct client
addresses (an access log with one request per address and user), and
prints the peak heap (RssAnon) and the bytes per user it implies. The
README's resource limits quote this.

    python3 benches/user_cost.py [N...]     # default 250000 1000000
"""
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import peak  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENTLOG = ROOT / "target" / "release" / "entlog"
DAY_MS = 1_584_316_800_000  # 2020-03-16 00:00 UTC


def events(path, n):
    with open(path, "w") as f:
        for u in range(n):
            t = DAY_MS + (u * 7919) % 80_000_000
            for kind, module, dt in (("LOGIN", "Auth", 0), ("ACCESS", "Blog", 60_000)):
                f.write(f'{{"event-type":"{kind}","module":"{module}","date":{t + dt},'
                        f'"userId":"user-{u}","profil":"Student","structures":["s{u % 500}"]}}\n')


def access(path, n):
    with open(path, "w") as f:
        for u in range(n):
            ip = f"10.{u >> 16 & 255}.{u >> 8 & 255}.{u & 255}"
            minute = (u * 7919) % 1400
            f.write(f'{ip} - user-{u} [16/Mar/2020:{minute // 60:02}:{minute % 60:02}:00 +0000] '
                    f'"GET /blog/ HTTP/1.1" 200 512 "-" "Mozilla/5.0 (agent {u})"\n')


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [250_000, 1_000_000]
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        print("| input | distinct users | peak heap | per user |")
        print("|---|---:|---:|---:|")
        for make, name, fmt in ((events, "event store", "entcore-json"),
                                (access, "combined log, one address and user agent each", "combined")):
            for n in sizes:
                path = tmp / f"{fmt}-{n}.log"
                make(path, n)
                _, mib = peak.run([ENTLOG, "analyze", path, "--out", tmp / "out", "-q",
                                   "--format", fmt, "--max-rejected", "100%", "--salt", "cost"])
                print(f"| {name} | {n:,} | {mib:,.0f} MiB | {mib * 2**20 / n:,.0f} B |")


if __name__ == "__main__":
    main()
