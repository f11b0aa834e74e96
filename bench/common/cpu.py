"""CPU seconds a process tree has used, from /proc: what a server spent per request or per event,
which load on the machine does not inflate the way it inflates latency."""
import os

TICK = os.sysconf("SC_CLK_TCK")


def descendants(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        return out
    return out + [d for c in out for d in descendants(c)]


def cpu_seconds(pid):
    """User + system seconds of `pid` and its live descendants (uvicorn's workers)."""
    total = 0.0
    for p in [pid] + descendants(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return total
