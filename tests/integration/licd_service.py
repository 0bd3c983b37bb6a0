#!/usr/bin/env python3
"""licd as a service: many devices, bad input, kill -9.

  two_sbcd   two sbcd instances (1 call on one, 2 concurrent calls on the
             other) report to one licd over HTTPS: the virtual account's
             In Use is the sum of their reported peaks; with Purchased
             below it, `licd inventory` (text and --json) shows the
             `Insufficient Licenses` alert
  bad_input  the bad-request corpus of `licload corpus` (malformed,
             truncated, oversized, wrongly signed, replayed: 500+
             requests) sent over HTTPS: each gets its 4xx, licd keeps
             serving, and a dump of every table of its store is the same
             before and after
  kill9      licd killed with SIGKILL 20 times while `licload load` sends
             reports: after each kill the store passes PRAGMA
             integrity_check and holds every report whose ACK licload
             verified (its acked log, kept across two licload runs), with
             all its records
  slow_clients  256 clients trickle a TLS hello one byte every 2 s (never
             idle, never done): at 256 open connections licd stops
             accepting (a new client's handshake waits; one warning in
             the log), accepts again as soon as some close, and closes
             every slow one at its 30 s deadline

Each test starts its own licd (and sbcds) on free loopback ports in a
temporary directory and stops them by pid.

usage: licd_service.py --sbcd PATH --sbcctl PATH --licd PATH --licload PATH TEST
"""
import json
import os
import random
import re
import select
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (BIN, Callee, Caller, Licd, UA, command_line,  # noqa: E402
                     established_call, free_port, hang_up, run_tests)
from licensing import (ALLOWED, account, check_store, establish_trust, query,  # noqa: E402
                       start_sbcd, use_one_license)
API = "/licensing/v1/"
# Protocol section 4: the error code of each refusal status.
ERROR_CODES = {400: {"malformed"}, 401: {"bad_signature"},
               403: {"unknown_device", "bad_token"}, 404: {"not_found"},
               405: {"method"}, 409: {"udi_bound"}, 411: {"too_large"},
               413: {"too_large"}, 415: {"media_type"}}


def licload(*args, timeout=120):
    """Run licload to completion; its stdout."""
    p = subprocess.run([BIN["licload"], *args], capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"licload {' '.join(args)}: rc {p.returncode}\n"
                             f"{p.stdout}{p.stderr[-3000:]}")
    return p.stdout


def summary(text):
    """The key=value figures of licload load's summary line."""
    line = [l for l in text.splitlines() if l.startswith("licload load:")][-1]
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def base_url(licd):
    return f"https://127.0.0.1:{licd.port}{API}"


def trust_devices(licd, token, keys, n):
    licload("trust", "--url", base_url(licd), "--ca", licd.ca, "--token", token,
            "--devices", str(n), "--keys-dir", keys)


def dump(db):
    """Every table of a SQLite file, rows sorted, and its schema."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        out = {"schema": sorted(con.execute(
            "SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            out[name] = sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        return out
    finally:
        con.close()


# ---------------------------------------------------------------------------
# two_sbcd


def use_licenses(sbc, uac, uas, n):
    """n concurrent calls whose hour closes with the value n: the calls are
    up for 2+ seconds in each of three minutes (the clock jumps a minute in
    between), so that the hour's top-3 average is n; then the clock jumps
    past the hour (use_one_license does this for one call in two minutes,
    which rounds 1 from (1+1+0)/3 but would not give 2 from (2+2+0)/3)."""
    calls = []
    for _ in range(n):
        c, b = Caller(uac, sbc.port), Callee(uas)
        established_call(c, b)
        calls.append((c, b))
    for step in range(3):
        time.sleep(2.3)
        if step < 2:
            sbc.advance("61s")
    for c, b in calls:
        hang_up(c, b)
    sbc.advance("1h")


def records_text(sbc):
    db = os.path.join(sbc.state, "sbcd.db")
    rows = query(db, "SELECT id, tag, period_start, period_end, count, report_id, acked_at "
                     "FROM lic_record ORDER BY id")
    reps = query(db, "SELECT * FROM lic_report")
    return "\n".join(map(repr, rows + reps))


def wait_all_acked(sbc, timeout=20):
    """Every usage record of sbcd reported and acknowledged."""
    db = os.path.join(sbc.state, "sbcd.db")
    deadline = time.time() + timeout
    while query(db, "SELECT (SELECT count(*) FROM lic_report WHERE acked_at IS NULL)"
                    " + (SELECT count(*) FROM lic_record WHERE report_id IS NULL)")[0][0]:
        assert time.time() < deadline, ("records still unreported or unacknowledged:\n"
                                        + records_text(sbc))
        sbc.ctl("license", "smart", "sync", "all", check=False)
        time.sleep(0.3)


def latest_std(sbc):
    """sbcd's own latest CUBE_T_STD record (tag 0): its count."""
    rows = query(os.path.join(sbc.state, "sbcd.db"),
                 "SELECT count FROM lic_record WHERE tag = 0 "
                 "ORDER BY period_end DESC, period_start DESC LIMIT 1")
    assert rows, "sbcd holds no CUBE_T_STD record"
    return rows[0][0]


