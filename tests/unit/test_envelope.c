/*
 * The signed envelope (licensing/envelope.h, docs/licensing-protocol.md
 * section 2): sealing and opening, the checks in the protocol's order and
 * the status each refusal answers, proof of possession.
 */
#include "licensing/envelope.h"
#include "licensing/keys.h"

#include "testkey.h"
#include "unit.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An envelope by hand: `payload` signed by `signer`, the key_id of
 * `kid_of`; p64 (not NULL) replaces the payload's base64.
 */
static char *raw_envelope(const struct lic_key *signer,
			  const struct lic_key *kid_of, const char *payload,
			  const char *p64)
{
	char kid[LIC_KEY_ID_LEN + 1], err[256];
	unsigned char *sig = NULL;
	size_t siglen = 0, n;
	char *good64, *s64, *out;

	ck_assert_msg(lic_sign(signer, (const unsigned char *)payload,
			       strlen(payload), &sig, &siglen, err,
			       sizeof(err)) == 0,
		      "%s", err);
	lic_key_id(kid_of, kid);
	good64 = lic_b64_encode((const unsigned char *)payload,
				strlen(payload), NULL);
	s64 = lic_b64_encode(sig, siglen, NULL);
	ck_assert(good64 != NULL && s64 != NULL);
	n = strlen(good64) + strlen(s64) + 256 + (p64 ? strlen(p64) : 0);
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n,
		 "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		 "\"payload\":\"%s\",\"signature\":\"%s\"}",
		 kid, p64 != NULL ? p64 : good64, s64);
	free(good64);
	free(s64);
	free(sig);
	return out;
}

#define PING "{\"type\":\"ping\",\"v\":1,\"udi\":{\"pid\":\"P\",\"sn\":\"S\"}}"

