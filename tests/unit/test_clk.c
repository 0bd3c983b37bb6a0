/*
 * The one clock (common/clk.h): its three modes, the test clock's offset on
 * the monotonic and wall readings, and the scheduling reading that the
 * offset must not move (a test-clock jump is not a stalled thread).
 * Each test runs in its own forked process (CK_FORK), so modes do not leak.
 */
#include "common/clk.h"

#include "unit.h"

#include <check.h>
#include <stdint.h>

#define DAY_MS (86400LL * 1000)

UNIT_TEST(real_mode_refuses_advance)
{
	int64_t a, b;

	ck_assert_int_eq(clk_get_mode(), CLK_REAL);
	ck_assert_int_eq(clk_advance_ms(1000), -1);
	a = clk_mono_ms();
	b = clk_sched_ms();
	/* Both read CLOCK_MONOTONIC: within a few ms of each other. */
	ck_assert_int_le(a - b, 50);
	ck_assert_int_le(b - a, 50);
	ck_assert_int_ge(clk_mono_ms(), a);
}
END_TEST

UNIT_TEST(offset_moves_mono_and_wall_not_sched)
{
	int64_t mono0, wall0, sched0;

	clk_set_mode(CLK_OFFSET);
	mono0 = clk_mono_ms();
	wall0 = clk_wall_ms();
	sched0 = clk_sched_ms();
	ck_assert_int_eq(clk_advance_ms(3 * DAY_MS), 0);
	ck_assert_int_ge(clk_mono_ms() - mono0, 3 * DAY_MS);
	ck_assert_int_ge(clk_wall_ms() - wall0, 3 * DAY_MS);
	/* The scheduling reading saw only the real time that passed. */
	ck_assert_int_lt(clk_sched_ms() - sched0, 60 * 1000);
	ck_assert_int_ge(clk_sched_ms(), sched0);
	ck_assert_int_eq(clk_advance_ms(-1), -1);
}
END_TEST

UNIT_TEST(frozen_moves_only_on_advance)
{
	clk_freeze(1700000000000LL, 5000);
	ck_assert_int_eq(clk_get_mode(), CLK_FROZEN);
	ck_assert_int_eq(clk_wall_ms(), 1700000000000LL);
	ck_assert_int_eq(clk_mono_ms(), 5000);
	ck_assert_int_eq(clk_sched_ms(), 5000);
	ck_assert_int_eq(clk_advance_ms(250), 0);
	ck_assert_int_eq(clk_wall_ms(), 1700000000250LL);
	ck_assert_int_eq(clk_mono_ms(), 5250);
	/* Frozen for unit tests that drive a stall check by hand. */
	ck_assert_int_eq(clk_sched_ms(), 5250);
	ck_assert_int_eq(clk_advance_ms(-5), -1);
	ck_assert_int_eq(clk_mono_ms(), 5250);
}
END_TEST

/* show clock and show version texts, table-driven. */
static const struct fmt_case {
	int64_t wall_ms;
	int authoritative;
	const char *want;
} fmt_cases[] = {
	{INT64_C(1796656201123), 0, "*15:10:01.123 UTC Mon Dec 7 2026"},
	{INT64_C(1796656201123), 1, "15:10:01.123 UTC Mon Dec 7 2026"},
	{INT64_C(0), 1, "00:00:00.000 UTC Thu Jan 1 1970"},
	{INT64_C(1709251199999), 1, "23:59:59.999 UTC Thu Feb 29 2024"},
};

UNIT_LOOP_TEST(format_ios, 0, (int)NELEM(fmt_cases))
{
	const struct fmt_case *c = &fmt_cases[_i];
	char buf[CLK_STR_LEN];

	ck_assert_int_eq(clk_format_ios(c->wall_ms, c->authoritative, buf,
					sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, c->want);
	ck_assert_int_eq(clk_format_ios(-1, 1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(clk_format_ios(c->wall_ms, 1, buf, 10), -1);
}
END_TEST

static const struct up_case {
	int64_t ms;
	const char *want;
} up_cases[] = {
	{0, "0 minutes"},
	{59999, "0 minutes"},
	{60000, "1 minute"},
	{3600000 + 120000, "1 hour, 2 minutes"},
	{86400000, "1 day, 0 hours, 0 minutes"},
	{(2 * 86400 + 3 * 3600 + 60) * INT64_C(1000),
	 "2 days, 3 hours, 1 minute"},
	{(8 * 86400) * INT64_C(1000), "1 week, 1 day, 0 hours, 0 minutes"},
	{(366 * 86400) * INT64_C(1000),
	 "1 year, 0 weeks, 1 day, 0 hours, 0 minutes"},
};

UNIT_LOOP_TEST(format_uptime, 0, (int)NELEM(up_cases))
{
	const struct up_case *c = &up_cases[_i];
	char buf[CLK_STR_LEN];

	ck_assert_int_eq(clk_format_uptime(c->ms, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, c->want);
	ck_assert_int_eq(clk_format_uptime(-1, buf, sizeof(buf)), -1);
}
END_TEST

UNIT_TEST(authoritative_by_mode)
{
	clk_set_mode(CLK_OFFSET);
	ck_assert_int_eq(clk_authoritative(), 0); /* the test clock: `*` */
	clk_freeze(1700000000000LL, 5000);
	ck_assert_int_eq(clk_authoritative(), 1);
	clk_set_mode(CLK_REAL);
	/* The kernel's answer: either, but a stable one. */
	ck_assert_int_eq(clk_authoritative(), clk_authoritative());
}
END_TEST

UNIT_MAIN("clk")
