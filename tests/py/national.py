"""The national audience datasets (DNMA), recomputed from visits for
crosscheck.py: the device of a user agent, the service of an application,
the time of a visit in each service, and every column of
fr-en-dnma-par-uai-profils, -profils-appareils and -services.

Written from the README's rules, not from entlog's code: the user agent
rules as regular expressions, the services mapping as the README's table.
"""
import csv
import datetime as dt
import re
from collections import defaultdict

PROFILES = [("Student", "eleve"), ("Relative", "parent"), ("Teacher", "enseignant"),
            ("Personnel", "admin_vie_scol_tech")]
DEVICES = ["ordinateur", "smartphone", "tablette", "autresappareil"]
SERVICES = [
    "accueil", "actualites", "cahier_textes", "cahier_liaison", "courrier_electronique",
    "messagerie_instantanee", "visioconference", "stockage_partage",
    "production_collaborative", "documentation_cdi", "parcours_pedagogique",
    "reservation_salles_materiels", "service_collectivite", "services_vie_scolaire",
    "gestion_temps", "absences", "gestion_competences", "notes", "manuel_numerique",
    "ressource_multimedia", "ressource_orientation", "ressource_production",
    "ressource_accompagnement_entrainement", "ressource_reference_dictionnaire",
    "ressource_documentaire",
]
# The README's default mapping, application (any case) -> service.
MAPPING = {
    "timeline": "accueil", "portal": "accueil", "welcome": "accueil",
    "actualites": "actualites", "news": "actualites",
    "homeworks": "cahier_textes", "diary": "cahier_textes", "cahierdetextes": "cahier_textes",
    "schoolbook": "cahier_liaison",
    "conversation": "courrier_electronique", "zimbra": "courrier_electronique",
    "messagerie": "courrier_electronique",
    "chat": "messagerie_instantanee", "rocketchat": "messagerie_instantanee",
    "visio": "visioconference", "webconference": "visioconference",
    "workspace": "stockage_partage", "worksapce": "stockage_partage", "rack": "stockage_partage",
    "blog": "production_collaborative", "wiki": "production_collaborative",
    "pad": "production_collaborative", "collaborativewall": "production_collaborative",
    "collaborativeeditor": "production_collaborative", "mindmap": "production_collaborative",
    "scrapbook": "production_collaborative", "forum": "production_collaborative",
    "community": "production_collaborative",
    "esidoc": "documentation_cdi", "exercizer": "parcours_pedagogique",
    "rbs": "reservation_salles_materiels",
    "pronote": "services_vie_scolaire", "educ'horus": "services_vie_scolaire",
    "calendar": "gestion_temps", "edt": "gestion_temps", "presences": "absences",
    "competences": "gestion_competences", "notes": "notes", "mediacentre": "manuel_numerique",
    "brne": "ressource_accompagnement_entrainement", "onisep": "ressource_orientation",
    "library": "ressource_documentaire",
}

_OTHER = re.compile(rb"bot[/;]|crawler|spider|slurp|\+http|facebookexternalhit|curl/|wget/"
                    rb"|python-|java/|headlesschrome|smart-?tv|googletv|android tv|appletv"
                    rb"|crkey|playstation|xbox|nintendo")
_TABLET = re.compile(rb"ipad|kindle|silk/|playbook|tablet")
_PHONE = re.compile(rb"android|iphone|ipod|windows phone|mobile|okhttp/|cfnetwork")
_DESKTOP = re.compile(rb"windows nt|macintosh|x11|linux|cros")


def device(ua):
    """The device class of a user agent (text), by the README's rules."""
    low = ua.encode("utf-8", "replace").lower()
    if low.strip() in (b"", b"-") or _OTHER.search(low):
        return "autresappareil"
    if _TABLET.search(low) or (b"android" in low and b"mobile" not in low):
        return "tablette"
    if _PHONE.search(low):
        return "smartphone"
    return "ordinateur" if _DESKTOP.search(low) else "autresappareil"


def service(module):
    """The service an event's application counts for, or None."""
    return MAPPING.get(module.lower()) if module.isascii() else None


def service_seconds(points):
    """Seconds of a visit in each service: from each instant with an event
    of the service to the visit's next instant, summed, truncated."""
    instants = sorted({at for at, _ in points})
    nxt = {a: b for a, b in zip(instants, instants[1:])}
    ms = defaultdict(int)
    for at, s in points:
        if s is not None:
            ms[s] += nxt.get(at, at) - at
    return {s: v // 1000 for s, v in ms.items()}


def expected(visits, uai_of):
    """(uai, week) -> {suffix: [visits, seconds, users]} from the visits
    (dicts with day, start, end, profile, device, structs, points, user)."""
    cells = defaultdict(lambda: defaultdict(lambda: [0, 0, set()]))
    for v in visits:
        week = v["day"] - dt.timedelta(days=v["day"].weekday())
        secs = (v["end"] - v["start"]) // 1000
        national = dict(PROFILES).get(v["profile"])
        groups = {"globales": secs}
        if national:
            groups[national] = secs
            groups[f"{national}_{v['device']}"] = secs
        groups.update(service_seconds(v["points"]))
        for uai in {uai_of.get(s) for s in v["structs"]} - {None}:
            for g, s in groups.items():
                c = cells[(uai, week)][g]
                c[0] += 1
                c[1] += s
                c[2].add(v["user"])
    return cells


DATASETS = [
    ("fr-en-dnma-par-uai-profils", ["globales"] + [p for _, p in PROFILES], True),
    ("fr-en-dnma-par-uai-profils-appareils",
     [f"{p}_{d}" for _, p in PROFILES for d in DEVICES], True),
    ("fr-en-dnma-par-uai-services", SERVICES, False),
]


def check(out, cells, context_names, annuaire, problems):
    """Compares the three CSV datasets in `out` with `cells`; returns the
    rows read and how many carry a context."""
    rows = contexts = 0
    for name, groups, context_first in DATASETS:
        figures = [f"{m}_{g}" for g in groups for m in ("visites", "utilisateurs", "duree")]
        columns = ["debutsemaine", "uai"] + (
            context_names + figures if context_first else figures + context_names)
        got = {}
        with open(f"{out}/{name}.csv", newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter=";")
            if reader.fieldnames != columns:
                problems.append(f"{name} columns: {reader.fieldnames}, want {columns}")
                continue
            for row in reader:
                key = (row["uai"], dt.date.fromisoformat(row["debutsemaine"]))
                context = [row[c] for c in context_names]
                want = annuaire.get(row["uai"].upper(), [""] * len(context_names))
                if context != want:
                    problems.append(f"{name} context {key}: entlog {context}, python {want}")
                contexts += any(context)
                got[key] = [int(row[c]) for c in figures]
        want = {}
        for key, by_group in cells.items():
            want[key] = []
            for g in groups:
                n, secs, users = by_group.get(g, [0, 0, ()])
                want[key] += [n, len(users), secs]
        for key in sorted(set(want) | set(got), key=str):
            if want.get(key) != got.get(key):
                problems.append(f"{name} {key}: entlog {got.get(key)}, python {want.get(key)}")
        if not any(any(r) for r in got.values()):
            problems.append(f"{name}: every figure is zero")
        rows += len(got)
    return rows, contexts
