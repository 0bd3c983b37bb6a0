/*
 * The licensing agent's state in the SQLite store (licensing/store.h,
 * docs/internals/licensing-store.md) with frozen time: every call is given
 * its `now`. A "restart" closes the connection and opens the file again;
 * the kill test SIGKILLs a writer child at random moments.
 */
#include "common/db.h"
#include "licensing/store.h"
#include "licensing/period.h"
#include "licensing/policy.h"

#include "testdb.h"
#include "unit.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

struct fx {
	sqlite3 *db;
	struct lic_store *st;
};

static void start(struct fx *f)
{
	char err[256];

	f->db = testdb_open();
	f->st = lic_store_new(f->db, err, sizeof(err));
	ck_assert_msg(f->st != NULL, "%s", err);
}

static void stop(struct fx *f)
{
	lic_store_free(&f->st);
	ck_assert_ptr_null(f->st);
	db_close(&f->db);
}

static void restart(struct fx *f)
{
	stop(f);
	start(f);
}

/* The four records of one period [s, e) with counts c, c+1, c+2, c+3. */
static void period_recs(struct lic_record r[LIC_TAG_COUNT], int64_t s,
			int64_t e, uint32_t c)
{
	int t;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		r[t].tag = (enum lic_tag)t;
		r[t].start = s;
		r[t].end = e;
		r[t].count = c + (uint32_t)t;
	}
}

static struct lic_period_state pstate(int64_t start, uint32_t hours,
				      uint32_t peak, uint32_t last)
{
	struct lic_period_state ps;
	int i;

	memset(&ps, 0, sizeof(ps));
	ps.start = start;
	ps.hours = hours;
	for (i = 0; i < LIC_CLASS_COUNT; i++)
		ps.peak[i] = hours ? peak + (uint32_t)i : 0;
	ps.reported = last != 0;
	for (i = 0; i < LIC_TAG_COUNT; i++)
		ps.last[i] = last ? last + (uint32_t)i : 0;
	ps.last_change = -1;
	return ps;
}

static void check_pstate(const struct lic_period_state *a,
			 const struct lic_period_state *b)
{
	int i;

	ck_assert_int_eq(a->start, b->start);
	ck_assert_uint_eq(a->hours, b->hours);
	ck_assert_int_eq(a->reported, b->reported);
	ck_assert_int_eq(a->last_change, b->last_change);
	for (i = 0; i < LIC_CLASS_COUNT; i++)
		ck_assert_uint_eq(a->peak[i], b->peak[i]);
	for (i = 0; i < LIC_TAG_COUNT; i++)
		ck_assert_uint_eq(a->last[i], b->last[i]);
}

static size_t count_records(struct fx *f)
{
	struct lic_store_record r[64];
	char err[256];
	size_t n;

	ck_assert_msg(lic_store_records(f->st, 0, r, NELEM(r), &n, err,
					sizeof(err)) == 0,
		      "%s", err);
	return n;
}

static size_t count_unreported(struct fx *f)
{
	struct lic_store_record r[64];
	char err[256];
	size_t n;

	ck_assert_msg(lic_store_unreported(f->st, r, NELEM(r), &n, err,
					   sizeof(err)) == 0,
		      "%s", err);
	return n;
}

/* Close [s, e) and move the state on, as the agent does. */
static void close_one(struct fx *f, int64_t s, int64_t e, uint32_t c)
{
	struct lic_record r[LIC_TAG_COUNT];
	struct lic_period_state next = pstate(e, 0, 0, c);
	char err[256];

	period_recs(r, s, e, c);
	ck_assert_msg(lic_store_close_period(f->st, r, LIC_TAG_COUNT, &next, e,
					     err, sizeof(err)) == 0,
		      "%s", err);
}

/* Put the unreported records into report `id`, created at now. */
static void report_all(struct fx *f, const char *id, int64_t now)
{
	struct lic_store_record r[64];
	int64_t ids[64];
	char env[128];
	char err[256];
	size_t n, i;

	ck_assert_int_eq(
		lic_store_unreported(f->st, r, NELEM(r), &n, err, sizeof(err)),
		0);
	for (i = 0; i < n; i++)
		ids[i] = r[i].id;
	snprintf(env, sizeof(env), "{\"envelope\":\"%s\"}", id);
	ck_assert_msg(lic_store_add_report(f->st, id, env, strlen(env), ids, n,
					   now, err, sizeof(err)) == 0,
		      "%s", err);
}

static enum lic_store_report_state state_of(struct fx *f, const char *id)
{
	enum lic_store_report_state s;
	char err[256];

	ck_assert_msg(lic_store_report_status(f->st, id, &s, NULL, err,
					      sizeof(err)) == 0,
		      "%s", err);
	return s;
}

static int64_t last_ack(struct fx *f)
{
	struct lic_usage_times t;
	char err[256];

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(lic_store_get_times(f->st, &t, err, sizeof(err)), 0);
	return t.last_ack;
}

/* A policy other than the default in every group. */
static void custom_policy(struct lic_policy *p, int64_t installed)
{
	int g, a;

	lic_policy_default(p);
	snprintf(p->name, sizeof(p->name), "Custom Policy");
	p->installed_on = installed;
	p->ack_required = false;
	p->ack_required_source = LIC_SOURCE_CUSTOMER;
	for (g = 0; g < LIC_GROUP_COUNT; g++) {
		for (a = 0; a < LIC_ATTR_COUNT; a++) {
			p->attr[g][a].days = 10 * g + a + 1;
			p->attr[g][a].source = LIC_SOURCE_CUSTOMER;
		}
	}
}

