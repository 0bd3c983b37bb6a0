/*
 * sbcd's Prometheus endpoint (sbc/metrics.h).
 */
#include "sbc/metrics.h"

#include "common/clk.h"
#include "common/err.h"
#include "licensing/store.h"
#include "sbc/sampler.h"
#include "sbc/sbcd.h"
#include "sbc/sipstats.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sbc_metrics {
	struct evhttp *http;
	struct sbcd *d;
	unsigned port;
};

typedef double metric_get(struct sbcd *d, int cls);

/* One metric family; per_class ones carry class="STANDARD", ... */
struct metric_row {
	const char *name;
	const char *help;
	const char *type;
	bool per_class;
	metric_get *get;
};

static double get_sessions(struct sbcd *d, int cls)
{
	uint32_t cur[SBC_CLASS_COUNT];

	sbc_counters_current(d->counters, cur);
	return cur[cls];
}

static double get_last_second(struct sbcd *d, int cls)
{
	return sbc_sampler_last_second(d->sampler, (enum sbc_class)cls);
}

static double get_max_second(struct sbcd *d, int cls)
{
	return sbc_sampler_max_second(d->sampler, (enum sbc_class)cls);
}

static double get_calls(struct sbcd *d, int cls)
{
	(void)cls;
	return sbc_b2bua_calls(d->b2bua);
}

static double get_cps(struct sbcd *d, int cls)
{
	(void)cls;
	return sbc_sampler_calls_per_second(d->sampler);
}

static double get_service(struct sbcd *d, int cls)
{
	(void)cls;
	return sbc_b2bua_service_up(d->b2bua) ? 1 : 0;
}

static double get_trusted(struct sbcd *d, int cls)
{
	(void)cls;
	return d->agent != NULL && lic_agent_trusted(d->agent) ? 1 : 0;
}

static double get_deadline(struct sbcd *d, int cls)
{
	(void)cls;
	return d->agent != NULL ? (double)lic_agent_next_deadline(d->agent)
				: 0;
}

static double get_last_ack(struct sbcd *d, int cls)
{
	(void)cls;
	return d->agent != NULL ? (double)lic_agent_times(d->agent)->last_ack
				: 0;
}

/* The report queue: records waiting for an ACK or for a report (all 0
 * without an agent or when its store cannot say). */
static struct lic_store_summary records(struct sbcd *d)
{
	struct lic_store_summary sum = {0};

	if (d->agent == NULL ||
	    lic_agent_record_summary(d->agent, &sum, NULL, 0) != 0)
		memset(&sum, 0, sizeof(sum));
	return sum;
}

static double get_waiting(struct sbcd *d, int cls)
{
	(void)cls;
	return (double)records(d).waiting;
}

static double get_unreported(struct sbcd *d, int cls)
{
	(void)cls;
	return (double)records(d).unreported;
}

static const struct metric_row rows[] = {
	{"sbc_sessions", "Trunk sessions now, per license class", "gauge",
	 true, get_sessions},
	{"sbc_sessions_last_second_peak",
	 "Highest count within the last sampled second, per class", "gauge",
	 true, get_last_second},
	{"sbc_sessions_max_second_peak",
	 "Highest per-second peak since sbcd started, per class", "gauge",
	 true, get_max_second},
	{"sbc_calls", "Calls in progress (ending ones included)", "gauge",
	 false, get_calls},
	{"sbc_calls_per_second", "INVITEs received in the last second",
	 "gauge", false, get_cps},
	{"sbc_sip_service_up",
	 "1 while new non-VGW calls are accepted, 0 when the licensing "
	 "deadline stopped them",
	 "gauge", false, get_service},
	{"sbc_license_trusted", "1 once trust with the license server is "
				"installed",
	 "gauge", false, get_trusted},
	{"sbc_license_ack_deadline_seconds",
	 "Next usage ACK deadline, Unix seconds (0: none)", "gauge", false,
	 get_deadline},
	{"sbc_license_last_ack_seconds",
	 "Last usage ACK installed, Unix seconds (0: never)", "gauge", false,
	 get_last_ack},
	{"sbc_license_records_waiting_ack",
	 "Usage records reported and not acknowledged yet", "gauge", false,
	 get_waiting},
	{"sbc_license_records_unreported",
	 "Usage records not in a report yet", "gauge", false, get_unreported},
};

