#include "clk.h"

#include <stdatomic.h>
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

int64_t clk_mono_ms(void)
{
	switch (clk_get_mode()) {
	case CLK_FROZEN:
		return atomic_load(&clk_frozen_mono_ms);
	case CLK_OFFSET:
		return clk_read(CLOCK_MONOTONIC) + atomic_load(&clk_offset_ms);
	case CLK_REAL:
		break;
	}
	return clk_read(CLOCK_MONOTONIC);
}

int64_t clk_sched_ms(void)
{
	if (clk_get_mode() == CLK_FROZEN)
		return atomic_load(&clk_frozen_mono_ms);
	return clk_read(CLOCK_MONOTONIC);
}

int64_t clk_wall_ms(void)
{
	switch (clk_get_mode()) {
	case CLK_FROZEN:
		return atomic_load(&clk_frozen_wall_ms);
	case CLK_OFFSET:
		return clk_read(CLOCK_REALTIME) + atomic_load(&clk_offset_ms);
	case CLK_REAL:
		break;
	}
	return clk_read(CLOCK_REALTIME);
}
