/*
 * Usage tables (docs/internals/stats.md) with frozen
 * time: every test passes now_ms itself. Expected values are worked out by
 * hand in the comments.
 */
#include "stats/stats.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>

/* 2024-01-01T00:00:00Z: aligned to a day, so to an hour and a minute too. */
#define T0 INT64_C(1704067200)
#define MIN INT64_C(60)
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

static void fill(uint32_t v[STATS_CLASS_COUNT], uint32_t x)
{
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++)
		v[c] = x;
}

/* A tick 0.1 s into second sec + 1: it closes second sec. */
static void close_sec(struct stats *s, int64_t sec, uint32_t x)
{
	uint32_t v[STATS_CLASS_COUNT];

	fill(v, x);
	stats_tick(s, (sec + 1) * 1000 + 100, v);
}

/* stats_load of a bucket whose max and avg equal its value. */
static int load_v(struct stats *s, enum stats_table t, int64_t start,
		  const uint32_t v[STATS_CLASS_COUNT])
{
	struct stats_bucket b;
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++)
		b.value[c] = b.max[c] = b.avg[c] = v[c];
	return stats_load(s, t, start, &b);
}

static void tick_at(struct stats *s, int64_t now_ms, uint32_t x)
{
	uint32_t v[STATS_CLASS_COUNT];

	fill(v, x);
	stats_tick(s, now_ms, v);
}

/* Row `row` of a table for class cls, as of now_ms. */
static uint32_t rd_cls(const struct stats *s, enum stats_class cls,
		       enum stats_table t, int64_t now_ms, size_t row,
		       bool *valid)
{
	uint32_t v[STATS_MAX_ROWS];
	bool ok[STATS_MAX_ROWS];

	ck_assert_uint_eq(stats_read(s, cls, t, now_ms, v, ok, row + 1),
			  row + 1);
	if (valid != NULL)
		*valid = ok[row];
	if (!ok[row])
		ck_assert_uint_eq(v[row], 0); /* empty reads 0 */
	return v[row];
}

/* Row of a table, asserting the same value in every class. */
static uint32_t rd(const struct stats *s, enum stats_table t, int64_t now_ms,
		   size_t row, bool *valid)
{
	bool ok, ok2;
	uint32_t v = rd_cls(s, STATS_STANDARD, t, now_ms, row, &ok);
	int c;

	for (c = 1; c < STATS_CLASS_COUNT; c++) {
		ck_assert_uint_eq(
			rd_cls(s, (enum stats_class)c, t, now_ms, row, &ok2),
			v);
		ck_assert(ok2 == ok);
	}
	if (valid != NULL)
		*valid = ok;
	return v;
}

static void assert_row(const struct stats *s, enum stats_table t,
		       int64_t now_ms, size_t row, bool valid, uint32_t value)
{
	bool ok;
	uint32_t v = rd(s, t, now_ms, row, &ok);

	ck_assert_msg(ok == valid, "table %d row %zu valid %d, want %d", t, row,
		      ok, valid);
	ck_assert_msg(v == value, "table %d row %zu value %u, want %u", t, row,
		      v, value);
}

/*
 * For hot loops: ck_assert marks a point (a write to a pipe) even when it
 * holds; this only reports a failure.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);  \
	} while (0)

/*
 * The sink recorder. Online, for every event: each table's starts strictly
 * increase (every bucket exactly once); events come in order of bucket end,
 * finer table first for the same end; the bucket is already stored (a read
 * as of its end shows it in row 0). It logs the first LOG_MAX events.
 */
#define LOG_MAX 64
struct event {
	enum stats_table t;
	int64_t start;
	struct stats_bucket b;
};
struct rec {
	const struct stats *s;
	size_t count[STATS_TABLE_COUNT];
	int64_t last_start[STATS_TABLE_COUNT];
	int64_t last_end;
	int last_table;
	struct event log[LOG_MAX];
	size_t nlog;
};

static void rec_init(struct rec *r, struct stats *s)
{
	int t;

	*r = (struct rec){.s = s, .last_end = -1, .last_table = -1};
	for (t = 0; t < STATS_TABLE_COUNT; t++)
		r->last_start[t] = -1;
}

static void rec_sink(void *arg, enum stats_table t, int64_t start,
		     const struct stats_bucket *b)
{
	const uint32_t *v = b->value;
	struct rec *r = arg;
	int64_t end = start + stats_table_seconds(t);
	int c;

	REQUIRE((unsigned)t < STATS_TABLE_COUNT);
	REQUIRE(start % stats_table_seconds(t) == 0);
	REQUIRE(start > r->last_start[t]);
	REQUIRE(end > r->last_end ||
		(end == r->last_end && (int)t > r->last_table));
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		uint32_t got, max, avg;
		bool ok;

		stats_read(r->s, (enum stats_class)c, t, end * 1000, &got, &ok,
			   1);
		REQUIRE(ok && got == v[c]);
		/* The sink's max and avg are the stored ones too. */
		REQUIRE(stats_read_detail(r->s, (enum stats_class)c, t,
					  end * 1000, &got, &max, &avg, &ok,
					  1) == 1);
		REQUIRE(ok && got == v[c] && max == b->max[c] &&
			avg == b->avg[c]);
		/* A second's max and avg are its value. */
		if (t == STATS_SECONDS)
			REQUIRE(max == v[c] && avg == v[c]);
	}
	r->last_start[t] = start;
	r->last_end = end;
	r->last_table = (int)t;
	r->count[t]++;
	if (r->nlog < LOG_MAX) {
		r->log[r->nlog].t = t;
		r->log[r->nlog].start = start;
		r->log[r->nlog].b = *b;
		r->nlog++;
	}
}

static struct stats *new_recorded(struct rec *r)
{
	struct stats *s = stats_new();

	ck_assert_ptr_nonnull(s);
	rec_init(r, s);
	stats_set_sink(s, rec_sink, r);
	return s;
}

static void assert_event(const struct rec *r, size_t i, enum stats_table t,
			 int64_t start, uint32_t v)
{
	ck_assert_uint_gt(r->nlog, i);
	ck_assert_int_eq(r->log[i].t, t);
	ck_assert_int_eq(r->log[i].start, start);
	ck_assert_uint_eq(r->log[i].b.value[STATS_STANDARD], v);
}

