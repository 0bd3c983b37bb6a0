/*
 * lic transport: the HTTPS push of usage reports over lic_http
 * (docs/licensing-protocol.md section 4).
 */
#include "licensing/transport.h"

#include "common/err.h"
#include "licensing/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_TIMEOUT_S 60u

struct http_transport {
	struct lic_http *http;
	char url[LIC_HTTP_MAX_URL + 1];
	char trust_url[LIC_HTTP_MAX_URL + 1];
	char acks_url[LIC_HTTP_MAX_URL + 1];
};

const char *lic_transport_name(enum lic_transport_kind k)
{
	switch (k) {
	case LIC_TRANSPORT_SMART:
		return "smart";
	case LIC_TRANSPORT_CSLU:
		return "cslu";
	case LIC_TRANSPORT_OFF:
		return "off";
	}
	return "?";
}

static int post(struct http_transport *t, const char *url,
		const char *envelope, size_t len, lic_push_done_fn *done,
		void *arg, char *err, size_t errlen)
{
	if (lic_http_post(t->http, url, "application/json", envelope, len,
			  PUSH_TIMEOUT_S, done, arg) != 0) {
		err_set(err, errlen, "%s", lic_http_last_error(t->http));
		return -1;
	}
	return 0;
}

static int http_push(void *ctx, const char *envelope, size_t len,
		     lic_push_done_fn *done, void *arg, char *err,
		     size_t errlen)
{
	struct http_transport *t = ctx;

	return post(t, t->url, envelope, len, done, arg, err, errlen);
}

static int http_trust(void *ctx, const char *envelope, size_t len,
		      lic_push_done_fn *done, void *arg, char *err,
		      size_t errlen)
{
	struct http_transport *t = ctx;

	return post(t, t->trust_url, envelope, len, done, arg, err, errlen);
}

static int http_poll(void *ctx, const char *envelope, size_t len,
		     lic_push_done_fn *done, void *arg, char *err,
		     size_t errlen)
{
	struct http_transport *t = ctx;

	return post(t, t->acks_url, envelope, len, done, arg, err, errlen);
}

static void http_free(void *ctx)
{
	struct http_transport *t = ctx;

	if (t == NULL)
		return;
	lic_http_free(&t->http);
	free(t);
}

const struct lic_transport_ops lic_transport_http_ops = {
	.push = http_push,
	.trust = http_trust,
	.poll = http_poll,
	.free = http_free,
};

void *lic_transport_http_new(struct event_base *base, const char *base_url,
			     const char *ca_file, bool deferred_ack,
			     char *err, size_t errlen)
{
	struct http_transport *t = NULL;
	size_t n;
	int w;

	if (base == NULL || base_url == NULL || base_url[0] == '\0' ||
	    ca_file == NULL || ca_file[0] == '\0') {
		err_set(err, errlen,
		       "license smart url and ca-file are required for "
		       "transport %s",
		       deferred_ack ? "cslu" : "smart");
		goto out_fail;
	}
	t = err_calloc(1, sizeof(*t), err, errlen);
	if (t == NULL)
		goto out_fail;
	n = strlen(base_url);
	w = snprintf(t->url, sizeof(t->url), "%s%susage%s", base_url,
		     base_url[n - 1] == '/' ? "" : "/",
		     deferred_ack ? "?ack=deferred" : "");
	if (w >= 0 && (size_t)w < sizeof(t->url))
		w = snprintf(t->trust_url, sizeof(t->trust_url), "%s%strust",
			     base_url, base_url[n - 1] == '/' ? "" : "/");
	if (w >= 0 && (size_t)w < sizeof(t->trust_url))
		w = snprintf(t->acks_url, sizeof(t->acks_url), "%s%sacks",
			     base_url, base_url[n - 1] == '/' ? "" : "/");
	if (w < 0 || (size_t)w >= sizeof(t->acks_url)) {
		err_set(err, errlen, "license smart url too long");
		goto out_free_t;
	}
	t->http = lic_http_new(base, ca_file, err, errlen);
	if (t->http == NULL)
		goto out_free_t;
	return t;

out_free_t:
	free(t);
out_fail:
	return NULL;
}

void lic_transport_http_allow_plain(void *ctx, bool allow)
{
	struct http_transport *t = ctx;

	if (t != NULL)
		lic_http_allow_plain(t->http, allow);
}

int lic_transport_http_set_proxy(void *ctx, const char *host, unsigned port)
{
	struct http_transport *t = ctx;

	return t != NULL ? lic_http_set_proxy(t->http, host, port) : -1;
}
