#!/usr/bin/env python3
"""Hostile SIP: malformed messages at sbcd while a SIPp call load runs.

    hostile.py --sbcd PATH --sipp PATH [--calls 2000] [--rate 100]
               [--seed N] [--workdir DIR] [--keep]

sipp-scenarios/run.py's Runner starts a SIPp UAS, sbcd and a SIPp UAC
(basic scenario, 2000 calls at 100 calls/s held 1 s, --track-counts,
--expect-clean-log). While the UAC runs, a corpus of broken messages is
sent at sbcd's SIP port over UDP and TCP:

  bad headers, 8-60 KB header lines, missing To/From/Call-ID/CSeq/Via,
  wrong Content-Length (too big, too small, negative, not a number),
  binary garbage, NULs, 64 KB bodies, bad request lines, bad SIP
  versions, responses that match no transaction, CANCEL/ACK/BYE/... for
  dialogs that do not exist, duplicated headers, CSeq method mismatch,
  Max-Forwards 0 and other bad values, very long URIs, many Via headers,
  UTF-8 junk, random mutations of valid messages, the handcrafted seeds
  in tests/integration/hostile/*.sip, and over TCP: several messages on
  one connection, streams cut mid-message (FIN or RST), and a flood of
  connections that each send part of a message and then hang.

The corpus is generated from a seeded random generator (--seed, default
fixed; $HOSTILE_SEED overrides), so a failure replays exactly.

Pass when: sbcd never exits during the run (no crash, no sanitizer abort)
and is alive after the corpus; it answers a valid OPTIONS with 200 over
UDP and TCP afterwards; SIPp's UAC and UAS report every call successful
and none failed; sbcd's counts follow SIPp's and drain to 0; its log has
no error-level line and no sanitizer report; it exits 0 on SIGTERM.
Every hostile INVITE is addressed to a number no dial-peer routes (9...),
so none of them can reach the SIPp UAS and disturb its call count.

Python 3 standard library only.
"""
import argparse
import os
import random
import re
import select
import socket
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "sipp-scenarios"))
import run as sipp_run  # noqa: E402  (sipp-scenarios/run.py)
from harness import LOCAL_IP  # noqa: E402

SEED_DIR = os.path.join(HERE, "hostile")
UDP_MAX = 65000          # a bigger datagram cannot be sent over loopback UDP
HOSTILE_SECONDS = 11.0   # the corpus is spread over this much of the load
FLOOD_CONNECTIONS = 200  # TCP connections left hanging with half a message

# Placeholders filled in at send time: transport token of the top Via, the
# sender's address (so that every answer comes back to the sender, never to
# a port of some other process), sbcd's address.
TP, ME, SBC = b"@@TP@@", b"@@ME@@", b"@@SBC@@"

SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       b"t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

METHODS = ["INVITE", "OPTIONS", "BYE", "CANCEL", "ACK", "INFO", "UPDATE", "PRACK",
           "NOTIFY", "REFER", "MESSAGE", "SUBSCRIBE", "REGISTER", "PUBLISH"]


# ------------------------------------------------------------------ corpus

