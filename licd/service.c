/*
 * lsrv service: trust, usage intake, ACK polls and the offline usage
 * import (see service.h). Which key verifies a usage report or an ACK
 * poll depends on the UDI inside it, so the envelope is first peeked at
 * (lic_envelope_peek: form and UDI only, nothing acted upon), then
 * verified with the key bound to that UDI, and only then parsed and
 * stored.
 */
#include "licd/service.h"

#include "common/err.h"
#include "common/log.h"
#include "licensing/envelope.h"
#include "licensing/trust.h"
#include "licensing/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#define FAC "LICD"
#define ERR_MAX 256
#define LOG_FIELD_MAX 96 /* bytes of a client-supplied field in a log line */

struct lsrv_service {
	struct lsrv_store *st;	     /* borrowed */
	const struct lic_key *server; /* borrowed */
};

struct lsrv_service *lsrv_service_new(struct lsrv_store *st,
				      const struct lic_key *server, char *err,
				      size_t errlen)
{
	struct lsrv_service *s;

	if (st == NULL || server == NULL) {
		err_set(err, errlen, "service: no store or no server key");
		return NULL;
	}
	s = err_calloc(1, sizeof(*s), err, errlen);
	if (s == NULL)
		return NULL;
	s->st = st;
	s->server = server;
	return s;
}

void lsrv_service_free(struct lsrv_service **s)
{
	if (s == NULL || *s == NULL)
		return;
	free(*s);
	*s = NULL;
}

