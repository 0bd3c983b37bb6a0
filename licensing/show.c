/*
 * lic show: `show license status` (licensing/show.h).
 */
#include "show.h"

#include "deadline.h"
#include "policy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
	const char *url = lic_agent_url(a);

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
	fputs("  Proxy:\n    Not Configured\n  VRF:\n    Not Configured\n",
	      out);
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

int lic_show_status(const struct lic_agent *a, int64_t now, FILE *out)
{
	bool privacy = lic_agent_privacy_hostname(a);

	fputs("Utility:\n  Status: DISABLED\n\n"
	      "Smart Licensing Using Policy:\n  Status: ENABLED\n\n"
	      "Account Information:\n  Smart Account: <none>\n"
	      "  Virtual Account: <none>\n\n",
	      out);
	fprintf(out,
		"Data Privacy:\n  Sending Hostname: %s\n"
		"    Callhome hostname privacy: DISABLED\n"
		"    Smart Licensing hostname privacy: %s\n"
		"  Version privacy: DISABLED\n\n",
		privacy ? "no" : "yes", privacy ? "ENABLED" : "DISABLED");
	put_transport(a, out);
	fputc('\n', out);
	if (lic_policy_render(lic_agent_policy(a), out) != 0)
		return -1;
	fputs("\nMiscellaneous:\n  Custom Id: <empty>\n\n", out);
	if (lic_agent_render_usage(a, now, out) != 0)
		return -1;
	fputc('\n', out);
	put_trust(a, out);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
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

	free(pj);
	if (lic_agent_trust_installed(a) != 0)
		trust = json_pack("{s:s, s:s, s:I}", "pid", u->pid, "sn",
				  u->sn, "installed",
				  (json_int_t)lic_agent_trust_installed(a));
	o = json_pack(
		"{s:{s:s}, s:{s:s}, s:{s:n, s:n}, s:{s:b, s:b},"
		" s:{s:s, s:s}, s:o*, s:{s:o, s:o, s:i, s:o, s:o, s:o, s:o},"
		" s:o*, s:s}",
		"utility", "status", "DISABLED", "slp", "status", "ENABLED",
		"account", "smart_account", "virtual_account", "data_privacy",
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
