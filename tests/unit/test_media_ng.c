/*
 * The ng control client (sbc/media_ng.h): against fake relays (UDP
 * sockets on 127.0.0.1, ports chosen by the kernel, answering what each
 * test says, times passed by hand), then against a real rtpengine started
 * here on free ports when it is installed.
 */
#include "sbc/media_ng.h"

#include "common/clk.h"
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fake relay: one socket, the address of the last client heard. */
struct fake {
	int fd;
	uint16_t port;
	struct sockaddr_in peer;
};

static void fake_open(struct fake *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	memset(&f->peer, 0, sizeof(f->peer));
}

/* One datagram within ms (NUL-terminated in buf), or -1. */
static ssize_t fake_recv(struct fake *f, char *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	socklen_t sl = sizeof(f->peer);
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recvfrom(f->fd, buf, cap - 1, 0, (struct sockaddr *)&f->peer, &sl);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return n;
}

static void fake_send(struct fake *f, const char *data, size_t len)
{
	ck_assert_int_eq(sendto(f->fd, data, len, 0,
				(struct sockaddr *)&f->peer, sizeof(f->peer)),
			 (ssize_t)len);
}

static void fake_reply(struct fake *f, const char *cookie, const char *json)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s %s", cookie, json);

	fake_send(f, buf, (size_t)n);
}

/* The cookie of a request datagram (before the space). */
static void cookie_of(const char *dgram, char *out, size_t cap)
{
	const char *sp = strchr(dgram, ' ');

	ck_assert_ptr_nonnull(sp);
	ck_assert_uint_lt((size_t)(sp - dgram), cap);
	memcpy(out, dgram, (size_t)(sp - dgram));
	out[sp - dgram] = '\0';
}

/* Let the client read what relay i has waiting. */
static void client_read(struct sbc_ng *ng, size_t i)
{
	struct pollfd p = {.fd = sbc_ng_fd(ng, i), .events = POLLIN};

	(void)poll(&p, 1, 1000);
	sbc_ng_readable(ng, i, 0);
}

/* What a callback saw. */
struct rec {
	int calls;
	int relay;
	json_t *reply;
	char reason[160];
	bool had_reason;
};

