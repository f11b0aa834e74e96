"""Row-for-row comparison of two training sets (fsml's and a peer's):
    compare.py EXPECTED ACTUAL [--json]
Rows are matched by position (both are ordered by time, then arrival); every column of EXPECTED
is compared. Missing is null or NaN on both sides. Counts, labels and fields must be equal;
floating columns that come from a division or a square root may differ in the last bits when the
two tools round in a different order, so they get a relative tolerance of 1e-9."""
import argparse
import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REL_TOL = 1e-9
# Columns that are quotients or roots of exact integer sums: the only place rounding order differs.
DERIVED = {"user_cr_24h", "prod_ctr_24h", "prod_rev_24h", "prod_avg_price_24h", "prod_price_std_24h", "price_vs_avg",
           "sess_duration_s", "up_since_view_s"}


def mismatches(a, b, tolerant):
    """How many positions differ between two columns of equal length."""
    if pa.types.is_floating(a.type) or pa.types.is_floating(b.type) or pa.types.is_integer(a.type):
        x = a.cast(pa.float64()).to_numpy(zero_copy_only=False)
        y = b.cast(pa.float64()).to_numpy(zero_copy_only=False)
        missing_x, missing_y = np.isnan(x), np.isnan(y)
        both = ~missing_x & ~missing_y
        if tolerant:
            close = np.isclose(x, y, rtol=REL_TOL, atol=0)
        else:
            close = x == y
        return int(np.sum(missing_x != missing_y) + np.sum(both & ~close))
    if a.type != b.type:
        b = b.cast(a.type)
    eq = pc.equal(a, b)
    same = pc.or_kleene(eq, pc.and_(pc.is_null(a), pc.is_null(b)))
    return int(pc.sum(pc.invert(pc.fill_null(same, False))).as_py() or 0)


def compare(expected_path, actual_path):
    """Per column mismatch counts, the rows compared, and columns missing from ACTUAL."""
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
        per[name] = mismatches(x, y, name in DERIVED) + abs(a.num_rows - b.num_rows)
    return {"rows_expected": a.num_rows, "rows_actual": b.num_rows, "mismatches": per,
            "extra_columns": [c for c in b.column_names if c not in a.column_names]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = compare(args.expected, args.actual)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"rows: {result['rows_expected']:,} expected, {result['rows_actual']:,} actual")
        for name, count in result["mismatches"].items():
            print(f"  {name:24s} {count}")
    sys.exit(1 if any(result["mismatches"].values()) or result["rows_expected"] != result["rows_actual"] else 0)


if __name__ == "__main__":
    main()
