/*
 * lic trust: trust request and answer, ACK poll, policy file (see
 * trust.h and docs/licensing-protocol.md sections 3.3 to 3.5). JSON
 * through jansson only; envelopes through report.c.
 */
#include "licensing/trust.h"
#include "licensing/wire.h"

#include "common/err.h"
#include "licensing/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define PAYLOAD_VERSION 1
#define ENV_VERSION 1
#define ENV_ALG "ES256"

struct lic_trust_request {
	struct lic_trust_request_info info;
	struct lic_pubkey *key;
	char key_id[LIC_KEY_ID_LEN + 1];
	json_t *root; /* owns the strings info points at */
};

struct lic_trust_answer {
	struct lic_trust_code_info info;
	struct lic_pubkey *server;
	char *server_pem;
	char *policy; /* compact, sorted; or NULL */
	json_t *root;
};

struct lic_ack_poll {
	struct lic_ack_poll_info info;
	const char **ids;
	json_t *root;
};

static const char *const status_names[] = {
	[LIC_MSG_OK] = "ok",
	[LIC_MSG_MALFORMED] = "malformed",
	[LIC_MSG_BAD_SIGNATURE] = "bad_signature",
	[LIC_MSG_INTERNAL] = "internal",
};

const char *lic_msg_status_name(enum lic_msg_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0])
		       ? status_names[s]
		       : NULL;
}

/* ---- field rules (the same as report.c's, for the same protocol) ------ */

static bool udi_equal(const struct lic_udi *a, const struct lic_udi *b)
{
	return a->pid != NULL && a->sn != NULL && b->pid != NULL &&
	       b->sn != NULL && strcmp(a->pid, b->pid) == 0 &&
	       strcmp(a->sn, b->sn) == 0;
}

/* 1..LIC_ACK_MAX_IDS report ids, each 32 lowercase hex, no repeats. */
static int ids_check(const char *const *ids, size_t n, char *err,
		     size_t errlen)
{
	size_t i, j;

	if (n == 0 || n > LIC_ACK_MAX_IDS || ids == NULL) {
		err_set(err, errlen, "report_ids must hold 1..%d ids",
			LIC_ACK_MAX_IDS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!lic_wire_hex_ok(ids[i], LIC_REPORT_ID_LEN)) {
			err_set(err, errlen,
				"report_ids[%zu] is not %d lowercase hex "
				"digits",
				i, LIC_REPORT_ID_LEN);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0) {
				err_set(err, errlen,
					"report_ids[%zu] repeats "
					"report_ids[%zu]",
					i, j);
				return -1;
			}
	}
	return 0;
}

/*
 * A policy text for a message: a JSON object of at most LIC_POLICY_MAX
 * bytes that lic_policy_parse accepts. *out (may be NULL) gets the object.
 */
static int policy_check(const char *text, json_t **out, char *err,
			size_t errlen)
{
	struct lic_policy p;
	json_error_t je;
	json_t *o;
	size_t n = strlen(text);

	if (n > LIC_POLICY_MAX) {
		err_set(err, errlen, "policy longer than %d bytes",
			LIC_POLICY_MAX);
		return -1;
	}
	if (lic_policy_parse(text, n, &p, err, errlen) != 0)
		return -1;
	o = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		err_set(err, errlen, "policy is not a JSON object");
		return -1;
	}
	if (out != NULL)
		*out = o;
	else
		json_decref(o);
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------ */

