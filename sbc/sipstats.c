/*
 * sipstats: SIP message counters (docs/internals/sipstats.md).
 *
 * The rows[] table below is the only list of counters: the writer's
 * lookups are built from it, and the text and JSON views walk it in order.
 */
#include "sbc/sipstats.h"

#include "sbc/callview.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MIN 100
#define STATUS_MAX 699
#define CLASS_COUNT 7 /* classes 1..6; index 0 unused */

/* Sections in display order; rows[] lists each section's rows together. */
enum section {
	SEC_INFO,
	SEC_SUCCESS,
	SEC_REDIR,
	SEC_CLIENT,
	SEC_SERVER,
	SEC_GLOBAL,
	SEC_CLASSES,
	SEC_REQUESTS,
	SEC_RETRY,
	SEC_COUNT
};

struct section_def {
	const char *group;  /* JSON object holding this section, NULL: top */
	const char *key;    /* JSON key of the section */
	const char *before; /* line printed before the title, or NULL */
	const char *title;
	int title_indent;
	int row_indent;
	int per_line; /* fields per output line */
	bool blank_before;
};

static const struct section_def sections[SEC_COUNT] = {
	[SEC_INFO] = {"responses", "informational",
		      "SIP Response Statistics (Inbound/Outbound)",
		      "Informational:", 4, 6, 2, false},
	[SEC_SUCCESS] = {"responses", "success", NULL, "Success:", 4, 6, 2,
			 false},
	[SEC_REDIR] = {"responses", "redirection", NULL, "Redirection:", 4, 6,
		       2, false},
	[SEC_CLIENT] = {"responses", "client_error", NULL, "Client Error:", 4,
			6, 2, false},
	[SEC_SERVER] = {"responses", "server_error", NULL, "Server Error:", 4,
			6, 2, false},
	[SEC_GLOBAL] = {"responses", "global_failure", NULL,
			"Global Failure:", 4, 6, 2, false},
	[SEC_CLASSES] = {"responses", "classes", NULL, "Totals by class:", 4,
			 6, 3, false},
	[SEC_REQUESTS] = {NULL, "requests", NULL,
			  "SIP Total Traffic Statistics (Inbound/Outbound)", 0,
			  4, 3, true},
	[SEC_RETRY] = {NULL, "retries", NULL, "Retry Statistics", 0, 4, 3,
		       true},
};

struct row_def {
	enum section sec;
	struct sbc_sipstats_row r;
};

#define KEY_INFO "informational"
#define KEY_SUCCESS "success"
#define KEY_REDIR "redirection"
#define KEY_CLIENT "client_error"
#define KEY_SERVER "server_error"
#define KEY_GLOBAL "global_failure"
#define KEY_CLASSES "classes"
#define KEY_REQUESTS "requests"
#define KEY_RETRY "retries"

#define ROW(sec, key, name, kind, code, method, single)                       \
	{sec, {key, name, kind, code, method, single}}
#define RESP(sec, key, name, code)                                            \
	ROW(sec, key, name, SBC_SIPSTATS_RESPONSE, code, -1, 0)
#define OK(name, m)                                                           \
	ROW(SEC_SUCCESS, KEY_SUCCESS, name, SBC_SIPSTATS_RESPONSE, 200, m, 0)
#define CLASS(name, c)                                                        \
	ROW(SEC_CLASSES, KEY_CLASSES, name, SBC_SIPSTATS_CLASS, c, -1, 0)
#define REQ(name, m)                                                          \
	ROW(SEC_REQUESTS, KEY_REQUESTS, name, SBC_SIPSTATS_REQUEST, 0, m, 0)
#define RETRY(name, r)                                                        \
	ROW(SEC_RETRY, KEY_RETRY, name, SBC_SIPSTATS_RETRY, r, -1, 1)

/*
 * Field names and order follow IOS `show sip-ua statistics`; the 200 rows
 * for UPDATE and MESSAGE and the class totals are ours (IOS has no row
 * for them). See docs/internals/sipstats.md.
 */
