/*
 * Measurement periods and usage records (docs/internals/licensing-periods.md,
 * docs/internals/licensing-periods.md) with frozen time: every call is
 * given its `now`. Expected values are worked out by hand in the tables
 * and comments.
 */
#include "licensing/period.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>

/* 2024-01-01T00:00:00Z: aligned to a day, so to an hour too. */
#define T0 INT64_C(1704067200)
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

static struct lic_periodicity per_of(enum lic_period_unit u, long v)
{
	struct lic_periodicity per;

	ck_assert_int_eq(lic_periodicity_make(u, v, &per, NULL), 0);
	return per;
}

static struct lic_period *tracker(enum lic_period_unit u, long v,
				  int64_t start)
{
	struct lic_periodicity per = per_of(u, v);
	struct lic_period *p = lic_period_new(&per, start);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* Hourly values: standard, enhanced, redundant, vgw, aggregate. */
static void hour(struct lic_period *p, int64_t start, uint32_t std,
		 uint32_t enh, uint32_t red, uint32_t vgw, uint32_t agg)
{
	uint32_t v[LIC_CLASS_COUNT] = {std, enh, red, vgw, agg};

	ck_assert_int_eq(lic_period_add_hour(p, start, v), 0);
}

static void check_recs(const struct lic_record rec[LIC_TAG_COUNT],
		       int64_t start, int64_t end, uint32_t std, uint32_t enh,
		       uint32_t red, uint32_t vgw)
{
	const uint32_t want[LIC_TAG_COUNT] = {std, enh, red, vgw};
	int t;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		ck_assert_int_eq(rec[t].tag, t);
		ck_assert_int_eq(rec[t].start, start);
		ck_assert_int_eq(rec[t].end, end);
		ck_assert_uint_eq(rec[t].count, want[t]);
	}
}

/*
 * Hours 8..23 (_i): the period [T0, T0 + h hours) is due at its last
 * second + 1 and not before; the next one follows on without a gap.
 */