def std_line(inv):
    return [t for t in inv["tags"] if t["tag"] == "CUBE_T_STD"][0]


def test_two_sbcd(wd):
    licd = Licd(os.path.join(wd, "licd"))
    ua = [UA(free_port()) for _ in range(4)]
    sbcs = []
    try:
        token = account(licd)
        for i in range(2):
            os.makedirs(os.path.join(wd, f"sbc{i}"))
            sbcs.append(start_sbcd(os.path.join(wd, f"sbc{i}"), licd, ua[2 * i].port))
        with harness.running(sbcs[0], ua[0], ua[1], allowed=ALLOWED), \
                harness.running(sbcs[1], ua[2], ua[3], allowed=ALLOWED):
            for sbc in sbcs:
                establish_trust(sbc, token)
            use_one_license(sbcs[0], ua[1], ua[0])
            use_licenses(sbcs[1], ua[3], ua[2], 2)
            # A jump from no use to some is a change of more than 25%: each
            # sbcd closes its period and reports at once.
            for sbc in sbcs:
                sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                                what="an ACK")
                wait_all_acked(sbc)
            peaks = [latest_std(sbc) for sbc in sbcs]
            assert peaks == [1, 2], f"reported peaks {peaks}"
            devs = json.loads(licd.admin("devices", "SA-1", "VA-1", "--json"))
            assert len(devs["devices"]) == 2, devs
            assert sorted(d["latest"]["CUBE_T_STD"] for d in devs["devices"]) == [1, 2], devs
            licd.admin("purchase", "SA-1", "VA-1", "CUBE_T_STD", "3")
            inv = json.loads(licd.admin("inventory", "SA-1", "VA-1", "--json"))
            assert std_line(inv) == {"tag": "CUBE_T_STD", "purchased": 3, "in_use": sum(peaks),
                                     "balance": 0, "alert": None}, inv
            for t in inv["tags"]:
                if t["tag"] != "CUBE_T_STD":
                    assert t["in_use"] == 0 and t["alert"] is None, inv
            text = licd.admin("inventory", "SA-1", "VA-1")
            assert "Insufficient Licenses" not in text, text
            # Purchased below In Use: the alert, in both forms.
            licd.admin("purchase", "SA-1", "VA-1", "CUBE_T_STD", "2")
            inv = json.loads(licd.admin("inventory", "SA-1", "VA-1", "--json"))
            assert std_line(inv) == {"tag": "CUBE_T_STD", "purchased": 2, "in_use": 3,
                                     "balance": -1, "alert": "Insufficient Licenses"}, inv
            text = licd.admin("inventory", "SA-1", "VA-1")
            line = [l for l in text.splitlines() if l.startswith("CUBE_T_STD")]
            assert line and line[0].split() == ["CUBE_T_STD", "2", "3", "-1", "Insufficient",
                                                "Licenses"], text
            assert text.count("Insufficient Licenses") == 1, text
        licd.stop_clean()
        print(f"two_sbcd: peaks {peaks}, In Use {sum(peaks)}, Purchased 2: alert shown")
    finally:
        for sbc in sbcs:  # when the test failed before running() took them
            if sbc.proc.poll() is None:
                sbc.kill9()
        for u in ua:
            u.close()
        licd.stop()


# ---------------------------------------------------------------------------
# bad_input