static const char *const class_label[SBC_CLASS_COUNT] = {
	[SBC_CLASS_STANDARD] = "STANDARD", [SBC_CLASS_ENHANCED] = "ENHANCED",
	[SBC_CLASS_REDUNDANT] = "REDUNDANT", [SBC_CLASS_VGW] = "VGW",
	[SBC_CLASS_AGGREGATE] = "AGGREGATE"};

/* The SIP counters: one family over the rows of the sipstats table. */
static void render_sip(struct sbcd *d, struct evbuffer *out)
{
	struct sbc_sipstats *st = sbc_b2bua_sipstats(d->b2bua);
	size_t i, n = sbc_sipstats_nrows();

	evbuffer_add_printf(out,
			    "# HELP sbc_sip_messages_total SIP messages, the "
			    "rows of show sip-ua statistics\n"
			    "# TYPE sbc_sip_messages_total counter\n");
	for (i = 0; i < n; i++) {
		const struct sbc_sipstats_row *r = sbc_sipstats_row(i);
		uint64_t in = 0, outv = 0;

		sbc_sipstats_value(st, i, &in, &outv);
		if (r->single) {
			evbuffer_add_printf(out,
					    "sbc_sip_messages_total{section=\""
					    "%s\",name=\"%s\"} %" PRIu64 "\n",
					    r->section, r->name, in);
			continue;
		}
		evbuffer_add_printf(out,
				    "sbc_sip_messages_total{section=\"%s\","
				    "name=\"%s\",direction=\"in\"} %" PRIu64
				    "\n"
				    "sbc_sip_messages_total{section=\"%s\","
				    "name=\"%s\",direction=\"out\"} %" PRIu64
				    "\n",
				    r->section, r->name, in, r->section,
				    r->name, outv);
	}
}

void sbc_metrics_render(struct sbcd *d, struct evbuffer *out)
{
	size_t i;
	int c;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct metric_row *r = &rows[i];

		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
				    r->name, r->help, r->name, r->type);
		if (!r->per_class) {
			evbuffer_add_printf(out, "%s %.0f\n", r->name,
					    r->get(d, 0));
			continue;
		}
		for (c = 0; c < SBC_CLASS_COUNT; c++)
			evbuffer_add_printf(out, "%s{class=\"%s\"} %.0f\n",
					    r->name, class_label[c],
					    r->get(d, c));
	}
	render_sip(d, out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct sbc_metrics *m = arg;
	struct evbuffer *body;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	body = evbuffer_new();
	if (body == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	sbc_metrics_render(m->d, body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

struct sbc_metrics *sbc_metrics_start(struct sbcd *d, const char *addr,
				      unsigned port, char *err, size_t errlen)
{
	struct sbc_metrics *m = calloc(1, sizeof(*m));
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (m == NULL) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	m->d = d;
	m->http = evhttp_new(d->base);
	if (m->http == NULL)
		goto out_fail;
	/* Scrapes are small and quick; a stuck scraper is let go. */
	evhttp_set_timeout(m->http, 10);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	if (evhttp_set_cb(m->http, "/metrics", on_request, m) != 0)
		goto out_fail;
	bs = evhttp_bind_socket_with_handle(m->http, addr, (uint16_t)port);
	if (bs == NULL) {
		err_set(err, errlen, "metrics: cannot listen on %s:%u", addr,
			port);
		goto out_free;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
			&len) == 0 &&
	    ss.ss_family == AF_INET)
		m->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return m;

out_fail:
	err_set(err, errlen, "metrics: out of memory");
out_free:
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
	return NULL;
}

void sbc_metrics_stop(struct sbc_metrics **mp)
{
	if (mp == NULL || *mp == NULL)
		return;
	evhttp_free((*mp)->http);
	free(*mp);
	*mp = NULL;
}

unsigned sbc_metrics_port(const struct sbc_metrics *m)
{
	return m != NULL ? m->port : 0;
}
