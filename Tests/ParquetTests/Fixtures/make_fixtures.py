"""Writes the pyarrow fixtures fsml's Parquet reader is tested against (run with pyarrow 26):
    python make_fixtures.py
Each file holds the same table: every type fsml reads, nulls, several row groups. The values
are listed in ParquetReaderTests.swift."""
import datetime

import pyarrow as pa
import pyarrow.parquet as pq


def table():
    n = 10
    return pa.table({
        "b": pa.array([i % 3 == 0 if i != 4 else None for i in range(n)], pa.bool_()),
        "i32": pa.array([i * 7 - 20 if i != 5 else None for i in range(n)], pa.int32()),
        "i64": pa.array([(1 << 40) + i if i != 6 else None for i in range(n)], pa.int64()),
        "f32": pa.array([i / 4 if i != 7 else None for i in range(n)], pa.float32()),
        "f64": pa.array([i * 1.1 if i != 8 else None for i in range(n)], pa.float64()),
        "s": pa.array([["apple", "pear", "fig", "é😀"][i % 4] if i != 9 else None for i in range(n)], pa.string()),
        "ts": pa.array([datetime.datetime(2025, 1, 15, 12, 0, i, 250000 * (i % 4), tzinfo=datetime.timezone.utc)
                        if i != 0 else None for i in range(n)], pa.timestamp("us", tz="UTC")),
        "req": pa.array(list(range(n)), pa.int64()),
    }, schema=pa.schema([
        pa.field("b", pa.bool_()), pa.field("i32", pa.int32()), pa.field("i64", pa.int64()),
        pa.field("f32", pa.float32()), pa.field("f64", pa.float64()), pa.field("s", pa.string()),
        pa.field("ts", pa.timestamp("us", tz="UTC")), pa.field("req", pa.int64(), nullable=False),
    ]))


def main():
    t = table()
    pq.write_table(t, "pyarrow_snappy_v1.parquet", compression="snappy", data_page_version="1.0", row_group_size=4)
    pq.write_table(t, "pyarrow_gzip_v2.parquet", compression="gzip", data_page_version="2.0", row_group_size=4)
    pq.write_table(t, "pyarrow_plain_uncompressed.parquet", compression="none", use_dictionary=False, row_group_size=10)


if __name__ == "__main__":
    main()
