/*
 * lic agent: usage records, signed reports, ACKs, policy, deadline and
 * enforcement (licensing/agent.h, docs/internals/licensing-agent.md).
 */
#include "licensing/agent.h"

#include "common/err.h"
#include "common/log.h"
#include "licensing/backoff.h"
#include "licensing/envelope.h"
#include "licensing/store.h"
#include "licensing/tag.h"
#include "licensing/trust.h"
#include "licensing/usagefile.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_HOLD_MIN_S 60
#define STORE_HOLD_MAX_S 3600
/*
 * IOS XE's own messages go under SMART_LIC with IOS XE's mnemonics; the
 * events IOS XE has no message for are this product's, under SBC_LIC, so
 * that no line pretends to be an IOS XE message it is not.
 */
#define FAC "SMART_LIC"
#define FAC_OWN "SBC_LIC"
#define HOUR_S INT64_C(3600)
#define PRUNE_EVERY_S HOUR_S
/* Reports pushed by one sync, ids in one ACK poll: the protocol's cap. */
#define MAX_IDS LIC_ACK_MAX_IDS
/* Largest tick-to-tick sleep: re-evaluate at least hourly. */
#define WAKE_MAX_S HOUR_S

/* The answer to the push in flight, kept until the next tick. */
struct reply {
	bool ready;
	int status;
	char *body; /* NUL-terminated copy, NULL when none */
	size_t len;
	char error[256];
};

struct lic_agent {
	/* Configuration (copied). */
	struct lic_release release;
	char release_text[LIC_TEXT_MAX + 1];
	struct lic_periodicity per;
	enum lic_transport_kind transport;
	char url[LIC_AGENT_URL_MAX + 1];
	char proxy_host[256]; /* `license smart proxy address`; "" = direct */
	unsigned proxy_port;
	unsigned interval_days;
	char hostname[LIC_TEXT_MAX + 1];
	bool privacy;
	char pid[LIC_ID_MAX + 1];
	char sn[LIC_ID_MAX + 1];
	char ha_group[LIC_ID_MAX + 1];
	enum lic_ha_role role;
	struct lic_udi udi;
	void (*set_service)(void *arg, bool up);
	void *service_arg;
	const struct lic_transport_ops *ops;
	void *ops_ctx;

	/* Borrowed. */
	const struct lic_key *device_key;

	/* Owned. */
	struct lic_store *st;
	struct lic_period *period; /* NULL until the first hour/tick */
	struct lic_pubkey *server; /* pinned server key; NULL: no trust */
	int64_t trust_installed;   /* when the trust code was installed */
	uint32_t epoch;		   /* the store's epoch (record ids) */
	char smart_account[65];	   /* from the trust answer; "" none */
	char virtual_account[65];

	/* Caches of the store. */
	struct lic_usage_times times;
	struct lic_policy policy;
	bool have_unreported;

	/* In memory only. */
	bool service_up;
	int64_t last_warn; /* last deadline warning (non-shutdown releases) */
	int64_t open_hour; /* lic_agent_open_hour: its start, or -1 */
	int64_t warn_for;  /* the deadline the lead-time warnings are for */
	size_t warn_next;  /* index in warn_lead_days of the next warning */
	uint32_t open_value[LIC_CLASS_COUNT];
	int64_t last_prune;
	bool inflight;
	bool sync; /* `license smart sync all`: report and push now */
	/* The reports a sync pushes, each once, oldest first, whatever
	 * their backoff says; then the schedule resumes. */
	char (*sync_ids)[LIC_STORE_REPORT_ID_MAX + 1];
	size_t sync_n, sync_next;
	char inflight_id[LIC_STORE_REPORT_ID_MAX + 1];
	uint32_t inflight_attempts;
	struct reply reply;
	/* `license smart trust idtoken`: the request in flight, its answer. */
	bool trust_inflight;
	struct reply trust_reply;
	char trust_error[256]; /* why the last trust request failed; "" */
	/* cslu: the ACK poll in flight, its answer, when the next is due. */
	bool poll_inflight;
	struct reply poll_reply;
	int64_t next_poll;
	bool dirty;   /* state changed: re-evaluate at the next tick */
	int64_t wake; /* else nothing is due before this */
	/*
	 * After a failed store write (read-only file, full disk) the agent
	 * waits before writing again, 60 s doubling to an hour, so a broken
	 * store costs one log line per attempt, not one per second.
	 */
	int64_t hold_until;
	unsigned hold_s;

	/* The event log's clock (NULL: now * 1000) and the counters of
	 * `show license tech support`, in memory since start. */
	int64_t (*clock_ms)(void);
	struct lic_agent_counters counters;
	bool event_error_logged;
};

static void event_rec(struct lic_agent *a, int64_t now, const char *name,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void note_error(struct lic_agent *a, int64_t now, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

static int copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= size)
		return -1;
	memcpy(dst, n ? src : "", n);
	dst[n] = '\0';
	return 0;
}

static uint32_t random_u32(void)
{
	uint32_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0;
	return r;
}

/* 0 = 7 days; 1..23 hours (raised to 8); multiples of 24 up to 30 days. */
static int periodicity_from_hours(unsigned h, struct lic_periodicity *out)
{
	if (h == 0) {
		*out = lic_periodicity_default();
		return 0;
	}
	if (h < 24)
		return lic_periodicity_make(LIC_PERIOD_HOURS, h, out, NULL);
	if (h % 24 != 0)
		return -1;
	return lic_periodicity_make(LIC_PERIOD_DAYS, h / 24, out, NULL);
}

/* The configuration fields of the usage times, which the store lacks. */
static void times_config(struct lic_agent *a)
{
	/* 0: no interval, every record is pushed as its period closes
	 * (sbcd passes LIC_AGENT_DEFAULT_PUSH_DAYS unless configured). A
	 * deadline nearer than the interval moves the push earlier
	 * (lic_next_report_push). */
	a->times.push_interval_days = (int32_t)a->interval_days;
	a->times.push_enabled = a->transport != LIC_TRANSPORT_OFF;
	a->times.ack_polled = a->transport == LIC_TRANSPORT_CSLU;
}

static int reload_times(struct lic_agent *a)
{
	char err[256];
	struct lic_usage_times t = a->times;

	if (lic_store_get_times(a->st, &t, err, sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "usage times: %s", err);
		return -1;
	}
	a->times = t;
	times_config(a);
	return 0;
}

static void refresh_unreported(struct lic_agent *a)
{
	struct lic_store_record r;
	size_t n = 0;
	char err[256];

	if (lic_store_unreported(a->st, &r, 1, &n, err, sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "unreported records: %s",
			err);
		n = 1; /* look again at the next evaluation */
	}
	a->have_unreported = n > 0;
}

/* Put the tracker back to what the store holds (after a failed write). */
static void reload_period(struct lic_agent *a)
{
	struct lic_period_state ps;
	char err[256];

	if (lic_store_get_period(a->st, &ps, err, sizeof(err)) == 0 &&
	    a->period != NULL)
		lic_period_restore(a->period, &ps);
}

static int save_period(struct lic_agent *a)
{
	struct lic_period_state ps;
	char err[256];

	lic_period_save(a->period, &ps);
	if (lic_store_set_period(a->st, &ps, err, sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "period state: %s", err);
		return -1;
	}
	return 0;
}

/*
 * The first hour/tick of a first start opens the first period at now.
 * After a restart the tracker was restored in lic_agent_new.
 */
static int ensure_period(struct lic_agent *a, int64_t now)
{
	if (a->period != NULL)
		return 0;
	a->period = lic_period_new(&a->per, now);
	if (a->period == NULL)
		return -1;
	return save_period(a);
}

/* A store write failed at `now`: no store work before the hold ends. */
static void hold_store(struct lic_agent *a, int64_t now)
{
	a->hold_s = a->hold_s ? a->hold_s * 2 : STORE_HOLD_MIN_S;
	if (a->hold_s > STORE_HOLD_MAX_S)
		a->hold_s = STORE_HOLD_MAX_S;
	a->hold_until = now + a->hold_s;
}

