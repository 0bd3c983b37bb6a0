/*
 * sbcd's Prometheus endpoint: `GET /metrics` in the text exposition format
 * on a loopback HTTP port (`metrics listen ADDR PORT`), served by the main
 * event loop.
 *
 * One table of rows (metrics.c) says what sbcd exports: sessions per class,
 * calls, calls per second, SIP service state, the licensing deadline and
 * report queue; the SIP message counters come from the sipstats table, the
 * same rows `show sip-ua statistics` prints. docs/metrics.md lists them.
 */
#ifndef SBC_METRICS_H
#define SBC_METRICS_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct sbcd;
struct sbc_metrics;

/*
 * Serve on addr:port (port 0: the kernel picks one; sbc_metrics_port says
 * which). NULL with a reason when the socket cannot be bound.
 */
struct sbc_metrics *sbc_metrics_start(struct sbcd *d, const char *addr,
				      unsigned port, char *err, size_t errlen);
void sbc_metrics_stop(struct sbc_metrics **m);
unsigned sbc_metrics_port(const struct sbc_metrics *m);

/* The exposition text of everything now. */
void sbc_metrics_render(struct sbcd *d, struct evbuffer *out);

#endif