/* A payload object with "type" and "v" set, or NULL (out of memory). */
static json_t *payload_new(const char *type)
{
	json_t *o = json_object();

	if (o == NULL || lic_wire_put(o, "type", json_string(type)) != 0 ||
	    lic_wire_put(o, "v", json_integer(PAYLOAD_VERSION)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Compact text of `o` (member order kept), signed into an envelope. */
static int seal_json(const struct lic_key *k, json_t *o, char **envelope,
		     size_t *len, char *err, size_t errlen)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	if (text == NULL) {
		err_set(err, errlen, "cannot serialize JSON (out of memory)");
		return -1;
	}
	rc = lic_envelope_seal(k, text, strlen(text), envelope, len, err,
			       errlen);
	free(text);
	return rc;
}

static int get_int(json_t *o, const char *key, int64_t *out, char *err,
		   size_t errlen)
{
	if (lic_wire_get_int(o, NULL, key, out, err, errlen) != 0)
		return -1;
	if (*out < 0) {
		err_set(err, errlen, "\"%s\" is negative", key);
		return -1;
	}
	return 0;
}

/* The "udi" member of a payload, checked (strings owned by `o`). */
static int get_udi(json_t *o, struct lic_udi *u, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "udi");

	if (!json_is_object(v)) {
		err_set(err, errlen, "\"udi\" missing or not an object");
		return -1;
	}
	u->pid = json_string_value(json_object_get(v, "pid"));
	u->sn = json_string_value(json_object_get(v, "sn"));
	return lic_wire_udi_check(u, err, errlen);
}

/* ---- envelope peek and verify ----------------------------------------- */

/* An envelope decoded but not verified. */
struct decoded {
	char key_id[LIC_KEY_ID_LEN + 1];
	unsigned char *payload; /* NUL-terminated copy, plen bytes */
	size_t plen;
	unsigned char *sig;
	size_t siglen;
};

static void decoded_clear(struct decoded *d)
{
	free(d->payload);
	free(d->sig);
	memset(d, 0, sizeof(*d));
}

/* The form checks of protocol section 2, in its order, short of the key. */
static enum lic_msg_status decode(const char *envelope, size_t len,
				  struct decoded *d, char *err, size_t errlen)
{
	enum lic_msg_status st = LIC_MSG_MALFORMED;
	json_error_t je;
	json_t *env, *v;
	const char *kid;
	unsigned char *p = NULL;
	size_t plen = 0;

	memset(d, 0, sizeof(*d));
	if (envelope == NULL || len == 0 || len > LIC_ENVELOPE_MAX) {
		err_set(err, errlen, "envelope of %zu bytes outside 1..%d", len,
			LIC_ENVELOPE_MAX);
		return LIC_MSG_MALFORMED;
	}
	env = json_loadb(envelope, len, JSON_REJECT_DUPLICATES, &je);
	if (env == NULL) {
		err_set(err, errlen, "envelope is not valid JSON: %s", je.text);
		return LIC_MSG_MALFORMED;
	}
	if (!json_is_object(env)) {
		err_set(err, errlen, "envelope is not a JSON object");
		goto out;
	}
	v = json_object_get(env, "v");
	if (!json_is_integer(v) || json_integer_value(v) != ENV_VERSION) {
		err_set(err, errlen, "envelope: \"v\" missing or not %d",
			ENV_VERSION);
		goto out;
	}
	v = json_object_get(env, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), ENV_ALG) != 0) {
		err_set(err, errlen, "envelope: \"alg\" missing or not \"%s\"",
			ENV_ALG);
		goto out;
	}
	kid = lic_wire_get_str(env, NULL, "key_id", err, errlen);
	if (kid == NULL)
		goto out;
	if (!lic_wire_hex_ok(kid, LIC_KEY_ID_LEN)) {
		err_set(err, errlen, "envelope: key_id is not %d hex digits",
			LIC_KEY_ID_LEN);
		goto out;
	}
	v = json_object_get(env, "payload");
	if (!json_is_string(v) ||
	    !json_is_string(json_object_get(env, "signature"))) {
		err_set(err, errlen,
			"envelope: payload or signature missing or not a "
			"string");
		goto out;
	}
	if (lic_b64_decode(json_string_value(v), json_string_length(v), &p,
			   &plen, err, errlen) != 0)
		goto out;
	v = json_object_get(env, "signature");
	if (lic_b64_decode(json_string_value(v), json_string_length(v),
			   &d->sig, &d->siglen, err, errlen) != 0)
		goto out;
	if (plen == 0 || plen > LIC_PAYLOAD_MAX) {
		err_set(err, errlen, "payload of %zu bytes outside 1..%d", plen,
			LIC_PAYLOAD_MAX);
		goto out;
	}
	d->payload = malloc(plen + 1);
	if (d->payload == NULL) {
		err_set(err, errlen, "out of memory");
		st = LIC_MSG_INTERNAL;
		goto out;
	}
	memcpy(d->payload, p, plen);
	d->payload[plen] = '\0';
	d->plen = plen;
	memcpy(d->key_id, kid, LIC_KEY_ID_LEN + 1);
	st = LIC_MSG_OK;
