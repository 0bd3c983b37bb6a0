/*
 * lic_period: measurement periods, usage records and the report-on-change
 * rule (docs/internals/licensing-periods.md).
 *
 * The tracker keeps only the open period's running maxima per class and
 * the counts of the last records; the records themselves go to the caller.
 */
#include "licensing/period.h"

#include <stdlib.h>

#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)
#define CHANGE_LIMIT DAY /* at most one change close per 24 hours */
#define MAX_TIME INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define NO_CHANGE INT64_C(-1)

struct lic_period {
	int64_t length; /* seconds */
	struct lic_period_state st;
};


static bool time_ok(int64_t t)
{
	return t >= 0 && t <= MAX_TIME;
}

int lic_periodicity_make(enum lic_period_unit unit, long value,
			 struct lic_periodicity *out, bool *raised)
{
	struct lic_periodicity per = {.unit = unit};
	bool up = false;

	if (out == NULL)
		return -1;
	switch (unit) {
	case LIC_PERIOD_HOURS:
		if (value < 1 || value > LIC_PERIOD_MAX_HOURS)
			return -1;
		if (value < LIC_PERIOD_MIN_HOURS) {
			value = LIC_PERIOD_MIN_HOURS;
			up = true;
		}
		break;
	case LIC_PERIOD_DAYS:
		if (value < 1 || value > LIC_PERIOD_MAX_DAYS)
			return -1;
		break;
	default:
		return -1;
	}
	per.value = (unsigned)value;
	*out = per;
	if (raised != NULL)
		*raised = up;
	return 0;
}

struct lic_periodicity lic_periodicity_default(void)
{
	struct lic_periodicity per = {.unit = LIC_PERIOD_DAYS,
				      .value = LIC_PERIOD_DEFAULT_DAYS};

	return per;
}

int64_t lic_periodicity_seconds(const struct lic_periodicity *per)
{
	if (per == NULL)
		return 0;
	if (per->unit == LIC_PERIOD_HOURS &&
	    per->value >= LIC_PERIOD_MIN_HOURS &&
	    per->value <= LIC_PERIOD_MAX_HOURS)
		return (int64_t)per->value * HOUR;
	if (per->unit == LIC_PERIOD_DAYS && per->value >= 1 &&
	    per->value <= LIC_PERIOD_MAX_DAYS)
		return (int64_t)per->value * DAY;
	return 0;
}


/* A fresh period at start: no hours, maxima 0. */
static void open_period(struct lic_period *p, int64_t start)
{
	int c;

	p->st.start = start;
	p->st.hours = 0;
	for (c = 0; c < LIC_CLASS_COUNT; c++)
		p->st.peak[c] = 0;
}

struct lic_period *lic_period_new(const struct lic_periodicity *per,
				  int64_t now)
{
	int64_t length = lic_periodicity_seconds(per);
	struct lic_period *p;

	if (length == 0 || !time_ok(now))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->length = length;
	p->st.last_change = NO_CHANGE;
	open_period(p, now);
	return p;
}

void lic_period_free(struct lic_period **p)
{
	if (p == NULL)
		return;
	free(*p);
	*p = NULL;
}

int lic_period_set_periodicity(struct lic_period *p,
			       const struct lic_periodicity *per)
{
	int64_t length = lic_periodicity_seconds(per);

	if (p == NULL || length == 0)
		return -1;
	p->length = length;
	return 0;
}

int64_t lic_period_start(const struct lic_period *p)
{
	return p->st.start;
}

int64_t lic_period_end(const struct lic_period *p)
{
	return p->st.start + p->length;
}

bool lic_period_due(const struct lic_period *p, int64_t now)
{
	return now >= lic_period_end(p);
}

int lic_period_add_hour(struct lic_period *p, int64_t hour_start,
			const uint32_t value[LIC_CLASS_COUNT])
{
	int c;

	if (p == NULL || value == NULL || !time_ok(hour_start) ||
	    hour_start % HOUR != 0)
		return -1;
	if (hour_start + HOUR <= p->st.start)
		return 0; /* before this period: not ours */
	if (hour_start >= lic_period_end(p))
		return 1; /* a later period's hour */
	for (c = 0; c < LIC_CLASS_COUNT; c++) {
		if (value[c] > p->st.peak[c])
			p->st.peak[c] = value[c];
	}
	if (p->st.hours < UINT32_MAX)
		p->st.hours++;
	return 0;
}

/*
 * The counts of the open period per tag. Standard is the aggregate's peak
 * minus Enhanced's peak (docs/internals/licensing-periods.md), floored at 0: the two peaks may
 * come from different hours, so the difference can be negative.
 */
