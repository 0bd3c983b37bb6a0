/*
 * lic_http and lic_backoff: the licensing agent's HTTPS client against a
 * tiny libevent HTTPS server in the same event_base (127.0.0.1, a free port
 * chosen by the kernel), with certificates made here by OpenSSL, and the
 * retry delay table.
 */
#include "licensing/backoff.h"
#include "licensing/http.h"

#include "unit.h"

#include <check.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define BIG_BODY (2u * 1024u * 1024u)
#define SAFETY_SECS 10

/* ---- certificates ---- */

/*
 * A self-signed P-256 certificate with subjectAltName `san`, written as
 * dir/name.crt and dir/name.key. Paths go to crt/key (PATH_MAX-ish bufs).
 */
static void make_cert(const char *dir, const char *name, const char *san,
		      char *crt, char *key, size_t len)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_NAME *subj;
	FILE *f;

	ck_assert_ptr_nonnull(pk);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L);
	ck_assert_int_eq(X509_set_pubkey(x, pk), 1);
	subj = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
				   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, subj);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);

	snprintf(crt, len, "%s/%s.crt", dir, name);
	snprintf(key, len, "%s/%s.key", dir, name);
	f = fopen(crt, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
	f = fopen(key, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL),
			 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* ---- the test server ---- */

struct srv {
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ctx; /* NULL: plain http */
	int port;
	int nreq;
	unsigned char *got;
	size_t got_len;
	char got_ctype[128];
	char got_host[128];
	char sni[256];
};

static int sni_cb(SSL *ssl, int *al, void *arg)
{
	struct srv *s = arg;
	const char *n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)al;
	snprintf(s->sni, sizeof(s->sni), "%s", n != NULL ? n : "");
	return SSL_TLSEXT_ERR_OK;
}

static struct bufferevent *srv_bevcb(struct event_base *base, void *arg)
{
	struct srv *s = arg;

	return bufferevent_openssl_socket_new(base, -1, SSL_new(s->ctx),
					      BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static void reply_fill(struct evhttp_request *req, int code, size_t n)
{
	struct evbuffer *b = evbuffer_new();
	char *fill = malloc(n);

	memset(fill, 'x', n);
	evbuffer_add(b, fill, n);
	free(fill);
	evhttp_send_reply(req, code, "OK", b);
	evbuffer_free(b);
}

static void srv_cb(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *ih = evhttp_request_get_input_headers(req);
	const char *v;
	struct evbuffer *out;

	s->nreq++;
	free(s->got);
	s->got_len = evbuffer_get_length(in);
	s->got = malloc(s->got_len + 1);
	evbuffer_remove(in, s->got, s->got_len);
	v = evhttp_find_header(ih, "Content-Type");
	snprintf(s->got_ctype, sizeof(s->got_ctype), "%s", v ? v : "");
	v = evhttp_find_header(ih, "Host");
	snprintf(s->got_host, sizeof(s->got_host), "%s", v ? v : "");

	if (strcmp(uri, "/hang") == 0)
		return; /* never answered; freed with the server */
	if (strcmp(uri, "/big") == 0) {
		reply_fill(req, 200, BIG_BODY);
		return;
	}
	if (strcmp(uri, "/exact") == 0) {
		reply_fill(req, 200, LIC_HTTP_MAX_RESPONSE);
		return;
	}
	if (strcmp(uri, "/bigchunked") == 0) {
		evhttp_send_reply_start(req, 200, "OK");
		for (unsigned i = 0; i < BIG_BODY / 65536; i++) {
			out = evbuffer_new();
			char *fill = calloc(1, 65536);
			evbuffer_add(out, fill, 65536);
			free(fill);
			evhttp_send_reply_chunk(req, out);
			evbuffer_free(out);
		}
		evhttp_send_reply_end(req);
		return;
	}
	out = evbuffer_new();
	if (strncmp(uri, "/echo", 5) == 0) {
		evbuffer_add(out, "ack:", 4);
		evbuffer_add(out, s->got, s->got_len);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Type", "application/json");
		evhttp_send_reply(req, 201, "Created", out);
	} else {
		evbuffer_add_printf(out, "nope");
		evhttp_send_reply(req, 404, "Not Found", out);
	}
	evbuffer_free(out);
}

/* Listen on 127.0.0.1, port chosen by the kernel. crt NULL: plain http. */
static void srv_start(struct srv *s, struct event_base *base, const char *crt,
		      const char *key)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->http = evhttp_new(base);
	ck_assert_ptr_nonnull(s->http);
	if (crt != NULL) {
		s->ctx = SSL_CTX_new(TLS_server_method());
		ck_assert_int_eq(
		    SSL_CTX_use_certificate_file(s->ctx, crt, SSL_FILETYPE_PEM),
		    1);
		ck_assert_int_eq(
		    SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM),
		    1);
		SSL_CTX_set_tlsext_servername_callback(s->ctx, sni_cb);
		SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
		evhttp_set_bevcb(s->http, srv_bevcb, s);
	}
	evhttp_set_gencb(s->http, srv_cb, s);
	evhttp_set_max_body_size(s->http, 16u * 1024u * 1024u);
	bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bs);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bs),
				     (struct sockaddr *)&sin, &sl),
			 0);
	s->port = ntohs(sin.sin_port);
}

