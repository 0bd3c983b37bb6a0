/*
 * lic policy: the Smart Licensing Using Policy policy in use
 * (docs/internals/licensing-policy.md).
 *
 * A policy is a plain value (fixed size, no heap, safe to copy with `=`):
 * `Reporting ACK required` and four attribute groups, each with first report
 * requirement, reporting frequency and report on change, in days, every
 * value carrying the source it came from. It is built from the Cisco
 * default, read from and written to JSON (the SQLite store, imported policy
 * files, policies carried by ACKs), validated, installed with the time it
 * arrived, and rendered as the `Policy:` block of `show license status`.
 *
 * No clock reads (times are Unix seconds passed by the caller), nothing
 * printed except to the FILE * a render function is given.
 */
#ifndef SBC_LIC_POLICY_H
#define SBC_LIC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest policy name, in bytes, without the NUL. */
#define LIC_POLICY_NAME_MAX 63
/* Largest accepted JSON policy document, in bytes. */
#define LIC_POLICY_JSON_MAX 65536
/* Bounds of every day count in a policy. */
#define LIC_POLICY_DAYS_MIN 0
#define LIC_POLICY_DAYS_MAX 3650
/* 9999-12-31 23:59:59 UTC: the last time with a four-digit year. */
#define LIC_TIME_MAX INT64_C(253402300799)
/* Room for lic_time_format: "Oct 14 12:10:32 2021 UTC" or "<none>". */
#define LIC_TIME_STR_LEN 32

/* Where a value of the policy came from; printed in parentheses. */
enum lic_source {
	LIC_SOURCE_CISCO_DEFAULT,   /* "CISCO default" */
	LIC_SOURCE_PRODUCT_DEFAULT, /* "Product default" */
	LIC_SOURCE_CUSTOMER,	    /* "Customer Policy" */
	LIC_SOURCE_COUNT
};

/* The attribute groups, in the order `show license status` prints them. */
enum lic_group {
	LIC_GROUP_PERPETUAL,	/* Unenforced/Non-Export Perpetual */
	LIC_GROUP_SUBSCRIPTION, /* Unenforced/Non-Export Subscription */
	LIC_GROUP_ENFORCED,	/* Enforced (Perpetual/Subscription) */
	LIC_GROUP_EXPORT,	/* Export (Perpetual/Subscription) */
	LIC_GROUP_COUNT
};

/* CUBE trunk licenses are Perpetual and NOT ENFORCED. */
#define LIC_GROUP_CUBE LIC_GROUP_PERPETUAL

/* The three day counts of a group, in printing order. */
enum lic_attr {
	LIC_ATTR_FIRST_REPORT, /* First report requirement (days) */
	LIC_ATTR_FREQUENCY,    /* Reporting frequency (days) */
	LIC_ATTR_ON_CHANGE,    /* Report on change (days) */
	LIC_ATTR_COUNT
};

struct lic_policy_days {
	int32_t days;
	enum lic_source source;
};

struct lic_policy {
	char name[LIC_POLICY_NAME_MAX + 1];
	/* When the policy was installed (Unix seconds); 0 = the built-in
	 * Cisco default, never installed. */
	int64_t installed_on;
	bool ack_required;
	enum lic_source ack_required_source;
	struct lic_policy_days attr[LIC_GROUP_COUNT][LIC_ATTR_COUNT];
};

/*
 * Fill `p` with the default policy as CUBE shows it before any policy is
 * installed: name "Cisco default", installed_on 0, ACK required yes
 * (CISCO default); Perpetual 365/90/90 and Subscription 90/90/80 (CISCO
 * default, the on-change values Product default); Enforced 90/90/80 and
 * Export 90/90/90 (Customer Policy).
 */
void lic_policy_default(struct lic_policy *p);

/*
 * Parse a policy document (docs/internals/licensing-policy.md, "JSON").
 * `buf` need not be NUL-terminated; `len` is at most LIC_POLICY_JSON_MAX.
 * Values the document leaves out are those of the default policy (with
 * their default sources): a policy replaces the one in use, it does not patch
 * it. On success fills `*out` and returns 0. On any error returns -1, leaves
 * `*out` untouched and, when `err` is not NULL, puts a one-line reason in
 * `err` (at most errlen bytes, NUL-terminated).
 */
int lic_policy_parse(const char *buf, size_t len, struct lic_policy *out,
		     char *err, size_t errlen);

/*
 * The JSON text of a policy, in the full form lic_policy_parse reads back to
 * an equal policy (every value with its source, installed_on included).
 * Compact, keys in a fixed order. Returns a malloc'd NUL-terminated string
 * the caller frees, or NULL when `p` is NULL, invalid, or memory ran out.
 */
char *lic_policy_to_json(const struct lic_policy *p);

/*
 * Check every field: days in LIC_POLICY_DAYS_MIN..LIC_POLICY_DAYS_MAX,
 * sources known, name non-empty, NUL-terminated and printable ASCII,
 * installed_on >= 0. Returns 0 or -1 with a reason in `err` as above.
 */
int lic_policy_validate(const struct lic_policy *p, char *err, size_t errlen);

/*
 * A policy that arrives (with an ACK or by import) replaces the one in use:
 * validate `arrived`, copy it over `*in_use` and stamp installed_on = now
 * (Unix seconds, > 0). Returns 0, or -1 with a reason in `err` and
 * `*in_use` unchanged. Persisting the result is the caller's job.
 */
int lic_policy_install(struct lic_policy *in_use,
		       const struct lic_policy *arrived, int64_t now, char *err,
		       size_t errlen);

/* The day count of one attribute of one group; -1 for bad arguments. */
int32_t lic_policy_days(const struct lic_policy *p, enum lic_group g,
			enum lic_attr a);

/* "CISCO default", "Product default", "Customer Policy"; NULL if unknown. */
const char *lic_source_name(enum lic_source s);

/*
 * Write the `Policy:` block of `show license status` to `out`, in the IOS XE
 * layout: the header line and its indented lines, no blank line after.
 * Returns 0, or -1 when p or out is NULL, p is invalid (nothing written
 * then) or writing failed.
 */
int lic_policy_render(const struct lic_policy *p, FILE *out);

/*
 * Format a Unix time as IOS XE prints dates in `show license status`:
 * "Mon dd hh:mm:ss yyyy UTC", English month, day zero-padded
 * ("Mar 06 09:29:58 2025 UTC"). A time <= 0 is printed "<none>". Returns
 * 0, or -1 when buf is NULL, len < LIC_TIME_STR_LEN or the year would be
 * past 9999 (buf then holds "" if it has room).
 */
int lic_time_format(int64_t t, char *buf, size_t len);

#endif
