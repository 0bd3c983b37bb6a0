/*
 * stats render: the text views of the usage tables, in the layouts of the
 * CUBE commands `show voice sip license stats table` (tables) and
 * `show voice sip license stats` (IOS CPU-history style graphs). The
 * layouts and the rules behind them are in docs/internals/render.md.
 *
 * Pure functions of the tables: no clock reads (the caller passes now_ms,
 * Unix milliseconds, which selects the buckets and stamps the header), no
 * allocation, nothing written anywhere but `out`.
 */
#ifndef SBC_STATS_RENDER_H
#define SBC_STATS_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "stats/stats.h"

/* `cls` value selecting every class, in CUBE order (see below). */
#define STATS_RENDER_ALL (-1)

/*
 * The table view: the header line `<hostname>   hh:mm:ss AM Weekday Mon d
 * yyyy UTC` and a blank line, then for each selected class its 60-second,
 * 60-minute, 72-hour and 72-day tables of 12 rows each. `cls` is an enum
 * stats_class value, or STATS_RENDER_ALL for all classes in the order
 * Standard, Enhanced, Redundant, Aggregate, TDM-SIP (VGW). `hostname` may
 * be NULL or empty. Returns 0, or -1 when s or out is NULL, cls is unknown
 * (nothing is written then), or writing to out failed.
 */
int stats_render_table(const struct stats *s, int cls, int64_t now_ms,
		       const char *hostname, FILE *out);

/*
 * The graph view: for each selected class (same order as above) the header
 * line and a blank line, then the 60-second, 60-minute, 72-hour and 72-day
 * graphs. Same arguments and return values as stats_render_table.
 */
int stats_render_graph(const struct stats *s, int cls, int64_t now_ms,
		       const char *hostname, FILE *out);

/*
 * The title a class is printed under (`CUBE Standard Trunk License Usage`,
 * ..., `TDM-SIP Trunk Sessions`); NULL for an unknown class. Static string.
 */
const char *stats_render_title(int cls);

/*
 * The class a CLI selector word names: standard|std, enhanced|enh,
 * redundant|red, aggregate|agg, vgw (case-insensitive, whole words only;
 * abbreviation matching is the CLI's job). -1 for anything else, NULL
 * included.
 */
int stats_class_parse(const char *word);

#endif
