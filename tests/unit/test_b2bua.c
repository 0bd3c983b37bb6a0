/*
 * The B2BUA's management queries against the real SIP thread:
 * sbc_b2bua_snapshot(), sbc_b2bua_clear_call() and the SIP message
 * counters (docs/internals/callview.md, docs/internals/sipstats.md).
 *
 * A caller and a callee are two UDP sockets on 127.0.0.1 with ports the
 * kernel chose; sbcd listens on a port found free the same way. The test
 * plays their SIP messages by hand, so every message the B2BUA sends is
 * seen and each counter can be predicted exactly.
 */
#include "sbc/b2bua.h"

#include "common/clk.h"
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG_MAX 8192
#define WAIT_MS 5000

/* One endpoint: a UDP socket on 127.0.0.1. */
struct ua {
	int fd;
	unsigned port;
	char last[MSG_MAX]; /* the last message taken by ua_expect() */
};

static unsigned bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void ua_open(struct ua *u)
{
	struct sockaddr_in sin;

	memset(u, 0, sizeof(*u));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(u->fd, 0);
	ck_assert_int_eq(bind(u->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	u->port = bound_port(u->fd);
}

/* A port that was free on UDP 127.0.0.1 a moment ago, for sbcd. */
static unsigned free_port(void)
{
	struct ua probe;
	unsigned port;

	ua_open(&probe);
	port = probe.port;
	close(probe.fd);
	return port;
}

static void ua_send(struct ua *u, unsigned to_port, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ua_send(struct ua *u, unsigned to_port, const char *fmt, ...)
{
	char buf[MSG_MAX];
	struct sockaddr_in sin;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)to_port);
	ck_assert_int_eq(sendto(u->fd, buf, (size_t)n, 0,
				(struct sockaddr *)&sin, sizeof(sin)),
			 n);
}

/*
 * Receive until a message whose first line starts with `start` and whose
 * CSeq header contains `cseq` (NULL: any) arrives; others (retransmissions)
 * are dropped. Fails after WAIT_MS.
 */
static const char *ua_expect(struct ua *u, const char *start,
			     const char *cseq)
{
	int64_t until = clk_mono_ms() + WAIT_MS;
	struct pollfd p = {.fd = u->fd, .events = POLLIN};
	ssize_t n;

	for (;;) {
		int left = (int)(until - clk_mono_ms());

		ck_assert_msg(left > 0, "no '%s' (%s) within %d ms", start,
			      cseq ? cseq : "*", WAIT_MS);
		if (poll(&p, 1, left) <= 0)
			continue;
		n = recv(u->fd, u->last, sizeof(u->last) - 1, 0);
		ck_assert_int_gt(n, 0);
		u->last[n] = '\0';
		if (strncmp(u->last, start, strlen(start)) != 0)
			continue;
		if (cseq && !strstr(u->last, cseq))
			continue;
		return u->last;
	}
}

/* The value of header `name` in msg (first occurrence), or "". */
static const char *header(const char *msg, const char *name, char *out,
			  size_t len)
{
	const char *p = msg;
	size_t nlen = strlen(name), vlen;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ')
				p++;
			vlen = strcspn(p, "\r\n");
			if (vlen >= len)
				vlen = len - 1;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			break;
		}
	}
	return out;
}

/* Answer the request in u->last with `status_line`, adding a To-tag. */
static void ua_respond(struct ua *u, unsigned to_port, const char *status_line,
		       const char *to_tag)
{
	char via[512], from[256], to[256], cid[256], cseq[64];

	header(u->last, "Via", via, sizeof(via));
	header(u->last, "From", from, sizeof(from));
	header(u->last, "To", to, sizeof(to));
	header(u->last, "Call-ID", cid, sizeof(cid));
	header(u->last, "CSeq", cseq, sizeof(cseq));
	ua_send(u, to_port,
		"SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s%s\r\n"
		"Call-ID: %s\r\nCSeq: %s\r\n"
		"Contact: <sip:127.0.0.1:%u>\r\nContent-Length: 0\r\n\r\n",
		status_line, via, from, to,
		to_tag && !strstr(to, "tag=") ? ";tag=" : "",
		to_tag && !strstr(to, "tag=") ? to_tag : "", cid, cseq,
		u->port);
}

/* A branch from a Call-ID: its part before '@' ('@' is not a token char). */
#define BRANCH(call_id) (int)strcspn(call_id, "@"), call_id