class Gen:
    """Builds the corpus: (kind, transport, bytes); transport is "udp",
    "tcp" or "both"."""

    def __init__(self, seed, mutations=300):
        self.rng = random.Random(seed)
        self.items = []
        self.n_mutations = mutations

    def tok(self, n=12):
        return "".join(self.rng.choice("abcdef0123456789") for _ in range(n))

    def number(self):
        # Never a number a dial-peer routes (destination-pattern 1T).
        return "9" + "".join(self.rng.choice("0123456789") for _ in range(7))

    def headers(self, method="OPTIONS", cseq_method=None):
        """The usual headers of an out-of-dialog request, as a list."""
        return [
            ("Via", b"SIP/2.0/" + TP + b" " + ME + b";branch=z9hG4bK" +
             self.tok().encode() + b";rport"),
            ("Max-Forwards", b"70"),
            ("From", b"\"Hostile\" <sip:hostile@127.0.0.1>;tag=" + self.tok(8).encode()),
            ("To", b"<sip:" + self.number().encode() + b"@" + SBC + b">"),
            ("Call-ID", self.tok(16).encode() + b"@hostile"),
            ("CSeq", b"%d %s" % (self.rng.randint(1, 9999),
                                 (cseq_method or method).encode())),
            ("Contact", b"<sip:hostile@" + ME + b">"),
        ]

    def uri(self):
        return b"sip:" + self.number().encode() + b"@" + SBC

    @staticmethod
    def build(first, headers, body=b"", cl="auto"):
        out = [first]
        for name, value in headers:
            if isinstance(name, str):
                name = name.encode()
            out.append(name + b": " + value if value is not None else name)
        if body and not any(n in ("Content-Type", b"Content-Type") for n, _ in headers):
            out.append(b"Content-Type: application/sdp")
        if cl == "auto":
            out.append(b"Content-Length: %d" % len(body))
        elif cl is not None:
            out.append(b"Content-Length: " + cl)
        return b"\r\n".join(out) + b"\r\n\r\n" + body

    def request(self, method="OPTIONS", uri=None, headers=None, body=b"", cl="auto",
                version=b"SIP/2.0", cseq_method=None):
        first = method.encode() + b" " + (uri or self.uri()) + b" " + version
        return self.build(first, headers if headers is not None else
                          self.headers(method, cseq_method), body, cl)

    def add(self, kind, data, transport="both"):
        self.items.append((kind, transport, data))

    # ---- the kinds

    def bad_headers(self):
        bad = [b"NoColonHere", b"Via SIP/2.0/UDP nowhere", b": empty-name",
               b"Bad Name: x", b"Via: garbage;;;;branch", b"Via: SIP/2.0/XYZ",
               b"Via: SIP/2.0/UDP", b"Via: SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bKx",
               b"From: <<<>>>", b"From: <sip:@>", b"To: \"unterminated <sip:x@y>",
               b"To: <sip:a@b;tag=>", b"Call-ID:", b"Call-ID: ", b"CSeq: abc INVITE",
               b"CSeq: 99999999999999999999 INVITE", b"CSeq: -1 INVITE", b"CSeq: 1",
               b"CSeq: INVITE 1", b"Max-Forwards: abc", b"Contact: *garbage",
               b"Contact: <sip:a@b", b"Content-Type: ;;;", b"Content-Type: /",
               b"Expires: -5", b"Route: <sip:a@b;lr", b"Record-Route: ,,,,",
               b"Require: ", b"Supported: ,,,", b"Allow: ,INVITE,,",
               b"Accept: */*;q=abc", b"Retry-After: x", b"Session-Expires: -1",
               b"Min-SE: abc", b"RAck: a b c", b"RSeq: -3", b"Event: ;;",
               b"Subscription-State: active;expires=-1", b"Timestamp: x y z",
               b"Authorization: Digest ,,,,,,", b"Proxy-Authorization: Digest realm",
               b"WWW-Authenticate: ", b"Date: Sun, 99 Foo 12345 99:99:99 GMT",
               b"\tfolded: continuation with no header before",
               b"X-Header: line\r\n folded\r\n\tand again",
               b"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa;received=not-an-ip;rport=x",
               b"Via: SIP/2.0/UDP [::1;branch=z9hG4bKa",
               b"From: sip:nobrackets@127.0.0.1;tag=a;tag=b;tag=c",
               b"Content-Encoding: gzip", b"Content-Length: 0, 5"]
        for i, line in enumerate(bad):
            method = self.rng.choice(["INVITE", "OPTIONS", "BYE", "INFO"])
            hdrs = self.headers(method)
            name = line.split(b":", 1)[0].strip()
            # Replace the header of that name when there is one, else add.
            idx = [k for k, (n, _) in enumerate(hdrs) if n.encode().lower() == name.lower()]
            entry = (line, None)
            if idx:
                hdrs[idx[0]] = entry
            else:
                hdrs.insert(self.rng.randint(1, len(hdrs)), entry)
            self.add("bad_header", self.request(method, headers=hdrs,
                                                body=SDP if method == "INVITE" else b""))

    def huge_headers(self):
        for kb in (8, 16, 32, 60):
            for name in ("Subject", "Via", "To", "X-Junk", "Call-ID", "Contact"):
                method = self.rng.choice(["INVITE", "OPTIONS"])
                hdrs = self.headers(method)
                if name == "Via":
                    value = (b"SIP/2.0/" + TP + b" " + ME + b";branch=z9hG4bK" +
                             b"x" * (kb * 1024))
                    hdrs[0] = ("Via", value)
                elif name == "To":
                    hdrs[3] = ("To", b"\"" + b"D" * (kb * 1024) + b"\" <sip:9000@" + SBC + b">")
                elif name == "Call-ID":
                    hdrs[4] = ("Call-ID", b"c" * (kb * 1024) + b"@hostile")
                elif name == "Contact":
                    hdrs[6] = ("Contact", b"<sip:" + b"u" * (kb * 1024) + b"@" + ME + b">")
                else:
                    hdrs.append((name, bytes(self.rng.choice(b"ABCxyz019") for _ in
                                             range(kb * 1024))))
                self.add("huge_header", self.request(method, headers=hdrs))
        # Many ordinary header lines adding up to about 60 KB.
        hdrs = self.headers("OPTIONS")
        hdrs += [("X-Many-%d" % i, b"v" * 50) for i in range(1000)]
        self.add("huge_header", self.request("OPTIONS", headers=hdrs))

    def missing_headers(self):
        names = ["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact"]
        for method in ("INVITE", "OPTIONS", "BYE", "CANCEL", "ACK"):
            for name in names:
                hdrs = [h for h in self.headers(method) if h[0] != name]
                self.add("missing_header", self.request(
                    method, headers=hdrs, body=SDP if method == "INVITE" else b""))
            # All four dialog identifiers at once, and everything at once.
            hdrs = [h for h in self.headers(method)
                    if h[0] not in ("To", "From", "Call-ID", "CSeq")]
            self.add("missing_header", self.request(method, headers=hdrs))
            self.add("missing_header", self.request(method, headers=[], cl=None))

    def content_length(self):
        for method in ("INVITE", "OPTIONS", "MESSAGE"):
            body = SDP if method == "INVITE" else b"hello " * 20
            for cl in (b"5000", b"65536", b"2", b"0", b"-1", b"-99999", b"abc", b"1e3",
                       b"0x10", b"12abc", b" ", b"99999999999999999999999",
                       b"4294967297", b"%d" % (len(body) + 1), b"%d" % (len(body) - 1)):
                self.add("content_length", self.request(method, body=body, cl=cl))
            # Two Content-Length headers that disagree; none at all.
            hdrs = self.headers(method) + [("Content-Length", b"3")]
            self.add("content_length", self.request(method, headers=hdrs, body=body))
            self.add("content_length", self.request(method, body=body, cl=None))

    def binary(self):
        for _ in range(60):
            n = self.rng.choice((1, 2, 4, 16, 100, 512, 1400, 4000, 20000))
            self.add("binary", bytes(self.rng.getrandbits(8) for _ in range(n)))
        # Garbage after a plausible start, and a valid head with a binary body.
        for _ in range(20):
            junk = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(10, 3000)))
            self.add("binary", b"INVITE sip:9000@" + SBC + b" SIP/2.0\r\n" + junk)
            self.add("binary", self.request("MESSAGE", body=junk,
                                            headers=self.headers("MESSAGE") +
                                            [("Content-Type", b"application/octet-stream")]))
        self.add("binary", b"\r\n\r\n\r\n\r\n")       # keep-alives, many
        self.add("binary", b"\xff" * 1000)
        self.add("binary", b"\x00")

    def nuls(self):
        for _ in range(40):
            msg = bytearray(self.request(self.rng.choice(["INVITE", "OPTIONS", "BYE"]),
                                         body=SDP))
            for _ in range(self.rng.randint(1, 8)):
                msg.insert(self.rng.randrange(len(msg)), 0)
            self.add("nul", bytes(msg))
        self.add("nul", b"OPTIONS sip:9000\x00@" + SBC + b" SIP/2.0\r\n\r\n")
        self.add("nul", self.request("OPTIONS", headers=self.headers("OPTIONS") +
                                     [("X-Nul", b"a\x00b\x00c")]))
        self.add("nul", b"\x00" * 2000)

    def big_bodies(self):
        for size in (60000, 65536, 70000):
            body = bytes(self.rng.choice(b"0123456789abcdef\r\n") for _ in range(size))
            for method in ("INVITE", "MESSAGE", "INFO"):
                self.add("big_body", self.request(method, body=body),
                         "tcp" if size > 60000 else "both")
        # A 64 KB SDP-looking body.
        sdp = SDP + b"a=x-pad:" + b"p" * (65536 - len(SDP) - 10) + b"\r\n"
        self.add("big_body", self.request("INVITE", body=sdp), "tcp")

    def bad_request_lines(self):
        n = self.number().encode()
        lines = [b"INVITE", b"INVITE sip:" + n, b"INVITE sip:" + n + b"@" + SBC,
                 b" INVITE sip:" + n + b"@" + SBC + b" SIP/2.0",
                 b"INVITE  sip:" + n + b"@" + SBC + b"  SIP/2.0",
                 b"invite sip:" + n + b"@" + SBC + b" SIP/2.0",
                 b"FOO sip:" + n + b"@" + SBC + b" SIP/2.0",
                 b"INV\x01TE sip:" + n + b"@" + SBC + b" SIP/2.0",
                 b"INVITE <sip:" + n + b"@" + SBC + b"> SIP/2.0",
                 b"INVITE sip:" + n + b"@" + SBC + b" SIP/2.0 extra",
                 b"INVITE SIP/2.0", b"INVITE  SIP/2.0", b"SIP/2.0",
                 b"INVITE http://example.invalid/ SIP/2.0",
                 b"INVITE sip: SIP/2.0", b"INVITE sip:@ SIP/2.0",
                 b"INVITE sip:" + n + b"@ SIP/2.0", b"INVITE tel: SIP/2.0",
                 b"INVITE tel:" + n + b" SIP/2.0", b"INVITE sip:" + n + b"@[::1 SIP/2.0",
                 b"INVITE sip:" + n + b"@127.0.0.1:99999999 SIP/2.0",
                 b"INVITE sip:" + n + b"@127.0.0.1:-1 SIP/2.0",
                 b"INVITE sip:" + n + b"@127.0.0.1;;;;;=;= SIP/2.0",
                 b"INVITE sip:" + n + b"@127.0.0.1?&&&=&= SIP/2.0",
                 b"INVITE sip:%00%ff@127.0.0.1 SIP/2.0",
                 b"INVITE\tsip:" + n + b"@" + SBC + b"\tSIP/2.0",
                 b"GET / HTTP/1.1", b"\r\nOPTIONS sip:" + n + b"@" + SBC + b" SIP/2.0",
                 b"OPTIONS * SIP/2.0", b"A" * 4000 + b" sip:x SIP/2.0"]
        for first in lines:
            method = self.rng.choice(["INVITE", "OPTIONS"])
            self.add("bad_request_line", self.build(first, self.headers(method),
                                                    SDP if method == "INVITE" else b""))

    def bad_versions(self):
        for v in (b"SIP/3.0", b"SIP/1.0", b"SIP/2.00", b"SIP/2", b"SIP/", b"HTTP/1.1",
                  b"SIP/2.0x", b"sip/2.0", b"SIP/20", b"SIP/2.0.0", b"SIP/-1.0",
                  b"SIP/99999999999.0", b""):
            for method in ("INVITE", "OPTIONS", "BYE"):
                self.add("bad_version", self.request(method, version=v,
                                                     body=SDP if method == "INVITE" else b""))

    def orphan_responses(self):
        for code in (100, 180, 183, 200, 202, 301, 401, 404, 481, 487, 500, 503, 603,
                     699, 999, 0, 1000):
            for method in ("INVITE", "BYE", "OPTIONS", "CANCEL"):
                hdrs = self.headers(method)
                first = b"SIP/2.0 %d Whatever" % code
                self.add("orphan_response", self.build(first, hdrs,
                                                       SDP if code == 200 else b""))
        for first in (b"SIP/2.0 abc OK", b"SIP/2.0 2000 OK", b"SIP/2.0", b"SIP/2.0 ",
                      b"SIP/2.0 200", b"SIP/3.0 200 OK", b"SIP/2.0 -200 OK"):
            self.add("orphan_response", self.build(first, self.headers("INVITE")))
        # A response naming the branch of nothing, with many Vias.
        hdrs = self.headers("INVITE")
        hdrs[1:1] = [("Via", b"SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" +
                      self.tok().encode())] * 20
        self.add("orphan_response", self.build(b"SIP/2.0 200 OK", hdrs, SDP))

    def unknown_dialogs(self):
        for method in ("CANCEL", "ACK", "BYE", "INFO", "UPDATE", "PRACK", "NOTIFY",
                       "REFER", "INVITE"):
            for with_tag in (True, False):
                for _ in range(3):
                    hdrs = self.headers(method)
                    if with_tag:
                        hdrs[3] = ("To", hdrs[3][1] + b";tag=" + self.tok(8).encode())
                    extra = []
                    if method == "PRACK":
                        extra = [("RAck", b"1 1 INVITE")]
                    if method == "NOTIFY":
                        extra = [("Event", b"refer"), ("Subscription-State", b"active")]
                    if method == "REFER":
                        extra = [("Refer-To", b"<sip:9001@127.0.0.1>")]
                    self.add("unknown_dialog", self.request(method, headers=hdrs + extra))

    def duplicated_headers(self):
        for name in ("Call-ID", "CSeq", "To", "From", "Max-Forwards", "Content-Length",
                     "Content-Type", "Contact"):
            for method in ("INVITE", "OPTIONS", "BYE"):
                hdrs = self.headers(method)
                body = SDP if method == "INVITE" else b""
                if name == "Content-Length":
                    hdrs.append(("Content-Length", b"%d" % len(body)))
                    hdrs.append(("Content-Length", b"%d" % (len(body) + 7)))
                elif name == "Content-Type":
                    hdrs.append(("Content-Type", b"application/sdp"))
                    hdrs.append(("Content-Type", b"text/plain"))
                else:
                    src = [v for n, v in hdrs if n == name][0]
                    other = self.headers(method)
                    alt = [v for n, v in other if n == name][0]
                    hdrs.append((name, src))
                    hdrs.append((name, alt))
                self.add("duplicated_header", self.request(method, headers=hdrs, body=body))

    def cseq_mismatch(self):
        for method, cm in (("INVITE", "BYE"), ("BYE", "INVITE"), ("OPTIONS", "INVITE"),
                           ("CANCEL", "INVITE"), ("ACK", "BYE"), ("INVITE", "FOO"),
                           ("INVITE", "invite"), ("INFO", "")):
            self.add("cseq_mismatch", self.request(method, cseq_method=cm,
                                                   body=SDP if method == "INVITE" else b""))

    def max_forwards(self):
        for mf in (b"0", b"-1", b"99999999999", b"abc", b"", b"0 0", b"1"):
            for method in ("INVITE", "OPTIONS", "BYE", "MESSAGE"):
                hdrs = self.headers(method)
                hdrs[1] = ("Max-Forwards", mf)
                self.add("max_forwards", self.request(method, headers=hdrs,
                                                      body=SDP if method == "INVITE" else b""))

    def long_uris(self):
        for size in (1024, 4096, 16384, 60000):
            n = self.number().encode()
            for uri in (b"sip:" + n + b"@" + SBC + b";x=" + b"p" * size,
                        b"sip:9" + b"8" * size + b"@" + SBC,
                        b"sip:" + n + b"@" + b"h" * size + b".invalid",
                        b"sip:" + n + b"@" + SBC + b"?X=" + b"q" * size):
                method = self.rng.choice(["INVITE", "OPTIONS"])
                self.add("long_uri", self.request(method, uri=uri,
                                                  body=SDP if method == "INVITE" else b""))

    def many_vias(self):
        for count in (10, 70, 200, 600, 1200):
            method = self.rng.choice(["INVITE", "OPTIONS", "BYE"])
            hdrs = self.headers(method)
            vias = [("Via", b"SIP/2.0/UDP 127.0.0.%d:%d;branch=z9hG4bK%s" %
                     (self.rng.randint(2, 254), self.rng.randint(1024, 65000),
                      self.tok().encode())) for _ in range(count)]
            hdrs[1:1] = vias
            self.add("many_via", self.request(method, headers=hdrs))
        # One Via line with many comma-separated values.
        hdrs = self.headers("OPTIONS")
        hdrs[0] = ("Via", hdrs[0][1] + b"," + b",".join(
            b"SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK%d" % i for i in range(800)))
        self.add("many_via", self.request("OPTIONS", headers=hdrs))

    def utf8_junk(self):
        junk = [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff\xfe\xfd",
                b"\xe2\x82", b"\xf0\x9f\x92\xa9", b"\xef\xbb\xbf", b"\xc3\x28",
                b"\xe2\x80\xae", b"\xcc\x81" * 100,
                "\u202e\u0000\ufeff".encode("utf-8")]
        for j in junk:
            for where in ("display", "user", "header", "body", "method", "callid"):
                hdrs = self.headers("INVITE")
                uri = None
                method = "INVITE"
                body = SDP
                if where == "display":
                    hdrs[2] = ("From", b"\"" + j * 3 + b"\" <sip:h@127.0.0.1>;tag=a")
                elif where == "user":
                    uri = b"sip:9" + j + b"@" + SBC
                elif where == "header":
                    hdrs.append(("Subject", j * 10))
                elif where == "body":
                    body = SDP + b"s=" + j * 20 + b"\r\n"
                elif where == "method":
                    method = "INV" + j.decode("latin-1")
                elif where == "callid":
                    hdrs[4] = ("Call-ID", j + b"@hostile")
                if where == "method":
                    first = method.encode("latin-1") + b" " + self.uri() + b" SIP/2.0"
                    self.add("utf8_junk", self.build(first, hdrs, body))
                else:
                    self.add("utf8_junk", self.request(method, uri=uri, headers=hdrs,
                                                       body=body))

    def mutations(self):
        """Random byte edits of valid messages: flips, deletions, insertions,
        duplicated or dropped runs, truncation."""
        for _ in range(self.n_mutations):
            method = self.rng.choice(METHODS)
            msg = bytearray(self.request(method, body=SDP if method == "INVITE" else b""))
            for _ in range(self.rng.randint(1, 6)):
                if not msg:
                    msg = bytearray(b"X")
                op = self.rng.randrange(6)
                pos = self.rng.randrange(len(msg))
                if op == 0:
                    msg[pos] = self.rng.getrandbits(8)
                elif op == 1:
                    del msg[pos:pos + self.rng.randint(1, 20)]
                elif op == 2:
                    msg[pos:pos] = bytes(self.rng.choice(b":;,<>\"\r\n @=\\%")
                                         for _ in range(self.rng.randint(1, 10)))
                elif op == 3:
                    end = min(len(msg), pos + self.rng.randint(1, 200))
                    msg[pos:pos] = msg[pos:end] * self.rng.randint(2, 20)
                elif op == 4:
                    del msg[pos:]
                else:
                    msg[pos:pos] = b"\r\n"
            self.add("mutated", bytes(msg) or b"X")

    def seeds(self):
        """Handcrafted messages in tests/integration/hostile/*.sip: LF line
        ends in the file are sent as CRLF, except in files named *.raw.sip,
        sent byte for byte."""
        if not os.path.isdir(SEED_DIR):
            return
        for name in sorted(os.listdir(SEED_DIR)):
            if not name.endswith(".sip"):
                continue
            with open(os.path.join(SEED_DIR, name), "rb") as f:
                data = f.read()
            if not name.endswith(".raw.sip"):
                data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            data = (data.replace(b"{TP}", TP).replace(b"{ME}", ME)
                    .replace(b"{SBC}", SBC))
            self.add("seed", data)

    def generate(self):
        for fn in (self.bad_headers, self.huge_headers, self.missing_headers,
                   self.content_length, self.binary, self.nuls, self.big_bodies,
                   self.bad_request_lines, self.bad_versions, self.orphan_responses,
                   self.unknown_dialogs, self.duplicated_headers, self.cseq_mismatch,
                   self.max_forwards, self.long_uris, self.many_vias, self.utf8_junk,
                   self.mutations, self.seeds):
            fn()
        # A routed number would reach the SIPp UAS and fail one of its calls
        # for a reason that is not sbcd's: drop such a mutant (tel: too).
        routed = re.compile(rb"^\s*\S+\s+[a-zA-Z]*:\+?1")
        kept = [it for it in self.items if not routed.match(it[2].split(b"\r\n", 1)[0])]
        dropped = len(self.items) - len(kept)
        self.items = kept
        return dropped


