#!/usr/bin/env python3
"""Configuration loading and operator commands, end to end.

  check_all_errors   sbcd -n lists every error of a file (and a missing
                     license smart ca-file, resolved from the config's
                     directory) and exits 1; without -n sbcd logs them all
                     and does not start
  trust_outcome      `license smart trust id_token BAD local` waits for
                     licd's answer and fails with its reason; a good token
                     (IOS spelling id_token) reports trust established
  purchase_negative  `licd purchase ... -5` says the count must be 0 or more
  install            `cmake --install` puts sbcd, sbcctl and licd in sbin
  proxy              trust and a report reach licd through a CONNECT proxy
                     (license smart proxy address/port), which saw them
  url_default        license smart url default and proxy lines accepted,
                     bad ones refused
  listen_port0       `listen tcp ADDR 0`: the bound port is logged, accepts
                     connections and shows in show running-config
  reload_licensing   a reload switches the proxy live; a changed release
                     stays as it runs and shows as `! pending restart:`
  cube_trunk_config  docs/examples/cube-trunk.conf (a CUBE engineer's trunk
                     file: codec classes, dtmf-relay, no vad, session
                     protocol, allow-connections, dns: target, OPTIONS
                     keepalive, ip name-server, service timestamps, license
                     smart url default and proxy) passes sbcd -n, runs,
                     prints every command back, stamps lines as IOS does

Each test starts its own processes on free loopback ports in a temporary
directory and stops them by pid.

usage: config_ops.py --sbcd PATH --sbcctl PATH --licd PATH [--build DIR] TEST
"""
import os
import re
import select
import socket
import subprocess
import threading
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import licensing  # noqa: E402
from harness import BIN, Licd, UA, command_line, free_port, run_tests  # noqa: E402
from licensing import LicSbcd, account  # noqa: E402

ARGS = {}

OPS_CONFIG = """hostname ops1
voice service voip
 mode border-element license periodicity days 1
 sip
  listen udp 127.0.0.1 {sbc_port}
{listen_extra}!
dial-peer voice 100 voip
 incoming called-number .T
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target ipv4:127.0.0.1:{uas_port}
!
license release {release}
license smart transport {transport}
license smart url {url}
license smart ca-file {ca_file}
license smart usage interval 1
{lic_extra}end
"""


