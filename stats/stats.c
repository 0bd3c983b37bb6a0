/*
 * stats: the usage tables (docs/internals/stats.md). The rules, with worked
 * examples, are in docs/internals/stats.md.
 *
 * Each table is a ring of closed buckets indexed by (start / length) modulo
 * its row count; a slot keeps the start of the bucket it holds, so a slot
 * left over from an older bucket reads as empty. Only closed buckets are
 * stored, and a bucket with no value is never stored at all.
 */
#include "stats/stats.h"

#include <stdlib.h>

/*
 * Accepted wall times: from 1970-01-01T00:00:01Z (second 0 is then
 * complete) to the end of 9999-12-31 UTC. Outside that, a tick's time is
 * not believed, and stats_load refuses the start.
 */
#define MIN_TICK_MS INT64_C(1000)
#define MAX_SECOND INT64_C(253402300799)

#define NO_BUCKET INT64_C(-1) /* start of a slot that never held a bucket */

struct slot {
	int64_t start; /* Unix seconds; NO_BUCKET if never used */
	struct stats_bucket b;
};

struct stats {
	struct slot ring[STATS_TABLE_COUNT][STATS_MAX_ROWS];
	int64_t last; /* last closed second, or -1 */
	/* The highest peaks of ticks that closed nothing, per class. */
	uint32_t carry[STATS_CLASS_COUNT];
	bool ticked; /* a tick ran: loads are refused */
	stats_sink_fn *sink;
	void *sink_arg;
};

static const size_t table_rows[STATS_TABLE_COUNT] = {60, 60, 72, 72};
static const int64_t table_seconds[STATS_TABLE_COUNT] = {1, 60, 3600, 86400};

static const char *const class_names[STATS_CLASS_COUNT] = {
	CLASSES_ALL(CLASSES_NAME)};

/* The top 3 values seen so far, largest first, and how many were seen. */
struct top3 {
	uint32_t v[3];
	size_t n;
};

static void top3_add(struct top3 *t, uint32_t x)
{
	size_t kept = t->n < 3 ? t->n : 3;
	size_t i;

	t->n++;
	if (kept == 3 && x <= t->v[2])
		return;
	/* Insert x in order; the smallest of 3 falls off the end. */
	i = kept < 3 ? kept : 2;
	while (i > 0 && t->v[i - 1] < x) {
		t->v[i] = t->v[i - 1];
		i--;
	}
	t->v[i] = x;
}

/*
 * Average of the kept values, rounded half up: (2 sum + m) / 2m is
 * floor(sum / m + 1/2) in exact integer arithmetic (1.5 -> 2, 2.5 -> 3,
 * 4/3 -> 1, 5/3 -> 2). Three uint32_t values cannot overflow the uint64_t.
 */
static uint32_t top3_average(const struct top3 *t)
{
	uint64_t m = t->n < 3 ? t->n : 3;
	uint64_t sum = 0;
	size_t i;

	if (m == 0)
		return 0;
	for (i = 0; i < m; i++)
		sum += t->v[i];
	return (uint32_t)((2 * sum + m) / (2 * m));
}

uint32_t stats_top3_average(const uint32_t *v, size_t n)
{
	struct top3 t = {{0}, 0};
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i < n; i++)
		top3_add(&t, v[i]);
	return top3_average(&t);
}

struct stats *stats_new(void)
{
	struct stats *s = calloc(1, sizeof(*s));
	int t;
	size_t i;

	if (s == NULL)
		return NULL;
	for (t = 0; t < STATS_TABLE_COUNT; t++)
		for (i = 0; i < STATS_MAX_ROWS; i++)
			s->ring[t][i].start = NO_BUCKET;
	s->last = -1;
	return s;
}

void stats_free(struct stats **s)
{
	if (s == NULL)
		return;
	free(*s);
	*s = NULL;
}

void stats_set_sink(struct stats *s, stats_sink_fn *fn, void *arg)
{
	s->sink = fn;
	s->sink_arg = arg;
}

size_t stats_table_rows(enum stats_table table)
{
	return (unsigned)table < STATS_TABLE_COUNT ? table_rows[table] : 0;
}

int64_t stats_table_seconds(enum stats_table table)
{
	return (unsigned)table < STATS_TABLE_COUNT ? table_seconds[table] : 0;
}

int64_t stats_last_second(const struct stats *s)
{
	return s->last;
}

const char *stats_class_name(enum stats_class cls)
{
	return (unsigned)cls < STATS_CLASS_COUNT ? class_names[cls] : "?";
}

/* The slot a bucket start maps to (start >= 0 and aligned). */
static struct slot *slot_of(struct stats *s, enum stats_table t, int64_t start)
{
	int64_t index = start / table_seconds[t];

