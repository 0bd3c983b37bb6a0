#include "stats/store.h"

#include "common/db.h"
#include "common/err.h"
#include "common/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows older than this many buckets of their table are pruned. */
#define KEEP_FACTOR 2

/*
 * Buckets not known to be in the store yet. Every bucket the sink sees is
 * kept here until a commit succeeds. When a tick's transaction fails (disk
 * full, I/O error) it is rolled back, and without this its buckets, a
 * closed minute or hour among them, would be missing from the store for
 * good (and read 0 after the next restart) although the tables in memory
 * have them. So each later tick writes the kept buckets again first, in
 * its own transaction, until one commits; INSERT OR IGNORE makes a second
 * write of a row that did get in harmless. Per table only the newest
 * KEEP_FACTOR windows are kept: older rows would be pruned anyway.
 */
#define PENDING_MAX (KEEP_FACTOR * STATS_MAX_ROWS)

struct pending {
	int64_t start[PENDING_MAX];
	struct stats_bucket bucket[PENDING_MAX];
	size_t first, n; /* a ring: the oldest at first */
};

enum stmt { S_INSERT, S_PRUNE, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
	[S_INSERT] = "INSERT OR IGNORE INTO usage_bucket"
		     " (tbl, start, std, enh, red, vgw, agg,"
		     " max_std, max_enh, max_red, max_vgw, max_agg,"
		     " avg_std, avg_enh, avg_red, avg_vgw, avg_agg)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
		     " ?, ?, ?, ?, ?)",
	[S_PRUNE] = "DELETE FROM usage_bucket WHERE tbl = ? AND start < ?",
};

struct stats_store {
	sqlite3 *db;
	sqlite3_stmt *q[S_COUNT];
	bool in_txn;
	int failed; /* an sqlite error code seen inside the open transaction */
	bool failing; /* the last commit failed */
	struct pending pending[STATS_TABLE_COUNT];
};

/*
 * One row per closed bucket: its value, max and avg per class (struct
 * stats_bucket), in class order std, enh, red, vgw, agg. The max_ and
 * avg_ columns came later: a store made before them gets them added by
 * ALTER TABLE (see add_detail_columns), and its old rows hold NULL there,
 * which loads as max = avg = value.
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS usage_bucket ("
	" tbl INTEGER NOT NULL,"	/* enum stats_table */
	" start INTEGER NOT NULL,"	/* Unix seconds, UTC */
	" std INTEGER NOT NULL, enh INTEGER NOT NULL, red INTEGER NOT NULL,"
	" vgw INTEGER NOT NULL, agg INTEGER NOT NULL,"
	" max_std INTEGER, max_enh INTEGER, max_red INTEGER,"
	" max_vgw INTEGER, max_agg INTEGER,"
	" avg_std INTEGER, avg_enh INTEGER, avg_red INTEGER,"
	" avg_vgw INTEGER, avg_agg INTEGER,"
	" PRIMARY KEY (tbl, start)) WITHOUT ROWID;";

static const char *const detail_columns[2 * STATS_CLASS_COUNT] = {
	"max_std", "max_enh", "max_red", "max_vgw", "max_agg",
	"avg_std", "avg_enh", "avg_red", "avg_vgw", "avg_agg"};

/* Add the max_ and avg_ columns a store from before them lacks. */
static int add_detail_columns(sqlite3 *db, char *err, size_t errlen)
{
	bool have[2 * STATS_CLASS_COUNT] = {false};
	sqlite3_stmt *q = NULL;
	char sql[96];
	size_t i;
	int step;

	if (sqlite3_prepare_v2(db, "PRAGMA table_info(usage_bucket)", -1, &q,
			       NULL) != SQLITE_OK) {
		db_fail(db, NULL, err, errlen);
		return -1;
	}
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 1);

		for (i = 0; name != NULL && i < 2 * STATS_CLASS_COUNT; i++) {
			if (strcmp(name, detail_columns[i]) == 0)
				have[i] = true;
		}
	}
	sqlite3_finalize(q);
	if (step != SQLITE_DONE) {
		db_fail(db, NULL, err, errlen);
		return -1;
	}
	for (i = 0; i < 2 * STATS_CLASS_COUNT; i++) {
		if (have[i])
			continue;
		snprintf(sql, sizeof(sql),
			 "ALTER TABLE usage_bucket ADD COLUMN %s INTEGER",
			 detail_columns[i]);
		if (db_exec(db, sql, err, errlen) < 0)
			return -1;
	}
	return 0;
}

struct stats_store *stats_store_new(sqlite3 *db, char *err, size_t errlen)
{
	struct stats_store *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	st->db = db;
	if (db_exec(db, schema, err, errlen) < 0 ||
	    add_detail_columns(db, err, errlen) < 0)
		goto out_free;
	if (db_prepare_all(db, stmt_sql, st->q, S_COUNT, NULL, err, errlen) !=
	    0)
		goto out_free;
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
		db_rollback(st->db);
	db_finalize_all(st->q, S_COUNT);
	free(st);
	*pst = NULL;
}