static const struct row_def rows[] = {
	RESP(SEC_INFO, KEY_INFO, "Trying", 100),
	RESP(SEC_INFO, KEY_INFO, "Ringing", 180),
	RESP(SEC_INFO, KEY_INFO, "Forwarded", 181),
	RESP(SEC_INFO, KEY_INFO, "Queued", 182),
	RESP(SEC_INFO, KEY_INFO, "SessionProgress", 183),

	OK("OkInvite", SBC_SIP_INVITE),
	OK("OkBye", SBC_SIP_BYE),
	OK("OkCancel", SBC_SIP_CANCEL),
	OK("OkOptions", SBC_SIP_OPTIONS),
	OK("OkPrack", SBC_SIP_PRACK),
	OK("OkSubscribe", SBC_SIP_SUBSCRIBE),
	OK("OkNOTIFY", SBC_SIP_NOTIFY),
	OK("OkInfo", SBC_SIP_INFO),
	RESP(SEC_SUCCESS, KEY_SUCCESS, "202Accepted", 202),
	OK("OkRegister", SBC_SIP_REGISTER),
	OK("OkUpdate", SBC_SIP_UPDATE),
	OK("OkMessage", SBC_SIP_MESSAGE),

	RESP(SEC_REDIR, KEY_REDIR, "MultipleChoice", 300),
	RESP(SEC_REDIR, KEY_REDIR, "MovedPermanently", 301),
	RESP(SEC_REDIR, KEY_REDIR, "MovedTemporarily", 302),
	RESP(SEC_REDIR, KEY_REDIR, "UseProxy", 305),
	RESP(SEC_REDIR, KEY_REDIR, "AlternateService", 380),

	RESP(SEC_CLIENT, KEY_CLIENT, "BadRequest", 400),
	RESP(SEC_CLIENT, KEY_CLIENT, "Unauthorized", 401),
	RESP(SEC_CLIENT, KEY_CLIENT, "PaymentRequired", 402),
	RESP(SEC_CLIENT, KEY_CLIENT, "Forbidden", 403),
	RESP(SEC_CLIENT, KEY_CLIENT, "NotFound", 404),
	RESP(SEC_CLIENT, KEY_CLIENT, "MethodNotAllowed", 405),
	RESP(SEC_CLIENT, KEY_CLIENT, "NotAcceptable", 406),
	RESP(SEC_CLIENT, KEY_CLIENT, "ProxyAuthReqd", 407),
	RESP(SEC_CLIENT, KEY_CLIENT, "ReqTimeout", 408),
	RESP(SEC_CLIENT, KEY_CLIENT, "Conflict", 409),
	RESP(SEC_CLIENT, KEY_CLIENT, "Gone", 410),
	RESP(SEC_CLIENT, KEY_CLIENT, "ReqEntityTooLarge", 413),
	RESP(SEC_CLIENT, KEY_CLIENT, "ReqURITooLarge", 414),
	RESP(SEC_CLIENT, KEY_CLIENT, "UnsupportedMediaType", 415),
	RESP(SEC_CLIENT, KEY_CLIENT, "BadExtension", 420),
	RESP(SEC_CLIENT, KEY_CLIENT, "TempNotAvailable", 480),
	RESP(SEC_CLIENT, KEY_CLIENT, "CallLegNonExistent", 481),
	RESP(SEC_CLIENT, KEY_CLIENT, "LoopDetected", 482),
	RESP(SEC_CLIENT, KEY_CLIENT, "TooManyHops", 483),
	RESP(SEC_CLIENT, KEY_CLIENT, "AddrIncomplete", 484),
	RESP(SEC_CLIENT, KEY_CLIENT, "Ambiguous", 485),
	RESP(SEC_CLIENT, KEY_CLIENT, "BusyHere", 486),
	RESP(SEC_CLIENT, KEY_CLIENT, "RequestCancel", 487),
	RESP(SEC_CLIENT, KEY_CLIENT, "NotAcceptableMedia", 488),
	RESP(SEC_CLIENT, KEY_CLIENT, "BadEvent", 489),
	RESP(SEC_CLIENT, KEY_CLIENT, "SETooSmall", 422),
	RESP(SEC_CLIENT, KEY_CLIENT, "RequestPending", 491),

	RESP(SEC_SERVER, KEY_SERVER, "InternalError", 500),
	RESP(SEC_SERVER, KEY_SERVER, "NotImplemented", 501),
	RESP(SEC_SERVER, KEY_SERVER, "BadGateway", 502),
	RESP(SEC_SERVER, KEY_SERVER, "ServiceUnavail", 503),
	RESP(SEC_SERVER, KEY_SERVER, "GatewayTimeout", 504),
	RESP(SEC_SERVER, KEY_SERVER, "BadSipVer", 505),
	RESP(SEC_SERVER, KEY_SERVER, "PreCondFailure", 580),

	RESP(SEC_GLOBAL, KEY_GLOBAL, "BusyEverywhere", 600),
	RESP(SEC_GLOBAL, KEY_GLOBAL, "Decline", 603),
	RESP(SEC_GLOBAL, KEY_GLOBAL, "NotExistAnywhere", 604),
	RESP(SEC_GLOBAL, KEY_GLOBAL, "NotAcceptable", 606),

	CLASS("1xx", 1),
	CLASS("2xx", 2),
	CLASS("3xx", 3),
	CLASS("4xx", 4),
	CLASS("5xx", 5),
	CLASS("6xx", 6),

	REQ("Invite", SBC_SIP_INVITE),
	REQ("Ack", SBC_SIP_ACK),
	REQ("Bye", SBC_SIP_BYE),
	REQ("Cancel", SBC_SIP_CANCEL),
	REQ("Options", SBC_SIP_OPTIONS),
	REQ("Prack", SBC_SIP_PRACK),
	REQ("Subscribe", SBC_SIP_SUBSCRIBE),
	REQ("NOTIFY", SBC_SIP_NOTIFY),
	REQ("Refer", SBC_SIP_REFER),
	REQ("Info", SBC_SIP_INFO),
	REQ("Update", SBC_SIP_UPDATE),
	REQ("Message", SBC_SIP_MESSAGE),
	REQ("Register", SBC_SIP_REGISTER),
	REQ("Other", SBC_SIP_OTHER),

	RETRY("Request", SBC_SIPSTATS_RETRY_REQUEST),
	RETRY("Response", SBC_SIPSTATS_RETRY_RESPONSE),
	RETRY("Received", SBC_SIPSTATS_RETRY_RECEIVED),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))
