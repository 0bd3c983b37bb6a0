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

#include "sbc/callview.h"
#include "sbc/config.h"
#include "sbc/counters.h"
#include "sbc/dialpeer.h"
#include "sbc/sipstats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most calls one snapshot returns (oldest first); the rest are left out. */
#define SBC_B2BUA_SNAPSHOT_MAX 100000

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
 * The same with a state directory: TLS (a `tls certificate` in cfg) needs
 * one, for the credentials directory Sofia-SIP reads (STATE_DIR/tls, 0700;
 * its files exist only while the transports start), and so does
 * `ip name-server` (STATE_DIR/resolv.conf, the resolver's file).
 * sbc_b2bua_start() passes NULL, and then such a config fails to start.
 */
struct sbc_b2bua *sbc_b2bua_start_in(const char *state_dir,
				     struct sbc_config *cfg,
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
 * The port listen entry i (the order of the start config's `listen`
 * lines) is bound to: the configured one, or the kernel's choice for port
 * 0 (0 when unknown). Set before sbc_b2bua_start() returns, then fixed:
 * any thread.
 */
unsigned sbc_b2bua_listen_port(const struct sbc_b2bua *b, size_t i);

/*
 * `show call active voice`: copy the public facts of every call (at most
 * SBC_B2BUA_SNAPSHOT_MAX, oldest first) into a malloc'd array, *out, of
 * *n views (NULL and 0 when there are no calls); free it with
 * sbc_b2bua_snapshot_free(). Any thread but the SIP thread: the copy is
 * made by the SIP thread in one pass, and the caller waits for it at most
 * 2 s. Returns 0, or -1 with a reason in err (the SIP thread did not
 * answer in time, is stopping, or memory ran out); nothing leaks and
 * nothing is written into the caller's memory after a timeout.
 */
int sbc_b2bua_snapshot(struct sbc_b2bua *b, struct sbc_call_view **out,
		       size_t *n, char *err, size_t errlen);
/* NULL-safe; NULLs *v. */
void sbc_b2bua_snapshot_free(struct sbc_call_view **v);

/*
 * `clear call voice`: end call `id` (struct sbc_call_view.id) as an
 * operator expects: answered, BYE to both sides; not answered, 487 to the
 * caller and CANCEL to the callee. A call already being torn down is left
 * to finish. Returns 0 when the call existed, 1 when no call has that id,
 * -1 when the SIP thread did not answer within 2 s (or could not); err
 * says why for 1 and -1. Any thread but the SIP thread.
 */
int sbc_b2bua_clear_call(struct sbc_b2bua *b, uint64_t id, char *err,
			 size_t errlen);

/*
 * `show dial-peer voice summary`: the OPTIONS keepalive state of dial-peer
 * `tag`: "active", "busyout", or "" when it has no keepalive profile (or
 * b is NULL). Any thread; a static string.
 */
const char *sbc_b2bua_peer_keepalive(struct sbc_b2bua *b, unsigned tag);

/*
 * `show dial-peer voice summary`: where a `session target dns:` dial-peer
 * was last reached, "addr:port" (the source of its last answer to a call
 * or an OPTIONS keepalive), into out (len bytes); "" before any answer,
 * after a reload, or for other dial-peers. Any thread.
 */
void sbc_b2bua_peer_resolved(struct sbc_b2bua *b, unsigned tag, char *out,
			     size_t len);

/*
 * `clear call voice causecode <n> id <id>`: the same, and every message
 * that ends the call (the BYEs, the final answer to the caller, the
 * CANCEL) carries `Reason: Q.850;cause=<cause>` (RFC 3326). cause
 * 1..SBC_Q850_CAUSE_MAX; 0 = none (sbc_b2bua_clear_call). -1 with a
 * reason for a cause out of range.
 */
#define SBC_Q850_CAUSE_MAX 127u
int sbc_b2bua_clear_call_cause(struct sbc_b2bua *b, uint64_t id,
			       unsigned cause, char *err, size_t errlen);

/*
 * The SIP message counters (`show sip-ua statistics`), written by the SIP
 * thread; read or clear them from any thread. Lives as long as b.
 */
struct sbc_sipstats *sbc_b2bua_sipstats(struct sbc_b2bua *b);

/*
 * End every remaining call (BYE to both sides of answered calls, CANCEL or
 * 503 to unanswered ones), give the BYEs up to `linger_ms` to complete,
 * stop the SIP thread and free everything. NULL-safe; NULLs *b.
 */
void sbc_b2bua_stop(struct sbc_b2bua **b, unsigned linger_ms);

#endif
