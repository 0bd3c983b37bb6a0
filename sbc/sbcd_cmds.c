/*
 * sbcd's control-socket commands: the handlers behind the table in
 * cmdtab.c. Each runs on the main thread, reads the state it shows there
 * (the usage tables, the agent), and never blocks: a command that needs
 * the network (trust) starts the exchange and answers later (ctl.h).
 */
#include "sbc/sbcd.h"

#include "common/clk.h"
#include "sbc/cmdtab.h"
#include "sbc/ctl.h"
#include "common/log.h"
#include "licensing/policy.h"
#include "stats/render.h"
#include "licensing/show.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A FILE that collects a renderer's output, then lands in the reply. */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
};

static int sink_open(struct sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	return s->f != NULL ? 0 : -1;
}

static void sink_close(struct sink *s, struct evbuffer *out)
{
	if (fclose(s->f) == 0 && s->buf != NULL)
		evbuffer_add(out, s->buf, s->len);
	free(s->buf);
}

static int reply_json(json_t *o, struct evbuffer *out)
{
	char *text;

	if (o == NULL) {
		evbuffer_add_printf(out, "%% out of memory\n");
		return SBC_CTL_FAILED;
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL) {
		evbuffer_add_printf(out, "%% out of memory\n");
		return SBC_CTL_FAILED;
	}
	evbuffer_add_printf(out, "%s\n", text);
	free(text);
	return SBC_CTL_OK;
}

static int no_agent(struct evbuffer *out)
{
	evbuffer_add_printf(out, "%% The licensing agent is not running "
				 "(see the log).\n");
	return SBC_CTL_FAILED;
}

/* {"CLASS": {"seconds": [row1, row2, ...], ...}, ...}; null = no value. */
static json_t *stats_json(struct sbcd *d, int cls, int64_t now_ms)
{
	static const char *const tables[STATS_TABLE_COUNT] = {
		"seconds", "minutes", "hours", "days"};
	uint32_t v[STATS_MAX_ROWS];
	bool valid[STATS_MAX_ROWS];
	json_t *o = json_object(), *classes = json_object();
	int c, t;
	size_t i, n;

	if (o == NULL || classes == NULL)
		goto out_fail;
	json_object_set_new(o, "hostname", json_string(d->hostname));
	json_object_set_new(o, "now", json_integer(now_ms / 1000));
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		json_t *jc;

		if (cls != STATS_RENDER_ALL && cls != c)
			continue;
		jc = json_object();
		for (t = 0; jc != NULL && t < STATS_TABLE_COUNT; t++) {
			json_t *rows = json_array();

			n = stats_read(d->stats, (enum stats_class)c,
				       (enum stats_table)t, now_ms, v, valid,
				       STATS_MAX_ROWS);
			for (i = 0; rows != NULL && i < n; i++)
				json_array_append_new(
					rows, valid[i] ? json_integer(v[i])
						       : json_null());
			json_object_set_new(jc, tables[t], rows);
		}
		json_object_set_new(classes,
				    stats_class_name((enum stats_class)c), jc);
	}
	json_object_set_new(o, "classes", classes);
	return o;

out_fail:
	json_decref(o);
	json_decref(classes);
	return NULL;
}

static int cmd_stats(struct sbcd *d, const struct sbc_cmd_req *r,
		     struct evbuffer *out)
{
	int64_t now_ms = clk_wall_ms();
	int cls = STATS_RENDER_ALL, rc;
	struct sink s;

