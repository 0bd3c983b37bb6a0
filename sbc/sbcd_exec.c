/*
 * sbcd's exec commands of the first day: show version, show clock,
 * show license udi / eventlog / tech support, show call-home
 * smart-licensing, license smart save usage {unreported | all | days},
 * clear call voice [causecode] (sbcd.h: sbcd_exec_command). Main thread,
 * never blocking, like the handlers in sbcd_cmds.c.
 */
#include "sbc/sbcd.h"

#include "common/clk.h"
#include "sbc/cmdtab.h"
#include "sbc/ctl.h"
#include "licensing/store.h"
#include "licensing/show.h"

#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

static int no_agent(struct evbuffer *out)
{
	evbuffer_add_printf(out, "%% The licensing agent is not running "
				 "(see the log).\n");
	return SBC_CTL_FAILED;
}

/* The text a FILE renderer wrote, into the reply. */
static int reply_from(struct evbuffer *out, int (*fn)(struct sbcd *d,
						    const void *arg,
						    FILE *f),
		      struct sbcd *d, const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL) {
		evbuffer_add_printf(out, "%% out of memory\n");
		return SBC_CTL_FAILED;
	}
	rc = fn(d, arg, f);
	if (fclose(f) != 0)
		rc = -1;
	if (buf != NULL)
		evbuffer_add(out, buf, len);
	free(buf);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

static const char *release_behaviour(const struct lic_release *r)
{
	switch (lic_release_model(r)) {
	case LIC_MODEL_SLR_LEGACY:
		return "Smart Licensing (registration)";
	case LIC_MODEL_SLP_SHUTDOWN:
		return "Smart Licensing Using Policy, SIP service Down past the "
		       "ACK deadline";
	case LIC_MODEL_SLP_WARN:
		return "Smart Licensing Using Policy, warnings only past the "
		       "ACK deadline";
	case LIC_MODEL_UNSUPPORTED:
	case LIC_MODEL_COUNT:
		break;
	}
	return "not supported";
}

static int put_version(struct sbcd *d, const void *arg, FILE *f)
{
	const struct sbc_settings *st =
		d->running != NULL ? sbc_config_settings(d->running) : NULL;
	const char *rel = st != NULL && st->license_release[0]
				  ? st->license_release
				  : LIC_AGENT_NEWEST_RELEASE;
	struct lic_release lr = {0};
	char up[CLK_STR_LEN], exe[PATH_MAX];
	struct utsname u;
	ssize_t n;

	(void)arg;
	if (st != NULL && st->license_release[0])
		lic_release_parse(st->license_release, &lr);
	fprintf(f, "sbcd SIP Trunk Border Element Software, Version %s\n",
		SBCD_VERSION);
	fputs("Copyright (c) the sbcd authors; open-source software.\n\n", f);
	clk_format_uptime(clk_mono_ms() - d->started_mono_ms, up, sizeof(up));
	fprintf(f, "%s uptime is %s\n", d->hostname, up);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? (size_t)n : 0] = '\0';
	fprintf(f, "System image file is \"%s\"\n",
		exe[0] ? exe : "<unknown>");
	fprintf(f, "Configuration file is \"%s\"\n\n", d->config_path);
	fprintf(f, "License release: %s\n", rel);
	fprintf(f, "  Behaviour: %s\n", release_behaviour(&lr));
	fprintf(f, "Smart Licensing Status: %s\n\n",
		lic_release_model(&lr) == LIC_MODEL_SLR_LEGACY
			? "Smart Licensing"
			: "Smart Licensing Using Policy");
	if (uname(&u) == 0)
		fprintf(f, "Platform: %s %s %s (%s)\n", u.sysname, u.release,
			u.machine, u.version);
	else
		fputs("Platform: <unknown>\n", f);
	if (d->agent != NULL) {
		const struct lic_udi *udi = lic_agent_udi(d->agent);

		fprintf(f, "Processor board ID %s\n", udi->sn);
		fprintf(f, "UDI: PID:%s,SN:%s\n", udi->pid, udi->sn);
	} else {
		fputs("UDI: <none> (licensing agent not running)\n", f);
	}
	return ferror(f) ? -1 : 0;
}

