#include "store.h"

#include "db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows older than this many buckets of their table are pruned. */
#define KEEP_FACTOR 2

struct stats_store {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *prune;
	bool in_txn;
	int failed; /* an sqlite error code seen inside the open transaction */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS usage_bucket ("
	" tbl INTEGER NOT NULL,"	/* enum stats_table */
	" start INTEGER NOT NULL,"	/* Unix seconds, UTC */
	" std INTEGER NOT NULL, enh INTEGER NOT NULL, red INTEGER NOT NULL,"
	" vgw INTEGER NOT NULL, agg INTEGER NOT NULL,"
	" PRIMARY KEY (tbl, start)) WITHOUT ROWID;";

struct stats_store *stats_store_new(sqlite3 *db, char *err, size_t errlen)
{
	struct stats_store *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->db = db;
	if (db_exec(db, schema, err, errlen) < 0)
		goto out_free;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO usage_bucket"
			       " (tbl, start, std, enh, red, vgw, agg)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?)",
			       -1, &st->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "DELETE FROM usage_bucket WHERE tbl = ? AND start < ?",
			       -1, &st->prune, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto out_free;
	}
	return st;

out_free:
	stats_store_free(&st);
	return NULL;
}

void stats_store_free(struct stats_store **pst)
{
	struct stats_store *st;

	if (pst == NULL || *pst == NULL)
		return;
	st = *pst;
	if (st->in_txn)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->prune);
	free(st);
	*pst = NULL;
}

int stats_store_load(struct stats_store *st, struct stats *s, char *err,
		     size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = -1;
	int t;

	/*
	 * Each table's window is taken back from its newest row, not from
	 * now: after a long stop the buckets that were still open (the
	 * seconds of the last minute, the minutes of the last hour, the hours
	 * of the last day) must come back so that the first tick closes them.
	 * Reads are by time, so the stop itself shows as empty rows.
	 */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT start, std, enh, red, vgw, agg"
			       " FROM usage_bucket WHERE tbl = ?1 AND start >="
			       " (SELECT MAX(start) FROM usage_bucket"
			       "  WHERE tbl = ?1) - ?2 ORDER BY start",
			       -1, &q, NULL) != SQLITE_OK)
		goto out_err;
	for (t = 0; t < STATS_TABLE_COUNT; t++) {
		int64_t len = stats_table_seconds((enum stats_table)t);
		int64_t rows = (int64_t)stats_table_rows((enum stats_table)t);
		int step;

		sqlite3_reset(q);
		sqlite3_bind_int(q, 1, t);
		sqlite3_bind_int64(q, 2, (rows - 1) * len);
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			uint32_t v[STATS_CLASS_COUNT];
			int c;

			for (c = 0; c < STATS_CLASS_COUNT; c++)
				v[c] = (uint32_t)sqlite3_column_int64(q, c + 1);
			/* A misaligned row cannot come from us: skip it. */
			stats_load(s, (enum stats_table)t,
				   sqlite3_column_int64(q, 0), v);
		}
		if (step != SQLITE_DONE)
			goto out_err;
	}
	rc = 0;
	goto out_finalize;

out_err:
	snprintf(err, errlen, "loading usage tables: %s",
		 sqlite3_errmsg(st->db));
out_finalize:
	sqlite3_finalize(q);
	return rc;
}

int stats_store_begin(struct stats_store *st, char *err, size_t errlen)
{
	st->failed = 0;
	if (db_exec(st->db, "BEGIN", err, errlen) < 0)
		return -1;
	st->in_txn = true;
	return 0;
}

int stats_store_commit(struct stats_store *st, char *err, size_t errlen)
{
	if (!st->in_txn)
		return -1;
	st->in_txn = false;
	if (st->failed) {
		snprintf(err, errlen, "writing usage tables: %s",
			 sqlite3_errstr(st->failed));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (db_exec(st->db, "COMMIT", err, errlen) < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int step_once(struct stats_store *st, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE && !st->failed)
		st->failed = rc;
	return rc == SQLITE_DONE ? 0 : -1;
}

void stats_store_sink(void *arg, enum stats_table table, int64_t start,
		      const uint32_t value[STATS_CLASS_COUNT])
{
	struct stats_store *st = arg;
	int c;

	sqlite3_bind_int(st->insert, 1, (int)table);
	sqlite3_bind_int64(st->insert, 2, start);
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		sqlite3_bind_int64(st->insert, c + 3, value[c]);
	step_once(st, st->insert);
	if (table == STATS_SECONDS)
		return;
	/*
	 * A bucket of this table closed: rows of the table below it that are
	 * out of every window can go (keep twice the window, for safety
	 * against clock steps).
	 */
	sqlite3_bind_int(st->prune, 1, (int)table - 1);
	sqlite3_bind_int64(st->prune, 2,
			   start - KEEP_FACTOR *
					   (int64_t)stats_table_rows(table - 1) *
					   stats_table_seconds(table - 1));
	step_once(st, st->prune);
	if (table == STATS_DAYS) {
		sqlite3_bind_int(st->prune, 1, (int)table);
		sqlite3_bind_int64(st->prune, 2,
				   start - KEEP_FACTOR *
						   (int64_t)stats_table_rows(table) *
						   stats_table_seconds(table));
		step_once(st, st->prune);
	}
}
