/*
 * lic show: `show license status` (licensing/show.h).
 */
#include "licensing/show.h"

#include "licensing/deadline.h"
#include "licensing/store.h"
#include "licensing/policy.h"
#include "licensing/tag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *transport_type(enum lic_transport_kind k)
{
	switch (k) {
	case LIC_TRANSPORT_SMART:
		return "Smart";
	case LIC_TRANSPORT_CSLU:
		return "cslu";
	case LIC_TRANSPORT_OFF:
		break;
	}
	return "Transport Off";
}

static void put_transport(const struct lic_agent *a, FILE *out)
{
	const char *url = lic_agent_url(a), *proxy;
	unsigned port;

	fputs("Transport:\n", out);
	fprintf(out, "  Type: %s\n", transport_type(lic_agent_transport(a)));
	switch (lic_agent_transport(a)) {
	case LIC_TRANSPORT_SMART:
		fprintf(out, "  URL: %s\n", url[0] ? url : "<empty>");
		break;
	case LIC_TRANSPORT_CSLU:
		fprintf(out, "  Cslu address: %s\n", url[0] ? url : "<empty>");
		break;
	case LIC_TRANSPORT_OFF:
		return;
	}
	proxy = lic_agent_proxy(a, &port);
	if (proxy[0] != '\0')
		fprintf(out, "  Proxy:\n    Address: %s\n    Port: %u\n"
			     "    Username: <empty>\n    Password: <empty>\n",
			proxy, port);
	else
		fputs("  Proxy:\n    Not Configured\n", out);
	fputs("  VRF:\n    Not Configured\n", out);
}

static void put_trust(const struct lic_agent *a, FILE *out)
{
	const struct lic_udi *u = lic_agent_udi(a);
	int64_t when = lic_agent_trust_installed(a);
	char buf[LIC_TIME_STR_LEN];

	if (when == 0) {
		fputs("Trust Code Installed: <none>\n", out);
		return;
	}
	lic_time_format(when, buf, sizeof(buf));
	fprintf(out, "Trust Code Installed:\n  Active: PID:%s,SN:%s\n"
		     "    INSTALLED on %s\n",
		u->pid, u->sn, buf);
}

static void put_account(const struct lic_agent *a, FILE *out)
{
	const char *sa = lic_agent_smart_account(a);
	const char *va = lic_agent_virtual_account(a);
	char when[LIC_TIME_STR_LEN];

	fputs("Account Information:\n", out);
	if (sa[0] == '\0') {
		fputs("  Smart Account: <none>\n  Virtual Account: <none>\n\n",
		      out);
		return;
	}
	lic_time_format(lic_agent_trust_installed(a), when, sizeof(when));
	fprintf(out, "  Smart Account: %s As of %s\n  Virtual Account: %s\n\n",
		sa, when, va);
}

/* The status sections; `show license all` has Miscellaneous before
 * Policy, `show license status` after it, as IOS XE prints them. */
static int put_status(const struct lic_agent *a, int64_t now, bool all,
		      FILE *out)
{
	bool privacy = lic_agent_privacy_hostname(a);
	static const char misc[] = "Miscellaneous:\n  Custom Id: <empty>\n\n";

	fputs("Utility:\n  Status: DISABLED\n\n"
	      "Smart Licensing Using Policy:\n  Status: ENABLED\n\n",
	      out);
	put_account(a, out);
	fprintf(out,
		"Data Privacy:\n  Sending Hostname: %s\n"
		"    Callhome hostname privacy: DISABLED\n"
		"    Smart Licensing hostname privacy: %s\n"
		"  Version privacy: DISABLED\n\n",
		privacy ? "no" : "yes", privacy ? "ENABLED" : "DISABLED");
	put_transport(a, out);
	fputc('\n', out);
	if (all)
		fputs(misc, out);
	if (lic_policy_render(lic_agent_policy(a), out) != 0)
		return -1;
	fputc('\n', out);
	if (!all)
		fputs(misc, out);
	if (lic_agent_render_usage(a, now, out) != 0)
		return -1;
	fputc('\n', out);
	put_trust(a, out);
	return 0;
}