def read_manifest(corpus):
    cases = []
    with open(os.path.join(corpus, "manifest.tsv")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            file, method, path, ctype, framing, expect, name = line.rstrip("\n").split("\t")
            with open(os.path.join(corpus, file), "rb") as b:
                body = b.read()
            cases.append(dict(file=file, method=method, path=path, ctype=ctype,
                              framing=framing, expect={int(x) for x in expect.split("|")},
                              name=name, body=body))
    return cases


def early_answer(s, timeout):
    """True when the server has sent application data already (kept in
    s.early). Readable is not enough: TLS 1.3 servers send session tickets
    after the handshake, which carry no data."""
    s.early = b""
    if not select.select([s], [], [], 0)[0]:
        return False
    s.setblocking(False)
    try:
        s.early = s.recv(65536)
        return True
    except ssl.SSLWantReadError:
        return False
    finally:
        s.settimeout(timeout)


def https_request(port, ctx, method, target, ctype, framing, body, timeout=20):
    """One HTTP/1.1 request over TLS, written by hand; (status or None,
    headers, body). The body goes in pieces, and sending stops as soon as
    the server has answered (licd refuses some bodies before reading
    them). Framing "raw": `body` is the whole request."""
    head = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    if ctype != "-":
        head.append(f"Content-Type: {ctype}")
    data = b""
    if framing in ("length", "bigheader"):
        head.append(f"Content-Length: {len(body)}")
        data = body
    if framing == "bigheader":
        head.append("X-Pad: " + "p" * 20480)
    if framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        for i in range(0, len(body), 16384):
            piece = body[i:i + 16384]
            data += b"%x\r\n%s\r\n" % (len(piece), piece)
        data += b"0\r\n\r\n"
    request = ("\r\n".join(head) + "\r\n\r\n").encode()
    if framing == "raw":
        request, data = body, b""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    got = b""
    try:
        s.sendall(request)
        off = 0
        while off < len(data):
            if early_answer(s, timeout):
                got = s.early
                break
            off += s.send(data[off:off + 16384])
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    head_text, _, rest = got.partition(b"\r\n\r\n")
    return (int(m.group(1)) if m else None), head_text.decode("latin-1"), rest


def error_code(headers, body):
    """The "error" of a JSON error body, or None for a non-JSON one."""
    if "application/json" not in headers.lower():
        return None
    return json.loads(body.decode())["error"]


def test_bad_input(wd):
    licd = Licd(os.path.join(wd, "licd"))
    keys = os.path.join(wd, "keys")
    corpus = os.path.join(wd, "corpus")
    try:
        # Five devices use up account()'s 5-use token: replaying their trust
        # requests must be refused. Some reports, so that the store is not
        # empty; a second token, with one use left, that no refused trust
        # request may consume.
        trust_devices(licd, account(licd), keys, 5)
        s = summary(licload("load", "--url", base_url(licd), "--ca", licd.ca,
                            "--keys-dir", keys, "--reports", "20", "--concurrency", "2"))
        assert s["acked"] == 20, s
        live = licd.admin("token", "create", "SA-1", "VA-1", "--uses", "1").strip()
        licload("corpus", "--keys-dir", keys, "--out", corpus, "--token", live)
        cases = read_manifest(corpus)
        assert len(cases) >= 200, len(cases)
        db = os.path.join(licd.state, "licd.db")
        before = dump(db)
        ctx = ssl.create_default_context(cafile=licd.ca)
        wrong, by_status, by_licd = [], {}, 0
        t0 = time.time()
        for i, c in enumerate(cases):
            target = c["path"] if c["path"].startswith("/") else API + c["path"]
            st, headers, body = https_request(licd.port, ctx, c["method"], target, c["ctype"],
                                              c["framing"], c["body"])
            by_status[st] = by_status.get(st, 0) + 1
            # lsrv_handle's answers are JSON; libevent's own refusals are not.
            by_licd += "application/json" in headers.lower()
            why = None
            if st not in c["expect"]:
                why = f"status {st}, expected {sorted(c['expect'])}"
            elif c["method"] != "HEAD":
                try:
                    code = error_code(headers, body)
                    if code is not None and code not in ERROR_CODES[st]:
                        why = f"status {st} with error {code!r}"
                except (ValueError, KeyError) as e:
                    why = f"status {st}, body not an error object: {e}: {body[:200]!r}"
            if why:
                wrong.append(f"{c['file']} {c['name']}: {why}: {body[:160]!r}")
            if i % 50 == 0:
                assert licd.proc.poll() is None, f"licd died at {c['file']} {c['name']}"
        elapsed = time.time() - t0
        assert not wrong, f"{len(wrong)} of {len(cases)} answered wrongly:\n" + "\n".join(wrong[:60])
        assert licd.proc.poll() is None, "licd died"
        after = dump(db)
        changed = [t for t in set(before) | set(after) if before.get(t) != after.get(t)]
        assert not changed, f"the store changed: tables {changed}"
        check_store(db)
        # Still serving: valid reports are taken in and acknowledged.
        s = summary(licload("load", "--url", base_url(licd), "--ca", licd.ca,
                            "--keys-dir", keys, "--reports", "5", "--concurrency", "2"))
        assert s["acked"] == 5, s
        log = licd.text()
        rejects = log.count("%LICD-4-REJECT")
        assert rejects == by_licd, f"{rejects} REJECT lines for {by_licd} refusals by licd"
        assert "%LICD-3-" not in log, [l for l in log.splitlines() if "%LICD-3-" in l][:5]
        licd.stop_clean()
        print(f"bad_input: {len(cases)} bad requests in {elapsed:.1f} s, all refused as "
              f"expected {dict(sorted(by_status.items()))}; store unchanged")
    finally:
        licd.stop()


# ---------------------------------------------------------------------------
# kill9


def acked_ids(path):
    """The ids of the complete lines of licload's acked log."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        text = f.read()
    return text[:text.rfind("\n") + 1].split()


def check_acked(db, log):
    """Every acknowledged report is in the store with its 90 records."""
    ids = acked_ids(log)
    records = dict(query(db, "SELECT report, count(*) FROM record GROUP BY report"))
    held = {rid: records.get(key, 0) for key, rid in query(db, "SELECT id, report_id FROM report")}
    missing = [i for i in ids if i not in held]
    assert not missing, f"{len(missing)} acknowledged report(s) not in the store: {missing[:5]}"
    short = [i for i in ids if held[i] != 90]
    assert not short, f"acknowledged reports without their 90 records: {short[:5]}"
    return len(ids), len(held)


def start_load(licd, keys, log, out):
    return subprocess.Popen([BIN["licload"], "load", "--url", base_url(licd), "--ca", licd.ca,
                             "--keys-dir", keys, "--reports", "0", "--duration", "300",
                             "--records", "90", "--concurrency", "4", "--acked-log", log,
                             "--fail-delay-ms", "50", "--timeout", "10"],
                            stdout=out, stderr=subprocess.STDOUT)


def stop_load(proc, out_path):
    """SIGTERM by pid; licload must exit 0 (no refused report, no bad ACK)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    with open(out_path) as f:
        text = f.read()
    assert rc == 0, f"licload exit {rc}:\n{text[-3000:]}"
    return summary(text)


def test_kill9(wd):
    seed = int(os.environ.get("SBC_TEST_SEED", str(time.time_ns())))
    print(f"kill9: SBC_TEST_SEED={seed}", flush=True)
    rng = random.Random(seed)
    state = os.path.join(wd, "licd")
    licd = Licd(state)
    port = licd.port
    keys = os.path.join(wd, "keys")
    log = os.path.join(wd, "acked.log")
    db = os.path.join(state, "licd.db")
    out_path = os.path.join(wd, "licload.out")
    out = open(out_path, "a")
    load = None
    kills, runs = 0, []
    try:
        trust_devices(licd, account(licd), keys, 4)
        while kills < 20:
            if load is None:
                load = start_load(licd, keys, log, out)
            # Intake under way: ACKs flow since this licd started.
            n0 = len(acked_ids(log))
            deadline = time.time() + 30
            while len(acked_ids(log)) <= n0:
                assert time.time() < deadline, "no ACK within 30 s of licd's start"
                assert load.poll() is None, "licload ended"
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.4))
            licd.kill9()
            kills += 1
            check_store(db)
            acked, held = check_acked(db, log)
            if kills == 10:
                # A second licload run appends to the same acked log.
                runs.append(stop_load(load, out_path))
                load = None
            licd = Licd(state, port=port)
        runs.append(stop_load(load, out_path))
        load = None
        acked, held = check_acked(db, log)
        assert acked == sum(r["acked"] for r in runs), (acked, runs)
        assert len(set(acked_ids(log))) == acked, "a report id acknowledged twice"
        licd.stop_clean()
        check_store(db)
        print(f"kill9: {kills} kills, {len(runs)} licload runs, {acked} reports "
              f"acknowledged, {held} held, "
              f"{sum(r['failed'] for r in runs):.0f} failed (server gone)")
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait()
        out.close()
        licd.stop()


