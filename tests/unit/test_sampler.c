/*
 * sbcd's sampler on a frozen clock: the per-second peaks, calls per
 * second, closed hours handed over (and kept while refused), the open hour
 * and the hours handed again after a restart.
 */
#include "common/clk.h"
#include "common/db.h"
#include "sbc/counters.h"
#include "sbc/sampler.h"
#include "sbc/sipstats.h"
#include "stats/stats.h"
#include "stats/store.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z, an hour start */
#define MARGIN_MS 15	       /* sbcd ticks just after each second */
#define MAX_TAKEN 100

/* The consumer: records what it gets; refuses while `refuse` is set. */
struct consumer {
	bool refuse;
	size_t n_taken;
	int64_t taken[MAX_TAKEN];
	uint32_t taken_std[MAX_TAKEN];
	size_t n_open;
	int64_t open_start;
	uint32_t open_std;
};

struct rig {
	char db_path[64];
	sqlite3 *db;
	struct stats *stats;
	struct stats_store *store;
	struct sbc_counters *counters;
	struct sbc_sipstats *sipstats;
	struct sbc_sampler *sampler;
	struct consumer c;
};

static struct rig g;

static bool take(void *arg, int64_t start,
		 const uint32_t value[STATS_CLASS_COUNT], int64_t now_s)
{
	struct consumer *c = arg;

	ck_assert_int_ge(now_s, start + 3600);
	if (c->refuse)
		return false;
	ck_assert_uint_lt(c->n_taken, MAX_TAKEN);
	c->taken[c->n_taken] = start;
	c->taken_std[c->n_taken] = value[STATS_STANDARD];
	c->n_taken++;
	return true;
}

static void open_hour(void *arg, int64_t start,
		      const uint32_t value[STATS_CLASS_COUNT])
{
	struct consumer *c = arg;

	c->n_open++;
	c->open_start = start;
	c->open_std = start >= 0 ? value[STATS_STANDARD] : 0;
}

static const struct sbc_sampler_hours hours = {take, open_hour, &g.c};

static void remove_db(void)
{
	char p[80];

	unlink(g.db_path);
	snprintf(p, sizeof(p), "%s-wal", g.db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", g.db_path);
	unlink(p);
}

/* What sbcd does at start-up, up to the sampler. */
static void start(void)
{
	char err[256];

	g.db = db_open(g.db_path, err, sizeof(err));
	ck_assert_msg(g.db != NULL, "%s", err);
	g.stats = stats_new();
	ck_assert_ptr_nonnull(g.stats);
	g.store = stats_store_new(g.db, err, sizeof(err));
	ck_assert_msg(g.store != NULL, "%s", err);
	ck_assert_int_eq(stats_store_load(g.store, g.stats, err, sizeof(err)),
			 0);
	g.sampler = sbc_sampler_new(g.stats, g.store, g.counters);
	ck_assert_ptr_nonnull(g.sampler);
	sbc_sampler_set_sipstats(g.sampler, g.sipstats);
}

static void stop(void)
{
	sbc_sampler_free(&g.sampler);
	ck_assert_ptr_null(g.sampler);
	stats_store_free(&g.store);
	stats_free(&g.stats);
	db_close(&g.db);
}

static void setup(void)
{
	memset(&g, 0, sizeof(g));
	snprintf(g.db_path, sizeof(g.db_path), "/tmp/test_sampler_%ld.db",
		 (long)getpid());
	remove_db();
	clk_freeze(T0 * 1000 + MARGIN_MS, 1000);
	g.counters = sbc_counters_new();
	g.sipstats = sbc_sipstats_new();
	ck_assert_ptr_nonnull(g.counters);
	ck_assert_ptr_nonnull(g.sipstats);
	start();
}

static void teardown(void)
{
	if (g.sampler != NULL)
		stop();
	sbc_sipstats_free(&g.sipstats);
	sbc_counters_free(&g.counters);
	remove_db();
}

/* The clock moves on by ms (on purpose: no sampler gap), then a tick. */
static void tick_after(int64_t ms)
{
	if (ms > 1000)
		sbc_sampler_clock_jumped(g.sampler);
	ck_assert_int_eq(clk_advance_ms(ms), 0);
	sbc_sampler_tick(g.sampler, clk_wall_ms());
}

/* n STANDARD calls up at once, then down to none. */
static void calls(int n, bool hang_up)
{
	int i;

	for (i = 0; i < n; i++)
		sbc_counters_inc(g.counters, SBC_CLASS_STANDARD);
	for (i = 0; hang_up && i < n; i++)
		sbc_counters_dec(g.counters, SBC_CLASS_STANDARD);
}

UNIT_TCASE("core", .setup = setup, .teardown = teardown, .timeout = 60);

UNIT_TEST(peak_of_each_second)
{
	uint32_t v[1];
	bool valid[1];

	/* 3 calls up and 2 down within the second: the peak is 3. */
	calls(3, false);
	sbc_counters_dec(g.counters, SBC_CLASS_STANDARD);
	sbc_counters_dec(g.counters, SBC_CLASS_STANDARD);
	sbc_counters_inc(g.counters, SBC_CLASS_VGW);
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_last_second(g.sampler,
						  SBC_CLASS_STANDARD),
			  3);
	ck_assert_uint_eq(sbc_sampler_last_second(g.sampler, SBC_CLASS_VGW),
			  1);
	ck_assert_uint_eq(sbc_sampler_last_second(g.sampler,
						  SBC_CLASS_AGGREGATE),
			  3);
	/* The tables got the second just ended. */
	ck_assert_uint_eq(stats_read(g.stats, STATS_STANDARD, STATS_SECONDS,
				     clk_wall_ms(), v, valid, 1),
			  1);
	ck_assert(valid[0]);
	ck_assert_uint_eq(v[0], 3);
	/* The next second starts from the one call still up. */
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_last_second(g.sampler,
						  SBC_CLASS_STANDARD),
			  1);
	ck_assert_uint_eq(sbc_sampler_max_second(g.sampler,
						 SBC_CLASS_STANDARD),
			  3);
	ck_assert_uint_eq(sbc_sampler_max_second(g.sampler,
						 SBC_CLASS_AGGREGATE),
			  3);
	ck_assert_uint_eq(sbc_sampler_last_second(g.sampler, SBC_CLASS_COUNT),
			  0);
}
END_TEST

