"""Independent recomputation of entlog's tables from raw event-store lines.

Reads the same inputs as entlog with Python's json module and zoneinfo,
applies the rules of the README (what is rejected, what counts), computes
every row of audience.parquet (with the accounts of the referential's
users.csv), classes.parquet, hourly.parquet, modules.parquet, visits, the
three national datasets (with national.py) and stats-accounts.csv, reads entlog's tables back with pyarrow or csv, and
compares every row. Exits 1 on any difference.

usage: crosscheck.py [--annuaire FILE] OUT_DIR REFERENTIAL_DIR|- TZ INPUT...
"""
import csv
import datetime as dt
import gzip
import json
import sys
from collections import defaultdict
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

import hll
import national as national_sets

PROFILES = {"Student", "Relative", "Teacher", "Personnel", "Guest"}
# entlog orders events of the same instant by profile code.
PROFILE_ORDER = ["Student", "Relative", "Teacher", "Personnel", "Guest", "Unknown"]
GAP_MS = 30 * 60 * 1000
COUNTED = {"LOGIN": "connections", "ACCESS": "access", "ACTIVATION": "activations"}
ADMIN = {"CREATE_USER", "DELETE_USER", "IMPORT", "MERGE_USER", "EXPORT",
         "BLOCK_USER", "UNBLOCK_USER"}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MISSPELLED = {"Worksapce": "Workspace"}
MIN_MS, MAX_MS = -62135596800000, 253402300799999
# The profile labels of ODE's statistics export, in entlog's profile order.
ODE_LABELS = {"Student": "Élève", "Relative": "Parent", "Teacher": "Enseignant",
              "Personnel": "Personnel", "Guest": "Invité", "Unknown": "Inconnu"}
ODE_HEADER = ('"Etablissement";"UAI";"Date";"Profil";"Connexions";"Visiteurs uniques";'
              '"Comptes chargés";"Comptes activés"')
ODE_ACCESS_HEADER = '"Etablissement";"UAI";"Date";"Profil";"Nombre d\'accès";"Application"'


def referential_rows(ref_dir, name):
    """The rows of the referential's file `name`, none when it is absent."""
    try:
        f = open(f"{ref_dir}/{name}", newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        return []
    with f:
        return list(csv.DictReader(f))


def read_directory(ref_dir):
    """users.csv: id -> (profile, structures, activated, classes), in file order."""
    directory = {}
    for row in referential_rows(ref_dir, "users.csv"):
        profile = row["profile"].strip()
        structs = [s.strip() for s in row["structures"].split(";") if s.strip()]
        activated = (row.get("activated") or "").strip().lower() == "true"
        classes = [c.strip() for c in (row.get("classes") or "").split(";") if c.strip()]
        directory[row["id"].strip()] = (profile if profile in PROFILES else "Unknown",
                                        list(dict.fromkeys(structs)), activated,
                                        list(dict.fromkeys(classes)))
    return directory


# The context columns of the national datasets and the directory's columns
# they come from (matched without case).
CONTEXT = [("academie", "Libelle_academie"), ("commune", "Nom_commune"),
           ("departement", "Libelle_departement"), ("region", "Libelle_region"),
           ("ministere", "ministere_tutelle"), ("circonscription", "nom_circonscription"),
           ("nature_uai", "code_nature"), ("secteur", "Statut_public_prive")]


def read_annuaire(path):
    """The national school directory: UAI -> context values, in CONTEXT order."""
    schools = {}
    if path is None:
        return schools
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=";")
        header = [h.strip().lower() for h in next(reader)]
        cols = [header.index(src.lower()) if src.lower() in header else None for _, src in CONTEXT]
        uai = header.index("identifiant_de_l_etablissement")
        for row in reader:
            if len(row) <= uai or not row[uai].strip():
                continue
            values = [row[c].strip() if c is not None and c < len(row) else "" for c in cols]
            sector = values[-1].lower()
            values[-1] = "PU" if sector.startswith("pub") else "PR" if sector.startswith("priv") else ""
            schools[row[uai].strip().upper()] = values
    return schools


def check_ode_export(path, header, want, problems):
    """Compares one of ODE's CSV exports with the rows `want`: its exact
    header line, every field quoted, every row; returns the rows read."""
    name = path.rsplit("/", 1)[-1]
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    if lines[0] != header:
        problems.append(f"{name} header: {lines[0]!r}")
    if not all(line.startswith('"') and line.endswith('"') for line in lines[1:] if line):
        problems.append(f"{name}: a field is not quoted")
    got = list(csv.reader(text.splitlines()[1:], delimiter=";"))
    if got != want:
        diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        problems.append(f"{name} row {diff + 2} of {len(got)}: entlog {got[diff:diff + 1]}, "
                        f"python {want[diff:diff + 1]} ({len(want)} rows)")
    return got


