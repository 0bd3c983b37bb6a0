/*
 * stats: the usage tables of docs/internals/stats.md.
 *
 * Per class (STANDARD, ENHANCED, REDUNDANT, VGW, AGGREGATE) four tables of
 * closed buckets aligned to UTC wall-clock boundaries:
 *   seconds  60 rows  the peak concurrent count within the second
 *   minutes  60 rows  the average of the top 3 second values of the minute
 *   hours    72 rows  the average of the top 3 minute values of the hour
 *   days     72 rows  the maximum hourly value of the day
 * Averages round half up; a bucket with fewer than 3 values averages what
 * it has; a bucket with none has no value and reads as 0.
 *
 * Next to that value every bucket keeps, per class, the two numbers the
 * graphs draw (CUBE's `*` and `#`):
 *   max  a second: its value; a minute, hour or day: the largest max of
 *        its lower buckets (so the highest second value it covers)
 *   avg  a second: its value; a minute, hour or day: the mean of the avg
 *        of its lower buckets that have a value, rounded half up
 *
 * Pure data: no Sofia-SIP, no libevent, no clock reads. The caller passes
 * the wall time of each tick and of each read. Cost per tick is O(classes),
 * independent of the number of calls. Not thread-safe: one thread owns an
 * instance. The rules in detail: docs/internals/stats.md.
 */
#ifndef SBC_STATS_H
#define SBC_STATS_H

#include "common/classes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* STATS_STANDARD, ... STATS_AGGREGATE (common/classes.h). */
#define STATS_CLASS_ENUM(id, ...) STATS_##id,
enum stats_class { CLASSES_ALL(STATS_CLASS_ENUM) STATS_CLASS_COUNT };
#undef STATS_CLASS_ENUM

enum stats_table {
	STATS_SECONDS,
	STATS_MINUTES,
	STATS_HOURS,
	STATS_DAYS,
	STATS_TABLE_COUNT
};

#define STATS_MAX_ROWS 72 /* the longest table (hours, days) */

struct stats;

/*
 * One closed bucket, per class: its value (the tables' number), the
 * maximum and the average (see above). For a second all three are equal.
 */
struct stats_bucket {
	uint32_t value[STATS_CLASS_COUNT];
	uint32_t max[STATS_CLASS_COUNT];
	uint32_t avg[STATS_CLASS_COUNT];
};

/*
 * Called for every bucket as it closes (seconds included), with its start
 * (Unix seconds, UTC) and its numbers per class; used to persist the
 * tables. The bucket is valid for the call only.
 */
typedef void stats_sink_fn(void *arg, enum stats_table table, int64_t start,
			   const struct stats_bucket *bucket);

struct stats *stats_new(void);
void stats_free(struct stats **s);

void stats_set_sink(struct stats *s, stats_sink_fn *fn, void *arg);

/*
 * One sampler tick at wall time now_ms (Unix milliseconds): `peak` holds
 * each class's highest concurrent count since the previous tick. The tick
 * closes the last complete second, floor(now_ms / 1000) - 1, and with it
 * any minute, hour and day that ended (a minute closes with its last
 * second, or, if that second was skipped, with the first later second).
 * Seconds skipped since the previous tick (a stalled loop, a forward clock
 * step) stay empty. A tick whose second is not after the last closed one
 * (a backward clock step, a duplicate) closes nothing; its peak is carried
 * into the next second that closes, so no peak is lost and no closed
 * bucket is rewritten. A now_ms before 1970-01-01T00:00:01Z or after the
 * year 9999 is not a time: such a tick closes nothing and only its peak is
 * carried. Cost: O(classes), whatever the jump; no allocation.
 */
void stats_tick(struct stats *s, int64_t now_ms,
		const uint32_t peak[STATS_CLASS_COUNT]);

/*
 * Restore a closed bucket (from the store, at start-up); the sink is not
 * called. Every second the bucket covers counts as closed: the last closed
 * second becomes at least start + length - 1, so a tick within it (the
 * clock went back across the restart) is carried, not stored. A later tick
 * never rewrites a loaded bucket: a minute, hour or day closing onto a
 * start already present keeps the loaded one. A slot holding a newer
 * bucket keeps it (the older one is outside the table; still returns 0).
 * Returns 0, or -1 when start is negative, after the year 9999 or not
 * aligned to the table's bucket length, the table is unknown, bucket is
 * NULL, or a tick has already run (buckets must be loaded before the first
 * tick). The bucket's max and avg are kept as given (a seconds bucket's
 * too), so a restart keeps the rolled-up maxima and averages.
 */
int stats_load(struct stats *s, enum stats_table table, int64_t start,
	       const struct stats_bucket *bucket);

/*
 * Read a table as of wall time now_ms: values[i] is the bucket i+1 buckets
 * back from the bucket containing now_ms (values[0] = the most recent
 * closed bucket), for i < n (n at most the table's row count). A bucket
 * with no value reads 0 and has valid[i] = false (valid may be NULL).
 * Returns the number of rows written.
 */
size_t stats_read(const struct stats *s, enum stats_class cls,
		  enum stats_table table, int64_t now_ms, uint32_t *values,
		  bool *valid, size_t n);

/*
 * The same rows as stats_read, with each bucket's max and avg too (0 for a
 * bucket with no value). Any of value, max, avg and valid may be NULL.
 * Returns the number of rows (0 for an unknown class or table).
 */
size_t stats_read_detail(const struct stats *s, enum stats_class cls,
			 enum stats_table table, int64_t now_ms,
			 uint32_t *value, uint32_t *max, uint32_t *avg,
			 bool *valid, size_t n);

/* Rows of a table (60, 60, 72, 72) and its bucket length in seconds. */
/*
 * The hour still open: the value its bucket would have if it closed after
 * the last closed second (the average of the top 3 minute values so far,
 * the minute still open counted with the average of the top 3 of its
 * seconds so far). Fills value[] per class and returns the hour's start,
 * or -1 when no second of that hour has a value or the hour is closed.
 */
int64_t stats_open_hour(const struct stats *s,
			uint32_t value[STATS_CLASS_COUNT]);

size_t stats_table_rows(enum stats_table table);
int64_t stats_table_seconds(enum stats_table table);

/*
 * The last closed second: closed by a tick, or covered by a loaded bucket
 * (its start + length - 1); -1 if none.
 */
int64_t stats_last_second(const struct stats *s);

const char *stats_class_name(enum stats_class cls); /* "STANDARD", ...; "?" */

/*
 * The average of the top 3 of n values, rounded half up; 0 when n is 0.
 * Exposed for the tests and the renderers.
 */
uint32_t stats_top3_average(const uint32_t *v, size_t n);

#endif