int lic_show_status(const struct lic_agent *a, int64_t now, FILE *out)
{
	if (put_status(a, now, false, out) != 0)
		return -1;
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

/* VGW is listed only while a TDM-SIP call uses it, as on CUBE. */
static bool tag_listed(enum lic_tag t, uint32_t count)
{
	return t != LIC_TAG_VGW || count > 0;
}

static const char *in_use(uint32_t count)
{
	return count > 0 ? "IN USE" : "NOT IN USE";
}

static void put_usage_blocks(const uint32_t count[LIC_TAG_COUNT], FILE *out)
{
	bool first = true;
	int t;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		const char *name = lic_tag_name((enum lic_tag)t);
		const char *desc = lic_tag_description((enum lic_tag)t);

		if (!tag_listed((enum lic_tag)t, count[t]))
			continue;
		fprintf(out,
			"%s%s (%s):\n  Description: %s\n  Count: %u\n"
			"  Version: 1.0\n  Status: %s\n"
			"  Export status: NOT RESTRICTED\n"
			"  Feature Name: %s\n  Feature Description: %s\n"
			"  Enforcement type: NOT ENFORCED\n"
			"  License type: Perpetual\n",
			first ? "" : "\n", lic_tag_license((enum lic_tag)t),
			name, desc, count[t], in_use(count[t]), name, desc);
		first = false;
	}
}