	if (r->argc == 1) {
		cls = stats_class_parse(r->argv[0]);
		if (cls < 0) {
			evbuffer_add_printf(out,
					    "%% Unknown class %s: expected "
					    "STANDARD, ENHANCED, REDUNDANT, "
					    "VGW or AGGREGATE\n",
					    r->argv[0]);
			return SBC_CTL_USAGE;
		}
	}
	if (r->json)
		return reply_json(stats_json(d, cls, now_ms), out);
	if (sink_open(&s) != 0)
		return SBC_CTL_FAILED;
	if (r->cmd->id == SBC_CMD_SHOW_STATS_TABLE)
		rc = stats_render_table(d->stats, cls, now_ms, d->hostname,
					s.f);
	else
		rc = stats_render_graph(d->stats, cls, now_ms, d->hostname,
					s.f);
	sink_close(&s, out);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

/* The `show license ...` commands: text renderer and JSON builder. */
static int cmd_license_show(struct sbcd *d, const struct sbc_cmd_req *r,
			    struct evbuffer *out)
{
	int64_t now = clk_wall_ms() / 1000;
	json_t *j = NULL;
	struct sink s;
	int rc = -1;

	if (d->agent == NULL)
		return no_agent(out);
	if (r->json) {
		switch (r->cmd->id) {
		case SBC_CMD_SHOW_LIC_STATUS:
			j = lic_show_status_json(d->agent, now);
			break;
		case SBC_CMD_SHOW_LIC_ALL:
			j = lic_show_all_json(d->agent, now, SBCD_AGENT_VERSION);
			break;
		case SBC_CMD_SHOW_SIP_LIC:
			j = lic_show_sip_status_json(d->agent, now);
			break;
		default: /* usage and summary show the same rows */
			j = lic_show_usage_json(d->agent, now);
			break;
		}
		return reply_json(j, out);
	}
	if (sink_open(&s) != 0)
		return SBC_CTL_FAILED;
	switch (r->cmd->id) {
	case SBC_CMD_SHOW_LIC_STATUS:
		rc = lic_show_status(d->agent, now, s.f);
		break;
	case SBC_CMD_SHOW_LIC_USAGE:
		rc = lic_show_usage(d->agent, now, s.f);
		break;
	case SBC_CMD_SHOW_LIC_SUMMARY:
		rc = lic_show_summary(d->agent, now, s.f);
		break;
	case SBC_CMD_SHOW_LIC_ALL:
		rc = lic_show_all(d->agent, now, SBCD_AGENT_VERSION, s.f);
		break;
	case SBC_CMD_SHOW_SIP_LIC:
		rc = lic_show_sip_status(d->agent, now, s.f);
		break;
	default:
		break;
	}
	sink_close(&s, out);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

static int cmd_cube_status(struct sbcd *d, const struct sbc_cmd_req *r,
			   struct evbuffer *out)
{
	const struct sbc_settings *st =
		d->running != NULL ? sbc_config_settings(d->running) : NULL;
	uint32_t cur[SBC_CLASS_COUNT];
	bool up = sbc_b2bua_service_up(d->b2bua);
	const char *rel = st != NULL && st->license_release[0]
				  ? st->license_release
				  : LIC_AGENT_NEWEST_RELEASE;
	int c;

	sbc_counters_current(d->counters, cur);
	if (r->json) {
		json_t *calls = json_object();

		for (c = 0; c < SBC_CLASS_COUNT; c++)
			json_object_set_new(calls, sbc_class_name(c),
					    json_integer(cur[c]));
		return reply_json(
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:o}",
				  "cube_version", SBCD_VERSION, "sw_version",
				  SBCD_AGENT_VERSION, "ha_type", "none",
				  "license_release", rel, "sip_service",
				  up ? "Up" : "Down", "calls",
				  (int)sbc_b2bua_calls(d->b2bua),
				  "licensed_sessions", calls),
			out);
	}
	evbuffer_add_printf(out,
			    "CUBE-Version : %s\nSW-Version : %s, Platform "
			    "%s\nHA-Type : none\nLicense release : %s\n"
			    "SIP service : %s\nCalls active : %u\n",
			    SBCD_VERSION, SBCD_AGENT_VERSION,
			    LIC_AGENT_DEFAULT_PID, rel, up ? "Up" : "Down",
			    sbc_b2bua_calls(d->b2bua));
	for (c = 0; c < SBC_CLASS_COUNT; c++)
		evbuffer_add_printf(out, "  %-10s: %u\n", sbc_class_name(c),
				    cur[c]);
	return SBC_CTL_OK;
}

