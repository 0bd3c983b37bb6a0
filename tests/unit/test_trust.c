/*
 * Trust exchange, ACK poll and policy file (licensing/trust.h,
 * docs/licensing-protocol.md sections 3.3 to 3.5): round trips, and every
 * kind of refusal the receiving side must make. No clock: every time is a
 * constant.
 */
#include "licensing/envelope.h"
#include "licensing/keys.h"
#include "licensing/policy.h"
#include "licensing/report.h"
#include "licensing/trust.h"

#include "testkey.h"
#include "unit.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000LL

static const struct lic_udi UDI = {"CSR1000V", "9ABCDEFGHIJ"};
static const struct lic_udi OTHER_UDI = {"CSR1000V", "OTHER"};

#define HEX1 "9f0c3b5e2a7d4c18b6e1f0a2d3c4b5a6"
#define Q(s) "\"" s "\""

static const char *const ID1 = HEX1;
static const char *const ID2 = "00112233445566778899aabbccddeeff";

static char *pub_b64(const struct lic_key *k)
{
	char *b64 = NULL;
	char err[256];

	ck_assert_msg(lic_key_public_der_b64(k, &b64, NULL, err,
					     sizeof(err)) == 0,
		      "%s", err);
	return b64;
}

/*
 * An envelope by hand: `payload` signed by `signer`, with key_id taken
 * from `kid_of` (normally the signer) so tests can lie about the key.
 */
static char *raw_envelope(const struct lic_key *signer,
			  const struct lic_key *kid_of, const char *payload)
{
	char kid[LIC_KEY_ID_LEN + 1], err[256];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *p64, *s64, *out;
	json_t *o;

	ck_assert_msg(lic_sign(signer, (const unsigned char *)payload,
			       strlen(payload), &sig, &siglen, err,
			       sizeof(err)) == 0,
		      "%s", err);
	lic_key_id(kid_of, kid);
	p64 = lic_b64_encode((const unsigned char *)payload, strlen(payload),
			     NULL);
	s64 = lic_b64_encode(sig, siglen, NULL);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "alg", "ES256",
		      "key_id", kid, "payload", p64, "signature", s64);
	out = json_dumps(o, JSON_COMPACT);
	ck_assert_ptr_nonnull(out);
	json_decref(o);
	free(p64);
	free(s64);
	free(sig);
	return out;
}

/* The envelope `env` with its payload replaced, signature kept. */
static char *swap_payload(const char *env, const char *payload)
{
	json_t *o = json_loads(env, 0, NULL);
	char *p64, *out;

	ck_assert_ptr_nonnull(o);
	p64 = lic_b64_encode((const unsigned char *)payload, strlen(payload),
			     NULL);
	json_object_set_new(o, "payload", json_string(p64));
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(p64);
	return out;
}

/* The decoded payload of an envelope (unverified, for tampering). */
static char *payload_of(const char *env)
{
	json_t *o = json_loads(env, 0, NULL);
	const char *p64 = json_string_value(json_object_get(o, "payload"));
	unsigned char *p = NULL;
	size_t plen = 0;
	char *out;

	ck_assert_int_eq(lic_b64_decode(p64, strlen(p64), &p, &plen, NULL, 0),
			 0);
	out = malloc(plen + 1);
	memcpy(out, p, plen);
	out[plen] = '\0';
	free(p);
	json_decref(o);
	return out;
}

/* Replace the first `from` in s by `to` (new string). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *out;

	ck_assert_msg(at != NULL, "\"%s\" not in %s", from, s);
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

/* What a builder made: rc 0 and a text of len bytes, or the test fails. */
static char *built(int rc, char *text, size_t len, const char *err)
{
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(len, strlen(text));
	return text;
}

static char *build_request(const struct lic_key *dev, bool force)
{
	struct lic_trust_request_info ri = {
		.token = "tok-123",
		.udi = UDI,
		.force = force,
		.created_s = T0,
	};
	char *env = NULL, err[256];
	size_t len = 0;
	int rc;

	rc = lic_trust_request_build(dev, &ri, &env, &len, err, sizeof(err));
	return built(rc, env, len, err);
}

