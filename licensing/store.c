#include "licensing/store.h"

#include "common/db.h"
#include "common/err.h"
#include "licensing/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The lic_ tables (docs/internals/licensing-store.md, "Schema"). Record
 * ids are AUTOINCREMENT so that an id, once in a report, is never given
 * to another record even after pruning. UNIQUE (tag, period_start,
 * period_end) makes recording the same period twice an error instead of
 * a duplicate.
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS lic_meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lic_report ("
	" report_id TEXT PRIMARY KEY,"
	" created INTEGER NOT NULL,"
	" envelope BLOB NOT NULL,"
	" sent_at INTEGER,"
	" saved_at INTEGER,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" acked_at INTEGER,"
	" ack_time INTEGER);"
	"CREATE TABLE IF NOT EXISTS lic_record ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tag INTEGER NOT NULL CHECK (tag BETWEEN 0 AND 3),"
	" period_start INTEGER NOT NULL,"
	" period_end INTEGER NOT NULL,"
	" count INTEGER NOT NULL CHECK (count >= 0),"
	" created INTEGER NOT NULL,"
	" report_id TEXT REFERENCES lic_report (report_id),"
	" acked_at INTEGER,"
	" CHECK (period_start < period_end),"
	" UNIQUE (tag, period_start, period_end));"
	"CREATE INDEX IF NOT EXISTS lic_record_report"
	" ON lic_record (report_id);"
	"CREATE TABLE IF NOT EXISTS lic_state ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lic_policy ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" json TEXT NOT NULL,"
	" installed_on INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lic_trust ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" server_key_pem TEXT NOT NULL,"
	" trust_code TEXT NOT NULL,"
	" udi_pid TEXT NOT NULL,"
	" udi_sn TEXT NOT NULL,"
	" installed INTEGER NOT NULL);"
	/* Added after schema 1 shipped; additive, so no version change. */
	"CREATE TABLE IF NOT EXISTS lic_account ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" smart_account TEXT NOT NULL,"
	" virtual_account TEXT NOT NULL);"
	/* The licensing event log (`show license eventlog`); additive. */
	"CREATE TABLE IF NOT EXISTS lic_event ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at_ms INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" attrs TEXT NOT NULL);";

enum stmt {
	S_REC_INSERT,
	S_REC_LIST,
	S_REC_MARK,
	S_REC_ACK,
	S_REP_INSERT,
	S_REP_GET,
	S_REP_PENDING,
	S_REP_UNACKED,
	S_REP_ENVELOPE,
	S_REP_SENT,
	S_REP_FAILED,
	S_REP_SAVED,
	S_REP_ACK,
	S_PRUNE_REC,
	S_PRUNE_REP,
	S_REC_SUMMARY,
	S_REC_RECENT,
	S_KV_GET,
	S_KV_PUT,
	S_KV_MAX,
	S_POLICY_GET,
	S_POLICY_PUT,
	S_TRUST_GET,
	S_TRUST_PUT,
	S_ACCOUNT_GET,
	S_ACCOUNT_PUT,
	S_EVENT_ADD,
	S_EVENT_TRIM,
	S_EVENT_LIST,
	S_REP_SINCE,
	S_COUNT
};

#define REPORT_COLS                                                          \
	"report_id, created, sent_at, saved_at, attempts, next_attempt,"     \
	" acked_at, length(envelope)"