static void srv_stop(struct srv *s)
{
	evhttp_free(s->http);
	SSL_CTX_free(s->ctx);
	free(s->got);
}

/* ---- the client side ---- */

struct result {
	struct event_base *base;
	int calls;
	int status;
	unsigned char *body;
	size_t len;
	char error[256];
	bool had_error;
	struct lic_http *repost; /* test_free_cancels: the client */
	const char *url;
};

static void done_cb(void *arg, int status, const void *body, size_t len,
		    const char *error)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	free(r->body);
	r->body = malloc(len + 1);
	if (len > 0)
		memcpy(r->body, body, len);
	r->len = len;
	r->had_error = error != NULL;
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	event_base_loopbreak(r->base);
}

static void safety_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the loop until `r` got its callback (or SAFETY_SECS passed). */
static void wait_done(struct result *r)
{
	struct event *safety = evtimer_new(r->base, safety_cb, r->base);
	struct timeval tv = {SAFETY_SECS, 0};

	evtimer_add(safety, &tv);
	while (r->calls == 0 && evtimer_pending(safety, NULL))
		event_base_dispatch(r->base);
	event_free(safety);
}

/* Everything one test needs. */
struct env {
	char dir[64];
	char crt[4][256], key[4][256];
	struct event_base *base;
	struct srv srv;
	struct lic_http *h;
	struct result res;
	char url[512];
};

enum { CERT_GOOD, CERT_OTHER, CERT_NAME_ONLY, CERT_IP_ONLY };

/* Server certificate `srv_cert` (-1: plain http), client trusting `ca`. */
static void env_init(struct env *e, int srv_cert, int ca)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_http.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	make_cert(e->dir, "good", "IP:127.0.0.1,DNS:localhost",
		  e->crt[CERT_GOOD], e->key[CERT_GOOD], 256);
	make_cert(e->dir, "other", "IP:127.0.0.1,DNS:localhost",
		  e->crt[CERT_OTHER], e->key[CERT_OTHER], 256);
	make_cert(e->dir, "nameonly", "DNS:licd.example",
		  e->crt[CERT_NAME_ONLY], e->key[CERT_NAME_ONLY], 256);
	make_cert(e->dir, "iponly", "IP:127.0.0.1", e->crt[CERT_IP_ONLY],
		  e->key[CERT_IP_ONLY], 256);
	e->base = event_base_new();
	ck_assert_ptr_nonnull(e->base);
	if (srv_cert >= 0)
		srv_start(&e->srv, e->base, e->crt[srv_cert], e->key[srv_cert]);
	else
		srv_start(&e->srv, e->base, NULL, NULL);
	e->h = lic_http_new(e->base, e->crt[ca], err, sizeof(err));
	ck_assert_msg(e->h != NULL, "lic_http_new: %s", err);
	e->res.base = e->base;
}

