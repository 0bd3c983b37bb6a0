#!/usr/bin/env python3
"""Media relay through a real rtpengine, driven over its ng protocol.

relay:      a pbx and a carrier endpoint (UDP sockets on free loopback
            ports); the pbx's offer and the carrier's answer go through ng;
            each side's rewritten SDP names only rtpengine's address and
            ports. RTP (PCMU, 12-byte headers, rising sequence numbers)
            sent by each side to the port its SDP names reaches the other
            side unchanged, from the rtpengine port that side's SDP names;
            `query` counts the packets as they flow; after `delete`,
            `list` has no call.
unanswered: an offer that never gets an answer, then `delete` with its
            from-tag: nothing left in `list`, `query` no longer knows it.

Uses harness.py (Rtpengine, free_port, run_tests).
usage: media.py [--rtpengine PATH] TEST   (TEST = a name below, or "all")
"""
import os
import random
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Rtpengine, command_line, free_port, run_tests, tail,  # noqa: E402
                     tests_in)

PT_PCMU = 0
SAMPLES = 160  # 20 ms of PCMU at 8000 Hz, one byte per sample


def sdp(addr, port, session):
    return ("v=0\r\n"
            f"o=- {session} 1 IN IP4 {addr}\r\n"
            "s=-\r\n"
            f"c=IN IP4 {addr}\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP {PT_PCMU}\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n")


def rtp(seq, ssrc, payload):
    """RTP version 2, no padding / extension / CSRC, marker on the first."""
    first = 0x80
    second = (0x80 if seq == 0 else 0) | PT_PCMU
    return struct.pack("!BBHII", first, second, seq & 0xFFFF,
                       (seq * SAMPLES) & 0xFFFFFFFF, ssrc) + payload


def parse_rtp(data):
    assert len(data) >= 12, f"short RTP packet ({len(data)} bytes)"
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    assert b0 >> 6 == 2, f"RTP version {b0 >> 6}"
    return {"pt": b1 & 0x7F, "seq": seq, "ts": ts, "ssrc": ssrc, "payload": data[12:]}


class Endpoint:
    """One RTP endpoint (the pbx or the carrier) on a free loopback port."""

    def __init__(self, name):
        self.name = name
        self.port = free_port(tcp=False)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.ssrc = random.getrandbits(32)
        self.session = random.getrandbits(31)

    def sdp(self):
        return sdp("127.0.0.1", self.port, self.session)

    def payload(self, seq):
        # PCMU bytes that tell the two directions and the packets apart.
        return bytes(((self.ssrc >> 24) ^ seq ^ i) & 0xFF for i in range(SAMPLES))

    def send(self, seq, to):
        self.sock.sendto(rtp(seq, self.ssrc, self.payload(seq)), to)

    def recv(self, timeout=2.0):
        self.sock.settimeout(timeout)
        try:
            data, src = self.sock.recvfrom(2048)
        except socket.timeout:
            raise AssertionError(f"{self.name}: no RTP within {timeout} s") from None
        return parse_rtp(data), src

    def close(self):
        self.sock.close()


def media_of(text):
    """(address of c=, RTP port of m=audio, RTCP port of a=rtcp or None)."""
    c = re.findall(r"^c=IN IP4 (\S+)\r?$", text, re.M)
    m = re.findall(r"^m=audio (\d+) ", text, re.M)
    rtcp = re.findall(r"^a=rtcp:(\d+)", text, re.M)
    assert len(c) == 1 and len(m) == 1, f"one c= and one m=audio expected:\n{text}"
    return c[0], int(m[0]), int(rtcp[0]) if rtcp else None


def check_rewritten(rtpe, text, other, what):
    """The SDP `what` holds only rtpengine's address and ports, nothing of
    the endpoint `other` it stands for."""
    addr, port, rtcp = media_of(text)
    assert addr == rtpe.addr, f"{what}: c= {addr}, not rtpengine's {rtpe.addr}:\n{text}"
    assert rtpe.port_min <= port <= rtpe.port_max, \
        f"{what}: m= port {port} outside rtpengine's {rtpe.port_min}-{rtpe.port_max}:\n{text}"
    if rtcp is not None:
        assert rtpe.port_min <= rtcp <= rtpe.port_max, f"{what}: a=rtcp:{rtcp}:\n{text}"
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    assert other.port not in numbers and other.port + 1 not in numbers, \
        f"{what}: the {other.name}'s port {other.port} shows through:\n{text}"
    return port


def ok(reply, what):
    assert reply.get("result") == "ok", f"{what}: {reply}"
    return reply


def rtp_stream(reply, tag):
    """The RTP stream of `tag`'s audio in a query reply: rtpengine's local
    port for it and its counters (packets rtpengine received on it)."""
    media = reply["tags"][tag]["medias"]
    assert len(media) == 1, media
    streams = [s for s in media[0]["streams"] if "RTP" in s.get("flags", [])]
    assert len(streams) == 1, media[0]["streams"]
    return streams[0]


def wait_counts(rtpe, call_id, want, timeout=2.0):
    """Query until the per-tag RTP packet counts are `want` {tag: n}."""
    deadline = time.time() + timeout
    while True:
        q = ok(rtpe.ng({"command": "query", "call-id": call_id}), "query")
        got = {tag: rtp_stream(q, tag)["stats"]["packets"] for tag in want}
        if got == want:
            return q
        if time.time() > deadline:
            raise AssertionError(f"query: packets {got}, expected {want}")
        time.sleep(0.05)


def check_none_left(rtpe):
    calls = ok(rtpe.ng({"command": "list"}), "list").get("calls")
    assert calls == [], f"list after delete: {calls}"


