/* lsrv store: licd's SQLite model (see licd/store.h, docs/licd.md). */
#include "licd/store.h"

#include "common/db.h"
#include "common/err.h"
#include "licensing/policy.h"
#include "licensing/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/*
 * Names are TEXT, times INTEGER Unix seconds. report.envelope is the body
 * exactly as received, so a report can be verified again later.
 * record is keyed by (device, record id): the protocol's idempotency key.
 * report.ack_policy is the va policy version the ACKs of that report
 * carried (NULL: none), so that an ACK sent again carries it again.
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS lsrv_meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS account ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS va ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES account (id),"
	" name TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" policy_json TEXT,"
	" policy_version INTEGER NOT NULL DEFAULT 0,"
	" policy_set INTEGER,"
	" UNIQUE (account_id, name));"
	"CREATE TABLE IF NOT EXISTS token ("
	" hash TEXT PRIMARY KEY,"
	" va_id INTEGER NOT NULL REFERENCES va (id),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" uses_left INTEGER NOT NULL CHECK (uses_left >= 0)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS purchase ("
	" va_id INTEGER NOT NULL REFERENCES va (id),"
	" tag INTEGER NOT NULL CHECK (tag BETWEEN 0 AND 3),"
	" count INTEGER NOT NULL CHECK (count >= 0),"
	" updated INTEGER NOT NULL,"
	" PRIMARY KEY (va_id, tag)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS device ("
	" id INTEGER PRIMARY KEY,"
	" pid TEXT NOT NULL,"
	" sn TEXT NOT NULL,"
	" va_id INTEGER NOT NULL REFERENCES va (id),"
	" public_key TEXT NOT NULL,"
	" key_id TEXT NOT NULL,"
	" trust_code TEXT NOT NULL,"
	" trusted INTEGER NOT NULL,"
	" policy_sent INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (pid, sn));"
	"CREATE INDEX IF NOT EXISTS device_va ON device (va_id);"
	"CREATE TABLE IF NOT EXISTS report ("
	" id INTEGER PRIMARY KEY,"
	" device_id INTEGER NOT NULL REFERENCES device (id),"
	" report_id TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" received INTEGER NOT NULL,"
	" release TEXT NOT NULL,"
	" hostname TEXT,"
	" ha_group TEXT,"
	" ha_role TEXT NOT NULL,"
	" envelope BLOB NOT NULL,"
	" acked_at INTEGER,"
	" ack_policy INTEGER,"
	" UNIQUE (device_id, report_id));"
	"CREATE INDEX IF NOT EXISTS report_latest"
	" ON report (device_id, created);"
	"CREATE TABLE IF NOT EXISTS record ("
	" device_id INTEGER NOT NULL REFERENCES device (id),"
	" record_id TEXT NOT NULL,"
	" report INTEGER NOT NULL REFERENCES report (id),"
	" tag INTEGER NOT NULL CHECK (tag BETWEEN 0 AND 3),"
	" period_start INTEGER NOT NULL,"
	" period_end INTEGER NOT NULL,"
	" count INTEGER NOT NULL CHECK (count >= 0),"
	" PRIMARY KEY (device_id, record_id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS record_latest"
	" ON record (device_id, tag, period_end);";

enum stmt {
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_VA_INSERT,
	S_VA_GET,
	S_VA_INFO,
	S_TOKEN_INSERT,
	S_TOKEN_GET,
	S_TOKEN_USE,
	S_PURCHASE_PUT,
	S_PURCHASE_LIST,
	S_POLICY_PUT,
	S_DEVICE_GET,
	S_DEVICE_INSERT,
	S_DEVICE_REBIND,
	S_DEVICE_POLICY_SENT,
	S_DEVICE_POLICY_STATE,
	S_REPORT_GET,
	S_REPORT_INSERT,
	S_REPORT_ACKED,
	S_RECORD_GET,
	S_RECORD_INSERT,
	S_DEVICE_LIST,
	S_LATEST_REPORT,
	S_LATEST_RECORD,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_ACCOUNT_INSERT] = "INSERT INTO account (name, created)"
			     " VALUES (?1, ?2)",
	[S_ACCOUNT_GET] = "SELECT id FROM account WHERE name = ?1",
	[S_VA_INSERT] = "INSERT INTO va (account_id, name, created)"
			" VALUES (?1, ?2, ?3)",
	[S_VA_GET] = "SELECT id FROM va WHERE account_id = ?1 AND name = ?2",
	[S_VA_INFO] = "SELECT a.name, va.name, va.policy_json,"
		      " va.policy_version FROM va"
		      " JOIN account a ON a.id = va.account_id"
		      " WHERE va.id = ?1",
	[S_TOKEN_INSERT] = "INSERT INTO token"
			   " (hash, va_id, created, expires, uses_left)"
			   " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TOKEN_GET] = "SELECT va_id, expires, uses_left FROM token"
			" WHERE hash = ?1",
	[S_TOKEN_USE] = "UPDATE token SET uses_left = uses_left - 1"
			" WHERE hash = ?1 AND uses_left > 0",
	[S_PURCHASE_PUT] = "INSERT INTO purchase (va_id, tag, count, updated)"
			   " VALUES (?1, ?2, ?3, ?4)"
			   " ON CONFLICT (va_id, tag) DO UPDATE"
			   " SET count = excluded.count,"
			   " updated = excluded.updated",
	[S_PURCHASE_LIST] = "SELECT tag, count FROM purchase WHERE va_id = ?1",
	[S_POLICY_PUT] = "UPDATE va SET policy_json = ?2,"
			 " policy_version = policy_version + 1,"
			 " policy_set = ?3 WHERE id = ?1",
	[S_DEVICE_GET] = "SELECT id, va_id, public_key, key_id FROM device"
			 " WHERE pid = ?1 AND sn = ?2",
	[S_DEVICE_INSERT] = "INSERT INTO device (pid, sn, va_id, public_key,"
			    " key_id, trust_code, trusted, policy_sent)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_DEVICE_REBIND] = "UPDATE device SET va_id = ?2, public_key = ?3,"
			    " key_id = ?4, trust_code = ?5, trusted = ?6,"
			    " policy_sent = ?7 WHERE id = ?1",
	[S_DEVICE_POLICY_SENT] = "UPDATE device SET policy_sent = ?2"
				 " WHERE id = ?1",
	[S_DEVICE_POLICY_STATE] = "SELECT d.policy_sent, va.policy_version"
				  " FROM device d JOIN va ON va.id = d.va_id"
				  " WHERE d.id = ?1",
	[S_REPORT_GET] = "SELECT id, ack_policy FROM report"
			 " WHERE device_id = ?1 AND report_id = ?2",
	[S_REPORT_INSERT] = "INSERT INTO report (device_id, report_id,"
			    " created, received, release, hostname, ha_group,"
			    " ha_role, envelope)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_REPORT_ACKED] = "UPDATE report"
			   " SET acked_at = coalesce(acked_at, ?2),"
			   " ack_policy = coalesce(?3, ack_policy)"
			   " WHERE id = ?1",
	[S_RECORD_GET] = "SELECT tag, period_start, period_end, count"
			 " FROM record WHERE device_id = ?1 AND record_id = ?2",
	[S_RECORD_INSERT] = "INSERT INTO record (device_id, record_id, report,"
			    " tag, period_start, period_end, count)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_DEVICE_LIST] = "SELECT d.id, d.pid, d.sn, d.key_id, d.trusted,"
			  " (SELECT count(*) FROM report r"
			  "  WHERE r.device_id = d.id),"
			  " (SELECT max(received) FROM report r"
			  "  WHERE r.device_id = d.id)"
			  " FROM device d WHERE d.va_id = ?1"
			  " ORDER BY d.pid, d.sn",
	[S_LATEST_REPORT] = "SELECT release, hostname, ha_group, ha_role"
			    " FROM report WHERE device_id = ?1"
			    " ORDER BY created DESC, id DESC LIMIT 1",
	[S_LATEST_RECORD] = "SELECT count FROM record"
			    " WHERE device_id = ?1 AND tag = ?2"
			    " ORDER BY period_end DESC, period_start DESC,"
			    " report DESC LIMIT 1",
};

