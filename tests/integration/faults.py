#!/usr/bin/env python3
"""Faults: sbcd under a dead, slow or failing license server, a full disk
and SIGKILL under load. Each test starts its own processes on free
loopback ports in a temporary directory and stops them by pid.

  licd_down_days   licd stopped while sbcd's test clock runs 4 days in 8 h
                   steps with calls up across every step; licd started
                   again on the same store; a sync delivers every period's
                   records exactly once and each report is acknowledged
  licd_slow_500    a fault-injecting HTTPS proxy between sbcd and licd
                   answers 500, then 500 after passing the report on,
                   then stalls past sbcd's HTTP timeout after passing it
                   on, then passes through; SIPp calls run all along and
                   all succeed; the retries follow the backoff (no storm),
                   every failure is logged, and at the end licd holds every
                   record once and every report is acknowledged
  disk_full        the state dir on a small tmpfs, filled up while SIPp
                   calls run: the calls go on, the store failure is logged
                   at error level, and once space is freed the usage
                   tables and the licensing records are written again
  kill9_load       sbcd killed with SIGKILL under about 300 concurrent
                   SIPp calls: on restart the usage-table rows and the
                   licensing records saved before the kill are intact,
                   the store passes PRAGMA integrity_check, and new calls
                   go through

usage: faults.py --sbcd PATH --sbcctl PATH --licd PATH --sipp PATH TEST
"""
import calendar
import random
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "sipp-scenarios"))
import harness  # noqa: E402
import licensing  # noqa: E402
import run as sipp_run  # noqa: E402  (sipp-scenarios/run.py)
from harness import (BIN, Callee, Caller, Licd, UA, command_line,  # noqa: E402
                     established_call, free_port, hang_up, run_tests)
from licensing import account, establish_trust, check_store, query  # noqa: E402

# Two callees: SIPp's UAS for numbers 1..., a hand-played callee
# (harness.UA) for numbers 2..., so that scripted calls and a SIPp load can
# share one sbcd.
FAULT_CONFIG = "hostname fault1\n" + licensing.SIP_SERVICE + """  listen tcp 127.0.0.1 {sbc_port}
!
sip-ua
 timers expires {expires_ms}
!
call threshold global max-calls 100000
""" + licensing.CALLS_TO_UAS + """dial-peer voice 300 voip
 destination-pattern 2T
 session target ipv4:127.0.0.1:{uas2_port}
 session transport udp
!
license release {release}
license smart transport {transport}
{url_line}
license smart usage interval 1
!
end
"""

# Error-level lines these tests cause on purpose.
ALLOWED = licensing.ALLOWED + ("%SBC-3-STORE", "%SBC_LIC-3-STORE")

# Table ids of usage_bucket.tbl, and how long one bucket of each is.
TBL_SECONDS, TBL_MINUTES, TBL_HOURS, TBL_DAYS = 0, 1, 2, 3
BUCKET_S = {0: 1, 1: 60, 2: 3600, 3: 86400}
ROWS = {0: 60, 1: 60, 2: 72, 3: 72}


def log(msg):
    print("[faults] " + msg, flush=True)


class FaultSbcd(licensing.LicSbcd):
    """An sbcd with the config above. licd = (url, ca_file) or None."""

    def __init__(self, wd, uas_port, uas2_port=None, licd=None, periodicity="hours 8",
                 release="17.6.1a", transport="smart", expires_ms=180000,
                 max_duration=14400, grace=5, test_clock=True):
        if licd:
            url_line = ("license smart url %s\nlicense smart ca-file %s" % licd)
        else:
            url_line = "!"
        super().__init__(BIN["sbcd"], uas_port, wd,
                         args=["--test-clock"] if test_clock else [],
                         uas2_port=uas2_port or free_port(), periodicity=periodicity,
                         release=release, transport=transport, url_line=url_line,
                         expires_ms=expires_ms, max_duration=max_duration, grace=grace)

    CONFIG = FAULT_CONFIG

    def alive(self):
        return self.proc.poll() is None

    def advance_to(self, target, step=150):
        """Move the test clock forward to about `target` (sbcd's Unix
        seconds, not beyond) in steps of at most `step` s, 1.5 s apart: a
        call in its early state (ringing) while the clock jumps by more
        than `timers expires` would be ended by the no-answer timer, which
        a SIPp load must not see. Every call of the loads here is over well
        within 1.5 s, so no call sees two jumps."""
        while True:
            left = int(target - self.now()) - 1
            if left <= 0:
                return
            self.advance("%ds" % min(step, left))
            if left > step:
                time.sleep(1.5)

    def now(self):
        """sbcd's clock (Unix seconds)."""
        return licensing.sbc_now(self)

    def error_lines(self, allowed=ALLOWED):
        return [l for l in self.text().splitlines()
                if ("-3-" in l or "Sanitizer" in l or "runtime error" in l)
                and not any(a in l for a in allowed)]


