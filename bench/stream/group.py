"""Consumer-group scaling of `fsml stream --shards`: 1, 2 and 3 members of one group read the same
topic of 8 partitions (librdkafka's mock cluster, in an `fsml kafka mock` process) to its end.
Reports events/s per member and in total, CPU per event, and the pause a moved partition saw
(from its old owner writing its shard to its new owner folding its next event).

Standard library only. Writes the "stream-group" section of bench/RESULTS.md."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
import results  # noqa: E402


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
    return done


def start_mock(fsml, work):
    out = open(work / "mock.out", "w")
    mock = subprocess.Popen([fsml, "kafka", "mock", "--topic", "clicks:8"], stdout=out,
                            stderr=subprocess.DEVNULL)
    while True:  # waits for the line the mock prints once it listens
        text = (work / "mock.out").read_text()
        if "BOOTSTRAP=" in text:
            return mock, text.split("BOOTSTRAP=")[1].split()[0]
        if mock.poll() is not None:
            sys.exit("fsml kafka mock exited")
        time.sleep(0.05)


def members(fsml, work, bootstrap, count, extra):
    """Starts `count` members of a fresh group at once; waits for all; returns their reports."""
    group = f"bench-{count}"
    shards = work / f"shards-{count}"
    shutil.rmtree(shards, ignore_errors=True)
    procs = []
    begin = time.monotonic()
    for i in range(count):
        cmd = [fsml, "stream", "--source", f"kafka://{bootstrap}/clicks?group={group}", "--shards", str(shards),
               "--entities", "user,session", "--name", f"m{count}-{i}", "--until-end", "--format", "json",
               "--config", str(work / "fsml.yaml"), *extra]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(work / f"m{count}-{i}.err", "w"),
                                      text=True))
    reports = []
    for p in procs:
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"member exited {p.returncode}; see {work}")
        report = json.loads(out)
        report["cpu"] = usage.ru_utime + usage.ru_stime
        reports.append(report)
    wall = time.monotonic() - begin
    return reports, wall


def pauses(reports):
    """Per moved partition: its old owner's hand-over to its new owner's first event, in ms."""
    handed = {}
    for r in reports:
        for p, at in r["handed_over"]:
            handed.setdefault(p, []).append(at)
    out = []
    for r in reports:
        for p, at in r["first_events"]:
            earlier = [h for h in handed.get(p, []) if h <= at]
            if earlier:
                out.append((at - max(earlier)) / 1000)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", default=".build/release/fsml")
    ap.add_argument("--work", default="data/bench/stream-group")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--online", default=None, help="redis://... (default: no online store)")
    args = ap.parse_args()
    load_before = results.load_average()
    fsml = str(Path(args.fsml).resolve())
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "fsml.yaml").exists():
        run([fsml, "init"], cwd=work)
    events = work / f"events-{args.events}.jsonl"
    if not events.exists():
        run([fsml, "generate", "events", "--events", str(args.events), "--users", "50000", "--products", "2000",
             "--days", "3", "--seed", "7", "--out", str(events)], cwd=work)
    mock, bootstrap = start_mock(fsml, work)
    try:
        run([fsml, "produce", "--from", f"file:{events}", "--to", f"kafka://{bootstrap}/clicks", "--config",
             str(work / "fsml.yaml")])
        extra = ["--no-offline"] + (["--online", args.online] if args.online else ["--no-online"])
        rows, pause_rows, raw = [], [], {}
        for count in (1, 2, 3):
            reports, wall = members(fsml, work, bootstrap, count, extra)
            lines = sum(r["lines"] for r in reports)
            groups = reports[0]["group"]
            cpu = sum(r["cpu"] for r in reports)
            per_member = [r["lines_per_second"] for r in reports]
            rows.append([count, f"{groups['lines']:,}", f"{lines:,}", f"{groups['lines'] / wall:,.0f}",
                         " / ".join(f"{x:,.0f}" for x in per_member), f"{cpu / max(1, lines) * 1e6:.2f}",
                         f"{wall:.1f}"])
            moved = pauses(reports)
            if moved:
                pause_rows.append([count, len(moved), f"{statistics.median(moved):.0f}", f"{max(moved):.0f}",
                                   f"{max(r['hand_over_seconds'] for r in reports) * 1000:.0f}",
                                   f"{max(r['restore_seconds'] for r in reports) * 1000:.0f}"])
            raw[count] = reports
            print(f"{count} member(s): {groups['lines'] / wall:,.0f} events/s over {wall:.1f} s", file=sys.stderr)
        (work / "reports.json").write_text(json.dumps(raw, indent=1))
    finally:
        mock.terminate()
        mock.wait()
    body = [
        f"{args.events:,} generated events (50,000 users) in a topic of 8 partitions keyed by user, on librdkafka's "
        f"mock cluster (`fsml kafka mock`, one more process on the same cores); each run a fresh group whose "
        f"members start together and stop at the end of the topic (`--until-end`), folding user and session "
        f"state, {'online store ' + args.online if args.online else 'no online store'}, no offline store; shards "
        "every 5 s. Group events/s is the topic over the wall time from the first start to the last exit; member "
        "events/s is each member's own lines over its own run (a member that joined late or left early ran "
        "shorter). Lines read counts lines read again after a hand-over.", "",
        *results.table(["members", "events", "lines read", "group events/s", "member events/s",
                        "CPU µs/event", "wall s"], rows), "",
        "Pause of a moved partition: from its old owner's revocation (shard written) to its new owner folding "
        "its next event, which includes the group protocol's rebalance round; hand-over and restore are the "
        "longest time one member spent writing revoked shards and reading assigned ones.", "",
        *(results.table(["members", "partitions moved", "pause p50 ms", "pause max ms", "hand-over ms",
                         "restore ms"], pause_rows) if pause_rows else ["(no partition moved in these runs)"]), "",
        "The machine has 2 cores: with the mock broker in a third process, more members share the same two "
        "cores, so the total grows little past 2; the point is that it does not drop, and that CPU per event "
        "stays flat (no work is added by splitting).", "",
    ]
    results.write_section("stream-group", "Streaming: a consumer group of 1, 2 and 3 members",
                          results.command_line("bench-stream-group"), body, load_before)


if __name__ == "__main__":
    main()