/* Top-3 averages: directly, and as a minute of seconds. */
static const struct {
	uint32_t v[6];
	size_t n;
	uint32_t want;
} top3_rows[] = {
	{{0}, 0, 0},		    /* no values: 0 (and no minute) */
	{{7}, 1, 7},		    /* one value: itself */
	{{1, 2}, 2, 2},		    /* 3/2 = 1.5 -> 2 */
	{{2, 3}, 2, 3},		    /* 5/2 = 2.5 -> 3 */
	{{4, 4}, 2, 4},		    /* two values: 8/2 = 4 */
	{{1, 1, 2}, 3, 1},	    /* 4/3 = 1.33 -> 1 */
	{{1, 2, 2}, 3, 2},	    /* 5/3 = 1.67 -> 2 */
	{{2, 2, 3}, 3, 2},	    /* 7/3 = 2.33 -> 2 */
	{{2, 3, 3}, 3, 3},	    /* 8/3 = 2.67 -> 3 */
	{{5, 1, 9, 3, 7}, 5, 7},    /* top 9 7 5: 21/3 = 7 */
	{{0, 0, 0, 1}, 4, 0},	    /* top 1 0 0: 1/3 -> 0 */
	{{3, 3, 3, 3, 10}, 5, 5},   /* top 10 3 3: 16/3 = 5.33 -> 5 */
	{{1, 2, 4, 0, 0, 0}, 6, 2}, /* top 4 2 1: 7/3 = 2.33 -> 2 */
	{{0, 0, 0, 0, 0, 0}, 6, 0}, /* values of 0 average 0 */
	{{UINT32_MAX, UINT32_MAX, UINT32_MAX, 1}, 4, UINT32_MAX}, /* no wrap */
	{{UINT32_MAX, UINT32_MAX - 1}, 2, UINT32_MAX}, /* x.5 -> up */
};

UNIT_TCASE("core", .timeout = 60);

UNIT_TEST(top3_average_rounding)
{
	size_t i;

	for (i = 0; i < NELEM(top3_rows); i++)
		ck_assert_msg(
			stats_top3_average(top3_rows[i].v, top3_rows[i].n) ==
				top3_rows[i].want,
			"row %zu", i);
	ck_assert_uint_eq(stats_top3_average(NULL, 0), 0);
}
END_TEST

/*
 * The same rows as the seconds of minute M = T0 + 10 min (seconds M+0 ..
 * M+n-1); a tick in the next minute closes M. With no second the minute
 * stays empty.
 */
UNIT_TEST(top3_through_a_minute)
{
	const int64_t m = T0 + 10 * MIN;
	size_t i, j;

	for (i = 0; i < NELEM(top3_rows); i++) {
		struct stats *s = stats_new();

		for (j = 0; j < top3_rows[i].n; j++)
			close_sec(s, m + (int64_t)j, top3_rows[i].v[j]);
		close_sec(s, m + MIN + 5, 1);
		/* As of m + 66.1 s: minute row 0 is M. */
		assert_row(s, STATS_MINUTES, (m + MIN + 6) * 1000 + 100, 0,
			   top3_rows[i].n > 0, top3_rows[i].want);
		stats_free(&s);
	}
}
END_TEST

/*
 * The daemon starts at M + 30.2 s: its first tick closes M+29. Seconds
 * M+29 .. M+59 are 1, except M+40 = 6, M+45 = 4, M+50 = 5: minute M =
 * (6 + 5 + 4) / 3 = 5, closed by the tick that closes M+59 (at M + 60.1).
 * Seconds M+0 .. M+28 are empty.
 */
static uint32_t partial_of(int64_t i)
{
	switch (i) {
	case 40:
		return 6;
	case 45:
		return 4;
	case 50:
		return 5;
	default:
		return 1;
	}
}

UNIT_TEST(partial_minute)
{
	const int64_t m = T0 + 2 * HOUR + 7 * MIN;
	struct rec r;
	struct stats *s = new_recorded(&r);
	int64_t sec;
	size_t i;

	tick_at(s, (m + 30) * 1000 + 200, 1);
	ck_assert_int_eq(stats_last_second(s), m + 29);
	for (sec = m + 30; sec < m + 60; sec++)
		close_sec(s, sec, partial_of(sec - m));
	ck_assert_uint_eq(r.count[STATS_SECONDS], 31);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 1);
	assert_row(s, STATS_MINUTES, (m + 60) * 1000 + 100, 0, true, 5);
	assert_row(s, STATS_MINUTES, (m + 60) * 1000 + 100, 1, false, 0);
	/* Seconds as of M + 60.1: row i is second M+59-i. */
	for (i = 0; i < 60; i++) {
		int64_t sec_i = m + 59 - (int64_t)i;
		bool closed = sec_i >= m + 29;

		assert_row(s, STATS_SECONDS, (m + 60) * 1000 + 100, i, closed,
			   closed ? partial_of(sec_i - m) : 0);
	}
	stats_free(&s);

	/* Started at M + 59.1: two seconds, 3 and 2: 5/2 = 2.5 -> 3. */
	s = stats_new();
	close_sec(s, m + 58, 3);
	close_sec(s, m + 59, 2);
	assert_row(s, STATS_MINUTES, (m + 60) * 1000 + 100, 0, true, 3);
	stats_free(&s);
}
END_TEST

/* A fresh instance: every row of every table is 0 and invalid. */
UNIT_TEST(empty_tables)
{
	struct stats *s = stats_new();
	uint32_t v[100];
	bool ok[100];
	int t, c;
	size_t i;

	for (t = 0; t < STATS_TABLE_COUNT; t++) {
		for (c = 0; c < STATS_CLASS_COUNT; c++) {
			/* n above the row count is cut to it. */
			ck_assert_uint_eq(
				stats_read(s, (enum stats_class)c,
					   (enum stats_table)t, T0 * 1000, v,
					   ok, 100),
				stats_table_rows((enum stats_table)t));
			for (i = 0; i < stats_table_rows((enum stats_table)t);
			     i++) {
				ck_assert_uint_eq(v[i], 0);
				ck_assert(!ok[i]);
			}
		}
		/* valid may be NULL. */
		ck_assert_uint_eq(stats_read(s, STATS_AGGREGATE,
					     (enum stats_table)t, T0 * 1000, v,
					     NULL, 3),
				  3);
	}
	ck_assert_int_eq(stats_last_second(s), -1);
	stats_free(&s);
}
END_TEST

/*
 * A full minute M of varied seconds, each class its own column. Second
 * M+i (i = 0..59):
 *   STANDARD  i % 10, except i = 17: 40, i = 33: 41, i = 52: 43
 *             -> (43 + 41 + 40) / 3 = 124/3 = 41.33 -> 41
 *   ENHANCED  twice STANDARD -> (86 + 82 + 80) / 3 = 248/3 = 82.67 -> 83
 *   REDUNDANT 0 -> 0, a valid value
 *   VGW       i -> (59 + 58 + 57) / 3 = 58
 *   AGGREGATE 7 -> 7 (its own column, not a sum)
 */
static uint32_t std_of(int64_t i)
{
	return i == 17 ? 40 : i == 33 ? 41 : i == 52 ? 43 : (uint32_t)(i % 10);
}

UNIT_TEST(full_minute_per_class)
{
	const int64_t m = T0 + 5 * HOUR + 33 * MIN;
	const uint32_t want[STATS_CLASS_COUNT] = {41, 83, 0, 58, 7};
	const int64_t now = (m + 60) * 1000 + 100;
	struct stats *s = stats_new();
	int64_t i;
	size_t row;
	int c;

	for (i = 0; i < 60; i++) {
		uint32_t v[STATS_CLASS_COUNT] = {std_of(i), 2 * std_of(i), 0,
						 (uint32_t)i, 7};

		stats_tick(s, (m + i + 1) * 1000 + 100, v);
	}
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		bool ok;

		ck_assert_uint_eq(rd_cls(s, (enum stats_class)c, STATS_MINUTES,
					 now, 0, &ok),
				  want[c]);
		ck_assert(ok);
	}
	/* Seconds row r is second M+59-r. */
	for (row = 0; row < 60; row++) {
		int64_t sec = 59 - (int64_t)row;
		bool ok;

		ck_assert_uint_eq(
			rd_cls(s, STATS_STANDARD, STATS_SECONDS, now, row, &ok),
			std_of(sec));
		ck_assert(ok);
		ck_assert_uint_eq(
			rd_cls(s, STATS_VGW, STATS_SECONDS, now, row, &ok),
			(uint32_t)sec);
	}
	stats_free(&s);
}
END_TEST

