#!/usr/bin/env python3
"""Edge cases of sbcd's call handling, driven by hand-written SIP messages.

SIPp scenarios cover call flows under load; these tests check what SIPp
cannot arrange exactly: a 200 that crosses a CANCEL, admission answers
(404, 420, 483, 503 + Retry-After, 405, 481), topology hiding, reload with
calls up, shutdown with calls up, the reaper. Each test starts its own sbcd
on free loopback ports and plays caller (UAC) and callee (UAS) itself over
UDP.

usage: sip_edge.py --sbcd PATH TEST   (TEST = a name below, or "all")
"""
import contextlib
import signal
import socket
import sys
import time

from harness import (Callee, Caller, Msg, SDP, Sbcd, UA, answer, command_line,
                     established_call, final_for, free_port, request, run_tests,
                     running, status, tests_in)


@contextlib.contextmanager
def rig(binary, wd, **kw):
    """The usual test bench: a callee and a caller endpoint on free ports
    and an sbcd routing to the callee, all stopped and checked by running()."""
    uas = UA(free_port())
    uac = UA(free_port())
    sbc = Sbcd(binary, uas.port, wd, **kw)
    with running(sbc, uas, uac):
        yield sbc, uas, uac


# --------------------------------------------------------------------------
# Tests. Each gets (sbcd binary, work dir) and raises AssertionError on failure.


def test_admission(binary, wd):
    """OPTIONS 200, 405, 404, 483, 420 and an unknown dialog's 481."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        c.send("OPTIONS")
        ok = uac.recv(final_for("OPTIONS"))
        assert ok.status == 200 and "INVITE" in ok.get("allow"), ok.raw
        c.send("REGISTER")
        r = uac.recv(final_for("REGISTER"))
        assert r.status == 405 and r.get("allow"), r.raw
        Caller(uac, sbc.port, number="999").invite()
        r = uac.recv(final_for("INVITE"))
        assert r.status == 404, r.raw
        c.invite()  # reaches the callee; finished below as a busy call
        c2 = Caller(uac, sbc.port)
        text = c2._req("INVITE", 1, body=SDP).replace("Max-Forwards: 70", "Max-Forwards: 0")
        uac.send(text, sbc.port)
        r = uac.recv(lambda m: m.status == 483)
        assert r.get("call-id") == c2.call_id, r.raw
        c3 = Caller(uac, sbc.port)
        c3.invite(extra="Require: 100rel\r\nSupported: 100rel\r\n")
        r = uac.recv(lambda m: m.status == 420)
        assert "100rel" in (r.get("unsupported") or ""), r.raw
        # BYE for a dialog that does not exist.
        c4 = Caller(uac, sbc.port)
        c4.remote_tag = "nosuchtag"
        c4.bye()
        r = uac.recv(final_for("BYE"))
        assert r.status == 481, r.raw
        # The first INVITE (c) reached the callee: finish it as a busy call.
        callee = Callee(uas)
        callee.take_invite()
        callee.respond(486, "Busy Here")
        r = uac.recv(lambda m: m.status == 486)
        c.ack(r)
        ack = uas.recv(request("ACK"))
        assert ack.get("call-id") == callee.invite.get("call-id")
        sbc.wait_idle()


def test_topology(binary, wd):
    """Leg B has its own Call-ID, tags, Contact and Via; MF decremented."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        c.invite(extra="P-Asserted-Identity: <sip:2000@pbx.example>\r\n")
        inv = callee.take_invite()
        assert inv.get("call-id") != c.call_id, inv.raw
        assert c.tag not in inv.get("from"), inv.raw
        assert str(uac.port) not in inv.raw, "caller address leaked:\n" + inv.raw
        assert f"127.0.0.1:{sbc.port}" in inv.get("contact"), inv.raw
        assert len(inv.all("via")) == 1, inv.raw
        assert inv.get("max-forwards") == "69", inv.raw
        assert inv.get("p-asserted-identity") == "<sip:2000@pbx.example>", inv.raw
        assert inv.body == SDP, inv.body
        assert '"Alice"' in inv.get("from"), inv.raw
        callee.respond(200, "OK", body=SDP)
        ok = uac.recv(status(200, "INVITE"))
        assert str(uas.port) not in ok.raw, "callee address leaked:\n" + ok.raw
        assert f"127.0.0.1:{sbc.port}" in ok.get("contact"), ok.raw
        assert ok.body == SDP
        c.ack(ok)
        uas.recv(request("ACK"))
        # INFO in dialog from the caller reaches the callee with its body.
        c.send("INFO", extra="Content-Type: application/dtmf-relay\r\n",
               body="Signal=5\r\nDuration=160\r\n")
        info = uas.recv(request("INFO"))
        assert info.body == "Signal=5\r\nDuration=160\r\n", info.raw
        assert info.get("call-id") == inv.get("call-id")
        callee.respond(200, "OK", req=info)
        uac.recv(status(200, "INFO"))
        callee.bye(sbc.port)
        bye = uac.recv(request("BYE"))
        answer(uac, bye, 200, "OK")
        uas.recv(status(200, "BYE"))
        sbc.wait_idle()


