/*
 * Table and graph views of the usage tables (docs/internals/render.md).
 *
 * The tables are built through the public stats API (stats_tick with
 * chosen times, stats_load for minutes, hours and days), so these tests
 * run the real bucket code too. Whole outputs are compared with golden
 * files in tests/unit/golden/; the rows that matter are also checked
 * against values worked out by hand in the comments, and two read-back
 * tests parse the output and compare it with stats_read, so a golden file
 * made from wrong output cannot hide a wrong rule.
 *
 * Golden files are found in SBC_GOLDEN_DIR (a compile definition). Run
 * with SBC_UPDATE_GOLDEN=1 to rewrite them from the current output, then
 * inspect the diff by eye before keeping it.
 */
#include "stats/render.h"

#include "golden.h"
#include "unit.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2024-01-01T00:00:00Z, a Monday: aligned to a day, hour and minute. */
#define T0 INT64_C(1704067200)
#define MIN INT64_C(60)
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

typedef int render_fn(const struct stats *s, int cls, int64_t now_ms,
		      const char *hostname, FILE *out);

/* Output of one render call, NUL-terminated (open_memstream). */
struct capture {
	char *buf;
	size_t len;
	int rc;
};

static void capture(struct capture *c, render_fn *fn, const struct stats *s,
		    int cls, int64_t now_ms, const char *host)
{
	FILE *f;

	c->buf = NULL;
	c->len = 0;
	f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(f);
	c->rc = fn(s, cls, now_ms, host, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void capture_free(struct capture *c)
{
	free(c->buf);
	c->buf = NULL;
}

/* Line n (1-based) of text, without its newline; "" past the end. */

/* Lines of text, counting a last one without a newline. */

/*
 * The 1-based number of the first line equal to `want` (0 if none), and
 * in *count (if not NULL) how many lines are.
 */
static size_t find_lines(const char *text, const char *want, size_t *count)
{
	char line[LINE_LEN];
	size_t n, lines = count_lines(text), first = 0, seen = 0;

	for (n = 1; n <= lines; n++) {
		if (strcmp(line_at(text, n, line), want) != 0)
			continue;
		if (seen++ == 0)
			first = n;
	}
	if (count != NULL)
		*count = seen;
	return first;
}

static size_t find_line(const char *text, const char *want)
{
	return find_lines(text, want, NULL);
}

/*
 * An expected graph line: `label` followed by the pairs (int col, const
 * char *text) given, each text placed at its 0-based column, blanks
 * between, no trailing blanks; `pairs` says how many pairs follow.
 */
static const char *cols_line(char dst[LINE_LEN], const char *label,
			     int pairs, ...)
{
	size_t len = strlen(label), col, tlen;
	const char *text;
	va_list ap;
	int i;

	memset(dst, ' ', LINE_LEN);
	memcpy(dst, label, len);
	va_start(ap, pairs);
	for (i = 0; i < pairs; i++) {
		col = (size_t)va_arg(ap, int);
		text = va_arg(ap, const char *);
		tlen = strlen(text);
		ck_assert(col + tlen < LINE_LEN);
		memcpy(dst + col, text, tlen);
		if (col + tlen > len)
			len = col + tlen;
	}
	va_end(ap);
	dst[len] = '\0';
	return dst;
}

/* A run of n copies of ch (n < LINE_LEN), for bars. */
static const char *run(char dst[LINE_LEN], char ch, size_t n)
{
	memset(dst, ch, n);
	dst[n] = '\0';
	return dst;
}



static void check_view(const char *name, render_fn *fn, const struct stats *s,
		       int cls, int64_t now_ms)
{
	struct capture c;

	capture(&c, fn, s, cls, now_ms, "cube1");
	ck_assert_int_eq(c.rc, 0);
	check_golden(name, c.buf, c.len);
	capture_free(&c);
}

/* A tick 0.1 s into second sec + 1: it closes second sec. */
static void tick_sec(struct stats *s, int64_t sec,
		     const uint32_t v[STATS_CLASS_COUNT])
{
	stats_tick(s, (sec + 1) * 1000 + 100, v);
}

/*
 * Load a bucket with value v, max = v and avg = v / 2 (rounded down), so
 * the minutes, hours and days graphs of loaded buckets draw '#' in the
 * lower half of each bar and '*' above it.
 */
static void load(struct stats *s, enum stats_table t, int64_t start,
		 const uint32_t v[STATS_CLASS_COUNT])
{
	struct stats_bucket b;
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		b.value[c] = v[c];
		b.max[c] = v[c];
		b.avg[c] = v[c] / 2;
	}
	ck_assert_int_eq(stats_load(s, t, start, &b), 0);
}

/*
 * The "spike" tables: seconds T0 .. T0+59 closed with 0 calls, except
 * T0+52 with 7 Standard calls. Read at 00:01:00.5 the seconds table has
 * T0+59 as age 0, so the spike is age 7: column 8 of the graph, row
 * `6-10` of the table. Closing T0+59 closes minute T0, the top-3 average
 * of 7, 0, 0 = 7/3 = 2.33 -> 2, which is age 0 of the minutes table.
 */
#define SPIKE_NOW ((T0 + 60) * 1000 + 500)

static struct stats *spike_tables(void)
{
	struct stats *s = stats_new();
	uint32_t v[STATS_CLASS_COUNT];
	int64_t sec;

	ck_assert_ptr_nonnull(s);
	for (sec = T0; sec < T0 + 60; sec++) {
		memset(v, 0, sizeof(v));
		if (sec == T0 + 52)
			v[STATS_STANDARD] = 7;
		tick_sec(s, sec, v);
	}
	return s;
}

/*
 * The "full" tables: every bucket of every class holds a value. Now is
 * H + 2 min, H = day 80 + 10 h; ages count back from the newest closed
 * bucket (age 0):
 *   seconds H+60 .. H+119 ticked, age i:  std 100 + i, enh 10 + i % 5,
 *                                          red 1 + i % 2, vgw 3 + i % 3
 *   minute age 0 (H+60) closed by those ticks: top-3 average
 *   minutes age 1..59 loaded:             std 200 + 2i, enh 20 + i % 10,
 *                                          red 1 + i % 3, vgw 1 + i % 4
 *   hours age 0..71 loaded:               std 300 + 3i, enh 30 + i % 6,
 *                                          red 2 + i % 2, vgw 5
 *   days age 0..71 loaded:                std 1000 + 10i, enh 50 + i,
 *                                          red 3, vgw 7 + i % 2
 * and aggregate = std + enh + red in every bucket.
 */
#define FULL_H (T0 + 80 * DAY + 10 * HOUR)
#define FULL_NOW ((FULL_H + 2 * MIN) * 1000 + 500)

static void set5(uint32_t v[STATS_CLASS_COUNT], uint32_t std, uint32_t enh,
		 uint32_t red, uint32_t vgw)
{
	v[STATS_STANDARD] = std;
	v[STATS_ENHANCED] = enh;
	v[STATS_REDUNDANT] = red;
	v[STATS_VGW] = vgw;
	v[STATS_AGGREGATE] = std + enh + red;
}

static struct stats *full_tables(void)
{
	struct stats *s = stats_new();
	int64_t day = FULL_H - FULL_H % DAY;
	uint32_t v[STATS_CLASS_COUNT];
	uint32_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < 72; i++) {
		set5(v, 1000 + 10 * i, 50 + i, 3, 7 + i % 2);
		load(s, STATS_DAYS, day - (int64_t)(i + 1) * DAY, v);
		set5(v, 300 + 3 * i, 30 + i % 6, 2 + i % 2, 5);
		load(s, STATS_HOURS, FULL_H - (int64_t)(i + 1) * HOUR, v);
	}
	for (i = 1; i < 60; i++) {
		set5(v, 200 + 2 * i, 20 + i % 10, 1 + i % 3, 1 + i % 4);
		load(s, STATS_MINUTES, FULL_H + 60 - (int64_t)i * MIN, v);
	}
	for (i = 60; i-- > 0;) {
		set5(v, 100 + i, 10 + i % 5, 1 + i % 2, 3 + i % 3);
		tick_sec(s, FULL_H + 119 - i, v);
	}
	return s;
}