static void rec_cb(void *arg, int relay, json_t *reply, const char *reason)
{
	struct rec *r = arg;

	r->calls++;
	r->relay = relay;
	json_decref(r->reply);
	r->reply = json_incref(reply);
	r->had_reason = reason != NULL;
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

static const char *result_of(const struct rec *r)
{
	return json_string_value(json_object_get(r->reply, "result"));
}

static struct sbc_ng *client(struct fake *f, const unsigned *w, size_t n,
			     const struct sbc_ng_opts *o)
{
	struct sbc_ng_relay_conf c[SBC_NG_MAX_RELAYS];
	char err[160] = "";
	struct sbc_ng *ng;
	size_t i;

	for (i = 0; i < n; i++) {
		fake_open(&f[i]);
		c[i] = (struct sbc_ng_relay_conf){"127.0.0.1", f[i].port,
						  w != NULL ? w[i] : 1};
	}
	ng = sbc_ng_new(c, n, o, err, sizeof(err));
	ck_assert_msg(ng != NULL, "%s", err);
	ck_assert_uint_eq(sbc_ng_nfds(ng), n);
	return ng;
}

static json_t *cmd(const char *command)
{
	return json_pack("{s:s, s:s}", "command", command, "call-id", "c1");
}

/* Send cmd(command) through relay (or -1) and assert it went out. */
static int request(struct sbc_ng *ng, int relay, const char *command,
		   struct rec *r, int64_t now)
{
	char err[160] = "";
	json_t *c = cmd(command);
	int got = sbc_ng_request(ng, relay, c, rec_cb, r, now, err,
				 sizeof(err));

	json_decref(c);
	ck_assert_msg(got >= 0, "%s", err);
	return got;
}

static void close_fakes(struct fake *f, size_t n)
{
	while (n-- > 0)
		close(f[n].fd);
}

UNIT_TCASE("fake", .timeout = 30);

UNIT_TEST(request_and_reply)
{
	struct fake f[1];
	struct sbc_ng *ng = client(f, NULL, 1, NULL);
	struct rec r = {0};
	struct sbc_ng_relay_stats st;
	char buf[2048], cookie[64];
	json_t *sent;

	ck_assert_int_eq(request(ng, -1, "ping", &r, 1000), 0);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	cookie_of(buf, cookie, sizeof(cookie));
	ck_assert_uint_le(strlen(cookie), SBC_NG_COOKIE_MAX);
	sent = json_loads(strchr(buf, ' ') + 1, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(sent, "command")),
			 "ping");
	json_decref(sent);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), 1500);
	fake_reply(&f[0], cookie, "{\"result\":\"pong\"}");
	client_read(ng, 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.relay, 0);
	ck_assert(!r.had_reason);
	ck_assert_str_eq(result_of(&r), "pong");
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), -1);
	ck_assert_int_eq(sbc_ng_relay_stats(ng, 0, &st), 0);
	ck_assert(st.up);
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_eq(st.replies, 1);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_int_eq(sbc_ng_relay_stats(ng, 1, &st), -1);

	/* An error result comes with its reason. */
	ck_assert_int_eq(request(ng, 0, "delete", &r, 2000), 0);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	cookie_of(buf, cookie, sizeof(cookie));
	fake_reply(&f[0], cookie,
		   "{\"result\":\"error\",\"error-reason\":\"Unknown call-id\"}");
	client_read(ng, 0);
	ck_assert_int_eq(r.calls, 2);
	ck_assert_str_eq(result_of(&r), "error");
	ck_assert_str_eq(r.reason, "Unknown call-id");
	json_decref(r.reply);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(cookie_matched_among_several)
{
	struct fake f[1];
	struct sbc_ng *ng = client(f, NULL, 1, NULL);
	struct rec r[3] = {{0}};
	char buf[2048], cookie[3][64];
	int i;

	for (i = 0; i < 3; i++) {
		request(ng, -1, "query", &r[i], 0);
		ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
		cookie_of(buf, cookie[i], sizeof(cookie[i]));
	}
	ck_assert_str_ne(cookie[0], cookie[1]);
	ck_assert_str_ne(cookie[1], cookie[2]);
	ck_assert_str_ne(cookie[0], cookie[2]);
	fake_reply(&f[0], cookie[1], "{\"result\":\"ok\",\"n\":1}");
	client_read(ng, 0);
	ck_assert_int_eq(r[0].calls, 0);
	ck_assert_int_eq(r[1].calls, 1);
	ck_assert_int_eq(r[2].calls, 0);
	fake_reply(&f[0], cookie[2], "{\"result\":\"ok\",\"n\":2}");
	fake_reply(&f[0], cookie[0], "{\"result\":\"ok\",\"n\":0}");
	client_read(ng, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(json_integer_value(
					 json_object_get(r[i].reply, "n")),
				 i);
		json_decref(r[i].reply);
	}
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(retransmission_keeps_the_cookie)
{
	struct fake f[1];
	struct sbc_ng_opts o = {.timeout_ms = 4000, .retrans_ms = 500};
	struct sbc_ng *ng = client(f, NULL, 1, &o);
	struct rec r = {0};
	struct sbc_ng_relay_stats st;
	char first[2048], buf[2048], cookie[64];

	request(ng, -1, "offer", &r, 1000);
	ck_assert_int_gt(fake_recv(&f[0], first, sizeof(first), 1000), 0);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), 1500);
	sbc_ng_timer(ng, 1499);
	ck_assert_int_eq(fake_recv(&f[0], buf, sizeof(buf), 50), -1);
	sbc_ng_timer(ng, 1500);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	ck_assert_str_eq(buf, first);
	/* Doubling: 500, then 1000 ms. */
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), 2500);
	sbc_ng_timer(ng, 2500);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	ck_assert_str_eq(buf, first);
	/* The next one (2000 ms on) still comes before the deadline. */
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), 4500);
	cookie_of(first, cookie, sizeof(cookie));
	fake_reply(&f[0], cookie, "{\"result\":\"ok\"}");
	client_read(ng, 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), -1);
	sbc_ng_timer(ng, 4500);
	sbc_ng_timer(ng, 9000);
	ck_assert_int_eq(fake_recv(&f[0], buf, sizeof(buf), 50), -1);
	ck_assert_int_eq(r.calls, 1);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_eq(st.retransmits, 2);
	ck_assert_uint_eq(st.timeouts, 0);
	json_decref(r.reply);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(timeout_calls_back_once)
{
	struct fake f[1];
	struct sbc_ng_opts o = {.timeout_ms = 2000, .retrans_ms = 500};
	struct sbc_ng *ng = client(f, NULL, 1, &o);
	struct rec r = {0};
	struct sbc_ng_relay_stats st;

	request(ng, 0, "answer", &r, 0);
	sbc_ng_timer(ng, 500);
	sbc_ng_timer(ng, 1500);
	sbc_ng_timer(ng, 1999);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), 2000);
	sbc_ng_timer(ng, 2000);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_ptr_null(r.reply);
	ck_assert(r.had_reason);
	ck_assert_ptr_nonnull(strstr(r.reason, "timed out"));
	ck_assert_int_eq(r.relay, 0);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), -1);
	sbc_ng_timer(ng, 10000);
	ck_assert_int_eq(r.calls, 1);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.timeouts, 1);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert(st.up); /* one timeout of the default two */
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(junk_ignored)
{
	struct fake f[1];
	struct sbc_ng_opts o = {.max_reply = 512};
	struct sbc_ng *ng = client(f, NULL, 1, &o);
	struct rec r = {0};
	struct sbc_ng_relay_stats st;
	char buf[2048], cookie[64], big[700];
	const char *junk[] = {
		"", "nocookie", "x", "{\"result\":\"ok\"}", NULL, NULL, NULL,
		NULL, NULL, NULL,
	};
	char j[6][200];
	size_t i, n = 4;
	int len;

	request(ng, -1, "offer", &r, 0);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	cookie_of(buf, cookie, sizeof(cookie));
	snprintf(j[0], sizeof(j[0]), "%s ", cookie);
	snprintf(j[1], sizeof(j[1]), "%s [1]", cookie);
	snprintf(j[2], sizeof(j[2]), "%s {\"sdp\":\"x\"}", cookie);
	snprintf(j[3], sizeof(j[3]), "%s {\"result\":\"ok\"} junk", cookie);
	snprintf(j[4], sizeof(j[4]), "%sX {\"result\":\"ok\"}", cookie);
	snprintf(j[5], sizeof(j[5]), "%s {\"result\":\"ok\",\"result\":\"ok\"}",
		 cookie);
	for (i = 0; i < 6; i++)
		junk[n++] = j[i];
	for (i = 0; i < n; i++)
		fake_send(&f[0], junk[i], strlen(junk[i]));
	/* Oversized: the right cookie, valid JSON, over max_reply. */
	len = snprintf(big, sizeof(big), "%s {\"result\":\"ok\",\"pad\":\"",
		       cookie);
	memset(big + len, 'a', 600 - (size_t)len);
	memcpy(big + 600, "\"}", 3);
	fake_send(&f[0], big, strlen(big));
	client_read(ng, 0);
	usleep(50000);
	sbc_ng_readable(ng, 0, 0);
	ck_assert_int_eq(r.calls, 0);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.dropped, n + 1);
	ck_assert_uint_eq(st.replies, 0);
	fake_reply(&f[0], cookie, "{\"result\":\"ok\"}");
	client_read(ng, 0);
	ck_assert_int_eq(r.calls, 1);
	json_decref(r.reply);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(parse_reply)
{
	char cookie[SBC_NG_COOKIE_MAX + 1], err[160];
	char long_cookie[SBC_NG_COOKIE_MAX + 40];
	json_t *o = NULL;
	const char *ok = "abc_1 {\"result\":\"ok\",\"sdp\":\"v=0\"}\n";

	ck_assert_int_eq(sbc_ng_parse_reply(ok, strlen(ok), cookie,
					    sizeof(cookie), &o, err,
					    sizeof(err)),
			 0);
	ck_assert_str_eq(cookie, "abc_1");
	ck_assert_str_eq(json_string_value(json_object_get(o, "sdp")), "v=0");
	json_decref(o);
	memset(long_cookie, 'c', SBC_NG_COOKIE_MAX + 1);
	strcpy(long_cookie + SBC_NG_COOKIE_MAX + 1, " {\"result\":\"ok\"}");
	err[0] = '\0';
	ck_assert_int_eq(sbc_ng_parse_reply(long_cookie, strlen(long_cookie),
					    cookie, sizeof(cookie), &o, err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_null(o);
	ck_assert_str_ne(err, "");
	/* One byte shorter is accepted. */
	memmove(long_cookie + SBC_NG_COOKIE_MAX, long_cookie + SBC_NG_COOKIE_MAX + 1,
		strlen(long_cookie + SBC_NG_COOKIE_MAX + 1) + 1);
	ck_assert_int_eq(sbc_ng_parse_reply(long_cookie, strlen(long_cookie),
					    cookie, sizeof(cookie), &o, err,
					    sizeof(err)),
			 0);
	ck_assert_uint_eq(strlen(cookie), SBC_NG_COOKIE_MAX);
	json_decref(o);
	/* A NUL inside is junk, not the end. */
	ck_assert_int_eq(sbc_ng_parse_reply("a {\"result\":\"ok\"}\0x", 19, cookie,
					    sizeof(cookie), &o, err,
					    sizeof(err)),
			 -1);
	ck_assert_int_eq(sbc_ng_parse_reply("a\t{\"result\":\"ok\"}", 17, cookie,
					    sizeof(cookie), &o, err,
					    sizeof(err)),
			 -1);
	ck_assert_int_eq(sbc_ng_parse_reply("a {\"result\":1}", 14, cookie,
					    sizeof(cookie), &o, err,
					    sizeof(err)),
			 -1);
}
END_TEST

UNIT_TEST(duplicate_reply_ignored)
{
	struct fake f[1];
	struct sbc_ng *ng = client(f, NULL, 1, NULL);
	struct rec r = {0};
	struct sbc_ng_relay_stats st;
	char buf[2048], cookie[64];

	request(ng, -1, "offer", &r, 0);
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	cookie_of(buf, cookie, sizeof(cookie));
	fake_reply(&f[0], cookie, "{\"result\":\"ok\"}");
	fake_reply(&f[0], cookie, "{\"result\":\"ok\"}");
	client_read(ng, 0);
	usleep(50000);
	sbc_ng_readable(ng, 0, 0);
	ck_assert_int_eq(r.calls, 1);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.replies, 1);
	ck_assert_uint_eq(st.dropped, 1);
	json_decref(r.reply);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(relay_down_and_failover)
{
	/* Weights 3 and 1: the first two picks are relay 0. */
	struct fake f[2];
	const unsigned w[2] = {3, 1};
	struct sbc_ng_opts o = {.timeout_ms = 1000, .retrans_ms = 400,
				.down_after = 1};
	struct sbc_ng *ng = client(f, w, 2, &o);
	struct rec u1 = {0}, u2 = {0}, p = {0}, later = {0}, ping = {0};
	struct sbc_ng_relay_stats st;
	char buf[2048], c1[64], c2[64], cp[64], seen[2][64];
	char err[160];
	int i;

	ck_assert_int_eq(request(ng, -1, "offer", &u1, 0), 0);
	ck_assert_int_eq(request(ng, 0, "answer", &p, 0), 0);
	ck_assert_int_eq(request(ng, -1, "offer", &u2, 500), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	/* Relay 0 never answers. At 1000 the first offer and the answer
	 * time out: the offer moves to relay 1, the pinned answer fails,
	 * relay 0 goes down and takes the second offer (due at 1500) along
	 * to relay 1 at once. */
	sbc_ng_timer(ng, 400);
	sbc_ng_timer(ng, 1000);
	ck_assert_int_eq(p.calls, 1);
	ck_assert_ptr_null(p.reply);
	ck_assert_int_eq(p.relay, 0);
	ck_assert_ptr_nonnull(strstr(p.reason, "timed out"));
	ck_assert_int_eq(u1.calls, 0);
	ck_assert_int_eq(u2.calls, 0);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert(!st.up);
	ck_assert_uint_eq(st.timeouts, 2);
	ck_assert_uint_eq(st.pending, 0);
	sbc_ng_relay_stats(ng, 1, &st);
	ck_assert(st.up);
	ck_assert_uint_eq(st.pending, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_gt(fake_recv(&f[1], buf, sizeof(buf), 1000), 0);
		ck_assert_ptr_nonnull(strstr(buf, "\"offer\""));
		cookie_of(buf, seen[i], sizeof(seen[i]));
	}
	snprintf(c1, sizeof(c1), "%s", seen[0]);
	snprintf(c2, sizeof(c2), "%s", seen[1]);
	fake_reply(&f[1], c1, "{\"result\":\"ok\"}");
	fake_reply(&f[1], c2, "{\"result\":\"ok\"}");
	client_read(ng, 1);
	ck_assert_int_eq(u1.calls, 1);
	ck_assert_int_eq(u1.relay, 1);
	ck_assert_int_eq(u2.calls, 1);
	ck_assert_int_eq(u2.relay, 1);

	/* With relay 0 down every new offer goes to relay 1. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(request(ng, -1, "offer", &later, 1100), 1);
	sbc_ng_cancel_arg(ng, &later);
	/* A pinned request still goes to the down relay. */
	ck_assert_int_eq(request(ng, 0, "delete", &later, 1100), 0);
	sbc_ng_cancel_arg(ng, &later);
	while (fake_recv(&f[0], buf, sizeof(buf), 50) > 0)
		;
	while (fake_recv(&f[1], buf, sizeof(buf), 50) > 0)
		;

	/* A ping answered brings relay 0 back. */
	sbc_ng_ping_all(ng, 1200);
	sbc_ng_ping_all(ng, 1200); /* one ping per relay at a time */
	ck_assert_int_gt(fake_recv(&f[0], buf, sizeof(buf), 1000), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"ping\""));
	ck_assert_int_eq(fake_recv(&f[0], cp, sizeof(cp), 50), -1);
	cookie_of(buf, cp, sizeof(cp));
	fake_reply(&f[0], cp, "{\"result\":\"pong\"}");
	client_read(ng, 0);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert(st.up);
	ck_assert_int_eq(request(ng, -1, "offer", &ping, 1300) >= 0, 1);
	sbc_ng_cancel_arg(ng, &ping);

	/* Both down: an unpinned request has nowhere to go. */
	sbc_ng_timer(ng, 5000); /* relay 1's ping times out: down */
	sbc_ng_relay_stats(ng, 1, &st);
	ck_assert(!st.up);
	request(ng, 0, "delete", &later, 5000);
	sbc_ng_timer(ng, 7000);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert(!st.up);
	{
		json_t *c = cmd("offer");

		ck_assert_int_eq(sbc_ng_request(ng, -1, c, rec_cb, &later,
						7000, err, sizeof(err)),
				 -1);
		ck_assert_ptr_nonnull(strstr(err, "up"));
		json_decref(c);
	}
	json_decref(u1.reply);
	json_decref(u2.reply);
	json_decref(later.reply);
	sbc_ng_free(ng);
	close_fakes(f, 2);
}
END_TEST

UNIT_TEST(unpinned_timeout_with_no_other_relay)
{
	/* The second relay has weight 0: only pinned requests go there, a
	 * failover too. */
	struct fake f[2];
	const unsigned w[2] = {1, 0};
	struct sbc_ng_opts o = {.timeout_ms = 1000, .down_after = 5};
	struct sbc_ng *ng = client(f, w, 2, &o);
	struct rec u = {0};
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(request(ng, -1, "offer", &u, 0), 0);
	sbc_ng_timer(ng, 1000);
	ck_assert_int_eq(u.calls, 5);
	ck_assert_ptr_null(u.reply);
	sbc_ng_free(ng);
	close_fakes(f, 2);
}
END_TEST

UNIT_TEST(weights_respected)
{
	struct fake f[4];
	const unsigned w[4] = {1, 2, 5, 0};
	struct sbc_ng *ng = client(f, w, 4, NULL);
	struct rec r = {0};
	int count[4] = {0}, window[4] = {0}, i, k;

	for (i = 0; i < 800; i++) {
		int got = request(ng, -1, "offer", &r, 0);

		count[got]++;
		window[got]++;
		/* Smooth: every 8 picks hold each relay by its weight. */
		if (i % 8 == 7) {
			for (k = 0; k < 4; k++)
				ck_assert_int_eq(window[k], (int)w[k]);
			memset(window, 0, sizeof(window));
		}
		/* Keep the fake relays' queues short. */
		if (i % 64 == 63)
			sbc_ng_cancel_arg(ng, &r);
	}
	ck_assert_int_eq(count[0], 100);
	ck_assert_int_eq(count[1], 200);
	ck_assert_int_eq(count[2], 500);
	ck_assert_int_eq(count[3], 0);
	/* Pinned to the weight-0 relay is fine. */
	ck_assert_int_eq(request(ng, 3, "delete", &r, 0), 3);
	sbc_ng_cancel_arg(ng, &r);
	sbc_ng_timer(ng, 100000);
	ck_assert_int_eq(r.calls, 0);
	sbc_ng_free(ng);
	close_fakes(f, 4);
}
END_TEST

/* A destroyed call cancels its others from inside a callback. */
static struct sbc_ng *cancel_ng;
static void cancel_cb(void *arg, int relay, json_t *reply, const char *reason)
{
	rec_cb(arg, relay, reply, reason);
	sbc_ng_cancel_arg(cancel_ng, arg);
}

UNIT_TEST(cancel_arg)
{
	struct fake f[1];
	struct sbc_ng_opts o = {.timeout_ms = 1000};
	struct sbc_ng *ng = client(f, NULL, 1, &o);
	struct rec a = {0}, b = {0}, c = {0};
	struct sbc_ng_relay_stats st;
	char err[160];
	json_t *q = cmd("offer");
	int i;

	request(ng, -1, "offer", &a, 0);
	request(ng, -1, "answer", &b, 0);
	request(ng, -1, "delete", &a, 0);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.pending, 3);
	sbc_ng_cancel_arg(ng, &a);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.pending, 1);
	sbc_ng_timer(ng, 1000);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(b.calls, 1);

	/* Three of c time out in the same pass; the first callback cancels
	 * the other two. */
	cancel_ng = ng;
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(sbc_ng_request(ng, 0, q, cancel_cb, &c, 2000,
						err, sizeof(err)),
				 0);
	sbc_ng_timer(ng, 3000);
	ck_assert_int_eq(c.calls, 1);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_int_eq(sbc_ng_next_timeout_ms(ng), -1);
	json_decref(q);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

UNIT_TEST(refusals)
{
	struct sbc_ng_relay_conf bad[] = {{"not-an-ip", 2223, 1}};
	struct sbc_ng_relay_conf zero[] = {{"127.0.0.1", 0, 1}};
	struct sbc_ng_relay_conf heavy[] = {{"::1", 2223, 1001}};
	struct sbc_ng_relay_conf v6[] = {{"::1", 2223, 1}};
	struct fake f[1];
	struct sbc_ng *ng;
	struct sbc_ng_relay_stats st;
	struct rec r = {0};
	char err[160];
	json_t *nocmd = json_pack("{s:s}", "call-id", "c1");

	err[0] = '\0';
	ck_assert_ptr_null(sbc_ng_new(bad, 1, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not-an-ip"));
	ck_assert_ptr_null(sbc_ng_new(zero, 1, NULL, err, sizeof(err)));
	ck_assert_ptr_null(sbc_ng_new(heavy, 1, NULL, err, sizeof(err)));
	ck_assert_ptr_null(sbc_ng_new(v6, 0, NULL, err, sizeof(err)));
	ng = sbc_ng_new(v6, 1, NULL, err, sizeof(err));
	if (ng != NULL) { /* no IPv6 on the machine: skipped */
		sbc_ng_relay_stats(ng, 0, &st);
		ck_assert_str_eq(st.addr, "[::1]:2223");
		sbc_ng_free(ng);
	}
	ng = client(f, NULL, 1, NULL);
	sbc_ng_relay_stats(ng, 0, &st);
	ck_assert_ptr_nonnull(strstr(st.addr, "127.0.0.1:"));
	ck_assert_int_eq(sbc_ng_request(ng, -1, nocmd, rec_cb, &r, 0, err,
					sizeof(err)),
			 -1);
	ck_assert_int_eq(sbc_ng_request(ng, 1, nocmd, rec_cb, &r, 0, err,
					sizeof(err)),
			 -1);
	json_decref(nocmd);
	nocmd = cmd("offer");
	ck_assert_int_eq(sbc_ng_request(ng, 1, nocmd, rec_cb, &r, 0, err,
					sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "relay 1"));
	json_decref(nocmd);
	ck_assert_int_eq(r.calls, 0);
	sbc_ng_free(ng);
	close_fakes(f, 1);
}
END_TEST

/* ---- A real rtpengine ---------------------------------------------- */

#define RTPENGINE "/usr/bin/rtpengine"
#define RTP_PORTS 40

static pid_t rtp_pid;
static uint16_t rtp_ng_port, rtp_min, rtp_max;
static char rtp_dir[64];

/* A port the kernel says is free now (UDP on 127.0.0.1). */
static uint16_t free_port(void)
{
	struct fake f;

	fake_open(&f);
	close(f.fd);
	return f.port;
}

static void rtp_stop(void)
{
	int i, st;

	if (rtp_pid <= 0)
		return;
	kill(rtp_pid, SIGTERM);
	for (i = 0; i < 300; i++) {
		if (waitpid(rtp_pid, &st, WNOHANG) == rtp_pid)
			break;
		usleep(10000);
	}
	if (i == 300) {
		kill(rtp_pid, SIGKILL);
		waitpid(rtp_pid, &st, 0);
	}
	rtp_pid = 0;
}

static void rtp_setup(void)
{
	char ng[64], pmin[32], pmax[32], pidf[128], logf[128];
	uint16_t base;

	rtp_pid = 0;
	if (access(RTPENGINE, X_OK) != 0)
		return;
	snprintf(rtp_dir, sizeof(rtp_dir), "/tmp/test_media_ng.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(rtp_dir));
	rtp_ng_port = free_port();
	/* A media range somewhere the kernel hands out ports; rtpengine
	 * skips any taken. */
	base = free_port();
	if (base > 65535 - RTP_PORTS)
		base = (uint16_t)(base - RTP_PORTS);
	rtp_min = base;
	rtp_max = (uint16_t)(base + RTP_PORTS - 1);
	snprintf(ng, sizeof(ng), "--listen-ng=127.0.0.1:%u", rtp_ng_port);
	snprintf(pmin, sizeof(pmin), "--port-min=%u", rtp_min);
	snprintf(pmax, sizeof(pmax), "--port-max=%u", rtp_max);
	snprintf(pidf, sizeof(pidf), "--pidfile=%s/pid", rtp_dir);
	snprintf(logf, sizeof(logf), "%s/log", rtp_dir);
	rtp_pid = fork();
	ck_assert_int_ge(rtp_pid, 0);
	if (rtp_pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		setsid();
		/* Gone with the test even when it crashes before teardown. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(RTPENGINE, "rtpengine", "--foreground", "--table=-1",
		      "--interface=127.0.0.1", ng, pmin, pmax, "--log-stderr",
		      pidf, "--no-fallback", "--delete-delay=0", (char *)NULL);
		_exit(127);
	}
}

static void rtp_teardown(void)
{
	char path[128];

	rtp_stop();
	if (rtp_dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/log", rtp_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pid", rtp_dir);
	unlink(path);
	rmdir(rtp_dir);
	rtp_dir[0] = '\0';
}

/* Run one request to its end with the real clock. */
static void rtp_call(struct sbc_ng *ng, int relay, json_t *c, struct rec *r)
{
	char err[160] = "";
	int calls = r->calls;
	int64_t end = clk_mono_ms() + 5000;

	ck_assert_msg(sbc_ng_request(ng, relay, c, rec_cb, r, clk_mono_ms(),
				     err, sizeof(err)) >= 0,
		      "%s", err);
	json_decref(c);
	while (r->calls == calls && clk_mono_ms() < end) {
		struct pollfd p = {.fd = sbc_ng_fd(ng, 0), .events = POLLIN};
		int64_t due = sbc_ng_next_timeout_ms(ng), now = clk_mono_ms();
		int wait = due < 0 ? 100 : due <= now ? 0 : (int)(due - now);

		if (poll(&p, 1, wait) == 1)
			sbc_ng_readable(ng, 0, clk_mono_ms());
		sbc_ng_timer(ng, clk_mono_ms());
	}
	ck_assert_int_eq(r->calls, calls + 1);
}

/* The port of the first m= line of an SDP. */
static long media_port(const char *sdp)
{
	const char *m = strstr(sdp, "m=audio ");

	ck_assert_ptr_nonnull(m);
	return strtol(m + 8, NULL, 10);
}

#define SDP(port)                                                           \
	"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"  \
	"t=0 0\r\nm=audio " port " RTP/AVP 0 101\r\n"                       \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

UNIT_TCASE("rtpengine", .setup = rtp_setup, .teardown = rtp_teardown,
	   .timeout = 60);

UNIT_TEST(rtpengine_session)
{
	struct sbc_ng_relay_conf c = {"127.0.0.1", 0, 1};
	struct sbc_ng_opts o = {.timeout_ms = 1000, .retrans_ms = 100};
	struct sbc_ng *ng;
	struct rec r = {0};
	char err[160];
	const char *sdp;
	json_t *calls, *v;
	long port;
	size_t i;
	int tries;

	if (rtp_pid <= 0) {
		printf("rtpengine_session: %s not installed, skipped\n",
		       RTPENGINE);
		return;
	}
	c.port = rtp_ng_port;
	ng = sbc_ng_new(&c, 1, &o, err, sizeof(err));
	ck_assert_msg(ng != NULL, "%s", err);

	/* Up in about 0.3 s: ping until it answers. */
	for (tries = 0; tries < 50; tries++) {
		rtp_call(ng, 0, json_pack("{s:s}", "command", "ping"), &r);
		if (r.reply != NULL)
			break;
		usleep(100000);
	}
	ck_assert_ptr_nonnull(r.reply);
	ck_assert_str_eq(result_of(&r), "pong");

	rtp_call(ng, -1,
		 json_pack("{s:s, s:s, s:s, s:s}", "command", "offer",
			   "call-id", "ng-test-1", "from-tag", "ft1", "sdp",
			   SDP("4000")),
		 &r);
	ck_assert_ptr_nonnull(r.reply);
	ck_assert_msg(!r.had_reason, "offer: %s", r.reason);
	ck_assert_str_eq(result_of(&r), "ok");
	sdp = json_string_value(json_object_get(r.reply, "sdp"));
	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "c=IN IP4 127.0.0.1"));
	port = media_port(sdp);
	ck_assert_int_ge(port, rtp_min);
	ck_assert_int_le(port, rtp_max);

	rtp_call(ng, r.relay,
		 json_pack("{s:s, s:s, s:s, s:s, s:s}", "command", "answer",
			   "call-id", "ng-test-1", "from-tag", "ft1", "to-tag",
			   "tt1", "sdp", SDP("5000")),
		 &r);
	ck_assert_str_eq(result_of(&r), "ok");
	sdp = json_string_value(json_object_get(r.reply, "sdp"));
	ck_assert_ptr_nonnull(sdp);
	port = media_port(sdp);
	ck_assert_int_ge(port, rtp_min);
	ck_assert_int_le(port, rtp_max);

	rtp_call(ng, 0,
		 json_pack("{s:s, s:s}", "command", "query", "call-id",
			   "ng-test-1"),
		 &r);
	ck_assert_str_eq(result_of(&r), "ok");
	v = json_object_get(r.reply, "tags");
	ck_assert(json_is_object(json_object_get(v, "ft1")));
	ck_assert(json_is_object(json_object_get(v, "tt1")));

	rtp_call(ng, 0, json_pack("{s:s}", "command", "list"), &r);
	ck_assert_str_eq(result_of(&r), "ok");
	calls = json_object_get(r.reply, "calls");
	ck_assert_uint_eq(json_array_size(calls), 1);

	rtp_call(ng, 0,
		 json_pack("{s:s, s:s, s:s}", "command", "delete", "call-id",
			   "ng-test-1", "from-tag", "ft1"),
		 &r);
	ck_assert_str_eq(result_of(&r), "ok");

	rtp_call(ng, 0, json_pack("{s:s}", "command", "list"), &r);
	ck_assert_str_eq(result_of(&r), "ok");
	calls = json_object_get(r.reply, "calls");
	ck_assert(json_is_array(calls));
	json_array_foreach(calls, i, v)
		ck_assert_str_ne(json_string_value(v), "ng-test-1");

	/* An error comes back as a reply with its reason. */
	rtp_call(ng, 0,
		 json_pack("{s:s, s:s}", "command", "query", "call-id",
			   "ng-test-1"),
		 &r);
	ck_assert_str_eq(result_of(&r), "error");
	ck_assert(r.had_reason);
	json_decref(r.reply);
	sbc_ng_free(ng);
}
END_TEST

UNIT_MAIN("media_ng")
