#!/usr/bin/env python3
"""Run one SIPp scenario pair through sbcd (or directly UAC -> UAS) and judge it.

    python3 sipp-scenarios/run.py --sbcd build/sbc/sbcd --scenario basic \
        --calls 1000 --rate 200 [--hold-ms 0] [--transport udp|tcp] \
        [--track-counts] [--expect-clean-log] [--workdir DIR] [--keep]

Layout of a run: the UAS (<name>_uas.xml) listens on a free port, sbcd is
started with a generated config whose dial-peer points at the UAS, and the UAC
(<name>_uac.xml) calls sbcd. With --direct sbcd is skipped and the UAC calls
the UAS itself (checks the scenarios, and gives the harness's own ceiling).

Exit status 0 only when every check passed; see docs/sipp-scenarios.md.
Python 3 standard library only.
"""

import argparse
import bisect
import threading
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
# Also the names of this module for its users (tests/bench/compare.py).
from harness import (LOCAL_IP, READY_MARK, Child, PortPicker, RunError, head,  # noqa: E402,F401
                     port_in_use, tail)

COUNTS_RE = re.compile(r"%SBC-6-COUNTS:\s*(.*)$")
ERROR_LINE_RE = re.compile(r"%[A-Za-z0-9_]+-3-[A-Za-z0-9_]+")
PEAK_RE = re.compile(r"Peak was (\d+) calls")
RSS_FLAT = 0.05  # --rss-check: allowed RSS growth after the warm-up

# Scenario -> extra duration of one call beyond --hold-ms (ms), used only for
# default timeouts and the default -l limit.
EXTRA_MS = {"cancel": 1000, "reinvite": 1000, "reinvite_uas": 1000,
            "early_media": 500}


# --------------------------------------------------------------------- helpers

def log(msg):
    print("[run.py] " + msg, flush=True)


