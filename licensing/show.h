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

#include "common/clk.h"
#include "licensing/agent.h"

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

/* ---- exec views: udi, eventlog, tech support (show_exec.c) ------------ */

/* An event time as `show license eventlog` prints it:
 * "2026-12-07 15:10:01.123 UTC". 0, or -1 (len < LIC_EVENT_TIME_LEN,
 * time out of range). */
#define LIC_EVENT_TIME_LEN CLK_UTC_LEN
int lic_event_time_format(int64_t at_ms, char *buf, size_t len);

/* `show license udi`: "UDI: PID:<pid>,SN:<sn>". */
int lic_show_udi(const struct lic_agent *a, FILE *out);

/*
 * `show license eventlog [days N]`: " **** Event Log ****" and one line
 * per event, oldest first: time, name, attributes. days 0 = every event
 * kept; else those of the last N days before now_ms. At most
 * LIC_SHOW_EVENTS_MAX lines (the newest). 0, or -1 (store or write).
 */
#define LIC_SHOW_EVENTS_MAX 1000u
int lic_show_eventlog(const struct lic_agent *a, int64_t now_ms,
		      unsigned days, FILE *out);

/*
 * `show license tech support`: status, usage, UDI, the agent's counters
 * and the newest LIC_SHOW_TECH_EVENTS events, in IOS's section layout.
 */
#define LIC_SHOW_TECH_EVENTS 50u
int lic_show_tech(const struct lic_agent *a, int64_t now_ms,
		  const char *agent_version, FILE *out);

#endif