static int cmd_clock(struct evbuffer *out)
{
	char buf[CLK_STR_LEN];

	if (clk_format_ios(clk_wall_ms(), clk_authoritative(), buf,
			   sizeof(buf)) != 0) {
		evbuffer_add_printf(out, "%% The clock is out of range.\n");
		return SBC_CTL_FAILED;
	}
	evbuffer_add_printf(out, "%s\n", buf);
	return SBC_CTL_OK;
}

struct lic_view {
	const struct sbc_cmd_req *r;
	unsigned days;
};

static int put_lic_view(struct sbcd *d, const void *arg, FILE *f)
{
	const struct lic_view *v = arg;
	int64_t now_ms = clk_wall_ms();

	switch (v->r->cmd->id) {
	case SBC_CMD_SHOW_LIC_UDI:
		return lic_show_udi(d->agent, f);
	case SBC_CMD_SHOW_LIC_EVENTLOG:
		return lic_show_eventlog(d->agent, now_ms, v->days, f);
	case SBC_CMD_SHOW_LIC_TECH:
		return lic_show_tech(d->agent, now_ms, SBCD_AGENT_VERSION, f);
	default:
		break;
	}
	return -1;
}

/* A count argument 1..max; 0 when it is not one. */
static unsigned count_arg(const char *s, unsigned max)
{
	unsigned long v;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > max)
		return 0;
	return (unsigned)v;
}

static int cmd_lic_view(struct sbcd *d, const struct sbc_cmd_req *r,
			struct evbuffer *out)
{
	struct lic_view v = {r, 0};

	if (d->agent == NULL)
		return no_agent(out);
	if (r->cmd->id == SBC_CMD_SHOW_LIC_EVENTLOG && r->argc == 1) {
		v.days = count_arg(r->argv[0], LIC_STORE_EVENT_AGE_S / 86400);
		if (v.days == 0) {
			evbuffer_add_printf(out, "%% Bad days %s: expected "
						 "1..%d\n",
					    r->argv[0],
					    (int)(LIC_STORE_EVENT_AGE_S / 86400));
			return SBC_CTL_USAGE;
		}
	}
	return reply_from(out, put_lic_view, d, &v);
}

static int put_callhome(struct sbcd *d, const void *arg, FILE *f)
{
	const struct sbc_settings *st =
		d->running != NULL ? sbc_config_settings(d->running) : NULL;
	enum lic_transport_kind k = lic_agent_transport(d->agent);
	const char *url = lic_agent_url(d->agent);
	int64_t last = lic_agent_times(d->agent)->last_push;
	char when[LIC_TIME_STR_LEN];
	const char *proxy;
	unsigned port;

	(void)arg;
	fputs("Current smart-licensing transport settings:\n", f);
	fprintf(f, "  Smart-license messages: %s\n",
		k == LIC_TRANSPORT_OFF ? "disabled" : "enabled");
	fprintf(f, "  Transport: %s\n", lic_transport_name(k));
	if (k != LIC_TRANSPORT_OFF) {
		fprintf(f, "  Destination URL(s): %s\n",
			url[0] ? url : "<empty>");
		fprintf(f, "  CA file: %s\n",
			st != NULL && st->license_ca_file[0]
				? st->license_ca_file
				: "<none>");
		proxy = lic_agent_proxy(d->agent, &port);
		if (proxy[0] != '\0')
			fprintf(f, "  Proxy: %s port %u\n", proxy, port);
		else
			fputs("  Proxy: Not Configured\n", f);
	}
	lic_time_format(last, when, sizeof(when));
	fprintf(f, "  Last report sent: %s\n", when);
	return ferror(f) ? -1 : 0;
}

static int cmd_save(struct sbcd *d, const struct sbc_cmd_req *r,
		    struct evbuffer *out)
{
	/* The word after `usage` names the form. */
	const char *form = r->cmd->syntax + strlen("license smart save usage ");
	enum lic_save_mode mode = LIC_SAVE_UNREPORTED;
	char err[512], *text = NULL;
	unsigned days = 0;
	size_t len = 0;
	int n;

