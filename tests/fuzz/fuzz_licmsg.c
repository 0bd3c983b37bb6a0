/*
 * Fuzz target: the licensing messages (licensing/report.h, trust.h,
 * policy.h, keys.h, release.h), on both sides of the protocol
 * (docs/licensing-protocol.md).
 *
 * Input: one letter naming the parser, then its input. A lower-case
 * letter hands the rest over as it is (an envelope, a trust answer body,
 * a policy document...); the upper-case letter signs the rest as the
 * payload of an envelope first, with the key the receiver expects
 * (fuzz.h), so that mutations reach the code behind the signature check.
 * Any other first byte picks a parser by its value.
 *
 *   r R  usage report, lic_report_parse (device key)
 *   a A  ACK, lic_ack_parse (server key, for our UDI), lic_ack_accept
 *   f F  policy file, lic_policy_file_parse (server key)
 *   t T  trust request, lic_trust_request_parse (the key it carries)
 *   n N  trust answer body, lic_trust_answer_parse (N: the envelope in
 *        a body with the server's PEM)
 *   q Q  ACK poll, lic_ack_poll_parse (device key)
 *   e E  any envelope: lic_envelope_verify, _peek, _open
 *   p    policy document, lic_policy_parse
 *   b    base64, lic_b64_decode
 *   k    public key text, lic_pubkey_from_pem / _from_der_b64
 *   v    release, lic_release_parse
 *
 * Checks: a refusal comes with a reason and leaves no result; what a
 * parser accepts, the matching builder accepts too, and parsing what it
 * builds gives the same values (both sides apply the same rules); the
 * base64 decoder takes only the canonical text; an envelope sealed by a
 * key verifies with it and opens to the very payload bytes.
 */
#include "licensing/envelope.h"
#include "licensing/keys.h"
#include "licensing/policy.h"
#include "licensing/release.h"
#include "licensing/report.h"
#include "licensing/trust.h"

#include "fuzz.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct lic_udi UDI = {FUZZ_PID, FUZZ_SN};
static const struct fuzz_keys *K;

#define ERRLEN 512
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* An HA group: absent on the wire and "" mean the same. */
static bool group_eq(const char *a, const char *b)
{
	return str_eq(a != NULL && a[0] != '\0' ? a : NULL,
		      b != NULL && b[0] != '\0' ? b : NULL);
}

static bool udi_eq(const struct lic_udi *a, const struct lic_udi *b)
{
	return str_eq(a->pid, b->pid) && str_eq(a->sn, b->sn);
}

/* A parser said no: no result, and a reason. */
static void refused(const void *out, const char *err, const char *what)
{
	FUZZ_CHECK(out == NULL, "%s refused, yet gave a result", what);
	FUZZ_CHECK(err[0] != '\0', "%s refused without a reason", what);
}

/* p[0..len) sealed by k; NULL when it cannot be a payload (size). */
static char *seal(const struct lic_key *k, const uint8_t *p, size_t len,
		  size_t *envlen)
{
	char err[ERRLEN] = "", *env = NULL;

	if (len == 0 || len > LIC_PAYLOAD_MAX)
		return NULL;
	FUZZ_CHECK(lic_envelope_seal(k, (const char *)p, len, &env, envlen,
				     err, sizeof(err)) == 0,
		   "sealing %zu bytes: %s", len, err);
	return env;
}

/* ---- usage report ------------------------------------------------------ */

static void report_same(const struct lic_report_info *a,
			const struct lic_report_info *b)
{
	size_t i;

	FUZZ_CHECK(str_eq(a->report_id, b->report_id) &&
			   str_eq(a->release, b->release) &&
			   str_eq(a->hostname, b->hostname) &&
			   udi_eq(&a->udi, &b->udi) &&
			   group_eq(a->ha_group, b->ha_group) &&
			   a->ha_role == b->ha_role &&
			   a->created_s == b->created_s &&
			   a->nrecords == b->nrecords,
		   "report differs after build and parse");
	for (i = 0; i < a->nrecords; i++) {
		const struct lic_usage_record *x = &a->records[i],
					      *y = &b->records[i];

		FUZZ_CHECK(str_eq(x->id, y->id) && x->tag == y->tag &&
				   x->start_s == y->start_s &&
				   x->end_s == y->end_s && x->count == y->count,
			   "record %zu differs after build and parse", i);
	}
}