void lsrv_response_clear(struct lsrv_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* A printable, bounded copy of client text for a log line or message. */
static void clean(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t i, o = 0;

	for (i = 0; in != NULL && i < inlen && in[i] != '\0' &&
		    o + 1 < outlen;
	     i++)
		out[o++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	if (outlen > 0)
		out[o] = '\0';
}

/* Replace a response's body with the JSON text of `o` (consumed). */
static void set_json(struct lsrv_response *out, int status, json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT |
						       JSON_PRESERVE_ORDER)
			       : NULL;

	json_decref(o);
	free(out->body);
	out->body = NULL;
	out->len = 0;
	if (text == NULL) {
		/* Out of memory: a constant body still says what happened. */
		static const char oom[] = "{\"error\":\"internal\","
					  "\"message\":\"out of memory\"}";

		out->status = 500;
		out->body = strdup(oom);
		out->len = out->body != NULL ? strlen(out->body) : 0;
		return;
	}
	out->status = status;
	out->body = text;
	out->len = strlen(text);
}

/* Take an envelope or answer text as the 200/202 body. */
static void set_body(struct lsrv_response *out, int status, char *text,
		     size_t len)
{
	free(out->body);
	out->status = status;
	out->body = text;
	out->len = len;
}

/*
 * An error answer per the protocol's table, and its log line. The
 * message is one line of printable ASCII.
 */
static void fail(struct lsrv_response *out, const struct lsrv_request *rq,
		 int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void fail(struct lsrv_response *out, const struct lsrv_request *rq,
		 int status, const char *code, const char *fmt, ...)
{
	char raw[ERR_MAX], msg[ERR_MAX], method[16], target[LOG_FIELD_MAX],
		peer[LOG_FIELD_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean(msg, sizeof(msg), raw, sizeof(raw));
	set_json(out, status,
		 json_pack("{s:s, s:s}", "error", code, "message", msg));
	clean(method, sizeof(method), rq->method, LOG_FIELD_MAX);
	clean(target, sizeof(target), rq->target, LOG_FIELD_MAX);
	clean(peer, sizeof(peer), rq->peer != NULL ? rq->peer : "-",
	      LOG_FIELD_MAX);
	log_msg(status >= 500 ? LOG_LVL_ERR : LOG_LVL_WARNING, FAC, "REJECT",
		"%s %s from %s: %d %s: %s", method, target, peer, status, code,
		msg);
}

/* Map a store failure to its answer. */
static void fail_store(struct lsrv_response *out,
		       const struct lsrv_request *rq, enum lsrv_st r,
		       const char *err)
{
	static const struct {
		enum lsrv_st r;
		int status;
		const char *code, *prefix;
	} answers[] = {
	    {LSRV_ST_BAD_TOKEN, 403, "bad_token", ""},
	    {LSRV_ST_UDI_BOUND, 409, "udi_bound", ""},
	    {LSRV_ST_NOT_FOUND, 403, "unknown_device", ""},
	    {LSRV_ST_BUSY, 503, "unavailable", "store busy, retry: "},
	    {LSRV_ST_INVALID, 400, "malformed", ""},
	    {LSRV_ST_SEAL, 500, "internal", "cannot build the answer: "},
	};
	size_t i;

	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		if (answers[i].r == r)
			break;
	if (i == sizeof(answers) / sizeof(answers[0]))
		fail(out, rq, 500, "internal", "store: %s", err);
	else
		fail(out, rq, answers[i].status, answers[i].code, "%s%s",
		     answers[i].prefix, err);
}

/* Map a message refusal (trust.h) to its answer. */
static void fail_msg(struct lsrv_response *out, const struct lsrv_request *rq,
		     enum lic_msg_status m, const char *err)
{
	if (m == LIC_MSG_BAD_SIGNATURE)
		fail(out, rq, 401, "bad_signature", "%s", err);
	else if (m == LIC_MSG_MALFORMED)
		fail(out, rq, 400, "malformed", "%s", err);
	else
		fail(out, rq, 500, "internal", "%s", err);
}

/* ---- shared: which device, which key ----------------------------------- */

/*
 * The device an envelope of `type` comes from and its bound key, with
 * the envelope verified by that key. 0, or -1 with the answer set.
 */
static int device_verified(struct lsrv_service *s,
			   const struct lsrv_request *rq, const char *body,
			   size_t len, const char *type,
			   struct lsrv_device *dev, struct lic_pubkey **pk,
			   struct lsrv_response *out)
{
	struct lic_envelope_peek pe;
	struct lic_udi udi;
	char err[ERR_MAX] = "";
	enum lic_msg_status m;
	enum lsrv_st r;

	*pk = NULL;
	m = lic_envelope_peek(body, len, type, &pe, err, sizeof(err));
	if (m != LIC_MSG_OK) {
		fail_msg(out, rq, m, err);
		return -1;
	}
	udi.pid = pe.pid;
	udi.sn = pe.sn;
	r = lsrv_store_device_find(s->st, &udi, dev, err, sizeof(err));
	if (r != LSRV_ST_OK) {
		fail_store(out, rq, r, err);
		return -1;
	}
	if (lic_pubkey_from_der_b64(dev->public_key, strlen(dev->public_key),
				    pk, err, sizeof(err)) != 0) {
		fail(out, rq, 500, "internal", "bound key unusable: %s", err);
		return -1;
	}
	m = lic_envelope_verify(*pk, body, len, err, sizeof(err));
	if (m != LIC_MSG_OK) {
		fail_msg(out, rq, m, err);
		lic_pubkey_free(pk);
		return -1;
	}
	return 0;
}

/* An ACK envelope for ids of `dev` (200), or the failure answer. */
static void answer_ack(struct lsrv_service *s, const struct lsrv_request *rq,
		       const struct lsrv_device *dev, const char *const *ids,
		       size_t n, const char *policy, int64_t now,
		       struct lsrv_response *out)
{
	struct lic_ack_info a;
	char err[ERR_MAX] = "";
	char *env = NULL;
	size_t len = 0;

	memset(&a, 0, sizeof(a));
	a.udi.pid = dev->pid;
	a.udi.sn = dev->sn;
	a.report_ids = ids;
	a.nids = n;
	a.ack_time_s = now;
	a.policy_json = policy;
	if (lic_ack_build(s->server, &a, &env, &len, err, sizeof(err)) != 0) {
		fail(out, rq, 500, "internal", "cannot build ACK: %s", err);
		return;
	}
	set_body(out, 200, env, len);
}

/* ---- POST trust -------------------------------------------------------- */

/* 128 random bits as 32 lowercase hex: opaque to the device. */
static int trust_code_new(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

/* What the trust transaction's seal needs and makes. */
struct trust_seal {
	const struct lic_key *server;
	const struct lic_trust_request_info *ri;
	const char *code;
	int64_t now;
	char *body; /* the signed answer (owned) */
	size_t len;
};

/*
 * lsrv_trust_seal_fn: the signed trust answer, built inside the trust
 * transaction from the values being stored, so that the binding is
 * committed only when its answer exists.
 */
static int trust_seal(void *arg, const struct lsrv_trust_out *to, char *err,
		      size_t errlen)
{
	struct trust_seal *ts = arg;
	struct lic_trust_code_info tc;

	memset(&tc, 0, sizeof(tc));
	tc.udi = ts->ri->udi;
	tc.device_key_id = ts->ri->key_id;
	tc.trust_code = ts->code;
	tc.issued_s = ts->now;
	tc.smart_account = to->account;
	tc.virtual_account = to->va;
	tc.policy_json = to->policy_json;
	free(ts->body);
	ts->body = NULL;
	return lic_trust_answer_build(ts->server, &tc, &ts->body, &ts->len, err,
				      errlen);
}

static void handle_trust(struct lsrv_service *s, const struct lsrv_request *rq,
			 const char *query, int64_t now,
			 struct lsrv_response *out)
{
	struct lic_trust_request *req = NULL;
	const struct lic_trust_request_info *ri;
	struct lsrv_trust_in in;
	struct lsrv_trust_out to;
	struct trust_seal ts;
	char err[ERR_MAX] = "", hash[LSRV_TOKEN_HASH_LEN + 1], code[33];
	enum lic_msg_status m;
	enum lsrv_st r;

	(void)query;
	memset(&to, 0, sizeof(to));
	memset(&ts, 0, sizeof(ts));
	m = lic_trust_request_parse(rq->body, rq->len, &req, err, sizeof(err));
	if (m != LIC_MSG_OK) {
		fail_msg(out, rq, m, err);
		return;
	}
	ri = lic_trust_request_get(req);
	if (lsrv_token_hash(ri->token, hash) != 0 || trust_code_new(code)) {
		fail(out, rq, 500, "internal", "hash or random failure");
		goto out;
	}
	ts.server = s->server;
	ts.ri = ri;
	ts.code = code;
	ts.now = now;
	memset(&in, 0, sizeof(in));
	in.token_hash = hash;
	in.udi = ri->udi;
	in.public_key_b64 = ri->public_key;
	in.key_id = ri->key_id;
	in.force = ri->force;
	in.trust_code = code;
	in.now = now;
	in.seal = trust_seal;
	in.seal_arg = &ts;
	r = lsrv_store_trust(s->st, &in, &to, err, sizeof(err));
	if (r != LSRV_ST_OK) {
		fail_store(out, rq, r, err);
		goto out;
	}
	set_body(out, 200, ts.body, ts.len);
	ts.body = NULL;
	log_msg(LOG_LVL_INFO, FAC, "TRUST",
		"PID:%s,SN:%s trusted in %s/%s with key %.16s...%s",
		ri->udi.pid, ri->udi.sn, to.account, to.va, ri->key_id,
		to.rebound ? " (rebound by force)" : "");
out:
	free(ts.body);
	free(to.policy_json);
	lic_trust_request_free(&req);
}

/* ---- POST usage -------------------------------------------------------- */

/*
 * "ack=deferred" asks for 202 and a later poll; no ack parameter for the
 * ACK in the answer. 1 deferred, 0 not, -1 another ack value.
 */
static int deferred_wanted(const char *query)
{
	const char *p = query;
	int deferred = 0;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "&");

		if (n >= 4 && strncmp(p, "ack=", 4) == 0) {
			if (n == strlen("ack=deferred") &&
			    strncmp(p, "ack=deferred", n) == 0)
				deferred = 1;
			else
				return -1;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return deferred;
}

static void handle_usage(struct lsrv_service *s, const struct lsrv_request *rq,
			 const char *query, int64_t now,
			 struct lsrv_response *out)
{
	struct lsrv_device dev;
	struct lic_pubkey *pk = NULL;
	struct lic_report *rep = NULL;
	const struct lic_report_info *ri;
	struct lsrv_report_in in;
	struct lsrv_intake_result res;
	char err[ERR_MAX] = "";
	int deferred = deferred_wanted(query);
	enum lsrv_st r;

	memset(&res, 0, sizeof(res));
	if (deferred < 0) {
		fail(out, rq, 400, "malformed", "ack parameter must be "
						 "\"deferred\" when present");
		return;
	}
	if (device_verified(s, rq, rq->body, rq->len, LIC_TYPE_REPORT, &dev,
			    &pk, out) != 0)
		return;
	/* Verified: what fails now is the content. */
	if (lic_report_parse(pk, rq->body, rq->len, &rep, err, sizeof(err)) !=
	    0) {
		fail(out, rq, 400, "malformed", "%s", err);
		goto out;
	}
	ri = lic_report_get(rep);
	memset(&in, 0, sizeof(in));
	in.info = ri;
	in.envelope = rq->body;
	in.len = rq->len;
	r = lsrv_store_intake(s->st, &dev, &in, 1, now, deferred == 0, &res,
			      err, sizeof(err));
	if (r != LSRV_ST_OK) {
		fail_store(out, rq, r, err);
		goto out;
	}
	log_msg(LOG_LVL_INFO, FAC, "REPORT",
		"report %s from PID:%s,SN:%s: %zu record(s), %zu new%s%s%s",
		ri->report_id, dev.pid, dev.sn, ri->nrecords, res.new_records,
		res.dup_reports ? ", already held" : "",
		deferred ? ", ACK deferred" : "",
		res.policy_json ? ", policy sent" : "");
	if (res.conflict_records > 0)
		log_msg(LOG_LVL_WARNING, FAC, "RECORD_CONFLICT",
			"report %s from PID:%s,SN:%s: %zu record id(s) already "
			"held with other content; the first copy is kept",
			ri->report_id, dev.pid, dev.sn, res.conflict_records);
	if (deferred) {
		set_json(out, 202,
			 json_pack("{s:s, s:s}", "status", "accepted",
				   "report_id", ri->report_id));
		goto out;
	}
	answer_ack(s, rq, &dev, &ri->report_id, 1, res.policy_json, now, out);
out:
	free(res.policy_json);
	lic_report_free(&rep);
	lic_pubkey_free(&pk);
}

/* ---- POST acks --------------------------------------------------------- */

static void handle_acks(struct lsrv_service *s, const struct lsrv_request *rq,
			const char *query, int64_t now,
			struct lsrv_response *out)
{
	char err[ERR_MAX] = "";
	struct lsrv_device dev;
	struct lic_pubkey *pk = NULL;
	struct lic_ack_poll *poll = NULL;
	const struct lic_ack_poll_info *pi;
	const char *held[LIC_ACK_MAX_IDS];
	struct lic_udi udi;
	char *policy = NULL;
	size_t nheld = 0;
	enum lic_msg_status m;
	enum lsrv_st r;

	(void)query;
	if (device_verified(s, rq, rq->body, rq->len, LIC_TYPE_ACK_POLL, &dev,
			    &pk, out) != 0)
		return;
	udi.pid = dev.pid;
	udi.sn = dev.sn;
	m = lic_ack_poll_parse(pk, rq->body, rq->len, &udi, &poll, err,
			       sizeof(err));
	if (m != LIC_MSG_OK) {
		fail_msg(out, rq, m, err);
		goto out;
	}
	pi = lic_ack_poll_get(poll);
	r = lsrv_store_ack_poll(s->st, &dev, pi->report_ids, pi->nids, now,
				held, &nheld, &policy, err, sizeof(err));
	if (r != LSRV_ST_OK) {
		fail_store(out, rq, r, err);
		goto out;
	}
	log_msg(LOG_LVL_INFO, FAC, "ACK_POLL",
		"PID:%s,SN:%s asked for %zu ACK(s), %zu held", dev.pid, dev.sn,
		pi->nids, nheld);
	if (nheld == 0) {
		set_body(out, 204, NULL, 0);
		goto out;
	}
	answer_ack(s, rq, &dev, held, nheld, policy, now, out);
out:
	free(policy);
	lic_ack_poll_free(&poll);
	lic_pubkey_free(&pk);
}

/* ---- routing ----------------------------------------------------------- */

typedef void handler_fn(struct lsrv_service *s, const struct lsrv_request *rq,
			const char *query, int64_t now,
			struct lsrv_response *out);

static const struct route {
	const char *name; /* after LSRV_API_PREFIX */
	handler_fn *fn;
} routes[] = {
	{"trust", handle_trust},
	{"usage", handle_usage},
	{"acks", handle_acks},
};

/* application/json, optionally with parameters (charset=utf-8). */
static bool json_media_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

void lsrv_handle(struct lsrv_service *s, const struct lsrv_request *rq,
		 int64_t now, struct lsrv_response *out)
{
	char path[LSRV_TARGET_MAX + 1];
	const struct route *route = NULL;
	const char *query = "";
	size_t plen, i, pre = strlen(LSRV_API_PREFIX);

	memset(out, 0, sizeof(*out));
	if (s == NULL || rq == NULL || rq->method == NULL ||
	    rq->target == NULL) {
		out->status = 500;
		return;
	}
	plen = strcspn(rq->target, "?");
	if (plen <= LSRV_TARGET_MAX) {
		memcpy(path, rq->target, plen);
		path[plen] = '\0';
		if (rq->target[plen] == '?')
			query = rq->target + plen + 1;
		if (plen > pre && strncmp(path, LSRV_API_PREFIX, pre) == 0)
			for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
				if (strcmp(path + pre, routes[i].name) == 0)
					route = &routes[i];
	}
	if (route == NULL) {
		fail(out, rq, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, "POST") != 0) {
		fail(out, rq, 405, "method", "only POST is allowed here");
		out->allow = "POST";
		return;
	}
	if (!rq->length_known) {
		fail(out, rq, 411, "too_large", "a Content-Length is required");
		return;
	}
	if (rq->len > LIC_ENVELOPE_MAX) {
		fail(out, rq, 413, "too_large", "body of %zu bytes, at most %d",
		     rq->len, LIC_ENVELOPE_MAX);
		return;
	}
	if (!json_media_type(rq->content_type)) {
		fail(out, rq, 415, "media_type",
		     "Content-Type must be application/json");
		return;
	}
	if (rq->body == NULL || rq->len == 0) {
		fail(out, rq, 400, "malformed", "empty body");
		return;
	}
	route->fn(s, rq, query, now, out);
	if (out->status == 0)
		fail(out, rq, 500, "internal", "no answer");
}

/* ---- offline usage import ---------------------------------------------- */

/* Report i of a usage file: envelope text, verified and parsed. */
struct imported {
	char *text;
	struct lic_report *rep;
};

int lsrv_import_usage(struct lsrv_service *s, const char *buf, size_t len,
		      int64_t now, char **ack, size_t *acklen,
		      size_t *nreports, char *err, size_t errlen)
{
	struct imported *im = NULL;
	struct lsrv_report_in *in = NULL;
	const char **ids = NULL;
	struct lsrv_device dev;
	struct lsrv_intake_result res;
	struct lic_pubkey *pk = NULL;
	struct lic_ack_info a;
	json_t *root = NULL, *reps, *v;
	size_t n = 0, i, j, nids = 0;
	enum lic_msg_status m;
	enum lsrv_st r;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (ack != NULL)
		*ack = NULL;
	if (s == NULL || buf == NULL || ack == NULL) {
		err_set(err, errlen, "import: missing argument");
		return -1;
	}
	root = lic_wire_load_object(buf, len, LSRV_USAGE_FILE_MAX, "usage file",
				    err, errlen);
	if (root == NULL)
		return -1;
	v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), "sbc-usage")) {
		err_set(err, errlen, "usage file: \"format\" is not "
				     "\"sbc-usage\"");
		goto out;
	}
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		err_set(err, errlen, "usage file: \"v\" missing or not 1");
		goto out;
	}
	reps = json_object_get(root, "reports");
	n = json_is_array(reps) ? json_array_size(reps) : 0;
	if (n == 0 || n > LIC_ACK_MAX_IDS) {
		err_set(err, errlen, "usage file: \"reports\" must hold 1..%d "
				     "envelopes",
			LIC_ACK_MAX_IDS);
		goto out;
	}
	im = calloc(n, sizeof(*im));
	in = calloc(n, sizeof(*in));
	ids = calloc(n, sizeof(*ids));
	if (im == NULL || in == NULL || ids == NULL) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct lic_envelope_peek pe;
		char why[ERR_MAX] = "";
		size_t tlen;

		v = json_array_get(reps, i);
		/* The signature covers the decoded payload, so the
		 * envelope object may be re-serialized. */
		im[i].text = NULL;
		if (json_is_object(v))
			im[i].text = json_dumps(v, JSON_COMPACT |
							   JSON_PRESERVE_ORDER);
		if (im[i].text == NULL) {
			err_set(err, errlen, "reports[%zu] is not an object",
				i);
			goto out;
		}
		tlen = strlen(im[i].text);
		m = lic_envelope_peek(im[i].text, tlen, LIC_TYPE_REPORT, &pe,
				      why, sizeof(why));
		if (m != LIC_MSG_OK) {
			err_set(err, errlen, "reports[%zu]: %s", i, why);
			goto out;
		}
		if (i == 0) {
			struct lic_udi udi = {pe.pid, pe.sn};

			r = lsrv_store_device_find(s->st, &udi, &dev, why,
						   sizeof(why));
			if (r != LSRV_ST_OK ||
			    lic_pubkey_from_der_b64(dev.public_key,
						    strlen(dev.public_key), &pk,
						    why, sizeof(why)) != 0) {
				err_set(err, errlen, "reports[0]: %s", why);
				goto out;
			}
		} else if (strcmp(pe.pid, dev.pid) != 0 ||
			   strcmp(pe.sn, dev.sn) != 0) {
			err_set(err, errlen,
				"reports[%zu] is from another device than "
				"reports[0]: one usage file, one device",
				i);
			goto out;
		}
		m = lic_envelope_verify(pk, im[i].text, tlen, why, sizeof(why));
		if (m != LIC_MSG_OK ||
		    lic_report_parse(pk, im[i].text, tlen, &im[i].rep, why,
				     sizeof(why)) != 0) {
			err_set(err, errlen, "reports[%zu]: %s", i, why);
			goto out;
		}
		in[i].info = lic_report_get(im[i].rep);
		in[i].envelope = im[i].text;
		in[i].len = tlen;
		/* One id per report in the ACK, even if a file repeats one. */
		for (j = 0; j < nids; j++)
			if (strcmp(ids[j], in[i].info->report_id) == 0)
				break;
		if (j == nids)
			ids[nids++] = in[i].info->report_id;
	}
	r = lsrv_store_intake(s->st, &dev, in, n, now, true, &res, err,
			      errlen);
	if (r != LSRV_ST_OK)
		goto out;
	memset(&a, 0, sizeof(a));
	a.udi.pid = dev.pid;
	a.udi.sn = dev.sn;
	a.report_ids = ids;
	a.nids = nids;
	a.ack_time_s = now;
	a.policy_json = res.policy_json;
	if (lic_ack_build(s->server, &a, ack, acklen, err, errlen) != 0)
		goto out;
	log_msg(LOG_LVL_INFO, FAC, "IMPORT",
		"usage file from PID:%s,SN:%s: %zu report(s) (%zu new), "
		"%zu new record(s)%s",
		dev.pid, dev.sn, n, res.new_reports, res.new_records,
		res.policy_json ? ", policy sent" : "");
	if (nreports != NULL)
		*nreports = n;
	rc = 0;
out:
	free(res.policy_json);
	for (i = 0; im != NULL && i < n; i++) {
		free(im[i].text);
		lic_report_free(&im[i].rep);
	}
	free(im);
	free(in);
	free(ids);
	lic_pubkey_free(&pk);
	json_decref(root);
	return rc;
}
