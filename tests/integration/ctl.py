#!/usr/bin/env python3
"""sbcd's control socket and sbcctl against a real sbcd.

Checks: the socket's mode, IOS abbreviations and error answers with their
exit statuses, JSON that parses and agrees with the text view, the test
clock (refused without --test-clock; with it, the jump reaches the tables
and survives a restart), many clients at once, a client that sends an
oversized line or never reads its replies is dropped while others are
served, and calls flow meanwhile; IOS output filters (`| include` ...),
`?` help and `terminal length` in one-shot, stdin and shell modes.

usage: ctl.py --sbcd PATH --sbcctl PATH
"""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Callee, Caller, Sbcd, UA, answer, command_line,  # noqa: E402
                     established_call, final_for, free_port, request, run_tests,
                     running)

SBCCTL = None


def ctl(sbc, *words):
    return subprocess.run([SBCCTL, "-s", os.path.join(sbc.state, "sbcd.sock"), *words],
                          capture_output=True, text=True, timeout=60)


def raw_request(path, line):
    """One request over a raw connection: (status, body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    data = b""
    while b"\n" not in data:
        chunk = s.recv(4096)
        assert chunk, "connection closed before the reply header"
        data += chunk
    head, _, body = data.partition(b"\n")
    tag, status, length = head.decode().split()
    assert tag == "SBC", head
    while len(body) < int(length):
        chunk = s.recv(65536)
        assert chunk, "reply cut short"
        body += chunk
    s.close()
    assert len(body) == int(length), (len(body), length)
    return int(status), body.decode()


def check_basics(sbc):
    sock = os.path.join(sbc.state, "sbcd.sock")
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    assert mode == 0o660, oct(mode)

    p = ctl(sbc, "sh", "li", "st")
    assert p.returncode == 0 and "Usage Reporting:\n  Last ACK received:" in p.stdout, p
    p = ctl(sbc, "show", "licence", "status")
    assert p.returncode == 2 and "% Invalid input detected at '^' marker." in p.stderr, p
    assert "show licence status\n     ^" in p.stderr, p.stderr
    p = ctl(sbc, "license", "smart", "s")
    assert p.returncode == 2 and "% Ambiguous command" in p.stderr, p
    p = ctl(sbc, "show", "license")
    assert p.returncode == 2 and "% Incomplete command." in p.stderr, p
    p = ctl(sbc, "reload", "--json")
    assert p.returncode == 2, p
    p = ctl(sbc, "sh", "vo", "si", "li", "st", "BOGUS")
    assert p.returncode == 2 and "Unknown class" in p.stderr, p
    p = ctl(sbc, "license", "smart", "import", "/nonexistent/ack.json")
    assert p.returncode == 1 and p.stderr.startswith("%"), p
    p = ctl(sbc, "reload")
    assert p.returncode == 0, p
    p = subprocess.run([SBCCTL, "-s", "/nonexistent/sbcd.sock", "show", "license", "status"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 3, p

    # JSON parses and says what the text says.
    js = json.loads(ctl(sbc, "show", "license", "status", "--json").stdout)
    text = ctl(sbc, "show", "license", "status").stdout
    assert js["slp"]["status"] == "ENABLED" and "  Status: ENABLED" in text
    days = js["usage_reporting"]["reporting_push_interval_days"]
    assert (f"  Reporting push interval: {days}  days" if days else
            "  Reporting push interval: 0 (no reporting)") in text, text
    assert (js["trust_code_installed"] is None) == ("Trust Code Installed: <none>" in text)
    st = json.loads(ctl(sbc, "show", "voice", "sip", "license", "stats", "table", "STANDARD",
                        "--json").stdout)
    assert list(st["classes"]) == ["STANDARD"], st
    assert len(st["classes"]["STANDARD"]["seconds"]) == 60, st
    # Every show command answers in text and in JSON that parses, and the
    # JSON carries the text's values.
    shows = ["show cube status", "show running-config", "show dial-peer voice summary",
             "show logging", "show voice sip license stats", "show voice sip license stats table",
             "show voice sip license status", "show license status", "show license usage",
             "show license summary", "show license all"]
    for cmd in shows:
        t = ctl(sbc, *cmd.split())
        assert t.returncode == 0 and t.stdout.strip(), (cmd, t)
        j = ctl(sbc, *cmd.split(), "--json")
        assert j.returncode == 0, (cmd, j)
        json.loads(j.stdout)
    cube = json.loads(ctl(sbc, "show", "cube", "status", "--json").stdout)
    text = ctl(sbc, "show", "cube", "status").stdout
    assert f"SIP service : {cube['sip_service']}" in text, text
    assert f"Calls active : {cube['calls']}" in text, text
    run = ctl(sbc, "show", "running-config").stdout
    assert run.startswith("Building configuration...") and "hostname edge\n" in run, run
    assert json.loads(ctl(sbc, "sh", "run", "--json").stdout)["config"] in run
    dps = json.loads(ctl(sbc, "sh", "dial-peer", "voice", "summary", "--json").stdout)
    text = ctl(sbc, "sh", "dial-peer", "voice", "summary").stdout
    assert [d["tag"] for d in dps["dial_peers"]] == [100, 200], dps
    for d in dps["dial_peers"]:
        line = [l for l in text.splitlines() if l.startswith(f"{d['tag']} ")][0]
        assert line.split()[1:4] == [d["type"], d["admin"], d["oper"]], (line, d)
    assert f"ipv4:127.0.0.1:{sbc.params['uas_port']}" in text, text
    logs = json.loads(ctl(sbc, "show", "logging", "--json").stdout)
    assert any("%SBC-5-READY" in l for l in logs["lines"]), logs
    assert "%SBC-5-READY" in ctl(sbc, "show", "logging").stdout
    # A client that half-closes after its request still gets the whole
    # reply (a large one: more than a socket buffer).
    hc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hc.settimeout(10)
    hc.connect(sock)
    hc.sendall(b"show license all\nshow voice sip license stats\n")
    hc.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        chunk = hc.recv(65536)
        if not chunk:
            break
        got += chunk
    hc.close()
    assert got.count(b"SBC 0 ") >= 1 and b"Usage Report Summary" in got, got[:300]
    # Commands from stdin, one connection.
    p = subprocess.run([SBCCTL, "-s", sock], input="show license status\nsh vo si li st ta VGW\n",
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "Usage Reporting:" in p.stdout and "TDM-SIP Trunk Sessions" in p.stdout, p


def test_ctl(binary, wd):
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd)
    # The failed import below is logged at error level, as it should be.
    with running(sbc, uas, uac, allowed=("IMPORT_FAILED",)):
        check_basics(sbc)
        p = ctl(sbc, "test", "clock", "advance", "1d")
        assert p.returncode == 1 and "test clock is off" in p.stderr, p
        # A second sbcd on the same state directory is refused and leaves
        # the first one's socket alone.
        p = subprocess.run([binary, "-f", sbc.conf, "-S", sbc.state], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 1 and "in use by another sbcd" in p.stderr, p
        assert ctl(sbc, "show", "cube", "status").returncode == 0
        sock = os.path.join(sbc.state, "sbcd.sock")

        # A client that sends a line over the cap is dropped...
        big = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        big.connect(sock)
        big.settimeout(10)
        try:
            big.sendall(b"x" * 20000)
        except OSError:
            pass
        try:
            got = big.recv(100)
        except ConnectionResetError:
            got = b""  # closed with our bytes unread: also dropped
        assert got == b"", "oversized request not dropped"
        big.close()
        # ...a client that never reads its replies is dropped at the cap,
        # and neither stalls the others or the calls.
        greedy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        greedy.connect(sock)
        greedy.settimeout(30)
        dropped = []

        def flood():
            sent = 0
            try:
                while sent < 100000:
                    greedy.sendall(b"show voice sip license stats\n")
                    sent += 1
            except OSError as e:
                dropped.append((sent, e))
        flooder = threading.Thread(target=flood)
        flooder.start()
        errors = []

        def client(n):
            for _ in range(n):
                try:
                    status, body = raw_request(sock, "show voice sip license stats table")
                    if status != 0 or "CUBE Standard Trunk License Usage" not in body:
                        errors.append(body[:200])
                except AssertionError as e:
                    errors.append(str(e))
        threads = [threading.Thread(target=client, args=(20,)) for _ in range(20)]
        for t in threads:
            t.start()
        c, b = Caller(uac, sbc.port), Callee(uas)
        established_call(c, b)
        c.bye()
        bye = uas.recv(request("BYE"))
        answer(uas, bye, 200, "OK")
        assert uac.recv(final_for("BYE")).status == 200
        for t in threads:
            t.join(60)
        assert not errors, errors[:3]
        flooder.join(60)
        assert dropped and not isinstance(dropped[0][1], socket.timeout), dropped
        greedy.close()
    print("ctl: basics, errors, JSON, 400 requests from 20 clients; oversized "
          f"request dropped; non-reading client dropped after {dropped[0][0]} requests")


def test_test_clock(binary, wd):
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd, args=["--test-clock"])
    with running(sbc, uas, uac):
        time.sleep(0.5)  # the SIP thread's 200 ms sweep has run: its stall check is armed
        before = json.loads(ctl(sbc, "sh", "vo", "si", "li", "st", "--json").stdout)["now"]
        p = ctl(sbc, "test", "clock", "advance", "2d")
        assert p.returncode == 0 and "Clock advanced by 172800 s" in p.stdout, p
        after = json.loads(ctl(sbc, "sh", "vo", "si", "li", "st", "--json").stdout)["now"]
        assert 172800 <= after - before < 172800 + 30, (before, after)
        # A jump of the test clock is not a stalled SIP thread.
        time.sleep(0.6)  # three 200 ms sweeps
        log = ctl(sbc, "show", "logging").stdout
        assert "SIP_STALL" not in log, [l for l in log.splitlines() if "SIP_STALL" in l]
        for bad in ("0d", "-1h", "1w", "x"):
            p = ctl(sbc, "test", "clock", "advance", bad)
            assert p.returncode == 2, (bad, p)
        # debug license feature cube all: the agent's debug lines appear
        # in the log until undebug all.
        assert "debugging is on" in ctl(sbc, "debug", "license", "feature", "cube", "all").stdout
        ctl(sbc, "test", "clock", "advance", "1h")
        assert "//CUBE-SL/Info/cube_sl_hour_usage" in ctl(sbc, "show", "logging").stdout
        ctl(sbc, "undebug", "all")
        n = ctl(sbc, "show", "logging").stdout.count("//CUBE-SL/Info/")
        ctl(sbc, "test", "clock", "advance", "1h")
        assert ctl(sbc, "show", "logging").stdout.count("//CUBE-SL/Info/") == n
    # A restarted --test-clock daemon resumes at the time it had reached.
    sbc = Sbcd(binary, uas.port, wd, args=["--test-clock"])
    uas, uac = UA(uas.port), UA(uac.port)
    with running(sbc, uas, uac):
        again = json.loads(ctl(sbc, "sh", "vo", "si", "li", "st", "--json").stdout)["now"]
        assert again >= after, (after, again)
        sbc.wait_log("test clock resumes", 5)
    # Without --test-clock that state directory is refused: at real time
    # its tables and periods would be ahead, and nothing recorded.
    p = subprocess.run([binary, "-f", sbc.conf, "-S", sbc.state], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1 and "belongs to a --test-clock run" in p.stderr, p
    print("test clock: jump seen by the tables, bad durations refused, offset kept "
          "across a restart")


def scrape(port):
    """The Prometheus text of /metrics as {series: value}."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def test_calls_and_metrics(binary, wd):
    """show call active voice brief, clear call voice, show sip-ua
    statistics and the Prometheus endpoint, against one real call."""
    import re
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd, extra="metrics listen 127.0.0.1 0\n!\n")
    with running(sbc, uas, uac):
        log = sbc.wait_log("%SBC-5-METRICS", 5)
        port = int(re.search(r"http://127.0.0.1:(\d+)/metrics", log).group(1))
        c, b = Caller(uac, sbc.port), Callee(uas)
        established_call(c, b)
        calls = json.loads(ctl(sbc, "show", "call", "active", "voice", "brief", "--json").stdout)
        text = ctl(sbc, "show", "call", "active", "voice", "brief").stdout
        assert calls["call_legs"]["sip"] == 2 and len(calls["calls"]) == 1, calls
        call = calls["calls"][0]
        assert call["state"] == "active" and call["class"] == "STANDARD", call
        assert [l["dial_peer"] for l in call["legs"]] == [100, 200], call
        assert "SIP call-legs: 2" in text and f"{call['id_hex']:<4} : A " in text, text
        assert call["legs"][0]["call_id"] == c.call_id, call
        # Metrics agree with the show commands.
        m = scrape(port)
        cube = json.loads(ctl(sbc, "show", "cube", "status", "--json").stdout)
        assert m['sbc_sessions{class="STANDARD"}'] == cube["licensed_sessions"]["STANDARD"] == 1, m
        assert m["sbc_calls"] == cube["calls"] == 1, m
        assert m["sbc_sip_service_up"] == 1 and cube["sip_service"] == "Up"
        lic = json.loads(ctl(sbc, "show", "license", "status", "--json").stdout)
        assert m["sbc_license_ack_deadline_seconds"] == \
            (lic["usage_reporting"]["next_ack_deadline"] or 0), (m, lic)
        # clear call voice: both sides get a BYE, the call is gone.
        out = ctl(sbc, "clear", "call", "voice", call["id_hex"])
        assert out.returncode == 0, out
        for ua in (uac, uas):
            bye = ua.recv(request("BYE"))
            answer(ua, bye, 200, "OK")
        sbc.wait_idle()
        assert json.loads(ctl(sbc, "sh", "call", "act", "vo", "br", "--json").stdout)["calls"] == []
        p = ctl(sbc, "clear", "call", "voice", call["id_hex"])
        assert p.returncode == 1 and p.stderr.startswith("%"), p
        # sip-ua statistics: text, JSON and metrics show the same counts.
        st = json.loads(ctl(sbc, "show", "sip-ua", "statistics", "--json").stdout)
        text = ctl(sbc, "show", "sip-ua", "statistics").stdout
        m = scrape(port)
        ok = st["responses"]["success"]["OkInvite"]
        assert ok["in"] >= 1 and ok["out"] >= 1, st
        assert f"OkInvite {ok['in']}/{ok['out']}" in text, text
        for d in ("in", "out"):
            key = f'sbc_sip_messages_total{{section="success",name="OkInvite",direction="{d}"}}'
            assert m[key] == ok[d], (key, m.get(key), ok)
        assert ctl(sbc, "clear", "sip-ua", "statistics").returncode == 0
        st = json.loads(ctl(sbc, "show", "sip-ua", "statistics", "--json").stdout)
        assert st["responses"]["success"]["OkInvite"] == {"in": 0, "out": 0}, st
        assert st["cleared"], st
    print("calls and metrics: brief view, clear call, sip-ua statistics and /metrics agree")


GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def test_goldens(binary, wd):
    """Whole outputs of the show commands whose text holds no clock:
    against golden files in tests/integration/golden (SBC_UPDATE_GOLDEN=1
    rewrites them); this run's free ports are replaced by SBC_PORT and
    UAS_PORT. Views with times are golden-tested in the unit suites
    (test_show, test_callview, test_sipstats, test_render)."""
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd, pattern="1T", threshold="call threshold global max-calls 100\n")
    update = os.environ.get("SBC_UPDATE_GOLDEN") == "1"
    with running(sbc, uas, uac):
        for name, cmd in (("dial_peer_summary.txt", "show dial-peer voice summary"),
                          ("cube_status_idle.txt", "show cube status"),
                          ("license_summary_fresh.txt", "show license summary"),
                          ("license_usage_fresh.txt", "show license usage")):
            text = ctl(sbc, *cmd.split()).stdout
            # The two ports of this run are the only variable part.
            text = text.replace(f":{sbc.params['uas_port']}", ":UAS_PORT")
            path = os.path.join(GOLDEN_DIR, name)
            if update:
                with open(path, "w") as f:
                    f.write(text)
                continue
            want = open(path).read()
            assert text == want, f"{cmd}: differs from {name}:\n{text}"
        run = ctl(sbc, "show", "running-config").stdout
        run = run.replace(str(sbc.port), "SBC_PORT").replace(str(sbc.params["uas_port"]),
                                                              "UAS_PORT")
        path = os.path.join(GOLDEN_DIR, "running_config.txt")
        if update:
            with open(path, "w") as f:
                f.write(run)
        else:
            assert run == open(path).read(), f"show running-config differs:\n{run}"
    print("goldens: dial-peer summary, cube status, license summary/usage, running-config")