/*
 * A full hour H of ticks; every second of minute j holds w(j) = j % 7,
 * except w(5) = 50, w(6) = 61, w(7) = 40, so minute j = w(j) and hour H =
 * (61 + 50 + 40) / 3 = 151/3 = 50.33 -> 50. The tick closing H+3599 emits
 * that second, minute 59 and hour H, in that order.
 */
static uint32_t w_of(int64_t j)
{
	return j == 5 ? 50 : j == 6 ? 61 : j == 7 ? 40 : (uint32_t)(j % 7);
}

UNIT_TEST(hour_from_minutes)
{
	const int64_t h = T0 + 9 * HOUR;
	const int64_t now = (h + HOUR) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	int64_t sec;
	size_t row;

	for (sec = 0; sec < HOUR - 1; sec++)
		close_sec(s, h + sec, w_of(sec / 60));
	/* Hour H has not ended as far as the tables know. */
	assert_row(s, STATS_HOURS, now, 0, false, 0);
	r.nlog = 0;
	close_sec(s, h + HOUR - 1, w_of(59));
	ck_assert_uint_eq(r.nlog, 3);
	assert_event(&r, 0, STATS_SECONDS, h + HOUR - 1, w_of(59));
	assert_event(&r, 1, STATS_MINUTES, h + 59 * MIN, w_of(59));
	assert_event(&r, 2, STATS_HOURS, h, 50);
	assert_row(s, STATS_HOURS, now, 0, true, 50);
	assert_row(s, STATS_HOURS, now, 1, false, 0);
	for (row = 0; row < 60; row++)
		assert_row(s, STATS_MINUTES, now, row, true,
			   w_of(59 - (int64_t)row));
	ck_assert_uint_eq(r.count[STATS_SECONDS], 3600);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 60);
	ck_assert_uint_eq(r.count[STATS_HOURS], 1);
	ck_assert_uint_eq(r.count[STATS_DAYS], 0);
	stats_free(&s);
}
END_TEST

/*
 * The hour still open, by hand. Hour H: minute 0 closed with seconds
 * 10, 20, 30 (and 0s): its value (30 + 20 + 10) / 3 = 20; minute 1 closed
 * with all seconds 5: 5; minute 2 open with seconds 40, 7 so far:
 * (40 + 7) / 2 = 23.5 -> 24. Open hour: top 3 of {20, 5, 24} =
 * (24 + 20 + 5) / 3 = 16.33 -> 16. When the hour closes: none open.
 */
UNIT_TEST(open_hour_so_far)
{
	const int64_t h = T0 + 5 * HOUR;
	uint32_t v[STATS_CLASS_COUNT];
	struct stats *s = stats_new();
	int64_t sec;

	ck_assert_int_eq(stats_open_hour(s, v), -1);
	for (sec = 0; sec < 60; sec++)
		close_sec(s, h + sec, sec == 3 ? 10 : sec == 4 ? 20 : sec == 5 ? 30 : 0);
	ck_assert_int_eq(stats_open_hour(s, v), h);
	ck_assert_uint_eq(v[STATS_AGGREGATE], 20);
	for (sec = 60; sec < 120; sec++)
		close_sec(s, h + sec, 5);
	close_sec(s, h + 120, 40);
	close_sec(s, h + 121, 7);
	ck_assert_int_eq(stats_open_hour(s, v), h);
	ck_assert_uint_eq(v[STATS_STANDARD], 16);
	ck_assert_uint_eq(v[STATS_AGGREGATE], 16);
	/* Skip to the hour's last second: it closes the hour. */
	close_sec(s, h + HOUR - 1, 1);
	ck_assert_int_eq(stats_open_hour(s, v), -1);
	close_sec(s, h + HOUR, 3);
	ck_assert_int_eq(stats_open_hour(s, v), h + HOUR);
	ck_assert_uint_eq(v[STATS_VGW], 3);
	stats_free(&s);
}
END_TEST

/*
 * A full day D of ticks. Second t holds f(h) = 5h % 17 for its hour h,
 * except one spike of 99 at D + 23h + 2 min. Hours 0..22: f(h), largest
 * f(10) = 50 % 17 = 16; f(23) = 115 % 17 = 13. The spike's minute =
 * (99 + 13 + 13) / 3 = 125/3 = 41.67 -> 42; hour 23 = (42 + 13 + 13) / 3 =
 * 68/3 = 22.67 -> 23. Day D = max(16, 23) = 23.
 */
UNIT_TEST(day_is_max_hour)
{
	const int64_t d = T0 + 3 * DAY;
	const int64_t spike = d + 23 * HOUR + 2 * MIN;
	const int64_t now = (d + DAY) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	int64_t t;

	for (t = 0; t < DAY; t++) {
		uint32_t f = (uint32_t)(5 * (t / HOUR) % 17);

		close_sec(s, d + t, d + t == spike ? 99 : f);
	}
	ck_assert_uint_eq(r.count[STATS_SECONDS], 86400);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 1440);
	ck_assert_uint_eq(r.count[STATS_HOURS], 24);
	ck_assert_uint_eq(r.count[STATS_DAYS], 1);
	assert_row(s, STATS_DAYS, now, 0, true, 23);
	assert_row(s, STATS_DAYS, now, 1, false, 0);
	assert_row(s, STATS_HOURS, now, 0, true, 23);  /* hour 23 */
	assert_row(s, STATS_HOURS, now, 13, true, 16); /* hour 10 */
	assert_row(s, STATS_HOURS, now, 23, true, 0);  /* hour 0: a valid 0 */
	assert_row(s, STATS_HOURS, now, 24, false, 0); /* before D */
	/* Minutes row 57 = hour 23 minute 2, the spike. */
	assert_row(s, STATS_MINUTES, now, 57, true, 42);
	stats_free(&s);
}
END_TEST

/*
 * Ring reuse, for hours and for days. One second per bucket: bucket b
 * (b = 0..99 from T0) gets the value b + 1 in its middle, and a second
 * with 0 at the start of bucket 100 closes bucket 99. As of then, row i is
 * bucket 99 - i = 100 - i for all 72 rows. Then nothing until bucket 130
 * (value 7), and a 0 at the start of 131: row 0 = 7; rows 1..29 (buckets
 * 129..101) are empty although their slots still hold buckets 57..29;
 * row 30 = bucket 100 = 0 (valid); row 31 + j = bucket 99 - j = 100 - j.
 */