static const char *const stmt_sql[S_COUNT] = {
	[S_REC_INSERT] = "INSERT INTO lic_record"
			 " (tag, period_start, period_end, count, created)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_REC_LIST] = "SELECT id, tag, period_start, period_end, count,"
		       " created, report_id, acked_at FROM lic_record"
		       " WHERE id > ?1 AND (?2 = 0 OR report_id IS NULL)"
		       " ORDER BY id LIMIT ?3",
	[S_REC_MARK] = "UPDATE lic_record SET report_id = ?2"
		       " WHERE id = ?1 AND report_id IS NULL",
	[S_REC_ACK] = "UPDATE lic_record SET acked_at = ?2"
		      " WHERE report_id = ?1 AND acked_at IS NULL",
	[S_REP_INSERT] = "INSERT INTO lic_report"
			 " (report_id, created, envelope, next_attempt)"
			 " VALUES (?1, ?2, ?3, ?2)",
	[S_REP_GET] = "SELECT " REPORT_COLS
		      " FROM lic_report WHERE report_id = ?1",
	[S_REP_PENDING] = "SELECT " REPORT_COLS
			  " FROM lic_report WHERE acked_at IS NULL"
			  " ORDER BY next_attempt, created, report_id"
			  " LIMIT ?1",
	[S_REP_UNACKED] = "SELECT report_id FROM lic_report"
			  " WHERE acked_at IS NULL AND (sent_at IS NOT NULL"
			  " OR saved_at IS NOT NULL)"
			  " ORDER BY created, report_id LIMIT ?1",
	[S_REP_ENVELOPE] = "SELECT envelope FROM lic_report"
			   " WHERE report_id = ?1",
	[S_REP_SENT] = "UPDATE lic_report SET sent_at = ?2,"
		       " attempts = attempts + 1, next_attempt = ?3"
		       " WHERE report_id = ?1 AND acked_at IS NULL",
	[S_REP_FAILED] = "UPDATE lic_report SET attempts = attempts + 1,"
			 " next_attempt = ?2"
			 " WHERE report_id = ?1 AND acked_at IS NULL",
	[S_REP_SAVED] = "UPDATE lic_report SET saved_at = ?2"
			" WHERE report_id = ?1",
	[S_REP_ACK] = "UPDATE lic_report SET acked_at = ?2, ack_time = ?3"
		      " WHERE report_id = ?1 AND acked_at IS NULL",
	[S_PRUNE_REC] = "DELETE FROM lic_record"
			" WHERE acked_at IS NOT NULL AND acked_at <= ?1",
	[S_PRUNE_REP] = "DELETE FROM lic_report"
			" WHERE acked_at IS NOT NULL AND acked_at <= ?1"
			" AND NOT EXISTS (SELECT 1 FROM lic_record r"
			" WHERE r.report_id = lic_report.report_id)",
	[S_REC_RECENT] = "SELECT id, tag, period_start, period_end, count,"
			 " created, report_id, acked_at FROM lic_record"
			 " WHERE tag = ?1 ORDER BY id DESC LIMIT ?2",
	[S_REC_SUMMARY] = "SELECT count(*),"
			  " count(*) FILTER (WHERE acked_at IS NOT NULL),"
			  " count(*) FILTER (WHERE report_id IS NOT NULL"
			  " AND acked_at IS NULL),"
			  " count(*) FILTER (WHERE report_id IS NULL)"
			  " FROM lic_record",
	[S_KV_GET] = "SELECT value FROM lic_state WHERE key = ?1",
	[S_KV_PUT] = "INSERT INTO lic_state (key, value) VALUES (?1, ?2)"
		     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[S_KV_MAX] = "INSERT INTO lic_state (key, value) VALUES (?1, ?2)"
		     " ON CONFLICT (key) DO UPDATE"
		     " SET value = max(value, excluded.value)",
	[S_POLICY_GET] = "SELECT json FROM lic_policy WHERE id = 1",
	[S_POLICY_PUT] = "INSERT INTO lic_policy (id, json, installed_on)"
			 " VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE"
			 " SET json = excluded.json,"
			 " installed_on = excluded.installed_on",
	[S_TRUST_GET] = "SELECT server_key_pem, trust_code, udi_pid, udi_sn,"
			" installed FROM lic_trust WHERE id = 1",
	[S_ACCOUNT_GET] = "SELECT smart_account, virtual_account"
			  " FROM lic_account WHERE id = 1",
	[S_ACCOUNT_PUT] = "INSERT INTO lic_account (id, smart_account,"
			  " virtual_account) VALUES (1, ?1, ?2)"
			  " ON CONFLICT (id) DO UPDATE SET"
			  " smart_account = excluded.smart_account,"
			  " virtual_account = excluded.virtual_account",
	[S_TRUST_PUT] = "INSERT INTO lic_trust (id, server_key_pem,"
			" trust_code, udi_pid, udi_sn, installed)"
			" VALUES (1, ?1, ?2, ?3, ?4, ?5)"
			" ON CONFLICT (id) DO UPDATE SET"
			" server_key_pem = excluded.server_key_pem,"
			" trust_code = excluded.trust_code,"
			" udi_pid = excluded.udi_pid,"
			" udi_sn = excluded.udi_sn,"
			" installed = excluded.installed",
	[S_EVENT_ADD] = "INSERT INTO lic_event (at_ms, name, attrs)"
			" VALUES (?1, ?2, ?3)",
	/* Keep the newest ?1 events, none older than ?2. */
	[S_EVENT_TRIM] = "DELETE FROM lic_event WHERE at_ms < ?2 OR id <="
			 " (SELECT max(id) FROM lic_event) - ?1",
	/* The newest ?2 events at or after ?1, oldest first. */
	[S_EVENT_LIST] = "SELECT id, at_ms, name, attrs FROM (SELECT * FROM"
			 " lic_event WHERE at_ms >= ?1 ORDER BY id DESC"
			 " LIMIT ?2) ORDER BY id",
	/* Every report (acknowledged or not) that carries a record whose
	 * period ended after ?1, oldest first. */
	[S_REP_SINCE] = "SELECT " REPORT_COLS " FROM lic_report WHERE"
			" EXISTS (SELECT 1 FROM lic_record r WHERE"
			" r.report_id = lic_report.report_id AND"
			" r.period_end > ?1) ORDER BY created, report_id"
			" LIMIT ?2",
};

/* Keys of lic_state. */
#define K_PERIOD_START "period.start"
#define K_PERIOD_HOURS "period.hours"
#define K_PERIOD_REPORTED "period.reported"
#define K_PERIOD_LAST_CHANGE "period.last_change"
#define K_PERIOD_PEAK "period.peak." /* + class index */
#define K_PERIOD_LAST "period.last." /* + tag index */
#define K_RECORDS_PURGED "records.purged" /* records pruned, ever */
#define K_STORE_EPOCH "store.epoch" /* random, made with the store */
#define K_POLICY_ISSUED "policy.issued" /* newest policy file installed */
#define K_FIRST_USE "usage.first_use"
#define K_LAST_PUSH "usage.last_push"
#define K_LAST_ACK "usage.last_ack"
#define K_LAST_FILE_WRITE "usage.last_file_write"
#define K_CHANGE_DUE "usage.change_due"

struct lic_store {
	sqlite3 *db;
	sqlite3_stmt *q[S_COUNT];
};

/* The SQLite reason of the last failure, prefixed with what was done. */
static int db_failed(struct lic_store *st, char *err, size_t errlen,
		     const char *what)
{
	db_fail(st->db, what, err, errlen);
	return -1;
}

/* Step a statement that returns no row. 0 or -1 (reason in err). */
static int run(struct lic_store *st, enum stmt s, char *err, size_t errlen,
	       const char *what)
{
	return db_run(st->q[s], what, err, errlen) != 0 ? -1 : 0;
}

/* Step the one-row query q: 0 on its row (read it, then db_done() q), 1
 * when there is none, -1 on a failure (reason in err). */
