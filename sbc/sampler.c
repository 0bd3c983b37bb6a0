/*
 * sbcd's 1 Hz sampler (sbc/sampler.h).
 */
#include "sbc/sampler.h"

#include "common/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STORE_ERROR_LOG_S 60 /* at most one store error line per minute */
#define NO_ROW ((size_t)-1)

_Static_assert((int)SBC_CLASS_COUNT == (int)STATS_CLASS_COUNT,
	       "a tick's peaks are the tables' classes");

struct queued_hour {
	int64_t start;
	uint32_t value[STATS_CLASS_COUNT];
};

struct sbc_sampler {
	struct stats *stats;
	struct stats_store *store;
	struct sbc_counters *counters;
	const struct sbc_sipstats *sipstats;
	size_t invite_row; /* the sipstats row of INVITEs received */
	struct sbc_sampler_hours hours;
	bool has_hours;
	/*
	 * Closed hours the consumer has not taken, oldest first: normally
	 * one at a time, handed over in the tick that closed it; while the
	 * consumer refuses (its store failing) they pile up here.
	 */
	struct queued_hour queue[SBC_SAMPLER_HOURS_QUEUED];
	size_t n_queued;
	bool dropped_logged;
	int64_t store_error_logged_s;
	uint32_t last_second[SBC_CLASS_COUNT];
	uint32_t max_second[SBC_CLASS_COUNT]; /* highest last_second so far */
	uint64_t invites_seen;		       /* INVITEs in, at the last tick */
	uint32_t calls_last_second;	       /* INVITEs in during it */
	int64_t last_tick_ms;		       /* wall clock of the last tick */
	bool clock_jumped;		       /* the clock moved on purpose */
};

/* An hour behind those still waiting; the oldest goes when they are as
 * many as the tables hold (a restart hands the table's hours again). */
static void queue_hour(struct sbc_sampler *s, int64_t start,
		       const uint32_t value[STATS_CLASS_COUNT])
{
	if (s->n_queued == SBC_SAMPLER_HOURS_QUEUED) {
		if (!s->dropped_logged)
			log_msg(LOG_LVL_ERR, "SMART_LIC", "STORE",
				"licensing store failing for %d hours; oldest "
				"hours not recorded until a restart",
				SBC_SAMPLER_HOURS_QUEUED);
		s->dropped_logged = true;
		memmove(&s->queue[0], &s->queue[1],
			(s->n_queued - 1) * sizeof(s->queue[0]));
		s->n_queued--;
	}
	s->queue[s->n_queued].start = start;
	memcpy(s->queue[s->n_queued].value, value,
	       sizeof(s->queue[0].value));
	s->n_queued++;
}

/* The tables' sink: every closed bucket to the store; a closed hour also
 * waits for the consumer, who gets it once the tick's transaction ends. */
static void on_bucket(void *arg, enum stats_table table, int64_t start,
		      const struct stats_bucket *bucket)
{
	struct sbc_sampler *s = arg;

	stats_store_sink(s->store, table, start, bucket);
	if (table == STATS_HOURS && s->has_hours)
		queue_hour(s, start, bucket->value);
}

/* Waiting hours to the consumer, in order, up to the first it refuses. */
static void feed_hours(struct sbc_sampler *s, int64_t now_s)
{
	size_t i = 0;

	while (i < s->n_queued &&
	       s->hours.take(s->hours.arg, s->queue[i].start,
			     s->queue[i].value, now_s))
		i++;
	if (i == 0)
		return;
	memmove(&s->queue[0], &s->queue[i],
		(s->n_queued - i) * sizeof(s->queue[0]));
	s->n_queued -= i;
	if (s->n_queued == 0)
		s->dropped_logged = false;
}

struct sbc_sampler *sbc_sampler_new(struct stats *stats,
				    struct stats_store *store,
				    struct sbc_counters *counters)
{
	struct sbc_sampler *s = calloc(1, sizeof(*s));
	size_t i, n = sbc_sipstats_nrows();

	if (s == NULL)
		return NULL;
	s->stats = stats;
	s->store = store;
	s->counters = counters;
	s->invite_row = NO_ROW;
	for (i = 0; i < n; i++) {
		const struct sbc_sipstats_row *r = sbc_sipstats_row(i);

		if (r->kind == SBC_SIPSTATS_REQUEST &&
		    r->method == SBC_SIP_INVITE)
			s->invite_row = i;
	}
	stats_set_sink(stats, on_bucket, s);
	return s;
}