static void check_wrap(enum stats_table t)
{
	const int64_t len = stats_table_seconds(t);
	struct stats *s = stats_new();
	int64_t b, now;
	size_t i;

	for (b = 0; b < 100; b++)
		close_sec(s, T0 + b * len + len / 2, (uint32_t)b + 1);
	close_sec(s, T0 + 100 * len, 0);
	now = (T0 + 100 * len + 1) * 1000 + 100;
	for (i = 0; i < 72; i++)
		assert_row(s, t, now, i, true, 100 - (uint32_t)i);

	close_sec(s, T0 + 130 * len + len / 2, 7);
	close_sec(s, T0 + 131 * len, 0);
	now = (T0 + 131 * len + 1) * 1000 + 100;
	assert_row(s, t, now, 0, true, 7);
	for (i = 1; i < 30; i++)
		assert_row(s, t, now, i, false, 0);
	assert_row(s, t, now, 30, true, 0);
	for (i = 31; i < 72; i++)
		assert_row(s, t, now, i, true, 100 - (uint32_t)(i - 31));
	stats_free(&s);
}

UNIT_TEST(wrap_72_hours)
{
	check_wrap(STATS_HOURS);
}
END_TEST

UNIT_TEST(wrap_72_days)
{
	check_wrap(STATS_DAYS);
}
END_TEST

/*
 * Late ticks: one at S + 1.05 closes S; a late one at S + 2.9 s still
 * closes S+1 (not S+2); at S + 3.0 exactly, S+2; at S + 4.999, S+3. No
 * second is skipped.
 */
UNIT_TEST(late_ticks)
{
	const int64_t sec = T0 + 100;
	static const struct {
		int64_t at_ms; /* after sec * 1000 */
		int64_t closes;
		uint32_t v;
	} rows[] = {
		{1050, 0, 4},
		{2900, 1, 5},
		{3000, 2, 6},
		{4999, 3, 7},
	};
	struct stats *s = stats_new();
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		tick_at(s, sec * 1000 + rows[i].at_ms, rows[i].v);
		ck_assert_int_eq(stats_last_second(s), sec + rows[i].closes);
	}
	/* As of S + 4.999: row 0 = S+3 = 7, ..., row 3 = S = 4. */
	for (i = 0; i < 4; i++)
		assert_row(s, STATS_SECONDS, sec * 1000 + 4999, i, true,
			   7 - (uint32_t)i);
	assert_row(s, STATS_SECONDS, sec * 1000 + 4999, 4, false, 0);
	stats_free(&s);
}
END_TEST

/*
 * Missed ticks: S closed (3) at S + 1.1; the loop stalls 5 s; the tick at
 * S + 7.1 closes S+6 with the peak of the stall (9). S+1 .. S+5 are empty.
 */
UNIT_TEST(missed_ticks)
{
	const int64_t sec = T0 + 200;
	const int64_t now = (sec + 7) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	size_t i;

	close_sec(s, sec, 3);
	tick_at(s, now, 9);
	ck_assert_int_eq(stats_last_second(s), sec + 6);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 2);
	assert_row(s, STATS_SECONDS, now, 0, true, 9);
	for (i = 1; i <= 5; i++)
		assert_row(s, STATS_SECONDS, now, i, false, 0);
	assert_row(s, STATS_SECONDS, now, 6, true, 3);
	stats_free(&s);
}
END_TEST

/*
 * A stall across a minute boundary: minute M has seconds M+0 .. M+9 = 1,
 * except M+5 = 100; the next tick closes M+65, which shares M+5's slot in
 * the seconds ring. Minute M is still (100 + 1 + 1) / 3 = 34: it is rolled
 * up before M+65 is stored.
 */
UNIT_TEST(stall_across_minute)
{
	const int64_t m = T0 + 11 * MIN;
	const int64_t now = (m + 66) * 1000 + 100;
	struct stats *s = stats_new();
	int64_t sec;

	for (sec = 0; sec < 10; sec++)
		close_sec(s, m + sec, sec == 5 ? 100 : 1);
	close_sec(s, m + 65, 2);
	assert_row(s, STATS_MINUTES, now, 0, true, 34);
	assert_row(s, STATS_SECONDS, now, 0, true, 2);
	assert_row(s, STATS_SECONDS, now, 55, false, 0); /* M+10 */
	assert_row(s, STATS_SECONDS, now, 59, true, 1);	 /* M+6 */
	stats_free(&s);
}
END_TEST

/*
 * Duplicates: at S + 1.2 (peak 3) S closes; at S + 1.7 (peak 8) nothing
 * closes and 8 is carried; at S + 2.1 (peak 2) S+1 closes with max(8, 2) =
 * 8. S keeps 3.
 */
UNIT_TEST(duplicate_tick_carried)
{
	const int64_t sec = T0 + 300;
	const int64_t now = (sec + 2) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);

	tick_at(s, (sec + 1) * 1000 + 200, 3);
	tick_at(s, (sec + 1) * 1000 + 700, 8);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 1);
	tick_at(s, now, 2);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 2);
	assert_row(s, STATS_SECONDS, now, 0, true, 8);
	assert_row(s, STATS_SECONDS, now, 1, true, 3);
	/* The carry is spent: the next second has its own peak. */
	tick_at(s, now + 1000, 1);
	assert_row(s, STATS_SECONDS, now + 1000, 0, true, 1);
	stats_free(&s);
}
END_TEST

/*
 * Forward step by 3 days. Minute M = T0 + 5h 10min: seconds M+0 .. M+9 =
 * 1..10, so M = (10 + 9 + 8) / 3 = 9, and its hour and day are 9 too.
 * The clock jumps: the next tick closes J = M + 3 days + 10 (value 4).
 * That one tick emits minute M, hour T0+5h, day T0 (they ended before J),
 * then second J: 4 events, nothing for the skipped buckets. Seconds J+1 ..
 * M + 3d + 59 are 2: minute M + 3d = (4 + 2 + 2) / 3 = 2.67 -> 3.
 */
UNIT_TEST(forward_step_3_days)
{
	const int64_t m = T0 + 5 * HOUR + 10 * MIN;
	const int64_t j = m + 3 * DAY + 10;
	const int64_t now = (m + 3 * DAY + 60) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	int64_t sec;
	size_t i;

	for (sec = 0; sec < 10; sec++)
		close_sec(s, m + sec, (uint32_t)sec + 1);
	r.nlog = 0;
	close_sec(s, j, 4);
	ck_assert_uint_eq(r.nlog, 4);
	assert_event(&r, 0, STATS_MINUTES, m, 9);
	assert_event(&r, 1, STATS_HOURS, T0 + 5 * HOUR, 9);
	assert_event(&r, 2, STATS_DAYS, T0, 9);
	assert_event(&r, 3, STATS_SECONDS, j, 4);
	for (sec = j + 1; sec < m + 3 * DAY + 60; sec++)
		close_sec(s, sec, 2);
	ck_assert_int_eq(stats_last_second(s), m + 3 * DAY + 59);

	assert_row(s, STATS_MINUTES, now, 0, true, 3);
	for (i = 1; i < 60; i++)
		assert_row(s, STATS_MINUTES, now, i, false, 0);
	/* Hours as of T0 + 3d + 5h: row 71 is T0 + 5h, 72 hours back. */
	for (i = 0; i < 71; i++)
		assert_row(s, STATS_HOURS, now, i, false, 0);
	assert_row(s, STATS_HOURS, now, 71, true, 9);
	/* Days: row 0 = T0 + 2d and row 1 empty, row 2 = T0. */
	assert_row(s, STATS_DAYS, now, 0, false, 0);
	assert_row(s, STATS_DAYS, now, 1, false, 0);
	assert_row(s, STATS_DAYS, now, 2, true, 9);
	stats_free(&s);
}
END_TEST

