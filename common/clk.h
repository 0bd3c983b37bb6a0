/*
 * clk: the one clock of the product.
 *
 * Every time read goes through here so that tests can freeze time and so that
 * `sbcd --test-clock` can move it forward by days (docs/cli.md, `test clock advance`).
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

#include <stddef.h>
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

/*
 * Whether the wall clock can be trusted as IOS means it (no leading `*`
 * in `show clock`): the system clock (CLK_REAL) that the kernel reports
 * synchronized (adjtimex(2) not TIME_ERROR, i.e. NTP or PTP keeps it);
 * never with --test-clock (CLK_OFFSET); always in CLK_FROZEN (tests).
 */
int clk_authoritative(void);

/* Room for clk_format_ios and clk_format_uptime. */
#define CLK_STR_LEN 64

/*
 * `show clock` as IOS prints it: "*15:10:01.123 UTC Mon Dec 7 2026"
 * (the `*` when not authoritative; the day of the month unpadded).
 * 0, or -1 when len is short or the time is out of range.
 */
int clk_format_ios(int64_t wall_ms, int authoritative, char *buf,
		   size_t len);

/*
 * A wall time as the logs and `show license eventlog` print it:
 * "2026-12-07 15:10:01.123 UTC". 0, or -1 when len < CLK_UTC_LEN or the
 * time is out of range (buf emptied).
 */
#define CLK_UTC_LEN 32
int clk_format_utc(int64_t wall_ms, char *buf, size_t len);

/*
 * An uptime as IOS prints it: "1 week, 2 days, 3 hours, 4 minutes";
 * leading units that are 0 are left out, minutes always shown, singular
 * for 1 ("1 day, 0 hours, 1 minute"). 0, or -1 when len is short or ms
 * is negative.
 */
int clk_format_uptime(int64_t ms, char *buf, size_t len);

#endif
