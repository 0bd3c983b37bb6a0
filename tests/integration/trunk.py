#!/usr/bin/env python3
"""Trunk commands that change SIP behaviour, end to end through sbcd.

codecs:    `voice class codec` / `codec` / `dtmf-relay rtp-nte` on the
           outbound dial-peer shape the offer the callee receives; no
           allowed codec left: 488 to the caller, nothing counted.
keepalive: `voice class sip-options-keepalive`: a callee that stops
           answering OPTIONS busies its dial-peer out (calls go to the next
           dial-peer, then 503) and is back in service when it answers.
dns:       `ip name-server` + `session target dns:NAME`: the name is
           resolved through a tiny DNS server of this test on a free
           loopback port, and the call reaches the callee.

Uses harness.py (UA, Caller, Callee, Sbcd, free_port).
usage: trunk.py --sbcd PATH [--sbcctl PATH] TEST   (TEST = a name below, or "all")
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Callee, Caller, Sbcd, UA, answer, command_line,  # noqa: E402
                     final_for, free_port, request, run_tests, running, status,
                     tests_in)

HEAD = """hostname trunk
!
voice service voip
 allow-connections sip to sip
 mode border-element
 sip
  listen udp 127.0.0.1 {sbc_port}
!
{body}end
"""

OFFER = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
         "t=0 0\r\nm=audio 6000 RTP/AVP 0 8 18 101\r\n"
         "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
         "a=sendrecv\r\n")

OFFER_NO_NTE = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                "t=0 0\r\nm=audio 6000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


class TrunkSbcd(Sbcd):
    """sbcd with this file's config: `body` goes between the listeners and
    `end` (voice classes must come before the dial-peers that use them)."""

    CONFIG = HEAD


def final_of(c):
    """The final answer to caller c's INVITE (not a retransmission of an
    earlier call's)."""
    return lambda m: (m.status is not None and m.status >= 200 and
                      m.cseq_method() == "INVITE" and m.get("call-id") == c.call_id)


def m_line(msg):
    m = re.search(r"^m=audio \S+ \S+ ([0-9 ]+)\r?$", msg.body, re.M)
    assert m, msg.raw
    return m.group(1).split()


