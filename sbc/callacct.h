/*
 * callacct: the counting part of one call's life (docs/architecture.md, "Counting").
 *
 * Each B2BUA call embeds one struct sbc_callacct. Whatever order the SIP
 * events arrive in (BYE from both sides, CANCEL crossing a 200, errors,
 * timeouts, the reaper, duplicates of any of these) the call is added to the
 * counters exactly once, when its outbound INVITE is sent, and removed
 * exactly once, at the first event that ends it. Kept free of Sofia-SIP so
 * that every event order can be unit-tested.
 */
#ifndef SBC_CALLACCT_H
#define SBC_CALLACCT_H

#include "sbc/counters.h"

#include <stdbool.h>

enum sbc_callacct_state {
	SBC_ACCT_NEW,	    /* not yet counted */
	SBC_ACCT_EARLY,	    /* outbound INVITE sent, not answered */
	SBC_ACCT_CONFIRMED, /* answered */
	SBC_ACCT_ENDED,	    /* torn down; never counted again */
};

struct sbc_callacct {
	enum sbc_callacct_state state;
	enum sbc_class cls;
};

/* A new, uncounted call of class `cls` (STANDARD, REDUNDANT or VGW). */
void sbc_callacct_init(struct sbc_callacct *a, enum sbc_class cls);

/* The outbound INVITE went out: count the call (once). */
void sbc_callacct_start(struct sbc_callacct *a, struct sbc_counters *c);

/* A 2xx was relayed: early to confirmed (diagnostics only). */
void sbc_callacct_answer(struct sbc_callacct *a, struct sbc_counters *c);

/*
 * Media forking started: STANDARD becomes ENHANCED and stays so. Returns
 * true when the class changed, false when it was already Enhanced, is not a
 * Standard call, or is not counted.
 */
bool sbc_callacct_upgrade(struct sbc_callacct *a, struct sbc_counters *c);

/*
 * The call ended (BYE done, CANCEL, final non-2xx, timeout, reaper, shutdown).
 * Returns true the first time only.
 */
bool sbc_callacct_end(struct sbc_callacct *a, struct sbc_counters *c);

#endif
