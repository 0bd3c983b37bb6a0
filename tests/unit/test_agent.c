/*
 * The licensing agent (licensing/agent.h, docs/internals/licensing-agent.md)
 * with frozen time, a fake transport and a server key made here: hours in,
 * records and signed reports out, ACKs in, deadline and service flag.
 * Every call gets its `now`; stderr goes to a file so log lines can be
 * checked.
 */
#include "licensing/agent.h"
#include "common/db.h"
#include "licensing/envelope.h"
#include "licensing/store.h"

#include "tmpfile.h"
#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)
#define MAXPUSH 16

struct fake {
	int npush;
	char *env[MAXPUSH];
	size_t len[MAXPUSH];
	bool pending;
	lic_push_done_fn *done;
	void *arg;
};

static struct {
	char db_path[64];
	char log_path[64];
	char file_a[64];
	char file_b[64];
	sqlite3 *db;
	struct lic_store *peek; /* a second view of the same tables */
	struct lic_key *dev;
	struct lic_key *server;
	char *server_pem;
	struct fake fake;
	int up_calls, down_calls;
	struct lic_agent_config cfg;
	struct lic_agent *a;
} fx;

static const uint32_t V[LIC_CLASS_COUNT] = {5, 2, 0, 1, 7};

/* ---- fake transport -------------------------------------------------- */

static int fake_push(void *ctx, const char *env, size_t len,
		     lic_push_done_fn *done, void *arg, char *err,
		     size_t errlen)
{
	struct fake *f = ctx;

	(void)err;
	(void)errlen;
	ck_assert_int_lt(f->npush, MAXPUSH);
	ck_assert(!f->pending);
	f->env[f->npush] = malloc(len + 1);
	memcpy(f->env[f->npush], env, len);
	f->env[f->npush][len] = '\0';
	f->len[f->npush] = len;
	f->npush++;
	f->pending = true;
	f->done = done;
	f->arg = arg;
	return 0;
}

static void fake_answer(struct fake *f, int status, const char *body)
{
	ck_assert(f->pending);
	f->pending = false;
	f->done(f->arg, status, body, body != NULL ? strlen(body) : 0,
		status == 0 ? "connection refused" : NULL);
}

static void fake_free(void *ctx)
{
	struct fake *f = ctx;

	if (f->pending) {
		f->pending = false;
		f->done(f->arg, 0, NULL, 0, "cancelled");
	}
}

static const struct lic_transport_ops fake_ops = {
	.push = fake_push,
	.free = fake_free,
};

static void set_service(void *arg, bool up)
{
	(void)arg;
	if (up)
		fx.up_calls++;
	else
		fx.down_calls++;
}

/* ---- fixture --------------------------------------------------------- */

static void open_db(void)
{
	char err[256];

	fx.db = db_open(fx.db_path, err, sizeof(err));
	ck_assert_msg(fx.db != NULL, "%s", err);
	fx.peek = lic_store_new(fx.db, err, sizeof(err));
	ck_assert_msg(fx.peek != NULL, "%s", err);
}

static void close_db(void)
{
	lic_store_free(&fx.peek);
	db_close(&fx.db);
}