struct lsrv_store {
	sqlite3 *db;
	sqlite3_stmt *q[S_COUNT];
};

bool lsrv_name_ok(const char *s)
{
	return lic_wire_name_ok(s, LSRV_NAME_MAX);
}

/* The outcome of a db_ helper: BUSY when the failure was a lock. */
static enum lsrv_st st_of(int rc)
{
	if (rc == 0)
		return LSRV_ST_OK;
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? LSRV_ST_BUSY
						       : LSRV_ST_ERROR;
}

/* The reason of the last SQLite failure, prefixed with what was done. */
static enum lsrv_st db_failed(struct lsrv_store *st, char *err,
			      size_t errlen, const char *what)
{
	return st_of(db_fail(st->db, what, err, errlen));
}

/* Step a statement that returns no row. */
static enum lsrv_st run(struct lsrv_store *st, enum stmt s, char *err,
			size_t errlen, const char *what)
{
	return st_of(db_run(st->q[s], what, err, errlen));
}

/* Step the one-row query q: OK on its row (read it, then db_done() q),
 * NOT_FOUND when there is none (no reason given), else the failure. */
static enum lsrv_st one_row(sqlite3_stmt *q, const char *what, char *err,
			    size_t errlen)
{
	int rc = db_step(q, what, err, errlen);

	if (rc == SQLITE_ROW)
		return LSRV_ST_OK;
	return rc == SQLITE_DONE ? LSRV_ST_NOT_FOUND : st_of(rc);
}

/* The int64 columns [0, n) of the one row of the bound query q, then
 * db_done() q; NOT_FOUND with `missing` in err when there is none. */
static enum lsrv_st int_row(sqlite3_stmt *q, const char *what,
			    const char *missing, int64_t *col, int n,
			    char *err, size_t errlen)
{
	enum lsrv_st r = one_row(q, what, err, errlen);
	int i;

	if (r == LSRV_ST_OK)
		for (i = 0; i < n; i++)
			col[i] = sqlite3_column_int64(q, i);
	else if (r == LSRV_ST_NOT_FOUND)
		err_set(err, errlen, "%s", missing);
	db_done(q);
	return r;
}