static int cmd_running(struct sbcd *d, const struct sbc_cmd_req *r,
		       struct evbuffer *out)
{
	struct sink s;
	int rc;

	if (d->running == NULL) {
		evbuffer_add_printf(out, "%% No copy of the running "
					 "configuration (see the log).\n");
		return SBC_CTL_FAILED;
	}
	if (sink_open(&s) != 0)
		return SBC_CTL_FAILED;
	rc = sbc_config_write(d->running, s.f);
	if (fflush(s.f) != 0)
		rc = -1;
	if (r->json) {
		json_t *j = rc == 0 ? json_pack("{s:s%}", "config", s.buf, s.len)
				    : NULL;

		fclose(s.f);
		free(s.buf);
		if (j == NULL) {
			evbuffer_add_printf(out, "%% The configuration could "
						 "not be written as JSON.\n");
			return SBC_CTL_FAILED;
		}
		return reply_json(j, out);
	}
	/* The IOS preamble, then the canonical text. */
	evbuffer_add_printf(out, "Building configuration...\n\n"
				 "Current configuration : %zu bytes\n",
			    s.len);
	sink_close(&s, out);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

/*
 * A dial-peer is operational as on IOS: a destination-pattern with a
 * session target (voip) or a port (pots), or an incoming called-number.
 */
static bool dp_oper(const struct sbc_dialpeer_cfg *dp)
{
	bool reach = dp->kind == SBC_DP_VOIP ? dp->has_target : dp->port[0];

	return (dp->destination[0] && reach) || dp->incoming_called[0];
}

static void dp_target(const struct sbc_dialpeer_cfg *dp, char *buf,
		      size_t len)
{
	if (dp->kind == SBC_DP_VOIP && dp->has_target && dp->target_dns &&
	    dp->target_port == 0)
		snprintf(buf, len, "dns:%s", dp->target_host);
	else if (dp->kind == SBC_DP_VOIP && dp->has_target && dp->target_dns)
		snprintf(buf, len, "dns:%s:%u", dp->target_host,
			 dp->target_port);
	else if (dp->kind == SBC_DP_VOIP && dp->has_target)
		snprintf(buf, len, "ipv4:%s:%u", dp->target_addr,
			 dp->target_port);
	else
		buf[0] = '\0';
}

static int cmd_dialpeers(struct sbcd *d, const struct sbc_cmd_req *r,
			 struct evbuffer *out)
{
	size_t i, n;
	char target[300], resolved[64], line[1400];
	json_t *rows = NULL;
	int n_line;

