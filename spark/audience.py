"""entlog's merge as a Spark job: the audience figures of any number of
runs, rebuilt from their partial tables only, with Spark SQL and DataFrame
expressions (no Python function on the per-row path), so that it scales
with the cluster.

    spark-submit spark/audience.py RUN_DIR... --out DIR
    python3 spark/audience.py RUN_DIR... --out DIR    # where pyspark is installed

Writes DIR/audience/ (Parquet): one row per grain (day, ISO week, month),
period, scope (platform, segment, structure) and profile (each, and All),
with the columns of entlog's audience.parquet this job rebuilds so far:
connections, access, activations (added up from the runs' day rows),
unique_visitors (recounted from user_activity's login days), visits and
visit_seconds (the runs' visits of one user and day joined again, gaps
and islands over user_visits, exactly as `entlog merge` joins them),
accounts and activated_accounts (the runs' accounts.parquet combined) and,
on month rows, hll_sketch (the runs' sketches unioned by Spark's own
DataSketches functions: the same coupons or registers as entlog's, other
bytes). And the three national datasets the engine writes,
DIR/fr-en-dnma-par-uai-profils/, -profils-appareils/ and -services/
(Parquet, the published columns), from the same joined visits: their
devices, and their time in each service from the instants of their
events, joined across runs too.

Without a master given (spark-submit's --master, or SPARK_MASTER), it runs
in local[2] mode bound to the loopback.
"""
import argparse
import glob
import json
import os

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

KEY = ["grain", "period_start", "scope", "segment", "structure_id", "profile"]
PROFILE_CODES = ["Student", "Relative", "Teacher", "Personnel", "Guest", "Unknown"]
DEVICE_CODES = ["ordinateur", "smartphone", "tablette", "autresappareil"]


def quoted(names):
    """SQL string literals of `names`, comma-separated."""
    return ", ".join(f"'{n}'" for n in names)


def session(conf=None):
    """The cluster's session under spark-submit; otherwise a local one
    (SPARK_MASTER, default local[2]) whose driver listens on the loopback
    only, without its web UI. `conf`: more settings, by name."""
    builder = SparkSession.builder.appName("entlog-audience")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = (builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false")
                   # A few cores: a few shuffle partitions.
                   .config("spark.sql.shuffle.partitions", "8"))
    spark = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def partitioned(spark, runs, table):
    """Every run's partitions of `table`, with `month` from the directory
    name (`month=YYYY-MM-01`), as one DataFrame; None when there are none."""
    files = sorted(f for r in runs for f in glob.glob(f"{r}/{table}/month=*/*.parquet"))
    if not files:
        return None
    df = spark.read.parquet(*files)
    month = F.regexp_extract(F.input_file_name(), r"month=(\d{4}-\d{2}-\d{2})", 1)
    return df.withColumn("month", F.to_date(month))


def visit_gap_ms(runs):
    """The runs' visit gap (they must agree, as `entlog merge` requires)."""
    gaps = {json.load(open(f"{r}/run.json"))["options"]["visit_gap_ms"] for r in runs}
    if len(gaps) != 1:
        raise SystemExit(f"runs made with different visit gaps: {sorted(gaps)}")
    return gaps.pop()


def structures(spark, runs):
    """structure_id -> segment, uai, structure_name, from the runs'
    structure rows."""
    rows = spark.read.parquet(*[f"{r}/audience.parquet" for r in runs])
    return (rows.where("scope = 'structure'")
            .groupBy("structure_id")
            .agg(F.max("segment").alias("segment"), F.max("uai").alias("uai"),
                 F.max("structure_name").alias("structure_name")))


def periods(day):
    """The (grain, period_start) rows of a day column: its day, ISO week
    (Monday) and month."""
    return F.explode(F.array(
        F.struct(F.lit("day").alias("grain"), day.alias("period_start")),
        F.struct(F.lit("week").alias("grain"), F.to_date(F.date_trunc("week", day)).alias("period_start")),
        F.struct(F.lit("month").alias("grain"), F.trunc(day, "month").alias("period_start")),
    ))


def in_scopes(facts, mapping, structure_col, keys):
    """The rows of `facts` (told apart by the columns `keys`) once at
    platform level, once per distinct segment and once per distinct
    structure of its `structure_col` (an array of ids), with scope,
    segment and structure_id columns."""
    none = F.lit(None).cast("string")
    exploded = (facts.select(*keys, F.explode(structure_col).alias("structure_id"))
                .distinct().join(mapping.select("structure_id", "segment"), "structure_id", "left"))
    platform = facts.select(*keys, F.lit("platform").alias("scope"), none.alias("segment"),
                            none.alias("structure_id"))
    segment = (exploded.where("segment is not null")
               .select(*keys, F.lit("segment").alias("scope"), "segment",
                       none.alias("structure_id")).distinct())
    structure = exploded.select(*keys, F.lit("structure").alias("scope"), "segment",
                                "structure_id")
    return platform.unionByName(segment).unionByName(structure)


