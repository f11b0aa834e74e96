"""make bench-serve: fsml serve against the reference design's stack (bench/serve/anchor: FastAPI +
uvicorn + redis-py with hiredis + LightGBM), same data, same load generator (`fsml bench serve`,
open loop), same machine. Writes artifacts/reports/serve-bench.{json,md}.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def log(msg):
    print(f"bench-serve: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--work", default="data/bench/serve")
    ap.add_argument("--out", default="artifacts/reports")
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--find-duration", type=float, default=10)
    ap.add_argument("--skip-anchor", action="store_true")
    args = ap.parse_args()
    fsml = str(Path(args.fsml).resolve())
    out = Path(args.out).resolve()
    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.chdir(work)
    procs = []

    def start(cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        procs.append(p)
        return p

    try:
        run([fsml, "init"], capture_output=True)
        run([fsml, "generate", "events", "--events", str(args.events), "--users", str(args.users),
             "--products", str(args.products), "--days", "3", "--seed", "17", "--out", "events.jsonl.gz"],
            capture_output=True)
        redis_port = free_port()
        start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
              stdout=subprocess.DEVNULL)
        wait_port(redis_port)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        log("streaming events into Redis")
        run([fsml, "stream", "--source", "file:events.jsonl.gz", "--until-end", "--online", redis_url],
            capture_output=True)
        log("training and promoting")
        trained = json.loads(run([fsml, "train", "--experiment", "ctr", "--run-name", "bench", "--param",
                                  "num_iterations=100", "--param", "early_stopping_rounds=0", "--format", "json"],
                                 capture_output=True, text=True).stdout)
        run([fsml, "runs", "promote", trained["run_id"]], capture_output=True)

        fsml_port = free_port()
        served = start([fsml, "serve", "--online", redis_url, "--port", str(fsml_port)], stderr=subprocess.DEVNULL)
        wait_port(fsml_port)
        mem_port = free_port()
        in_process = start([fsml, "serve", "--stream", "file:events.jsonl.gz", "--until-end", "--no-online",
                            "--no-offline", "--name", "bench-in-process", "--port", str(mem_port)],
                           stderr=subprocess.DEVNULL)
        wait_port(mem_port)

        def load(url, name, rps, duration, find_max=False):
            cmd = [fsml, "bench", "serve", "--url", url, "--rps", str(rps), "--duration", str(duration),
                   "--ids-from", "events.jsonl.gz", "--name", name, "--out", str(out), "--format", "json"]
            if find_max:
                cmd += ["--find-max", "--p95-limit", "120ms"]
            return json.loads(run(cmd, capture_output=True, text=True).stdout)

        targets = {"fsml_redis": (f"http://127.0.0.1:{fsml_port}", [served.pid]),
                   "fsml_in_process": (f"http://127.0.0.1:{mem_port}", [in_process.pid])}
        if not args.skip_anchor:
            targets["anchor"] = start_anchor(fsml, fsml_port, redis_port, trained, work, start)
        results = {}
        for name, (url, pids) in targets.items():
            if name == "anchor":
                pids = pids + children(pids[0])
            r = {"rss_mib_before": rss_mib(pids)}
            for rps in (500, 2000):
                log(f"{name}: {rps} req/s for {args.duration} s")
                r[f"at_{rps}"] = load(url, f"{name}-{rps}", rps, args.duration)
            log(f"{name}: searching the highest rate with p95 <= 120 ms")
            start_rps = 100 if name == "anchor" else 2000
            r["find_max"] = load(url, f"{name}-max", start_rps, args.find_duration, find_max=True)
            r["rss_mib_after"] = rss_mib(pids)
            results[name] = r
        online = json.loads(run([fsml, "bench", "online", "--online", redis_url, "--ids-from", "events.jsonl.gz",
                                 "--reads", "100000", "--out", str(out), "--format", "json"],
                                capture_output=True, text=True).stdout)
        report(results, online, out, args)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def start_anchor(fsml, fsml_port, redis_port, trained, work, start):
    """Feature values for every entity, as fsml computes them now, into Redis db 1 (what Feast's
    materialization would have written), a LightGBM model on the same training set, then uvicorn."""
    import pyarrow.parquet as pq
    import lightgbm
    import redis

    log("anchor: materializing feature values into Redis db 1")
    users, products, sessions = set(), set(), set()
    import gzip
    with gzip.open("events.jsonl.gz", "rt") as f:
        for line in f:
            try:
                e = json.loads(line)
                users.add(e["user_id"]), products.add(e["product_id"]), sessions.add(f"{e['user_id']}:{e['session_id']}")
            except (ValueError, KeyError):
                pass
    store = redis.Redis(host="127.0.0.1", port=redis_port, db=1)

    def fetch(item):
        entity, key = item
        c = http.client.HTTPConnection("127.0.0.1", fsml_port, timeout=10)
        c.request("GET", f"/features/{entity}/{key}")
        body = json.loads(c.getresponse().read())
        c.close()
        return entity, key, {k: v for k, v in body.get("features", {}).items() if v is not None}

    items = [("user", u) for u in users] + [("product", p) for p in products] + [("session", s) for s in sessions]
    with ThreadPoolExecutor(16) as pool:
        pipe = store.pipeline()
        for i, (entity, key, values) in enumerate(pool.map(fetch, items)):
            pipe.set(f"anchor:{entity}:{key}", json.dumps(values))
            if i % 5000 == 0:
                pipe.execute()
        pipe.execute()
    run_dir = Path(trained["directory"])
    model = json.loads((run_dir / "artifacts" / "model.json").read_text())
    names = model["feature_names"]
    dataset = (run_dir / "params" / "dataset").read_text()
    table = pq.read_table(dataset).to_pandas()
    label = table.columns[-1]  # the label is the last column of an examples dataset
    booster = lightgbm.train({"objective": "binary", "num_leaves": 31, "learning_rate": 0.1, "verbose": -1},
                             lightgbm.Dataset(table[names].astype("float64"), table[label]), num_boost_round=100)
    booster.save_model("anchor-model.txt")
    entity_of = {}
    for f in json.loads(run([fsml, "features", "list", "--format", "json"], capture_output=True, text=True).stdout):
        entity_of[f["name"]] = f["entity"]
    port = free_port()
    env = dict(os.environ, ANCHOR_REDIS_PORT=str(redis_port), ANCHOR_MODEL=str(work / "anchor-model.txt"),
               ANCHOR_FEATURES=json.dumps([[n, entity_of[n]] for n in names]), PYTHONPATH=str(HERE))
    p = start([sys.executable, "-m", "uvicorn", "anchor.app:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "2", "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL)
    wait_port(port)
    time.sleep(2)
    return f"http://127.0.0.1:{port}", [p.pid]


def report(results, online, out, args):
    def pick(r):
        return {k: r[k] for k in ("achieved_rps", "p50_ms", "p95_ms", "p99_ms", "p99.9_ms", "max_ms") if k in r} | {
            "errors": sum(r["errors"].values())}

    summary = {"events": args.events, "duration_seconds": args.duration, "online_read": online, "targets": {}}
    for name, r in results.items():
        summary["targets"][name] = {
            "at_500": pick(r["at_500"]), "at_2000": pick(r["at_2000"]),
            "max_rps_p95_within_120ms": r["find_max"].get("max_rps_within_p95_limit"),
            "rss_mib": max(r["rss_mib_before"], r["rss_mib_after"]),
        }
    if "anchor" in summary["targets"]:
        a = summary["targets"]["anchor"]
        for name in ("fsml_redis", "fsml_in_process"):
            t = summary["targets"][name]
            summary["targets"][name]["vs_anchor"] = {
                "p99_at_500": round(a["at_500"]["p99_ms"] / t["at_500"]["p99_ms"], 1),
                "max_rps": round((t["max_rps_p95_within_120ms"] or 0) / max(a["max_rps_p95_within_120ms"] or 1, 1), 1),
            }
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve-bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    md = ["# fsml serve beside the reference stack (FastAPI + uvicorn + redis-py + LightGBM)", "",
          f"{args.events:,} events; open-loop load from `fsml bench serve` on the same 2 cores; latency from each request's due time.", "",
          "| target | rate | achieved | p50 ms | p95 ms | p99 ms | p99.9 ms | errors |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, t in summary["targets"].items():
        for rate in ("at_500", "at_2000"):
            r = t[rate]
            md.append(f"| {name} | {rate[3:]} | {r['achieved_rps']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
                      f"{r['p99_ms']:.2f} | {r['p99.9_ms']:.2f} | {r['errors']} |")
    md += ["", "| target | max req/s with p95 ≤ 120 ms | RSS MiB |", "|---|---:|---:|"]
    for name, t in summary["targets"].items():
        md.append(f"| {name} | {t['max_rps_p95_within_120ms'] or 0:,.0f} | {t['rss_mib']} |")
    md += ["", f"Online read alone (user + product + session, one round trip): Redis p50 {online['store_p50_us']:.0f} µs, "
           f"p99 {online['store_p99_us']:.0f} µs; in process p50 {online['memory_p50_us']:.2f} µs, p99 {online['memory_p99_us']:.2f} µs."]
    (out / "serve-bench.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