/* ---- trust request ----------------------------------------------------- */

UNIT_TCASE("request");

UNIT_TEST(request_round_trip)
{
	struct lic_key *dev = testkey_new();
	struct lic_trust_request *r = NULL;
	const struct lic_trust_request_info *ri;
	char kid[LIC_KEY_ID_LEN + 1], pkid[LIC_KEY_ID_LEN + 1], err[256];
	char *env = build_request(dev, true), *b64 = pub_b64(dev);

	ck_assert_int_eq(lic_trust_request_parse(env, strlen(env), &r, err,
						 sizeof(err)),
			 LIC_MSG_OK);
	ri = lic_trust_request_get(r);
	ck_assert_str_eq(ri->token, "tok-123");
	ck_assert_str_eq(ri->udi.pid, UDI.pid);
	ck_assert_str_eq(ri->udi.sn, UDI.sn);
	ck_assert(ri->force);
	ck_assert_int_eq(ri->created_s, T0);
	ck_assert_str_eq(ri->public_key, b64);
	lic_key_id(dev, kid);
	ck_assert_str_eq(ri->key_id, kid);
	lic_pubkey_id(lic_trust_request_key(r), pkid);
	ck_assert_str_eq(pkid, kid);
	lic_trust_request_free(&r);
	ck_assert_ptr_null(r);
	lic_trust_request_free(&r);
	free(env);
	free(b64);
	lic_key_free(&dev);
}
END_TEST

