#!/usr/bin/env python3
"""SIP relay benchmark: SIPp UAC -> system under test -> SIPp UAS on loopback,
side by side for (a) no relay (UAC calls the UAS: the harness ceiling),
(b) Kamailio 5.6 (Debian) as a dialog-stateful proxy counting concurrent calls
in a dialog profile, (c) sbcd.

    tests/bench/compare.py [--quick] [--sbcd build/sbc/sbcd]
                           [--out docs/benchmarks.md | --no-write]

Figures, for each system:
  * highest clean rate: calls/s stepped up until the first step with more
    than 0.1 % failed calls, a retransmission storm, a rate SIPp could not
    hold, or calls left unfinished;
  * CPU ms per call of the system under test (utime + stime from /proc, all
    Kamailio processes, all sbcd threads) at a fixed moderate rate;
  * memory per concurrent call with 20,000 calls held, read after the
    finished transactions expired (Sofia and tm keep them ~32 s): the PSS
    (smaps_rollup) summed over the system's processes, minus its idle PSS;
  * INVITE-to-200 latency p50/p99 seen at the UAC's socket, and the latency
    the relay adds (via relay minus direct, same rate).

Placement: the system under test on CPU 0, both SIPp instances (and this
script, and its packet-capture helper) on CPU 1.

The INVITE-to-200 times come from kernel packet timestamps (an AF_PACKET
socket on lo with a BPF filter for the UAC's port, INVITEs and 200s only):
SIPp 3.6's own response times (-trace_rtt, rtd, the response-time
repartition) are whole milliseconds from a coarse clock (4 ms ticks here)
and read 0 ms for every call on this machine, too coarse for the figures.

Needs root (apt-get for Kamailio, the packet socket). Python 3 standard
library only; reuses sipp-scenarios/run.py (ports, children, sbcd config,
SIPp statistics).
"""

import argparse
import ctypes
import datetime
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SCEN_DIR = os.path.join(TOP, "sipp-scenarios")
sys.path.insert(0, SCEN_DIR)
import run as sr  # noqa: E402  (sipp-scenarios/run.py)
from benchdoc import write_section  # noqa: E402

IP = sr.LOCAL_IP
CPU_SUT = 0
CPU_SIPP = 1
SECTION = "## SIP relay: sbcd vs Kamailio (tests/bench/compare.py)"
KAM_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
SYSTEMS = ("direct", "kamailio", "sbcd")
LABEL = {"direct": "(a) direct UAC->UAS", "kamailio": "(b) Kamailio", "sbcd": "(c) sbcd"}

FULL = dict(steps=[500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000],
            step_s=15, hold_ms=1000, cpu_rate=500, cpu_s=20, cpu_warm_s=40,
            mem_calls=20000, mem_rate=1000, settle_s=35, lat_s=15)
QUICK = dict(steps=[1000, 2000, 4000, 6000], step_s=4, hold_ms=1000, cpu_rate=300, cpu_s=5, cpu_warm_s=5,
             mem_calls=2000, mem_rate=500, settle_s=10, lat_s=4)

MAX_FAILED = 0.001      # failed calls / calls placed
MAX_RETRANS = 0.01      # retransmissions (UAC + UAS) / calls placed
MIN_ACHIEVED = 0.95     # calls placed per second / target rate


def log(msg):
    print("[compare] " + msg, flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ Kamailio

def ensure_kamailio():
    """Kamailio from Debian, installed without starting a service."""
    if shutil.which("kamailio") or os.path.exists("/usr/sbin/kamailio"):
        return
    if os.geteuid() != 0:
        raise BenchError("kamailio is not installed and this is not root")
    log("installing kamailio (apt-get, services kept from starting by policy-rc.d)")
    prc = "/usr/sbin/policy-rc.d"
    saved = None
    if os.path.exists(prc):
        with open(prc, "rb") as f:
            saved = (f.read(), os.stat(prc).st_mode & 0o7777)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        with open(prc, "w") as f:
            f.write("#!/bin/sh\n# compare.py: no service starts while kamailio installs\nexit 101\n")
        os.chmod(prc, 0o755)
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", "kamailio"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError("apt-get install kamailio failed:\n%s" % (p.stdout + p.stderr)[-3000:])
    finally:
        if saved is None:
            os.unlink(prc)
        else:
            with open(prc, "wb") as f:
                f.write(saved[0])
            os.chmod(prc, saved[1])


KAM_CFG = """#!KAMAILIO
# compare.py: a dialog-stateful proxy, every call counted in profile "calls".
debug=1
log_stderror=yes
children={children}
disable_tcp=yes
auto_aliases=no
listen=udp:{ip}:{port}
maxbuffer={buf}
mpath="{mpath}"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "ctl.so"
loadmodule "pv.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "dialog.so"

modparam("ctl", "binrpc", "unix:{ctl}")
modparam("dialog", "profiles_no_value", "calls")
modparam("dialog", "hash_size", 16384)
modparam("dialog", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        dlg_manage();
        if (loose_route()) {{
            if (!t_relay()) sl_reply_error();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
            exit;
        }}
        if (!is_method("ACK")) sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) t_relay();
        exit;
    }}
    t_check_trans();
    if (is_method("INVITE")) {{
        dlg_manage();
        set_dlg_profile("calls");
    }}
    record_route();
    $du = "sip:{ip}:{uas_port}";
    if (!t_relay()) sl_reply_error();
    exit;
}}
"""


def kamailio_version():
    try:
        out = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    m = re.search(r"version:\s*kamailio\s+(\S+)", out)
    return m.group(1) if m else out.splitlines()[0] if out else "?"


def sipp_version(sipp):
    out = subprocess.run([sipp, "-v"], capture_output=True, text=True).stdout
    m = re.search(r"SIPp\s+(v\S+)", out)
    return m.group(1).rstrip(".") if m else "?"


# -------------------------------------------------------------- /proc helpers

def proc_stat(pid):
    """The fields of /proc/<pid>/stat after the command name (state first),
    or None when the process is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        fields = proc_stat(d)
        if fields is not None and int(fields[1]) == pid:
            out.append(int(d))
    return out


def cpu_ticks(pids):
    """utime + stime (clock ticks) summed over pids (threads included)."""
    total = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total


def cpu_ns(pids):
    """Time on CPU (ns) of pids and all their threads (/proc/*/task/*/schedstat)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def proc_kb(pids, name, field):
    """The sum over pids of a kB figure of /proc/PID/<name>: its line
    starting with `field`."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/%s" % (pid, name)) as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def pss_kb(pids):
    return proc_kb(pids, "smaps_rollup", "Pss:")


def rss_kb(pids):
    return proc_kb(pids, "status", "VmRSS:")


CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------- packet capture helper

SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4


def bpf_program(port):
    """UDP to or from `port` whose payload starts with INVITE or 'SIP/2.0 200 '."""
    def ins(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)
    prog = [
        ins(0x30, 0, 0, 9),            # 0 ldb [9]          protocol
        ins(0x15, 0, 11, 17),          # 1 jeq UDP          else drop
        ins(0xb1, 0, 0, 0),            # 2 ldxb 4*([0]&15)  IP header length
        ins(0x48, 0, 0, 0),            # 3 ldh [x+0]        source port
        ins(0x15, 2, 0, port),         # 4 jeq port -> 7
        ins(0x48, 0, 0, 2),            # 5 ldh [x+2]        destination port
        ins(0x15, 0, 6, port),         # 6 jeq port         else drop
        ins(0x40, 0, 0, 8),            # 7 ld [x+8]         payload[0:4]
        ins(0x15, 3, 0, 0x494E5649),   # 8 "INVI" -> accept
        ins(0x15, 0, 3, 0x5349502F),   # 9 "SIP/"           else drop
        ins(0x40, 0, 0, 16),           # 10 ld [x+16]       payload[8:12]
        ins(0x15, 0, 1, 0x32303020),   # 11 "200 "          else drop
        ins(0x06, 0, 0, 65535),        # 12 accept
        ins(0x06, 0, 0, 0),            # 13 drop
    ]
    return b"".join(prog), len(prog)


CALLID_RE = re.compile(rb"\r\n(?:Call-ID|i)\s*:\s*([^\r\n]+)", re.I)
CSEQ_RE = re.compile(rb"\r\nCSeq\s*:\s*\d+\s+(\w+)", re.I)


def capture_main(port, out_path):
    """--capture-helper: INVITE -> 200 (INVITE) times at the UAC's port, from
    kernel timestamps, until SIGTERM; then a JSON file of microseconds."""
    stop = [False]

    def on_term(signum, frame):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    code, n = bpf_program(port)
    filt = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", n, ctypes.addressof(filt))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("lo", 0x0800))
    # drain what arrived before the filter was attached
    s.setblocking(False)
    try:
        while True:
            s.recv(65535)
    except BlockingIOError:
        pass
    with open(out_path + ".ready", "w") as f:
        f.write("1")
    inv, ok = {}, {}
    pkts = 0
    while not stop[0]:
        try:
            r, _, _ = select.select([s], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        while True:
            try:
                data, anc, _, addr = s.recvmsg(4096, 64)
            except (BlockingIOError, InterruptedError):
                break
            pkts += 1
            if addr[2] == PACKET_OUTGOING:  # lo shows each packet twice
                continue
            ts = None
            for lvl, typ, cdata in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    ts = sec * 1000000 + nsec // 1000
            if ts is None:
                continue
            ihl = (data[0] & 15) * 4
            sport, dport = struct.unpack("!HH", data[ihl:ihl + 4])
            pay = data[ihl + 8:]
            m = CALLID_RE.search(pay)
            if not m:
                continue
            cid = m.group(1).strip()
            if pay.startswith(b"INVITE ") and sport == port:
                inv.setdefault(cid, ts)
            elif pay.startswith(b"SIP/2.0 200 ") and dport == port:
                c = CSEQ_RE.search(pay)
                if c and c.group(1).upper() == b"INVITE":
                    ok.setdefault(cid, ts)
    try:
        st = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        seen, drops = struct.unpack("II", st)
    except OSError:
        seen, drops = -1, -1
    lat = sorted(ok[c] - inv[c] for c in ok if c in inv)
    with open(out_path, "w") as f:
        json.dump({"lat_us": lat, "invites": len(inv), "oks": len(ok), "packets": pkts,
                   "kernel_drops": drops}, f)


def screen_retrans(path):
    """Sum of the Retrans column of a SIPp screen file's message table (both
    what SIPp re-sent and the retransmissions it received)."""
    total = 0
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return 0
    # the last message table of the file (the final screen)
    i = text.rfind("Messages  Retrans")
    if i < 0:
        return 0
    for line in text[i:].splitlines()[1:]:
        if line.startswith("Last Error") or line.startswith("-----"):
            break
        m = re.search(r"(?:<-+|-+>)\s+\S+(?:\s+B-RTD\d+|\s+E-RTD\d+)?\s+(\d+)\s+(\d+)", line)
        if m:
            total += int(m.group(2))
    return total


def udp_errors():
    """(InErrors, RcvbufErrors) of the whole machine's UDP (/proc/net/snmp)."""
    try:
        with open("/proc/net/snmp") as f:
            lines = [l.split() for l in f if l.startswith("Udp:")]
        d = dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))
        return d.get("InErrors", 0), d.get("RcvbufErrors", 0)
    except (OSError, IndexError, ValueError):
        return 0, 0


