"""Consumer-group scaling of `fsml stream --shards`: 1, 2 and 3 members of one group read the same
topic of 96 partitions (librdkafka's mock cluster, in an `fsml kafka mock` process) to its end.
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


# librdkafka's mock cluster keeps at most 5 MB per partition and deletes older messages: 192
# partitions hold two million events of about 280 bytes with room to spare.
PARTITIONS = 192
# Shards on tmpfs: every shard write is an fsync, about 12 ms on this machine's disk, which with 96
# partitions would measure the disk. On real shared storage, size partitions × checkpoint interval
# for it (docs/scaling.md).
SHARDS = Path("/dev/shm/fsml-bench-stream-group")


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
    return done


def start_mock(fsml, work):
    out = open(work / "mock.out", "w")
    mock = subprocess.Popen([fsml, "kafka", "mock", "--topic", f"clicks:{PARTITIONS}"], stdout=out,
                            stderr=subprocess.DEVNULL)
    while True:  # waits for the line the mock prints once it listens
        text = (work / "mock.out").read_text()
        if "BOOTSTRAP=" in text:
            return mock, text.split("BOOTSTRAP=")[1].split()[0]
        if mock.poll() is not None:
            sys.exit("fsml kafka mock exited")
        time.sleep(0.05)


def shard_offsets(shards):
    """The next offsets the group's shards record, together (reads the shard headers only)."""
    total = 0
    topic = shards / "clicks"
    if not topic.is_dir():
        return 0
    for f in topic.glob("partition-*.checkpoint"):
        try:
            data = f.read_bytes()
            n = int.from_bytes(data[8:12], "little")
            total += json.loads(data[12:12 + n])["position"]["offset"]
        except (OSError, ValueError, KeyError):
            pass  # being replaced: read again next time
    return total


def members(fsml, work, bootstrap, count, events, extra, staggered):
    """A fresh group whose members stop at the end of the topic. Together: all start at once and
    join the group's first generation. Staggered: one starts, and once the shards show it has
    folded a twentieth of the topic the others join, taking partitions over from it while it is
    busy. Returns their reports."""
    group = f"bench-{count}-{'staggered' if staggered else 'together'}"
    shards = SHARDS / group
    shutil.rmtree(shards, ignore_errors=True)
    procs = []

    def start(i):
        cmd = [fsml, "stream", "--source", f"kafka://{bootstrap}/clicks?group={group}", "--shards", str(shards),
               "--entities", "user,session", "--name", f"m{count}-{i}", "--until-end", "--format", "json",
               "--checkpoint-interval", "1s", "--config", str(work / "fsml.yaml"), *extra]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(work / f"m{count}-{i}.err", "w"),
                                      text=True))

    start(0)
    while staggered and shard_offsets(shards) < events // 20:
        if procs[0].poll() is not None:
            break
        time.sleep(0.02)
    for i in range(1, count):
        start(i)
    reports = []
    for p in procs:
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"member exited {status}; see {work}")
        report = json.loads(out)
        report["cpu"] = usage.ru_utime + usage.ru_stime
        reports.append(report)
    return reports


