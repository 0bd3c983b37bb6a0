/*
 * The usage tables in the SQLite state store: what a restart brings back,
 * with frozen time (each test passes now_ms itself).
 */
#include "common/db.h"
#include "stats/stats.h"
#include "stats/store.h"

#include "testdb.h"
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

struct daemon {
	sqlite3 *db;
	struct stats *stats;
	struct stats_store *store;
};

/* What sbcd does at start-up: open, load, sink into the store. */
static void start(struct daemon *d)
{
	char err[256];

	d->db = testdb_open();
	d->stats = stats_new();
	d->store = stats_store_new(d->db, err, sizeof(err));
	ck_assert_msg(d->store != NULL, "%s", err);
	ck_assert_int_eq(stats_store_load(d->store, d->stats, err, sizeof(err)),
			 0);
	stats_set_sink(d->stats, stats_store_sink, d->store);
}

static void stop(struct daemon *d)
{
	stats_store_free(&d->store);
	stats_free(&d->stats);
	db_close(&d->db);
	ck_assert_ptr_null(d->store);
}

/* One sampler tick closing second sec with value x in every class. */
static void tick(struct daemon *d, int64_t sec, uint32_t x)
{
	uint32_t v[STATS_CLASS_COUNT];
	char err[256];
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++)
		v[c] = x;
	ck_assert_int_eq(stats_store_begin(d->store, err, sizeof(err)), 0);
	stats_tick(d->stats, (sec + 1) * 1000 + 50, v);
	ck_assert_msg(stats_store_commit(d->store, err, sizeof(err)) == 0,
		      "%s", err);
}

static uint32_t row(struct daemon *d, enum stats_table t, int64_t now_s,
		    size_t i, bool *valid)
{
	uint32_t v[STATS_MAX_ROWS];
	bool ok[STATS_MAX_ROWS];

	stats_read(d->stats, STATS_AGGREGATE, t, now_s * 1000, v, ok, i + 1);
	if (valid)
		*valid = ok[i];
	return v[i];
}

UNIT_TCASE("core", .setup = testdb_setup, .teardown = testdb_teardown,
	   .timeout = 120);

/*
 * Minutes 0 and 1 full (seconds of value 10 and 20, so top-3 averages 10
 * and 20), then a stop at 2:30 after 30 seconds of value 30. Down until
 * 5:10. After the restart, as of 5:10: minute 4 and 3 empty (down), minute
 * 2 closed from the 30 seconds saved before the stop (30), minutes 1 and 0
 * as before (20, 10).
 */
UNIT_TEST(restart_keeps_minutes_and_shows_gap)
{
	struct daemon d = {0};
	int64_t s;
	bool valid;

	start(&d);
	for (s = 0; s < 60; s++)
		tick(&d, T0 + s, 10);
	for (s = 60; s < 120; s++)
		tick(&d, T0 + s, 20);
	for (s = 120; s < 150; s++)
		tick(&d, T0 + s, 30);
	stop(&d);

	start(&d);
	tick(&d, T0 + 310, 0); /* first tick after the restart, at 5:11 */
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 311, 0, &valid), 0);
	ck_assert(!valid); /* minute 4: down */
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 311, 1, &valid), 0);
	ck_assert(!valid); /* minute 3: down */
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 311, 2, &valid), 30);
	ck_assert(valid);
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 311, 3, NULL), 20);
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 311, 4, NULL), 10);
	/* Seconds: 5:10 (0) is the newest; before it nothing until 2:29. */
	ck_assert_uint_eq(row(&d, STATS_SECONDS, T0 + 311, 0, &valid), 0);
	ck_assert(valid);
	ck_assert_uint_eq(row(&d, STATS_SECONDS, T0 + 311, 1, &valid), 0);
	ck_assert(!valid);
	stop(&d);
}
END_TEST

/*
 * A restart inside the same minute: seconds 0-19 at 5, restart, seconds
 * 20-59 at 1 except second 40 at 9. The minute's top 3 are 9, 5, 5:
 * (19 / 3 = 6.33) -> 6, which needs the seconds from before the restart.
 */
