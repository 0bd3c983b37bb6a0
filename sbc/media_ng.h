/*
 * media_ng: the client of rtpengine's ng control protocol
 * (docs/internals/media-ng.md).
 *
 * A request is one UDP datagram `<cookie> <JSON object>` to one relay;
 * the reply is `<same cookie> <JSON object>`. rtpengine keeps the reply of
 * each cookie for a while, so a retransmission carries the cookie of the
 * first send (the relay answers it from its cache instead of running an
 * offer twice) and every new request a fresh one.
 *
 * No event loop of its own: the owner watches sbc_ng_fd(ng, i) for each
 * relay i and calls sbc_ng_readable() when it is readable, and calls
 * sbc_ng_timer() once the time sbc_ng_next_timeout_ms() gave has come. The
 * client never reads a clock: every time is the caller's now_ms (one
 * monotonic clock, milliseconds). One thread.
 *
 * Callbacks run from sbc_ng_readable() and sbc_ng_timer() only (never from
 * sbc_ng_request()); they may start requests and cancel others, not free
 * the client.
 */
#ifndef SBC_MEDIA_NG_H
#define SBC_MEDIA_NG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Relays per client. */
#define SBC_NG_MAX_RELAYS 32
/* Highest weight of a relay. */
#define SBC_NG_MAX_WEIGHT 1000
/* Longest cookie, sent or accepted (ours are 8 + 1 + up to 16 hex). */
#define SBC_NG_COOKIE_MAX 32
/* Longest request datagram (cookie, space, JSON). */
#define SBC_NG_REQUEST_MAX 65000
/* Longest reply datagram accepted; sbc_ng_opts.max_reply may lower it. */
#define SBC_NG_REPLY_MAX 65507

struct sbc_ng;

struct sbc_ng_relay_conf {
	const char *addr;	/* IPv4 or IPv6 literal */
	uint16_t port;		/* 1..65535 */
	unsigned weight;	/* 0..SBC_NG_MAX_WEIGHT; 0: pinned requests only */
};

/* 0 in a member: its default. */
struct sbc_ng_opts {
	int64_t timeout_ms;	/* a request gives up after (default 2000) */
	int64_t retrans_ms;	/* first retransmission after, then doubling
				 * (default 500) */
	unsigned down_after;	/* consecutive timeouts mark a relay down
				 * (default 2) */
	size_t max_reply;	/* bigger datagrams are dropped (default and
				 * most SBC_NG_REPLY_MAX) */
};

/*
 * The end of a request. reply: the relay's answer (owned by the client:
 * json_incref() it to keep it), or NULL when the request timed out or could
 * not be sent. reason: NULL for {"result":"ok"} or "pong"; the relay's
 * "error-reason" (or "error") for {"result":"error"}; why for a NULL reply.
 * relay: the relay that answered or the last one tried.
 */
typedef void (*sbc_ng_cb)(void *arg, int relay, json_t *reply,
			  const char *reason);

/* One socket per relay, all created up front. NULL with a reason. */
struct sbc_ng *sbc_ng_new(const struct sbc_ng_relay_conf *relays, size_t n,
			  const struct sbc_ng_opts *opts, char *err,
			  size_t errlen);
/* Closes the sockets and forgets every pending request (no callback). */
void sbc_ng_free(struct sbc_ng *ng);

size_t sbc_ng_nfds(const struct sbc_ng *ng);
/* The socket of relay i (connected, non-blocking), to watch for reading. */
int sbc_ng_fd(const struct sbc_ng *ng, size_t i);

/*
 * Send `cmd` (a JSON object with "command"; not kept) to relay `relay`, or
 * with relay -1 to an up relay chosen by weight (smooth weighted
 * round-robin). A request to a given relay is pinned: it goes there even
 * when the relay is down and never fails over (the call's media lives
 * there: answers, deletes, queries). An unpinned one (an offer starting a
 * call) moves to another up relay when it times out or its relay goes
 * down, with a fresh cookie, and the callback tells where it ended up.
 * Returns the relay the request went to, or -1 with a reason (no relay
 * up, bad relay index, request too big, out of memory) and no callback.
 */
int sbc_ng_request(struct sbc_ng *ng, int relay, json_t *cmd, sbc_ng_cb cb,
		   void *arg, int64_t now_ms, char *err, size_t errlen);

/* Read every datagram waiting on relay i's socket and complete the
 * requests they answer. */
void sbc_ng_readable(struct sbc_ng *ng, size_t i, int64_t now_ms);

/* When sbc_ng_timer() is due (absolute, the now_ms clock), or -1: none. */
int64_t sbc_ng_next_timeout_ms(const struct sbc_ng *ng);
/* Retransmit what is due, time out what has run out. */
void sbc_ng_timer(struct sbc_ng *ng, int64_t now_ms);

/* Forget every pending request started with arg, without calling back. */
void sbc_ng_cancel_arg(struct sbc_ng *ng, void *arg);

/* A `ping` to every relay without one pending: a reply marks the relay
 * up, a timeout counts like any other. */
void sbc_ng_ping_all(struct sbc_ng *ng, int64_t now_ms);

struct sbc_ng_relay_stats {
	char addr[64];		/* "127.0.0.1:2223", "[::1]:2223" */
	unsigned weight;
	bool up;
	uint64_t requests;	/* first sends (failed-over ones included) */
	uint64_t retransmits;
	uint64_t replies;	/* matched */
	uint64_t timeouts;
	uint64_t dropped;	/* junk, oversized, unknown cookie, late */
	uint64_t send_errors;
	size_t pending;
};

/* Relay i's view for `show`; -1 when i is out of range. */
int sbc_ng_relay_stats(const struct sbc_ng *ng, size_t i,
		       struct sbc_ng_relay_stats *out);

/*
 * One reply datagram buf[0..len): a cookie of 1..SBC_NG_COOKIE_MAX
 * printable non-space ASCII bytes, one space, a JSON object (duplicate
 * keys refused) with a string "result", nothing after it but whitespace,
 * len at most SBC_NG_REPLY_MAX. On 0 the cookie is in cookie[] (NUL
 * terminated; cookie_len at least SBC_NG_COOKIE_MAX + 1) and *out is the
 * caller's; -1 with a reason and neither.
 */
int sbc_ng_parse_reply(const char *buf, size_t len, char *cookie,
		       size_t cookie_len, json_t **out, char *err,
		       size_t errlen);

#endif