static enum lsrv_st txn_begin(struct lsrv_store *st, bool write, char *err,
			      size_t errlen)
{
	return st_of(db_begin(st->db, write, err, errlen));
}

/* Commit on OK, else roll back; returns the outcome. */
static enum lsrv_st txn_end(struct lsrv_store *st, enum lsrv_st r, char *err,
			    size_t errlen)
{
	if (r == LSRV_ST_OK)
		return st_of(db_commit(st->db, err, errlen));
	db_rollback(st->db);
	return r;
}

struct lsrv_store *lsrv_store_open(const char *path, char *err,
				   size_t errlen)
{
	struct lsrv_store *st;

	st = err_calloc(1, sizeof(*st), err, errlen);
	if (st == NULL)
		return NULL;
	st->db = db_open(path, err, errlen);
	if (st->db == NULL)
		goto out_free;
	/*
	 * FULL: the WAL is synced at every commit, so a report is on disk
	 * (not only in the OS cache) before the ACK for it is sent. The
	 * busy timeout lets the admin CLI and the server share the file.
	 */
	sqlite3_busy_timeout(st->db, 5000);
	if (db_exec(st->db, "PRAGMA synchronous=FULL;", err, errlen) != 0 ||
	    db_schema(st->db, schema, "lsrv_meta", LSRV_STORE_SCHEMA_VERSION,
		      "licd store", err, errlen) != 0 ||
	    db_prepare_all(st->db, stmt_sql, st->q, S_COUNT,
			   "preparing licd store", err, errlen) != 0)
		goto out_free;
	return st;
out_free:
	lsrv_store_free(&st);
	return NULL;
}

void lsrv_store_free(struct lsrv_store **pst)
{
	if (pst == NULL || *pst == NULL)
		return;
	db_finalize_all((*pst)->q, S_COUNT);
	db_close(&(*pst)->db);
	free(*pst);
	*pst = NULL;
}

/* ---- administration ---------------------------------------------------- */

enum lsrv_st lsrv_store_account_create(struct lsrv_store *st,
				       const char *account, int64_t now,
				       char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_ACCOUNT_INSERT];
	enum lsrv_st r = LSRV_ST_OK;
	int rc;

	if (!lsrv_name_ok(account)) {
		err_set(err, errlen,
			"account name must be 1..%d of [A-Za-z0-9._:-]",
			LSRV_NAME_MAX);
		return LSRV_ST_INVALID;
	}
	sqlite3_bind_text(q, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		err_set(err, errlen, "account %s already exists", account);
		r = LSRV_ST_EXISTS;
	} else if (rc != SQLITE_DONE) {
		r = db_failed(st, err, errlen, "creating account");
	}
	db_done(q);
	return r;
}

/* The id of an account, or NOT_FOUND. */
static enum lsrv_st account_find(struct lsrv_store *st, const char *account,
				 int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_ACCOUNT_GET];
	enum lsrv_st r;

	sqlite3_bind_text(q, 1, account, -1, SQLITE_STATIC);
	r = one_row(q, "reading accounts", err, errlen);
	if (r == LSRV_ST_OK)
		*id = sqlite3_column_int64(q, 0);
	else if (r == LSRV_ST_NOT_FOUND)
		err_set(err, errlen, "no account %.64s", account);
	db_done(q);
	return r;
}

enum lsrv_st lsrv_store_va_create(struct lsrv_store *st, const char *account,
				  const char *va, int64_t now, char *err,
				  size_t errlen)
{
	sqlite3_stmt *q = st->q[S_VA_INSERT];
	int64_t aid = 0;
	enum lsrv_st r;
	int rc;

	if (!lsrv_name_ok(va)) {
		err_set(err, errlen,
			"virtual account name must be 1..%d of "
			"[A-Za-z0-9._:-]",
			LSRV_NAME_MAX);
		return LSRV_ST_INVALID;
	}
	r = txn_begin(st, true, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	r = account_find(st, account, &aid, err, errlen);
	if (r != LSRV_ST_OK)
		goto out;
	sqlite3_bind_int64(q, 1, aid);
	sqlite3_bind_text(q, 2, va, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	rc = sqlite3_step(q);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		err_set(err, errlen, "virtual account %s/%s already exists",
			account, va);
		r = LSRV_ST_EXISTS;
	} else if (rc != SQLITE_DONE) {
		r = db_failed(st, err, errlen, "creating virtual account");
	}
	db_done(q);
out:
	return txn_end(st, r, err, errlen);
}

enum lsrv_st lsrv_store_va_find(struct lsrv_store *st, const char *account,
				const char *va, int64_t *va_id, char *err,
				size_t errlen)
{
	sqlite3_stmt *q = st->q[S_VA_GET];
	int64_t aid = 0;
	enum lsrv_st r;

	r = account_find(st, account, &aid, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	sqlite3_bind_int64(q, 1, aid);
	sqlite3_bind_text(q, 2, va, -1, SQLITE_STATIC);
	r = one_row(q, "reading virtual accounts", err, errlen);
	if (r == LSRV_ST_OK)
		*va_id = sqlite3_column_int64(q, 0);
	else if (r == LSRV_ST_NOT_FOUND)
		err_set(err, errlen,
			"no virtual account %.64s in account %.64s", va,
			account);
	db_done(q);
	return r;
}

enum lsrv_st lsrv_store_token_add(struct lsrv_store *st, int64_t va_id,
				  const char *hash, int64_t now,
				  int64_t expires, int64_t uses, char *err,
				  size_t errlen)
{
	sqlite3_stmt *q = st->q[S_TOKEN_INSERT];

	if (hash == NULL || strlen(hash) != LSRV_TOKEN_HASH_LEN ||
	    expires <= now || uses <= 0) {
		err_set(err, errlen, "bad token arguments");
		return LSRV_ST_INVALID;
	}
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, va_id);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, expires);
	sqlite3_bind_int64(q, 5, uses);
	return run(st, S_TOKEN_INSERT, err, errlen, "storing token");
}

