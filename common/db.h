/*
 * db: the SQLite state store of a daemon (STATE_DIR/<name>.db).
 *
 * One connection per process, used from the main thread only. WAL mode with
 * synchronous=NORMAL: a committed transaction survives a crash or kill -9
 * of the process (not necessarily a power loss), and writers never block
 * readers such as a test or an operator running sqlite3 on the file.
 */
#ifndef SBC_DB_H
#define SBC_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Open (create) the database at path. NULL and a reason in err on failure. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);
void db_close(sqlite3 **db);

/* Run SQL without results (schema, pragmas, BEGIN/COMMIT). 0 or -1 + err. */
int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/*
 * The helpers below serve the stores built on one connection: a table of
 * statements prepared once, transactions, single-row writes. Those that
 * return int return 0, or the SQLite result code of the failure (never 0:
 * a store may tell SQLITE_BUSY from the rest) with its reason in err.
 */

/* "<what>: <reason of db's last failure>" in err (what NULL: the reason
 * alone); its SQLite result code. */
int db_fail(sqlite3 *db, const char *what, char *err, size_t errlen);

/* Prepare sql[i] into q[i] for each i < n whose q[i] is still NULL. On a
 * failure what was prepared stays: db_finalize_all() frees it. */
int db_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **q,
		   size_t n, const char *what, char *err, size_t errlen);
void db_finalize_all(sqlite3_stmt **q, size_t n);

/* Reset q and clear its bindings: texts and blobs are bound SQLITE_STATIC
 * by the stores, so no binding may outlive the call that made it. */
void db_done(sqlite3_stmt *q);

/* Step q for its next row: SQLITE_ROW or SQLITE_DONE, else the failure's
 * code with "<what>: <reason>" in err. q is left for the caller to read
 * and db_done(). */
int db_step(sqlite3_stmt *q, const char *what, char *err, size_t errlen);

/* Step q, a statement that returns no row, then db_done() it. */
int db_run(sqlite3_stmt *q, const char *what, char *err, size_t errlen);

/* BEGIN IMMEDIATE (write: takes the write lock now, so the transaction
 * cannot fail later for a lock) or BEGIN. The reason reads "begin: ...". */
int db_begin(sqlite3 *db, bool write, char *err, size_t errlen);
/* COMMIT; on a failure ("commit: ...") the transaction is rolled back. */
int db_commit(sqlite3 *db, char *err, size_t errlen);
/* Roll back the open transaction, if any; err of the failure stays. */
void db_rollback(sqlite3 *db);

/* Text column col of q's row into buf ("" for NULL), cut to len. */
void db_column_text(sqlite3_stmt *q, int col, char *buf, size_t len);

/*
 * Create the tables of schema (IF NOT EXISTS statements) and check the
 * schema version kept in meta (a table of key TEXT, value INTEGER) under
 * "schema_version": a new store gets version, a store of another version
 * is refused. One transaction; what names the store in the reason.
 */
int db_schema(sqlite3 *db, const char *schema, const char *meta, int version,
	      const char *what, char *err, size_t errlen);

#endif
