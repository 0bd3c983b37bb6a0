/*
 * keepalive: OPTIONS pings to the dial-peers that have a
 * `voice-class sip options-keepalive profile` (docs/sip.md, "OPTIONS
 * keepalive"), and their busy-out state.
 *
 * The object is created before the SIP thread starts and freed after it
 * ends; everything that touches Sofia-SIP (attach, set, tick, detach, the
 * response callbacks) runs in the SIP thread. sbc_keepalive_state() may be
 * called from any thread while the object exists.
 */
#ifndef SBC_KEEPALIVE_H
#define SBC_KEEPALIVE_H

#include "sbc/config.h"
#include "sbc/sipstats.h"

#include <stdbool.h>
#include <stdint.h>

enum sbc_ka_state {
	SBC_KA_NONE,	/* no keepalive on this dial-peer */
	SBC_KA_ACTIVE,	/* in service (also before the first answer) */
	SBC_KA_BUSYOUT, /* `retry` pings in a row failed: not routed to */
};

struct sbc_keepalive;
struct nta_agent_s; /* Sofia-SIP's nta_agent_t */

/*
 * NULL on memory failure. stats (may be NULL) counts the OPTIONS sent.
 * on_answer (may be NULL) is called in the SIP thread with the address
 * ("addr:port") a dns: dial-peer's ping was answered from.
 */
struct sbc_keepalive *
sbc_keepalive_new(struct sbc_sipstats *stats,
		  void (*on_answer)(void *arg, unsigned tag, const char *addr),
		  void *arg);
/* NULL-safe; NULLs *k. Call sbc_keepalive_detach() first (SIP thread). */
void sbc_keepalive_free(struct sbc_keepalive **k);

/*
 * SIP thread: use agent for pings; from_host[tp] is our host:port per
 * transport (for the From header), "" when not listening.
 */
void sbc_keepalive_attach(struct sbc_keepalive *k, struct nta_agent_s *agent,
			  const char from_host[3][64]);
/* SIP thread: cancel every ping in flight; nothing calls back afterwards. */
void sbc_keepalive_detach(struct sbc_keepalive *k);

/*
 * SIP thread: watch the voip dial-peers of cfg that have a keepalive
 * profile and a session target (start and every reload). A dial-peer with
 * the same tag and target as before keeps its state; the others start
 * ACTIVE with their first ping due at once. Returns 0, -1 on memory
 * failure (the old set stays).
 */
int sbc_keepalive_set(struct sbc_keepalive *k, const struct sbc_config *cfg,
		      int64_t now_ms);

/*
 * SIP thread, every few hundred ms: a ping still unanswered when the next
 * is due counts as failed (so the interval bounds its wait), then the next
 * one is sent. Intervals: up-interval while ACTIVE, down-interval while
 * BUSYOUT.
 */
void sbc_keepalive_tick(struct sbc_keepalive *k, int64_t now_ms);

/* SIP thread: the routing predicate (arg is the struct sbc_keepalive). */
bool sbc_keepalive_busy(unsigned tag, void *arg);

/* Any thread: the state of dial-peer `tag`. */
enum sbc_ka_state sbc_keepalive_state(struct sbc_keepalive *k, unsigned tag);
/* "active", "busyout"; "" for NONE. */
const char *sbc_ka_state_name(enum sbc_ka_state s);

#endif