enum lsrv_st lsrv_store_purchase_set(struct lsrv_store *st, int64_t va_id,
				     enum lic_tag tag, int64_t count,
				     int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_PURCHASE_PUT];

	if (lic_tag_name(tag) == NULL || count < 0 || count > LIC_COUNT_MAX) {
		err_set(err, errlen, "purchase: bad tag or count (0..%lld)",
			LIC_COUNT_MAX);
		return LSRV_ST_INVALID;
	}
	if (tag == LIC_TAG_VGW) {
		err_set(err, errlen,
			"CUBE_T_VGW is not purchased: its Purchased always "
			"equals In Use");
		return LSRV_ST_INVALID;
	}
	sqlite3_bind_int64(q, 1, va_id);
	sqlite3_bind_int64(q, 2, (int64_t)tag);
	sqlite3_bind_int64(q, 3, count);
	sqlite3_bind_int64(q, 4, now);
	return run(st, S_PURCHASE_PUT, err, errlen, "storing purchase");
}

enum lsrv_st lsrv_store_policy_set(struct lsrv_store *st, int64_t va_id,
				   const char *policy_json, int64_t now,
				   char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_POLICY_PUT];
	struct lic_policy p;
	char *text;
	enum lsrv_st r = LSRV_ST_OK;

	if (policy_json == NULL ||
	    lic_policy_parse(policy_json, strlen(policy_json), &p, err,
			     errlen) != 0)
		return LSRV_ST_INVALID;
	/* The full form: every value with its source, as devices show it. */
	text = lic_policy_to_json(&p);
	if (text == NULL) {
		err_set(err, errlen, "policy: cannot serialize");
		return LSRV_ST_INVALID;
	}
	sqlite3_bind_int64(q, 1, va_id);
	sqlite3_bind_text(q, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	if (sqlite3_step(q) != SQLITE_DONE)
		r = db_failed(st, err, errlen, "storing policy");
	else if (sqlite3_changes(st->db) != 1) {
		err_set(err, errlen, "no such virtual account");
		r = LSRV_ST_NOT_FOUND;
	}
	db_done(q);
	free(text);
	return r;
}

/*
 * Account and va names, policy text (customer's, or the Cisco default:
 * version 0) of va_id. *json is the caller's (may be NULL: not wanted).
 */
static enum lsrv_st va_info(struct lsrv_store *st, int64_t va_id,
			    char account[LSRV_NAME_MAX + 1],
			    char va[LSRV_NAME_MAX + 1], char **json,
			    int64_t *version, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_VA_INFO];
	enum lsrv_st r = LSRV_ST_OK;
	const unsigned char *pj;
	struct lic_policy def;

	if (json != NULL)
		*json = NULL;
	sqlite3_bind_int64(q, 1, va_id);
	r = one_row(q, "reading virtual account", err, errlen);
	if (r == LSRV_ST_NOT_FOUND)
		err_set(err, errlen, "no such virtual account");
	if (r != LSRV_ST_OK)
		goto out;
	if (account != NULL)
		db_column_text(q, 0, account, LSRV_NAME_MAX + 1);
	if (va != NULL)
		db_column_text(q, 1, va, LSRV_NAME_MAX + 1);
	if (version != NULL)
		*version = sqlite3_column_int64(q, 3);
	if (json == NULL)
		goto out;
	pj = sqlite3_column_text(q, 2);
	if (pj != NULL) {
		*json = strdup((const char *)pj);
	} else {
		lic_policy_default(&def);
		*json = lic_policy_to_json(&def);
	}
	if (*json == NULL) {
		err_set(err, errlen, "out of memory");
		r = LSRV_ST_ERROR;
	}
out:
	db_done(q);
	return r;
}

enum lsrv_st lsrv_store_policy_get(struct lsrv_store *st, int64_t va_id,
				   char **json, int64_t *version, char *err,
				   size_t errlen)
{
	return va_info(st, va_id, NULL, NULL, json, version, err, errlen);
}

/* ---- trust ------------------------------------------------------------- */

/*
 * The va a token is good for, its use consumed. Inside a write
 * transaction. BAD_TOKEN: unknown, expired (now >= expires) or used up.
 */
