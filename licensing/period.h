/*
 * lic_period: measurement periods and usage records. The rules as
 * implemented, with worked examples, are in
 * docs/internals/licensing-periods.md.
 *
 * The tracker is fed the hourly values of the usage tables and says when
 * the open period ends: on schedule (its length, the periodicity, after
 * its start) or early, when the report-on-change rule fires. Closing a
 * period yields one usage record per tag. Expected use, at each hour
 * boundary `now`, after the usage tables closed the hour [now-3600, now):
 *
 *     lic_period_add_hour(p, now - 3600, values);
 *     while (lic_period_close_due(p, now, recs) == 1)
 *             store and queue recs;
 *     if (lic_period_hour_check(p, now, NULL) != 0 &&
 *         lic_period_close_change(p, now, recs) == 0)
 *             store and queue recs;
 *
 * plus a timer at lic_period_end(p) that runs the lic_period_close_due
 * loop, so that an unaligned period ends on time.
 *
 * All times are Unix seconds (UTC) passed in by the caller: no clock
 * reads, no output. Not thread-safe: one thread owns a tracker.
 */
#ifndef SBC_LIC_PERIOD_H
#define SBC_LIC_PERIOD_H

#include "common/classes.h"
#include "licensing/tag.h"

#include <stdbool.h>
#include <stdint.h>

/* The syslog line the caller logs when the periodicity was raised. */
#define LIC_PERIOD_MIN_MSG                                                   \
	"%SIP-5-LICENSING: CUBE license reporting period has been set to "   \
	"the minimum value of 8 hours."

#define LIC_PERIOD_MIN_HOURS 8
#define LIC_PERIOD_MAX_HOURS 23
#define LIC_PERIOD_MAX_DAYS 30
#define LIC_PERIOD_DEFAULT_DAYS 7

/*
 * The hourly values fed in: LIC_CLASS_STANDARD, ... LIC_CLASS_AGGREGATE
 * (common/classes.h).
 */
#define LIC_CLASS_ENUM(id, ...) LIC_CLASS_##id,
enum lic_class { CLASSES_ALL(LIC_CLASS_ENUM) LIC_CLASS_COUNT };
#undef LIC_CLASS_ENUM


/* Bits of lic_period_hour_check's result. */
#define LIC_CHANGE_STD (1u << LIC_TAG_STD)
#define LIC_CHANGE_ENH (1u << LIC_TAG_ENH)

enum lic_period_unit { LIC_PERIOD_HOURS, LIC_PERIOD_DAYS };

/* `mode border-element license periodicity {hours N | days N}`. */
struct lic_periodicity {
	enum lic_period_unit unit;
	unsigned value; /* hours 8..23, days 1..30 */
};

/* One usage record: the period's count for one tag. */
struct lic_record {
	enum lic_tag tag;
	int64_t start; /* Unix seconds, included */
	int64_t end;   /* Unix seconds, excluded */
	uint32_t count;
};

/*
 * What the store keeps of a tracker, so that a restart (kill -9 included)
 * resumes the open period. Plain data; validated by lic_period_restore.
 */
struct lic_period_state {
	int64_t start;			   /* open period's start */
	uint32_t hours;			   /* hours added to it */
	uint32_t peak[LIC_CLASS_COUNT];	   /* their maximum, per class */
	bool reported;			   /* a record was ever produced */
	uint32_t last[LIC_TAG_COUNT];	   /* counts of the last records */
	int64_t last_change;		   /* last change close, or -1 */
};

struct lic_period;

/*
 * Build a periodicity from the configured unit and value. Hours 8..23 and
 * days 1..30 are taken as they are; hours 1..7 become 8 hours and *raised
 * (if not NULL) is set, the cue for LIC_PERIOD_MIN_MSG. Anything else
 * (hours 0 or over 23, days 0 or over 30, an unknown unit) returns -1 and
 * changes nothing; otherwise 0.
 */
int lic_periodicity_make(enum lic_period_unit unit, long value,
			 struct lic_periodicity *out, bool *raised);

/* 7 days. */
struct lic_periodicity lic_periodicity_default(void);

/* The period length in seconds; 0 for an invalid periodicity. */
int64_t lic_periodicity_seconds(const struct lic_periodicity *per);


/*
 * A tracker whose first period starts at now, with no record reported
 * yet. NULL when per is invalid, now is negative or after the year 9999,
 * or memory runs out.
 */
struct lic_period *lic_period_new(const struct lic_periodicity *per,
				  int64_t now);
void lic_period_free(struct lic_period **p);

/*
 * Change the periodicity. The open period keeps its start and takes the
 * new length, so it may be due at once. Returns -1 (and changes nothing)
 * for an invalid periodicity.
 */
int lic_period_set_periodicity(struct lic_period *p,
			       const struct lic_periodicity *per);

