#!/usr/bin/env python3
"""The licensing agent end to end: sbcd (--test-clock) reporting to a real
licd over HTTPS, driven with sbcctl.

  report_ack          trust, calls, a period closes, the signed report
                      reaches licd, its ACK installs, deadlines move
  default_policy_17_6_1a
                      the default policy and push interval: warned 89
                      days after the ACK, Down at 90 (503 + Retry-After),
                      Up again after licd returns and a sync
  enforce_17_6_1a     ACK deadline passes with licd down: new INVITEs get
                      503 + Retry-After, a call set up before lives on and
                      ends normally, OPTIONS still answered; licd back, a
                      sync installs an ACK and calls succeed again
  warn_17_9_1         the same run under 17.9.1: calls keep succeeding,
                      the overdue warning is logged
  cslu_poll           transport cslu: the push is accepted (202), the ACK
                      is collected by the hourly ACK poll
  offline_files       licd unreachable: usage saved to a file by sbcctl,
                      imported by licd, its ACK file imported back
  exec_commands       show license eventlog/udi/tech support, show version,
                      show clock, show call-home smart-licensing, save
                      usage unreported/all/days, clear call voice causecode
  kill9               sbcd killed with SIGKILL at random moments (>= 20
                      times) while periods close and reports are in flight:
                      every period's records reach licd exactly once, the
                      store opens clean every time

Each test starts its own licd and sbcd on free loopback ports, in a
temporary directory, and stops them by pid.

usage: licensing.py --sbcd PATH --sbcctl PATH --licd PATH TEST
"""
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (BIN, Callee, Caller, Licd, Sbcd, UA, command_line,  # noqa: E402
                     established_call, final_for, free_port, hang_up, request,
                     run_tests)

# The parts of an sbcd config these tests and faults.py share: the SIP
# service (faults.py adds listeners), the limits and the dial-peers to the
# callee at {uas_port} for numbers 1....
SIP_SERVICE = """!
voice service voip
 mode border-element license periodicity {periodicity}
 sip
  listen udp 127.0.0.1 {sbc_port}
"""
CALLS_TO_UAS = """call max-duration {max_duration}
call shutdown-grace {grace}
!
dial-peer voice 100 voip
 incoming called-number .T
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target ipv4:127.0.0.1:{uas_port}
 session transport udp
!
"""
LIC_CONFIG = "hostname lic1\n" + SIP_SERVICE + "!\n" + CALLS_TO_UAS + """license release {release}
license smart transport {transport}
license smart url https://127.0.0.1:{licd_port}/licensing/v1/
license smart ca-file {ca_file}
{interval}
!
end
"""

# The customer policy licd hands out in these tests: a first report is due
# 3 days after first use, then every 30 days after an ACK.
POLICY = {
    "name": "Test Policy",
    "reporting_ack_required": True,
    "groups": {
        g: {"first_report_days": 3 if g == "perpetual" else 0,
            "reporting_frequency_days": 30 if g == "perpetual" else 0,
            "report_on_change_days": 90 if g == "perpetual" else 0,
            "source": "Customer Policy"}
        for g in ("perpetual", "subscription", "enforced", "export")
    },
}

# Lines an error-free run may still log at error level: licd is down on
# purpose in some tests, and the deadline is passed on purpose.
ALLOWED = ("COMM_FAILED", "IMPORT_FAILED")