/*
 * The "digits" tables, TDM-SIP (VGW) only, with values of 1, 2 and 4
 * digits; now is the same as for the full tables.
 *   seconds: age 0 = 1234, age 6 = 42, age 59 = 1, the rest 0; so
 *            minute age 0 = top-3 average (1234 + 42 + 1) / 3 = 425.67
 *            -> 426
 *   minutes: age 1 = 1, age 30 = 42, age 59 = 1234
 *   hours:   age 0 = 42, age 35 = 1 (the others have no bucket)
 *   days:    age 0 = 1234
 */
static struct stats *digit_tables(void)
{
	struct stats *s = stats_new();
	int64_t day = FULL_H - FULL_H % DAY;
	uint32_t v[STATS_CLASS_COUNT] = {0};
	int i;

	ck_assert_ptr_nonnull(s);
	v[STATS_VGW] = 1;
	load(s, STATS_MINUTES, FULL_H, v);
	load(s, STATS_HOURS, FULL_H - 36 * HOUR, v);
	v[STATS_VGW] = 42;
	load(s, STATS_MINUTES, FULL_H + 60 - 30 * MIN, v);
	load(s, STATS_HOURS, FULL_H - HOUR, v);
	v[STATS_VGW] = 1234;
	load(s, STATS_MINUTES, FULL_H + 60 - 59 * MIN, v);
	load(s, STATS_DAYS, day - DAY, v);
	for (i = 59; i >= 0; i--) {
		v[STATS_VGW] = i == 0 ? 1234 : i == 6 ? 42 : i == 59 ? 1 : 0;
		tick_sec(s, FULL_H + 119 - i, v);
	}
	return s;
}