static void do_report(const char *env, size_t len)
{
	struct lic_report *r = NULL, *again = NULL;
	char err[ERRLEN] = "", *env2 = NULL;
	size_t len2 = 0;

	if (lic_report_parse(K->device_pub, env, len, &r, err, sizeof(err)) !=
	    0) {
		refused(r, err, "report");
		return;
	}
	FUZZ_CHECK(lic_report_build(K->device, lic_report_get(r), &env2, &len2,
				    err, sizeof(err)) == 0,
		   "an accepted report does not build: %s", err);
	FUZZ_CHECK(lic_report_parse(K->device_pub, env2, len2, &again, err,
				    sizeof(err)) == 0,
		   "a built report does not parse: %s", err);
	report_same(lic_report_get(r), lic_report_get(again));
	free(env2);
	lic_report_free(&again);
	lic_report_free(&r);
	FUZZ_CHECK(r == NULL, "free does not NULL the pointer");
}

/* ---- ACK ----------------------------------------------------------------- */

static void do_ack(const char *env, size_t len)
{
	const struct lic_ack_info *a, *b;
	struct lic_ack *ack = NULL, *again = NULL;
	struct lic_policy pol;
	char err[ERRLEN] = "", *env2 = NULL;
	size_t len2 = 0, i;

	if (lic_ack_parse(K->server_pub, env, len, &UDI, &ack, err,
			  sizeof(err)) != 0) {
		refused(ack, err, "ACK");
		return;
	}
	a = lic_ack_get(ack);
	FUZZ_CHECK(udi_eq(&a->udi, &UDI), "ACK for another UDI accepted");
	FUZZ_CHECK(lic_ack_accept(ack, a->report_ids, a->nids, NULL, 0, err,
				  sizeof(err)) == LIC_ACK_ACCEPT,
		   "ACK refused with all its ids pending: %s", err);
	FUZZ_CHECK(lic_ack_accept(ack, NULL, 0, a->report_ids, a->nids, err,
				  sizeof(err)) == LIC_ACK_REJECT_REPLAY,
		   "ACK of acknowledged ids not a replay");
	if (a->policy_json != NULL)
		(void)lic_policy_parse(a->policy_json, strlen(a->policy_json),
				       &pol, err, sizeof(err));
	FUZZ_CHECK(lic_ack_build(K->server, a, &env2, &len2, err,
				 sizeof(err)) == 0,
		   "an accepted ACK does not build: %s", err);
	FUZZ_CHECK(lic_ack_parse(K->server_pub, env2, len2, &UDI, &again, err,
				 sizeof(err)) == 0,
		   "a built ACK does not parse: %s", err);
	b = lic_ack_get(again);
	FUZZ_CHECK(udi_eq(&a->udi, &b->udi) && a->nids == b->nids &&
			   a->ack_time_s == b->ack_time_s &&
			   str_eq(a->policy_json, b->policy_json),
		   "ACK differs after build and parse");
	for (i = 0; i < a->nids; i++)
		FUZZ_CHECK(str_eq(a->report_ids[i], b->report_ids[i]),
			   "ACK id %zu differs after build and parse", i);
	free(env2);
	lic_ack_free(&again);
	lic_ack_free(&ack);
}

/* ---- policy -------------------------------------------------------------- */

static bool policy_same(const struct lic_policy *a, const struct lic_policy *b)
{
	int g, t;

	if (strcmp(a->name, b->name) != 0 ||
	    a->installed_on != b->installed_on ||
	    a->ack_required != b->ack_required ||
	    a->ack_required_source != b->ack_required_source)
		return false;
	for (g = 0; g < LIC_GROUP_COUNT; g++)
		for (t = 0; t < LIC_ATTR_COUNT; t++)
			if (a->attr[g][t].days != b->attr[g][t].days ||
			    a->attr[g][t].source != b->attr[g][t].source)
				return false;
	return true;
}