def cpu_times():
    """{cpu: (busy, total)} jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+)\s+(.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                idle = v[3] + (v[4] if len(v) > 4 else 0)
                out[int(m.group(1))] = (sum(v[:8]) - idle, sum(v[:8]))
    return out


def cpu_busy(t0, t1):
    """{cpu: busy fraction} between two cpu_times()."""
    return {c: (t1[c][0] - t0[c][0]) / float(max(1, t1[c][1] - t0[c][1])) for c in t1 if c in t0}


def udp_socket_drops(ports):
    """{port: drops} of the UDP sockets bound to these ports (/proc/net/udp)."""
    out = {}
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                parts = line.split()
                port = int(parts[1].split(":")[1], 16)
                if port in ports:
                    out[port] = out.get(port, 0) + int(parts[-1])
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return out


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


# ------------------------------------------------------------ the benchmark

class SippOutcome:
    """One UAC run (and its UAS) judged for cleanliness."""

    def __init__(self, uac_stat, uas_stat, calls, rate, timed_out):
        self.rows = sr.read_stat_csv(uac_stat)
        self.uas_rows = sr.read_stat_csv(uas_stat)
        last = self.rows[-1] if self.rows else {}
        ulast = self.uas_rows[-1] if self.uas_rows else {}
        g = sr.stat_int
        self.calls = calls
        self.rate = rate
        self.created = g(last, "TotalCallCreated")
        self.successful = g(last, "SuccessfulCall(C)")
        self.failed = g(last, "FailedCall(C)")
        self.uas_failed = g(ulast, "FailedCall(C)")
        self.uas_successful = g(ulast, "SuccessfulCall(C)")
        # SIPp's counter has only what it re-sent; the screens also count the
        # retransmissions it received (from the relay)
        self.retrans = max(g(last, "Retransmissions(C)") + g(ulast, "Retransmissions(C)"),
                           screen_retrans(uac_stat.replace("_stat.csv", "_screen.log"))
                           + screen_retrans(uas_stat.replace("_stat.csv", "_screen.log")))
        self.dead = g(last, "DeadCallMsgs(C)") + g(ulast, "DeadCallMsgs(C)")
        self.timed_out = timed_out
        # calls placed per second: time from the start until the last call was created
        self.achieved = None
        if self.rows:
            t0 = self.rows[0]["t"]
            try:
                t0 = float(self.rows[0]["StartTime"].split("\t")[-1])
            except (KeyError, ValueError):
                pass
            for r in self.rows:
                if g(r, "TotalCallCreated") >= calls:
                    if r["t"] > t0:
                        self.achieved = calls / (r["t"] - t0)
                    break
        self.failures = {}
        for col in last:
            if col.startswith("Failed") and col.endswith("(C)") and col != "FailedCall(C)":
                if g(last, col):
                    self.failures[col[6:-3]] = g(last, col)

    def problems(self):
        out = []
        n = max(self.calls, 1)
        failed = self.failed + (self.calls - self.successful - self.failed)
        if self.timed_out:
            out.append("calls unfinished at the timeout")
        if failed > MAX_FAILED * n:
            out.append("%d failed (%.2f%%)" % (failed, 100.0 * failed / n))
        if self.uas_failed > MAX_FAILED * n:
            out.append("UAS %d failed" % self.uas_failed)
        if self.retrans > MAX_RETRANS * n:
            out.append("%d retransmissions (%.1f%%)" % (self.retrans, 100.0 * self.retrans / n))
        if self.achieved is None or self.achieved < MIN_ACHIEVED * self.rate:
            out.append("placed %s calls/s" % ("?" if self.achieved is None else "%.0f" % self.achieved))
        return out


class Bench:
    def __init__(self, args, prof):
        self.a = args
        self.p = prof
        self.ports = sr.PortPicker()
        self.workdir = tempfile.mkdtemp(prefix="sbc-compare-")
        self.children = []
        self.n = 0
        self.odd = []          # things worth telling (errors in logs, deaths)
        self.uac_xml = os.path.join(SCEN_DIR, "basic_uac.xml")
        self.uas_xml = os.path.join(SCEN_DIR, "basic_uas.xml")

    def rundir(self, tag):
        self.n += 1
        d = os.path.join(self.workdir, "%02d-%s" % (self.n, tag))
        os.makedirs(d)
        return d

    def child(self, name, argv, wd, cpu):
        c = sr.Child(name, ["taskset", "-c", str(cpu)] + argv, wd,
                     "%s_stdout.log" % name, "%s.log" % name)
        self.children.append(c)
        return c

    def sipp_argv(self, xml, port, wd, role, hold_ms, recv_timeout_ms, fd):
        mport = self.ports.pick(tcp=False, span=(0, 2))
        cport = self.ports.pick(tcp=False)
        return [self.a.sipp, "-sf", xml, "-i", IP, "-p", str(port),
                "-mi", IP, "-mp", str(mport), "-ci", IP, "-cp", str(cport),
                "-t", "u1", "-nostdin", "-buff_size", str(self.a.buff_size),
                "-max_recv_loops", "10000", "-max_sched_loops", "10000",
                "-d", str(hold_ms), "-recv_timeout", str(recv_timeout_ms),
                "-trace_err", "-error_file", os.path.join(wd, "%s_errors.log" % role),
                "-trace_screen", "-screen_file", os.path.join(wd, "%s_screen.log" % role),
                "-trace_stat", "-stf", os.path.join(wd, "%s_stat.csv" % role), "-fd", fd]

    # -- processes
    def start_uas(self, wd, hold_ms, recv_timeout_ms):
        port = self.ports.pick()
        argv = self.sipp_argv(self.uas_xml, port, wd, "uas", hold_ms, recv_timeout_ms, "1")
        uas = self.child("uas", argv, wd, CPU_SIPP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if not uas.alive():
                raise BenchError("UAS exited: %s" % sr.tail(uas.stderr_path, 10))
            if sr.port_in_use(port, False):
                return uas, port
            time.sleep(0.05)
        raise BenchError("UAS did not bind its port")

    def start_sut(self, system, wd, uas_port):
        if system == "direct":
            return DirectSut(uas_port)
        if system == "kamailio":
            return KamailioSut(self, wd, uas_port)
        return SbcdSut(self, wd, uas_port)

    def run_uac(self, wd, target_port, rate, calls, hold_ms, recv_timeout_ms, limit,
                timeout_s, capture=False):
        for attempt in range(3):
            port = self.ports.pick()
            run = self._start_uac(wd, port, target_port, rate, calls, hold_ms, recv_timeout_ms,
                                  limit, timeout_s, capture)
            time.sleep(0.3)
            if run.proc.alive() or run.proc.proc.returncode == 0 or attempt == 2:
                return run
            # SIPp exits at once with an error when its port was taken meanwhile
            log("  the UAC exited at start (rc=%s), starting it again on another port"
                % run.proc.proc.returncode)
            if run.cap is not None:
                run.cap.stop(signal.SIGTERM, 3, 2)
        return run

    def _start_uac(self, wd, port, target_port, rate, calls, hold_ms, recv_timeout_ms, limit,
                   timeout_s, capture):
        argv = self.sipp_argv(self.uac_xml, port, wd, "uac", hold_ms, recv_timeout_ms, "100ms")
        argv += ["%s:%d" % (IP, target_port), "-s", "15551234", "-m", str(calls),
                 "-r", "%g" % rate, "-l", str(limit)]
        cap = None
        if capture:
            cap_out = os.path.join(wd, "capture.json")
            cap = self.child("capture", [sys.executable, os.path.abspath(__file__),
                                         "--capture-helper", str(port), cap_out], wd, CPU_SIPP)
            deadline = time.time() + 5
            while not os.path.exists(cap_out + ".ready"):
                if time.time() > deadline or not cap.alive():
                    raise BenchError("capture helper did not start: %s"
                                     % sr.tail(cap.stderr_path, 10))
                time.sleep(0.02)
        uac = self.child("uac", argv, wd, CPU_SIPP)
        run = UacRun(self, uac, wd, calls, rate, timeout_s, cap)
        run.port = port
        return run

    def cleanup(self):
        for c in reversed(self.children):
            if c.alive():
                c.stop(signal.SIGTERM, 3, 3)

    # -- the measurements
    def one_run(self, system, tag, rate, calls, hold_ms, capture=False, mem=False,
                window=None):
        """UAS + system + UAC; returns a dict with the SIPp outcome and the
        system's CPU (and memory when mem is set). window=(from_s, to_s):
        also the system's CPU time between those seconds after the UAC
        started (win_cpu_ms over win_s seconds)."""
        wd = self.rundir("%s-%s" % (system, tag))
        recv_to = hold_ms + 60000
        uas, uas_port = self.start_uas(wd, hold_ms, recv_to)
        sut = None
        res = {"system": system, "rate": rate, "calls": calls, "dir": wd}
        try:
            sut = self.start_sut(system, wd, uas_port)
            time.sleep(1.0)
            pids = sut.pids()
            res["idle_pss_kb"] = pss_kb(pids)
            res["idle_rss_kb"] = rss_kb(pids)
            if mem:
                res["idle_extra"] = sut.extra_mem()
            limit = calls if mem else max(1000, int(rate * (hold_ms / 1000.0 + 5) * 2))
            timeout_s = calls / float(rate) + hold_ms / 1000.0 + 40
            t_cpu0 = cpu_ticks(sut.pids())
            udp0 = udp_errors()
            ct0 = cpu_times()
            w0 = time.time()
            uac = self.run_uac(wd, sut.port, rate, calls, hold_ms, recv_to, limit, timeout_s,
                               capture=capture)
            if mem:
                self.hold_and_measure(uac, sut, res, calls, rate)
                uac.kill()
                timed_out = False
            else:
                placing = calls / float(rate)

                def mark():
                    if system != "direct":
                        res["busy"] = ((cpu_ticks(sut.pids()) - t_cpu0) / float(CLK_TCK)
                                       / (time.time() - w0))
                    res["cpus"] = cpu_busy(ct0, cpu_times())
                who = {uas_port: "UAS", uac.port: "UAC"}
                if system != "direct":
                    who[sut.port] = system
                drops = {}

                win = {}

                def tick():
                    for port, n in udp_socket_drops(who).items():
                        drops[who[port]] = max(drops.get(who[port], 0), n)
                    if window and system != "direct":
                        now = time.time()
                        for i, edge in enumerate(window):
                            if i not in win and now - w0 >= edge:
                                win[i] = (cpu_ticks(sut.pids()), now)
                timed_out = not uac.wait(w0 + placing, mark, tick)
                tick()
                res["sock_drops"] = drops
                if 0 in win and 1 in win:
                    res["win_cpu_ms"] = (win[1][0] - win[0][0]) * 1000.0 / CLK_TCK
                    res["win_s"] = win[1][1] - win[0][1]
                    res["win_at"] = (win[0][1], win[1][1])
            res["cpu_ms"] = (cpu_ticks(sut.pids()) - t_cpu0) * 1000.0 / CLK_TCK
            res["udp_drops"] = udp_errors()[1] - udp0[1]
            res["wall_s"] = time.time() - w0
            res["sut_alive"] = sut.alive()
            if capture:
                res["capture"] = uac.capture_result()
            if not mem:
                rc, killed = uas.stop_sipp(15.0)
            else:
                uas.stop(signal.SIGKILL, 2, 2)
            out = SippOutcome(os.path.join(wd, "uac_stat.csv"), os.path.join(wd, "uas_stat.csv"),
                              calls, rate, timed_out)
            res["sipp"] = out
        finally:
            if uas.alive():
                uas.stop(signal.SIGKILL, 2, 2)
            if sut is not None:
                res["log_errors"] = sut.stop()
        if not res.get("sut_alive", True):
            self.odd.append("%s died during %s (%s)" % (system, tag, wd))
        if res.get("log_errors"):
            self.odd.append("%s %s: %d error line(s) in its log, first: %s"
                            % (system, tag, len(res["log_errors"]), res["log_errors"][0]))
        return res

    def hold_and_measure(self, uac, sut, res, calls, rate):
        """Wait until every call is placed, then settle_s for the finished
        transactions to expire, then read memory and the concurrent counts."""
        t_last = None
        deadline = time.time() + calls / float(rate) + 60
        while time.time() < deadline:
            rows = sr.read_stat_csv(os.path.join(uac.wd, "uac_stat.csv"))
            if rows and sr.stat_int(rows[-1], "TotalCallCreated") >= calls:
                t_last = time.time()
                break
            if not uac.proc.alive() or not sut.alive():
                break
            time.sleep(0.2)
        if t_last is None:
            raise BenchError("memory run: the UAC did not place %d calls (%s)" % (calls, uac.wd))
        log("  %d calls placed; waiting %d s for finished transactions to expire"
            % (calls, self.p["settle_s"]))
        time.sleep(self.p["settle_s"])
        rows = sr.read_stat_csv(os.path.join(uac.wd, "uac_stat.csv"))
        last = rows[-1] if rows else {}
        res["settled_s"] = time.time() - t_last
        res["concurrent"] = sr.stat_int(last, "CurrentCall")
        res["mem_failed"] = sr.stat_int(last, "FailedCall(C)")
        res["mem_successful"] = sr.stat_int(last, "SuccessfulCall(C)")
        pids = sut.pids()
        res["pss_kb"] = pss_kb(pids)
        res["rss_kb"] = rss_kb(pids)
        res["extra"] = sut.extra_mem()
        res["sut_count"] = sut.count()
        res["nprocs"] = len(pids)
        # CPU with the calls held and no traffic, after the memory was read
        n0, w0 = cpu_ns(pids), time.time()
        time.sleep(5)
        res["held_cpu_ms_s"] = (cpu_ns(pids) - n0) / 1e6 / (time.time() - w0)


class UacRun:
    def __init__(self, bench, proc, wd, calls, rate, timeout_s, cap):
        self.b = bench
        self.proc = proc
        self.wd = wd
        self.calls = calls
        self.timeout_s = timeout_s
        self.cap = cap
        self.t0 = time.time()

    def wait(self, mark_at=None, mark=None, tick=None):
        """True when SIPp finished its calls by itself within the timeout.
        mark() is called once at time mark_at (e.g. the end of the placing),
        tick() every half second."""
        deadline = self.t0 + self.timeout_s
        next_tick = 0
        while self.proc.alive():
            if mark is not None and time.time() >= mark_at:
                mark()
                mark = None
            if tick is not None and time.time() >= next_tick:
                tick()
                next_tick = time.time() + 0.5
            if time.time() > deadline:
                self.proc.stop_sipp(3.0)
                return False
            time.sleep(0.05)
        return True

    def kill(self):
        self.proc.stop(signal.SIGKILL, 2, 2)

    def capture_result(self):
        if self.cap is None:
            return None
        self.cap.stop(signal.SIGTERM, 10, 2)
        path = os.path.join(self.wd, "capture.json")
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None


class DirectSut:
    name = "direct"

    def __init__(self, uas_port):
        self.port = uas_port

    def pids(self):
        return []

    def alive(self):
        return True

    def extra_mem(self):
        return None

    def count(self):
        return None

    def stop(self):
        return []


def started(proc, name, attempt, seconds, step, stop_wait, ready):
    """Waits up to `seconds` (polling every `step`) for ready() while proc
    lives. True: it is up. False: it is stopped, its port was taken: try
    again (attempts 0 and 1). Otherwise stops it and raises BenchError."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if ready():
            return True
        if not proc.alive():
            break
        time.sleep(step)
    text = sr.tail(proc.stderr_path, 30)
    proc.stop(signal.SIGTERM, stop_wait, 3)
    if re.search(r"bind|in use", text, re.I) and attempt < 2:
        return False
    raise BenchError("%s did not start:\n%s" % (name, text))


