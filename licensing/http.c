/*
 * lic_http: asynchronous HTTPS POST on the caller's event_base (see http.h).
 *
 * One request = one evhttp_connection over one bufferevent_openssl (or a
 * plain socket bufferevent when allowed for tests) and one struct
 * lic_http_req, which owns the connection and a timer event. libevent's
 * request callbacks only record the outcome and activate that timer; the
 * timer callback (finish_cb) frees the connection and calls the user's
 * callback. Freeing an evhttp_connection from inside its own request
 * callback is not safe in libevent 2.1, and this also guarantees `done` is
 * never called from inside lic_http_post().
 *
 * The same timer is the request's overall deadline: when it fires before
 * libevent finished, the connection (and with it the pending request,
 * without callbacks) is freed and the request fails with "timed out".
 */
#include "licensing/http.h"

#include "common/err.h"
#include "common/sslerr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define ERR_MAX 256
#define HOST_MAX 255
#define CONTENT_TYPE_MAX 255
#define MAX_HEADERS_SIZE (64 * 1024)
#define DEFAULT_HTTPS_PORT 443
#define DEFAULT_HTTP_PORT 80

struct lic_http_req {
	struct lic_http *h;
	LIST_ENTRY(lic_http_req) link; /* h->reqs */
	struct evhttp_connection *conn; /* owned; NULL once freed */
	SSL *ssl;			/* owned by conn's bufferevent */
	struct event *timer;		/* deadline, then completion */
	lic_http_done_fn *done;
	void *arg;
	unsigned timeout_s;
	bool completed;		   /* outcome recorded below */
	bool too_long;		   /* libevent reported DATA_TOO_LONG */
	bool timeout_libev;	   /* libevent reported a timeout */
	bool failed_libev;	   /* libevent reported another error */
	char where[HOST_MAX + 16]; /* host:port, for messages */
	int status;
	unsigned char *body; /* owned, len bytes */
	size_t len;
	char error[ERR_MAX];
	/* Through an HTTP proxy (lic_http_set_proxy): our own exchange on
	 * pbev (the socket, then the TLS filter over it), no evhttp. */
	struct bufferevent *pbev; /* owned; NULL when not proxied */
	bool tunnel;		  /* CONNECT answered 200 */
	bool ssl_given;		  /* ssl owned by the TLS filter */
	bool tls;		  /* the URL is https */
	struct evbuffer *tx;	  /* the request, sent once tunnelled */
	struct evbuffer *rx;	  /* what came back, bounded */
	char proxy_where[HOST_MAX + 16];
	char proxy_connect[2 * HOST_MAX + 64]; /* the CONNECT request */
};

struct lic_http {
	struct event_base *base; /* not owned */
	SSL_CTX *ctx;
	LIST_HEAD(, lic_http_req) reqs; /* outstanding */
	unsigned npending;
	bool allow_plain;
	bool closing; /* lic_http_free() in progress */
	char last_error[ERR_MAX];
	char proxy_host[HOST_MAX + 1]; /* "" = connect directly */
	int proxy_port;
};

/* The oldest queued OpenSSL error as text, or `fallback`; clears the queue. */
/*
 * The TLS error bev recorded, as text in buf, or NULL when none. The first
 * one recorded is the interesting one (bev hands them back newest first);
 * values without a library are SSL_get_error() codes. The errors are
 * bev's own, not the thread's queue that sslerr_text() reads.
 */