static void env_free(struct env *e)
{
	lic_http_free(&e->h);
	ck_assert_ptr_null(e->h);
	srv_stop(&e->srv);
	event_base_free(e->base);
	free(e->res.body);
	for (int i = 0; i < 4; i++) {
		unlink(e->crt[i]);
		unlink(e->key[i]);
	}
	rmdir(e->dir);
}

static void post(struct env *e, const char *host, const char *path,
		 const void *body, size_t len, unsigned timeout_s)
{
	snprintf(e->url, sizeof(e->url), "%s://%s:%d%s",
		 e->srv.ctx != NULL ? "https" : "http", host, e->srv.port,
		 path);
	ck_assert_msg(lic_http_post(e->h, e->url, "application/json", body, len,
				    timeout_s, done_cb, &e->res) == 0,
		      "post %s: %s", e->url, lic_http_last_error(e->h));
	ck_assert_uint_eq(lic_http_pending(e->h), 1);
	wait_done(&e->res);
	ck_assert_int_eq(e->res.calls, 1);
	ck_assert_uint_eq(lic_http_pending(e->h), 0);
}

/* ---- tests ---- */

UNIT_TCASE("https", .timeout = 30);

UNIT_TEST(test_post_roundtrip)
{
	static const unsigned char body[] = "{\"report\":\"a\0b\xff\"}";
	struct env e;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	post(&e, "127.0.0.1", "/echo/licensing/v1/report?x=1", body,
	     sizeof(body), 5);
	ck_assert_msg(e.res.status == 201, "status %d error %s", e.res.status,
		      e.res.error);
	ck_assert(!e.res.had_error);
	ck_assert_int_eq(e.srv.nreq, 1);
	ck_assert_uint_eq(e.srv.got_len, sizeof(body));
	ck_assert_mem_eq(e.srv.got, body, sizeof(body));
	ck_assert_str_eq(e.srv.got_ctype, "application/json");
	ck_assert_str_eq(e.srv.sni, ""); /* no SNI for an IP literal */
	ck_assert_uint_eq(e.res.len, sizeof(body) + 4);
	ck_assert_mem_eq(e.res.body, "ack:", 4);
	ck_assert_mem_eq(e.res.body + 4, body, sizeof(body));

	/* The client is reusable, and a non-2xx status is a status. */
	e.res.calls = 0;
	post(&e, "127.0.0.1", "/missing", "", 0, 5);
	ck_assert_int_eq(e.res.status, 404);
	ck_assert_uint_eq(e.res.len, 4);
	ck_assert_mem_eq(e.res.body, "nope", 4);
	ck_assert_uint_eq(e.srv.got_len, 0);
	env_free(&e);
}
END_TEST

/* By host name: SNI is sent and the DNS subjectAltName matches. */
UNIT_TEST(test_post_by_name)
{
	struct env e;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	post(&e, "localhost", "/echo", "x", 1, 5);
	ck_assert_msg(e.res.status == 201, "status %d error %s", e.res.status,
		      e.res.error);
	ck_assert_str_eq(e.srv.sni, "localhost");
	env_free(&e);
}
END_TEST

/* Refused before any request: a certificate from a CA not trusted, a
 * trusted certificate not for the IP in the URL. */
static const struct {
	int srv_cert, ca;
	const char *error_part;
} cert_refusals[] = {
	{CERT_OTHER, CERT_GOOD, "TLS certificate verification"},
	{CERT_NAME_ONLY, CERT_NAME_ONLY, "IP address mismatch"},
};

UNIT_LOOP_TEST(test_certificate_refused, 0, NELEM(cert_refusals))
{
	struct env e;

	env_init(&e, cert_refusals[_i].srv_cert, cert_refusals[_i].ca);
	post(&e, "127.0.0.1", "/echo", "x", 1, 5);
	ck_assert_int_eq(e.res.status, 0);
	ck_assert_uint_eq(e.res.len, 0);
	ck_assert(e.res.had_error);
	ck_assert_msg(strstr(e.res.error, cert_refusals[_i].error_part) != NULL,
		      "error: %s", e.res.error);
	ck_assert_int_eq(e.srv.nreq, 0);
	env_free(&e);
}
END_TEST