static enum lsrv_st token_use(struct lsrv_store *st, const char *hash,
			      int64_t now, int64_t *va_id, char *err,
			      size_t errlen)
{
	sqlite3_stmt *q = st->q[S_TOKEN_GET];
	int64_t row[3]; /* va_id, expires, uses */
	enum lsrv_st r;

	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	r = int_row(q, "reading tokens", "unknown token", row, 3, err, errlen);
	if (r == LSRV_ST_NOT_FOUND)
		return LSRV_ST_BAD_TOKEN;
	if (r != LSRV_ST_OK)
		return r;
	*va_id = row[0];
	if (now >= row[1]) {
		err_set(err, errlen, "token expired");
		return LSRV_ST_BAD_TOKEN;
	}
	if (row[2] <= 0) {
		err_set(err, errlen, "token used up");
		return LSRV_ST_BAD_TOKEN;
	}
	sqlite3_bind_text(st->q[S_TOKEN_USE], 1, hash, -1, SQLITE_STATIC);
	return run(st, S_TOKEN_USE, err, errlen, "using token");
}

static enum lsrv_st device_get(struct lsrv_store *st,
			       const struct lic_udi *udi,
			       struct lsrv_device *d, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_DEVICE_GET];
	enum lsrv_st r = LSRV_ST_OK;

	memset(d, 0, sizeof(*d));
	sqlite3_bind_text(q, 1, udi->pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, udi->sn, -1, SQLITE_STATIC);
	r = one_row(q, "reading devices", err, errlen);
	if (r == LSRV_ST_OK) {
		d->id = sqlite3_column_int64(q, 0);
		d->va_id = sqlite3_column_int64(q, 1);
		snprintf(d->pid, sizeof(d->pid), "%s", udi->pid);
		snprintf(d->sn, sizeof(d->sn), "%s", udi->sn);
		db_column_text(q, 2, d->public_key, sizeof(d->public_key));
		db_column_text(q, 3, d->key_id, sizeof(d->key_id));
	} else if (r == LSRV_ST_NOT_FOUND) {
		err_set(err, errlen, "no trust for PID:%.64s,SN:%.64s",
			udi->pid, udi->sn);
	}
	db_done(q);
	return r;
}

enum lsrv_st lsrv_store_device_find(struct lsrv_store *st,
				    const struct lic_udi *udi,
				    struct lsrv_device *out, char *err,
				    size_t errlen)
{
	if (st == NULL || udi == NULL || udi->pid == NULL || udi->sn == NULL ||
	    out == NULL) {
		err_set(err, errlen, "device: missing argument");
		return LSRV_ST_INVALID;
	}
	return device_get(st, udi, out, err, errlen);
}

enum lsrv_st lsrv_store_trust(struct lsrv_store *st,
			      const struct lsrv_trust_in *in,
			      struct lsrv_trust_out *out, char *err,
			      size_t errlen)
{
	struct lsrv_device d;
	int64_t va_id = 0, version = 0;
	enum lsrv_st r;
	enum stmt s;
	sqlite3_stmt *q;
	int k;

	memset(out, 0, sizeof(*out));
	if (in == NULL || in->token_hash == NULL || in->udi.pid == NULL ||
	    in->udi.sn == NULL || in->public_key_b64 == NULL ||
	    in->key_id == NULL || in->trust_code == NULL) {
		err_set(err, errlen, "trust: bad arguments");
		return LSRV_ST_INVALID;
	}
	if (strlen(in->public_key_b64) > LSRV_PUBKEY_B64_MAX) {
		err_set(err, errlen, "public_key longer than %d characters",
			LSRV_PUBKEY_B64_MAX);
		return LSRV_ST_INVALID;
	}
	r = txn_begin(st, true, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	r = token_use(st, in->token_hash, in->now, &va_id, err, errlen);
	if (r != LSRV_ST_OK)
		goto out;
	r = device_get(st, &in->udi, &d, err, errlen);
	if (r != LSRV_ST_OK && r != LSRV_ST_NOT_FOUND)
		goto out;
	if (r == LSRV_ST_OK && strcmp(d.key_id, in->key_id) != 0) {
		if (!in->force) {
			err_set(err, errlen,
				"PID:%.64s,SN:%.64s is bound to another key "
				"(%.16s...); use force to rebind",
				in->udi.pid, in->udi.sn, d.key_id);
			r = LSRV_ST_UDI_BOUND;
			goto out;
		}
		out->rebound = true;
	}
	r = va_info(st, va_id, out->account, out->va, &out->policy_json,
		    &version, err, errlen);
	if (r != LSRV_ST_OK)
		goto out;
	/* The trust answer carries the va's policy: the device has it. */
	s = d.id != 0 ? S_DEVICE_REBIND : S_DEVICE_INSERT;
	q = st->q[s];
	/* The device's row (REBIND) or its UDI (INSERT), then the same
	 * columns from parameter k on. */
	if (s == S_DEVICE_REBIND) {
		sqlite3_bind_int64(q, 1, d.id);
		k = 2;
	} else {
		sqlite3_bind_text(q, 1, in->udi.pid, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, in->udi.sn, -1, SQLITE_STATIC);
		k = 3;
	}
	sqlite3_bind_int64(q, k, va_id);
	sqlite3_bind_text(q, k + 1, in->public_key_b64, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, k + 2, in->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, k + 3, in->trust_code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, k + 4, in->now);
	sqlite3_bind_int64(q, k + 5, version);
	r = run(st, s, err, errlen, "binding device");
	if (r == LSRV_ST_OK && in->seal != NULL &&
	    in->seal(in->seal_arg, out, err, errlen) != 0)
		r = LSRV_ST_SEAL;
out:
	r = txn_end(st, r, err, errlen);
	if (r != LSRV_ST_OK) {
		free(out->policy_json);
		memset(out, 0, sizeof(*out));
	}
	return r;
}

/* ---- usage ------------------------------------------------------------- */

/* The row id and ack_policy (-1: NULL) of a held report, or NOT_FOUND. */
static enum lsrv_st report_get(struct lsrv_store *st, int64_t device_id,
			       const char *report_id, int64_t *row,
			       int64_t *ack_policy, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_REPORT_GET];
	enum lsrv_st r = LSRV_ST_OK;

	sqlite3_bind_int64(q, 1, device_id);
	sqlite3_bind_text(q, 2, report_id, -1, SQLITE_STATIC);
	r = one_row(q, "reading reports", err, errlen);
	if (r == LSRV_ST_OK) {
		*row = sqlite3_column_int64(q, 0);
		*ack_policy = sqlite3_column_type(q, 1) == SQLITE_NULL
				      ? -1
				      : sqlite3_column_int64(q, 1);
	}
	db_done(q);
	return r;
}