UNIT_LOOP_TEST(boundary_hours, 8, 24)
{
	long h = _i;
	int64_t len = h * HOUR;
	struct lic_periodicity per;
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_period *p;
	bool raised = true;

	ck_assert_int_eq(lic_periodicity_make(LIC_PERIOD_HOURS, h, &per,
					      &raised),
			 0);
	ck_assert(!raised);
	ck_assert_int_eq(per.unit, LIC_PERIOD_HOURS);
	ck_assert_uint_eq(per.value, (unsigned)h);
	ck_assert_int_eq(lic_periodicity_seconds(&per), len);
	p = lic_period_new(&per, T0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(lic_period_end(p), T0 + len);
	ck_assert(!lic_period_due(p, T0));
	ck_assert(!lic_period_due(p, T0 + len - 1));
	ck_assert(lic_period_due(p, T0 + len));
	ck_assert_int_eq(lic_period_close_due(p, T0 + len - 1, rec), 0);
	hour(p, T0 + len - HOUR, 1, 0, 0, 0, 1); /* the period's last hour */
	ck_assert_int_eq(lic_period_close_due(p, T0 + len, rec), 1);
	check_recs(rec, T0, T0 + len, 1, 0, 0, 0);
	ck_assert_int_eq(lic_period_start(p), T0 + len);
	ck_assert_int_eq(lic_period_end(p), T0 + 2 * len);
	ck_assert(!lic_period_due(p, T0 + 2 * len - 1));
	ck_assert_int_eq(lic_period_close_due(p, T0 + 2 * len, rec), 1);
	check_recs(rec, T0 + len, T0 + 2 * len, 0, 0, 0, 0);
	lic_period_free(&p);
	ck_assert_ptr_null(p);
}
END_TEST

/* Days 1..30 (_i), likewise; a late timer does not shift the schedule. */
UNIT_LOOP_TEST(boundary_days, 1, 31)
{
	long d = _i;
	int64_t len = d * DAY;
	struct lic_periodicity per = per_of(LIC_PERIOD_DAYS, d);
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_period *p;

	ck_assert_int_eq(lic_periodicity_seconds(&per), len);
	p = lic_period_new(&per, T0);
	ck_assert(!lic_period_due(p, T0 + len - 1));
	ck_assert(lic_period_due(p, T0 + len));
	/* The timer fires 90 s late: the record still ends on schedule. */
	ck_assert_int_eq(lic_period_close_due(p, T0 + len + 90, rec), 1);
	check_recs(rec, T0, T0 + len, 0, 0, 0, 0);
	ck_assert_int_eq(lic_period_end(p), T0 + 2 * len);
	ck_assert_int_eq(lic_period_close_due(p, T0 + len + 90, rec), 0);
	lic_period_free(&p);
}
END_TEST

/* Hours 1..7 (_i) are raised to 8 hours, and the caller is told. */
UNIT_LOOP_TEST(raised_to_8_hours, 1, 8)
{
	struct lic_periodicity per;
	struct lic_period *p;
	bool raised = false;

	ck_assert_int_eq(lic_periodicity_make(LIC_PERIOD_HOURS, _i, &per,
					      &raised),
			 0);
	ck_assert(raised);
	ck_assert_int_eq(per.unit, LIC_PERIOD_HOURS);
	ck_assert_uint_eq(per.value, 8);
	ck_assert_int_eq(lic_periodicity_seconds(&per), 8 * HOUR);
	p = lic_period_new(&per, T0);
	ck_assert(!lic_period_due(p, T0 + 8 * HOUR - 1));
	ck_assert(lic_period_due(p, T0 + 8 * HOUR));
	lic_period_free(&p);
	/* raised may be NULL. */
	ck_assert_int_eq(lic_periodicity_make(LIC_PERIOD_HOURS, _i, &per,
					      NULL),
			 0);
}
END_TEST

static const struct {
	int unit;
	long value;
} bad_periodicities[] = {
	{LIC_PERIOD_HOURS, 0},	{LIC_PERIOD_HOURS, -1},
	{LIC_PERIOD_HOURS, 24}, {LIC_PERIOD_HOURS, 1000},
	{LIC_PERIOD_DAYS, 0},	{LIC_PERIOD_DAYS, -7},
	{LIC_PERIOD_DAYS, 31},	{LIC_PERIOD_DAYS, 365},
	{7, 7},			{-1, 8},
};

UNIT_LOOP_TEST(periodicity_bad, 0, (int)NELEM(bad_periodicities))
{
	struct lic_periodicity per = {LIC_PERIOD_DAYS, 3};
	bool raised = false;

	ck_assert_int_eq(
		lic_periodicity_make((enum lic_period_unit)bad_periodicities[_i]
					     .unit,
				     bad_periodicities[_i].value, &per, &raised),
		-1);
	ck_assert_int_eq(per.unit, LIC_PERIOD_DAYS);
	ck_assert_uint_eq(per.value, 3);
	ck_assert(!raised);
}
END_TEST

UNIT_TEST(periodicity_default_and_invalid)
{
	struct lic_periodicity per = lic_periodicity_default();
	struct lic_periodicity bad = {LIC_PERIOD_HOURS, 7};
	struct lic_periodicity bad2 = {LIC_PERIOD_DAYS, 31};

	ck_assert_int_eq(per.unit, LIC_PERIOD_DAYS);
	ck_assert_uint_eq(per.value, 7);
	ck_assert_int_eq(lic_periodicity_seconds(&per), 7 * DAY);
	ck_assert_int_eq(lic_periodicity_seconds(&bad), 0);
	ck_assert_int_eq(lic_periodicity_seconds(&bad2), 0);
	ck_assert_int_eq(lic_periodicity_seconds(NULL), 0);
	ck_assert_ptr_null(lic_period_new(&bad, T0));
	ck_assert_ptr_null(lic_period_new(NULL, T0));
	ck_assert_ptr_null(lic_period_new(&per, -1));
	ck_assert_int_eq(lic_periodicity_make(LIC_PERIOD_DAYS, 7, NULL, NULL),
			 -1);
	lic_period_free(NULL);
}
END_TEST

/*
 * Records of one 8-hour period fed these hours; the Standard record is
 * peak(AGGREGATE) - peak(ENHANCED), floored at 0, whatever the Standard
 * column says; the others are their class's maximum hour.
 */
static const struct {
	const char *what;
	size_t nhours;
	uint32_t h[3][LIC_CLASS_COUNT]; /* std, enh, red, vgw, agg */
	uint32_t want[LIC_TAG_COUNT];	/* STD, ENH, RED, VGW */
} record_cases[] = {
	{"no hours", 0, {{0}}, {0, 0, 0, 0}},
	{"all zero", 1, {{0, 0, 0, 0, 0}}, {0, 0, 0, 0}},
	/* agg 17 = 10 + 5 + 2; STD = 17 - 5 = 12 (redundant included). */
	{"one hour", 1, {{10, 5, 2, 3, 17}}, {12, 5, 2, 3}},
	/* Peaks from different hours: agg 20 (hour 1), enh 10 (hour 2). */
	{"peaks apart",
	 2,
	 {{20, 0, 0, 0, 20}, {0, 10, 0, 0, 10}},
	 {10, 10, 0, 0}},
	/* max agg 30, max enh 12, max red 4, max vgw 9: STD 18. */
	{"three hours",
	 3,
	 {{20, 5, 0, 9, 25}, {14, 12, 4, 1, 30}, {1, 1, 1, 1, 3}},
	 {18, 12, 4, 9}},
	/* VGW is not in the aggregate: STD = 8 - 0. */
	{"vgw apart", 1, {{8, 0, 0, 50, 8}}, {8, 0, 0, 50}},
	/* Inconsistent input (enh above agg): floored at 0, no wrap. */
	{"floor", 1, {{0, 8, 0, 0, 5}}, {0, 8, 0, 0}},
	{"large",
	 1,
	 {{0, 0, 0, UINT32_MAX, UINT32_MAX}},
	 {UINT32_MAX, 0, 0, UINT32_MAX}},
};

UNIT_LOOP_TEST(records_std_is_agg_minus_enh, 0, (int)NELEM(record_cases))
{
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_record peek[LIC_TAG_COUNT];
	size_t i;
	int t;

	for (i = 0; i < record_cases[_i].nhours; i++) {
		const uint32_t *v = record_cases[_i].h[i];

		hour(p, T0 + (int64_t)i * HOUR, v[0], v[1], v[2], v[3], v[4]);
	}
	lic_period_peek(p, T0 + 5 * HOUR, peek);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 8 * HOUR, rec), 1);
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		ck_assert_msg(rec[t].count == record_cases[_i].want[t],
			      "%s %s: %u, expected %u", record_cases[_i].what,
			      lic_tag_name((enum lic_tag)t), rec[t].count,
			      record_cases[_i].want[t]);
		ck_assert_uint_eq(peek[t].count, rec[t].count);
		ck_assert_int_eq(peek[t].start, T0);
		ck_assert_int_eq(peek[t].end, T0 + 5 * HOUR);
	}
	lic_period_free(&p);
}
END_TEST

