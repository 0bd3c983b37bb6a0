/*
 * lic envelope: seal and open signed envelopes (see envelope.h and
 * docs/licensing-protocol.md section 2). JSON through jansson only.
 */
#include "licensing/envelope.h"
#include "licensing/wire.h"

#include "common/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define ENV_VERSION 1
#define ENV_ALG "ES256"

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

/* ---- sealing ----------------------------------------------------------- */

int lic_envelope_seal(const struct lic_key *k, const char *payload,
		      size_t len, char **envelope, size_t *envlen, char *err,
		      size_t errlen)
{
	char kid[LIC_KEY_ID_LEN + 1];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *p64 = NULL, *s64 = NULL;
	json_t *env = NULL;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (k == NULL || payload == NULL || envelope == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return -1;
	}
	if (len == 0 || len > LIC_PAYLOAD_MAX) {
		err_set(err, errlen, "payload of %zu bytes outside 1..%d", len,
			LIC_PAYLOAD_MAX);
		return -1;
	}
	if (lic_sign(k, (const unsigned char *)payload, len, &sig, &siglen,
		     err, errlen) != 0)
		return -1;
	lic_key_id(k, kid);
	p64 = lic_b64_encode((const unsigned char *)payload, len, NULL);
	s64 = lic_b64_encode(sig, siglen, NULL);
	env = json_object();
	if (p64 == NULL || s64 == NULL || env == NULL ||
	    lic_wire_put(env, "v", json_integer(ENV_VERSION)) != 0 ||
	    lic_wire_put(env, "alg", json_string(ENV_ALG)) != 0 ||
	    lic_wire_put(env, "key_id", json_string(kid)) != 0 ||
	    lic_wire_put(env, "payload", json_string(p64)) != 0 ||
	    lic_wire_put(env, "signature", json_string(s64)) != 0) {
		err_set(err, errlen, "envelope: out of memory");
		goto out_free;
	}
	rc = lic_wire_dump(env, JSON_PRESERVE_ORDER, LIC_ENVELOPE_MAX,
			   envelope, envlen, err, errlen);
out_free:
	json_decref(env);
	free(p64);
	free(s64);
	free(sig);
	return rc;
}

int lic_envelope_seal_json(const struct lic_key *k, json_t *o,
			   char **envelope, size_t *len, char *err,
			   size_t errlen)
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

/* ---- reading, step by step --------------------------------------------- */

/* An envelope on its way through the checks. */
struct env {
	json_t *root;		/* the envelope object */
	const char *key_id;	/* owned by root */
	unsigned char *payload; /* decoded, NUL-terminated copy, plen bytes */
	size_t plen;
	unsigned char *sig;
	size_t siglen;
};

static void env_clear(struct env *e)
{
	json_decref(e->root);
	free(e->payload);
	free(e->sig);
	memset(e, 0, sizeof(*e));
}

/* Member "v" of `o` (the envelope or its payload, `what`) is `want`. */
static bool version_ok(json_t *o, const char *what, int want, char *err,
		       size_t errlen)
{
	json_t *v = json_object_get(o, "v");

	if (json_is_integer(v) && json_integer_value(v) == want)
		return true;
	err_set(err, errlen, "%s: \"v\" missing or not %d", what, want);
	return false;
}

/*
 * Size, JSON, object, v and alg, key_id (64 lowercase hex), payload and
 * signature strings. On failure *e is clear.
 */
static enum lic_msg_status env_form(const char *envelope, size_t len,
				    struct env *e, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v;

	memset(e, 0, sizeof(*e));
	if (envelope == NULL || len == 0 || len > LIC_ENVELOPE_MAX) {
		err_set(err, errlen, "envelope of %zu bytes outside 1..%d", len,
			LIC_ENVELOPE_MAX);
		return LIC_MSG_MALFORMED;
	}
	e->root = json_loadb(envelope, len, JSON_REJECT_DUPLICATES, &je);
	if (e->root == NULL) {
		err_set(err, errlen, "envelope is not valid JSON: %s (line %d)",
			je.text, je.line);
		return LIC_MSG_MALFORMED;
	}
	if (!json_is_object(e->root)) {
		err_set(err, errlen, "envelope is not a JSON object");
		goto out_fail;
	}
	if (!version_ok(e->root, "envelope", ENV_VERSION, err, errlen))
		goto out_fail;
	v = json_object_get(e->root, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), ENV_ALG) != 0) {
		err_set(err, errlen, "envelope: \"alg\" missing or not \"%s\"",
			ENV_ALG);
		goto out_fail;
	}
	e->key_id = lic_wire_get_str(e->root, "envelope", "key_id", err,
				     errlen);
	if (e->key_id == NULL ||
	    lic_wire_get_str(e->root, "envelope", "payload", err, errlen) ==
		    NULL ||
	    lic_wire_get_str(e->root, "envelope", "signature", err, errlen) ==
		    NULL)
		goto out_fail;
	if (!lic_wire_hex_ok(e->key_id, LIC_KEY_ID_LEN)) {
		err_set(err, errlen, "envelope: key_id is not %d hex digits",
			LIC_KEY_ID_LEN);
		goto out_fail;
	}
	return LIC_MSG_OK;