/*
 * Backward step by 1 hour. Minute M = T0 + 7h: seconds M+40 .. M+64 are
 * 5, except M+45 = 9; minute M = (9 + 5 + 5) / 3 = 6.33 -> 6. The clock
 * goes back an hour and runs forward again: 3601 ticks closing M+64-3600
 * .. M+64 close nothing (all <= the last closed second M+64); one (30 s
 * into the repeated hour) has the peak 30. The first tick past M+64
 * closes M+65 = 30; later seconds (1) up to M+119 close minute M+60 =
 * (30 + 5 + 5) / 3 = 13.33 -> 13.
 */
UNIT_TEST(backward_step_1_hour)
{
	const int64_t m = T0 + 7 * HOUR;
	const int64_t before = (m + 65) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	size_t events[STATS_TABLE_COUNT];
	int64_t sec;
	size_t i;

	for (sec = m + 40; sec <= m + 64; sec++)
		close_sec(s, sec, sec == m + 45 ? 9 : 5);
	assert_row(s, STATS_MINUTES, before, 0, true, 6);
	for (i = 0; i < STATS_TABLE_COUNT; i++)
		events[i] = r.count[i];

	for (sec = m + 64 - HOUR; sec <= m + 64; sec++)
		close_sec(s, sec, sec == m + 94 - HOUR ? 30 : 1);
	for (i = 0; i < STATS_TABLE_COUNT; i++)
		ck_assert_uint_eq(r.count[i], events[i]);
	ck_assert_int_eq(stats_last_second(s), m + 64);
	assert_row(s, STATS_MINUTES, before, 0, true, 6);
	for (i = 0; i < 25; i++)
		assert_row(s, STATS_SECONDS, before, i, true, i == 19 ? 9 : 5);

	for (sec = m + 65; sec < m + 120; sec++)
		close_sec(s, sec, 1);
	assert_row(s, STATS_SECONDS, (m + 66) * 1000, 0, true, 30);
	assert_row(s, STATS_MINUTES, (m + 120) * 1000 + 100, 0, true, 13);
	assert_row(s, STATS_MINUTES, (m + 120) * 1000 + 100, 1, true, 6);
	stats_free(&s);
}
END_TEST

/*
 * The sink, over a long pseudo-random run of normal, late, duplicate,
 * stalled, backward (1 h) and forward (3 days) ticks: the recorder checks
 * each event online (once, in order, stored first); here the counts are
 * checked against a model: every second closed, every minute, hour and
 * day holding one, except the one still open at the end.
 */
UNIT_TEST(sink_once_in_order)
{
	static const int64_t steps_ms[] = {
		1000,  1000,	1000,	  1000,		 1000, 1000, 1000, 1000,
		1000,  1000,	1000,	  1000,		 0,    400,  1900, 5000,
		61000, 3600000, -3600000, 3 * 86400000LL};
	struct rec r;
	struct stats *s = new_recorded(&r);
	size_t want[STATS_TABLE_COUNT] = {0};
	int64_t now = (T0 + 1) * 1000 + 100, last = -1;
	uint32_t seed = 12345;
	int n, t, back = 0, jumps = 0;

	for (n = 0; n < 50000; n++) {
		int64_t k = now / 1000 - 1;

		seed = seed * 1103515245u + 12345u;
		tick_at(s, now, (seed >> 16) % 50);
		if (k > last) {
			want[STATS_SECONDS]++;
			for (t = STATS_MINUTES; t < STATS_TABLE_COUNT; t++) {
				int64_t len = stats_table_seconds(
					(enum stats_table)t);

				if (last < 0 || k / len != last / len)
					want[t]++;
			}
			last = k;
		}
		REQUIRE(stats_last_second(s) == last);
		/* Rare big steps: the last two once in ~2000 ticks each. */
		now += steps_ms[(seed >> 8) % (NELEM(steps_ms) - 2)];
		if ((seed >> 4) % 2000 == 0) {
			now += steps_ms[NELEM(steps_ms) - 2];
			back++;
		} else if ((seed >> 4) % 2000 == 1) {
			now += steps_ms[NELEM(steps_ms) - 1];
			jumps++;
		}
	}
	ck_assert_int_gt(back, 5);
	ck_assert_int_gt(jumps, 5);
	/* Close everything: a jump to a later day. */
	tick_at(s, (last / DAY + 2) * DAY * 1000 + 1100, 0);
	for (t = STATS_MINUTES; t < STATS_TABLE_COUNT; t++)
		ck_assert_uint_eq(r.count[t], want[t]);
	ck_assert_uint_eq(r.count[STATS_SECONDS], want[STATS_SECONDS] + 1);
	ck_assert_uint_gt(r.count[STATS_DAYS], 2);
	stats_free(&s);
}
END_TEST

/*
 * Restart in the open minute. Store: seconds M+0 .. M+29 = 3, except
 * M+10 = 20 and M+20 = 11 (no minute M: it was open). The daemon comes
 * back at M + 40.2: seconds M+39 .. M+59 = 4, except M+50 = 15. Minute M =
 * top 3 of the union = (20 + 15 + 11) / 3 = 15.33 -> 15. Loads do not go
 * to the sink; M+30 .. M+38 are empty.
 */
UNIT_TEST(restart_in_open_minute)
{
	const int64_t m = T0 + 2 * HOUR;
	const int64_t now = (m + 60) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_CLASS_COUNT];
	int64_t sec;
	size_t i;

	for (sec = 0; sec < 30; sec++) {
		fill(v, sec == 10 ? 20 : sec == 20 ? 11 : 3);
		ck_assert_int_eq(load_v(s, STATS_SECONDS, m + sec, v), 0);
	}
	ck_assert_int_eq(stats_last_second(s), m + 29);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 0);
	tick_at(s, (m + 40) * 1000 + 200, 4);
	for (sec = 40; sec < 60; sec++)
		close_sec(s, m + sec, sec == 50 ? 15 : 4);
	assert_row(s, STATS_MINUTES, now, 0, true, 15);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 1);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 21);
	/* Row i = second M+59-i. */
	for (i = 0; i <= 20; i++)
		assert_row(s, STATS_SECONDS, now, i, true, i == 9 ? 15 : 4);
	for (i = 21; i <= 29; i++)
		assert_row(s, STATS_SECONDS, now, i, false, 0);
	assert_row(s, STATS_SECONDS, now, 30, true, 3);	 /* M+29 */
	assert_row(s, STATS_SECONDS, now, 49, true, 20); /* M+10 */
	stats_free(&s);
}
END_TEST

/*
 * Restart with the clock gone back into a closed minute. Store: minute M
 * = 7 and seconds M+50 .. M+59 = 2; the last closed second is M+59. Ticks
 * closing M+30 .. M+59 carry (one peak is 12); the tick closing M+60
 * stores max = 12. Minute M stays 7 and is never re-emitted; seconds M+50
 * .. M+59 keep 2.
 */