UNIT_TEST(restart_within_a_minute_keeps_its_seconds)
{
	struct daemon d = {0};
	int64_t s;

	start(&d);
	for (s = 0; s < 20; s++)
		tick(&d, T0 + s, 5);
	stop(&d);
	start(&d);
	for (s = 20; s < 60; s++)
		tick(&d, T0 + s, s == 40 ? 9 : 1);
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + 61, 0, NULL), 6);
	stop(&d);
}
END_TEST

/*
 * Hours and days come back too: three hours of minutes valued 7, a
 * restart, and the hours table as of hour 3 shows 7, 7, 7; the day (still
 * open) closes later from those hours.
 */
UNIT_TEST(restart_keeps_hours)
{
	struct daemon d = {0};
	int64_t s;
	bool valid;

	start(&d);
	for (s = 0; s < 3 * 3600; s += 1)
		tick(&d, T0 + s, 7);
	stop(&d);
	start(&d);
	ck_assert_uint_eq(row(&d, STATS_HOURS, T0 + 3 * 3600 + 5, 0, &valid),
			  7);
	ck_assert(valid);
	ck_assert_uint_eq(row(&d, STATS_HOURS, T0 + 3 * 3600 + 5, 2, NULL), 7);
	ck_assert_uint_eq(row(&d, STATS_HOURS, T0 + 3 * 3600 + 5, 3, &valid),
			  0);
	ck_assert(!valid);
	/* The day closes at midnight from the hours, loaded ones included. */
	tick(&d, T0 + 86400 + 1, 0);
	ck_assert_uint_eq(row(&d, STATS_DAYS, T0 + 86400 + 2, 0, &valid), 7);
	ck_assert(valid);
	stop(&d);
}
END_TEST

/* Row i of table t, class AGGREGATE, as value / max / avg. */
static void assert_detail(struct daemon *d, enum stats_table t,
			  int64_t now_s, size_t i, uint32_t value,
			  uint32_t max, uint32_t avg)
{
	uint32_t v[STATS_MAX_ROWS], mx[STATS_MAX_ROWS], av[STATS_MAX_ROWS];
	bool ok[STATS_MAX_ROWS];

	ck_assert_uint_eq(stats_read_detail(d->stats, STATS_AGGREGATE, t,
					    now_s * 1000, v, mx, av, ok, i + 1),
			  i + 1);
	ck_assert_msg(ok[i], "table %d row %zu empty", t, i);
	ck_assert_msg(v[i] == value && mx[i] == max && av[i] == avg,
		      "table %d row %zu: %u/%u/%u, want %u/%u/%u", t, i, v[i],
		      mx[i], av[i], value, max, avg);
}

/*
 * Max and avg survive a restart and keep feeding the roll-ups:
 *   minute 0: seconds 1, except s10 = 9, s20 = 5: value (9 + 5 + 1) / 3
 *             = 5, max 9, avg 72 / 60 = 1.2 -> 1
 *   minute 1: seconds all 2: 2 / 2 / 2
 *   hour 0 (closed by the tick of second 1:00:05 = 4): value (5 + 2) / 2
 *             = 3.5 -> 4, max 9, avg (1 + 2) / 2 = 1.5 -> 2
 * Stop, start: minute 0 and hour 0 read back the same. The first tick after
 * midnight closes minute 60 and hour 1 from the loaded second 1:00:05 (4 /
 * 4 / 4), then day 0 from the loaded hour 0 and hour 1: value max(4, 4) =
 * 4, max 9, avg (2 + 4) / 2 = 3.
 */
