/*
 * clk: the one clock of the product.
 *
 * Every time read goes through here so that tests can freeze time and so that
 * `sbcd --test-clock` can move it forward by days (DESIGN.md section 9).
 * Two readings: monotonic milliseconds for intervals and timers, wall-clock
 * (UTC, Unix epoch) milliseconds for bucket boundaries and dates.
 *
 * Modes:
 *   CLK_REAL    the system clocks.
 *   CLK_OFFSET  the system clocks plus an offset that only ever grows
 *               (clk_advance_ms); used by --test-clock.
 *   CLK_FROZEN  fixed values set by clk_freeze and moved by clk_advance_ms;
 *               used by unit tests.
 * The clock is process-wide and safe to read from any thread.
 */
#ifndef SBC_CLK_H
#define SBC_CLK_H

#include <stdint.h>

enum clk_mode { CLK_REAL, CLK_OFFSET, CLK_FROZEN };

void clk_set_mode(enum clk_mode mode);
enum clk_mode clk_get_mode(void);

/* Freeze the clock at the given readings (switches to CLK_FROZEN). */
void clk_freeze(int64_t wall_ms, int64_t mono_ms);

/*
 * Move the clock forward by `ms` (>= 0) in CLK_OFFSET or CLK_FROZEN mode.
 * Returns 0, or -1 when the mode is CLK_REAL or `ms` is negative.
 */
int clk_advance_ms(int64_t ms);

/* Milliseconds since an arbitrary origin; never goes backwards. */
int64_t clk_mono_ms(void);

/*
 * Monotonic milliseconds without --test-clock's offset: how much time the
 * process really had, for spotting a thread that ran late. A test-clock
 * jump is not a stall. Never for timers or deadlines (clk_mono_ms). Frozen
 * in CLK_FROZEN like clk_mono_ms, so unit tests drive it.
 */
int64_t clk_sched_ms(void);

/* Milliseconds since 1970-01-01 00:00:00 UTC. */
int64_t clk_wall_ms(void);

#endif