out_fail:
	env_clear(e);
	return LIC_MSG_MALFORMED;
}

/* key_id names `pk`. */
static enum lic_msg_status env_key(const struct lic_pubkey *pk,
				   const struct env *e, char *err,
				   size_t errlen)
{
	char want[LIC_KEY_ID_LEN + 1];

	lic_pubkey_id(pk, want);
	if (strcmp(e->key_id, want) != 0) {
		err_set(err, errlen,
			"signed by key %.16s..., not by the expected key "
			"%.16s...",
			e->key_id, want);
		return LIC_MSG_BAD_SIGNATURE;
	}
	return LIC_MSG_OK;
}

/* Both base64 members decoded, the payload 1..LIC_PAYLOAD_MAX bytes. */
static enum lic_msg_status env_decode(struct env *e, char *err,
				      size_t errlen)
{
	json_t *p = json_object_get(e->root, "payload");
	json_t *s = json_object_get(e->root, "signature");
	unsigned char *bytes = NULL;
	size_t n = 0;

	if (lic_b64_decode(json_string_value(p), json_string_length(p), &bytes,
			   &n, err, errlen) != 0 ||
	    lic_b64_decode(json_string_value(s), json_string_length(s), &e->sig,
			   &e->siglen, err, errlen) != 0) {
		free(bytes);
		return LIC_MSG_MALFORMED;
	}
	if (n == 0 || n > LIC_PAYLOAD_MAX) {
		free(bytes);
		err_set(err, errlen, "payload of %zu bytes outside 1..%d", n,
			LIC_PAYLOAD_MAX);
		return LIC_MSG_MALFORMED;
	}
	/* NUL-terminated: handed out as text by lic_envelope_open. */
	e->payload = malloc(n + 1);
	if (e->payload == NULL) {
		free(bytes);
		err_set(err, errlen, "out of memory");
		return LIC_MSG_INTERNAL;
	}
	memcpy(e->payload, bytes, n);
	e->payload[n] = '\0';
	e->plen = n;
	free(bytes);
	return LIC_MSG_OK;
}

/* The signature of decoded `e` verifies with `pk`. */
static enum lic_msg_status env_signature(const struct lic_pubkey *pk,
					 const struct env *e, char *err,
					 size_t errlen)
{
	int vr = lic_verify(pk, e->payload, e->plen, e->sig, e->siglen);

	if (vr == 1)
		return LIC_MSG_OK;
	if (vr == 0) {
		err_set(err, errlen, "bad signature");
		return LIC_MSG_BAD_SIGNATURE;
	}
	err_set(err, errlen, "signature check failed");
	return LIC_MSG_INTERNAL;
}

/*
 * The payload of decoded `e` as an object of type `type` and v 1
 * (verified only if the caller verified `e`). *root: the caller's.
 */
static enum lic_msg_status env_payload(const struct env *e, const char *type,
				       json_t **root, char *err,
				       size_t errlen)
{
	json_error_t je;
	json_t *pl;
	const char *ptype;

	*root = NULL;
	pl = json_loadb((const char *)e->payload, e->plen,
			JSON_REJECT_DUPLICATES, &je);
	if (pl == NULL) {
		err_set(err, errlen, "payload is not valid JSON: %s", je.text);
		return LIC_MSG_MALFORMED;
	}
	if (!json_is_object(pl)) {
		err_set(err, errlen, "payload is not a JSON object");
		goto out_fail;
	}
	ptype = lic_wire_get_str(pl, "payload", "type", err, errlen);
	if (ptype == NULL)
		goto out_fail;
	if (strcmp(ptype, type) != 0) {
		err_set(err, errlen, "payload type \"%.40s\", expected \"%s\"",
			ptype, type);
		goto out_fail;
	}
	if (!version_ok(pl, "payload", LIC_PAYLOAD_VERSION, err, errlen))
		goto out_fail;
	*root = pl;
	return LIC_MSG_OK;
out_fail:
	json_decref(pl);
	return LIC_MSG_MALFORMED;
}

/* Everything up to the payload, in the protocol's order, with `pk`. */
static enum lic_msg_status env_check(const struct lic_pubkey *pk,
				     const char *envelope, size_t len,
				     struct env *e, char *err, size_t errlen)
{
	enum lic_msg_status st = env_form(envelope, len, e, err, errlen);

	if (st == LIC_MSG_OK)
		st = env_key(pk, e, err, errlen);
	if (st == LIC_MSG_OK)
		st = env_decode(e, err, errlen);
	if (st == LIC_MSG_OK)
		st = env_signature(pk, e, err, errlen);
	if (st != LIC_MSG_OK)
		env_clear(e);
	return st;
}