static void check_policy(const struct lic_policy *a, const struct lic_policy *b)
{
	int g, i;

	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->installed_on, b->installed_on);
	ck_assert_int_eq(a->ack_required, b->ack_required);
	ck_assert_int_eq(a->ack_required_source, b->ack_required_source);
	for (g = 0; g < LIC_GROUP_COUNT; g++) {
		for (i = 0; i < LIC_ATTR_COUNT; i++) {
			ck_assert_int_eq(a->attr[g][i].days, b->attr[g][i].days);
			ck_assert_int_eq(a->attr[g][i].source,
					 b->attr[g][i].source);
		}
	}
}

static int64_t sql_int(struct fx *f, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -12345;

	ck_assert_int_eq(sqlite3_prepare_v2(f->db, sql, -1, &q, NULL),
			 SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void sql(struct fx *f, const char *text)
{
	char err[256];

	ck_assert_msg(db_exec(f->db, text, err, sizeof(err)) == 0, "%s", err);
}

UNIT_TCASE("core", .setup = testdb_setup, .teardown = testdb_teardown,
	   .timeout = 120);

UNIT_TEST(schema_created_and_versioned)
{
	struct fx f;
	struct lic_store *again;
	char err[256];

	start(&f);
	ck_assert_int_eq(sql_int(&f, "SELECT value FROM lic_meta"
				     " WHERE key = 'schema_version'"),
			 LIC_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM sqlite_master"
				     " WHERE name LIKE 'lic_%' AND type ="
				     " 'table'"),
			 8); /* meta, report, record, state, policy, trust,
				account, event */
	/* A second open of existing tables is fine. */
	again = lic_store_new(f.db, err, sizeof(err));
	ck_assert_msg(again != NULL, "%s", err);
	lic_store_free(&again);
	lic_store_free(NULL);

	/* A store from a newer build is refused. */
	sql(&f, "UPDATE lic_meta SET value = 99 WHERE key = 'schema_version'");
	again = lic_store_new(f.db, err, sizeof(err));
	ck_assert_ptr_null(again);
	ck_assert_ptr_nonnull(strstr(err, "schema version 99"));
	stop(&f);
}
END_TEST

UNIT_TEST(close_period_stores_records_with_state)
{
	struct lic_periodicity per;
	struct lic_period *p;
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_period_state next, got;
	struct lic_store_record r[8];
	uint32_t v[LIC_CLASS_COUNT] = {3, 2, 1, 4, 5};
	char err[256];
	size_t n;
	int t;
	struct fx f;

	start(&f);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 1);
	ck_assert_int_eq(
		lic_periodicity_make(LIC_PERIOD_HOURS, 8, &per, NULL), 0);
	p = lic_period_new(&per, T0);
	ck_assert_ptr_nonnull(p);
	for (t = 0; t < 8; t++)
		ck_assert_int_eq(lic_period_add_hour(p, T0 + t * HOUR, v), 0);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 8 * HOUR, rec), 1);
	lic_period_save(p, &next);
	ck_assert_msg(lic_store_close_period(f.st, rec, LIC_TAG_COUNT, &next,
					     T0 + 8 * HOUR, err,
					     sizeof(err)) == 0,
		      "%s", err);

	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	check_pstate(&got, &next);
	ck_assert_int_eq(got.start, T0 + 8 * HOUR);
	ck_assert_int_eq(lic_store_unreported(f.st, r, NELEM(r), &n, err,
					      sizeof(err)),
			 0);
	ck_assert_uint_eq(n, LIC_TAG_COUNT);
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		ck_assert_int_eq(r[t].rec.tag, rec[t].tag);
		ck_assert_int_eq(r[t].rec.start, T0);
		ck_assert_int_eq(r[t].rec.end, T0 + 8 * HOUR);
		ck_assert_uint_eq(r[t].rec.count, rec[t].count);
		ck_assert_int_eq(r[t].created, T0 + 8 * HOUR);
		ck_assert_str_eq(r[t].report_id, "");
		ck_assert_int_eq(r[t].acked_at, 0);
		if (t > 0)
			ck_assert_int_gt(r[t].id, r[t - 1].id);
	}
	/* CUBE_T_STD = aggregate - enhanced = 3. */
	ck_assert_uint_eq(r[LIC_TAG_STD].rec.count, 3);

	/* The same period once more is refused: no duplicate. */
	ck_assert_int_eq(lic_store_close_period(f.st, rec, LIC_TAG_COUNT,
						&next, T0 + 9 * HOUR, err,
						sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "UNIQUE"));
	ck_assert_uint_eq(count_records(&f), LIC_TAG_COUNT);

	/* The tracker comes back from the store after a restart. */
	restart(&f);
	lic_period_free(&p);
	p = lic_period_new(&per, T0 + 20 * HOUR);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(lic_period_restore(p, &got), 0);
	ck_assert_int_eq(lic_period_start(p), T0 + 8 * HOUR);
	lic_period_free(&p);
	stop(&f);
}
END_TEST