static const char *bev_tls_error(struct bufferevent *bev, char *buf,
				 size_t len)
{
	unsigned long e = 0, next;

	while ((next = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(next) != 0)
			e = next;
	if (e == 0)
		return NULL;
	ERR_error_string_n(e, buf, len);
	return buf;
}

struct lic_http *lic_http_new(struct event_base *base, const char *ca_file,
			      char *err, size_t errlen)
{
	struct lic_http *h = NULL;
	char sslbuf[ERR_MAX];

	if (base == NULL || ca_file == NULL || ca_file[0] == '\0') {
		err_set(err, errlen, "lic_http_new: no event base or CA file");
		goto out;
	}
	h = err_calloc(1, sizeof(*h), err, errlen);
	if (h == NULL)
		goto out;
	LIST_INIT(&h->reqs);
	h->base = base;
	ERR_clear_error();
	h->ctx = SSL_CTX_new(TLS_client_method());
	if (h->ctx == NULL) {
		err_set(err, errlen, "SSL_CTX_new: %s",
			sslerr_text(sslbuf, sizeof(sslbuf), "failed"));
		goto out_free_h;
	}
	if (SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION) != 1) {
		err_set(err, errlen, "cannot require TLS 1.2");
		goto out_free_ctx;
	}
	SSL_CTX_set_options(h->ctx,
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* Only ca_file is trusted: no default paths are loaded. */
	if (SSL_CTX_load_verify_locations(h->ctx, ca_file, NULL) != 1) {
		err_set(err, errlen, "CA file %s: %s", ca_file,
			sslerr_text(sslbuf, sizeof(sslbuf), "no certificate"));
		goto out_free_ctx;
	}
	/*
	 * A pinned certificate is a trust anchor even when it is not
	 * self-signed (a leaf or an intermediate).
	 */
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(h->ctx),
				    X509_V_FLAG_PARTIAL_CHAIN);
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER, NULL);
	goto out;

out_free_ctx:
	SSL_CTX_free(h->ctx);
out_free_h:
	free(h);
	h = NULL;
out:
	ERR_clear_error();
	return h;
}

void lic_http_allow_plain(struct lic_http *h, bool allow)
{
	if (h != NULL)
		h->allow_plain = allow;
}

const char *lic_http_last_error(const struct lic_http *h)
{
	return h == NULL ? "no client" : h->last_error;
}

unsigned lic_http_pending(const struct lic_http *h)
{
	return h == NULL ? 0 : h->npending;
}

static void req_unlink(struct lic_http_req *r)
{
	struct lic_http *h = r->h;

	LIST_REMOVE(r, link);
	h->npending--;
}

/* Links r into h's pending list, then arms its timeout: 0, or -1 when the
 * timer cannot be armed (r stays linked: req_unlink() it). */
static int req_link_arm(struct lic_http_req *r)
{
	struct lic_http *h = r->h;
	struct timeval tv = {.tv_sec = (time_t)r->timeout_s, .tv_usec = 0};

	LIST_INSERT_HEAD(&h->reqs, r, link);
	h->npending++;
	return evtimer_add(r->timer, &tv);
}

/* Frees the connection, then tells the user, then frees the request. */
static void req_finish(struct lic_http_req *r)
{
	lic_http_done_fn *done = r->done;
	void *arg = r->arg;

	req_unlink(r);
	if (r->conn != NULL)
		evhttp_connection_free(r->conn);
	r->conn = NULL;
	if (r->pbev != NULL)
		bufferevent_free(r->pbev); /* the socket under it too */
	r->pbev = NULL;
	if (r->tx != NULL && r->ssl != NULL && !r->ssl_given)
		SSL_free(r->ssl); /* proxied, never got to TLS */
	if (r->tx != NULL)
		evbuffer_free(r->tx);
	if (r->rx != NULL)
		evbuffer_free(r->rx);
	r->tx = r->rx = NULL;
	event_free(r->timer);
	r->timer = NULL;
	if (r->status != 0)
		done(arg, r->status, r->body, r->len, NULL);
	else
		done(arg, 0, NULL, 0, r->error[0] ? r->error : "failed");
	free(r->body);
	free(r);
}

/* Deadline or completion: see the file comment. */
static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lic_http_req *r = arg;

	(void)fd;
	(void)what;
	if (!r->completed) {
		r->completed = true;
		r->status = 0;
		err_set(r->error, sizeof(r->error), "timed out after %u s",
			r->timeout_s);
	}
	req_finish(r);
}

/* The outcome is recorded: hand over to finish_cb on the next loop turn. */
static void req_completed(struct lic_http_req *r)
{
	r->completed = true;
	event_del(r->timer);
	event_active(r->timer, EV_TIMEOUT, 1);
}

/*
 * Why the request got no response: TLS verification, another TLS error,
 * the libevent error kind, or the socket error.
 */