def cpu_seconds(pid):
    """User + system CPU seconds of a running process (the mock broker)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    ap.add_argument("--events", type=int, default=2_000_000)
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
    with open(events, "rb") as f:
        produced = sum(1 for _ in f)
    mock, bootstrap = start_mock(fsml, work)
    try:
        run([fsml, "produce", "--from", f"file:{events}", "--to", f"kafka://{bootstrap}/clicks", "--config",
             str(work / "fsml.yaml")])
        extra = ["--no-offline"] + (["--online", args.online] if args.online else ["--no-online"])
        rows, pause_rows, raw = [], [], {}
        for count, staggered in ((1, False), (2, False), (3, False), (3, True)):
            broker_before = cpu_seconds(mock.pid)
            reports = members(fsml, work, bootstrap, count, args.events, extra, staggered)
            broker = cpu_seconds(mock.pid) - broker_before
            folded = [r for r in reports if r["first_line_at_us"] is not None]
            span = (max(r["last_line_at_us"] for r in folded) - min(r["first_line_at_us"] for r in folded)) / 1e6
            lines = sum(r["lines"] for r in reports)
            topic = max(r["group"]["lines"] for r in reports)
            if topic != produced or any(r["skipped_messages"] for r in reports):
                sys.exit(f"{count} member(s) folded {topic:,} of {produced:,} lines; see {work}")
            cpu = sum(r["cpu"] for r in reports)
            per_member = [r["lines"] / max(1e-9, (r["last_line_at_us"] - r["first_line_at_us"]) / 1e6)
                          for r in folded]
            how = "staggered" if staggered else "together"
            rows.append([count, how, f"{topic:,}", f"{lines:,}", f"{topic / span:,.0f}",
                         " / ".join(f"{x:,.0f}" for x in per_member), f"{cpu / max(1, lines) * 1e6:.2f}",
                         f"{cpu:.1f}", f"{broker:.1f}", f"{span:.1f}",
                         sum(r["partitions_lost"] for r in reports)])
            moved = pauses(reports)
            if moved:
                pause_rows.append([count, how, len(moved), f"{statistics.median(moved):.0f}", f"{max(moved):.0f}",
                                   f"{max(r['hand_over_seconds'] for r in reports) * 1000:.0f}",
                                   f"{max(r['restore_seconds'] for r in reports) * 1000:.0f}",
                                   f"{max(r['max_first_event_seconds'] for r in reports) * 1000:.0f}"])
            raw[f"{count}-{how}"] = reports
            print(f"{count} member(s), {how}: {topic / span:,.0f} events/s over {span:.1f} s", file=sys.stderr)
        (work / "reports.json").write_text(json.dumps(raw, indent=1))
    finally:
        shutil.rmtree(SHARDS, ignore_errors=True)
        mock.terminate()
        mock.wait()
    body = [
        f"{args.events:,} generated events (50,000 users) in a topic of {PARTITIONS} partitions keyed by user (the "
        f"mock cluster keeps 5 MB per partition), on librdkafka's "
        f"mock cluster (`fsml kafka mock`, one more process on the same cores). Each run is a fresh group whose "
        f"members stop at the end of the topic (`--until-end`). Together: all start at once and join the "
        f"group's first generation. Staggered: one starts, and once its shards show a twentieth of the topic "
        f"folded the others join and take partitions over from it while it is busy. Members fold "
        f"user and session state, {'online store ' + args.online if args.online else 'no online store'}, no "
        "offline store, shards every second on tmpfs (a shard write is an fsync, ~12 ms on this disk). Group events/s is the topic over the span from the first line "
        "folded to the last (group joins excluded); member events/s is each member's lines over its own span. "
        "Lines read counts lines read again after a hand-over; CPU is user + system of the member processes "
        "over the lines they read.", "",
        *results.table(["members", "start", "events", "lines read", "group events/s", "member events/s",
                        "CPU µs/line", "members CPU s", "broker CPU s", "span s", "partitions lost"], rows), "",
        "Pause of a moved partition: from its old owner's revocation (shard written) or loss to its new owner "
        "folding its next event, which includes the group protocol's rebalance round; hand-over and restore are the "
        "longest time one member spent writing revoked shards and reading assigned ones, and the last "
        "column the longest wait from an assignment to that partition's first event (the fetch). The rest of "
        "the pause is the group protocol: the revocation round and the assignment round of a cooperative "
        "rebalance, as librdkafka's mock coordinator runs them, waiting the session timeout minus one second "
        "(5 s) per join round unless every known member has rejoined (rd_kafka_mock_cgrp_rebalance in "
        "rdkafka_mock_cgrp.c); a real broker ends a round once its members have rejoined.", "",
        *(results.table(["members", "start", "partitions moved", "pause p50 ms", "pause max ms", "hand-over ms",
                         "restore ms", "assigned → first event ms"], pause_rows) if pause_rows else ["(no partition moved in these runs)"]), "",
        "The machine has 2 cores, and librdkafka's mock broker (one thread, one process) serves every fetch: "
        "compare its CPU seconds with the span to see whether it, not the members, set the pace. CPU per line "
        "of the members is what splitting costs or saves. Partitions lost are partitions taken from a member "
        "without a revocation (before members stopped committing offsets, a commit that met a "
        "rebalance lost a busy member all its partitions each time another joined); they are restored from "
        "their shards like any other. Every run's counts equal the topic's lines (the script checks).", "",
    ]
    results.write_section("stream-group", "Streaming: a consumer group of 1, 2 and 3 members",
                          results.command_line("bench-stream-group"), body, load_before)


if __name__ == "__main__":
    main()