/*
 * The 25% rule: last reported count -> the open period's value. Changed
 * when 4 * |cur - last| > last.
 */
static const struct {
	uint32_t last, cur;
	bool change;
} change_cases[] = {
	{100, 125, false}, /* exactly +25% is not more than 25% */
	{100, 126, true},
	{100, 75, false}, /* exactly -25% */
	{100, 74, true},
	{100, 100, false},
	{0, 0, false},
	{0, 1, true}, /* from 0 any use is a change */
	{0, 1000, true},
	{1, 0, true}, /* 1 -> 0 is -100% */
	{1, 1, false},
	{1, 2, true},
	{4, 5, false}, /* +25% */
	{4, 3, false}, /* -25% */
	{3, 4, true},  /* +33% */
	{3, 2, true},  /* -33% */
	{8, 10, false},
	{8, 11, true},
	{8, 6, false},
	{8, 5, true},
	{10, 12, false}, /* +20% */
	{10, 13, true},	 /* +30% */
	{10, 8, false},	 /* -20% */
	{10, 7, true},	 /* -30% */
	{10, 0, true},
	{4000000000u, 3000000000u, false}, /* exactly -25% */
	{4000000000u, 0, true},
	{0, UINT32_MAX, true},
	{UINT32_MAX, UINT32_MAX, false},
	{UINT32_MAX / 4 * 4, UINT32_MAX, false},
};

