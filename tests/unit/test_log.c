/*
 * log (common/log.h): the timestamp forms of `service timestamps log
 * datetime ...` against a frozen clock, read back from the ring that
 * `show logging` shows.
 */
#include "common/clk.h"
#include "common/log.h"

#include "unit.h"

#include <check.h>
#include <string.h>

/* 2026-12-07T05:10:01.042Z: a one-digit day shows IOS's padding. */
#define WALL_MS INT64_C(1796620201042)

static const struct {
	unsigned flags;
	const char *want;
} stamp_rows[] = {
    {0, "2026-12-07T05:10:01.042Z %SBC-5-TEST: hello\n"},
    {LOG_STAMP_IOS, "Dec  7 05:10:01: %SBC-5-TEST: hello\n"},
    {LOG_STAMP_IOS | LOG_STAMP_MSEC, "Dec  7 05:10:01.042: %SBC-5-TEST: hello\n"},
    {LOG_STAMP_IOS | LOG_STAMP_MSEC | LOG_STAMP_TZ,
     "Dec  7 05:10:01.042 UTC: %SBC-5-TEST: hello\n"},
    {LOG_STAMP_IOS | LOG_STAMP_MSEC | LOG_STAMP_TZ | LOG_STAMP_YEAR,
     "Dec  7 2026 05:10:01.042 UTC: %SBC-5-TEST: hello\n"},
};

UNIT_LOOP_TEST(stamp_forms, 0, NELEM(stamp_rows))
{
	char buf[4096];
	size_t n;

	clk_freeze(WALL_MS, 1000);
	log_set_stamp(stamp_rows[_i].flags);
	log_msg(LOG_LVL_NOTICE, "SBC", "TEST", "hello");
	n = log_recent(buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(buf, stamp_rows[_i].want);
}
END_TEST

UNIT_MAIN("log")