	return &s->ring[t][(size_t)(index % (int64_t)table_rows[t])];
}

static const struct slot *find(const struct stats *s, enum stats_table t,
			       int64_t start)
{
	const struct slot *sl;

	if (start < 0)
		return NULL;
	sl = slot_of((struct stats *)s, t, start);
	return sl->start == start ? sl : NULL;
}

static int64_t bucket_start(enum stats_table t, int64_t second)
{
	return second - second % table_seconds[t];
}

static void emit(struct stats *s, enum stats_table t, const struct slot *sl)
{
	if (s->sink != NULL)
		s->sink(s->sink_arg, t, sl->start, &sl->b);
}

/*
 * Close bucket `start` of table t (minutes, hours or days) from the table
 * below it, which holds exactly the lower buckets this one is made of (the
 * rings are at least one bucket long; see docs/internals/stats.md). A
 * bucket already in the ring (closed before, or loaded) is kept as it is:
 * first write wins, and the sink is not called again. A bucket none of
 * whose lower buckets has a value stays empty. At most 60 x 5 steps.
 */
static void close_bucket(struct stats *s, enum stats_table t, int64_t start)
{
	enum stats_table lower = (enum stats_table)(t - 1);
	int64_t step = table_seconds[lower];
	int64_t parts = table_seconds[t] / step;
	struct top3 top[STATS_CLASS_COUNT];
	uint32_t vmax[STATS_CLASS_COUNT] = {0}; /* largest lower value */
	uint32_t mmax[STATS_CLASS_COUNT] = {0}; /* largest lower max */
	uint64_t asum[STATS_CLASS_COUNT] = {0}; /* sum of lower avgs */
	struct slot *out;
	int64_t j;
	uint64_t found = 0;
	int c;

	out = slot_of(s, t, start);
	if (out->start >= start) /* closed or loaded already, or newer */
		return;
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		top[c].n = 0;
	for (j = 0; j < parts; j++) {
		const struct slot *in = find(s, lower, start + j * step);

		if (in == NULL)
			continue;
		found++;
		for (c = 0; c < STATS_CLASS_COUNT; c++) {
			top3_add(&top[c], in->b.value[c]);
			if (in->b.value[c] > vmax[c])
				vmax[c] = in->b.value[c];
			if (in->b.max[c] > mmax[c])
				mmax[c] = in->b.max[c];
			asum[c] += in->b.avg[c];
		}
	}
	if (found == 0)
		return;
	out->start = start;
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		out->b.value[c] =
			t == STATS_DAYS ? vmax[c] : top3_average(&top[c]);
		out->b.max[c] = mmax[c];
		/* Half up, as top3_average; at most 60 uint32_t summed. */
		out->b.avg[c] =
			(uint32_t)((2 * asum[c] + found) / (2 * found));
	}
	emit(s, t, out);
}

/*
 * Close, finest first, the minute, hour and day containing `second` that
 * have ended by second `end` (exclusive: every second before it is closed).
 */
static void close_ended(struct stats *s, int64_t second, int64_t end)
{
	int t;

	for (t = STATS_MINUTES; t < STATS_TABLE_COUNT; t++) {
		int64_t b = bucket_start((enum stats_table)t, second);

		if (b + table_seconds[t] <= end)
			close_bucket(s, (enum stats_table)t, b);
	}
}

/*
 * The closing order within one tick (the sink sees the same order):
 *  1. the minute, hour and day of the previous last second L that ended
 *     before second k (second L + 1 .. k - 1 were skipped, or a catch-up
 *     after a restart); done before storing k, whose seconds slot may hold
 *     a second of L's minute;
 *  2. second k;
 *  3. the minute, hour and day that second k completes.
 * So every bucket is emitted after all buckets that ended before it, and
 * after the buckets it is made of. Nothing iterates over skipped buckets:
 * a jump of any length costs the same.
 */
void stats_tick(struct stats *s, int64_t now_ms,
		const uint32_t peak[STATS_CLASS_COUNT])
{
	struct slot *sl;
	int64_t k, prev;
	int c;

	if (s == NULL || peak == NULL)
		return;
	prev = s->last;
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		if (peak[c] > s->carry[c])
			s->carry[c] = peak[c];
	}
	if (now_ms < MIN_TICK_MS || now_ms / 1000 - 1 > MAX_SECOND)
		return;
	s->ticked = true;
	k = now_ms / 1000 - 1;
	if (k <= prev)
		return;
	if (prev >= 0)
		close_ended(s, prev, k);
	sl = slot_of(s, STATS_SECONDS, k);
	sl->start = k;
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		sl->b.value[c] = s->carry[c];
		sl->b.max[c] = s->carry[c];
		sl->b.avg[c] = s->carry[c];
		s->carry[c] = 0;
	}
	s->last = k;
	emit(s, STATS_SECONDS, sl);
	close_ended(s, k, k + 1);
}

