#!/usr/bin/env python3
"""The count checks of sipp-scenarios/run.py (--track-counts, --check-tables)
on made-up SIPp statistics: they must pass what sbcd legitimately shows and
fail what would be a wrong count. No process is started.

The cases follow what the soak at 2,800 calls/s met: calls in teardown at
the UAC while its UAS was slow, and a late last statistics row."""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "sipp-scenarios"))
import run as sipp_run  # noqa: E402

T0 = 1795000000.0
STEP = 0.05


class FakeUac:
    """What compare_counts reads of a SippResult."""

    def __init__(self, currents, teardown=None, times=None):
        times = times or [T0 + i * STEP for i in range(len(currents))]
        self.rows = [{"t": t, "CurrentCall": str(c)} for t, c in zip(times, currents)]
        self.teardown = teardown or sipp_run.Teardown()
        self.peak = max(currents)
        self.max_current = max(currents)


def teardown_file(tmp, times, byes_sent, oks_received, invites=None, answers=None):
    """A -trace_counts file of the basic scenario (index 0 = INVITE, 3 = its
    200, 6 = BYE, 7 = the BYE's 200). No INVITE given: every call answered."""
    path = os.path.join(tmp, "basic_uac_1_counts.csv")
    cols = ["CurrentTime", "ElapsedTime", "0_INVITE_Sent", "0_INVITE_Timeout",
            "3_200_Recv", "3_200_Timeout", "6_BYE_Sent", "6_BYE_Timeout", "7_200_Recv",
            "7_200_Timeout"]
    invites = invites or [0] * len(times)
    answers = answers or invites
    with open(path, "w") as f:
        f.write(";".join(cols) + ";\n")
        for t, i, a, s, r in zip(times, invites, answers, byes_sent, oks_received):
            f.write("x\tx\t%.6f;00:00:00;%d;0;%d;0;%d;0;%d;0;\n" % (t, i, a, s, r))
    return sipp_run.Teardown(path, STEP)


def counts(samples, uac, peak=None):
    """The problems compare_counts finds; sbcd's peak is SIPp's unless given."""
    problems, report = [], []
    peak = uac.peak if peak is None else peak
    lines = [{"wall_ms": int(t * 1000), "AGGREGATE": n, "max_second_peak": peak}
             for t, n in samples]
    sipp_run.compare_counts(lines, [{"AGGREGATE": 0, "max_second_peak": peak}], uac,
                            problems, report)
    return problems