static void do_policy(const uint8_t *data, size_t size)
{
	struct lic_policy p, again;
	char err[ERRLEN] = "", *text, *shown = NULL;
	size_t shown_len = 0;
	FILE *fp;

	if (lic_policy_parse((const char *)data, size, &p, err, sizeof(err)) !=
	    0) {
		refused(NULL, err, "policy");
		return;
	}
	FUZZ_CHECK(lic_policy_validate(&p, err, sizeof(err)) == 0,
		   "an accepted policy is not valid: %s", err);
	text = lic_policy_to_json(&p);
	FUZZ_CHECK(text != NULL, "an accepted policy has no JSON");
	FUZZ_CHECK(lic_policy_parse(text, strlen(text), &again, err,
				    sizeof(err)) == 0,
		   "a policy's JSON does not parse: %s\n%s", err, text);
	FUZZ_CHECK(policy_same(&p, &again), "policy differs read back:\n%s",
		   text);
	fp = open_memstream(&shown, &shown_len);
	FUZZ_CHECK(fp != NULL, "open_memstream");
	FUZZ_CHECK(lic_policy_render(&p, fp) == 0, "render failed");
	fclose(fp);
	free(shown);
	free(text);
}

/* ---- policy file --------------------------------------------------------- */

static void do_policy_file(const char *env, size_t len)
{
	struct lic_policy p;
	char err[ERRLEN] = "", *pj = NULL, *pj2 = NULL, *env2 = NULL;
	int64_t issued = -1, issued2 = -1;
	size_t len2 = 0;

	if (lic_policy_file_parse(K->server_pub, env, len, &UDI, &pj, &issued,
				  err, sizeof(err)) != 0) {
		refused(pj, err, "policy file");
		return;
	}
	FUZZ_CHECK(lic_policy_parse(pj, strlen(pj), &p, err, sizeof(err)) == 0,
		   "the policy of an accepted file does not parse: %s", err);
	FUZZ_CHECK(lic_policy_file_build(K->server, NULL, issued, pj, &env2,
					 &len2, err, sizeof(err)) == 0,
		   "an accepted policy file does not build: %s", err);
	FUZZ_CHECK(lic_policy_file_parse(K->server_pub, env2, len2, &UDI, &pj2,
					 &issued2, err, sizeof(err)) == 0,
		   "a built policy file does not parse: %s", err);
	FUZZ_CHECK(strcmp(pj, pj2) == 0 && issued == issued2,
		   "policy file differs after build and parse");
	free(env2);
	free(pj2);
	free(pj);
}

/* ---- trust request ------------------------------------------------------- */

static void do_trust_request(const char *env, size_t len)
{
	const struct lic_trust_request_info *a, *b;
	struct lic_trust_request *r = NULL, *again = NULL;
	char err[ERRLEN] = "", kid[LIC_KEY_ID_LEN + 1], *env2 = NULL;
	size_t len2 = 0;
	enum lic_msg_status st;

	st = lic_trust_request_parse(env, len, &r, err, sizeof(err));
	if (st != LIC_MSG_OK) {
		refused(r, err, "trust request");
		FUZZ_CHECK(lic_msg_status_name(st) != NULL, "status %d", st);
		return;
	}
	a = lic_trust_request_get(r);
	lic_pubkey_id(lic_trust_request_key(r), kid);
	FUZZ_CHECK(str_eq(a->key_id, kid), "key_id is not the key's id");
	lic_key_id(K->device, kid);
	if (strcmp(a->key_id, kid) == 0) {
		FUZZ_CHECK(lic_trust_request_build(K->device, a, &env2, &len2,
						   err, sizeof(err)) == 0,
			   "an accepted trust request does not build: %s",
			   err);
		FUZZ_CHECK(lic_trust_request_parse(env2, len2, &again, err,
						   sizeof(err)) == LIC_MSG_OK,
			   "a built trust request does not parse: %s", err);
		b = lic_trust_request_get(again);
		FUZZ_CHECK(str_eq(a->token, b->token) &&
				   udi_eq(&a->udi, &b->udi) &&
				   a->force == b->force &&
				   a->created_s == b->created_s &&
				   str_eq(a->key_id, b->key_id),
			   "trust request differs after build and parse");
		free(env2);
		lic_trust_request_free(&again);
	}
	lic_trust_request_free(&r);
}