static int one_row(sqlite3_stmt *q, const char *what, char *err,
		   size_t errlen)
{
	int rc = db_step(q, what, err, errlen);

	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int txn_begin(struct lic_store *st, char *err, size_t errlen)
{
	return db_begin(st->db, true, err, errlen) != 0 ? -1 : 0;
}

static int txn_commit(struct lic_store *st, char *err, size_t errlen)
{
	return db_commit(st->db, err, errlen) != 0 ? -1 : 0;
}

static int bad_args(char *err, size_t errlen)
{
	err_set(err, errlen, "bad arguments");
	return -1;
}

/*
 * The one-row query s stepped, the caller's arguments checked first
 * (args_ok): on its row s's statement (read it, then db_done() it), else
 * NULL with *ret 1 when there is none, -1 on bad arguments or a failure
 * (reason in err).
 */
static sqlite3_stmt *get_row(struct lic_store *st, bool args_ok, enum stmt s,
			     const char *what, int *ret, char *err,
			     size_t errlen)
{
	if (st == NULL || !args_ok) {
		*ret = bad_args(err, errlen);
		return NULL;
	}
	*ret = one_row(st->q[s], what, err, errlen);
	if (*ret == 0)
		return st->q[s];
	db_done(st->q[s]);
	return NULL;
}

static bool time_ok(int64_t t)
{
	return t >= 0 && t <= LIC_TIME_MAX;
}

/* 1..LIC_STORE_REPORT_ID_MAX of [A-Za-z0-9._:-]. */
static bool report_id_ok(const char *id)
{
	return lic_wire_name_ok(id, LIC_STORE_REPORT_ID_MAX);
}

/* Each of ids[0..n) a report_id_ok() id; false with a reason if not. */
static bool report_ids_ok(const char *const *ids, size_t n, char *err,
			  size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!report_id_ok(ids[i])) {
			err_set(err, errlen, "bad report id");
			return false;
		}
	}
	return true;
}

static int kv_get(struct lic_store *st, const char *key, int64_t *v,
		  bool *found, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_KV_GET];
	int rc;

	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = one_row(q, "reading licensing state", err, errlen);
	*found = rc == 0;
	if (rc == 0)
		*v = sqlite3_column_int64(q, 0);
	db_done(q);
	return rc < 0 ? -1 : 0;
}

/* Put key = v; with keep_max, never lower a stored value. */
static int kv_put(struct lic_store *st, const char *key, int64_t v,
		  bool keep_max, char *err, size_t errlen)
{
	enum stmt s = keep_max ? S_KV_MAX : S_KV_PUT;

	sqlite3_bind_text(st->q[s], 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->q[s], 2, v);
	return run(st, s, err, errlen, "writing licensing state");
}

/* Sets the time key to now, then commits the open transaction; rolls it
 * back on a failure. */
static int stamp_commit(struct lic_store *st, const char *key, int64_t now,
			char *err, size_t errlen)
{
	if (kv_put(st, key, now, true, err, errlen) < 0) {
		db_rollback(st->db);
		return -1;
	}
	return txn_commit(st, err, errlen);
}

struct lic_store *lic_store_new(sqlite3 *db, char *err, size_t errlen)
{
	struct lic_store *st;

	if (db == NULL) {
		err_set(err, errlen, "no database");
		return NULL;
	}
	st = err_calloc(1, sizeof(*st), err, errlen);
	if (st == NULL)
		return NULL;
	st->db = db;
	if (db_schema(db, schema, "lic_meta", LIC_STORE_SCHEMA_VERSION,
		      "licensing store", err, errlen) != 0 ||
	    db_prepare_all(db, stmt_sql, st->q, S_COUNT,
			   "preparing licensing store", err, errlen) != 0) {
		lic_store_free(&st);
		return NULL;
	}
	return st;
}

void lic_store_free(struct lic_store **pst)
{
	if (pst == NULL || *pst == NULL)
		return;
	db_finalize_all((*pst)->q, S_COUNT);
	free(*pst);
	*pst = NULL;
}

static bool record_ok(const struct lic_record *r)
{
	return (unsigned)r->tag < LIC_TAG_COUNT && time_ok(r->start) &&
	       time_ok(r->end) && r->start < r->end;
}