UNIT_TEST(seal_and_open)
{
	struct lic_key *k = testkey_new();
	struct lic_pubkey *pk = testkey_public(k);
	char err[256], *env = NULL, *env2 = NULL, *payload = NULL;
	size_t envlen = 0, plen = 0;
	json_t *o, *root = NULL;

	ck_assert_msg(lic_envelope_seal(k, PING, strlen(PING), &env, &envlen,
					err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(envlen, strlen(env));
	ck_assert_msg(lic_envelope_open(pk, env, envlen, "ping", &payload,
					&plen, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(plen, strlen(PING));
	ck_assert_str_eq(payload, PING);
	free(payload);
	ck_assert_int_eq(lic_envelope_verify(pk, env, envlen, err,
					     sizeof(err)),
			 LIC_MSG_OK);

	/* seal_json signs the compact text, member order kept. */
	o = json_loads(PING, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(lic_envelope_seal_json(k, o, &env2, NULL, err,
						sizeof(err)),
			 0);
	json_decref(o);
	ck_assert_int_eq(lic_envelope_open_json(pk, env2, strlen(env2), "ping",
						&root, err, sizeof(err)),
			 LIC_MSG_OK);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(root, "udi"), "sn")),
			 "S");
	json_decref(root);
	ck_assert_int_eq(lic_envelope_open(pk, env2, strlen(env2), "ping",
					   &payload, NULL, err, sizeof(err)),
			 0);
	ck_assert_str_eq(payload, PING);
	free(payload);
	free(env2);

	/* Nothing to seal, nothing to open into. */
	ck_assert_int_eq(lic_envelope_seal(k, "", 0, &env2, NULL, err,
					   sizeof(err)),
			 -1);
	ck_assert_ptr_null(env2);
	ck_assert_int_eq(lic_envelope_open(pk, env, envlen, "ping", NULL, NULL,
					   err, sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_envelope_open_json(NULL, env, envlen, "ping",
						&root, err, sizeof(err)),
			 LIC_MSG_INTERNAL);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&k);
}
END_TEST

/* Signed payloads refused for what they hold, and the reason given. */
static const struct {
	const char *payload, *type, *reason;
} bad_payloads[] = {
	{PING, "pong", "expected \"pong\""},
	{"{\"type\":\"ping\",\"v\":2}", "ping", "payload: \"v\""},
	{"{\"v\":1}", "ping", "payload: missing \"type\""},
	{"[1]", "ping", "not a JSON object"},
	{"{\"type\":\"ping\"", "ping", "payload is not valid JSON"},
};

/* The payload is read only after the signature, as the type it claims. */
UNIT_LOOP_TEST(payload_checks, 0, NELEM(bad_payloads))
{
	struct lic_key *k = testkey_new();
	struct lic_pubkey *pk = testkey_public(k);
	const char *pl = bad_payloads[_i].payload;
	char err[256], *env = NULL;
	json_t *root = NULL;

	ck_assert_int_eq(lic_envelope_seal(k, pl, strlen(pl), &env, NULL, err,
					   sizeof(err)),
			 0);
	ck_assert_int_eq(lic_envelope_open_json(pk, env, strlen(env),
						bad_payloads[_i].type, &root,
						err, sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_null(root);
	ck_assert_msg(strstr(err, bad_payloads[_i].reason) != NULL, "%s", err);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&k);
}
END_TEST

/*
 * Section 2's order: the key_id is compared before the base64 is
 * decoded, so another key's envelope is a bad signature whatever else
 * is wrong with it.
 */
#define BAD_KID                                                              \
	"{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"XY\",\"payload\":\"\","        \
	"\"signature\":\"\"}"

UNIT_TEST(checks_in_protocol_order)
{
	struct lic_key *k = testkey_new(), *other = testkey_new();
	struct lic_pubkey *pk = testkey_public(k);
	struct lic_envelope_peek pe;
	char err[256], *env;

	env = raw_envelope(k, other, PING, "ab!=");
	ck_assert_int_eq(lic_envelope_verify(pk, env, strlen(env), err,
					     sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_ptr_nonnull(strstr(err, "not by the expected key"));
	free(env);

	env = raw_envelope(k, k, PING, "ab!=");
	ck_assert_int_eq(lic_envelope_verify(pk, env, strlen(env), err,
					     sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "bad base64"));
	ck_assert_int_eq(lic_envelope_peek(env, strlen(env), "ping", &pe, err,
					   sizeof(err)),
			 LIC_MSG_MALFORMED);
	free(env);

	/* Signed by one key, claiming another's id: refused as such. */
	env = raw_envelope(other, k, PING, NULL);
	ck_assert_int_eq(lic_envelope_verify(pk, env, strlen(env), err,
					     sizeof(err)),
			 LIC_MSG_BAD_SIGNATURE);
	ck_assert_str_eq(err, "bad signature");
	/* ...which peek, looking at no key, does not see. */
	ck_assert_int_eq(lic_envelope_peek(env, strlen(env), "ping", &pe, err,
					   sizeof(err)),
			 LIC_MSG_OK);
	ck_assert_str_eq(pe.pid, "P");
	ck_assert_str_eq(pe.sn, "S");
	free(env);

	ck_assert_int_eq(lic_envelope_verify(pk, BAD_KID, strlen(BAD_KID), err,
					     sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "key_id"));
	ck_assert_int_eq(lic_envelope_verify(pk, "{\"v\":2}", 7, err,
					     sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "envelope: \"v\""));
	ck_assert_int_eq(lic_envelope_verify(pk, "", 0, err, sizeof(err)),
			 LIC_MSG_MALFORMED);
	ck_assert_int_eq(lic_envelope_verify(NULL, "{}", 2, err, sizeof(err)),
			 LIC_MSG_INTERNAL);
	lic_pubkey_free(&pk);
	lic_key_free(&k);
	lic_key_free(&other);
}
END_TEST

/* A payload carrying "key": the DER base64 of the public key `of`. */
static char *self_payload(const struct lic_key *of)
{
	char *b64 = NULL, err[256], *out;
	size_t n;

	ck_assert_int_eq(lic_key_public_der_b64(of, &b64, NULL, err,
						sizeof(err)),
			 0);
	n = strlen(b64) + 64;
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "{\"type\":\"hello\",\"v\":1,\"key\":\"%s\"}", b64);
	free(b64);
	return out;
}

/* A "hello" opened for the key in member: want, and *key and *root
 * cleared (nothing handed out), whatever they held before. */
static void expect_self_refused(const char *env, const char *member,
				enum lic_msg_status want,
				struct lic_pubkey **key, json_t **root)
{
	char err[256];

	ck_assert_int_eq(lic_envelope_open_self(env, strlen(env), "hello",
						member, key, root, err,
						sizeof(err)),
			 want);
	ck_assert_ptr_null(*key);
	ck_assert_ptr_null(*root);
}

UNIT_TEST(open_self_proof_of_possession)
{
	struct lic_key *k = testkey_new(), *other = testkey_new();
	struct lic_pubkey *key = NULL;
	char err[256], kid[LIC_KEY_ID_LEN + 1], got[LIC_KEY_ID_LEN + 1];
	char *pl = self_payload(k), *env = NULL;
	json_t *root = NULL;

	ck_assert_int_eq(lic_envelope_seal(k, pl, strlen(pl), &env, NULL, err,
					   sizeof(err)),
			 0);
	ck_assert_msg(lic_envelope_open_self(env, strlen(env), "hello", "key",
					     &key, &root, err,
					     sizeof(err)) == LIC_MSG_OK,
		      "%s", err);
	lic_key_id(k, kid);
	lic_pubkey_id(key, got);
	ck_assert_str_eq(got, kid);
	ck_assert_ptr_nonnull(json_object_get(root, "key"));
	json_decref(root);
	lic_pubkey_free(&key);
	/* No such member: malformed, nothing handed out. */
	expect_self_refused(env, "public_key", LIC_MSG_MALFORMED, &key, &root);
	free(env);
	/* Carrying one key, signed by another. */
	ck_assert_int_eq(lic_envelope_seal(other, pl, strlen(pl), &env, NULL,
					   err, sizeof(err)),
			 0);
	expect_self_refused(env, "key", LIC_MSG_BAD_SIGNATURE, &key, &root);
	free(env);
	free(pl);
	lic_key_free(&k);
	lic_key_free(&other);
}
END_TEST

UNIT_TEST(status_names)
{
	ck_assert_str_eq(lic_msg_status_name(LIC_MSG_OK), "ok");
	ck_assert_str_eq(lic_msg_status_name(LIC_MSG_MALFORMED), "malformed");
	ck_assert_str_eq(lic_msg_status_name(LIC_MSG_BAD_SIGNATURE),
			 "bad_signature");
	ck_assert_str_eq(lic_msg_status_name(LIC_MSG_INTERNAL), "internal");
	ck_assert_ptr_null(lic_msg_status_name((enum lic_msg_status)99));
}
END_TEST

UNIT_MAIN("envelope")
