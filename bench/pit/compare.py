"""Row-for-row comparison of two training sets (fsml's and a peer's):
    compare.py EXPECTED ACTUAL [--rel-tol X] [--json]
Rows are matched by position (both are ordered by time, then arrival) and every column of
EXPECTED is compared; missing is null or NaN on both sides. Equality is exact by default: fsml
keeps sums and moments as integers in micro-units, so a peer that does the same gets the same
bits, and a rounding-order difference should be visible rather than forgiven. --rel-tol allows a
relative difference in floating columns, for peers that sum in floating point."""
import argparse
import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def mismatches(a, b, rel_tol):
    """How many positions differ between two columns of equal length."""
    if pa.types.is_floating(a.type) or pa.types.is_integer(a.type):
        x = a.cast(pa.float64()).to_numpy(zero_copy_only=False)
        y = b.cast(pa.float64()).to_numpy(zero_copy_only=False)
        missing_x, missing_y = np.isnan(x), np.isnan(y)
        both = ~missing_x & ~missing_y
        close = np.isclose(x, y, rtol=rel_tol, atol=0) if rel_tol else x == y
        return int(np.sum(missing_x != missing_y) + np.sum(both & ~close))
    if a.type != b.type:
        b = b.cast(a.type)
    same = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
    return int(pc.sum(pc.invert(pc.fill_null(same, False))).as_py() or 0)


def compare(expected_path, actual_path, rel_tol=0.0):
    """Mismatches per column of EXPECTED (a column ACTUAL lacks counts every row; a difference in
    row count is added to every column), the row counts, and ACTUAL's extra columns."""
    a = pq.read_table(expected_path)
    b = pq.read_table(actual_path)
    n = min(a.num_rows, b.num_rows)
    per = {}
    for name in a.column_names:
        if name not in b.column_names:
            per[name] = a.num_rows
            continue
        x = a[name].slice(0, n).combine_chunks()
        y = b[name].slice(0, n).combine_chunks()
        per[name] = mismatches(x, y, rel_tol) + abs(a.num_rows - b.num_rows)
    return {"rows_expected": a.num_rows, "rows_actual": b.num_rows, "mismatches": per,
            "extra_columns": [c for c in b.column_names if c not in a.column_names]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--rel-tol", type=float, default=0.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = compare(args.expected, args.actual, args.rel_tol)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"rows: {result['rows_expected']:,} expected, {result['rows_actual']:,} actual")
        for name, count in result["mismatches"].items():
            print(f"  {name:24s} {count}")
    sys.exit(1 if any(result["mismatches"].values()) or result["rows_expected"] != result["rows_actual"] else 0)


if __name__ == "__main__":
    main()