# ------------------------------------------------------------------ sender

class Hostile:
    """Sends the corpus at sbcd over UDP and TCP within HOSTILE_SECONDS and
    counts what it sent and what came back."""

    def __init__(self, port, seed, mutations=300):
        self.port = port
        self.seed = seed
        self.sbc = ("%s:%d" % (LOCAL_IP, port)).encode()
        gen = Gen(seed, mutations)
        self.dropped = gen.generate()
        self.items = gen.items
        self.sent = {}          # (kind, transport) -> count
        self.answers = {}       # status -> count (UDP and TCP)
        self.tcp_errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors = []
        self.crashed = []  # sender threads that died of an exception

    def fill(self, data, tp, me):
        return data.replace(TP, tp).replace(ME, me).replace(SBC, self.sbc)

    def count(self, kind, tp):
        with self.lock:
            self.sent[(kind, tp)] = self.sent.get((kind, tp), 0) + 1

    def note_answers(self, data):
        with self.lock:
            for m in re.finditer(rb"SIP/2\.0 (\d{3}) ", data):
                code = int(m.group(1))
                self.answers[code] = self.answers.get(code, 0) + 1

    # -- UDP: one socket; a reader counts the answers
    def udp_reader(self):
        while not self.stop.is_set():
            r, _, _ = select.select([self.udp], [], [], 0.1)
            if r:
                try:
                    data = self.udp.recv(70000)
                except OSError:
                    continue
                self.note_answers(data[:64])

    def udp_sender(self, items, t_end):
        me = ("%s:%d" % self.udp.getsockname()).encode()
        t0 = time.time()
        for i, (kind, data) in enumerate(items):
            target = t0 + (t_end - t0) * i / max(1, len(items))
            pause = target - time.time()
            if pause > 0:
                time.sleep(pause)
            try:
                self.udp.sendto(self.fill(data, b"UDP", me), (LOCAL_IP, self.port))
                self.count(kind, "udp")
            except OSError as e:
                self.errors.append("udp send (%s, %d bytes): %s" % (kind, len(data), e))

    # -- TCP: a connection per message (several for some), closed soon after
    def tcp_connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect((LOCAL_IP, self.port))
        return s

    def tcp_drain(self, s):
        try:
            s.setblocking(False)
            while True:
                data = s.recv(65536)
                if not data:
                    break
                self.note_answers(data)
        except (BlockingIOError, OSError):
            pass

    @staticmethod
    def tcp_close(s, rst):
        if rst:
            # SO_LINGER 0: close() sends a RST instead of a FIN.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def tcp_sender(self, items, t_end, rng):
        t0 = time.time()
        open_socks = []  # (close_at, sock, rst)
        pipeline = []
        for i, (kind, data) in enumerate(items):
            target = t0 + (t_end - t0) * i / max(1, len(items))
            while True:
                now = time.time()
                for entry in [e for e in open_socks if e[0] <= now]:
                    open_socks.remove(entry)
                    self.tcp_drain(entry[1])
                    self.tcp_close(entry[1], entry[2])
                if now >= target:
                    break
                time.sleep(min(0.02, target - now))
            try:
                s = self.tcp_connect()
                me = ("%s:%d" % s.getsockname()).encode()
                msg = self.fill(data, b"TCP", me)
                mode = rng.random()
                if mode < 0.15:
                    # Cut mid-message: part of it, then FIN or RST.
                    cut = rng.randrange(1, max(2, len(msg)))
                    s.sendall(msg[:cut])
                    self.count(kind, "tcp")
                    self.count("tcp_cut", "tcp")
                    open_socks.append((time.time() + rng.uniform(0, 0.3), s,
                                       rng.random() < 0.5))
                    continue
                s.sendall(msg)
                self.count(kind, "tcp")
                pipeline.append(msg)
                if mode < 0.3 and len(pipeline) >= 2:
                    # Several earlier messages again, back to back on this
                    # connection.
                    for m in pipeline[-rng.randint(2, min(5, len(pipeline))):]:
                        s.sendall(m)
                        self.count("tcp_pipelined", "tcp")
                open_socks.append((time.time() + rng.uniform(0.05, 0.8), s,
                                   rng.random() < 0.2))
                if len(pipeline) > 20:
                    pipeline = pipeline[-20:]
            except OSError as e:
                self.tcp_errors += 1
                if len(self.errors) < 20:
                    self.errors.append("tcp (%s, %d bytes): %s" % (kind, len(data), e))
        for _, s, rst in open_socks:
            self.tcp_drain(s)
            self.tcp_close(s, rst)

    def tcp_flood(self, rng, hold_until):
        """FLOOD_CONNECTIONS connections that each send the start of a
        message (no end of headers) and hang; a third trickle one more byte
        every ~0.5 s. All are closed at hold_until, half of them by RST."""
        socks = []
        me_fmt = b"%s:%d"
        for i in range(FLOOD_CONNECTIONS):
            try:
                s = self.tcp_connect()
            except OSError as e:
                self.tcp_errors += 1
                if len(self.errors) < 20:
                    self.errors.append("flood connect: %s" % e)
                continue
            me = me_fmt % (LOCAL_IP.encode(), s.getsockname()[1])
            msg = Gen(self.seed * 1000 + i).request(
                rng.choice(["INVITE", "OPTIONS", "MESSAGE"]), body=SDP)
            msg = self.fill(msg, b"TCP", me)
            head = msg[:msg.index(b"\r\n\r\n")]
            part = head[:rng.randrange(1, len(head))]
            try:
                s.sendall(part)
            except OSError:
                pass
            self.count("tcp_partial_flood", "tcp")
            socks.append([s, len(part), head, i % 3 == 0])
            time.sleep(0.005)
        while time.time() < hold_until and not self.stop.is_set():
            for entry in socks:
                s, pos, head, trickle = entry
                if trickle and pos < len(head) - 1:
                    try:
                        s.send(head[pos:pos + 1])
                        entry[1] += 1
                    except OSError:
                        entry[3] = False
            time.sleep(0.5)
        for i, (s, _, _, _) in enumerate(socks):
            self.tcp_drain(s)
            self.tcp_close(s, i % 2 == 0)

    def run(self):
        """Send everything; returns when done (about HOSTILE_SECONDS)."""
        rng = random.Random(self.seed + 1)
        udp_items = [(k, d) for k, tp, d in self.items if tp in ("udp", "both")
                     and len(d) + 64 <= UDP_MAX]
        tcp_items = [(k, d) for k, tp, d in self.items if tp in ("tcp", "both")]
        rng.shuffle(udp_items)
        rng.shuffle(tcp_items)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((LOCAL_IP, 0))
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        t_end = time.time() + HOSTILE_SECONDS

        def guarded(fn, *args):
            def body():
                try:
                    fn(*args)
                except Exception as e:  # a bug of the test: fail the run
                    self.crashed.append("%s: %r" % (fn.__name__, e))
            return threading.Thread(target=body, daemon=fn == self.udp_reader)
        threads = [guarded(self.udp_reader),
                   guarded(self.udp_sender, udp_items, t_end),
                   guarded(self.tcp_sender, tcp_items, t_end, random.Random(self.seed + 2)),
                   guarded(self.tcp_flood, random.Random(self.seed + 3), t_end)]
        for t in threads:
            t.start()
        for t in threads[1:]:
            t.join()
        time.sleep(0.5)  # late answers
        self.stop.set()
        threads[0].join()
        self.udp.close()

    def summary(self):
        kinds = sorted({k for k, _ in self.sent})
        lines = ["hostile corpus (seed %d): %d messages generated (%d routed mutants dropped)"
                 % (self.seed, len(self.items), self.dropped),
                 "  %-20s %6s %6s" % ("kind", "udp", "tcp")]
        tu = tt = 0
        for k in kinds:
            u, t = self.sent.get((k, "udp"), 0), self.sent.get((k, "tcp"), 0)
            if k not in ("tcp_cut", "tcp_pipelined"):
                tu += u
                tt += t
            lines.append("  %-20s %6d %6d" % (k, u, t))
        lines.append("  %-20s %6d %6d" % ("total sent", tu, tt))
        lines.append("  (tcp_cut and tcp_pipelined count how many of the tcp messages were "
                     "cut or sent again)")
        lines.append("  answers from sbcd by status: " + (", ".join(
            "%d=%d" % kv for kv in sorted(self.answers.items())) or "none"))
        if self.tcp_errors:
            lines.append("  tcp connections refused or reset early: %d" % self.tcp_errors)
        return "\n".join(lines)