UNIT_TEST(request_tampered_refused)
{
	struct lic_key *dev = testkey_new();
	struct lic_trust_request *r = NULL;
	char err[256];
	char *env = build_request(dev, false), *pl = payload_of(env);
	char *pl2 = replace(pl, "\"force\":false", "\"force\":true ");
	char *bad = swap_payload(env, pl2);

	ck_assert_int_eq(lic_trust_request_parse(bad, strlen(bad), &r, err,
						 sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_ptr_null(r);
	free(bad);
	free(pl2);
	free(pl);
	free(env);
	lic_key_free(&dev);
}
END_TEST

/*
 * Proof of possession: the key in the payload must be the signer. Case
 * 0: payload carries B's key, signed by A, key_id A. Case 1: the same
 * with key_id B (a lie). Case 2: carries A's key, signed by A, key_id B.
 */
UNIT_LOOP_TEST(request_wrong_key_refused, 0, 3)
{
	struct lic_key *a = testkey_new(), *b = testkey_new();
	struct lic_trust_request *r = NULL;
	char err[256], payload[1024];
	char *ab64 = pub_b64(a), *bb64 = pub_b64(b), *env;

	snprintf(payload, sizeof(payload),
		 "{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\","
		 "\"udi\":{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\","
		 "\"force\":false,\"created\":1}",
		 _i == 2 ? ab64 : bb64);
	env = raw_envelope(a, _i == 0 ? a : b, payload);
	ck_assert_int_eq(lic_trust_request_parse(env, strlen(env), &r, err,
						 sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_ptr_null(r);
	free(env);
	free(ab64);
	free(bb64);
	lic_key_free(&a);
	lic_key_free(&b);
}
END_TEST

/* Payload templates; %s is the signer's public key (base64 DER). */
static const char *const bad_requests[] = {
	/* wrong type: a report can never pass for a trust request */
	"{\"type\":\"usage_report\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":2,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\\n\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":0,"
	"\"created\":1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":-1}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false,"
	"\"created\":\"1\"}",
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\",\"force\":false}",
	/* duplicate member */
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"token\":\"u\","
	"\"udi\":{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"%s\","
	"\"force\":false,\"created\":1}",
	/* not a key */
	"{\"type\":\"trust_request\",\"v\":1,\"token\":\"t\",\"udi\":"
	"{\"pid\":\"P\",\"sn\":\"S\"},\"public_key\":\"QUJD%.0s\","
	"\"force\":false,\"created\":1}",
	"[\"%s\"]",
};

UNIT_LOOP_TEST(request_bad_fields_refused, 0, NELEM(bad_requests))
{
	struct lic_key *dev = testkey_new();
	struct lic_trust_request *r = NULL;
	char err[256], payload[2048];
	char *b64 = pub_b64(dev), *env;

	snprintf(payload, sizeof(payload), bad_requests[_i], b64);
	env = raw_envelope(dev, dev, payload);
	ck_assert_int_eq(lic_trust_request_parse(env, strlen(env), &r, err,
						 sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_null(r);
	ck_assert(err[0] != '\0');
	free(env);
	free(b64);
	lic_key_free(&dev);
}
END_TEST

static const char *const bad_envelopes[] = {
	"",
	"not json",
	"[]",
	"{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"x\",\"payload\":\"\","
	"\"signature\":\"\"}",
	"{\"v\":2,\"alg\":\"ES256\",\"key_id\":\"0000000000000000000000000000"
	"000000000000000000000000000000000000\",\"payload\":\"e30=\","
	"\"signature\":\"AA==\"}",
	"{\"v\":1,\"alg\":\"ES384\",\"key_id\":\"0000000000000000000000000000"
	"000000000000000000000000000000000000\",\"payload\":\"e30=\","
	"\"signature\":\"AA==\"}",
	"{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"0000000000000000000000000000"
	"000000000000000000000000000000000000\",\"payload\":\"e30\","
	"\"signature\":\"AA==\"}",
};

UNIT_LOOP_TEST(request_bad_envelope_refused, 0, NELEM(bad_envelopes))
{
	struct lic_trust_request *r = NULL;
	char err[256];
	const char *env = bad_envelopes[_i];

	ck_assert_int_eq(lic_trust_request_parse(env, strlen(env), &r, err,
						 sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_null(r);
}
END_TEST

UNIT_TEST(request_build_refuses_bad_input)
{
	struct lic_key *dev = testkey_new();
	struct lic_trust_request_info ri;
	char *env = NULL, err[256], longtok[LIC_TOKEN_MAX + 2];

	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	memset(&ri, 0, sizeof(ri));
	ri.udi = UDI;
	ri.token = longtok;
	ck_assert_int_eq(lic_trust_request_build(dev, &ri, &env, NULL, err,
						 sizeof(err)),
			 -1);
	ri.token = "ok";
	ri.udi.sn = "";
	ck_assert_int_eq(lic_trust_request_build(dev, &ri, &env, NULL, err,
						 sizeof(err)),
			 -1);
	ri.udi = UDI;
	ri.created_s = -5;
	ck_assert_int_eq(lic_trust_request_build(dev, &ri, &env, NULL, err,
						 sizeof(err)),
			 -1);
	ck_assert_ptr_null(env);
	lic_key_free(&dev);
}
END_TEST

/* ---- trust answer ------------------------------------------------------ */

static char *default_policy(const char *name)
{
	struct lic_policy p;
	char *j;

	lic_policy_default(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	j = lic_policy_to_json(&p);
	ck_assert_ptr_nonnull(j);
	return j;
}

static char *build_answer(const struct lic_key *srv,
			  const struct lic_key *dev, const struct lic_udi *u,
			  const char *policy)
{
	struct lic_trust_code_info c;
	char kid[LIC_KEY_ID_LEN + 1], err[256], *body = NULL;
	size_t len = 0;
	int rc;

	lic_key_id(dev, kid);
	memset(&c, 0, sizeof(c));
	c.udi = *u;
	c.device_key_id = kid;
	c.trust_code = "0123456789abcdef0123456789abcdef";
	c.issued_s = T0;
	c.smart_account = "SA-1";
	c.virtual_account = "VA-1";
	c.policy_json = policy;
	rc = lic_trust_answer_build(srv, &c, &body, &len, err, sizeof(err));
	return built(rc, body, len, err);
}

UNIT_TCASE("answer");

UNIT_LOOP_TEST(answer_round_trip, 0, 2)
{
	struct lic_key *srv = testkey_new(), *dev = testkey_new();
	struct lic_trust_answer *a = NULL;
	const struct lic_trust_code_info *ci;
	struct lic_policy p;
	char *pol = default_policy("Custom Policy");
	char *body = build_answer(srv, dev, &UDI, _i == 0 ? pol : NULL);
	char *pem = NULL, kid[LIC_KEY_ID_LEN + 1], skid[LIC_KEY_ID_LEN + 1],
	     err[256];

	ck_assert_msg(lic_trust_answer_parse(body, strlen(body), &UDI, dev, &a,
					     err, sizeof(err)) == 0,
		      "%s", err);
	ci = lic_trust_answer_get(a);
	lic_key_id(dev, kid);
	ck_assert_str_eq(ci->device_key_id, kid);
	ck_assert_str_eq(ci->trust_code, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(ci->smart_account, "SA-1");
	ck_assert_str_eq(ci->virtual_account, "VA-1");
	ck_assert_int_eq(ci->issued_s, T0);
	ck_assert_str_eq(ci->udi.sn, UDI.sn);
	ck_assert_int_eq(lic_key_public_pem(srv, &pem, NULL, err, sizeof(err)),
			 0);
	ck_assert_str_eq(lic_trust_answer_server_pem(a), pem);
	lic_key_id(srv, kid);
	lic_pubkey_id(lic_trust_answer_server_key(a), skid);
	ck_assert_str_eq(kid, skid);
	if (_i == 0) {
		ck_assert_ptr_nonnull(ci->policy_json);
		ck_assert_int_eq(lic_policy_parse(ci->policy_json,
						  strlen(ci->policy_json), &p,
						  err, sizeof(err)),
				 0);
		ck_assert_str_eq(p.name, "Custom Policy");
	} else {
		ck_assert_ptr_null(ci->policy_json);
	}
	lic_trust_answer_free(&a);
	ck_assert_ptr_null(a);
	free(pem);
	free(body);
	free(pol);
	lic_key_free(&srv);
	lic_key_free(&dev);
}
END_TEST

/* An answer body carrying env (freed) and srv's public key. */
static char *answer_of(const struct lic_key *srv, char *env)
{
	char *pem = NULL, *body, err[256];
	json_t *o;

	ck_assert_int_eq(lic_key_public_pem(srv, &pem, NULL, err, sizeof(err)),
			 0);
	o = json_pack("{s:s, s:o}", "server_public_key", pem, "envelope",
		      json_loads(env, 0, NULL));
	body = json_dumps(o, 0);
	json_decref(o);
	free(env);
	free(pem);
	return body;
}

/*
 * The device refuses: 0 another UDI, 1 another device key, 2 the server
 * key swapped for another (key_id mismatch), 3 a tampered payload, 4 a
 * body that is not an object, 5 an ACK envelope in place of the trust
 * code, 6 a trust code whose policy is invalid.
 */
UNIT_LOOP_TEST(answer_refused, 0, 7)
{
	struct lic_key *srv = testkey_new(), *dev = testkey_new(), *other = testkey_new();
	struct lic_trust_answer *a = NULL;
	char *body = NULL, *pem = NULL, err[256];
	json_t *o;

	switch (_i) {
	case 0:
		body = build_answer(srv, dev, &OTHER_UDI, NULL);
		break;
	case 1:
		body = build_answer(srv, other, &UDI, NULL);
		break;
	case 2:
	case 3: {
		char *orig = build_answer(srv, dev, &UDI, NULL);

		o = json_loads(orig, 0, NULL);
		if (_i == 2) {
			ck_assert_int_eq(lic_key_public_pem(other, &pem, NULL,
							    err, sizeof(err)),
					 0);
			json_object_set_new(o, "server_public_key",
					    json_string(pem));
		} else {
			char *env = json_dumps(json_object_get(o, "envelope"),
					       0);
			char *pl = payload_of(env);
			char *pl2 = replace(pl, "SA-1", "SA-2");
			char *bad = swap_payload(env, pl2);

			json_object_set_new(o, "envelope",
					    json_loads(bad, 0, NULL));
			free(env);
			free(pl);
			free(pl2);
			free(bad);
		}
		body = json_dumps(o, 0);
		json_decref(o);
		free(orig);
		break;
	}
	case 4:
		body = strdup("[1,2]");
		break;
	case 5: {
		struct lic_ack_info ai;
		const char *ids[] = {ID1};
		char *env = NULL;

		memset(&ai, 0, sizeof(ai));
		ai.udi = UDI;
		ai.report_ids = ids;
		ai.nids = 1;
		ai.ack_time_s = T0;
		ck_assert_int_eq(lic_ack_build(srv, &ai, &env, NULL, err,
					       sizeof(err)),
				 0);
		body = answer_of(srv, env);
		break;
	}
	case 6: {
		char kid[LIC_KEY_ID_LEN + 1], payload[1024];
		char *env;

		lic_key_id(dev, kid);
		snprintf(payload, sizeof(payload),
			 "{\"type\":\"trust_code\",\"v\":1,\"udi\":{\"pid\":"
			 "\"%s\",\"sn\":\"%s\"},\"device_key_id\":\"%s\","
			 "\"trust_code\":\"c\",\"issued\":1,"
			 "\"smart_account\":\"S\",\"virtual_account\":\"V\","
			 "\"policy\":{\"name\":\"x\",\"bogus\":1}}",
			 UDI.pid, UDI.sn, kid);
		env = raw_envelope(srv, srv, payload);
		body = answer_of(srv, env);
		break;
	}
	}
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(lic_trust_answer_parse(body, strlen(body), &UDI, dev,
						&a, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(a);
	ck_assert(err[0] != '\0');
	free(body);
	free(pem);
	lic_key_free(&srv);
	lic_key_free(&dev);
	lic_key_free(&other);
}
END_TEST

UNIT_TEST(answer_build_refuses_bad_policy)
{
	struct lic_key *srv = testkey_new(), *dev = testkey_new();
	struct lic_trust_code_info c;
	char kid[LIC_KEY_ID_LEN + 1], err[256], *body = NULL;

	lic_key_id(dev, kid);
	memset(&c, 0, sizeof(c));
	c.udi = UDI;
	c.device_key_id = kid;
	c.trust_code = "code";
	c.smart_account = "SA";
	c.virtual_account = "VA";
	c.policy_json = "{\"name\":\"x\",\"unknown\":true}";
	ck_assert_int_eq(lic_trust_answer_build(srv, &c, &body, NULL, err,
						sizeof(err)),
			 -1);
	c.policy_json = NULL;
	c.trust_code = "";
	ck_assert_int_eq(lic_trust_answer_build(srv, &c, &body, NULL, err,
						sizeof(err)),
			 -1);
	c.trust_code = "code";
	c.device_key_id = "abc";
	ck_assert_int_eq(lic_trust_answer_build(srv, &c, &body, NULL, err,
						sizeof(err)),
			 -1);
	ck_assert_ptr_null(body);
	lic_key_free(&srv);
	lic_key_free(&dev);
}
END_TEST

/* ---- ACK poll ---------------------------------------------------------- */

static char *build_poll(const struct lic_key *dev, const char *const *ids,
			size_t n)
{
	struct lic_ack_poll_info pi = {
		.udi = UDI, .report_ids = ids, .nids = n, .created_s = T0};
	char *env = NULL, err[256];
	size_t len = 0;
	int rc = lic_ack_poll_build(dev, &pi, &env, &len, err, sizeof(err));

	return built(rc, env, len, err);
}

UNIT_TCASE("poll");

UNIT_TEST(poll_round_trip)
{
	struct lic_key *dev = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	struct lic_ack_poll *p = NULL;
	const struct lic_ack_poll_info *pi;
	const char *ids[] = {ID1, ID2};
	char *env = build_poll(dev, ids, 2), err[256];

	ck_assert_int_eq(lic_ack_poll_parse(pk, env, strlen(env), &UDI, &p,
					    err, sizeof(err)),
			 LIC_MSG_OK);
	pi = lic_ack_poll_get(p);
	ck_assert_uint_eq(pi->nids, 2);
	ck_assert_str_eq(pi->report_ids[0], ID1);
	ck_assert_str_eq(pi->report_ids[1], ID2);
	ck_assert_int_eq(pi->created_s, T0);
	ck_assert_str_eq(pi->udi.pid, UDI.pid);
	lic_ack_poll_free(&p);
	ck_assert_ptr_null(p);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
}
END_TEST

/*
 * 0 other key (bad signature), 1 altered payload (bad signature), 2 UDI
 * not the expected one, 3 an ACK-typed payload, 4 repeated ids,
 * 5 an id not 32 hex, 6 no ids.
 */
UNIT_LOOP_TEST(poll_refused, 0, 7)
{
	struct lic_key *dev = testkey_new(), *other = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	struct lic_ack_poll *p = NULL;
	const char *ids[] = {ID1};
	const struct lic_udi *expect = &UDI;
	char *env = NULL, payload[512], err[256];
	enum lic_msg_status want = LIC_MSG_MALFORMED;

	switch (_i) {
	case 0:
		env = build_poll(other, ids, 1);
		want = LIC_MSG_BAD_SIGNATURE;
		break;
	case 1: {
		char *good = build_poll(dev, ids, 1), *pl = payload_of(good);
		char *pl2 = replace(pl, ID1, ID2);

		env = swap_payload(good, pl2);
		free(good);
		free(pl);
		free(pl2);
		want = LIC_MSG_BAD_SIGNATURE;
		break;
	}
	case 2:
		env = build_poll(dev, ids, 1);
		expect = &OTHER_UDI;
		break;
	default:
		snprintf(payload, sizeof(payload),
			 "{\"type\":\"%s\",\"v\":1,\"udi\":{\"pid\":\"%s\","
			 "\"sn\":\"%s\"},\"report_ids\":[%s],\"created\":1}",
			 _i == 3 ? "usage_ack" : "ack_poll", UDI.pid, UDI.sn,
			 _i == 4	? Q(HEX1) "," Q(HEX1)
			 : _i == 5 ? Q("XYZ")
			 : _i == 6 ? ""
				   : Q(HEX1));
		env = raw_envelope(dev, dev, payload);
		break;
	}
	ck_assert_int_eq(lic_ack_poll_parse(pk, env, strlen(env), expect, &p,
					    err, sizeof(err)),
			 want);
	ck_assert_ptr_null(p);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
	lic_key_free(&other);
}
END_TEST

UNIT_TEST(poll_build_refuses_bad_ids)
{
	struct lic_key *dev = testkey_new();
	struct lic_ack_poll_info pi;
	const char **many = calloc(LIC_ACK_MAX_IDS + 1, sizeof(*many));
	const char *dup[] = {ID1, ID1};
	const char *bad[] = {"ABCDEF"};
	char *env = NULL, err[256];
	size_t i;

	for (i = 0; i <= LIC_ACK_MAX_IDS; i++)
		many[i] = ID1;
	memset(&pi, 0, sizeof(pi));
	pi.udi = UDI;
	pi.report_ids = dup;
	pi.nids = 2;
	ck_assert_int_eq(lic_ack_poll_build(dev, &pi, &env, NULL, err,
					    sizeof(err)),
			 -1);
	pi.report_ids = bad;
	pi.nids = 1;
	ck_assert_int_eq(lic_ack_poll_build(dev, &pi, &env, NULL, err,
					    sizeof(err)),
			 -1);
	pi.report_ids = many;
	pi.nids = LIC_ACK_MAX_IDS + 1;
	ck_assert_int_eq(lic_ack_poll_build(dev, &pi, &env, NULL, err,
					    sizeof(err)),
			 -1);
	pi.nids = 0;
	ck_assert_int_eq(lic_ack_poll_build(dev, &pi, &env, NULL, err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_null(env);
	free(many);
	lic_key_free(&dev);
}
END_TEST

/* ---- policy file ------------------------------------------------------- */

UNIT_TCASE("policy_file");

UNIT_LOOP_TEST(policy_file_round_trip, 0, 2)
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pk = testkey_public(srv);
	struct lic_policy p;
	char *pol = default_policy("Custom Policy"), *env = NULL, *out = NULL;
	char err[256];
	int64_t issued = 0;

	/* _i 0: for one device; 1: for any device of the va. */
	ck_assert_msg(lic_policy_file_build(srv, _i == 0 ? &UDI : NULL, T0,
					    pol, &env, NULL, err,
					    sizeof(err)) == 0,
		      "%s", err);
	ck_assert_msg(lic_policy_file_parse(pk, env, strlen(env), &UDI, &out,
					    &issued, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(issued, T0);
	ck_assert_int_eq(lic_policy_parse(out, strlen(out), &p, err,
					  sizeof(err)),
			 0);
	ck_assert_str_eq(p.name, "Custom Policy");
	free(out);
	out = NULL;
	/* A file for one device is refused by another; "any" is not. */
	ck_assert_int_eq(lic_policy_file_parse(pk, env, strlen(env),
					       &OTHER_UDI, &out, NULL, err,
					       sizeof(err)),
			 _i == 0 ? -1 : 0);
	free(out);
	free(env);
	free(pol);
	lic_pubkey_free(&pk);
	lic_key_free(&srv);
}
END_TEST

UNIT_TEST(policy_file_refused)
{
	struct lic_key *srv = testkey_new(), *other = testkey_new();
	struct lic_pubkey *pk = testkey_public(srv);
	char *pol = default_policy("P"), *env = NULL, *out = NULL, err[256];
	const char *ids[] = {ID1};
	struct lic_ack_info ai;

	/* Signed by another key. */
	ck_assert_int_eq(lic_policy_file_build(other, NULL, T0, pol, &env,
					       NULL, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_policy_file_parse(pk, env, strlen(env), &UDI,
					       &out, NULL, err, sizeof(err)),
			 -1);
	free(env);
	/* An ACK is not a policy file. */
	memset(&ai, 0, sizeof(ai));
	ai.udi = UDI;
	ai.report_ids = ids;
	ai.nids = 1;
	ck_assert_int_eq(lic_ack_build(srv, &ai, &env, NULL, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_policy_file_parse(pk, env, strlen(env), &UDI,
					       &out, NULL, err, sizeof(err)),
			 -1);
	free(env);
	/* An invalid policy is not built. */
	ck_assert_int_eq(lic_policy_file_build(srv, NULL, T0, "{\"x\":1}",
					       &env, NULL, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(env);
	ck_assert_ptr_null(out);
	free(pol);
	lic_pubkey_free(&pk);
	lic_key_free(&srv);
	lic_key_free(&other);
}
END_TEST

/* ---- peek and verify --------------------------------------------------- */

UNIT_TCASE("envelope");

UNIT_TEST(peek_and_verify)
{
	struct lic_key *dev = testkey_new(), *other = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev), *opk = testkey_public(other);
	struct lic_envelope_peek pe;
	const char *ids[] = {ID1};
	char *env = build_poll(dev, ids, 1), kid[LIC_KEY_ID_LEN + 1], err[256];
	char *pl = payload_of(env), *pl2 = replace(pl, ID1, ID2);
	char *bad = swap_payload(env, pl2);

	ck_assert_int_eq(lic_envelope_peek(env, strlen(env), LIC_TYPE_ACK_POLL,
					   &pe, err, sizeof(err)),
			 LIC_MSG_OK);
	lic_key_id(dev, kid);
	ck_assert_str_eq(pe.key_id, kid);
	ck_assert_str_eq(pe.pid, UDI.pid);
	ck_assert_str_eq(pe.sn, UDI.sn);
	ck_assert_int_eq(lic_envelope_peek(env, strlen(env), LIC_TYPE_REPORT,
					   &pe, err, sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_int_eq(lic_envelope_peek("{}", 2, LIC_TYPE_ACK_POLL, &pe,
					   err, sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_int_eq(lic_envelope_verify(pk, env, strlen(env), err,
					     sizeof(err)),
			 LIC_MSG_OK);
	ck_assert_int_eq(lic_envelope_verify(opk, env, strlen(env), err,
					     sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_int_eq(lic_envelope_verify(pk, bad, strlen(bad), err,
					     sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_str_eq(lic_msg_status_name(LIC_MSG_BAD_SIGNATURE),
			 "bad_signature");
	free(bad);
	free(pl2);
	free(pl);
	free(env);
	lic_pubkey_free(&pk);
	lic_pubkey_free(&opk);
	lic_key_free(&dev);
	lic_key_free(&other);
}
END_TEST

UNIT_MAIN("trust")