/*
 * A tracker whose last records report `std` and `enh`: an 8-hour period
 * from T0 with one hour (agg = std + enh) closed on schedule.
 */
static struct lic_period *reported(uint32_t std, uint32_t enh)
{
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	struct lic_record rec[LIC_TAG_COUNT];

	hour(p, T0, std, enh, 0, 0, std + enh);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 8 * HOUR, rec), 1);
	ck_assert_uint_eq(rec[LIC_TAG_STD].count, std);
	ck_assert_uint_eq(rec[LIC_TAG_ENH].count, enh);
	return p;
}

/* Standard judged on its own: Enhanced stays 0 -> 0. */
UNIT_LOOP_TEST(change_rule_standard, 0, (int)NELEM(change_cases))
{
	uint32_t last = change_cases[_i].last, cur = change_cases[_i].cur;
	struct lic_period *p = reported(last, 0);
	int64_t now = T0 + 9 * HOUR;
	unsigned held = 99;

	/* No hour in the new period yet: nothing is judged. */
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 8 * HOUR, NULL), 0);
	hour(p, T0 + 8 * HOUR, cur, 0, 0, 0, cur);
	ck_assert_msg(lic_period_hour_check(p, now, &held) ==
			      (change_cases[_i].change ? LIC_CHANGE_STD : 0),
		      "std %u -> %u", last, cur);
	ck_assert_uint_eq(held, 0);
	lic_period_free(&p);
}
END_TEST

/* Enhanced judged on its own: Standard stays 0 -> 0. */
UNIT_LOOP_TEST(change_rule_enhanced, 0, (int)NELEM(change_cases))
{
	uint32_t last = change_cases[_i].last, cur = change_cases[_i].cur;
	struct lic_period *p = reported(0, last);

	hour(p, T0 + 8 * HOUR, 0, cur, 0, 0, cur);
	ck_assert_msg(lic_period_hour_check(p, T0 + 9 * HOUR, NULL) ==
			      (change_cases[_i].change ? LIC_CHANGE_ENH : 0),
		      "enh %u -> %u", last, cur);
	lic_period_free(&p);
}
END_TEST

UNIT_TEST(change_rule_separate_tags)
{
	struct lic_period *p = reported(100, 40);
	struct lic_record rec[LIC_TAG_COUNT];

	/* STD 110 (+10%), ENH 60 (+50%): only Enhanced. agg = 170. */
	hour(p, T0 + 8 * HOUR, 110, 60, 0, 0, 170);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 9 * HOUR, NULL),
			  LIC_CHANGE_ENH);
	/* Next hour STD 200 (+100%) as well: both; peak so far counts. */
	hour(p, T0 + 9 * HOUR, 200, 10, 0, 0, 210);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 10 * HOUR, NULL),
			  LIC_CHANGE_STD | LIC_CHANGE_ENH);
	/* Close now: STD = 210 - 60 = 150, ENH = 60. */
	ck_assert_int_eq(lic_period_close_change(p, T0 + 10 * HOUR, rec), 0);
	check_recs(rec, T0 + 8 * HOUR, T0 + 10 * HOUR, 150, 60, 0, 0);
	lic_period_free(&p);
}
END_TEST