/* Store the records of a close with the tracker state taken after it. */
static int store_close(struct lic_agent *a,
		       const struct lic_record rec[LIC_TAG_COUNT], int64_t now,
		       bool change)
{
	struct lic_period_state ps;
	char err[256], t0[LIC_TIME_STR_LEN], t1[LIC_TIME_STR_LEN];

	lic_time_format(rec[0].start, t0, sizeof(t0));
	lic_time_format(rec[0].end, t1, sizeof(t1));
	lic_period_save(a->period, &ps);
	if (lic_store_close_period(a->st, rec, LIC_TAG_COUNT, &ps, now, err,
				   sizeof(err)) != 0) {
		hold_store(a, now);
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE",
			"period %s - %s not recorded: %s; next attempt in "
			"%u s",
			t0, t1, err, a->hold_s);
		reload_period(a);
		return -1;
	}
	a->hold_s = 0;
	a->hold_until = 0;
	log_msg(LOG_LVL_INFO, FAC_OWN, "USAGE_RECORD",
		"period %s - %s closed%s: STD %" PRIu32 " ENH %" PRIu32
		" RED %" PRIu32 " VGW %" PRIu32,
		t0, t1, change ? " on change" : "",
		rec[LIC_TAG_STD].count, rec[LIC_TAG_ENH].count,
		rec[LIC_TAG_RED].count, rec[LIC_TAG_VGW].count);
	for (int t = 0; t < LIC_TAG_COUNT; t++)
		event_rec(a, now, "SAEVT_ENDPOINT_USAGE",
			  "count=\"%" PRIu32 "\" entitlementTag=\"%s\"",
			  rec[t].count, lic_tag_name(rec[t].tag));
	log_debug(LOG_DEBUG_CUBE_SL, "cube_sl_record",
		  "records stored for %lld..%lld%s", (long long)rec[0].start,
		  (long long)rec[0].end, change ? " (report on change)" : "");
	a->have_unreported = true;
	a->dirty = true;
	if (change && !a->times.change_due) {
		a->times.change_due = true;
		if (lic_store_set_times(a->st, &a->times, err, sizeof(err)) !=
		    0)
			log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "usage times: %s",
				err);
	}
	return 0;
}

static int close_due(struct lic_agent *a, int64_t now)
{
	struct lic_record rec[LIC_TAG_COUNT];

	while (lic_period_close_due(a->period, now, rec) == 1)
		if (store_close(a, rec, now, false) != 0)
			return -1;
	return 0;
}

int lic_agent_hour(struct lic_agent *a, int64_t hour_start,
		   const uint32_t value[LIC_CLASS_COUNT], int64_t now)
{
	struct lic_record rec[LIC_TAG_COUNT];
	int64_t hour_end = hour_start + HOUR_S;
	bool used = false;
	char err[256];
	int r, c;

	if (a == NULL || value == NULL || hour_start < 0 ||
	    hour_start % HOUR_S != 0 || now < 0 || hour_end > LIC_TIME_MAX)
		return -1;
	/*
	 * A store write failed a moment ago: the hour waits for the hold
	 * as the tick's work does. The caller feeds a refused hour again at
	 * every tick, so without this a full disk meant a failed write and
	 * an error line every second, each announcing a "next attempt" that
	 * came a second later.
	 */
	if (now < a->hold_until)
		return LIC_AGENT_RETRY;
	if (ensure_period(a, now) != 0)
		return LIC_AGENT_RETRY;
	r = lic_period_add_hour(a->period, hour_start, value);
	if (r == 1) {
		if (close_due(a, hour_start) != 0)
			return LIC_AGENT_RETRY;
		r = lic_period_add_hour(a->period, hour_start, value);
	}
	if (r != 0)
		return LIC_AGENT_RETRY;
	for (c = 0; c < LIC_CLASS_COUNT; c++)
		used = used || value[c] > 0;
	if (used && a->times.first_use == LIC_TIME_NONE) {
		a->times.first_use = hour_start;
		if (lic_store_set_times(a->st, &a->times, err, sizeof(err)) !=
		    0) {
			hold_store(a, now);
			log_msg(LOG_LVL_ERR, FAC_OWN, "STORE",
				"first use: %s; next attempt in %u s", err,
				a->hold_s);
			a->times.first_use = LIC_TIME_NONE;
			return LIC_AGENT_RETRY;
		}
	}
	if (close_due(a, hour_end) != 0)
		return LIC_AGENT_RETRY;
	if (lic_period_hour_check(a->period, hour_end, NULL) != 0 &&
	    lic_period_close_change(a->period, hour_end, rec) == 0) {
		if (store_close(a, rec, hour_end, true) != 0)
			return LIC_AGENT_RETRY;
	} else if (save_period(a) != 0) {
		hold_store(a, now);
		reload_period(a);
		return LIC_AGENT_RETRY;
	}
	a->hold_s = 0; /* the store works again */
	a->hold_until = 0;
	log_debug(LOG_DEBUG_CUBE_SL, "cube_sl_hour_usage",
		  "hour %lld STD %u ENH %u RED %u VGW %u AGG %u; period "
		  "%lld..%lld",
		  (long long)hour_start, value[LIC_CLASS_STANDARD],
		  value[LIC_CLASS_ENHANCED], value[LIC_CLASS_REDUNDANT],
		  value[LIC_CLASS_VGW], value[LIC_CLASS_AGGREGATE],
		  (long long)lic_period_start(a->period),
		  (long long)lic_period_end(a->period));
	a->dirty = true;
	return 0;
}

/* ---- reports --------------------------------------------------------- */

/*
 * Put up to LIC_REPORT_MAX_RECORDS unreported records in one signed report
 * and store it (due for a push at once). Returns 1 when a report was
 * built, 0 when there was nothing to report, -1 on error.
 */
static int build_report(struct lic_agent *a, int64_t now, char *err,
			size_t errlen)
{
	struct lic_store_record *sr = NULL;
	struct lic_usage_record *ur = NULL;
	int64_t *ids = NULL;
	char(*idtext)[32] = NULL;
	char rid[LIC_REPORT_ID_LEN + 1];
	struct lic_report_info info;
	char *env = NULL;
	size_t n = 0, len = 0, i;
	int ret = -1;

	sr = calloc(LIC_REPORT_MAX_RECORDS, sizeof(*sr));
	ur = calloc(LIC_REPORT_MAX_RECORDS, sizeof(*ur));
	ids = calloc(LIC_REPORT_MAX_RECORDS, sizeof(*ids));
	idtext = calloc(LIC_REPORT_MAX_RECORDS, sizeof(*idtext));
	if (sr == NULL || ur == NULL || ids == NULL || idtext == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_free;
	}
	if (lic_store_unreported(a->st, sr, LIC_REPORT_MAX_RECORDS, &n, err,
				 errlen) != 0)
		goto out_free;
	if (n == 0) {
		a->have_unreported = false;
		ret = 0;
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		/* "<store epoch>-<row id>": unique for the device even
		 * across a lost store (docs/licensing-protocol.md 3.1). */
		snprintf(idtext[i], sizeof(idtext[i]), "%08" PRIx32 "-%" PRId64,
			 a->epoch, sr[i].id);
		ur[i].id = idtext[i];
		ur[i].tag = sr[i].rec.tag;
		ur[i].start_s = sr[i].rec.start;
		ur[i].end_s = sr[i].rec.end;
		ur[i].count = sr[i].rec.count;
		ids[i] = sr[i].id;
	}
	if (lic_report_id_new(rid, err, errlen) != 0)
		goto out_free;
	memset(&info, 0, sizeof(info));
	info.report_id = rid;
	info.release = a->release_text;
	info.hostname = a->privacy || a->hostname[0] == '\0' ? NULL
							      : a->hostname;
	info.udi = a->udi;
	info.ha_group = a->ha_group[0] ? a->ha_group : NULL;
	info.ha_role = a->role;
	info.created_s = now;
	info.records = ur;
	info.nrecords = n;
	if (lic_report_build(a->device_key, &info, &env, &len, err, errlen) !=
	    0)
		goto out_free;
	if (lic_store_add_report(a->st, rid, env, len, ids, n, now, err,
				 errlen) != 0)
		goto out_free;
	log_msg(LOG_LVL_INFO, FAC_OWN, "REPORT_CREATED",
		"usage report %s created with %zu records", rid, n);
	event_rec(a, now, "SAEVT_REPORT_CREATED",
		  "reportId=\"%s\" records=\"%zu\"", rid, n);
	log_debug(LOG_DEBUG_CUBE_SL, "cube_sl_report_build",
		  "report %s: %zu records, %zu bytes signed", rid, n, len);
	refresh_unreported(a);
	a->dirty = true;
	ret = 1;

out_free:
	free(env);
	free(idtext);
	free(ids);
	free(ur);
	free(sr);
	return ret;
}

static bool may_push(const struct lic_agent *a)
{
	return a->transport != LIC_TRANSPORT_OFF && a->ops != NULL &&
	       a->server != NULL && a->role != LIC_HA_STANDBY;
}

/* Unreported records wait for the scheduled push unless none is
 * scheduled (then every closed period is reported at once) or a report
 * on change is due. */
static bool report_due(const struct lic_agent *a, int64_t now)
{
	int64_t next;

	if (!a->have_unreported)
		return false;
	next = lic_next_report_push(&a->policy, LIC_GROUP_CUBE, &a->times,
				    now);
	return a->times.change_due || next == LIC_TIME_NONE || now >= next;
}

/* Keep an answer (or why none came) until the next tick handles it. */
static void keep_reply(struct reply *r, int status, const void *body,
		       size_t len, const char *error)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->ready = true;
	r->status = status;
	if (status != 0 && body != NULL && len <= LIC_ENVELOPE_MAX) {
		r->body = malloc(len + 1);
		if (r->body != NULL) {
			memcpy(r->body, body, len);
			r->body[len] = '\0';
			r->len = len;
		}
	} else if (status != 0 && len > LIC_ENVELOPE_MAX) {
		snprintf(r->error, sizeof(r->error),
			 "answer of %zu bytes is over the cap", len);
	}
	if (status == 0)
		snprintf(r->error, sizeof(r->error), "%s",
			 error != NULL ? error : "no answer");
}