def send_both_ways(rtpe, pbx, carrier, to_carrier_side, to_pbx_side, seqs):
    """Each packet one way then the other; each must arrive whole at the
    other side, from the rtpengine port that side's SDP names."""
    for seq in seqs:
        for src, dst, port in ((pbx, carrier, to_pbx_side), (carrier, pbx, to_carrier_side)):
            src.send(seq, (rtpe.addr, port))
            pkt, frm = dst.recv()
            want_from = to_carrier_side if dst is carrier else to_pbx_side
            assert frm == (rtpe.addr, want_from), \
                f"{dst.name} got RTP from {frm}, not rtpengine's {rtpe.addr}:{want_from}"
            assert (pkt["pt"], pkt["seq"], pkt["ssrc"]) == (PT_PCMU, seq, src.ssrc), \
                f"{dst.name}: {pkt} for {src.name}'s seq {seq}"
            assert pkt["ts"] == seq * SAMPLES and pkt["payload"] == src.payload(seq), \
                f"{dst.name}: packet {seq} changed on the way"


def test_relay(args, wd):
    rtpe = Rtpengine(wd, binary=args.rtpengine)
    pbx, carrier = Endpoint("pbx"), Endpoint("carrier")
    try:
        with open(rtpe.pidfile) as f:
            assert int(f.read().split()[0]) == rtpe.pid, "pid file is not our child's"
        call_id = f"{random.getrandbits(64):x}@media"
        from_tag, to_tag = f"{random.getrandbits(32):x}", f"{random.getrandbits(32):x}"

        # The pbx's offer; rtpengine's rewrite is what the carrier gets.
        offer = ok(rtpe.ng({"command": "offer", "call-id": call_id, "from-tag": from_tag,
                            "sdp": pbx.sdp()}), "offer")
        to_carrier_side = check_rewritten(rtpe, offer["sdp"], pbx, "offer to the carrier")
        # The carrier's answer; its rewrite is what the pbx gets.
        answer = ok(rtpe.ng({"command": "answer", "call-id": call_id, "from-tag": from_tag,
                             "to-tag": to_tag, "sdp": carrier.sdp()}), "answer")
        to_pbx_side = check_rewritten(rtpe, answer["sdp"], carrier, "answer to the pbx")
        assert to_pbx_side != to_carrier_side, (to_pbx_side, to_carrier_side)

        q = wait_counts(rtpe, call_id, {from_tag: 0, to_tag: 0})
        # rtpengine's port facing the pbx belongs to the pbx's tag, the one
        # facing the carrier to the carrier's.
        assert rtp_stream(q, from_tag)["local port"] == to_pbx_side, q["tags"][from_tag]
        assert rtp_stream(q, to_tag)["local port"] == to_carrier_side, q["tags"][to_tag]

        send_both_ways(rtpe, pbx, carrier, to_carrier_side, to_pbx_side, range(0, 25))
        wait_counts(rtpe, call_id, {from_tag: 25, to_tag: 25})
        send_both_ways(rtpe, pbx, carrier, to_carrier_side, to_pbx_side, range(25, 50))
        q = wait_counts(rtpe, call_id, {from_tag: 50, to_tag: 50})
        total = q["totals"]["RTP"]
        assert total["packets"] == 100 and total["bytes"] == 100 * (12 + SAMPLES), total
        assert rtp_stream(q, from_tag)["stats"]["errors"] == 0, q["tags"][from_tag]
        assert rtp_stream(q, to_tag)["stats"]["errors"] == 0, q["tags"][to_tag]

        ok(rtpe.ng({"command": "delete", "call-id": call_id}), "delete")
        check_none_left(rtpe)
        # Nothing relayed once the call is gone.
        pbx.send(50, (rtpe.addr, to_pbx_side))
        carrier.sock.settimeout(0.3)
        try:
            data, frm = carrier.sock.recvfrom(2048)
            raise AssertionError(f"carrier got {len(data)} bytes from {frm} after delete")
        except socket.timeout:
            pass
    finally:
        pbx.close()
        carrier.close()
        rc = rtpe.stop()
    assert rc == 0, f"rtpengine exit {rc}:\n{rtpe.text()[-2000:]}"


def test_unanswered(args, wd):
    rtpe = Rtpengine(wd, binary=args.rtpengine)
    pbx = Endpoint("pbx")
    try:
        call_id = f"{random.getrandbits(64):x}@media"
        from_tag = f"{random.getrandbits(32):x}"
        offer = ok(rtpe.ng({"command": "offer", "call-id": call_id, "from-tag": from_tag,
                            "sdp": pbx.sdp()}), "offer")
        check_rewritten(rtpe, offer["sdp"], pbx, "offer to the carrier")
        calls = ok(rtpe.ng({"command": "list"}), "list")["calls"]
        assert calls == [call_id], f"list after the offer: {calls}"
        ok(rtpe.ng({"command": "delete", "call-id": call_id, "from-tag": from_tag}),
           "delete")
        check_none_left(rtpe)
        q = rtpe.ng({"command": "query", "call-id": call_id})
        assert q.get("result") == "error", f"query of a deleted call: {q}"
    finally:
        pbx.close()
        rc = rtpe.stop()
    assert rc == 0, f"rtpengine exit {rc}:\n{rtpe.text()[-2000:]}"


TESTS = tests_in(globals())


def main():
    args = command_line(__doc__, TESTS, binaries=(), optional=("rtpengine",))
    return run_tests(TESTS, args.test, lambda fn, wd: fn(args, wd), "sbc-media",
                     on_fail=lambda wd: print(tail(os.path.join(wd, "rtpengine.log"))))


if __name__ == "__main__":
    sys.exit(main())