void sbc_sampler_free(struct sbc_sampler **s)
{
	if (s == NULL || *s == NULL)
		return;
	stats_set_sink((*s)->stats, NULL, NULL);
	free(*s);
	*s = NULL;
}

void sbc_sampler_set_hours(struct sbc_sampler *s,
			   const struct sbc_sampler_hours *h, int64_t since,
			   int64_t now_ms)
{
	uint32_t v[STATS_CLASS_COUNT][STATS_MAX_ROWS];
	bool valid[STATS_MAX_ROWS];
	int64_t now = now_ms / 1000, start;
	size_t rows = 0, i;
	int c;

	s->hours = *h;
	s->has_hours = true;
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		rows = stats_read(s->stats, (enum stats_class)c, STATS_HOURS,
				  now_ms, v[c], valid, STATS_MAX_ROWS);
	for (i = rows; i-- > 0;) {
		uint32_t hour[STATS_CLASS_COUNT];

		start = (now / 3600) * 3600 - (int64_t)(i + 1) * 3600;
		if (!valid[i] || since <= 0 || start < since)
			continue;
		for (c = 0; c < STATS_CLASS_COUNT; c++)
			hour[c] = v[c][i];
		queue_hour(s, start, hour);
	}
	feed_hours(s, now);
}

void sbc_sampler_set_sipstats(struct sbc_sampler *s,
			      const struct sbc_sipstats *st)
{
	s->sipstats = st;
}

/* Calls per second: the INVITEs received since the last tick. */
static void count_invites(struct sbc_sampler *s)
{
	uint64_t in = 0, out = 0;

	if (s->sipstats == NULL || s->invite_row == NO_ROW)
		return;
	sbc_sipstats_value(s->sipstats, s->invite_row, &in, &out);
	/* A `clear sip-ua statistics` restarts the counter. */
	s->calls_last_second =
		in >= s->invites_seen ? (uint32_t)(in - s->invites_seen) : 0;
	s->invites_seen = in;
}

void sbc_sampler_tick(struct sbc_sampler *s, int64_t now_ms)
{
	uint32_t open[STATS_CLASS_COUNT];
	char err[256];
	size_t i;
	int rc;

	sbc_counters_sample(s->counters, s->last_second);
	for (i = 0; i < SBC_CLASS_COUNT; i++)
		if (s->last_second[i] > s->max_second[i])
			s->max_second[i] = s->last_second[i];
	count_invites(s);
	/* A second with no tick stays empty (a stalled loop): say so, so an
	 * operator knows why the seconds table shows a gap. */
	if (s->last_tick_ms > 0 && now_ms / 1000 - s->last_tick_ms / 1000 > 1 &&
	    !s->clock_jumped)
		log_msg(LOG_LVL_WARNING, "SBC", "SAMPLER_GAP",
			"no sampler tick for %" PRId64 " ms: %" PRId64
			" second(s) stay empty",
			now_ms - s->last_tick_ms,
			now_ms / 1000 - s->last_tick_ms / 1000 - 1);
	s->clock_jumped = false;
	s->last_tick_ms = now_ms;
	rc = stats_store_begin(s->store, err, sizeof(err));
	stats_tick(s->stats, now_ms, s->last_second);
	if (rc == 0)
		rc = stats_store_commit(s->store, err, sizeof(err));
	if (rc < 0 &&
	    now_ms / 1000 - s->store_error_logged_s >= STORE_ERROR_LOG_S) {
		/* Calls go on; the tables in memory stay right. */
		s->store_error_logged_s = now_ms / 1000;
		log_msg(LOG_LVL_ERR, "SBC", "STORE",
			"usage tables not saved: %s", err);
	}
	if (!s->has_hours)
		return;
	feed_hours(s, now_ms / 1000);
	s->hours.open(s->hours.arg, stats_open_hour(s->stats, open), open);
}

void sbc_sampler_clock_jumped(struct sbc_sampler *s)
{
	s->clock_jumped = true;
}

uint32_t sbc_sampler_last_second(const struct sbc_sampler *s,
				 enum sbc_class cls)
{
	return (unsigned)cls < SBC_CLASS_COUNT ? s->last_second[cls] : 0;
}

uint32_t sbc_sampler_max_second(const struct sbc_sampler *s,
				enum sbc_class cls)
{
	return (unsigned)cls < SBC_CLASS_COUNT ? s->max_second[cls] : 0;
}

uint32_t sbc_sampler_calls_per_second(const struct sbc_sampler *s)
{
	return s->calls_last_second;
}

size_t sbc_sampler_hours_waiting(const struct sbc_sampler *s)
{
	return s->n_queued;
}
