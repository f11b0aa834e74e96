"""The point-in-time benchmark: 10 M generated events in fsml's offline store; fsml build with 100 k
and 1 M spines; DuckDB computing the same features (duckdb_features.sql) with a value-by-value
equality check; the whole event-time-only training set from fsml build and from an expert DuckDB
formulation (duckdb_expert.sql), checked row for row; Feast's get_historical_features (file offline
store) on precomputed feature rows. Each tool runs in its own process; wall time and peak RSS are
per process. Writes pit-bench.{json,md} and the `pit-<size>` section of bench/RESULTS.md (one
per event count, so the 2 M and 10 M runs stand side by side; each run rewrites only its own).
With --training-set-only, only the labelled training sets are built (fsml by event time and as
known, DuckDB's expert SQL, the row-for-row check): what the 10 M run measures.
    run.py --fsml PATH --work DIR --out DIR [--events N] [--duckdb-rows N] [--feast-rows N] [--runs N]
           [--training-set-only] [--reuse-store]"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured, measured_cpu  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402
import compare as dataset_compare  # noqa: E402
PY = sys.executable


def spine(con, events, rows, seed, path, upto=None):
    scope = f" AND _seq < {upto}" if upto else ""
    con.execute(f"""COPY (SELECT * FROM (SELECT user_id, product_id, session_id, event_ts + INTERVAL 1 second AS event_timestamp
                    FROM read_parquet('{events}') WHERE event_type = 'page_view'{scope}) USING SAMPLE {rows} ROWS (reservoir, {seed}))
                    TO '{path}' (FORMAT parquet)""")


def compare(fsml_path, duck_path):
    names = ["user_views_5m", "user_add2cart_1h", "user_cr_24h", "prod_ctr_24h", "prod_rev_24h", "sess_duration_s", "sess_unique_products"]
    a = pq.read_table(fsml_path).to_pydict()
    b = pq.read_table(duck_path).to_pydict()
    per = {}
    for n in names:
        x, y = a[n], b[n]
        per[n] = sum(1 for u, v in zip(x, y) if not ((u is None and v is None) or (u is not None and v is not None and float(u) == float(v))))
        per[n] += abs(len(x) - len(y))
    return per, len(a[names[0]])


def size_label(events):
    """2000000 → "2m", 10000000 → "10m", 500000 → "500k": the RESULTS.md section of a run."""
    return f"{events // 1_000_000}m" if events % 1_000_000 == 0 else f"{events // 1000}k"


def partitions(out):
    """The entity-hash partitions `fsml build` reports (its memory budget's doing), 1 when none."""
    for line in (out or "").splitlines():
        if line.startswith("partitions"):
            return int(line.split()[-1])
    return 1


def labelled_build(fsml, project, offline, work):
    """The default (as-known-at) labelled build, once: fsml's own, with no DuckDB peer."""
    out, wall, rss, _, cpu = measured_cpu([fsml, "build", "--out", f"{work}/train.parquet", "--offline", offline,
                                           "--config", f"{project}/fsml.yaml"])
    manifest = json.load(open(f"{work}/train.manifest.json"))
    return {"seconds": wall, "cpu_seconds": cpu or 0, "partitions": partitions(out), "peak_rss_mb": rss, "rows": manifest["dataset"]["rows"],
            "immature": manifest["immature_examples"]}


def event_time_only(fsml, project, offline, work, runs):
    """The whole labelled training set by event time, from fsml build --event-time-only and from the
    expert DuckDB formulation, alternately (so that both see the same machine), then compared row
    for row. (The default as-known-at build has no DuckDB peer: it needs the replay's arrival
    order and clock, which is fsml's own.)"""
    fsml_out, duck_out = f"{work}/train_event_time.parquet", f"{work}/duckdb_event_time.parquet"
    fsml_runs, duck_runs = [], []
    for _ in range(runs):
        out, wall, rss, _, cpu = measured_cpu([fsml, "build", "--out", fsml_out, "--offline", offline, "--config",
                                               f"{project}/fsml.yaml", "--event-time-only"])
        fsml_runs.append({"seconds": wall, "peak_rss_mb": rss, "cpu_seconds": cpu, "partitions": partitions(out)})
        out, wall, rss, _, cpu = measured_cpu([PY, f"{HERE}/duckdb_expert.py", offline, duck_out])
        duck_runs.append({"seconds": wall, "query_seconds": float(out.strip()), "peak_rss_mb": rss, "cpu_seconds": cpu})
        print(f"event-time-only: fsml {fsml_runs[-1]['seconds']:.1f} s, DuckDB {wall:.1f} s", file=sys.stderr)
    check = dataset_compare.compare(fsml_out, duck_out)

    def summary(rs):
        return {"runs": rs, "seconds": statistics.median(r["seconds"] for r in rs),
                "cpu_seconds": statistics.median(r["cpu_seconds"] or 0 for r in rs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)}
    return {"rows": check["rows_expected"], "fsml": summary(fsml_runs), "duckdb": summary(duck_runs),
            "duckdb_query_seconds": statistics.median(r["query_seconds"] for r in duck_runs),
            "rows_duckdb": check["rows_actual"], "columns": len(check["mismatches"]), "mismatches": check["mismatches"],
            "features": len(json.load(open(fsml_out.replace(".parquet", ".manifest.json")))["features"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--spine-rows", type=int, default=1_000_000)
    ap.add_argument("--duckdb-rows", type=int, default=100_000)
    ap.add_argument("--feast-rows", type=int, default=10_000)
    ap.add_argument("--feast-limit", type=int, default=1200, help="seconds before Feast is stopped")
    ap.add_argument("--feast-rss-cap-gb", type=float, default=16, help="resident memory at which Feast is stopped")
    ap.add_argument("--runs", type=int, default=3, help="runs of each event-time-only build (fsml, expert DuckDB); medians reported")
    ap.add_argument("--render-only", action="store_true", help="rewrite pit-bench.md from pit-bench.json")
    ap.add_argument("--training-set-only", action="store_true",
                    help="only the labelled training sets (fsml by event time and as known, DuckDB's expert SQL)")
    ap.add_argument("--reuse-store", action="store_true", help="keep an offline store ingested by an earlier run")
    args = ap.parse_args()
    if args.render_only:
        return render(json.load(open(os.path.join(args.out, "pit-bench.json"))), args)
    load_before = load_average()
    fsml = os.path.abspath(args.fsml)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    project = f"{work}/project"
    if not os.path.exists(f"{project}/fsml.yaml"):
        measured([fsml, "init", project])
    events_file = f"{work}/events.jsonl.gz"
    report = {"events": args.events}
    if not os.path.exists(events_file):
        _, wall, _, _ = measured([fsml, "generate", "events", "--events", str(args.events), "--users", "100000", "--products", "20000",
                               "--days", "7", "--seed", "42", "--out", events_file])
        report["generate_seconds"] = wall
    offline = f"{work}/offline"
    if not (args.reuse_store and os.path.exists(f"{offline}/_state.json")):
        subprocess.call(["rm", "-rf", offline])
        out, wall, rss, _ = measured([fsml, "ingest", "--source", events_file, "--offline", offline, "--config", f"{project}/fsml.yaml", "--format", "json"])
        report["fsml_ingest"] = {"seconds": wall, "peak_rss_mb": rss, **json.loads(out)}
    if args.training_set_only:
        report["fsml_labelled_build"] = labelled_build(fsml, project, offline, work)
        report["event_time_only"] = event_time_only(fsml, project, offline, work, args.runs)
        with open(os.path.join(args.out, f"pit-bench-{size_label(args.events)}.json"), "w") as f:
            json.dump(report, f, indent=2)
        write_results(report, args, load_before)
        return
    glob = f"{offline}/events/*/*.parquet"
    con = duckdb.connect()
    spines = {}
    for rows, seed in [(args.duckdb_rows, 5), (args.spine_rows, 7)]:
        path = f"{work}/spine_{rows}.parquet"
        spine(con, glob, rows, seed, path)
        spines[rows] = path
    report["fsml_build"] = {}
    for rows, path in spines.items():
        out_path = f"{work}/fsml_features_{rows}.parquet"
        _, wall, rss, _ = measured([fsml, "build", "--spine", path, "--out", out_path, "--offline", offline, "--config", f"{project}/fsml.yaml"])
        report["fsml_build"][str(rows)] = {"seconds": wall, "peak_rss_mb": rss, "rows": pq.ParquetFile(out_path).metadata.num_rows}
    report["fsml_labelled_build"] = labelled_build(fsml, project, offline, work)
    report["event_time_only"] = event_time_only(fsml, project, offline, work, args.runs)
    # DuckDB: the same features on the smaller spine, checked value by value.
    duck_out = f"{work}/duckdb_features_{args.duckdb_rows}.parquet"
    out, wall, rss, _ = measured([PY, f"{HERE}/duckdb_run.py", glob, spines[args.duckdb_rows], duck_out])
    mismatches, compared = compare(f"{work}/fsml_features_{args.duckdb_rows}.parquet", duck_out)
    report["duckdb"] = {"rows": args.duckdb_rows, "seconds": wall, "query_seconds": float(out.strip()), "peak_rss_mb": rss,
                        "values_compared": compared * len(mismatches), "mismatches": mismatches}
    # Feast: precomputed feature rows (running counts per entity), as-of joined. Its file offline
    # store holds everything in memory, so it is tried on the whole store and then on the first
    # events only (spine drawn from those), until a run finishes; fsml builds each spine too.
    feast_dir = f"{work}/feast"
    report["feast"] = []
    for upto in [args.events, 1_000_000, 300_000, 100_000]:
        subprocess.call(["rm", "-rf", feast_dir])
        os.makedirs(feast_dir)
        for entity in ["user", "product"]:
            con.execute(f"""COPY (SELECT {entity}_id, event_ts, count(*) OVER (PARTITION BY {entity}_id ORDER BY _seq) AS {entity}_events
                            FROM read_parquet('{glob}') WHERE _seq < {upto}) TO '{feast_dir}/{entity}_rows.parquet' (FORMAT parquet)""")
        spine_path = f"{work}/spine_feast_{upto}.parquet"
        spine(con, glob, args.feast_rows, 9, spine_path, upto)
        _, fsml_wall, fsml_rss, _ = measured([fsml, "build", "--spine", spine_path, "--out", f"{work}/fsml_feast_{upto}.parquet",
                                              "--offline", offline, "--config", f"{project}/fsml.yaml"])
        out, wall, rss, reason = measured([PY, f"{HERE}/feast_run.py", feast_dir, f"{feast_dir}/user_rows.parquet",
                                           f"{feast_dir}/product_rows.parquet", spine_path],
                                          limit=args.feast_limit, rss_cap_mb=args.feast_rss_cap_gb * 1024)
        run = {"feature_rows_per_view": upto, "rows_in": args.feast_rows, "wall_seconds": wall, "peak_rss_mb": rss,
               "fsml_seconds": fsml_wall, "fsml_peak_rss_mb": fsml_rss, "finished": out is not None, "stopped": reason}
        if out is not None:
            run.update(json.loads(out.strip().splitlines()[-1]))
        report["feast"].append(run)
        print(f"feast on {upto:,} feature rows: {reason or 'finished'} ({wall:.1f} s, {rss:.0f} MB)", file=sys.stderr)
        if out is not None:
            break
    fs = report["fsml_build"][str(args.duckdb_rows)]
    report["ratios"] = {"duckdb_over_fsml_seconds": report["duckdb"]["seconds"] / fs["seconds"]}
    with open(os.path.join(args.out, "pit-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    render(report, args)
    write_results(report, args, load_before)


def render(report, args):
    d = report["duckdb"]
    md = ["# Point-in-time benchmark", "",
          f"{args.events:,} generated events (100 k users, 20 k products, 7 days) in fsml's offline store; spines are page views "
          "sampled with DuckDB's seeded reservoir, one second after the view. fsml builds the seven served features "
          "'as known' (docs/semantics.md); DuckDB computes the same features from the same Parquet files with "
          "bench/pit/duckdb_features.sql (range joins and window functions, 2 threads); Feast joins precomputed feature "
          "rows (it cannot aggregate events) with its file offline store. Each run is its own process.", "",
          "| run | spine rows | seconds | peak RSS MB | notes |", "|---|---|---|---|---|"]
    if "fsml_ingest" in report:
        md.append(f"| fsml ingest | - | {report['fsml_ingest']['seconds']:.1f} | {report['fsml_ingest']['peak_rss_mb']:.0f} | "
                  f"{report['fsml_ingest']['admitted']:,} admitted, {report['fsml_ingest']['late']:,} late, "
                  f"{report['fsml_ingest']['duplicates']:,} duplicates |")
    for rows, r in report["fsml_build"].items():
        md.append(f"| fsml build --spine | {int(rows):,} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} | replays every event |")
    lb = report["fsml_labelled_build"]
    md.append(f"| fsml build (labelled) | {lb['rows']:,} examples | {lb['seconds']:.1f} | {lb['peak_rss_mb']:.0f} | {lb['immature']:,} immature left out |")
    md.append(f"| DuckDB, same features | {d['rows']:,} | {d['seconds']:.1f} | {d['peak_rss_mb']:.0f} | "
              f"{sum(d['mismatches'].values())} mismatches in {d['values_compared']:,} values |")
    for fe in report["feast"]:
        outcome = f"returned {fe['rows_out']:,} rows" if fe["finished"] else fe["stopped"]
        md.append(f"| Feast get_historical_features | {fe['rows_in']:,} | {fe['wall_seconds']:.1f} | {fe['peak_rss_mb']:.0f} | "
                  f"{fe['feature_rows_per_view']:,} precomputed rows per view; {outcome} |")
        md.append(f"| fsml build, same spine | {fe['rows_in']:,} | {fe['fsml_seconds']:.1f} | {fe['fsml_peak_rss_mb']:.0f} | "
                  "replays events up to the spine's last time, computes all seven features |")
    et = report.get("event_time_only")
    if et:
        md.append(f"| fsml build --event-time-only | {et['rows']:,} examples | {et['fsml']['seconds']:.1f} | "
                  f"{et['fsml']['peak_rss_mb']:.0f} | median of {len(et['fsml']['runs'])} |")
        md.append(f"| DuckDB, expert SQL, same rows | {et['rows_duckdb']:,} examples | {et['duckdb']['seconds']:.1f} | "
                  f"{et['duckdb']['peak_rss_mb']:.0f} | {sum(et['mismatches'].values())} mismatches in {et['columns']} columns |")
    md += ["", f"DuckDB / fsml wall time at {d['rows']:,} rows: {report['ratios']['duckdb_over_fsml_seconds']:.1f}x."]
    if et:
        md.append(f"Expert DuckDB / fsml wall time for the event-time-only training set: "
                  f"{et['duckdb']['seconds'] / et['fsml']['seconds']:.2f}x (the as-known-at build has no DuckDB peer).")
    done = [fe for fe in report["feast"] if fe["finished"]]
    if done:
        md.append(f"Feast / fsml wall time where Feast finished ({done[0]['feature_rows_per_view']:,} feature rows per view): "
                  f"{done[0]['wall_seconds'] / done[0]['fsml_seconds']:.1f}x.")
    with open(os.path.join(args.out, "pit-bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))



def place_section(name):
    """A new pit-<size> section goes after the other pit sections of bench/RESULTS.md (sizes in the
    order first run), not at the end of the file."""
    from results import RESULTS
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if f"<!-- bench:{name} -->" in text:
        return
    ends = [m.end() for m in re.finditer(r"<!-- /bench:pit-[0-9a-z]+ -->", text)]
    if ends:
        at = ends[-1]
        RESULTS.write_text(text[:at] + f"\n\n<!-- bench:{name} -->\n<!-- /bench:{name} -->" + text[at:])


def write_results(report, args, load_before):
    """The `pit-<size>` section of bench/RESULTS.md: the event-time-only training set, fsml beside
    the expert DuckDB formulation, and the as-known-at build (fsml only)."""
    et = report["event_time_only"]
    lb = report["fsml_labelled_build"]
    bad = {k: v for k, v in et["mismatches"].items() if v}
    equal = "equal row for row in every column" if not bad and et["rows"] == et["rows_duckdb"] else \
        f"NOT equal: {et['rows_duckdb']:,} rows; mismatches {bad}"
    rows = [["fsml build --event-time-only", f"{et['rows']:,}", f"{et['fsml']['seconds']:.1f}", "1.00",
             f"{et['fsml']['cpu_seconds']:.1f}", "1.00", f"{et['fsml']['peak_rss_mb']:.0f}"],
            ["DuckDB, expert SQL (2 threads)", f"{et['rows_duckdb']:,}", f"{et['duckdb']['seconds']:.1f}",
             f"{et['duckdb']['seconds'] / et['fsml']['seconds']:.2f}", f"{et['duckdb']['cpu_seconds']:.1f}",
             f"{et['duckdb']['cpu_seconds'] / et['fsml']['cpu_seconds']:.2f}", f"{et['duckdb']['peak_rss_mb']:.0f}"],
            ["fsml build (as known at t)", f"{lb['rows']:,}", f"{lb['seconds']:.1f}", "",
             f"{lb['cpu_seconds']:.1f}" if lb.get("cpu_seconds") else "", "", f"{lb['peak_rss_mb']:.0f}"]]
    label = size_label(report["events"])
    make = "bench-pit" if report["events"] == 2_000_000 else f"bench-pit-{label}"
    place_section(f"pit-{label}")
    parts = et["fsml"]["runs"][-1].get("partitions", 1)
    memory = "half of the machine's memory"
    budget = (f"fsml ran at its default memory budget ({memory}): {parts} entity-hash partitions, built one after the "
              "other, each reading the store again. " if parts > 1 else
              f"fsml ran at its default memory budget ({memory}), which this store fits in one partition. ")
    write_section(f"pit-{label}", f"Point-in-time training sets at {report['events']:,} events: fsml build beside DuckDB",
                  command_line(make),
                  [f"{report['events']:,} generated events (100 k users, 20 k products, 7 days) in fsml's offline store. "
                   f"The whole labelled training set (every page view, its {et.get('features', 18)} features and its label) by event time: "
                   "`fsml build --event-time-only`, and bench/pit/duckdb_expert.sql, the fastest exact DuckDB formulation "
                   "we could write (dense integer keys, RANGE frames, hour tiles per product, session lives from a restart "
                   "flag, the label as a forward frame), reading the same Parquet files and writing Parquet. "
                   f"Median of {len(et['fsml']['runs'])} alternating runs, each in its own process; DuckDB's result: {equal}. "
                   "The as-known-at build (the default, the server's view) needs the replay's arrival order and clock and "
                   "has no DuckDB peer here. " + budget + "CPU seconds are user + system of every thread (what other load on "
                   "the machine does not inflate).", ""] +
                  table(["run", "rows", "seconds", "÷ fsml", "CPU seconds", "CPU ÷ fsml", "peak RSS MB"], rows),
                  load_before)


if __name__ == "__main__":
    main()