UNIT_TEST(restart_clock_back_into_closed_minute)
{
	const int64_t m = T0 + 4 * HOUR + 20 * MIN;
	const int64_t now = (m + 61) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_CLASS_COUNT];
	int64_t sec;
	size_t i;

	fill(v, 7);
	ck_assert_int_eq(load_v(s, STATS_MINUTES, m, v), 0);
	fill(v, 2);
	for (sec = 50; sec < 60; sec++)
		ck_assert_int_eq(load_v(s, STATS_SECONDS, m + sec, v), 0);
	ck_assert_int_eq(stats_last_second(s), m + 59);
	for (sec = 30; sec < 60; sec++)
		close_sec(s, m + sec, sec == 44 ? 12 : 1);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 0);
	close_sec(s, m + 60, 1);
	ck_assert_uint_eq(r.count[STATS_SECONDS], 1);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 0);
	assert_row(s, STATS_SECONDS, now, 0, true, 12);
	for (i = 1; i <= 10; i++)
		assert_row(s, STATS_SECONDS, now, i, true, 2);
	assert_row(s, STATS_SECONDS, now, 11, false, 0);
	assert_row(s, STATS_MINUTES, now, 0, true, 7);

	/* A loaded minute alone also closes all its seconds. */
	stats_free(&s);
	s = stats_new();
	fill(v, 7);
	ck_assert_int_eq(load_v(s, STATS_MINUTES, m, v), 0);
	ck_assert_int_eq(stats_last_second(s), m + 59);
	close_sec(s, m + 10, 50); /* carried */
	ck_assert_int_eq(stats_last_second(s), m + 59);
	close_sec(s, m + 60, 1);
	assert_row(s, STATS_SECONDS, now, 0, true, 50);
	assert_row(s, STATS_MINUTES, now, 0, true, 7);
	stats_free(&s);
}
END_TEST

/*
 * Hours from loaded minutes. Store: minutes 0..29 of hour H = 0..29. Back
 * in minute 45: seconds H+45:00 .. H+59:59 = 1, except one 100 in minute
 * 50: minute 50 = (100 + 1 + 1) / 3 = 34, the others 1. Hour H = (34 + 29
 * + 28) / 3 = 91/3 = 30.33 -> 30. Minutes 30..44 are empty.
 */
UNIT_TEST(restart_minutes_feed_hour)
{
	const int64_t h = T0 + 3 * HOUR;
	const int64_t now = (h + HOUR) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_CLASS_COUNT];
	int64_t j, sec;
	size_t i;

	for (j = 0; j < 30; j++) {
		fill(v, (uint32_t)j);
		ck_assert_int_eq(load_v(s, STATS_MINUTES, h + j * MIN, v),
				 0);
	}
	for (sec = 45 * MIN; sec < HOUR - 1; sec++)
		close_sec(s, h + sec, sec == 50 * MIN + 7 ? 100 : 1);
	r.nlog = 0;
	close_sec(s, h + HOUR - 1, 1);
	ck_assert_uint_eq(r.count[STATS_MINUTES], 15);
	ck_assert_uint_eq(r.count[STATS_HOURS], 1);
	assert_event(&r, 2, STATS_HOURS, h, 30);
	assert_row(s, STATS_HOURS, now, 0, true, 30);
	assert_row(s, STATS_MINUTES, now, 9, true, 34); /* minute 50 */
	for (i = 15; i < 30; i++)
		assert_row(s, STATS_MINUTES, now, i, false, 0);
	assert_row(s, STATS_MINUTES, now, 59, true, 0); /* minute 0 */
	stats_free(&s);
}
END_TEST

/*
 * Days from loaded hours. Store: hours 0..22 of day D = 0..22, and hour
 * 22's last minute. Back 30 s before midnight: seconds D+86370 .. D+86399
 * = 50: minute, hour 23 = 50; day D = max(22, 50) = 50. A loaded hour or
 * day already present is kept: hour 22 is not rewritten from its loaded
 * minute.
 */
UNIT_TEST(restart_hours_feed_day)
{
	const int64_t d = T0 + 10 * DAY;
	const int64_t now = (d + DAY) * 1000 + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_CLASS_COUNT];
	int64_t h;
	int64_t sec;

	for (h = 0; h < 23; h++) {
		fill(v, (uint32_t)h);
		ck_assert_int_eq(load_v(s, STATS_HOURS, d + h * HOUR, v),
				 0);
	}
	fill(v, 99);
	ck_assert_int_eq(load_v(s, STATS_MINUTES, d + 23 * HOUR - MIN, v),
			 0);
	ck_assert_int_eq(stats_last_second(s), d + 23 * HOUR - 1);
	for (sec = DAY - 30; sec < DAY; sec++)
		close_sec(s, d + sec, 50);
	ck_assert_uint_eq(r.count[STATS_HOURS], 1);
	ck_assert_uint_eq(r.count[STATS_DAYS], 1);
	assert_row(s, STATS_DAYS, now, 0, true, 50);
	assert_row(s, STATS_HOURS, now, 0, true, 50);
	assert_row(s, STATS_HOURS, now, 1, true, 22);
	stats_free(&s);
}
END_TEST

/*
 * Restart two days later, the store holding the open minute's seconds M+0
 * .. M+9 (6, except M+5 = 9) but no minute (it was still open). The first
 * tick closes, in order, minute M = (9 + 6 + 6) / 3 = 7, its hour (7) and
 * day (7), then its own second.
 */
UNIT_TEST(restart_days_later_closes_open_minute)
{
	const int64_t m = T0 + 8 * HOUR + 30 * MIN;
	const int64_t k = m + 2 * DAY + 100;
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_CLASS_COUNT];
	int64_t sec;

	for (sec = 0; sec < 10; sec++) {
		fill(v, sec == 5 ? 9 : 6);
		ck_assert_int_eq(load_v(s, STATS_SECONDS, m + sec, v), 0);
	}
	close_sec(s, k, 2);
	ck_assert_uint_eq(r.nlog, 4);
	assert_event(&r, 0, STATS_MINUTES, m, 7);
	assert_event(&r, 1, STATS_HOURS, T0 + 8 * HOUR, 7);
	assert_event(&r, 2, STATS_DAYS, T0, 7);
	assert_event(&r, 3, STATS_SECONDS, k, 2);
	assert_row(s, STATS_DAYS, (k + 1) * 1000, 1, true, 7);
	stats_free(&s);
}
END_TEST

/* Row `row` of a table as value, max and avg, the same in every class. */
static void assert_detail(const struct stats *s, enum stats_table t,
			  int64_t now_ms, size_t row, uint32_t value,
			  uint32_t max, uint32_t avg)
{
	uint32_t v[STATS_MAX_ROWS], mx[STATS_MAX_ROWS], av[STATS_MAX_ROWS];
	bool ok[STATS_MAX_ROWS];
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		ck_assert_uint_eq(stats_read_detail(s, (enum stats_class)c, t,
						    now_ms, v, mx, av, ok,
						    row + 1),
				  row + 1);
		ck_assert_msg(ok[row], "table %d row %zu empty", t, row);
		ck_assert_msg(v[row] == value && mx[row] == max &&
				      av[row] == avg,
			      "table %d row %zu: %u/%u/%u, want %u/%u/%u", t,
			      row, v[row], mx[row], av[row], value, max, avg);
	}
}