static void push_done(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct lic_agent *a = arg;

	keep_reply(&a->reply, status, body, len, error);
	a->dirty = true;
}

static int64_t retry_at(uint32_t attempts, int64_t now)
{
	return now + lic_backoff_delay(attempts, LIC_AGENT_RETRY_BASE_S,
				       LIC_AGENT_RETRY_CAP_S, random_u32());
}

static void push_failed(struct lic_agent *a, const char *id, int64_t now,
			int64_t next, const char *why)
{
	char err[256];

	log_msg(LOG_LVL_ERR, FAC, "COMM_FAILED",
		"usage report %s push failed (%s); retry in %" PRId64 " s", id,
		why, next - now);
	if (lic_store_mark_failed(a->st, id, next, err, sizeof(err)) < 0)
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "report %s: %s", id, err);
	a->counters.push_failures++;
	note_error(a, now, "report %s push: %s", id, why);
	event_rec(a, now, "SAEVT_COMM_FAIL", "reportId=\"%s\" error=\"%s\"",
		  id, why);
}

/* The next report a sync still has to push that is not acknowledged
 * meanwhile; false when the sync is done. */
static bool next_synced(struct lic_agent *a, struct lic_store_report *rep)
{
	enum lic_store_report_state state;

	while (a->sync_next < a->sync_n) {
		const char *id = a->sync_ids[a->sync_next++];

		if (lic_store_report_status(a->st, id, &state, rep, NULL, 0) ==
			    0 &&
		    (state == LIC_STORE_REPORT_QUEUED ||
		     state == LIC_STORE_REPORT_SENT))
			return true;
	}
	a->sync_n = a->sync_next = 0;
	return false;
}

/* `license smart sync all` at this tick: what is unreported goes into a
 * report, and every pending report is queued for one push each. */
static void start_sync(struct lic_agent *a, int64_t now)
{
	struct lic_store_report *reps;
	char err[256];
	size_t n = 0, i;

	a->sync = false;
	a->next_poll = 0; /* cslu: ask for ACKs now too */
	while (a->have_unreported) {
		if (build_report(a, now, err, sizeof(err)) <= 0)
			break;
	}
	reps = calloc(MAX_IDS, sizeof(*reps));
	if (a->sync_ids == NULL)
		a->sync_ids = calloc(MAX_IDS, sizeof(*a->sync_ids));
	a->sync_n = a->sync_next = 0;
	if (reps == NULL || a->sync_ids == NULL ||
	    lic_store_pending_reports(a->st, reps, MAX_IDS, &n, err,
				      sizeof(err)) != 0) {
		free(reps);
		return;
	}
	for (i = 0; i < n; i++)
		memcpy(a->sync_ids[i], reps[i].report_id,
		       sizeof(a->sync_ids[i]));
	a->sync_n = n;
	free(reps);
	event_rec(a, now, "SAEVT_SYNC_START", "reports=\"%zu\"", n);
}

/* Push the pending report whose attempt is due, if any. */
static void maybe_push(struct lic_agent *a, int64_t now)
{
	struct lic_store_report rep;
	unsigned char *env = NULL;
	size_t n = 0, len = 0;
	char err[256];

	if (a->inflight || !may_push(a))
		return;
	if (next_synced(a, &rep)) {
		/* a sync: this one now */
	} else if (lic_store_pending_reports(a->st, &rep, 1, &n, err,
					     sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "pending reports: %s", err);
		return;
	} else if (n == 0 || rep.next_attempt > now) {
		return;
	}
	if (lic_store_report_envelope(a->st, rep.report_id, &env, &len, err,
				      sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "report %s: %s",
			rep.report_id, err);
		return;
	}
	a->inflight = true;
	memcpy(a->inflight_id, rep.report_id, sizeof(a->inflight_id));
	a->inflight_attempts = rep.attempts;
	if (a->ops->push(a->ops_ctx, (const char *)env, len, push_done, a,
			 err, sizeof(err)) != 0) {
		a->inflight = false;
		push_failed(a, rep.report_id, now, retry_at(rep.attempts, now),
			    err);
	}
	free(env);
}

/* ---- ACKs and policies ----------------------------------------------- */

static void reevaluate_service(struct lic_agent *a, int64_t now);
static void handle_trust_reply(struct lic_agent *a, int64_t now);

/*
 * Install a verified ACK: every id must be a sent, unacknowledged report;
 * a policy it carries is validated and installed with it, in the same
 * store transaction. Returns 0 or -1 with a reason (nothing changed).
 */
static int install_ack(struct lic_agent *a, const struct lic_ack *ack,
		       int64_t now, char *err, size_t errlen)
{
	const struct lic_ack_info *ai = lic_ack_get(ack);
	char(*pend)[LIC_STORE_REPORT_ID_MAX + 1] = NULL;
	const char **pp = NULL;
	struct lic_policy arrived, installed = a->policy;
	bool with_policy = false;
	size_t np = 0, i;
	int ret = -1, r;

	pend = calloc(LIC_STORE_BATCH_MAX, sizeof(*pend));
	pp = calloc(LIC_STORE_BATCH_MAX, sizeof(*pp));
	if (pend == NULL || pp == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_free;
	}
	if (lic_store_report_ids_unacked(a->st, pend, LIC_STORE_BATCH_MAX, &np,
					 err, errlen) != 0)
		goto out_free;
	for (i = 0; i < np; i++)
		pp[i] = pend[i];
	/*
	 * A usage file of `save usage all` or `days` also carries reports
	 * acknowledged before, and its ACK names them again: those count as
	 * known here, lic_store_ack leaves them as they are, and an ACK that
	 * names nothing new is still refused as a replay below.
	 */
	for (i = 0; i < ai->nids && np < LIC_STORE_BATCH_MAX; i++) {
		enum lic_store_report_state s;

		if (lic_store_report_status(a->st, ai->report_ids[i], &s, NULL,
					    NULL, 0) == 0 &&
		    s == LIC_STORE_REPORT_ACKED)
			pp[np++] = ai->report_ids[i];
	}
	if (lic_ack_accept(ack, pp, np, NULL, 0, err, errlen) !=
	    LIC_ACK_ACCEPT) {
		/* Tell a replay from an unknown id in the reason. */
		for (i = 0; i < ai->nids; i++) {
			enum lic_store_report_state s;

			if (lic_store_report_status(a->st, ai->report_ids[i],
						    &s, NULL, NULL, 0) == 0 &&
			    s == LIC_STORE_REPORT_ACKED) {
				err_set(err, errlen,
				       "replay: report %s is already "
				       "acknowledged",
				       ai->report_ids[i]);
				break;
			}
		}
		goto out_free;
	}
	if (ai->policy_json != NULL) {
		if (lic_policy_parse(ai->policy_json, strlen(ai->policy_json),
				     &arrived, err, errlen) != 0 ||
		    lic_policy_install(&installed, &arrived, now, err,
				       errlen) != 0) {
			log_msg(LOG_LVL_ERR, FAC, "POLICY_INSTALL_FAILED",
				"The installation of a new licensing policy "
				"has failed: %s",
				err);
			goto out_free;
		}
		with_policy = true;
	}
	r = lic_store_ack(a->st, ai->report_ids, ai->nids, ai->ack_time_s,
			  with_policy ? &installed : NULL, now, err, errlen);
	if (r < 0)
		goto out_free;
	if (r == 0) {
		err_set(err, errlen, "replay: every report is already "
				    "acknowledged");
		goto out_free;
	}
	log_debug(LOG_DEBUG_CUBE_SL, "cube_sl_ack",
		  "ACK of %lld for %zu report(s) installed%s",
		  (long long)ai->ack_time_s, ai->nids,
		  with_policy ? " with a policy" : "");
	if (with_policy) {
		a->policy = installed;
		log_msg(LOG_LVL_INFO, FAC, "POLICY_INSTALL_SUCCESS",
			"A new licensing policy was successfully installed "
			"(%s)",
			installed.name);
	}
	reload_times(a);
	log_msg(LOG_LVL_INFO, FAC_OWN, "USAGE_ACK",
		"usage acknowledgement installed for %zu report(s)", ai->nids);
	a->counters.acks_installed++;
	event_rec(a, now, "SAEVT_ACK_INSTALLED", "reports=\"%d\"", r);
	if (with_policy)
		event_rec(a, now, "SAEVT_POLICY_INSTALLED", "name=\"%s\"",
			  installed.name);
	a->dirty = true;
	reevaluate_service(a, now);
	ret = 0;

out_free:
	free(pp);
	free(pend);
	return ret;
}