/*
 * Insert one record, or compare it with the one held under its id.
 * *outcome: 0 new, 1 duplicate, 2 conflict (held differs; kept).
 */
static enum lsrv_st record_put(struct lsrv_store *st, int64_t device_id,
			       int64_t report_row,
			       const struct lic_usage_record *rec,
			       int *outcome, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_RECORD_GET];
	enum lsrv_st r = LSRV_ST_OK;
	int rc;

	sqlite3_bind_int64(q, 1, device_id);
	sqlite3_bind_text(q, 2, rec->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		bool same = sqlite3_column_int64(q, 0) == (int64_t)rec->tag &&
			    sqlite3_column_int64(q, 1) == rec->start_s &&
			    sqlite3_column_int64(q, 2) == rec->end_s &&
			    sqlite3_column_int64(q, 3) == rec->count;

		*outcome = same ? 1 : 2;
	} else if (rc != SQLITE_DONE) {
		r = db_failed(st, err, errlen, "reading records");
	}
	db_done(q);
	if (r != LSRV_ST_OK || rc == SQLITE_ROW)
		return r;
	*outcome = 0;
	q = st->q[S_RECORD_INSERT];
	sqlite3_bind_int64(q, 1, device_id);
	sqlite3_bind_text(q, 2, rec->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, report_row);
	sqlite3_bind_int64(q, 4, (int64_t)rec->tag);
	sqlite3_bind_int64(q, 5, rec->start_s);
	sqlite3_bind_int64(q, 6, rec->end_s);
	sqlite3_bind_int64(q, 7, rec->count);
	return run(st, S_RECORD_INSERT, err, errlen, "storing record");
}

static enum lsrv_st report_put(struct lsrv_store *st,
			       const struct lsrv_device *dev,
			       const struct lsrv_report_in *in, int64_t now,
			       int64_t *row, struct lsrv_intake_result *res,
			       char *err, size_t errlen)
{
	const struct lic_report_info *ri = in->info;
	sqlite3_stmt *q = st->q[S_REPORT_INSERT];
	int64_t ackpol;
	enum lsrv_st r;
	size_t i;
	int outcome = 0;

	r = report_get(st, dev->id, ri->report_id, row, &ackpol, err, errlen);
	if (r == LSRV_ST_OK) {
		res->dup_reports++;
		return LSRV_ST_OK;
	}
	if (r != LSRV_ST_NOT_FOUND)
		return r;
	sqlite3_bind_int64(q, 1, dev->id);
	sqlite3_bind_text(q, 2, ri->report_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, ri->created_s);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_text(q, 5, ri->release, -1, SQLITE_STATIC);
	if (ri->hostname != NULL)
		sqlite3_bind_text(q, 6, ri->hostname, -1, SQLITE_STATIC);
	if (ri->ha_group != NULL && ri->ha_group[0] != '\0')
		sqlite3_bind_text(q, 7, ri->ha_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, lic_ha_role_name(ri->ha_role), -1,
			  SQLITE_STATIC);
	sqlite3_bind_blob(q, 9, in->envelope, (int)in->len, SQLITE_STATIC);
	r = run(st, S_REPORT_INSERT, err, errlen, "storing report");
	if (r != LSRV_ST_OK)
		return r;
	*row = sqlite3_last_insert_rowid(st->db);
	res->new_reports++;
	for (i = 0; i < ri->nrecords; i++) {
		r = record_put(st, dev->id, *row, &ri->records[i], &outcome,
			       err, errlen);
		if (r != LSRV_ST_OK)
			return r;
		if (outcome == 0)
			res->new_records++;
		else if (outcome == 1)
			res->dup_records++;
		else
			res->conflict_records++;
	}
	return LSRV_ST_OK;
}