#define NO_ROW (-1)

static const char *const method_names[SBC_SIP_METHOD_COUNT] = {
	[SBC_SIP_INVITE] = "INVITE",	   [SBC_SIP_ACK] = "ACK",
	[SBC_SIP_BYE] = "BYE",		   [SBC_SIP_CANCEL] = "CANCEL",
	[SBC_SIP_OPTIONS] = "OPTIONS",	   [SBC_SIP_PRACK] = "PRACK",
	[SBC_SIP_UPDATE] = "UPDATE",	   [SBC_SIP_INFO] = "INFO",
	[SBC_SIP_REFER] = "REFER",	   [SBC_SIP_NOTIFY] = "NOTIFY",
	[SBC_SIP_SUBSCRIBE] = "SUBSCRIBE", [SBC_SIP_MESSAGE] = "MESSAGE",
	[SBC_SIP_REGISTER] = "REGISTER",   [SBC_SIP_OTHER] = "OTHER",
};

struct sbc_sipstats {
	/* Counters, [row][dir]; RETRY rows hold the stack's total in [0]. */
	_Atomic uint64_t v[NROWS][2];
	/* RETRY rows: the stack's total at the last clear. */
	_Atomic uint64_t base[NROWS];
	_Atomic int64_t cleared_ms;

	/* Lookups built once from rows[]; read-only afterwards. */
	short by_code[STATUS_MAX - STATUS_MIN + 1]; /* any-method code rows */
	short ok_by_method[SBC_SIP_METHOD_COUNT];   /* 200 per method */
	short by_class[CLASS_COUNT];
	short by_method[SBC_SIP_METHOD_COUNT];
	short by_retry[SBC_SIPSTATS_RETRY_COUNT];
};

static void fill(short *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = NO_ROW;
}

