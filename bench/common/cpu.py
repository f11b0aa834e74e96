"""CPU seconds a process tree has used, from /proc: what a server spent per request or per event,
which load on the machine does not inflate the way it inflates latency."""
import os

from measure import children

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system seconds of `pid` and its live descendants (uvicorn's workers)."""
    total = 0.0
    for p in [pid] + children(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return total