# ---------------------------------------------------------------------------
# slow_clients

CONN_MAX = 256        # LSRV_CONN_MAX (licd/server.h)
CONN_DEADLINE_S = 30  # LSRV_CONN_DEADLINE_S
TRICKLE_S = 2.0       # well inside licd's 10 s idle timeout


def client_hello(ctx):
    """The bytes of a TLS ClientHello, to trickle over a raw socket."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    assert len(hello) > 100, len(hello)
    return hello


class Trickler:
    """A raw TCP client sending `data` one byte per TRICKLE_S."""

    def __init__(self, port, data):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.opened = time.monotonic()
        self.closed = None  # when licd closed it
        self.data, self.off = data, 0

    def tick(self):
        if self.closed is None and self.off < len(self.data):
            try:
                self.sock.send(self.data[self.off:self.off + 1])
                self.off += 1
            except (BrokenPipeError, ConnectionResetError):
                self.closed = time.monotonic()

    def poll(self):
        """Notice licd's close (EOF or reset)."""
        if self.closed is not None:
            return
        try:
            if self.sock.recv(4096) == b"":
                self.closed = time.monotonic()
        except BlockingIOError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            self.closed = time.monotonic()


def trickle(clients, seconds):
    """Keep every client trickling for `seconds`."""
    end = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        for c in clients:
            c.poll()
        if now >= end:
            return
        due = [c for c in clients if now - getattr(c, "last", 0) >= TRICKLE_S]
        for c in due:
            c.tick()
            c.last = now
        socks = [c.sock for c in clients if c.closed is None]
        select.select(socks, [], [], min(0.2, max(0, end - now)))


