#!/usr/bin/env python3
"""SIP over TLS between two sbcd instances.

Debian's SIPp has no TLS, so the TLS hop is played by sbcd itself:

    caller -(UDP)-> sbcd A -(TLS)-> sbcd B -(UDP)-> callee

A has `session transport tls` on the dial-peer towards B's `listen tls`
address; certificates come from a throw-away CA made with the openssl CLI
(CN and subjectAltName 127.0.0.1). Every process runs on free loopback ports
and is stopped by pid; each test checks that both sbcds exit 0 with a clean
log.

Tests:
  calls        five calls through A -> B (outbound-only TLS on A), BYE from
               either side; both sbcds show the A-B leg as TLS, one TLS
               connection carries all calls, B's TLS port answers no
               plaintext SIP, a Python TLS client gets 200 to OPTIONS, the
               key copy is gone from STATE_DIR/tls, a reload that changes
               tls settings says they wait for a restart
  mutual       A listens for TLS too: B's in-dialog requests (the callee's
               BYE) reach A over TLS; B refuses a client without a
               certificate (tls verify peer)
  untrusted    A's CA does not trust B's certificate, then B's CA does not
               trust A's: the caller gets 503 within a second or two, the
               callee sees nothing, A logs %SBC-3-TLS_CONNECT, nothing hangs
  config       sbcd -n: errors naming file:line (TLS without a key, key
               readable by others, missing file, key of another
               certificate); show running-config prints the tls lines;
               %SBC-3-TLS when TLS cannot start (port taken, state dir)

usage: tls.py --sbcd PATH --sbcctl PATH TEST   (TEST = a name above, or "all")
"""
import contextlib
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Callee, Caller, SDP, Sbcd, UA, answer, command_line,  # noqa: E402
                     final_for, free_port, request, run_tests, status, stopped_at_end,
                     tests_in)

SBCCTL = None

# Sofia-SIP 1.12.11 as Debian 12 ships it: tls_free() calls SSL_shutdown()
# but never SSL_free(), so every TLS connection's SSL object and buffers
# stay allocated (measured: 36-47 KB per connection, also for a TCP connect
# that never starts TLS). The sanitizer build would fail every test on it;
# these allocations, made only inside Sofia's TLS code, are suppressed.
# Full stacks are needed for the match (libcrypto has no frame pointers).
LSAN_SUPPRESSIONS = """leak:tls_init_secondary
leak:tls_connect
leak:tls_read
leak:tls_write
"""


@contextlib.contextmanager
def sanitizer_env(wd):
    """Environment for the sbcds of one test: the suppressions above, when
    under ASan; the previous environment back afterwards."""
    supp = os.path.join(wd, "lsan.supp")
    with open(supp, "w") as f:
        f.write(LSAN_SUPPRESSIONS)
    saved = {v: os.environ.get(v) for v in ("ASAN_OPTIONS", "LSAN_OPTIONS")}
    for var, extra in (("ASAN_OPTIONS", "fast_unwind_on_malloc=0"),
                       ("LSAN_OPTIONS", f"suppressions={supp}")):
        old = os.environ.get(var)
        os.environ[var] = f"{old}:{extra}" if old else extra
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


TLS_CONFIG = """hostname {name}
!
voice service voip
 mode border-element
 sip
  listen udp 127.0.0.1 {sbc_port}
{listen_tls}{tls}!
dial-peer voice 100 voip
 incoming called-number .T
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target ipv4:127.0.0.1:{uas_port}
 session transport {transport}
!
end
"""


# --------------------------------------------------------------------------
# Certificates


def openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"openssl {' '.join(args)}: {p.stderr}"