/* The peak so far grows: 100 reported, hours 110, 120, 130 -> at 130. */
UNIT_TEST(change_rule_peak_so_far)
{
	struct lic_period *p = reported(100, 0);

	hour(p, T0 + 8 * HOUR, 110, 0, 0, 0, 110);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 9 * HOUR, NULL), 0);
	hour(p, T0 + 9 * HOUR, 120, 0, 0, 0, 120);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 10 * HOUR, NULL), 0);
	hour(p, T0 + 10 * HOUR, 90, 0, 0, 0, 90); /* peak stays 120 */
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 11 * HOUR, NULL), 0);
	hour(p, T0 + 11 * HOUR, 130, 0, 0, 0, 130);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 12 * HOUR, NULL),
			  LIC_CHANGE_STD);
	lic_period_free(&p);
}
END_TEST

/*
 * The 24-hour limit. 7-day periods from T0, nothing reported (last 0).
 * Hour 0 has 10 calls: change at T0+1h, closed then. From then on every
 * hour has more than 25% more; the next change close is allowed at
 * T0+1h+24h = T0+25h and not an hour before.
 */
UNIT_TEST(change_limit_24_hours)
{
	struct lic_period *p = tracker(LIC_PERIOD_DAYS, 7, T0);
	struct lic_record rec[LIC_TAG_COUNT];
	uint32_t v = 10;
	unsigned held;
	int64_t h;

	hour(p, T0, v, 0, 0, 0, v);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + HOUR, &held),
			  LIC_CHANGE_STD);
	ck_assert_uint_eq(held, 0);
	ck_assert_int_eq(lic_period_close_change(p, T0 + HOUR, rec), 0);
	check_recs(rec, T0, T0 + HOUR, 10, 0, 0, 0);
	/* The periodicity timer restarted at the change. */
	ck_assert_int_eq(lic_period_start(p), T0 + HOUR);
	ck_assert_int_eq(lic_period_end(p), T0 + HOUR + 7 * DAY);
	for (h = 1; h < 24; h++) {
		v = v * 2;
		hour(p, T0 + h * HOUR, v, 0, 0, 0, v);
		ck_assert_uint_eq(
			lic_period_hour_check(p, T0 + (h + 1) * HOUR, &held),
			0);
		ck_assert_uint_eq(held, LIC_CHANGE_STD);
	}
	/* T0+25h: 24 hours after the last change close. */
	hour(p, T0 + 24 * HOUR, v, 0, 0, 0, v);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 25 * HOUR, &held),
			  LIC_CHANGE_STD);
	ck_assert_uint_eq(held, 0);
	ck_assert_int_eq(lic_period_close_change(p, T0 + 25 * HOUR, rec), 0);
	check_recs(rec, T0 + HOUR, T0 + 25 * HOUR, v, 0, 0, 0);
	/* And the limit starts again from T0+25h. */
	hour(p, T0 + 25 * HOUR, 1, 0, 0, 0, 1);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 26 * HOUR, &held), 0);
	ck_assert_uint_eq(held, LIC_CHANGE_STD);
	/* A clock stepped back before the last change: still held. */
	ck_assert_uint_eq(lic_period_hour_check(p, T0, &held), 0);
	ck_assert_uint_eq(held, LIC_CHANGE_STD);
	lic_period_free(&p);
}
END_TEST

/*
 * A scheduled end is never limited. 8-hour periods from T0: change close
 * at T0+1h (period [T0+1h, T0+9h) then), scheduled close at T0+9h
 * within the 24 hours, and the change limit still counts from T0+1h.
 */
