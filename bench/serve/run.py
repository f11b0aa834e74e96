"""make bench-serve: fsml serve beside the reference design's stack (bench/serve/anchor: FastAPI +
uvicorn + redis-py with hiredis + LightGBM at one thread per predict), same data, same requests,
same machine, one target at a time. Each target gets the same three loads: wrk (closed loop, the
highest throughput), k6 at a constant arrival rate (open loop, what users run; dropped iterations
counted) and fsml's own open-loop generator; server and Redis CPU per request come from /proc.
fsml is measured on its Redis path with the in-process cache off (every request reads Redis, as the
anchor does) and on, and with the stream job in process. Writes artifacts/reports/serve-bench.{json,md}
and its section of bench/RESULTS.md.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
from cpu import cpu_seconds  # noqa: E402
from measure import children  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402


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


def rss_mib(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def millis(text):
    """wrk's durations: 812.00us, 3.61ms, 1.02s."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[unit]


class Costs:
    """CPU seconds of the server (with its workers) and of Redis across one load."""

    def __init__(self, server, redis):
        self.pids = (server, redis)
        self.before = [cpu_seconds(p) for p in self.pids]

    def per_request_us(self, requests):
        after = [cpu_seconds(p) for p in self.pids]
        server, redis = (1e6 * (a - b) / max(requests, 1) for a, b in zip(after, self.before))
        return round(server, 1), round(redis, 1)


def wrk(url, bodies, seconds, connections=32, threads=2):
    env = dict(os.environ, WRK_BODIES=bodies, WRK_PATH="/predict")
    out = run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(HERE / "wrk-post.lua"),
               url], capture_output=True, text=True, env=env).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses:|timeout) (\d+)", out))
    return {"requests": requests, "rps": round(requests / seconds), "p50_ms": millis(lat["50"]),
            "p90_ms": millis(lat["90"]), "p99_ms": millis(lat["99"]), "errors": errors}


