/*
 * lic transport: how the licensing agent pushes a signed usage report
 * (docs/licensing-protocol.md section 4). A table of function pointers, so
 * that the agent runs over HTTPS in sbcd (lic_transport_http_new, built on
 * lic_http) and over a fake in unit tests.
 */
#ifndef SBC_LIC_TRANSPORT_H
#define SBC_LIC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

/* `license smart transport {smart | cslu | off}`. */
enum lic_transport_kind {
	LIC_TRANSPORT_SMART, /* POST usage, ACK in the 200 reply */
	LIC_TRANSPORT_CSLU,  /* POST usage?ack=deferred, 202, ACK later */
	LIC_TRANSPORT_OFF    /* no push: save usage / import files */
};

/* "smart", "cslu", "off"; "?" when unknown. */
const char *lic_transport_name(enum lic_transport_kind k);

/*
 * Completion of one push, called exactly once per push that returned 0,
 * possibly from inside push itself (a fake may answer at once).
 * status: the HTTP status, or 0 when no answer came (error says why).
 * body/len: the answer body (status != 0), valid only during the call.
 */
typedef void lic_push_done_fn(void *arg, int status, const void *body,
			      size_t len, const char *error);

struct lic_transport_ops {
	/*
	 * Start pushing `len` bytes of report envelope. 0: started, `done`
	 * will be called once. -1: nothing started, reason in err, `done`
	 * never called.
	 */
	int (*push)(void *ctx, const char *envelope, size_t len,
		    lic_push_done_fn *done, void *arg, char *err,
		    size_t errlen);
	/*
	 * Start a trust request (docs/licensing-protocol.md 3.4): POST the
	 * envelope to the base URL + "trust"; same contract as push. NULL
	 * when the transport cannot carry one.
	 */
	int (*trust)(void *ctx, const char *envelope, size_t len,
		     lic_push_done_fn *done, void *arg, char *err,
		     size_t errlen);
	/*
	 * Ask for the ACKs of reports sent earlier (cslu, protocol 3.5):
	 * POST the ack_poll envelope to the base URL + "acks"; same contract
	 * as push (200 with an ACK envelope, or 204). NULL when the
	 * transport cannot.
	 */
	int (*poll)(void *ctx, const char *envelope, size_t len,
		    lic_push_done_fn *done, void *arg, char *err,
		    size_t errlen);
	/* Cancel what is in flight (each `done` called with status 0) and
	 * free ctx. May be NULL. */
	void (*free)(void *ctx);
};

/* The HTTPS transport: lic_http on `base`. */
extern const struct lic_transport_ops lic_transport_http_ops;

/*
 * A context for lic_transport_http_ops pushing to `base_url` + "usage"
 * (smart) or + "usage?ack=deferred" (cslu), trust requests to
 * `base_url` + "trust", ACK polls to `base_url` + "acks", with the server certificate
 * verified against `ca_file`. base_url is the `license smart url`, e.g.
 * "https://192.0.2.1:8443/licensing/v1/" (a missing final '/' is added).
 * NULL with a reason on a bad URL, unreadable CA file or no memory.
 */
void *lic_transport_http_new(struct event_base *base, const char *base_url,
			     const char *ca_file, bool deferred_ack,
			     char *err, size_t errlen);

/* Requests through the HTTP proxy host:port with CONNECT
 * (lic_http_set_proxy); host NULL or "": direct. 0 or -1. */
int lic_transport_http_set_proxy(void *ctx, const char *host, unsigned port);

/* FOR TESTS ONLY: allow http:// (lic_http_allow_plain). */
void lic_transport_http_allow_plain(void *ctx, bool allow);

#endif