/* The form and the decoded members, no key: what is read before one. */
static enum lic_msg_status env_unverified(const char *envelope, size_t len,
					  const char *type, struct env *e,
					  json_t **root, char *err,
					  size_t errlen)
{
	enum lic_msg_status st = env_form(envelope, len, e, err, errlen);

	if (st == LIC_MSG_OK)
		st = env_decode(e, err, errlen);
	if (st == LIC_MSG_OK)
		st = env_payload(e, type, root, err, errlen);
	if (st != LIC_MSG_OK)
		env_clear(e);
	return st;
}

/* ---- the public readers ------------------------------------------------- */

/* lic_envelope_open_json, keeping the decoded envelope in *e. */
static enum lic_msg_status env_open(const struct lic_pubkey *pk,
				    const char *envelope, size_t len,
				    const char *type, struct env *e,
				    json_t **root, char *err, size_t errlen)
{
	enum lic_msg_status st;

	*root = NULL;
	memset(e, 0, sizeof(*e));
	if (pk == NULL || type == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return LIC_MSG_INTERNAL;
	}
	st = env_check(pk, envelope, len, e, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	/* Only verified bytes are parsed. */
	st = env_payload(e, type, root, err, errlen);
	if (st != LIC_MSG_OK)
		env_clear(e);
	return st;
}

enum lic_msg_status lic_envelope_open_json(const struct lic_pubkey *pk,
					   const char *envelope, size_t len,
					   const char *type, json_t **root,
					   char *err, size_t errlen)
{
	struct env e;
	enum lic_msg_status st;

	if (root == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return LIC_MSG_INTERNAL;
	}
	st = env_open(pk, envelope, len, type, &e, root, err, errlen);
	env_clear(&e);
	return st;
}

int lic_envelope_open(const struct lic_pubkey *pk, const char *envelope,
		      size_t len, const char *type, char **payload,
		      size_t *plen, char *err, size_t errlen)
{
	struct env e;
	json_t *root = NULL;

	if (payload == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return -1;
	}
	*payload = NULL;
	if (env_open(pk, envelope, len, type, &e, &root, err, errlen) !=
	    LIC_MSG_OK)
		return -1;
	json_decref(root);
	*payload = (char *)e.payload;
	if (plen != NULL)
		*plen = e.plen;
	e.payload = NULL;
	env_clear(&e);
	return 0;
}

enum lic_msg_status lic_envelope_open_self(const char *envelope, size_t len,
					   const char *type,
					   const char *key_member,
					   struct lic_pubkey **key,
					   json_t **root, char *err,
					   size_t errlen)
{
	struct env e;
	json_t *unverified = NULL;
	const char *pub;
	enum lic_msg_status st;

	if (key == NULL || root == NULL || type == NULL || key_member == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return LIC_MSG_INTERNAL;
	}
	*key = NULL;
	*root = NULL;
	st = env_unverified(envelope, len, type, &e, &unverified, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	/* The key to verify with comes from the (not yet verified) payload:
	 * proof of possession. Nothing else is read before the check. */
	pub = lic_wire_get_str(unverified, NULL, key_member, err, errlen);
	if (pub == NULL ||
	    lic_pubkey_from_der_b64(pub, strlen(pub), key, err, errlen) != 0)
		st = LIC_MSG_MALFORMED;
	if (st == LIC_MSG_OK)
		st = env_key(*key, &e, err, errlen);
	if (st == LIC_MSG_OK)
		st = env_signature(*key, &e, err, errlen);
	env_clear(&e);
	if (st != LIC_MSG_OK) {
		lic_pubkey_free(key);
		json_decref(unverified);
		return st;
	}
	*root = unverified;
	return LIC_MSG_OK;
}

enum lic_msg_status lic_envelope_peek(const char *envelope, size_t len,
				      const char *type,
				      struct lic_envelope_peek *out, char *err,
				      size_t errlen)
{
	struct env e;
	struct lic_udi u;
	json_t *root = NULL;
	enum lic_msg_status st;

	if (out == NULL || type == NULL) {
		err_set(err, errlen, "peek: missing argument");
		return LIC_MSG_INTERNAL;
	}
	memset(out, 0, sizeof(*out));
	st = env_unverified(envelope, len, type, &e, &root, err, errlen);
	if (st != LIC_MSG_OK)
		return st;
	if (lic_wire_get_udi(root, NULL, &u, err, errlen) != 0) {
		st = LIC_MSG_MALFORMED;
		goto out;
	}
	memcpy(out->key_id, e.key_id, sizeof(out->key_id));
	snprintf(out->pid, sizeof(out->pid), "%s", u.pid);
	snprintf(out->sn, sizeof(out->sn), "%s", u.sn);
out:
	json_decref(root);
	env_clear(&e);
	return st;
}

enum lic_msg_status lic_envelope_verify(const struct lic_pubkey *pk,
					const char *envelope, size_t len,
					char *err, size_t errlen)
{
	struct env e;
	enum lic_msg_status st;

	if (pk == NULL) {
		err_set(err, errlen, "verify: no key");
		return LIC_MSG_INTERNAL;
	}
	st = env_check(pk, envelope, len, &e, err, errlen);
	env_clear(&e);
	return st;
}