int64_t lic_period_start(const struct lic_period *p);
int64_t lic_period_end(const struct lic_period *p); /* start + length */

/* now >= start + length: the open period has reached its scheduled end. */
bool lic_period_due(const struct lic_period *p, int64_t now);

/*
 * Feed the value of the hour [hour_start, hour_start + 3600) per class (in
 * enum lic_class order). The open period keeps the maximum per class of
 * the hours added to it. An hour that ended at or before the period's
 * start is ignored (returns 0); an hour that starts at or after the
 * period's scheduled end belongs to a later period: nothing is added and
 * 1 is returned (close the due period, then add it again). Returns -1 for
 * NULL arguments or an hour_start that is negative, after the year 9999
 * or not a multiple of 3600; 0 otherwise.
 */
int lic_period_add_hour(struct lic_period *p, int64_t hour_start,
			const uint32_t value[LIC_CLASS_COUNT]);

/*
 * The value each tag would be reported with if the open period closed
 * now (see lic_period_close_due for the formulas); `count` of each record
 * is filled, start is the period's start, end is `now`.
 */
void lic_period_peek(const struct lic_period *p, int64_t now,
		     struct lic_record rec[LIC_TAG_COUNT]);

/*
 * lic_period_peek with the hour still open counted in as if it had been
 * added: `open` holds its value so far per class (NULL: none), and it
 * counts when lic_period_add_hour would take it into the open period. The tracker is
 * not changed: the hour is still added once it closes.
 */
void lic_period_peek_open(const struct lic_period *p, int64_t now,
			  int64_t hour_start,
			  const uint32_t open[LIC_CLASS_COUNT],
			  struct lic_record rec[LIC_TAG_COUNT]);

/*
 * Close the open period at its scheduled end if it is due at now. The
 * records cover [start, start + length); their counts are the period's
 * maximum hourly value per class, except Standard:
 *   CUBE_T_STD = max(0, peak(AGGREGATE) - peak(ENHANCED))
 *   CUBE_T_ENH = peak(ENHANCED)
 *   CUBE_T_RED = peak(REDUNDANT)
 *   CUBE_T_VGW = peak(VGW)
 * (a period with no hours has counts 0). The next period starts at the
 * old end, not at now, so a late timer does not shift the schedule and
 * calling this in a loop catches up after a clock jump, one period each.
 * Returns 1 and fills rec, or 0 when not due (rec untouched).
 */
int lic_period_close_due(struct lic_period *p, int64_t now,
			 struct lic_record rec[LIC_TAG_COUNT]);

/*
 * Report on change, judged at an hour boundary now, for Standard and
 * Enhanced separately: the open period's value so far (as
 * lic_period_peek) against the count of the last record of that tag (0
 * before the first record). It changed when |cur - last| > last / 4
 * exactly, i.e. 4 * |cur - last| > last: 100 -> 125 or 75 is not a
 * change, 100 -> 126 or 74 is; from 0 any value above 0 is; 1 -> 0 is. A
 * period with no hour added yet is not judged. Change closes are limited
 * to one per 24 hours (86400 s since the last lic_period_close_change);
 * a change held back by that limit is reported in *held (may be NULL)
 * and not in the result. Returns the LIC_CHANGE_* bits of the tags that
 * changed, 0 for none: nonzero means close now with
 * lic_period_close_change.
 */
unsigned lic_period_hour_check(const struct lic_period *p, int64_t now,
			       unsigned *held);

/*
 * Close the open period early at now (report on change): records cover
 * [start, now), the next period starts at now (the periodicity timer
 * restarts), and the 24-hour limit counts from now. Returns 0 and fills
 * rec, or -1 (nothing changes) when now is not after the start or the
 * period is already due (close it with lic_period_close_due first).
 */
int lic_period_close_change(struct lic_period *p, int64_t now,
			    struct lic_record rec[LIC_TAG_COUNT]);

/*
 * HA failover: this unit became active; a new period starts at now. The
 * open period's hours are dropped without a record (this unit was not
 * the one reporting them); the last reported counts and the 24-hour limit
 * are kept. Returns -1 when now is negative or after the year 9999.
 */
int lic_period_restart(struct lic_period *p, int64_t now);

/* Copy out / restore the persistent state (see struct lic_period_state). */
void lic_period_save(const struct lic_period *p, struct lic_period_state *st);

/*
 * Replace the tracker's state by st (from the store); the periodicity
 * stays the tracker's own (the configured one). Returns -1 and changes
 * nothing when st is not a state lic_period_save could produce: start
 * negative or after the year 9999, last_change neither -1 nor in that
 * range, peaks other than 0 with no hours, or last counts other than 0
 * with reported false.
 */
int lic_period_restore(struct lic_period *p, const struct lic_period_state *st);

#endif