def by_profile(df, measures, view):
    """`measures` (SQL expressions) by KEY, for each profile and for All."""
    df.createOrReplaceTempView(view)
    cols = ", ".join(f"{expr} as {name}" for name, expr in measures)
    return df.sparkSession.sql(f"""
        select grain, period_start, scope, segment, structure_id,
               coalesce(profile, 'All') as profile, {cols}
        from {view}
        group by grouping sets (
            (grain, period_start, scope, segment, structure_id, profile),
            (grain, period_start, scope, segment, structure_id))""")


def joined_visits(user_visits, gap_ms):
    """The runs' visits of one user and day joined where they overlap or
    lie within the gap: the earliest start (the lowest profile and device
    on a tie) names the visit, and it holds the structures of all."""
    v = (user_visits
         .withColumn("s", F.unix_millis("visit_start"))
         .withColumn("e", F.unix_millis("visit_end"))
         .withColumn("p", F.expr(f"array_position(array({quoted(PROFILE_CODES)}), profile)"))
         .withColumn("d", F.expr(f"array_position(array({quoted(DEVICE_CODES)}), device)")))
    order = Window.partitionBy("user_key", "day").orderBy("s", "p", "d", "e")
    before = order.rowsBetween(Window.unboundedPreceding, -1)
    v = v.withColumn("reach", F.max("e").over(before))
    v = v.withColumn("new", F.when(F.col("reach").isNull() | (F.col("s") - F.col("reach") > gap_ms), 1)
                     .otherwise(0))
    v = v.withColumn("island", F.sum("new").over(order.rowsBetween(Window.unboundedPreceding, 0)))
    first = F.struct("s", "p", "d")
    # Each event's instant (epoch ms) and service.
    points = F.expr("transform(arrays_zip(event_offsets_ms, event_services), "
                    "x -> struct(s + x.event_offsets_ms as at, x.event_services as service))")
    return (v.withColumn("points", points)
            .groupBy("user_key", "day", "island")
            .agg(F.min("s").alias("s"), F.max("e").alias("e"),
                 F.min_by("profile", first).alias("profile"),
                 F.min_by("device", first).alias("device"),
                 F.array_distinct(F.flatten(F.collect_list("structure_ids"))).alias("structures"),
                 F.array_distinct(F.flatten(F.collect_list("points"))).alias("points"))
            .withColumn("seconds", F.floor((F.col("e") - F.col("s")) / 1000).cast("long")))


def visit_rows(visits, mapping):
    """visits and visit_seconds of every audience row, from the joined
    visits."""
    if visits is None:
        return None
    keys = ["user_key", "day", "island"]
    scoped = in_scopes(visits, mapping, F.col("structures"), keys)
    facts = (visits.join(scoped, keys).select("*", periods(F.col("day")).alias("period"))
             .select("period.grain", "period.period_start", "scope", "segment", "structure_id",
                     "profile", "seconds"))
    return by_profile(facts, [("visits", "count(*)"), ("visit_seconds", "sum(seconds)")],
                      "visit_facts")


def visitor_rows(user_activity, mapping):
    """unique_visitors of every audience row: distinct users with a login
    on a day of the period, from user_activity's login day bits."""
    if user_activity is None:
        return None
    days = (user_activity.where("login_day_mask <> 0")
            .select("user_key", "profile", "structure_id", "month", "login_day_mask",
                    F.explode(F.sequence(F.lit(0), F.lit(30))).alias("bit"))
            .where(F.expr("shiftright(login_day_mask, bit) & 1 = 1"))
            .select("user_key", "profile", "structure_id",
                    F.date_add("month", F.col("bit")).alias("day")))
    # A user's login days are distinct facts: the scopes of each come from
    # its one structure (none: the platform only).
    keys = ["user_key", "profile", "day", "sid"]
    facts = days.withColumnRenamed("structure_id", "sid")
    one = F.when(F.col("sid").isNull(), F.array().cast("array<string>")).otherwise(F.array("sid"))
    scoped = in_scopes(facts.withColumn("ids", one), mapping, F.col("ids"), keys)
    facts = (scoped.select("*", periods(F.col("day")).alias("period"))
             .select("period.grain", "period.period_start", "scope", "segment", "structure_id",
                     "profile", "user_key"))
    return by_profile(facts, [("unique_visitors", "count(distinct user_key)")], "login_facts")


