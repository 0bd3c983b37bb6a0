#include "common/clk.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/timex.h>
#include <time.h>

static _Atomic int clk_mode_v = CLK_REAL;
static _Atomic int64_t clk_offset_ms;
static _Atomic int64_t clk_frozen_wall_ms;
static _Atomic int64_t clk_frozen_mono_ms;

static int64_t clk_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clk_set_mode(enum clk_mode mode)
{
	atomic_store(&clk_mode_v, (int)mode);
}

enum clk_mode clk_get_mode(void)
{
	return (enum clk_mode)atomic_load(&clk_mode_v);
}

void clk_freeze(int64_t wall_ms, int64_t mono_ms)
{
	atomic_store(&clk_frozen_wall_ms, wall_ms);
	atomic_store(&clk_frozen_mono_ms, mono_ms);
	atomic_store(&clk_mode_v, CLK_FROZEN);
}

int clk_advance_ms(int64_t ms)
{
	int rc = -1;

	if (ms < 0)
		goto out;
	switch (clk_get_mode()) {
	case CLK_OFFSET:
		atomic_fetch_add(&clk_offset_ms, ms);
		rc = 0;
		break;
	case CLK_FROZEN:
		atomic_fetch_add(&clk_frozen_wall_ms, ms);
		atomic_fetch_add(&clk_frozen_mono_ms, ms);
		rc = 0;
		break;
	case CLK_REAL:
		break;
	}
out:
	return rc;
}

/* The time of clock id as the mode has it; frozen: that clock's value. */
static int64_t clk_now(clockid_t id, _Atomic int64_t *frozen)
{
	switch (clk_get_mode()) {
	case CLK_FROZEN:
		return atomic_load(frozen);
	case CLK_OFFSET:
		return clk_read(id) + atomic_load(&clk_offset_ms);
	case CLK_REAL:
		break;
	}
	return clk_read(id);
}

int64_t clk_mono_ms(void)
{
	return clk_now(CLOCK_MONOTONIC, &clk_frozen_mono_ms);
}

int64_t clk_sched_ms(void)
{
	if (clk_get_mode() == CLK_FROZEN)
		return atomic_load(&clk_frozen_mono_ms);
	return clk_read(CLOCK_MONOTONIC);
}

int64_t clk_wall_ms(void)
{
	return clk_now(CLOCK_REALTIME, &clk_frozen_wall_ms);
}

int clk_authoritative(void)
{
	struct timex tx = {0};

	switch (clk_get_mode()) {
	case CLK_FROZEN:
		return 1;
	case CLK_OFFSET:
		return 0;
	case CLK_REAL:
		break;
	}
	return adjtimex(&tx) != TIME_ERROR;
}

/* The UTC calendar fields of wall_ms: 0, or -1 outside 0 .. 9999-12-31. */
static int utc_fields(int64_t wall_ms, struct tm *tm)
{
	time_t t;

	if (wall_ms < 0 || wall_ms / 1000 > INT64_C(253402300799))
		return -1;
	t = (time_t)(wall_ms / 1000);
	return gmtime_r(&t, tm) == NULL ? -1 : 0;
}

/* The end of a formatter: 0 when snprintf's n fit buf, else -1 with buf
 * emptied. A failure before printing passes n = -1. */
static int format_end(int n, char *buf, size_t len)
{
	if (n >= 0 && (size_t)n < len)
		return 0;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
	return -1;
}

int clk_format_ios(int64_t wall_ms, int authoritative, char *buf, size_t len)
{
	static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
					  "May", "Jun", "Jul", "Aug",
					  "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (buf == NULL || len < CLK_STR_LEN || utc_fields(wall_ms, &tm) != 0)
		return format_end(-1, buf, len);
	return format_end(
	    snprintf(buf, len, "%s%02d:%02d:%02d.%03d UTC %s %s %d %d",
		     authoritative ? "" : "*", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, (int)(wall_ms % 1000), wday[tm.tm_wday],
		     mon[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900),
	    buf, len);
}

int clk_format_utc(int64_t wall_ms, char *buf, size_t len)
{
	struct tm tm;

	if (buf == NULL || len < CLK_UTC_LEN || utc_fields(wall_ms, &tm) != 0)
		return format_end(-1, buf, len);
	return format_end(snprintf(buf, len,
				   "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC",
				   tm.tm_year + 1900, tm.tm_mon + 1,
				   tm.tm_mday, tm.tm_hour, tm.tm_min,
				   tm.tm_sec, (int)(wall_ms % 1000)),
			  buf, len);
}

int clk_format_uptime(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *name;
		int64_t secs;
	} units[] = {{"year", 365 * 86400}, {"week", 7 * 86400},
		     {"day", 86400},	    {"hour", 3600},
		     {"minute", 60}};
	size_t off = 0, u;
	int64_t left;
	bool started = false;
	int n;

	if (buf == NULL || len < CLK_STR_LEN || ms < 0)
		return format_end(-1, buf, len);
	left = ms / 1000;
	buf[0] = '\0';
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		int64_t v = left / units[u].secs;

		left %= units[u].secs;
		if (v == 0 && !started && units[u].secs != 60)
			continue;
		n = snprintf(buf + off, len - off, "%s%lld %s%s",
			     started ? ", " : "", (long long)v, units[u].name,
			     v == 1 ? "" : "s");
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
		started = true;
	}
	return 0;
}