def keep_log(wd, name):
    """Move sbcd.log aside (a restarted Sbcd truncates it)."""
    src = os.path.join(wd, "sbcd.log")
    if os.path.exists(src):
        os.replace(src, os.path.join(wd, name))


# ------------------------------------------------------------------- SIPp

class Sipp(harness.Sipp):
    """A SIPp UAS or UAC of the basic scenario, with its statistics files
    named after `tag` in the work dir (run.py's command lines)."""

    def __init__(self, wd, tag):
        super().__init__(BIN["sipp"], wd, tag)

    def result(self):
        return sipp_run.SippResult(self.tag, self.path("stat.csv"), self.path("screen.log"))

    def check(self, want_calls=None):
        """Every call successful, none failed; returns the result."""
        r = self.result()
        ok = r.failed == 0 and r.successful and (want_calls is None or
                                                  r.successful == want_calls)
        assert ok, ("%s: %s (want %s successful, 0 failed)\n%s"
                    % (self.tag, r.describe(), want_calls or "all",
                       harness.head(self.path("errors.log"), 2000)))
        return r


# --------------------------------------------------------------- helpers

def records(db):
    """sbcd's usage records: {id: (tag, start, end, count)}."""
    return {r[0]: tuple(r[1:]) for r in query(
        db, "SELECT id, tag, period_start, period_end, count FROM lic_record")}


def pending(db):
    """Reports not acknowledged + records not in any report."""
    return query(db, "SELECT (SELECT count(*) FROM lic_report WHERE acked_at IS NULL)"
                     " + (SELECT count(*) FROM lic_record WHERE report_id IS NULL)")[0][0]


def sync_until_acked(sbc, db, timeout=60):
    """`license smart sync all` until every record is in an acknowledged
    report."""
    deadline = time.time() + timeout
    while pending(db):
        assert time.time() < deadline, "records still unreported or unacknowledged:\n" + \
            sbc.text()[-3000:]
        sbc.ctl("license", "smart", "sync", "all", check=False)
        time.sleep(0.5)


def check_delivered_once(db, licd_state):
    """Every record of sbcd's store is acknowledged and held by licd
    exactly once with the same values; per tag the periods tile time up
    to the open period. Returns (records, periods per tag)."""
    mine = query(db, "SELECT id, tag, period_start, period_end, count, acked_at, report_id"
                     " FROM lic_record")
    assert mine, "no usage records"
    unacked = [r for r in mine if r[5] is None]
    assert not unacked, "records not acknowledged: %s" % unacked[:5]
    check_store(os.path.join(licd_state, "licd.db"))
    theirs = query(os.path.join(licd_state, "licd.db"),
                   "SELECT record_id, tag, period_start, period_end, count FROM record")
    ids = [r[0] for r in theirs]
    assert len(ids) == len(set(ids)), "licd holds a record twice"
    by_id = {r[0]: r for r in theirs}
    epoch = query(db, "SELECT value FROM lic_state WHERE key = 'store.epoch'")[0][0]
    for rid, tag, start, end, count, _, _ in mine:
        wire = "%08x-%d" % (epoch, rid)
        got = by_id.get(wire)
        assert got == (wire, tag, start, end, count), ("record lost or changed", wire, got)
    assert len(theirs) == len(mine), "licd holds %d records, sbcd %d" % (len(theirs), len(mine))
    periods = {}
    for _, tag, start, end, _ in theirs:
        periods.setdefault(tag, []).append((start, end))
    licensing.check_tiling(periods, "licd")
    for tag, spans in periods.items():
        assert len(spans) == len(set(spans)), "tag %s: a period reported twice" % tag
    open_start = query(db, "SELECT value FROM lic_state WHERE key = 'period.start'")[0][0]
    for tag, spans in periods.items():
        assert max(e for _, e in spans) == open_start, (tag, max(spans), open_start)
    # Each report sbcd has acknowledged reached licd once.
    rep_mine = [r[0] for r in query(db, "SELECT report_id FROM lic_report")]
    rep_theirs = [r[0] for r in query(os.path.join(licd_state, "licd.db"),
                                      "SELECT report_id FROM report")]
    assert len(rep_theirs) == len(set(rep_theirs)), "licd stored a report twice"
    missing = set(rep_mine) - set(rep_theirs)
    assert not missing, "reports licd never stored: %s" % sorted(missing)[:5]
    return mine, periods