def test_cancel_crossing_200(binary, wd):
    """The callee's 200 crosses the caller's CANCEL: B gets ACK then BYE."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        c.invite()
        callee.take_invite()
        callee.respond(180, "Ringing")
        uac.recv(status(180, "INVITE"))
        assert sbc.counts()["AGGREGATE"] == 1
        c.cancel()
        cancel = uas.recv(request("CANCEL"))
        # The callee answers the INVITE before it sees the CANCEL.
        callee.respond(200, "OK", body=SDP)
        answer(uas, cancel, 200, "OK")
        uac.recv(status(200, "CANCEL"))
        r = uac.recv(final_for("INVITE"))
        assert r.status == 487, r.raw
        c.ack(r)
        ack = uas.recv(request("ACK"))
        assert ack.get("cseq").endswith("ACK")
        bye = uas.recv(request("BYE"))
        answer(uas, bye, 200, "OK")
        c2 = sbc.wait_idle()
        assert c2["early"] == 0 and c2["confirmed"] == 0, c2
        leftovers = [m for m in uac.quiet(0.5) if m.status not in (100, 487)]
        assert not leftovers, leftovers


def test_threshold(binary, wd):
    """max-calls 1: the second INVITE gets 503 + Retry-After; OPTIONS 200."""
    with rig(binary, wd, threshold="call threshold global max-calls 1\n") as (sbc, uas, uac):
        c1 = Caller(uac, sbc.port)
        callee = Callee(uas)
        established_call(c1, callee)
        c2 = Caller(uac, sbc.port)
        c2.invite()
        r = uac.recv(lambda m: m.get("call-id") == c2.call_id and m.status >= 200)
        assert r.status == 503 and r.get("retry-after"), r.raw
        c2.ack(r)
        c3 = Caller(uac, sbc.port)
        c3.send("OPTIONS")
        assert uac.recv(final_for("OPTIONS")).status == 200
        assert sbc.counts()["AGGREGATE"] == 1
        c1.bye()
        bye = uas.recv(request("BYE"))
        answer(uas, bye, 200, "OK")
        uac.recv(status(200, "BYE"))
        sbc.wait_idle()
        # Below the threshold again: a new call goes through.
        c4 = Caller(uac, sbc.port)
        established_call(c4, Callee(uas))
        c4.bye()
        answer(uas, uas.recv(request("BYE")), 200, "OK")
        uac.recv(status(200, "BYE"))
        sbc.wait_idle()


def test_reload(binary, wd):
    """SIGHUP moves new calls to a new target; the call up stays up; a bad
    file keeps the old config."""
    uas1 = UA(free_port())
    uas2 = UA(free_port())
    uac = UA(free_port())
    sbc = Sbcd(binary, uas1.port, wd)
    with running(sbc, uas1, uas2, uac, allowed=("%SBC-3-CONFIG", "%SBC-3-RELOAD")):
        c1 = Caller(uac, sbc.port)
        callee1 = Callee(uas1)
        established_call(c1, callee1)
        start = len(sbc.text())
        sbc.write_config(uas_port=uas2.port)
        sbc.proc.send_signal(signal.SIGHUP)
        sbc.wait_log("%SBC-5-RELOAD", 5, start)
        c2 = Caller(uac, sbc.port)
        callee2 = Callee(uas2)
        established_call(c2, callee2)
        assert sbc.counts()["AGGREGATE"] == 2
        # A broken file: logged, old config (uas2) kept.
        start = len(sbc.text())
        with open(sbc.conf) as f:
            text = f.read()
        with open(sbc.conf, "w") as f:
            f.write(text.replace("\nend\n", "\nthis is not a command\nend\n"))
        sbc.proc.send_signal(signal.SIGHUP)
        text = sbc.wait_log("not reloaded", 5, start)
        assert "unknown command" in text[start:], text[start:]
        c3 = Caller(uac, sbc.port)
        established_call(c3, Callee(uas2))
        # The first call still works end to end.
        c1.send("INFO", extra="Content-Type: application/dtmf-relay\r\n",
                body="Signal=1\r\n")
        info = uas1.recv(request("INFO"))
        callee1.respond(200, "OK", req=info)
        uac.recv(status(200, "INFO"))
        for c, ua in ((c1, uas1), (c2, uas2), (c3, uas2)):
            c.bye()
            answer(ua, ua.recv(request("BYE")), 200, "OK")
            uac.recv(lambda m, c=c: m.status == 200 and m.get("call-id") == c.call_id)
        sbc.wait_idle()


def test_shutdown_drain(binary, wd):
    """SIGTERM: new INVITEs 503, OPTIONS 200, the call up may finish, exit 0."""
    with rig(binary, wd) as (sbc, uas, uac):
        c1 = Caller(uac, sbc.port)
        established_call(c1, Callee(uas))
        sbc.proc.send_signal(signal.SIGTERM)
        sbc.wait_log("%SBC-5-SHUTDOWN", 5)
        c2 = Caller(uac, sbc.port)
        c2.invite()
        r = uac.recv(lambda m: m.get("call-id") == c2.call_id and m.status >= 200)
        assert r.status == 503 and r.get("retry-after"), r.raw
        c2.ack(r)
        Caller(uac, sbc.port).send("OPTIONS")
        assert uac.recv(final_for("OPTIONS")).status == 200
        time.sleep(0.5)
        assert sbc.proc.poll() is None, "sbcd left before the call ended"
        c1.bye()
        answer(uas, uas.recv(request("BYE")), 200, "OK")
        uac.recv(status(200, "BYE"))
        sbc.proc.wait(10)  # it leaves by itself


def test_shutdown_grace_expires(binary, wd):
    """SIGTERM with a call that does not end: after the grace period sbcd
    sends BYE to both sides and exits 0."""
    with rig(binary, wd, grace=1) as (sbc, uas, uac):
        c1 = Caller(uac, sbc.port)
        established_call(c1, Callee(uas))
        sbc.proc.send_signal(signal.SIGTERM)
        bye_a = uac.recv(request("BYE"), 5)
        bye_b = uas.recv(request("BYE"), 5)
        answer(uac, bye_a, 200, "OK")
        answer(uas, bye_b, 200, "OK")
        sbc.proc.wait(10)  # it leaves by itself


def test_noanswer_and_reaper(binary, wd):
    """The no-answer timer (408 to A, CANCEL to B) and the reaper (BYE to
    both sides of a call older than call max-duration)."""
    with rig(binary, wd, expires_ms=1000, max_duration=60) as (sbc, uas, uac):
        c1 = Caller(uac, sbc.port)
        established_call(c1, Callee(uas))
        started = time.time()
        c2 = Caller(uac, sbc.port)
        callee2 = Callee(uas)
        c2.invite()
        callee2.take_invite()
        callee2.respond(180, "Ringing")
        cancel = uas.recv(request("CANCEL"), 5)
        answer(uas, cancel, 200, "OK")
        callee2.respond(487, "Request Terminated")
        uas.recv(request("ACK"))
        r = uac.recv(lambda m: m.get("call-id") == c2.call_id and m.status >= 200)
        assert r.status == 408, r.raw
        c2.ack(r)
        assert sbc.counts()["AGGREGATE"] == 1
        bye_a = uac.recv(request("BYE"), 75)
        bye_b = uas.recv(request("BYE"), 5)
        age = time.time() - started
        assert 59 <= age <= 62, age
        answer(uac, bye_a, 200, "OK")
        answer(uas, bye_b, 200, "OK")
        sbc.wait_idle()
        assert "%SBC-5-CALL_REAPED" in sbc.text()


def test_vgw(binary, wd):
    """A call to a pots dial-peer goes to the voice gateway and counts as
    VGW, not in the aggregate; a voip call beside it counts as Standard."""
    uas = UA(free_port())
    gw = UA(free_port())
    uac = UA(free_port())
    extra = (f"voice-gateway ipv4:127.0.0.1:{gw.port} udp\n!\n"
             "dial-peer voice 300 pots\n destination-pattern 2...$\n port 0/1/0\n!\n")
    sbc = Sbcd(binary, uas.port, wd, extra=extra)
    with running(sbc, uas, gw, uac):
        c1 = Caller(uac, sbc.port, number="2001")
        gw_callee = Callee(gw)
        established_call(c1, gw_callee)
        assert gw_callee.invite.first.startswith("INVITE sip:2001@127.0.0.1:"), gw_callee.invite
        c = sbc.counts()
        assert (c["VGW"], c["AGGREGATE"], c["STANDARD"]) == (1, 0, 0), c
        c2 = Caller(uac, sbc.port)
        established_call(c2, Callee(uas))
        c = sbc.counts()
        assert (c["VGW"], c["AGGREGATE"], c["STANDARD"]) == (1, 1, 1), c
        # 20011 is longer than 2...$ allows and matches nothing: 404.
        Caller(uac, sbc.port, number="20011").invite()
        assert uac.recv(final_for("INVITE")).status == 404
        for caller, ua in ((c1, gw), (c2, uas)):
            caller.bye()
            answer(ua, ua.recv(request("BYE")), 200, "OK")
            uac.recv(lambda m, c=caller: m.status == 200 and m.get("call-id") == c.call_id)
        sbc.wait_idle()


def test_reinvite_no_ack(binary, wd):
    """A re-INVITE's 200 that the caller never ACKs: after 32 s sbcd ACKs
    the callee and ends the call on both sides (and keeps running)."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        established_call(c, callee)
        c.send("INVITE", body=SDP)
        reinv = uas.recv(request("INVITE"))
        callee.respond(200, "OK", body=SDP, req=reinv)
        uac.recv(status(200, "INVITE"))
        ack = uas.recv(request("ACK"), 40)
        assert ack.get("cseq").split()[0] == reinv.get("cseq").split()[0], ack.raw
        bye_b = uas.recv(request("BYE"), 5)
        bye_a = uac.recv(request("BYE"), 5)
        answer(uas, bye_b, 200, "OK")
        answer(uac, bye_a, 200, "OK")
        sbc.wait_idle()
        assert sbc.proc.poll() is None, "sbcd died"