UNIT_TEST(change_limit_not_on_schedule)
{
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	struct lic_record rec[LIC_TAG_COUNT];
	unsigned held;

	hour(p, T0, 5, 0, 0, 0, 5);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + HOUR, NULL),
			  LIC_CHANGE_STD);
	ck_assert_int_eq(lic_period_close_change(p, T0 + HOUR, rec), 0);
	hour(p, T0 + HOUR, 50, 0, 0, 0, 50);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 2 * HOUR, &held), 0);
	ck_assert_uint_eq(held, LIC_CHANGE_STD);
	ck_assert(!lic_period_due(p, T0 + 9 * HOUR - 1));
	ck_assert_int_eq(lic_period_close_due(p, T0 + 9 * HOUR, rec), 1);
	check_recs(rec, T0 + HOUR, T0 + 9 * HOUR, 50, 0, 0, 0);
	/* Last reported is now 50; 100 is a change, still held until 25h. */
	hour(p, T0 + 9 * HOUR, 100, 0, 0, 0, 100);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 10 * HOUR, &held), 0);
	ck_assert_uint_eq(held, LIC_CHANGE_STD);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 17 * HOUR, rec), 1);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 25 * HOUR, rec), 1);
	hour(p, T0 + 25 * HOUR, 1000, 0, 0, 0, 1000);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 26 * HOUR, &held),
			  LIC_CHANGE_STD);
	lic_period_free(&p);
}
END_TEST

/* A fall is judged too: 100 reported, the new period's first hour 50. */
UNIT_TEST(change_rule_down)
{
	struct lic_period *p = reported(100, 100);

	hour(p, T0 + 8 * HOUR, 50, 50, 0, 0, 100);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 9 * HOUR, NULL),
			  LIC_CHANGE_STD | LIC_CHANGE_ENH);
	lic_period_free(&p);
}
END_TEST

UNIT_TEST(close_change_refused)
{
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	struct lic_record rec[LIC_TAG_COUNT];
	unsigned held;

	ck_assert_int_eq(lic_period_close_change(p, T0, rec), -1);
	ck_assert_int_eq(lic_period_close_change(p, T0 - 1, rec), -1);
	ck_assert_int_eq(lic_period_close_change(p, T0 + 8 * HOUR, rec), -1);
	/* Nothing changed: no change limit started. */
	ck_assert_int_eq(lic_period_start(p), T0);
	hour(p, T0, 1, 0, 0, 0, 1);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + HOUR, &held),
			  LIC_CHANGE_STD);
	lic_period_free(&p);
}
END_TEST

UNIT_TEST(add_hour_placement)
{
	/* Unaligned start: period [T0 + 30 min, T0 + 8h30). */
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0 + 1800);
	struct lic_record rec[LIC_TAG_COUNT];
	uint32_t v[LIC_CLASS_COUNT] = {7, 0, 0, 0, 7};
	uint32_t w[LIC_CLASS_COUNT] = {9, 0, 0, 0, 9};

	/* Ended before the start: ignored. */
	ck_assert_int_eq(lic_period_add_hour(p, T0 - HOUR, w), 0);
	/* Overlaps the start: counted. */
	ck_assert_int_eq(lic_period_add_hour(p, T0, v), 0);
	/* Overlaps the end: counted. */
	ck_assert_int_eq(lic_period_add_hour(p, T0 + 8 * HOUR, v), 0);
	/* Starts after the end: a later period's. */
	ck_assert_int_eq(lic_period_add_hour(p, T0 + 9 * HOUR, w), 1);
	/* Bad hours. */
	ck_assert_int_eq(lic_period_add_hour(p, T0 + 1, w), -1);
	ck_assert_int_eq(lic_period_add_hour(p, -HOUR, w), -1);
	ck_assert_int_eq(lic_period_add_hour(p, T0, NULL), -1);
	ck_assert_int_eq(lic_period_add_hour(NULL, T0, w), -1);
	ck_assert_int_eq(lic_period_close_due(p, T0 + 9 * HOUR, rec), 1);
	check_recs(rec, T0 + 1800, T0 + 8 * HOUR + 1800, 7, 0, 0, 0);
	/* Now the later hour fits. */
	ck_assert_int_eq(lic_period_add_hour(p, T0 + 9 * HOUR, w), 0);
	lic_period_free(&p);
}
END_TEST