/*
 * Mark reports rows[0..n) acknowledged now and decide whether the ACK
 * carries the va policy: when the device has not had the va's current
 * policy version yet, or when an earlier ACK of one of these reports
 * carried it (that ACK may have been lost; this one replaces it). Inside
 * a write transaction. *policy_json (caller frees) or NULL.
 */
static enum lsrv_st ack_mark(struct lsrv_store *st,
			     const struct lsrv_device *dev,
			     const int64_t *rows, const int64_t *ackpol,
			     size_t n, int64_t now, char **policy_json,
			     char *err, size_t errlen)
{
	sqlite3_stmt *q = st->q[S_DEVICE_POLICY_STATE];
	int64_t row[2], version; /* policy version sent, current */
	bool include;
	enum lsrv_st r;
	size_t i;

	*policy_json = NULL;
	sqlite3_bind_int64(q, 1, dev->id);
	r = int_row(q, "reading device", "device vanished", row, 2, err,
		    errlen);
	if (r != LSRV_ST_OK)
		return r;
	version = row[1];
	include = row[0] != version;
	for (i = 0; i < n && !include; i++)
		include = ackpol[i] == version;
	if (include) {
		r = va_info(st, dev->va_id, NULL, NULL, policy_json, NULL, err,
			    errlen);
		if (r != LSRV_ST_OK)
			return r;
		q = st->q[S_DEVICE_POLICY_SENT];
		sqlite3_bind_int64(q, 1, dev->id);
		sqlite3_bind_int64(q, 2, version);
		r = run(st, S_DEVICE_POLICY_SENT, err, errlen,
			"marking policy sent");
	}
	for (i = 0; i < n && r == LSRV_ST_OK; i++) {
		q = st->q[S_REPORT_ACKED];
		sqlite3_bind_int64(q, 1, rows[i]);
		sqlite3_bind_int64(q, 2, now);
		if (include)
			sqlite3_bind_int64(q, 3, version);
		r = run(st, S_REPORT_ACKED, err, errlen, "marking ACK");
	}
	if (r != LSRV_ST_OK) {
		free(*policy_json);
		*policy_json = NULL;
	}
	return r;
}

/*
 * The write transaction of an intake or an ACK poll of n reports, with
 * *rows for their row ids (rows[0..n)) and *ackpol, the held ack_policy
 * (rows[n..2n)); *rows the caller's to free when OK. args_ok: the
 * caller's own arguments are sound; "<what>: bad arguments" if not.
 */
static enum lsrv_st batch_begin(struct lsrv_store *st, bool args_ok,
				const char *what, size_t n, int64_t **rows,
				int64_t **ackpol, char *err, size_t errlen)
{
	enum lsrv_st r;

	if (st == NULL || !args_ok || n == 0 || n > LIC_ACK_MAX_IDS) {
		err_set(err, errlen, "%s: bad arguments", what);
		return LSRV_ST_INVALID;
	}
	*rows = err_calloc(2 * n, sizeof(**rows), err, errlen);
	if (*rows == NULL)
		return LSRV_ST_ERROR;
	*ackpol = *rows + n;
	r = txn_begin(st, true, err, errlen);
	if (r != LSRV_ST_OK) {
		free(*rows);
		*rows = NULL;
	}
	return r;
}