UNIT_TCASE("core", .timeout = 60);

UNIT_TEST(class_parse)
{
	static const struct {
		const char *word;
		int cls;
	} cases[] = {
		{"standard", STATS_STANDARD},
		{"std", STATS_STANDARD},
		{"STD", STATS_STANDARD},
		{"enhanced", STATS_ENHANCED},
		{"enh", STATS_ENHANCED},
		{"redundant", STATS_REDUNDANT},
		{"red", STATS_REDUNDANT},
		{"vgw", STATS_VGW},
		{"Aggregate", STATS_AGGREGATE},
		{"agg", STATS_AGGREGATE},
		{"", -1},
		{"st", -1},	   /* abbreviations are the CLI's job */
		{"standards", -1}, /* whole words only */
		{"tdm", -1},
		{"all", -1},
		{"std ", -1},
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		ck_assert_msg(stats_class_parse(cases[i].word) == cases[i].cls,
			      "word [%s]", cases[i].word);
	ck_assert_int_eq(stats_class_parse(NULL), -1);
}
END_TEST

UNIT_TEST(titles)
{
	ck_assert_str_eq(stats_render_title(STATS_STANDARD),
			 "CUBE Standard Trunk License Usage");
	ck_assert_str_eq(stats_render_title(STATS_ENHANCED),
			 "CUBE Enhanced Trunk License Usage");
	ck_assert_str_eq(stats_render_title(STATS_REDUNDANT),
			 "CUBE Redundant Trunk License Usage");
	ck_assert_str_eq(stats_render_title(STATS_AGGREGATE),
			 "CUBE Aggregate Trunk License Usage");
	ck_assert_str_eq(stats_render_title(STATS_VGW),
			 "TDM-SIP Trunk Sessions");
	ck_assert_ptr_null(stats_render_title(-1));
	ck_assert_ptr_null(stats_render_title(STATS_CLASS_COUNT));
}
END_TEST

/* The header line for a set of times and host names. */
UNIT_TEST(header_line)
{
	static const char long_host[] =
		"h123456789012345678901234567890123456789012345678901234567890"
		"1234567890";
	static const struct {
		int64_t ms;
		const char *host;
		const char *line;
	} cases[] = {
		{T0 * 1000, "cube1",
		 "cube1   12:00:00 AM Monday Jan 1 2024 UTC"},
		{(T0 + 12 * HOUR) * 1000, "cube1",
		 "cube1   12:00:00 PM Monday Jan 1 2024 UTC"},
		{(T0 + 13 * HOUR + 5 * MIN + 9) * 1000 + 999, "cube1",
		 "cube1   01:05:09 PM Monday Jan 1 2024 UTC"},
		{(T0 - 1) * 1000, "cube1",
		 "cube1   11:59:59 PM Sunday Dec 31 2023 UTC"},
		/* 2019-11-13T14:50:16Z, the time of the CUBE guide sample */
		{INT64_C(1573656616) * 1000, NULL,
		 "   02:50:16 PM Wednesday Nov 13 2019 UTC"},
		{INT64_C(1573656616) * 1000, "",
		 "   02:50:16 PM Wednesday Nov 13 2019 UTC"},
		/* 2024-02-29T23:59:59Z: leap day */
		{INT64_C(1709251199) * 1000, "r",
		 "r   11:59:59 PM Thursday Feb 29 2024 UTC"},
		{0, "r", "r   12:00:00 AM Thursday Jan 1 1970 UTC"},
		{-1, "r", "r   11:59:59 PM Wednesday Dec 31 1969 UTC"},
		{INT64_C(253402300799) * 1000, "r",
		 "r   11:59:59 PM Friday Dec 31 9999 UTC"},
		/* a blank and a newline would break the layout */
		{T0 * 1000, "a b\nc",
		 "a?b?c   12:00:00 AM Monday Jan 1 2024 UTC"},
		/* cut at 63 characters */
		{T0 * 1000, long_host,
		 "h1234567890123456789012345678901234567890"
		 "1234567890123456789012"
		 "   12:00:00 AM Monday Jan 1 2024 UTC"},
	};
	struct stats *s = stats_new();
	char line[LINE_LEN];
	struct capture c;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		capture(&c, stats_render_table, s, STATS_STANDARD, cases[i].ms,
			cases[i].host);
		ck_assert_int_eq(c.rc, 0);
		ck_assert_str_eq(line_at(c.buf, 1, line), cases[i].line);
		ck_assert_str_eq(line_at(c.buf, 2, line), "");
		capture_free(&c);
		/* the graph view prints the same line above each class */
		capture(&c, stats_render_graph, s, STATS_STANDARD, cases[i].ms,
			cases[i].host);
		ck_assert_int_eq(c.rc, 0);
		ck_assert_str_eq(line_at(c.buf, 1, line), cases[i].line);
		capture_free(&c);
	}
	stats_free(&s);
}
END_TEST