def test_answer_with_new_tag(binary, wd):
    """183 with one To-tag, 200 with another (early media, then the real
    callee): the dialog with B follows the 200, so B's BYE ends the call."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        c.invite()
        callee.take_invite()
        callee.tag = "early1"
        callee.respond(183, "Session Progress", body=SDP)
        uac.recv(status(183, "INVITE"))
        callee.tag = "answer2"
        callee.respond(200, "OK", body=SDP)
        ok = uac.recv(status(200, "INVITE"))
        c.ack(ok)
        ack = uas.recv(request("ACK"))
        assert "tag=answer2" in ack.get("to"), ack.raw
        callee.bye(sbc.port)
        assert uas.recv(final_for("BYE")).status == 200
        bye = uac.recv(request("BYE"))
        answer(uac, bye, 200, "OK")
        sbc.wait_idle()


def test_reinvite_cancel_crossing_200(binary, wd):
    """The caller cancels its re-INVITE while the callee answers it 200:
    the callee still gets its ACK, and a later re-INVITE goes through."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        established_call(c, callee)
        c.send("INVITE", body=SDP)
        reinv_cseq = c.cseq - 1
        reinv_branch = c.branch
        reinv = uas.recv(request("INVITE"))
        # A CANCEL may only follow a provisional (RFC 3261 9.1).
        callee.respond(100, "Trying", req=reinv)
        c.ua.send(c._req("CANCEL", reinv_cseq, branch=reinv_branch), sbc.port)
        uac.recv(status(200, "CANCEL"))
        r = uac.recv(final_for("INVITE"))
        assert r.status == 487, r.raw
        c.ua.send(c._req("ACK", reinv_cseq, branch=reinv_branch), sbc.port)
        cancel = uas.recv(request("CANCEL"))
        callee.respond(200, "OK", body=SDP, req=reinv)
        answer(uas, cancel, 200, "OK")
        ack = uas.recv(request("ACK"), 5)
        assert ack.get("cseq").split()[0] == reinv.get("cseq").split()[0], ack.raw
        # No re-INVITE is stuck: the next one is relayed, not refused 491.
        c.send("INVITE", body=SDP)
        reinv2 = uas.recv(request("INVITE"))
        callee.respond(200, "OK", body=SDP, req=reinv2)
        uac.recv(status(200, "INVITE"))
        c.ua.send(c._req("ACK", c.cseq - 1), sbc.port)
        uas.recv(request("ACK"))
        c.bye()
        answer(uas, uas.recv(request("BYE")), 200, "OK")
        uac.recv(status(200, "BYE"))
        sbc.wait_idle()