int lic_show_usage(const struct lic_agent *a, int64_t now, FILE *out)
{
	uint32_t count[LIC_TAG_COUNT];

	lic_agent_usage(a, now, count);
	fputs("License Authorization:\n  Status: Not Applicable\n\n", out);
	put_usage_blocks(count, out);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

int lic_show_summary(const struct lic_agent *a, int64_t now, FILE *out)
{
	uint32_t count[LIC_TAG_COUNT];
	char tag[64];
	int t;

	/* A row per entitlement as a CUBE lists it: the tag as the license
	 * and, in parentheses, as the entitlement tag. */
	lic_agent_usage(a, now, count);
	fputs("License Usage:\n"
	      "License                 Entitlement Tag               Count "
	      "Status\n"
	      "-----------------------------------------------------------"
	      "------------------\n",
	      out);
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		if (!tag_listed((enum lic_tag)t, count[t]))
			continue;
		snprintf(tag, sizeof(tag), "(%s)",
			 lic_tag_name((enum lic_tag)t));
		fprintf(out, "%-24s%-27s%8u %s\n",
			lic_tag_name((enum lic_tag)t), tag, count[t],
			in_use(count[t]));
	}
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

int lic_show_all(const struct lic_agent *a, int64_t now,
		 const char *agent_version, FILE *out)
{
	const struct lic_udi *u = lic_agent_udi(a);
	struct lic_store_summary sum;
	uint32_t count[LIC_TAG_COUNT];
	int t, collecting = 0;

	if (lic_agent_record_summary(a, &sum, NULL, 0) != 0)
		return -1;
	lic_agent_usage(a, now, count);
	fputs("Smart Licensing Status\n======================\n\n"
	      "Smart Licensing is ENABLED\n\n"
	      "Export Authorization Key:\n  Features Authorized:\n"
	      "    <none>\n\n",
	      out);
	if (put_status(a, now, true, out) != 0)
		return -1;
	fputs("\nLicense Usage\n=============\n\n", out);
	put_usage_blocks(count, out);
	fprintf(out,
		"\nProduct Information\n===================\n"
		"UDI: PID:%s,SN:%s\n\n"
		"Agent Version\n=============\n"
		"Smart Agent for Licensing: %s\n\n"
		"License Authorizations\n======================\n"
		"Overall status:\n  Active: PID:%s,SN:%s\n"
		"      Status: NOT INSTALLED\n\n"
		"Purchased Licenses:\n  No Purchase Information Available\n\n",
		u->pid, u->sn, agent_version, u->pid, u->sn);
	/* Collecting Data: the entitlements the open period measures. */
	for (t = 0; t < LIC_TAG_COUNT; t++)
		collecting += lic_agent_period_start(a) > 0 &&
			      tag_listed((enum lic_tag)t, count[t]);
	fprintf(out,
		"Usage Report Summary:\n=====================\n"
		"Total: %lld,  Purged: %lld\n"
		"Total Acknowledged Received: %lld,  Waiting for Ack: %lld\n"
		"Available to Report: %lld  Collecting Data: %d\n",
		(long long)(sum.stored + sum.purged), (long long)sum.purged,
		(long long)(sum.acked + sum.purged), (long long)sum.waiting,
		(long long)sum.unreported, collecting);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

/* The listed entitlements as JSON rows. */
static json_t *usage_json(const uint32_t count[LIC_TAG_COUNT])
{
	json_t *rows = json_array();
	int t;

	for (t = 0; rows != NULL && t < LIC_TAG_COUNT; t++) {
		if (!tag_listed((enum lic_tag)t, count[t]))
			continue;
		json_array_append_new(
			rows,
			json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "tag",
				  lic_tag_name((enum lic_tag)t), "license",
				  lic_tag_license((enum lic_tag)t), "description",
				  lic_tag_description((enum lic_tag)t),
				  "count", (int)count[t],
				  "status", in_use(count[t]), "enforcement",
				  "NOT ENFORCED", "license_type", "Perpetual"));
	}
	return rows;
}

json_t *lic_show_usage_json(const struct lic_agent *a, int64_t now)
{
	uint32_t count[LIC_TAG_COUNT];

	lic_agent_usage(a, now, count);
	return json_pack("{s:o*}", "licenses", usage_json(count));
}

json_t *lic_show_all_json(const struct lic_agent *a, int64_t now,
			  const char *agent_version)
{
	const struct lic_udi *u = lic_agent_udi(a);
	struct lic_store_summary sum;
	uint32_t count[LIC_TAG_COUNT];
	int t, collecting = 0;

	if (lic_agent_record_summary(a, &sum, NULL, 0) != 0)
		return NULL;
	lic_agent_usage(a, now, count);
	for (t = 0; t < LIC_TAG_COUNT; t++)
		collecting += lic_agent_period_start(a) > 0 &&
			      tag_listed((enum lic_tag)t, count[t]);
	return json_pack(
		"{s:o*, s:o*, s:{s:s, s:s}, s:s,"
		" s:{s:I, s:I, s:I, s:I, s:I, s:i}}",
		"status", lic_show_status_json(a, now), "licenses",
		usage_json(count), "udi", "pid", u->pid, "sn", u->sn,
		"agent_version", agent_version, "usage_report_summary",
		"total", (json_int_t)(sum.stored + sum.purged), "purged",
		(json_int_t)sum.purged, "acknowledged",
		(json_int_t)(sum.acked + sum.purged), "waiting_for_ack",
		(json_int_t)sum.waiting, "available_to_report",
		(json_int_t)sum.unreported, "collecting_data", collecting);
}

/* A time as Unix seconds, or null for "none". */
static json_t *jtime(int64_t t)
{
	return t == LIC_TIME_NONE ? json_null() : json_integer(t);
}

json_t *lic_show_status_json(const struct lic_agent *a, int64_t now)
{
	const struct lic_usage_times *t = lic_agent_times(a);
	const struct lic_policy *p = lic_agent_policy(a);
	const struct lic_udi *u = lic_agent_udi(a);
	char *pj = lic_policy_to_json(p);
	json_t *policy = pj != NULL ? json_loads(pj, 0, NULL) : NULL;
	json_t *trust = json_null(), *o;
	const char *sa = lic_agent_smart_account(a);
	const char *va = lic_agent_virtual_account(a);
	json_t *acc_sa = sa[0] ? json_string(sa) : json_null();
	json_t *acc_va = va[0] ? json_string(va) : json_null();

	free(pj);
	if (lic_agent_trust_installed(a) != 0)
		trust = json_pack("{s:s, s:s, s:I}", "pid", u->pid, "sn",
				  u->sn, "installed",
				  (json_int_t)lic_agent_trust_installed(a));
	o = json_pack(
		"{s:{s:s}, s:{s:s}, s:{s:o, s:o}, s:{s:b, s:b},"
		" s:{s:s, s:s}, s:o*, s:{s:o, s:o, s:i, s:o, s:o, s:o, s:o},"
		" s:o*, s:s}",
		"utility", "status", "DISABLED", "slp", "status", "ENABLED",
		"account", "smart_account", acc_sa, "virtual_account", acc_va,
		"data_privacy",
		"sending_hostname", !lic_agent_privacy_hostname(a),
		"smart_licensing_hostname_privacy",
		lic_agent_privacy_hostname(a), "transport", "type",
		lic_transport_name(lic_agent_transport(a)), "url",
		lic_agent_url(a), "policy", policy, "usage_reporting",
		"last_ack_received", jtime(t->last_ack), "next_ack_deadline",
		jtime(lic_next_ack_deadline(p, LIC_GROUP_CUBE, t)),
		"reporting_push_interval_days", (int)t->push_interval_days,
		"next_ack_push_check", jtime(lic_next_ack_check(t, now)),
		"next_report_push",
		jtime(lic_next_report_push(p, LIC_GROUP_CUBE, t, now)),
		"last_report_push", jtime(t->last_push),
		"last_report_file_write", jtime(t->last_file_write),
		"trust_code_installed", trust, "sip_service",
		lic_agent_service_up(a) ? "Up" : "Down");
	return o;
}

/* Records listed per tag by `show voice sip license status`. */
#define RECENT_PER_TAG 3

static const char *record_state(const struct lic_store_record *r)
{
	if (r->acked_at != 0)
		return "ACKED";
	return r->report_id[0] ? "REPORTED" : "UNREPORTED";
}

/* The result column, in the words of CUBE's request table. */
static const char *record_result(const struct lic_store_record *r)
{
	if (r->acked_at != 0)
		return "Acknowledged";
	return r->report_id[0] ? "Reported" : "Not reported";
}

/*
 * Times as `show voice sip license status` prints them on a CUBE:
 * "Nov 25 2019 14:46:41 UTC" (year before the time), "<none>" for none.
 */
static void sip_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || t > LIC_TIME_MAX || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "<none>");
		return;
	}
	strftime(buf, len, "%b %d %Y %H:%M:%S UTC", &tm);
}