class Pty:
    """sbcctl's shell on a pseudo-terminal: keys in, screen text out."""

    def __init__(self, sock):
        import pty
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([SBCCTL, "-s", sock], stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def keys(self, text):
        os.write(self.master, text.encode())

    def typed(self, text, needle="edge#"):
        """The screen after typing `text`, up to `needle`."""
        self.keys(text)
        return self.expect(needle)

    def expect(self, needle, timeout=10):
        """Read until `needle` is on the screen (after what was consumed)."""
        import select
        deadline = time.time() + timeout
        while needle not in self.seen:
            left = deadline - time.time()
            assert left > 0, f"shell screen lacks {needle!r}; got:\n{self.seen[-2000:]}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        assert needle in self.seen, f"shell screen lacks {needle!r}:\n{self.seen[-2000:]}"
        i = self.seen.index(needle) + len(needle)
        before, self.seen = self.seen[:i], self.seen[i:]
        return before

    def close(self):
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def test_shell(binary, wd):
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd)
    with running(sbc, uas, uac):
        with Pty(os.path.join(sbc.state, "sbcd.sock")) as sh:
            sh.expect("edge#")
            # `?` at the start: the first words with their help.
            out = sh.typed("?")
            for w in ("show", "license", "reload", "test"):
                assert f"  {w} " in out, out
            assert "hostname" not in out, out  # hidden entries stay hidden
            # Tab completes unambiguous words; `?` after a space lists the
            # next words, and <cr> once the line is a command.
            sh.typed("sh\t", "edge#show ")
            sh.typed("li\t", "edge#show license ")
            out = sh.typed("?", "edge#show license ")
            assert "  status " in out and "<cr>" not in out, out
            sh.typed("st\t", "edge#show license status ")
            out = sh.typed("?", "edge#show license status ")
            assert "  <cr>" in out, out
            out = sh.typed("\r")
            assert "Usage Reporting:" in out and "Trust Code Installed:" in out, out
            # `?` on a partial word lists what it may become.
            out = sh.typed("license smart s?", "edge#license smart s")
            assert "save" in out and "sync" in out, out
            sh.typed("\x15")  # Ctrl-U: clear the line
            # Abbreviations run as the whole command.
            out = sh.typed("sh vo si li st ta VGW\r")
            assert "TDM-SIP Trunk Sessions (last 60 seconds)" in out, out
            # Errors come back with the IOS marker.
            out = sh.typed("show licence status\r")
            assert "% Invalid input detected at '^' marker." in out, out
            # History: Up brings back the last command.
            sh.typed("\x1b[A", "edge#show licence status")
            sh.typed("\x1b[A", "edge#sh vo si li st ta VGW")
            sh.keys("\x1b[B\x15exit\r")
            assert sh.close() == 0
    print("shell: prompt, ?, Tab, abbreviations, errors, history under a pty")