static int process_ack_envelope(struct lic_agent *a, const char *body,
				size_t len, int64_t now, char *err,
				size_t errlen)
{
	struct lic_ack *ack = NULL;
	int ret = -1;

	if (a->server == NULL) {
		err_set(err, errlen, "no trust installed: no server key");
		goto out;
	}
	if (lic_ack_parse(a->server, body, len, &a->udi, &ack, err, errlen) !=
	    0)
		goto out;
	event_rec(a, now, "SAEVT_ACK_RECEIVED", "reports=\"%zu\"",
		  lic_ack_get(ack)->nids);
	ret = install_ack(a, ack, now, err, errlen);
	lic_ack_free(&ack);
out:
	return ret;
}

static void handle_reply(struct lic_agent *a, int64_t now)
{
	struct reply *r = &a->reply;
	const char *id = a->inflight_id;
	char err[256];
	int m;

	if (!r->ready)
		return;
	r->ready = false;
	a->inflight = false;
	if (r->status == 0 || r->status >= 500 || r->status < 200 ||
	    (r->status >= 300 && r->status < 400)) {
		char why[300];

		if (r->status == 0)
			snprintf(why, sizeof(why), "%s", r->error);
		else
			snprintf(why, sizeof(why), "HTTP %d", r->status);
		push_failed(a, id, now, retry_at(a->inflight_attempts, now),
			    why);
		goto out;
	}
	if (r->status >= 400) {
		char why[300];

		snprintf(why, sizeof(why), "HTTP %d: %.200s", r->status,
			 r->body != NULL ? r->body : "");
		push_failed(a, id, now, now + LIC_AGENT_REJECTED_RETRY_S, why);
		goto out;
	}
	/* 2xx: the report reached the server. */
	m = lic_store_mark_sent(a->st, id, now,
				r->status == 202
					? now + LIC_AGENT_DEFERRED_RETRY_S
					: retry_at(a->inflight_attempts, now),
				err, sizeof(err));
	if (m < 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "report %s: %s", id, err);
		goto out;
	}
	reload_times(a);
	if (a->times.change_due) {
		a->times.change_due = false;
		if (lic_store_set_times(a->st, &a->times, err, sizeof(err)) !=
		    0)
			log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "usage times: %s",
				err);
	}
	log_debug(LOG_DEBUG_CUBE_SL, "cube_sl_report_push",
		  "report %s answered HTTP %d", id, r->status);
	log_msg(LOG_LVL_INFO, FAC_OWN, "REPORT_SENT",
		"usage report %s pushed (HTTP %d)", id, r->status);
	a->counters.reports_sent++;
	if (a->inflight_attempts > 0)
		a->counters.retries_sent++;
	event_rec(a, now, "SAEVT_REPORT_SENT",
		  "reportId=\"%s\" status=\"%d\"", id, r->status);
	if (r->status == 202 && a->sync_n > 0)
		a->next_poll = now; /* a sync in progress wants the ACK too */
	if (r->status == 200 &&
	    process_ack_envelope(a, r->body != NULL ? r->body : "", r->len,
				 now, err, sizeof(err)) != 0)
	{
		log_msg(LOG_LVL_ERR, FAC_OWN, "ACK_REJECTED",
			"acknowledgement for report %s rejected: %s", id, err);
		note_error(a, now, "ACK for report %s rejected: %s", id, err);
		event_rec(a, now, "SAEVT_ACK_REJECTED", "error=\"%s\"", err);
	}
out:
	free(r->body);
	r->body = NULL;
	r->len = 0;
	a->dirty = true;
}

/* ---- enforcement ----------------------------------------------------- */

/*
 * Days before an ACK deadline at which %SMART_LIC-6-REPORTING_REQUIRED is
 * logged, farthest first. A deadline that is already nearer than a lead
 * when it is set (or after a clock jump) gets one warning, for the nearest
 * lead passed, not one per lead.
 */
static const int64_t warn_lead_days[] = {30, 14, 7, 1};
#define N_WARN_LEADS (sizeof(warn_lead_days) / sizeof(warn_lead_days[0]))

/* When the next lead-time warning is due, or LIC_TIME_NONE. */
static int64_t next_warning(const struct lic_agent *a)
{
	if (a->warn_for == LIC_TIME_NONE || a->warn_next >= N_WARN_LEADS)
		return LIC_TIME_NONE;
	return a->warn_for - warn_lead_days[a->warn_next] * LIC_DAY_SECS;
}

/* IOS XE's reminder of a deadline `days` away (0: passed), in the log and
 * the event log. */
static void log_required(struct lic_agent *a, int64_t now, int64_t days)
{
	log_msg(LOG_LVL_INFO, FAC, "REPORTING_REQUIRED",
		"A Usage report acknowledgement will be required in %" PRId64
		" days.",
		days);
	event_rec(a, now, "SAEVT_REPORTING_REQUIRED", "days=\"%" PRId64 "\"",
		  days);
}

static void warn_ahead(struct lic_agent *a, int64_t now)
{
	int64_t d = lic_next_ack_deadline(&a->policy, LIC_GROUP_CUBE,
					  &a->times);
	int64_t days;

	if (d != a->warn_for) {
		/* A new deadline (an ACK, a policy, first use): the leads
		 * start over; those already behind it are not due. */
		a->warn_for = d;
		a->warn_next = 0;
		while (d != LIC_TIME_NONE && a->warn_next + 1 < N_WARN_LEADS &&
		       d - now <=
			       warn_lead_days[a->warn_next + 1] * LIC_DAY_SECS)
			a->warn_next++;
	}
	if (d == LIC_TIME_NONE || now >= d || a->warn_next >= N_WARN_LEADS ||
	    now < next_warning(a))
		return;
	/* Several leads passed at once (a clock jump): one line. */
	while (a->warn_next + 1 < N_WARN_LEADS &&
	       now >= d - warn_lead_days[a->warn_next + 1] * LIC_DAY_SECS)
		a->warn_next++;
	days = (d - now + LIC_DAY_SECS - 1) / LIC_DAY_SECS;
	log_required(a, now, days);
	a->warn_next++;
}

static void reevaluate_service(struct lic_agent *a, int64_t now)
{
	char when[LIC_TIME_STR_LEN];
	int64_t d;
	bool passed;

	warn_ahead(a, now);
	passed = lic_deadline_passed(&a->policy, LIC_GROUP_CUBE, &a->times,
				     now);
	if (lic_release_shuts_down(&a->release)) {
		if (passed && a->service_up) {
			d = lic_next_ack_deadline(&a->policy, LIC_GROUP_CUBE,
						  &a->times);
			lic_time_format(d, when, sizeof(when));
			log_required(a, now, 0);
			log_msg(LOG_LVL_NOTICE, "SIP", "LICENSING",
				"SIP service is Down: no usage report "
				"acknowledgement by the deadline %s; new "
				"non-VGW calls are refused (release %s)",
				when, a->release_text);
			a->service_up = false;
			event_rec(a, now, "SAEVT_SERVICE_DOWN",
				  "release=\"%s\" deadline=\"%s\"",
				  a->release_text, when);
			if (a->set_service != NULL)
				a->set_service(a->service_arg, false);
		} else if (!passed && !a->service_up) {
			log_msg(LOG_LVL_NOTICE, "SIP", "LICENSING",
				"SIP service is Up: a valid usage report "
				"acknowledgement is installed");
			a->service_up = true;
			event_rec(a, now, "SAEVT_SERVICE_UP", "release=\"%s\"",
				  a->release_text);
			if (a->set_service != NULL)
				a->set_service(a->service_arg, true);
		}
		return;
	}
	if (!a->service_up) {
		/* The release changed behaviour (not at run time today). */
		a->service_up = true;
		if (a->set_service != NULL)
			a->set_service(a->service_arg, true);
	}
	if (passed && (a->last_warn == 0 ||
		       now - a->last_warn >= LIC_DAY_SECS)) {
		d = lic_next_ack_deadline(&a->policy, LIC_GROUP_CUBE,
					  &a->times);
		lic_time_format(d, when, sizeof(when));
		log_required(a, now, 0);
		log_msg(LOG_LVL_NOTICE, "SIP", "LICENSING",
			"usage report acknowledgement overdue since %s; SIP "
			"service continues (release %s)",
			when, a->release_text);
		a->last_warn = now;
	}
}

/* ---- cslu: ACKs collected after the push ---------------------------- */

static void poll_done(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct lic_agent *a = arg;

	keep_reply(&a->poll_reply, status, body, len, error);
	a->dirty = true;
}