/*
 * Max and avg, worked out by hand (hour H = day D = T0):
 *   minute 0: seconds 0..59 = 1, except s10 = 9 and s20 = 5:
 *             value top 3 = (9 + 5 + 1) / 3 = 5; max 9;
 *             avg = (58 + 9 + 5) / 60 = 72 / 60 = 1.2 -> 1
 *   minute 1: only s118 = 3 and s119 = 2: value 5/2 = 2.5 -> 3; max 3;
 *             avg 2.5 -> 3 (half up, over the seconds that exist)
 *   minute 5: only s300 = 20 and s301 = 0: value 10, max 20, avg 10
 *   hour 0:   value top 3 of minutes 5, 3, 10 = 18 / 3 = 6;
 *             max = max(9, 3, 20) = 20; avg = (1 + 3 + 10) / 3 = 4.67 -> 5
 *   hour 1:   only s3605 = 4: minute 60 and hour 1 are 4 / 4 / 4
 *   day 0:    value = the highest hour value, 6; max = max(20, 4) = 20;
 *             avg = (5 + 4) / 2 = 4.5 -> 5
 * A second's max and avg are its value.
 */
UNIT_TEST(max_avg_minute_hour_day)
{
	struct rec r;
	struct stats *s = new_recorded(&r);
	uint32_t v[STATS_MAX_ROWS], mx[STATS_MAX_ROWS], av[STATS_MAX_ROWS];
	int64_t sec;

	for (sec = 0; sec < 60; sec++)
		close_sec(s, T0 + sec, sec == 10 ? 9 : sec == 20 ? 5 : 1);
	assert_detail(s, STATS_SECONDS, (T0 + 60) * 1000 + 100, 39, 5, 5, 5);
	assert_detail(s, STATS_SECONDS, (T0 + 60) * 1000 + 100, 0, 1, 1, 1);
	assert_detail(s, STATS_MINUTES, (T0 + 60) * 1000 + 100, 0, 5, 9, 1);

	close_sec(s, T0 + 118, 3);
	close_sec(s, T0 + 119, 2);
	assert_detail(s, STATS_MINUTES, (T0 + 120) * 1000 + 100, 0, 3, 3, 3);

	close_sec(s, T0 + 300, 20);
	close_sec(s, T0 + 301, 0);
	close_sec(s, T0 + HOUR + 5, 4); /* closes minute 5, then hour 0 */
	assert_detail(s, STATS_MINUTES, (T0 + HOUR + 6) * 1000 + 100, 54, 10,
		      20, 10);
	assert_detail(s, STATS_HOURS, (T0 + HOUR + 6) * 1000 + 100, 0, 6, 20,
		      5);

	close_sec(s, T0 + DAY + 1, 0); /* closes minute 60, hour 1, day 0 */
	assert_detail(s, STATS_HOURS, (T0 + DAY + 2) * 1000 + 100, 22, 4, 4,
		      4);
	assert_detail(s, STATS_DAYS, (T0 + DAY + 2) * 1000 + 100, 0, 6, 20, 5);
	ck_assert_uint_eq(r.count[STATS_DAYS], 1);

	/* Empty rows read 0; any output may be NULL; bad arguments read 0. */
	ck_assert_uint_eq(stats_read_detail(s, STATS_VGW, STATS_DAYS,
					    (T0 + DAY + 2) * 1000, v, mx, av,
					    NULL, 2),
			  2);
	ck_assert_uint_eq(mx[1], 0);
	ck_assert_uint_eq(av[1], 0);
	ck_assert_uint_eq(stats_read_detail(s, STATS_VGW, STATS_DAYS,
					    (T0 + DAY + 2) * 1000, NULL, NULL,
					    av, NULL, 1),
			  1);
	ck_assert_uint_eq(av[0], 5);
	ck_assert_uint_eq(stats_read_detail(s, STATS_CLASS_COUNT, STATS_DAYS,
					    0, v, mx, av, NULL, 1),
			  0);
	ck_assert_uint_eq(stats_read_detail(s, STATS_VGW, STATS_TABLE_COUNT,
					    0, v, mx, av, NULL, 1),
			  0);
	ck_assert_uint_eq(stats_read_detail(NULL, STATS_VGW, STATS_DAYS, 0, v,
					    mx, av, NULL, 1),
			  0);
	stats_free(&s);
}
END_TEST

/*
 * Loaded buckets keep the max and avg they were saved with, and feed the
 * bucket above them: hour H loaded as value 4, max 9, avg 2, and minute
 * 59 of H + 1 h as 6 / 8 / 7 (max and avg differing from the value);
 * seconds of the open minute then close hour H + 1 h and day D:
 *   minute H+1h+59 is loaded (kept); hour H + 1 h = value 6, max 8, avg 7
 *   day D = value max(4, 6) = 6, max = max(9, 8) = 9, avg (2 + 7) / 2 = 4.5
 *           -> 5
 */
UNIT_TEST(load_keeps_max_avg)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		b.value[c] = 4;
		b.max[c] = 9;
		b.avg[c] = 2;
	}
	ck_assert_int_eq(stats_load(s, STATS_HOURS, T0, &b), 0);
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		b.value[c] = 6;
		b.max[c] = 8;
		b.avg[c] = 7;
	}
	ck_assert_int_eq(stats_load(s, STATS_MINUTES, T0 + 2 * HOUR - MIN, &b),
			 0);
	assert_detail(s, STATS_HOURS, (T0 + HOUR) * 1000, 0, 4, 9, 2);
	close_sec(s, T0 + DAY + 3, 1);
	assert_detail(s, STATS_HOURS, (T0 + 2 * HOUR) * 1000, 0, 6, 8, 7);
	assert_detail(s, STATS_MINUTES, (T0 + 2 * HOUR) * 1000, 0, 6, 8, 7);
	assert_detail(s, STATS_DAYS, (T0 + DAY + 4) * 1000, 0, 6, 9, 5);
	stats_free(&s);
}
END_TEST