def test_filters(binary, wd):
    """`| include/exclude/begin/section/count` on real show output, in
    one-shot, stdin and shell modes; `?` help; terminal length; exit."""
    uas, uac = UA(free_port()), UA(free_port())
    sbc = Sbcd(binary, uas.port, wd)
    sock = os.path.join(sbc.state, "sbcd.sock")
    with running(sbc, uas, uac):
        full = ctl(sbc, "show", "running-config").stdout
        lines = full.splitlines()
        assert sum(l.startswith("dial-peer voice ") for l in lines) == 2, full
        # include: the dial-peer lines, as one argument or as words
        want = "".join(l + "\n" for l in lines if "dial-peer" in l)
        for argv in (["show running-config | include dial-peer"],
                     ["sh", "run", "|", "i", "dial-peer"]):
            p = ctl(sbc, *argv)
            assert p.returncode == 0 and p.stdout == want, (argv, p)
        assert want.count("\n") == 2 and want.startswith("dial-peer voice 100 "), want
        # count
        p = ctl(sbc, "show running-config | count dial-peer")
        assert p.stdout == "Number of lines which match regexp = 2\n", p
        p = ctl(sbc, "sh run | cou ^ [a-z]")  # a regex with a space in it
        n = sum(re.match(r"^ [a-z]", l) is not None for l in lines)
        assert n > 0 and p.stdout == f"Number of lines which match regexp = {n}\n", p
        # begin: from the first dial-peer to the end
        first = next(i for i, l in enumerate(lines) if l.startswith("dial-peer"))
        p = ctl(sbc, "show running-config | begin dial-peer")
        assert p.stdout == "".join(l + "\n" for l in lines[first:]), p
        assert "hostname edge" not in p.stdout, p.stdout
        # section: each dial-peer with the lines indented under it
        p = ctl(sbc, "show running-config | section ^dial-peer voice 200")
        got = p.stdout.splitlines()
        i = lines.index(got[0])
        j = i + 1
        while j < len(lines) and lines[j].startswith(" "):
            j += 1
        assert got[0].startswith("dial-peer voice 200 ") and got == lines[i:j] and len(got) > 1, p
        # exclude
        p = ctl(sbc, "show running-config | exclude ^( |!)")
        assert p.stdout == "".join(l + "\n" for l in lines
                                   if not l.startswith((" ", "!"))), p
        # JSON stays; with a filter it is refused; a bad regex is refused
        assert "config" in json.loads(ctl(sbc, "sh run | json").stdout)
        for argv in (["show running-config | include x", "--json"],
                     ["--json", "show running-config | include x"]):
            p = ctl(sbc, *argv)
            assert p.returncode == 2 and "do not apply to JSON" in p.stderr, p
        p = ctl(sbc, "show running-config | include (")
        assert p.returncode == 2 and "% Invalid regular expression" in p.stderr, p
        p = ctl(sbc, "reload | include x")
        assert p.returncode == 2 and "% Invalid input" in p.stderr, p
        # terminal length: accepted, nothing printed; out of range refused
        for argv in (["terminal", "length", "0"], ["term", "len", "24"]):
            p = ctl(sbc, *argv)
            assert p.returncode == 0 and p.stdout == "", p
        p = ctl(sbc, "terminal", "length", "513")
        assert p.returncode == 2, p
        # `?` in one-shot mode: each word with its own help
        p = ctl(sbc, "show ?")
        assert p.returncode == 0, p
        assert " license " in p.stdout and "Show license information" in p.stdout, p
        assert "Voice commands" in p.stdout and "CUBE information" in p.stdout, p
        p = ctl(sbc, "show", "license", "?")
        for w in ("status", "summary", "usage", "all"):
            assert f"  {w} " in p.stdout, p
        assert "<cr>" not in p.stdout, p
        p = ctl(sbc, "show license status ?")
        assert "  <cr>" in p.stdout and "Output modifiers" in p.stdout, p
        p = ctl(sbc, "?")
        for w in ("show", "license", "clear", "debug", "exit", "quit", "terminal"):
            assert f"  {w} " in p.stdout, p
        p = ctl(sbc, "bogus ?")
        assert p.returncode == 2 and "% Unrecognized command" in p.stdout, p
        # stdin mode: filters, help, exit ends the session
        p = subprocess.run([SBCCTL, "-s", sock],
                           input="sh run | count dial-peer\nterminal length 0\n"
                                 "show license ?\nexit\nshow license status\n",
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p
        assert p.stdout.startswith("Number of lines which match regexp = 2\n"), p
        assert "  status " in p.stdout and "Usage Reporting" not in p.stdout, p
        # the shell: terminal length 0, a filter, `?` per keyword, end
        with Pty(sock) as sh:
            sh.expect("edge#")
            out = sh.typed("terminal length 0\r")
            assert "%" not in out, out
            out = sh.typed("sh run | i dial-peer\r")
            assert out.count("dial-peer voice") == 2 and "hostname" not in out, out
            out = sh.typed("show ?", "edge#show ")
            assert "Show license information" in out and "Voice commands" in out, out
            sh.typed("\x15")  # Ctrl-U: an empty line
            out = sh.typed("?", "Leave the shell")
            assert "  exit " in out and "  quit " in out and "  end " in out, out
            sh.expect("edge#")
            sh.keys("end\r")
            assert sh.close() == 0
    print("filters: include, count, begin, section, exclude on show running-config; "
          "JSON refused with them; ? help; terminal length; exit/end")


TESTS = {"basics": test_ctl, "test_clock": test_test_clock, "shell": test_shell,
         "calls_and_metrics": test_calls_and_metrics, "goldens": test_goldens,
         "filters": test_filters}


def main():
    global SBCCTL
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl"), choose_all=False)
    SBCCTL = args.sbcctl
    return run_tests(TESTS, args.test, lambda fn, wd: fn(args.sbcd, wd), "sbc-ctl")


if __name__ == "__main__":
    sys.exit(main())