def test_auth_and_privacy_pass(binary, wd):
    """A carrier's digest challenge works through sbcd: the credentials of
    the retried INVITE reach the callee, and so does Privacy."""
    with rig(binary, wd) as (sbc, uas, uac):
        c = Caller(uac, sbc.port)
        callee = Callee(uas)
        c.invite(extra="Privacy: id\r\n")
        inv = callee.take_invite()
        assert inv.get("privacy") == "id", inv.raw
        callee.respond(407, "Proxy Authentication Required",
                       extra='Proxy-Authenticate: Digest realm="carrier", nonce="abc"\r\n')
        r = uac.recv(final_for("INVITE"))
        assert r.status == 407 and "carrier" in (r.get("proxy-authenticate") or ""), r.raw
        c.ack(r)
        uas.recv(request("ACK"))
        c.remote_tag = None
        c.invite(extra='Proxy-Authorization: Digest username="pbx", realm="carrier", '
                       'nonce="abc", uri="sip:15551234@carrier", response="0123"\r\n')
        inv2 = callee.take_invite()
        assert 'username="pbx"' in (inv2.get("proxy-authorization") or ""), inv2.raw
        callee.respond(486, "Busy Here")
        r = uac.recv(lambda m: m.status == 486)
        c.ack(r)
        uas.recv(request("ACK"))
        sbc.wait_idle()