# ------------------------------------------------------------- the checks

def options_ok(port, transport):
    """A valid OPTIONS to sbcd: the status of its final answer, or None."""
    branch = "z9hG4bK%x" % random.getrandbits(48)
    for attempt in range(3):
        if transport == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LOCAL_IP, 0))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(3)
            try:
                s.connect((LOCAL_IP, port))
            except OSError:
                s.close()
                time.sleep(0.5)
                continue
        me = "%s:%d" % s.getsockname()
        msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:probe@%s>;tag=%x\r\n"
               "To: <sip:%s:%d>\r\n"
               "Call-ID: %x@probe\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n"
               % (LOCAL_IP, port, transport.upper(), me, branch, me,
                  random.getrandbits(32), LOCAL_IP, port, random.getrandbits(64))).encode()
        try:
            if transport == "udp":
                s.sendto(msg, (LOCAL_IP, port))
            else:
                s.sendall(msg)
            deadline = time.time() + 3
            buf = b""
            while time.time() < deadline:
                r, _, _ = select.select([s], [], [], deadline - time.time())
                if not r:
                    break
                data = s.recv(70000)
                if not data:
                    break
                buf += data
                m = re.search(rb"SIP/2\.0 ([2-6]\d\d) ", buf)
                if m:
                    return int(m.group(1))
        except OSError:
            pass
        finally:
            s.close()
    return None