/* The caller's INVITE to `number` through sbcd. */
static void caller_invite(struct ua *c, unsigned sbc, const char *number,
			  const char *call_id)
{
	ua_send(c, sbc,
		"INVITE sip:%s@127.0.0.1:%u SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%.*s\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:4085550100@127.0.0.1>;tag=a1\r\n"
		"To: <sip:%s@127.0.0.1>\r\n"
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@127.0.0.1:%u>\r\n"
		"Content-Length: 0\r\n\r\n",
		number, sbc, c->port, BRANCH(call_id), number, call_id,
		c->port);
}

/* An ACK from the caller: for a 2xx a new branch, else the INVITE's. */
static void caller_ack(struct ua *c, unsigned sbc, const char *number,
		       const char *call_id, const char *final, bool is_2xx)
{
	char to[256];

	header(final, "To", to, sizeof(to));
	ua_send(c, sbc,
		"ACK sip:%s@127.0.0.1:%u SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%.*s%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:4085550100@127.0.0.1>;tag=a1\r\n"
		"To: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
		"Content-Length: 0\r\n\r\n",
		number, sbc, c->port, BRANCH(call_id), is_2xx ? "-ack" : "",
		to, call_id);
}

/* ---------------------------------------------------------------------- */
/* The rig: sbcd on a free port, routing 1T to the callee. */

struct rig {
	struct ua caller, callee;
	unsigned sbc_port;
	struct sbc_counters *counters;
	struct sbc_b2bua *b;
};

static void rig_start(struct rig *r)
{
	char text[1024], err[256];
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	int tries;

	ua_open(&r->caller);
	ua_open(&r->callee);
	r->counters = sbc_counters_new();
	ck_assert_ptr_nonnull(r->counters);
	for (tries = 0; tries < 5 && r->b == NULL; tries++) {
		r->sbc_port = free_port();
		snprintf(text, sizeof(text),
			 "hostname unit\n!\nvoice service voip\n"
			 " mode border-element\n sip\n"
			 "  listen udp 127.0.0.1 %u\n!\n"
			 "dial-peer voice 100 voip\n"
			 " incoming called-number .T\n!\n"
			 "dial-peer voice 200 voip\n"
			 " destination-pattern 1T\n"
			 " session target ipv4:127.0.0.1:%u\n"
			 " session transport udp\n!\nend\n",
			 r->sbc_port, r->callee.port);
		cfg = sbc_config_parse("unit.cfg", text, err, sizeof(err));
		ck_assert_msg(cfg != NULL, "%s", err);
		dp = sbc_dptable_new(cfg, err, sizeof(err));
		ck_assert_msg(dp != NULL, "%s", err);
		/* The port may have been taken since: try another. */
		r->b = sbc_b2bua_start(cfg, dp, r->counters, err, sizeof(err));
	}
	ck_assert_msg(r->b != NULL, "sbcd did not start: %s", err);
}

static void rig_stop(struct rig *r)
{
	sbc_b2bua_stop(&r->b, 500);
	ck_assert_ptr_null(r->b);
	sbc_counters_free(&r->counters);
	close(r->caller.fd);
	close(r->callee.fd);
}

/* Wait until sbcd holds no call object any more. */
static void wait_no_calls(struct rig *r)
{
	int64_t until = clk_mono_ms() + WAIT_MS;

	while (sbc_b2bua_calls(r->b) != 0) {
		ck_assert_msg(clk_mono_ms() < until, "calls linger");
		usleep(10000);
	}
}

/* One snapshot that must succeed, with exactly `want` calls. */
static struct sbc_call_view *snap(struct rig *r, size_t want)
{
	struct sbc_call_view *v = NULL;
	size_t n = 99;
	char err[256] = "";

	ck_assert_msg(sbc_b2bua_snapshot(r->b, &v, &n, err, sizeof(err)) == 0,
		      "snapshot: %s", err);
	ck_assert_uint_eq(n, want);
	if (want == 0)
		ck_assert_ptr_null(v);
	return v;
}

static void expect_stat(struct rig *r, const char *section, const char *name,
			uint64_t in, uint64_t out)
{
	const struct sbc_sipstats *s = sbc_b2bua_sipstats(r->b);
	uint64_t gi = 0, go = 0;
	size_t i;

	for (i = 0; i < sbc_sipstats_nrows(); i++) {
		const struct sbc_sipstats_row *row = sbc_sipstats_row(i);

		if (strcmp(row->section, section) == 0 &&
		    strcmp(row->name, name) == 0)
			break;
	}
	ck_assert_uint_lt(i, sbc_sipstats_nrows());
	sbc_sipstats_value(s, i, &gi, &go);
	ck_assert_msg(gi == in && go == out,
		      "%s/%s: got %llu/%llu, want %llu/%llu", section, name,
		      (unsigned long long)gi, (unsigned long long)go,
		      (unsigned long long)in, (unsigned long long)out);
}