/* ---- trust answer -------------------------------------------------------- */

/* The body licd answers: the server's PEM and the envelope. */
static char *answer_body(const char *env, size_t *len)
{
	json_t *e = json_loadb(env, strlen(env), 0, NULL), *o;
	char *text;

	FUZZ_CHECK(e != NULL, "a sealed envelope is not JSON");
	o = json_pack("{s:s, s:o}", "server_public_key", K->server_pem,
		      "envelope", e);
	FUZZ_CHECK(o != NULL, "json_pack");
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	FUZZ_CHECK(text != NULL, "json_dumps");
	json_decref(o);
	*len = strlen(text);
	return text;
}

static void do_trust_answer(const char *body, size_t len)
{
	const struct lic_trust_code_info *a, *b;
	struct lic_trust_answer *ans = NULL, *again = NULL;
	char kid[LIC_KEY_ID_LEN + 1], skid[LIC_KEY_ID_LEN + 1];
	char err[ERRLEN] = "", *body2 = NULL;
	struct lic_policy p;
	size_t len2 = 0;

	if (lic_trust_answer_parse(body, len, &UDI, K->device, &ans, err,
				   sizeof(err)) != 0) {
		refused(ans, err, "trust answer");
		return;
	}
	a = lic_trust_answer_get(ans);
	FUZZ_CHECK(udi_eq(&a->udi, &UDI), "trust code for another UDI");
	lic_key_id(K->device, kid);
	FUZZ_CHECK(str_eq(a->device_key_id, kid), "trust code for another key");
	FUZZ_CHECK(a->policy_json == NULL ||
			   lic_policy_parse(a->policy_json,
					    strlen(a->policy_json), &p, err,
					    sizeof(err)) == 0,
		   "trust answer policy does not parse: %s", err);
	lic_pubkey_id(lic_trust_answer_server_key(ans), kid);
	lic_key_id(K->server, skid);
	if (strcmp(kid, skid) == 0) {
		FUZZ_CHECK(lic_trust_answer_build(K->server, a, &body2, &len2,
						  err, sizeof(err)) == 0,
			   "an accepted trust answer does not build: %s", err);
		FUZZ_CHECK(lic_trust_answer_parse(body2, len2, &UDI, K->device,
						  &again, err,
						  sizeof(err)) == 0,
			   "a built trust answer does not parse: %s", err);
		b = lic_trust_answer_get(again);
		FUZZ_CHECK(udi_eq(&a->udi, &b->udi) &&
				   str_eq(a->device_key_id, b->device_key_id) &&
				   str_eq(a->trust_code, b->trust_code) &&
				   a->issued_s == b->issued_s &&
				   str_eq(a->smart_account, b->smart_account) &&
				   str_eq(a->virtual_account,
					  b->virtual_account) &&
				   str_eq(a->policy_json, b->policy_json) &&
				   str_eq(lic_trust_answer_server_pem(ans),
					  lic_trust_answer_server_pem(again)),
			   "trust answer differs after build and parse");
		free(body2);
		lic_trust_answer_free(&again);
	}
	lic_trust_answer_free(&ans);
}

/* ---- ACK poll ------------------------------------------------------------ */

static void do_ack_poll(const char *env, size_t len)
{
	const struct lic_ack_poll_info *a, *b;
	struct lic_ack_poll *p = NULL, *again = NULL;
	char err[ERRLEN] = "", *env2 = NULL;
	size_t len2 = 0, i;

	if (lic_ack_poll_parse(K->device_pub, env, len, &UDI, &p, err,
			       sizeof(err)) != LIC_MSG_OK) {
		refused(p, err, "ACK poll");
		return;
	}
	a = lic_ack_poll_get(p);
	FUZZ_CHECK(lic_ack_poll_build(K->device, a, &env2, &len2, err,
				      sizeof(err)) == 0,
		   "an accepted ACK poll does not build: %s", err);
	FUZZ_CHECK(lic_ack_poll_parse(K->device_pub, env2, len2, &UDI, &again,
				      err, sizeof(err)) == LIC_MSG_OK,
		   "a built ACK poll does not parse: %s", err);
	b = lic_ack_poll_get(again);
	FUZZ_CHECK(udi_eq(&a->udi, &b->udi) && a->nids == b->nids &&
			   a->created_s == b->created_s,
		   "ACK poll differs after build and parse");
	for (i = 0; i < a->nids; i++)
		FUZZ_CHECK(str_eq(a->report_ids[i], b->report_ids[i]),
			   "ACK poll id %zu differs", i);
	free(env2);
	lic_ack_poll_free(&again);
	lic_ack_poll_free(&p);
}