def last_day(grain, start):
    if grain == "day":
        return start
    if grain == "week":
        return start + dt.timedelta(days=6)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def account_rows(directory, activated_on, periods, places_of):
    """Accounts and activated accounts of every (period, place, profile), a
    place being what `places_of(structures, classes)` gives of an account:
    its scopes, or its classes."""
    cells = defaultdict(list)  # (place, profile) -> activation days
    for user, (profile, structs, activated, classes) in directory.items():
        day = activated_on.get(user)
        if day is None:
            day = dt.date.min if activated else dt.date.max
        for place in places_of(structs, classes):
            for prof in (profile, "All"):
                cells[(place, prof)].append(day)
    rows = {}
    for grain, start in periods:
        end = last_day(grain, start)
        for (place, prof), days in cells.items():
            rows[(grain, start, *place, prof)] = (len(days), sum(d <= end for d in days))
    return rows


def scopes_of(structs, segment_of):
    """The scopes of something naming `structs`: the platform, each
    structure, each distinct segment."""
    scopes = {("platform", None, None)}
    for s in structs:
        scopes.add(("structure", segment_of.get(s), s))
        if segment_of.get(s):
            scopes.add(("segment", segment_of[s], None))
    return scopes


def read_classes(ref_dir):
    """classes.csv: id -> (name, structure id)."""
    return {row["id"].strip(): (row["name"].strip() or None, row["structure_id"].strip() or None)
            for row in referential_rows(ref_dir, "classes.csv")}


def check_classes(out, directory, activated_on, periods, class_counts, class_visitors,
                  class_info, problems):
    """Compares classes.parquet with the class figures computed here."""
    want = {}
    for key in set(class_counts) | set(class_visitors):
        c = class_counts.get(key, [0, 0, 0])
        want[key] = (c[0], len(class_visitors.get(key, ())), c[1], c[2])
    periods = {(grain, start) for grain, start in periods if grain != "day"}
    accounts = account_rows(directory, activated_on, periods,
                            lambda _, classes: [(c,) for c in classes])
    for key in set(want) | set(accounts):
        want[key] = want.get(key, (0,) * 4) + accounts.get(key, (0, 0))
    got = {}
    for r in pq.read_table(f"{out}/classes.parquet").to_pylist():
        key = (r["grain"], r["period_start"], r["class_id"], r["profile"])
        got[key] = (r["connections"], r["unique_visitors"], r["access"], r["activations"],
                    r["accounts"], r["activated_accounts"])
        if (r["class_name"], r["structure_id"]) != class_info.get(r["class_id"], (None, None)):
            problems.append(f"classes: names of {r['class_id']}: {r['class_name']}, {r['structure_id']}")
    for key in sorted(set(want) | set(got), key=str):
        if want.get(key) != got.get(key):
            problems.append(f"classes {key}: entlog {got.get(key)}, python {want.get(key)}")
    return got