out:
	free(p);
	json_decref(env);
	if (st != LIC_MSG_OK)
		decoded_clear(d);
	return st;
}

/*
 * The payload object of `d` if it has type `type` and v 1 (unverified
 * unless the caller verified `d`). *root is the caller's to decref.
 */
static enum lic_msg_status payload_root(const struct decoded *d,
					const char *type, json_t **root,
					char *err, size_t errlen)
{
	json_error_t je;
	json_t *pl, *v;

	*root = NULL;
	pl = json_loadb((const char *)d->payload, d->plen,
			JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(pl)) {
		err_set(err, errlen, "payload is not a JSON object%s%s",
			pl == NULL ? ": " : "", pl == NULL ? je.text : "");
		goto out_fail;
	}
	v = json_object_get(pl, "type");
	if (!json_is_string(v) || strcmp(json_string_value(v), type) != 0) {
		err_set(err, errlen, "payload type is not \"%s\"", type);
		goto out_fail;
	}
	v = json_object_get(pl, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PAYLOAD_VERSION) {
		err_set(err, errlen, "payload: \"v\" missing or not %d",
			PAYLOAD_VERSION);
		goto out_fail;
	}
	*root = pl;
	return LIC_MSG_OK;
out_fail:
	json_decref(pl);
	return LIC_MSG_MALFORMED;
}

/* key_id and signature of decoded `d` against `pk`. */
static enum lic_msg_status verify_decoded(const struct lic_pubkey *pk,
					  const struct decoded *d, char *err,
					  size_t errlen)
{
	char want[LIC_KEY_ID_LEN + 1];
	int vr;

	lic_pubkey_id(pk, want);
	if (strcmp(d->key_id, want) != 0) {
		err_set(err, errlen,
			"signed by key %.16s..., not by the expected key "
			"%.16s...",
			d->key_id, want);
		return LIC_MSG_BAD_SIGNATURE;
	}
	vr = lic_verify(pk, d->payload, d->plen, d->sig, d->siglen);
	if (vr == 1)
		return LIC_MSG_OK;
	if (vr == 0) {
		err_set(err, errlen, "bad signature");
		return LIC_MSG_BAD_SIGNATURE;
	}
	err_set(err, errlen, "signature check failed");
	return LIC_MSG_INTERNAL;
}

