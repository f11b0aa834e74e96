"""The DuckDB side of the point-in-time benchmark, in its own process:
    duckdb_run.py EVENTS_GLOB SPINE OUT
Runs duckdb_features.sql (the same features and semantics as fsml) and writes the result."""
import os
import sys
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    events, spine, out = sys.argv[1:4]
    sql = open(os.path.join(HERE, "duckdb_features.sql")).read().replace("{events}", events).replace("{spine}", spine)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    start = time.perf_counter()
    statements = sql.strip().rstrip(";")
    final_at = statements.rindex("SELECT c.rid,")
    con.execute(statements[:final_at])
    con.execute(f"COPY ({statements[final_at:]}) TO '{out}' (FORMAT parquet)")
    print(time.perf_counter() - start)


if __name__ == "__main__":
    main()