class LicSbcd(Sbcd):
    CONFIG = LIC_CONFIG

    def ctl(self, *words, check=True, cwd=None):
        """One sbcctl command; its stdout (stderr too on failure)."""
        p = subprocess.run([BIN["sbcctl"], "-s", os.path.join(self.state, "sbcd.sock"),
                            *words], capture_output=True, text=True, timeout=60, cwd=cwd)
        if check and p.returncode != 0:
            raise AssertionError(f"sbcctl {' '.join(words)}: rc {p.returncode}\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def status(self):
        return json.loads(self.ctl("show", "license", "status", "--json").stdout)

    def advance(self, what):
        out = self.ctl("test", "clock", "advance", what).stdout
        assert "Clock advanced" in out, out

    def wait_status(self, pred, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while True:
            st = self.status()
            if pred(st):
                return st
            if time.time() > deadline:
                raise AssertionError(f"license status never met {what}:\n"
                                     f"{json.dumps(st, indent=1)}\n{self.text()[-3000:]}")
            time.sleep(0.1)


def account(licd, policy=True):
    """SA/VA with a customer policy; a token for the VA."""
    licd.admin("account", "create", "SA-1")
    licd.admin("va", "create", "SA-1", "VA-1")
    if policy:
        path = os.path.join(licd.state, "policy.json")
        with open(path, "w") as f:
            json.dump(POLICY, f)
        licd.admin("policy", "set", "SA-1", "VA-1", path)
    return licd.admin("token", "create", "SA-1", "VA-1", "--uses", "5").strip()


def start_sbcd(wd, licd, uas_port, release="17.6.1a", periodicity="days 1",
               transport="smart", interval="license smart usage interval 1"):
    return LicSbcd(BIN["sbcd"], uas_port, wd, args=["--test-clock"], periodicity=periodicity,
                   release=release, licd_port=licd.port, ca_file=licd.ca,
                   max_duration=14400, grace=5, transport=transport,
                   interval=interval)


def establish_trust(sbc, token, policy="Test Policy"):
    out = sbc.ctl("license", "smart", "trust", "idtoken", token, "local").stdout
    assert "Trust established with the license server" in out, out
    st = sbc.wait_status(lambda s: s["trust_code_installed"] is not None,
                         what="trust installed")
    assert st["policy"]["name"] == policy, st["policy"]
    assert st["account"] == {"smart_account": "SA-1", "virtual_account": "VA-1"}, st
    text = sbc.ctl("show", "license", "status").stdout
    assert "  Smart Account: SA-1 As of " in text and "  Virtual Account: VA-1\n" in text, text
    return st


def use_one_license(sbc, uac, uas):
    """One call whose hour closes with the value 1, so that first use is set
    (and the ACK deadline exists). An hour's value is the rounded average
    of its top 3 minutes and a minute's of its top 3 seconds: the call is up
    for 2+ seconds in each of two minutes (the clock jumps a minute in
    between), then the clock jumps past the hour."""
    c, b = Caller(uac, sbc.port), Callee(uas)
    established_call(c, b)
    time.sleep(2.3)
    sbc.advance("61s")
    time.sleep(2.3)
    hang_up(c, b)
    sbc.advance("1h")


def call_and_hang_up(uac, uas, sbc_port, hold=1.2):
    c, b = Caller(uac, sbc_port), Callee(uas)
    established_call(c, b)
    time.sleep(hold)
    hang_up(c, b)


# --------------------------------------------------------------------------


def test_report_ack(wd):
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port)
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            token = account(licd)
            establish_trust(sbc, token)
            st = sbc.status()
            assert st["usage_reporting"]["next_ack_deadline"] is None, st
            use_one_license(sbc, uac, uas)
            # First use, and a change from nothing: that period closes at
            # once, its report goes out signed and licd's ACK installs.
            st = sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                 what="the first ACK")
            ur = st["usage_reporting"]
            first_ack = ur["last_ack_received"]
            assert ur["last_report_push"] is not None, st
            # After an ACK the deadline is that ACK + 30 days (the policy).
            assert ur["next_ack_deadline"] == first_ack + 30 * 86400, ur
            # A day later the scheduled period closes: another report, a
            # later ACK, a later deadline.
            sbc.advance("1d")
            st = sbc.wait_status(
                lambda s: s["usage_reporting"]["last_ack_received"] > first_ack,
                what="the second ACK")
            ur = st["usage_reporting"]
            assert ur["next_ack_deadline"] == ur["last_ack_received"] + 30 * 86400, ur
            text = sbc.ctl("show", "license", "status").stdout
            last = text.split("Last ACK received: ")[1].split("\n")[0]
            assert last != "<none>" and last.endswith(" UTC"), text
            assert "Trust Code Installed:\n  Active: PID:" in text, text
            # licd stored the signed reports: the first period carried the
            # call, and In Use is the count of the device's latest record
            # (docs/licd.md). That latest period, after the day's jump, may
            # hold the call or not: the sample taken at the jump carries the
            # peak of the interval before it when no tick ran in between.
            con = sqlite3.connect(os.path.join(sbc.state, "sbcd.db"))
            try:
                std_rows = con.execute(
                    "SELECT count FROM lic_record WHERE tag = 0 "
                    "ORDER BY period_end, period_start").fetchall()
            finally:
                con.close()
            assert len(std_rows) == 2 and std_rows[0][0] == 1, std_rows
            inv = json.loads(licd.admin("inventory", "SA-1", "VA-1", "--json"))
            std = [t for t in inv["tags"] if t["tag"] == "CUBE_T_STD"][0]
            assert std["in_use"] == std_rows[-1][0], (inv, std_rows)
            dev = json.loads(licd.admin("devices", "SA-1", "VA-1", "--json"))
            assert json.dumps(dev).count(st["trust_code_installed"]["sn"]) >= 1, dev
        licd.stop_clean()
    finally:
        licd.stop()