enum lic_msg_status lic_envelope_peek(const char *envelope, size_t len,
				      const char *type,
				      struct lic_envelope_peek *out, char *err,
				      size_t errlen)
{
	struct decoded d;
	struct lic_udi u;
	json_t *root = NULL;
	enum lic_msg_status st;

	if (out == NULL || type == NULL) {
		err_set(err, errlen, "peek: missing argument");
		return LIC_MSG_INTERNAL;
	}
	memset(out, 0, sizeof(*out));
	st = decode(envelope, len, &d, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	st = payload_root(&d, type, &root, err, errlen);
	if (st != LIC_MSG_OK)
		goto out;
	if (get_udi(root, &u, err, errlen) != 0) {
		st = LIC_MSG_MALFORMED;
		goto out;
	}
	memcpy(out->key_id, d.key_id, sizeof(out->key_id));
	snprintf(out->pid, sizeof(out->pid), "%s", u.pid);
	snprintf(out->sn, sizeof(out->sn), "%s", u.sn);
out:
	json_decref(root);
	decoded_clear(&d);
	return st;
}

enum lic_msg_status lic_envelope_verify(const struct lic_pubkey *pk,
					const char *envelope, size_t len,
					char *err, size_t errlen)
{
	struct decoded d;
	enum lic_msg_status st;

	if (pk == NULL) {
		err_set(err, errlen, "verify: no key");
		return LIC_MSG_INTERNAL;
	}
	st = decode(envelope, len, &d, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	st = verify_decoded(pk, &d, err, errlen);
	decoded_clear(&d);
	return st;
}

/*
 * Verify with `pk`, then the verified payload of type `type` as *root.
 * Every failure after the signature is MALFORMED.
 */
static enum lic_msg_status open_verified(const struct lic_pubkey *pk,
					 const char *envelope, size_t len,
					 const char *type, json_t **root,
					 char *err, size_t errlen)
{
	struct decoded d;
	enum lic_msg_status st;

	*root = NULL;
	st = decode(envelope, len, &d, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	st = verify_decoded(pk, &d, err, errlen);
	if (st == LIC_MSG_OK)
		st = payload_root(&d, type, root, err, errlen);
	decoded_clear(&d);
	return st;
}

/* ---- trust request ----------------------------------------------------- */

static int trust_request_check(const struct lic_trust_request_info *r,
			       char *err, size_t errlen)
{
	if (!lic_wire_text_ok(r->token, LIC_TOKEN_MAX)) {
		err_set(err, errlen,
			"token missing or not 1..%d printable ASCII",
			LIC_TOKEN_MAX);
		return -1;
	}
	if (lic_wire_udi_check(&r->udi, err, errlen) != 0)
		return -1;
	if (r->created_s < 0) {
		err_set(err, errlen, "created is negative");
		return -1;
	}
	return 0;
}

int lic_trust_request_build(const struct lic_key *device,
			    const struct lic_trust_request_info *r,
			    char **envelope, size_t *len, char *err,
			    size_t errlen)
{
	char *pub = NULL;
	json_t *o = NULL;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (device == NULL || r == NULL || envelope == NULL) {
		err_set(err, errlen, "trust request: missing argument");
		return -1;
	}
	if (trust_request_check(r, err, errlen) != 0)
		return -1;
	if (lic_key_public_der_b64(device, &pub, NULL, err, errlen) != 0)
		return -1;
	o = payload_new(LIC_TYPE_TRUST_REQUEST);
	if (o == NULL || lic_wire_put(o, "token", json_string(r->token)) != 0 ||
	    lic_wire_put(o, "udi", lic_wire_udi_json(&r->udi)) != 0 ||
	    lic_wire_put(o, "public_key", json_string(pub)) != 0 ||
	    lic_wire_put(o, "force", json_boolean(r->force)) != 0 ||
	    lic_wire_put(o, "created", json_integer(r->created_s)) != 0) {
		err_set(err, errlen, "trust request: out of memory");
		goto out;
	}
	rc = seal_json(device, o, envelope, len, err, errlen);
out:
	json_decref(o);
	free(pub);
	return rc;
}

void lic_trust_request_free(struct lic_trust_request **r)
{
	if (r == NULL || *r == NULL)
		return;
	lic_pubkey_free(&(*r)->key);
	json_decref((*r)->root);
	free(*r);
	*r = NULL;
}

const struct lic_trust_request_info *
lic_trust_request_get(const struct lic_trust_request *r)
{
	return r != NULL ? &r->info : NULL;
}

const struct lic_pubkey *
lic_trust_request_key(const struct lic_trust_request *r)
{
	return r != NULL ? r->key : NULL;
}

enum lic_msg_status lic_trust_request_parse(const char *envelope, size_t len,
					    struct lic_trust_request **out,
					    char *err, size_t errlen)
{
	struct lic_trust_request *r = NULL;
	struct decoded d;
	json_t *unverified = NULL, *v;
	const char *pub;
	enum lic_msg_status st;

	if (out == NULL) {
		err_set(err, errlen, "trust request: missing argument");
		return LIC_MSG_INTERNAL;
	}
	*out = NULL;
	st = decode(envelope, len, &d, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		err_set(err, errlen, "out of memory");
		st = LIC_MSG_INTERNAL;
		goto out;
	}
	/* The key to verify with comes from the (not yet verified) payload:
	 * proof of possession. Nothing else is read before the check. */
	st = payload_root(&d, LIC_TYPE_TRUST_REQUEST, &unverified, err,
			  errlen);
	if (st != LIC_MSG_OK)
		goto out;
	pub = lic_wire_get_str(unverified, NULL, "public_key", err, errlen);
	if (pub == NULL ||
	    lic_pubkey_from_der_b64(pub, strlen(pub), &r->key, err, errlen) !=
		    0) {
		st = LIC_MSG_MALFORMED;
		goto out;
	}
	st = verify_decoded(r->key, &d, err, errlen);
	if (st != LIC_MSG_OK)
		goto out;
	/* Verified: the payload bytes are the device's. */
	r->root = unverified;
	unverified = NULL;
	st = LIC_MSG_MALFORMED;
	r->info.token = lic_wire_get_str(r->root, NULL, "token", err, errlen);
	if (r->info.token == NULL ||
	    get_udi(r->root, &r->info.udi, err, errlen) != 0 ||
	    get_int(r->root, "created", &r->info.created_s, err, errlen) != 0)
		goto out;
	v = json_object_get(r->root, "force");
	if (!json_is_boolean(v)) {
		err_set(err, errlen, "\"force\" missing or not a boolean");
		goto out;
	}
	r->info.force = json_is_true(v);
	r->info.public_key = json_string_value(
		json_object_get(r->root, "public_key"));
	lic_pubkey_id(r->key, r->key_id);
	r->info.key_id = r->key_id;
	if (trust_request_check(&r->info, err, errlen) != 0)
		goto out;
	*out = r;
	r = NULL;
	st = LIC_MSG_OK;
out:
	json_decref(unverified);
	lic_trust_request_free(&r);
	decoded_clear(&d);
	return st;
}

/* ---- trust answer ------------------------------------------------------ */

static int trust_code_check(const struct lic_trust_code_info *c, char *err,
			    size_t errlen)
{
	if (lic_wire_udi_check(&c->udi, err, errlen) != 0)
		return -1;
	if (!lic_wire_hex_ok(c->device_key_id, LIC_KEY_ID_LEN)) {
		err_set(err, errlen, "device_key_id is not %d hex digits",
			LIC_KEY_ID_LEN);
		return -1;
	}
	if (!lic_wire_text_ok(c->trust_code, LIC_TRUST_CODE_MAX)) {
		err_set(err, errlen, "trust_code not 1..%d printable ASCII",
			LIC_TRUST_CODE_MAX);
		return -1;
	}
	if (!lic_wire_text_ok(c->smart_account, LIC_ACCOUNT_MAX) ||
	    !lic_wire_text_ok(c->virtual_account, LIC_ACCOUNT_MAX)) {
		err_set(err, errlen,
			"smart_account and virtual_account must be 1..%d "
			"printable ASCII",
			LIC_ACCOUNT_MAX);
		return -1;
	}
	if (c->issued_s < 0) {
		err_set(err, errlen, "issued is negative");
		return -1;
	}
	return 0;
}

int lic_trust_answer_build(const struct lic_key *server,
			   const struct lic_trust_code_info *c, char **body,
			   size_t *len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = NULL, *policy = NULL, *ans = NULL, *env = NULL;
	char *envtext = NULL, *pem = NULL, *text;
	size_t envlen = 0;
	int rc = -1;

	if (body != NULL)
		*body = NULL;
	if (server == NULL || c == NULL || body == NULL) {
		err_set(err, errlen, "trust answer: missing argument");
		return -1;
	}
	if (trust_code_check(c, err, errlen) != 0)
		return -1;
	if (c->policy_json != NULL &&
	    policy_check(c->policy_json, &policy, err, errlen) != 0)
		return -1;
	o = payload_new(LIC_TYPE_TRUST_CODE);
	if (o == NULL || lic_wire_put(o, "udi", lic_wire_udi_json(&c->udi)) != 0 ||
	    lic_wire_put(o, "device_key_id", json_string(c->device_key_id)) != 0 ||
	    lic_wire_put(o, "trust_code", json_string(c->trust_code)) != 0 ||
	    lic_wire_put(o, "issued", json_integer(c->issued_s)) != 0 ||
	    lic_wire_put(o, "smart_account", json_string(c->smart_account)) != 0 ||
	    lic_wire_put(o, "virtual_account", json_string(c->virtual_account)) != 0 ||
	    lic_wire_put(o, "policy", policy != NULL ? json_incref(policy)
					    : json_null()) != 0)
		goto out_nomem;
	if (seal_json(server, o, &envtext, &envlen, err, errlen) != 0)
		goto out;
	if (lic_key_public_pem(server, &pem, NULL, err, errlen) != 0)
		goto out;
	env = json_loadb(envtext, envlen, 0, &je);
	ans = json_object();
	if (env == NULL || ans == NULL ||
	    lic_wire_put(ans, "server_public_key", json_string(pem)) != 0 ||
	    json_object_set(ans, "envelope", env) != 0)
		goto out_nomem;
	text = json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		goto out_nomem;
	*body = text;
	if (len != NULL)
		*len = strlen(text);
	rc = 0;
	goto out;
out_nomem:
	err_set(err, errlen, "trust answer: out of memory");
out:
	json_decref(ans);
	json_decref(env);
	json_decref(o);
	json_decref(policy);
	free(envtext);
	free(pem);
	return rc;
}

void lic_trust_answer_free(struct lic_trust_answer **a)
{
	if (a == NULL || *a == NULL)
		return;
	lic_pubkey_free(&(*a)->server);
	free((*a)->server_pem);
	free((*a)->policy);
	json_decref((*a)->root);
	free(*a);
	*a = NULL;
}

const struct lic_trust_code_info *
lic_trust_answer_get(const struct lic_trust_answer *a)
{
	return a != NULL ? &a->info : NULL;
}

const char *lic_trust_answer_server_pem(const struct lic_trust_answer *a)
{
	return a != NULL ? a->server_pem : NULL;
}

const struct lic_pubkey *
lic_trust_answer_server_key(const struct lic_trust_answer *a)
{
	return a != NULL ? a->server : NULL;
}

/*
 * The "policy" member of a verified payload: absent or null gives NULL,
 * an object its compact sorted text (validated), anything else an error.
 */
static int get_policy(json_t *root, char **out, char *err, size_t errlen)
{
	json_t *pol = json_object_get(root, "policy");
	char *text;

	*out = NULL;
	if (pol == NULL || json_is_null(pol))
		return 0;
	if (!json_is_object(pol)) {
		err_set(err, errlen, "\"policy\" is not an object");
		return -1;
	}
	text = json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	if (policy_check(text, NULL, err, errlen) != 0) {
		free(text);
		return -1;
	}
	*out = text;
	return 0;
}

int lic_trust_answer_parse(const char *body, size_t len,
			   const struct lic_udi *udi,
			   const struct lic_key *device,
			   struct lic_trust_answer **out, char *err,
			   size_t errlen)
{
	char mykid[LIC_KEY_ID_LEN + 1];
	struct lic_trust_answer *a = NULL;
	json_error_t je;
	json_t *ans = NULL, *env;
	const char *pem;
	char *envtext = NULL;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (body == NULL || udi == NULL || device == NULL || out == NULL) {
		err_set(err, errlen, "trust answer: missing argument");
		return -1;
	}
	if (len == 0 || len > LIC_ENVELOPE_MAX) {
		err_set(err, errlen, "trust answer of %zu bytes outside 1..%d",
			len, LIC_ENVELOPE_MAX);
		return -1;
	}
	ans = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(ans)) {
		err_set(err, errlen, "trust answer is not a JSON object%s%s",
			ans == NULL ? ": " : "", ans == NULL ? je.text : "");
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	pem = lic_wire_get_str(ans, NULL, "server_public_key", err, errlen);
	if (pem == NULL)
		goto out;
	if (lic_pubkey_from_pem(pem, json_string_length(json_object_get(
					     ans, "server_public_key")),
				&a->server, err, errlen) != 0 ||
	    lic_pubkey_pem(a->server, &a->server_pem, NULL, err, errlen) != 0)
		goto out;
	env = json_object_get(ans, "envelope");
	if (!json_is_object(env)) {
		err_set(err, errlen, "\"envelope\" missing or not an object");
		goto out;
	}
	/* The signed bytes are the decoded payload: re-serializing the
	 * envelope object does not touch them. */
	envtext = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (envtext == NULL) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	if (open_verified(a->server, envtext, strlen(envtext),
			  LIC_TYPE_TRUST_CODE, &a->root, err,
			  errlen) != LIC_MSG_OK)
		goto out;
	a->info.device_key_id = lic_wire_get_str(a->root, NULL, "device_key_id", err, errlen);
	a->info.trust_code = a->info.device_key_id
				     ? lic_wire_get_str(a->root, NULL, "trust_code", err,
					       errlen)
				     : NULL;
	a->info.smart_account = a->info.trust_code
					? lic_wire_get_str(a->root, NULL, "smart_account",
						  err, errlen)
					: NULL;
	a->info.virtual_account =
		a->info.smart_account
			? lic_wire_get_str(a->root, NULL, "virtual_account", err, errlen)
			: NULL;
	if (a->info.virtual_account == NULL ||
	    get_udi(a->root, &a->info.udi, err, errlen) != 0 ||
	    get_int(a->root, "issued", &a->info.issued_s, err, errlen) != 0 ||
	    get_policy(a->root, &a->policy, err, errlen) != 0 ||
	    trust_code_check(&a->info, err, errlen) != 0)
		goto out;
	a->info.policy_json = a->policy;
	if (!udi_equal(&a->info.udi, udi)) {
		err_set(err, errlen,
			"trust code is for PID:%.64s,SN:%.64s, not for this "
			"device",
			a->info.udi.pid, a->info.udi.sn);
		goto out;
	}
	lic_key_id(device, mykid);
	if (strcmp(a->info.device_key_id, mykid) != 0) {
		err_set(err, errlen,
			"trust code is for device key %.16s..., not this "
			"device's key %.16s...",
			a->info.device_key_id, mykid);
		goto out;
	}
	*out = a;
	a = NULL;
	rc = 0;
out:
	free(envtext);
	lic_trust_answer_free(&a);
	json_decref(ans);
	return rc;
}

/* ---- ACK poll ---------------------------------------------------------- */

int lic_ack_poll_build(const struct lic_key *device,
		       const struct lic_ack_poll_info *p, char **envelope,
		       size_t *len, char *err, size_t errlen)
{
	json_t *o = NULL, *ids = NULL;
	size_t i;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (device == NULL || p == NULL || envelope == NULL) {
		err_set(err, errlen, "ack poll: missing argument");
		return -1;
	}
	if (lic_wire_udi_check(&p->udi, err, errlen) != 0 ||
	    ids_check(p->report_ids, p->nids, err, errlen) != 0)
		return -1;
	if (p->created_s < 0) {
		err_set(err, errlen, "created is negative");
		return -1;
	}
	o = payload_new(LIC_TYPE_ACK_POLL);
	ids = json_array();
	if (o == NULL || ids == NULL)
		goto out_nomem;
	for (i = 0; i < p->nids; i++)
		if (json_array_append_new(ids, json_string(p->report_ids[i])) !=
		    0)
			goto out_nomem;
	if (lic_wire_put(o, "udi", lic_wire_udi_json(&p->udi)) != 0 ||
	    json_object_set(o, "report_ids", ids) != 0 ||
	    lic_wire_put(o, "created", json_integer(p->created_s)) != 0)
		goto out_nomem;
	rc = seal_json(device, o, envelope, len, err, errlen);
	goto out;
out_nomem:
	err_set(err, errlen, "ack poll: out of memory");
out:
	json_decref(ids);
	json_decref(o);
	return rc;
}

void lic_ack_poll_free(struct lic_ack_poll **p)
{
	if (p == NULL || *p == NULL)
		return;
	free((*p)->ids);
	json_decref((*p)->root);
	free(*p);
	*p = NULL;
}

const struct lic_ack_poll_info *lic_ack_poll_get(const struct lic_ack_poll *p)
{
	return p != NULL ? &p->info : NULL;
}

enum lic_msg_status lic_ack_poll_parse(const struct lic_pubkey *device,
				       const char *envelope, size_t len,
				       const struct lic_udi *expect,
				       struct lic_ack_poll **out, char *err,
				       size_t errlen)
{
	struct lic_ack_poll *p = NULL;
	json_t *ids;
	size_t i, n;
	enum lic_msg_status st;

	if (out == NULL || device == NULL) {
		err_set(err, errlen, "ack poll: missing argument");
		return LIC_MSG_INTERNAL;
	}
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		err_set(err, errlen, "out of memory");
		return LIC_MSG_INTERNAL;
	}
	st = open_verified(device, envelope, len, LIC_TYPE_ACK_POLL, &p->root,
			   err, errlen);
	if (st != LIC_MSG_OK)
		goto out;
	st = LIC_MSG_MALFORMED;
	if (get_udi(p->root, &p->info.udi, err, errlen) != 0 ||
	    get_int(p->root, "created", &p->info.created_s, err, errlen) != 0)
		goto out;
	ids = json_object_get(p->root, "report_ids");
	if (!json_is_array(ids)) {
		err_set(err, errlen, "\"report_ids\" missing or not an array");
		goto out;
	}
	n = json_array_size(ids);
	if (n == 0 || n > LIC_ACK_MAX_IDS) {
		err_set(err, errlen, "%zu report ids, expected 1..%d", n,
			LIC_ACK_MAX_IDS);
		goto out;
	}
	p->ids = calloc(n, sizeof(*p->ids));
	if (p->ids == NULL) {
		err_set(err, errlen, "out of memory");
		st = LIC_MSG_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		p->ids[i] = json_string_value(json_array_get(ids, i));
		if (p->ids[i] == NULL) {
			err_set(err, errlen, "report_ids[%zu] not a string", i);
			goto out;
		}
	}
	p->info.report_ids = p->ids;
	p->info.nids = n;
	if (ids_check(p->info.report_ids, n, err, errlen) != 0)
		goto out;
	if (expect != NULL && !udi_equal(&p->info.udi, expect)) {
		err_set(err, errlen,
			"ack poll is for PID:%.64s,SN:%.64s, not for the "
			"expected device",
			p->info.udi.pid, p->info.udi.sn);
		goto out;
	}
	*out = p;
	p = NULL;
	st = LIC_MSG_OK;
out:
	lic_ack_poll_free(&p);
	return st;
}

/* ---- policy file ------------------------------------------------------- */

int lic_policy_file_build(const struct lic_key *server,
			  const struct lic_udi *udi, int64_t issued_s,
			  const char *policy_json, char **envelope,
			  size_t *len, char *err, size_t errlen)
{
	json_t *o = NULL, *policy = NULL;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (server == NULL || policy_json == NULL || envelope == NULL) {
		err_set(err, errlen, "policy file: missing argument");
		return -1;
	}
	if (udi != NULL && lic_wire_udi_check(udi, err, errlen) != 0)
		return -1;
	if (issued_s < 0) {
		err_set(err, errlen, "issued is negative");
		return -1;
	}
	if (policy_check(policy_json, &policy, err, errlen) != 0)
		return -1;
	o = payload_new(LIC_TYPE_POLICY);
	if (o == NULL || (udi != NULL && lic_wire_put(o, "udi", lic_wire_udi_json(udi)) != 0) ||
	    lic_wire_put(o, "issued", json_integer(issued_s)) != 0 ||
	    json_object_set(o, "policy", policy) != 0) {
		err_set(err, errlen, "policy file: out of memory");
		goto out;
	}
	rc = seal_json(server, o, envelope, len, err, errlen);
out:
	json_decref(policy);
	json_decref(o);
	return rc;
}

int lic_policy_file_parse(const struct lic_pubkey *server,
			  const char *envelope, size_t len,
			  const struct lic_udi *expect, char **policy_json,
			  int64_t *issued_s, char *err, size_t errlen)
{
	json_t *root = NULL, *u;
	struct lic_udi udi;
	char *policy = NULL;
	int64_t issued = 0;
	int rc = -1;

	if (policy_json != NULL)
		*policy_json = NULL;
	if (server == NULL || policy_json == NULL) {
		err_set(err, errlen, "policy file: missing argument");
		return -1;
	}
	if (open_verified(server, envelope, len, LIC_TYPE_POLICY, &root, err,
			  errlen) != LIC_MSG_OK)
		return -1;
	if (get_int(root, "issued", &issued, err, errlen) != 0)
		goto out;
	u = json_object_get(root, "udi");
	if (u != NULL && !json_is_null(u)) {
		if (get_udi(root, &udi, err, errlen) != 0)
			goto out;
		if (expect != NULL && !udi_equal(&udi, expect)) {
			err_set(err, errlen,
				"policy file is for PID:%.64s,SN:%.64s, not "
				"for this device",
				udi.pid, udi.sn);
			goto out;
		}
	}
	if (get_policy(root, &policy, err, errlen) != 0)
		goto out;
	if (policy == NULL) {
		err_set(err, errlen, "policy file without a policy object");
		goto out;
	}
	*policy_json = policy;
	if (issued_s != NULL)
		*issued_s = issued;
	rc = 0;
out:
	json_decref(root);
	return rc;
}
