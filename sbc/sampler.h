/*
 * sampler: sbcd's 1 Hz tick over the usage tables.
 *
 * Each tick takes the per-class peak of concurrent calls since the last
 * one (sbc_counters_sample), counts the INVITEs received since (calls per
 * second), closes the usage tables' second (stats_tick) inside one store
 * transaction, and hands every hour the tables close to a consumer (the
 * licensing agent) after that transaction, since the consumer's own store
 * transactions do not nest in it. An hour the consumer cannot take yet
 * waits, in order, for the next tick.
 *
 * The sampler borrows everything it is given (all must outlive it), reads
 * no clock (each call says the wall time) and is not thread-safe: one
 * thread (sbcd's main thread) calls everything, getters included.
 */
#ifndef SBC_SAMPLER_H
#define SBC_SAMPLER_H

#include "sbc/counters.h"
#include "sbc/sipstats.h"
#include "stats/stats.h"
#include "stats/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Closed hours that can wait for the consumer: as many as the hours table
 * holds, which is also what a restart hands again. */
#define SBC_SAMPLER_HOURS_QUEUED 72

/* Where closed hours go. */
struct sbc_sampler_hours {
	/*
	 * One closed hour (start: Unix seconds), oldest first, at wall time
	 * now_s. true: done with it (taken, or refused for good); false: not
	 * now, it and every later hour are handed again at the next tick.
	 */
	bool (*take)(void *arg, int64_t start,
		     const uint32_t value[STATS_CLASS_COUNT], int64_t now_s);
	/* The hour still open after each tick (start -1 when none has a
	 * value yet), so that usage counts up before the hour closes. */
	void (*open)(void *arg, int64_t start,
		     const uint32_t value[STATS_CLASS_COUNT]);
	void *arg;
};

struct sbc_sampler;

/*
 * A sampler over stats (it becomes the tables' sink: every closed bucket
 * goes to store), taking its peaks from counters. NULL when out of memory.
 */
struct sbc_sampler *sbc_sampler_new(struct stats *stats,
				    struct stats_store *store,
				    struct sbc_counters *counters);
void sbc_sampler_free(struct sbc_sampler **s);

/*
 * From now on closed hours go to *h (copied). First the hours the tables
 * already hold that start at or after since (0 or less: none) are handed,
 * oldest first, as of wall time now_ms: after a restart the consumer gets
 * again the hours of its period. Without this call hours are not kept.
 */
void sbc_sampler_set_hours(struct sbc_sampler *s,
			   const struct sbc_sampler_hours *h, int64_t since,
			   int64_t now_ms);

/* The SIP counters the calls per second come from (NULL: none, 0). */
void sbc_sampler_set_sipstats(struct sbc_sampler *s,
			      const struct sbc_sipstats *st);

/*
 * One tick at wall time now_ms. A second with no tick stays empty in the
 * tables and is logged (%SBC-4-SAMPLER_GAP) unless sbc_sampler_clock_jumped
 * said the clock moved; a store failure is logged at most once a minute
 * (the tables in memory stay right).
 */
void sbc_sampler_tick(struct sbc_sampler *s, int64_t now_ms);

/* The clock was moved forward on purpose (--test-clock): the seconds it
 * skips before the next tick are no gap. */
void sbc_sampler_clock_jumped(struct sbc_sampler *s);

/* The peak of the second the last tick closed (0 before the first). */
uint32_t sbc_sampler_last_second(const struct sbc_sampler *s,
				 enum sbc_class cls);
/* The highest per-second peak since the sampler began. */
uint32_t sbc_sampler_max_second(const struct sbc_sampler *s,
				enum sbc_class cls);
/* INVITEs received between the last two ticks. */
uint32_t sbc_sampler_calls_per_second(const struct sbc_sampler *s);
/* Closed hours waiting for the consumer. */
size_t sbc_sampler_hours_waiting(const struct sbc_sampler *s);

#endif
