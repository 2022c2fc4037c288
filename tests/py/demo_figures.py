"""Prints March 2020 connections, growth against the mean of the other
months (percent, rounded), distinct pupils and distinct parents of schools
(segment ECOLE), read from audience.parquet with DuckDB.

usage: demo_figures.py OUT_DIR
"""
import sys

import duckdb

out = sys.argv[1]
rows = duckdb.sql(f"""
    select period_start, profile, connections, unique_visitors
    from read_parquet('{out}/audience.parquet')
    where grain = 'month' and scope = 'segment' and segment = 'ECOLE'
""").fetchall()
conn = {p: c for p, prof, c, _ in rows if prof == "All"}
march = max(conn)
others = [c for p, c in conn.items() if p != march]
growth = round((conn[march] / (sum(others) / len(others)) - 1) * 100)
uv = {prof: u for p, prof, _, u in rows if p == march}
print(conn[march], growth, uv["Student"], uv["Relative"])