/* Caller INVITEs, callee rings: returns with the INVITE in callee.last. */
static void ringing_call(struct rig *r, const char *call_id)
{
	caller_invite(&r->caller, r->sbc_port, "15551234", call_id);
	ua_expect(&r->caller, "SIP/2.0 100", "INVITE");
	ua_expect(&r->callee, "INVITE ", NULL);
	ua_respond(&r->callee, r->sbc_port, "180 Ringing", "b1");
	ua_expect(&r->caller, "SIP/2.0 180", "INVITE");
}

/* ---------------------------------------------------------------------- */
/* Tests */

UNIT_TCASE("queries", .timeout = 30);

UNIT_TEST(test_no_calls)
{
	struct rig r = {0};
	char err[256] = "";

	rig_start(&r);
	snap(&r, 0);
	ck_assert_int_eq(sbc_b2bua_clear_call(r.b, 12345, err, sizeof(err)),
			 1);
	ck_assert_str_eq(err, "no active call with id 3039");
	sbc_b2bua_snapshot_free(NULL);
	rig_stop(&r);
}
END_TEST

/* Ringing, then answered, then cleared by the operator: BYE both ways. */
UNIT_TEST(test_snapshot_and_clear_answered)
{
	struct rig r = {0};
	struct sbc_call_view *v;
	char err[256] = "", want[64], invite_b[MSG_MAX];
	int64_t before = clk_wall_ms();
	uint64_t id;

	rig_start(&r);
	ringing_call(&r, "call-1@unit");
	memcpy(invite_b, r.callee.last, sizeof(invite_b));

	v = snap(&r, 1);
	id = v[0].id;
	ck_assert_uint_gt(id, 0);
	ck_assert_int_eq(v[0].state, SBC_CALLVIEW_ALERTING);
	ck_assert(v[0].counted);
	ck_assert_int_eq(v[0].cls, SBC_CLASS_STANDARD);
	ck_assert_uint_eq(v[0].in_peer, 100);
	ck_assert_uint_eq(v[0].out_peer, 200);
	ck_assert_str_eq(v[0].calling, "4085550100");
	ck_assert_str_eq(v[0].called, "15551234");
	ck_assert_int_ge(v[0].start_wall_ms, before);
	ck_assert_int_eq(v[0].connect_wall_ms, 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", r.caller.port);
	ck_assert_str_eq(v[0].leg[SBC_CALLVIEW_LEG_A].remote, want);
	ck_assert_str_eq(v[0].leg[SBC_CALLVIEW_LEG_A].call_id, "call-1@unit");
	ck_assert_int_eq(v[0].leg[SBC_CALLVIEW_LEG_A].transport, SBC_TP_UDP);
	snprintf(want, sizeof(want), "127.0.0.1:%u", r.callee.port);
	ck_assert_str_eq(v[0].leg[SBC_CALLVIEW_LEG_B].remote, want);
	/* leg B's Call-ID is sbcd's own, the one the callee saw */
	header(invite_b, "Call-ID", want, sizeof(want));
	ck_assert_str_eq(v[0].leg[SBC_CALLVIEW_LEG_B].call_id, want);
	sbc_b2bua_snapshot_free(&v);
	ck_assert_ptr_null(v);

	/* answer */
	memcpy(r.callee.last, invite_b, sizeof(invite_b));
	ua_respond(&r.callee, r.sbc_port, "200 OK", "b1");
	ua_expect(&r.caller, "SIP/2.0 200", "INVITE");
	caller_ack(&r.caller, r.sbc_port, "15551234", "call-1@unit",
		   r.caller.last, true);
	ua_expect(&r.callee, "ACK ", NULL);
	v = snap(&r, 1);
	ck_assert_uint_eq(v[0].id, id);
	ck_assert_int_eq(v[0].state, SBC_CALLVIEW_ACTIVE);
	ck_assert_int_ge(v[0].connect_wall_ms, v[0].start_wall_ms);
	sbc_b2bua_snapshot_free(&v);

	/* clear: both sides get a BYE; the call object goes once answered */
	ck_assert_msg(sbc_b2bua_clear_call(r.b, id, err, sizeof(err)) == 0,
		      "%s", err);
	ua_expect(&r.caller, "BYE ", NULL);
	ua_respond(&r.caller, r.sbc_port, "200 OK", NULL);
	ua_expect(&r.callee, "BYE ", NULL);
	ua_respond(&r.callee, r.sbc_port, "200 OK", NULL);
	wait_no_calls(&r);
	snap(&r, 0);
	ck_assert_int_eq(sbc_b2bua_clear_call(r.b, id, err, sizeof(err)), 1);

	/* every message above, counted once, by direction */
	expect_stat(&r, "requests", "Invite", 1, 1);
	expect_stat(&r, "requests", "Ack", 1, 1);
	expect_stat(&r, "requests", "Bye", 0, 2);
	expect_stat(&r, "requests", "Cancel", 0, 0);
	expect_stat(&r, "informational", "Trying", 0, 1);
	expect_stat(&r, "informational", "Ringing", 1, 1);
	expect_stat(&r, "success", "OkInvite", 1, 1);
	expect_stat(&r, "success", "OkBye", 2, 0);
	expect_stat(&r, "classes", "1xx", 1, 2);
	expect_stat(&r, "classes", "2xx", 3, 1);
	rig_stop(&r);
}
END_TEST

/* Cleared while ringing: 487 to the caller, CANCEL to the callee. */
UNIT_TEST(test_clear_unanswered)
{
	struct rig r = {0};
	struct sbc_call_view *v;
	char err[256] = "", invite_b[MSG_MAX];
	uint64_t id;
	uint32_t cur[SBC_CLASS_COUNT];

	rig_start(&r);
	ringing_call(&r, "call-2@unit");
	memcpy(invite_b, r.callee.last, sizeof(invite_b));
	v = snap(&r, 1);
	id = v[0].id;
	sbc_b2bua_snapshot_free(&v);

	ck_assert_int_eq(sbc_b2bua_clear_call(r.b, id, err, sizeof(err)), 0);
	ua_expect(&r.caller, "SIP/2.0 487", "INVITE");
	caller_ack(&r.caller, r.sbc_port, "15551234", "call-2@unit",
		   r.caller.last, false);
	ua_expect(&r.callee, "CANCEL ", NULL);
	/* no longer counted, though the call object waits for the callee */
	sbc_counters_current(r.counters, cur);
	ck_assert_uint_eq(cur[SBC_CLASS_AGGREGATE], 0);
	v = snap(&r, 1);
	ck_assert_int_eq(v[0].state, SBC_CALLVIEW_DISCONNECTING);
	ck_assert(!v[0].counted);
	sbc_b2bua_snapshot_free(&v);
	/* clearing it again changes nothing and still finds it */
	ck_assert_int_eq(sbc_b2bua_clear_call(r.b, id, err, sizeof(err)), 0);

	ua_respond(&r.callee, r.sbc_port, "200 OK", NULL);
	memcpy(r.callee.last, invite_b, sizeof(invite_b));
	ua_respond(&r.callee, r.sbc_port, "487 Request Terminated", "b1");
	ua_expect(&r.callee, "ACK ", NULL);
	wait_no_calls(&r);
	snap(&r, 0);

	expect_stat(&r, "requests", "Invite", 1, 1);
	expect_stat(&r, "requests", "Cancel", 0, 1);
	/* the caller's ACK for our 487 reaches the B2BUA; the ACK for the
	   callee's 487 is sent by the stack and counted too */
	expect_stat(&r, "requests", "Ack", 1, 1);
	expect_stat(&r, "client_error", "RequestCancel", 1, 1);
	expect_stat(&r, "informational", "Ringing", 1, 1);
	rig_stop(&r);
}
END_TEST

/* clear call voice causecode: the 487 and the CANCEL carry the Reason. */
UNIT_TEST(test_clear_unanswered_cause)
{
	struct rig r = {0};
	struct sbc_call_view *v;
	char err[256] = "", invite_b[MSG_MAX], val[128];
	uint64_t id;

	rig_start(&r);
	ringing_call(&r, "call-3@unit");
	memcpy(invite_b, r.callee.last, sizeof(invite_b));
	v = snap(&r, 1);
	id = v[0].id;
	sbc_b2bua_snapshot_free(&v);

	ck_assert_int_eq(sbc_b2bua_clear_call_cause(r.b, id, 128, err,
						    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "1..127"));
	ck_assert_int_eq(sbc_b2bua_clear_call_cause(r.b, id, 34, err,
						    sizeof(err)),
			 0);
	ua_expect(&r.caller, "SIP/2.0 487", "INVITE");
	ck_assert_str_eq(header(r.caller.last, "Reason", val, sizeof(val)),
			 "Q.850;cause=34");
	caller_ack(&r.caller, r.sbc_port, "15551234", "call-3@unit",
		   r.caller.last, false);
	ua_expect(&r.callee, "CANCEL ", NULL);
	ck_assert_str_eq(header(r.callee.last, "Reason", val, sizeof(val)),
			 "Q.850;cause=34");
	ua_respond(&r.callee, r.sbc_port, "200 OK", NULL);
	memcpy(r.callee.last, invite_b, sizeof(invite_b));
	ua_respond(&r.callee, r.sbc_port, "487 Request Terminated", "b1");
	ua_expect(&r.callee, "ACK ", NULL);
	wait_no_calls(&r);
	rig_stop(&r);
}
END_TEST

/* The caller's CANCEL: the stack's own 200 and 487 are counted too. */
UNIT_TEST(test_caller_cancel_counted)
{
	struct rig r = {0};
	char invite_b[MSG_MAX];

	rig_start(&r);
	ringing_call(&r, "call-3@unit");
	memcpy(invite_b, r.callee.last, sizeof(invite_b));
	ua_send(&r.caller, r.sbc_port,
		"CANCEL sip:15551234@127.0.0.1:%u SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-call-3\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:4085550100@127.0.0.1>;tag=a1\r\n"
		"To: <sip:15551234@127.0.0.1>\r\n"
		"Call-ID: call-3@unit\r\nCSeq: 1 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n",
		r.sbc_port, r.caller.port);
	ua_expect(&r.caller, "SIP/2.0 200", "CANCEL");
	ua_expect(&r.caller, "SIP/2.0 487", "INVITE");
	caller_ack(&r.caller, r.sbc_port, "15551234", "call-3@unit",
		   r.caller.last, false);
	ua_expect(&r.callee, "CANCEL ", NULL);
	ua_respond(&r.callee, r.sbc_port, "200 OK", NULL);
	memcpy(r.callee.last, invite_b, sizeof(invite_b));
	ua_respond(&r.callee, r.sbc_port, "487 Request Terminated", "b1");
	ua_expect(&r.callee, "ACK ", NULL);
	wait_no_calls(&r);

	expect_stat(&r, "requests", "Cancel", 1, 1);
	expect_stat(&r, "requests", "Ack", 1, 1);
	expect_stat(&r, "success", "OkCancel", 0, 1);
	expect_stat(&r, "client_error", "RequestCancel", 1, 1);
	rig_stop(&r);
}
END_TEST

/* Ids are unique across calls (and across b2bua instances). */
UNIT_TEST(test_ids_unique)
{
	struct rig r = {0};
	struct sbc_call_view *v;
	int64_t until;
	char err[256];
	size_t i;

	rig_start(&r);
	caller_invite(&r.caller, r.sbc_port, "15551234", "u-1@unit");
	ua_expect(&r.caller, "SIP/2.0 100", NULL);
	caller_invite(&r.caller, r.sbc_port, "15551235", "u-2@unit");
	ua_expect(&r.caller, "SIP/2.0 100", NULL);
	caller_invite(&r.caller, r.sbc_port, "15551236", "u-3@unit");
	ua_expect(&r.caller, "SIP/2.0 100", NULL);
	until = clk_mono_ms() + WAIT_MS;
	while (sbc_b2bua_calls(r.b) < 3) {
		ck_assert(clk_mono_ms() < until);
		usleep(10000);
	}
	v = snap(&r, 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(v[i].state, SBC_CALLVIEW_CONNECTING);
	/* oldest first */
	ck_assert_str_eq(v[0].called, "15551234");
	ck_assert_str_eq(v[2].called, "15551236");
	ck_assert_uint_lt(v[0].id, v[1].id);
	ck_assert_uint_lt(v[1].id, v[2].id);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(
			sbc_b2bua_clear_call(r.b, v[i].id, err, sizeof(err)),
			0);
	sbc_b2bua_snapshot_free(&v);
	rig_stop(&r); /* stop gives the CANCELs their 500 ms and frees all */
}
END_TEST

UNIT_MAIN("b2bua")
