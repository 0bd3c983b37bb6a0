/*
 * sbcd's Prometheus endpoint (sbc/metrics.h): the exposition of given
 * counts, line by line, and GET /metrics on a port the kernel picks. The
 * SIP side is a real B2BUA on 127.0.0.1 (port 0), with no call; there is
 * no licensing agent, as when licensing is not configured.
 */
#include "sbc/metrics.h"
#include "common/db.h"
#include "sbc/sampler.h"

#include "common/clk.h"
#include "sbc/b2bua.h"
#include "sbc/config.h"
#include "sbc/counters.h"
#include "sbc/dialpeer.h"
#include "sbc/sbcd.h"
#include "sbc/sipstats.h"

#include "tmpfile.h"
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000

static struct sbcd d;
static char log_path[80];
static char db_path[80];
static sqlite3 *db;

static void setup(void)
{
	static const char text[] = "hostname unit\n!\nvoice service voip\n"
				   " mode border-element\n sip\n"
				   "  listen udp 127.0.0.1 0\n!\nend\n";
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	char err[256] = "";

	/* The SIP thread logs its listen address. */
	tmp_path(log_path, sizeof(log_path), "test_metrics", ".log");
	tmp_stderr_to(log_path);
	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	ck_assert_ptr_nonnull(d.base);
	d.counters = sbc_counters_new();
	ck_assert_ptr_nonnull(d.counters);
	cfg = sbc_config_parse("unit.cfg", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	dp = sbc_dptable_new(cfg, err, sizeof(err));
	ck_assert_msg(dp != NULL, "%s", err);
	d.b2bua = sbc_b2bua_start(cfg, dp, d.counters, err, sizeof(err));
	ck_assert_msg(d.b2bua != NULL, "%s", err);
	/* The per-second figures come from a real sampler over the counters
	 * and the B2BUA's SIP counters, as in sbcd. */
	tmp_path(db_path, sizeof(db_path), "test_metrics", ".db");
	tmp_db_remove(db_path);
	db = db_open(db_path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	d.stats = stats_new();
	ck_assert_ptr_nonnull(d.stats);
	d.store = stats_store_new(db, err, sizeof(err));
	ck_assert_msg(d.store != NULL, "%s", err);
	d.sampler = sbc_sampler_new(d.stats, d.store, d.counters);
	ck_assert_ptr_nonnull(d.sampler);
	sbc_sampler_set_sipstats(d.sampler, sbc_b2bua_sipstats(d.b2bua));
}

static void teardown(void)
{
	sbc_metrics_stop(&d.metrics);
	sbc_b2bua_stop(&d.b2bua, 500);
	sbc_sampler_free(&d.sampler);
	stats_store_free(&d.store);
	stats_free(&d.stats);
	db_close(&db);
	tmp_db_remove(db_path);
	sbc_counters_free(&d.counters);
	event_base_free(d.base);
	unlink(log_path);
}

/* The exposition now, as a string (the caller frees it). */
static char *render(void)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *text;

	ck_assert_ptr_nonnull(b);
	sbc_metrics_render(&d, b);
	len = evbuffer_get_length(b);
	text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(evbuffer_remove(b, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(b);
	ck_assert_msg(len > 0 && text[len - 1] == '\n', "no final newline");
	return text;
}

/* line is one whole line of text. */
static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	ck_abort_msg("no line [%s] in:\n%s", line, text);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p = text;

	while (*p != '\0') {
		if (strncmp(p, prefix, plen) == 0)
			n++;
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	return n;
}

/* The family headers, in the exposition format, and one sample line per
 * class where the family is per class. */
static const struct {
	const char *name;
	const char *help;
	int per_class;
} families[] = {
	{ "sbc_sessions", "Trunk sessions now, per license class", 1 },
	{ "sbc_sessions_last_second_peak",
	  "Highest count within the last sampled second, per class", 1 },
	{ "sbc_sessions_max_second_peak",
	  "Highest per-second peak since sbcd started, per class", 1 },
	{ "sbc_calls", "Calls in progress (ending ones included)", 0 },
	{ "sbc_calls_per_second", "INVITEs received in the last second", 0 },
	{ "sbc_sip_service_up",
	  "1 while new non-VGW calls are accepted, 0 when the licensing "
	  "deadline stopped them",
	  0 },
	{ "sbc_license_trusted",
	  "1 once trust with the license server is installed", 0 },
	{ "sbc_license_ack_deadline_seconds",
	  "Next usage ACK deadline, Unix seconds (0: none)", 0 },
	{ "sbc_license_last_ack_seconds",
	  "Last usage ACK installed, Unix seconds (0: never)", 0 },
	{ "sbc_license_records_waiting_ack",
	  "Usage records reported and not acknowledged yet", 0 },
	{ "sbc_license_records_unreported",
	  "Usage records not in a report yet", 0 },
};

UNIT_TCASE("render", .setup = setup, .teardown = teardown);

UNIT_LOOP_TEST(family_headers, 0, NELEM(families))
{
	char *text = render(), line[256], prefix[128];

	snprintf(line, sizeof(line), "# HELP %s %s", families[_i].name,
		 families[_i].help);
	has_line(text, line);
	snprintf(line, sizeof(line), "# TYPE %s gauge", families[_i].name);
	has_line(text, line);
	/* The samples of the family: five classes or one plain line. */
	snprintf(prefix, sizeof(prefix), "%s%s", families[_i].name,
		 families[_i].per_class ? "{" : " ");
	ck_assert_uint_eq(count_lines(text, prefix),
			  families[_i].per_class ? SBC_CLASS_COUNT : 1);
	free(text);
}
END_TEST

UNIT_TEST(sessions_per_class)
{
	char *text;

	int i;

	/* Second 1: 4 Standard, 1 Enhanced (peak 5), then 2 Standard end;
	 * second 2: 2 Redundant come and go. */
	for (i = 0; i < 4; i++)
		sbc_counters_inc(d.counters, SBC_CLASS_STANDARD);
	sbc_counters_inc(d.counters, SBC_CLASS_ENHANCED);
	sbc_counters_inc(d.counters, SBC_CLASS_VGW);
	sbc_counters_dec(d.counters, SBC_CLASS_STANDARD);
	sbc_counters_dec(d.counters, SBC_CLASS_STANDARD);
	sbc_sampler_tick(d.sampler, clk_wall_ms());
	sbc_counters_inc(d.counters, SBC_CLASS_REDUNDANT);
	sbc_counters_inc(d.counters, SBC_CLASS_REDUNDANT);
	sbc_counters_dec(d.counters, SBC_CLASS_REDUNDANT);
	sbc_counters_dec(d.counters, SBC_CLASS_REDUNDANT);
	sbc_sampler_tick(d.sampler, clk_wall_ms() + 1000);
	text = render();
	has_line(text, "sbc_sessions{class=\"STANDARD\"} 2");
	has_line(text, "sbc_sessions{class=\"ENHANCED\"} 1");
	has_line(text, "sbc_sessions{class=\"REDUNDANT\"} 0");
	has_line(text, "sbc_sessions{class=\"VGW\"} 1");
	/* VGW is not in the aggregate. */
	has_line(text, "sbc_sessions{class=\"AGGREGATE\"} 3");
	/* The last second: 2 Standard, 1 Enhanced still up, 2 Redundant. */
	has_line(text, "sbc_sessions_last_second_peak{class=\"STANDARD\"} 2");
	has_line(text, "sbc_sessions_last_second_peak{class=\"ENHANCED\"} 1");
	has_line(text, "sbc_sessions_last_second_peak{class=\"REDUNDANT\"} 2");
	has_line(text,
		 "sbc_sessions_last_second_peak{class=\"AGGREGATE\"} 5");
	has_line(text, "sbc_sessions_max_second_peak{class=\"STANDARD\"} 4");
	has_line(text, "sbc_sessions_max_second_peak{class=\"REDUNDANT\"} 2");
	has_line(text, "sbc_sessions_max_second_peak{class=\"AGGREGATE\"} 5");
	has_line(text, "sbc_sessions_max_second_peak{class=\"VGW\"} 1");
	free(text);
}
END_TEST

UNIT_TEST(calls_and_service)
{
	char *text;

	struct sbc_sipstats *st = sbc_b2bua_sipstats(d.b2bua);
	int i;

	sbc_sampler_tick(d.sampler, clk_wall_ms());
	for (i = 0; i < 17; i++)
		sbc_sipstats_request(st, SBC_SIPSTATS_IN, SBC_SIP_INVITE);
	sbc_sampler_tick(d.sampler, clk_wall_ms() + 1000);
	text = render();
	has_line(text, "sbc_calls 0");
	has_line(text, "sbc_calls_per_second 17");
	has_line(text, "sbc_sip_service_up 1");
	free(text);
	sbc_b2bua_set_service(d.b2bua, false);
	text = render();
	has_line(text, "sbc_sip_service_up 0");
	free(text);
}
END_TEST

/* No agent (licensing not configured): the licensing gauges are 0. */
UNIT_TEST(no_agent_zeros)
{
	char *text = render();

	has_line(text, "sbc_license_trusted 0");
	has_line(text, "sbc_license_ack_deadline_seconds 0");
	has_line(text, "sbc_license_last_ack_seconds 0");
	has_line(text, "sbc_license_records_waiting_ack 0");
	has_line(text, "sbc_license_records_unreported 0");
	free(text);
}
END_TEST

/* The index of the first row of the sipstats table of that kind, code and
 * method. */
static size_t sip_row(enum sbc_sipstats_kind kind, int code, int method)
{
	size_t i;

	for (i = 0; i < sbc_sipstats_nrows(); i++) {
		const struct sbc_sipstats_row *r = sbc_sipstats_row(i);

		if (r->kind == kind && r->code == code && r->method == method)
			return i;
	}
	ck_abort_msg("no sipstats row %d/%d/%d", kind, code, method);
	return 0;
}

UNIT_TEST(sip_counters_one_family)
{
	struct sbc_sipstats *st = sbc_b2bua_sipstats(d.b2bua);
	const uint64_t retries[SBC_SIPSTATS_RETRY_COUNT] = { 5, 6, 7 };
	const struct sbc_sipstats_row *r;
	size_t i, want = 0;
	char *text, line[256];

	for (i = 0; i < sbc_sipstats_nrows(); i++)
		want += sbc_sipstats_row(i)->single ? 1 : 2;
	sbc_sipstats_request(st, SBC_SIPSTATS_IN, SBC_SIP_OPTIONS);
	sbc_sipstats_request(st, SBC_SIPSTATS_IN, SBC_SIP_OPTIONS);
	sbc_sipstats_request(st, SBC_SIPSTATS_OUT, SBC_SIP_OPTIONS);
	sbc_sipstats_set_retries(st, retries);
	text = render();
	has_line(text, "# HELP sbc_sip_messages_total SIP messages, the rows "
		       "of show sip-ua statistics");
	has_line(text, "# TYPE sbc_sip_messages_total counter");
	ck_assert_uint_eq(count_lines(text, "sbc_sip_messages_total{"), want);
	r = sbc_sipstats_row(sip_row(SBC_SIPSTATS_REQUEST, 0,
				     SBC_SIP_OPTIONS));
	snprintf(line, sizeof(line),
		 "sbc_sip_messages_total{section=\"%s\",name=\"%s\","
		 "direction=\"in\"} 2",
		 r->section, r->name);
	has_line(text, line);
	snprintf(line, sizeof(line),
		 "sbc_sip_messages_total{section=\"%s\",name=\"%s\","
		 "direction=\"out\"} 1",
		 r->section, r->name);
	has_line(text, line);
	/* A single-value row has no direction. */
	r = sbc_sipstats_row(sip_row(SBC_SIPSTATS_RETRY,
				     SBC_SIPSTATS_RETRY_RESPONSE, -1));
	ck_assert(r->single);
	snprintf(line, sizeof(line),
		 "sbc_sip_messages_total{section=\"%s\",name=\"%s\"} 6",
		 r->section, r->name);
	has_line(text, line);
	free(text);
}
END_TEST

/* Every line is a comment or `name{labels} value` / `name value`. */
UNIT_TEST(every_line_well_formed)
{
	char *text = render(), *save = NULL, *ln;

	for (ln = strtok_r(text, "\n", &save); ln != NULL;
	     ln = strtok_r(NULL, "\n", &save)) {
		const char *sp = strrchr(ln, ' ');
		char *end;

		if (strncmp(ln, "# HELP sbc_", 11) == 0 ||
		    strncmp(ln, "# TYPE sbc_", 11) == 0)
			continue;
		ck_assert_msg(strncmp(ln, "sbc_", 4) == 0, "[%s]", ln);
		ck_assert_ptr_nonnull(sp);
		strtod(sp + 1, &end);
		ck_assert_msg(end != sp + 1 && *end == '\0', "value of [%s]",
			      ln);
		ck_assert_msg(strchr(ln, '{') == NULL ||
				      strstr(ln, "} ") == sp - 1,
			      "labels of [%s]", ln);
	}
	free(text);
}
END_TEST

/* ---- the HTTP endpoint ----------------------------------------------- */

/* Send req to the endpoint and read the whole response (the server closes
 * after it), turning the loop meanwhile. The caller frees it. */
static char *http(const char *req)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int64_t until = clk_mono_ms() + WAIT_MS;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t sent = 0;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)sbc_metrics_port(d.metrics));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	for (;;) {
		ssize_t n;

		ck_assert_msg(clk_mono_ms() < until, "no whole response: %.*s",
			      (int)len, buf);
		event_base_loop(d.base, EVLOOP_NONBLOCK);
		if (sent < strlen(req)) {
			n = write(fd, req + sent, strlen(req) - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		usleep(500);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static void start(void)
{
	char err[256] = "";

	d.metrics = sbc_metrics_start(&d, "127.0.0.1", 0, err, sizeof(err));
	ck_assert_msg(d.metrics != NULL, "%s", err);
	ck_assert_uint_gt(sbc_metrics_port(d.metrics), 0);
}

UNIT_TCASE("http", .setup = setup, .teardown = teardown);

UNIT_TEST(get_metrics)
{
	char *resp, *text, *body;

	start();
	sbc_counters_inc(d.counters, SBC_CLASS_ENHANCED);
	resp = http("GET /metrics HTTP/1.1\r\nHost: x\r\n"
		    "Connection: close\r\n\r\n");
	text = render();
	ck_assert_msg(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s",
		      resp);
	ck_assert_msg(strstr(resp, "\r\nContent-Type: text/plain; "
				   "version=0.0.4\r\n") != NULL,
		      "%s", resp);
	body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	/* The body is the exposition of now. */
	ck_assert_str_eq(body + 4, text);
	has_line(body + 4, "sbc_sessions{class=\"ENHANCED\"} 1");
	free(text);
	free(resp);
}
END_TEST

/* Refused with no exposition: other methods (by the server, evhttp's
 * allowed methods, before any handler) and other paths. */
static const struct {
	const char *request;
	const char *status_line;
} refused[] = {
	{ "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	  "Connection: close\r\n\r\n",
	  "HTTP/1.1 501 " },
	{ "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	  "HTTP/1.1 404 " },
	{ "GET /metricsx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	  "HTTP/1.1 404 " },
};

UNIT_LOOP_TEST(refused_requests, 0, NELEM(refused))
{
	const char *want = refused[_i].status_line;
	char *resp;

	start();
	resp = http(refused[_i].request);
	ck_assert_msg(strncmp(resp, want, strlen(want)) == 0, "%s", resp);
	ck_assert_ptr_null(strstr(resp, "sbc_sessions"));
	free(resp);
}
END_TEST

UNIT_TEST(port_taken_refused)
{
	struct sbc_metrics *again;
	char err[256] = "", want[64];

	start();
	/* The port of a running endpoint is not free. */
	again = sbc_metrics_start(&d, "127.0.0.1", sbc_metrics_port(d.metrics),
				  err, sizeof(err));
	ck_assert_ptr_null(again);
	snprintf(want, sizeof(want), "metrics: cannot listen on 127.0.0.1:%u",
		 sbc_metrics_port(d.metrics));
	ck_assert_str_eq(err, want);
}
END_TEST

UNIT_TEST(stop_null_safe)
{
	struct sbc_metrics *none = NULL;

	ck_assert_uint_eq(sbc_metrics_port(NULL), 0);
	sbc_metrics_stop(NULL);
	sbc_metrics_stop(&none);
	start();
	sbc_metrics_stop(&d.metrics);
	ck_assert_ptr_null(d.metrics);
}
END_TEST

UNIT_MAIN("metrics")