/* Invalid input is refused before anything is written. */
UNIT_TEST(bad_input_changes_nothing)
{
	static const struct {
		enum lic_tag tag;
		int64_t start, end;
	} bad[] = {
		{(enum lic_tag)LIC_TAG_COUNT, T0, T0 + HOUR},
		{LIC_TAG_STD, T0, T0},
		{LIC_TAG_STD, T0 + HOUR, T0},
		{LIC_TAG_STD, -1, T0},
		{LIC_TAG_STD, T0, LIC_TIME_MAX + 1},
	};
	struct lic_record r[LIC_TAG_COUNT];
	struct lic_period_state ps = pstate(T0 + DAY, 0, 0, 0);
	static char big[LIC_STORE_ENVELOPE_MAX + 1];
	int64_t id = 1;
	char err[256];
	size_t i;
	struct fx f;

	start(&f);
	for (i = 0; i < NELEM(bad); i++) {
		period_recs(r, T0, T0 + DAY, 1);
		r[1].tag = bad[i].tag;
		r[1].start = bad[i].start;
		r[1].end = bad[i].end;
		ck_assert_int_eq(lic_store_close_period(f.st, r, 2, &ps, T0,
							err, sizeof(err)),
				 -1);
		ck_assert_str_eq(err, "record 1 is invalid");
	}
	ck_assert_uint_eq(count_records(&f), 0);
	ck_assert_int_eq(lic_store_get_period(f.st, &ps, err, sizeof(err)), 1);

	close_one(&f, T0, T0 + DAY, 1);
	ck_assert_int_eq(lic_store_add_report(f.st, "bad id", "x", 1, &id, 1,
					      T0, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_add_report(f.st, "r1", "x", 0, &id, 1, T0,
					      err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_add_report(f.st, "r1", big, sizeof(big),
					      &id, 1, T0, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_add_report(
				 f.st,
				 "0123456789012345678901234567890123456789"
				 "012345678901234567890123456789",
				 "x", 1, &id, 1, T0, err, sizeof(err)),
			 -1);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM lic_report"), 0);
	/* err may be NULL. */
	ck_assert_int_eq(lic_store_add_report(f.st, "", "x", 1, &id, 1, T0,
					      NULL, 0),
			 -1);
	stop(&f);
}
END_TEST

UNIT_TEST(restart_keeps_everything)
{
	struct lic_policy pol, got_pol;
	struct lic_store_trust tr, got_tr;
	struct lic_usage_times t, got_t;
	struct lic_period_state got;
	struct lic_period_state want = pstate(T0 + 2 * DAY, 5, 7, 1);
	struct lic_store_report rep[4];
	unsigned char *env;
	size_t n, len;
	char err[256];
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-1", T0 + DAY);
	close_one(&f, T0 + DAY, T0 + 2 * DAY, 5);
	ck_assert_int_eq(lic_store_set_period(f.st, &want, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-1", T0 + DAY + 60,
					     T0 + 2 * DAY, err, sizeof(err)),
			 0);
	custom_policy(&pol, T0 + 10);
	ck_assert_int_eq(lic_store_set_policy(f.st, &pol, err, sizeof(err)), 0);
	memset(&tr, 0, sizeof(tr));
	snprintf(tr.server_key_pem, sizeof(tr.server_key_pem),
		 "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n");
	snprintf(tr.trust_code, sizeof(tr.trust_code), "TC-0001");
	snprintf(tr.udi_pid, sizeof(tr.udi_pid), "C8000V");
	snprintf(tr.udi_sn, sizeof(tr.udi_sn), "9ABCDEF0123");
	tr.installed = T0 + 5;
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), 0);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(lic_store_get_times(f.st, &t, err, sizeof(err)), 0);
	t.first_use = T0 + 1;
	t.last_file_write = T0 + 3;
	t.change_due = true;
	ck_assert_int_eq(lic_store_set_times(f.st, &t, err, sizeof(err)), 0);

	restart(&f);

	ck_assert_uint_eq(count_records(&f), 2 * LIC_TAG_COUNT);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	check_pstate(&got, &want);
	ck_assert_int_eq(lic_store_pending_reports(f.st, rep, NELEM(rep), &n,
						   err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rep[0].report_id, "rep-1");
	ck_assert_int_eq(rep[0].created, T0 + DAY);
	ck_assert_int_eq(rep[0].sent_at, T0 + DAY + 60);
	ck_assert_uint_eq(rep[0].attempts, 1);
	ck_assert_int_eq(rep[0].next_attempt, T0 + 2 * DAY);
	ck_assert_int_eq(lic_store_report_envelope(f.st, "rep-1", &env, &len,
						   err, sizeof(err)),
			 0);
	ck_assert_str_eq((char *)env, "{\"envelope\":\"rep-1\"}");
	ck_assert_uint_eq(len, strlen("{\"envelope\":\"rep-1\"}"));
	free(env);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got_pol, err, sizeof(err)),
			 0);
	check_policy(&got_pol, &pol);
	ck_assert_int_eq(lic_store_get_trust(f.st, &got_tr, err, sizeof(err)),
			 0);
	ck_assert_str_eq(got_tr.server_key_pem, tr.server_key_pem);
	ck_assert_str_eq(got_tr.trust_code, "TC-0001");
	ck_assert_str_eq(got_tr.udi_pid, "C8000V");
	ck_assert_str_eq(got_tr.udi_sn, "9ABCDEF0123");
	ck_assert_int_eq(got_tr.installed, T0 + 5);
	memset(&got_t, 0, sizeof(got_t));
	got_t.push_interval_days = 30; /* configuration: left alone */
	ck_assert_int_eq(lic_store_get_times(f.st, &got_t, err, sizeof(err)),
			 0);
	ck_assert_int_eq(got_t.first_use, T0 + 1);
	ck_assert_int_eq(got_t.last_push, T0 + DAY + 60); /* by mark_sent */
	ck_assert_int_eq(got_t.last_ack, 0);
	ck_assert_int_eq(got_t.last_file_write, T0 + 3);
	ck_assert(got_t.change_due);
	ck_assert_int_eq(got_t.push_interval_days, 30);
	stop(&f);
}
END_TEST

