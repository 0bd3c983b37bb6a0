#include "common/db.h"

#include "common/err.h"

#include <stdio.h>

int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		err_set(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err_set(err, errlen, "%s: %s", path,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out_close;
	}
	sqlite3_busy_timeout(db, 2000);
	if (db_exec(db,
		    "PRAGMA journal_mode=WAL;"
		    "PRAGMA synchronous=NORMAL;"
		    "PRAGMA foreign_keys=ON;",
		    err, errlen) < 0)
		goto out_close;
	return db;

out_close:
	sqlite3_close(db);
	return NULL;
}

void db_close(sqlite3 **db)
{
	if (db == NULL || *db == NULL)
		return;
	sqlite3_close(*db);
	*db = NULL;
}

int db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_errcode(db);

	if (what != NULL)
		err_set(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	else
		err_set(err, errlen, "%s", sqlite3_errmsg(db));
	return code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE
		       ? SQLITE_ERROR
		       : code;
}

int db_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **q,
		   size_t n, const char *what, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (q[i] != NULL)
			continue;
		if (sqlite3_prepare_v2(db, sql[i], -1, &q[i], NULL) !=
		    SQLITE_OK)
			return db_fail(db, what, err, errlen);
	}
	return 0;
}

void db_finalize_all(sqlite3_stmt **q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_finalize(q[i]);
		q[i] = NULL;
	}
}

void db_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

int db_step(sqlite3_stmt *q, const char *what, char *err, size_t errlen)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	err_set(err, errlen, "%s: %s", what,
		sqlite3_errmsg(sqlite3_db_handle(q)));
	return rc;
}

int db_run(sqlite3_stmt *q, const char *what, char *err, size_t errlen)
{
	int rc = db_step(q, what, err, errlen);

	if (rc == SQLITE_ROW) {
		err_set(err, errlen, "%s: %s", what,
			sqlite3_errmsg(sqlite3_db_handle(q)));
		rc = SQLITE_ERROR;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	}
	db_done(q);
	return rc;
}

/* One statement without results, its failure as "<what>: <reason>". */
static int exec_as(sqlite3 *db, const char *sql, const char *what, char *err,
		   size_t errlen)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	err_set(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return rc;
}

int db_begin(sqlite3 *db, bool write, char *err, size_t errlen)
{
	return exec_as(db, write ? "BEGIN IMMEDIATE" : "BEGIN", "begin", err,
		       errlen);
}

int db_commit(sqlite3 *db, char *err, size_t errlen)
{
	int rc = exec_as(db, "COMMIT", "commit", err, errlen);

	if (rc != 0)
		db_rollback(db);
	return rc;
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

void db_column_text(sqlite3_stmt *q, int col, char *buf, size_t len)
{
	const unsigned char *s = sqlite3_column_text(q, col);

	snprintf(buf, len, "%s", s != NULL ? (const char *)s : "");
}

int db_schema(sqlite3 *db, const char *schema, const char *meta, int version,
	      const char *what, char *err, size_t errlen)
{
	char sql[128], why[64];
	sqlite3_stmt *q = NULL;
	long long have = 0;
	int rc;

	snprintf(why, sizeof(why), "%s schema", what);
	rc = exec_as(db, "BEGIN IMMEDIATE", why, err, errlen);
	if (rc != 0)
		return rc;
	rc = exec_as(db, schema, why, err, errlen);
	if (rc != 0)
		goto out_rollback;
	snprintf(sql, sizeof(sql),
		 "SELECT value FROM %s WHERE key = 'schema_version'", meta);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = db_fail(db, why, err, errlen);
		goto out_rollback;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		have = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	snprintf(why, sizeof(why), "%s schema version", what);
	if (rc == SQLITE_DONE) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (key, value)"
			 " VALUES ('schema_version', %d)",
			 meta, version);
		rc = exec_as(db, sql, why, err, errlen);
		if (rc != 0)
			goto out_rollback;
	} else if (rc != SQLITE_ROW) {
		rc = db_fail(db, why, err, errlen);
		goto out_rollback;
	} else if (have != version) {
		err_set(err, errlen,
			"%s schema version %lld, this build knows %d", what,
			have, version);
		rc = SQLITE_MISMATCH;
		goto out_rollback;
	}
	snprintf(why, sizeof(why), "%s schema", what);
	rc = exec_as(db, "COMMIT", why, err, errlen);
	if (rc == 0)
		return 0;
out_rollback:
	db_rollback(db);
	return rc;
}