class LogWatcher:
    """Incremental reader of sbcd's log file."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.lines = []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        self.offset += len(data)
        data = self.partial + data
        parts = data.split(b"\n")
        self.partial = parts.pop()
        self.lines.extend(p.decode("utf-8", "replace") for p in parts)

    def find(self, needle):
        return any(needle in l for l in self.lines)

    def counts(self):
        out = []
        for line in self.lines:
            m = COUNTS_RE.search(line)
            if not m:
                continue
            d = {}
            for tok in m.group(1).split():
                k, sep, v = tok.partition("=")
                if sep:
                    try:
                        d[k] = int(v)
                    except ValueError:
                        pass
            if "wall_ms" in d and "AGGREGATE" in d:
                out.append(d)
        return out


# ------------------------------------------------------------- SIPp statistics

def read_stat_csv(path):
    """Rows of a SIPp -trace_stat file as dicts, with 't' = CurrentTime epoch."""
    try:
        with open(path, "r", errors="replace") as f:
            lines = [l.rstrip("\r\n") for l in f if l.strip()]
    except OSError:
        return []
    if not lines:
        return []
    cols = lines[0].split(";")
    rows = []
    for line in lines[1:]:
        vals = line.split(";")
        if len(vals) < len(cols) - 1:
            continue
        row = dict(zip(cols, vals))
        try:
            row["t"] = float(row["CurrentTime"].split("\t")[-1])
        except (KeyError, ValueError):
            continue
        rows.append(row)
    return rows


class Teardown:
    """Calls in teardown at the UAC over time, from its -trace_counts file:
    BYEs sent whose 200 had not arrived (nor timed out) when the row was
    written. The UAC counts such a call as current until that 200, sbcd
    stops counting it when the BYE reaches it (a call counts until it is torn down); a
    stalled UAS piles them up (310 in 110 ms at 2,800 calls/s). None known
    (0) when the scenario has no BYE followed by a 200.

    Also the calls in setup there: INVITEs sent that no answer has ended
    yet. The UAC counts such a call from the moment it sends the INVITE,
    sbcd from the moment it takes the INVITE off its socket: while sbcd is
    behind (a CPU stolen from the machine for 100 ms at 1,000 calls/s), the
    INVITEs waiting in its receive buffer are current at SIPp and not yet
    at sbcd."""

    def __init__(self, path=None, interval_s=0.05):
        self.times, self.counts, self.setup = [], [], []
        self.interval_s = interval_s
        self.found = path is not None and os.path.exists(path)
        rows = read_stat_csv(path) if self.found else []
        if not rows:
            return
        sent = next((c for c in rows[0] if c.endswith("_BYE_Sent")), None)
        if sent is None:
            return
        idx = int(sent.split("_")[0])
        ok = "%d_200_Recv" % (idx + 1)
        if ok not in rows[0]:
            return
        # Ended another way: the BYE or its 200 timed out, or an answer
        # other than 200 came (the call aborted, no longer current there).
        gone = ("%d_BYE_Timeout" % idx, "%d_200_Timeout" % (idx + 1),
                "%d_200_Unexp" % (idx + 1))
        # Setup: the first INVITE sent, ended by the first 200 received
        # after it or by any timeout or unexpected message before the BYE.
        cols = [c for c in rows[0] if c[:1].isdigit()]
        inv = next((c for c in cols if c.endswith("_INVITE_Sent")), None)
        inv_i = int(inv.split("_")[0]) if inv else -1
        answered = next((c for c in cols if c.endswith("_200_Recv")
                         and inv_i < int(c.split("_")[0]) < idx), None)
        aborted = [c for c in cols if c.endswith(("_Timeout", "_Unexp"))
                   and inv_i <= int(c.split("_")[0]) < idx]
        for r in sorted(rows, key=lambda r: r["t"]):
            n = stat_int(r, sent) - stat_int(r, ok) - sum(stat_int(r, c) for c in gone)
            self.times.append(r["t"])
            self.counts.append(max(0, n))
            m = 0
            if inv and answered:
                m = (stat_int(r, inv) - stat_int(r, answered)
                     - sum(stat_int(r, c) for c in aborted))
            self.setup.append(max(0, m))

    def within(self, t0, t1):
        """The most calls in teardown in the rows from t0 to t1, widened by
        one statistics interval each way."""
        i = bisect.bisect_left(self.times, t0 - self.interval_s)
        j = bisect.bisect_right(self.times, t1 + self.interval_s)
        return max(self.counts[i:j], default=0)

    def setup_within(self, t0, t1):
        """The most calls in setup in the rows from t0 to t1, widened alike."""
        i = bisect.bisect_left(self.times, t0 - self.interval_s)
        j = bisect.bisect_right(self.times, t1 + self.interval_s)
        return max(self.setup[i:j], default=0)


def stat_int(row, col):
    try:
        return int(row.get(col, "0") or 0)
    except ValueError:
        return 0


def read_screen_counts(path):
    """(successful, failed, peak) from a SIPp -trace_screen file (last values)."""
    try:
        with open(path, "r", errors="replace") as f:
            text = f.read()
    except OSError:
        return None, None, None
    succ = fail = peak = None
    for line in text.splitlines():
        m = re.match(r"\s*(Successful call|Failed call)\s*\|[^|]*\|\s*(\d+)", line)
        if m:
            if m.group(1).startswith("Successful"):
                succ = int(m.group(2))
            else:
                fail = int(m.group(2))
        m = PEAK_RE.search(line)
        if m:
            peak = int(m.group(1))
    return succ, fail, peak


class SippResult:
    def __init__(self, role, stat_path, screen_path, counts_path=None, interval_s=0.05):
        self.role = role
        self.rows = read_stat_csv(stat_path)
        self.teardown = Teardown(counts_path, interval_s)
        last = self.rows[-1] if self.rows else {}
        self.successful = stat_int(last, "SuccessfulCall(C)") if last else None
        self.failed = stat_int(last, "FailedCall(C)") if last else None
        self.created = stat_int(last, "TotalCallCreated") if last else None
        s_succ, s_fail, self.peak = read_screen_counts(screen_path)
        # The screen is written at exit; prefer it when the CSV lacks a final row.
        if self.successful is None or (s_succ is not None and s_succ > self.successful):
            self.successful = s_succ
        if self.failed is None or (s_fail is not None and s_fail > self.failed):
            self.failed = s_fail
        self.failure_counts = {}
        for col, val in last.items():
            if col.startswith("Failed") and col.endswith("(C)") and col != "FailedCall(C)":
                n = stat_int(last, col)
                if n:
                    self.failure_counts[col[:-3]] = n
        self.max_current = max((stat_int(r, "CurrentCall") for r in self.rows), default=None)

    def describe(self):
        s = "%s: successful=%s failed=%s" % (self.role, self.successful, self.failed)
        if self.failure_counts:
            s += " (" + ", ".join("%s=%d" % kv for kv in sorted(self.failure_counts.items())) + ")"
        return s


def bracket_index(rows, t):
    """Index of the first of the two stat rows around epoch t (rows sorted by time)."""
    lo, hi = 0, len(rows) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rows[mid]["t"] <= t:
            lo = mid
        else:
            hi = mid
    return lo


def bracket(rows, t):
    """The two stat rows around epoch t (rows sorted by time)."""
    i = bracket_index(rows, t)
    return rows[i], rows[min(i + 1, len(rows) - 1)]


def interpolate(rows, t):
    """SIPp CurrentCall at epoch t, linear between the stat rows around t."""
    a, b = bracket(rows, t)
    ca, cb = stat_int(a, "CurrentCall"), stat_int(b, "CurrentCall")
    if b["t"] <= a["t"]:
        return float(cb)
    return ca + (cb - ca) * (t - a["t"]) / (b["t"] - a["t"])


def slope(rows, t):
    """|d CurrentCall / dt| (calls/s) around t: the steepest of the interval
    holding t and its two neighbours. SIPp writes a late row when it is busy
    or finishing (a 136 ms gap at the end of a 2,800 calls/s drain), and a
    straight line over such a gap understates how fast the count moved."""
    i = bracket_index(rows, t)
    best = 0.0
    for j in (i - 1, i, i + 1):
        if j < 0 or j + 1 >= len(rows):
            continue
        a, b = rows[j], rows[j + 1]
        if b["t"] > a["t"]:
            best = max(best, abs(stat_int(b, "CurrentCall") - stat_int(a, "CurrentCall"))
                       / (b["t"] - a["t"]))
    return best


# How far apart the clocks of sbcd's samples and SIPp's statistics rows
# may be (each stamps when it samples; the processes wake up on their own).
SAMPLE_SKEW_S = 0.02
# The same for a COUNTS line (--track-counts): on a 2-core virtual machine,
# sbcd and two SIPps sharing the cores, 34 ms was measured during a drain
# at about 3,000 calls/s (sbcd 2,444 vs SIPp 2,340.6, every call of the run
# successful). It only widens the check while the count moves; a steady
# count keeps the 1% tolerance.
COUNTS_SKEW_S = 0.05


def compare_counts(samples, drained, uac, problems, report):
    """--track-counts: sbcd's COUNTS lines against the UAC's statistics."""
    rows = sorted(uac.rows, key=lambda r: r["t"])
    if len(rows) < 2:
        problems.append("track-counts: the UAC statistics file has fewer than 2 rows")
        return
    t0, t1 = rows[0]["t"], rows[-1]["t"]
    gaps = sorted(y["t"] - x["t"] for x, y in zip(rows, rows[1:]))
    interval = gaps[len(gaps) // 2]  # SIPp's -fd
    compared = 0
    max_dev = 0.0
    worst = None
    bad = 0
    for s in samples:
        t = s["wall_ms"] / 1000.0
        if not (t0 <= t <= t1):
            continue
        sipp = interpolate(rows, t)
        # While calls ramp or drain at R calls/s, a few ms of skew between
        # the two samples is worth R * skew calls.
        tol = max(5.0, 0.01 * sipp) + slope(rows, t) * COUNTS_SKEW_S
        # Calls in teardown at the UAC are still current there, no longer
        # counted by sbcd, and calls in setup there may not have reached
        # sbcd yet: the count may sit that far below SIPp's, never above.
        a, b = bracket(rows, t)
        down = (uac.teardown.within(a["t"], b["t"])
                + uac.teardown.setup_within(a["t"], b["t"]))
        dev = s["AGGREGATE"] - sipp
        if b["t"] - a["t"] > 1.5 * interval:
            # A late row (SIPp busy or finishing): the count moved at its
            # own pace in between, anywhere between the two rows' values.
            ca, cb = stat_int(a, "CurrentCall"), stat_int(b, "CurrentCall")
            lo, hi = min(ca, cb), max(ca, cb)
            got = s["AGGREGATE"]
            dev = got - lo if got < lo else (got - hi if got > hi else 0.0)
        if -down <= dev < 0:
            dev = 0.0
        elif dev < 0:
            dev += down
        compared += 1
        if abs(dev) > max_dev:
            max_dev = abs(dev)
            worst = (s["wall_ms"], s["AGGREGATE"], sipp)
        if abs(dev) > tol:
            bad += 1
            if bad <= 5:
                problems.append(
                    "track-counts: at wall_ms=%d sbcd AGGREGATE=%d but SIPp CurrentCall=%.1f, "
                    "%d in teardown or setup (|dev| %.1f > %.1f)"
                    % (s["wall_ms"], s["AGGREGATE"], sipp, down, abs(dev), tol))
    if bad > 5:
        problems.append("track-counts: %d more samples out of tolerance" % (bad - 5))
    if compared == 0:
        problems.append("track-counts: no COUNTS line fell inside the UAC statistics time range")
    line = ("track-counts: %d samples compared, max |AGGREGATE - SIPp| = %.1f "
            "(beyond the UAC's calls in teardown or setup)" % (compared, max_dev))
    if worst:
        line += " (wall_ms=%d: sbcd %d, SIPp %.1f)" % worst
    report.append(line)

    # Peak: SIPp's "Peak was N calls" (from the final screen), else max CurrentCall.
    sipp_peak, src = uac.peak, "screen 'Peak was N calls'"
    if sipp_peak is None:
        sipp_peak, src = uac.max_current, "max CurrentCall of the stat file"
    sbc_peak = max((s.get("max_second_peak", -1) for s in samples + drained), default=-1)
    if sbc_peak < 0:
        problems.append("track-counts: no max_second_peak in the COUNTS lines")
    elif sipp_peak is None:
        problems.append("track-counts: SIPp's peak of concurrent calls is unknown")
    else:
        tol = max(5.0, 0.01 * sipp_peak)
        # SIPp's peak may include calls in teardown at that moment (a UAS
        # slow to answer BYEs), which sbcd no longer counts.
        top = max(rows, key=lambda r: stat_int(r, "CurrentCall"))
        down = uac.teardown.within(top["t"], top["t"])
        lo = max(0, sipp_peak - down)
        report.append("track-counts: peak sbcd max_second_peak=%d, SIPp peak=%d (%s, %d in teardown "
                      "then), tolerance %.0f" % (sbc_peak, sipp_peak, src, down, tol))
        dev = lo - sbc_peak if sbc_peak < lo else max(0, sbc_peak - sipp_peak)
        if dev > tol:
            problems.append("track-counts: max_second_peak %d is outside SIPp's peak %d..%d by more than %.0f"
                            % (sbc_peak, lo, sipp_peak, tol))
    if not drained:
        problems.append("track-counts: no COUNTS line after the calls drained")
    else:
        last = drained[-1]
        report.append("track-counts: after drain AGGREGATE=%d (%d sample%s)"
                      % (last["AGGREGATE"], len(drained), "" if len(drained) == 1 else "s"))
        if last["AGGREGATE"] != 0:
            problems.append("track-counts: AGGREGATE=%d after all calls ended (want 0): %s"
                            % (last["AGGREGATE"], " ".join("%s=%s" % kv for kv in sorted(last.items()))))


def compare_rss(samples, a, problems, report):
    """--rss-check: after the warm-up, while new calls keep coming at the
    same rate, sbcd's RSS must stay within RSS_FLAT of its lowest value.
    The warm-up covers the ramp to the held-call level plus the time
    finished transactions linger (SOFIA-NOTES: ~32 s), so the steady state
    holds a constant number of calls and transactions."""
    warm = a.rss_warmup if a.rss_warmup is not None else max(60.0, a.hold_ms / 1000.0 + 40.0)
    send_end = a.calls / float(a.rate)
    steady = [(t, kb) for t, kb in samples if warm <= t <= send_end]
    if not samples:
        problems.append("rss-check: no RSS sample of sbcd")
        return
    if len(steady) < 20:
        problems.append("rss-check: only %d samples between the warm-up (%.0f s) and the end of "
                        "the calls (%.0f s): run longer" % (len(steady), warm, send_end))
        return
    lo = min(kb for _, kb in steady)
    hi = max(kb for _, kb in steady)
    first, last = steady[0][1], steady[-1][1]
    peak_all = max(kb for _, kb in samples)
    growth = (hi - lo) / float(lo)
    report.append("rss-check: %d samples from %.0f s to %.0f s: RSS %d..%d KiB (first %d, last %d, "
                  "spread %.1f%%); whole run peak %d KiB"
                  % (len(steady), steady[0][0], steady[-1][0], lo, hi, first, last,
                     100 * growth, peak_all))
    if growth > RSS_FLAT:
        problems.append("rss-check: RSS moved by %.1f%% after the warm-up (%d..%d KiB; want <= %.0f%%)"
                        % (100 * growth, lo, hi, 100 * RSS_FLAT))


# ----------------------------------------------------------------- the runner

SBCD_CONF = """hostname sbc-test
!
voice service voip
 mode border-element
 sip
  listen udp {ip} {sbc_port}
  listen tcp {ip} {sbc_port}
