/*
 * dialpeer: the routing table built from the config's dial-peers.
 *
 * Inbound: the dial-peer whose `incoming called-number` matches the
 * Request-URI user. Outbound: the dial-peer whose `destination-pattern`
 * matches it. Ties are broken by the longest (most specific) match, then the
 * lowest `preference`, then the lowest tag. A table is immutable once built;
 * a reload builds a new one and swaps it in the SIP thread.
 */
#ifndef SBC_DIALPEER_H
#define SBC_DIALPEER_H

#include "sbc/config.h"

#include <stddef.h>

struct sbc_dptable;

/* Build from cfg (copies what it needs). NULL + err on a bad pattern. */
struct sbc_dptable *sbc_dptable_new(const struct sbc_config *cfg, char *err,
				    size_t errlen);
void sbc_dptable_free(struct sbc_dptable **t);

/* The matching dial-peer, or NULL. `called` is the Request-URI user part. */
const struct sbc_dialpeer_cfg *sbc_dptable_inbound(const struct sbc_dptable *t,
						   const char *called);
const struct sbc_dialpeer_cfg *sbc_dptable_outbound(const struct sbc_dptable *t,
						    const char *called);

/*
 * sbc_dptable_outbound() among the dial-peers that are in service: a
 * dial-peer for which busy(tag, arg) is true (busied out by its OPTIONS
 * keepalive) is passed over, and the next best match is taken. *skipped
 * (when not NULL) tells whether a match was passed over, so that the
 * caller can answer 503 rather than 404 when none is left.
 */
const struct sbc_dialpeer_cfg *
sbc_dptable_outbound_avail(const struct sbc_dptable *t, const char *called,
			   bool (*busy)(unsigned tag, void *arg), void *arg,
			   bool *skipped);

size_t sbc_dptable_count(const struct sbc_dptable *t);

#endif