def test_flood_503(binary, wd):
    """A flood of INVITEs to a callee that never answers: once 10,000
    transactions wait for an answer, the stack answers 503 instead of
    queueing more; the rest end with 408 (no-answer timer) and the counts
    drain to 0."""
    import threading
    total = 13000
    uas = UA(free_port())   # never reads: every INVITE to it goes unanswered
    uac = UA(free_port())
    uac.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sbc = Sbcd(binary, uas.port, wd, expires_ms=12000, grace=1)
    finals = {}
    done = threading.Event()

    def collect():
        uac.sock.settimeout(0.2)
        while not done.is_set():
            try:
                data, _ = uac.sock.recvfrom(70000)
            except socket.timeout:
                continue
            m = Msg(data)
            if m.status and m.status >= 200:
                finals.setdefault(m.get("call-id"), m.status)

    with running(sbc, uas, uac):
        reader = threading.Thread(target=collect)
        reader.start()
        try:
            t0 = time.time()
            for i in range(total):
                c = Caller(uac, sbc.port)
                c.invite()
                if i % 500 == 499:  # about 5,000 INVITEs a second
                    time.sleep(max(0, t0 + (i + 1) / 5000 - time.time()))
            peak = sbc.counts()["AGGREGATE"]
            deadline = time.time() + 40
            while time.time() < deadline:
                if sbc.counts()["AGGREGATE"] == 0:
                    break
                time.sleep(0.5)
            time.sleep(1)
        finally:
            done.set()
            reader.join()
        by_status = {}
        for st in finals.values():
            by_status[st] = by_status.get(st, 0) + 1
        print(f"flood: {total} INVITEs, peak {peak} counted, finals {by_status}")
        assert sbc.counts()["AGGREGATE"] == 0, sbc.counts()
        assert by_status.get(503, 0) > 0, by_status
        assert by_status.get(408, 0) > 0, by_status
        assert set(by_status) <= {408, 503}, by_status
        assert peak <= 10000, peak
        assert sbc.proc.poll() is None, "sbcd died"


TESTS = tests_in(globals())


def main():
    args = command_line(__doc__, TESTS)
    return run_tests(TESTS, args.test, lambda fn, wd: fn(args.sbcd, wd), "sbc-edge")


if __name__ == "__main__":
    sys.exit(main())