def sbcctl(args, sbc, *words):
    out = subprocess.run([args.sbcctl, "-s", os.path.join(sbc.state, "sbcd.sock"), *words],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out
    return out.stdout


def test_codecs(args, wd):
    """The callee sees only the allowed codecs, in preference order, with
    telephone-event; none left: 488 and no call counted; dtmf-relay rtp-nte
    adds telephone-event; a re-INVITE meets the same policy."""
    uas, uac = UA(free_port()), UA(free_port())
    body = f"""voice class codec 1
 codec preference 1 g729r8
 codec preference 2 g711ulaw
!
dial-peer voice 200 voip
 destination-pattern 1T
 session protocol sipv2
 session target ipv4:127.0.0.1:{uas.port}
 voice-class codec 1
 no vad
!
dial-peer voice 300 voip
 destination-pattern 2T
 session target ipv4:127.0.0.1:{uas.port}
 codec g722-64
!
dial-peer voice 400 voip
 destination-pattern 3T
 session target ipv4:127.0.0.1:{uas.port}
 dtmf-relay rtp-nte
!
"""
    sbc = TrunkSbcd(args.sbcd, uas.port, wd, body=body)
    with running(sbc, uas, uac):
        # 1: G729 then PCMU, PCMA gone, telephone-event kept.
        c, callee = Caller(uac, sbc.port, number="15550001"), Callee(uas)
        c.invite(body=OFFER)
        inv = callee.take_invite()
        assert m_line(inv) == ["18", "0", "101"], inv.raw
        assert "PCMA" not in inv.body and "a=fmtp:18 annexb=no" in inv.body, inv.raw
        assert "a=fmtp:101 0-15" in inv.body and "a=sendrecv" in inv.body, inv.raw
        assert inv.get("content-length") == str(len(inv.body.encode())), inv.raw
        callee.respond(200, "OK", body=OFFER)
        ok = uac.recv(status(200, "INVITE"))
        c.ack(ok)
        uas.recv(request("ACK"))
        assert sbc.counts()["AGGREGATE"] == 1
        # A re-INVITE from the caller offering PCMA only: 488, call stays.
        c.send("INVITE", body=OFFER_NO_NTE)
        r = uac.recv(final_of(c))
        assert r.status == 488, r.raw
        c.ack(r)
        assert not [m for m in uas.quiet(0.3) if m.method == "INVITE"]
        c.bye()
        bye = uas.recv(request("BYE"))
        answer(uas, bye, 200, "OK")
        uac.recv(final_for("BYE"))
        sbc.wait_idle()

        # 2: only G722 allowed, the offer has none: 488, never counted.
        c = Caller(uac, sbc.port, number="25550002")
        c.invite(body=OFFER)
        r = uac.recv(final_of(c))
        assert r.status == 488, r.raw
        c.ack(r)
        assert not [m for m in uas.quiet(0.3) if m.method == "INVITE"]
        assert sbc.counts()["AGGREGATE"] == 0
        sbc.wait_log("%SBC-6-CODEC_MISMATCH", 2)

        # 3: dtmf-relay rtp-nte adds telephone-event; codecs untouched.
        c, callee = Caller(uac, sbc.port, number="35550003"), Callee(uas)
        c.invite(body=OFFER_NO_NTE)
        inv = callee.take_invite()
        assert m_line(inv) == ["8", "101"], inv.raw
        assert "a=rtpmap:101 telephone-event/8000" in inv.body, inv.raw
        assert "a=fmtp:101 0-16" in inv.body, inv.raw
        callee.respond(486, "Busy Here")
        r = uac.recv(final_of(c))
        c.ack(r)
        sbc.wait_idle()
        if args.sbcctl:
            text = sbcctl(args, sbc, "show", "running-config")
            for line in ("allow-connections sip to sip", "voice class codec 1",
                         " codec preference 1 g729r8", " voice-class codec 1",
                         " codec g722-64", " dtmf-relay rtp-nte", " no vad",
                         " session protocol sipv2"):
                assert line + "\n" in text, text


def pump(ua, seconds, answer_options):
    """Receive for `seconds`: OPTIONS answered 200 (or ignored), the rest
    kept in ua.pending. Returns how many OPTIONS arrived."""
    n = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        ua.sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data, addr = ua.sock.recvfrom(70000)
        except OSError:
            continue
        m = harness.Msg(data)
        m.addr = addr
        if m.method == "OPTIONS":
            n += 1
            if answer_options:
                answer(ua, m, 200, "OK", extra="Allow: INVITE, ACK, BYE, OPTIONS\r\n")
        else:
            ua.pending.append(m)
    return n


def keepalive_column(args, sbc, tag):
    text = sbcctl(args, sbc, "show", "dial-peer", "voice", "summary")
    assert "KEEPALIVE" in text.splitlines()[2], text
    for line in text.splitlines():
        if line.split()[:1] == [str(tag)]:
            return line.split()[-1]
    raise AssertionError(f"no dial-peer {tag}:\n{text}")


def wait_ka(args, sbc, ua, answer_options, needle, start, tags, want):
    """Serve (or ignore) OPTIONS until the log has `needle` for every tag
    and the summary shows `want` for them."""
    deadline = time.time() + 10
    while time.time() < deadline:
        pump(ua, 0.2, answer_options)
        text = sbc.text()[start:]
        if all(f"dial-peer {t} {needle}" in text for t in tags):
            break
    else:
        raise AssertionError(f"no '{needle}' for {tags}:\n{sbc.text()[-2000:]}")
    for t in tags:
        assert keepalive_column(args, sbc, t) == want


def call_reaches(uac, sbc, number, ua):
    """A call to number reaches ua (answered 486 there)."""
    c, callee = Caller(uac, sbc.port, number=number), Callee(ua)
    c.invite()
    callee.take_invite()
    callee.respond(486, "Busy Here")
    r = uac.recv(final_of(c))
    assert r.status == 486, r.raw
    c.ack(r)


def test_keepalive(args, wd):
    """A callee that answers OPTIONS, stops (its dial-peers busied out:
    calls go to the next dial-peer, or 503), and answers again (back in
    service)."""
    assert args.sbcctl, "--sbcctl needed"
    ua1, ua2, uac = UA(free_port()), UA(free_port()), UA(free_port())
    body = f"""voice class sip-options-keepalive 1
 down-interval 1
 up-interval 1
 retry 2
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target ipv4:127.0.0.1:{ua1.port}
 voice-class sip options-keepalive profile 1
!
dial-peer voice 300 voip
 destination-pattern 1T
 session target ipv4:127.0.0.1:{ua2.port}
 preference 1
!
dial-peer voice 400 voip
 destination-pattern 9T
 session target ipv4:127.0.0.1:{ua1.port}
 voice-class sip options-keepalive profile 1
!
"""
    sbc = TrunkSbcd(args.sbcd, ua1.port, wd, body=body)
    with running(sbc, ua1, ua2, uac):
        assert pump(ua1, 1.5, True) >= 2  # both dial-peers ping
        assert keepalive_column(args, sbc, 200) == "active"
        assert keepalive_column(args, sbc, 300).startswith("ipv4:")  # none
        call_reaches(uac, sbc, "15550001", ua1)

        start = len(sbc.text())
        wait_ka(args, sbc, ua1, False, "busied out", start, (200, 400), "busyout")
        call_reaches(uac, sbc, "15550002", ua2)
        c = Caller(uac, sbc.port, number="95550003")
        c.invite()
        r = uac.recv(final_of(c))
        assert r.status == 503, r.raw
        c.ack(r)
        # A reload keeps the state of an unchanged dial-peer.
        start = len(sbc.text())
        sbc.proc.send_signal(signal.SIGHUP)
        sbc.wait_log("%SBC-5-RELOAD: configuration reloaded", 5, start)
        pump(ua1, 0.3, False)
        assert keepalive_column(args, sbc, 200) == "busyout"

        start = len(sbc.text())
        wait_ka(args, sbc, ua1, True, "back in service", start, (200, 400), "active")
        ua1.pending = [m for m in ua1.pending if m.method != "OPTIONS"]
        call_reaches(uac, sbc, "15550004", ua1)
        sbc.wait_idle()


class TinyDns:
    """A DNS server on a free loopback UDP port answering from `records`:
    {(name, type): [rdata bytes...]}; a name it has no record of at all
    gets NXDOMAIN, another type of a known name an empty answer. Runs in
    a thread until close(); `asked` lists the (name, type) questions."""
    A, SRV, NAPTR, AAAA = 1, 33, 35, 28

    def __init__(self, records):
        self.records = records
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def a(addr):
        return socket.inet_aton(addr)

    @staticmethod
    def name(text):
        return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".")) + b"\0"

    @classmethod
    def srv(cls, prio, weight, port, target):
        return struct.pack("!HHH", prio, weight, port) + cls.name(target)

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.done.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                continue
            reply = self._answer(data)
            if reply:
                self.sock.sendto(reply, addr)

    def _answer(self, q):
        if len(q) < 12:
            return None
        qid, _flags, qd = struct.unpack("!HHH", q[:6])
        if qd != 1:
            return None
        i, labels = 12, []
        while i < len(q) and q[i] != 0:
            labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
            i += 1 + q[i]
        qname, (qtype, _qclass) = ".".join(labels).lower(), struct.unpack("!HH", q[i + 1:i + 5])
        question = q[12:i + 5]
        self.asked.append((qname, qtype))
        known = any(n == qname for n, _ in self.records)
        answers = self.records.get((qname, qtype), [])
        rcode = 0 if known else 3
        out = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0) + question
        for rdata in answers:
            out += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        return out

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()


