"""The stream benchmark: fsml stream replaying generated events as fast as it can into Redis
(with and without the offline store) and into SQLite; freshness at 500 events/s; and Spark
Structured Streaming (local[2]) computing the same features on the same input into Redis
(spark_run.py), spot-checked against a brute-force oracle (spark_check.py). Each run is its own
process; a redis-server of the benchmark's own runs on a free loopback port.
    run.py --fsml PATH --work DIR --out DIR [--events N] [--spark-events N] [--spark-only]
--spark-only runs Spark and fsml on the Spark input alone and writes stream-bench-spark.{json,md},
not the bench/RESULTS.md section."""
import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured, measured_cpu  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402


class Redis:
    def __init__(self, work):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL)
        for _ in range(100):
            if self.cli("ping") == "PONG":
                return
            time.sleep(0.05)
        sys.exit("redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return r.stdout.strip()

    def used_memory(self):
        for line in self.cli("info", "memory").splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        return 0

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def stream(fsml, project, source, online, extra, work, name):
    checkpoint = f"{work}/checkpoints-{name}"
    subprocess.call(["rm", "-rf", checkpoint])
    out, wall, rss, _, cpu = measured_cpu([fsml, "stream", "--source", f"file:{source}", "--until-end", "--online", online,
                                           "--checkpoint", checkpoint, "--config", f"{project}/fsml.yaml", "--format",
                                           "json", *extra])
    report = json.loads(out)
    report["wall_seconds"] = wall
    report["peak_rss_mb"] = rss
    report["cpu_seconds"] = cpu
    report["cpu_us_per_line"] = 1e6 * cpu / max(report["lines"], 1)
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--spark-events", type=int, default=1_000_000)
    ap.add_argument("--spark-files", type=int, default=10)
    ap.add_argument("--spark-max-files-per-trigger", type=int, default=0,
                    help="Spark's maxFilesPerTrigger (0: Spark sizes its micro-batches)")
    ap.add_argument("--spark-only", action="store_true", help="only Spark and fsml on Spark's input")
    ap.add_argument("--freshness-seconds", type=int, default=30)
    ap.add_argument("--section", default="stream", help="the bench/RESULTS.md section to write")
    args = ap.parse_args()
    load_before = load_average()
    fsml = os.path.abspath(args.fsml)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    project = f"{work}/project"
    if not os.path.exists(f"{project}/fsml.yaml"):
        measured([fsml, "init", project])
    events = f"{work}/events-{args.events}.jsonl"
    if not os.path.exists(events):
        measured([fsml, "generate", "events", "--events", str(args.events), "--users", "100000", "--products", "20000",
                  "--days", "7", "--seed", "42", "--out", events])
    lines = sum(1 for _ in open(events, "rb"))
    if args.spark_only:
        redis = Redis(work)
        try:
            report = {"events_file_lines": lines, **beside_spark(fsml, project, events, work, redis, args)}
        finally:
            redis.stop()
        with open(os.path.join(args.out, "stream-bench-spark.json"), "w") as f:
            json.dump(report, f, indent=2)
        md = spark_md(report, args)
        with open(os.path.join(args.out, "stream-bench-spark.md"), "w") as f:
            f.write("\n".join(md) + "\n")
        print("\n".join(md))
        return
    # The engine's own costs on one core, on events generated alike, in the same run: what the
    # stream job's CPU per event is held against.
    measured([fsml, "bench", "engine", "--events", str(args.events), "--users", "100000", "--products", "20000",
              "--days", "7", "--out", f"{work}/engine-events.jsonl.gz", "--report", work, "--config",
              f"{project}/fsml.yaml"])
    engine = json.load(open(f"{work}/engine-bench.json"))
    redis = Redis(work)
    report = {"events_file_lines": lines, "engine": engine}
    try:
        # As fast as possible into Redis, alone and with the offline store.
        for name, extra in [("redis", ["--no-offline"]), ("redis_offline", ["--offline", f"{work}/offline"])]:
            redis.cli("flushall")
            subprocess.call(["rm", "-rf", f"{work}/offline"])
            base = redis.used_memory()
            r = stream(fsml, project, events, redis.url(), extra, work, name)
            keys = int(redis.cli("dbsize"))
            r["redis_keys"] = keys
            r["redis_bytes_per_key"] = (redis.used_memory() - base) / max(keys, 1)
            report[name] = r
            print(f"{name}: {r['lines_per_second']:,.0f} events/s", file=sys.stderr)
        # Into SQLite.
        db = f"{work}/online.db"
        for suffix in ["", "-wal", "-shm"]:
            subprocess.call(["rm", "-f", db + suffix])
        r = stream(fsml, project, events, f"sqlite:{db}", ["--no-offline"], work, "sqlite")
        con = sqlite3.connect(db)
        rows = sum(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ["user", "product", "session"])
        con.close()
        size = sum(os.path.getsize(db + s) for s in ["", "-wal"] if os.path.exists(db + s))
        r["sqlite_rows"] = rows
        r["sqlite_bytes_per_row"] = size / max(rows, 1)
        report["sqlite"] = r
        print(f"sqlite: {r['lines_per_second']:,.0f} events/s", file=sys.stderr)
        # Freshness at 500 events/s.
        redis.cli("flushall")
        r = stream(fsml, project, events, redis.url(), ["--no-offline", "--rate", "500", "--max-lines",
                                                        str(500 * args.freshness_seconds)], work, "freshness")
        report["freshness_500"] = r
        print(f"freshness: p99 {r['freshness']['p99_ms']:.1f} ms", file=sys.stderr)
        report.update(beside_spark(fsml, project, events, work, redis, args))
    finally:
        redis.stop()
    write(report, args, load_before)


def beside_spark(fsml, project, events, work, redis, args):
    """Spark and fsml on the same first events, both into the benchmark's Redis, and the spot-check
    of what Spark wrote."""
    spark_dir = f"{work}/spark"
    subprocess.call(["rm", "-rf", spark_dir])
    os.makedirs(f"{spark_dir}/in")
    subset = f"{spark_dir}/events.jsonl"
    per_file = args.spark_events // args.spark_files
    with open(events, "rb") as src, open(subset, "wb") as all_out:
        for i in range(args.spark_files):
            with open(f"{spark_dir}/in/part-{i:03d}.json", "wb") as part:
                for _ in range(per_file):
                    line = src.readline()
                    part.write(line)
                    all_out.write(line)
    spark_events = per_file * args.spark_files
    python = os.path.join(HERE, ".venv", "bin", "python")
    redis.cli("flushall")
    base = redis.used_memory()
    out, wall, rss, _ = measured([python, os.path.join(HERE, "spark_run.py"), f"{spark_dir}/in", str(spark_events),
                                  "--redis", redis.url(), "--max-files-per-trigger",
                                  str(args.spark_max_files_per_trigger)])
    spark = json.loads(out.strip().splitlines()[-1])
    spark.update({"wall_seconds": wall, "peak_rss_mb": rss, "redis_bytes": redis.used_memory() - base})
    check, _, _, _ = measured([python, os.path.join(HERE, "spark_check.py"), f"{spark_dir}/in", "--redis", redis.url()])
    spark["check"] = json.loads(check)
    print(f"spark: {spark['events_per_second']:,.0f} events/s", file=sys.stderr)
    redis.cli("flushall")
    base = redis.used_memory()
    same = stream(fsml, project, subset, redis.url(), ["--no-offline"], work, "same")
    same["redis_keys"] = int(redis.cli("dbsize"))
    same["redis_bytes"] = redis.used_memory() - base
    return {"spark": spark, "fsml_same_input": same}


def check_summary(check):
    """One line per entity kind: features equal to the oracle, equal once late events are admitted, other."""
    parts = []
    for name, stats in check["checks"].items():
        if "compared" in stats:  # sessions
            parts.append(f"{name}: {stats['equal']}/{stats['compared']} equal, {stats['equal_if_late_admitted']} "
                         f"equal with late events admitted, {stats['compared'] - stats['equal'] - stats['equal_if_late_admitted']} other")
            continue
        compared = sum(s["compared"] for s in stats.values())
        equal = sum(s["equal"] for s in stats.values())
        late = sum(s["equal_if_late_admitted"] for s in stats.values())
        parts.append(f"{name}: {equal}/{compared} values equal, {late} equal with late events admitted, "
                     f"{compared - equal - late} other")
    return parts


def spark_md(report, args):
    s, same = report["spark"], report["fsml_same_input"]
    trigger = ("Trigger.AvailableNow, micro-batches sized by Spark" if not args.spark_max_files_per_trigger else
               f"Trigger.AvailableNow, maxFilesPerTrigger {args.spark_max_files_per_trigger}")
    batches = max(s["micro_batches"].values())
    md = ["## Beside Spark Structured Streaming", "",
          f"The same first {s['events']:,} events, in {args.spark_files} files. Spark 4.3 (pyspark, local[2], "
          f"{trigger}: {batches} micro-batch{'es' if batches > 1 else ''}; RocksDB state store with changelog "
          "checkpointing, 2 shuffle partitions) computes all the reference features in four streaming queries, each "
          "reading the files with a 10-minute watermark and dropDuplicatesWithinWatermark(event_id): the sliding "
          "windows as tumbling event-time tiles of their hop (1 minute, 5 minutes, 1 hour; update mode, counts, exact "
          "micro-unit sums and moments, latest event and page-view times), combined over [floor(t/h)·h − w, t) when "
          "read, and the sessions as session windows with a 2-hour gap (append mode: a session is written once closed). "
          "foreachBatch writes each micro-batch's updated rows to Redis with pipelined redis-py "
          f"({sum(s['rows_written'].values()):,} rows, {s['redis_keys']:,} keys). fsml computes the same features "
          f"and writes them to Redis ({same['redis_keys']:,} keys).", "",
          "| run | events/s | wall seconds | CPU seconds | peak RSS MB |", "|---|---|---|---|---|",
          f"| Spark Structured Streaming → Redis | {s['events_per_second']:,.0f} | {s['wall_seconds']:.1f} | "
          f"{s['cpu_seconds']:.1f} | {s['peak_rss_mb']:.0f} |",
          f"| fsml stream → Redis | {same['lines_per_second']:,.0f} | {same['wall_seconds']:.1f} | "
          f"{same['cpu_seconds']:.1f} | {same['peak_rss_mb']:.0f} |",
          "", f"fsml / Spark events per second: {same['lines_per_second'] / s['events_per_second']:.1f}x "
          "(Spark's rate counts from its queries' start, after the JVM is up; its CPU seconds include the JVM's start).",
          "", "Spot-check of what Spark wrote against a brute-force oracle (spark_check.py; fsml's admission: late events "
          "beyond 10 minutes dropped, duplicates folded once) for sampled entities at the stream's end, and at the "
          "last whole hour; Spark's watermark moves only between micro-batches, so late events inside one are folded:", ""]
    md += [f"- {p}" for p in check_summary(s["check"])]
    return md


def write(report, args, load_before):
    with open(os.path.join(args.out, "stream-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    s, same = report["spark"], report["fsml_same_input"]
    md = ["# Stream benchmark", "",
          f"`fsml stream` replays {report['events_file_lines']:,} generated lines (100 k users, 20 k products, 7 days; "
          "late, duplicate and out-of-order events included) from a JSONL file as fast as it can: parse, validate, "
          "admit, fold, and write changed entity states to the online store in 20 ms micro-batches, checkpointing "
          "every 5 s. Redis is a local redis-server (no persistence); SQLite a local file (WAL). 2 cores.", "",
          "| run | events/s | seconds | peak RSS MB | entities held | state bytes/entity | store bytes/key |",
          "|---|---|---|---|---|---|---|"]
    for name, label, per_key in [("redis", "Redis", "redis_bytes_per_key"),
                                 ("redis_offline", "Redis + offline store (Parquet)", "redis_bytes_per_key"),
                                 ("sqlite", "SQLite", "sqlite_bytes_per_row")]:
        r = report[name]
        md.append(f"| {label} | {r['lines_per_second']:,.0f} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} | "
                  f"{r['entities']:,} | {r['state_bytes'] / max(r['entities'], 1):.1f} | {r[per_key]:.0f} |")
    f = report["freshness_500"]
    md += ["", f"Freshness at 500 events/s into Redis ({f['lines']:,} events, from reading an event to its states "
           f"being written): p50 {f['freshness']['p50_ms']:.1f} ms, p99 {f['freshness']['p99_ms']:.1f} ms, "
           f"max {f['freshness']['max_ms']:.1f} ms; online write p50 {f['online_write']['p50_ms']:.2f} ms.", "",
           ] + spark_md(report, args)

    e = report["engine"]
    engine_us = (e["parse_ns_per_line"] + e["admit_ns_per_event"] + e["fold_ns_per_event"]) / 1000
    rows = []
    for name, label in [("redis", "Redis"), ("redis_offline", "Redis + offline store"), ("sqlite", "SQLite")]:
        r = report[name]
        rows.append([label, f"{r['lines_per_second']:,.0f}", f"{r['cpu_us_per_line']:.2f}",
                     f"{r['cpu_us_per_line'] / engine_us:.2f}×", f"{r['peak_rss_mb']:.0f}"])
    cpu_md = ["", "## CPU per event against the engine's own costs", "",
              f"`fsml bench engine` in the same run, one core: parse {e['parse_ns_per_line']:.0f} ns/line, admit "
              f"{e['admit_ns_per_event']:.0f} ns/event, fold {e['fold_ns_per_event']:.0f} ns/event: "
              f"{engine_us:.2f} µs per event in all. The stream job's CPU (user + system, all its threads) per line read:", ""]
    cpu_md += table(["run", "events/s", "CPU µs/event", "× engine", "peak RSS MB"], rows)
    md += cpu_md
    with open(os.path.join(args.out, "stream-bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    results = [f"{report['events_file_lines']:,} generated lines (100 k users, 20 k products, 7 days) replayed as fast "
               "as the job goes; Spark on the first events, both from files, both into Redis. Spark (local[2], "
               "Trigger.AvailableNow with micro-batches sized by Spark, RocksDB state store, 2 shuffle partitions) "
               "computes every reference feature with a 10-minute watermark and dropDuplicatesWithinWatermark(event_id): "
               "sliding windows as tumbling event-time tiles of their hop (update mode) combined over [floor(t/h)·h − w, t) "
               "when read, sessions as 2-hour session windows (append mode: written once closed, where fsml serves the open "
               "session); foreachBatch writes the updated rows to Redis. Spot-check against a brute-force oracle: "
               + "; ".join(check_summary(s["check"])) + " (late events are folded by Spark inside a micro-batch)."] + cpu_md[3:] + [
        "", table(["run", "events/s", "wall seconds", "CPU seconds", "peak RSS MB"], [
            ["Spark Structured Streaming → Redis (local[2])", f"{s['events_per_second']:,.0f}", f"{s['wall_seconds']:.1f}",
             f"{s['cpu_seconds']:.1f}",              f"{s['peak_rss_mb']:.0f}"],
            ["fsml stream → Redis", f"{same['lines_per_second']:,.0f}", f"{same['wall_seconds']:.1f}",
             f"{same['cpu_seconds']:.1f}", f"{same['peak_rss_mb']:.0f}"]])]
    flat = []
    for item in results:
        flat += item if isinstance(item, list) else [item]
    write_section(args.section, "Streaming: fsml stream, its engine, and Spark", command_line("bench-stream"), flat, load_before)
    print("\n".join(md))


if __name__ == "__main__":
    main()