/* ---- envelopes, base64, keys, releases ---------------------------------- */

static void do_envelope(const char *env, size_t len, const uint8_t *sealed,
			size_t sealed_len)
{
	static const char *const types[] = {
		LIC_TYPE_REPORT,     LIC_TYPE_ACK,	LIC_TYPE_TRUST_REQUEST,
		LIC_TYPE_TRUST_CODE, LIC_TYPE_ACK_POLL, LIC_TYPE_POLICY};
	struct lic_envelope_peek pk;
	char err[ERRLEN] = "", kid[LIC_KEY_ID_LEN + 1], *payload = NULL;
	enum lic_msg_status st;
	size_t plen = 0, i;

	st = lic_envelope_verify(K->device_pub, env, len, err, sizeof(err));
	FUZZ_CHECK(sealed == NULL || st == LIC_MSG_OK,
		   "an envelope sealed by the key does not verify: %s", err);
	(void)lic_envelope_verify(K->server_pub, env, len, err, sizeof(err));
	lic_key_id(K->device, kid);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (lic_envelope_peek(env, len, types[i], &pk, err,
				      sizeof(err)) == LIC_MSG_OK) {
			FUZZ_CHECK(TERMINATED(pk.key_id) &&
					   TERMINATED(pk.pid) &&
					   TERMINATED(pk.sn),
				   "peek result not terminated");
			FUZZ_CHECK(!sealed || strcmp(pk.key_id, kid) == 0,
				   "peek gives another key id");
		}
		if (lic_envelope_open(K->device_pub, env, len, types[i],
				      &payload, &plen, err,
				      sizeof(err)) == 0) {
			FUZZ_CHECK(payload != NULL && payload[plen] == '\0',
				   "opened without a payload");
			FUZZ_CHECK(sealed == NULL ||
					   (plen == sealed_len &&
					    memcmp(payload, sealed, plen) == 0),
				   "opened to other bytes than were sealed");
			free(payload);
			payload = NULL;
		} else {
			refused(payload, err, "envelope");
		}
	}
}

static void do_base64(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL;
	char err[ERRLEN] = "", *enc;
	size_t outlen = 0, enclen = 0;

	if (lic_b64_decode((const char *)data, size, &out, &outlen, err,
			   sizeof(err)) == 0) {
		FUZZ_CHECK(out != NULL, "decoded to NULL");
		enc = lic_b64_encode(out, outlen, &enclen);
		FUZZ_CHECK(enc != NULL && enclen == size &&
				   memcmp(enc, data, size) == 0,
			   "accepted base64 that is not canonical");
		free(enc);
		free(out);
	} else {
		FUZZ_CHECK(err[0] != '\0', "base64 refused without a reason");
	}
	enc = lic_b64_encode(data, size, &enclen);
	FUZZ_CHECK(enc != NULL, "encode");
	out = NULL;
	FUZZ_CHECK(lic_b64_decode(enc, enclen, &out, &outlen, err,
				  sizeof(err)) == 0 &&
			   outlen == size && memcmp(out, data, size) == 0,
		   "base64 does not round-trip: %s", err);
	free(out);
	free(enc);
}

static void pubkey_again(const struct lic_pubkey *pk)
{
	struct lic_pubkey *again = NULL;
	char err[ERRLEN] = "", a[LIC_KEY_ID_LEN + 1], b[LIC_KEY_ID_LEN + 1];
	char *pem = NULL;
	size_t len = 0;

	FUZZ_CHECK(lic_pubkey_pem(pk, &pem, &len, err, sizeof(err)) == 0,
		   "an accepted key has no PEM: %s", err);
	FUZZ_CHECK(lic_pubkey_from_pem(pem, len, &again, err, sizeof(err)) ==
			   0,
		   "a key's PEM does not load: %s", err);
	lic_pubkey_id(pk, a);
	lic_pubkey_id(again, b);
	FUZZ_CHECK(strcmp(a, b) == 0, "key id changes through PEM");
	lic_pubkey_free(&again);
	free(pem);
}