def open_lines(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"\x28\xb5\x2f\xfd":
        import zstandard
        return zstandard.open(path, "rb")
    return open(path, "rb")


def to_ms(v):
    """The engine's reading of a `date` value, or None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if abs(v) < 9.2e18 else None
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            return None
    return None


def parse_iso(s):
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    delta = t - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def date_ms(v):
    if isinstance(v, dict):
        ms = None
        for k, x in v.items():
            if k == "$numberLong":
                ms = to_ms(x) if isinstance(x, str) else None
            elif k == "$date":
                ms = parse_iso(x) if isinstance(x, str) else date_ms(x)
        return ms
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return to_ms(v)
    return None


def main():
    args = sys.argv[1:]
    annuaire_path = None
    if args[0] == "--annuaire":
        annuaire_path, args = args[1], args[2:]
    annuaire = read_annuaire(annuaire_path)
    out, ref_dir, tz_name, *inputs = args
    tz = ZoneInfo(tz_name)
    segment_of, uai_of, name_of = {}, {}, {}
    if ref_dir != "-":
        with open(f"{ref_dir}/structures.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                sid = row["id"].strip()
                segment_of[sid] = (row.get("type") or "").strip() or None
                uai_of[sid] = row["uai"].strip() or None
                name_of[sid] = row["name"].strip() or None

    directory = read_directory(ref_dir) if ref_dir != "-" else {}
    class_info = read_classes(ref_dir) if ref_dir != "-" else {}
    class_counts = defaultdict(lambda: [0, 0, 0])  # (grain, start, class, profile) -> counts
    class_visitors = defaultdict(set)
    activated_on = {}  # user -> local day of the first ACTIVATION
    counts = defaultdict(lambda: [0, 0, 0])  # key -> connections, access, activations
    visitors = defaultdict(set)
    hourly = defaultdict(int)
    app_access = defaultdict(int)
    app_users = defaultdict(set)
    app_raw = defaultdict(set)
    structure_access = defaultdict(int)  # (month, structure, profile, app) -> ACCESS events
    activity = defaultdict(list)  # user -> [(ms, profile order, profile, structures)]
    records = rejected = 0

    def local_time(ms):
        return (EPOCH + dt.timedelta(milliseconds=ms)).astimezone(tz)

    def periods(day):
        return [("day", day), ("week", day - dt.timedelta(days=day.weekday())),
                ("month", day.replace(day=1))]

    for path in inputs:
        with open_lines(path) as f:
            for raw in f:
                line = raw.rstrip(b"\n")
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    rejected += 1
                    continue
                if not isinstance(ev, dict):
                    rejected += 1
                    continue
                ms = date_ms(ev["date"]) if "date" in ev else None
                user = ev.get("userId")
                if ms is None or not (MIN_MS <= ms <= MAX_MS):
                    rejected += 1
                    continue
                if not isinstance(user, str) or not user:
                    rejected += 1
                    continue
                records += 1
                kind = ev.get("event-type")
                kind = kind if isinstance(kind, str) else ""
                if kind in ADMIN:
                    continue
                profil = ev.get("profil")
                profile = profil if profil in PROFILES else "Unknown"
                structs = ev.get("structures")
                structs = structs if isinstance(structs, list) else []
                structs = list(dict.fromkeys(s for s in structs if isinstance(s, str)))
                # The directory says what an event does not.
                known = directory.get(user)
                if known and profile == "Unknown":
                    profile = known[0]
                if known and not structs:
                    structs = known[1]
                classes = ev.get("classes")
                classes = classes if isinstance(classes, list) else []
                classes = list(dict.fromkeys(c for c in classes if isinstance(c, str)))
                if known and not classes:
                    classes = known[3]
                scopes = [("platform", None, None)]
                segs = []
                for s in structs:
                    scopes.append(("structure", segment_of.get(s), s))
                    seg = segment_of.get(s)
                    if seg and seg not in segs:
                        segs.append(seg)
                scopes += [("segment", g, None) for g in segs]
                ua = ev.get("ua")
                dev = national_sets.device(ua if isinstance(ua, str) else "")
                raw = ev.get("module")
                # A login opens no application.
                svc = None if kind == "LOGIN" else national_sets.service(
                    raw if isinstance(raw, str) else "")
                activity[user].append((ms, PROFILE_ORDER.index(profile),
                                       national_sets.DEVICES.index(dev), profile, structs, svc))
                field = COUNTED.get(kind)
                local = local_time(ms)
                day = local.date()
                if kind == "ACTIVATION":
                    activated_on[user] = min(day, activated_on.get(user, day))
                if kind == "LOGIN":
                    for prof in (profile, "All"):
                        hourly[(day, local.hour, prof)] += 1
                if kind == "ACCESS":
                    raw = ev.get("module")
                    raw = raw if isinstance(raw, str) else ""
                    app = MISSPELLED.get(raw, raw)
                    app_raw[app].add(raw)
                    for s in structs:
                        structure_access[(day.replace(day=1), s, profile, app)] += 1
                    for grain, start in periods(day):
                        for prof in (profile, "All"):
                            app_access[(grain, start, prof, app)] += 1
                            app_users[(grain, start, prof, app)].add(user)
                places = [(scope, counts, visitors) for scope in scopes]
                places += [((c,), class_counts, class_visitors) for c in classes]
                for grain, start in periods(day):
                    for place, place_counts, place_visitors in places:
                        if len(place) == 1 and grain == "day":
                            continue  # classes have no day rows
                        for prof in (profile, "All"):
                            key = (grain, start, *place, prof)
                            if field:
                                place_counts[key][["connections", "access", "activations"].index(field)] += 1
                            if kind == "LOGIN":
                                place_visitors[key].add(user)

    # Visits: per user, runs with no gap over 30 minutes, cut at local
    # midnight; the first event's profile, every structure named.
    visit_counts = defaultdict(lambda: [0, 0])
    month_visits = defaultdict(lambda: [0, 0])
    all_visits = []
    for user, evs in activity.items():
        evs.sort(key=lambda e: e[:3])
        visits_of_user = []
        for ms, _, dev, profile, structs, svc in evs:
            day = local_time(ms).date()
            v = visits_of_user[-1] if visits_of_user else None
            if v is None or ms - v["end"] > GAP_MS or day != v["day"]:
                v = {"day": day, "start": ms, "end": ms, "profile": profile, "structs": [],
                     "device": national_sets.DEVICES[dev], "points": set(), "user": user}
                visits_of_user.append(v)
            v["end"] = ms
            v["structs"] += [s for s in structs if s not in v["structs"]]
            v["points"].add((ms, svc))
        all_visits += visits_of_user
        for v in visits_of_user:
            secs = (v["end"] - v["start"]) // 1000
            scopes = scopes_of(v["structs"], segment_of)
            for grain, start in periods(v["day"]):
                for scope in scopes:
                    for prof in (v["profile"], "All"):
                        c = visit_counts[(grain, start, *scope, prof)]
                        c[0] += 1
                        c[1] += secs
            for prof in (v["profile"], "All"):
                m = month_visits[(v["day"].replace(day=1), prof)]
                m[0] += 1
                m[1] += secs

    expected = {}
    for key in set(counts) | set(visitors) | set(visit_counts):
        c = counts.get(key, [0, 0, 0])
        v = visit_counts.get(key, [0, 0])
        row = (c[0], len(visitors.get(key, ())), c[1], c[2], v[0], v[1])
        if any(row):
            expected[key] = row
    # Accounts: every period with data, every scope and profile with
    # accounts.
    periods = {(k[0], k[1]) for k in expected}
    accounts = account_rows(directory, activated_on, periods,
                            lambda structs, _: scopes_of(structs, segment_of))
    for key in set(expected) | set(accounts):
        expected[key] = expected.get(key, (0,) * 6) + accounts.get(key, (0, 0))

    table = pq.read_table(f"{out}/audience.parquet").to_pylist()
    got = {}
    sketches = 0
    for r in table:
        key = (r["grain"], r["period_start"], r["scope"], r["segment"], r["structure_id"], r["profile"])
        if key in got:
            print("duplicate row", key)
            sys.exit(1)
        got[key] = (r["connections"], r["unique_visitors"], r["access"], r["activations"],
                    r["visits"], r["visit_seconds"], r["accounts"], r["activated_accounts"])
        # Month rows carry a sketch of their visitors: the same users as a
        # sketch the DataSketches package makes of their raw ids.
        sketch = r["hll_sketch"]
        if (sketch is not None) != (r["grain"] == "month" and r["unique_visitors"] > 0):
            print("hll_sketch on the wrong rows", key)
            sys.exit(1)
        if sketch is not None:
            sketches += 1
            if hll.content(sketch) != hll.content(hll.sketch_of(visitors[key]).serialize_compact()):
                print("hll_sketch differs from the sketch of the raw ids", key)
                sys.exit(1)
        sid = r["structure_id"]
        if sid is not None and (r["uai"], r["structure_name"]) != (uai_of.get(sid), name_of.get(sid)):
            print("bad referential columns", r)
            sys.exit(1)

    run = json.load(open(f"{out}/run.json"))
    problems = []
    if (run["records"], run["rejected"]) != (records, rejected):
        problems.append(f"records/rejected: entlog {run['records']}/{run['rejected']}, python {records}/{rejected}")
    for key in sorted(set(expected) | set(got), key=str):
        if expected.get(key) != got.get(key):
            problems.append(f"{key}: entlog {got.get(key)}, python {expected.get(key)}")
    got_hourly = {(r["day"], r["hour"], r["profile"]): r["connections"]
                  for r in pq.read_table(f"{out}/hourly.parquet").to_pylist()}
    for key in sorted(set(hourly) | set(got_hourly), key=str):
        if hourly.get(key) != got_hourly.get(key):
            problems.append(f"hourly {key}: entlog {got_hourly.get(key)}, python {hourly.get(key)}")
    got_apps = {}
    for r in pq.read_table(f"{out}/modules.parquet").to_pylist():
        key = (r["grain"], r["period_start"], r["profile"], r["module"])
        got_apps[key] = (r["access"], r["unique_users"], r["raw_modules"])
    want_apps = {k: (n, len(app_users[k]), "|".join(sorted(app_raw[k[3]])))
                 for k, n in app_access.items()}
    for key in sorted(set(want_apps) | set(got_apps), key=str):
        if want_apps.get(key) != got_apps.get(key):
            problems.append(f"modules {key}: entlog {got_apps.get(key)}, python {want_apps.get(key)}")
    got_visits = {(r["month"], r["profile"]): [r["visits"], r["visit_seconds"]]
                  for r in pq.read_table(f"{out}/visits.parquet").to_pylist()}
    for key in sorted(set(month_visits) | set(got_visits), key=str):
        if month_visits.get(key) != got_visits.get(key):
            problems.append(f"visits {key}: entlog {got_visits.get(key)}, python {month_visits.get(key)}")
    # summary.json: the visits of each month of the platform and of each
    # segment, and the visits per distinct visitor (two decimals).
    summary = json.load(open(f"{out}/summary.json"))
    for sc in summary["scopes"]:
        scope = ("platform", None, None) if sc["scope"] == "platform" else ("segment", sc["scope"], None)
        for m in sc["months"]:
            key = ("month", dt.date.fromisoformat(m["month"] + "-01"), *scope, "All")
            visits, users = visit_counts.get(key, [0, 0])[0], len(visitors.get(key, ()))
            want = round(visits / users, 2) if visits and users else None
            if (m["visits"], m["visits_per_visitor"]) != (visits, want):
                problems.append(f"summary {key}: entlog {m['visits']}, {m['visits_per_visitor']}, "
                                f"python {visits}, {want}")
    # The national datasets: profiles, profiles by device, services.
    national = national_sets.expected(all_visits, uai_of)
    got_national, contexts = national_sets.check(out, national, [c for c, _ in CONTEXT],
                                                 annuaire, problems)
    if annuaire and not contexts:
        problems.append("national: no row has the directory's context")
    # stats-accounts.csv: ODE's export, from the month rows of structures.
    want_ode = []
    for (grain, start, scope, _, sid, prof), row in expected.items():
        if grain == "month" and scope == "structure" and prof != "All":
            name = name_of.get(sid) or sid
            want_ode.append(((name, uai_of.get(sid) or "", start, PROFILE_ORDER.index(prof)),
                             [name, uai_of.get(sid) or "", start.isoformat(), ODE_LABELS[prof],
                              str(row[0]), str(row[1]), str(row[6]), str(row[7])]))
    want_ode = [r for _, r in sorted(want_ode)]
    got_ode = check_ode_export(f"{out}/stats-accounts.csv", ODE_HEADER, want_ode, problems)
    # structure_modules.parquet and stats-access.csv: ACCESS events per
    # structure, month, profile and application.
    got_sm = {(r["month"], r["structure_id"], r["profile"], r["module"]): r["access"]
              for r in pq.read_table(f"{out}/structure_modules.parquet").to_pylist()}
    if got_sm != dict(structure_access):
        diff = sorted(set(got_sm.items()) ^ set(structure_access.items()), key=str)[:5]
        problems.append(f"structure_modules: {len(got_sm)} rows, python {len(structure_access)}: {diff}")
    want_access = sorted(
        ((name_of.get(s) or s, uai_of.get(s) or "", month, PROFILE_ORDER.index(prof), app), n)
        for (month, s, prof, app), n in structure_access.items())
    want_access = [[name, uai, month.isoformat(), ODE_LABELS[PROFILE_ORDER[p]], str(n), app]
                   for (name, uai, month, p, app), n in want_access]
    got_access = check_ode_export(f"{out}/stats-access.csv", ODE_ACCESS_HEADER, want_access,
                                  problems)
    if directory and not any(r[6] for r in got.values()):
        problems.append("users.csv has accounts, audience.parquet none")
    got_classes = check_classes(out, directory, activated_on, periods, class_counts,
                                class_visitors, class_info, problems)
    if class_info and not any(r[4] for r in got_classes.values()):
        problems.append("users.csv has classes, classes.parquet no account")
    if problems:
        print(f"{len(problems)} differences; first ones:")
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"ok: {len(got)} audience, {len(got_hourly)} hourly, {len(got_apps)} modules, "
          f"{len(got_visits)} visits, {got_national} national ({contexts} with context), "
          f"{len(got_ode)} stats-accounts, {len(got_classes)} classes, "
          f"{len(got_access)} stats-access rows, {len(directory)} accounts, {sketches} sketches, "
          f"{records} records, {rejected} rejected, all equal")


main()