def report_summary(sbc):
    """The Usage Report Summary of `show license all` (records)."""
    text = sbc.ctl("show", "license", "all").stdout
    m = re.search(r"Total: (\d+),  Purged: (\d+)\n"
                  r"Total Acknowledged Received: (\d+),  Waiting for Ack: (\d+)\n"
                  r"Available to Report: (\d+)", text)
    assert m, text
    return dict(zip(("total", "purged", "acked", "waiting", "available"),
                    map(int, m.groups())))


def log_time(stamp):
    """A log line's timestamp (sbcd's clock, the test clock included) as
    Unix seconds."""
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + \
        int(stamp[20:23]) / 1000.0


COMM_FAILED_RE = re.compile(
    r"^(\S+) %SMART_LIC-3-COMM_FAILED: usage report (\S+) push failed \((.*)\); "
    r"retry in (-?\d+) s", re.M)


def comm_failures(text):
    """(time, report id, why, retry-in seconds) of each COMM_FAILED line."""
    return [(log_time(m.group(1)), m.group(2), m.group(3), int(m.group(4)))
            for m in COMM_FAILED_RE.finditer(text)]


def check_backoff(text):
    """Per report, the failed pushes logged: retry k announced within
    [c/2, c] for c = min(6 h, 60 s * 2^k), and the next attempt not before
    it was due. Returns the number of failures checked."""
    by_id = {}
    for t, rid, _, delay in comm_failures(text):
        by_id.setdefault(rid, []).append((t, delay))
    for rid, fails in by_id.items():
        for k, (t, delay) in enumerate(fails):
            ceil = min(6 * 3600, 60 * 2 ** k)
            assert ceil - ceil // 2 <= delay <= ceil, \
                "report %s: retry %d announced in %d s (backoff ceiling %d s)" % (
                    rid, k, delay, ceil)
            if k + 1 < len(fails):
                nxt = fails[k + 1][0]
                assert nxt >= t + delay - 1.0, \
                    "report %s: attempt %d %.1f s after the failure, due after %d s" % (
                        rid, k + 2, nxt - t, delay)
    return sum(len(v) for v in by_id.values())


# ------------------------------------------------------ licd down for days

def test_licd_down_days(wd):
    """licd stopped; sbcd's clock runs 4 days in 8-hour steps (its
    periodicity) with a call up across every step and another one placed
    between steps; licd comes back on the same store and port; a sync
    pushes everything: each period's records reach licd once, every
    report is acknowledged."""
    licd = Licd(os.path.join(wd, "licd"))
    uas1, uas2, uac = UA(free_port()), UA(free_port()), UA(free_port())
    db = os.path.join(wd, "state", "sbcd.db")
    sbc = FaultSbcd(wd, uas1.port, uas2.port, licd=(
        "https://127.0.0.1:%d/licensing/v1/" % licd.port, licd.ca),
        max_duration=604800)
    try:
        with harness.running(sbc, uas1, uas2, uac, allowed=ALLOWED):
            establish_trust(sbc, account(licd))
            licensing.use_one_license(sbc, uac, uas1)
            st = sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                 what="the first ACK")
            first_ack = st["usage_reporting"]["last_ack_received"]
            before = len(records(db))
            port = licd.port
            assert licd.stop() == 0
            log("licd stopped after the first ACK (%d records so far)" % before)
            steps = 12
            for i in range(steps):
                # A call is up while the clock jumps 8 h (call max-duration
                # is 7 days); it ends normally after the jump.
                c, b = Caller(uac, sbc.port), Callee(uas1 if i % 2 else uas2)
                c.number = "15551234" if i % 2 else "25551234"
                established_call(c, b)
                time.sleep(1.1)
                sbc.advance("8h")
                time.sleep(0.4)
                hang_up(c, b)
                assert sbc.alive(), "sbcd died"
                st = sbc.status()
                assert st["sip_service"] == "Up", st
            time.sleep(1.5)
            text = sbc.text()
            fails = comm_failures(text)
            now = len(records(db))
            unacked = query(db, "SELECT count(*) FROM lic_report WHERE acked_at IS NULL")[0][0]
            log("%d steps of 8 h with licd down: %d records (%d new), %d reports waiting, "
                "%d failed pushes logged" % (steps, now, now - before, unacked, len(fails)))
            assert now - before >= 4 * (steps - 1), "too few records while licd was down"
            assert unacked >= 1, "no report waiting for licd"
            assert fails, "no COMM_FAILED line while licd was down"
            # What the operator is shown: every record kept, the first
            # four acknowledged, the rest waiting or still to report.
            summ = report_summary(sbc)
            assert summ["total"] == now and summ["acked"] == before, summ
            assert summ["waiting"] + summ["available"] == now - before, summ
            # No storm: each report retried only when its backoff said.
            check_backoff(text)
            # licd back on the same store and port.
            licd = Licd(os.path.join(wd, "licd"), port=port)
            sbc.ctl("license", "smart", "sync", "all")
            sync_until_acked(sbc, db)
            st = sbc.status()
            assert st["usage_reporting"]["last_ack_received"] > first_ack, st
            mine, periods = check_delivered_once(db, licd.state)
            per_tag = min(len(v) for v in periods.values())
            assert per_tag >= steps, "only %d periods per tag" % per_tag
            summ = report_summary(sbc)
            assert summ == {"total": len(mine), "purged": 0, "acked": len(mine),
                            "waiting": 0, "available": 0}, summ
            log("licd back: %d records in %d periods per tag delivered once, all "
                "acknowledged" % (len(mine), per_tag))
        check_store(db)
        licd.stop_clean()
    finally:
        licd.stop()