def test_cslu_poll(wd):
    """cslu: the push is answered 202, the ACK is fetched by the hourly poll."""
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port, transport="cslu")
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            establish_trust(sbc, account(licd))
            use_one_license(sbc, uac, uas)
            # The change from nothing is reported at once: accepted (202),
            # no ACK in the answer.
            sbc.wait_log("%SBC_LIC-6-REPORT_SENT", 10)
            assert "(HTTP 202)" in sbc.text(), sbc.text()[-2000:]
            st = sbc.status()
            assert st["usage_reporting"]["last_ack_received"] is None, st
            assert st["transport"]["type"] == "cslu", st
            # The next hourly check after the push: push + n hours, the
            # first such time after now (the push may have gone out an
            # hour or more before, when the test clock's jump of a minute
            # crossed a wall-clock hour).
            check = st["usage_reporting"]["next_ack_push_check"]
            since = check - st["usage_reporting"]["last_report_push"]
            now = sbc_now(sbc)
            assert since in (3600, 7200) and check >= now - 5, (now, st)
            # An hour later the poll fetches the ACK.
            sbc.advance("1h")
            st = sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                 what="the polled ACK")
            assert st["usage_reporting"]["next_ack_push_check"] is None, st
        licd.stop_clean()
    finally:
        licd.stop()


def test_offline_files(wd):
    """Air-gapped flow: with licd unreachable, the usage goes out as a file
    that sbcctl writes (relative to sbcctl's directory, with the
    operator's rights), licd imports it and writes an ACK file, sbcctl
    sends that back and the ACK installs."""
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port)
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            establish_trust(sbc, account(licd))
            assert licd.stop() == 0  # from now on: files only
            use_one_license(sbc, uac, uas)
            sbc.advance("1d")
            ops = os.path.join(wd, "operator")
            os.makedirs(ops)
            out = sbc.ctl("license", "smart", "save", "usage", "all", "file", "usage.json",
                          cwd=ops).stdout
            assert "Usage report file written to usage.json" in out, out
            path = os.path.join(ops, "usage.json")
            doc = json.load(open(path))
            assert doc["format"] == "sbc-usage" and doc["reports"], doc
            assert not os.path.exists(os.path.join(wd, "usage.json"))
            st = sbc.status()
            assert st["usage_reporting"]["last_report_file_write"] is not None, st
            assert st["usage_reporting"]["last_ack_received"] is None, st
            ack = os.path.join(ops, "ack.json")
            licd.admin("import-usage", path, "--ack-out", ack)
            out = sbc.ctl("license", "smart", "import", "ack.json", cwd=ops).stdout
            assert "Import Data Successful" in out, out
            st = sbc.status()
            assert st["usage_reporting"]["last_ack_received"] is not None, st
            # The same ACK again is a replay: refused, nothing changes.
            p = sbc.ctl("license", "smart", "import", "ack.json", cwd=ops, check=False)
            assert p.returncode == 1 and "replay" in p.stderr, p
            # A file that is not there is the operator's problem, found by
            # sbcctl itself.
            p = sbc.ctl("license", "smart", "import", "missing.json", cwd=ops, check=False)
            assert p.returncode == 1 and "Cannot open missing.json" in p.stderr, p
        licd.stop_clean()
    finally:
        licd.stop()