struct sbc_sipstats *sbc_sipstats_new(void)
{
	struct sbc_sipstats *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return NULL;
	fill(s->by_code, sizeof(s->by_code) / sizeof(s->by_code[0]));
	fill(s->ok_by_method, SBC_SIP_METHOD_COUNT);
	fill(s->by_class, CLASS_COUNT);
	fill(s->by_method, SBC_SIP_METHOD_COUNT);
	fill(s->by_retry, SBC_SIPSTATS_RETRY_COUNT);
	for (i = 0; i < NROWS; i++) {
		const struct sbc_sipstats_row *r = &rows[i].r;

		switch (r->kind) {
		case SBC_SIPSTATS_RESPONSE:
			if (r->method >= 0)
				s->ok_by_method[r->method] = (short)i;
			else
				s->by_code[r->code - STATUS_MIN] = (short)i;
			break;
		case SBC_SIPSTATS_CLASS:
			s->by_class[r->code] = (short)i;
			break;
		case SBC_SIPSTATS_REQUEST:
			s->by_method[r->method] = (short)i;
			break;
		case SBC_SIPSTATS_RETRY:
			s->by_retry[r->code] = (short)i;
			break;
		}
	}
	return s;
}

void sbc_sipstats_free(struct sbc_sipstats **s)
{
	if (s == NULL || *s == NULL)
		return;
	free(*s);
	*s = NULL;
}

static void bump(struct sbc_sipstats *s, short row, enum sbc_sipstats_dir dir)
{
	if (row != NO_ROW)
		atomic_fetch_add_explicit(&s->v[row][dir], 1,
					  memory_order_relaxed);
}

static enum sbc_sip_method clamp_method(enum sbc_sip_method m)
{
	return (unsigned)m < SBC_SIP_METHOD_COUNT ? m : SBC_SIP_OTHER;
}

void sbc_sipstats_request(struct sbc_sipstats *s, enum sbc_sipstats_dir dir,
			  enum sbc_sip_method m)
{
	bump(s, s->by_method[clamp_method(m)], dir);
}

void sbc_sipstats_response(struct sbc_sipstats *s, enum sbc_sipstats_dir dir,
			   enum sbc_sip_method m, int status)
{
	if (status < STATUS_MIN || status > STATUS_MAX)
		return;
	bump(s, s->by_class[status / 100], dir);
	bump(s, s->by_code[status - STATUS_MIN], dir);
	if (status == 200)
		bump(s, s->ok_by_method[clamp_method(m)], dir);
}

void sbc_sipstats_set_retries(struct sbc_sipstats *s,
			      const uint64_t v[SBC_SIPSTATS_RETRY_COUNT])
{
	int i;

	for (i = 0; i < SBC_SIPSTATS_RETRY_COUNT; i++)
		atomic_store_explicit(&s->v[s->by_retry[i]][0], v[i],
				      memory_order_relaxed);
}

void sbc_sipstats_clear(struct sbc_sipstats *s, int64_t now_wall_ms)
{
	size_t i;

	for (i = 0; i < NROWS; i++) {
		if (rows[i].r.kind == SBC_SIPSTATS_RETRY) {
			atomic_store(&s->base[i], atomic_load(&s->v[i][0]));
			continue;
		}
		atomic_store(&s->v[i][SBC_SIPSTATS_IN], 0);
		atomic_store(&s->v[i][SBC_SIPSTATS_OUT], 0);
	}
	atomic_store(&s->cleared_ms, now_wall_ms);
}

enum sbc_sip_method sbc_sip_method_parse(const char *name)
{
	int i;

	for (i = 0; i < SBC_SIP_OTHER; i++) {
		if (name && strcmp(name, method_names[i]) == 0)
			return (enum sbc_sip_method)i;
	}
	return SBC_SIP_OTHER;
}

const char *sbc_sip_method_name(enum sbc_sip_method m)
{
	return method_names[clamp_method(m)];
}

size_t sbc_sipstats_nrows(void)
{
	return NROWS;
}

const struct sbc_sipstats_row *sbc_sipstats_row(size_t i)
{
	return i < NROWS ? &rows[i].r : NULL;
}

void sbc_sipstats_value(const struct sbc_sipstats *cs, size_t i, uint64_t *in,
			uint64_t *out)
{
	/* Atomic loads take a non-const pointer in C11. */
	struct sbc_sipstats *s = (struct sbc_sipstats *)cs;
	uint64_t a = 0, b = 0, base;

	if (i < NROWS && rows[i].r.kind == SBC_SIPSTATS_RETRY) {
		a = atomic_load_explicit(&s->v[i][0], memory_order_relaxed);
		base = atomic_load(&s->base[i]);
		a = a >= base ? a - base : 0;
	} else if (i < NROWS) {
		a = atomic_load_explicit(&s->v[i][SBC_SIPSTATS_IN],
					 memory_order_relaxed);
		b = atomic_load_explicit(&s->v[i][SBC_SIPSTATS_OUT],
					 memory_order_relaxed);
	}
	if (in)
		*in = a;
	if (out)
		*out = b;
}

