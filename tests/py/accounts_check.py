"""Checks the accounts of tests/accounts.rs's run, whose figures are known
by construction: three accounts in school s1 (two pupils, one parent), the
parent activated before the logs, pupil "élève-1" activated on 16 March,
the other pupil never; a visitor without an account or profile. By class:
"élève-1" in c1 and c2 (from users.csv), the parent in c1 but logging in
with an event that names c2, the other pupil in c2.

usage: accounts_check.py OUT_DIR
"""
import csv
import datetime as dt
import sys

import duckdb

out = sys.argv[1]
problems = []


def rows(sql):
    return duckdb.sql(sql.replace("AUDIENCE", f"'{out}/audience.parquet'")).fetchall()


def day(d):
    return dt.date(2020, 3, d)


# Platform, all profiles, by day: accounts, activated, visitors.
got = rows("select period_start, accounts, activated_accounts, unique_visitors from AUDIENCE "
           "where grain = 'day' and scope = 'platform' and profile = 'All' order by 1")
want = [(day(2), 3, 1, 1), (day(3), 3, 1, 1), (day(4), 3, 1, 1), (day(16), 3, 2, 1)]
if got != want:
    problems.append(f"days: {got}, want {want}")
got = rows("select scope, profile, accounts, activated_accounts, unique_visitors from AUDIENCE "
           "where grain = 'month' order by 1, 2")
# The stranger (no profile, no account) is a visitor of s1 with no account.
want = [(scope, profile, *figures) for scope in ("platform", "segment", "structure")
        for profile, *figures in [("All", 3, 2, 3), ("Relative", 1, 1, 1), ("Student", 2, 1, 1),
                                  ("Unknown", 0, 0, 1)]]
if got != want:
    problems.append(f"month: {got}, want {want}")
got = duckdb.sql(f"select profile, structure_id, activated, activated_on from '{out}/accounts.parquet' "
                 "order by 1, 3, 4").fetchall()
want = [("Relative", "s1", True, None), ("Student", "s1", False, None),
        ("Student", "s1", True, day(16))]
if got != want:
    problems.append(f"accounts.parquet: {got}, want {want}")
with open(f"{out}/stats-accounts.csv", newline="", encoding="utf-8") as f:
    got = list(csv.reader(f, delimiter=";"))
want = [["Etablissement", "UAI", "Date", "Profil", "Connexions", "Visiteurs uniques",
         "Comptes chargés", "Comptes activés"],
        ["École Jean-Jaurès, Amiens", "0801234A", "2020-03-01", "Élève", "2", "1", "2", "1"],
        ["École Jean-Jaurès, Amiens", "0801234A", "2020-03-01", "Parent", "1", "1", "1", "1"],
        ["École Jean-Jaurès, Amiens", "0801234A", "2020-03-01", "Inconnu", "1", "1", "0", "0"]]
if got != want:
    problems.append(f"stats-accounts.csv: {got}, want {want}")
got = duckdb.sql(f"select class_id, profile, class_name, structure_id, connections, unique_visitors, "
                 f"activations, accounts, activated_accounts from '{out}/classes.parquet' "
                 "where grain = 'month' order by 1, 2").fetchall()
c1, c2 = ("c1", "6ᵉ A, latin", "s1"), ("c2", 'CM2 "B"', "s1")
want = [(c1[0], "All", *c1[1:], 2, 1, 1, 2, 2), (c1[0], "Relative", *c1[1:], 0, 0, 0, 1, 1),
        (c1[0], "Student", *c1[1:], 2, 1, 1, 1, 1), (c2[0], "All", *c2[1:], 3, 2, 1, 2, 1),
        (c2[0], "Relative", *c2[1:], 1, 1, 0, 0, 0), (c2[0], "Student", *c2[1:], 2, 1, 1, 2, 1)]
if got != want:
    problems.append(f"classes.parquet months: {got}, want {want}")
# Classes by week (from Mondays 2 and 16 March) and month, no day rows.
got = duckdb.sql(f"select grain, period_start, accounts, activated_accounts from '{out}/classes.parquet' "
                 "where class_id = 'c1' and profile = 'Student' order by 1, 2").fetchall()
want = [("month", day(1), 1, 1), ("week", day(2), 1, 0), ("week", day(16), 1, 1)]
if got != want:
    problems.append(f"classes.parquet rows of c1: {got}, want {want}")
print("\n".join(problems) or "ok")