def test_enforce_17_6_1a(wd):
    enforcement(wd, "17.6.1a", shuts_down=True)


def test_warn_17_9_1(wd):
    enforcement(wd, "17.9.1", shuts_down=False)


def test_default_policy_17_6_1a(wd):
    """17.6.1a on the default policy and the default push interval, as a
    CUBE without a customer policy: the ACK deadline is 90 days after the
    ACK; warnings lead up to it, SIP service goes Down when it passes, and
    comes back with the next ACK."""
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port, release="17.6.1a", interval="!")
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            st = establish_trust(sbc, account(licd, policy=False),
                                 policy="Cisco default")
            per = st["policy"]["groups"]["perpetual"]
            assert per["reporting_frequency_days"] == {"days": 90, "source": "CISCO default"}, per
            assert st["usage_reporting"]["reporting_push_interval_days"] == 30, st
            # The count on the box: the open period's peak so far, the
            # hour still open included, while a call is up.
            c, b = Caller(uac, sbc.port), Callee(uas)
            established_call(c, b)
            time.sleep(2.2)
            text = sbc.ctl("show", "license", "summary").stdout
            assert re.search(r"\nCUBE_T_STD +\(CUBE_T_STD\) +1 IN USE\n", text), text
            text = sbc.ctl("show", "license", "usage").stdout
            assert "CUBE_Trunk_Standard_Session (CUBE_T_STD):\n" in text, text
            assert "  Count: 1\n  Version: 1.0\n  Status: IN USE\n" in text, text
            hang_up(c, b)
            use_one_license(sbc, uac, uas)
            st = sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                 what="the first ACK")
            ack = st["usage_reporting"]["last_ack_received"]
            deadline = st["usage_reporting"]["next_ack_deadline"]
            assert deadline == ack + 90 * 86400, st["usage_reporting"]
            port = licd.port
            assert licd.stop() == 0
            time.sleep(0.5)
            # 89 days after the ACK: warned, still Up.
            sbc.advance(f"{ack + 89 * 86400 - sbc_now(sbc)}s")
            sbc.wait_log("%SMART_LIC-6-REPORTING_REQUIRED: A Usage report "
                         "acknowledgement will be required in 1 days.", 10)
            st = sbc.status()
            assert st["sip_service"] == "Up", st
            text = sbc.ctl("show", "voice", "sip", "license", "status").stdout
            assert "\nSIP service: Up\n" in text, text
            left = re.search(r"\nTime to ACK deadline: (\d+) days?, (\d+) hours?, ", text)
            assert left and int(left[1]) * 24 + int(left[2]) in (23, 24), text
            call_and_hang_up(uac, uas, sbc.port, hold=0.1)
            # 90 days: Down; new INVITEs get 503 with Retry-After.
            sbc.advance(f"{deadline - sbc_now(sbc) + 5}s")
            st = sbc.wait_status(lambda s: s["sip_service"] == "Down",
                                 what="service Down at the deadline")
            sbc.wait_log("will be required in 0 days.", 5)
            sbc.wait_log("%SIP-5-LICENSING: SIP service is Down", 5)
            text = sbc.ctl("show", "voice", "sip", "license", "status").stdout
            assert "\nSIP service: Down\n" in text, text
            c = Caller(uac, sbc.port)
            c.invite()
            r = uac.recv(final_for("INVITE"))
            assert r.status == 503 and r.get("retry-after"), r.raw
            c.ack(r)
            # licd back and a sync: the ACK installs, Up, calls succeed.
            licd = Licd(os.path.join(wd, "licd"), port=port)
            sbc.ctl("license", "smart", "sync", "all")
            st = sbc.wait_status(lambda s: s["sip_service"] == "Up",
                                 what="service Up after the ACK")
            assert st["usage_reporting"]["last_ack_received"] > ack, st
            sbc.wait_log("%SIP-5-LICENSING: SIP service is Up", 5)
            call_and_hang_up(uac, uas, sbc.port, hold=0.1)
        licd.stop_clean()
    finally:
        licd.stop()


