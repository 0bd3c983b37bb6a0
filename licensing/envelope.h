/*
 * lic envelope: the signed envelope every message of the licensing
 * protocol travels in (docs/licensing-protocol.md section 2):
 *
 *   {"v":1,"alg":"ES256","key_id":"<hex>","payload":"<base64>",
 *    "signature":"<base64>"}
 *
 * The signature is over the exact payload bytes, which travel
 * base64-encoded, so nothing is ever re-serialized to be verified. Every
 * payload is a JSON object naming its "type" and "v" 1, so one kind of
 * message cannot pass for another. One reader checks every envelope, in
 * the protocol's order: size, JSON form, v and alg, the members, key_id
 * against the expected key, base64, signature; only then the payload.
 *
 * The caps (LIC_ENVELOPE_MAX, LIC_PAYLOAD_MAX) and the UDI are the
 * protocol's, in report.h. Refusals answer an enum lic_msg_status (the
 * server's HTTP status depends on why a message was refused: 400
 * malformed, 401 bad signature) or, for the device-side calls, -1; each
 * with a one-line reason in err (errlen bytes; err may be NULL). Nothing
 * here reads a clock, prints or exits. Returned text is NUL-terminated
 * and the caller's, freed with free().
 */
#ifndef SBC_LICENSING_ENVELOPE_H
#define SBC_LICENSING_ENVELOPE_H

#include <stddef.h>

#include "licensing/keys.h"
#include "licensing/report.h"

struct json_t; /* jansson's, for the message modules' calls below */

/* Why a message was refused. */
enum lic_msg_status {
	LIC_MSG_OK = 0,
	LIC_MSG_MALFORMED,     /* form, JSON, base64, type, v, a field */
	LIC_MSG_BAD_SIGNATURE, /* key_id not the expected key, or no verify */
	LIC_MSG_INTERNAL,      /* out of memory, library failure */
};

/* "ok", "malformed", "bad_signature", "internal"; NULL if unknown. */
const char *lic_msg_status_name(enum lic_msg_status s);

/*
 * Signs payload[0..len) (1..LIC_PAYLOAD_MAX bytes) with k: the envelope
 * text in *envelope (*envlen bytes when envlen is not NULL).
 */
int lic_envelope_seal(const struct lic_key *k, const char *payload,
		      size_t len, char **envelope, size_t *envlen, char *err,
		      size_t errlen);

/*
 * The whole check of an envelope signed by pk whose payload is of type
 * `type`. *payload gets the verified bytes (NUL-terminated, *plen bytes
 * when plen is not NULL). 0, or -1 with a reason.
 */
int lic_envelope_open(const struct lic_pubkey *pk, const char *envelope,
		      size_t len, const char *type, char **payload,
		      size_t *plen, char *err, size_t errlen);

/*
 * An UNVERIFIED look into an envelope, for one purpose only: finding the
 * key that must verify it (the key bound to the UDI it names). Checks
 * everything lic_envelope_open checks except the key and the signature:
 * size, envelope form, key_id as 64 lowercase hex, strict base64, payload
 * a JSON object of type `type` and v 1, with a well-formed "udi". Returns
 * LIC_MSG_OK and fills the outputs, or LIC_MSG_MALFORMED /
 * LIC_MSG_INTERNAL. Never act on the result before lic_envelope_verify.
 */
struct lic_envelope_peek {
	char key_id[LIC_KEY_ID_LEN + 1];
	char pid[LIC_ID_MAX + 1];
	char sn[LIC_ID_MAX + 1];
};
enum lic_msg_status lic_envelope_peek(const char *envelope, size_t len,
				      const char *type,
				      struct lic_envelope_peek *out, char *err,
				      size_t errlen);

/*
 * Checks the envelope's form, that its key_id is `pk`'s and that the
 * signature verifies over the payload bytes. Does not look at the payload
 * (lic_envelope_open and the message parsers do). LIC_MSG_BAD_SIGNATURE
 * for another key or a signature that does not verify.
 */
enum lic_msg_status lic_envelope_verify(const struct lic_pubkey *pk,
					const char *envelope, size_t len,
					char *err, size_t errlen);

/* ---- for the message modules (report.c, trust.c) ---------------------- */

/* lic_envelope_seal of the compact text of `o`, member order kept. */
int lic_envelope_seal_json(const struct lic_key *k, struct json_t *o,
			   char **envelope, size_t *len, char *err,
			   size_t errlen);

/*
 * lic_envelope_open, the verified payload parsed: *root is the payload
 * object (the caller's to decref). Every failure after the signature is
 * LIC_MSG_MALFORMED.
 */
enum lic_msg_status lic_envelope_open_json(const struct lic_pubkey *pk,
					   const char *envelope, size_t len,
					   const char *type,
					   struct json_t **root, char *err,
					   size_t errlen);

/*
 * An envelope signed by the key its own payload carries (proof of
 * possession): member `key_member` of the payload holds the base64 DER
 * public key. Nothing but that member is read before the signature is
 * checked with that key. On LIC_MSG_OK *key (lic_pubkey_free) and *root
 * (decref) are the caller's.
 */
enum lic_msg_status lic_envelope_open_self(const char *envelope, size_t len,
					   const char *type,
					   const char *key_member,
					   struct lic_pubkey **key,
					   struct json_t **root, char *err,
					   size_t errlen);

#endif