static void describe_failure(struct lic_http_req *r)
{
	struct bufferevent *bev =
	    r->conn != NULL ? evhttp_connection_get_bufferevent(r->conn) : NULL;
	char sslbuf[ERR_MAX];
	int dns_err;
	long vr;

	if (r->too_long) {
		err_set(r->error, sizeof(r->error),
			"response larger than %u bytes", LIC_HTTP_MAX_RESPONSE);
		return;
	}
	if (r->timeout_libev) {
		err_set(r->error, sizeof(r->error), "timed out after %u s",
			r->timeout_s);
		return;
	}
	if (r->ssl != NULL) {
		vr = SSL_get_verify_result(r->ssl);
		if (vr != X509_V_OK) {
			err_set(r->error, sizeof(r->error),
				"TLS certificate verification failed: %s",
				X509_verify_cert_error_string(vr));
			return;
		}
		/* SSL_ERROR_SYSCALL: a socket error, see below. */
		if (bev != NULL &&
		    bev_tls_error(bev, sslbuf, sizeof(sslbuf)) != NULL) {
			err_set(r->error, sizeof(r->error), "TLS error: %s",
				sslbuf);
			return;
		}
	}
	if (bev != NULL &&
	    (dns_err = bufferevent_socket_get_dns_error(bev)) != 0) {
		err_set(r->error, sizeof(r->error), "cannot resolve %s: %s",
			r->where, evutil_gai_strerror(dns_err));
		return;
	}
	/*
	 * Without an error report libevent gave up connecting (refused).
	 * errno is not reported: by now it is an artefact of libevent's
	 * cleanup (ENOTCONN, EBADF), not the cause.
	 */
	if (!r->failed_libev)
		err_set(r->error, sizeof(r->error), "cannot connect to %s",
			r->where);
	else
		err_set(r->error, sizeof(r->error),
			"connection to %s failed or closed without a response",
			r->where);
}

static void error_cb(enum evhttp_request_error kind, void *arg)
{
	struct lic_http_req *r = arg;

	r->failed_libev = true;
	if (kind == EVREQ_HTTP_DATA_TOO_LONG)
		r->too_long = true;
	else if (kind == EVREQ_HTTP_TIMEOUT)
		r->timeout_libev = true;
}

/*
 * libevent is done with the request: `req` is the response, or NULL (or
 * one with status 0) when there is none. libevent frees `req` afterwards.
 */
