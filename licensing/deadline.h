/*
 * lic deadline: the Usage Reporting arithmetic of docs/internals/licensing-policy.md and
 * the `Usage Reporting:` block of `show license status`
 * (docs/internals/licensing-policy.md, "Deadlines").
 *
 * Pure functions of a policy, the attribute group in use, a struct of
 * times and `now`. All times are Unix seconds (int64_t); 0 (LIC_TIME_NONE)
 * means "never" / "none" both in and out. No clock reads, no allocation.
 */
#ifndef SBC_LIC_DEADLINE_H
#define SBC_LIC_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "licensing/policy.h"

#define LIC_TIME_NONE INT64_C(0)
#define LIC_DAY_SECS  INT64_C(86400)
/* cslu: while an ACK is outstanding, look for it every hour. */
#define LIC_ACK_CHECK_SECS INT64_C(3600)
/* A push is pulled in so that one happens this long before the deadline. */
#define LIC_PUSH_LEAD_DAYS 7

/*
 * What the agent knows about usage reporting. Times are Unix seconds,
 * 0 = never, at most LIC_TIME_MAX.
 */
struct lic_usage_times {
	int64_t first_use;	 /* first time a license was in use */
	int64_t last_push;	 /* last report push that reached the server */
	int64_t last_ack;	 /* last valid ACK installed */
	int64_t last_file_write; /* last `save usage` file written */
	/* `license smart usage interval <days>`; 0 = no periodic push. */
	int32_t push_interval_days;
	/* A report on change is queued and not yet pushed. */
	bool change_due;
	/* The transport pushes reports (smart, cslu); false for `off`. */
	bool push_enabled;
	/* The ACK is collected after the push (cslu), not in its reply. */
	bool ack_polled;
};

/*
 * Next ACK deadline, or LIC_TIME_NONE. The ACK that counts is last_ack, or
 * with `Reporting ACK required: no` the later of last_ack and last_push;
 * one older than first_use acknowledged no usage and does not count.
 * No ACK that counts: first_use + first report requirement of group `g`
 * (none without first_use). Else: that ACK + reporting frequency of `g`.
 * A day count of 0 means no deadline. NONE for bad arguments.
 */
int64_t lic_next_ack_deadline(const struct lic_policy *p, enum lic_group g,
			      const struct lic_usage_times *t);

/*
 * Next report push, or LIC_TIME_NONE when the transport does not push.
 * A report on change is due: `now`. Else base + push interval, where base
 * is last_push, or first_use before the first push (none without either,
 * none with interval 0). If an ACK deadline exists, the push is pulled in
 * to deadline - LIC_PUSH_LEAD_DAYS when that is after base; before the
 * first push, when that is not after base, the push is due at base. The
 * result may be in the past: it is then due now.
 */
int64_t lic_next_report_push(const struct lic_policy *p, enum lic_group g,
			     const struct lic_usage_times *t, int64_t now);

/*
 * Next ACK push check (cslu only: ack_polled and push_enabled), or
 * LIC_TIME_NONE. While the last push has no ACK (last_ack < last_push):
 * the first last_push + n * LIC_ACK_CHECK_SECS (n >= 1) at or after `now`.
 */
int64_t lic_next_ack_check(const struct lic_usage_times *t, int64_t now);

/* The ACK deadline exists and `now` >= it. */
bool lic_deadline_passed(const struct lic_policy *p, enum lic_group g,
			 const struct lic_usage_times *t, int64_t now);

/* Room for lic_time_left's text. */
#define LIC_LEFT_STR_LEN 64

/*
 * How long until `deadline` as of `now`, for operators:
 * "89 days, 23 hours, 59 minutes", "passed 2 days, 3 hours ago", or
 * "<none>" when there is no deadline (LIC_TIME_NONE). Whole minutes,
 * rounded down. `buf` must hold LIC_LEFT_STR_LEN bytes.
 */
void lic_time_left(int64_t deadline, int64_t now, char *buf, size_t len);

/*
 * Write the `Usage Reporting:` block of `show license status` to `out` in
 * the IOS XE layout: the header line and seven indented lines, then
 * `Time to ACK deadline:` (lic_time_left), no blank line after. Returns 0, or -1 for NULL or invalid arguments (nothing
 * written then) or a write error.
 */
int lic_usage_render(const struct lic_policy *p, enum lic_group g,
		     const struct lic_usage_times *t, int64_t now, FILE *out);

#endif