static void counts(const struct lic_period *p, uint32_t out[LIC_TAG_COUNT])
{
	const uint32_t *pk = p->st.peak;

	out[LIC_TAG_STD] = pk[LIC_CLASS_AGGREGATE] > pk[LIC_CLASS_ENHANCED]
				   ? pk[LIC_CLASS_AGGREGATE] -
					     pk[LIC_CLASS_ENHANCED]
				   : 0;
	out[LIC_TAG_ENH] = pk[LIC_CLASS_ENHANCED];
	out[LIC_TAG_RED] = pk[LIC_CLASS_REDUNDANT];
	out[LIC_TAG_VGW] = pk[LIC_CLASS_VGW];
}

static void fill_records(const struct lic_period *p, int64_t end,
			 struct lic_record rec[LIC_TAG_COUNT])
{
	uint32_t n[LIC_TAG_COUNT];
	int t;

	counts(p, n);
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		rec[t].tag = (enum lic_tag)t;
		rec[t].start = p->st.start;
		rec[t].end = end;
		rec[t].count = n[t];
	}
}

void lic_period_peek(const struct lic_period *p, int64_t now,
		     struct lic_record rec[LIC_TAG_COUNT])
{
	fill_records(p, now, rec);
}

void lic_period_peek_open(const struct lic_period *p, int64_t now,
			  int64_t hour_start,
			  const uint32_t open[LIC_CLASS_COUNT],
			  struct lic_record rec[LIC_TAG_COUNT])
{
	struct lic_period q = *p;

	/* add_hour's own rules: an hour overlapping the period's start is
	 * the period's; one of a later period changes nothing. */
	if (open != NULL)
		(void)lic_period_add_hour(&q, hour_start, open);
	fill_records(&q, now, rec);
}

/* The open period becomes records ending at end; the next starts there. */
static void close_at(struct lic_period *p, int64_t end,
		     struct lic_record rec[LIC_TAG_COUNT])
{
	int t;

	fill_records(p, end, rec);
	for (t = 0; t < LIC_TAG_COUNT; t++)
		p->st.last[t] = rec[t].count;
	p->st.reported = true;
	open_period(p, end);
}

int lic_period_close_due(struct lic_period *p, int64_t now,
			 struct lic_record rec[LIC_TAG_COUNT])
{
	if (!lic_period_due(p, now))
		return 0;
	close_at(p, lic_period_end(p), rec);
	return 1;
}

/* 4 |cur - last| > last, in 64 bits: more than 25% away from last. */
static bool changed(uint32_t cur, uint32_t last)
{
	uint64_t diff = cur > last ? (uint64_t)cur - last
				   : (uint64_t)last - cur;

	return 4 * diff > (uint64_t)last;
}

unsigned lic_period_hour_check(const struct lic_period *p, int64_t now,
			       unsigned *held)
{
	static const enum lic_tag judged[] = {LIC_TAG_STD, LIC_TAG_ENH};
	uint32_t n[LIC_TAG_COUNT];
	unsigned bits = 0;
	size_t i;
	bool limited;

	if (held != NULL)
		*held = 0;
	if (p->st.hours == 0)
		return 0;
	counts(p, n);
	for (i = 0; i < sizeof(judged) / sizeof(judged[0]); i++) {
		if (changed(n[judged[i]], p->st.last[judged[i]]))
			bits |= 1u << judged[i];
	}
	limited = p->st.last_change != NO_CHANGE &&
		  now - p->st.last_change < CHANGE_LIMIT;
	if (limited) {
		if (held != NULL)
			*held = bits;
		bits = 0;
	}
	return bits;
}

int lic_period_close_change(struct lic_period *p, int64_t now,
			    struct lic_record rec[LIC_TAG_COUNT])
{
	if (now <= p->st.start || lic_period_due(p, now))
		return -1;
	close_at(p, now, rec);
	p->st.last_change = now;
	return 0;
}

int lic_period_restart(struct lic_period *p, int64_t now)
{
	if (!time_ok(now))
		return -1;
	open_period(p, now);
	return 0;
}

void lic_period_save(const struct lic_period *p, struct lic_period_state *st)
{
	*st = p->st;
}

int lic_period_restore(struct lic_period *p, const struct lic_period_state *st)
{
	int i;

	if (p == NULL || st == NULL || !time_ok(st->start))
		return -1;
	if (st->last_change != NO_CHANGE && !time_ok(st->last_change))
		return -1;
	for (i = 0; i < LIC_CLASS_COUNT; i++) {
		if (st->hours == 0 && st->peak[i] != 0)
			return -1;
	}
	for (i = 0; i < LIC_TAG_COUNT; i++) {
		if (!st->reported && st->last[i] != 0)
			return -1;
	}
	p->st = *st;
	return 0;
}
