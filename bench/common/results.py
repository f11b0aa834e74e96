"""bench/RESULTS.md: one section per benchmark, each rewritten by its own run (the others kept),
with the machine it ran on, the load average around it and the command that reproduces it.
Ratios against peers measured in the same run carry the claims; absolute times only describe."""
import os
import platform
import re
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
HEADER = """# fsml benchmark results

Each section is written by its benchmark (`make bench-NAME`) and lists fsml beside every peer
measured in the same run, on the same machine. Trust the ratios; absolute figures move with the
machine and whatever else it was doing (the load average says how busy it was).
"""


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def load_average():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def fsml_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=RESULTS.parent).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def table(header, rows):
    """A Markdown table; numbers right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def command_line(target):
    """The make target, with the arguments this run was given beyond the target's own."""
    import sys
    return f"make {target}" + (f" (run.py {' '.join(sys.argv[1:])})" if len(sys.argv) > 1 else "")


def write_section(name, title, command, body_lines, load_before):
    """Replaces (or appends) the section `name` of bench/RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = [f"<!-- bench:{name} -->", f"## {title}", "",
               f"Run {stamp} at fsml {fsml_commit()} on {machine()}; load average {load_before} before, "
               f"{load_average()} after. Reproduce: `{command}`.", "", *body_lines, f"<!-- /bench:{name} -->"]
    block = "\n".join(section)
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