class ConnectProxy:
    """A tiny HTTP CONNECT proxy on a free loopback port: records each
    CONNECT request line, then relays bytes both ways."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.seen = []
        self.refuse = False
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.tunnel, args=(c,), daemon=True).start()

    def tunnel(self, c):
        head = b""
        with c:
            while b"\r\n\r\n" not in head and len(head) < 8192:
                d = c.recv(4096)
                if not d:
                    return
                head += d
            line = head.split(b"\r\n", 1)[0].decode()
            self.seen.append(line)
            parts = line.split()
            if self.refuse:
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            if len(parts) != 3 or parts[0] != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                return
            host, port = parts[1].rsplit(":", 1)
            try:
                up = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                c.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                return
            with up:
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                socks = [c, up]
                while True:
                    r, _, _ = select.select(socks, [], [], 10)
                    if not r:
                        return
                    for s in r:
                        d = s.recv(65536)
                        if not d:
                            return
                        (up if s is c else c).sendall(d)

    def close(self):
        self.stopping = True
        self.lsock.close()


class OpsSbcd(LicSbcd):
    CONFIG = OPS_CONFIG

    def write_config(self, **kw):
        for k, v in (("listen_extra", ""), ("lic_extra", ""), ("transport", "smart"),
                     ("release", "17.6.1a")):
            self.params.setdefault(k, v)
        super().write_config(**kw)


def start_sbcd(wd, licd, **kw):
    uas = UA(free_port())
    params = dict(url=f"https://127.0.0.1:{licd.port}/licensing/v1/", ca_file=licd.ca)
    params.update(kw)
    return OpsSbcd(BIN["sbcd"], uas.port, wd, args=["--test-clock"], **params), uas


def test_check_all_errors(wd):
    conf = os.path.join(wd, "bad.conf")
    with open(conf, "w") as f:
        f.write("hostname bad!\n"
                "dial-peer voice 0 voip\n"
                " session target ipv4:1.2.3.4:99999\n"
                "call max-duration 1\n"
                "bogus\n"
                "license smart ca-file missing.pem\n")
    p = subprocess.run([BIN["sbcd"], "-n", "-f", conf], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1, p
    want = [f"{conf}:1: invalid hostname: 'hostname bad!'",
            f"{conf}:2: value out of range 1-2147483647: 'dial-peer voice 0 voip'",
            f"{conf}:4: value out of range 60-604800: 'call max-duration 1'",
            f"{conf}:5: unknown command: 'bogus'",
            f"{conf}:6: cannot open file: No such file or directory "
            f"({os.path.realpath(wd)}/missing.pem): 'license smart ca-file missing.pem'",
            f"{conf}: configuration not valid"]
    assert p.stderr.splitlines() == want, p.stderr
    # Without -n: the same errors logged, and no start.
    p = subprocess.run([BIN["sbcd"], "-f", conf, "-S", os.path.join(wd, "st")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    for w in want[:-1]:
        assert f"%SBC-3-CONFIG: {w}" in p.stderr, p.stderr
    # A good file, relative ca-file taken from the config's directory, from
    # another working directory.
    licd = Licd(os.path.join(wd, "licd"))
    try:
        with open(licd.ca) as src, open(os.path.join(wd, "ca.pem"), "w") as dst:
            dst.write(src.read())
        with open(conf, "w") as f:
            f.write("hostname ok\nlicense smart ca-file ca.pem\n")
        p = subprocess.run([BIN["sbcd"], "-n", "-f", conf], capture_output=True, text=True,
                           timeout=30, cwd="/")
        assert p.returncode == 0, p
        assert "configuration OK" in p.stdout, p
    finally:
        licd.stop()


def test_trust_outcome(wd):
    licd = Licd(os.path.join(wd, "licd"))
    sbc, uas = start_sbcd(wd, licd)
    try:
        with harness.running(sbc, uas, allowed=("TRUST_CODE_INSTALL_FAILED",)):
            token = account(licd)
            t0 = time.time()
            p = sbc.ctl("license", "smart", "trust", "id_token", "not-a-token", "local",
                        check=False)
            assert p.returncode != 0, p
            out = p.stdout + p.stderr
            assert "Trust not established: license server answered 4" in out, out
            assert time.time() - t0 < 10, "waited past the bound"
            assert sbc.status()["trust_code_installed"] is None
            p = sbc.ctl("license", "smart", "trust", "id_token", token, "local")
            assert "Trust established with the license server" in p.stdout, p
            assert sbc.status()["trust_code_installed"] is not None
            # Installed: without force the agent refuses at once.
            p = sbc.ctl("license", "smart", "trust", "idtoken", token, "local", check=False)
            assert p.returncode != 0 and "already installed" in p.stdout + p.stderr, p
    finally:
        licd.stop()


def test_proxy(wd):
    licd = Licd(os.path.join(wd, "licd"))
    proxy = ConnectProxy()
    uac = UA(free_port())
    sbc, uas = start_sbcd(wd, licd, lic_extra=(
        f"license smart proxy address 127.0.0.1\nlicense smart proxy port {proxy.port}\n"))
    try:
        with harness.running(sbc, uas, uac,
                             allowed=licensing.ALLOWED + ("TRUST_CODE_INSTALL_FAILED",)):
            run = sbc.ctl("show", "running-config").stdout
            assert "license smart proxy address 127.0.0.1\n" in run, run
            assert f"license smart proxy port {proxy.port}\n" in run, run
            # Where reports go, as the operator reads it.
            st = sbc.ctl("show", "license", "status").stdout
            assert (f"  Proxy:\n    Address: 127.0.0.1\n    Port: {proxy.port}\n") in st, st
            ch = sbc.ctl("show", "call-home", "smart-licensing").stdout
            assert f"  Proxy: 127.0.0.1 port {proxy.port}\n" in ch, ch
            p = sbc.ctl("license", "smart", "trust", "idtoken", account(licd), "local")
            assert "Trust established" in p.stdout, p
            assert proxy.seen == [f"CONNECT 127.0.0.1:{licd.port} HTTP/1.1"], proxy.seen
            licensing.use_one_license(sbc, uac, uas)
            sbc.wait_status(lambda s: s["usage_reporting"]["last_ack_received"],
                            what="an ACK through the proxy")
            assert len(proxy.seen) >= 2 and all(
                l == f"CONNECT 127.0.0.1:{licd.port} HTTP/1.1" for l in proxy.seen), proxy.seen
            # A proxy that refuses: the operator gets its answer.
            proxy.refuse = True
            p = sbc.ctl("license", "smart", "trust", "idtoken", "x", "local", "force",
                        check=False)
            assert p.returncode != 0, p
            assert (f"Trust not established: proxy 127.0.0.1:{proxy.port} refused CONNECT "
                    f"to 127.0.0.1:{licd.port}: HTTP/1.1 403 Forbidden") in p.stderr, p
    finally:
        proxy.close()
        licd.stop()


EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "docs", "examples", "cube-trunk.conf")


class ExampleSbcd(harness.Sbcd):
    """sbcd on the example file, its listen port moved to a free one."""

    def write_config(self, **kw):
        with open(EXAMPLE) as f:
            text = f.read()
        text = re.sub(r"(listen udp 127\.0\.0\.1) \d+", rf"\1 {self.port}", text)
        with open(self.conf, "w") as f:
            f.write(text)


def test_cube_trunk_config(wd):
    p = subprocess.run([BIN["sbcd"], "-n", "-f", EXAMPLE], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p
    with open(EXAMPLE) as f:
        commands = [l.rstrip() for l in f
                    if l.strip() and not l.lstrip().startswith("!")]
    sbc = ExampleSbcd(BIN["sbcd"], 0, wd)
    try:
        run = subprocess.run([BIN["sbcctl"], "-s", os.path.join(sbc.state, "sbcd.sock"),
                              "show", "running-config"], capture_output=True, text=True,
                             timeout=30).stdout
        lines = run.splitlines()
        # Defaults are not printed back (as on IOS): the transports.
        defaults = ("session transport udp", "license smart transport smart")
        for c in commands:
            if c.strip().startswith("listen ") or c.strip() in defaults:
                continue
            assert c in lines, f"{c!r} not printed back:\n{run}"
        # `service timestamps log datetime msec localtime show-timezone
        # year`: "Dec  7 2026 08:45:01.123 UTC: %SBC-5-READY: ...".
        ready = [l for l in sbc.text().splitlines() if "%SBC-5-READY" in l]
        assert ready and re.match(
            r"[A-Z][a-z]{2} [ 123]\d \d{4} \d\d:\d\d:\d\d\.\d{3} UTC: %SBC-5-READY: ",
            ready[0]), ready
        summ = subprocess.run([BIN["sbcctl"], "-s", os.path.join(sbc.state, "sbcd.sock"),
                               "show", "dial-peer", "voice", "summary"],
                              capture_output=True, text=True, timeout=30).stdout
        assert "dns:sip.carrier.example" in summ, summ
    finally:
        rc = sbc.stop()
    assert rc == 0, sbc.text()[-3000:]


def test_reload_licensing(wd):
    licd = Licd(os.path.join(wd, "licd"))
    proxy = ConnectProxy()
    sbc, uas = start_sbcd(wd, licd)
    try:
        with harness.running(sbc, uas, allowed=licensing.ALLOWED):
            sbc.write_config(release="17.9.1", lic_extra=(
                f"license smart proxy address 127.0.0.1\n"
                f"license smart proxy port {proxy.port}\n"))
            sbc.ctl("reload")
            run = sbc.ctl("show", "running-config").stdout
            # The proxy is switched live; the release waits for a restart.
            assert f"license smart proxy port {proxy.port}\n" in run, run
            assert "license release 17.6.1a\n" in run, run
            assert "! pending restart: license release 17.9.1\n" in run, run
            sbc.wait_log("take effect when sbcd is restarted", 5)
            sbc.wait_log("license server endpoint now", 5)
            p = sbc.ctl("license", "smart", "trust", "idtoken", account(licd), "local")
            assert "Trust established" in p.stdout, p
            assert proxy.seen == [f"CONNECT 127.0.0.1:{licd.port} HTTP/1.1"], proxy.seen
            # Back to the value in force: nothing pending; proxy removed live.
            sbc.write_config(release="17.6.1a", lic_extra="")
            sbc.ctl("reload")
            run = sbc.ctl("show", "running-config").stdout
            assert "pending" not in run and "proxy" not in run, run
            st = sbc.ctl("show", "license", "status").stdout
            assert "  Proxy:\n    Not Configured\n" in st, st
    finally:
        proxy.close()
        licd.stop()


def test_listen_port0(wd):
    licd = Licd(os.path.join(wd, "licd"))
    sbc, uas = start_sbcd(wd, licd, listen_extra="  listen tcp 127.0.0.1 0\n")
    try:
        with harness.running(sbc, uas):
            text = sbc.wait_log("listening on tcp 127.0.0.1:", 5)
            m = re.search(r"listening on tcp 127\.0\.0\.1:(\d+) \(port 0: chosen by the kernel\)",
                          text)
            assert m, text
            port = int(m.group(1))
            assert port != 0
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            for _ in range(2):  # at start, and after a reload
                run = sbc.ctl("show", "running-config").stdout
                assert f"  listen tcp 127.0.0.1 0\n  ! bound to port {port}\n" in run, run
                sbc.ctl("reload")
    finally:
        licd.stop()


def test_url_default(wd):
    conf = os.path.join(wd, "d.conf")
    with open(conf, "w") as f:
        f.write("license smart url default\nlicense smart proxy address proxy.example\n")
    p = subprocess.run([BIN["sbcd"], "-n", "-f", conf], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p
    with open(conf, "w") as f:
        f.write("license smart proxy address bad/host\nlicense smart proxy port 0\n")
    p = subprocess.run([BIN["sbcd"], "-n", "-f", conf], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1, p
    assert p.stderr.splitlines()[:2] == [
        f"{conf}:1: invalid proxy address: 'license smart proxy address bad/host'",
        f"{conf}:2: value out of range 1-65535: 'license smart proxy port 0'"], p.stderr


def test_purchase_negative(wd):
    licd = Licd(os.path.join(wd, "licd"))
    try:
        account(licd)
        p = subprocess.run([BIN["licd"], "-S", licd.state, "purchase", "SA-1", "VA-1",
                            "CUBE_T_STD", "-5"], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, p
        assert "count must be 0 or more" in p.stderr, p.stderr
        # a real option is still refused as one
        p = subprocess.run([BIN["licd"], "-S", licd.state, "purchase", "SA-1", "VA-1",
                            "CUBE_T_STD", "-x"], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and "unknown option -x" in p.stderr, p.stderr
    finally:
        licd.stop()


def test_install(wd):
    build = ARGS.get("build")
    assert build, "--build DIR needed"
    prefix = os.path.join(wd, "prefix")
    p = subprocess.run(["cmake", "--install", build, "--prefix", prefix],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    for name in ("sbcd", "sbcctl", "licd"):
        path = os.path.join(prefix, "sbin", name)
        assert os.access(path, os.X_OK), f"{path} not installed:\n{p.stdout}"


TESTS = {
    "cube_trunk_config": test_cube_trunk_config,
    "check_all_errors": test_check_all_errors,
    "trust_outcome": test_trust_outcome,
    "purchase_negative": test_purchase_negative,
    "proxy": test_proxy,
    "url_default": test_url_default,
    "listen_port0": test_listen_port0,
    "reload_licensing": test_reload_licensing,
    "install": test_install,
}


def main():
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl", "licd"), optional=("build",))
    ARGS["build"] = args.build
    return run_tests(TESTS, args.test, lambda fn, wd: fn(wd), "sbc-ops")


if __name__ == "__main__":
    sys.exit(main())
