/* lsrv server: evhttp + bufferevent_openssl in front of lsrv_handle. */
#include "licd/server.h"

#include "common/clk.h"
#include "common/err.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#define FAC "LICD"

/*
 * libevent answers a declared length over its cap with its own 413 page
 * before reading the body. The cap is twice the protocol's so that
 * bodies just over LIC_ENVELOPE_MAX still get lsrv_handle's JSON 413;
 * memory per connection stays bounded either way.
 */
#define BODY_CAP ((ev_ssize_t)LIC_ENVELOPE_MAX * 2)

/*
 * One accepted connection, tracked from the creation of its TLS
 * bufferevent (bev_cb) to the free of its SSL object, which the
 * bufferevent frees exactly once, when evhttp frees the connection
 * (BEV_OPT_CLOSE_ON_FREE). The SSL object owns this record through its
 * ex_data slot (conn_ex_free); evhttp 2.1 offers no earlier hook that
 * sees every connection, including those that never send a request.
 */
struct conn {
	struct lsrv_server *srv;  /* NULL once the server is freed */
	struct bufferevent *bev;  /* evhttp's; valid while srv is set */
	struct event *deadline;	  /* LSRV_CONN_DEADLINE_S after accept */
	LIST_ENTRY(conn) link; /* srv->conns */
};

struct lsrv_server {
	struct event_base *base; /* borrowed */
	struct lsrv_service *svc; /* borrowed */
	SSL_CTX *ctx;		  /* one reference */
	struct evhttp *http;
	struct evconnlistener *lev; /* evhttp's listener (borrowed) */
	int port;
	LIST_HEAD(, conn) conns; /* open connections, newest first */
	size_t nconns;
	bool paused;	       /* lev disabled: nconns reached the cap */
	bool burst;	       /* the cap was reached, not yet back to half */
	unsigned long pauses; /* times the cap was reached in this burst */
};

/* The SSL ex_data slot that holds a struct conn (-1: not yet made). */
static int conn_idx = -1;

/*
 * Stop accepting at the cap; accept again below it. The log says once
 * when a burst of connections reaches the cap and once when it is over
 * (open connections back to half the cap), not at every pause.
 */
static void conn_limit_update(struct lsrv_server *srv)
{
	if (!srv->paused && srv->nconns >= LSRV_CONN_MAX) {
		if (srv->lev != NULL)
			evconnlistener_disable(srv->lev);
		srv->paused = true;
		srv->pauses++;
		if (!srv->burst)
			log_msg(LOG_LVL_WARNING, FAC, "CONN_LIMIT",
				"%d connections open: new ones wait until one "
				"closes",
				LSRV_CONN_MAX);
		srv->burst = true;
	} else if (srv->paused && srv->nconns < LSRV_CONN_MAX) {
		if (srv->lev != NULL)
			evconnlistener_enable(srv->lev);
		srv->paused = false;
	}
	if (srv->burst && srv->nconns <= LSRV_CONN_MAX / 2) {
		log_msg(LOG_LVL_NOTICE, FAC, "CONN_LIMIT_END",
			"%zu connections open; the limit of %d was reached "
			"%lu time(s)",
			srv->nconns, LSRV_CONN_MAX, srv->pauses);
		srv->burst = false;
		srv->pauses = 0;
	}
}

/* Take c off its server's list; the server forgets it. */
static void conn_detach(struct conn *c)
{
	struct lsrv_server *srv = c->srv;

	if (srv == NULL)
		return;
	LIST_REMOVE(c, link);
	c->srv = NULL;
	srv->nconns--;
	if (c->deadline != NULL) {
		event_free(c->deadline);
		c->deadline = NULL;
	}
}

/* CRYPTO_EX_free for conn_idx: the connection is gone. */
static void conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			 int idx, long argl, void *argp)
{
	struct conn *c = ptr;
	struct lsrv_server *srv;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	srv = c->srv;
	conn_detach(c);
	if (srv != NULL)
		conn_limit_update(srv);
	free(c);
}

/*
 * The connection's time is up: shut its socket down both ways. evhttp
 * then sees EOF or a write error in whatever state it is in (TLS
 * handshake, request, response) and frees the connection, which frees
 * the record. The descriptor is still this connection's: it is closed
 * only when the bufferevent is freed, in the same call that frees the
 * record and this timer.
 */
static void deadline_cb(evutil_socket_t unused, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	(void)unused;
	(void)what;
	if (fd < 0)
		return;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
			port = ntohs(a6->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
			port = ntohs(a4->sin_port);
		}
	}
	log_msg(LOG_LVL_INFO, FAC, "CONN_DEADLINE",
		"connection from %s:%d open for %d s: closed", addr, port,
		LSRV_CONN_DEADLINE_S);
	shutdown(fd, SHUT_RDWR);
}

/*
 * Track a new connection's bufferevent: count it, arm its deadline and
 * hand the record to the SSL object. -1 when out of memory (the
 * connection is then served untracked).
 */
static int conn_track(struct lsrv_server *srv, struct bufferevent *bev,
		      SSL *ssl)
{
	struct timeval tv = {LSRV_CONN_DEADLINE_S, 0};
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->bev = bev;
	c->deadline = evtimer_new(srv->base, deadline_cb, c);
	if (c->deadline == NULL || SSL_set_ex_data(ssl, conn_idx, c) != 1) {
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		return -1;
	}
	c->srv = srv;
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->nconns++;
	/*
	 * Past the cap (the listener stops accepting at the cap, so only
	 * if that failed): no time at all.
	 */
	if (srv->nconns > LSRV_CONN_MAX)
		tv.tv_sec = 0;
	evtimer_add(c->deadline, &tv);
	conn_limit_update(srv);
	return 0;
}