/*
 * A loaded bucket is closed, and so is every second it covers: the last
 * closed second moves up to the bucket's last second. A slot already
 * holding a newer bucket keeps it (the older one is outside the table).
 */
int stats_load(struct stats *s, enum stats_table table, int64_t start,
	       const struct stats_bucket *bucket)
{
	struct slot *sl;
	int64_t len;
	int rc = -1;

	if (s == NULL || bucket == NULL ||
	    (unsigned)table >= STATS_TABLE_COUNT || s->ticked)
		goto out;
	len = table_seconds[table];
	if (start < 0 || start > MAX_SECOND || start % len != 0)
		goto out;
	sl = slot_of(s, table, start);
	if (sl->start <= start) {
		sl->start = start;
		sl->b = *bucket;
	}
	if (start + len - 1 > s->last)
		s->last = start + len - 1;
	rc = 0;
out:
	return rc;
}

/*
 * The open minute's top-3 averages from its closed seconds: at most 60
 * lookups, so the sampler may call this every second. False when none of
 * them has a value.
 */
static bool open_minute(const struct stats *s, int64_t minute,
			uint32_t out[STATS_CLASS_COUNT])
{
	struct top3 top[STATS_CLASS_COUNT];
	bool any = false;
	int64_t k;
	int c;

	for (c = 0; c < STATS_CLASS_COUNT; c++)
		top[c].n = 0;
	for (k = minute; k <= s->last && k < minute + 60; k++) {
		const struct slot *sl = find(s, STATS_SECONDS, k);

		if (sl == NULL)
			continue;
		any = true;
		for (c = 0; c < STATS_CLASS_COUNT; c++)
			top3_add(&top[c], sl->b.value[c]);
	}
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		out[c] = top3_average(&top[c]);
	return any;
}

int64_t stats_open_hour(const struct stats *s,
			uint32_t value[STATS_CLASS_COUNT])
{
	struct top3 top[STATS_CLASS_COUNT];
	uint32_t m[STATS_CLASS_COUNT];
	int64_t hour, minute, open_min;
	bool any = false;
	int c;

	if (s == NULL || value == NULL || s->last < 0)
		return -1;
	hour = bucket_start(STATS_HOURS, s->last);
	if (find(s, STATS_HOURS, hour) != NULL)
		return -1;
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		top[c].n = 0;
	open_min = bucket_start(STATS_MINUTES, s->last);
	for (minute = hour; minute <= open_min; minute += 60) {
		const struct slot *sl = find(s, STATS_MINUTES, minute);

		if (sl != NULL) {
			for (c = 0; c < STATS_CLASS_COUNT; c++)
				m[c] = sl->b.value[c];
		} else if (minute != open_min || !open_minute(s, minute, m)) {
			continue;
		}
		any = true;
		for (c = 0; c < STATS_CLASS_COUNT; c++)
			top3_add(&top[c], m[c]);
	}
	if (!any)
		return -1;
	for (c = 0; c < STATS_CLASS_COUNT; c++)
		value[c] = top3_average(&top[c]);
	return hour;
}

size_t stats_read_detail(const struct stats *s, enum stats_class cls,
			 enum stats_table table, int64_t now_ms,
			 uint32_t *value, uint32_t *max, uint32_t *avg,
			 bool *valid, size_t n)
{
	int64_t len, now, cur;
	size_t i;

	if (s == NULL || (unsigned)cls >= STATS_CLASS_COUNT ||
	    (unsigned)table >= STATS_TABLE_COUNT)
		return 0;
	if (n > table_rows[table])
		n = table_rows[table];
	len = table_seconds[table];
	/* Floor division, so a time before 1970 maps to no stored bucket. */
	now = now_ms / 1000 - (now_ms % 1000 < 0);
	cur = now / len * len - (now % len < 0 ? len : 0);
	for (i = 0; i < n; i++) {
		const struct slot *sl =
			find(s, table, cur - (int64_t)(i + 1) * len);

		if (value != NULL)
			value[i] = sl != NULL ? sl->b.value[cls] : 0;
		if (max != NULL)
			max[i] = sl != NULL ? sl->b.max[cls] : 0;
		if (avg != NULL)
			avg[i] = sl != NULL ? sl->b.avg[cls] : 0;
		if (valid != NULL)
			valid[i] = sl != NULL;
	}
	return n;
}

size_t stats_read(const struct stats *s, enum stats_class cls,
		  enum stats_table table, int64_t now_ms, uint32_t *values,
		  bool *valid, size_t n)
{
	if (values == NULL)
		return 0;
	return stats_read_detail(s, cls, table, now_ms, values, NULL, NULL,
				 valid, n);
}
