/*
 * lic trust: trust request and answer, ACK poll, policy file (see
 * trust.h and docs/licensing-protocol.md sections 3.3 to 3.5). JSON
 * through jansson only; envelopes through envelope.c.
 */
#include "licensing/trust.h"
#include "licensing/envelope.h"
#include "licensing/wire.h"

#include "common/err.h"
#include "licensing/policy.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	const char *ids[LIC_ACK_MAX_IDS];
	json_t *root;
};

/* ---- field rules ------------------------------------------------------- */

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

/* ---- trust request ----------------------------------------------------- */

static int trust_request_check(const struct lic_trust_request_info *r,
			       char *err, size_t errlen)
{
	if (lic_wire_text_check(r->token, LIC_TOKEN_MAX, "token", err,
				errlen) != 0)
		return -1;
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
	o = lic_wire_payload_new(LIC_TYPE_TRUST_REQUEST);
	if (o == NULL || lic_wire_put(o, "token", json_string(r->token)) != 0 ||
	    lic_wire_put(o, "udi", lic_wire_udi_json(&r->udi)) != 0 ||
	    lic_wire_put(o, "public_key", json_string(pub)) != 0 ||
	    lic_wire_put(o, "force", json_boolean(r->force)) != 0 ||
	    lic_wire_put(o, "created", json_integer(r->created_s)) != 0) {
		err_set(err, errlen, "trust request: out of memory");
		goto out;
	}
	rc = lic_envelope_seal_json(device, o, envelope, len, err, errlen);
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
	json_t *v;
	enum lic_msg_status st;

	if (out == NULL) {
		err_set(err, errlen, "trust request: missing argument");
		return LIC_MSG_INTERNAL;
	}
	*out = NULL;
	r = err_calloc(1, sizeof(*r), err, errlen);
	if (r == NULL)
		return LIC_MSG_INTERNAL;
	/* Signed by the key it carries: proof of possession. */
	st = lic_envelope_open_self(envelope, len, LIC_TYPE_TRUST_REQUEST,
				    "public_key", &r->key, &r->root, err,
				    errlen);
	if (st != LIC_MSG_OK)
		goto out;
	st = LIC_MSG_MALFORMED;
	r->info.token = lic_wire_get_str(r->root, NULL, "token", err, errlen);
	if (r->info.token == NULL ||
	    lic_wire_get_udi(r->root, NULL, &r->info.udi, err, errlen) != 0 ||
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
	lic_trust_request_free(&r);
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
	o = lic_wire_payload_new(LIC_TYPE_TRUST_CODE);
	if (o == NULL || lic_wire_put(o, "udi", lic_wire_udi_json(&c->udi)) != 0 ||
	    lic_wire_put(o, "device_key_id", json_string(c->device_key_id)) != 0 ||
	    lic_wire_put(o, "trust_code", json_string(c->trust_code)) != 0 ||
	    lic_wire_put(o, "issued", json_integer(c->issued_s)) != 0 ||
	    lic_wire_put(o, "smart_account", json_string(c->smart_account)) != 0 ||
	    lic_wire_put(o, "virtual_account", json_string(c->virtual_account)) != 0 ||
	    lic_wire_put(o, "policy", policy != NULL ? json_incref(policy)
					    : json_null()) != 0)
		goto out_nomem;
	if (lic_envelope_seal_json(server, o, &envtext, &envlen, err, errlen) != 0)
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
	ans = lic_wire_load_object(body, len, LIC_ENVELOPE_MAX, "trust answer",
				   err, errlen);
	if (ans == NULL)
		return -1;
	a = err_calloc(1, sizeof(*a), err, errlen);
	if (a == NULL)
		goto out;
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
	if (lic_envelope_open_json(a->server, envtext, strlen(envtext),
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
	    lic_wire_get_udi(a->root, NULL, &a->info.udi, err, errlen) != 0 ||
	    get_int(a->root, "issued", &a->info.issued_s, err, errlen) != 0 ||
	    get_policy(a->root, &a->policy, err, errlen) != 0 ||
	    trust_code_check(&a->info, err, errlen) != 0)
		goto out;
	a->info.policy_json = a->policy;
	if (!lic_wire_udi_equal(&a->info.udi, udi)) {
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
	json_t *o = NULL;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (device == NULL || p == NULL || envelope == NULL) {
		err_set(err, errlen, "ack poll: missing argument");
		return -1;
	}
	if (lic_wire_udi_check(&p->udi, err, errlen) != 0 ||
	    lic_wire_ids_check(p->report_ids, p->nids, err, errlen) != 0)
		return -1;
	if (p->created_s < 0) {
		err_set(err, errlen, "created is negative");
		return -1;
	}
	o = lic_wire_payload_new(LIC_TYPE_ACK_POLL);
	if (o == NULL || lic_wire_put(o, "udi", lic_wire_udi_json(&p->udi)) != 0 ||
	    lic_wire_put(o, "report_ids",
			 lic_wire_ids_json(p->report_ids, p->nids)) != 0 ||
	    lic_wire_put(o, "created", json_integer(p->created_s)) != 0)
		err_set(err, errlen, "ack poll: out of memory");
	else
		rc = lic_envelope_seal_json(device, o, envelope, len, err,
					    errlen);
	json_decref(o);
	return rc;
}

void lic_ack_poll_free(struct lic_ack_poll **p)
{
	if (p == NULL || *p == NULL)
		return;
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
	enum lic_msg_status st;

	if (out == NULL || device == NULL) {
		err_set(err, errlen, "ack poll: missing argument");
		return LIC_MSG_INTERNAL;
	}
	*out = NULL;
	p = err_calloc(1, sizeof(*p), err, errlen);
	if (p == NULL)
		return LIC_MSG_INTERNAL;
	st = lic_envelope_open_json(device, envelope, len, LIC_TYPE_ACK_POLL,
				    &p->root, err, errlen);
	if (st != LIC_MSG_OK)
		goto out;
	st = LIC_MSG_MALFORMED;
	p->info.report_ids = p->ids;
	if (lic_wire_get_udi(p->root, NULL, &p->info.udi, err, errlen) != 0 ||
	    get_int(p->root, "created", &p->info.created_s, err, errlen) != 0 ||
	    lic_wire_get_ids(p->root, NULL, p->ids, &p->info.nids, err,
			     errlen) != 0 ||
	    lic_wire_ids_check(p->info.report_ids, p->info.nids, err,
			       errlen) != 0)
		goto out;
	if (expect != NULL && !lic_wire_udi_equal(&p->info.udi, expect)) {
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
	o = lic_wire_payload_new(LIC_TYPE_POLICY);
	if (o == NULL || (udi != NULL && lic_wire_put(o, "udi", lic_wire_udi_json(udi)) != 0) ||
	    lic_wire_put(o, "issued", json_integer(issued_s)) != 0 ||
	    json_object_set(o, "policy", policy) != 0) {
		err_set(err, errlen, "policy file: out of memory");
		goto out;
	}
	rc = lic_envelope_seal_json(server, o, envelope, len, err, errlen);
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
	if (lic_envelope_open_json(server, envelope, len, LIC_TYPE_POLICY,
				   &root, err, errlen) != LIC_MSG_OK)
		return -1;
	if (get_int(root, "issued", &issued, err, errlen) != 0)
		goto out;
	u = json_object_get(root, "udi");
	if (u != NULL && !json_is_null(u)) {
		if (lic_wire_get_udi(root, NULL, &udi, err, errlen) != 0)
			goto out;
		if (expect != NULL && !lic_wire_udi_equal(&udi, expect)) {
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
