/*
 * lsrv service: licd's protocol logic, without HTTP (docs/licensing-
 * protocol.md sections 3 to 5, docs/licd.md).
 *
 * lsrv_handle() takes one request as plain values (method, target, content
 * type, body) and produces the status and JSON body to answer, so the
 * whole API is testable without sockets; server.c only moves bytes between
 * libevent and it. lsrv_import_usage() is the offline path (usage file in,
 * ACK file out) over the same intake.
 *
 * Every rejected request is answered {"error":code,"message":line} with
 * the status of the protocol's error table, logs one line, and changes
 * nothing in the store. Times are Unix seconds from the caller.
 */
#ifndef SBC_LICD_SERVICE_H
#define SBC_LICD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licensing/keys.h"
#include "licd/store.h"

/* The API lives under this path (the base URL's path). */
#define LSRV_API_PREFIX "/licensing/v1/"
/* Longest request target (path and query) looked at. */
#define LSRV_TARGET_MAX 2048
/* Largest usage file lsrv_import_usage() reads: 256 envelopes + slack. */
#define LSRV_USAGE_FILE_MAX (LIC_ACK_MAX_IDS * (size_t)LIC_ENVELOPE_MAX + 65536)

struct lsrv_service;

struct lsrv_request {
	const char *method;	  /* "POST", ... */
	const char *target;	  /* path[?query] of the request line */
	const char *content_type; /* NULL when absent */
	bool length_known;	  /* Content-Length given (or chunked) */
	const char *body;	  /* len bytes, need not be NUL-terminated */
	size_t len;
	const char *peer; /* for log lines; may be NULL */
};

struct lsrv_response {
	int status;
	char *body; /* JSON text (owned), NULL for 204 */
	size_t len;
	const char *allow; /* "POST" with a 405, else NULL */
};

/*
 * A service over `st` signing with `server` (both borrowed: they must
 * outlive the service). NULL with a reason on failure.
 */
struct lsrv_service *lsrv_service_new(struct lsrv_store *st,
				      const struct lic_key *server, char *err,
				      size_t errlen);
void lsrv_service_free(struct lsrv_service **s);

/* Answer one request; `out` is always filled (500 when all else fails). */
void lsrv_handle(struct lsrv_service *s, const struct lsrv_request *rq,
		 int64_t now, struct lsrv_response *out);
void lsrv_response_clear(struct lsrv_response *r);

/*
 * The offline path (protocol section 5): a usage file of 1..256 report
 * envelopes of one device, each verified with the key bound to it, all
 * stored in one transaction (idempotently), and *ack one ACK envelope for
 * all of them (caller frees). -1 with a reason and nothing stored when
 * any report is refused. *nreports (may be NULL) gets the count.
 */
int lsrv_import_usage(struct lsrv_service *s, const char *buf, size_t len,
		      int64_t now, char **ack, size_t *acklen,
		      size_t *nreports, char *err, size_t errlen);

#endif