static void setup(void)
{
	char err[256];

	memset(&fx, 0, sizeof(fx));
	tmp_path(fx.db_path, sizeof(fx.db_path), "test_agent", ".db");
	tmp_path(fx.log_path, sizeof(fx.log_path), "test_agent", ".log");
	tmp_path(fx.file_a, sizeof(fx.file_a), "test_agent", ".a");
	tmp_path(fx.file_b, sizeof(fx.file_b), "test_agent", ".b");
	unlink(fx.db_path);
	tmp_stderr_to(fx.log_path);
	open_db();
	ck_assert_msg(lic_key_generate(&fx.dev, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_msg(lic_key_generate(&fx.server, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert(lic_key_public_pem(fx.server, &fx.server_pem, NULL, err,
				     sizeof(err)) == 0);
	fx.cfg.periodicity_hours = 8;
	fx.cfg.transport = LIC_TRANSPORT_SMART;
	fx.cfg.hostname = "cube1";
	fx.cfg.role = LIC_HA_STANDALONE;
	fx.cfg.set_service = set_service;
	fx.cfg.ops = &fake_ops;
	fx.cfg.ops_ctx = &fx.fake;
}

static void teardown(void)
{
	int i;

	lic_agent_free(&fx.a);
	close_db();
	lic_key_free(&fx.dev);
	lic_key_free(&fx.server);
	free(fx.server_pem);
	for (i = 0; i < fx.fake.npush; i++)
		free(fx.fake.env[i]);
	tmp_db_remove(fx.db_path);
	unlink(fx.log_path);
	unlink(fx.file_a);
	unlink(fx.file_b);
}

static void start_agent(void)
{
	char err[256];

	fx.a = lic_agent_new(&fx.cfg, fx.db, fx.dev, NULL, err, sizeof(err));
	ck_assert_msg(fx.a != NULL, "%s", err);
}

static void trust(int64_t now)
{
	char err[256];

	ck_assert_msg(lic_agent_set_trust(fx.a, fx.server_pem, "local-code",
					  now, err, sizeof(err)) == 0,
		      "%s", err);
}

/* Feed hours [from, to) (hour indexes from T0), ticking at each end. */
static void feed(int from, int to, const uint32_t v[LIC_CLASS_COUNT])
{
	int h;

	for (h = from; h < to; h++) {
		int64_t end = T0 + (h + 1) * HOUR;

		ck_assert_int_eq(lic_agent_hour(fx.a, T0 + h * HOUR, v, end),
				 0);
		lic_agent_tick(fx.a, end);
	}
}

static size_t count_records(size_t *acked)
{
	struct lic_store_record r[64];
	size_t n = 0, i;
	char err[256];

	ck_assert(lic_store_records(fx.peek, 0, r, 64, &n, err, sizeof(err)) ==
		  0);
	if (acked != NULL) {
		*acked = 0;
		for (i = 0; i < n; i++)
			*acked += r[i].acked_at != 0;
	}
	return n;
}

static size_t pending(struct lic_store_report *out)
{
	struct lic_store_report r[8];
	size_t n = 0;
	char err[256];

	ck_assert(lic_store_pending_reports(fx.peek, r, 8, &n, err,
					    sizeof(err)) == 0);
	if (n > 0 && out != NULL)
		*out = r[0];
	return n;
}

static int log_count(const char *needle)
{
	char buf[65536];
	FILE *f;
	size_t n;
	int c = 0;
	const char *p;

	fflush(stderr);
	f = fopen(fx.log_path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p++)
		c++;
	return c;
}

/* Verify push i with the device public key; its report id into rid. */
static size_t verify_push(int i, char rid[LIC_REPORT_ID_LEN + 1])
{
	struct lic_pubkey *pub = NULL;
	struct lic_report *rep = NULL;
	const struct lic_report_info *ri;
	char err[256];
	size_t n;

	ck_assert(lic_key_public(fx.dev, &pub, err, sizeof(err)) == 0);
	ck_assert_msg(lic_report_parse(pub, fx.fake.env[i], fx.fake.len[i],
				       &rep, err, sizeof(err)) == 0,
		      "%s", err);
	ri = lic_report_get(rep);
	snprintf(rid, LIC_REPORT_ID_LEN + 1, "%s", ri->report_id);
	ck_assert_str_eq(ri->hostname, "cube1");
	ck_assert_str_eq(ri->udi.pid, LIC_AGENT_DEFAULT_PID);
	ck_assert_str_eq(ri->udi.sn, lic_agent_udi(fx.a)->sn);
	n = ri->nrecords;
	lic_report_free(&rep);
	lic_pubkey_free(&pub);
	return n;
}

/* An ACK envelope for ids, signed by k (caller frees). */
static char *make_ack(const struct lic_key *k, const char *const *ids,
		      size_t n, int64_t t, const char *policy_json)
{
	struct lic_ack_info ai;
	char *env = NULL;
	size_t len;
	char err[256];

	memset(&ai, 0, sizeof(ai));
	ai.udi = *lic_agent_udi(fx.a);
	ai.report_ids = ids;
	ai.nids = n;
	ai.ack_time_s = t;
	ai.policy_json = policy_json;
	ck_assert_msg(lic_ack_build(k, &ai, &env, &len, err, sizeof(err)) ==
			      0,
		      "%s", err);
	return env;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* Start, trust, one hour with calls: a change close and a push at T0+1h. */
static void first_push(char rid[LIC_REPORT_ID_LEN + 1])
{
	start_agent();
	lic_agent_tick(fx.a, T0);
	trust(T0);
	ck_assert_int_eq(lic_agent_hour(fx.a, T0, V, T0 + HOUR), 0);
	ck_assert_uint_eq(count_records(NULL), 4);
	ck_assert_int_eq(lic_agent_times(fx.a)->first_use, T0);
	ck_assert(lic_agent_times(fx.a)->change_due);
	ck_assert_int_eq(fx.fake.npush, 0);
	lic_agent_tick(fx.a, T0 + HOUR);
	ck_assert_int_eq(fx.fake.npush, 1);
	ck_assert_uint_eq(verify_push(0, rid), 4);
}

/* ---- tests ----------------------------------------------------------- */

UNIT_TCASE("agent", .setup = setup, .teardown = teardown, .timeout = 60);

UNIT_TEST(report_push_ack_and_period_end)
{
	char rid[LIC_REPORT_ID_LEN + 1], rid2[LIC_REPORT_ID_LEN + 1];
	const char *ids[1] = {rid};
	const char *ids2[1] = {rid2};
	struct lic_policy pol;
	char *ack, *pj;
	size_t acked;

	first_push(rid);
	ck_assert_int_eq(lic_agent_next_deadline(fx.a), T0 + 365 * DAY);
	ack = make_ack(fx.server, ids, 1, T0 + HOUR, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_push, T0 + HOUR + 1);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, T0 + HOUR + 1);
	ck_assert(!lic_agent_times(fx.a)->change_due);
	/* Default policy: Perpetual reporting frequency 90 days. */
	ck_assert_int_eq(lic_agent_next_deadline(fx.a),
			 T0 + HOUR + 1 + 90 * DAY);
	ck_assert_uint_eq(count_records(&acked), 4);
	ck_assert_uint_eq(acked, 4);
	ck_assert_uint_eq(pending(NULL), 0);
	ck_assert_int_eq(log_count("%SBC_LIC-6-USAGE_ACK"), 1);

	/* Same values: no change; the 8 h period [T0+1h, T0+9h) closes. */
	feed(1, 8, V);
	ck_assert_uint_eq(count_records(NULL), 4);
	ck_assert_int_eq(fx.fake.npush, 1);
	feed(8, 9, V);
	ck_assert_uint_eq(count_records(NULL), 8);
	ck_assert_int_eq(fx.fake.npush, 2);
	ck_assert_uint_eq(verify_push(1, rid2), 4);
	ck_assert_int_eq(lic_agent_period_start(fx.a), T0 + 9 * HOUR);

	/* An ACK carrying a policy with a 30-day reporting frequency. */
	lic_policy_default(&pol);
	snprintf(pol.name, sizeof(pol.name), "Custom Policy");
	pol.attr[LIC_GROUP_PERPETUAL][LIC_ATTR_FREQUENCY].days = 30;
	pol.attr[LIC_GROUP_PERPETUAL][LIC_ATTR_FREQUENCY].source =
		LIC_SOURCE_CUSTOMER;
	pj = lic_policy_to_json(&pol);
	ck_assert_ptr_nonnull(pj);
	ack = make_ack(fx.server, ids2, 1, T0 + 9 * HOUR, pj);
	free(pj);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, T0 + 9 * HOUR + 5);
	ck_assert_str_eq(lic_agent_policy(fx.a)->name, "Custom Policy");
	ck_assert_int_eq(lic_agent_policy(fx.a)->installed_on,
			 T0 + 9 * HOUR + 5);
	ck_assert_int_eq(lic_agent_next_deadline(fx.a),
			 T0 + 9 * HOUR + 5 + 30 * DAY);
	ck_assert_uint_eq(count_records(&acked), 8);
	ck_assert_uint_eq(acked, 8);
	ck_assert_int_eq(log_count("POLICY_INSTALL_SUCCESS"), 1);
}
END_TEST

/*
 * Lead-time warnings before the default policy's deadline (ACK + 90 d):
 * one at 30 days, one at 14; a jump past the 7- and 1-day leads logs one
 * line, with the days left rounded up; a new ACK starts over.
 */
UNIT_TEST(deadline_warnings_at_lead_times)
{
	const char *msg = "%SMART_LIC-6-REPORTING_REQUIRED: A Usage report "
			  "acknowledgement will be required in ";
	static struct lic_store_event ev[1000];
	char rid[LIC_REPORT_ID_LEN + 1], days[256] = "";
	size_t n = 0, i;
	int p = 0;
	const char *ids[1] = {rid};
	int64_t d;
	char *ack;

	first_push(rid);
	ack = make_ack(fx.server, ids, 1, T0 + HOUR, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	d = lic_agent_next_deadline(fx.a);
	ck_assert_int_eq(d, T0 + HOUR + 1 + 90 * DAY);
	lic_agent_tick(fx.a, d - 30 * DAY - 1);
	ck_assert_int_eq(log_count(msg), 0);
	lic_agent_tick(fx.a, d - 30 * DAY);
	ck_assert_int_eq(log_count("required in 30 days."), 1);
	lic_agent_tick(fx.a, d - 20 * DAY);
	lic_agent_tick(fx.a, d - 14 * DAY);
	ck_assert_int_eq(log_count("required in 14 days."), 1);
	ck_assert_int_eq(log_count(msg), 2);
	lic_agent_tick(fx.a, d - DAY + 10);
	ck_assert_int_eq(log_count("required in 1 days."), 1);
	ck_assert_int_eq(log_count(msg), 3);
	lic_agent_tick(fx.a, d - 60);
	ck_assert_int_eq(log_count(msg), 3);
	ck_assert(lic_agent_service_up(fx.a));
	/* The event log has them too, days left in order. */
	ck_assert_int_eq(lic_agent_events(fx.a, 0, ev, 1000, &n, NULL, 0), 0);
	for (i = 0; i < n; i++)
		if (strcmp(ev[i].name, "SAEVT_REPORTING_REQUIRED") == 0)
			p += snprintf(days + p, sizeof(days) - (size_t)p, "%s;",
				      ev[i].attrs);
	ck_assert_str_eq(days, "days=\"30\";days=\"14\";days=\"1\";");
}
END_TEST

/* `show license usage` counts the hour still open; nothing is stored. */
UNIT_TEST(usage_counts_the_open_hour)
{
	static const uint32_t open[LIC_CLASS_COUNT] = {5, 2, 0, 1, 7};
	uint32_t count[LIC_TAG_COUNT];

	start_agent();
	lic_agent_tick(fx.a, T0);
	lic_agent_usage(fx.a, T0 + 60, count);
	ck_assert_uint_eq(count[LIC_TAG_STD], 0);
	lic_agent_open_hour(fx.a, T0, open);
	lic_agent_usage(fx.a, T0 + 60, count);
	/* Standard = aggregate - enhanced, as the record would say. */
	ck_assert_uint_eq(count[LIC_TAG_STD], 5);
	ck_assert_uint_eq(count[LIC_TAG_ENH], 2);
	ck_assert_uint_eq(count[LIC_TAG_RED], 0);
	ck_assert_uint_eq(count[LIC_TAG_VGW], 1);
	ck_assert_uint_eq(count_records(NULL), 0);
	/* An hour before the open period does not count; -1 clears. */
	lic_agent_open_hour(fx.a, T0 - HOUR, open);
	lic_agent_usage(fx.a, T0 + 60, count);
	ck_assert_uint_eq(count[LIC_TAG_STD], 0);
	lic_agent_open_hour(fx.a, -1, NULL);
	lic_agent_usage(fx.a, T0 + 60, count);
	ck_assert_uint_eq(count[LIC_TAG_ENH], 0);
}
END_TEST

UNIT_TEST(forged_unknown_and_replayed_acks_change_nothing)
{
	char rid[LIC_REPORT_ID_LEN + 1];
	const char *ids[1] = {rid};
	const char *unknown[1] = {"0123456789abcdef0123456789abcdef"};
	struct lic_key *other = NULL;
	struct lic_store_report rep;
	char err[256], *ack;
	size_t acked;

	first_push(rid);
	ck_assert(lic_key_generate(&other, err, sizeof(err)) == 0);
	ack = make_ack(other, ids, 1, T0 + HOUR, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_key_free(&other);
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	ck_assert_int_eq(log_count("%SBC_LIC-3-ACK_REJECTED"), 1);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, 0);
	ck_assert_int_eq(lic_agent_next_deadline(fx.a), T0 + 365 * DAY);
	ck_assert_uint_eq(pending(&rep), 1);
	ck_assert_int_eq(rep.acked_at, 0);
	ck_assert_int_gt(rep.sent_at, 0); /* the push itself reached it */
	count_records(&acked);
	ck_assert_uint_eq(acked, 0);

	/* A genuine ACK for an id never sent: rejected. */
	ack = make_ack(fx.server, unknown, 1, T0 + HOUR, NULL);
	write_text(fx.file_a, ack);
	free(ack);
	ck_assert_int_eq(lic_agent_import(fx.a, fx.file_a, T0 + 2 * HOUR, err,
					  sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, 0);

	/* The right ACK by import, then the same file again: a replay. */
	ack = make_ack(fx.server, ids, 1, T0 + HOUR, NULL);
	write_text(fx.file_b, ack);
	free(ack);
	ck_assert_msg(lic_agent_import(fx.a, fx.file_b, T0 + 2 * HOUR, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, T0 + 2 * HOUR);
	ck_assert_int_eq(lic_agent_import(fx.a, fx.file_b, T0 + 3 * HOUR, err,
					  sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "replay"));
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, T0 + 2 * HOUR);
	ck_assert_int_eq(log_count("%SBC_LIC-3-IMPORT_FAILED"), 2);
}
END_TEST

/* Run up to the first-use deadline with no ACK (transport off). */
static void to_deadline(const char *release)
{
	fx.cfg.release = release;
	fx.cfg.transport = LIC_TRANSPORT_OFF;
	fx.cfg.ops = NULL;
	fx.cfg.periodicity_hours = 0; /* 7 days */
	start_agent();
	lic_agent_tick(fx.a, T0);
	ck_assert_int_eq(lic_agent_hour(fx.a, T0, V, T0 + HOUR), 0);
	lic_agent_tick(fx.a, T0 + HOUR);
	ck_assert_int_eq(lic_agent_next_deadline(fx.a), T0 + 365 * DAY);
	lic_agent_tick(fx.a, T0 + 365 * DAY - 1);
	ck_assert(lic_agent_service_up(fx.a));
	lic_agent_tick(fx.a, T0 + 365 * DAY);
}

UNIT_TEST(shutdown_release_goes_down_then_up_on_ack)
{
	char err[256], *buf, *ack;
	const char *ids[LIC_ACK_MAX_IDS];
	struct lic_pubkey *pub = NULL;
	json_t *root, *reps, *e;
	json_error_t je;
	size_t i, n;
	int saved;

	to_deadline("17.6.1a");
	ck_assert_int_eq(fx.down_calls, 1);
	ck_assert(!lic_agent_service_up(fx.a));
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: SIP service is Down"), 1);
	lic_agent_tick(fx.a, T0 + 365 * DAY + 1);
	lic_agent_tick(fx.a, T0 + 367 * DAY);
	ck_assert_int_eq(fx.down_calls, 1);
	ck_assert_int_eq(fx.up_calls, 0);

	/* Offline round trip: save usage, licd acks it, import the ACK. */
	saved = lic_agent_save_usage(fx.a, fx.file_a, T0 + 367 * DAY, err,
				     sizeof(err));
	ck_assert_msg(saved >= 1, "%s", err);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_file_write,
			 T0 + 367 * DAY);
	root = json_load_file(fx.file_a, JSON_REJECT_DUPLICATES, &je);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(json_object_get(root, "format")),
			 "sbc-usage");
	reps = json_object_get(root, "reports");
	n = json_array_size(reps);
	ck_assert_uint_eq(n, (size_t)saved);
	ck_assert(lic_key_public(fx.dev, &pub, err, sizeof(err)) == 0);
	for (i = 0; i < n; i++) {
		struct lic_report *rep = NULL;

		e = json_array_get(reps, i);
		buf = json_dumps(e, JSON_COMPACT);
		ck_assert_msg(lic_report_parse(pub, buf, strlen(buf), &rep,
					       err, sizeof(err)) == 0,
			      "%s", err);
		ids[i] = strdup(lic_report_get(rep)->report_id);
		lic_report_free(&rep);
		free(buf);
	}
	lic_pubkey_free(&pub);
	json_decref(root);

	/* Import needs trust. */
	ack = make_ack(fx.server, ids, n, T0 + 367 * DAY, NULL);
	write_text(fx.file_b, ack);
	free(ack);
	ck_assert_int_eq(lic_agent_import(fx.a, fx.file_b, T0 + 368 * DAY, err,
					  sizeof(err)),
			 -1);
	ck_assert_int_eq(fx.up_calls, 0);
	trust(T0 + 368 * DAY);
	ck_assert_msg(lic_agent_import(fx.a, fx.file_b, T0 + 368 * DAY, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(fx.up_calls, 1);
	ck_assert(lic_agent_service_up(fx.a));
	ck_assert_int_eq(lic_agent_next_deadline(fx.a), T0 + 458 * DAY);
	lic_agent_tick(fx.a, T0 + 369 * DAY);
	ck_assert_int_eq(fx.down_calls, 1);
	ck_assert_int_eq(fx.up_calls, 1);
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: SIP service is Up"), 1);
	for (i = 0; i < n; i++)
		free((char *)ids[i]);
}
END_TEST

UNIT_TEST(warning_release_never_goes_down)
{
	to_deadline("17.9.1");
	ck_assert_int_eq(fx.down_calls, 0);
	ck_assert(lic_agent_service_up(fx.a));
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: usage report acknowledgement overdue"), 1);
	lic_agent_tick(fx.a, T0 + 365 * DAY + HOUR);
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: usage report acknowledgement overdue"), 1);
	lic_agent_tick(fx.a, T0 + 366 * DAY);
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: usage report acknowledgement overdue"), 2);
	ck_assert_int_eq(fx.down_calls, 0);
	ck_assert_int_eq(fx.up_calls, 0);
	ck_assert(lic_agent_service_up(fx.a));
}
END_TEST

UNIT_TEST(newest_release_never_goes_down)
{
	to_deadline(NULL);
	ck_assert_int_eq(fx.down_calls, 0);
	ck_assert_int_eq(log_count("%SIP-5-LICENSING: usage report acknowledgement overdue"), 1);
}
END_TEST

UNIT_TEST(standby_never_pushes)
{
	fx.cfg.role = LIC_HA_STANDBY;
	start_agent();
	lic_agent_tick(fx.a, T0);
	trust(T0);
	feed(0, 20, V);
	lic_agent_tick(fx.a, T0 + 30 * HOUR);
	ck_assert_uint_gt(count_records(NULL), 0);
	ck_assert_int_eq(fx.fake.npush, 0);
	/* Failover: this unit becomes active, a new period starts. */
	ck_assert_int_eq(lic_agent_set_role(fx.a, LIC_HA_ACTIVE,
					    T0 + 30 * HOUR + 10),
			 0);
	ck_assert_int_eq(lic_agent_period_start(fx.a), T0 + 30 * HOUR + 10);
	lic_agent_tick(fx.a, T0 + 30 * HOUR + 11);
	ck_assert_int_eq(fx.fake.npush, 1);
}
END_TEST

UNIT_TEST(failed_push_retries_with_backoff)
{
	char rid[LIC_REPORT_ID_LEN + 1];
	const char *ids[1] = {rid};
	struct lic_store_report rep;
	int64_t t1 = T0 + HOUR + 1, t2;
	char *ack;

	first_push(rid);
	fake_answer(&fx.fake, 0, NULL);
	lic_agent_tick(fx.a, t1);
	ck_assert_int_eq(log_count("%SMART_LIC-3-COMM_FAILED"), 1);
	ck_assert_uint_eq(pending(&rep), 1);
	ck_assert_str_eq(rep.report_id, rid);
	ck_assert_uint_eq(rep.attempts, 1);
	ck_assert_int_eq(rep.sent_at, 0);
	ck_assert_int_ge(rep.next_attempt, t1 + LIC_AGENT_RETRY_BASE_S / 2);
	ck_assert_int_le(rep.next_attempt, t1 + LIC_AGENT_RETRY_BASE_S);
	lic_agent_tick(fx.a, rep.next_attempt - 1);
	ck_assert_int_eq(fx.fake.npush, 1);
	lic_agent_tick(fx.a, rep.next_attempt);
	ck_assert_int_eq(fx.fake.npush, 2);
	/* The same report, byte for byte. */
	ck_assert_uint_eq(fx.fake.len[1], fx.fake.len[0]);
	ck_assert_mem_eq(fx.fake.env[1], fx.fake.env[0], fx.fake.len[0]);

	/* 503: the second retry waits longer. */
	t2 = rep.next_attempt + 1;
	fake_answer(&fx.fake, 503, "{\"error\":\"unavailable\"}");
	lic_agent_tick(fx.a, t2);
	ck_assert_uint_eq(pending(&rep), 1);
	ck_assert_uint_eq(rep.attempts, 2);
	ck_assert_int_ge(rep.next_attempt, t2 + LIC_AGENT_RETRY_BASE_S);
	ck_assert_int_le(rep.next_attempt, t2 + 2 * LIC_AGENT_RETRY_BASE_S);
	lic_agent_tick(fx.a, rep.next_attempt);
	ck_assert_int_eq(fx.fake.npush, 3);
	ack = make_ack(fx.server, ids, 1, rep.next_attempt, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, rep.next_attempt + 1);
	ck_assert_uint_eq(pending(NULL), 0);
	ck_assert_uint_eq(count_records(NULL), 4); /* no duplicate */
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack,
			 rep.next_attempt + 1);
}
END_TEST

/* license smart sync all: every pending report is pushed once at once,
 * whatever its backoff, then the schedule resumes. */
UNIT_TEST(sync_pushes_every_pending_report_once)
{
	char rid[LIC_REPORT_ID_LEN + 1], err[128];
	struct lic_store_report rep[4];
	int64_t now = T0 + 9 * HOUR + 1;
	size_t i;
	int n0;

	first_push(rid);
	fake_answer(&fx.fake, 0, NULL); /* the first push fails */
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	feed(1, 9, V); /* retries on the way; the period closes: report 2 */
	/* Every push fails until both reports wait in backoff. */
	while (fx.fake.pending || pending(NULL) < 2 ||
	       fx.fake.npush < 3) {
		if (fx.fake.pending)
			fake_answer(&fx.fake, 503, "{}");
		lic_agent_tick(fx.a, ++now);
		ck_assert_int_lt(now, T0 + 20 * HOUR);
	}
	if (fx.fake.pending)
		fake_answer(&fx.fake, 503, "{}");
	ck_assert_uint_eq(pending(rep), 2);
	for (i = 0; i < 2; i++)
		ck_assert_int_gt(rep[i].next_attempt, now + 1);
	n0 = fx.fake.npush;
	ck_assert_int_eq(lic_agent_sync(fx.a, err, sizeof(err)), 0);
	lic_agent_tick(fx.a, now + 1);
	ck_assert_int_eq(fx.fake.npush, n0 + 1);
	fake_answer(&fx.fake, 503, "{}");
	lic_agent_tick(fx.a, now + 2);
	ck_assert_int_eq(fx.fake.npush, n0 + 2);
	fake_answer(&fx.fake, 503, "{}");
	/* Two different reports; each once, then the backoff rules again. */
	ck_assert_str_ne(fx.fake.env[n0], fx.fake.env[n0 + 1]);
	lic_agent_tick(fx.a, now + 3);
	lic_agent_tick(fx.a, now + 4);
	ck_assert_int_eq(fx.fake.npush, n0 + 2);
	ck_assert_uint_eq(pending(NULL), 2);
}
END_TEST

UNIT_TEST(restart_keeps_state)
{
	char rid[LIC_REPORT_ID_LEN + 1], rid2[LIC_REPORT_ID_LEN + 1];
	const char *ids[1] = {rid};
	struct lic_store_report rep;
	char *ack, *first_env;
	size_t acked;
	int64_t last_ack;

	first_push(rid);
	ack = make_ack(fx.server, ids, 1, T0 + HOUR, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	last_ack = lic_agent_times(fx.a)->last_ack;
	feed(1, 9, V); /* period closes, second report in flight */
	ck_assert_int_eq(fx.fake.npush, 2);
	verify_push(1, rid2);
	first_env = strdup(fx.fake.env[1]);
	feed(9, 12, V); /* hours into the open period */

	lic_agent_free(&fx.a); /* cancels the push in flight */
	ck_assert(!fx.fake.pending);
	close_db();
	open_db();
	start_agent();
	ck_assert(lic_agent_trusted(fx.a));
	ck_assert_int_eq(lic_agent_times(fx.a)->first_use, T0);
	ck_assert_int_eq(lic_agent_times(fx.a)->last_ack, last_ack);
	ck_assert_int_eq(lic_agent_period_start(fx.a), T0 + 9 * HOUR);
	ck_assert_uint_eq(count_records(&acked), 8);
	ck_assert_uint_eq(acked, 4);
	ck_assert_uint_eq(pending(&rep), 1);
	ck_assert_str_eq(rep.report_id, rid2);
	/* The report is pushed again after its backoff, same bytes. */
	lic_agent_tick(fx.a, rep.next_attempt);
	ck_assert_int_eq(fx.fake.npush, 3);
	ck_assert_str_eq(fx.fake.env[2], first_env);
	free(first_env);
	ck_assert_uint_eq(count_records(NULL), 8);
}
END_TEST

/* payload sealed by the test server into path, then imported at now. */
static int import_sealed(const char *payload, const char *path, int64_t now,
			 char *err, size_t errlen)
{
	char *env = NULL;
	size_t len;

	ck_assert(lic_envelope_seal(fx.server, payload, strlen(payload), &env,
				    &len, err, errlen) == 0);
	write_text(path, env);
	free(env);
	return lic_agent_import(fx.a, path, now, err, errlen);
}

UNIT_TEST(policy_file_import)
{
	struct lic_policy pol;
	char payload[70000], *pj, err[256];

	fx.cfg.transport = LIC_TRANSPORT_OFF;
	fx.cfg.ops = NULL;
	start_agent();
	trust(T0);
	lic_policy_default(&pol);
	snprintf(pol.name, sizeof(pol.name), "Imported");
	pj = lic_policy_to_json(&pol);
	snprintf(payload, sizeof(payload),
		 "{\"type\":\"policy\",\"v\":1,\"udi\":{\"pid\":\"%s\","
		 "\"sn\":\"%s\"},\"issued\":%lld,\"policy\":%s}",
		 lic_agent_udi(fx.a)->pid, lic_agent_udi(fx.a)->sn,
		 (long long)T0, pj);
	ck_assert_msg(import_sealed(payload, fx.file_a, T0 + 10, err,
				    sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(lic_agent_policy(fx.a)->name, "Imported");
	ck_assert_int_eq(lic_agent_policy(fx.a)->installed_on, T0 + 10);

	/* For another device: refused, policy unchanged. */
	snprintf(pol.name, sizeof(pol.name), "Other");
	free(pj);
	pj = lic_policy_to_json(&pol);
	snprintf(payload, sizeof(payload),
		 "{\"type\":\"policy\",\"v\":1,\"udi\":{\"pid\":\"X\","
		 "\"sn\":\"Y\"},\"issued\":%lld,\"policy\":%s}",
		 (long long)T0, pj);
	free(pj);
	ck_assert_int_eq(import_sealed(payload, fx.file_b, T0 + 20, err,
				       sizeof(err)),
			 -1);
	ck_assert_str_eq(lic_agent_policy(fx.a)->name, "Imported");

	/* An older file, genuinely signed, cannot roll the policy back. */
	snprintf(pol.name, sizeof(pol.name), "Older");
	pj = lic_policy_to_json(&pol);
	snprintf(payload, sizeof(payload),
		 "{\"type\":\"policy\",\"v\":1,\"issued\":%lld,"
		 "\"policy\":%s}",
		 (long long)(T0 - 1), pj);
	free(pj);
	ck_assert_int_eq(import_sealed(payload, fx.file_b, T0 + 30, err,
				       sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "older than the one installed"));
	ck_assert_str_eq(lic_agent_policy(fx.a)->name, "Imported");

	/* Survives a restart, and so does the newest issue time. */
	lic_agent_free(&fx.a);
	start_agent();
	ck_assert_str_eq(lic_agent_policy(fx.a)->name, "Imported");
	ck_assert_int_eq(lic_agent_import(fx.a, fx.file_b, T0 + 40, err,
					  sizeof(err)),
			 -1);
}
END_TEST

UNIT_TEST(bad_config_refused)
{
	char err[256];
	struct lic_agent *a;

	fx.cfg.release = "17.x";
	a = lic_agent_new(&fx.cfg, fx.db, fx.dev, NULL, err, sizeof(err));
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, "17.x"));
	fx.cfg.release = NULL;
	fx.cfg.periodicity_hours = 25;
	fx.cfg.ops = NULL; /* nothing to free on failure */
	a = lic_agent_new(&fx.cfg, fx.db, fx.dev, NULL, err, sizeof(err));
	ck_assert_ptr_null(a);
	/* smart without ops needs an event base, URL and CA file. */
	fx.cfg.periodicity_hours = 0;
	a = lic_agent_new(&fx.cfg, fx.db, fx.dev, NULL, err, sizeof(err));
	ck_assert_ptr_null(a);
}
END_TEST

UNIT_TEST(save_usage_with_nothing_fails)
{
	char err[256];

	fx.cfg.transport = LIC_TRANSPORT_OFF;
	fx.cfg.ops = NULL;
	start_agent();
	ck_assert_int_eq(lic_agent_save_usage(fx.a, fx.file_a, T0, err,
					      sizeof(err)),
			 -1);
	ck_assert_int_eq(access(fx.file_a, F_OK), -1);
}
END_TEST

/*
 * A store that cannot be written (full disk, read-only file): sbcd feeds
 * the refused hour again at every tick; the agent tries the store once per
 * hold (60 s, doubling), so one error line, not one per second, and the
 * hour goes in once the store works and the hold is over.
 */
UNIT_TEST(store_failure_holds_the_hour_then_records_it)
{
	char err[256];
	int64_t t, end = T0 + HOUR;
	int refused = 0;

	start_agent();
	lic_agent_tick(fx.a, T0);
	ck_assert_int_eq(db_exec(fx.db, "PRAGMA query_only=1", err, sizeof(err)),
			 0);
	for (t = end; t < end + 30; t++) {
		refused += lic_agent_hour(fx.a, T0, V, t) == LIC_AGENT_RETRY;
		lic_agent_tick(fx.a, t);
	}
	ck_assert_int_eq(refused, 30);
	ck_assert_int_eq(log_count("%SBC_LIC-3-STORE"), 1);
	ck_assert_int_eq(log_count("next attempt in 60 s"), 1);
	ck_assert_uint_eq(count_records(NULL), 0);
	ck_assert_int_eq(db_exec(fx.db, "PRAGMA query_only=0", err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_agent_hour(fx.a, T0, V, end + 59),
			 LIC_AGENT_RETRY);
	ck_assert_int_eq(lic_agent_hour(fx.a, T0, V, end + 60), 0);
	ck_assert_int_eq(lic_agent_times(fx.a)->first_use, T0);
	ck_assert_uint_eq(count_records(NULL), 4); /* the change close */
	ck_assert_int_eq(log_count("%SBC_LIC-3-STORE"), 1);
}
END_TEST

/* The names of the stored events, oldest first, joined by spaces. */
static void event_names(char *buf, size_t len)
{
	struct lic_store_event ev[64];
	size_t n = 0, i, off = 0;
	char err[256];

	ck_assert_msg(lic_agent_events(fx.a, 0, ev, 64, &n, err,
				       sizeof(err)) == 0,
		      "%s", err);
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? " " : "", ev[i].name);
}

static int64_t fixed_clock_ms(void)
{
	return (T0 + HOUR) * 1000 + 250;
}

UNIT_TEST(events_counters_and_save_modes)
{
	char rid[LIC_REPORT_ID_LEN + 1], names[4096], err[256], *text, *ack;
	const char *ids[2] = {rid, NULL};
	struct lic_store_event ev[4];
	struct lic_store_report rep;
	size_t len, n;

	fx.cfg.clock_ms = fixed_clock_ms;
	first_push(rid);
	ack = make_ack(fx.server, ids, 1, T0 + HOUR, NULL);
	fake_answer(&fx.fake, 200, ack);
	free(ack);
	lic_agent_tick(fx.a, T0 + HOUR + 1);
	event_names(names, sizeof(names));
	ck_assert_str_eq(names,
			 "SAEVT_TRUST_INSTALLED SAEVT_ENDPOINT_USAGE "
			 "SAEVT_ENDPOINT_USAGE SAEVT_ENDPOINT_USAGE "
			 "SAEVT_ENDPOINT_USAGE SAEVT_REPORT_CREATED "
			 "SAEVT_REPORT_SENT SAEVT_ACK_RECEIVED "
			 "SAEVT_ACK_INSTALLED");
	ck_assert_int_eq(lic_agent_counters(fx.a)->reports_sent, 1);
	ck_assert_int_eq(lic_agent_counters(fx.a)->acks_installed, 1);
	ck_assert_str_eq(lic_agent_counters(fx.a)->last_error, "");

	/* The event the lead's deadline warnings will use; the clock's
	 * milliseconds only when they are in the same second as now. */
	ck_assert_int_eq(lic_agent_event(fx.a, T0 + HOUR, "SAEVT_TEST",
					 "days=\"%d\" why=\"a\tb\"", 3),
			 0);
	ck_assert_int_eq(lic_agent_event(fx.a, T0 + 2 * HOUR, "SAEVT_TEST2",
					 NULL),
			 0);
	ck_assert_int_eq(lic_agent_event(fx.a, T0, "bad name", NULL), -1);
	ck_assert_int_eq(lic_agent_events(fx.a, 0, ev, 2, &n, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ev[0].name, "SAEVT_TEST");
	ck_assert_str_eq(ev[0].attrs, "days=\"3\" why=\"a b\"");
	ck_assert_int_eq(ev[0].at_ms, (T0 + HOUR) * 1000 + 250);
	ck_assert_int_eq(ev[1].at_ms, (T0 + 2 * HOUR) * 1000);

	/* A second period closes; its push fails. */
	feed(1, 12, V);
	ck_assert(fx.fake.pending);
	fake_answer(&fx.fake, 503, "busy");
	lic_agent_tick(fx.a, T0 + 12 * HOUR + 1);
	ck_assert_int_eq(lic_agent_counters(fx.a)->push_failures, 1);
	ck_assert_ptr_nonnull(
		strstr(lic_agent_counters(fx.a)->last_error, "HTTP 503"));
	event_names(names, sizeof(names));
	ck_assert_ptr_nonnull(strstr(names, "SAEVT_COMM_FAIL"));
	ck_assert_uint_eq(pending(&rep), 1);
	ck_assert_str_ne(rep.report_id, rid);

	/* unreported: the one waiting; all: both; days: by period end. */
	ck_assert_int_eq(lic_agent_save_usage_sel(fx.a, LIC_SAVE_UNREPORTED, 0,
						  T0 + 13 * HOUR, &text, &len,
						  err, sizeof(err)),
			 1);
	ck_assert_ptr_nonnull(strstr(text, "\"format\":\"sbc-usage\""));
	free(text);
	ck_assert_int_eq(lic_agent_save_usage_sel(fx.a, LIC_SAVE_ALL, 0,
						  T0 + 13 * HOUR, &text, &len,
						  err, sizeof(err)),
			 2);
	free(text);
	/* A day and 4 hours on: the first period (ended T0 + 1 h) is more
	 * than a day old, the second (ended T0 + 8 h) is not. */
	ck_assert_msg(lic_agent_save_usage_sel(fx.a, LIC_SAVE_DAYS, 1,
					       T0 + DAY + 4 * HOUR, &text,
					       &len, err, sizeof(err)) == 1,
		      "%s", err);
	free(text);
	ck_assert_int_eq(lic_agent_save_usage_sel(fx.a, LIC_SAVE_DAYS, 2,
						  T0 + DAY + 4 * HOUR, &text,
						  &len, err, sizeof(err)),
			 2);
	free(text);
	ck_assert_int_eq(lic_agent_save_usage_sel(fx.a, LIC_SAVE_DAYS, 0,
						  T0 + 30 * DAY, &text, &len,
						  err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "days must be"));

	/* The ACK of an `all` file names the acknowledged report too: it
	 * installs; the same ACK again is a replay. */
	ids[1] = rep.report_id;
	ack = make_ack(fx.server, ids, 2, T0 + 30 * DAY, NULL);
	write_text(fx.file_a, ack);
	free(ack);
	ck_assert_msg(lic_agent_import(fx.a, fx.file_a, T0 + 30 * DAY, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(pending(NULL), 0);
	ck_assert_int_eq(lic_agent_import(fx.a, fx.file_a, T0 + 30 * DAY + 1,
					  err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "replay"));
	event_names(names, sizeof(names));
	ck_assert_ptr_nonnull(strstr(names, "SAEVT_USAGE_SAVED"));
	ck_assert_ptr_nonnull(strstr(names, "SAEVT_IMPORT_SUCCESS"));
	ck_assert_ptr_nonnull(strstr(names, "SAEVT_IMPORT_FAIL"));
}
END_TEST

UNIT_MAIN("agent")
