#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/TARGET/, added to what is there) from
the project's fixtures, the real Apache log of ../shared/data/real/ and a
small generated dump of every format. Run once from the repository root
with a release build of entlog; the corpora it writes are committed, and
the fuzzer adds what it finds to them.

    python3 fuzz/seed.py
"""
import gzip
import hashlib
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
ENTLOG = ROOT / "target" / "release" / "entlog"
REAL = [ROOT.parent / "shared" / "data" / "real", pathlib.Path("/work/shared/data/real")]


def put(target, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def lines(path, n, step=1):
    with open(path, "rb") as f:
        return [l.rstrip(b"\n") for i, l in enumerate(f) if i < n * step and i % step == 0]


def generated(tmp, fmt):
    out = tmp / fmt
    subprocess.run([ENTLOG, "generate", "--out", out, "--scale", "0.002", "--format", fmt],
                   check=True, capture_output=True)
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    return out, files


def main():
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        json_dir, json_files = generated(tmp, "entcore-json")
        json_lines = lines(json_files[0], 40, 97)
        json_lines += lines(ROOT / "fixtures" / "quirks" / "events.json", 100)
        for l in json_lines:
            put("json_scanner", l)
            put("entcore_event", l)
        real = next((d / "apache_combined_10k.log" for d in REAL if (d / "apache_combined_10k.log").exists()))
        access = lines(real, 60, 150)
        nginx_dir, nginx_files = generated(tmp, "nginx")
        log_format = (nginx_dir / "log_format.conf").read_text().strip().encode()
        nginx_lines = lines(nginx_files[0], 20, 53)
        _, combined_files = generated(tmp, "combined")
        _, entcore_access_files = generated(tmp, "entcore-access")
        for l in access + lines(combined_files[0], 20, 53):
            put("ncsa", l)
        put("nginx_layout", b"\n".join([log_format] + nginx_lines))
        put("nginx_layout", b'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent\n' + access[0])
        pg = (ROOT / "fixtures" / "pg" / "events.csv").read_bytes()
        put("pg_csv", pg)
        heads = [b"\n".join(json_lines[:20]), b"\n".join(access[:20]), pg[:4096],
                 b"\n".join(nginx_lines[:20]), b"\n".join(lines(entcore_access_files[0], 20, 7))]
        for h in heads:
            put("detect", h)
        for ref in [ROOT / "fixtures" / "quirks" / "referential", ROOT / "fixtures" / "pg" / "referential", json_dir, nginx_dir]:
            s = ref / "structures.csv"
            u = ref / "users.csv"
            sb = s.read_bytes()[:4096] if s.exists() else b"id,uai,name\n"
            if u.exists():
                put("referential", sb + b"\0" + u.read_bytes()[:4096])
            put("referential", sb)
        plain = b"\n".join(json_lines[:10]) + b"\n"
        put("compressed_input", plain)
        put("compressed_input", gzip.compress(plain))
        put("compressed_input", gzip.compress(plain[:200]) + gzip.compress(plain[200:]))
        zst = subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True)
        if zst.returncode == 0:
            put("compressed_input", zst.stdout)
        else:
            sys.exit("zstd is needed for the zstd seed")
        # analyze_lines: a byte that picks the format, then lines, with
        # dates far apart (year 1, 1970, 9999) among ordinary ones.
        stray = [l.replace(b'"date":', b'"date":{"$date":"0001-01-01T00:00:00Z"},"x":', 1) for l in json_lines[:3]]
        put("analyze_lines", b"\0" + b"\n".join(json_lines[:30] + stray))
        put("analyze_lines", b"\1" + b"\n".join(access[:30]))
        put("analyze_lines", b"\2" + pg[:4096])
        merge_seeds(tmp)


def run_files(d):
    for p in sorted(d.iterdir()):
        yield from run_files(p) if p.is_dir() else [p]


def merge_seeds(tmp):
    """merge_tables: every file of a run of the events its template
    holds, behind the byte that picks it (the files in the target's order)."""
    events = []
    for user, profile in [("u1", "Student"), ("u2", "Relative"), ("u3", "Teacher")]:
        for day, hour in [(16, 8), (16, 9), (17, 20), (18, 7)]:
            for kind, module in [("LOGIN", "Auth"), ("ACCESS", "Blog"), ("ACCESS", "Pronote")]:
                events.append(
                    f'{{"event-type":"{kind}","module":"{module}","date":{{"$date":"2020-03-{day}T{hour:02}:00:00Z"}},'
                    f'"userId":"{user}","profil":"{profile}","structures":["s1"]}}')
    (tmp / "events.json").write_text("\n".join(events) + "\n")
    run = tmp / "run"
    subprocess.run([ENTLOG, "analyze", tmp / "events.json", "--out", run], check=True, capture_output=True)
    for i, f in enumerate(run_files(run)):
        put("merge_tables", bytes([i]) + f.read_bytes())


if __name__ == "__main__":
    main()