static void response_cb(struct evhttp_request *req, void *arg)
{
	struct lic_http_req *r = arg;
	struct evbuffer *in;
	int code = req == NULL ? 0 : evhttp_request_get_response_code(req);

	if (r->completed)
		return;
	if (code <= 0) {
		r->status = 0;
		describe_failure(r);
		goto out;
	}
	in = evhttp_request_get_input_buffer(req);
	r->len = in == NULL ? 0 : evbuffer_get_length(in);
	if (r->len > LIC_HTTP_MAX_RESPONSE) {
		r->len = 0;
		r->too_long = true;
		describe_failure(r);
		goto out;
	}
	r->body = malloc(r->len + 1);
	if (r->body == NULL) {
		r->len = 0;
		err_set(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	if (r->len > 0 && evbuffer_remove(in, r->body, r->len) != (int)r->len) {
		free(r->body);
		r->body = NULL;
		r->len = 0;
		err_set(r->error, sizeof(r->error), "cannot read response");
		goto out;
	}
	r->status = code;
out:
	req_completed(r);
}

/* The parts of a URL lic_http needs. */
struct url_parts {
	bool tls;
	bool ip_literal;
	char host[HOST_MAX + 1]; /* without IPv6 brackets */
	char host_header[HOST_MAX + 16];
	int port;
	char *path; /* malloc'd: path[?query], "/" when empty */
};

static int parse_url(struct lic_http *h, const char *url, struct url_parts *u)
{
	struct evhttp_uri *uri = NULL;
	const char *scheme, *host, *path, *query;
	unsigned char addr[16];
	size_t hl, plen;
	int rc = -1;

	memset(u, 0, sizeof(*u));
	if (strlen(url) > LIC_HTTP_MAX_URL) {
		err_set(h->last_error, sizeof(h->last_error),
			"URL longer than %u bytes", LIC_HTTP_MAX_URL);
		goto out;
	}
	uri = evhttp_uri_parse_with_flags(url, 0);
	if (uri == NULL) {
		err_set(h->last_error, sizeof(h->last_error), "malformed URL");
		goto out;
	}
	scheme = evhttp_uri_get_scheme(uri);
	if (scheme != NULL && strcasecmp(scheme, "https") == 0) {
		u->tls = true;
	} else if (scheme != NULL && strcasecmp(scheme, "http") == 0) {
		if (!h->allow_plain) {
			err_set(h->last_error, sizeof(h->last_error),
				"plain http:// refused, use https://");
			goto out_free_uri;
		}
	} else {
		err_set(h->last_error, sizeof(h->last_error),
			"URL scheme must be https");
		goto out_free_uri;
	}
	if (evhttp_uri_get_userinfo(uri) != NULL) {
		err_set(h->last_error, sizeof(h->last_error),
			"user info in URL refused");
		goto out_free_uri;
	}
	host = evhttp_uri_get_host(uri);
	hl = host == NULL ? 0 : strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host++;
		hl -= 2;
	}
	if (hl == 0 || hl > HOST_MAX) {
		err_set(h->last_error, sizeof(h->last_error),
			"URL has no usable host");
		goto out_free_uri;
	}
	memcpy(u->host, host, hl);
	u->host[hl] = '\0';
	u->ip_literal = inet_pton(AF_INET, u->host, addr) == 1 ||
			inet_pton(AF_INET6, u->host, addr) == 1;
	u->port = evhttp_uri_get_port(uri);
	if (u->port == 0 || u->port > 65535) {
		err_set(h->last_error, sizeof(h->last_error),
			"bad port in URL");
		goto out_free_uri;
	}
	if (u->port < 0)
		u->port = u->tls ? DEFAULT_HTTPS_PORT : DEFAULT_HTTP_PORT;
	snprintf(u->host_header, sizeof(u->host_header),
		 strchr(u->host, ':') != NULL ? "[%s]:%d" : "%s:%d", u->host,
		 u->port);
	path = evhttp_uri_get_path(uri);
	if (path == NULL || path[0] == '\0')
		path = "/";
	query = evhttp_uri_get_query(uri);
	plen = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
	u->path = malloc(plen);
	if (u->path == NULL) {
		err_set(h->last_error, sizeof(h->last_error), "out of memory");
		goto out_free_uri;
	}
	snprintf(u->path, plen, "%s%s%s", path, query != NULL ? "?" : "",
		 query != NULL ? query : "");
	rc = 0;
out_free_uri:
	evhttp_uri_free(uri);
out:
	return rc;
}

/* A client SSL for `u`: SNI for names, name or IP checked by OpenSSL. */
static SSL *new_ssl(struct lic_http *h, const struct url_parts *u)
{
	SSL *ssl = SSL_new(h->ctx);
	X509_VERIFY_PARAM *param;

	if (ssl == NULL)
		goto out;
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (u->ip_literal) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, u->host) != 1)
			goto out_free_ssl;
	} else {
		if (X509_VERIFY_PARAM_set1_host(param, u->host, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, u->host) != 1)
			goto out_free_ssl;
	}
	goto out;

out_free_ssl:
	SSL_free(ssl);
	ssl = NULL;
out:
	return ssl;
}

static bool header_value_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONTENT_TYPE_MAX)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* ---- through an HTTP proxy (CONNECT) ---------------------------------- */

#define PROXY_HEAD_MAX (16 * 1024) /* status line and headers */

static void proxy_fail(struct lic_http_req *r, const char *why)
{
	if (r->completed)
		return;
	r->status = 0;
	err_set(r->error, sizeof(r->error), "%s", why);
	req_completed(r);
}