/* Trusted certificate, but not for the host name in the URL. */
UNIT_TEST(test_wrong_name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct env e;

	/* "localhost" must lead to the IPv4 listener (it does here). */
	ck_assert_int_eq(getaddrinfo("localhost", NULL, &hints, &ai), 0);
	if (ai->ai_family != AF_INET) {
		freeaddrinfo(ai);
		return;
	}
	freeaddrinfo(ai);
	env_init(&e, CERT_IP_ONLY, CERT_IP_ONLY);
	post(&e, "localhost", "/echo", "x", 1, 5);
	ck_assert_int_eq(e.res.status, 0);
	ck_assert_msg(strstr(e.res.error, "hostname mismatch") != NULL,
		      "error: %s", e.res.error);
	ck_assert_str_eq(e.srv.sni, "localhost");
	ck_assert_int_eq(e.srv.nreq, 0);
	env_free(&e);
}
END_TEST

UNIT_TEST(test_oversized_response)
{
	static const char *const paths[] = {"/big", "/bigchunked"};
	struct env e;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	for (size_t i = 0; i < 2; i++) {
		e.res.calls = 0;
		post(&e, "127.0.0.1", paths[i], "x", 1, 5);
		ck_assert_int_eq(e.res.status, 0);
		ck_assert_msg(strstr(e.res.error, "response larger than") !=
				  NULL,
			      "%s error: %s", paths[i], e.res.error);
	}
	/* Exactly the limit is fine. */
	e.res.calls = 0;
	post(&e, "127.0.0.1", "/exact", "x", 1, 5);
	ck_assert_msg(e.res.status == 200, "error %s", e.res.error);
	ck_assert_uint_eq(e.res.len, LIC_HTTP_MAX_RESPONSE);
	env_free(&e);
}
END_TEST

UNIT_TEST(test_timeout)
{
	struct env e;
	double t0, dt;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	t0 = now_s();
	post(&e, "127.0.0.1", "/hang", "x", 1, 1);
	dt = now_s() - t0;
	ck_assert_int_eq(e.res.status, 0);
	ck_assert_msg(strstr(e.res.error, "timed out") != NULL, "error: %s",
		      e.res.error);
	ck_assert_int_eq(e.srv.nreq, 1);
	ck_assert_msg(dt >= 0.9 && dt < 1.9, "took %.3f s", dt);
	env_free(&e);
}
END_TEST

UNIT_TEST(test_connection_refused)
{
	struct env e;
	int port;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	/* The server's port, once the server is gone, is closed. */
	port = e.srv.port;
	evhttp_free(e.srv.http);
	e.srv.http = evhttp_new(e.base);
	snprintf(e.url, sizeof(e.url), "https://127.0.0.1:%d/echo", port);
	ck_assert_int_eq(
	    lic_http_post(e.h, e.url, "text/plain", "x", 1, 5, done_cb, &e.res),
	    0);
	wait_done(&e.res);
	ck_assert_int_eq(e.res.calls, 1);
	ck_assert_int_eq(e.res.status, 0);
	ck_assert_msg(e.res.error[0] != '\0' &&
			  strstr(e.res.error, "timed out") == NULL,
		      "error: %s", e.res.error);
	env_free(&e);
}
END_TEST

/* An unresolvable name: status 0 and a reason, no hang. */
UNIT_TEST(test_unknown_host)
{
	struct env e;

	env_init(&e, CERT_GOOD, CERT_GOOD);
	ck_assert_int_eq(lic_http_post(e.h, "https://licd.invalid:1/x", "a/b",
				       "x", 1, 5, done_cb, &e.res),
			 0);
	wait_done(&e.res);
	ck_assert_int_eq(e.res.calls, 1);
	ck_assert_int_eq(e.res.status, 0);
	ck_assert_msg(e.res.error[0] != '\0', "no reason");
	env_free(&e);
}
END_TEST