/* Bad arguments write nothing; a failing stream is reported. */
UNIT_TEST(bad_arguments)
{
	static const int bad_cls[] = {-2, STATS_CLASS_COUNT, 100};
	render_fn *fns[2] = {stats_render_table, stats_render_graph};
	struct stats *s = stats_new();
	struct capture c;
	FILE *full;
	size_t i, f;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < NELEM(bad_cls); i++) {
			capture(&c, fns[f], s, bad_cls[i], T0 * 1000, "r");
			ck_assert_int_eq(c.rc, -1);
			ck_assert_uint_eq(c.len, 0);
			capture_free(&c);
		}
		capture(&c, fns[f], NULL, STATS_RENDER_ALL, T0 * 1000, "r");
		ck_assert_int_eq(c.rc, -1);
		ck_assert_uint_eq(c.len, 0);
		capture_free(&c);
		ck_assert_int_eq(fns[f](s, STATS_RENDER_ALL, T0 * 1000, "r",
					NULL),
				 -1);
		/* any time renders (and UBSan sees no overflow) */
		capture(&c, fns[f], s, STATS_RENDER_ALL, INT64_MIN, "r");
		ck_assert_int_eq(c.rc, 0);
		capture_free(&c);
		capture(&c, fns[f], s, STATS_RENDER_ALL, INT64_MAX, "r");
		ck_assert_int_eq(c.rc, 0);
		capture_free(&c);
		full = fopen("/dev/full", "w");
		if (full != NULL) {
			ck_assert_int_eq(fns[f](s, STATS_RENDER_ALL, T0 * 1000,
						"r", full),
					 -1);
			fclose(full);
		}
	}
	stats_free(&s);
}
END_TEST

/* Empty tables: every row 0; graphs on the 10..1 scale with no marks. */
UNIT_TEST(zero_tables)
{
	struct stats *s = stats_new();
	int64_t now = (T0 + 13 * HOUR + 5 * MIN + 9) * 1000;

	check_view("table_zero_all.txt", stats_render_table, s,
		   STATS_RENDER_ALL, now);
	check_view("graph_zero_all.txt", stats_render_graph, s,
		   STATS_RENDER_ALL, now);
	stats_free(&s);
}
END_TEST

