/*
 * Cost of one sampler tick: the counters' sample, the table roll-ups and
 * (optionally) the store's transaction, measured over many ticks with the
 * clock frozen and moved one second per tick. Not a test: it prints
 * figures; tests/bench/stats_tick.sh runs it and writes docs/benchmarks.md.
 *
 * usage: bench_stats TICKS DB_PATH
 */
#include "sbc/callacct.h"
#include "sbc/counters.h"
#include "common/db.h"
#include "stats/stats.h"
#include "stats/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1704067200)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per tick with `calls` calls up, ticks seconds long, store or not. */
static double run(long ticks, unsigned calls, const char *db_path)
{
	struct sbc_counters *c = sbc_counters_new();
	struct stats *s = stats_new();
	struct stats_store *st = NULL;
	struct sbc_callacct *acct = calloc(calls ? calls : 1, sizeof(*acct));
	sqlite3 *db = NULL;
	uint32_t peak[SBC_CLASS_COUNT];
	char err[256];
	double t0, t1;
	unsigned i;
	long k;

	for (i = 0; i < calls; i++) {
		sbc_callacct_init(&acct[i], SBC_CLASS_STANDARD);
		sbc_callacct_start(&acct[i], c);
	}
	if (db_path) {
		unlink(db_path);
		db = db_open(db_path, err, sizeof(err));
		st = db ? stats_store_new(db, err, sizeof(err)) : NULL;
		if (st == NULL) {
			fprintf(stderr, "store: %s\n", err);
			exit(1);
		}
		stats_set_sink(s, stats_store_sink, st);
	}
	t0 = now_ns();
	for (k = 0; k < ticks; k++) {
		sbc_counters_sample(c, peak);
		if (st)
			stats_store_begin(st, err, sizeof(err));
		stats_tick(s, (T0 + k + 1) * 1000 + 3, peak);
		if (st)
			stats_store_commit(st, err, sizeof(err));
	}
	t1 = now_ns();
	stats_store_free(&st);
	db_close(&db);
	stats_free(&s);
	sbc_counters_free(&c);
	free(acct);
	return (t1 - t0) / (double)ticks;
}

int main(int argc, char **argv)
{
	static const unsigned calls[] = {0, 1000, 100000};
	long ticks = argc > 1 ? atol(argv[1]) : 200000;
	const char *db_path = argc > 2 ? argv[2] : "/tmp/bench_stats.db";
	size_t i;

	printf("| calls up | tick, tables only (us) | tick with SQLite store (us) |\n");
	printf("| ---: | ---: | ---: |\n");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		printf("| %u | %.3f | %.1f |\n", calls[i],
		       run(ticks, calls[i], NULL) / 1000.0,
		       run(ticks / 20, calls[i], db_path) / 1000.0);
	return 0;
}