def main():
    failures = []

    def expect(name, problems, want_fail):
        if bool(problems) != want_fail:
            failures.append("%s: %s" % (name, problems or "passed, want a failure"))
        print("%-44s %s" % (name, "fails" if problems else "passes"))

    flat = [14000] * 40
    mid = T0 + 20 * STEP + 0.01
    expect("steady, exact", counts([(mid, 14000)], FakeUac(flat)), False)
    expect("steady, 300 too low, nothing in teardown",
           counts([(mid, 13700)], FakeUac(flat)), True)
    expect("steady, 300 too high", counts([(mid, 14300)], FakeUac(flat)), True)

    with tempfile.TemporaryDirectory() as tmp:
        times = [T0 + i * STEP for i in range(40)]
        # 310 BYEs outstanding around row 20 (a slow UAS), a few elsewhere.
        sent = [1000 + 140 * i for i in range(40)]
        ok = [s - (310 if 18 <= i <= 22 else 5) for i, s in enumerate(sent)]
        td = teardown_file(tmp, times, sent, ok)
        for what, count, want in [("310 in teardown, count 300 lower", 13700, False),
                                  ("310 in teardown, count 500 lower", 13500, True),
                                  ("310 in teardown, count 300 higher", 14300, True)]:
            expect(what, counts([(mid, count)], FakeUac(flat, td)), want)
        # 120 INVITEs unanswered around row 20 (sbcd behind: a stolen CPU),
        # nothing in teardown: they may be in sbcd's receive buffer.
        inv = [5000 + 140 * i for i in range(40)]
        ans = [v - (120 if 18 <= i <= 22 else 3) for i, v in enumerate(inv)]
        su = teardown_file(tmp, times, sent, sent, inv, ans)
        for what, count, want in [("120 in setup, count 110 lower", 13890, False),
                                  ("120 in setup, count 300 lower", 13700, True),
                                  ("120 in setup, count 300 higher", 14300, True)]:
            expect(what, counts([(mid, count)], FakeUac(flat, su)), want)
        late = T0 + 5 * STEP + 0.01
        expect("5 in teardown elsewhere, count 300 lower",
               counts([(late, 13700)], FakeUac(flat, td)), True)
        # SIPp's peak is the pile-up itself: 310 calls in teardown on top.
        bump = [14310 if 18 <= i <= 22 else 14000 for i in range(40)]
        for what, uac, peak, want in [
                ("peak: SIPp's includes 310 in teardown", FakeUac(bump, td), 14000, False),
                ("peak: 310 below SIPp's, nothing in teardown", FakeUac(bump), 14000, True),
                ("peak: 800 below SIPp's, 310 in teardown", FakeUac(bump, td), 13510, True),
                ("peak: 300 above SIPp's", FakeUac(bump, td), 14610, True)]:
            expect(what, counts([(mid, 14000)], uac, peak=peak), want)

    # A drain at 2,800 calls/s whose last row came 134 ms late: 145, then 0.
    drain = [2945 - 140 * i for i in range(21)] + [0]
    times = [T0 + i * STEP for i in range(21)] + [T0 + 20 * STEP + 0.134]
    uac = FakeUac(drain, times=times)
    at = T0 + 20 * STEP + 0.043
    expect("late last row, count between its neighbours", counts([(at, 23)], uac), False)
    expect("late last row, count above both", counts([(at, 400)], uac), True)

    # Seconds table: the second's peak may sit below SIPp's by the teardown.
    with tempfile.TemporaryDirectory() as tmp:
        n = 60
        times = [T0 + i * STEP for i in range(n)]
        cur = [14000] * 20 + [14300] * 20 + [14000] * 20  # second 1: UAS slow
        sent = [1000 + 140 * i for i in range(n)]
        ok = [s - (300 if 20 <= i < 40 else 5) for i, s in enumerate(sent)]
        td = teardown_file(tmp, times, sent, ok)
        rows = FakeUac(cur).rows
        for got, want_fail, teardown, name in (
                (14000, False, td, "seconds table, 300 in teardown"),
                (14000, True, sipp_run.Teardown(), "seconds table, no teardown known"),
                (13600, True, td, "seconds table, 700 below")):
            problems, report = [], []
            sipp_run.compare_tables({int(T0) + 1: got, int(T0): 14000, int(T0) + 2: 14000},
                                    {}, rows, problems, report, teardown)
            problems = [p for p in problems if "second %d:" % (int(T0) + 1) in p]
            expect(name, problems, want_fail)

    # Minutes table: three seconds of a minute lifted 300 by calls in
    # teardown raise SIPp's top-3 average by 300; sbcd's minute stays put.
    with tempfile.TemporaryDirectory() as tmp:
        per_s = int(round(1 / STEP))
        n = 62 * per_s
        times = [T0 + i * STEP for i in range(n)]
        slow = {10, 20, 30}  # seconds after T0 with the UAS slow
        cur = [14300 if int(i * STEP) in slow else 14000 for i in range(n)]
        sent = [1000 + 140 * i for i in range(n)]
        ok = [s - (300 if int(i * STEP) in slow else 5) for i, s in enumerate(sent)]
        td = teardown_file(tmp, times, sent, ok)
        rows = FakeUac(cur).rows
        start = int(T0) + 1
        seconds = {int(T0) + k: (14000) for k in range(62)}
        for got, want_fail, teardown, name in (
                (14000, False, td, "minutes table, 300 in teardown"),
                (14000, True, sipp_run.Teardown(), "minutes table, no teardown known"),
                (13600, True, td, "minutes table, 700 below"),
                (14600, True, td, "minutes table, 300 above")):
            problems, report = [], []
            sipp_run.compare_tables(seconds, {start: got}, rows, problems, report, teardown)
            problems = [p for p in problems if "minute %d:" % start in p]
            expect(name, problems, want_fail)

    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS: the count checks pass the legitimate cases and fail the wrong counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