/* Reports sent and not acknowledged: ask for their ACKs, hourly. */
static void maybe_poll(struct lic_agent *a, int64_t now)
{
	char(*ids)[LIC_STORE_REPORT_ID_MAX + 1] = NULL;
	const char **pp = NULL;
	struct lic_ack_poll_info pi = {0};
	char *env = NULL, err[256];
	size_t n = 0, i, len = 0;

	if (a->transport != LIC_TRANSPORT_CSLU || !may_push(a) ||
	    a->ops->poll == NULL || a->poll_inflight || now < a->next_poll)
		return;
	ids = calloc(MAX_IDS, sizeof(*ids));
	pp = calloc(MAX_IDS, sizeof(*pp));
	if (ids == NULL || pp == NULL)
		goto out;
	if (lic_store_report_ids_unacked(a->st, ids, MAX_IDS, &n, err,
					 sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "unacknowledged reports: %s",
			err);
		goto out;
	}
	a->next_poll = now + LIC_ACK_CHECK_SECS;
	if (n == 0)
		goto out;
	for (i = 0; i < n; i++)
		pp[i] = ids[i];
	pi.udi = a->udi;
	pi.report_ids = pp;
	pi.nids = n;
	pi.created_s = now;
	if (lic_ack_poll_build(a->device_key, &pi, &env, &len, err,
			       sizeof(err)) != 0 ||
	    a->ops->poll(a->ops_ctx, env, len, poll_done, a, err,
			 sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERR, FAC, "COMM_FAILED",
			"ACK poll for %zu reports not sent: %s", n, err);
		goto out;
	}
	a->poll_inflight = true;
out:
	free(env);
	free(pp);
	free(ids);
}

static void handle_poll_reply(struct lic_agent *a, int64_t now)
{
	struct reply *r = &a->poll_reply;
	char err[256];

	if (!r->ready)
		return;
	a->poll_inflight = false;
	if (r->status == 200) {
		if (process_ack_envelope(a, r->body != NULL ? r->body : "",
					 r->len, now, err, sizeof(err)) != 0)
			log_msg(LOG_LVL_ERR, FAC_OWN, "ACK_REJECTED",
				"polled acknowledgement rejected: %s", err);
	} else if (r->status != 204) {
		log_msg(LOG_LVL_ERR, FAC, "COMM_FAILED",
			"ACK poll failed (%s); again in %" PRId64 " s",
			r->status == 0 ? r->error : "HTTP error",
			a->next_poll - now);
	}
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- tick ------------------------------------------------------------ */

static int64_t min_time(int64_t a, int64_t b)
{
	if (a == LIC_TIME_NONE)
		return b;
	if (b == LIC_TIME_NONE)
		return a;
	return a < b ? a : b;
}

/* The next time anything can be due, so most ticks return at once. */
static void compute_wake(struct lic_agent *a, int64_t now)
{
	struct lic_store_report rep;
	size_t n = 0;
	int64_t w = now + WAKE_MAX_S, d;

	w = min_time(w, lic_period_end(a->period));
	if (may_push(a) && !a->inflight) {
		if (a->have_unreported)
			w = min_time(w, lic_next_report_push(&a->policy,
							     LIC_GROUP_CUBE,
							     &a->times, now));
		if (lic_store_pending_reports(a->st, &rep, 1, &n, NULL, 0) ==
			    0 &&
		    n > 0)
			w = min_time(w, rep.next_attempt);
	}
	d = lic_next_ack_deadline(&a->policy, LIC_GROUP_CUBE, &a->times);
	if (d != LIC_TIME_NONE && d > now)
		w = min_time(w, d);
	if (a->transport == LIC_TRANSPORT_CSLU && a->next_poll > now)
		w = min_time(w, a->next_poll);
	if (a->last_warn != 0)
		w = min_time(w, a->last_warn + LIC_DAY_SECS);
	d = next_warning(a);
	if (d != LIC_TIME_NONE && d > now)
		w = min_time(w, d);
	a->wake = w > now ? w : now + 1;
}

void lic_agent_tick(struct lic_agent *a, int64_t now)
{
	char err[256];

	if (a == NULL || now < 0 || now > LIC_TIME_MAX)
		return;
	if (a->period == NULL && ensure_period(a, now) != 0)
		return;
	if (!a->dirty && !a->reply.ready && now < a->wake)
		return;
	a->dirty = false;
	handle_trust_reply(a, now);
	handle_poll_reply(a, now);
	handle_reply(a, now);
	if (now < a->hold_until) {
		a->wake = a->hold_until;
		return;
	}
	close_due(a, now);
	if (now - a->last_prune >= PRUNE_EVERY_S) {
		a->last_prune = now;
		if (lic_store_prune(a->st, now, LIC_AGENT_RETENTION_S, err,
				    sizeof(err)) < 0)
			log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "prune: %s", err);
	}
	if (a->sync && may_push(a))
		start_sync(a, now);
	if (may_push(a) && report_due(a, now) &&
	    build_report(a, now, err, sizeof(err)) < 0)
		log_msg(LOG_LVL_ERR, FAC_OWN, "REPORT_FAILED",
			"usage report not built: %s", err);
	maybe_push(a, now);
	maybe_poll(a, now);
	handle_reply(a, now); /* a transport that answered at once */
	reevaluate_service(a, now);
	a->dirty = false;
	compute_wake(a, now);
}

/* ---- offline files --------------------------------------------------- */

/*
 * Every unreported record into reports first, then the usage file of the
 * stored reports `mode` selects (usagefile.h).
 */
static int usage_file(struct lic_agent *a, enum lic_save_mode mode,
		      unsigned days, int64_t now, struct lic_usagefile **f,
		      char *err, size_t errlen)
{
	int b;

	if (lic_usagefile_mode_check(mode, days, err, errlen) != 0)
		return -1;
	if (ensure_period(a, now) != 0) {
		err_set(err, errlen, "period state not stored");
		return -1;
	}
	do {
		b = build_report(a, now, err, errlen);
		if (b < 0)
			return -1;
	} while (b == 1 && a->have_unreported);
	return lic_usagefile_build(a->st, mode, days, now, f, err, errlen);
}

/* The reports went into a file: `Last report file write` moves. Returns
 * how many, or -1. */
static int mark_saved(struct lic_agent *a, const struct lic_usagefile *f,
		      int64_t now, const char *where, char *err,
		      size_t errlen)
{
	size_t n;
	const char *const *ids = lic_usagefile_ids(f, &n);

	if (lic_store_mark_saved(a->st, ids, n, now, err, errlen) != 0)
		return -1;
	reload_times(a);
	log_msg(LOG_LVL_INFO, FAC_OWN, "USAGE_SAVED",
		"%zu usage report(s) saved to %s", n, where);
	event_rec(a, now, "SAEVT_USAGE_SAVED", "reports=\"%zu\"", n);
	a->dirty = true;
	return (int)n;
}

int lic_agent_save_usage(struct lic_agent *a, const char *path, int64_t now,
			 char *err, size_t errlen)
{
	struct lic_usagefile *f = NULL;
	int ret = -1;

	if (a == NULL || path == NULL || path[0] == '\0' || now <= 0) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (usage_file(a, LIC_SAVE_UNREPORTED, 0, now, &f, err, errlen) == 0 &&
	    lic_usagefile_write(f, path, err, errlen) == 0)
		ret = mark_saved(a, f, now, path, err, errlen);
	lic_usagefile_free(&f);
	return ret;
}

int lic_agent_save_usage_buf(struct lic_agent *a, int64_t now, char **text,
			     size_t *len, char *err, size_t errlen)
{
	return lic_agent_save_usage_sel(a, LIC_SAVE_UNREPORTED, 0, now, text,
					len, err, errlen);
}

int lic_agent_save_usage_sel(struct lic_agent *a, enum lic_save_mode mode,
			     unsigned days, int64_t now, char **text,
			     size_t *len, char *err, size_t errlen)
{
	struct lic_usagefile *f = NULL;
	int ret = -1;

	if (a == NULL || text == NULL || len == NULL || now <= 0) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	*text = NULL;
	/* Marked before the caller writes the file: a report that never
	 * reaches it is still unacknowledged and goes into the next file. */
	if (usage_file(a, mode, days, now, &f, err, errlen) == 0)
		ret = mark_saved(a, f, now, "a file", err, errlen);
	if (ret >= 0)
		*text = lic_usagefile_take_text(f, len);
	lic_usagefile_free(&f);
	return ret;
}

/* A policy object (policy module JSON) replaces the one in use and is
 * stored; the deadlines and the service flag follow it at once. */
static int install_policy_json(struct lic_agent *a, const char *ptext,
			       int64_t now, char *err, size_t errlen)
{
	struct lic_policy arrived, installed = a->policy;

	if (lic_policy_parse(ptext, strlen(ptext), &arrived, err, errlen) !=
		    0 ||
	    lic_policy_install(&installed, &arrived, now, err, errlen) != 0 ||
	    lic_store_set_policy(a->st, &installed, err, errlen) != 0)
		return -1;
	a->policy = installed;
	times_config(a);
	log_msg(LOG_LVL_INFO, FAC, "POLICY_INSTALL_SUCCESS",
		"A new licensing policy was successfully installed (%s)",
		installed.name);
	a->dirty = true;
	reevaluate_service(a, now);
	return 0;
}

/*
 * The policy of an imported policy file (docs/licensing-protocol.md
 * 3.3, opened by lic_usagefile_import). A file issued before the newest
 * one installed is refused: an old, genuinely signed file must not roll
 * a stricter policy back.
 */
