/*
 * The one clock (common/clk.h): its three modes, the test clock's offset on
 * the monotonic and wall readings, and the scheduling reading that the
 * offset must not move (a test-clock jump is not a stalled thread).
 * Each test runs in its own forked process (CK_FORK), so modes do not leak.
 */
#include "clk.h"

#include "unit.h"

#include <check.h>
#include <stdint.h>

#define DAY_MS (86400LL * 1000)

START_TEST(real_mode_refuses_advance)
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

START_TEST(offset_moves_mono_and_wall_not_sched)
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

START_TEST(frozen_moves_only_on_advance)
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

int main(void)
{
	Suite *s = suite_create("clk");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, real_mode_refuses_advance);
	tcase_add_test(tc, offset_moves_mono_and_wall_not_sched);
	tcase_add_test(tc, frozen_moves_only_on_advance);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
