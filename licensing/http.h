/*
 * lic_http: the licensing agent's asynchronous HTTPS client
 * (docs/architecture.md, docs/licensing-protocol.md): report pushes, trust requests and ACK fetches from
 * sbcd's main thread to licd.
 *
 * Runs on the caller's libevent event_base and must only be used from the
 * thread that runs that base. One connection per request (Connection:
 * close), no retries here: the caller retries with lic_backoff_delay().
 *
 * TLS: TLS 1.2 minimum, the peer certificate is always verified against the
 * certificates in the CA file given to lic_http_new() (for licd, its
 * self-signed STATE_DIR/server.crt, pinned as a trust anchor), and the
 * certificate must match the URL's host: subjectAltName DNS name for host
 * names (SNI is sent), subjectAltName IP address for IPv4/IPv6 literals
 * (no SNI). Nothing can turn verification off.
 *
 * Host names are resolved with the system resolver (getaddrinfo), which
 * blocks the main thread for the lookup; licd is normally given by address.
 */
#ifndef SBC_LIC_HTTP_H
#define SBC_LIC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct lic_http;

/* Largest response body accepted; a larger one fails the request. */
#define LIC_HTTP_MAX_RESPONSE (1024u * 1024u)
/* Largest request body lic_http_post() sends. */
#define LIC_HTTP_MAX_REQUEST (8u * 1024u * 1024u)
/* Longest URL accepted. */
#define LIC_HTTP_MAX_URL 2048u
/* Per-request timeout bounds, seconds. */
#define LIC_HTTP_MAX_TIMEOUT 3600u

/*
 * Completion of one request, called exactly once per accepted
 * lic_http_post(), always from the event loop (never from inside
 * lic_http_post()).
 *
 * status: the HTTP status (any, 1xx..5xx, as received), or 0 when no
 *         response was received: connection, TLS, verification, timeout,
 *         oversized response, cancellation by lic_http_free().
 * body, len: the response body (status != 0), else NULL and 0. Owned by
 *         lic_http, valid only during the call; not NUL-terminated.
 * error: NULL when status != 0, else a human-readable reason (valid only
 *         during the call).
 *
 * The callback may call lic_http_post() again (for example to retry) and
 * may call lic_http_free() on the client.
 */
typedef void lic_http_done_fn(void *arg, int status, const void *body,
			      size_t len, const char *error);

/*
 * A client on `base` (not owned) trusting exactly the certificates in the
 * PEM file `ca_file`. Returns NULL with a reason in err (errlen bytes, may
 * be 0) when the file cannot be read or holds no certificate, or on
 * allocation/OpenSSL failure.
 */
struct lic_http *lic_http_new(struct event_base *base, const char *ca_file,
			      char *err, size_t errlen);

/*
 * Send every later request through the HTTP proxy host:port (a name or an
 * IP literal; resolved by the system resolver, blocking, at each request):
 * connect to it, `CONNECT host:port HTTP/1.1` for the URL's host and port,
 * then, once it answers 200, TLS with the license server over the tunnel
 * (verified exactly as without a proxy) and the request. The response is
 * read to the connection's close (Content-Length or chunked bodies). A
 * proxy that answers anything but 200 fails the request with its status
 * line. host NULL or "" goes back to direct connections. 0, or -1 for a
 * host longer than 255 characters or a port outside 1-65535. Requests in
 * flight are not affected.
 */
int lic_http_set_proxy(struct lic_http *h, const char *host, unsigned port);

/*
 * Allow plain http:// URLs. FOR TESTS ONLY: by default lic_http_post()
 * refuses anything but https://. sbcd never calls this.
 */
void lic_http_allow_plain(struct lic_http *h, bool allow);

/*
 * Start a POST of `len` bytes at `body` (copied; may be NULL when len is 0)
 * to `url` (https://host[:port][/path][?query]; port defaults to 443;
 * IPv6 literals in brackets; no user info) with the given Content-Type.
 * The whole exchange (connect, TLS handshake, request, response) must
 * finish within timeout_s seconds (1..LIC_HTTP_MAX_TIMEOUT).
 *
 * Returns 0 when the request was started: `done` will be called exactly
 * once. Returns -1 when nothing was started (bad URL, refused scheme,
 * bad arguments, body too large, allocation failure, lic_http_free() in
 * progress): `done` is never called, and lic_http_last_error() says why.
 */
int lic_http_post(struct lic_http *h, const char *url, const char *content_type,
		  const void *body, size_t len, unsigned timeout_s,
		  lic_http_done_fn *done, void *arg);

/* Reason for the last lic_http_post() that returned -1 ("" if none). */
const char *lic_http_last_error(const struct lic_http *h);

/* Requests started and not yet completed. */
unsigned lic_http_pending(const struct lic_http *h);

/*
 * Cancel every outstanding request and free the client; NULL-safe, NULLs
 * *hp. Each outstanding request's `done` IS called, once, before this
 * returns, with status 0 and error "cancelled" (a request whose outcome
 * was already recorded but not yet delivered gets that outcome), so
 * callers can release what they attached to `arg`. lic_http_post() from
 * those callbacks returns -1; lic_http_free() from them only NULLs the
 * caller's pointer. Call it before freeing the event_base.
 */
void lic_http_free(struct lic_http **hp);

#endif