static int install_policy_file(struct lic_agent *a, const char *ptext,
			       int64_t issued, int64_t now, char *err,
			       size_t errlen)
{
	int64_t newest = 0;

	if (lic_store_policy_issued(a->st, &newest, err, errlen) != 0)
		return -1;
	if (issued < newest) {
		err_set(err, errlen,
			"policy file issued %" PRId64 " is older than the one "
			"installed (%" PRId64 ")",
			issued, newest);
		return -1;
	}
	if (install_policy_json(a, ptext, now, err, errlen) != 0 ||
	    lic_store_set_policy_issued(a->st, issued, err, errlen) != 0)
		return -1;
	return 0;
}

int lic_agent_import_buf(struct lic_agent *a, const char *name,
			 const char *buf, size_t len, int64_t now, char *err,
			 size_t errlen)
{
	struct lic_import im = {NULL, NULL, 0};
	int ret = -1;

	if (a == NULL || name == NULL || buf == NULL || now <= 0) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (lic_usagefile_import(a->server, &a->udi, name, buf, len, &im, err,
				 errlen) == 0)
		ret = im.ack != NULL
			      ? install_ack(a, im.ack, now, err, errlen)
			      : install_policy_file(a, im.policy_json,
						    im.issued_s, now, err,
						    errlen);
	lic_usagefile_import_clear(&im);
	if (ret != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "IMPORT_FAILED", "import %s: %s",
			name, err != NULL ? err : "failed");
		note_error(a, now, "import %s: %s", name,
			   err != NULL ? err : "failed");
		event_rec(a, now, "SAEVT_IMPORT_FAIL",
			  "file=\"%s\" error=\"%s\"", name,
			  err != NULL ? err : "failed");
	} else {
		event_rec(a, now, "SAEVT_IMPORT_SUCCESS", "file=\"%s\"",
			  name);
	}
	return ret;
}

int lic_agent_import(struct lic_agent *a, const char *path, int64_t now,
		     char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (a == NULL || path == NULL || now <= 0) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (lic_usagefile_read(path, &buf, &len, err, errlen) != 0) {
		log_msg(LOG_LVL_ERR, FAC_OWN, "IMPORT_FAILED", "import %s: %s",
			path, err != NULL ? err : "failed");
		return -1;
	}
	ret = lic_agent_import_buf(a, path, buf, len, now, err, errlen);
	free(buf);
	return ret;
}

/* ---- trust, role ----------------------------------------------------- */

int lic_agent_set_trust(struct lic_agent *a, const char *server_pubkey_pem,
			const char *trust_code, int64_t now, char *err,
			size_t errlen)
{
	struct lic_store_trust *t = NULL;
	struct lic_pubkey *pk = NULL;
	int ret = -1;

	if (a == NULL || server_pubkey_pem == NULL || trust_code == NULL ||
	    now <= 0) {
		err_set(err, errlen, "bad arguments");
		goto out;
	}
	if (lic_pubkey_from_pem(server_pubkey_pem, strlen(server_pubkey_pem),
				&pk, err, errlen) != 0)
		goto out;
	t = err_calloc(1, sizeof(*t), err, errlen);
	if (t == NULL)
		goto out_free_pk;
	if (copy_text(t->server_key_pem, sizeof(t->server_key_pem),
		      server_pubkey_pem) != 0 ||
	    copy_text(t->trust_code, sizeof(t->trust_code), trust_code) != 0) {
		err_set(err, errlen, "server key or trust code too long");
		goto out_free_pk;
	}
	snprintf(t->udi_pid, sizeof(t->udi_pid), "%s", a->pid);
	snprintf(t->udi_sn, sizeof(t->udi_sn), "%s", a->sn);
	t->installed = now;
	if (lic_store_set_trust(a->st, t, err, errlen) != 0)
		goto out_free_pk;
	lic_pubkey_free(&a->server);
	a->server = pk;
	pk = NULL;
	a->trust_installed = now;
	log_msg(LOG_LVL_INFO, FAC, "TRUST_CODE_INSTALL_SUCCESS",
		"A new licensing trust code was successfully installed");
	event_rec(a, now, "SAEVT_TRUST_INSTALLED", "udi=\"PID:%s,SN:%s\"",
		  a->pid, a->sn);
	a->dirty = true;
	ret = 0;
out_free_pk:
	lic_pubkey_free(&pk);
	free(t);
out:
	if (ret != 0 && a != NULL) {
		log_msg(LOG_LVL_ERR, FAC, "TRUST_CODE_INSTALL_FAILED",
			"trust not installed: %s", err != NULL ? err : "");
		note_error(a, now, "trust: %s", err != NULL ? err : "");
		event_rec(a, now, "SAEVT_TRUST_INSTALL_FAIL", "error=\"%s\"",
			  err != NULL ? err : "");
	}
	return ret;
}

static void trust_done(void *arg, int status, const void *body, size_t len,
		       const char *error)
{
	struct lic_agent *a = arg;

	keep_reply(&a->trust_reply, status, body, len, error);
	a->dirty = true;
}

int lic_agent_trust(struct lic_agent *a, const char *token, bool force,
		    int64_t now, char *err, size_t errlen)
{
	struct lic_trust_request_info ri = {0};
	char *env = NULL;
	size_t len = 0;
	int ret = -1;

	if (a == NULL || token == NULL || now <= 0) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (a->ops == NULL || a->ops->trust == NULL) {
		err_set(err, errlen, "trust needs license smart transport "
				     "smart or cslu with a url and ca-file");
		return -1;
	}
	if (a->trust_inflight) {
		err_set(err, errlen, "a trust request is already in progress");
		return -1;
	}
	if (a->server != NULL && !force) {
		err_set(err, errlen, "trust is already installed; add `force` "
				     "to replace it");
		return -1;
	}
	ri.token = token;
	ri.udi = a->udi;
	ri.force = force;
	ri.created_s = now;
	if (lic_trust_request_build(a->device_key, &ri, &env, &len, err,
				    errlen) != 0)
		return -1;
	if (a->ops->trust(a->ops_ctx, env, len, trust_done, a, err,
			  errlen) == 0) {
		a->trust_inflight = true;
		a->trust_error[0] = '\0';
		ret = 0;
	}
	free(env);
	return ret;
}

/* The answer to the trust request: pin the server key, install the trust
 * code and the policy that came with it. */