def k6(url, bodies, rate, seconds, work):
    summary = work / "k6-summary.json"
    env = dict(os.environ, BENCH_BODIES=bodies, BENCH_URL=url + "/predict", BENCH_RATE=str(rate), BENCH_DURATION=f"{seconds}s",
               K6_NO_USAGE_REPORT="true")
    run([str(Path(sys.executable).parent / "k6"), "run", "--quiet", "--summary-export", str(summary),
         str(HERE / "k6-post.js")], capture_output=True, env=env)
    m = json.loads(summary.read_text())["metrics"]
    d = m["http_req_duration"]
    return {"requests": int(m["http_reqs"]["count"]), "rps": round(m["http_reqs"]["rate"]),
            "p50_ms": round(d["p(50)"], 2), "p95_ms": round(d["p(95)"], 2), "p99_ms": round(d["p(99)"], 2),
            "dropped": int(m.get("dropped_iterations", {}).get("count", 0)),
            "failed": round(m["http_req_failed"].get("value", m["http_req_failed"].get("rate", 0)), 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--work", default="data/bench/serve")
    ap.add_argument("--out", default="artifacts/reports")
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--duration", type=int, default=20, help="seconds of each load")
    ap.add_argument("--rate", type=int, default=2000, help="the open-loop rate, req/s")
    ap.add_argument("--skip-anchor", action="store_true")
    ap.add_argument("--bodies-with", help="the fsml that writes the request bodies (default --fsml; for measuring "
                    "an fsml older than `bench serve --write-requests`)")
    ap.add_argument("--section", default="serve", help="the bench/RESULTS.md section to write")
    args = ap.parse_args()
    load_before = load_average()
    fsml = str(Path(args.fsml).resolve())
    writer = str(Path(args.bodies_with).resolve()) if args.bodies_with else fsml
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
        redis = start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no"], stdout=subprocess.DEVNULL)
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
        bodies = str(work / "bodies.jsonl")
        run([writer, "bench", "serve", "--ids-from", "events.jsonl.gz", "--write-requests", bodies], capture_output=True)

        def serve(*extra):
            port = free_port()
            p = start([fsml, "serve", "--port", str(port), "--log-sample", "0", *extra], stderr=subprocess.DEVNULL)
            wait_port(port)
            return f"http://127.0.0.1:{port}", p.pid

        targets = {
            "fsml, Redis, cache off": serve("--online", redis_url, "--cache-ttl", "0"),
            "fsml, Redis, cache 500 ms": serve("--online", redis_url, "--cache-ttl", "500ms"),
            "fsml, stream in process": serve("--stream", "file:events.jsonl.gz", "--until-end", "--no-online",
                                             "--no-offline", "--name", "bench-in-process"),
        }
        if not args.skip_anchor:
            fsml_port = int(targets["fsml, Redis, cache off"][0].rsplit(":", 1)[1])
            targets["FastAPI + Redis + LightGBM"] = start_anchor(fsml, fsml_port, redis_port, trained, work, start)
        results = {}
        for name, (url, pid) in targets.items():
            log(f"{name}: warming up")
            wrk(url, bodies, 3)
            r = {}
            log(f"{name}: wrk, 32 connections, {args.duration} s")
            costs = Costs(pid, redis.pid)
            r["wrk"] = wrk(url, bodies, args.duration)
            r["wrk"]["server_cpu_us"], r["wrk"]["redis_cpu_us"] = costs.per_request_us(r["wrk"]["requests"])
            log(f"{name}: k6 at {args.rate} req/s, {args.duration} s")
            costs = Costs(pid, redis.pid)
            r["k6"] = k6(url, bodies, args.rate, args.duration, work)
            r["k6"]["server_cpu_us"], r["k6"]["redis_cpu_us"] = costs.per_request_us(r["k6"]["requests"])
            log(f"{name}: fsml bench serve at {args.rate} req/s, {args.duration} s")
            own = json.loads(run([fsml, "bench", "serve", "--url", url, "--rps", str(args.rate), "--duration",
                                  str(args.duration), "--ids-from", "events.jsonl.gz", "--name", "bench",
                                  "--out", str(work), "--format", "json"], capture_output=True, text=True).stdout)
            r["own"] = {k: own[k] for k in ("achieved_rps", "p50_ms", "p95_ms", "p99_ms")} | {
                "errors": sum(own["errors"].values())}
            r["rss_mib"] = rss_mib(pid)
            results[name] = r
        online = json.loads(run([fsml, "bench", "online", "--online", redis_url, "--ids-from", "events.jsonl.gz",
                                 "--reads", "100000", "--out", str(out), "--format", "json"],
                                capture_output=True, text=True).stdout)
        report(results, online, out, args, load_before)
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
    # uvicorn answers before both workers have loaded the model: wait for two live workers.
    while len(children(p.pid)) < 2:
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}", p.pid


def report(results, online, out, args, load_before):
    anchor = results.get("FastAPI + Redis + LightGBM")
    summary = {"events": args.events, "duration_seconds": args.duration, "rate": args.rate, "online_read": online,
               "targets": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve-bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    rows = []
    for name, r in results.items():
        w, k, o = r["wrk"], r["k6"], r["own"]
        vs = ""
        if anchor and r is not anchor:
            vs = f"{w['rps'] / anchor['wrk']['rps']:.1f}× req/s, {anchor['wrk']['server_cpu_us'] / w['server_cpu_us']:.1f}× less CPU"
        rows.append([name, f"{w['rps']:,}", w["server_cpu_us"], w["redis_cpu_us"], w["p99_ms"],
                     k["p95_ms"], k["p99_ms"], k["dropped"], k["server_cpu_us"], o["p99_ms"], r["rss_mib"], vs])
    md = [f"{args.events:,} generated events; POST /predict with the same request bodies for every target, one target "
          "at a time; all processes on the same cores. wrk: 2 threads, 32 connections, closed loop. k6 and fsml's "
          f"generator: {args.rate:,} req/s open loop for {args.duration} s. CPU per request is the server's (with its "
          "workers) and Redis's user + system time over the load divided by the requests answered. The anchor (async "
          "FastAPI, redis.asyncio, LightGBM at one thread per predict, 2 uvicorn workers) reads the user, product and "
          "session values; fsml also reads the user×product pair and computes the request-time price features.", ""]
    md += table(["target", "wrk req/s", "server CPU µs/req", "Redis CPU µs/req", "wrk p99 ms",
                 f"k6 p95 ms", "k6 p99 ms", "k6 dropped", "server CPU µs/req at k6 rate", "fsml-gen p99 ms",
                 "RSS MiB", "vs the anchor"], rows)
    md += ["", f"Online read alone (every served entity, one round trip): Redis p50 {online['store_p50_us']:.0f} µs, "
           f"p99 {online['store_p99_us']:.0f} µs; in process p50 {online['memory_p50_us']:.2f} µs."]
    (out / "serve-bench.md").write_text("\n".join(md) + "\n")
    write_section(args.section, "Serving: fsml serve beside FastAPI + Redis + LightGBM", command_line("bench-serve"), md,
                  load_before)
    print("\n".join(md))


if __name__ == "__main__":
    main()