UNIT_TEST(restart_keeps_max_and_avg)
{
	struct daemon d = {0};
	int64_t s;

	start(&d);
	for (s = 0; s < 60; s++)
		tick(&d, T0 + s, s == 10 ? 9 : s == 20 ? 5 : 1);
	for (s = 60; s < 120; s++)
		tick(&d, T0 + s, 2);
	tick(&d, T0 + 3605, 4);
	assert_detail(&d, STATS_HOURS, T0 + 3606, 0, 4, 9, 2);
	stop(&d);

	start(&d);
	assert_detail(&d, STATS_HOURS, T0 + 3606, 0, 4, 9, 2);
	assert_detail(&d, STATS_MINUTES, T0 + 3606, 59, 5, 9, 1);
	assert_detail(&d, STATS_MINUTES, T0 + 3606, 58, 2, 2, 2);
	assert_detail(&d, STATS_SECONDS, T0 + 3606, 0, 4, 4, 4);
	tick(&d, T0 + 86400 + 1, 0);
	assert_detail(&d, STATS_HOURS, T0 + 86400 + 2, 22, 4, 4, 4);
	assert_detail(&d, STATS_DAYS, T0 + 86400 + 2, 0, 4, 9, 3);
	stop(&d);

	/* Once more: the day's max and avg come back too. */
	start(&d);
	assert_detail(&d, STATS_DAYS, T0 + 86400 + 2, 0, 4, 9, 3);
	stop(&d);
}
END_TEST

/*
 * A store made before the max and avg columns: they are added, and its
 * rows load as max = avg = value; new rows carry their own.
 */
UNIT_TEST(old_store_gets_max_avg_columns)
{
	struct daemon d = {0};
	char err[256];

	d.db = db_open(testdb_path, err, sizeof(err));
	ck_assert_msg(d.db != NULL, "%s", err);
	ck_assert_int_eq(
		db_exec(d.db,
			"CREATE TABLE usage_bucket ("
			" tbl INTEGER NOT NULL, start INTEGER NOT NULL,"
			" std INTEGER NOT NULL, enh INTEGER NOT NULL,"
			" red INTEGER NOT NULL, vgw INTEGER NOT NULL,"
			" agg INTEGER NOT NULL,"
			" PRIMARY KEY (tbl, start)) WITHOUT ROWID;"
			"INSERT INTO usage_bucket VALUES (2, 1704067200,"
			" 7, 7, 7, 7, 7);",
			err, sizeof(err)),
		0);
	db_close(&d.db);

	start(&d);
	assert_detail(&d, STATS_HOURS, T0 + 3600, 0, 7, 7, 7);
	tick(&d, T0 + 3600, 3); /* a new second row, with its own columns */
	stop(&d);
	start(&d);
	assert_detail(&d, STATS_SECONDS, T0 + 3601, 0, 3, 3, 3);
	assert_detail(&d, STATS_HOURS, T0 + 3601, 0, 7, 7, 7);
	stop(&d);
}
END_TEST