static int put_period(struct lic_store *st, const struct lic_period_state *ps,
		      char *err, size_t errlen)
{
	char key[32];
	int i;

	if (kv_put(st, K_PERIOD_START, ps->start, false, err, errlen) < 0 ||
	    kv_put(st, K_PERIOD_HOURS, ps->hours, false, err, errlen) < 0 ||
	    kv_put(st, K_PERIOD_REPORTED, ps->reported ? 1 : 0, false, err,
		   errlen) < 0 ||
	    kv_put(st, K_PERIOD_LAST_CHANGE, ps->last_change, false, err,
		   errlen) < 0)
		return -1;
	for (i = 0; i < LIC_CLASS_COUNT; i++) {
		snprintf(key, sizeof(key), K_PERIOD_PEAK "%d", i);
		if (kv_put(st, key, ps->peak[i], false, err, errlen) < 0)
			return -1;
	}
	for (i = 0; i < LIC_TAG_COUNT; i++) {
		snprintf(key, sizeof(key), K_PERIOD_LAST "%d", i);
		if (kv_put(st, key, ps->last[i], false, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int lic_store_close_period(struct lic_store *st,
			   const struct lic_record *recs, size_t n,
			   const struct lic_period_state *next, int64_t now,
			   char *err, size_t errlen)
{
	sqlite3_stmt *q;
	size_t i;

	if (st == NULL || (n > 0 && recs == NULL) || !time_ok(now))
		return bad_args(err, errlen);
	if (n > LIC_STORE_BATCH_MAX) {
		err_set(err, errlen, "%zu records in one call, at most %d", n,
			LIC_STORE_BATCH_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!record_ok(&recs[i])) {
			err_set(err, errlen, "record %zu is invalid", i);
			return -1;
		}
	}
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	q = st->q[S_REC_INSERT];
	for (i = 0; i < n; i++) {
		sqlite3_bind_int(q, 1, (int)recs[i].tag);
		sqlite3_bind_int64(q, 2, recs[i].start);
		sqlite3_bind_int64(q, 3, recs[i].end);
		sqlite3_bind_int64(q, 4, recs[i].count);
		sqlite3_bind_int64(q, 5, now);
		if (run(st, S_REC_INSERT, err, errlen, "storing usage record") <
		    0)
			goto out_rollback;
	}
	if (next != NULL && put_period(st, next, err, errlen) < 0)
		goto out_rollback;
	return txn_commit(st, err, errlen);

out_rollback:
	db_rollback(st->db);
	return -1;
}

int lic_store_add_records(struct lic_store *st, const struct lic_record *recs,
			  size_t n, int64_t now, char *err, size_t errlen)
{
	return lic_store_close_period(st, recs, n, NULL, now, err, errlen);
}

/* A row of a listing into slot i of the caller's array. */
typedef void row_fn(sqlite3_stmt *q, void *out, size_t i);

/*
 * The rows of listing s, at most max: args bound at ?1.., max at the next
 * parameter (its LIMIT), each row handed to row().
 */
static int list_rows(struct lic_store *st, enum stmt s, const int64_t *args,
		     int nargs, size_t max, row_fn *row, void *out, size_t *n,
		     const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int i, rc, ret = 0;

	if (st == NULL || n == NULL || (max > 0 && out == NULL))
		return bad_args(err, errlen);
	*n = 0;
	if (max == 0)
		return 0;
	q = st->q[s];
	for (i = 0; i < nargs; i++)
		sqlite3_bind_int64(q, i + 1, args[i]);
	sqlite3_bind_int64(q, nargs + 1,
			   max > INT32_MAX ? INT32_MAX : (int64_t)max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		row(q, out, (*n)++);
	if (rc != SQLITE_DONE)
		ret = db_failed(st, err, errlen, what);
	db_done(q);
	return ret;
}

/* One row of S_REC_LIST / S_REC_RECENT. */
static void record_row(sqlite3_stmt *q, void *out, size_t i)
{
	struct lic_store_record *r = (struct lic_store_record *)out + i;

	r->id = sqlite3_column_int64(q, 0);
	r->rec.tag = (enum lic_tag)sqlite3_column_int(q, 1);
	r->rec.start = sqlite3_column_int64(q, 2);
	r->rec.end = sqlite3_column_int64(q, 3);
	r->rec.count = (uint32_t)sqlite3_column_int64(q, 4);
	r->created = sqlite3_column_int64(q, 5);
	db_column_text(q, 6, r->report_id, sizeof(r->report_id));
	r->acked_at = sqlite3_column_int64(q, 7);
}

static int list_records(struct lic_store *st, int64_t after_id,
			bool unreported, struct lic_store_record *out,
			size_t max, size_t *n, char *err, size_t errlen)
{
	int64_t args[] = {after_id, unreported ? 1 : 0};

	return list_rows(st, S_REC_LIST, args, 2, max, record_row, out, n,
			 "reading usage records", err, errlen);
}

int lic_store_unreported(struct lic_store *st, struct lic_store_record *out,
			 size_t max, size_t *n, char *err, size_t errlen)
{
	return list_records(st, 0, true, out, max, n, err, errlen);
}

int lic_store_records(struct lic_store *st, int64_t after_id,
		      struct lic_store_record *out, size_t max, size_t *n,
		      char *err, size_t errlen)
{
	return list_records(st, after_id, false, out, max, n, err, errlen);
}

int lic_store_add_report(struct lic_store *st, const char *report_id,
			 const void *envelope, size_t len,
			 const int64_t *record_ids, size_t n, int64_t now,
			 char *err, size_t errlen)
{
	sqlite3_stmt *q;
	size_t i;

	if (st == NULL || envelope == NULL || (n > 0 && record_ids == NULL) ||
	    !time_ok(now))
		return bad_args(err, errlen);
	if (!report_id_ok(report_id)) {
		err_set(err, errlen, "bad report id");
		return -1;
	}
	if (len == 0 || len > LIC_STORE_ENVELOPE_MAX) {
		err_set(err, errlen, "envelope of %zu bytes (1..%d)", len,
			LIC_STORE_ENVELOPE_MAX);
		return -1;
	}
	if (n > LIC_STORE_BATCH_MAX) {
		err_set(err, errlen, "%zu records in one report, at most %d", n,
			LIC_STORE_BATCH_MAX);
		return -1;
	}
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	q = st->q[S_REP_INSERT];
	sqlite3_bind_text(q, 1, report_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_blob(q, 3, envelope, (int)len, SQLITE_STATIC);
	if (run(st, S_REP_INSERT, err, errlen, "storing report") < 0)
		goto out_rollback;
	q = st->q[S_REC_MARK];
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, record_ids[i]);
		sqlite3_bind_text(q, 2, report_id, -1, SQLITE_STATIC);
		if (run(st, S_REC_MARK, err, errlen, "marking record") < 0)
			goto out_rollback;
		if (sqlite3_changes(st->db) != 1) {
			err_set(err, errlen,
				"record %lld is unknown or already reported",
				(long long)record_ids[i]);
			goto out_rollback;
		}
	}
	return txn_commit(st, err, errlen);

out_rollback:
	db_rollback(st->db);
	return -1;
}

/* One row of REPORT_COLS. */
static void report_row(sqlite3_stmt *q, void *out, size_t i)
{
	struct lic_store_report *r = (struct lic_store_report *)out + i;

	db_column_text(q, 0, r->report_id, sizeof(r->report_id));
	r->created = sqlite3_column_int64(q, 1);
	r->sent_at = sqlite3_column_int64(q, 2);
	r->saved_at = sqlite3_column_int64(q, 3);
	r->attempts = (uint32_t)sqlite3_column_int64(q, 4);
	r->next_attempt = sqlite3_column_int64(q, 5);
	r->acked_at = sqlite3_column_int64(q, 6);
	r->envelope_len = (size_t)sqlite3_column_int64(q, 7);
}

int lic_store_pending_reports(struct lic_store *st,
			      struct lic_store_report *out, size_t max,
			      size_t *n, char *err, size_t errlen)
{
	return list_rows(st, S_REP_PENDING, NULL, 0, max, report_row, out, n,
			 "reading reports", err, errlen);
}

static void report_id_row(sqlite3_stmt *q, void *out, size_t i)
{
	char (*ids)[LIC_STORE_REPORT_ID_MAX + 1] = out;

	db_column_text(q, 0, ids[i], sizeof(ids[i]));
}

int lic_store_report_ids_unacked(
	struct lic_store *st, char (*ids)[LIC_STORE_REPORT_ID_MAX + 1],
	size_t max, size_t *n, char *err, size_t errlen)
{
	return list_rows(st, S_REP_UNACKED, NULL, 0, max, report_id_row, ids,
			 n, "reading reports", err, errlen);
}

/* The stored row of a report; 1 when unknown. */
static int report_get(struct lic_store *st, const char *report_id,
		      struct lic_store_report *out, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_REP_GET];
	int ret;

	sqlite3_bind_text(q, 1, report_id, -1, SQLITE_STATIC);
	ret = one_row(q, "reading report", err, errlen);
	if (ret == 0)
		report_row(q, out, 0);
	db_done(q);
	return ret;
}

int lic_store_report_status(struct lic_store *st, const char *report_id,
			    enum lic_store_report_state *state,
			    struct lic_store_report *out, char *err,
			    size_t errlen)
{
	struct lic_store_report r;
	int rc;

	if (st == NULL || state == NULL || report_id == NULL)
		return bad_args(err, errlen);
	*state = LIC_STORE_REPORT_UNKNOWN;
	if (!report_id_ok(report_id))
		return 0; /* could not have been stored */
	rc = report_get(st, report_id, &r, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	if (r.acked_at != 0)
		*state = LIC_STORE_REPORT_ACKED;
	else if (r.sent_at != 0 || r.saved_at != 0)
		*state = LIC_STORE_REPORT_SENT;
	else
		*state = LIC_STORE_REPORT_QUEUED;
	if (out != NULL)
		*out = r;
	return 0;
}

int lic_store_report_envelope(struct lic_store *st, const char *report_id,
			      unsigned char **buf, size_t *len, char *err,
			      size_t errlen)
{
	sqlite3_stmt *q;
	int ret;

	if (st == NULL || buf == NULL || len == NULL || report_id == NULL)
		return bad_args(err, errlen);
	q = st->q[S_REP_ENVELOPE];
	sqlite3_bind_text(q, 1, report_id, -1, SQLITE_STATIC);
	ret = one_row(q, "reading report", err, errlen);
	if (ret == 0) {
		const void *b = sqlite3_column_blob(q, 0);
		size_t l = (size_t)sqlite3_column_bytes(q, 0);
		unsigned char *copy = malloc(l + 1);

		if (copy == NULL) {
			err_set(err, errlen, "out of memory");
			ret = -1;
		} else {
			if (l > 0)
				memcpy(copy, b, l);
			copy[l] = '\0';
			*buf = copy;
			*len = l;
		}
	}
	db_done(q);
	return ret;
}

/*
 * After an UPDATE ... WHERE acked_at IS NULL changed nothing: 1 when the
 * report exists (so it was acknowledged), -1 with a reason when unknown.
 */
static int unchanged_report(struct lic_store *st, const char *report_id,
			    char *err, size_t errlen)
{
	struct lic_store_report r;
	int rc = report_get(st, report_id, &r, err, errlen);

	if (rc == 1) {
		err_set(err, errlen, "unknown report %s", report_id);
		return -1;
	}
	return rc < 0 ? -1 : 1;
}

int lic_store_mark_sent(struct lic_store *st, const char *report_id,
			int64_t now, int64_t next_attempt, char *err,
			size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if (st == NULL || !report_id_ok(report_id) || !time_ok(now) ||
	    !time_ok(next_attempt))
		return bad_args(err, errlen);
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	q = st->q[S_REP_SENT];
	sqlite3_bind_text(q, 1, report_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, next_attempt);
	if (run(st, S_REP_SENT, err, errlen, "marking report sent") < 0)
		goto out_rollback;
	if (sqlite3_changes(st->db) == 0) {
		rc = unchanged_report(st, report_id, err, errlen);
		db_rollback(st->db);
		return rc;
	}
	return stamp_commit(st, K_LAST_PUSH, now, err, errlen);

out_rollback:
	db_rollback(st->db);
	return -1;
}

int lic_store_mark_failed(struct lic_store *st, const char *report_id,
			  int64_t next_attempt, char *err, size_t errlen)
{
	sqlite3_stmt *q;

	if (st == NULL || !report_id_ok(report_id) || !time_ok(next_attempt))
		return bad_args(err, errlen);
	q = st->q[S_REP_FAILED];
	sqlite3_bind_text(q, 1, report_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, next_attempt);
	if (run(st, S_REP_FAILED, err, errlen, "marking report failed") < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return unchanged_report(st, report_id, err, errlen);
	return 0;
}

int lic_store_mark_saved(struct lic_store *st, const char *const *report_ids,
			 size_t n, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	size_t i;

	if (st == NULL || (n > 0 && report_ids == NULL) || !time_ok(now) ||
	    n > LIC_STORE_BATCH_MAX)
		return bad_args(err, errlen);
	if (!report_ids_ok(report_ids, n, err, errlen))
		return -1;
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	q = st->q[S_REP_SAVED];
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(q, 1, report_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now);
		if (run(st, S_REP_SAVED, err, errlen, "marking report saved") <
		    0)
			goto out_rollback;
		if (sqlite3_changes(st->db) == 0) {
			err_set(err, errlen, "unknown report %s",
				report_ids[i]);
			goto out_rollback;
		}
	}
	return stamp_commit(st, K_LAST_FILE_WRITE, now, err, errlen);

out_rollback:
	db_rollback(st->db);
	return -1;
}

int lic_store_ack(struct lic_store *st, const char *const *report_ids,
		  size_t n, int64_t ack_time, const struct lic_policy *policy,
		  int64_t now, char *err, size_t errlen)
{
	char *json = NULL;
	int newly = 0;
	size_t i;

	if (st == NULL || report_ids == NULL || n == 0 ||
	    n > LIC_STORE_BATCH_MAX || !time_ok(now) || !time_ok(ack_time))
		return bad_args(err, errlen);
	if (!report_ids_ok(report_ids, n, err, errlen))
		return -1;
	if (policy != NULL) {
		json = lic_policy_to_json(policy);
		if (json == NULL) {
			err_set(err, errlen, "invalid policy");
			return -1;
		}
	}
	if (txn_begin(st, err, errlen) < 0) {
		newly = -1;
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		sqlite3_stmt *q = st->q[S_REP_ACK];

		sqlite3_bind_text(q, 1, report_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now);
		sqlite3_bind_int64(q, 3, ack_time);
		if (run(st, S_REP_ACK, err, errlen, "acknowledging report") < 0)
			goto out_rollback;
		if (sqlite3_changes(st->db) == 0) {
			if (unchanged_report(st, report_ids[i], err, errlen) <
			    0)
				goto out_rollback;
			continue; /* acknowledged before */
		}
		newly++;
		q = st->q[S_REC_ACK];
		sqlite3_bind_text(q, 1, report_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, now);
		if (run(st, S_REC_ACK, err, errlen, "acknowledging records") < 0)
			goto out_rollback;
	}
	if (newly == 0) {
		/* A replay: nothing new, so nothing at all changes. */
		db_rollback(st->db);
		goto out_free;
	}
	if (kv_put(st, K_LAST_ACK, now, true, err, errlen) < 0)
		goto out_rollback;
	if (json != NULL) {
		sqlite3_stmt *q = st->q[S_POLICY_PUT];

		sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, policy->installed_on);
		if (run(st, S_POLICY_PUT, err, errlen, "storing policy") < 0)
			goto out_rollback;
	}
	if (txn_commit(st, err, errlen) < 0)
		newly = -1;
	goto out_free;

out_rollback:
	db_rollback(st->db);
	newly = -1;
out_free:
	free(json);
	return newly;
}

int lic_store_prune(struct lic_store *st, int64_t now, int64_t retention_s,
		    char *err, size_t errlen)
{
	int deleted;

	if (st == NULL || !time_ok(now) || retention_s < 0 ||
	    retention_s > LIC_TIME_MAX)
		return bad_args(err, errlen);
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	sqlite3_bind_int64(st->q[S_PRUNE_REC], 1, now - retention_s);
	if (run(st, S_PRUNE_REC, err, errlen, "pruning records") < 0)
		goto out_rollback;
	deleted = sqlite3_changes(st->db);
	sqlite3_bind_int64(st->q[S_PRUNE_REP], 1, now - retention_s);
	if (run(st, S_PRUNE_REP, err, errlen, "pruning reports") < 0)
		goto out_rollback;
	if (deleted > 0) {
		int64_t purged = 0;
		bool found;

		if (kv_get(st, K_RECORDS_PURGED, &purged, &found, err,
			   errlen) < 0 ||
		    kv_put(st, K_RECORDS_PURGED, purged + deleted, false, err,
			   errlen) < 0)
			goto out_rollback;
	}
	if (txn_commit(st, err, errlen) < 0)
		return -1;
	return deleted;

out_rollback:
	db_rollback(st->db);
	return -1;
}

/* Read a state key that must be there (the period state is all or none). */
static int kv_need(struct lic_store *st, const char *key, int64_t lo,
		   int64_t hi, int64_t *v, char *err, size_t errlen)
{
	bool found;

	if (kv_get(st, key, v, &found, err, errlen) < 0)
		return -1;
	if (!found || *v < lo || *v > hi) {
		err_set(err, errlen, "licensing state %s %s", key,
			found ? "out of range" : "missing");
		return -1;
	}
	return 0;
}

int lic_store_get_period(struct lic_store *st, struct lic_period_state *out,
			 char *err, size_t errlen)
{
	struct lic_period_state ps;
	char key[32];
	bool found;
	int64_t v;
	int i;

	if (st == NULL || out == NULL)
		return bad_args(err, errlen);
	if (kv_get(st, K_PERIOD_START, &v, &found, err, errlen) < 0)
		return -1;
	if (!found)
		return 1;
	memset(&ps, 0, sizeof(ps));
	ps.start = v;
	if (kv_need(st, K_PERIOD_HOURS, 0, UINT32_MAX, &v, err, errlen) < 0)
		return -1;
	ps.hours = (uint32_t)v;
	if (kv_need(st, K_PERIOD_REPORTED, 0, 1, &v, err, errlen) < 0)
		return -1;
	ps.reported = v != 0;
	if (kv_need(st, K_PERIOD_LAST_CHANGE, -1, LIC_TIME_MAX, &v, err,
		    errlen) < 0)
		return -1;
	ps.last_change = v;
	for (i = 0; i < LIC_CLASS_COUNT; i++) {
		snprintf(key, sizeof(key), K_PERIOD_PEAK "%d", i);
		if (kv_need(st, key, 0, UINT32_MAX, &v, err, errlen) < 0)
			return -1;
		ps.peak[i] = (uint32_t)v;
	}
	for (i = 0; i < LIC_TAG_COUNT; i++) {
		snprintf(key, sizeof(key), K_PERIOD_LAST "%d", i);
		if (kv_need(st, key, 0, UINT32_MAX, &v, err, errlen) < 0)
			return -1;
		ps.last[i] = (uint32_t)v;
	}
	*out = ps;
	return 0;
}

int lic_store_set_period(struct lic_store *st,
			 const struct lic_period_state *ps, char *err,
			 size_t errlen)
{
	if (st == NULL || ps == NULL)
		return bad_args(err, errlen);
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	if (put_period(st, ps, err, errlen) < 0) {
		db_rollback(st->db);
		return -1;
	}
	return txn_commit(st, err, errlen);
}

/* The stored usage times, in struct order. */
static const char *const time_keys[] = {K_FIRST_USE, K_LAST_PUSH, K_LAST_ACK,
					K_LAST_FILE_WRITE};

static int64_t *time_field(struct lic_usage_times *t, size_t i)
{
	int64_t *f[] = {&t->first_use, &t->last_push, &t->last_ack,
			&t->last_file_write};

	return f[i];
}

int lic_store_get_times(struct lic_store *st, struct lic_usage_times *t,
			char *err, size_t errlen)
{
	struct lic_usage_times got;
	bool found = false;
	int64_t v = 0; /* kv_get sets it when found; -O3 cannot see that */
	size_t i;

	if (st == NULL || t == NULL)
		return bad_args(err, errlen);
	got = *t;
	for (i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++) {
		if (kv_get(st, time_keys[i], &v, &found, err, errlen) < 0)
			return -1;
		*time_field(&got, i) = found ? v : LIC_TIME_NONE;
	}
	if (kv_get(st, K_CHANGE_DUE, &v, &found, err, errlen) < 0)
		return -1;
	got.change_due = found && v != 0;
	*t = got;
	return 0;
}

int lic_store_set_times(struct lic_store *st, const struct lic_usage_times *t,
			char *err, size_t errlen)
{
	struct lic_usage_times in;
	size_t i;

	if (st == NULL || t == NULL)
		return bad_args(err, errlen);
	in = *t;
	for (i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++) {
		if (!time_ok(*time_field(&in, i))) {
			err_set(err, errlen, "%s out of range", time_keys[i]);
			return -1;
		}
	}
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++) {
		if (kv_put(st, time_keys[i], *time_field(&in, i), false, err,
			   errlen) < 0)
			goto out_rollback;
	}
	if (kv_put(st, K_CHANGE_DUE, in.change_due ? 1 : 0, false, err,
		   errlen) < 0)
		goto out_rollback;
	return txn_commit(st, err, errlen);

out_rollback:
	db_rollback(st->db);
	return -1;
}

int lic_store_get_policy(struct lic_store *st, struct lic_policy *out,
			 char *err, size_t errlen)
{
	sqlite3_stmt *q;
	const char *json;
	size_t len;
	char why[160];
	int ret;

	q = get_row(st, out != NULL, S_POLICY_GET, "reading policy", &ret, err,
		    errlen);
	if (q == NULL)
		return ret;
	json = (const char *)sqlite3_column_text(q, 0);
	len = (size_t)sqlite3_column_bytes(q, 0);
	if (json == NULL || len > LIC_POLICY_JSON_MAX ||
	    lic_policy_parse(json, len, out, why, sizeof(why)) < 0) {
		err_set(err, errlen, "stored policy: %s",
			json == NULL ? "empty" : why);
		ret = -1;
	}
	db_done(q);
	return ret;
}

int lic_store_set_policy(struct lic_store *st, const struct lic_policy *p,
			 char *err, size_t errlen)
{
	sqlite3_stmt *q;
	char *json;
	int ret;

	if (st == NULL || p == NULL)
		return bad_args(err, errlen);
	json = lic_policy_to_json(p);
	if (json == NULL) {
		err_set(err, errlen, "invalid policy");
		return -1;
	}
	q = st->q[S_POLICY_PUT];
	sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, p->installed_on);
	ret = run(st, S_POLICY_PUT, err, errlen, "storing policy");
	free(json);
	return ret;
}

/* NUL within cap, non-empty, printable ASCII (newlines if multiline). */
static bool text_ok(const char *s, size_t cap, bool multiline)
{
	size_t i;

	for (i = 0; i <= cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return i > 0;
		if (!(c >= 0x20 && c < 0x7f) && !(multiline && c == '\n'))
			return false;
	}
	return false;
}

int lic_store_get_trust(struct lic_store *st, struct lic_store_trust *out,
			char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int ret;

	q = get_row(st, out != NULL, S_TRUST_GET, "reading trust", &ret, err,
		    errlen);
	if (q == NULL)
		return ret;
	db_column_text(q, 0, out->server_key_pem, sizeof(out->server_key_pem));
	db_column_text(q, 1, out->trust_code, sizeof(out->trust_code));
	db_column_text(q, 2, out->udi_pid, sizeof(out->udi_pid));
	db_column_text(q, 3, out->udi_sn, sizeof(out->udi_sn));
	out->installed = sqlite3_column_int64(q, 4);
	db_done(q);
	return 0;
}

int lic_store_set_trust(struct lic_store *st, const struct lic_store_trust *t,
			char *err, size_t errlen)
{
	sqlite3_stmt *q;

	if (st == NULL || t == NULL)
		return bad_args(err, errlen);
	if (!text_ok(t->server_key_pem, LIC_STORE_PEM_MAX, true) ||
	    !text_ok(t->trust_code, LIC_STORE_TRUST_CODE_MAX, false) ||
	    !text_ok(t->udi_pid, LIC_STORE_UDI_MAX, false) ||
	    !text_ok(t->udi_sn, LIC_STORE_UDI_MAX, false) ||
	    !time_ok(t->installed)) {
		err_set(err, errlen, "invalid trust data");
		return -1;
	}
	q = st->q[S_TRUST_PUT];
	sqlite3_bind_text(q, 1, t->server_key_pem, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, t->trust_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, t->udi_pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, t->udi_sn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, t->installed);
	return run(st, S_TRUST_PUT, err, errlen, "storing trust");
}

int lic_store_record_summary(struct lic_store *st,
			     struct lic_store_summary *out, char *err,
			     size_t errlen)
{
	sqlite3_stmt *q;
	bool found;
	int ret = -1;

	if (st == NULL || out == NULL)
		return bad_args(err, errlen);
	memset(out, 0, sizeof(*out));
	q = st->q[S_REC_SUMMARY];
	if (sqlite3_step(q) != SQLITE_ROW) {
		ret = db_failed(st, err, errlen, "counting records");
		db_done(q);
		return ret;
	}
	out->stored = sqlite3_column_int64(q, 0);
	out->acked = sqlite3_column_int64(q, 1);
	out->waiting = sqlite3_column_int64(q, 2);
	out->unreported = sqlite3_column_int64(q, 3);
	db_done(q);
	if (kv_get(st, K_RECORDS_PURGED, &out->purged, &found, err, errlen) <
	    0)
		return -1;
	if (!found)
		out->purged = 0;
	return 0;
}

int lic_store_recent_records(struct lic_store *st, enum lic_tag tag,
			     struct lic_store_record *out, size_t max,
			     size_t *n, char *err, size_t errlen)
{
	int64_t args[] = {(int64_t)tag};

	if ((int)tag < 0 || tag >= LIC_TAG_COUNT)
		return bad_args(err, errlen);
	return list_rows(st, S_REC_RECENT, args, 1, max, record_row, out, n,
			 "reading usage records", err, errlen);
}

int lic_store_epoch(struct lic_store *st, uint32_t fresh, uint32_t *out,
		    char *err, size_t errlen)
{
	int64_t v = 0;
	bool found;

	if (st == NULL || out == NULL)
		return bad_args(err, errlen);
	if (kv_get(st, K_STORE_EPOCH, &v, &found, err, errlen) < 0)
		return -1;
	if (!found) {
		v = (int64_t)fresh;
		if (kv_put(st, K_STORE_EPOCH, v, false, err, errlen) < 0)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int lic_store_policy_issued(struct lic_store *st, int64_t *issued,
			    char *err, size_t errlen)
{
	bool found;

	if (st == NULL || issued == NULL)
		return bad_args(err, errlen);
	if (kv_get(st, K_POLICY_ISSUED, issued, &found, err, errlen) < 0)
		return -1;
	if (!found)
		*issued = 0;
	return 0;
}

int lic_store_set_policy_issued(struct lic_store *st, int64_t issued,
				char *err, size_t errlen)
{
	if (st == NULL || issued < 0)
		return bad_args(err, errlen);
	return kv_put(st, K_POLICY_ISSUED, issued, true, err, errlen) < 0 ? -1
									  : 0;
}

int lic_store_get_account(struct lic_store *st, char *sa, size_t salen,
			  char *va, size_t valen, char *err, size_t errlen)
{
	bool ok = sa != NULL && va != NULL && salen > 0 && valen > 0;
	sqlite3_stmt *q;
	int ret;

	if (ok)
		sa[0] = va[0] = '\0';
	q = get_row(st, ok, S_ACCOUNT_GET, "reading the account", &ret, err,
		    errlen);
	if (q == NULL)
		return ret;
	db_column_text(q, 0, sa, salen);
	db_column_text(q, 1, va, valen);
	db_done(q);
	return 0;
}

int lic_store_set_account(struct lic_store *st, const char *sa,
			  const char *va, char *err, size_t errlen)
{
	sqlite3_stmt *q;

	if (st == NULL || !text_ok(sa, 64, false) || !text_ok(va, 64, false)) {
		err_set(err, errlen, "invalid account names");
		return -1;
	}
	q = st->q[S_ACCOUNT_PUT];
	sqlite3_bind_text(q, 1, sa, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, va, -1, SQLITE_STATIC);
	return run(st, S_ACCOUNT_PUT, err, errlen, "storing the account");
}

/* ---- event log --------------------------------------------------------- */

/* Event names: 1..LIC_STORE_EVENT_NAME_MAX of [A-Z0-9_]. */
static bool event_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= LIC_STORE_EVENT_NAME_MAX ||
		    !((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return i > 0;
}

int lic_store_event_add(struct lic_store *st, int64_t at_ms,
			const char *name, const char *attrs, char *err,
			size_t errlen)
{
	sqlite3_stmt *q;
	int ret = -1;

	if (st == NULL || name == NULL || !event_name_ok(name) ||
	    at_ms < 0 || at_ms / 1000 > LIC_TIME_MAX) {
		err_set(err, errlen, "bad event");
		return -1;
	}
	if (attrs == NULL)
		attrs = "";
	if (attrs[0] != '\0' && !text_ok(attrs, LIC_STORE_EVENT_ATTRS_MAX,
					 false)) {
		err_set(err, errlen, "bad event attributes");
		return -1;
	}
	if (txn_begin(st, err, errlen) < 0)
		return -1;
	q = st->q[S_EVENT_ADD];
	sqlite3_bind_int64(q, 1, at_ms);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, attrs, -1, SQLITE_STATIC);
	if (run(st, S_EVENT_ADD, err, errlen, "storing an event") < 0)
		goto out_rollback;
	q = st->q[S_EVENT_TRIM];
	sqlite3_bind_int64(q, 1, LIC_STORE_EVENTS_MAX);
	sqlite3_bind_int64(q, 2, at_ms - (int64_t)LIC_STORE_EVENT_AGE_S * 1000);
	if (run(st, S_EVENT_TRIM, err, errlen, "trimming the event log") < 0)
		goto out_rollback;
	if (txn_commit(st, err, errlen) < 0)
		goto out;
	ret = 0;
	goto out;

out_rollback:
	db_rollback(st->db);
out:
	return ret;
}

static void event_row(sqlite3_stmt *q, void *out, size_t i)
{
	struct lic_store_event *e = (struct lic_store_event *)out + i;

	e->id = sqlite3_column_int64(q, 0);
	e->at_ms = sqlite3_column_int64(q, 1);
	db_column_text(q, 2, e->name, sizeof(e->name));
	db_column_text(q, 3, e->attrs, sizeof(e->attrs));
}

int lic_store_events(struct lic_store *st, int64_t since_ms,
		     struct lic_store_event *out, size_t max, size_t *n,
		     char *err, size_t errlen)
{
	return list_rows(st, S_EVENT_LIST, &since_ms, 1, max, event_row, out,
			 n, "reading the event log", err, errlen);
}

int lic_store_reports_since(struct lic_store *st, int64_t since,
			    struct lic_store_report *out, size_t max,
			    size_t *n, char *err, size_t errlen)
{
	return list_rows(st, S_REP_SINCE, &since, 1, max, report_row, out, n,
			 "reading reports", err, errlen);
}