/*
 * A clock jump of 3 days over 8-hour periods: the loop closes 9 periods
 * back to back, the first with the hour it had, the rest empty.
 */
UNIT_TEST(catch_up_after_jump)
{
	struct lic_record rec[LIC_TAG_COUNT];
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	int n = 0;

	hour(p, T0 + HOUR, 4, 2, 1, 3, 7);
	while (lic_period_close_due(p, T0 + 3 * DAY, rec) == 1) {
		int64_t s = T0 + n * 8 * HOUR;

		if (n == 0)
			check_recs(rec, s, s + 8 * HOUR, 5, 2, 1, 3);
		else
			check_recs(rec, s, s + 8 * HOUR, 0, 0, 0, 0);
		n++;
	}
	ck_assert_int_eq(n, 9);
	ck_assert_int_eq(lic_period_start(p), T0 + 3 * DAY);
	lic_period_free(&p);
}
END_TEST

/* HA failover: a new period from now; last reported counts are kept. */
UNIT_TEST(restart_on_failover)
{
	struct lic_period *p = reported(100, 0);
	struct lic_record rec[LIC_TAG_COUNT];
	int64_t now = T0 + 10 * HOUR + 600;

	hour(p, T0 + 8 * HOUR, 300, 0, 0, 0, 300);
	ck_assert_int_eq(lic_period_restart(p, now), 0);
	ck_assert_int_eq(lic_period_start(p), now);
	ck_assert_int_eq(lic_period_end(p), now + 8 * HOUR);
	/* The dropped hours are not judged; a new hour is, against 100. */
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 11 * HOUR, NULL), 0);
	hour(p, T0 + 10 * HOUR, 110, 0, 0, 0, 110);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 11 * HOUR, NULL), 0);
	ck_assert_int_eq(lic_period_close_due(p, now + 8 * HOUR, rec), 1);
	check_recs(rec, now, now + 8 * HOUR, 110, 0, 0, 0);
	ck_assert_int_eq(lic_period_restart(p, -1), -1);
	lic_period_free(&p);
}
END_TEST

UNIT_TEST(set_periodicity)
{
	struct lic_period *p = tracker(LIC_PERIOD_DAYS, 7, T0);
	struct lic_periodicity h8 = per_of(LIC_PERIOD_HOURS, 8);
	struct lic_periodicity bad = {LIC_PERIOD_HOURS, 3};

	ck_assert_int_eq(lic_period_set_periodicity(p, &h8), 0);
	ck_assert_int_eq(lic_period_end(p), T0 + 8 * HOUR);
	ck_assert(lic_period_due(p, T0 + DAY)); /* due at once */
	ck_assert_int_eq(lic_period_set_periodicity(p, &bad), -1);
	ck_assert_int_eq(lic_period_end(p), T0 + 8 * HOUR);
	lic_period_free(&p);
}
END_TEST

/* Field by field: the struct has padding. */
static void state_eq(const struct lic_period_state *a,
		     const struct lic_period_state *b)
{
	int i;

	ck_assert_int_eq(a->start, b->start);
	ck_assert_uint_eq(a->hours, b->hours);
	for (i = 0; i < LIC_CLASS_COUNT; i++)
		ck_assert_uint_eq(a->peak[i], b->peak[i]);
	ck_assert(a->reported == b->reported);
	for (i = 0; i < LIC_TAG_COUNT; i++)
		ck_assert_uint_eq(a->last[i], b->last[i]);
	ck_assert_int_eq(a->last_change, b->last_change);
}

