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

#endif