int lic_show_sip_status(const struct lic_agent *a, int64_t now, FILE *out)
{
	static const char rule[] =
		"-----------------------------------------------------------\n";
	struct lic_periodicity per = lic_agent_periodicity(a);
	const struct lic_release *rel = lic_agent_release(a);
	struct lic_store_record rec[RECENT_PER_TAG];
	char rtext[LIC_TEXT_MAX + 1], t1[LIC_TIME_STR_LEN],
		left[LIC_LEFT_STR_LEN];
	int64_t start = lic_agent_period_start(a);
	const char *host = lic_agent_hostname(a);
	size_t n, i;
	int t;

	/* CUBE's three lines first: scripts look for "SIP service: ". */
	sip_time(now, t1, sizeof(t1));
	fprintf(out, "\nHost Name: %s\nCurrent Time: %s\nSIP service: %s\n",
		host[0] ? host : "<none>", t1,
		lic_agent_service_up(a) ? "Up" : "Down");
	fprintf(out, "License record interval: %u %s\n", per.value,
		per.unit == LIC_PERIOD_HOURS ? "Hour(s)" : "Day(s)");
	sip_time(start > 0 ? lic_agent_period_end(a) : 0, t1, sizeof(t1));
	fprintf(out, "Next record at: %s\n", t1);
	sip_time(start, t1, sizeof(t1));
	fprintf(out, "Current period start: %s\n", t1);
	lic_release_format(rel, rtext, sizeof(rtext));
	fprintf(out, "License release: %s (%s)\n",
		rtext[0] ? rtext : LIC_AGENT_NEWEST_RELEASE,
		lic_release_shuts_down(rel)
			? "SIP service goes Down when the ACK deadline passes"
			: "warnings only when the ACK deadline passes");
	sip_time(lic_agent_next_deadline(a), t1, sizeof(t1));
	lic_time_left(lic_agent_next_deadline(a), now, left, sizeof(left));
	fprintf(out, "Next ACK deadline: %s\nTime to ACK deadline: %s\n", t1,
		left);
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		if (lic_agent_recent_records(a, (enum lic_tag)t, rec,
					     RECENT_PER_TAG, &n, NULL,
					     0) != 0)
			return -1;
		/* Standard always, as CUBE; the others once they have any. */
		if (n == 0 && t != LIC_TAG_STD)
			continue;
		fprintf(out, "Recent record(s) for %s\n%s", lic_tag_name(t),
			rule);
		fprintf(out, "%-26s%5s %s\n%s", "Timestamp", "Count", "Result",
			rule);
		for (i = 0; i < n; i++) {
			sip_time(rec[i].rec.end, t1, sizeof(t1));
			fprintf(out, "%-26s%5u %s\n", t1, rec[i].rec.count,
				record_result(&rec[i]));
		}
	}
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