/* One TLS bufferevent per accepted connection (evhttp_set_bevcb). */
static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct lsrv_server *srv = arg;
	struct bufferevent *bev;
	SSL *ssl = SSL_new(srv->ctx);

	/*
	 * Returning NULL would make libevent fall back to a plain socket;
	 * the client's TLS hello then fails to parse as HTTP and the
	 * connection is dropped, so nothing is ever served in clear.
	 */
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (conn_track(srv, bev, ssl) != 0)
		log_msg(LOG_LVL_ERR, FAC, "CONN_UNTRACKED",
			"out of memory: a connection is served without count "
			"or deadline");
	return bev;
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "UNKNOWN";
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct lsrv_server *srv = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *outh = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct evbuffer *reply = NULL;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct lsrv_request rq;
	struct lsrv_response resp;
	const char *te;
	char *addr = NULL, peer[80];
	ev_uint16_t pport = 0;

	memset(&rq, 0, sizeof(rq));
	rq.method = method_name(evhttp_request_get_command(req));
	rq.target = evhttp_request_get_uri(req);
	rq.content_type = evhttp_find_header(in, "Content-Type");
	te = evhttp_find_header(in, "Transfer-Encoding");
	rq.length_known = evhttp_find_header(in, "Content-Length") != NULL ||
			  (te != NULL && strcasestr(te, "chunked") != NULL);
	rq.len = body != NULL ? evbuffer_get_length(body) : 0;
	rq.body = rq.len > 0 ? (const char *)evbuffer_pullup(body, -1) : NULL;
	if (conn != NULL)
		evhttp_connection_get_peer(conn, &addr, &pport);
	snprintf(peer, sizeof(peer), "%s:%u", addr != NULL ? addr : "?",
		 (unsigned)pport);
	rq.peer = peer;
	if (rq.target == NULL)
		rq.target = "";
	if (rq.len > 0 && rq.body == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	lsrv_handle(srv->svc, &rq, clk_wall_ms() / 1000, &resp);
	reply = evbuffer_new();
	if (reply == NULL ||
	    (resp.len > 0 && evbuffer_add(reply, resp.body, resp.len) != 0)) {
		evhttp_send_error(req, 500, NULL);
		goto out;
	}
	if (resp.body != NULL)
		evhttp_add_header(outh, "Content-Type", "application/json");
	if (resp.allow != NULL)
		evhttp_add_header(outh, "Allow", resp.allow);
	evhttp_add_header(outh, "Cache-Control", "no-store");
	evhttp_send_reply(req, resp.status, reason(resp.status), reply);
out:
	if (reply != NULL)
		evbuffer_free(reply);
	lsrv_response_clear(&resp);
}

struct lsrv_server *lsrv_server_new(struct event_base *base,
				    struct lsrv_service *svc, SSL_CTX *ctx,
				    const char *host, int port, char *err,
				    size_t errlen)
{
	struct lsrv_server *srv;
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (base == NULL || svc == NULL || ctx == NULL || host == NULL ||
	    port < 0 || port > 65535) {
		err_set(err, errlen, "server: bad arguments");
		return NULL;
	}
	if (conn_idx < 0)
		conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
						conn_ex_free);
	if (conn_idx < 0) {
		err_set(err, errlen, "cannot get an SSL ex_data index");
		return NULL;
	}
	srv = err_calloc(1, sizeof(*srv), err, errlen);
	if (srv == NULL)
		return NULL;
	LIST_INIT(&srv->conns);
	srv->base = base;
	srv->svc = svc;
	SSL_CTX_up_ref(ctx);
	srv->ctx = ctx;
	srv->http = evhttp_new(base);
	if (srv->http == NULL) {
		err_set(err, errlen, "cannot create the HTTP server");
		goto out_fail;
	}
	evhttp_set_bevcb(srv->http, bev_cb, srv);
	evhttp_set_gencb(srv->http, request_cb, srv);
	evhttp_set_max_body_size(srv->http, BODY_CAP);
	evhttp_set_max_headers_size(srv->http, LSRV_HEADERS_MAX);
	evhttp_set_timeout(srv->http, LSRV_IO_TIMEOUT_S);
	/* Every method reaches request_cb, which answers 404/405 in JSON. */
	evhttp_set_allowed_methods(
		srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
				   EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	bound = evhttp_bind_socket_with_handle(srv->http, host,
					       (ev_uint16_t)port);
	if (bound == NULL) {
		err_set(err, errlen, "cannot listen on %s port %d", host, port);
		goto out_fail;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound),
			(struct sockaddr *)&ss, &sl) != 0) {
		err_set(err, errlen, "cannot read the bound port");
		goto out_fail;
	}
	srv->port = ss.ss_family == AF_INET6
			    ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
			    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	srv->lev = evhttp_bound_socket_get_listener(bound);
	return srv;
out_fail:
	lsrv_server_free(&srv);
	return NULL;
}

int lsrv_server_port(const struct lsrv_server *srv)
{
	return srv != NULL ? srv->port : -1;
}

void lsrv_server_free(struct lsrv_server **psrv)
{
	struct lsrv_server *srv;

	if (psrv == NULL || *psrv == NULL)
		return;
	srv = *psrv;
	/*
	 * Forget the connections first: evhttp_free frees them, but their
	 * bufferevents (and SSL objects, whose records then find no
	 * server) may be finalized later, even in event_base_free.
	 */
	while (!LIST_EMPTY(&srv->conns))
		conn_detach(LIST_FIRST(&srv->conns));
	srv->lev = NULL;
	if (srv->http != NULL)
		evhttp_free(srv->http);
	SSL_CTX_free(srv->ctx);
	free(srv);
	*psrv = NULL;
}