def sbc_now(sbc):
    """sbcd's clock (Unix seconds): the `now` of the stats JSON."""
    return json.loads(sbc.ctl("show", "voice", "sip", "license", "stats", "--json").stdout)["now"]


def enforcement(wd, release, shuts_down):
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port, release=release)
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            establish_trust(sbc, account(licd))
            use_one_license(sbc, uac, uas)
            # The jump from no use to one call is a 25% change: that report
            # goes out at once and is acknowledged.
            sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                            what="the first ACK")
            # The server goes away: nothing is acknowledged from now on. A
            # push still in flight ends one way or the other first.
            port = licd.port
            assert licd.stop() == 0
            time.sleep(0.5)
            deadline = sbc.status()["usage_reporting"]["next_ack_deadline"]
            assert deadline is not None
            sbc.advance(f"{deadline - sbc_now(sbc) - 60}s")
            st = sbc.status()
            assert st["sip_service"] == "Up", st
            # A call set up before the deadline...
            early, early_b = Caller(uac, sbc.port), Callee(uas)
            established_call(early, early_b)
            sbc.advance("120s")
            st = sbc.status()
            if shuts_down:
                assert st["sip_service"] == "Down", st
                sbc.wait_log("%SIP-5-LICENSING: SIP service is Down", 5)
                # ...new INVITEs get 503 with Retry-After...
                c = Caller(uac, sbc.port)
                c.invite()
                r = uac.recv(final_for("INVITE"))
                assert r.status == 503 and r.get("retry-after"), r.raw
                c.ack(r)
                # ...OPTIONS are still answered...
                c.send("OPTIONS")
                r = uac.recv(final_for("OPTIONS"))
                assert r.status == 200, r.raw
                # ...and the early call lives on and ends normally.
                hang_up(early, early_b)
                # The server comes back; a sync pushes, the ACK installs,
                # service is Up again and calls succeed.
                licd = Licd(os.path.join(wd, "licd"), port=port)
                sbc.ctl("license", "smart", "sync", "all")
                st = sbc.wait_status(lambda s: s["sip_service"] == "Up",
                                     what="service Up after the ACK")
                assert st["usage_reporting"]["last_ack_received"] is not None, st
                call_and_hang_up(uac, uas, sbc.port, hold=0.1)
            else:
                assert st["sip_service"] == "Up", st
                sbc.wait_log("%SIP-5-LICENSING: usage report acknowledgement overdue", 5)
                call_and_hang_up(uac, uas, sbc.port, hold=0.1)
                hang_up(early, early_b)
        licd.stop_clean()
    finally:
        licd.stop()