def served(port, ctx, timeout):
    """One request on a fresh connection: its status (None: no answer)."""
    st, _, _ = https_request(port, ctx, "GET", API + "nope", "-", "none", b"",
                             timeout=timeout)
    return st


def test_slow_clients(wd):
    licd = Licd(os.path.join(wd, "licd"))
    ctx = ssl.create_default_context(cafile=licd.ca)
    hello = client_hello(ctx)
    slow, waiting = [], None
    try:
        assert served(licd.port, ctx, 10) == 404, "licd does not answer"
        for _ in range(CONN_MAX):
            slow.append(Trickler(licd.port, hello))
        trickle(slow, 3)
        assert all(c.closed is None for c in slow), "a slow client was closed early"
        # Full: a new client gets through TCP (the kernel's backlog) but
        # licd does not take it: its TLS handshake waits.
        raw = socket.create_connection(("127.0.0.1", licd.port), timeout=5)
        waiting = ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                                  do_handshake_on_connect=False)
        waiting.settimeout(3)
        try:
            waiting.do_handshake()
            raise AssertionError("a connection past the cap was served")
        except (socket.timeout, TimeoutError):
            pass
        trickle(slow, 1)
        # Ten slow ones go away: licd accepts again, the waiting client first.
        for c in slow[:10]:
            c.sock.close()
            c.closed = -1
        waiting.settimeout(10)
        waiting.do_handshake()
        waiting.close()
        waiting = None
        t0 = time.monotonic()
        assert served(licd.port, ctx, 10) == 404, "no answer after connections closed"
        assert time.monotonic() - t0 < 5, "slow to answer after connections closed"
        # The rest keep trickling; licd closes each at its deadline.
        rest = slow[10:]
        trickle(rest, CONN_DEADLINE_S + 8 - (time.monotonic() - rest[0].opened))
        alive = [c for c in rest if c.closed is None]
        assert not alive, f"{len(alive)} slow clients still open after {CONN_DEADLINE_S + 8} s"
        ages = sorted(c.closed - c.opened for c in rest)
        assert ages[0] >= CONN_DEADLINE_S - 1, f"closed after {ages[0]:.1f} s, before the deadline"
        assert ages[-1] <= CONN_DEADLINE_S + 5, f"closed after {ages[-1]:.1f} s"
        assert served(licd.port, ctx, 10) == 404, "licd does not answer after the deadlines"
        log = licd.text()
        assert log.count("%LICD-4-CONN_LIMIT:") == 1, \
            [l for l in log.splitlines() if "CONN_LIMIT" in l]
        assert log.count("%LICD-5-CONN_LIMIT_END:") == 1, \
            [l for l in log.splitlines() if "CONN_LIMIT" in l]
        assert log.count("%LICD-6-CONN_DEADLINE:") >= len(rest), log.count("CONN_DEADLINE")
        licd.stop_clean()
        print(f"slow_clients: {CONN_MAX} slow clients held licd at its cap; a new one "
              f"waited, then was served; the rest closed after "
              f"{ages[0]:.1f}..{ages[-1]:.1f} s")
    finally:
        if waiting is not None:
            waiting.close()
        for c in slow:
            c.sock.close()
        licd.stop()


TESTS = {
    "two_sbcd": test_two_sbcd,
    "bad_input": test_bad_input,
    "kill9": test_kill9,
    "slow_clients": test_slow_clients,
}


def main():
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl", "licd", "licload"))
    return run_tests(TESTS, args.test, lambda fn, wd: fn(wd), "sbc-licd")


if __name__ == "__main__":
    sys.exit(main())
