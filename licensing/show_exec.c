/*
 * lic show: the exec views `show license udi`, `show license eventlog`
 * and `show license tech support` (licensing/show.h).
 */
#include "licensing/show.h"

#include "licensing/store.h"

#include <stdlib.h>
#include <string.h>

int lic_event_time_format(int64_t at_ms, char *buf, size_t len)
{
	return clk_format_utc(at_ms, buf, len);
}

int lic_show_udi(const struct lic_agent *a, FILE *out)
{
	const struct lic_udi *u = lic_agent_udi(a);

	fprintf(out, "UDI: PID:%s,SN:%s\n", u->pid, u->sn);
	return ferror(out) ? -1 : 0;
}

/* The newest max events since since_ms, one line each, oldest first. */
static int put_events(const struct lic_agent *a, int64_t since_ms,
		      size_t max, FILE *out)
{
	struct lic_store_event *ev = calloc(max, sizeof(*ev));
	char when[LIC_EVENT_TIME_LEN], err[256];
	size_t n = 0, i;
	int ret = -1;

	if (ev == NULL)
		return -1;
	if (lic_agent_events(a, since_ms, ev, max, &n, err, sizeof(err)) !=
	    0) {
		fprintf(out, "%% Event log not readable: %s\n", err);
		goto out_free;
	}
	fputs(" **** Event Log ****\n", out);
	for (i = 0; i < n; i++) {
		lic_event_time_format(ev[i].at_ms, when, sizeof(when));
		fprintf(out, "%s %s%s%s\n", when, ev[i].name,
			ev[i].attrs[0] ? " " : "", ev[i].attrs);
	}
	if (n == 0)
		fputs("No EventLog Found.\n", out);
	ret = ferror(out) ? -1 : 0;
out_free:
	free(ev);
	return ret;
}

int lic_show_eventlog(const struct lic_agent *a, int64_t now_ms,
		      unsigned days, FILE *out)
{
	int64_t since = days == 0 ? 0 : now_ms - (int64_t)days * 86400000;

	return put_events(a, since, LIC_SHOW_EVENTS_MAX, out);
}

static void section(const char *title, FILE *out)
{
	size_t i, n = strlen(title);

	fprintf(out, "\n%s\n", title);
	for (i = 0; i < n; i++)
		fputc('=', out);
	fputc('\n', out);
}

/* A Unix time for the counters block; "<none>" for 0. */
static void put_when(const char *label, int64_t t, FILE *out)
{
	char buf[LIC_TIME_STR_LEN];

	if (t <= 0) {
		fprintf(out, "%s<none>\n", label);
		return;
	}
	lic_time_format(t, buf, sizeof(buf));
	fprintf(out, "%s%s\n", label, buf);
}

int lic_show_tech(const struct lic_agent *a, int64_t now_ms,
		  const char *agent_version, FILE *out)
{
	const struct lic_agent_counters *c = lic_agent_counters(a);
	const struct lic_usage_times *t = lic_agent_times(a);
	int64_t now = now_ms / 1000;
	int rc = 0;

	fputs("Smart Licensing Tech Support info\n", out);
	section("Smart Licensing Status", out);
	rc |= lic_show_status(a, now, out);
	section("License Usage", out);
	rc |= lic_show_usage(a, now, out);
	section("Product Information", out);
	rc |= lic_show_udi(a, out);
	section("Agent Version", out);
	fprintf(out, "Smart Agent for Licensing: %s\n", agent_version);
	section("Communication Statistics", out);
	fprintf(out,
		"Usage Reporting:\n"
		"  Attempts: Total=%llu, Success=%llu, Fail=%llu\n"
		"  Retries: Success=%llu\n"
		"  ACKs installed: %llu\n",
		(unsigned long long)(c->reports_sent + c->push_failures),
		(unsigned long long)c->reports_sent,
		(unsigned long long)c->push_failures,
		(unsigned long long)c->retries_sent,
		(unsigned long long)c->acks_installed);
	put_when("  Last push: ", t->last_push, out);
	put_when("  Last ACK: ", t->last_ack, out);
	fprintf(out, "  Push in progress: %s\n",
		lic_agent_push_in_flight(a) ? "yes" : "no");
	if (c->last_error[0]) {
		put_when("Last Failure: ", c->last_error_at, out);
		fprintf(out, "  Reason: %s\n", c->last_error);
	} else {
		fputs("Last Failure: <none>\n", out);
	}
	section("License Event Log", out);
	rc |= put_events(a, 0, LIC_SHOW_TECH_EVENTS, out);
	return rc != 0 || ferror(out) ? -1 : 0;
}