json_t *lic_show_sip_status_json(const struct lic_agent *a, int64_t now)
{
	struct lic_periodicity per = lic_agent_periodicity(a);
	const struct lic_release *rel = lic_agent_release(a);
	struct lic_store_record rec[RECENT_PER_TAG];
	char rtext[LIC_TEXT_MAX + 1];
	int64_t start = lic_agent_period_start(a);
	json_t *rows = json_array();
	size_t n, i;
	int t;

	(void)now;
	for (t = 0; rows != NULL && t < LIC_TAG_COUNT; t++) {
		if (lic_agent_recent_records(a, (enum lic_tag)t, rec,
					     RECENT_PER_TAG, &n, NULL,
					     0) != 0) {
			json_decref(rows);
			return NULL;
		}
		for (i = 0; i < n; i++)
			json_array_append_new(
				rows, json_pack("{s:s, s:I, s:I, s:i, s:s}",
						"tag",
						lic_tag_name((enum lic_tag)t),
						"start",
						(json_int_t)rec[i].rec.start,
						"end", (json_int_t)rec[i].rec.end,
						"count", (int)rec[i].rec.count,
						"state", record_state(&rec[i])));
	}
	lic_release_format(rel, rtext, sizeof(rtext));
	return json_pack(
		"{s:s, s:s, s:b, s:{s:i, s:s}, s:o, s:o, s:o, s:o*}",
		"sip_service", lic_agent_service_up(a) ? "Up" : "Down",
		"release", rtext[0] ? rtext : LIC_AGENT_NEWEST_RELEASE,
		"shuts_down", lic_release_shuts_down(rel), "periodicity",
		"value", (int)per.value, "unit",
		per.unit == LIC_PERIOD_HOURS ? "hours" : "days",
		"period_start", start > 0 ? json_integer(start) : json_null(),
		"next_record",
		start > 0 ? json_integer(lic_agent_period_end(a))
			  : json_null(),
		"next_ack_deadline", jtime(lic_agent_next_deadline(a)),
		"recent_records", rows);
}
