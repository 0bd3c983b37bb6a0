"""What the integration tests share: free loopback ports, child processes
killed by pid, a small SIP user agent for hand-written messages, sbcd,
licd and rtpengine wrappers, SIPp command lines, and the loop that runs a
file's tests.

Everything binds 127.0.0.1 on ports the kernel says are free; every process
started here is stopped through its own pid (never a group or a name), and
dies with SIGKILL if the test process dies first (PR_SET_PDEATHSIG).
"""
import argparse
import contextlib
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.abspath(os.path.join(HERE, "..", "..", "sipp-scenarios"))
LOCAL_IP = "127.0.0.1"
READY_MARK = "%SBC-5-READY"

# The binaries under test, filled in by each file's main() from its options.
BIN = {}


class RunError(RuntimeError):
    """Setup failure: the run cannot go on."""


# ------------------------------------------------------------------ ports

def _try_bind(kind, port):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((LOCAL_IP, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class PortPicker:
    """Free ports on 127.0.0.1: bind port 0, close, reuse the number."""

    def __init__(self):
        self.taken = set()

    def _candidate(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((LOCAL_IP, 0))
            return s.getsockname()[1]
        finally:
            s.close()

    def pick(self, udp=True, tcp=True, span=(0,)):
        """A port p such that p+k is free (UDP and/or TCP) for every k in span."""
        for _ in range(200):
            p = self._candidate()
            ports = [p + k for k in span]
            if max(ports) > 65535 or self.taken.intersection(ports):
                continue
            if udp and not all(_try_bind(socket.SOCK_DGRAM, q) for q in ports):
                continue
            if tcp and not all(_try_bind(socket.SOCK_STREAM, q) for q in ports):
                continue
            self.taken.update(ports)
            return p
        raise RunError("could not find a free port")


# One picker per process: a port handed out once is not handed out again.
PORTS = PortPicker()


def free_port(udp=True, tcp=True, span=(0,)):
    """A port free on UDP and TCP of 127.0.0.1 (see PortPicker.pick)."""
    return PORTS.pick(udp, tcp, span)


def port_in_use(port, tcp):
    return not _try_bind(socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM, port)


# -------------------------------------------------------------- processes

def _child_setup(cpus):
    """In the child before exec: the death signal, then the CPUs it may use
    (before exec, so every thread it starts inherits them)."""
    _set_pdeathsig()
    if cpus:
        os.sched_setaffinity(0, cpus)


def _set_pdeathsig():
    """In the child before exec: die with SIGKILL if the runner dies (e.g. a
    ctest timeout kills it), so no SIPp or sbcd is left behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: best effort only
        pass


def _quote(a):
    return a if re.match(r"^[\w@%+=:,./-]+$", a) else "'" + a.replace("'", "'\\''") + "'"


class Child:
    """A child process with its output in files of the work dir (one file
    when stdout_name == stderr_name; mode "ab" appends to them). cwd None:
    the work dir. Its command line goes to the work dir's commands.txt."""

    def __init__(self, name, argv, workdir, stdout_name, stderr_name, cpus=None,
                 cwd=None, mode="wb"):
        self.name = name
        self.argv = argv
        self.stdout_path = os.path.join(workdir, stdout_name)
        self.stderr_path = os.path.join(workdir, stderr_name)
        env = dict(os.environ)
        env.pop("TERM", None)  # SIPp: plain text screens, no curses
        with contextlib.ExitStack() as files:
            out = files.enter_context(open(self.stdout_path, mode))
            err = out if stderr_name == stdout_name else \
                files.enter_context(open(self.stderr_path, mode))
            self.proc = subprocess.Popen(
                argv, cwd=cwd or workdir, stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, env=env, start_new_session=True,
                preexec_fn=lambda: _child_setup(cpus))
        self.pid = self.proc.pid
        with open(os.path.join(workdir, "commands.txt"), "a") as f:
            f.write("%s (pid %d): %s\n" % (name, self.pid,
                                            " ".join(_quote(a) for a in argv)))

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            try:
                os.kill(self.pid, sig)  # this pid only, never a group or name
            except ProcessLookupError:
                pass

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop_sipp(self, timeout=5.0):
        """SIPp: SIGUSR1 = soft exit (no new calls, finish the calls in
        progress, write the final statistics and screen); if that takes too
        long SIGTERM (SIPp quits at once, without a final screen and with
        status 0, so the caller must treat this as a failure); then SIGKILL.
        Returns (returncode, forced)."""
        if not self.alive():
            return self.proc.returncode, False
        self.send_signal(signal.SIGUSR1)
        rc = self.wait(timeout)
        if rc is not None:
            return rc, False
        self.send_signal(signal.SIGTERM)
        rc = self.wait(3.0)
        if rc is not None:
            return rc, True
        self.send_signal(signal.SIGKILL)
        return self.wait(5.0), True

    def stop(self, first_sig=signal.SIGTERM, timeout=5.0, kill_timeout=5.0):
        """first_sig, wait, then SIGKILL. Returns (returncode, killed)."""
        if not self.alive():
            return self.proc.returncode, False
        self.send_signal(first_sig)
        rc = self.wait(timeout)
        if rc is not None:
            return rc, False
        self.send_signal(signal.SIGKILL)
        rc = self.wait(kill_timeout)
        return rc, True

    def stop_or_hang(self, timeout):
        """SIGTERM, wait `timeout` s, then SIGKILL: the exit code, or
        "hung" when it had to be killed."""
        rc, killed = self.stop(signal.SIGTERM, timeout, None)
        return "hung" if killed else rc

    def kill9(self):
        """SIGKILL by pid: no clean-up of any kind."""
        self.send_signal(signal.SIGKILL)
        self.proc.wait()


def tail(path, lines=30, skip=None):
    """The last lines of a file; lines matching the regex skip left out."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no %s)" % path
    text = data.decode("utf-8", "replace").splitlines()
    if skip:
        text = [l for l in text if not re.search(skip, l)]
    return "\n".join(text[-lines:]) if text else "(empty)"


def head(path, chars=3000):
    try:
        with open(path, "rb") as f:
            data = f.read(chars + 1)
    except OSError:
        return None
    text = data.decode("utf-8", "replace")
    if len(text) > chars:
        text = text[:chars] + "\n[...]"
    return text


def interrupt_on(*sigs):
    """These signals (a test driver's SIGTERM, say) unwind like Ctrl-C, so
    the finally blocks stop every child."""
    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in sigs:
        signal.signal(sig, on_term)


# ----------------------------------------------------- SIP user agent (UDP)

class Msg:
    """A parsed SIP message: first line, headers (lower-case names), body."""

    def __init__(self, data):
        text = data.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))
        parts = self.first.split(" ", 2)
        if parts[0] == "SIP/2.0":
            self.status = int(parts[1])
            self.method = None
        else:
            self.status = None
            self.method = parts[0]
        self.raw = text

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def cseq_method(self):
        return self.get("cseq").split()[1]

    def to_tag(self):
        m = re.search(r";tag=([^;>\s]+)", self.get("to") or "")
        return m.group(1) if m else None

    def __repr__(self):
        return self.first


class UA:
    """One UDP endpoint on 127.0.0.1 that sends and receives SIP."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.peer = None
        self.pending = []

    def close(self):
        self.sock.close()

    def send(self, text, to):
        self.sock.sendto(text.encode(), ("127.0.0.1", to))

    def recv(self, want, timeout=5.0):
        """The next message for which want(msg) is true; others are kept."""
        for i, m in enumerate(self.pending):
            if want(m):
                return self.pending.pop(i)
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"port {self.port}: nothing wanted within {timeout} s; "
                                     f"kept {self.pending}")
            self.sock.settimeout(left)
            try:
                data, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            m = Msg(data)
            m.addr = addr
            if want(m):
                return m
            self.pending.append(m)

    def quiet(self, seconds):
        """Messages arriving within `seconds` (none expected, usually)."""
        got = list(self.pending)
        self.pending = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data, addr = self.sock.recvfrom(70000)
                got.append(Msg(data))
            except socket.timeout:
                pass
        return got


def status(code, method):
    return lambda m: m.status == code and m.cseq_method() == method


def request(method):
    return lambda m: m.method == method


def final_for(method):
    return lambda m: m.status is not None and m.status >= 200 and m.cseq_method() == method


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Caller:
    """Leg A seen from the caller: builds requests of one dialog."""

    def __init__(self, ua, sbc_port, number="15551234"):
        self.ua = ua
        self.sbc = sbc_port
        self.number = number
        self.call_id = f"{random.getrandbits(64):x}@caller"
        self.tag = f"{random.getrandbits(32):x}"
        self.cseq = 1
        self.remote_tag = None
        self.branch = None

    def _req(self, method, cseq, extra="", body="", branch=None, uri=None):
        self.branch = branch or f"z9hG4bK{random.getrandbits(48):x}"
        to = f"<sip:{self.number}@127.0.0.1:{self.sbc}>"
        if self.remote_tag:
            to += f";tag={self.remote_tag}"
        uri = uri or f"sip:{self.number}@127.0.0.1:{self.sbc}"
        ctype = ("Content-Type: application/sdp\r\n"
                 if body and "Content-Type" not in extra else "")
        return (f"{method} {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.ua.port};branch={self.branch};rport\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: \"Alice\" <sip:2000@127.0.0.1:{self.ua.port}>;tag={self.tag}\r\n"
                f"To: {to}\r\n"
                f"Call-ID: {self.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\n"
                f"Contact: <sip:2000@127.0.0.1:{self.ua.port}>\r\n"
                f"{extra}{ctype}Content-Length: {len(body.encode())}\r\n\r\n{body}")

    def invite(self, extra="", body=SDP):
        self.invite_cseq = self.cseq
        self.invite_branch = None
        text = self._req("INVITE", self.cseq, extra, body)
        self.invite_branch = self.branch
        self.cseq += 1
        self.ua.send(text, self.sbc)

    def cancel(self):
        # CANCEL reuses the INVITE's branch and CSeq number.
        remote, self.remote_tag = self.remote_tag, None
        text = self._req("CANCEL", self.invite_cseq, branch=self.invite_branch)
        self.remote_tag = remote
        self.ua.send(text, self.sbc)

    def ack(self, resp, body=""):
        self.remote_tag = resp.to_tag()
        self.ua.send(self._req("ACK", self.invite_cseq, body=body), self.sbc)

    def bye(self):
        self.ua.send(self._req("BYE", self.cseq), self.sbc)
        self.cseq += 1

    def send(self, method, extra="", body=""):
        self.ua.send(self._req(method, self.cseq, extra, body), self.sbc)
        self.cseq += 1


def answer(ua, req, code, phrase, tag=None, body="", extra=""):
    """Respond to req (received by ua) the way a UAS does."""
    to = req.get("to")
    if tag and ";tag=" not in to:
        to += f";tag={tag}"
    vias = "".join(f"Via: {v}\r\n" for v in req.all("via"))
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    contact = f"Contact: <sip:callee@127.0.0.1:{ua.port}>\r\n" if tag else ""
    text = (f"SIP/2.0 {code} {phrase}\r\n{vias}"
            f"From: {req.get('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {req.get('call-id')}\r\nCSeq: {req.get('cseq')}\r\n"
            f"{contact}{extra}{ctype}Content-Length: {len(body.encode())}\r\n\r\n{body}")
    ua.sock.sendto(text.encode(), req.addr)


class Callee:
    """Leg B seen from the callee: answers, and sends requests in dialog."""

    def __init__(self, ua):
        self.ua = ua
        self.tag = f"{random.getrandbits(32):x}"
        self.invite = None
        self.cseq = 100

    def take_invite(self, timeout=5.0):
        self.invite = self.ua.recv(request("INVITE"), timeout)
        return self.invite

    def respond(self, code, phrase, body="", req=None, extra=""):
        answer(self.ua, req or self.invite, code, phrase, tag=self.tag, body=body,
               extra=extra)

    def bye(self, sbc_port):
        inv = self.invite
        contact = re.search(r"<([^>]+)>", inv.get("contact")).group(1)
        text = (f"BYE {contact} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.ua.port};branch=z9hG4bK{random.getrandbits(48):x}\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: {inv.get('to')};tag={self.tag}\r\nTo: {inv.get('from')}\r\n"
                f"Call-ID: {inv.get('call-id')}\r\nCSeq: {self.cseq} BYE\r\n"
                f"Content-Length: 0\r\n\r\n")
        self.cseq += 1
        self.ua.send(text, sbc_port)


def established_call(caller, callee):
    caller.invite()
    caller.ua.recv(status(100, "INVITE"))
    callee.take_invite()
    callee.respond(180, "Ringing")
    caller.ua.recv(status(180, "INVITE"))
    callee.respond(200, "OK", body=SDP)
    ok = caller.ua.recv(status(200, "INVITE"))
    caller.ack(ok)
    callee.ua.recv(request("ACK"))
    return ok


def hang_up(caller, callee):
    """Caller sends BYE; the callee answers it; the caller gets the 200."""
    caller.bye()
    bye = callee.ua.recv(request("BYE"))
    answer(callee.ua, bye, 200, "OK")
    r = caller.ua.recv(final_for("BYE"))
    assert r.status == 200, r.raw


# ------------------------------------------------------------------- sbcd

SBCD_CONFIG = """hostname edge
!
voice service voip
 mode border-element
 sip
  listen udp 127.0.0.1 {sbc_port}
  listen tcp 127.0.0.1 {sbc_port}
!
sip-ua
 timers expires {expires_ms}
!
{threshold}call max-duration {max_duration}
call shutdown-grace {grace}
!
dial-peer voice 100 voip
 incoming called-number .T
!
dial-peer voice 200 voip
 destination-pattern {pattern}
 session target ipv4:127.0.0.1:{uas_port}
 session transport udp
!
{extra}end
"""


class Sbcd:
    """An sbcd process on a free port (or `port`) with the config CONFIG
    filled from its parameters (or the finished text `config`), stdout and
    stderr in the work dir's sbcd.log (or log_name / stdout_name). It is
    ready when its log says READY_MARK (ready_timeout None: the caller
    waits itself); one that never gets there is killed."""

    CONFIG = SBCD_CONFIG

    def __init__(self, binary, uas_port, workdir, args=(), port=None, config=None,
                 log_name="sbcd.log", stdout_name=None, cpus=None, cwd=None,
                 ready_timeout=10, **kw):
        self.port = port or free_port()
        self.workdir = workdir
        self.conf = os.path.join(workdir, "sbcd.conf")
        self.log_path = os.path.join(workdir, log_name)
        self.params = dict(sbc_port=self.port, uas_port=uas_port, expires_ms=180000,
                           threshold="", max_duration=14400, grace=30, pattern="1T",
                           extra="")
        self.params.update(kw)
        if config is None:
            self.write_config()
        else:
            with open(self.conf, "w") as f:
                f.write(config)
        self.state = os.path.join(workdir, "state")
        self.child = Child("sbcd", [binary, "-f", self.conf, "-S", self.state, *args],
                           workdir, stdout_name or log_name, log_name, cpus,
                           cwd=cwd or os.getcwd())
        self.proc = self.child.proc
        self.pid = self.child.pid
        if ready_timeout is not None:
            try:
                self.wait_log(READY_MARK, ready_timeout)
            except AssertionError:
                self.child.kill9()
                raise

    def write_config(self, **kw):
        self.params.update(kw)
        with open(self.conf, "w") as f:
            f.write(self.CONFIG.format(**self.params))

    def text(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout, start=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.text()
            if needle in text[start:]:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"sbcd log lacks {needle!r}:\n{self.text()[-3000:]}")

    def counts(self):
        """Ask for a COUNTS line (SIGUSR1) and parse it."""
        start = len(self.text())
        self.proc.send_signal(signal.SIGUSR1)
        text = self.wait_log("%SBC-6-COUNTS", 5, start)
        line = [l for l in text[start:].splitlines() if "%SBC-6-COUNTS" in l][-1]
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}

    def wait_idle(self, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            c = self.counts()
            if c["calls"] == 0 and c["AGGREGATE"] == 0:
                return c
            if time.time() > deadline:
                raise AssertionError(f"calls not drained: {c}")
            time.sleep(0.1)

    def kill9(self):
        """SIGKILL by pid: no clean-up of any kind."""
        self.child.kill9()

    def stop(self, timeout=40):
        """SIGTERM; returns the exit code. Kills by pid if it hangs."""
        return self.child.stop_or_hang(timeout)

    def check_clean_exit(self, rc, allowed=()):
        """Exit 0 and no sanitizer report or error line (but `allowed`)."""
        text = self.text()
        bad = [l for l in text.splitlines()
               if ("Sanitizer" in l or "runtime error" in l or "-3-" in l)
               and not any(a in l for a in allowed)]
        assert rc == 0, f"sbcd exit code {rc}:\n{text[-3000:]}"
        assert not bad, "sbcd log has errors:\n" + "\n".join(bad[:20])


@contextlib.contextmanager
def running(sbc, *uas, allowed=()):
    """Stop sbcd and close the UAs however the test ends; when the test
    body passed, sbcd must also have exited 0 with a clean log."""
    with stopped_at_end([sbc], uas, allowed):
        yield


@contextlib.contextmanager
def stopped_at_end(sbcs, uas, allowed=()):
    """Stop every sbcd (by pid) and close every UA however the test ends;
    when the body passed, each sbcd must have exited 0 with a clean log."""
    try:
        yield
    finally:
        rcs = [s.stop() for s in sbcs]
        for u in uas:
            u.close()
    for s, rc in zip(sbcs, rcs):
        s.check_clean_exit(rc, allowed)


# ------------------------------------------------------------------- licd

class Licd:
    """A licd serving on a loopback port (0: any free one), its state in
    `state`; stderr appended to licd.log and stdout to licd_stdout.log of
    log_dir (default: the state dir), so that restarts keep the history."""

    def __init__(self, state, port=0, binary=None, log_dir=None, ready_timeout=20):
        self.state = state
        self.binary = binary or BIN["licd"]
        os.makedirs(state, exist_ok=True)
        log_dir = log_dir or state
        out = os.path.join(log_dir, "licd_stdout.log")
        start = os.path.getsize(out) if os.path.exists(out) else 0
        self.child = Child("licd", [self.binary, "serve", "-S", state, "--listen",
                                    f"127.0.0.1:{port}"],
                           log_dir, "licd_stdout.log", "licd.log", mode="ab")
        self.proc = self.child.proc
        self.log_path = self.child.stderr_path
        deadline = time.time() + ready_timeout
        self.port = None
        while self.port is None and time.time() < deadline and self.child.alive():
            with open(out, errors="replace") as f:
                f.seek(start)
                m = re.search(r"listening on \S+:(\d+)", f.read())
            self.port = int(m.group(1)) if m else None
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RunError("licd did not start:\n%s" % tail(self.log_path))
        self.url = "https://127.0.0.1:%d/licensing/v1/" % self.port
        self.ca = os.path.join(state, "server.crt")

    def admin(self, *args):
        p = subprocess.run([self.binary, "-S", self.state, *args], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"licd {' '.join(args)}: rc {p.returncode}\n{p.stderr}")
        return p.stdout

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def kill9(self):
        """SIGKILL by pid: no clean-up of any kind."""
        self.child.kill9()

    def stop(self):
        """SIGTERM by pid (idempotent); the exit code."""
        return self.child.stop_or_hang(20)

    def stop_clean(self):
        """Stop; licd must exit 0 and its log hold no sanitizer report."""
        rc = self.stop()
        text = self.text()
        assert rc == 0, f"licd exit {rc}:\n{text[-2000:]}"
        assert "Sanitizer" not in text and "runtime error" not in text, text[-4000:]


# -------------------------------------------------------------- rtpengine

class Rtpengine:
    """An rtpengine (Debian's rtpengine-daemon) of this test: userspace
    forwarding only, its ng control port and a block of `media_ports` media
    ports free on `addr` (in 127.0.0.0/8), stderr in the work dir's
    rtpengine.log. Ready once `ping` answers `pong`; stopped by its own pid.
    ng(cmd) sends one ng request (JSON) and returns the reply's object."""

    def __init__(self, workdir, binary=None, addr=LOCAL_IP, media_ports=100,
                 delete_delay=0, ready_timeout=10, args=()):
        self.binary = binary or BIN.get("rtpengine") or shutil.which("rtpengine")
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise RunError("rtpengine not found (Debian 12 package rtpengine-daemon; "
                           "./bootstrap.sh installs it)")
        self.addr = addr
        self.workdir = workdir
        self.ng_port = free_port(tcp=False)
        # One port more than needed, so that the block can start even:
        # rtpengine gives each stream an even RTP port and the odd one after
        # it for RTCP.
        first = PORTS.pick(tcp=False, span=range(media_ports + 1))
        self.port_min = first + (first & 1)
        self.port_max = self.port_min + media_ports - 1
        self.pidfile = os.path.join(workdir, "rtpengine.pid")
        self.log_path = os.path.join(workdir, "rtpengine.log")
        argv = [self.binary,
                # Not /etc/rtpengine/rtpengine.conf: its sections set fixed
                # CLI and HTTP ports, the kernel table and a recording dir.
                "--config-file=none",
                "--foreground",
                # Userspace forwarding: no kernel module, no iptables rules,
                # nothing outside this process.
                "--table=-1", "--no-fallback",
                "--interface=" + addr,
                "--listen-ng=%s:%d" % (addr, self.ng_port),
                "--port-min=%d" % self.port_min, "--port-max=%d" % self.port_max,
                # A deleted call otherwise stays (and shows in `list`) for
                # 30 s, for signalling retransmitted after the delete.
                "--delete-delay=%d" % delete_delay,
                "--log-stderr", "--pidfile=" + self.pidfile, *args]
        self.child = Child("rtpengine", argv, workdir, "rtpengine.log", "rtpengine.log")
        self.proc = self.child.proc
        self.pid = self.child.pid
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        try:
            self.wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline and self.child.alive():
            try:
                if self.ng({"command": "ping"}, tries=1, timeout=0.2).get("result") == "pong":
                    return
            except AssertionError:
                pass
        raise RunError("rtpengine did not answer ping (exit %s):\n%s"
                       % (self.proc.poll(), tail(self.log_path)))

    def ng(self, cmd, tries=5, timeout=0.5):
        """One ng request: `<cookie> <JSON>`, a fresh cookie per request;
        a retransmission (no reply within `timeout` s) reuses the cookie, so
        rtpengine answers it from its reply cache instead of running the
        command twice. Replies to other cookies (late answers to earlier
        requests) are skipped. The reply's object; AssertionError when
        none came after `tries` sends."""
        cookie = "%x" % random.getrandbits(64)
        data = ("%s %s" % (cookie, json.dumps(cmd))).encode()
        for _ in range(tries):
            self.sock.sendto(data, (self.addr, self.ng_port))
            deadline = time.time() + timeout
            while True:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    reply = self.sock.recv(65535)
                except socket.timeout:
                    break
                got, _, body = reply.decode("utf-8", "replace").partition(" ")
                if got == cookie:
                    return json.loads(body)
        raise AssertionError("rtpengine: no answer to %s (%d tries)"
                             % (cmd.get("command"), tries))

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM by pid (idempotent), SIGKILL if it hangs; the exit code,
        or "hung"."""
        self.sock.close()
        return self.child.stop_or_hang(5)


# ------------------------------------------------------------------- SIPp

class Sipp:
    """SIPp of one scenario pair in `wd`, its output files named after
    `tag` (uas_stat.csv, uac_errors.log...); one run at a time in .child."""

    def __init__(self, sipp, wd, tag, scenario="basic", scenario_dir=SCENARIOS,
                 transport="udp", buff_size=4194304, hold_ms=0, recv_timeout_ms=None,
                 stat_interval_ms=200, trace_counts=False, trace_msg=False, cpus=None,
                 ports=PORTS):
        self.sipp = sipp
        self.wd = wd
        self.tag = tag
        self.scenario = scenario
        self.scenario_dir = scenario_dir
        self.transport = transport
        self.buff_size = buff_size
        self.hold_ms = hold_ms
        self.recv_timeout_ms = recv_timeout_ms
        self.stat_interval_ms = stat_interval_ms
        self.trace_counts = trace_counts
        self.trace_msg = trace_msg
        self.cpus = cpus
        self.ports = ports
        self.child = None
        self.port = None

    def path(self, what):
        return os.path.join(self.wd, "%s_%s" % (self.tag, what))

    def scenario_file(self, role):
        return os.path.join(self.scenario_dir, "%s_%s.xml" % (self.scenario, role))

    def argv(self, role, port):
        """SIPp's command line as `role` (uac / uas) on `port`, with its
        media and control ports picked here."""
        mport = self.ports.pick(tcp=False, span=(0, 2))
        cport = self.ports.pick(tcp=False)
        recv_timeout = self.recv_timeout_ms or self.hold_ms + 30000
        argv = [self.sipp, "-sf", self.scenario_file(role),
                "-i", LOCAL_IP, "-p", str(port),
                "-mi", LOCAL_IP, "-mp", str(mport),
                "-ci", LOCAL_IP, "-cp", str(cport),
                "-t", "t1" if self.transport == "tcp" else "u1",
                "-nostdin",
                "-buff_size", str(self.buff_size),
                "-max_socket", "4096",
                "-max_recv_loops", "10000",
                "-max_sched_loops", "10000",
                "-d", str(self.hold_ms),
                "-recv_timeout", str(recv_timeout),
                "-trace_err", "-error_file", self.path("errors.log"),
                "-trace_screen", "-screen_file", self.path("screen.log"),
                "-trace_stat", "-stf", self.path("stat.csv"),
                "-fd", "%dms" % (self.stat_interval_ms if role == "uac" else 1000)]
        if role == "uac" and self.trace_counts:
            argv += ["-trace_counts"]
        if self.trace_msg:
            argv += ["-trace_msg", "-message_file", self.path("messages.log")]
        return argv

    def spawn(self, argv):
        self.child = Child(self.tag, argv, self.wd, self.tag + "_stdout.log",
                           self.tag + "_stderr.log", self.cpus)
        return self.child

    def spawn_uas(self):
        """A UAS on a free port (self.port); listening() tells when it is up."""
        self.port = self.ports.pick()
        return self.spawn(self.argv("uas", self.port))

    def listening(self, timeout=10):
        """True once the UAS listens on its port, False if it died or did
        not within `timeout` s (left running then)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.child.alive():
            if port_in_use(self.port, self.transport == "tcp"):
                return True
            time.sleep(0.05)
        return False

    def start_uas(self, hold_ms=0):
        """A listening UAS (three tries); its port."""
        self.hold_ms = hold_ms
        for _ in range(3):
            self.spawn_uas()
            if self.listening():
                return self.port
            self.child.stop(signal.SIGKILL, 2)
        raise AssertionError("SIPp UAS did not start:\n" + tail(self.child.stderr_path))

    def uac_argv(self, target, calls, rate, limit, called="15551234"):
        port = self.ports.pick()
        return self.argv("uac", port) + [
            "%s:%d" % (LOCAL_IP, target), "-s", called, "-m", str(calls),
            "-r", "%g" % rate, "-l", str(limit)]

    def start_uac(self, target, calls, rate, hold_ms=0, limit=None):
        self.hold_ms = hold_ms
        limit = limit or max(1000, int(rate * (self.hold_ms / 1000 + 5) * 2))
        return self.spawn(self.uac_argv(target, calls, rate, limit))

    def wait(self, timeout):
        rc = self.child.wait(timeout)
        if rc is None:
            self.child.stop_sipp(3)
            raise AssertionError("%s still running after %.0f s" % (self.tag, timeout))
        return rc

    def soft_stop(self, timeout=15):
        """SIGUSR1: no new calls, the ones up finish, final statistics."""
        return self.child.stop_sipp(timeout)

    def kill(self):
        if self.child is not None:
            self.child.stop(signal.SIGKILL, 1)


# ------------------------------------------------------------- the tests

def tests_in(names):
    """The tests of a module (its globals()): test_NAME as NAME."""
    return {name[5:]: fn for name, fn in sorted(names.items())
            if name.startswith("test_") and callable(fn)}


def command_line(doc, tests, binaries=("sbcd",), optional=(), more=None, choose_all=True):
    """A test file's command line: --NAME PATH for each of `binaries`
    (required) and `optional`, more(parser) for its own options, then the
    test (a name of `tests`, or "all" when choose_all). The paths given go
    to BIN."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in binaries:
        ap.add_argument("--" + name, required=True)
    for name in optional:
        ap.add_argument("--" + name)
    if more:
        more(ap)
    ap.add_argument("test", choices=sorted(tests) + (["all"] if choose_all else []))
    args = ap.parse_args()
    BIN.update({n: getattr(args, n) for n in (*binaries, *optional)
                if getattr(args, n) is not None})
    return args


def run_tests(tests, which, call, prefix, keep=False, on_fail=None, env=None):
    """Run tests[which] (or every test, which="all", in name order), each in
    a new work dir named prefix-NAME-...: call(fn, wd). Every test runs even
    when one fails; an AssertionError and any other exception alike fail
    it. Prints PASS/FAIL per test (a failure with its traceback, on_fail(wd)
    after it, and keeps a failed test's work dir); env(wd): a context
    manager around each test. Returns the exit code: 0 when all passed, 1
    when any failed, 130 when interrupted (SIGTERM, SIGHUP or Ctrl-C)."""
    interrupt_on(signal.SIGTERM, signal.SIGHUP)
    names = sorted(tests) if which == "all" else [which]
    failed = 0
    for name in names:
        wd = tempfile.mkdtemp(prefix=f"{prefix}-{name}-")
        t0 = time.time()
        ok = False
        try:
            with env(wd) if env else contextlib.nullcontext():
                call(tests[name], wd)
            ok = True
            print(f"PASS {name} ({time.time() - t0:.1f} s)", flush=True)
        except KeyboardInterrupt:
            print(f"FAIL {name}: interrupted", flush=True)
            return 130
        except Exception:
            failed += 1
            print(f"FAIL {name} ({time.time() - t0:.1f} s):")
            traceback.print_exc(file=sys.stdout)
            if on_fail:
                on_fail(wd)
            print(f"---- work dir kept: {wd}", flush=True)
        finally:
            if ok and not keep:
                shutil.rmtree(wd, ignore_errors=True)
    return 1 if failed else 0