!
sip-ua
 timers expires {expires_ms}
!
call threshold global max-calls 100000
call shutdown-grace {grace}
!
dial-peer voice 100 voip
 incoming called-number .T
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target ipv4:{ip}:{uas_port}
 session transport {transport}
!
end
"""


# ------------------------------------------------------- usage tables (stats)

TABLE_IDS = {"seconds": 0, "minutes": 1, "hours": 2, "days": 3}


def read_db_rows(state_dir, table):
    """{start: AGGREGATE} of one table in sbcd's state store (read-only)."""
    path = os.path.join(state_dir, "sbcd.db")
    if not os.path.exists(path):
        return {}
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return {start: agg for start, agg in con.execute(
            "SELECT start, agg FROM usage_bucket WHERE tbl = ?", (TABLE_IDS[table],))}
    finally:
        con.close()


def read_tables_dump(path):
    """sbcd's SIGUSR2 dump: {(table, class): [(row, start, value, valid)]}."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line.startswith("table,"):
                continue
            table, cls, row, start, value, valid = line.strip().split(",")
            out.setdefault((table, cls), []).append(
                (int(row), int(start), int(value), valid == "1"))
    return out


def top3_average(values):
    """The regularized peak: the average of the top 3, rounded half up."""
    top = sorted(values, reverse=True)[:3]
    if not top:
        return 0
    return (2 * sum(top) + len(top)) // (2 * len(top))


def sipp_second_peaks(rows):
    """SIPp's concurrent calls per wall second: the highest CurrentCall of the
    statistics samples taken within that second (-fd every 50 ms)."""
    peaks = {}
    for r in rows:
        sec = int(r["t"])
        peaks[sec] = max(peaks.get(sec, 0), stat_int(r, "CurrentCall"))
    return peaks


def sipp_second_moves(rows):
    """Per wall second, from the consecutive sample pairs touching it: the
    largest rise of CurrentCall (the true peak within the second can exceed
    the highest sample by up to this much: at 1,000 calls/s, 50 calls
    between two samples 50 ms apart) and the fastest change in calls/s
    (while calls ramp or drain, a few ms between SIPp's view of a call and
    sbcd's is worth that many calls)."""
    rows = sorted(rows, key=lambda r: r["t"])
    rises, speeds = {}, {}
    for a, b in zip(rows, rows[1:]):
        delta = stat_int(b, "CurrentCall") - stat_int(a, "CurrentCall")
        dt = b["t"] - a["t"]
        speed = abs(delta) / dt if dt > 0 else 0.0
        for sec in range(int(a["t"]), int(b["t"]) + 1):
            rises[sec] = max(rises.get(sec, 0), max(0, delta))
            speeds[sec] = max(speeds.get(sec, 0.0), speed)
    return rises, speeds


def compare_tables(seconds, minutes, uac_rows, problems, report, teardown=Teardown()):
    """--check-tables: the seconds and minutes tables against SIPp."""
    if not uac_rows:
        problems.append("check-tables: no UAC statistics")
        return
    sipp = sipp_second_peaks(uac_rows)
    rises, speeds = sipp_second_moves(uac_rows)
    first, last = min(sipp) + 1, max(sipp) - 1  # whole seconds only
    n = worst = 0
    for sec in range(first, last + 1):
        if sec not in sipp:
            continue
        got = seconds.get(sec)
        if got is None:
            problems.append("check-tables: second %d missing from the seconds table" % sec)
            continue
        n += 1
        # sbcd sees every call; SIPp's samples may miss the top of a rise:
        # the true peak lies in [highest sample, highest sample + rise].
        # Calls in teardown at the UAC (BYE sent, its 200 not yet back) are
        # no longer counted by sbcd: the peak may sit that far lower.
        hi = sipp[sec] + rises.get(sec, 0)
        lo = max(0, sipp[sec] - teardown.within(sec, sec + 1))
        dev = lo - got if got < lo else (got - hi if got > hi else 0)
        worst = max(worst, dev)
        tol = max(5, 0.01 * max(got, lo)) + speeds.get(sec, 0.0) * SAMPLE_SKEW_S
        if dev > tol:
            problems.append("check-tables: second %d: table %d, SIPp %d..%d (tolerance %.0f)"
                            % (sec, got, lo, hi, tol))
    report.append("check-tables: %d seconds compared, max deviation %d" % (n, worst))
    m_n = 0
    m_worst = 0
    for start in sorted(minutes):
        secs = range(start, start + 60)
        if not all(first <= x <= last and x in sipp for x in secs):
            continue  # only minutes SIPp covered completely
        want = top3_average([sipp[x] for x in secs])
        # Calls in teardown at the UAC lift SIPp's second peaks, not sbcd's:
        # the minute may sit as low as the top 3 of the seconds without them.
        lo = top3_average([max(0, sipp[x] - teardown.within(x, x + 1)) for x in secs])
        got = minutes[start]
        dev = lo - got if got < lo else max(0, got - want)
        m_n += 1
        m_worst = max(m_worst, dev)
        if dev > max(5, 0.01 * max(got, want)):
            problems.append("check-tables: minute %d: table %d, SIPp top-3 average %d..%d"
                            % (start, got, lo, want))
    report.append("check-tables: %d complete minutes compared, max deviation %d"
                  % (m_n, m_worst))
    if m_n < 2:
        problems.append("check-tables: only %d complete minute(s) to compare (want >= 2)" % m_n)


def adapt_config(path, sbc_port, uas_port, licd=None):
    """An operator's config file moved onto this run's free ports: every
    `listen` line takes sbc_port and every `session target` the UAS; with
    licd = (url, ca_file) the license server lines point at this run's licd
    (a commented-out `!license smart ca-file` line is taken in)."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^(\s*listen\s+(?:udp|tcp)\s+\S+\s+)\d+", r"\g<1>%d" % sbc_port, text)
    text = re.sub(r"session target ipv4:[0-9.]+:\d+",
                  "session target ipv4:%s:%d" % (LOCAL_IP, uas_port), text)
    if licd:
        text = re.sub(r"(?m)^license smart url .*$", "license smart url %s" % licd[0], text)
        text = re.sub(r"(?m)^!?license smart ca-file .*$",
                      "license smart ca-file %s" % licd[1], text)
    return text


class Runner:
    def __init__(self, args):
        self.a = args
        self.children = []
        self.problems = []
        self.verdict_line = None
        self.rss = []  # (seconds since the UAC started, VmRSS KiB)
        self.next_rss = 0.0
        self.report = []
        self.sbcd = None
        self.watch = None
        self.ports = harness.PORTS
        self.t_start = time.time()
        cpus = sorted(os.sched_getaffinity(0))
        self.cpus_sbcd = self.cpus_sipp = None
        if args.pin and len(cpus) >= 2:
            # The runner signals and polls sbcd often: keep it off sbcd's CPU too.
            self.cpus_sbcd, self.cpus_sipp = {cpus[0]}, set(cpus[1:])
            os.sched_setaffinity(0, self.cpus_sipp)
        elif args.pin:
            log("--pin ignored: only %d CPU available" % len(cpus))
        self.db_seconds = {}
        self.next_db_poll = 0

    # -- paths
    def wd(self, name):
        return os.path.join(self.workdir, name)

    def scenario_file(self, role):
        return os.path.join(self.a.scenario_dir, "%s_%s.xml" % (self.a.scenario, role))

    # -- SIPp
    def sipp(self, role):
        """The SIPp UAS or UAC of this run: its command line and files."""
        a = self.a
        return harness.Sipp(a.sipp, self.workdir, role, scenario=a.scenario,
                            scenario_dir=a.scenario_dir, transport=a.transport,
                            buff_size=a.buff_size, hold_ms=a.hold_ms,
                            recv_timeout_ms=self.recv_timeout_ms,
                            stat_interval_ms=a.stat_interval_ms, trace_counts=True,
                            trace_msg=a.trace_msg, cpus=self.cpus_sipp, ports=self.ports)

    def start_uas(self):
        for attempt in range(3):
            sipp = self.sipp("uas")
            uas = sipp.spawn_uas()
            self.uas_port = sipp.port
            self.children.append(uas)
            if sipp.listening():
                self.uas = uas
                log("UAS listening on %s:%d/%s (pid %d)"
                    % (LOCAL_IP, self.uas_port, self.a.transport, uas.pid))
                return
            rc, _ = uas.stop(signal.SIGKILL, 2)
            err = tail(uas.stderr_path, 10)
            if rc in (254, 255) and "bind" in err.lower() and attempt < 2:
                log("UAS could not bind (port race?), retrying with other ports")
                continue
            raise RunError("UAS did not start (rc=%s):\n%s" % (rc, err))

    def start_sbcd(self):
        a = self.a
        for attempt in range(3):
            self.sbc_port = self.ports.pick()
            if a.config:
                conf = adapt_config(a.config, self.sbc_port, self.uas_port,
                                    getattr(self, "licd_conf", None))
            else:
                conf = SBCD_CONF.format(ip=LOCAL_IP, sbc_port=self.sbc_port,
                                        uas_port=self.uas_port, transport=a.transport,
                                        expires_ms=self.expires_ms, grace=a.shutdown_grace)
            os.makedirs(self.wd("state"), exist_ok=True)
            log_name = "sbcd.log" if attempt == 0 else "sbcd.attempt%d.log" % attempt
            sbcd = harness.Sbcd(a.sbcd, self.uas_port, self.workdir, args=a.sbcd_arg,
                                port=self.sbc_port, config=conf, log_name=log_name,
                                stdout_name="sbcd_stdout.log", cpus=self.cpus_sbcd,
                                cwd=self.workdir, ready_timeout=None).child
            self.children.append(sbcd)
            watch = LogWatcher(sbcd.stderr_path)
            deadline = time.time() + a.ready_timeout
            while time.time() < deadline:
                watch.poll()
                if watch.find(READY_MARK):
                    self.sbcd, self.watch = sbcd, watch
                    log("sbcd ready on %s:%d (udp+tcp) (pid %d)" % (LOCAL_IP, self.sbc_port, sbcd.pid))
                    return
                if not sbcd.alive():
                    break
                time.sleep(0.05)
            alive = sbcd.alive()
            rc, _ = sbcd.stop(signal.SIGTERM, 3)
            text = tail(sbcd.stderr_path, 30)
            if not alive and re.search(r"in use|bind", text, re.I) and attempt < 2:
                log("sbcd could not bind (port race?), retrying with another port")
                continue
            if alive:
                raise RunError("sbcd printed no %s within %.0f s; log tail:\n%s"
                               % (READY_MARK, a.ready_timeout, text))
            raise RunError("sbcd exited (rc=%s) before %s; log tail:\n%s" % (rc, READY_MARK, text))

    def run_uac(self):
        a = self.a
        target_port = self.uas_port if a.direct else self.sbc_port
        overall = a.timeout
        if overall is None:
            overall = (a.calls / float(a.rate) + (a.hold_ms + self.extra_ms) / 1000.0 + 60)
        for attempt in range(3):
            sipp = self.sipp("uac")
            uac = sipp.spawn(sipp.uac_argv(target_port, a.calls, a.rate, self.limit,
                                           a.called))
            self.children.append(uac)
            self.uac = uac
            log("UAC started (pid %d): %d calls at %g cps, hold %d ms, limit %d, timeout %.0f s"
                % (uac.pid, a.calls, a.rate, a.hold_ms, self.limit, overall))
            deadline = time.time() + overall
            next_usr1 = time.time() + 0.5
            sbcd_died = False
            while uac.alive():
                now = time.time()
                if now > deadline:
                    self.problems.append("UAC still running after %.0f s: stopped" % overall)
                    uac.stop_sipp(2.0)
                    break
                if self.sbcd and not self.sbcd.alive() and not sbcd_died:
                    sbcd_died = True
                    self.problems.append("sbcd exited during the test (rc=%s)" % self.sbcd.proc.returncode)
                    uac.stop_sipp(2.0)
                    break
                if a.check_tables and now >= self.next_db_poll:
                    self.poll_tables()
                    self.next_db_poll = now + 10
                if a.rss_check and self.sbcd and now >= self.next_rss:
                    self.sample_rss(now)
                    self.next_rss = now + 1.0
                if a.track_counts and self.sbcd and now >= next_usr1:
                    self.sbcd.send_signal(signal.SIGUSR1)
                    next_usr1 += 0.5
                    if next_usr1 < now:
                        next_usr1 = now + 0.5
                time.sleep(0.02)
            rc = uac.wait(10)
            self.uac_rc = rc
            stat_rows = read_stat_csv(self.wd("uac_stat.csv"))
            created = stat_int(stat_rows[-1], "TotalCallCreated") if stat_rows else 0
            if rc == 254 and created == 0 and attempt < 2:
                log("UAC could not bind (port race?), retrying with other ports")
                continue
            log("UAC exited with rc=%s after %.1f s" % (rc, time.time() - self.t_uac0))
            return

    def sample_rss(self, now):
        """--rss-check: sbcd's resident set size (VmRSS, KiB) now."""
        try:
            with open("/proc/%d/status" % self.sbcd.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.rss.append((now - self.t_uac0, int(line.split()[1])))
                        return
        except (OSError, ValueError):
            pass

    def poll_tables(self):
        """Keep every seconds row sbcd has written (it prunes old ones)."""
        try:
            self.db_seconds.update(read_db_rows(self.wd("state"), "seconds"))
        except sqlite3.Error as e:
            log("reading sbcd.db: %s" % e)

    def sigusr2_dump(self):
        """Ask sbcd for its tables (SIGUSR2) and read the dump."""
        path = self.wd("state/stats-tables.csv")
        before = os.path.getmtime(path) if os.path.exists(path) else 0
        self.sbcd.send_signal(signal.SIGUSR2)
        deadline = time.time() + 5
        while time.time() < deadline:
            if os.path.exists(path) and os.path.getmtime(path) != before:
                return read_tables_dump(path)
            time.sleep(0.05)
        raise RunError("sbcd wrote no %s after SIGUSR2" % path)

    def show_stats(self):
        """--show-stats: print sbcd's `show voice sip license stats` for the
        Standard class (the first block of the graph view SIGUSR2 writes)."""
        time.sleep(1.2)  # the last second closes
        self.sigusr2_dump()
        with open(self.wd("state/stats-views.txt")) as f:
            lines = f.read().splitlines()
        start = next(i for i, l in enumerate(lines) if l.endswith("#show voice sip license stats"))
        end = next((i for i in range(start + 2, len(lines))
                    if re.match(r"^\S*   \d\d:\d\d:\d\d [AP]M ", lines[i])), len(lines))
        print("\n".join(lines[start:end]).rstrip() + "\n", flush=True)

    def restart_check(self):
        """--restart-check: sbcd stopped, down for one whole minute at least,
        started again: the minutes closed before stay where they were, the
        minutes it was down read 0."""
        before = read_db_rows(self.wd("state"), "minutes")
        stopped = time.time()
        resume = (int(stopped) // 60 + 1) * 60 + 61  # one empty minute
        log("sbcd stopped; restarting at %s (%.0f s down)"
            % (time.strftime("%H:%M:%S", time.gmtime(resume)), resume - stopped))
        time.sleep(max(0, resume - time.time()))
        self.start_sbcd()
        time.sleep(1.5)
        dump = self.sigusr2_dump()
        after = read_db_rows(self.wd("state"), "minutes")
        changed = [k for k in before if after.get(k) != before[k]]
        if changed:
            self.problems.append("restart-check: minute rows changed in the store: %s" % changed)
        rows = {start: (value, valid) for _, start, value, valid
                in dump.get(("minutes", "AGGREGATE"), [])}
        shown = 0
        for start, value in before.items():
            if start in rows:
                shown += 1
                if rows[start][0] != value:
                    self.problems.append("restart-check: minute %d shows %d, was %d"
                                         % (start, rows[start][0], value))
        down = [st for st in rows if stopped < st and st + 60 <= resume - 1]
        for st in down:
            if rows[st][0] != 0 or rows[st][1]:
                self.problems.append("restart-check: minute %d (sbcd down) shows %d"
                                     % (st, rows[st][0]))
        self.report.append("restart-check: %d minutes from before the restart shown intact, "
                           "%d down minute(s) read 0" % (shown, len(down)))
        if shown < 2 or not down:
            self.problems.append("restart-check: too little to check (%d minutes, %d down)"
                                 % (shown, len(down)))
        self.stop_sbcd()

    def stop_uas(self):
        # SIGUSR1 = SIPp soft exit: finishes the calls in progress, writes the
        # final statistics and screen, exits.
        rc, killed = self.uas.stop_sipp(self.a.uas_drain_timeout)
        if killed:
            self.problems.append("UAS did not finish its calls within %.0f s of the UAC's end: stopped"
                                 % self.a.uas_drain_timeout)
        self.uas_rc = rc

    def drained_counts(self):
        """COUNTS after everything ended: SIGUSR1, wait for the new line; retry a
        few times while AGGREGATE > 0 (late transaction cleanup)."""
        out = []
        deadline = time.time() + self.a.drain_timeout
        while True:
            self.watch.poll()
            before = len(self.watch.counts())
            self.sbcd.send_signal(signal.SIGUSR1)
            t_sig = time.time()
            got = None
            while time.time() - t_sig < 2.0:
                time.sleep(0.05)
                self.watch.poll()
                c = self.watch.counts()
                if len(c) > before:
                    got = c[-1]
                    break
            if got is None:
                return out
            out.append(got)
            if got["AGGREGATE"] == 0 or time.time() > deadline:
                return out
            time.sleep(0.25)

    def stop_sbcd(self):
        timeout = self.a.shutdown_grace + 10.0
        rc, killed = self.sbcd.stop(signal.SIGTERM, timeout)
        self.watch.poll()
        if killed:
            self.problems.append("sbcd did not exit within %.0f s of SIGTERM: killed" % timeout)
        elif rc != 0:
            self.problems.append("sbcd exited with rc=%s after SIGTERM (want 0)" % rc)
        self.sbcd_rc = rc

    # ---- --ctl-clients: operators' show commands while the calls run ----

    CTL_SHOWS = ("show voice sip license stats", "show voice sip license stats table",
                 "show license status", "show license all", "show cube status",
                 "show voice sip license status", "show logging",
                 "show dial-peer voice summary", "show running-config",
                 "show license summary --json", "show cube status --json")

    def ctl_client(self, n, stop, result):
        """One control-socket client: show commands in a loop on one
        connection; every reply must arrive whole with status 0."""
        path = self.wd("state/sbcd.sock")
        done = bad = 0
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(path)
            f = s.makefile("rb")
            i = n
            while not stop.is_set():
                cmd = self.CTL_SHOWS[i % len(self.CTL_SHOWS)]
                i += 1
                s.sendall(cmd.encode() + b"\n")
                head = f.readline().decode()
                parts = head.split()
                if len(parts) != 3 or parts[0] != "SBC":
                    bad += 1
                    break
                body = f.read(int(parts[2]))
                if len(body) != int(parts[2]) or parts[1] != "0" or not body:
                    bad += 1
                done += 1
            s.close()
        except OSError as e:
            result.append((n, done, bad + 1, str(e)))
            return
        result.append((n, done, bad, ""))

    def start_ctl_clients(self):
        self.ctl_stop = threading.Event()
        self.ctl_result = []
        self.ctl_threads = [threading.Thread(target=self.ctl_client,
                                             args=(i, self.ctl_stop, self.ctl_result))
                            for i in range(self.a.ctl_clients)]
        for t in self.ctl_threads:
            t.start()
        log("%d sbcctl-protocol clients looping on %d show commands"
            % (self.a.ctl_clients, len(self.CTL_SHOWS)))

    def stop_ctl_clients(self):
        self.ctl_stop.set()
        for t in self.ctl_threads:
            t.join(60)
        replies = sum(r[1] for r in self.ctl_result)
        bad = [r for r in self.ctl_result if r[2]]
        self.report.append("ctl-clients: %d clients, %d complete replies, %d client(s) "
                           "with an incomplete or failed reply"
                           % (len(self.ctl_result), replies, len(bad)))
        if len(self.ctl_result) != self.a.ctl_clients:
            self.problems.append("ctl-clients: %d of %d clients did not finish"
                                 % (self.a.ctl_clients - len(self.ctl_result),
                                    self.a.ctl_clients))
        if bad:
            self.problems.append("ctl-clients: bad replies: %s" % bad[:3])
        if replies == 0:
            self.problems.append("ctl-clients: no reply at all")

    # ---- --licd: a license server for the run, trust, an ACKed report ----

    def start_licd(self):
        """licd on a free loopback port with a smart account, a virtual
        account and a token for this run."""
        a = self.a
        state = self.wd("licd")
        self.licd_state = state
        licd = harness.Licd(state, binary=a.licd, log_dir=self.workdir,
                            ready_timeout=a.ready_timeout)
        self.children.append(licd.child)
        url = licd.url
        self.licd_conf = (url, licd.ca)
        for cmd in (["account", "create", "DEMO"], ["va", "create", "DEMO", "VA-1"],
                    ["purchase", "DEMO", "VA-1", "CUBE_T_STD", "500"],
                    ["purchase", "DEMO", "VA-1", "CUBE_T_ENH", "100"]):
            self.licd_admin(cmd)
        self.token = self.licd_admin(["token", "create", "DEMO", "VA-1"]).strip()
        log("licd ready at %s (pid %d); token created for DEMO/VA-1" % (url, licd.child.pid))

    def licd_admin(self, cmd):
        p = subprocess.run([self.a.licd, "-S", self.licd_state] + cmd, capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise RunError("licd %s: %s" % (" ".join(cmd), p.stderr.strip()))
        return p.stdout

    def sbcctl(self, *words):
        p = subprocess.run([self.a.sbcctl, "-s", self.wd("state/sbcd.sock")] + list(words),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RunError("sbcctl %s: %s%s" % (" ".join(words), p.stdout, p.stderr))
        return p.stdout

    def license_status(self):
        import json
        return json.loads(self.sbcctl("show", "license", "status", "--json"))

    def wait_license(self, pred, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred(self.license_status()):
                return
            time.sleep(0.2)
        raise RunError("license status: no %s within %d s" % (what, timeout))

    def establish_trust(self):
        log("sbcctl license smart trust idtoken <token> local")
        self.sbcctl("license", "smart", "trust", "idtoken", self.token, "local")
        self.wait_license(lambda s: s["trust_code_installed"], "trust")
        log("trust installed")

    def show_report(self):
        """The test clock moves one hour: the hour of the calls closes, the
        change from no use starts a report, licd acknowledges it."""
        log("sbcctl test clock advance 1h (the calls' hour closes, a report goes out)")
        self.sbcctl("test", "clock", "advance", "1h")
        self.wait_license(lambda s: s["usage_reporting"]["last_ack_received"], "ACK")
        text = self.sbcctl("show", "license", "status")
        block = text[text.index("Usage Reporting:"):]
        print("%s#show license status   (Usage Reporting and trust)\n%s"
              % ("cube1", block), flush=True)
        print("licd inventory DEMO VA-1\n%s" % self.licd_admin(["inventory", "DEMO", "VA-1"]),
              flush=True)

    def cleanup(self):
        if getattr(self, "ctl_stop", None) is not None:
            self.ctl_stop.set()
        for c in reversed(self.children):
            if c.alive():
                c.stop(signal.SIGTERM, 3, 3)

    def run(self):
        a = self.a
        self.expires_ms = a.expires_ms if a.expires_ms is not None else (
            a.noanswer_ms if a.scenario == "noanswer" else 180000)
        self.extra_ms = EXTRA_MS.get(a.scenario, 200)
        if a.scenario == "noanswer":
            self.extra_ms = self.expires_ms + 1000
        self.recv_timeout_ms = a.recv_timeout_ms or (a.hold_ms + self.extra_ms + 30000)
        call_s = (a.hold_ms + self.extra_ms) / 1000.0
        self.limit = a.limit or max(1000, int(a.rate * (call_s + 5) * 2))

        for role in ("uac", "uas"):
            if not os.path.isfile(self.scenario_file(role)):
                raise RunError("no scenario file %s" % self.scenario_file(role))
        if a.direct and a.scenario == "noanswer":
            raise RunError("--direct cannot run 'noanswer': the 408 comes from the B2BUA's "
                           "no-answer timer (validate noanswer_uas.xml with cancel_uac.xml instead)")
        if a.direct and (a.track_counts or a.expect_clean_log):
            raise RunError("--track-counts and --expect-clean-log need sbcd (not --direct)")
        if shutil.which(a.sipp) is None:
            raise RunError("SIPp not found: %s" % a.sipp)
        if not a.direct and not (os.path.isfile(a.sbcd) and os.access(a.sbcd, os.X_OK)):
            raise RunError("sbcd binary not found or not executable: %s" % a.sbcd)

        self.start_uas()
        if a.licd:
            self.start_licd()
        if not a.direct:
            self.start_sbcd()
        if a.licd:
            self.establish_trust()
        if a.ctl_clients:
            self.start_ctl_clients()
        self.t_uac0 = time.time()
        self.run_uac()
        if a.ctl_clients:
            self.stop_ctl_clients()
        self.stop_uas()
        drained = []
        if not a.direct:
            if a.track_counts and self.sbcd.alive():
                time.sleep(0.2)
                drained = self.drained_counts()
            self.watch.poll()
            samples = self.watch.counts()
            # All COUNTS lines but the drain samples count as "during the run";
            # only those inside the UAC's statistics time range are compared.
            n_drained = len(drained)
            during = samples[:len(samples) - n_drained] if n_drained else samples
            if a.show_stats:
                self.show_stats()
            if a.licd:
                self.show_report()
            if a.check_tables:
                time.sleep(1.2)  # the last second closes
                self.poll_tables()
                db_minutes = read_db_rows(self.wd("state"), "minutes")
            self.stop_sbcd()
        else:
            during = []

        # SIPp names it after the scenario file and its own pid.
        counts = (self.wd("%s_uac_%d_counts.csv" % (self.a.scenario, self.uac.pid))
                  if getattr(self, "uac", None) else None)
        uac = SippResult("UAC", self.wd("uac_stat.csv"), self.wd("uac_screen.log"),
                         counts, self.a.stat_interval_ms / 1000.0)
        if (self.a.track_counts or self.a.check_tables) and not uac.teardown.found:
            self.problems.append("the UAC wrote no -trace_counts file (%s)" % counts)
        uas = SippResult("UAS", self.wd("uas_stat.csv"), self.wd("uas_screen.log"))
        self.uac_res, self.uas_res = uac, uas

        if self.uac_rc != 0:
            self.problems.append("UAC exited with rc=%s (want 0)" % self.uac_rc)
        if uac.successful != a.calls or uac.failed != 0:
            self.problems.append("UAC: %s successful, %s failed (want %d and 0)"
                                 % (uac.successful, uac.failed, a.calls))
        if a.uas_check and (uas.successful != a.calls or uas.failed != 0):
            self.problems.append("UAS: %s successful, %s failed (want %d and 0)"
                                 % (uas.successful, uas.failed, a.calls))
        if a.expect_clean_log:
            errs = [l for l in self.watch.lines if ERROR_LINE_RE.search(l)]
            if errs:
                self.problems.append("sbcd log has %d error-level (-3-) line(s), first: %s"
                                     % (len(errs), errs[0]))
        if self.watch is not None:
            # A warning, not a failure: it says who stalled when calls fail.
            stalls = [l for l in self.watch.lines if "SIP_STALL" in l]
            self.report.append("sbcd SIP_STALL warnings: %d%s"
                               % (len(stalls), (", first: " + stalls[0].strip()) if stalls else ""))
        if a.check_tables and not a.direct:
            compare_tables(self.db_seconds, db_minutes, uac.rows, self.problems, self.report,
                           uac.teardown)
        if a.restart_check and not a.direct and not self.problems:
            self.restart_check()
        if a.rss_check and not a.direct:
            compare_rss(self.rss, a, self.problems, self.report)
        if a.track_counts:
            if not during:
                self.problems.append("track-counts: sbcd logged no COUNTS line while the UAC ran")
            else:
                compare_counts(during, drained, uac, self.problems, self.report)

    def verdict(self):
        a = self.a
        mode = "direct UAC->UAS" if a.direct else "via sbcd"
        elapsed = time.time() - self.t_start
        uac = getattr(self, "uac_res", None)
        uas = getattr(self, "uas_res", None)
        for line in self.report:
            log(line)
        if uac:
            log(uac.describe())
        if uas:
            log(uas.describe())
        name = "%s/%s" % (a.scenario, a.transport)
        if not self.problems:
            print("PASS %s %s: %d calls at %g cps, hold %d ms, in %.1f s"
                  % (name, mode, a.calls, a.rate, a.hold_ms, elapsed), flush=True)
            return 0
        self.verdict_line = "FAIL %s %s: %s" % (name, mode, "; ".join(self.problems))
        print(self.verdict_line, flush=True)
        return 1

    def dump_logs(self):
        print("---- work dir: %s" % self.workdir)
        for role in ("uac", "uas"):
            text = head(self.wd("%s_errors.log" % role))
            if text:
                print("---- %s errors (start of %s_errors.log):\n%s" % (role.upper(), role, text))
            err = tail(self.wd("%s_stderr.log" % role), 15)
            if err not in ("(empty)",) and not err.startswith("(no "):
                print("---- %s stderr (tail):\n%s" % (role.upper(), err))
        if not self.a.direct:
            # The once-per-0.5 s COUNTS lines would push everything else
            # out of a CI log's tail; they are in the work dir.
            print("---- sbcd log (tail of sbcd.log, COUNTS lines left out):\n%s"
                  % tail(self.wd("sbcd.log"), 40, skip=r"%SBC-6-COUNTS:"))
        if self.verdict_line:
            print(self.verdict_line)
        sys.stdout.flush()


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run a SIPp UAC/UAS scenario pair through sbcd and check the outcome.")
    p.add_argument("--sbcd", help="path of the sbcd binary (not needed with --direct)")
    p.add_argument("--scenario", required=True,
                   help="scenario name: <name>_uac.xml and <name>_uas.xml in --scenario-dir")
    p.add_argument("--calls", type=int, default=100, help="calls to place (SIPp -m); default 100")
    p.add_argument("--rate", type=float, default=50, help="calls per second (SIPp -r); default 50")
    p.add_argument("--hold-ms", type=int, default=0,
                   help="duration of the scenarios' <pause/> (SIPp -d), default 0")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp",
                   help="SIPp transport (u1 / t1) and the dial-peer's session transport")
    p.add_argument("--workdir", help="directory for configs and logs (default: a new temp dir, "
                   "removed on success unless --keep)")
    p.add_argument("--keep", action="store_true", help="keep the work dir after a pass")
    p.add_argument("--direct", action="store_true",
                   help="no sbcd: the UAC calls the UAS directly (scenario check, harness ceiling)")
    p.add_argument("--rss-check", action="store_true",
                   help="sample sbcd's RSS every second; after the warm-up and while calls are "
                        "still being placed it must stay within 5%% (soak)")
    p.add_argument("--rss-warmup", type=float, default=None,
                   help="seconds after the UAC starts before --rss-check counts "
                        "(default max(60, hold + 40))")
    p.add_argument("--track-counts", action="store_true",
                   help="SIGUSR1 sbcd every 0.5 s and compare its COUNTS lines with SIPp's statistics")
    p.add_argument("--expect-clean-log", action="store_true",
                   help="fail when sbcd's log has an error-level (%%FAC-3-MNEMONIC) line")
    p.add_argument("--no-uas-check", dest="uas_check", action="store_false",
                   help="do not require the UAS to report N successful and 0 failed calls")
    p.add_argument("--limit", type=int, help="max simultaneous calls of the UAC (SIPp -l); "
                   "default from rate and call length")
    p.add_argument("--noanswer-ms", type=int, default=2000,
                   help="sip-ua 'timers expires' for the noanswer scenario (default 2000)")
    p.add_argument("--expires-ms", type=int,
                   help="force sip-ua 'timers expires' (default: --noanswer-ms for noanswer, else 180000)")
    p.add_argument("--shutdown-grace", type=int, default=5, help="'call shutdown-grace' seconds (5)")
    p.add_argument("--called", default="15551234", help="called number (SIPp -s), default 15551234")
    p.add_argument("--timeout", type=float,
                   help="seconds the UAC may run (default calls/rate + call length + 60)")
    p.add_argument("--recv-timeout-ms", type=int,
                   help="SIPp -recv_timeout (default hold + call extra + 30000)")
    p.add_argument("--stat-interval-ms", type=int, default=50,
                   help="UAC statistics period (SIPp -fd) in ms, default 50")
    p.add_argument("--uas-drain-timeout", type=float, default=15.0,
                   help="seconds the UAS may take to finish its calls after the UAC ended (15)")
    p.add_argument("--drain-timeout", type=float, default=3.0,
                   help="seconds to wait for AGGREGATE to reach 0 after all calls ended (3)")
    p.add_argument("--ready-timeout", type=float, default=10.0,
                   help="seconds to wait for sbcd's %%SBC-5-READY (10)")
    p.add_argument("--buff-size", type=int, default=4194304, help="SIPp -buff_size (4194304)")
    p.add_argument("--pin", action="store_true",
                   help="sbcd on the first CPU, the SIPps and this runner on the others "
                        "(the placement of tests/bench/compare.py): at high rates a SIPp "
                        "sharing sbcd's core falls behind and its retransmissions snowball")
    p.add_argument("--trace-msg", action="store_true", help="SIPp -trace_msg for UAC and UAS")
    p.add_argument("--sipp", default="sipp", help="SIPp binary (default: sipp from PATH)")
    p.add_argument("--scenario-dir", default=HERE, help="directory of the XML scenarios")
    p.add_argument("--show-stats", action="store_true",
                   help="after the calls, print sbcd's `show voice sip license stats` "
                        "(Standard class) from its SIGUSR2 views")
    p.add_argument("--check-tables", action="store_true",
                   help="compare sbcd's seconds and minutes tables (its state store) with "
                        "SIPp's per-second concurrent calls")
    p.add_argument("--restart-check", action="store_true",
                   help="after the run, stop sbcd for one whole minute, start it again and "
                        "check the minutes table kept its rows and shows the gap as 0")
    p.add_argument("--config", help="use this sbcd config file instead of the built-in one; "
                   "its listen ports and session targets are moved to the run's free ports")
    p.add_argument("--sbcd-arg", action="append", default=[],
                   help="extra argument for sbcd (repeatable)")
    p.add_argument("--licd", help="run this licd too: sbcd (--test-clock) trusts it, and after "
                   "the calls one clock hour closes and the report's ACK is shown; "
                   "needs --config and --sbcctl")
    p.add_argument("--sbcctl", help="sbcctl binary (with --licd)")
    p.add_argument("--ctl-clients", type=int, default=0,
                   help="this many control-socket clients loop on show commands while the "
                        "UAC runs; every reply must be complete")
    args = p.parse_args(argv)
    if args.licd and (not args.config or not args.sbcctl or args.direct):
        p.error("--licd needs --config and --sbcctl, and sbcd")
    if args.licd:
        args.licd = os.path.abspath(args.licd)
        args.sbcctl = os.path.abspath(args.sbcctl)
        args.sbcd_arg.append("--test-clock")
    if not args.direct and not args.sbcd:
        p.error("--sbcd is required unless --direct is given")
    if args.calls < 1 or args.rate <= 0:
        p.error("--calls and --rate must be positive")
    return args


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    created = False
    if args.workdir:
        workdir = os.path.abspath(args.workdir)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="sipp-%s-" % args.scenario)
        created = True
    if args.sbcd:
        args.sbcd = os.path.abspath(args.sbcd)
    args.scenario_dir = os.path.abspath(args.scenario_dir)

    return execute(Runner(args), workdir, created, args.keep,
                   "%s/%s" % (args.scenario, args.transport))


def execute(r, workdir, created, keep, label, verdict=None):
    """Run the Runner r in workdir: the exit code. However it ends, every
    child is stopped; a failed run's logs are dumped, a passed run's work
    dir removed when it was made for the run (unless keep). label names the
    run in the FAIL lines; verdict(rc) prints the caller's own line after
    the runner's verdict."""
    # Ctrl-C, SIGTERM (e.g. from a test driver) and SIGHUP unwind through the
    # finally block below, which stops every child. If the runner is killed
    # outright, the children get SIGKILL through PR_SET_PDEATHSIG.
    harness.interrupt_on(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    r.workdir = workdir
    rc = 1
    try:
        r.run()
        rc = r.verdict()
        if verdict:
            verdict(rc)
    except RunError as e:
        r.verdict_line = "FAIL %s: %s" % (label, e)
        print(r.verdict_line, flush=True)
        rc = 1
    except KeyboardInterrupt:
        print("FAIL %s: interrupted" % label, flush=True)
        rc = 130
    finally:
        r.cleanup()
    if rc != 0:
        r.dump_logs()
    elif created and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log("work dir kept: %s" % workdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