/* Class order of the all-classes views: CUBE's, Redundant after Enhanced. */
UNIT_TEST(class_order)
{
	static const char *const order[] = {
		"CUBE Standard Trunk License Usage  (last 60 seconds)",
		"CUBE Enhanced Trunk License Usage  (last 60 seconds)",
		"CUBE Redundant Trunk License Usage  (last 60 seconds)",
		"CUBE Aggregate Trunk License Usage  (last 60 seconds)",
		"TDM-SIP Trunk Sessions (last 60 seconds)",
		"TDM-SIP Trunk Sessions (last 72 days)",
	};
	struct stats *s = stats_new();
	struct capture c;
	size_t i, at, prev = 0;

	capture(&c, stats_render_table, s, STATS_RENDER_ALL, T0 * 1000, "r");
	ck_assert_int_eq(c.rc, 0);
	for (i = 0; i < NELEM(order); i++) {
		at = find_line(c.buf, order[i]);
		ck_assert_msg(at > prev, "[%s] at line %zu", order[i], at);
		prev = at;
	}
	/* header 2 lines + 5 classes x 4 tables x 16 lines (title, header,
	 * separator, 12 rows, blank) */
	ck_assert_uint_eq(find_line(c.buf, order[5]), 2 + 19 * 16 + 1);
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_TEST(spike_table)
{
	struct stats *s = spike_tables();
	char line[LINE_LEN];
	struct capture c;
	size_t at;

	check_view("table_spike_standard.txt", stats_render_table, s,
		   STATS_STANDARD, SPIKE_NOW);
	capture(&c, stats_render_table, s, STATS_STANDARD, SPIKE_NOW, "cube1");
	/* seconds, row 6-10: ages 5..9 = 0 0 7 0 0: average 7/5 = 1.4 -> 1 */
	at = find_line(c.buf, "CUBE Standard Trunk License Usage  "
			      "(last 60 seconds)");
	ck_assert_uint_eq(at, 3);
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5           0          0");
	ck_assert_str_eq(line_at(c.buf, at + 4, line),
			 " 6-10          1          7");
	/* minutes, row 1-5: 2 0 0 0 0: average 2/5 = 0.4 -> 0, max 2 */
	at = find_line(c.buf, "CUBE Standard Trunk License Usage  "
			      "(last 60 minutes)");
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5           0          2");
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_TEST(spike_graph)
{
	struct stats *s = spike_tables();
	char line[LINE_LEN];
	struct capture c;

	check_view("graph_spike_standard.txt", stats_render_graph, s,
		   STATS_STANDARD, SPIKE_NOW);
	capture(&c, stats_render_graph, s, STATS_STANDARD, SPIKE_NOW, "cube1");
	/* Lines 3-7 digits, 8-17 rows 10..1. Column 8 (col 5 + 8 = 13):
	 * units digit 7, '#' from row 7 down; max 7 -> scale 10..1. */
	ck_assert_str_eq(line_at(c.buf, 7, line), "             7");
	ck_assert_str_eq(line_at(c.buf, 8, line), "   10");
	ck_assert_str_eq(line_at(c.buf, 10, line), "    8");
	ck_assert_str_eq(line_at(c.buf, 11, line), "    7        #");
	ck_assert_str_eq(line_at(c.buf, 17, line), "    1        #");
	ck_assert_str_eq(line_at(c.buf, 18, line),
			 "     0....5....1....1....2....2....3....3...."
			 "4....4....5....5....6");
	ck_assert_str_eq(line_at(c.buf, 19, line),
			 "               0    5    0    5    0    5    "
			 "0    5    0    5    0");
	ck_assert_str_eq(line_at(c.buf, 20, line),
			 "          CUBE Standard Trunk License Usage (last 60 "
			 "seconds)");
	/* no legend under the seconds graph; the minutes graph follows */
	ck_assert_str_eq(line_at(c.buf, 21, line), "");
	/* minutes: column 1 (col 6) is minute T0: max 7 (the spike), avg
	 * 7 / 60 = 0.12 -> 0 (its 60 seconds), so digit 7 and '*' in rows
	 * 7 to 1 with no '#'; the table's value (2) is not drawn. */
	ck_assert_str_eq(line_at(c.buf, 26, line), "      7");
	ck_assert_str_eq(line_at(c.buf, 29, line), "    8");
	ck_assert_str_eq(line_at(c.buf, 30, line), "    7 *");
	ck_assert_str_eq(line_at(c.buf, 35, line), "    2 *");
	ck_assert_str_eq(line_at(c.buf, 36, line), "    1 *");
	ck_assert_str_eq(line_at(c.buf, 40, line),
			 "          * = maximum   # = average");
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_TEST(full_table)
{
	struct stats *s = full_tables();
	char line[LINE_LEN];
	struct capture c;
	size_t at;

	check_view("table_full_all.txt", stats_render_table, s,
		   STATS_RENDER_ALL, FULL_NOW);
	capture(&c, stats_render_table, s, STATS_RENDER_ALL, FULL_NOW, "cube1");
	/* header: 2024-01-01 + 80 d = 2024-03-21, a Thursday; 10:02:00.5 */
	ck_assert_str_eq(line_at(c.buf, 1, line),
			 "cube1   10:02:00 AM Thursday Mar 21 2024 UTC");
	at = find_line(c.buf, "CUBE Standard Trunk License Usage  "
			      "(last 60 seconds)");
	/* std seconds 1-5: 100..104, average 510/5 = 102, max 104 */
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5         102        104");
	/* 56-60: 155..159, average 157, max 159 */
	ck_assert_str_eq(line_at(c.buf, at + 14, line),
			 "56-60        157        159");
	/* std minutes 1-5: age 0 = top 3 of 100..159 = (159+158+157)/3 =
	 * 158, ages 1..4 = 202 204 206 208; 978/5 = 195.6 -> 196 */
	at += 16;
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5         196        208");
	/* std hours 1-6: 300 303 ... 315, 1845/6 = 307.5 -> 308 (half up) */
	at += 16;
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-6         308        315");
	/* std days 67-72: 1660 .. 1710, 10110/6 = 1685, max 1710 */
	at += 16;
	ck_assert_str_eq(line_at(c.buf, at + 14, line),
			 "67-72       1685       1710");
	/* red seconds 1-5: 1 2 1 2 1 = 7/5 = 1.4 -> 1; 6-10: 2 1 2 1 2 =
	 * 8/5 = 1.6 -> 2 */
	at = find_line(c.buf, "CUBE Redundant Trunk License Usage  "
			      "(last 60 seconds)");
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5           1          2");
	ck_assert_str_eq(line_at(c.buf, at + 4, line),
			 " 6-10          2          2");
	/* aggregate seconds 1-5: std + enh + red = 100+10+1, 101+11+2,
	 * 102+12+1, 103+13+2, 104+14+1 = 111 114 115 118 119: 577/5 = 115.4
	 * -> 115, max 119 */
	at = find_line(c.buf, "CUBE Aggregate Trunk License Usage  "
			      "(last 60 seconds)");
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5         115        119");
	/* TDM-SIP: one blank before (last, same columns */
	at = find_line(c.buf, "TDM-SIP Trunk Sessions (last 72 days)");
	ck_assert_uint_ne(at, 0);
	ck_assert_str_eq(line_at(c.buf, at + 1, line),
			 "Period     Average       Max");
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_TEST(full_graph)
{
	struct stats *s = full_tables();
	char line[LINE_LEN], want[LINE_LEN], bar[LINE_LEN];
	struct capture c;
	size_t at, n;

	check_view("graph_full_all.txt", stats_render_graph, s,
		   STATS_RENDER_ALL, FULL_NOW);
	capture(&c, stats_render_graph, s, STATS_RENDER_ALL, FULL_NOW, "cube1");
	/* std seconds: max 159 -> step 20, rows 200..20. Column 1 = 100
	 * marks rows up to 100; column 60 = 159 rounds to 160. */
	ck_assert_str_eq(line_at(c.buf, 8, line), "  200");
	/* 160: 2v >= 15 x 20 -> v >= 150: ages 50..59, columns 51..60 */
	ck_assert_str_eq(line_at(c.buf, 10, line),
			 cols_line(want, "  160", 1, 5 + 51,
				   run(bar, '#', 10)));
	/* 100: v >= 90, every column */
	ck_assert_str_eq(line_at(c.buf, 13, line),
			 cols_line(want, "  100", 1, 6, run(bar, '#', 60)));
	/*
	 * std minutes (lines 22-26 digits, 27-36 rows 500..50): column 1 is
	 * minute age 0, closed from the seconds 100..159: max 159, avg 7770 /
	 * 60 = 129.5 -> 130; columns 2..60 are loaded, max 202..318 and avg
	 * half of it, 101..159. Largest max 318 -> step 50. Digits: 159.
	 * Row 150 (2x >= 250): column 1 avg 130 -> '#'; columns 2..25 (max
	 * 202..248, avg 101..124) max only -> '*'; columns 26..60 (avg 125
	 * and up) -> '#'. Row 200 (2x >= 350): max >= 175: columns 2..60.
	 */
	ck_assert_int_eq(line_at(c.buf, 24, line)[6], '1');
	ck_assert_int_eq(line_at(c.buf, 25, line)[6], '5');
	ck_assert_int_eq(line_at(c.buf, 26, line)[6], '9');
	ck_assert_int_eq(line_at(c.buf, 26, line)[7], '2'); /* 202 */
	ck_assert_str_eq(line_at(c.buf, 27, line), "  500");
	ck_assert_str_eq(line_at(c.buf, 34, line),
			 cols_line(want, "  150", 3, 6, "#", 7,
				   run(bar, '*', 24), 31,
				   "###################################"));
	ck_assert_str_eq(line_at(c.buf, 33, line),
			 cols_line(want, "  200", 1, 7, run(bar, '*', 59)));
	/* std days: max 1710 -> step 200; column 1 = 1000 reaches 1000 */
	at = find_line(c.buf, "          CUBE Standard Trunk License Usage "
			      "(last 72 days)");
	ck_assert_uint_ne(at, 0);
	ck_assert_str_eq(line_at(c.buf, at - 12, line), " 2000");
	/* 1200: 2v >= 11 x 200 -> v >= 1100: ages 10..71 = columns 11..72 */
	ck_assert_str_eq(line_at(c.buf, at - 8, line),
			 cols_line(want, " 1200", 1, 5 + 11,
				   run(bar, '*', 62)));
	ck_assert_str_eq(line_at(c.buf, at - 7, line),
			 cols_line(want, " 1000", 1, 6, run(bar, '*', 72)));
	/* five header lines, one per class, the first on line 1 */
	ck_assert_uint_eq(find_lines(c.buf,
				     "cube1   10:02:00 AM Thursday Mar 21 "
				     "2024 UTC",
				     &n),
			  1);
	ck_assert_uint_eq(n, 5);
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_TEST(digits_views)
{
	struct stats *s = digit_tables();
	char line[LINE_LEN], want[LINE_LEN];
	struct capture c;
	size_t at;

	check_view("table_digits_vgw.txt", stats_render_table, s, STATS_VGW,
		   FULL_NOW);
	check_view("graph_digits_vgw.txt", stats_render_graph, s, STATS_VGW,
		   FULL_NOW);

	capture(&c, stats_render_table, s, STATS_VGW, FULL_NOW, "cube1");
	at = find_line(c.buf, "TDM-SIP Trunk Sessions (last 60 seconds)");
	ck_assert_uint_eq(at, 3);
	/* 1234/5 = 246.8 -> 247; 42/5 = 8.4 -> 8; 1/5 = 0.2 -> 0 */
	ck_assert_str_eq(line_at(c.buf, at + 3, line),
			 " 1-5         247       1234");
	ck_assert_str_eq(line_at(c.buf, at + 4, line),
			 " 6-10          8         42");
	ck_assert_str_eq(line_at(c.buf, at + 14, line),
			 "56-60          0          1");
	/* minutes 1-5: 426 + 1 = 427/5 = 85.4 -> 85, max 426 */
	ck_assert_str_eq(line_at(c.buf, at + 19, line),
			 " 1-5          85        426");
	capture_free(&c);

	capture(&c, stats_render_graph, s, STATS_VGW, FULL_NOW, "cube1");
	/* seconds: max 1234 -> step 200, rows 2000..200. Digit lines 3-7:
	 * 1234 at column 1 (col 6), 42 at column 7 (col 12), 1 at column 60
	 * (col 65). 1234 rounds to 1200; 42 and 1 are below half a step. */
	ck_assert_str_eq(line_at(c.buf, 3, line), "");
	ck_assert_str_eq(line_at(c.buf, 4, line), "      1");
	ck_assert_str_eq(line_at(c.buf, 5, line), "      2");
	ck_assert_str_eq(line_at(c.buf, 6, line), "      3     4");
	ck_assert_str_eq(line_at(c.buf, 7, line),
			 cols_line(want, "", 3, 6, "4", 12, "2", 65, "1"));
	ck_assert_str_eq(line_at(c.buf, 8, line), " 2000");
	ck_assert_str_eq(line_at(c.buf, 12, line), " 1200 #");
	ck_assert_str_eq(line_at(c.buf, 17, line), "  200 #");
	capture_free(&c);
	stats_free(&s);
}
END_TEST

/*
 * Values wider than the CUBE layout: UINT32_MAX still leaves a blank
 * between table columns; the graph's labels widen to 10 and every
 * column, digit line and the ruler shift right with them.
 */
UNIT_TEST(wide_values)
{
	struct stats *s = stats_new();
	uint32_t v[STATS_CLASS_COUNT] = {0};
	char line[LINE_LEN];
	struct capture c;
	int64_t sec;

	for (sec = T0; sec < T0 + 60; sec++) {
		v[STATS_STANDARD] = sec == T0 + 59 ? UINT32_MAX : 0;
		tick_sec(s, sec, v);
	}
	capture(&c, stats_render_table, s, STATS_STANDARD, SPIKE_NOW, "cube1");
	/* 4294967295 / 5 = 858993459 exactly */
	ck_assert_str_eq(line_at(c.buf, 6, line),
			 " 1-5   858993459 4294967295");
	capture_free(&c);
	check_view("graph_wide_standard.txt", stats_render_graph, s,
		   STATS_STANDARD, SPIKE_NOW);
	capture(&c, stats_render_graph, s, STATS_STANDARD, SPIKE_NOW, "cube1");
	/* 10 digit lines (3-12), then rows 5000000000 .. 500000000 */
	ck_assert_str_eq(line_at(c.buf, 3, line), "           4");
	ck_assert_str_eq(line_at(c.buf, 12, line), "           5");
	ck_assert_str_eq(line_at(c.buf, 13, line), "5000000000");
	/* 4294967295 rounds to 4500000000 (4.29 steps of 1e9 = 8.59 of
	 * 5e8 -> 9 steps) */
	ck_assert_str_eq(line_at(c.buf, 14, line), "4500000000 #");
	ck_assert_str_eq(line_at(c.buf, 22, line), " 500000000 #");
	ck_assert_str_eq(line_at(c.buf, 23, line),
			 "          0....5....1....1....2....2....3...."
			 "3....4....4....5....5....6");
	capture_free(&c);
	stats_free(&s);
}
END_TEST

/*
 * Read-back of the table view: for every class and table of the full
 * tables, each row equals the group's mean (half up) and max computed
 * here from stats_read.
 */
UNIT_TEST(table_reads_back)
{
	static const size_t group[STATS_TABLE_COUNT] = {5, 5, 6, 6};
	static const int order[STATS_CLASS_COUNT] = {
		STATS_STANDARD, STATS_ENHANCED, STATS_REDUNDANT,
		STATS_AGGREGATE, STATS_VGW};
	struct stats *s = full_tables();
	uint32_t v[STATS_MAX_ROWS];
	char line[LINE_LEN], want[LINE_LEN];
	struct capture c;
	size_t n = 3, g, i; /* line 3: the first title */
	int ci, t;

	capture(&c, stats_render_table, s, STATS_RENDER_ALL, FULL_NOW, "r");
	for (ci = 0; ci < STATS_CLASS_COUNT; ci++) {
		for (t = 0; t < STATS_TABLE_COUNT; t++) {
			ck_assert_uint_eq(stats_read(s, order[ci], t, FULL_NOW,
						     v, NULL, STATS_MAX_ROWS),
					  12 * group[t]);
			n += 3;
			for (g = 0; g < 12; g++, n++) {
				uint64_t sum = 0;
				uint32_t max = 0;

				for (i = g * group[t]; i < (g + 1) * group[t];
				     i++) {
					sum += v[i];
					max = v[i] > max ? v[i] : max;
				}
				ck_assert_uint_ne(max, 0); /* full */
				snprintf(want, sizeof(want),
					 "%2zu-%-2zu%11u%11u",
					 g * group[t] + 1, (g + 1) * group[t],
					 (unsigned)((sum * 2 + group[t]) /
						    (2 * group[t])),
					 (unsigned)max);
				ck_assert_str_eq(line_at(c.buf, n, line), want);
			}
			n++; /* blank */
		}
	}
	capture_free(&c);
	stats_free(&s);
}
END_TEST

/*
 * Read-back of a graph: a seconds table of varied values (max 96, so
 * step 10); for every column, the vertical digits spell the value and
 * the marked rows are its value in steps of 10 rounded half up.
 */
UNIT_TEST(graph_reads_back)
{
	struct stats *s = stats_new();
	uint32_t v[STATS_CLASS_COUNT] = {0}, got[60];
	char lines[17][LINE_LEN];
	struct capture c;
	int64_t sec;
	size_t i, k;

	for (sec = T0; sec < T0 + 60; sec++) {
		v[STATS_ENHANCED] =
			(uint32_t)((sec - T0) * (sec - T0) * 7 % 97);
		tick_sec(s, sec, v);
	}
	ck_assert_uint_eq(stats_read(s, STATS_ENHANCED, STATS_SECONDS,
				     SPIKE_NOW, got, NULL, 60),
			  60);
	capture(&c, stats_render_graph, s, STATS_ENHANCED, SPIKE_NOW, "r");
	for (k = 0; k < 17; k++)
		line_at(c.buf, 3 + k, lines[k]); /* 5 digit lines, 10 rows */
	ck_assert_int_eq(strncmp(lines[5], "  100", 5), 0); /* step 10 */
	for (i = 0; i < 60; i++) {
		size_t col = 6 + i, marks = 0;
		uint32_t val = 0;

		for (k = 0; k < 5; k++) {
			char ch = strlen(lines[k]) > col ? lines[k][col] : ' ';

			if (ch != ' ')
				val = val * 10 + (uint32_t)(ch - '0');
			else
				ck_assert_uint_eq(val, 0); /* no inner blank */
		}
		ck_assert_uint_eq(val, got[i]);
		for (k = 5; k < 15; k++) {
			char ch = strlen(lines[k]) > col ? lines[k][col] : ' ';

			ck_assert(ch == ' ' || ch == '#');
			marks += ch == '#';
			/* bars are solid from the bottom up */
			if (ch == ' ')
				ck_assert_uint_eq(marks, 0);
		}
		ck_assert_uint_eq(marks, (got[i] + 5) / 10);
	}
	capture_free(&c);
	stats_free(&s);
}
END_TEST

UNIT_MAIN("render")