int64_t sbc_sipstats_cleared(const struct sbc_sipstats *s)
{
	return atomic_load(&((struct sbc_sipstats *)s)->cleared_ms);
}

/* ---------------------------------------------------------------------- */
/* Views */

/*
 * One section: the title, then its rows `per_line` to a line, separated by
 * ", ", each line but the section's last ending with ",", as IOS does.
 */
static void render_section(const struct sbc_sipstats *s, enum section sec,
			   FILE *out)
{
	const struct section_def *d = &sections[sec];
	size_t i, first = NROWS, last = 0;
	int on_line = 0;
	uint64_t in, o;

	for (i = 0; i < NROWS; i++) {
		if (rows[i].sec != sec)
			continue;
		if (first == NROWS)
			first = i;
		last = i;
	}
	if (d->blank_before)
		fputc('\n', out);
	if (d->before)
		fprintf(out, "%s\n", d->before);
	fprintf(out, "%*s%s\n", d->title_indent, "", d->title);
	for (i = first; i <= last && first < NROWS; i++) {
		sbc_sipstats_value(s, i, &in, &o);
		if (on_line == 0)
			fprintf(out, "%*s", d->row_indent, "");
		else
			fputs(", ", out);
		if (rows[i].r.single)
			fprintf(out, "%s %" PRIu64, rows[i].r.name, in);
		else
			fprintf(out, "%s %" PRIu64 "/%" PRIu64, rows[i].r.name,
				in, o);
		if (++on_line == d->per_line || i == last) {
			fputs(i == last ? "\n" : ",\n", out);
			on_line = 0;
		}
	}
}

int sbc_sipstats_render(const struct sbc_sipstats *s, FILE *out)
{
	char when[64];
	int64_t cleared = sbc_sipstats_cleared(s);
	int sec;

	for (sec = 0; sec < SEC_COUNT; sec++)
		render_section(s, (enum section)sec, out);
	if (cleared > 0)
		sbc_callview_time(cleared, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "<never>");
	fprintf(out, "\nLast time SIP Statistics were cleared: %s\n", when);
	return ferror(out) ? -1 : 0;
}

/* The object of `group` (created on first use) inside root. */
static json_t *group_of(json_t *root, const char *group)
{
	json_t *g;

	if (group == NULL)
		return root;
	g = json_object_get(root, group);
	if (g == NULL) {
		g = json_object();
		if (g == NULL || json_object_set_new(root, group, g) != 0)
			return NULL;
	}
	return g;
}

static json_t *row_json(const struct sbc_sipstats *s, size_t i)
{
	uint64_t in, out;

	sbc_sipstats_value(s, i, &in, &out);
	if (rows[i].r.single)
		return json_integer((json_int_t)in);
	return json_pack("{sIsI}", "in", (json_int_t)in, "out",
			 (json_int_t)out);
}

json_t *sbc_sipstats_json(const struct sbc_sipstats *s)
{
	json_t *root = json_object(), *g, *sec_obj = NULL;
	int64_t cleared = sbc_sipstats_cleared(s);
	int cur = -1;
	size_t i;

	if (root == NULL)
		return NULL;
	for (i = 0; i < NROWS; i++) {
		const struct section_def *d = &sections[rows[i].sec];

		if ((int)rows[i].sec != cur) {
			cur = (int)rows[i].sec;
			g = group_of(root, d->group);
			sec_obj = json_object();
			if (g == NULL || sec_obj == NULL ||
			    json_object_set_new(g, d->key, sec_obj) != 0)
				goto out_fail;
		}
		if (json_object_set_new(sec_obj, rows[i].r.name,
					row_json(s, i)) != 0)
			goto out_fail;
	}
	if (json_object_set_new(root, "cleared",
				cleared > 0 ? json_integer(cleared / 1000)
					    : json_null()) != 0)
		goto out_fail;
	return root;

out_fail:
	json_decref(root);
	return NULL;
}