def account_rows(spark, runs, mapping, periods_seen):
    """accounts and activated_accounts of every period in `periods_seen`
    (grain, period_start) and every scope and profile with accounts: the
    runs' rows of one account combined (activated if any run says so, on
    the earliest day any saw; activated before the logs when none saw the
    day), each account once per row."""
    files = [f"{r}/accounts.parquet" for r in runs if os.path.exists(f"{r}/accounts.parquet")]
    if not files:
        return None
    accounts = (spark.read.parquet(*files)
                .groupBy("user_key", "profile")
                .agg(F.bool_or("activated").alias("activated"),
                     F.min("activated_on").alias("activated_on"),
                     F.collect_set("structure_id").alias("structures")))
    # The day from which the account counts as activated; never: null.
    since = F.when(F.col("activated"), F.coalesce("activated_on", F.to_date(F.lit("0001-01-01"))))
    accounts = accounts.withColumn("since", since)
    scoped = in_scopes(accounts, mapping, F.col("structures"), ["user_key"])
    cells = (scoped.join(accounts.select("user_key", "profile", "since"), "user_key")
             .groupBy("scope", "segment", "structure_id", "profile", "since")
             .agg(F.count("*").alias("n")))
    last = (F.when(F.col("grain") == "day", F.col("period_start"))
            .when(F.col("grain") == "week", F.date_add("period_start", 6))
            .otherwise(F.last_day("period_start")))
    facts = (cells.crossJoin(periods_seen).withColumn("last", last)
             .withColumn("on", F.when(F.col("since") <= F.col("last"), F.col("n")).otherwise(0)))
    return by_profile(facts, [("accounts", "sum(n)"), ("activated_accounts", "sum(on)")],
                      "account_facts")


def count_rows(spark, runs):
    """connections, access and activations of every row: the runs' day
    rows added up, then summed into weeks and months; and the runs' month
    sketches unioned."""
    rows = spark.read.parquet(*[f"{r}/audience.parquet" for r in runs])
    days = rows.where("grain = 'day'").select(
        "period_start", "scope", "segment", "structure_id", "profile",
        "connections", "access", "activations")
    facts = days.select("*", periods(F.col("period_start")).alias("period")).select(
        "period.grain", F.col("period.period_start").alias("period_start"), "scope", "segment",
        "structure_id", "profile", "connections", "access", "activations")
    counts = facts.groupBy(*KEY).agg(*[F.sum(c).alias(c) for c in
                                       ("connections", "access", "activations")])
    sketches = (rows.where("grain = 'month' and hll_sketch is not null")
                .groupBy(*KEY).agg(F.hll_union_agg("hll_sketch").alias("hll_sketch")))
    return counts, sketches


def audience(spark, runs, visits, mapping):
    """The rebuilt rows of audience.parquet (`visits`: the runs' visits
    joined; `mapping`: the structures of the runs)."""
    counts, sketches = count_rows(spark, runs)
    parts = [counts,
             visitor_rows(partitioned(spark, runs, "user_activity"), mapping),
             visit_rows(visits, mapping)]
    # Null keys (a platform row's segment) join as equal: each part's are
    # made empty strings first, which no segment or structure id is.
    nullable = ["segment", "structure_id"]
    rows = None
    for part in (p.fillna("", subset=nullable) for p in parts if p is not None):
        rows = part if rows is None else rows.join(part, KEY, "full")
    # Every period with data has a row for every scope and profile with
    # accounts.
    periods_seen = rows.select("grain", "period_start").distinct()
    accounts = account_rows(spark, runs, mapping, periods_seen)
    if accounts is not None:
        rows = rows.join(accounts.fillna("", subset=nullable), KEY, "full")
    rows = rows.join(sketches.fillna("", subset=nullable), KEY, "left")
    for c in nullable:
        rows = rows.withColumn(c, F.expr(f"nullif({c}, '')"))
    measures = ["connections", "unique_visitors", "access", "activations", "visits",
                "visit_seconds", "accounts", "activated_accounts"]
    for m in measures:
        if m not in rows.columns:
            rows = rows.withColumn(m, F.lit(0))
    rows = rows.fillna(0, subset=measures)
    rows = rows.where(" or ".join(f"{m} <> 0" for m in measures))
    # Structure rows carry the structure's school code and name.
    names = mapping.select("structure_id", "uai", "structure_name")
    rows = rows.join(names, "structure_id", "left")
    return rows.select(*KEY, "uai", "structure_name",
                       *[F.col(m).cast("long").alias(m) for m in measures], "hll_sketch")


# The profiles of the national datasets: Entcore's mapping.
NATIONAL_PROFILES = [("Student", "eleve"), ("Relative", "parent"), ("Teacher", "enseignant"),
                     ("Personnel", "admin_vie_scol_tech")]
