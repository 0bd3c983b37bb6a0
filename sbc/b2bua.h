/*
 * b2bua: the SIP back-to-back user agent on Sofia-SIP nta.
 *
 * sbc_b2bua_start() creates the SIP thread, which owns the su_root, the nta
 * agent, the routing table and every call; nothing Sofia is touched from any
 * other thread. The other threads talk to it only through the functions
 * below (messages into its su_root) and read the counters (atomics).
 * See docs/architecture.md for the call and leg objects.
 */
#ifndef SBC_B2BUA_H
#define SBC_B2BUA_H

#include "config.h"
#include "counters.h"
#include "dialpeer.h"

#include <stdbool.h>
#include <stddef.h>

struct sbc_b2bua;

/*
 * Start the SIP thread and bind the listen addresses of cfg. Takes ownership
 * of cfg and dp (also on failure). counters must outlive the b2bua.
 * Returns NULL and a reason in err when the stack cannot start.
 */
struct sbc_b2bua *sbc_b2bua_start(struct sbc_config *cfg,
				  struct sbc_dptable *dp,
				  struct sbc_counters *counters, char *err,
				  size_t errlen);

/*
 * Swap in a new config and routing table (SIGHUP). Takes ownership of both.
 * Calls in progress keep their routing; listen addresses are not changed.
 * Returns 0, or -1 when the message cannot be sent (both are then freed).
 */
int sbc_b2bua_reload(struct sbc_b2bua *b, struct sbc_config *cfg,
		     struct sbc_dptable *dp);

/* Refuse new INVITEs with 503 from now on (shutdown has begun). */
void sbc_b2bua_drain(struct sbc_b2bua *b);

/*
 * The "SIP service up" flag driven by the licensing agent: when down, new
 * non-VGW INVITEs get 503 with Retry-After; established calls continue.
 */
void sbc_b2bua_set_service(struct sbc_b2bua *b, bool up);
bool sbc_b2bua_service_up(const struct sbc_b2bua *b);

/* Calls that exist (counted or not yet). Any thread. */
unsigned sbc_b2bua_calls(const struct sbc_b2bua *b);

/*
 * End every remaining call (BYE to both sides of answered calls, CANCEL or
 * 503 to unanswered ones), give the BYEs up to `linger_ms` to complete,
 * stop the SIP thread and free everything. NULL-safe; NULLs *b.
 */
void sbc_b2bua_stop(struct sbc_b2bua **b, unsigned linger_ms);

#endif
