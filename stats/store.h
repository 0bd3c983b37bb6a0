/*
 * stats_store: the usage tables in the SQLite state store.
 *
 * Every closed bucket (seconds included, so that a restart in the middle of
 * a minute keeps the seconds already counted) is written as one row, with
 * its value, max and avg per class (struct stats_bucket); the
 * first write of a bucket wins, as in the tables. At start-up each
 * table's newest rows are loaded back; the time the daemon was down has no
 * rows and reads as 0. Old rows are pruned as minutes
 * close.
 */
#ifndef SBC_STATS_STORE_H
#define SBC_STATS_STORE_H

#include "stats/stats.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct stats_store;

/* Use db (borrowed; must outlive the store). Creates the schema. */
struct stats_store *stats_store_new(sqlite3 *db, char *err, size_t errlen);
void stats_store_free(struct stats_store **st);

/* Load each table's newest rows (one window's worth) into s. */
int stats_store_load(struct stats_store *st, struct stats *s, char *err,
		     size_t errlen);

/*
 * Bracket one tick: stats_store_begin(), stats_tick() (whose sink is
 * stats_store_sink with this store), stats_store_commit(). Returns 0, or -1
 * and a reason; after a failure (disk full, for instance) the tables in
 * memory are intact, so the daemon carries on, and the tick's rows are kept
 * and written again by the next ticks until a commit succeeds (the newest
 * two windows of each table; older rows would be pruned anyway). The first
 * commit that succeeds after failures logs %SBC-5-STORE.
 */
int stats_store_begin(struct stats_store *st, char *err, size_t errlen);
int stats_store_commit(struct stats_store *st, char *err, size_t errlen);

/* A stats_sink_fn; arg is the store. Errors are kept for the commit. */
void stats_store_sink(void *arg, enum stats_table table, int64_t start,
		      const struct stats_bucket *bucket);

#endif