class Pki:
    """A throw-away CA and leaf certificates for 127.0.0.1, in dir."""

    def __init__(self, d, name):
        self.d = d
        self.name = name
        self.ca = os.path.join(d, f"{name}-ca.pem")
        self.ca_key = os.path.join(d, f"{name}-ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                "-subj", f"/CN={name} test CA")

    def leaf(self, who):
        """(certificate, key) for CN and IP SAN 127.0.0.1, key mode 0600."""
        base = os.path.join(self.d, f"{self.name}-{who}")
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=127.0.0.1")
        openssl("x509", "-req", "-in", base + ".csr", "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", base + ".pem", "-days", "2", "-extfile", ext)
        os.chmod(base + ".key", 0o600)
        return base + ".pem", base + ".key"


def tls_block(cert, key, ca, verify=None):
    text = f"  tls certificate {cert}\n  tls private-key {key}\n  tls ca-file {ca}\n"
    if verify:
        text += f"  tls verify {verify}\n"
    return text


# --------------------------------------------------------------------------
# sbcd with this file's config


class TlsSbcd(Sbcd):
    """harness.Sbcd with the config above; `tls_port` when it listens TLS."""

    CONFIG = TLS_CONFIG

    def __init__(self, binary, uas_port, workdir, name, tls, transport="udp",
                 tls_port=None):
        os.makedirs(workdir, exist_ok=True)
        self.tls_port = tls_port
        listen = f"  listen tls 127.0.0.1 {tls_port}\n" if tls_port else ""
        super().__init__(binary, uas_port, workdir, name=name, tls=tls,
                         transport=transport, listen_tls=listen)

    def ctl(self, *words):
        p = subprocess.run([SBCCTL, "-s", os.path.join(self.state, "sbcd.sock"), *words],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p
        return p.stdout

    def calls_json(self):
        return json.loads(self.ctl("show", "call", "active", "voice", "brief", "--json"))


def established_ports():
    """Local and peer ports of the established TCP connections on 127.0.0.1."""
    out = subprocess.run(["ss", "-Htn", "state", "established"], capture_output=True,
                         text=True, timeout=10).stdout
    pairs = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[2].startswith("127.0.0.1:") and f[3].startswith("127.0.0.1:"):
            pairs.append((int(f[2].rsplit(":", 1)[1]), int(f[3].rsplit(":", 1)[1])))
    return pairs


def ack_failure(caller, resp):
    """ACK for a non-2xx final: the INVITE's branch, as RFC 3261 17.1.1.3."""
    caller.remote_tag = resp.to_tag()
    caller.ua.send(caller._req("ACK", caller.invite_cseq, branch=caller.invite_branch),
                   caller.sbc)


def full_call(a, b, uac, uas, callee_hangs_up, check=None):
    """One call caller -> A -> B -> callee: INVITE/100/180/200/ACK, then BYE
    from either side. check(caller, callee) runs while the call is up."""
    c = Caller(uac, a.port)
    callee = Callee(uas)
    c.invite()
    uac.recv(status(100, "INVITE"))
    inv = callee.take_invite()
    assert inv.get("call-id") != c.call_id, inv.raw
    callee.respond(180, "Ringing")
    uac.recv(lambda m: m.status == 180 and m.get("call-id") == c.call_id)
    callee.respond(200, "OK", body=SDP)
    ok = uac.recv(lambda m: m.status == 200 and m.get("call-id") == c.call_id)
    assert ok.body == SDP, ok.raw
    c.ack(ok)
    uas.recv(request("ACK"))
    if check:
        check(c, callee)
    if callee_hangs_up:
        callee.bye(b.port)
        bye = uac.recv(request("BYE"))
        assert bye.get("call-id") == c.call_id, bye.raw
        answer(uac, bye, 200, "OK")
        assert uas.recv(final_for("BYE")).status == 200
    else:
        c.bye()
        bye = uas.recv(request("BYE"))
        answer(uas, bye, 200, "OK")
        uac.recv(lambda m: m.status == 200 and m.cseq_method() == "BYE")


def tls_options(port, ca, cert=None, key=None):
    """OPTIONS over a Python TLS connection: (TLS version, response)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        lport = s.getsockname()[1]
        s.sendall((f"OPTIONS sip:127.0.0.1:{port};transport=tls SIP/2.0\r\n"
                   f"Via: SIP/2.0/TLS 127.0.0.1:{lport};branch=z9hG4bKpy{lport}\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=py\r\n"
                   "To: <sip:127.0.0.1>\r\nCall-ID: tls-probe@127.0.0.1\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return s.version(), data.decode(errors="replace")


def plaintext_probe(port):
    """Plain SIP sent to a TLS port: whatever comes back before it closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKx\r\n"
              b"Max-Forwards: 70\r\nFrom: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\n"
              b"Call-ID: plain@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    data = b""
    deadline = time.time() + 2
    s.settimeout(0.5)
    while time.time() < deadline:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data


# --------------------------------------------------------------------------
# Tests. Each gets (sbcd binary, work dir) and raises AssertionError on failure.


def start_b(binary, wd, pki, uas, verify=None):
    """sbcd B: listens TLS with pki's leaf "b", calls uas; (B, its TLS port)."""
    b_cert, b_key = pki.leaf("b")
    b_tls = free_port()
    b = TlsSbcd(binary, uas.port, os.path.join(wd, "b"), "b",
                tls_block(b_cert, b_key, pki.ca, verify=verify), tls_port=b_tls)
    return b, b_tls


def test_calls(binary, wd):
    pki = Pki(wd, "good")
    a_cert, a_key = pki.leaf("a")
    uas, uac = UA(free_port()), UA(free_port())
    b, b_tls = start_b(binary, wd, pki, uas)
    a = None
    try:
        a = TlsSbcd(binary, b_tls, os.path.join(wd, "a"), "a",
                    tls_block(a_cert, a_key, pki.ca), transport="tls")
    finally:
        if a is None:
            b.stop()
    with stopped_at_end([a, b], [uas, uac], allowed=()):
        assert "%SBC-5-TLS: TLS ready: certificate " + a_cert + ", verify peer, outbound only" \
            in a.text(), a.text()
        assert f"listening on tls 127.0.0.1:{b_tls}" in b.text(), b.text()
        # The credentials directory: private, and empty once TLS is up.
        for s in (a, b):
            tdir = os.path.join(s.state, "tls")
            mode = stat.S_IMODE(os.stat(tdir).st_mode)
            assert mode == 0o700, oct(mode)
            assert os.listdir(tdir) == [], os.listdir(tdir)

        def legs_are_tls(caller, callee):
            ca = a.calls_json()["calls"]
            cb = b.calls_json()["calls"]
            assert len(ca) == 1 and len(cb) == 1, (ca, cb)
            la, lb = ca[0]["legs"], cb[0]["legs"]
            assert la[0]["transport"] == "udp" and la[1]["transport"] == "tls", la
            assert la[1]["remote"] == f"127.0.0.1:{b_tls}", la
            # B saw the call arrive over TLS (from the connection, not Via).
            assert lb[0]["transport"] == "tls" and lb[1]["transport"] == "udp", lb
            conns = [p for p in established_ports() if p[0] == b_tls]
            assert len(conns) == 1, conns
            assert lb[0]["remote"] == f"127.0.0.1:{conns[0][1]}", (lb, conns)

        for i in range(5):
            full_call(a, b, uac, uas, callee_hangs_up=bool(i % 2),
                      check=legs_are_tls if i in (0, 3) else None)
        a.wait_idle()
        b.wait_idle()
        # One TLS connection carried every call.
        assert len([p for p in established_ports() if p[0] == b_tls]) == 1
        # B's TLS port speaks TLS only: plaintext SIP gets no SIP answer.
        data = plaintext_probe(b_tls)
        assert b"SIP/2.0" not in data, data
        # A TLS client that trusts the CA gets B's certificate and a 200.
        version, resp = tls_options(b_tls, pki.ca, a_cert, a_key)
        assert resp.startswith("SIP/2.0 200"), resp
        print(f"calls: B negotiated {version} with a Python client")
        # Reload: tls settings wait for a restart; calls go on.
        start = len(a.text())
        a.write_config(tls=tls_block(a_cert, a_key, pki.ca, verify="server"))
        a.proc.send_signal(signal.SIGHUP)
        text = a.wait_log("%SBC-5-RELOAD", 5, start)
        assert "%SBC-5-TLS: tls settings changed: they take effect when sbcd is restarted" \
            in text[start:], text[start:]
        full_call(a, b, uac, uas, callee_hangs_up=False)
        a.wait_idle()
        b.wait_idle()


def test_mutual(binary, wd):
    pki = Pki(wd, "good")
    a_cert, a_key = pki.leaf("a")
    uas, uac = UA(free_port()), UA(free_port())
    a_tls = free_port()
    b, b_tls = start_b(binary, wd, pki, uas, verify="peer")
    a = None
    try:
        a = TlsSbcd(binary, b_tls, os.path.join(wd, "a"), "a",
                    tls_block(a_cert, a_key, pki.ca, verify="peer"), transport="tls",
                    tls_port=a_tls)
    finally:
        if a is None:
            b.stop()
    with stopped_at_end([a, b], [uas, uac]):
        assert "outbound only" not in a.text()

        def b_leg_is_tls(caller, callee):
            assert a.calls_json()["calls"][0]["legs"][1]["transport"] == "tls"

        full_call(a, b, uac, uas, callee_hangs_up=True, check=b_leg_is_tls)
        # The callee's BYE went B -> A over a TLS connection B opened to
        # A's TLS listener (A's Contact said transport=tls).
        conns = established_ports()
        assert any(p[0] == a_tls for p in conns), conns
        assert any(p[0] == b_tls for p in conns), conns
        full_call(a, b, uac, uas, callee_hangs_up=False)
        a.wait_idle()
        b.wait_idle()
        # tls verify peer: a client without a certificate is refused.
        try:
            version, resp = tls_options(b_tls, pki.ca)
        except (ssl.SSLError, ConnectionError, OSError):
            resp = ""
        assert not resp.startswith("SIP/2.0"), resp
        version, resp = tls_options(b_tls, pki.ca, a_cert, a_key)
        assert resp.startswith("SIP/2.0 200"), resp


def test_untrusted(binary, wd):
    good = Pki(wd, "good")
    evil = Pki(wd, "evil")
    a_cert, a_key = good.leaf("a")
    x_cert, x_key = evil.leaf("x")
    uas, uac = UA(free_port()), UA(free_port())
    b, b_tls = start_b(binary, wd, good, uas)
    sbcs = [b]
    try:
        # A1 trusts only the evil CA: B's certificate fails A1's check.
        # A2 trusts B, but its own certificate is the evil CA's: B (tls
        # verify peer by default with a ca-file) refuses the client.
        a1 = TlsSbcd(binary, b_tls, os.path.join(wd, "a1"), "a1",
                     tls_block(a_cert, a_key, evil.ca), transport="tls")
        sbcs.append(a1)
        a2 = TlsSbcd(binary, b_tls, os.path.join(wd, "a2"), "a2",
                     tls_block(x_cert, x_key, good.ca), transport="tls")
        sbcs.append(a2)
    except BaseException:
        for s in sbcs:
            s.stop()
        raise
    with stopped_at_end(sbcs, [uas, uac], allowed=("%SBC-3-TLS_CONNECT",)):
        for a in (a1, a2):
            for _ in range(3):
                c = Caller(uac, a.port)
                t0 = time.time()
                c.invite()
                r = uac.recv(lambda m, c=c: m.get("call-id") == c.call_id and m.status >= 200, 10)
                took = time.time() - t0
                assert r.status == 503, r.raw
                assert took < 5, took  # timer B would be 32 s
                ack_failure(c, r)
            assert a.text().count("%SBC-3-TLS_CONNECT") == 3, a.text()
            assert f"TLS connection to 127.0.0.1:{b_tls} failed" in a.text()
            a.wait_idle()
        assert uas.quiet(0.5) == [], "the callee was reached"
        b.wait_idle()


def check_config(binary, path, want_rc, want):
    p = subprocess.run([binary, "-n", "-f", path], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == want_rc, (p.returncode, out)
    assert want in out, f"{want!r} not in {out!r}"


def test_config(binary, wd):
    pki = Pki(wd, "good")
    cert, key = pki.leaf("a")
    cert2, key2 = pki.leaf("b")
    conf = os.path.join(wd, "t.conf")

    def write(tls, listen_tls="  listen tls 127.0.0.1 5061\n", transport="udp"):
        with open(conf, "w") as f:
            f.write(TLS_CONFIG.format(name="t", sbc_port=5060, listen_tls=listen_tls,
                                      tls=tls, uas_port=5070, transport=transport))

    write(tls_block(cert, key, pki.ca))
    check_config(binary, conf, 0, "configuration OK")
    write("")
    check_config(binary, conf, 1, f"{conf}:7: TLS needs tls certificate and tls private-key: "
                                  "'listen tls 127.0.0.1 5061'")
    write("", listen_tls="", transport="tls")
    check_config(binary, conf, 1, f"{conf}:11: TLS needs tls certificate and tls private-key: "
                                  "'dial-peer voice 200 voip'")
    write(f"  tls certificate {cert}\n")
    check_config(binary, conf, 1, f"{conf}:8: tls certificate without tls private-key")
    write(tls_block(cert, key2, pki.ca))
    check_config(binary, conf, 1, f"{conf}:9: private key does not match tls certificate: "
                                  f"'tls private-key {key2}'")
    write(tls_block(cert, key, pki.ca + ".missing"))
    check_config(binary, conf, 1, f"{conf}:10: cannot open file: No such file or directory: "
                                  f"'tls ca-file {pki.ca}.missing'")
    os.chmod(key, 0o640)
    write(tls_block(cert, key, pki.ca))
    check_config(binary, conf, 1, f"{conf}:9: private key file mode 0640 gives group or other "
                                  "access (chmod 600)")
    os.chmod(key, 0o600)
    write(tls_block(cert, key, pki.ca) + "  tls verify bogus\n")
    check_config(binary, conf, 1, f"{conf}:11: invalid value, expected peer|server|none: "
                                  "'tls verify bogus'")

    # show running-config prints the tls lines back; verify only when set.
    uas = UA(free_port())
    s = TlsSbcd(binary, uas.port, os.path.join(wd, "run"), "run",
                tls_block(cert, key, pki.ca, verify="server"), tls_port=free_port())
    with stopped_at_end([s], [uas]):
        run = s.ctl("show", "running-config")
        want = (f"  tls certificate {cert}\n  tls private-key {key}\n"
                f"  tls ca-file {pki.ca}\n  tls verify server\n")
        assert want in run, run
        assert "verify server" in s.text()

    # TLS that cannot start: a clear %SBC-3-TLS line and exit 1.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    try:
        run_fail(binary, os.path.join(wd, "busy"), tls_block(cert, key, pki.ca),
                 f"  listen tls 127.0.0.1 {taken}\n",
                 f"%SBC-3-TLS: cannot start TLS on 127.0.0.1:{taken}: Address already in use")
    finally:
        busy.close()
    state = os.path.join(wd, "blocked", "state")
    os.makedirs(state)
    with open(os.path.join(state, "tls"), "w") as f:
        f.write("not a directory\n")
    run_fail(binary, os.path.join(wd, "blocked"), tls_block(cert, key, pki.ca),
             f"  listen tls 127.0.0.1 {free_port()}\n",
             "%SBC-3-TLS: cannot set up TLS: " + os.path.join(state, "tls")
             + " is not a directory")


def run_fail(binary, d, tls, listen_tls, want):
    """Start sbcd with a config whose TLS cannot start: exit 1, `want` logged."""
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "sbcd.conf")
    with open(conf, "w") as f:
        f.write(TLS_CONFIG.format(name="f", sbc_port=free_port(), listen_tls=listen_tls,
                                  tls=tls, uas_port=5070, transport="udp"))
    p = subprocess.Popen([binary, "-f", conf, "-S", os.path.join(d, "state")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError(f"sbcd did not exit:\n{out}")
    assert p.returncode == 1, (p.returncode, out)
    assert want in out, f"{want!r} not in:\n{out}"
    assert "%SBC-5-READY" not in out, out
    assert "Sanitizer" not in out and "runtime error" not in out, out


TESTS = tests_in(globals())


def main():
    global SBCCTL
    args = command_line(__doc__, TESTS, ("sbcd", "sbcctl"))
    SBCCTL = args.sbcctl
    return run_tests(TESTS, args.test, lambda fn, wd: fn(args.sbcd, wd), "sbc-tls",
                     env=sanitizer_env)


if __name__ == "__main__":
    sys.exit(main())
