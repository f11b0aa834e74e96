"""DuckDB's event-time-only training set, in its own process:
    duckdb_expert.py OFFLINE_DIR OUT [--threads N]
Runs duckdb_expert.sql over OFFLINE_DIR/events/*/*.parquet and writes the rows `fsml build
--event-time-only` writes; prints the query's seconds (reading Parquet to writing Parquet)."""
import argparse
import json
import os
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOWED_LATENESS_US = 600_000_000  # fsml.yaml's allowed_lateness: 10m


def lateness_us(offline):
    """The lateness that settles labels: the allowed lateness, or the store's largest recorded lag
    when a partitioned source exceeded it (docs/semantics.md §7)."""
    state = json.load(open(os.path.join(offline, "_state.json")))
    return max(ALLOWED_LATENESS_US, state.get("max_lag_us") or 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("offline")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    glob = os.path.join(os.path.abspath(args.offline), "events", "*", "*.parquet")
    sql = open(os.path.join(HERE, "duckdb_expert.sql")).read()
    sql = sql.replace("{events}", glob).replace("{lateness_us}", str(lateness_us(args.offline)))
    # The script's last statement is the dataset; the ones before it build its tables.
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip().rstrip(";")
    *setup, final = body.split(";\n")
    con = duckdb.connect()
    con.execute(f"SET threads TO {args.threads}")
    con.execute("SET preserve_insertion_order = false")
    start = time.perf_counter()
    for statement in setup:
        con.execute(statement)
    con.execute(f"COPY ({final}) TO '{args.out}' (FORMAT parquet)")
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
