"""docs/benchmarks.md as the benchmark scripts write it: each owns one
`## ` section, replaced in place (or appended) on every run."""
import datetime
import os

HEADER = ("# Benchmarks\n\nFigures measured on this project's machines; each section "
          "says how to re-run it.\n")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine():
    """Where and when: "CPU model, N cores, YYYY-MM-DD" (the UTC date)."""
    return "%s, %d cores, %s" % (cpu_model(), os.cpu_count(),
                                 datetime.datetime.utcnow().strftime("%Y-%m-%d"))


def write_section(path, text):
    """Put `text` in the markdown file `path` as the section named by its
    first line (a `## ` heading): in place of the section of that heading
    (up to the next `## ` line), else at the end. A missing file starts
    with HEADER."""
    heading = text.split("\n", 1)[0].strip()
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = HEADER
    lines = doc.split("\n")
    start = next((i for i, l in enumerate(lines) if l.strip() == heading), None)
    if start is None:
        new = doc.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        before = "\n".join(lines[:start]).rstrip("\n")
        after = "\n".join(lines[end:]).strip("\n")
        new = before + "\n\n" + text.rstrip("\n") + "\n" + ("\n" + after + "\n" if after else "")
    with open(path, "w") as f:
        f.write(new)