UNIT_TEST(report_marks_its_records)
{
	struct lic_store_record r[16];
	int64_t ids[2];
	char err[256];
	size_t n, i;
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-1", T0 + DAY);
	ck_assert_uint_eq(count_unreported(&f), 0);
	ck_assert_int_eq(lic_store_records(f.st, 0, r, NELEM(r), &n, err,
					   sizeof(err)),
			 0);
	ck_assert_uint_eq(n, LIC_TAG_COUNT);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(r[i].report_id, "rep-1");
	ck_assert_int_eq(state_of(&f, "rep-1"), LIC_STORE_REPORT_QUEUED);

	close_one(&f, T0 + DAY, T0 + 2 * DAY, 9);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);

	/* A record already in a report: refused, the new report not kept. */
	ids[0] = r[0].id + LIC_TAG_COUNT; /* unreported */
	ids[1] = r[0].id;		  /* in rep-1 */
	ck_assert_int_eq(lic_store_add_report(f.st, "rep-2", "e", 1, ids, 2,
					      T0 + 2 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "already reported"));
	ck_assert_int_eq(state_of(&f, "rep-2"), LIC_STORE_REPORT_UNKNOWN);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);
	/* An unknown record id likewise. */
	ids[1] = 999;
	ck_assert_int_eq(lic_store_add_report(f.st, "rep-2", "e", 1, ids, 2,
					      T0 + 2 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);
	/* A report id already taken. */
	ck_assert_int_eq(lic_store_add_report(f.st, "rep-1", "e", 1, ids, 1,
					      T0 + 2 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);

	/* Paging through all records. */
	ck_assert_int_eq(lic_store_records(f.st, r[1].id, r, 2, &n, err,
					   sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r[0].rec.tag, LIC_TAG_RED);
	stop(&f);
}
END_TEST

UNIT_TEST(ack_marks_and_is_idempotent)
{
	const char *one[] = {"rep-1"};
	const char *both[] = {"rep-1", "rep-2"};
	const char *unknown[] = {"rep-2", "nope"};
	struct lic_store_record r[16];
	struct lic_store_report rep;
	struct lic_policy pol, got;
	enum lic_store_report_state s;
	char err[256];
	size_t n, i;
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-1", T0 + DAY);
	close_one(&f, T0 + DAY, T0 + 2 * DAY, 2);
	report_all(&f, "rep-2", T0 + 2 * DAY);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-1", T0 + DAY, T0 + 2 * DAY,
					     err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-2", T0 + 2 * DAY,
					     T0 + 3 * DAY, err, sizeof(err)),
			 0);

	custom_policy(&pol, T0 + 2 * DAY + 100);
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 2 * DAY + 50, &pol,
				       T0 + 2 * DAY + 100, err, sizeof(err)),
			 1);
	ck_assert_int_eq(state_of(&f, "rep-1"), LIC_STORE_REPORT_ACKED);
	ck_assert_int_eq(state_of(&f, "rep-2"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(last_ack(&f), T0 + 2 * DAY + 100);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	check_policy(&got, &pol);
	ck_assert_int_eq(lic_store_records(f.st, 0, r, NELEM(r), &n, err,
					   sizeof(err)),
			 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(r[i].acked_at,
				 i < LIC_TAG_COUNT ? T0 + 2 * DAY + 100 : 0);
	ck_assert_int_eq(sql_int(&f, "SELECT ack_time FROM lic_report"
				     " WHERE report_id = 'rep-1'"),
			 T0 + 2 * DAY + 50);

	/* A replay later, with another policy: nothing at all changes. */
	custom_policy(&pol, T0 + 5 * DAY);
	pol.attr[0][0].days = 1;
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 5 * DAY, &pol,
				       T0 + 5 * DAY, err, sizeof(err)),
			 0);
	ck_assert_int_eq(last_ack(&f), T0 + 2 * DAY + 100);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.installed_on, T0 + 2 * DAY + 100);
	ck_assert_int_eq(lic_store_report_status(f.st, "rep-1", &s, &rep, err,
						 sizeof(err)),
			 0);
	ck_assert_int_eq(rep.acked_at, T0 + 2 * DAY + 100);

	/* An unknown id among known ones: refused as a whole. */
	ck_assert_int_eq(lic_store_ack(f.st, unknown, 2, T0 + 6 * DAY, NULL,
				       T0 + 6 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "unknown report nope");
	ck_assert_int_eq(state_of(&f, "rep-2"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(last_ack(&f), T0 + 2 * DAY + 100);

	/* One old and one new: only the new one counts. */
	ck_assert_int_eq(lic_store_ack(f.st, both, 2, T0 + 7 * DAY, NULL,
				       T0 + 7 * DAY, err, sizeof(err)),
			 1);
	ck_assert_int_eq(state_of(&f, "rep-2"), LIC_STORE_REPORT_ACKED);
	ck_assert_int_eq(last_ack(&f), T0 + 7 * DAY);
	ck_assert_int_eq(sql_int(&f, "SELECT acked_at FROM lic_report"
				     " WHERE report_id = 'rep-1'"),
			 T0 + 2 * DAY + 100);
	/* The policy stayed (the ACK carried none). */
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.installed_on, T0 + 2 * DAY + 100);

	/* A push after the ACK changes nothing. */
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-2", T0 + 8 * DAY,
					     T0 + 9 * DAY, err, sizeof(err)),
			 1);
	ck_assert_int_eq(lic_store_mark_failed(f.st, "rep-2", T0 + 9 * DAY, err,
					       sizeof(err)),
			 1);
	ck_assert_int_eq(lic_store_mark_failed(f.st, "nope", T0 + 9 * DAY, err,
					       sizeof(err)),
			 -1);
	stop(&f);
}
END_TEST