/* What stats_load refuses, and which of two buckets sharing a slot wins. */
UNIT_TEST(load_rules)
{
	struct stats *s = stats_new();
	uint32_t v[STATS_CLASS_COUNT];

	fill(v, 5);
	ck_assert_int_eq(load_v(s, STATS_MINUTES, T0 + 30, v), -1);
	ck_assert_int_eq(load_v(s, STATS_HOURS, T0 + MIN, v), -1);
	ck_assert_int_eq(load_v(s, STATS_DAYS, T0 + HOUR, v), -1);
	ck_assert_int_eq(load_v(s, STATS_SECONDS, -1, v), -1);
	ck_assert_int_eq(load_v(s, STATS_SECONDS, INT64_C(253402300800), v),
			 -1); /* year 10000 */
	ck_assert_int_eq(load_v(s, (enum stats_table)7, T0, v), -1);
	ck_assert_int_eq(stats_load(s, STATS_SECONDS, T0, NULL), -1);
	ck_assert_int_eq(stats_last_second(s), -1);

	/* T0+100 and T0+40 share a slot: the newer stays. */
	ck_assert_int_eq(load_v(s, STATS_SECONDS, T0 + 100, v), 0);
	fill(v, 6);
	ck_assert_int_eq(load_v(s, STATS_SECONDS, T0 + 40, v), 0);
	assert_row(s, STATS_SECONDS, (T0 + 101) * 1000, 0, true, 5);
	assert_row(s, STATS_SECONDS, (T0 + 41) * 1000, 0, false, 0);
	/* The same start twice: the later load wins. */
	fill(v, 8);
	ck_assert_int_eq(load_v(s, STATS_SECONDS, T0 + 100, v), 0);
	assert_row(s, STATS_SECONDS, (T0 + 101) * 1000, 0, true, 8);
	ck_assert_int_eq(stats_last_second(s), T0 + 100);

	/* After a tick (even one that closes nothing), loads are refused. */
	close_sec(s, T0 + 50, 1);
	ck_assert_int_eq(stats_last_second(s), T0 + 100);
	ck_assert_int_eq(load_v(s, STATS_SECONDS, T0 + 99, v), -1);
	stats_free(&s);
}
END_TEST

/*
 * Row alignment, per table: buckets j = 0 .. rows-1 from T0 loaded with
 * (j + 1) * (class + 1). Anywhere in bucket `rows` (its first ms, its
 * middle, its last ms), row i is bucket rows-1-i = (rows - i) * (class +
 * 1). One bucket later everything moves down a row and row 0 is empty.
 */
UNIT_TEST(read_alignment)
{
	int t, c;

	for (t = 0; t < STATS_TABLE_COUNT; t++) {
		const int64_t len = stats_table_seconds((enum stats_table)t);
		const size_t rows = stats_table_rows((enum stats_table)t);
		const int64_t cur = T0 + (int64_t)rows * len;
		const int64_t at[] = {cur * 1000, cur * 1000 + len * 500,
				      (cur + len) * 1000 - 1};
		struct stats *s = stats_new();
		uint32_t v[STATS_MAX_ROWS];
		bool ok[STATS_MAX_ROWS];
		size_t j, i, a;

		for (j = 0; j < rows; j++) {
			uint32_t in[STATS_CLASS_COUNT];

			for (c = 0; c < STATS_CLASS_COUNT; c++)
				in[c] = (uint32_t)((j + 1) * (c + 1));
			ck_assert_int_eq(load_v(s, (enum stats_table)t,
						    T0 + (int64_t)j * len, in),
					 0);
		}
		for (c = 0; c < STATS_CLASS_COUNT; c++) {
			for (a = 0; a < NELEM(at); a++) {
				ck_assert_uint_eq(
					stats_read(s, (enum stats_class)c,
						   (enum stats_table)t, at[a],
						   v, ok, STATS_MAX_ROWS),
					rows);
				for (i = 0; i < rows; i++) {
					ck_assert(ok[i]);
					ck_assert_uint_eq(v[i],
							  (rows - i) * (c + 1));
				}
			}
			ck_assert_uint_eq(stats_read(s, (enum stats_class)c,
						     (enum stats_table)t,
						     (cur + len) * 1000, v, ok,
						     5),
					  5);
			ck_assert(!ok[0]);
			for (i = 1; i < 5; i++)
				ck_assert_uint_eq(v[i],
						  (rows - i + 1) * (c + 1));
		}
		stats_free(&s);
	}
}
END_TEST

/*
 * Times that are not times are not believed; their peaks are carried.
 * Bad arguments read nothing. Limits and names.
 */
UNIT_TEST(bounded_inputs)
{
	struct stats *s = stats_new();
	uint32_t v[STATS_MAX_ROWS];
	bool ok[STATS_MAX_ROWS];
	const int64_t end_9999 = INT64_C(253402300800); /* first s of 10000 */
	size_t i;

	tick_at(s, -5000, 9);
	tick_at(s, 500, 3);	  /* second -1 */
	tick_at(s, INT64_MAX, 4); /* far beyond 9999 */
	tick_at(s, INT64_MIN, 4);
	ck_assert_int_eq(stats_last_second(s), -1);
	close_sec(s, T0, 2);
	assert_row(s, STATS_SECONDS, (T0 + 1) * 1000, 0, true, 9);

	ck_assert_uint_eq(stats_read(s, STATS_CLASS_COUNT, STATS_SECONDS,
				     T0 * 1000, v, ok, 5),
			  0);
	ck_assert_uint_eq(stats_read(s, STATS_STANDARD, STATS_TABLE_COUNT,
				     T0 * 1000, v, ok, 5),
			  0);
	ck_assert_uint_eq(stats_read(s, STATS_STANDARD, STATS_SECONDS,
				     T0 * 1000, NULL, ok, 5),
			  0);
	ck_assert_uint_eq(
		stats_read(s, STATS_STANDARD, STATS_DAYS, -86400001, v, ok, 72),
		72);
	for (i = 0; i < 72; i++)
		ck_assert(!ok[i]);
	ck_assert_uint_eq(
		stats_read(s, STATS_STANDARD, STATS_DAYS, INT64_MIN, v, ok, 72),
		72);
	ck_assert_uint_eq(
		stats_read(s, STATS_STANDARD, STATS_DAYS, INT64_MAX, v, ok, 72),
		72);

	/* A jump to the last second of 9999 still works, beyond does not. */
	close_sec(s, end_9999 - 1, 6);
	ck_assert_int_eq(stats_last_second(s), end_9999 - 1);
	assert_row(s, STATS_SECONDS, end_9999 * 1000, 0, true, 6);
	assert_row(s, STATS_DAYS, end_9999 * 1000, 0, true, 6);
	tick_at(s, (end_9999 + 1) * 1000, 1);
	ck_assert_int_eq(stats_last_second(s), end_9999 - 1);

	ck_assert_uint_eq(stats_table_rows(STATS_SECONDS), 60);
	ck_assert_uint_eq(stats_table_rows(STATS_MINUTES), 60);
	ck_assert_uint_eq(stats_table_rows(STATS_HOURS), 72);
	ck_assert_uint_eq(stats_table_rows(STATS_DAYS), 72);
	ck_assert_uint_eq(stats_table_rows(STATS_TABLE_COUNT), 0);
	ck_assert_int_eq(stats_table_seconds(STATS_SECONDS), 1);
	ck_assert_int_eq(stats_table_seconds(STATS_MINUTES), 60);
	ck_assert_int_eq(stats_table_seconds(STATS_HOURS), 3600);
	ck_assert_int_eq(stats_table_seconds(STATS_DAYS), 86400);
	ck_assert_str_eq(stats_class_name(STATS_STANDARD), "STANDARD");
	ck_assert_str_eq(stats_class_name(STATS_AGGREGATE), "AGGREGATE");
	ck_assert_str_eq(stats_class_name(STATS_CLASS_COUNT), "?");

	stats_free(&s);
	ck_assert_ptr_null(s);
	stats_free(&s);
	stats_free(NULL);
}
END_TEST

UNIT_MAIN("stats")
