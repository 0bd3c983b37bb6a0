/*
 * callview: the public facts of one B2BUA call, as copied out of the SIP
 * thread by sbc_b2bua_snapshot(), and `show call active voice brief`
 * rendered from them (docs/internals/callview.md).
 *
 * A view is plain data (fixed-size strings, no pointers) so that an array
 * of them is one malloc'd block that any thread may read and free.
 */
#ifndef SBC_CALLVIEW_H
#define SBC_CALLVIEW_H

#include "sbc/config.h"
#include "sbc/counters.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SBC_CALLVIEW_NUMBER_MAX 64  /* longer numbers are cut */
#define SBC_CALLVIEW_ADDR_MAX 64    /* "203.0.113.7:5060", "[v6]:port" */
#define SBC_CALLVIEW_CALLID_MAX 128 /* longer Call-IDs are cut */

/*
 * Where a call is, in the words of IOS `show call active voice`. One state
 * per call; both legs show it.
 */
enum sbc_callview_state {
	SBC_CALLVIEW_CONNECTING,    /* INVITE relayed to B, no 18x yet */
	SBC_CALLVIEW_ALERTING,	    /* 180/181/182/183 relayed: ringing or
				       early media */
	SBC_CALLVIEW_ACTIVE,	    /* answered (2xx relayed) */
	SBC_CALLVIEW_DISCONNECTING, /* being cleared: CANCEL or BYEs sent,
				       waiting for their answers */
};

enum sbc_callview_side { SBC_CALLVIEW_LEG_A, SBC_CALLVIEW_LEG_B };

struct sbc_callview_leg {
	enum sbc_transport transport;
	char remote[SBC_CALLVIEW_ADDR_MAX];	/* peer's signalling addr:port */
	char call_id[SBC_CALLVIEW_CALLID_MAX]; /* this dialog's Call-ID */
};

struct sbc_call_view {
	uint64_t id; /* unique for the process lifetime, from 1 */
	enum sbc_callview_state state;
	bool counted;	    /* holds a trunk session now */
	enum sbc_class cls; /* its class; meaningful when counted */
	unsigned in_peer;   /* inbound dial-peer tag; 0: none matched */
	unsigned out_peer;  /* outbound dial-peer tag */
	char calling[SBC_CALLVIEW_NUMBER_MAX + 1]; /* From user of A's INVITE */
	char called[SBC_CALLVIEW_NUMBER_MAX + 1];  /* Request-URI user */
	int64_t start_wall_ms;	 /* INVITE received (wall clock, UTC ms) */
	int64_t connect_wall_ms; /* 2xx relayed; 0 while not answered */
	struct sbc_callview_leg leg[2]; /* [A] caller side, [B] callee side */
};

const char *sbc_callview_state_name(enum sbc_callview_state st);

/*
 * `show call active voice brief`: the legend, the call-leg counts and two
 * call legs (A then B) per call, in array order. now_wall_ms gives the
 * durations. 0, or -1 on a write error.
 */
int sbc_callview_render_brief(const struct sbc_call_view *v, size_t n,
			      int64_t now_wall_ms, FILE *out);

/*
 * The same as JSON (keys in docs/internals/callview.md); NULL when memory
 * ran out. The caller owns the reference.
 */
json_t *sbc_callview_json(const struct sbc_call_view *v, size_t n,
			  int64_t now_wall_ms);

/*
 * A wall-clock time as IOS prints it: "09:38:36.445 UTC Thu Sep 22 2016".
 * Returns buf.
 */
char *sbc_callview_time(int64_t wall_ms, char *buf, size_t len);

#endif