	if (d->running == NULL) {
		evbuffer_add_printf(out, "%% No copy of the running "
					 "configuration (see the log).\n");
		return SBC_CTL_FAILED;
	}
	n = sbc_config_dialpeer_count(d->running);
	if (r->json)
		rows = json_array();
	else
		evbuffer_add_printf(
			out, "dial-peer hunt 0\n"
			     "             AD                                  "
			     "  PRE PASS                     OUT\n"
			     "TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN     "
			     " FER THRU SESS-TARGET         STAT PORT      "
			     "KEEPALIVE RESOLVED\n");
	for (i = 0; i < n; i++) {
		const struct sbc_dialpeer_cfg *dp =
			sbc_config_dialpeer(d->running, i);
		const char *type = dp->kind == SBC_DP_VOIP ? "voip" : "pots";
		const char *ka = sbc_b2bua_peer_keepalive(d->b2bua, dp->tag);

		sbc_b2bua_peer_resolved(d->b2bua, dp->tag, resolved,
					sizeof(resolved));
		dp_target(dp, target, sizeof(target));
		if (rows != NULL) {
			json_array_append_new(
				rows,
				json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:i,"
					  " s:s, s:s, s:s, s:s, s:s, s:s}",
					  "tag", (int)dp->tag, "type", type,
					  "admin", "up", "oper",
					  dp_oper(dp) ? "up" : "down",
					  "destination_pattern",
					  dp->destination, "incoming_called",
					  dp->incoming_called, "preference",
					  (int)dp->preference, "session_target",
					  target, "transport",
					  sbc_transport_name(dp->transport),
					  "port", dp->port, "description",
					  dp->description, "keepalive", ka,
					  "resolved", resolved));
			continue;
		}
		n_line = snprintf(line, sizeof(line),
				  "%-6u %-5s up   %-4s %-9s %-17s %3u syst "
				  "%-20s %-4s %-9s %-9s %s",
				  dp->tag, type, dp_oper(dp) ? "up" : "down",
				  "", dp->destination, dp->preference, target,
				  dp->kind == SBC_DP_VOIP ? "" : "up",
				  dp->port, ka, resolved);
		/* Empty last columns leave no trailing blanks. */
		if (n_line < 0)
			continue;
		n_line = n_line < (int)sizeof(line) ? n_line
						    : (int)sizeof(line) - 1;
		while (n_line > 0 && line[n_line - 1] == ' ')
			n_line--;
		evbuffer_add_printf(out, "%.*s\n", n_line, line);
	}
	if (r->json)
		return reply_json(json_pack("{s:o*}", "dial_peers", rows),
				  out);
	return SBC_CTL_OK;
}

static int cmd_logging(struct sbcd *d, const struct sbc_cmd_req *r,
		       struct evbuffer *out)
{
	size_t cap = (size_t)LOG_RING_LINES * LOG_LINE_MAX, len;
	char *buf = malloc(cap);
	int rc = SBC_CTL_OK;

	(void)d;
	if (buf == NULL)
		return SBC_CTL_FAILED;
	len = log_recent(buf, cap);
	if (r->json) {
		json_t *lines = json_array();
		char *p = buf, *nl;

		while (lines != NULL && (nl = strchr(p, '\n')) != NULL) {
			json_array_append_new(lines,
					      json_stringn(p, (size_t)(nl - p)));
			p = nl + 1;
		}
		rc = reply_json(json_pack("{s:b, s:b, s:o*}", "syslog",
					  log_syslog_on(), "debug_cube_sl",
					  log_debug_on(LOG_DEBUG_CUBE_SL),
					  "lines", lines),
				out);
	} else {
		evbuffer_add_printf(
			out,
			"Syslog logging: %s\n"
			"    Console logging: level informational\n"
			"    Debug license feature cube: %s\n\n"
			"Log Buffer (%zu lines):\n\n",
			log_syslog_on() ? "enabled" : "disabled",
			log_debug_on(LOG_DEBUG_CUBE_SL) ? "on" : "off",
			log_recent_count());
		evbuffer_add(out, buf, len);
	}
	free(buf);
	return rc;
}

static int cmd_calls(struct sbcd *d, const struct sbc_cmd_req *r,
		     struct evbuffer *out)
{
	struct sbc_call_view *v = NULL;
	int64_t now = clk_wall_ms();
	char err[256];
	struct sink s;
	size_t n = 0;
	int rc;