UNIT_TEST(unacked_ids_and_pending_order)
{
	char ids[8][LIC_STORE_REPORT_ID_MAX + 1];
	struct lic_store_report rep[8];
	const char *saved[] = {"rep-c"};
	const char *a[] = {"rep-a"};
	struct lic_usage_times t;
	char err[256];
	size_t n;
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-a", T0 + DAY);
	close_one(&f, T0 + DAY, T0 + 2 * DAY, 1);
	report_all(&f, "rep-b", T0 + 2 * DAY);
	close_one(&f, T0 + 2 * DAY, T0 + 3 * DAY, 1);
	report_all(&f, "rep-c", T0 + 3 * DAY);

	/* Queued reports are not "sent": an ACK may not name them. */
	ck_assert_int_eq(lic_store_report_ids_unacked(f.st, ids, NELEM(ids), &n,
						      err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lic_store_pending_reports(f.st, rep, NELEM(rep), &n,
						   err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rep[0].report_id, "rep-a");
	ck_assert_int_eq(rep[0].next_attempt, T0 + DAY);

	/* rep-a fails twice (backoff), rep-b reaches the server, rep-c is
	 * saved to a file. */
	ck_assert_int_eq(lic_store_mark_failed(f.st, "rep-a", T0 + 5 * DAY, err,
					       sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_mark_failed(f.st, "rep-a", T0 + 6 * DAY, err,
					       sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-b", T0 + 3 * DAY,
					     T0 + 4 * DAY, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_mark_saved(f.st, saved, 1, T0 + 3 * DAY + 7,
					      err, sizeof(err)),
			 0);
	ck_assert_int_eq(state_of(&f, "rep-a"), LIC_STORE_REPORT_QUEUED);
	ck_assert_int_eq(state_of(&f, "rep-b"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(state_of(&f, "rep-c"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(state_of(&f, "never"), LIC_STORE_REPORT_UNKNOWN);
	ck_assert_int_eq(state_of(&f, "bad id!"), LIC_STORE_REPORT_UNKNOWN);

	ck_assert_int_eq(lic_store_report_ids_unacked(f.st, ids, NELEM(ids), &n,
						      err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], "rep-b");
	ck_assert_str_eq(ids[1], "rep-c");

	/* Soonest next attempt first: c (due since its creation), b, a. */
	ck_assert_int_eq(lic_store_pending_reports(f.st, rep, NELEM(rep), &n,
						   err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rep[0].report_id, "rep-c");
	ck_assert_int_eq(rep[0].saved_at, T0 + 3 * DAY + 7);
	ck_assert_str_eq(rep[1].report_id, "rep-b");
	ck_assert_str_eq(rep[2].report_id, "rep-a");
	ck_assert_uint_eq(rep[2].attempts, 2);
	ck_assert_int_eq(rep[2].sent_at, 0);
	ck_assert_int_eq(rep[2].next_attempt, T0 + 6 * DAY);

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(lic_store_get_times(f.st, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.last_push, T0 + 3 * DAY);
	ck_assert_int_eq(t.last_file_write, T0 + 3 * DAY + 7);

	/* After the ACK of rep-a (saved or sent later) it leaves the lists. */
	ck_assert_int_eq(lic_store_ack(f.st, a, 1, T0 + 7 * DAY, NULL,
				       T0 + 7 * DAY, err, sizeof(err)),
			 1);
	ck_assert_int_eq(lic_store_pending_reports(f.st, rep, NELEM(rep), &n,
						   err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(lic_store_report_ids_unacked(f.st, ids, 1, &n, err,
						      sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 1);
	stop(&f);
}
END_TEST

UNIT_TEST(prune_only_old_acked)
{
	const char *one[] = {"rep-1"};
	const char *two[] = {"rep-2"};
	char err[256];
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-1", T0 + DAY);
	close_one(&f, T0 + DAY, T0 + 2 * DAY, 2);
	report_all(&f, "rep-2", T0 + 2 * DAY);
	close_one(&f, T0 + 2 * DAY, T0 + 3 * DAY, 3); /* never reported */
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 3 * DAY, NULL,
				       T0 + 3 * DAY, err, sizeof(err)),
			 1);
	ck_assert_int_eq(lic_store_ack(f.st, two, 1, T0 + 5 * DAY, NULL,
				       T0 + 5 * DAY, err, sizeof(err)),
			 1);

	/* Retention 7 days: rep-1 goes at T0 + 10 days, not a second
	 * earlier; rep-2 at T0 + 12 days; unacked records never. */
	ck_assert_int_eq(lic_store_prune(f.st, T0 + 10 * DAY - 1, 7 * DAY, err,
					 sizeof(err)),
			 0);
	ck_assert_uint_eq(count_records(&f), 3 * LIC_TAG_COUNT);
	ck_assert_int_eq(lic_store_prune(f.st, T0 + 10 * DAY, 7 * DAY, err,
					 sizeof(err)),
			 LIC_TAG_COUNT);
	ck_assert_uint_eq(count_records(&f), 2 * LIC_TAG_COUNT);
	ck_assert_int_eq(state_of(&f, "rep-1"), LIC_STORE_REPORT_UNKNOWN);
	ck_assert_int_eq(state_of(&f, "rep-2"), LIC_STORE_REPORT_ACKED);
	ck_assert_int_eq(lic_store_prune(f.st, T0 + 100 * DAY, 7 * DAY, err,
					 sizeof(err)),
			 LIC_TAG_COUNT);
	ck_assert_uint_eq(count_records(&f), LIC_TAG_COUNT);
	ck_assert_uint_eq(count_unreported(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM lic_report"), 0);

	/* Ids are never reused after a prune. */
	close_one(&f, T0 + 3 * DAY, T0 + 4 * DAY, 4);
	ck_assert_int_gt(sql_int(&f, "SELECT min(id) FROM lic_record"
				     " WHERE period_start = 1704326400"),
			 3 * LIC_TAG_COUNT);
	ck_assert_int_eq(lic_store_prune(f.st, T0, -1, err, sizeof(err)), -1);
	stop(&f);
}
END_TEST

/*
 * Failures in the middle of a transaction: a duplicate record after a
 * good one, the state write refused by a trigger after the records went
 * in, the policy write refused after the reports were acked, and a
 * read-only connection. Each leaves the store as it was.
 */
UNIT_TEST(failed_transaction_changes_nothing)
{
	const char *one[] = {"rep-1"};
	struct lic_record r[LIC_TAG_COUNT + 1];
	struct lic_period_state before, got, next = pstate(T0 + 2 * DAY, 0, 0, 9);
	struct lic_policy pol;
	struct lic_usage_times t;
	char err[256];
	struct fx f;

	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	ck_assert_int_eq(lic_store_get_period(f.st, &before, err, sizeof(err)),
			 0);

	/* Forced constraint error on the fifth record of five. */
	period_recs(r, T0 + DAY, T0 + 2 * DAY, 9);
	r[LIC_TAG_COUNT] = r[0];
	ck_assert_int_eq(lic_store_close_period(f.st, r, LIC_TAG_COUNT + 1,
						&next, T0 + 2 * DAY, err,
						sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "UNIQUE constraint failed"));
	ck_assert_uint_eq(count_records(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	check_pstate(&got, &before);

	/* The state write fails after the records were inserted. */
	sql(&f, "CREATE TEMP TRIGGER no_state BEFORE UPDATE ON main.lic_state"
		" BEGIN SELECT RAISE(ABORT, 'state write refused'); END");
	ck_assert_int_eq(lic_store_close_period(f.st, r, LIC_TAG_COUNT, &next,
						T0 + 2 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "state write refused"));
	ck_assert_uint_eq(count_records(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	check_pstate(&got, &before);
	sql(&f, "DROP TRIGGER temp.no_state");
	ck_assert(sqlite3_get_autocommit(f.db));

	/* The ACK's policy write fails after the report rows changed. */
	report_all(&f, "rep-1", T0 + DAY);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-1", T0 + DAY, T0 + 2 * DAY,
					     err, sizeof(err)),
			 0);
	sql(&f, "CREATE TEMP TRIGGER no_policy BEFORE INSERT ON main.lic_policy"
		" BEGIN SELECT RAISE(ABORT, 'policy write refused'); END");
	custom_policy(&pol, T0 + 3 * DAY);
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 3 * DAY, &pol,
				       T0 + 3 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "policy write refused"));
	ck_assert_int_eq(state_of(&f, "rep-1"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(last_ack(&f), 0);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM lic_record"
				     " WHERE acked_at IS NOT NULL"),
			 0);
	ck_assert_int_eq(lic_store_get_policy(f.st, &pol, err, sizeof(err)), 1);
	sql(&f, "DROP TRIGGER temp.no_policy");

	/* A read-only connection: every write fails, nothing changes. */
	sql(&f, "PRAGMA query_only = 1");
	ck_assert_int_eq(lic_store_close_period(f.st, r, LIC_TAG_COUNT, &next,
						T0 + 2 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 3 * DAY, NULL,
				       T0 + 3 * DAY, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_prune(f.st, T0 + 99 * DAY, 0, err,
					 sizeof(err)),
			 -1);
	memset(&t, 0, sizeof(t));
	t.first_use = T0;
	ck_assert_int_eq(lic_store_set_times(f.st, &t, err, sizeof(err)), -1);
	sql(&f, "PRAGMA query_only = 0");
	ck_assert(sqlite3_get_autocommit(f.db));
	ck_assert_uint_eq(count_records(&f), LIC_TAG_COUNT);
	ck_assert_int_eq(state_of(&f, "rep-1"), LIC_STORE_REPORT_SENT);
	ck_assert_int_eq(lic_store_get_period(f.st, &got, err, sizeof(err)), 0);
	check_pstate(&got, &before);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(lic_store_get_times(f.st, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.first_use, 0);

	/* And the store works again afterwards. */
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + 3 * DAY, NULL,
				       T0 + 3 * DAY, err, sizeof(err)),
			 1);
	stop(&f);
}
END_TEST

UNIT_TEST(policy_round_trip)
{
	struct lic_policy pol, got;
	char err[256];
	struct fx f;

	start(&f);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 1);
	lic_policy_default(&pol);
	ck_assert_int_eq(lic_store_set_policy(f.st, &pol, err, sizeof(err)), 0);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	check_policy(&got, &pol);
	custom_policy(&pol, T0 + 42);
	ck_assert_int_eq(lic_store_set_policy(f.st, &pol, err, sizeof(err)), 0);
	restart(&f);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	check_policy(&got, &pol);
	ck_assert_int_eq(sql_int(&f, "SELECT installed_on FROM lic_policy"),
			 T0 + 42);

	/* An invalid policy is refused; the stored one stays. */
	pol.attr[1][1].days = LIC_POLICY_DAYS_MAX + 1;
	ck_assert_int_eq(lic_store_set_policy(f.st, &pol, err, sizeof(err)), -1);
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got.attr[1][1].days, 12);

	/* A damaged stored text is reported, not half-read. */
	sql(&f, "UPDATE lic_policy SET json = '{\"name\":'");
	ck_assert_int_eq(lic_store_get_policy(f.st, &got, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "stored policy"));
	stop(&f);
}
END_TEST

UNIT_TEST(trust_round_trip)
{
	struct lic_store_trust tr, got;
	char err[256];
	struct fx f;

	start(&f);
	ck_assert_int_eq(lic_store_get_trust(f.st, &got, err, sizeof(err)), 1);
	memset(&tr, 0, sizeof(tr));
	snprintf(tr.server_key_pem, sizeof(tr.server_key_pem),
		 "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	snprintf(tr.trust_code, sizeof(tr.trust_code), "code-1");
	snprintf(tr.udi_pid, sizeof(tr.udi_pid), "C8000V");
	snprintf(tr.udi_sn, sizeof(tr.udi_sn), "SN1");
	tr.installed = T0;
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), 0);

	/* `force`: a new trust replaces the old one. */
	snprintf(tr.trust_code, sizeof(tr.trust_code), "code-2");
	tr.installed = T0 + DAY;
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), 0);
	restart(&f);
	ck_assert_int_eq(lic_store_get_trust(f.st, &got, err, sizeof(err)), 0);
	ck_assert_str_eq(got.server_key_pem, tr.server_key_pem);
	ck_assert_str_eq(got.trust_code, "code-2");
	ck_assert_str_eq(got.udi_pid, "C8000V");
	ck_assert_str_eq(got.udi_sn, "SN1");
	ck_assert_int_eq(got.installed, T0 + DAY);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM lic_trust"), 1);

	/* Bad fields are refused: empty, control characters, unterminated. */
	tr.udi_sn[0] = '\0';
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), -1);
	snprintf(tr.udi_sn, sizeof(tr.udi_sn), "SN\n2");
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), -1);
	memset(tr.udi_sn, 'A', sizeof(tr.udi_sn));
	ck_assert_int_eq(lic_store_set_trust(f.st, &tr, err, sizeof(err)), -1);
	ck_assert_int_eq(lic_store_get_trust(f.st, &got, err, sizeof(err)), 0);
	ck_assert_str_eq(got.udi_sn, "SN1");
	stop(&f);
}
END_TEST

/* The envelope comes back byte for byte, NUL bytes included. */
UNIT_TEST(envelope_exact_bytes)
{
	unsigned char env[300], *got;
	char err[256];
	size_t len, i;
	struct fx f;

	for (i = 0; i < sizeof(env); i++)
		env[i] = (unsigned char)(i * 7);
	start(&f);
	ck_assert_int_eq(lic_store_add_report(f.st, "bin", env, sizeof(env),
					      NULL, 0, T0, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_report_envelope(f.st, "bin", &got, &len, err,
						   sizeof(err)),
			 0);
	ck_assert_uint_eq(len, sizeof(env));
	ck_assert_int_eq(memcmp(got, env, len), 0);
	free(got);
	ck_assert_int_eq(lic_store_report_envelope(f.st, "none", &got, &len,
						   err, sizeof(err)),
			 1);
	stop(&f);
}
END_TEST

/*
 * kill -9: a child runs the agent's loop (an hour at a time: add the
 * hour, close due periods with their records and the next state in one
 * transaction, otherwise save the state) until SIGKILLed at a random
 * moment. After each kill the store must open clean and hold every
 * period [T0 + 8h k, T0 + 8h (k + 1)) before the saved state's start
 * exactly once, all four tags, and none after it.
 */
#define KILL_ROUNDS 25
#define PERIOD (8 * HOUR)

static void child_loop(void)
{
	struct lic_periodicity per;
	struct lic_period_state ps;
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_period *p;
	struct lic_store *st;
	sqlite3 *db;
	char err[256];
	int64_t now;
	int rc;

	db = db_open(testdb_path, err, sizeof(err));
	st = db ? lic_store_new(db, err, sizeof(err)) : NULL;
	if (st == NULL ||
	    lic_periodicity_make(LIC_PERIOD_HOURS, 8, &per, NULL) < 0)
		_exit(2);
	p = lic_period_new(&per, T0);
	rc = lic_store_get_period(st, &ps, err, sizeof(err));
	if (p == NULL || rc < 0 || (rc == 0 && lic_period_restore(p, &ps) < 0))
		_exit(3);
	lic_period_save(p, &ps);
	now = ps.start + (int64_t)ps.hours * HOUR;
	for (;;) {
		uint32_t v[LIC_CLASS_COUNT] = {1, 2, 3, 4, 5};
		bool closed = false;

		now += HOUR;
		if (lic_period_add_hour(p, now - HOUR, v) != 0)
			_exit(4);
		while (lic_period_close_due(p, now, rec) == 1) {
			lic_period_save(p, &ps);
			if (lic_store_close_period(st, rec, LIC_TAG_COUNT, &ps,
						   now, err, sizeof(err)) < 0)
				_exit(5);
			closed = true;
		}
		if (!closed) {
			lic_period_save(p, &ps);
			if (lic_store_set_period(st, &ps, err, sizeof(err)) < 0)
				_exit(6);
		}
	}
}

static void check_after_kill(int64_t *periods)
{
	struct lic_store_record r[LIC_TAG_COUNT * 8];
	struct lic_period_state ps;
	char err[256];
	int64_t k = 0, last_id = 0;
	size_t n, i;
	struct fx f;
	int rc;

	start(&f);
	ck_assert_int_eq(sql_int(&f, "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check <> 'ok'"),
			 0);
	rc = lic_store_get_period(f.st, &ps, err, sizeof(err));
	ck_assert_int_ge(rc, 0);
	if (rc == 1) {
		/* Killed before the first state was saved (a slow start,
		 * under ASan or load): then nothing at all was stored. */
		ck_assert_int_eq(lic_store_records(f.st, 0, r, NELEM(r), &n,
						   err, sizeof(err)),
				 0);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(*periods, 0);
		stop(&f);
		return;
	}
	ck_assert_int_eq((ps.start - T0) % PERIOD, 0);
	ck_assert_uint_lt(ps.hours, 8);
	for (;;) {
		ck_assert_int_eq(lic_store_records(f.st, last_id, r, NELEM(r),
						   &n, err, sizeof(err)),
				 0);
		if (n == 0)
			break;
		ck_assert_uint_eq(n % LIC_TAG_COUNT, 0);
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(r[i].rec.tag, (int)(i % LIC_TAG_COUNT));
			ck_assert_int_eq(r[i].rec.start, T0 + k * PERIOD);
			ck_assert_int_eq(r[i].rec.end, T0 + (k + 1) * PERIOD);
			if (i % LIC_TAG_COUNT == LIC_TAG_COUNT - 1)
				k++;
		}
		last_id = r[n - 1].id;
	}
	/* Every closed period once, and the state right after the last. */
	ck_assert_int_eq(ps.start, T0 + k * PERIOD);
	ck_assert_int_ge(k, *periods);
	*periods = k;
	stop(&f);
}

UNIT_TEST(kill_9_loses_and_duplicates_nothing)
{
	int64_t periods = 0;
	int round, status;
	pid_t pid;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (round = 0; round < KILL_ROUNDS; round++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child_loop();
		usleep(2000 + (useconds_t)(rand() % 30000));
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
			      "child ended by itself with status %d",
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		check_after_kill(&periods);
	}
	ck_assert_int_gt(periods, 0);
}
END_TEST

UNIT_TEST(event_log_bounded_and_ordered)
{
	struct lic_store_event *ev = calloc(LIC_STORE_EVENTS_MAX + 10,
					    sizeof(*ev));
	int64_t t0 = T0 * 1000;
	char err[256];
	size_t n, i;
	struct fx f;

	ck_assert_ptr_nonnull(ev);
	start(&f);
	ck_assert_int_eq(lic_store_events(f.st, 0, ev, 10, &n, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 0);
	/* Bad names and attributes change nothing. */
	ck_assert_int_eq(lic_store_event_add(f.st, t0, "saevt_lower", "", err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_event_add(f.st, t0, "", "", err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_event_add(f.st, t0, "SAEVT_X", "a\nb", err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_store_event_add(f.st, -1, "SAEVT_X", "", err,
					     sizeof(err)),
			 -1);
	/* More than the cap: the oldest go. */
	for (i = 0; i < LIC_STORE_EVENTS_MAX + 5; i++) {
		char attrs[32];

		snprintf(attrs, sizeof(attrs), "n=\"%zu\"", i);
		ck_assert_msg(lic_store_event_add(f.st, t0 + (int64_t)i,
						  "SAEVT_TEST", attrs, err,
						  sizeof(err)) == 0,
			      "%s", err);
	}
	ck_assert_int_eq(lic_store_events(f.st, 0, ev, LIC_STORE_EVENTS_MAX + 10,
					  &n, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, LIC_STORE_EVENTS_MAX);
	ck_assert_str_eq(ev[0].attrs, "n=\"5\"");
	ck_assert_int_eq(ev[0].at_ms, t0 + 5);
	for (i = 1; i < n; i++)
		ck_assert_int_lt(ev[i - 1].id, ev[i].id);
	/* The newest 3, still oldest first. */
	ck_assert_int_eq(lic_store_events(f.st, 0, ev, 3, &n, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ev[2].attrs, "n=\"1004\"");
	ck_assert_str_eq(ev[0].attrs, "n=\"1002\"");
	/* Since a time. */
	ck_assert_int_eq(lic_store_events(f.st, t0 + 1000, ev, 10, &n, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 5);
	/* Kept across a restart; 90 days later the old ones are gone. */
	restart(&f);
	ck_assert_int_eq(lic_store_event_add(
				 f.st, t0 + LIC_STORE_EVENT_AGE_S * INT64_C(1000) + 1001,
				 "SAEVT_LATE", "", err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_events(f.st, 0, ev, LIC_STORE_EVENTS_MAX, &n,
					  err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 5); /* 1001..1004 and the late one */
	ck_assert_str_eq(ev[4].name, "SAEVT_LATE");
	ck_assert_str_eq(ev[4].attrs, "");
	stop(&f);
	free(ev);
}
END_TEST

UNIT_TEST(reports_since_all_and_days)
{
	const char *one[] = {"rep-1"};
	struct lic_store_report rep[8];
	struct lic_policy pol;
	char err[256];
	size_t n;
	struct fx f;

	lic_policy_default(&pol);
	start(&f);
	close_one(&f, T0, T0 + DAY, 1);
	report_all(&f, "rep-1", T0 + DAY);
	close_one(&f, T0 + 5 * DAY, T0 + 6 * DAY, 2);
	report_all(&f, "rep-2", T0 + 6 * DAY);
	ck_assert_int_eq(lic_store_mark_sent(f.st, "rep-1", T0 + DAY,
					     T0 + 2 * DAY, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_store_ack(f.st, one, 1, T0 + DAY, NULL,
				       T0 + DAY + 10, err, sizeof(err)),
			 1);
	/* All: acknowledged or not, oldest first. */
	ck_assert_int_eq(lic_store_reports_since(f.st, -1, rep, NELEM(rep), &n,
						 err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rep[0].report_id, "rep-1");
	ck_assert_int_ne(rep[0].acked_at, 0);
	ck_assert_str_eq(rep[1].report_id, "rep-2");
	/* Records that ended after T0 + 2 days: rep-2 only. */
	ck_assert_int_eq(lic_store_reports_since(f.st, T0 + 2 * DAY, rep,
						 NELEM(rep), &n, err,
						 sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rep[0].report_id, "rep-2");
	ck_assert_int_eq(lic_store_reports_since(f.st, T0 + 7 * DAY, rep,
						 NELEM(rep), &n, err,
						 sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 0);
	stop(&f);
}
END_TEST

UNIT_MAIN("lstore")