UNIT_TEST(test_plain_http)
{
	struct env e;

	env_init(&e, -1, CERT_GOOD);
	snprintf(e.url, sizeof(e.url), "http://127.0.0.1:%d/echo", e.srv.port);
	ck_assert_int_eq(
	    lic_http_post(e.h, e.url, "text/plain", "x", 1, 5, done_cb, &e.res),
	    -1);
	ck_assert_ptr_nonnull(strstr(lic_http_last_error(e.h), "http://"));
	ck_assert_uint_eq(lic_http_pending(e.h), 0);
	lic_http_allow_plain(e.h, true);
	post(&e, "127.0.0.1", "/echo", "plain", 5, 5);
	ck_assert_int_eq(e.res.status, 201);
	ck_assert_uint_eq(e.res.len, 9);
	ck_assert_mem_eq(e.res.body, "ack:plain", 9);
	snprintf(e.url, sizeof(e.url), "127.0.0.1:%d", e.srv.port);
	ck_assert_str_eq(e.srv.got_host, e.url);
	env_free(&e);
}
END_TEST

/* Refused at once: -1, no callback, a reason. */
UNIT_TEST(test_bad_arguments)
{
	static const struct {
		const char *url, *ctype;
		unsigned timeout;
	} rows[] = {
	    {"ftp://127.0.0.1/x", "text/plain", 5},
	    {"127.0.0.1:443/x", "text/plain", 5},
	    {"https:///nohost", "text/plain", 5},
	    {"https://user:pw@127.0.0.1/x", "text/plain", 5},
	    {"https://127.0.0.1:99999/x", "text/plain", 5},
	    {"https://127.0.0.1 /x", "text/plain", 5},
	    {"https://127.0.0.1/x", "text/plain\r\nX-Evil: 1", 5},
	    {"https://127.0.0.1/x", "", 5},
	    {"https://127.0.0.1/x", "text/plain", 0},
	    {"https://127.0.0.1/x", "text/plain", LIC_HTTP_MAX_TIMEOUT + 1},
	};
	struct env e;
	char err[128];

	env_init(&e, CERT_GOOD, CERT_GOOD);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ck_assert_msg(lic_http_post(e.h, rows[i].url, rows[i].ctype,
					    "x", 1, rows[i].timeout, done_cb,
					    &e.res) == -1,
			      "row %zu accepted", i);
		ck_assert_msg(lic_http_last_error(e.h)[0] != '\0', "row %zu",
			      i);
	}
	ck_assert_int_eq(lic_http_post(e.h, "https://127.0.0.1/x", "a/b", NULL,
				       1, 5, done_cb, &e.res),
			 -1);
	ck_assert_int_eq(lic_http_post(e.h, "https://127.0.0.1/x", "a/b", "x",
				       LIC_HTTP_MAX_REQUEST + 1, 5, done_cb,
				       &e.res),
			 -1);
	ck_assert_int_eq(e.res.calls, 0);
	ck_assert_uint_eq(lic_http_pending(e.h), 0);

	/* lic_http_new: missing or empty CA file. */
	ck_assert_ptr_null(
	    lic_http_new(e.base, "/nonexistent/ca.crt", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ca.crt"));
	ck_assert_ptr_null(lic_http_new(e.base, "/dev/null", err, sizeof(err)));
	ck_assert_ptr_null(lic_http_new(NULL, e.crt[0], NULL, 0));
	lic_http_free(NULL);
	env_free(&e);
}
END_TEST

static void cancel_cb(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	r->len = len;
	(void)body;
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	/* Re-posting during free is refused. */
	ck_assert_int_eq(
	    lic_http_post(r->repost, r->url, "a/b", "x", 1, 5, cancel_cb, r),
	    -1);
}

/* lic_http_free() cancels: each outstanding done runs once, "cancelled". */
UNIT_TEST(test_free_cancels)
{
	struct env e;
	struct result r1 = {0}, r2 = {0};
	struct lic_http *h;
	struct timeval tv = {0, 300000};

	env_init(&e, CERT_GOOD, CERT_GOOD);
	h = e.h;
	snprintf(e.url, sizeof(e.url), "https://127.0.0.1:%d/hang", e.srv.port);
	r1.repost = r2.repost = h;
	r1.url = r2.url = e.url;
	ck_assert_int_eq(
	    lic_http_post(h, e.url, "a/b", "1", 1, 30, cancel_cb, &r1), 0);
	ck_assert_int_eq(
	    lic_http_post(h, e.url, "a/b", "2", 1, 30, cancel_cb, &r2), 0);
	ck_assert_uint_eq(lic_http_pending(h), 2);
	/* Let both reach the server. */
	event_base_loopexit(e.base, &tv);
	event_base_dispatch(e.base);
	ck_assert_int_eq(e.srv.nreq, 2);
	lic_http_free(&e.h);
	ck_assert_int_eq(r1.calls, 1);
	ck_assert_int_eq(r2.calls, 1);
	ck_assert_int_eq(r1.status, 0);
	ck_assert_str_eq(r1.error, "cancelled");
	ck_assert_str_eq(r2.error, "cancelled");
	/* Nothing left behind in the loop: it runs dry. */
	event_base_loopexit(e.base, &tv);
	event_base_dispatch(e.base);
	ck_assert_int_eq(r1.calls, 1);
	env_free(&e);
}
END_TEST

/* ---- backoff ---- */

UNIT_TCASE("backoff");

UNIT_TEST(test_backoff_table)
{
	/* base 30 s, cap 3600 s: ceilings 30, 60, ..., 1920, then 3600. */
	static const unsigned ceil_tab[11] = {30,   60,	  120,	240,  480, 960,
					      1920, 3600, 3600, 3600, 3600};
	static const uint32_t rnd[] = {0,     1,	   7,
				       12345, 0x7fffffffu, 0xffffffffu};
	unsigned prev_min = 0;

	for (unsigned a = 0; a <= 10; a++) {
		unsigned c = ceil_tab[a];
		unsigned lo = c - c / 2;

		/* random 0 gives the lower bound, c/2 the upper one. */
		ck_assert_uint_eq(lic_backoff_delay(a, 30, 3600, 0), lo);
		ck_assert_uint_eq(lic_backoff_delay(a, 30, 3600, c / 2), c);
		ck_assert_uint_eq(lic_backoff_delay(a, 30, 3600, c / 2 + 1),
				  lo);
		for (size_t i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++) {
			unsigned d = lic_backoff_delay(a, 30, 3600, rnd[i]);

			ck_assert_uint_ge(d, lo);
			ck_assert_uint_le(d, c);
			ck_assert_uint_ge(d, 1);
			ck_assert_uint_le(d, 3600);
		}
		/* The lower bound never shrinks as attempts grow. */
		ck_assert_uint_ge(lo, prev_min);
		prev_min = lo;
	}
	ck_assert_uint_eq(lic_backoff_delay(0, 30, 3600, 0), 15);
	ck_assert_uint_eq(lic_backoff_delay(7, 30, 3600, 0), 1800);
}
END_TEST

UNIT_TEST(test_backoff_edges)
{
	static const struct {
		unsigned attempt, base, cap;
		uint32_t random;
		unsigned want;
	} rows[] = {
	    {0, 0, 0, 0, 1},	       /* all zero: never 0 */
	    {0, 0, 0, 0xffffffffu, 1}, /* ... never above cap (1) */
	    {0, 1, 1, 5, 1},
	    {0, 1, 10, 0, 1},
	    {1, 1, 10, 1, 2},
	    {5, 10, 7, 0, 4}, /* cap below base */
	    {5, 10, 7, 3, 7},
	    {40, 30, 3600, 0, 1800}, /* big attempt: no UB */
	    {0xffffffffu, 30, 3600, 1800, 3600},
	    {31, 0xffffffffu, 0xffffffffu, 0, 0x80000000u},
	    {31, 0xffffffffu, 0xffffffffu, 0x7fffffffu, 0xffffffffu},
	    {3, 2, 0xffffffffu, 8, 16},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(lic_backoff_delay(rows[i].attempt, rows[i].base,
						rows[i].cap,
						rows[i].random) == rows[i].want,
			      "row %zu: got %u want %u", i,
			      lic_backoff_delay(rows[i].attempt, rows[i].base,
						rows[i].cap, rows[i].random),
			      rows[i].want);
}
END_TEST

UNIT_MAIN("lic_http")