def check_store(path):
    """The store opens and SQLite finds it intact."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchall()
        assert ok == [("ok",)], f"{path}: {ok}"
    finally:
        db.close()


def query(path, sql):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def check_tiling(periods, what):
    """Per tag, [start, end) intervals that neither overlap nor leave gaps."""
    for tag, spans in periods.items():
        spans = sorted(spans)
        for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
            assert e0 == s1, f"{what} {tag}: [{s0},{e0}) then [{s1},{e1})"


def test_kill9(wd):
    seed = int(os.environ.get("SBC_TEST_SEED", str(time.time_ns())))
    print(f"kill9: SBC_TEST_SEED={seed}", flush=True)
    rng = random.Random(seed)
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    db = os.path.join(wd, "state", "sbcd.db")
    kills = 0
    sbc = None
    try:
        token = account(licd)
        sbc = start_sbcd(wd, licd, uas.port, periodicity="hours 8")
        establish_trust(sbc, token)
        while kills < 22:
            if sbc is None:
                sbc = start_sbcd(wd, licd, uas.port, periodicity="hours 8")
            if rng.random() < 0.5:
                call_and_hang_up(uac, uas, sbc.port, hold=1.1)
            sbc.advance(f"{rng.randint(1, 30)}h")
            # Periods closed, reports are being pushed: kill somewhere in it.
            time.sleep(rng.choice((rng.uniform(0, 0.02), rng.uniform(0, 0.3))))
            sbc.kill9()
            sbc = None
            kills += 1
            check_store(db)
            text = open(os.path.join(wd, "sbcd.log"), errors="replace").read()
            assert "%SBC_LIC-3-STORE" not in text and "Sanitizer" not in text, text[-3000:]
        # Once more, cleanly: everything still pending is pushed and ACKed.
        sbc = start_sbcd(wd, licd, uas.port, periodicity="hours 8")
        sbc.advance("1h")
        deadline = time.time() + 60
        while query(db, "SELECT (SELECT count(*) FROM lic_report WHERE acked_at IS NULL)"
                        " + (SELECT count(*) FROM lic_record WHERE report_id IS NULL)")[0][0]:
            assert time.time() < deadline, "records still unreported or unacknowledged"
            sbc.ctl("license", "smart", "sync", "all", check=False)
            time.sleep(0.3)
        assert sbc.stop() == 0
        sbc = None
        check_store(db)
        # sbcd's records: all reported and acknowledged; licd holds each once.
        mine = query(db, "SELECT id, tag, period_start, period_end, count, acked_at "
                         "FROM lic_record")
        assert mine, "no usage records"
        assert all(r[5] is not None for r in mine), [r for r in mine if r[5] is None][:5]
        check_store(os.path.join(licd.state, "licd.db"))
        theirs = query(os.path.join(licd.state, "licd.db"),
                       "SELECT record_id, tag, period_start, period_end, count FROM record")
        ids = [r[0] for r in theirs]
        assert len(ids) == len(set(ids)), "licd holds a record twice"
        by_id = {r[0]: r for r in theirs}
        # Wire record ids are "<store epoch>-<row id>".
        epoch = query(db, "SELECT value FROM lic_state WHERE key = 'store.epoch'")[0][0]
        for rid, tag, start, end, count, _ in mine:
            wire = f"{epoch:08x}-{rid}"
            got = by_id.get(wire)
            assert got == (wire, tag, start, end, count), (wire, got)
        periods = {}
        for _, tag, start, end, _ in theirs:
            periods.setdefault(tag, []).append((start, end))
        check_tiling(periods, "licd")
        # ...up to the period open now: no closed period is missing at the end.
        open_start = query(db, "SELECT value FROM lic_state WHERE key = 'period.start'")[0][0]
        for tag, spans in periods.items():
            assert max(e for _, e in spans) == open_start, (tag, max(spans), open_start)
            assert len(spans) == len(periods[0]), f"tag {tag}: {len(spans)} periods"
        for tag, spans in periods.items():
            assert len(spans) == len(set(spans)), f"{tag}: a period reported twice"
        licd.stop_clean()
        print(f"kill9: {kills} kills, {len(mine)} records, "
              f"{len(periods.get(0, []))} periods per tag, all acknowledged once")
    finally:
        if sbc is not None:
            sbc.kill9()
        uas.close()
        uac.close()
        licd.stop()



EVENT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC (SAEVT_[A-Z0-9_]+)( .*)?$")


def eventlog(sbc, *words):
    """show license eventlog [...]: the event names, oldest first."""
    text = sbc.ctl("show", "license", "eventlog", *words).stdout
    lines = text.splitlines()
    assert lines[0] == " **** Event Log ****", text
    names = []
    for line in lines[1:]:
        m = EVENT_LINE.match(line)
        assert m or line == "No EventLog Found.", line
        if m:
            names.append(m.group(1))
    return names, text


def saved(sbc, ops, *form):
    """license smart save usage <form> file <name>: the envelopes written."""
    name = "-".join(form) + ".json"
    out = sbc.ctl("license", "smart", "save", "usage", *form, "file", name, cwd=ops).stdout
    assert f"Usage report file written to {name}" in out, out
    doc = json.load(open(os.path.join(ops, name)))
    assert doc["format"] == "sbc-usage", doc
    return {json.dumps(e, sort_keys=True) for e in doc["reports"]}


def stored(db, where):
    return {json.dumps(json.loads(row[0]), sort_keys=True)
            for row in query(db, "SELECT envelope FROM lic_report WHERE " + where)}


def test_exec_commands(wd):
    """The exec commands of the first day against a real sbcd and licd:
    eventlog after trust and a report, udi, version, clock, call-home,
    tech support, save usage unreported/all/days read back, and clear
    call voice causecode seen as a Reason header by both SIP peers."""
    licd = Licd(os.path.join(wd, "licd"))
    uas, uac = UA(free_port()), UA(free_port())
    sbc = start_sbcd(wd, licd, uas.port)
    db = os.path.join(sbc.state, "sbcd.db")
    try:
        with harness.running(sbc, uas, uac, allowed=ALLOWED):
            st = establish_trust(sbc, account(licd))
            use_one_license(sbc, uac, uas)
            ack0 = sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                   what="the first ACK")["usage_reporting"]["last_ack_received"]
            names, text = eventlog(sbc)
            for a, b in (("SAEVT_READY", "SAEVT_TRUST_INSTALLED"),
                         ("SAEVT_TRUST_INSTALLED", "SAEVT_ENDPOINT_USAGE"),
                         ("SAEVT_REPORT_CREATED", "SAEVT_REPORT_SENT"),
                         ("SAEVT_REPORT_SENT", "SAEVT_ACK_RECEIVED"),
                         ("SAEVT_ACK_RECEIVED", "SAEVT_ACK_INSTALLED")):
                assert a in names and b in names and names.index(a) < names.index(b), text
            assert 'SAEVT_ENDPOINT_USAGE count="1" entitlementTag="CUBE_T_STD"' in text, text
            udi = st["trust_code_installed"]
            assert f'SAEVT_TRUST_INSTALLED udi="PID:{udi["pid"]},SN:{udi["sn"]}"' in text, text
            # Two days on: `days 1` leaves the trust out, the whole log keeps it.
            sbc.advance("2d")
            sbc.ctl("license", "smart", "sync", "all")
            sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"] > ack0,
                            what="a later ACK")
            recent, text1 = eventlog(sbc, "days", "1")
            assert "SAEVT_TRUST_INSTALLED" not in recent and "SAEVT_SYNC_START" in recent, text1
            assert "SAEVT_TRUST_INSTALLED" in eventlog(sbc)[0]

            out = sbc.ctl("show", "license", "udi").stdout
            assert out == f"UDI: PID:{udi['pid']},SN:{udi['sn']}\n", out
            out = sbc.ctl("show", "version").stdout
            assert re.search(r"^lic1 uptime is (\d+ (week|day|hour)s?, )*\d+ minutes?$", out,
                             re.M), out
            assert "2 days" in out, out  # the test clock's jump counts
            assert "License release: 17.6.1a\n  Behaviour: Smart Licensing Using Policy, SIP " \
                   "service Down past the ACK deadline\n" in out, out
            assert f"Platform: {os.uname().sysname} {os.uname().release} " in out, out
            assert f"UDI: PID:{udi['pid']},SN:{udi['sn']}\n" in out, out
            out = sbc.ctl("show", "clock").stdout
            m = re.match(r"^\*(\d\d):(\d\d):(\d\d)\.\d{3} UTC (\w{3}) (\w{3}) (\d+) (\d{4})\n$", out)
            assert m, out  # `*`: the test clock is not authoritative
            now = time.gmtime(sbc_now(sbc))
            assert (int(m.group(7)), int(m.group(6)), m.group(5)) == \
                (now.tm_year, now.tm_mday, time.strftime("%b", now)), (out, now)
            out = sbc.ctl("show", "call-home", "smart-licensing").stdout
            assert f"  Destination URL(s): https://127.0.0.1:{licd.port}/licensing/v1/\n" in out, out
            assert f"  CA file: {licd.ca}\n" in out and "  Transport: smart\n" in out, out
            out = sbc.ctl("show", "license", "tech", "support").stdout
            for part in ("Smart Licensing Tech Support info", "Smart Licensing Status\n=====",
                         "License Usage\n=====", f"UDI: PID:{udi['pid']},SN:{udi['sn']}",
                         "License Event Log\n=====", "SAEVT_ACK_INSTALLED"):
                assert part in out, (part, out)
            m = re.search(r"Attempts: Total=(\d+), Success=(\d+), Fail=(\d+)", out)
            assert m and int(m.group(2)) >= 2 and int(m.group(1)) == int(m.group(2)) + \
                int(m.group(3)), out

            # Save usage: one report waits for its ACK (licd is down), the
            # others are acknowledged.
            assert licd.stop() == 0
            sbc.advance("1d")
            sbc.ctl("license", "smart", "sync", "all")
            deadline = time.time() + 20
            while "SAEVT_COMM_FAIL" not in eventlog(sbc)[0]:
                assert time.time() < deadline, eventlog(sbc)[1]
                time.sleep(0.1)
            ops = os.path.join(wd, "operator")
            os.makedirs(ops)
            unacked, acked = stored(db, "acked_at IS NULL"), stored(db, "acked_at IS NOT NULL")
            assert unacked and acked, (unacked, acked)
            assert saved(sbc, ops, "unreported") == unacked
            assert saved(sbc, ops, "all") == unacked | acked
            day = sbc_now(sbc) - 86400
            recent = stored(db, "EXISTS (SELECT 1 FROM lic_record r WHERE r.report_id = "
                                f"lic_report.report_id AND r.period_end > {day})")
            assert recent and recent != unacked | acked, recent
            assert saved(sbc, ops, "days", "1") == recent
            p = sbc.ctl("license", "smart", "save", "usage", "days", "0", "file", "x.json",
                        cwd=ops, check=False)
            assert p.returncode == 2 and "Bad days 0" in p.stderr, p
            names, text = eventlog(sbc)
            # Retries of the push may come in between.
            assert names.count("SAEVT_USAGE_SAVED") == 3, text
            assert [n for n in names if n != "SAEVT_COMM_FAIL"][-3:] == \
                ["SAEVT_USAGE_SAVED"] * 3, text

            # clear call voice causecode: the Reason header on both BYEs.
            c, b = Caller(uac, sbc.port), Callee(uas)
            established_call(c, b)
            calls = json.loads(sbc.ctl("show", "call", "active", "voice", "brief",
                                       "--json").stdout)["calls"]
            assert len(calls) == 1, calls
            p = sbc.ctl("clear", "call", "voice", "causecode", "128", "id",
                        calls[0]["id_hex"], check=False)
            assert p.returncode == 2 and "Bad cause code 128" in p.stderr, p
            sbc.ctl("clear", "call", "voice", "causecode", "17", "id", calls[0]["id_hex"])
            for ua in (uac, uas):
                bye = ua.recv(request("BYE"))
                assert bye.get("reason") == "Q.850;cause=17", bye.raw
                harness.answer(ua, bye, 200, "OK")
    finally:
        licd.stop()

TESTS = {
    "report_ack": test_report_ack,
    "cslu_poll": test_cslu_poll,
    "offline_files": test_offline_files,
    "enforce_17_6_1a": test_enforce_17_6_1a,
    "default_policy_17_6_1a": test_default_policy_17_6_1a,
    "warn_17_9_1": test_warn_17_9_1,
    "kill9": test_kill9,
    "exec_commands": test_exec_commands,
}


def main():
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl", "licd"))
    return run_tests(TESTS, args.test, lambda fn, wd: fn(wd), "sbc-lic")


if __name__ == "__main__":
    sys.exit(main())