/* Old seconds are pruned as minutes close: the table stays small. */
UNIT_TEST(prunes_old_rows)
{
	struct daemon d = {0};
	sqlite3_stmt *q;
	int64_t s;
	int n;

	start(&d);
	for (s = 0; s < 600; s++)
		tick(&d, T0 + s, 1);
	ck_assert_int_eq(sqlite3_prepare_v2(d.db,
					    "SELECT COUNT(*) FROM usage_bucket"
					    " WHERE tbl = 0",
					    -1, &q, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	/* At most two windows of seconds plus the current minute. */
	ck_assert_int_le(n, 180);
	ck_assert_int_ge(n, 60);
	stop(&d);
}
END_TEST

/* A store that cannot write (read-only file) fails the commit only. */
UNIT_TEST(write_failure_is_reported_tables_intact)
{
	struct daemon d = {0};
	uint32_t v[STATS_CLASS_COUNT] = {3, 3, 3, 3, 3};
	char err[256];

	start(&d);
	stop(&d);
	d.db = db_open(testdb_path, err, sizeof(err));
	ck_assert_ptr_nonnull(d.db);
	d.stats = stats_new();
	d.store = stats_store_new(d.db, err, sizeof(err));
	stats_set_sink(d.stats, stats_store_sink, d.store);
	ck_assert_int_eq(db_exec(d.db, "PRAGMA query_only=1", err, sizeof(err)),
			 0);
	stats_store_begin(d.store, err, sizeof(err));
	stats_tick(d.stats, (T0 + 1) * 1000 + 50, v);
	ck_assert_int_eq(stats_store_commit(d.store, err, sizeof(err)), -1);
	ck_assert_uint_eq(row(&d, STATS_SECONDS, T0 + 1, 0, NULL), 3);
	stop(&d);
}
END_TEST

static int count_rows(struct daemon *d, const char *where)
{
	char sql[128];
	sqlite3_stmt *q;
	int n;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM usage_bucket WHERE %s",
		 where);
	ck_assert_int_eq(sqlite3_prepare_v2(d->db, sql, -1, &q, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

static int page_count(struct daemon *d)
{
	sqlite3_stmt *q;
	int n;

	ck_assert_int_eq(sqlite3_prepare_v2(d->db, "PRAGMA page_count", -1, &q,
					    NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/*
 * Ticks whose transaction fails (the disk is full: here the file may not
 * grow, PRAGMA max_page_count) lose nothing: once writes work again the
 * next commit also writes the seconds and the minute closed meanwhile.
 */
UNIT_TEST(failed_ticks_written_once_store_recovers)
{
	struct daemon d = {0};
	uint32_t v[STATS_CLASS_COUNT] = {7, 7, 7, 7, 7};
	char err[256], sql[128];
	int64_t s, f = -1;

	start(&d);
	for (s = 0; s < 50; s++)
		tick(&d, T0 + s, 7);
	/* Full: the file may not grow by one more page. Ticks still commit
	 * while their rows fit into free space in the pages it has. */
	ck_assert_int_eq(db_exec(d.db, "PRAGMA wal_checkpoint(TRUNCATE)", err,
				 sizeof(err)),
			 0);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d",
		 page_count(&d));
	ck_assert_int_eq(db_exec(d.db, sql, err, sizeof(err)), 0);
	for (s = 50; s < 5000 && f < 0; s++) {
		ck_assert_int_eq(stats_store_begin(d.store, err, sizeof(err)),
				 0);
		stats_tick(d.stats, (T0 + s + 1) * 1000 + 50, v);
		if (stats_store_commit(d.store, err, sizeof(err)) != 0)
			f = s;
	}
	ck_assert_msg(f >= 0, "the store never filled up");
	ck_assert_msg(strstr(err, "full") != NULL, "%s", err);
	/* 70 more seconds, a minute closes among them: all fail. */
	for (s = f + 1; s <= f + 70; s++) {
		ck_assert_int_eq(stats_store_begin(d.store, err, sizeof(err)),
				 0);
		stats_tick(d.stats, (T0 + s + 1) * 1000 + 50, v);
		ck_assert_int_eq(stats_store_commit(d.store, err, sizeof(err)),
				 -1);
	}
	snprintf(sql, sizeof(sql), "tbl = 0 AND start >= %lld",
		 (long long)(T0 + f));
	ck_assert_int_eq(count_rows(&d, sql), 0);
	/* Space again: one good tick writes what the failed ones closed. */
	ck_assert_int_eq(db_exec(d.db, "PRAGMA max_page_count = 1073741823",
				 err, sizeof(err)),
			 0);
	tick(&d, T0 + f + 71, 7);
	ck_assert_int_eq(count_rows(&d, sql), 72);
	snprintf(sql, sizeof(sql), "tbl = 1 AND agg = 7 AND start >= %lld",
		 (long long)(T0 + f - 59));
	ck_assert_int_ge(count_rows(&d, sql), 1);
	stop(&d);
	/* And a restart shows them. */
	start(&d);
	ck_assert_uint_eq(row(&d, STATS_MINUTES, T0 + f + 72, 0, NULL), 7);
	ck_assert_uint_eq(row(&d, STATS_SECONDS, T0 + f + 72, 30, NULL), 7);
	stop(&d);
}
END_TEST

UNIT_MAIN("store")