UNIT_TEST(calls_per_second_from_invites)
{
	int i;

	for (i = 0; i < 4; i++)
		sbc_sipstats_request(g.sipstats, SBC_SIPSTATS_IN,
				     SBC_SIP_INVITE);
	sbc_sipstats_request(g.sipstats, SBC_SIPSTATS_OUT, SBC_SIP_INVITE);
	sbc_sipstats_request(g.sipstats, SBC_SIPSTATS_IN, SBC_SIP_BYE);
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_calls_per_second(g.sampler), 4);
	sbc_sipstats_request(g.sipstats, SBC_SIPSTATS_IN, SBC_SIP_INVITE);
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_calls_per_second(g.sampler), 1);
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_calls_per_second(g.sampler), 0);
	/* A clear restarts the counter: no negative rate. */
	sbc_sipstats_clear(g.sipstats, clk_wall_ms());
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_calls_per_second(g.sampler), 0);
	sbc_sipstats_request(g.sipstats, SBC_SIPSTATS_IN, SBC_SIP_INVITE);
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_calls_per_second(g.sampler), 1);
}
END_TEST

UNIT_TEST(closed_hour_handed_over)
{
	sbc_sampler_set_hours(g.sampler, &hours, 0, clk_wall_ms());
	ck_assert_uint_eq(g.c.n_taken, 0);
	calls(5, true);
	tick_after(10 * 1000);
	ck_assert_uint_eq(g.c.n_taken, 0);
	/* Into the next hour: the first one closes and goes at once. */
	tick_after(3600 * 1000);
	ck_assert_uint_eq(g.c.n_taken, 1);
	ck_assert_int_eq(g.c.taken[0], T0);
	ck_assert_uint_eq(g.c.taken_std[0], 5);
	ck_assert_uint_eq(sbc_sampler_hours_waiting(g.sampler), 0);
}
END_TEST

