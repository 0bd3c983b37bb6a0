/*
 * lsrv server: licd's HTTPS front (docs/licd.md): libevent evhttp
 * over bufferevent_openssl, every request handed to lsrv_handle().
 *
 * Bounds: bodies over LIC_ENVELOPE_MAX are refused (413; libevent itself
 * refuses a declared length over twice that before reading it), headers
 * over LSRV_HEADERS_MAX, a connection idle for LSRV_IO_TIMEOUT_S seconds
 * (TLS handshake included) is closed, and so is one still open
 * LSRV_CONN_DEADLINE_S seconds after it was accepted, whatever it is
 * doing (a client trickling bytes is not idle). At LSRV_CONN_MAX open
 * connections the listener stops accepting until one closes: new
 * clients wait in the kernel's backlog. Requests are handled to
 * completion inside one callback, so freeing the server only ever drops
 * connections between requests or mid-transfer, never half a store
 * change.
 */
#ifndef SBC_LICD_SERVER_H
#define SBC_LICD_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "licd/service.h"

struct event_base;
struct lsrv_server;

#define LSRV_HEADERS_MAX (16 * 1024)
#define LSRV_IO_TIMEOUT_S 10
#define LSRV_CONN_DEADLINE_S 30 /* from accept to the end of the response */
#define LSRV_CONN_MAX 256	 /* open connections */

/*
 * Listen on host:port (port 0: any free port; host an IP literal or a
 * name) on `base`, with TLS context `ctx` (its reference is taken) and
 * requests answered by `svc` (borrowed). NULL with a reason on failure.
 */
struct lsrv_server *lsrv_server_new(struct event_base *base,
				    struct lsrv_service *svc, SSL_CTX *ctx,
				    const char *host, int port, char *err,
				    size_t errlen);

/* The port actually bound. */
int lsrv_server_port(const struct lsrv_server *srv);

/* Close the listener and every connection; NULL-safe, NULLs *srv. */
void lsrv_server_free(struct lsrv_server **srv);

#endif