/* Column col of the row, or `dflt` when NULL (a row from before max/avg). */
static uint32_t column_or(sqlite3_stmt *q, int col, uint32_t dflt)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		return dflt;
	return (uint32_t)sqlite3_column_int64(q, col);
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
			       "SELECT start, std, enh, red, vgw, agg,"
			       " max_std, max_enh, max_red, max_vgw, max_agg,"
			       " avg_std, avg_enh, avg_red, avg_vgw, avg_agg"
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
			struct stats_bucket b;
			int c;

			for (c = 0; c < STATS_CLASS_COUNT; c++) {
				int mc = c + 1 + STATS_CLASS_COUNT;
				int ac = mc + STATS_CLASS_COUNT;

				b.value[c] =
					(uint32_t)sqlite3_column_int64(q, c + 1);
				b.max[c] = column_or(q, mc, b.value[c]);
				b.avg[c] = column_or(q, ac, b.value[c]);
			}
			/* A misaligned row cannot come from us: skip it. */
			stats_load(s, (enum stats_table)t,
				   sqlite3_column_int64(q, 0), &b);
		}
		if (step != SQLITE_DONE)
			goto out_err;
	}
	rc = 0;
	goto out_finalize;

out_err:
	db_fail(st->db, "loading usage tables", err, errlen);
out_finalize:
	sqlite3_finalize(q);
	return rc;
}

static int step_once(struct stats_store *st, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE && !st->failed)
		st->failed = rc;
	return rc == SQLITE_DONE ? 0 : -1;
}

static void insert_row(struct stats_store *st, enum stats_table table,
		       int64_t start, const struct stats_bucket *bucket);

/* Keep a bucket until a commit succeeds; the oldest goes when full. */
static void pending_add(struct stats_store *st, enum stats_table table,
			int64_t start, const struct stats_bucket *bucket)
{
	struct pending *p = &st->pending[table];
	size_t cap = KEEP_FACTOR * stats_table_rows(table);
	size_t i;

	if (cap > PENDING_MAX)
		cap = PENDING_MAX;
	if (p->n == cap) {
		p->first = (p->first + 1) % PENDING_MAX;
		p->n--;
	}
	i = (p->first + p->n) % PENDING_MAX;
	p->start[i] = start;
	p->bucket[i] = *bucket;
	p->n++;
}

static size_t pending_count(const struct stats_store *st)
{
	size_t n = 0;
	int t;

	for (t = 0; t < STATS_TABLE_COUNT; t++)
		n += st->pending[t].n;
	return n;
}

int stats_store_begin(struct stats_store *st, char *err, size_t errlen)
{
	size_t i;
	int t;

	st->failed = 0;
	if (db_exec(st->db, "BEGIN", err, errlen) < 0)
		return -1;
	st->in_txn = true;
	/* What earlier ticks could not save goes in first, oldest first. */
	for (t = 0; t < STATS_TABLE_COUNT; t++) {
		const struct pending *p = &st->pending[t];

		for (i = 0; i < p->n; i++) {
			size_t k = (p->first + i) % PENDING_MAX;

			insert_row(st, (enum stats_table)t, p->start[k],
				   &p->bucket[k]);
		}
	}
	return 0;
}

int stats_store_commit(struct stats_store *st, char *err, size_t errlen)
{
	size_t kept;
	int t;

	if (!st->in_txn)
		goto out_failed;
	st->in_txn = false;
	if (st->failed) {
		err_set(err, errlen, "writing usage tables: %s",
			sqlite3_errstr(st->failed));
		db_rollback(st->db);
		goto out_failed;
	}
	if (db_exec(st->db, "COMMIT", err, errlen) < 0) {
		db_rollback(st->db);
		goto out_failed;
	}
	kept = pending_count(st);
	for (t = 0; t < STATS_TABLE_COUNT; t++)
		st->pending[t].first = st->pending[t].n = 0;
	if (st->failing)
		log_msg(LOG_LVL_NOTICE, "SBC", "STORE",
			"usage tables saved again (%zu bucket(s) written, "
			"including those closed while the store failed)",
			kept);
	st->failing = false;
	return 0;

out_failed:
	st->failing = true;
	return -1;
}

static void insert_row(struct stats_store *st, enum stats_table table,
		       int64_t start, const struct stats_bucket *bucket)
{
	sqlite3_stmt *q = st->q[S_INSERT];
	int c;

	sqlite3_bind_int(q, 1, (int)table);
	sqlite3_bind_int64(q, 2, start);
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		sqlite3_bind_int64(q, c + 3, bucket->value[c]);
		sqlite3_bind_int64(q, c + 3 + STATS_CLASS_COUNT, bucket->max[c]);
		sqlite3_bind_int64(q, c + 3 + 2 * STATS_CLASS_COUNT,
				   bucket->avg[c]);
	}
	step_once(st, q);
}

/* Drop the rows of table older than KEEP_FACTOR windows before start. */
static void prune(struct stats_store *st, enum stats_table table,
		  int64_t start)
{
	sqlite3_bind_int(st->q[S_PRUNE], 1, (int)table);
	sqlite3_bind_int64(st->q[S_PRUNE], 2,
			   start - KEEP_FACTOR *
					   (int64_t)stats_table_rows(table) *
					   stats_table_seconds(table));
	step_once(st, st->q[S_PRUNE]);
}

void stats_store_sink(void *arg, enum stats_table table, int64_t start,
		      const struct stats_bucket *bucket)
{
	struct stats_store *st = arg;

	pending_add(st, table, start, bucket);
	insert_row(st, table, start, bucket);
	if (table == STATS_SECONDS)
		return;
	/*
	 * A bucket of this table closed: rows of the table below it that are
	 * out of every window can go (keep twice the window, for safety
	 * against clock steps).
	 */
	prune(st, table - 1, start);
	if (table == STATS_DAYS)
		prune(st, table, start);
}
