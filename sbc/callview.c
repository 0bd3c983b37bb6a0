/*
 * callview: `show call active voice brief` and its JSON
 * (docs/internals/callview.md).
 *
 * IOS prints one entry per call leg under a legend; a B2BUA call has two
 * legs, A (towards the caller, "Answer") and B (towards the callee,
 * "Originate"), and both carry the call's id, as the two legs of an IOS
 * call share its <ID>.
 */
#include "sbc/callview.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {
	[SBC_CALLVIEW_CONNECTING] = "connecting",
	[SBC_CALLVIEW_ALERTING] = "alerting",
	[SBC_CALLVIEW_ACTIVE] = "active",
	[SBC_CALLVIEW_DISCONNECTING] = "disconnecting",
};

static const char *const legend[] = {
	"<ID> : <leg> <start> +<connect> pid:<peer_id> <dir> <number> <state>",
	" dur hh:mm:ss class:<license class> <transport> <remote addr>",
	" Call-ID:<SIP Call-ID of the leg>",
};

const char *sbc_callview_state_name(enum sbc_callview_state st)
{
	if ((size_t)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[st];
}

char *sbc_callview_time(int64_t wall_ms, char *buf, size_t len)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (wall_ms < 0 || gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d UTC %s %s %d %d", tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000), days[tm.tm_wday],
		 months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
	return buf;
}

/*
 * Seconds the call has lasted at now: since the answer when answered,
 * else since the INVITE arrived; never negative (a clock step back).
 */
static int64_t duration_s(const struct sbc_call_view *c, int64_t now_ms)
{
	int64_t from = c->connect_wall_ms ? c->connect_wall_ms
					  : c->start_wall_ms;

	return now_ms > from ? (now_ms - from) / 1000 : 0;
}

/* Milliseconds from the INVITE to the answer; -1 while not answered. */
static int64_t connect_ms(const struct sbc_call_view *c)
{
	if (c->connect_wall_ms == 0)
		return -1;
	return c->connect_wall_ms > c->start_wall_ms
		       ? c->connect_wall_ms - c->start_wall_ms
		       : 0;
}

static const char *class_text(const struct sbc_call_view *c)
{
	return c->counted ? sbc_class_name(c->cls) : "none";
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static void render_leg(const struct sbc_call_view *c, enum sbc_callview_side l,
		       int64_t now_ms, FILE *out)
{
	const struct sbc_callview_leg *leg = &c->leg[l];
	char start[64];
	int64_t dur = duration_s(c, now_ms);

	fprintf(out,
		"\n%-4" PRIX64 " : %c %s %+" PRId64 " pid:%u %s %s %s\n",
		c->id, l == SBC_CALLVIEW_LEG_A ? 'A' : 'B',
		sbc_callview_time(c->start_wall_ms, start, sizeof(start)),
		connect_ms(c),
		l == SBC_CALLVIEW_LEG_A ? c->in_peer : c->out_peer,
		l == SBC_CALLVIEW_LEG_A ? "Answer" : "Originate",
		or_dash(l == SBC_CALLVIEW_LEG_A ? c->calling : c->called),
		sbc_callview_state_name(c->state));
	fprintf(out, " dur %02" PRId64 ":%02d:%02d class:%s %s %s\n",
		dur / 3600, (int)(dur / 60 % 60), (int)(dur % 60),
		class_text(c), sbc_transport_name(leg->transport),
		or_dash(leg->remote));
	fprintf(out, " Call-ID:%s\n", or_dash(leg->call_id));
}

int sbc_callview_render_brief(const struct sbc_call_view *v, size_t n,
			      int64_t now_wall_ms, FILE *out)
{
	size_t i;

	for (i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
		fprintf(out, "%s\n", legend[i]);
	fprintf(out, "\nSIP call-legs: %zu\nTotal call-legs: %zu\n", 2 * n,
		2 * n);
	for (i = 0; i < n; i++) {
		render_leg(&v[i], SBC_CALLVIEW_LEG_A, now_wall_ms, out);
		render_leg(&v[i], SBC_CALLVIEW_LEG_B, now_wall_ms, out);
	}
	return ferror(out) ? -1 : 0;
}

static json_t *leg_json(const struct sbc_call_view *c, enum sbc_callview_side l)
{
	const struct sbc_callview_leg *leg = &c->leg[l];
	bool a = l == SBC_CALLVIEW_LEG_A;

	return json_pack("{sssssIssssssss}", "leg", a ? "A" : "B",
			 "direction", a ? "answer" : "originate", "dial_peer",
			 (json_int_t)(a ? c->in_peer : c->out_peer), "number",
			 a ? c->calling : c->called, "transport",
			 sbc_transport_name(leg->transport), "remote",
			 leg->remote, "call_id", leg->call_id);
}

static json_t *call_json(const struct sbc_call_view *c, int64_t now_ms)
{
	char hex[32];

	snprintf(hex, sizeof(hex), "%" PRIX64, c->id);
	return json_pack(
		"{sIsssssososssssIsosIs[oo]}", "id", (json_int_t)c->id,
		"id_hex", hex, "state", sbc_callview_state_name(c->state),
		"class",
		c->counted ? json_string(sbc_class_name(c->cls)) : json_null(),
		"counted", json_boolean(c->counted), "calling", c->calling,
		"called", c->called, "start",
		(json_int_t)(c->start_wall_ms / 1000), "connect",
		c->connect_wall_ms ? json_integer(c->connect_wall_ms / 1000)
				   : json_null(),
		"duration", (json_int_t)duration_s(c, now_ms), "legs",
		leg_json(c, SBC_CALLVIEW_LEG_A),
		leg_json(c, SBC_CALLVIEW_LEG_B));
}

json_t *sbc_callview_json(const struct sbc_call_view *v, size_t n,
			  int64_t now_wall_ms)
{
	json_t *calls = json_array(), *root;
	size_t i;

	if (calls == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(calls,
					  call_json(&v[i], now_wall_ms)) != 0) {
			json_decref(calls);
			return NULL;
		}
	}
	root = json_pack("{s{sIsI}so}", "call_legs", "sip", (json_int_t)(2 * n),
			 "total", (json_int_t)(2 * n), "calls", calls);
	return root;
}