class KamailioSut:
    name = "kamailio"

    def __init__(self, bench, wd, uas_port):
        self.b = bench
        self.wd = wd
        self.ctl = os.path.join(wd, "kamailio_ctl")
        for attempt in range(3):
            self.port = bench.ports.pick(tcp=False)
            cfg = KAM_CFG.format(children=bench.a.kam_children, ip=IP, port=self.port,
                                 buf=bench.a.buff_size, mpath=KAM_MODULES, ctl=self.ctl,
                                 uas_port=uas_port)
            cfg_path = os.path.join(wd, "kamailio.cfg")
            with open(cfg_path, "w") as f:
                f.write(cfg)
            argv = ["kamailio", "-f", cfg_path, "-DD", "-E", "-m", str(bench.a.kam_shm_mb),
                    "-M", str(bench.a.kam_pkg_mb), "-P", os.path.join(wd, "kamailio.pid"),
                    "-x", bench.a.kam_mem, "-X", bench.a.kam_mem,
                    "-Y", wd, "-w", wd]
            self.proc = bench.child("kamailio", argv, wd, CPU_SUT)
            if started(self.proc, "kamailio", attempt, 15, 0.1, 5,
                       lambda: sr.port_in_use(self.port, False) and os.path.exists(self.ctl)
                       and self.rpc("core.uptime") is not None):
                return

    def rpc(self, *cmd):
        try:
            p = subprocess.run(["kamcmd", "-s", "unix:" + self.ctl] + list(cmd),
                               capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return p.stdout if p.returncode == 0 else None

    def pids(self):
        return [self.proc.pid] + children_of(self.proc.pid)

    def alive(self):
        return self.proc.alive()

    def extra_mem(self):
        out = self.rpc("core.shmmem") or ""
        m = re.search(r"real_used:\s*(\d+)", out)
        return int(m.group(1)) // 1024 if m else None

    def count(self):
        size = self.rpc("dlg.profile_get_size", "calls") or ""
        act = self.rpc("dlg.stats_active") or ""
        m = re.search(r"(?:count|size)[:\s]+(\d+)", size) or re.search(r"(\d+)", size)
        a = re.search(r"all:\s*(\d+)", act)
        return {"profile calls": int(m.group(1)) if m else None,
                "dlg.stats_active all": int(a.group(1)) if a else None}

    def stop(self):
        self.proc.stop(signal.SIGTERM, 10, 3)
        errs = []
        try:
            with open(self.proc.stderr_path, errors="replace") as f:
                for line in f:
                    if re.search(r"\b(ERROR|CRITICAL|ALERT)\b", line):
                        errs.append(line.strip())
        except OSError:
            pass
        return errs


class SbcdSut:
    name = "sbcd"

    def __init__(self, bench, wd, uas_port):
        self.b = bench
        a = bench.a
        for attempt in range(3):
            self.port = bench.ports.pick()
            conf = sr.SBCD_CONF.format(ip=IP, sbc_port=self.port, uas_port=uas_port,
                                       transport="udp", expires_ms=180000, grace=1)
            conf_path = os.path.join(wd, "sbcd.conf")
            with open(conf_path, "w") as f:
                f.write(conf)
            state = os.path.join(wd, "state")
            os.makedirs(state, exist_ok=True)
            self.proc = bench.child("sbcd", [a.sbcd, "-f", conf_path, "-S", state], wd, CPU_SUT)
            self.watch = sr.LogWatcher(self.proc.stderr_path)
            if started(self.proc, "sbcd", attempt, 10, 0.05, 3, self.ready):
                return

    def ready(self):
        self.watch.poll()
        return self.watch.find(sr.READY_MARK)

    def pids(self):
        return [self.proc.pid]

    def alive(self):
        return self.proc.alive()

    def extra_mem(self):
        """The allocator's own count of memory in use (kB), asked in sbcd
        through gdb when gdb is installed: jemalloc's malloc_stats_print()
        totals ("Allocated:") when sbcd runs on jemalloc, else glibc's
        malloc_stats(); both print to sbcd's stderr."""
        if not shutil.which("gdb"):
            return None
        try:
            with open("/proc/%d/maps" % self.proc.pid) as f:
                jemalloc = "libjemalloc" in f.read()
        except OSError:
            return None
        call = ('call (void)malloc_stats_print(0, 0, "gmdablxe")' if jemalloc
                else "call (void)malloc_stats()")
        try:
            subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-nx", "-ex", call],
                           capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        time.sleep(0.2)
        try:
            with open(self.proc.stderr_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        if jemalloc:
            m = re.findall(r"Allocated: (\d+),", text)
            return int(m[-1]) // 1024 if m else None
        m = re.findall(r"Total \(incl\. mmap\):\s*\nsystem bytes\s*=\s*(\d+)\s*\n"
                       r"in use bytes\s*=\s*(\d+)", text)
        return int(m[-1][1]) // 1024 if m else None

    def count(self):
        self.watch.poll()
        before = len(self.watch.counts())
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 3
        while time.time() < deadline:
            time.sleep(0.05)
            self.watch.poll()
            c = self.watch.counts()
            if len(c) > before:
                return {"AGGREGATE": c[-1]["AGGREGATE"]}
        return {"AGGREGATE": None}

    def stop(self):
        self.proc.stop(signal.SIGTERM, 15, 3)
        self.watch.poll()
        return [l for l in self.watch.lines if sr.ERROR_LINE_RE.search(l)]


# ------------------------------------------------------------------ phases

def phase_steps(b, systems):
    p = b.p
    out = {}
    for system in systems:
        best = None
        steps = []
        foreign = 0.0
        for rate in p["steps"]:
            calls = int(rate * p["step_s"])
            log("%s: step %d calls/s, %d calls" % (system, rate, calls))
            r = b.one_run(system, "step%d" % rate, rate, calls, p["hold_ms"])
            o = r["sipp"]
            probs = o.problems()
            sd = r.get("sock_drops") or {}
            if any(sd.values()):
                probs.append("socket drops " + ", ".join("%s %d" % kv for kv in sorted(sd.items())
                                                         if kv[1]))
            if not r.get("sut_alive", True):
                probs.append("%s died" % system)
            busy = r.get("busy")
            steps.append({"rate": rate, "calls": calls, "failed": o.calls - o.successful,
                          "retrans": o.retrans, "achieved": o.achieved, "problems": probs,
                          "sut_cpu": busy, "udp_drops": r.get("udp_drops"), "dir": r["dir"],
                          "cpus": r.get("cpus") or {}})
            cpus = r.get("cpus") or {}
            foreign = max(foreign, cpus.get(CPU_SUT, 0) - (busy or 0))
            log("  %s: %d ok, %d failed, %d retrans, %s UDP drops, placed %s/s%s%s"
                % ("clean" if not probs else "NOT clean", o.successful, o.calls - o.successful,
                   o.retrans, r.get("udp_drops"), "?" if o.achieved is None else "%.0f" % o.achieved,
                   "" if busy is None else ", %s CPU %.0f%%" % (system, 100 * busy),
                   "" if not probs else " (" + "; ".join(probs) + ")"))
            if probs:
                break
            best = rate
        out[system] = {"best": best, "steps": steps, "capped": best == p["steps"][-1]}
        if foreign > 0.15:
            b.odd.append("%s rate steps: CPU %d was up to %.0f%% busy beyond the time of the "
                         "system under test (other processes, or softirq): not a quiet machine"
                         % (system, CPU_SUT, 100 * foreign))
    return out


def created_at(rows, t):
    """SIPp's TotalCallCreated in the last statistics row written by epoch t."""
    before = [r for r in rows if r["t"] <= t]
    return sr.stat_int(before[-1], "TotalCallCreated") if before else None


def phase_cpu(b, systems):
    """CPU per call in steady state: calls placed for cpu_warm_s first (the
    hold, and the ~32 s finished transactions linger, so that transactions
    expire as fast as they are made and the heap has stopped growing), then
    the system's CPU time over the next cpu_s seconds of calls."""
    p = b.p
    out = {}
    for system in systems:
        rate, warm, span = p["cpu_rate"], p["cpu_warm_s"], p["cpu_s"]
        calls = int(rate * (warm + span + 2))
        log("%s: CPU run, %d calls at %d calls/s, measured from %d s to %d s"
            % (system, calls, rate, warm, warm + span))
        r = b.one_run(system, "cpu", rate, calls, p["hold_ms"], window=(warm, warm + span))
        o = r["sipp"]
        win_ms, win_s = r.get("win_cpu_ms"), r.get("win_s")
        placed = None
        if r.get("win_at"):
            # Calls SIPp created in the window, not the nominal rate.
            a, z = created_at(o.rows, r["win_at"][0]), created_at(o.rows, r["win_at"][1])
            placed = z - a if a is not None and z is not None else None
        per_call = win_ms / placed if win_ms is not None and placed else None
        problems = o.problems()
        if per_call is None:
            problems = problems + ["the measuring window was not reached"]
        if problems:
            b.odd.append("%s CPU run: %s" % (system, "; ".join(problems)))
        out[system] = {"rate": rate, "calls": o.successful, "cpu_ms": win_ms,
                       "per_call": per_call, "problems": problems}
        log("  %s ms CPU in %s s, %s calls placed: %s ms/call%s"
            % (fmt(win_ms, 1), fmt(win_s, 1), placed, fmt(per_call, 3),
               "" if not problems else " (" + "; ".join(problems) + ")"))
    return out


def phase_mem(b, systems):
    p = b.p
    out = {}
    calls, rate = p["mem_calls"], p["mem_rate"]
    hold_ms = int((calls / float(rate) + p["settle_s"] + 20) * 1000)
    for system in systems:
        log("%s: memory run, %d calls at %d calls/s held %d s" % (system, calls, rate, hold_ms // 1000))
        r = b.one_run(system, "mem", rate, calls, hold_ms, mem=True)
        conc = r["concurrent"]
        d_pss = r["pss_kb"] - r["idle_pss_kb"]
        d_rss = r["rss_kb"] - r["idle_rss_kb"]
        m = {"concurrent": conc, "calls": calls, "settled_s": r["settled_s"],
             "idle_pss_kb": r["idle_pss_kb"], "pss_kb": r["pss_kb"],
             "idle_rss_kb": r["idle_rss_kb"], "rss_kb": r["rss_kb"],
             "kb_per_call": d_pss / conc if conc else None,
             "rss_kb_per_call": d_rss / conc if conc else None,
             "count": r["sut_count"], "failed": r["mem_failed"], "nprocs": r["nprocs"],
             "held_cpu_ms_s": r.get("held_cpu_ms_s")}
        if r.get("extra") is not None and r.get("idle_extra") is not None:
            m["alloc_kb_per_call"] = (r["extra"] - r["idle_extra"]) / conc if conc else None
        out[system] = m
        log("  SIPp concurrent calls %d, %s reports %s; PSS %d -> %d kB: %s kB/call"
            % (conc, system, m["count"], r["idle_pss_kb"], r["pss_kb"],
               "?" if m["kb_per_call"] is None else "%.2f" % m["kb_per_call"]))
        if m["count"]:
            for k, v in m["count"].items():
                if v != conc:
                    b.odd.append("%s memory run: %s = %s but SIPp has %d calls up"
                                 % (system, k, v, conc))
    return out


def phase_latency(b, runs):
    """runs: [(system, rate)]; returns {(system, rate): figures}."""
    p = b.p
    out = {}
    for system, rate in runs:
        calls = int(rate * p["lat_s"])
        log("%s: latency run, %d calls at %d calls/s" % (system, calls, rate))
        r = b.one_run(system, "lat%d" % rate, rate, calls, p["hold_ms"], capture=True)
        cap = r.get("capture") or {}
        lat = cap.get("lat_us") or []
        o = r["sipp"]
        f = {"n": len(lat), "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
             "max": lat[-1] if lat else None,
             "problems": o.problems(),
             "kernel_drops": cap.get("kernel_drops")}
        out[(system, rate)] = f
        if len(lat) < 0.9 * calls:
            b.odd.append("latency %s at %d/s: only %d of %d calls timed by the capture"
                         % (system, rate, len(lat), calls))
        log("  INVITE->200 p50 %s us, p99 %s us over %d calls%s"
            % (fmt(f["p50"], 0), fmt(f["p99"], 0), len(lat),
               "" if not f["problems"] else " (" + "; ".join(f["problems"]) + ")"))
    return out


# ----------------------------------------------------------------- report

def fmt(v, nd=1):
    if v is None:
        return "n/a"
    return ("%%.%df" % nd) % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return float(a) / b


def machine_info(args):
    model, cores = "?", os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        model = m.group(1).strip() if m else model
    except OSError:
        pass
    rev = "?"
    try:
        rev = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() or "?"
        dirty = subprocess.run(["git", "-C", TOP, "diff", "--quiet", "HEAD", "--"],
                               capture_output=True).returncode
        if dirty == 1:
            rev += " (+ uncommitted changes)"
    except OSError:
        pass
    return {"model": model, "cores": cores, "kernel": os.uname().release, "rev": rev,
            "kamailio": kamailio_version(), "sipp": sipp_version(args.sipp),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def build_report(args, prof, info, steps, cpu, mem, lat, lat_plan, odd):
    L = []
    q = " (--quick: short steps, few calls; not the reference figures)" if args.quick else ""
    L.append(SECTION)
    L.append("")
    L.append("`tests/bench/compare.py%s` on %s, %s cores, Linux %s, %s%s." %
             (" --quick" if args.quick else "", info["model"], info["cores"], info["kernel"],
              info["date"], q))
    L.append("sbcd %s (%s), Kamailio %s (Debian), SIPp %s." %
             (info["rev"], os.path.relpath(args.sbcd, TOP) if args.sbcd.startswith(TOP) else args.sbcd,
              info["kamailio"], info["sipp"]))
    L.append("")
    L.append("Set-up: SIPp UAC -> system under test -> SIPp UAS, all UDP on 127.0.0.1, "
             "free ports. Scenario `sipp-scenarios/basic_uac.xml` / `basic_uas.xml` "
             "(INVITE with SDP, 180, 200 with SDP, ACK, hold, BYE, 200) for all three; "
             "hold %d ms except in the memory run. Placement (taskset): system under test on "
             "CPU %d, SIPp UAC and UAS (and the driver and its packet capture) on CPU %d. "
             "SIPp `-buff_size %d` (the kernel's rmem_max/wmem_max here); Kamailio's "
             "receive buffer (`maxbuffer`; 5.6 has no send-buffer setting) and sbcd's UDP "
             "buffers are the same size. "
             "Kamailio: %d UDP worker process%s (with more, two workers can forward the 180 "
             "and the 200 of a call out of order, which the basic scenario counts as a failed "
             "call; the system under test has one core anyway), `-m %d -M %d` (MB shm / pkg), "
             "memory manager `%s` (`-x`/`-X`; the build's default `qm` is a debugging "
             "allocator), modules tm, sl, rr, maxfwd, textops, siputils, pv, dialog "
             "(`dlg_manage()`, every INVITE in dialog profile `calls`), record-route, "
             "t_relay to the UAS; config in the script. sbcd: the config "
             "`sipp-scenarios/run.py` writes (one dial-peer to the UAS)."
             % (prof["hold_ms"], CPU_SUT, CPU_SIPP, args.buff_size, args.kam_children,
                "" if args.kam_children == 1 else "es", args.kam_shm_mb, args.kam_pkg_mb,
                args.kam_mem))
    L.append("")
    sb = lambda s, k: steps.get(s, {}).get(k)  # noqa: E731
    best = {s: sb(s, "best") for s in SYSTEMS}
    cpu_pc = {s: cpu.get(s, {}).get("per_call") for s in SYSTEMS}
    mem_pc = {s: mem.get(s, {}).get("kb_per_call") for s in SYSTEMS}
    common = lat_plan.get("common")
    la = {s: lat.get((s, common)) for s in SYSTEMS} if common else {}
    direct = la.get("direct") if la else None

    def added(s, key, rate=None):
        rate = rate or common
        v, d = lat.get((s, rate)), lat.get(("direct", rate))
        if not v or not d or v[key] is None or d[key] is None:
            return None
        return (v[key] - d[key]) / 1000.0

    def ms(v):
        return None if v is None else v / 1000.0
    rows = []
    def bestfmt(s):
        return (">= " if sb(s, "capped") else "") + fmt(best[s], 0) + (
            " (top step)" if sb(s, "capped") else "")
    rows.append(("highest clean rate (calls/s)", bestfmt("direct"), bestfmt("kamailio"),
                 bestfmt("sbcd"), fmt(ratio(best["sbcd"], best["kamailio"]), 2)))
    # Steady only once the warm-up outlasts the ~32 s transaction linger.
    state = "steady state" if prof["cpu_warm_s"] >= 35 else "NOT steady state (--quick)"
    rows.append(("CPU per call at %d calls/s, %s (ms, user+sys, %d s after %d s "
                 "of calls)" % (prof["cpu_rate"], state, prof["cpu_s"], prof["cpu_warm_s"]), "-",
                 fmt(cpu_pc["kamailio"], 3), fmt(cpu_pc["sbcd"], 3),
                 fmt(ratio(cpu_pc["sbcd"], cpu_pc["kamailio"]), 2)))
    mc = mem.get("sbcd", {}).get("concurrent") or mem.get("kamailio", {}).get("concurrent")
    rows.append(("memory per concurrent call at %s calls (kB PSS)" % (fmt(mc, 0) if mc else "?"), "-",
                 fmt(mem_pc["kamailio"], 2), fmt(mem_pc["sbcd"], 2),
                 fmt(ratio(mem_pc["sbcd"], mem_pc["kamailio"]), 2)))
    if common:
        rows.append(("INVITE->200 p50 at %d calls/s (ms)" % common,
                     fmt(ms(direct and direct["p50"]), 3),
                     fmt(ms(la["kamailio"] and la["kamailio"]["p50"]), 3),
                     fmt(ms(la["sbcd"] and la["sbcd"]["p50"]), 3), ""))
        rows.append(("INVITE->200 p99 at %d calls/s (ms)" % common,
                     fmt(ms(direct and direct["p99"]), 3),
                     fmt(ms(la["kamailio"] and la["kamailio"]["p99"]), 3),
                     fmt(ms(la["sbcd"] and la["sbcd"]["p99"]), 3), ""))
        for key in ("p50", "p99"):
            rows.append(("added INVITE->200 %s at %d calls/s (ms)" % (key, common), "-",
                         fmt(added("kamailio", key), 3), fmt(added("sbcd", key), 3),
                         fmt(ratio(added("sbcd", key), added("kamailio", key)), 2)))
    sr_rate = lat_plan.get("sbcd_half")
    if sr_rate and sr_rate != common:
        for key in ("p50", "p99"):
            rows.append(("added INVITE->200 %s, sbcd at %d calls/s (ms)" % (key, sr_rate), "-", "-",
                         fmt(added("sbcd", key, sr_rate), 3), ""))
    kr_rate = lat_plan.get("kam_half")
    if kr_rate and kr_rate != common:
        for key in ("p50", "p99"):
            rows.append(("added INVITE->200 %s, Kamailio at %d calls/s (ms)" % (key, kr_rate), "-",
                         fmt(added("kamailio", key, kr_rate), 3), "-", ""))
    L.append("| figure | %s | %s | %s | sbcd / Kamailio |" % tuple(LABEL[s] for s in SYSTEMS))
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        L.append("| %s | %s | %s | %s | %s |" % r)
    L.append("")

    # targets
    L.append("Targets (measured, not asserted):")
    L.append("")
    L.append("| target | measured | met |")
    L.append("| --- | --- | --- |")

    def tgt(name, value_txt, ok, short):
        if isinstance(ok, str):
            verdict = "not determined: " + ok
        else:
            verdict = "n/a" if ok is None else "yes" if ok else "no: " + short
        L.append("| %s | %s | %s |" % (name, value_txt, verdict))

    def rate_target(num, den, want):
        """A ratio of two highest clean rates against want, knowing that a
        rate that is the top step is only a lower bound."""
        r = ratio(best[num], best[den])
        if r is None:
            return r, None
        if r >= want and sb(den, "capped"):
            return r, "%s passed the top step; more steps needed (--steps)" % den
        if r < want and sb(num, "capped"):
            return r, "%s passed the top step; more steps needed (--steps)" % num
        return r, r >= want
    r1, ok1 = rate_target("sbcd", "kamailio", 1.5)
    tgt("highest clean rate >= 1.5x Kamailio's",
        "%s / %s calls/s = %sx" % (fmt(best["sbcd"], 0), fmt(best["kamailio"], 0), fmt(r1, 2)),
        ok1, "%s%s calls/s short" % ("at least " if sb("kamailio", "capped") else "",
                                     fmt(1.5 * best["kamailio"] - best["sbcd"], 0)) if r1 else "")
    r2, ok2 = rate_target("sbcd", "direct", 0.9)
    tgt("highest clean rate >= 90% of the harness ceiling",
        "%s / %s calls/s = %s%%" % (fmt(best["sbcd"], 0), fmt(best["direct"], 0),
                                    fmt(None if r2 is None else 100 * r2, 0)),
        ok2, "%s%s calls/s short" % ("at least " if sb("direct", "capped") else "",
                                     fmt(0.9 * best["direct"] - best["sbcd"], 0)) if r2 else "")
    r3 = ratio(cpu_pc["sbcd"], cpu_pc["kamailio"])
    tgt("CPU per call <= 0.5x Kamailio's",
        "%s / %s ms = %sx" % (fmt(cpu_pc["sbcd"], 3), fmt(cpu_pc["kamailio"], 3), fmt(r3, 2)),
        None if r3 is None else r3 <= 0.5,
        "%s ms/call over" % fmt(cpu_pc["sbcd"] - 0.5 * cpu_pc["kamailio"], 3) if r3 is not None else "")
    mconc = mem.get("sbcd", {}).get("concurrent")
    mv = mem_pc["sbcd"]
    mok = None if mv is None else (mv <= 10.0)
    mtxt = "%s kB at %s held calls" % (fmt(mv, 2), fmt(mconc, 0))
    if mconc is not None and mconc < 20000:
        mtxt += " (fewer than 20,000: indicative only)"
    tgt("<= 10 kB per concurrent established call at 20,000 held calls", mtxt, mok,
        "%s kB/call over" % fmt(mv - 10.0, 2) if mv is not None else "")
    half = lat_plan.get("sbcd_half")
    p99 = added("sbcd", "p99", half) if half else None
    tgt("added INVITE->200 p99 < 2 ms at half the highest clean rate",
        "%s ms at %s calls/s" % (fmt(p99, 3), fmt(half, 0)), None if p99 is None else p99 < 2.0,
        "%s ms over" % fmt(p99 - 2.0 if p99 is not None else None, 3))
    L.append("")

    # rate steps
    L.append("Rate steps (each %d s at the rate; clean = failed <= %.1f%% of the calls, "
             "retransmissions (UAC + UAS) <= %d%% of the calls, SIPp placed >= %d%% of the rate, "
             "every call finished; stepping stops at the first step that is not clean. Retransmissions "
             "are the Retrans columns of SIPp's screens: sent and received by SIPp. UDP drops: "
             "the machine's RcvbufErrors over the step, whoever the receiver; socket drops name the "
             "socket. CPU busy: the whole machine's, per CPU, while the calls were placed):"
             % (prof["step_s"], 100 * MAX_FAILED, 100 * MAX_RETRANS, 100 * MIN_ACHIEVED))
    L.append("")
    L.append("| system | calls/s | calls | failed | retrans | UDP drops | placed/s | SUT CPU while placing "
             "| CPU %d / CPU %d busy | result |" % (CPU_SUT, CPU_SIPP))
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s in SYSTEMS:
        for st in steps.get(s, {}).get("steps", []):
            c = st.get("cpus") or {}
            L.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s |" % (
                s, st["rate"], st["calls"], st["failed"], st["retrans"], fmt(st["udp_drops"], 0),
                fmt(st["achieved"], 0),
                "-" if st["sut_cpu"] is None else "%.0f%%" % (100 * st["sut_cpu"]),
                "%s / %s" % (fmt(100 * c[CPU_SUT], 0) + "%" if CPU_SUT in c else "?",
                             fmt(100 * c[CPU_SIPP], 0) + "%" if CPU_SIPP in c else "?"),
                "clean" if not st["problems"] else "; ".join(st["problems"])))
    L.append("")

    # memory details
    if mem:
        L.append("Memory run: %d calls placed at %d calls/s and held; read %s s after the "
                 "last INVITE (Sofia's and tm's finished transactions linger ~32 s). PSS summed "
                 "over the processes (Kamailio's shared memory is counted once, and only the "
                 "pages it touched), minus the same figure idle before the calls."
                 % (prof["mem_calls"], prof["mem_rate"],
                    "/".join(fmt(mem[s]["settled_s"], 0) for s in mem)))
        L.append("")
        L.append("| system | processes | idle PSS (kB) | PSS with calls (kB) | concurrent calls "
                 "(SIPp) | system's own count | kB/call PSS | kB/call RSS (summed) | kB/call allocator "
                 "in use | CPU with the calls held, no traffic (ms/s) |")
        L.append("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
        for s in SYSTEMS:
            if s not in mem:
                continue
            m = mem[s]
            cnt = ", ".join("%s %s" % kv for kv in (m["count"] or {}).items())
            L.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s |" % (
                s, m["nprocs"], m["idle_pss_kb"], m["pss_kb"], m["concurrent"], cnt,
                fmt(m["kb_per_call"], 2), fmt(m["rss_kb_per_call"], 2),
                fmt(m.get("alloc_kb_per_call"), 2), fmt(m.get("held_cpu_ms_s"), 1)))
        L.append("")
        L.append("Allocator in use: what the allocator itself counts as allocated, per call "
                 "(Kamailio: `core.shmmem` real_used, shared memory only; sbcd: jemalloc's "
                 "`malloc_stats_print()` Allocated, or glibc's `malloc_stats()` in use "
                 "without jemalloc, called through gdb). PSS above it is memory "
                 "freed but kept by the process (the transactions of the last ~32 s of "
                 "calls, fragmentation), and for Kamailio its per-process pkg memory.")
        L.append("")
    if lat:
        L.append("Latency: from the INVITE the UAC sends to the 200 (INVITE) arriving at "
                 "the UAC's socket, kernel timestamps of a packet capture on lo (SIPp 3.6's own "
                 "response times are whole milliseconds of a coarse clock and read 0 here). "
                 "Each run %d s; added = via the relay minus direct at the same rate. The "
                 "direct figure is mostly SIPp's own reaction time (its UAS answers on its "
                 "next loop turn)." % prof["lat_s"])
        L.append("")
        L.append("| system | calls/s | calls timed | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (s, rate), f in sorted(lat.items(), key=lambda kv: (kv[0][1], SYSTEMS.index(kv[0][0]))):
            L.append("| %s | %d | %d | %s | %s | %s | %s |" % (
                s, rate, f["n"], fmt(ms(f["p50"]), 3), fmt(ms(f["p90"]), 3),
                fmt(ms(f["p99"]), 3), fmt(ms(f["max"]), 3)))
        L.append("")
    if odd:
        L.append("Noted during the run:")
        L.append("")
        for o in odd:
            L.append("- " + o)
        L.append("")
    L.append("Re-run: `tests/bench/compare.py` as root on a quiet machine (about %s; "
             "`--quick` for a trial)." %
             ("15 to 20 minutes" if not args.quick else "4 minutes"))
    L.append("")
    return "\n".join(L)


# -------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short steps and few calls: a trial run of a few minutes")
    p.add_argument("--sbcd", default=os.path.join(TOP, "build/sbc/sbcd"),
                   help="sbcd binary (default build/sbc/sbcd)")
    p.add_argument("--out", default=os.path.join(TOP, "docs/benchmarks.md"),
                   help="markdown file whose section is written (default docs/benchmarks.md)")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--systems", default=",".join(SYSTEMS),
                   help="comma-separated subset of direct,kamailio,sbcd (default all)")
    p.add_argument("--phases", default="steps,cpu,mem,latency",
                   help="comma-separated subset of steps,cpu,mem,latency (default all)")
    p.add_argument("--steps", help="comma-separated rates to step through (calls/s)")
    p.add_argument("--step-s", type=float, help="seconds per rate step")
    p.add_argument("--mem-calls", type=int, help="calls held in the memory run")
    p.add_argument("--settle-s", type=float,
                   help="seconds after the last INVITE before memory is read")
    p.add_argument("--lat-rate", type=int,
                   help="latency runs at this rate instead of half the highest clean rates")
    p.add_argument("--kam-children", type=int, default=1,
                   help="Kamailio UDP worker processes (1: with more, the 180 and the 200 of "
                        "a call can leave out of order, which the basic scenario fails)")
    p.add_argument("--kam-mem", default="tlsf",
                   help="Kamailio memory manager for shm and pkg (-x/-X): tlsf (default), fm, "
                        "or qm (the Debian build's default, a debugging allocator that costs "
                        "Kamailio about 2.5x the CPU per call)")
    p.add_argument("--kam-shm-mb", type=int, default=1024, help="Kamailio -m (1024)")
    p.add_argument("--kam-pkg-mb", type=int, default=64, help="Kamailio -M (64)")
    p.add_argument("--buff-size", type=int, default=4194304, help="socket buffers (4194304)")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    p.add_argument("--capture-helper", nargs=2, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.capture_helper:
        capture_main(int(args.capture_helper[0]), args.capture_helper[1])
        return 0
    prof = dict(QUICK if args.quick else FULL)
    if args.steps:
        prof["steps"] = [int(x) for x in args.steps.split(",")]
    if args.step_s:
        prof["step_s"] = args.step_s
    if args.mem_calls:
        prof["mem_calls"] = args.mem_calls
    if args.settle_s is not None:
        prof["settle_s"] = args.settle_s
    args.sbcd = os.path.abspath(args.sbcd)
    systems = [s for s in SYSTEMS if s in args.systems.split(",")]
    phases = args.phases.split(",")

    if os.geteuid() != 0:
        raise SystemExit("compare.py needs root (apt-get, packet capture on lo)")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("compare.py needs 2 CPUs (the system under test on one, SIPp on the other)")
    if "sbcd" in systems and not os.access(args.sbcd, os.X_OK):
        raise SystemExit("no sbcd binary at %s (build it, or --sbcd PATH)" % args.sbcd)
    if shutil.which(args.sipp) is None:
        raise SystemExit("SIPp not found (%s)" % args.sipp)
    if "kamailio" in systems:
        ensure_kamailio()
    os.sched_setaffinity(0, {CPU_SIPP})

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_term)

    b = Bench(args, prof)
    log("work dir %s" % b.workdir)
    info = machine_info(args)
    steps, cpu, mem, lat, plan = {}, {}, {}, {}, {}
    ok = False
    try:
        if "steps" in phases:
            steps = phase_steps(b, systems)
        if "cpu" in phases:
            cpu = phase_cpu(b, [s for s in systems if s != "direct"])
        if "mem" in phases:
            mem = phase_mem(b, [s for s in systems if s != "direct"])
        if "latency" in phases:
            best = {s: steps.get(s, {}).get("best") for s in systems}
            half = {s: (args.lat_rate or (best[s] // 2 if best.get(s) else prof["cpu_rate"]))
                    for s in systems}
            rels = [s for s in systems if s != "direct"]
            common = min(half[s] for s in rels) if rels else half.get("direct", prof["cpu_rate"])
            plan = {"common": common}
            runs = [(s, common) for s in systems]
            if "sbcd" in rels and half["sbcd"] != common:
                plan["sbcd_half"] = half["sbcd"]
                runs += [("direct", half["sbcd"]), ("sbcd", half["sbcd"])]
            elif "sbcd" in rels:
                plan["sbcd_half"] = common
            if "kamailio" in rels and half["kamailio"] != common:
                plan["kam_half"] = half["kamailio"]
                runs += [("direct", half["kamailio"]), ("kamailio", half["kamailio"])]
            if "direct" not in systems:
                runs = [r for r in runs if r[0] != "direct"]
            lat = phase_latency(b, runs)
        ok = True
    except BenchError as e:
        log("FAILED: %s" % e)
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        b.cleanup()
    report = build_report(args, prof, info, steps, cpu, mem, lat, plan, b.odd)
    print()
    print(report)
    partial = systems != list(SYSTEMS) or set(phases) != {"steps", "cpu", "mem", "latency"}
    if ok and not args.no_write and partial:
        log("a subset of systems or phases: %s not written" % args.out)
    elif ok and not args.no_write:
        write_section(args.out, report)
        log("section written to %s" % args.out)
    if args.keep or not ok:
        log("work dir kept: %s" % b.workdir)
    else:
        shutil.rmtree(b.workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