	if (d->agent == NULL)
		return no_agent(out);
	if (strncmp(form, "all ", 4) == 0) {
		mode = LIC_SAVE_ALL;
	} else if (strncmp(form, "days ", 5) == 0) {
		mode = LIC_SAVE_DAYS;
		days = count_arg(r->argv[0], LIC_AGENT_SAVE_DAYS_MAX);
		if (days == 0) {
			evbuffer_add_printf(out, "%% Bad days %s: expected "
						 "1..%u\n",
					    r->argv[0],
					    LIC_AGENT_SAVE_DAYS_MAX);
			return SBC_CTL_USAGE;
		}
	}
	n = lic_agent_save_usage_sel(d->agent, mode, days,
				     clk_wall_ms() / 1000, &text, &len, err,
				     sizeof(err));
	if (n < 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	/* The reply is the file; sbcctl writes it (ctl.h). */
	evbuffer_add(out, text, len);
	free(text);
	return SBC_CTL_OK;
}

/* A call id as `show call active voice brief` shows it (hex); 0 when the
 * argument is not one, with the reply said. */
static uint64_t call_id_arg(const char *arg, struct evbuffer *out)
{
	unsigned long long id;
	char *end;

	errno = 0;
	id = strtoull(arg, &end, 16);
	if (errno != 0 || *end != '\0' || end == arg || id == 0) {
		evbuffer_add_printf(out, "%% Bad call id %s\n", arg);
		return 0;
	}
	return (uint64_t)id;
}

static int cmd_clear_call(struct sbcd *d, const struct sbc_cmd_req *r,
			  struct evbuffer *out)
{
	uint64_t id = call_id_arg(r->argv[0], out);
	char err[256];

	if (id == 0)
		return SBC_CTL_USAGE;
	/* The B2BUA logs %SBC-5-CALL_CLEARED itself. */
	if (sbc_b2bua_clear_call(d->b2bua, id, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	return SBC_CTL_OK;
}

static int cmd_clear_cause(struct sbcd *d, const struct sbc_cmd_req *r,
			   struct evbuffer *out)
{
	unsigned cause = count_arg(r->argv[0], SBC_Q850_CAUSE_MAX);
	char err[256];
	uint64_t id;

	if (cause == 0) {
		evbuffer_add_printf(out, "%% Bad cause code %s: expected "
					 "1..%u\n",
				    r->argv[0], SBC_Q850_CAUSE_MAX);
		return SBC_CTL_USAGE;
	}
	id = call_id_arg(r->argv[1], out);
	if (id == 0)
		return SBC_CTL_USAGE;
	if (sbc_b2bua_clear_call_cause(d->b2bua, id, cause, err,
				       sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	return SBC_CTL_OK;
}

int sbcd_exec_command(struct sbcd *d, const struct sbc_cmd_req *r,
		      struct evbuffer *out)
{
	switch (r->cmd->id) {
	case SBC_CMD_SHOW_VERSION:
		return reply_from(out, put_version, d, NULL);
	case SBC_CMD_SHOW_CLOCK:
		return cmd_clock(out);
	case SBC_CMD_SHOW_LIC_UDI:
	case SBC_CMD_SHOW_LIC_EVENTLOG:
	case SBC_CMD_SHOW_LIC_TECH:
		return cmd_lic_view(d, r, out);
	case SBC_CMD_SHOW_CALLHOME:
		if (d->agent == NULL)
			return no_agent(out);
		return reply_from(out, put_callhome, d, NULL);
	case SBC_CMD_LIC_SAVE_USAGE:
		return cmd_save(d, r, out);
	case SBC_CMD_CLEAR_CALL:
		return cmd_clear_call(d, r, out);
	case SBC_CMD_CLEAR_CALL_CAUSE:
		return cmd_clear_cause(d, r, out);
	default:
		break;
	}
	evbuffer_add_printf(out, "%% Not an exec command.\n");
	return SBC_CTL_FAILED;
}