	if (sbc_b2bua_snapshot(d->b2bua, &v, &n, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	if (r->json) {
		rc = reply_json(sbc_callview_json(v, n, now), out);
		sbc_b2bua_snapshot_free(&v);
		return rc;
	}
	if (sink_open(&s) != 0) {
		sbc_b2bua_snapshot_free(&v);
		return SBC_CTL_FAILED;
	}
	rc = sbc_callview_render_brief(v, n, now, s.f);
	sink_close(&s, out);
	sbc_b2bua_snapshot_free(&v);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

static int cmd_sipua(struct sbcd *d, const struct sbc_cmd_req *r,
		     struct evbuffer *out)
{
	struct sbc_sipstats *st = sbc_b2bua_sipstats(d->b2bua);
	struct sink s;
	int rc;

	if (r->json)
		return reply_json(sbc_sipstats_json(st), out);
	if (sink_open(&s) != 0)
		return SBC_CTL_FAILED;
	rc = sbc_sipstats_render(st, s.f);
	sink_close(&s, out);
	return rc == 0 ? SBC_CTL_OK : SBC_CTL_FAILED;
}

static int cmd_debug(struct sbcd *d, const struct sbc_cmd_req *r,
		     struct evbuffer *out)
{
	bool on = r->cmd->id == SBC_CMD_DEBUG_CUBE;

	(void)d;
	log_debug_set(LOG_DEBUG_CUBE_SL, on);
	evbuffer_add_printf(out, on ? "License feature CUBE debugging is on\n"
				    : "All possible debugging has been turned "
				      "off\n");
	return SBC_CTL_OK;
}

static int cmd_trust(struct sbcd *d, const struct sbc_cmd_req *r,
		     struct evbuffer *out)
{
	/* The last word of the `force` form is the keyword itself. */
	bool force = strcasecmp(r->cmd->syntax + strlen(r->cmd->syntax) - 5,
				"force") == 0;
	char err[256];

	if (d->agent == NULL)
		return no_agent(out);
	if (lic_agent_trust(d->agent, r->argv[0], force, clk_wall_ms() / 1000,
			    err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	/* As on IOS the command waits for the outcome (at most
	 * SBCD_TRUST_WAIT_MS; sbcd_trust_check answers). Only one waits at
	 * a time: the agent has one trust request in flight. */
	d->trust_wait = sbc_ctl_defer(d->ctl);
	if (d->trust_wait == NULL) {
		evbuffer_add_printf(out, "Trust request sent to the license "
					 "server.\n");
		return SBC_CTL_OK;
	}
	d->trust_wait_until_ms = clk_mono_ms() + SBCD_TRUST_WAIT_MS;
	return SBC_CTL_DEFERRED;
}

void sbcd_trust_check(struct sbcd *d, bool stopping)
{
	char text[512];
	const char *why;

	if (d->trust_wait == NULL)
		return;
	if (stopping) {
		sbc_ctl_answer(&d->trust_wait, SBC_CTL_FAILED,
			       "% sbcd is stopping; trust not established\n");
		return;
	}
	if (d->agent != NULL && lic_agent_trust_in_flight(d->agent)) {
		if (clk_mono_ms() < d->trust_wait_until_ms)
			return;
		snprintf(text, sizeof(text),
			 "%% No answer from the license server within %d s; "
			 "the outcome will be logged and shown by `show "
			 "license status`.\n",
			 SBCD_TRUST_WAIT_MS / 1000);
		sbc_ctl_answer(&d->trust_wait, SBC_CTL_FAILED, text);
		return;
	}
	why = d->agent != NULL ? lic_agent_trust_error(d->agent) : "no agent";
	if (why[0] != '\0' || d->agent == NULL ||
	    !lic_agent_trusted(d->agent)) {
		snprintf(text, sizeof(text), "%% Trust not established: %s\n",
			 why[0] != '\0' ? why : "see the log");
		sbc_ctl_answer(&d->trust_wait, SBC_CTL_FAILED, text);
		return;
	}
	sbc_ctl_answer(&d->trust_wait, SBC_CTL_OK,
		       "Trust established with the license server.\n");
}

static int cmd_sync(struct sbcd *d, const struct sbc_cmd_req *r,
		    struct evbuffer *out)
{
	char err[256];

	(void)r;
	if (d->agent == NULL)
		return no_agent(out);
	if (lic_agent_sync(d->agent, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	/* The push starts at once; its outcome is logged and shown by
	 * `show license status`. */
	lic_agent_tick(d->agent, clk_wall_ms() / 1000);
	return SBC_CTL_OK;
}

/* import: the file's bytes came with the request (sbcctl read them). */
static int cmd_import(struct sbcd *d, const struct sbc_cmd_req *r,
		      const void *data, size_t len, struct evbuffer *out)
{
	char err[512];

	if (d->agent == NULL)
		return no_agent(out);
	if (data == NULL) {
		evbuffer_add_printf(out, "%% No file came with the request: "
					 "sbcctl sends the file it reads.\n");
		return SBC_CTL_FAILED;
	}
	if (lic_agent_import_buf(d->agent, r->argv[0], data, len,
				 clk_wall_ms() / 1000, err,
				 sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%% %s\n", err);
		return SBC_CTL_FAILED;
	}
	/* The SIP-service flag follows an installed ACK at once. */
	lic_agent_tick(d->agent, clk_wall_ms() / 1000);
	evbuffer_add_printf(out, "Import Data Successful\n");
	return SBC_CTL_OK;
}

static int cmd_reload(struct sbcd *d, const struct sbc_cmd_req *r,
		      struct evbuffer *out)
{
	(void)r;
	if (sbcd_reload(d) != 0) {
		evbuffer_add_printf(out, "%% Configuration not reloaded; the "
					 "old one stays (see the log).\n");
		return SBC_CTL_FAILED;
	}
	return SBC_CTL_OK;
}

static int cmd_test_clock(struct sbcd *d, const struct sbc_cmd_req *r,
			  struct evbuffer *out)
{
	long long secs = sbc_cmd_duration_s(r->argv[0]);
	char when[LIC_TIME_STR_LEN];

	if (!d->test_clock) {
		evbuffer_add_printf(out, "%% The test clock is off: start sbcd "
					 "with --test-clock.\n");
		return SBC_CTL_FAILED;
	}
	if (secs < 0) {
		evbuffer_add_printf(out, "%% Bad duration %s: expected "
					 "<N>{s|m|h|d}\n",
				    r->argv[0]);
		return SBC_CTL_USAGE;
	}
	if (sbcd_advance_test_clock(d, (int64_t)secs * 1000) != 0) {
		evbuffer_add_printf(out, "%% The clock cannot move.\n");
		return SBC_CTL_FAILED;
	}
	log_msg(LOG_LVL_NOTICE, "SBC", "TEST_CLOCK",
		"test clock advanced by %lld s", secs);
	/* Tables and agent catch up before the reply, so the next command
	 * sees the new time's state. */
	sbcd_sample(d);
	lic_time_format(clk_wall_ms() / 1000, when, sizeof(when));
	evbuffer_add_printf(out, "Clock advanced by %lld s, now %s\n", secs,
			    when);
	return SBC_CTL_OK;
}

/* `terminal length N`: the number is checked; there is no pager to set,
 * so nothing else happens (docs/cli.md). */
static int cmd_terminal_length(struct sbcd *d, const struct sbc_cmd_req *r,
			       struct evbuffer *out)
{
	(void)d;
	if (sbc_cmd_term_length(r->argv[0]) < 0) {
		evbuffer_add_printf(out, "%% Bad length %s: expected 0 to "
					 "512\n",
				    r->argv[0]);
		return SBC_CTL_USAGE;
	}
	return SBC_CTL_OK;
}

static int cmd_clear_sipua(struct sbcd *d, const struct sbc_cmd_req *r,
			   struct evbuffer *out)
{
	(void)r;
	(void)out;
	sbc_sipstats_clear(sbc_b2bua_sipstats(d->b2bua), clk_wall_ms());
	return SBC_CTL_OK;
}

static int cmd_hostname(struct sbcd *d, const struct sbc_cmd_req *r,
			struct evbuffer *out)
{
	(void)r;
	evbuffer_add_printf(out, "%s\n", d->hostname);
	return SBC_CTL_OK;
}

/* exit: the shell's to act on; nothing here. */
static int cmd_exit(struct sbcd *d, const struct sbc_cmd_req *r,
		    struct evbuffer *out)
{
	(void)d;
	(void)r;
	(void)out;
	return SBC_CTL_OK;
}

static int no_handler(struct evbuffer *out)
{
	evbuffer_add_printf(out, "%% sbcd has no handler for this command.\n");
	return SBC_CTL_FAILED;
}

typedef int cmd_fn(struct sbcd *d, const struct sbc_cmd_req *r,
		   struct evbuffer *out);

/* The handler of each command but import (which takes the file too); a
 * command missing here fails with no_handler. */
static cmd_fn *const handlers[SBC_CMD_COUNT] = {
	[SBC_CMD_SHOW_STATS] = cmd_stats,
	[SBC_CMD_SHOW_STATS_TABLE] = cmd_stats,
	[SBC_CMD_SHOW_LIC_STATUS] = cmd_license_show,
	[SBC_CMD_SHOW_LIC_USAGE] = cmd_license_show,
	[SBC_CMD_SHOW_LIC_SUMMARY] = cmd_license_show,
	[SBC_CMD_SHOW_LIC_ALL] = cmd_license_show,
	[SBC_CMD_SHOW_SIP_LIC] = cmd_license_show,
	[SBC_CMD_LIC_TRUST] = cmd_trust,
	[SBC_CMD_LIC_SYNC] = cmd_sync,
	[SBC_CMD_LIC_SAVE_USAGE] = sbcd_exec_command,
	[SBC_CMD_RELOAD] = cmd_reload,
	[SBC_CMD_SHOW_CUBE] = cmd_cube_status,
	[SBC_CMD_SHOW_RUNNING] = cmd_running,
	[SBC_CMD_SHOW_DIALPEERS] = cmd_dialpeers,
	[SBC_CMD_SHOW_LOGGING] = cmd_logging,
	[SBC_CMD_SHOW_CALLS] = cmd_calls,
	[SBC_CMD_SHOW_SIPUA] = cmd_sipua,
	[SBC_CMD_CLEAR_CALL] = sbcd_exec_command,
	[SBC_CMD_CLEAR_SIPUA] = cmd_clear_sipua,
	[SBC_CMD_DEBUG_CUBE] = cmd_debug,
	[SBC_CMD_UNDEBUG] = cmd_debug,
	[SBC_CMD_TEST_CLOCK] = cmd_test_clock,
	[SBC_CMD_HOSTNAME] = cmd_hostname,
	[SBC_CMD_TERMINAL_LENGTH] = cmd_terminal_length,
	[SBC_CMD_EXIT] = cmd_exit,
	[SBC_CMD_SHOW_VERSION] = sbcd_exec_command,
	[SBC_CMD_SHOW_CLOCK] = sbcd_exec_command,
	[SBC_CMD_SHOW_LIC_UDI] = sbcd_exec_command,
	[SBC_CMD_SHOW_LIC_EVENTLOG] = sbcd_exec_command,
	[SBC_CMD_SHOW_CALLHOME] = sbcd_exec_command,
	[SBC_CMD_SHOW_LIC_TECH] = sbcd_exec_command,
	[SBC_CMD_CLEAR_CALL_CAUSE] = sbcd_exec_command,
};

int sbcd_command(void *arg, const char *line, const void *data, size_t len,
		 struct evbuffer *out)
{
	struct sbcd *d = arg;
	struct sbc_cmd_req *r = malloc(sizeof(*r));
	char err[SBC_CMD_LINE_MAX + 256];
	int rc;

	if (r == NULL) {
		evbuffer_add_printf(out, "%% out of memory\n");
		return SBC_CTL_FAILED;
	}
	if (sbc_cmd_parse(line, r, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "%s\n", err);
		free(r);
		return SBC_CTL_USAGE;
	}
	if (r->cmd->id == SBC_CMD_LIC_IMPORT)
		rc = cmd_import(d, r, data, len, out);
	else if ((unsigned)r->cmd->id < SBC_CMD_COUNT &&
		 handlers[r->cmd->id] != NULL)
		rc = handlers[r->cmd->id](d, r, out);
	else
		rc = no_handler(out);
	free(r);
	return rc;
}