UNIT_TEST(refused_hours_wait_in_order)
{
	int h;

	sbc_sampler_set_hours(g.sampler, &hours, 0, clk_wall_ms());
	g.c.refuse = true;
	for (h = 0; h < 3; h++) {
		calls(h + 1, true);
		tick_after(3600 * 1000);
	}
	/* Each tick closed the hour its calls were in. */
	ck_assert_uint_eq(sbc_sampler_hours_waiting(g.sampler), 3);
	ck_assert_uint_eq(g.c.n_taken, 0);
	g.c.refuse = false;
	tick_after(1000);
	ck_assert_uint_eq(sbc_sampler_hours_waiting(g.sampler), 0);
	ck_assert_uint_eq(g.c.n_taken, 3);
	for (h = 0; h < 3; h++) {
		ck_assert_int_eq(g.c.taken[h], T0 + h * 3600);
		ck_assert_uint_eq(g.c.taken_std[h], (unsigned)h + 1);
	}
}
END_TEST

UNIT_TEST(queue_keeps_the_newest_hours)
{
	int h;

	sbc_sampler_set_hours(g.sampler, &hours, 0, clk_wall_ms());
	g.c.refuse = true;
	for (h = 0; h < SBC_SAMPLER_HOURS_QUEUED + 3; h++) {
		calls(1, true);
		tick_after(3600 * 1000);
	}
	ck_assert_uint_eq(sbc_sampler_hours_waiting(g.sampler),
			  SBC_SAMPLER_HOURS_QUEUED);
	g.c.refuse = false;
	tick_after(1000);
	ck_assert_uint_eq(g.c.n_taken, SBC_SAMPLER_HOURS_QUEUED);
	/* Hours T0 .. T0+74h closed; the three oldest went. */
	ck_assert_int_eq(g.c.taken[0], T0 + 3 * 3600);
	ck_assert_int_eq(g.c.taken[SBC_SAMPLER_HOURS_QUEUED - 1],
			 T0 + (SBC_SAMPLER_HOURS_QUEUED + 2) * 3600);
}
END_TEST

UNIT_TEST(open_hour_counts_up)
{
	int i;

	sbc_sampler_set_hours(g.sampler, &hours, 0, clk_wall_ms());
	ck_assert_uint_eq(g.c.n_open, 0);
	tick_after(1000);
	ck_assert_uint_eq(g.c.n_open, 1);
	ck_assert_int_eq(g.c.open_start, T0);
	ck_assert_uint_eq(g.c.open_std, 0);
	/* 4 calls up for three seconds: the hour so far reads 4. */
	calls(4, false);
	for (i = 0; i < 3; i++)
		tick_after(1000);
	ck_assert_uint_eq(g.c.n_open, 4);
	ck_assert_int_eq(g.c.open_start, T0);
	ck_assert_uint_eq(g.c.open_std, 4);
	ck_assert_uint_eq(g.c.n_taken, 0);
}
END_TEST

UNIT_TEST(no_consumer_keeps_no_hours)
{
	calls(2, true);
	tick_after(3600 * 1000);
	tick_after(3600 * 1000);
	ck_assert_uint_eq(sbc_sampler_hours_waiting(g.sampler), 0);
	ck_assert_uint_eq(g.c.n_open, 0);
}
END_TEST

UNIT_TEST(restart_hands_the_period_again)
{
	int h;

	/* Three hours closed (T0..T0+2h), stored, then a restart. */
	for (h = 0; h < 3; h++) {
		calls(h + 2, true);
		tick_after(3600 * 1000);
	}
	stop();
	start();
	/* The consumer's period began with the second of them. */
	sbc_sampler_set_hours(g.sampler, &hours, T0 + 3600, clk_wall_ms());
	ck_assert_uint_eq(g.c.n_taken, 2);
	ck_assert_int_eq(g.c.taken[0], T0 + 3600);
	ck_assert_uint_eq(g.c.taken_std[0], 3);
	ck_assert_int_eq(g.c.taken[1], T0 + 2 * 3600);
	ck_assert_uint_eq(g.c.taken_std[1], 4);
	/* No period yet: nothing again. */
	stop();
	start();
	g.c.n_taken = 0;
	sbc_sampler_set_hours(g.sampler, &hours, 0, clk_wall_ms());
	ck_assert_uint_eq(g.c.n_taken, 0);
}
END_TEST

UNIT_MAIN("sampler")