# --------------------------------------------------------- slow / 500 proxy

class FaultProxy:
    """A TLS-terminating HTTP proxy in front of licd, presenting licd's own
    certificate and key (sbcd's ca-file is licd's server.crt, so sbcd
    trusts it as it trusts licd). One request per connection (sbcd sends
    Connection: close). Modes:

      pass        forward to licd, relay its answer
      500         answer 500 without forwarding
      fwd_500     forward to licd (which stores the report and ACKs it),
                  drop licd's answer, answer 500
      fwd_stall   forward to licd, drop its answer, answer nothing and
                  hold the connection until the client gives up
    """

    def __init__(self, licd):
        self.licd = licd
        self.mode = "pass"
        self.attempts = []  # (time, mode, path)
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ctx.load_cert_chain(os.path.join(licd.state, "server.crt"),
                                        os.path.join(licd.state, "tls.key"))
        self.client_ctx = ssl.create_default_context(cafile=licd.ca)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def count(self, path_part, mode=None):
        with self.lock:
            return sum(1 for _, m, p in self.attempts
                       if path_part in p and (mode is None or m == mode))

    def serve(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    @staticmethod
    def read_http(s):
        """One HTTP message (head + Content-Length body), or None."""
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = s.recv(65536)
            if not data:
                return None
            buf += data
        head, _, body = buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(body) < n:
            data = s.recv(65536)
            if not data:
                break
            body += data
        return head, body

    def forward(self, head, body):
        """Send the request to licd; its answer (bytes) or None."""
        raw = socket.create_connection(("127.0.0.1", self.licd.port), timeout=10)
        with self.client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(head + b"\r\n\r\n" + body)
            got = self.read_http(s)
        if got is None:
            return None
        return got[0] + b"\r\n\r\n" + got[1]

    def handle(self, conn):
        conn.settimeout(120)
        try:
            with self.server_ctx.wrap_socket(conn, server_side=True) as s:
                got = self.read_http(s)
                if got is None:
                    return
                head, body = got
                path = head.split(b"\r\n", 1)[0].decode(errors="replace")
                mode = self.mode
                with self.lock:
                    self.attempts.append((time.time(), mode, path))
                if mode == "500":
                    s.sendall(b"HTTP/1.1 500 Internal Server Error\r\n"
                              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                answer = self.forward(head, body)
                if mode == "pass" and answer is not None:
                    s.sendall(answer)
                elif mode == "fwd_500":
                    s.sendall(b"HTTP/1.1 500 Internal Server Error\r\n"
                              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                elif mode == "fwd_stall":
                    # Until sbcd gives up and closes (its HTTP timeout).
                    while not self.stop_ev.is_set():
                        try:
                            if not s.recv(1):
                                break
                        except socket.timeout:
                            break
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.stop_ev.set()
        self.sock.close()


def wait_until(pred, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    while not pred():
        assert time.time() < deadline, "no %s within %.0f s" % (what, timeout)
        time.sleep(interval)


def test_licd_slow_500(wd):
    """A proxy between sbcd and licd fails in four ways in turn while a
    SIPp load runs; the retries follow the backoff, the failures are
    logged, calls succeed, and in the end nothing is lost or doubled."""
    licd = Licd(os.path.join(wd, "licd"))
    proxy = FaultProxy(licd)
    uas = Sipp(wd, "uas")
    uac = Sipp(wd, "uac")
    db = os.path.join(wd, "state", "sbcd.db")
    sbc = None
    try:
        uas_port = uas.start_uas()
        sbc = FaultSbcd(wd, uas_port, licd=(
            "https://127.0.0.1:%d/licensing/v1/" % proxy.port, licd.ca), release="17.9.1")
        establish_trust(sbc, account(licd))
        assert proxy.count("trust") >= 1, proxy.attempts
        # Just past an hour: the retries below move the clock by about
        # 20 minutes with calls up, and no hour may close meanwhile (the
        # calls' hour would close on change and bring a report of its own).
        sbc.advance_to((sbc.now() // 3600 + 1) * 3600 + 30, step=86400)
        # The first report: the period closes (8 h) and the push goes out
        # into the fault.
        proxy.mode = "500"
        t_mark = len(sbc.text())
        sbc.advance("9h")
        wait_until(lambda: comm_failures(sbc.text()[t_mark:]), 15, "first failed push")
        pushes = lambda: len(proxy.attempts) - proxy.count("trust")  # noqa: E731
        assert pushes() == 1, proxy.attempts
        # Calls all along from here.
        uac.start_uac(sbc.port, calls=100000, rate=20, hold_ms=1000)
        t0 = time.time()
        # No storm: nothing more until the backoff delay has passed.
        time.sleep(3)
        assert pushes() == 1, "pushes without backoff: %s" % proxy.attempts
        # Retries 1 and 2 answered 500 (the second after licd stored the
        # report), retry 3 passed on to licd and then stalled past sbcd's
        # 60 s HTTP timeout, retry 4 passes through.
        for n, mode in ((2, "500"), (3, "fwd_500"), (4, "fwd_stall"), (5, "pass")):
            proxy.mode = mode
            before = pushes()
            t_fail, _, _, delay = comm_failures(sbc.text()[t_mark:])[-1]
            # A few seconds short of the retry: no push yet.
            sbc.advance_to(t_fail + delay - 4)
            time.sleep(1)
            assert pushes() == before, "push before its backoff delay: %s" % proxy.attempts
            sbc.advance("6s")
            wait_until(lambda: pushes() == before + 1, 15, "retry %d" % (n - 1))
            if mode == "pass":
                break
            t_wait = time.time()
            timeout = 80 if mode == "fwd_stall" else 15
            wait_until(lambda: len(comm_failures(sbc.text()[t_mark:])) == n, timeout,
                       "the failure of push %d logged" % n, interval=0.5)
            if mode == "fwd_stall":
                stalled = time.time() - t_wait
                log("push %d stalled %.0f s until sbcd's HTTP timeout" % (n, stalled))
                assert stalled > 50, stalled
                # Only that one push while it hung.
                assert pushes() == before + 1, proxy.attempts
            assert sbc.alive(), "sbcd died"
            # The control socket answers during all this.
            assert sbc.status()["sip_service"] == "Up"
        sbc.wait_status(lambda s: query(db, "SELECT count(*) FROM lic_report"
                                            " WHERE acked_at IS NULL")[0][0] == 0,
                        timeout=20, what="every report acknowledged")
        text = sbc.text()[t_mark:]
        fails = comm_failures(text)
        log("proxy saw %d pushes: %s" % (pushes(), [m for _, m, p in proxy.attempts
                                                    if "trust" not in p]))
        whys = [f[2] for f in fails]
        log("failures logged: %s" % ["%s, retry in %d s" % (f[2], f[3]) for f in fails])
        assert len(fails) == 4, whys
        assert whys[:3] == ["HTTP 500"] * 3, whys
        assert "timed out" in whys[3], whys
        check_backoff(text)
        # Calls ran through all of it.
        uac.soft_stop()
        r = uac.check()
        log("SIPp during the faults: %s over %.0f s" % (r.describe(), time.time() - t0))
        # Reports of the usage of the calls too, through the healthy proxy.
        sbc.advance("9h")
        sync_until_acked(sbc, db)
        mine, periods = check_delivered_once(db, licd.state)
        log("%d records in %d periods per tag: each held once by licd, all acknowledged"
            % (len(mine), min(len(v) for v in periods.values())))
        rc = sbc.stop()
        sbc.check_clean_exit(rc, ALLOWED)
        sbc = None
        check_store(db)
        licd.stop_clean()
    finally:
        uac.kill()
        uas.kill()
        proxy.close()
        if sbc is not None:
            sbc.stop()
        licd.stop()


# ------------------------------------------------------------- disk full

def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
                        "tmpfs", path], capture_output=True, text=True)
    assert p.returncode == 0, (
        "disk_full needs a small tmpfs for sbcd's state dir and could not mount one "
        "(`mount -t tmpfs -o size=%s tmpfs %s` failed: %s). The test must run as root "
        "(or with CAP_SYS_ADMIN)." % (size, path, (p.stderr or p.stdout).strip()))


def umount(path):
    for _ in range(10):
        p = subprocess.run(["umount", path], capture_output=True, text=True)
        if p.returncode == 0:
            return
        time.sleep(0.3)
    subprocess.run(["umount", "-l", path], capture_output=True)


def fill(path):
    """Write zeros to `path` until the file system is full; bytes written."""
    n = 0
    with open(path, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        while True:
            try:
                n += f.write(chunk)
            except OSError:
                break
        small = b"\0" * 512
        while True:
            try:
                n += f.write(small)
            except OSError:
                return n


def bucket_rows(db, tbl, after=None):
    q = "SELECT start, agg FROM usage_bucket WHERE tbl = %d" % tbl
    if after is not None:
        q += " AND start >= %d" % after
    return dict(query(db, q))


def lic_state(db, key):
    rows = query(db, "SELECT value FROM lic_state WHERE key = '%s'" % key)
    return rows[0][0] if rows else None


def test_disk_full(wd):
    """The state dir is a 4 MB tmpfs, filled up twice while SIPp places
    calls: the first time across the close of a minute and an hour, the
    second time across the close of a licensing period. sbcctl's `test
    clock advance` needs the disk (it saves the offset), so the clock is
    brought to a few seconds before each boundary first, and the boundary
    then passes in real time while the disk is full."""
    state = os.path.join(wd, "state")
    mount_tmpfs(state, "4m")
    uas = Sipp(wd, "uas")
    uacs = []
    sbc = None
    db = os.path.join(state, "sbcd.db")
    filler = os.path.join(state, "filler")

    def calls(tag, n, rate=100, hold_ms=1000):
        u = Sipp(wd, tag)
        uacs.append(u)
        u.start_uac(sbc.port, calls=n, rate=rate, hold_ms=hold_ms)
        return u

    def fill_up(what):
        n = fill(filler)
        log("%s: state dir full (%d bytes of filler) at sbcd time %d" % (what, n, sbc.now()))

    def free(what):
        os.unlink(filler)
        t = sbc.now()
        log("%s: filler removed at sbcd time %d" % (what, t))
        return t

    try:
        uas_port = uas.start_uas()
        sbc = FaultSbcd(wd, uas_port, transport="off")
        time.sleep(1.5)
        # 1. A minute and an hour close while the disk is full, with calls.
        hour = (sbc.now() // 3600 + 1) * 3600
        sbc.advance_to(hour - 6, step=86400)  # no calls up yet
        time.sleep(1.2)
        u = calls("uac_full1", 1000)
        time.sleep(1.5)
        fill_up("fault 1")
        sbc.wait_log("%SBC-3-STORE", 10)
        line = [l for l in sbc.text().splitlines() if "%SBC-3-STORE" in l][0]
        log("logged: " + line[25:])
        assert "full" in line, line
        wait_until(lambda: sbc.now() >= hour + 3, 15, "the hour's end")
        st = sbc.status()  # the control socket works with a full disk
        assert st["sip_service"] == "Up", st
        t_free1 = free("fault 1")
        u.wait(60)
        u.check(1000)
        time.sleep(2.5)
        secs = bucket_rows(db, TBL_SECONDS, after=t_free1 + 1)
        assert len(secs) >= 2, "no seconds rows written after space came back: %s" % secs
        assert max(secs.values()) > 0, secs
        # The buckets that closed while the disk was full are written too.
        mins, hours = bucket_rows(db, TBL_MINUTES), bucket_rows(db, TBL_HOURS)
        assert mins.get(hour - 60, 0) > 0, (
            "the minute closed while the disk was full was never written: %s" %
            sorted(mins.items())[-3:])
        assert hour - 3600 in hours, (
            "the hour closed while the disk was full was never written: %s" %
            sorted(hours.items())[-3:])
        # The licensing agent held its store work for 60 s after the
        # failed write (it records first use with that hour): past it, the
        # hour goes in and closes its period on change (from no use).
        sbc.advance("61s")
        wait_until(lambda: len(records(db)) >= 4, 10, "the records of the hour")
        # 2. A licensing period ends while the disk is full, with calls.
        period_end = lic_state(db, "period.start") + 8 * 3600
        recs_before = len(records(db))
        sbc.advance_to(period_end - 5, step=86400)  # no calls up
        time.sleep(1.2)
        u = calls("uac_full2", 800)
        time.sleep(1.5)
        fill_up("fault 2")
        wait_until(lambda: sbc.now() >= period_end + 3, 15, "the period's end")
        assert len(records(db)) == recs_before, "records written to a full disk?"
        t_free2 = free("fault 2")
        u.wait(60)
        u.check(800)
        # The agent tries its store again when its hold (60 s after the
        # failed write) is over: move the clock there (no calls are up).
        sbc.advance("60s")
        wait_until(lambda: len(records(db)) > recs_before, 10,
                   "the period's records after space came back")
        new = [r for r in records(db).values() if r[2] == period_end]
        log("period ending %d: %d records written after space came back: %s"
            % (period_end, len(new), new))
        assert len(new) == 4, new
        # 3. Calls and tables as usual afterwards.
        u = calls("uac_after", 300, hold_ms=500)
        u.wait(60)
        u.check(300)
        time.sleep(1.5)
        secs = bucket_rows(db, TBL_SECONDS, after=t_free2 + 1)
        assert len(secs) >= 3 and max(secs.values()) > 0, secs
        assert sbc.alive()
        text = sbc.text()
        errs = [l for l in text.splitlines() if "-3-" in l]
        log("%d error-level lines logged in all: %s" % (
            len(errs), [re.sub(r"^\S+ ", "", l)[:110] for l in errs]))
        # One line per failed attempt, not one per second: the usage
        # tables say it at most once a minute, the licensing agent once per
        # hold (60 s, doubling).
        assert len(errs) <= 4, errs
        assert text.count("%SBC-5-STORE: usage tables saved again") == 2, \
            "no notice that the usage tables are saved again"
        rc = sbc.stop()
        sbc.check_clean_exit(rc, ALLOWED)
        sbc = None
        check_store(db)
    finally:
        for u in uacs:
            u.kill()
        uas.kill()
        if sbc is not None:
            sbc.stop()
        if os.path.exists(filler):
            os.unlink(filler)
        umount(state)


# ----------------------------------------------------------- kill -9 load

def snapshot(db):
    """What a reader sees in the store now (read-only, WAL): the usage
    tables' rows and the licensing records and reports."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        con.execute("BEGIN")  # one consistent read
        buckets = {(t, s): row for t, s, *row in con.execute(
            "SELECT tbl, start, std, enh, red, vgw, agg FROM usage_bucket")}
        recs = {r[0]: tuple(r[1:]) for r in con.execute(
            "SELECT id, tag, period_start, period_end, count FROM lic_record")}
        acked = {r[0] for r in con.execute(
            "SELECT report_id FROM lic_report WHERE acked_at IS NOT NULL")}
        con.execute("COMMIT")
    finally:
        con.close()
    return buckets, recs, acked


def pruned_ok(tbl, start, after_buckets):
    """A row the running sbcd may have pruned legitimately after the
    snapshot: older than twice its table's window before the newest bucket
    of the table above (stats/store.c KEEP_FACTOR 2)."""
    above = [s for (t, s) in after_buckets if t == tbl + 1]
    return bool(above) and start < max(above) - 2 * ROWS[tbl] * BUCKET_S[tbl]


def test_kill9_load(wd):
    licd = Licd(os.path.join(wd, "licd"))
    uas = Sipp(wd, "uas")
    uac = Sipp(wd, "uac_load")
    db = os.path.join(wd, "state", "sbcd.db")
    sbc = None
    try:
        token = account(licd)
        uas_port = uas.start_uas()
        lic = ("https://127.0.0.1:%d/licensing/v1/" % licd.port, licd.ca)
        sbc = FaultSbcd(wd, uas_port, licd=lic)
        establish_trust(sbc, token)
        # Licensing records and acknowledged reports before the load.
        sbc.advance("9h")
        sync_until_acked(sbc, db, timeout=30)
        sbc.advance("8h")
        sync_until_acked(sbc, db, timeout=30)
        # The load: 100 calls/s held 3 s, about 300 calls up.
        uac.start_uac(sbc.port, calls=5000, rate=100, hold_ms=3000)
        time.sleep(4)
        # Two minutes close with calls in them (61 s < timers expires).
        for _ in range(2):
            sbc.advance("61s")
            time.sleep(3)
        c = sbc.counts()
        log("under load: %d calls up" % c["AGGREGATE"])
        assert c["AGGREGATE"] >= 200, c
        # Somewhere in a second: at its tick the sampler writes the store.
        seed = int(os.environ.get("SBC_TEST_SEED", str(time.time_ns())))
        delay = random.Random(seed).uniform(0, 1)
        log("SBC_TEST_SEED=%d: the kill comes %.3f s later" % (seed, delay))
        time.sleep(delay)
        before = snapshot(db)
        sbc.kill9()
        t_kill = time.time()
        log("SIGKILL with %d calls up; the store had %d bucket rows, %d records, "
            "%d acknowledged reports" % (c["AGGREGATE"], len(before[0]), len(before[1]),
                                         len(before[2])))
        uac.kill()
        uas.kill()
        check_store(db)
        after = snapshot(db)
        lost = [k for k, v in before[0].items()
                if after[0].get(k) != v and not (k not in after[0] and
                                                 pruned_ok(k[0], k[1], after[0]))]
        assert not lost, "rows changed or lost by the kill: %s" % [
            (k, before[0][k], after[0].get(k)) for k in lost[:5]]
        assert all(after[1].get(k) == v for k, v in before[1].items()), "records changed"
        assert before[2] <= after[2], "acknowledged reports lost"
        nsec = sum(1 for (t, _), row in before[0].items() if t == TBL_SECONDS and row[4] > 0)
        nmin = sum(1 for (t, _), row in before[0].items() if t == TBL_MINUTES and row[4] > 0)
        assert nsec >= 5 and nmin >= 2, "too little saved under load (%d s, %d min)" % (nsec,
                                                                                        nmin)
        # Start again on the same state dir: clean open, same tables,
        # new calls go through.
        keep_log(wd, "sbcd.killed.log")
        uas = Sipp(wd, "uas2")
        uas_port = uas.start_uas()
        sbc = FaultSbcd(wd, uas_port, licd=lic)
        log("restarted %.1f s after the kill" % (time.time() - t_kill))
        errs = sbc.error_lines(allowed=licensing.ALLOWED)  # no STORE error
        assert not errs, errs
        dump_path = os.path.join(wd, "state", "stats-tables.csv")
        sbc.proc.send_signal(signal.SIGUSR2)
        wait_until(lambda: os.path.exists(dump_path), 5, "stats-tables.csv")
        time.sleep(0.3)
        dump = sipp_run.read_tables_dump(dump_path)
        shown = {start: value for _, start, value, valid in dump.get(("minutes", "AGGREGATE"), [])
                 if valid}
        for (t, start), row in before[0].items():
            if t == TBL_MINUTES and start in shown:
                assert shown[start] == row[4], ("minute %d shows %d, was %d"
                                                % (start, shown[start], row[4]))
        assert any(row[4] > 0 and shown.get(s) == row[4] for (t, s), row in before[0].items()
                   if t == TBL_MINUTES), "the loaded minute is not shown after the restart"
        uac = Sipp(wd, "uac_after")
        uac.start_uac(sbc.port, calls=500, rate=100, hold_ms=500)
        uac.wait(60)
        uac.check(500)
        sbc.wait_idle(10)
        rc = sbc.stop()
        sbc.check_clean_exit(rc, ALLOWED)
        sbc = None
        check_store(db)
        final = snapshot(db)
        assert all(final[1].get(k) == v for k, v in before[1].items()), "records changed"
        log("after the restart: 500 calls, store intact (%d bucket rows, %d records)"
            % (len(final[0]), len(final[1])))
        licd.stop_clean()
    finally:
        uac.kill()
        uas.kill()
        if sbc is not None:
            sbc.stop()
        licd.stop()


TESTS = {
    "licd_down_days": test_licd_down_days,
    "licd_slow_500": test_licd_slow_500,
    "disk_full": test_disk_full,
    "kill9_load": test_kill9_load,
}


def main():
    def options(ap):
        ap.add_argument("--sipp", default="sipp")
        ap.add_argument("--keep", action="store_true", help="keep the work dir")
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl", "licd"), more=options)
    BIN.update(sbcd=os.path.abspath(args.sbcd), sbcctl=os.path.abspath(args.sbcctl),
               licd=os.path.abspath(args.licd), sipp=shutil.which(args.sipp) or args.sipp)

    def tails(wd):
        for f in ("sbcd.log", "sbcd.killed.log"):
            p = os.path.join(wd, f)
            if os.path.exists(p):
                print("---- %s (tail):\n%s" % (f, harness.tail(p, 40)))

    return run_tests(TESTS, args.test, lambda fn, wd: fn(wd), "sbc-fault",
                     keep=args.keep, on_fail=tails)


if __name__ == "__main__":
    sys.exit(main())
