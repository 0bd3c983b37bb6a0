/*
 * lic show: `show license status` from the agent's state, as IOS XE prints
 * it (two-space indentation per level, `<none>`/`<empty>` placeholders,
 * dates as "Oct 14 12:10:32 2021 UTC") and as JSON with the same values
 * (docs/cli.md lists the keys).
 */
#ifndef SBC_LIC_SHOW_H
#define SBC_LIC_SHOW_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "agent.h"

/* The whole `show license status` text. 0, or -1 on a write error. */
int lic_show_status(const struct lic_agent *a, int64_t now, FILE *out);

/* The same as a JSON object (times as Unix seconds, null for <none>);
 * NULL when memory ran out. The caller owns the reference. */
json_t *lic_show_status_json(const struct lic_agent *a, int64_t now);

/* `show license usage`: the entitlements, with the count the open period
 * would record now (Standard, Enhanced, Redundant always; VGW while in
 * use). */
int lic_show_usage(const struct lic_agent *a, int64_t now, FILE *out);
json_t *lic_show_usage_json(const struct lic_agent *a, int64_t now);

/* `show license summary`: the same as one table (JSON: as usage). */
int lic_show_summary(const struct lic_agent *a, int64_t now, FILE *out);

/* `show license all`: status, usage, product, agent version and the
 * Usage Report Summary of the stored records. */
int lic_show_all(const struct lic_agent *a, int64_t now,
		 const char *agent_version, FILE *out);
json_t *lic_show_all_json(const struct lic_agent *a, int64_t now,
			  const char *agent_version);

/* `show voice sip license status`: SIP service state, release, the
 * measurement period, and the newest records of each tag with their
 * state (UNREPORTED, REPORTED, ACKED). */
int lic_show_sip_status(const struct lic_agent *a, int64_t now, FILE *out);
json_t *lic_show_sip_status_json(const struct lic_agent *a, int64_t now);

#endif
