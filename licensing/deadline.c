/*
 * lic deadline: Usage Reporting arithmetic and its `show license status`
 * block (docs/internals/licensing-policy.md, "Deadlines").
 */
#include "licensing/deadline.h"

#include <inttypes.h>

static bool time_ok(int64_t t)
{
	return t >= 0 && t <= LIC_TIME_MAX;
}

/* Arguments every function needs; times out of range are refused. */
static bool args_ok(const struct lic_policy *p, enum lic_group g,
		    const struct lic_usage_times *t)
{
	return p != NULL && t != NULL && (unsigned)g < LIC_GROUP_COUNT &&
	       lic_policy_validate(p, NULL, 0) == 0 && time_ok(t->first_use) &&
	       time_ok(t->last_push) && time_ok(t->last_ack) &&
	       time_ok(t->last_file_write) &&
	       t->push_interval_days >= LIC_POLICY_DAYS_MIN &&
	       t->push_interval_days <= LIC_POLICY_DAYS_MAX;
}

/* The acknowledgement that counts for the deadline, or NONE. */
static int64_t ack_anchor(const struct lic_policy *p,
			  const struct lic_usage_times *t)
{
	int64_t a = t->last_ack;

	if (!p->ack_required && t->last_push > a)
		a = t->last_push;
	if (a != LIC_TIME_NONE && t->first_use != LIC_TIME_NONE &&
	    a < t->first_use)
		a = LIC_TIME_NONE;
	return a;
}

int64_t lic_next_ack_deadline(const struct lic_policy *p, enum lic_group g,
			      const struct lic_usage_times *t)
{
	int64_t base;
	int32_t days;

	if (!args_ok(p, g, t))
		return LIC_TIME_NONE;
	base = ack_anchor(p, t);
	if (base != LIC_TIME_NONE) {
		days = p->attr[g][LIC_ATTR_FREQUENCY].days;
	} else {
		base = t->first_use;
		days = p->attr[g][LIC_ATTR_FIRST_REPORT].days;
	}
	if (base == LIC_TIME_NONE || days == 0)
		return LIC_TIME_NONE;
	return base + days * LIC_DAY_SECS;
}

int64_t lic_next_report_push(const struct lic_policy *p, enum lic_group g,
			     const struct lic_usage_times *t, int64_t now)
{
	int64_t base, next, deadline, latest;

	if (!args_ok(p, g, t) || !time_ok(now) || !t->push_enabled)
		return LIC_TIME_NONE;
	if (t->change_due)
		return now;
	base = t->last_push != LIC_TIME_NONE ? t->last_push : t->first_use;
	if (base == LIC_TIME_NONE || t->push_interval_days == 0)
		return LIC_TIME_NONE;
	next = base + t->push_interval_days * LIC_DAY_SECS;
	deadline = lic_next_ack_deadline(p, g, t);
	if (deadline != LIC_TIME_NONE) {
		latest = deadline - LIC_PUSH_LEAD_DAYS * LIC_DAY_SECS;
		if (latest > base) {
			if (latest < next)
				next = latest;
		} else if (t->last_push == LIC_TIME_NONE) {
			next = base;
		}
	}
	return next;
}

int64_t lic_next_ack_check(const struct lic_usage_times *t, int64_t now)
{
	int64_t n;

	if (t == NULL || !time_ok(now) || !time_ok(t->last_push) ||
	    !time_ok(t->last_ack) || !t->ack_polled || !t->push_enabled ||
	    t->last_push == LIC_TIME_NONE || t->last_ack >= t->last_push)
		return LIC_TIME_NONE;
	n = 1;
	if (now > t->last_push)
		n = (now - t->last_push + LIC_ACK_CHECK_SECS - 1) /
		    LIC_ACK_CHECK_SECS;
	if (n < 1)
		n = 1;
	return t->last_push + n * LIC_ACK_CHECK_SECS;
}

bool lic_deadline_passed(const struct lic_policy *p, enum lic_group g,
			 const struct lic_usage_times *t, int64_t now)
{
	int64_t d = lic_next_ack_deadline(p, g, t);

	return d != LIC_TIME_NONE && now >= d;
}

void lic_time_left(int64_t deadline, int64_t now, char *buf, size_t len)
{
	int64_t d, m, days, hours, mins;

	if (buf == NULL || len == 0)
		return;
	if (deadline == LIC_TIME_NONE || !time_ok(deadline) || !time_ok(now)) {
		snprintf(buf, len, "<none>");
		return;
	}
	d = deadline > now ? deadline - now : now - deadline;
	m = d / 60;
	days = m / (24 * 60);
	hours = m / 60 % 24;
	mins = m % 60;
	snprintf(buf, len, "%s%" PRId64 " day%s, %" PRId64 " hour%s, %" PRId64
			   " minute%s%s",
		 deadline > now ? "" : "passed ", days, days == 1 ? "" : "s",
		 hours, hours == 1 ? "" : "s", mins, mins == 1 ? "" : "s",
		 deadline > now ? "" : " ago");
}

static void put_time(FILE *out, const char *label, int64_t t)
{
	char buf[LIC_TIME_STR_LEN];

	if (lic_time_format(t, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "<none>");
	fprintf(out, "  %s: %s\n", label, buf);
}

int lic_usage_render(const struct lic_policy *p, enum lic_group g,
		     const struct lic_usage_times *t, int64_t now, FILE *out)
{
	char left[LIC_LEFT_STR_LEN];

	if (out == NULL || !args_ok(p, g, t) || !time_ok(now))
		return -1;
	fputs("Usage Reporting:\n", out);
	put_time(out, "Last ACK received", t->last_ack);
	put_time(out, "Next ACK deadline", lic_next_ack_deadline(p, g, t));
	if (t->push_interval_days > 0)
		fprintf(out, "  Reporting push interval: %d  days\n",
			(int)t->push_interval_days);
	else
		fputs("  Reporting push interval: 0 (no reporting)\n", out);
	put_time(out, "Next ACK push check", lic_next_ack_check(t, now));
	put_time(out, "Next report push", lic_next_report_push(p, g, t, now));
	put_time(out, "Last report push", t->last_push);
	put_time(out, "Last report file write", t->last_file_write);
	lic_time_left(lic_next_ack_deadline(p, g, t), now, left, sizeof(left));
	fprintf(out, "  Time to ACK deadline: %s\n", left);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