def test_dns(args, wd):
    """`session target dns:carrier.test`: SRV (_sip._udp) then A through the
    configured name server on a loopback port; dns:NAME:PORT: A only. The
    summary shows where each was reached; a name that does not resolve
    gets the stack's 503 and the call ends."""
    assert args.sbcctl, "--sbcctl needed"
    uas, uac = UA(free_port()), UA(free_port())
    dns = TinyDns({
        ("_sip._udp.carrier.test", TinyDns.SRV): [TinyDns.srv(10, 10, uas.port, "edge1.carrier.test")],
        ("edge1.carrier.test", TinyDns.A): [TinyDns.a("127.0.0.1")],
        ("direct.carrier.test", TinyDns.A): [TinyDns.a("127.0.0.1")],
    })
    body = f"""ip name-server 127.0.0.1
ip name-server port {dns.port}
!
dial-peer voice 200 voip
 destination-pattern 1T
 session target dns:carrier.test
!
dial-peer voice 300 voip
 destination-pattern 2T
 session target dns:direct.carrier.test:{uas.port}
!
dial-peer voice 400 voip
 destination-pattern 3T
 session target dns:nowhere.test
!
"""
    try:
        sbc = TrunkSbcd(args.sbcd, uas.port, wd, body=body)
        with running(sbc, uas, uac):
            with open(os.path.join(sbc.state, "resolv.conf")) as f:
                conf = f.read()
            assert "nameserver 127.0.0.1\n" in conf and f"port {dns.port}\n" in conf, conf
            for number, host in (("15550001", "carrier.test"),
                                 ("25550002", f"direct.carrier.test:{uas.port}")):
                c, callee = Caller(uac, sbc.port, number=number), Callee(uas)
                c.invite()
                inv = callee.take_invite()
                assert inv.first.startswith(f"INVITE sip:{number}@{host};"), inv.first
                callee.respond(486, "Busy Here")
                r = uac.recv(final_of(c))
                assert r.status == 486, r.raw
                c.ack(r)
            assert ("_sip._udp.carrier.test", TinyDns.SRV) in dns.asked, dns.asked
            assert ("edge1.carrier.test", TinyDns.A) in dns.asked, dns.asked
            assert ("direct.carrier.test", TinyDns.A) in dns.asked, dns.asked
            assert not any(n == "direct.carrier.test" and t == TinyDns.SRV
                           for n, t in dns.asked), dns.asked
            text = sbcctl(args, sbc, "show", "dial-peer", "voice", "summary")
            rows = {l.split()[0]: l for l in text.splitlines()[3:]}
            assert rows["200"].endswith(f"dns:carrier.test 127.0.0.1:{uas.port}") or \
                re.search(rf"dns:carrier\.test\s+127\.0\.0\.1:{uas.port}$", rows["200"]), text
            assert re.search(rf"127\.0\.0\.1:{uas.port}$", rows["300"]), text
            assert rows["400"].endswith("dns:nowhere.test"), text
            conf_text = sbcctl(args, sbc, "show", "running-config")
            for line in (f"ip name-server 127.0.0.1\nip name-server port {dns.port}\n",
                         " session target dns:carrier.test\n",
                         f" session target dns:direct.carrier.test:{uas.port}\n"):
                assert line in conf_text, conf_text

            c = Caller(uac, sbc.port, number="35550003")
            c.invite()
            r = uac.recv(final_of(c), timeout=15)
            assert r.status >= 400, r.raw
            c.ack(r)
            assert ("nowhere.test", TinyDns.A) in dns.asked or \
                ("_sip._udp.nowhere.test", TinyDns.SRV) in dns.asked, dns.asked
            sbc.wait_idle()
            print(f"unresolvable target answered {r.first}")
            print(text)
    finally:
        dns.close()


TESTS = tests_in(globals())


def main():
    args = command_line(__doc__, TESTS, optional=("sbcctl",))
    return run_tests(TESTS, args.test, lambda fn, wd: fn(args, wd), "sbc-trunk")


if __name__ == "__main__":
    sys.exit(main())