NATIONAL = ["fr-en-dnma-par-uai-profils", "fr-en-dnma-par-uai-profils-appareils",
            "fr-en-dnma-par-uai-services"]


def national_cells(visits, mapping):
    """(debutsemaine, uai, grp) -> visites, utilisateurs, duree: each
    joined visit in every school its structures belong to, once per school:
    its whole duration in `globales`, its profile's and its profile and
    device's groups; its time in each service it used in that service's
    (from each instant with an event of the service to the visit's next
    instant, added up and truncated to whole seconds per visit)."""
    keys = ["user_key", "day", "island"]
    uais = (visits.select(*keys, F.explode("structures").alias("structure_id"))
            .join(mapping.select("structure_id", "uai"), "structure_id")
            .where("uai is not null").select(*keys, "uai").distinct())
    national = F.expr("case profile " + " ".join(
        f"when '{p}' then '{n}'" for p, n in NATIONAL_PROFILES) + " end")
    groups = visits.select(*keys, F.explode(F.array(
        F.struct(F.lit("globales").alias("grp"), F.col("seconds").alias("secs")),
        F.struct(national.alias("grp"), F.col("seconds").alias("secs")),
        F.struct(F.concat(national, F.lit("_"), F.col("device")).alias("grp"),
                 F.col("seconds").alias("secs")))).alias("g")).select(*keys, "g.grp", "g.secs")
    groups = groups.where("grp is not null")
    points = visits.select(*keys, F.explode("points").alias("pt")).select(
        *keys, F.col("pt.at").alias("at"), F.col("pt.service").alias("service"))
    instants = points.select(*keys, "at").distinct().withColumn(
        "next", F.lead("at").over(Window.partitionBy(*keys).orderBy("at")))
    services = (points.where("service is not null").join(instants, keys + ["at"])
                .groupBy(*keys, "service")
                .agg(F.sum(F.coalesce(F.col("next"), F.col("at")) - F.col("at")).alias("ms"))
                .select(*keys, F.col("service").alias("grp"),
                        F.floor(F.col("ms") / 1000).cast("long").alias("secs")))
    facts = groups.unionByName(services).join(uais, keys)
    return (facts.withColumn("debutsemaine", F.to_date(F.date_trunc("week", "day")))
            .groupBy("debutsemaine", "uai", "grp")
            .agg(F.count("*").alias("visites"),
                 F.countDistinct("user_key").alias("utilisateurs"),
                 F.sum("secs").alias("duree")))


def national_datasets(spark, runs, visits, mapping):
    """The three national datasets: (name, DataFrame), each with the
    columns of the runs' own dataset in their order (the column groups are
    read from it: `visites_X` names group X), the schools' context read
    back from the runs."""
    # Computed once for the three datasets.
    cells = national_cells(visits, mapping).cache()
    out = []
    for name in NATIONAL:
        runs_rows = spark.read.parquet(*[f"{r}/{name}.parquet" for r in runs])
        columns = runs_rows.columns
        groups = [c[len("visites_"):] for c in columns if c.startswith("visites_")]
        figures = {f"{m}_{g}" for g in groups for m in ("visites", "utilisateurs", "duree")}
        context_columns = [c for c in columns if c not in figures | {"debutsemaine", "uai"}]
        context = runs_rows.groupBy("uai").agg(*[F.max(c).alias(c) for c in context_columns])
        sums = [F.sum(F.when(F.col("grp") == g, F.col(m)).otherwise(0)).cast("long")
                .alias(f"{m}_{g}") for g in groups for m in ("visites", "utilisateurs", "duree")]
        wide = cells.groupBy("debutsemaine", "uai").agg(*sums).join(context, "uai", "left")
        out.append((name, wide.select(*columns)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="output directories of entlog runs")
    ap.add_argument("--out", required=True, help="where audience/ is written")
    a = ap.parse_args()
    spark = session()
    user_visits = partitioned(spark, a.runs, "user_visits")
    visits = None
    if user_visits is not None:
        visits = joined_visits(user_visits, visit_gap_ms(a.runs)).cache()
    mapping = structures(spark, a.runs).cache()
    rows = audience(spark, a.runs, visits, mapping)
    rows.orderBy(*KEY).write.mode("overwrite").parquet(os.path.join(a.out, "audience"))
    if visits is not None:
        for name, dataset in national_datasets(spark, a.runs, visits, mapping):
            dataset.orderBy("uai", "debutsemaine").write.mode("overwrite").parquet(
                os.path.join(a.out, name))
    spark.stop()


if __name__ == "__main__":
    main()