static void do_pubkey(const uint8_t *data, size_t size)
{
	struct lic_pubkey *pk = NULL;
	char err[ERRLEN] = "";

	if (lic_pubkey_from_pem((const char *)data, size, &pk, err,
				sizeof(err)) == 0) {
		pubkey_again(pk);
		lic_pubkey_free(&pk);
	} else {
		refused(pk, err, "PEM key");
	}
	if (lic_pubkey_from_der_b64((const char *)data, size, &pk, err,
				    sizeof(err)) == 0) {
		pubkey_again(pk);
		lic_pubkey_free(&pk);
	} else {
		refused(pk, err, "DER key");
	}
}

static void do_release(const uint8_t *data, size_t size)
{
	struct lic_release r = {0}, again = {0};
	char *text = fuzz_text(data, size), buf[LIC_RELEASE_MAX_LEN + 1];
	int n;

	if (lic_release_parse(text, &r) == 0) {
		FUZZ_CHECK(r.set && strlen(text) <= LIC_RELEASE_MAX_LEN,
			   "release '%s'", text);
		n = lic_release_format(&r, buf, sizeof(buf));
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf),
			   "release '%s' formats to %d bytes", text, n);
		FUZZ_CHECK(lic_release_parse(buf, &again) == 0 &&
				   lic_release_cmp(&r, &again) == 0,
			   "release '%s' printed as '%s'", text, buf);
		FUZZ_CHECK(lic_model_name(lic_release_model(&r))[0] != '?',
			   "release '%s' has no model", text);
	}
	free(text);
}

/* ---- dispatch ------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	K = fuzz_keys();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kinds[] = "rRaAfFtTnNqQeEpbkv";
	const uint8_t *body = data + 1;
	size_t len = size - 1, envlen = 0;
	char kind, *text = NULL, *env = NULL;

	if (size == 0)
		return 0;
	kind = (char)data[0];
	if (kind == '\0' || strchr(kinds, kind) == NULL)
		kind = kinds[data[0] % (sizeof(kinds) - 1)];
	switch (kind) {
	case 'R':
	case 'Q':
	case 'T':
	case 'E':
		env = seal(K->device, body, len, &envlen);
		break;
	case 'A':
	case 'F':
	case 'N':
		env = seal(K->server, body, len, &envlen);
		break;
	case 'p':
		do_policy(body, len);
		return 0;
	case 'b':
		do_base64(body, len);
		return 0;
	case 'k':
		do_pubkey(body, len);
		return 0;
	case 'v':
		do_release(body, len);
		return 0;
	default:
		/* As the bytes came; a copy of the exact size, so that
		 * ASan sees any read past the end. */
		text = malloc(len > 0 ? len : 1);
		FUZZ_CHECK(text != NULL, "out of memory");
		memcpy(text, body, len);
		envlen = len;
		break;
	}
	if (env != NULL) {
		if (kind == 'N') {
			text = answer_body(env, &envlen);
			free(env);
		} else {
			text = env;
		}
	} else if (text == NULL) {
		return 0; /* no payload to seal */
	}
	switch (kind) {
	case 'r':
	case 'R':
		do_report(text, envlen);
		break;
	case 'a':
	case 'A':
		do_ack(text, envlen);
		break;
	case 'f':
	case 'F':
		do_policy_file(text, envlen);
		break;
	case 't':
	case 'T':
		do_trust_request(text, envlen);
		break;
	case 'n':
	case 'N':
		do_trust_answer(text, envlen);
		break;
	case 'q':
	case 'Q':
		do_ack_poll(text, envlen);
		break;
	case 'e':
		do_envelope(text, envlen, NULL, 0);
		break;
	case 'E':
		do_envelope(text, envlen, body, len);
		break;
	}
	free(text);
	return 0;
}
