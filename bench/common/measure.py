"""Runs a benchmark command in its own process and measures its wall time and peak RSS.

Linux carries a process's peak-RSS mark across fork and exec, so a command forked straight from a
benchmark driver that holds a lot of memory would be charged with the driver's memory. Each command
is therefore started by a small launcher (this file run with --launch), forked before the driver
grows; the launcher's own few MB are all a command can inherit."""
import os
import subprocess
import sys
import tempfile
import time


def measured(cmd, cwd=None, limit=None, rss_cap_mb=None):
    """Returns (stdout, wall seconds, peak RSS MB, stop reason); `measured_cpu` also gives CPU seconds."""
    out, wall, peak, reason, _ = measured_cpu(cmd, cwd, limit, rss_cap_mb)
    return out, wall, peak, reason


def measured_cpu(cmd, cwd=None, limit=None, rss_cap_mb=None):
    """Returns (stdout, wall seconds, peak RSS MB, stop reason, user + system CPU seconds). The run is stopped when it takes
    longer than `limit` seconds or its resident memory passes `rss_cap_mb` (so that a peer that would
    exhaust the machine is stopped before the kernel's OOM killer picks a victim); then stdout is None
    and the reason says which. Any other failure ends the benchmark with the command's stderr."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rss:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--launch", rss.name, "--", *cmd],
                                stdout=out, stderr=err, cwd=cwd)
        reason = None
        polled = 0.0
        while proc.poll() is None:
            resident = tree_resident_mb(proc.pid)
            polled = max(polled, resident)
            if limit and time.perf_counter() - start > limit:
                reason = f"stopped after {limit} s"
            elif rss_cap_mb and resident > rss_cap_mb:
                reason = f"stopped at {rss_cap_mb / 1024:.0f} GB resident"
            if reason:
                kill_tree(proc.pid)
                proc.wait()
                break
            time.sleep(0.1)
        wall = time.perf_counter() - start
        fields = open(rss.name).read().split()
        # A stopped command leaves no measurement: the highest resident size seen stands in. A
        # command that starts helpers (Spark's JVM) is charged with their sampled sum when larger.
        peak = max(float(fields[0]) / 1024 if fields else 0, polled)
        cpu = float(fields[1]) if len(fields) > 1 else None
        out.seek(0)
        err.seek(0)
        if reason:
            return None, wall, peak, reason, cpu
        if proc.returncode != 0:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode()[-3000:]}")
        return out.read().decode(), wall, peak, None, cpu


def children(pid):
    """Every descendant (a Python driver's JVM is a grandchild of the launcher)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        return out
    return out + [d for c in out for d in children(c)]


def tree_resident_mb(pid):
    """Resident MB of a launcher's descendants (the launcher itself left out)."""
    total = 0.0
    for p in children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def kill_tree(pid):
    for p in children(pid) + [pid]:
        try:
            os.kill(p, 9)
        except OSError:
            pass


def launch(rss_path, cmd):
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    with open(rss_path, "w") as f:
        f.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[1] == "--launch":
    launch(sys.argv[2], sys.argv[sys.argv.index("--") + 1:])