enum lsrv_st lsrv_store_intake(struct lsrv_store *st,
			       const struct lsrv_device *dev,
			       const struct lsrv_report_in *in, size_t n,
			       int64_t now, bool ack,
			       struct lsrv_intake_result *res, char *err,
			       size_t errlen)
{
	int64_t *rows, *ackpol;
	enum lsrv_st r;
	size_t i;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	r = batch_begin(st, dev != NULL && in != NULL && res != NULL, "intake",
			n, &rows, &ackpol, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	for (i = 0; i < n && r == LSRV_ST_OK; i++) {
		/* ack_policy as held before this intake (-1: none). */
		ackpol[i] = -1;
		r = report_get(st, dev->id, in[i].info->report_id, &rows[i],
			       &ackpol[i], err, errlen);
		if (r == LSRV_ST_NOT_FOUND)
			r = LSRV_ST_OK;
		if (r == LSRV_ST_OK)
			r = report_put(st, dev, &in[i], now, &rows[i], res, err,
				       errlen);
	}
	if (r == LSRV_ST_OK && ack)
		r = ack_mark(st, dev, rows, ackpol, n, now, &res->policy_json,
			     err, errlen);
	r = txn_end(st, r, err, errlen);
	if (r != LSRV_ST_OK) {
		free(res->policy_json);
		memset(res, 0, sizeof(*res));
	}
	free(rows);
	return r;
}

enum lsrv_st lsrv_store_ack_poll(struct lsrv_store *st,
				 const struct lsrv_device *dev,
				 const char *const *ids, size_t n, int64_t now,
				 const char **held, size_t *nheld,
				 char **policy_json, char *err, size_t errlen)
{
	int64_t *rows, *ackpol;
	enum lsrv_st r;
	size_t i, k = 0;

	*nheld = 0;
	*policy_json = NULL;
	r = batch_begin(st, dev != NULL && ids != NULL && held != NULL,
			"ack poll", n, &rows, &ackpol, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	for (i = 0; i < n && r == LSRV_ST_OK; i++) {
		r = report_get(st, dev->id, ids[i], &rows[k], &ackpol[k], err,
			       errlen);
		if (r == LSRV_ST_OK)
			held[k++] = ids[i];
		else if (r == LSRV_ST_NOT_FOUND)
			r = LSRV_ST_OK;
	}
	if (r == LSRV_ST_OK && k > 0)
		r = ack_mark(st, dev, rows, ackpol, k, now, policy_json, err,
			     errlen);
	r = txn_end(st, r, err, errlen);
	if (r == LSRV_ST_OK) {
		*nheld = k;
	} else {
		free(*policy_json);
		*policy_json = NULL;
	}
	free(rows);
	return r;
}

/* ---- listings ---------------------------------------------------------- */

/* The latest-report fields and latest record counts of one device. */
static enum lsrv_st device_latest(struct lsrv_store *st, int64_t device_id,
				  struct lsrv_device_row *row, char *err,
				  size_t errlen)
{
	sqlite3_stmt *q = st->q[S_LATEST_REPORT];
	enum lsrv_st r = LSRV_ST_OK;
	int rc, t;

	sqlite3_bind_int64(q, 1, device_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		db_column_text(q, 0, row->release, sizeof(row->release));
		db_column_text(q, 1, row->hostname, sizeof(row->hostname));
		db_column_text(q, 2, row->ha_group, sizeof(row->ha_group));
		db_column_text(q, 3, row->ha_role, sizeof(row->ha_role));
	} else if (rc != SQLITE_DONE) {
		r = db_failed(st, err, errlen, "reading reports");
	}
	db_done(q);
	q = st->q[S_LATEST_RECORD];
	for (t = 0; t < LIC_TAG_COUNT && r == LSRV_ST_OK; t++) {
		sqlite3_bind_int64(q, 1, device_id);
		sqlite3_bind_int64(q, 2, t);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			row->has[t] = true;
			row->latest[t] = sqlite3_column_int64(q, 0);
		} else if (rc != SQLITE_DONE) {
			r = db_failed(st, err, errlen, "reading records");
		}
		db_done(q);
	}
	return r;
}

enum lsrv_st lsrv_store_devices(struct lsrv_store *st, int64_t va_id,
				struct lsrv_device_row **rows, size_t *n,
				int64_t purchased[LIC_TAG_COUNT], char *err,
				size_t errlen)
{
	sqlite3_stmt *q;
	struct lsrv_device_row *v = NULL;
	int64_t *ids = NULL;
	size_t cnt = 0, cap = 0, i;
	enum lsrv_st r;
	int rc, t;

	*rows = NULL;
	*n = 0;
	for (t = 0; t < LIC_TAG_COUNT; t++)
		purchased[t] = 0;
	/* One read transaction: a consistent snapshot of the va. */
	r = txn_begin(st, false, err, errlen);
	if (r != LSRV_ST_OK)
		return r;
	q = st->q[S_PURCHASE_LIST];
	sqlite3_bind_int64(q, 1, va_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t tag = sqlite3_column_int64(q, 0);

		if (tag >= 0 && tag < LIC_TAG_COUNT)
			purchased[tag] = sqlite3_column_int64(q, 1);
	}
	if (rc != SQLITE_DONE)
		r = db_failed(st, err, errlen, "reading purchases");
	db_done(q);
	q = st->q[S_DEVICE_LIST];
	sqlite3_bind_int64(q, 1, va_id);
	while (r == LSRV_ST_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct lsrv_device_row *nv =
				realloc(v, ncap * sizeof(*v));
			int64_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (nv != NULL)
				v = nv;
			if (nids != NULL)
				ids = nids;
			if (nv == NULL || nids == NULL) {
				err_set(err, errlen, "out of memory");
				r = LSRV_ST_ERROR;
				break;
			}
			cap = ncap;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		ids[cnt] = sqlite3_column_int64(q, 0);
		db_column_text(q, 1, v[cnt].pid, sizeof(v[cnt].pid));
		db_column_text(q, 2, v[cnt].sn, sizeof(v[cnt].sn));
		db_column_text(q, 3, v[cnt].key_id, sizeof(v[cnt].key_id));
		v[cnt].trusted = sqlite3_column_int64(q, 4);
		v[cnt].reports = sqlite3_column_int64(q, 5);
		v[cnt].last_report = sqlite3_column_int64(q, 6);
		cnt++;
	}
	if (r == LSRV_ST_OK && rc != SQLITE_DONE)
		r = db_failed(st, err, errlen, "reading devices");
	db_done(q);
	for (i = 0; i < cnt && r == LSRV_ST_OK; i++)
		r = device_latest(st, ids[i], &v[i], err, errlen);
	db_rollback(st->db); /* read only: nothing to commit */
	free(ids);
	if (r != LSRV_ST_OK) {
		free(v);
		return r;
	}
	*rows = v;
	*n = cnt;
	return LSRV_ST_OK;
}