class HostileRunner(sipp_run.Runner):
    """run.py's Runner, with the hostile corpus sent while the UAC runs."""

    def run_uac(self):
        self.hostile = Hostile(self.sbc_port, self.a.seed, self.a.mutations)
        errors = []

        def go():
            time.sleep(1.0)  # let the calls start flowing first
            try:
                self.hostile.run()
            except Exception as e:  # a bug of the test, reported below
                errors.append("hostile sender: %r" % e)
        t = threading.Thread(target=go)
        t.start()
        sipp_run.Runner.run_uac(self)
        t.join()
        print(self.hostile.summary(), flush=True)
        self.problems.extend(errors)
        self.problems.extend("hostile sender thread failed: " + c
                             for c in self.hostile.crashed)
        for e in self.hostile.errors[:5]:
            sipp_run.log("hostile: " + e)
        if not self.sbcd.alive():
            self.problems.append("sbcd died under the hostile corpus (rc=%s)"
                                 % self.sbcd.proc.returncode)
            return
        for tp in ("udp", "tcp"):
            code = options_ok(self.sbc_port, tp)
            self.report.append("OPTIONS over %s after the corpus: %s" % (tp, code))
            if code != 200:
                self.problems.append("a valid OPTIONS over %s after the corpus got %s "
                                     "(want 200)" % (tp, code))
        if not self.sbcd.alive():
            self.problems.append("sbcd died after the hostile corpus")

    def stop_sbcd(self):
        sipp_run.Runner.stop_sbcd(self)
        text = open(self.sbcd.stderr_path, errors="replace").read()
        bad = [l for l in text.splitlines()
               if "Sanitizer" in l or "runtime error" in l or "Assertion" in l
               or "assertion" in l]
        if bad:
            self.problems.append("sbcd log has a sanitizer or assertion report: %s" % bad[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sbcd", required=True)
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--hold-ms", type=int, default=1000)
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("HOSTILE_SEED", "20261124")))
    ap.add_argument("--mutations", type=int, default=300,
                    help="random mutants of valid messages in the corpus (300)")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--corpus-only", action="store_true",
                    help="print the corpus statistics and exit (no sbcd, no SIPp)")
    opts = ap.parse_args()
    if opts.corpus_only:
        g = Gen(opts.seed, opts.mutations)
        dropped = g.generate()
        kinds = {}
        for k, tp, d in g.items:
            kinds[k] = kinds.get(k, 0) + 1
        print("%d messages, %d dropped: %s" % (len(g.items), dropped, kinds))
        return 0
    args = sipp_run.parse_args(
        ["--sbcd", opts.sbcd, "--sipp", opts.sipp, "--scenario", "basic",
         "--calls", str(opts.calls), "--rate", "%g" % opts.rate,
         "--hold-ms", str(opts.hold_ms), "--track-counts", "--expect-clean-log",
         "--drain-timeout", "10"])
    args.seed = opts.seed
    args.mutations = opts.mutations
    args.sbcd = os.path.abspath(args.sbcd)
    args.scenario_dir = os.path.abspath(args.scenario_dir)
    created = not opts.workdir
    workdir = os.path.abspath(opts.workdir) if opts.workdir else \
        tempfile.mkdtemp(prefix="sbc-hostile-")
    os.makedirs(workdir, exist_ok=True)
    print("hostile: seed %d (HOSTILE_SEED=%d replays it), work dir %s"
          % (opts.seed, opts.seed, workdir), flush=True)

    def verdict(rc):
        print("%s hostile: seed %d, %d calls with the corpus sent during them"
              % ("PASS" if rc == 0 else "FAIL", opts.seed, opts.calls), flush=True)

    return sipp_run.execute(HostileRunner(args), workdir, created, opts.keep, "hostile",
                            verdict)


if __name__ == "__main__":
    sys.exit(main())