/* Offset just past "\r\n\r\n" in the n bytes at p, or 0. */
static size_t head_end(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' &&
		    p[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* "HTTP/1.x NNN ...": the status, or -1. */
static int status_code(const unsigned char *p, size_t n)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

/* The value of header `name` (case-insensitive) in the head, in buf. */
static bool header_get(const unsigned char *p, size_t n, const char *name,
		       char *buf, size_t buflen)
{
	size_t nl = strlen(name), i = 0, j, k;

	while (i < n) {
		for (j = i; j + 1 < n && !(p[j] == '\r' && p[j + 1] == '\n');)
			j++;
		if (j - i > nl && p[i + nl] == ':' &&
		    strncasecmp((const char *)p + i, name, nl) == 0) {
			for (k = i + nl + 1; k < j && (p[k] == ' ' || p[k] == '\t');)
				k++;
			if (j - k >= buflen)
				return false;
			memcpy(buf, p + k, j - k);
			buf[j - k] = '\0';
			return true;
		}
		i = j + 2;
	}
	return false;
}

/* Decode a chunked body of n bytes at p into out; 1 done, 0 more, -1 bad. */
static int unchunk(const unsigned char *p, size_t n, struct evbuffer *out)
{
	size_t i = 0;

	for (;;) {
		size_t size = 0, j = i;

		while (j < n && isxdigit(p[j]) && j - i < 8) {
			size = size * 16 + (size_t)(isdigit(p[j])
							    ? p[j] - '0'
							    : (tolower(p[j]) - 'a' + 10));
			j++;
		}
		if (j == n)
			return 0;
		if (j == i)
			return -1;
		while (j + 1 < n && !(p[j] == '\r' && p[j + 1] == '\n'))
			j++; /* chunk extensions */
		if (j + 1 >= n)
			return 0;
		j += 2;
		if (size == 0)
			return 1; /* trailers are not needed */
		if (evbuffer_get_length(out) + size > LIC_HTTP_MAX_RESPONSE)
			return -1;
		if (n - j < size + 2)
			return 0;
		evbuffer_add(out, p + j, size);
		i = j + size + 2;
	}
}

/*
 * The answer in r->rx: 1 when complete (status and body recorded), 0 when
 * more must come, -1 when it cannot be used (r->error says why). `eof`:
 * the server closed, nothing more will come.
 */
static int proxy_parse(struct lic_http_req *r, bool eof)
{
	size_t n = evbuffer_get_length(r->rx), he, blen = 0;
	unsigned char *p = evbuffer_pullup(r->rx, -1);
	struct evbuffer *body = NULL;
	char val[64];
	int code, rc = 0;

	he = head_end(p, n);
	if (he == 0) {
		if (!eof && n <= PROXY_HEAD_MAX)
			return 0;
		err_set(r->error, sizeof(r->error),
			n == 0 ? "connection to %s closed without a response"
			       : "malformed response from %s",
			r->where);
		return -1;
	}
	code = status_code(p, he);
	if (code < 0) {
		err_set(r->error, sizeof(r->error),
			"malformed response from %s", r->where);
		return -1;
	}
	if (header_get(p, he, "Transfer-Encoding", val, sizeof(val)) &&
	    strstr(val, "chunked") != NULL) {
		body = evbuffer_new();
		if (body == NULL)
			return -1;
		rc = unchunk(p + he, n - he, body);
		if (rc == 0 && eof)
			rc = -1;
		if (rc < 0)
			err_set(r->error, sizeof(r->error),
				"bad chunked response from %s", r->where);
		if (rc == 1) {
			blen = evbuffer_get_length(body);
			p = evbuffer_pullup(body, -1);
			he = 0;
		}
	} else if (header_get(p, he, "Content-Length", val, sizeof(val))) {
		char *end;
		unsigned long long cl = strtoull(val, &end, 10);

		if (*end != '\0' || val[0] == '\0' ||
		    cl > LIC_HTTP_MAX_RESPONSE) {
			err_set(r->error, sizeof(r->error),
				"response larger than %u bytes or bad length",
				LIC_HTTP_MAX_RESPONSE);
			return -1;
		}
		blen = (size_t)cl;
		if (n - he >= blen)
			rc = 1;
		else if (eof) {
			err_set(r->error, sizeof(r->error),
				"response from %s cut short", r->where);
			rc = -1;
		}
	} else if (eof) {
		blen = n - he;
		rc = 1;
	}
	if (rc == 1) {
		r->body = malloc(blen + 1);
		if (r->body == NULL) {
			err_set(r->error, sizeof(r->error), "out of memory");
			rc = -1;
		} else {
			if (blen > 0)
				memcpy(r->body, p + he, blen);
			r->len = blen;
			r->status = code;
		}
	}
	if (body != NULL)
		evbuffer_free(body);
	return rc;
}

static void proxy_read_cb(struct bufferevent *bev, void *arg);
static void proxy_event_cb(struct bufferevent *bev, short what, void *arg);

/* The proxy said 200: TLS (https) over the tunnel, then the request. */
static int proxy_tunnel(struct lic_http_req *r)
{
	struct bufferevent *tls;

	if (r->tls) {
		tls = bufferevent_openssl_filter_new(
		    r->h->base, r->pbev, r->ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (tls == NULL)
			return -1;
		r->pbev = tls; /* owns the socket and r->ssl now */
		r->ssl_given = true;
		bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
		bufferevent_setcb(tls, proxy_read_cb, NULL, proxy_event_cb, r);
		bufferevent_enable(tls, EV_READ | EV_WRITE);
	}
	r->tunnel = true;
	return bufferevent_write_buffer(r->pbev, r->tx);
}

static void proxy_read_cb(struct bufferevent *bev, void *arg)
{
	struct lic_http_req *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char *p;
	size_t n, he;
	int code;

	if (r->completed)
		return;
	evbuffer_add_buffer(r->rx, in);
	n = evbuffer_get_length(r->rx);
	if (r->tunnel) {
		if (n > LIC_HTTP_MAX_RESPONSE + PROXY_HEAD_MAX) {
			proxy_fail(r, "response too large");
			return;
		}
		switch (proxy_parse(r, false)) {
		case 1:
			req_completed(r);
			break;
		case -1:
			proxy_fail(r, r->error);
			break;
		default:
			break;
		}
		return;
	}
	p = evbuffer_pullup(r->rx, -1);
	he = head_end(p, n);
	if (he == 0) {
		if (n > PROXY_HEAD_MAX)
			proxy_fail(r, "malformed answer from the proxy");
		return;
	}
	code = status_code(p, he);
	if (code != 200) {
		char why[ERR_MAX * 3];

		snprintf(why, sizeof(why),
			 "proxy %s refused CONNECT to %s: %.*s", r->proxy_where,
			 r->where, (int)(strcspn((const char *)p, "\r") < 80
					     ? strcspn((const char *)p, "\r")
					     : 80),
			 (const char *)p);
		proxy_fail(r, why);
		return;
	}
	evbuffer_drain(r->rx, he);
	if (proxy_tunnel(r) != 0)
		proxy_fail(r, "out of memory or TLS setup failed");
}

static void proxy_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct lic_http_req *r = arg;
	char why[ERR_MAX * 3], sslbuf[ERR_MAX];
	long vr;

	if (r->completed)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		/* The socket to the proxy; (later) the TLS handshake done. */
		if (!r->tunnel &&
		    bufferevent_write(bev, r->proxy_connect,
				      strlen(r->proxy_connect)) != 0)
			proxy_fail(r, "out of memory");
		return;
	}
	if (!r->tunnel) {
		snprintf(why, sizeof(why), "cannot connect to proxy %s",
			 r->proxy_where);
		proxy_fail(r, why);
		return;
	}
	if (r->tls && evbuffer_get_length(r->rx) == 0) {
		vr = SSL_get_verify_result(r->ssl);
		if (vr != X509_V_OK) {
			snprintf(why, sizeof(why),
				 "TLS certificate verification failed: %s",
				 X509_verify_cert_error_string(vr));
			proxy_fail(r, why);
			return;
		}
		if (bev_tls_error(bev, sslbuf, sizeof(sslbuf)) != NULL) {
			snprintf(why, sizeof(why), "TLS error: %s", sslbuf);
			proxy_fail(r, why);
			return;
		}
	}
	evbuffer_add_buffer(r->rx, bufferevent_get_input(bev));
	if (proxy_parse(r, true) == 1)
		req_completed(r);
	else
		proxy_fail(r, r->error);
}

/*
 * Start r through the proxy: connect to it, CONNECT host:port, then (in
 * the callbacks) TLS and the request in r->tx. 0, or -1 (last_error set).
 */
static int proxy_start(struct lic_http *h, struct lic_http_req *r,
		       const struct url_parts *u, const char *content_type,
		       const void *body, size_t len)
{
	r->tls = u->tls;
	r->tx = evbuffer_new();
	r->rx = evbuffer_new();
	snprintf(r->proxy_where, sizeof(r->proxy_where),
		 strchr(h->proxy_host, ':') != NULL ? "[%s]:%d" : "%s:%d",
		 h->proxy_host, h->proxy_port);
	snprintf(r->proxy_connect, sizeof(r->proxy_connect),
		 "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", u->host_header,
		 u->host_header);
	if (r->tx == NULL || r->rx == NULL ||
	    evbuffer_add_printf(r->tx,
				"POST %s HTTP/1.1\r\nHost: %s\r\n"
				"Content-Type: %s\r\nContent-Length: %zu\r\n"
				"Connection: close\r\n\r\n",
				u->path, u->host_header, content_type,
				len) < 0 ||
	    (len > 0 && evbuffer_add(r->tx, body, len) != 0))
		goto out_nomem;
	if (u->tls) {
		r->ssl = new_ssl(h, u);
		if (r->ssl == NULL)
			goto out_nomem;
	}
	r->pbev = bufferevent_socket_new(h->base, -1,
					 BEV_OPT_CLOSE_ON_FREE |
						 BEV_OPT_DEFER_CALLBACKS);
	if (r->pbev == NULL)
		goto out_nomem;
	bufferevent_setcb(r->pbev, proxy_read_cb, NULL, proxy_event_cb, r);
	bufferevent_enable(r->pbev, EV_READ | EV_WRITE);
	/* The proxy is resolved by the system resolver (blocking), like
	 * the license server's name. */
	if (bufferevent_socket_connect_hostname(r->pbev, NULL, AF_UNSPEC,
						h->proxy_host,
						h->proxy_port) != 0) {
		err_set(h->last_error, sizeof(h->last_error),
			"cannot connect to proxy %s", r->proxy_where);
		return -1;
	}
	return 0;

out_nomem:
	err_set(h->last_error, sizeof(h->last_error),
		"out of memory or TLS setup failed");
	return -1;
}

int lic_http_set_proxy(struct lic_http *h, const char *host, unsigned port)
{
	if (h == NULL)
		return -1;
	if (host == NULL || host[0] == '\0') {
		h->proxy_host[0] = '\0';
		h->proxy_port = 0;
		return 0;
	}
	if (strlen(host) > HOST_MAX || port == 0 || port > 65535)
		return -1;
	snprintf(h->proxy_host, sizeof(h->proxy_host), "%s", host);
	h->proxy_port = (int)port;
	return 0;
}

int lic_http_post(struct lic_http *h, const char *url, const char *content_type,
		  const void *body, size_t len, unsigned timeout_s,
		  lic_http_done_fn *done, void *arg)
{
	struct url_parts u;
	struct lic_http_req *r = NULL;
	struct bufferevent *bev = NULL;
	struct evhttp_request *req;
	struct evkeyvalq *hdrs;
	char lenbuf[32];
	int rc = -1;

	if (h == NULL)
		return -1;
	h->last_error[0] = '\0';
	if (h->closing) {
		err_set(h->last_error, sizeof(h->last_error),
			"client is being freed");
		return -1;
	}
	if (url == NULL || content_type == NULL || done == NULL ||
	    (body == NULL && len != 0)) {
		err_set(h->last_error, sizeof(h->last_error),
			"missing argument");
		return -1;
	}
	if (!header_value_ok(content_type)) {
		err_set(h->last_error, sizeof(h->last_error),
			"bad content type");
		return -1;
	}
	if (len > LIC_HTTP_MAX_REQUEST) {
		err_set(h->last_error, sizeof(h->last_error),
			"request body larger than %u bytes",
			LIC_HTTP_MAX_REQUEST);
		return -1;
	}
	if (timeout_s == 0 || timeout_s > LIC_HTTP_MAX_TIMEOUT) {
		err_set(h->last_error, sizeof(h->last_error),
			"timeout must be 1..%u s", LIC_HTTP_MAX_TIMEOUT);
		return -1;
	}
	if (parse_url(h, url, &u) != 0)
		return -1;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto out_nomem;
	r->h = h;
	r->done = done;
	r->arg = arg;
	r->timeout_s = timeout_s;
	snprintf(r->where, sizeof(r->where), "%s", u.host_header);
	r->timer = evtimer_new(h->base, finish_cb, r);
	if (r->timer == NULL)
		goto out_nomem;

	if (h->proxy_host[0] != '\0') {
		/* Linked first: the callbacks may finish it. */
		if (req_link_arm(r) != 0 ||
		    proxy_start(h, r, &u, content_type, body, len) != 0) {
			if (h->last_error[0] == '\0')
				err_set(h->last_error, sizeof(h->last_error),
					"out of memory");
			req_unlink(r);
			goto out_free_req;
		}
		rc = 0;
		r = NULL;
		goto out_free_req;
	}
	if (u.tls) {
		r->ssl = new_ssl(h, &u);
		if (r->ssl == NULL)
			goto out_nomem;
		bev = bufferevent_openssl_socket_new(
		    h->base, -1, r->ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(r->ssl);
			r->ssl = NULL;
			goto out_nomem;
		}
	}
	/* With bev NULL (plain http) libevent makes a socket bufferevent. */
	r->conn = evhttp_connection_base_bufferevent_new(h->base, NULL, bev,
							 u.host, u.port);
	if (r->conn == NULL) {
		if (bev != NULL)
			bufferevent_free(bev); /* frees r->ssl too */
		r->ssl = NULL;
		goto out_nomem;
	}
	/* Our timer fires first; libevent's are a backstop. */
	evhttp_connection_set_timeout(r->conn, (int)timeout_s + 1);
	evhttp_connection_set_retries(r->conn, 0);
	evhttp_connection_set_max_body_size(r->conn, LIC_HTTP_MAX_RESPONSE);
	evhttp_connection_set_max_headers_size(r->conn, MAX_HEADERS_SIZE);

	req = evhttp_request_new(response_cb, r);
	if (req == NULL)
		goto out_nomem;
	evhttp_request_set_error_cb(req, error_cb);
	hdrs = evhttp_request_get_output_headers(req);
	snprintf(lenbuf, sizeof(lenbuf), "%zu", len);
	if (evhttp_add_header(hdrs, "Host", u.host_header) != 0 ||
	    evhttp_add_header(hdrs, "Content-Type", content_type) != 0 ||
	    evhttp_add_header(hdrs, "Content-Length", lenbuf) != 0 ||
	    evhttp_add_header(hdrs, "Connection", "close") != 0 ||
	    (len > 0 && evbuffer_add(evhttp_request_get_output_buffer(req),
				     body, len) != 0)) {
		evhttp_request_free(req);
		goto out_nomem;
	}

	/* Linked before the request starts: libevent may fail it at once. */
	if (req_link_arm(r) != 0) {
		req_unlink(r);
		evhttp_request_free(req);
		goto out_nomem;
	}
	if (evhttp_make_request(r->conn, req, EVHTTP_REQ_POST, u.path) != 0) {
		/* Not queued: libevent did not free it, no callback ran. */
		req_unlink(r);
		evhttp_request_free(req);
		err_set(h->last_error, sizeof(h->last_error),
			"cannot start request to %s", u.host_header);
		goto out_free_req;
	}
	rc = 0;
	r = NULL;
	goto out_free_req;

out_nomem:
	err_set(h->last_error, sizeof(h->last_error),
		"out of memory or TLS setup failed");
out_free_req:
	if (r != NULL) {
		if (r->pbev != NULL)
			bufferevent_free(r->pbev);
		if (r->tx != NULL && r->ssl != NULL)
			SSL_free(r->ssl); /* proxied: not given to TLS yet */
		if (r->tx != NULL)
			evbuffer_free(r->tx);
		if (r->rx != NULL)
			evbuffer_free(r->rx);
		if (r->conn != NULL)
			evhttp_connection_free(r->conn);
		if (r->timer != NULL)
			event_free(r->timer);
		free(r);
	}
	free(u.path);
	return rc;
}

void lic_http_free(struct lic_http **hp)
{
	struct lic_http *h;

	if (hp == NULL || *hp == NULL)
		return;
	h = *hp;
	*hp = NULL;
	/* Called again from a `done` run below: the outer call frees. */
	if (h->closing)
		return;
	h->closing = true;
	while (!LIST_EMPTY(&h->reqs)) {
		struct lic_http_req *r = LIST_FIRST(&h->reqs);

		if (!r->completed) {
			r->completed = true;
			r->status = 0;
			err_set(r->error, sizeof(r->error), "cancelled");
		}
		req_finish(r);
	}
	SSL_CTX_free(h->ctx);
	free(h);
}