static void handle_trust_reply(struct lic_agent *a, int64_t now)
{
	struct reply *r = &a->trust_reply;
	struct lic_trust_answer *ans = NULL;
	const struct lic_trust_code_info *ci;
	char err[256] = "";

	if (!r->ready)
		return;
	a->trust_inflight = false;
	if (r->status != 200 || r->body == NULL) {
		if (r->status == 0)
			err_set(err, sizeof(err), "%s", r->error);
		else
			err_set(err, sizeof(err),
				"license server answered %d: %.160s",
				r->status, r->body != NULL ? r->body : "");
		goto out_fail;
	}
	if (lic_trust_answer_parse(r->body, r->len, &a->udi, a->device_key,
				   &ans, err, sizeof(err)) != 0)
		goto out_fail;
	ci = lic_trust_answer_get(ans);
	if (lic_agent_set_trust(a, lic_trust_answer_server_pem(ans),
				ci->trust_code, now, err, sizeof(err)) != 0) {
		snprintf(a->trust_error, sizeof(a->trust_error), "%s", err);
		goto out_free; /* logged there */
	}
	if (lic_store_set_account(a->st, ci->smart_account,
				  ci->virtual_account, err, sizeof(err)) == 0) {
		snprintf(a->smart_account, sizeof(a->smart_account), "%s",
			 ci->smart_account);
		snprintf(a->virtual_account, sizeof(a->virtual_account), "%s",
			 ci->virtual_account);
	} else {
		log_msg(LOG_LVL_ERR, FAC_OWN, "STORE", "account names: %s", err);
	}
	if (ci->policy_json != NULL &&
	    install_policy_json(a, ci->policy_json, now, err, sizeof(err)) !=
		    0)
		log_msg(LOG_LVL_ERR, FAC, "POLICY_INSTALL_FAILED",
			"policy from the trust answer not installed: %s", err);
	goto out_free;

out_fail:
	snprintf(a->trust_error, sizeof(a->trust_error), "%s", err);
	log_msg(LOG_LVL_ERR, FAC, "TRUST_CODE_INSTALL_FAILED",
		"trust not installed: %s", err);
	note_error(a, now, "trust: %s", err);
	event_rec(a, now, "SAEVT_TRUST_INSTALL_FAIL", "error=\"%s\"", err);
out_free:
	lic_trust_answer_free(&ans);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

bool lic_agent_trust_in_flight(const struct lic_agent *a)
{
	return a->trust_inflight;
}

/* What `show license status` prints under Proxy (a longer name is cut). */
static void set_proxy_text(struct lic_agent *a, const char *host,
			   unsigned port)
{
	snprintf(a->proxy_host, sizeof(a->proxy_host), "%s",
		 host != NULL ? host : "");
	a->proxy_port = a->proxy_host[0] ? port : 0;
}

int lic_agent_set_endpoint(struct lic_agent *a, struct event_base *base,
			   const char *url, const char *ca_file,
			   const char *proxy_host, unsigned proxy_port,
			   char *err, size_t errlen)
{
	void *ctx;

	if (a == NULL || url == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (a->ops != &lic_transport_http_ops) {
		err_set(err, errlen, "the agent is not on the HTTPS transport");
		return -1;
	}
	if (strlen(url) > LIC_AGENT_URL_MAX) {
		err_set(err, errlen, "license smart url too long");
		return -1;
	}
	ctx = lic_transport_http_new(base, url, ca_file,
				     a->transport == LIC_TRANSPORT_CSLU, err,
				     errlen);
	if (ctx == NULL)
		return -1;
	if (lic_transport_http_set_proxy(ctx, proxy_host, proxy_port) != 0) {
		lic_transport_http_ops.free(ctx);
		err_set(err, errlen, "bad license proxy");
		return -1;
	}
	/* What was in flight is cancelled: its `done` runs now, and the next
	 * tick handles it as a failed exchange (retried). */
	lic_transport_http_ops.free(a->ops_ctx);
	a->ops_ctx = ctx;
	copy_text(a->url, sizeof(a->url), url);
	set_proxy_text(a, proxy_host, proxy_port);
	a->dirty = true;
	return 0;
}

const char *lic_agent_proxy(const struct lic_agent *a, unsigned *port)
{
	if (port != NULL)
		*port = a->proxy_port;
	return a->proxy_host;
}

const char *lic_agent_trust_error(const struct lic_agent *a)
{
	return a->trust_error;
}

int lic_agent_set_role(struct lic_agent *a, enum lic_ha_role role,
		       int64_t now)
{
	enum lic_ha_role old;

	if (a == NULL || now < 0 ||
	    (role != LIC_HA_STANDALONE && role != LIC_HA_ACTIVE &&
	     role != LIC_HA_STANDBY))
		return -1;
	old = a->role;
	a->role = role;
	a->dirty = true;
	if (role == old)
		return 0;
	log_msg(LOG_LVL_NOTICE, FAC_OWN, "HA_ROLE", "HA role %s -> %s",
		lic_ha_role_name(old), lic_ha_role_name(role));
	event_rec(a, now, "SAEVT_HA_ROLE_CHANGE", "from=\"%s\" to=\"%s\"",
		  lic_ha_role_name(old), lic_ha_role_name(role));
	if (role != LIC_HA_ACTIVE)
		return 0;
	if (a->period == NULL)
		return ensure_period(a, now);
	if (lic_period_restart(a->period, now) != 0)
		return -1;
	if (save_period(a) != 0) {
		reload_period(a);
		return -1;
	}
	return 0;
}

/* ---- life cycle ------------------------------------------------------ */

static int load_state(struct lic_agent *a, char *err, size_t errlen)
{
	struct lic_period_state ps;
	struct lic_store_trust *t;
	int r, ret = -1;

	if (lic_store_epoch(a->st, random_u32(), &a->epoch, err, errlen) != 0)
		return -1;
	if (lic_store_get_account(a->st, a->smart_account,
				  sizeof(a->smart_account), a->virtual_account,
				  sizeof(a->virtual_account), err, errlen) < 0)
		return -1;
	r = lic_store_get_policy(a->st, &a->policy, err, errlen);
	if (r < 0)
		return -1;
	if (r == 1)
		lic_policy_default(&a->policy);
	if (lic_store_get_times(a->st, &a->times, err, errlen) != 0)
		return -1;
	times_config(a);
	r = lic_store_get_period(a->st, &ps, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0) {
		a->period = lic_period_new(&a->per, ps.start);
		if (a->period == NULL ||
		    lic_period_restore(a->period, &ps) != 0) {
			err_set(err, errlen, "stored period state is invalid");
			return -1;
		}
	}
	t = err_calloc(1, sizeof(*t), err, errlen);
	if (t == NULL)
		return -1;
	r = lic_store_get_trust(a->st, t, err, errlen);
	if (r < 0)
		goto out_free;
	if (r == 0) {
		if (lic_pubkey_from_pem(t->server_key_pem,
					strlen(t->server_key_pem), &a->server,
					err, errlen) != 0)
			goto out_free;
		a->trust_installed = t->installed;
		if (strcmp(t->udi_pid, a->pid) != 0 ||
		    strcmp(t->udi_sn, a->sn) != 0)
			log_msg(LOG_LVL_WARNING, FAC_OWN, "TRUST_UDI",
				"trust was installed for UDI %s:%s, this "
				"device is %s:%s",
				t->udi_pid, t->udi_sn, a->pid, a->sn);
	}
	refresh_unreported(a);
	ret = 0;
out_free:
	free(t);
	return ret;
}

static int check_id_text(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return -1;
	return 0;
}

struct lic_agent *lic_agent_new(const struct lic_agent_config *cfg,
				sqlite3 *db, const struct lic_key *device_key,
				struct event_base *base, char *err,
				size_t errlen)
{
	struct lic_agent *a;
	char kid[LIC_KEY_ID_LEN + 1];
	int i;

	if (cfg == NULL || db == NULL || device_key == NULL) {
		err_set(err, errlen, "bad arguments");
		return NULL;
	}
	a = err_calloc(1, sizeof(*a), err, errlen);
	if (a == NULL)
		return NULL;
	a->open_hour = -1;
	a->warn_for = LIC_TIME_NONE;
	a->device_key = device_key;
	a->service_up = true;
	a->dirty = true;
	if (cfg->release != NULL && cfg->release[0] != '\0') {
		if (lic_release_parse(cfg->release, &a->release) != 0) {
			err_set(err, errlen, "license release %s: expected %s",
			       cfg->release, LIC_RELEASE_SYNTAX);
			goto out_free;
		}
		lic_release_format(&a->release, a->release_text,
				   sizeof(a->release_text));
	} else {
		snprintf(a->release_text, sizeof(a->release_text), "%s",
			 LIC_AGENT_NEWEST_RELEASE);
	}
	if (periodicity_from_hours(cfg->periodicity_hours, &a->per) != 0) {
		err_set(err, errlen,
		       "periodicity %u hours: expected 1..23 hours or 1..30 "
		       "days",
		       cfg->periodicity_hours);
		goto out_free;
	}
	if (cfg->transport != LIC_TRANSPORT_SMART &&
	    cfg->transport != LIC_TRANSPORT_CSLU &&
	    cfg->transport != LIC_TRANSPORT_OFF) {
		err_set(err, errlen, "unknown transport");
		goto out_free;
	}
	a->transport = cfg->transport;
	if (copy_text(a->url, sizeof(a->url), cfg->url) != 0) {
		err_set(err, errlen, "license smart url too long");
		goto out_free;
	}
	if (cfg->usage_interval_days > LIC_POLICY_DAYS_MAX) {
		err_set(err, errlen, "usage interval over %d days",
		       LIC_POLICY_DAYS_MAX);
		goto out_free;
	}
	a->interval_days = cfg->usage_interval_days;
	a->privacy = cfg->privacy_hostname;
	if (copy_text(a->hostname, sizeof(a->hostname), cfg->hostname) != 0 ||
	    copy_text(a->pid, sizeof(a->pid),
		      cfg->pid != NULL ? cfg->pid : LIC_AGENT_DEFAULT_PID) !=
		    0 ||
	    copy_text(a->ha_group, sizeof(a->ha_group), cfg->ha_group) != 0) {
		err_set(err, errlen, "hostname, PID or HA group too long");
		goto out_free;
	}
	if (cfg->sn != NULL && cfg->sn[0] != '\0') {
		if (copy_text(a->sn, sizeof(a->sn), cfg->sn) != 0) {
			err_set(err, errlen, "serial number too long");
			goto out_free;
		}
	} else {
		lic_key_id(device_key, kid);
		snprintf(a->sn, sizeof(a->sn), "%s%.8s", LIC_AGENT_SN_PREFIX,
			 kid);
		for (i = 0; a->sn[i]; i++)
			if (a->sn[i] >= 'a' && a->sn[i] <= 'f')
				a->sn[i] = (char)(a->sn[i] - 'a' + 'A');
	}
	if (a->pid[0] == '\0' || check_id_text(a->pid) != 0 ||
	    check_id_text(a->sn) != 0) {
		err_set(err, errlen, "UDI PID/SN must be printable ASCII");
		goto out_free;
	}
	a->udi.pid = a->pid;
	a->udi.sn = a->sn;
	if (cfg->role != LIC_HA_STANDALONE && cfg->role != LIC_HA_ACTIVE &&
	    cfg->role != LIC_HA_STANDBY) {
		err_set(err, errlen, "unknown HA role");
		goto out_free;
	}
	a->role = cfg->role;
	a->set_service = cfg->set_service;
	a->service_arg = cfg->service_arg;
	a->clock_ms = cfg->clock_ms;
	a->st = lic_store_new(db, err, errlen);
	if (a->st == NULL)
		goto out_free;
	if (load_state(a, err, errlen) != 0)
		goto out_free;
	if (a->transport != LIC_TRANSPORT_OFF) {
		if (cfg->ops != NULL) {
			a->ops = cfg->ops;
			a->ops_ctx = cfg->ops_ctx;
		} else {
			a->ops_ctx = lic_transport_http_new(
				base, cfg->url, cfg->ca_file,
				a->transport == LIC_TRANSPORT_CSLU, err,
				errlen);
			if (a->ops_ctx == NULL)
				goto out_free;
			a->ops = &lic_transport_http_ops;
			if (lic_transport_http_set_proxy(a->ops_ctx,
							 cfg->proxy_host,
							 cfg->proxy_port) != 0) {
				err_set(err, errlen, "bad license proxy");
				goto out_free;
			}
			set_proxy_text(a, cfg->proxy_host, cfg->proxy_port);
		}
	} else if (cfg->ops != NULL && cfg->ops->free != NULL) {
		cfg->ops->free(cfg->ops_ctx);
	}
	return a;

out_free:
	lic_agent_free(&a);
	return NULL;
}

void lic_agent_free(struct lic_agent **ap)
{
	struct lic_agent *a;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	/* The transport first: a cancelled push calls push_done(a). */
	if (a->ops != NULL && a->ops->free != NULL)
		a->ops->free(a->ops_ctx);
	free(a->reply.body);
	free(a->trust_reply.body);
	free(a->poll_reply.body);
	free(a->sync_ids);
	lic_pubkey_free(&a->server);
	lic_period_free(&a->period);
	lic_store_free(&a->st);
	free(a);
	*ap = NULL;
}

/* ---- accessors ------------------------------------------------------- */

const struct lic_usage_times *lic_agent_times(const struct lic_agent *a)
{
	return &a->times;
}

const struct lic_policy *lic_agent_policy(const struct lic_agent *a)
{
	return &a->policy;
}

const struct lic_udi *lic_agent_udi(const struct lic_agent *a)
{
	return &a->udi;
}

const struct lic_release *lic_agent_release(const struct lic_agent *a)
{
	return &a->release;
}

enum lic_ha_role lic_agent_role(const struct lic_agent *a)
{
	return a->role;
}

bool lic_agent_service_up(const struct lic_agent *a)
{
	return a->service_up;
}

bool lic_agent_trusted(const struct lic_agent *a)
{
	return a->server != NULL;
}

bool lic_agent_push_in_flight(const struct lic_agent *a)
{
	return a->inflight;
}

int64_t lic_agent_next_deadline(const struct lic_agent *a)
{
	return lic_next_ack_deadline(&a->policy, LIC_GROUP_CUBE, &a->times);
}

int64_t lic_agent_next_push(const struct lic_agent *a, int64_t now)
{
	return lic_next_report_push(&a->policy, LIC_GROUP_CUBE, &a->times,
				    now);
}

int64_t lic_agent_period_start(const struct lic_agent *a)
{
	return a->period != NULL ? lic_period_start(a->period) : 0;
}

int64_t lic_agent_period_end(const struct lic_agent *a)
{
	return a->period != NULL ? lic_period_end(a->period) : 0;
}

int lic_agent_render_usage(const struct lic_agent *a, int64_t now, FILE *out)
{
	return lic_usage_render(&a->policy, LIC_GROUP_CUBE, &a->times, now,
				out);
}

int lic_agent_sync(struct lic_agent *a, char *err, size_t errlen)
{
	if (a == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	if (a->transport == LIC_TRANSPORT_OFF) {
		err_set(err, errlen,
			"transport is off: save usage to a file instead");
		return -1;
	}
	if (a->server == NULL) {
		err_set(err, errlen, "no trust installed: establish trust "
				     "first");
		return -1;
	}
	if (a->role == LIC_HA_STANDBY) {
		err_set(err, errlen, "a standby unit does not report");
		return -1;
	}
	a->sync = true;
	a->dirty = true;
	return 0;
}

enum lic_transport_kind lic_agent_transport(const struct lic_agent *a)
{
	return a->transport;
}

const char *lic_agent_url(const struct lic_agent *a)
{
	return a->url;
}

const char *lic_agent_hostname(const struct lic_agent *a)
{
	return a->hostname;
}

bool lic_agent_privacy_hostname(const struct lic_agent *a)
{
	return a->privacy;
}

int64_t lic_agent_trust_installed(const struct lic_agent *a)
{
	return a->server != NULL ? a->trust_installed : 0;
}

void lic_agent_usage(const struct lic_agent *a, int64_t now,
		     uint32_t count[LIC_TAG_COUNT])
{
	struct lic_record rec[LIC_TAG_COUNT];
	int t;

	memset(rec, 0, sizeof(rec));
	if (a->period != NULL)
		lic_period_peek_open(a->period, now, a->open_hour,
				     a->open_hour >= 0 ? a->open_value : NULL,
				     rec);
	for (t = 0; t < LIC_TAG_COUNT; t++)
		count[t] = a->period != NULL ? rec[t].count : 0;
}

void lic_agent_open_hour(struct lic_agent *a, int64_t hour_start,
			 const uint32_t value[LIC_CLASS_COUNT])
{
	if (a == NULL)
		return;
	a->open_hour = value != NULL && hour_start >= 0 &&
				       hour_start % HOUR_S == 0
			       ? hour_start
			       : -1;
	if (a->open_hour >= 0)
		memcpy(a->open_value, value, sizeof(a->open_value));
}

int lic_agent_record_summary(const struct lic_agent *a,
			     struct lic_store_summary *out, char *err,
			     size_t errlen)
{
	return lic_store_record_summary(a->st, out, err, errlen);
}

int lic_agent_recent_records(const struct lic_agent *a, enum lic_tag tag,
			     struct lic_store_record *out, size_t max,
			     size_t *n, char *err, size_t errlen)
{
	return lic_store_recent_records(a->st, tag, out, max, n, err, errlen);
}

struct lic_periodicity lic_agent_periodicity(const struct lic_agent *a)
{
	return a->per;
}

const char *lic_agent_smart_account(const struct lic_agent *a)
{
	return a->smart_account;
}

const char *lic_agent_virtual_account(const struct lic_agent *a)
{
	return a->virtual_account;
}

/* ---- event log, counters ---------------------------------------------- */

/* The event's time: the clock's milliseconds when they agree with `now`
 * (the same second), else now itself. */
static int64_t event_ms(const struct lic_agent *a, int64_t now)
{
	int64_t ms = a->clock_ms != NULL ? a->clock_ms() : -1;

	return ms >= 0 && ms / 1000 == now ? ms : now * 1000;
}

/*
 * Store one event; a store failure is logged once (until one succeeds
 * again) and never stops what the agent was doing.
 */
static void event_vrec(struct lic_agent *a, int64_t now, const char *name,
		       const char *fmt, va_list ap)
{
	char attrs[LIC_STORE_EVENT_ATTRS_MAX + 1], err[256];
	size_t i;
	int n;

	n = vsnprintf(attrs, sizeof(attrs), fmt != NULL ? fmt : "", ap);
	if (n < 0)
		attrs[0] = '\0';
	/* Reasons come from peers and files: keep them printable. */
	for (i = 0; attrs[i] != '\0'; i++)
		if ((unsigned char)attrs[i] < 0x20 ||
		    (unsigned char)attrs[i] >= 0x7f)
			attrs[i] = ' ';
	if (lic_store_event_add(a->st, event_ms(a, now), name, attrs, err,
				sizeof(err)) != 0) {
		if (!a->event_error_logged)
			log_msg(LOG_LVL_ERR, FAC_OWN, "STORE",
				"event %s not recorded: %s", name, err);
		a->event_error_logged = true;
		return;
	}
	a->event_error_logged = false;
}

static void event_rec(struct lic_agent *a, int64_t now, const char *name,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_vrec(a, now, name, fmt, ap);
	va_end(ap);
}

static void note_error(struct lic_agent *a, int64_t now, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->counters.last_error, sizeof(a->counters.last_error), fmt,
		  ap);
	va_end(ap);
	a->counters.last_error_at = now;
}

int lic_agent_event(struct lic_agent *a, int64_t now, const char *name,
		    const char *fmt, ...)
{
	va_list ap;
	bool failed;

	if (a == NULL || name == NULL || now < 0 || now > LIC_TIME_MAX)
		return -1;
	va_start(ap, fmt);
	event_vrec(a, now, name, fmt, ap);
	va_end(ap);
	failed = a->event_error_logged;
	return failed ? -1 : 0;
}

int lic_agent_events(const struct lic_agent *a, int64_t since_ms,
		     struct lic_store_event *out, size_t max, size_t *n,
		     char *err, size_t errlen)
{
	if (a == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	return lic_store_events(a->st, since_ms, out, max, n, err, errlen);
}

const struct lic_agent_counters *
lic_agent_counters(const struct lic_agent *a)
{
	return &a->counters;
}