/* Save, restore into a fresh tracker, and carry on identically. */
UNIT_TEST(save_restore)
{
	struct lic_period *p = reported(100, 20);
	struct lic_period *q = tracker(LIC_PERIOD_HOURS, 8, T0 + 5 * DAY);
	struct lic_period_state st, st2;
	struct lic_record rec[LIC_TAG_COUNT];
	unsigned held;

	hour(p, T0 + 8 * HOUR, 10, 30, 0, 0, 40);
	ck_assert_uint_eq(lic_period_hour_check(p, T0 + 9 * HOUR, NULL),
			  LIC_CHANGE_STD | LIC_CHANGE_ENH);
	ck_assert_int_eq(lic_period_close_change(p, T0 + 9 * HOUR, rec), 0);
	hour(p, T0 + 9 * HOUR, 0, 60, 0, 0, 60);
	lic_period_save(p, &st);
	ck_assert_int_eq(st.start, T0 + 9 * HOUR);
	ck_assert_uint_eq(st.hours, 1);
	ck_assert(st.reported);
	ck_assert_uint_eq(st.last[LIC_TAG_STD], 10);
	ck_assert_uint_eq(st.last[LIC_TAG_ENH], 30);
	ck_assert_int_eq(st.last_change, T0 + 9 * HOUR);
	ck_assert_int_eq(lic_period_restore(q, &st), 0);
	lic_period_save(q, &st2);
	state_eq(&st, &st2);
	/* Held by the limit from the restored last change. */
	ck_assert_uint_eq(lic_period_hour_check(q, T0 + 10 * HOUR, &held), 0);
	ck_assert_uint_eq(held, LIC_CHANGE_STD | LIC_CHANGE_ENH);
	ck_assert_int_eq(lic_period_close_due(q, T0 + 17 * HOUR, rec), 1);
	check_recs(rec, T0 + 9 * HOUR, T0 + 17 * HOUR, 0, 60, 0, 0);
	lic_period_free(&p);
	lic_period_free(&q);
}
END_TEST

UNIT_TEST(restore_refuses_bad_state)
{
	struct lic_period *p = tracker(LIC_PERIOD_HOURS, 8, T0);
	struct lic_period_state good, st, after;
	int i;

	lic_period_save(p, &good);
	for (i = 0; i < 6; i++) {
		st = good;
		switch (i) {
		case 0:
			st.start = -1;
			break;
		case 1:
			st.start = INT64_C(253402300800);
			break;
		case 2:
			st.last_change = -2;
			break;
		case 3:
			st.last_change = INT64_MAX;
			break;
		case 4:
			st.hours = 0;
			st.peak[LIC_CLASS_VGW] = 1;
			break;
		case 5:
			st.reported = false;
			st.last[LIC_TAG_RED] = 1;
			break;
		}
		ck_assert_msg(lic_period_restore(p, &st) == -1, "case %d", i);
		lic_period_save(p, &after);
		state_eq(&after, &good);
	}
	ck_assert_int_eq(lic_period_restore(p, NULL), -1);
	ck_assert_int_eq(lic_period_restore(NULL, &good), -1);
	lic_period_free(&p);
}
END_TEST

UNIT_TEST(tag_names)
{
	ck_assert_str_eq(lic_tag_name(LIC_TAG_STD), "CUBE_T_STD");
	ck_assert_str_eq(lic_tag_name(LIC_TAG_ENH), "CUBE_T_ENH");
	ck_assert_str_eq(lic_tag_name(LIC_TAG_RED), "CUBE_T_RED");
	ck_assert_str_eq(lic_tag_name(LIC_TAG_VGW), "CUBE_T_VGW");
	ck_assert_ptr_null(lic_tag_name(LIC_TAG_COUNT));
	ck_assert_ptr_null(lic_tag_name((enum lic_tag)-1));
}
END_TEST

UNIT_MAIN("period")
