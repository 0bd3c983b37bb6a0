/*
 * lic trust: the trust exchange, the ACK poll and the policy file of the
 * licensing protocol (docs/licensing-protocol.md sections 3.3, 3.4, 3.5),
 * built on the signed envelope (envelope.h). Both sides use it:
 *
 *   device (sbcd's agent)          server (licd)
 *   lic_trust_request_build   ->   lic_trust_request_parse
 *   lic_trust_answer_parse    <-   lic_trust_answer_build
 *   lic_ack_poll_build        ->   lic_ack_poll_parse
 *   lic_policy_file_parse     <-   lic_policy_file_build
 *
 * The server's parsers answer an enum lic_msg_status (envelope.h) rather
 * than -1, because the HTTP status depends on why a message was refused
 * (400 malformed, 401 bad signature). Device-side functions return 0 / -1.
 * Every refusal comes with a one-line reason in err (errlen bytes,
 * NUL-terminated when errlen > 0; err may be NULL).
 *
 * Nothing here reads a clock (times are Unix seconds from the caller),
 * prints or exits. Returned text is NUL-terminated and the caller's, freed
 * with free(); parsed messages are opaque objects whose views (the _info
 * structs) point into them and live until their _free().
 */
#ifndef SBC_LICENSING_TRUST_H
#define SBC_LICENSING_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licensing/envelope.h"
#include "licensing/keys.h"
#include "licensing/report.h"

#define LIC_TYPE_TRUST_REQUEST "trust_request"
#define LIC_TYPE_TRUST_CODE "trust_code"
#define LIC_TYPE_ACK_POLL "ack_poll"
#define LIC_TYPE_POLICY "policy"

/* Caps, bytes without the NUL. */
#define LIC_TOKEN_MAX 255	/* id token: printable ASCII */
#define LIC_TRUST_CODE_MAX 128	/* trust code: printable ASCII */
#define LIC_ACCOUNT_MAX 64	/* smart / virtual account name */

/* ---- trust request (3.4), signed by the device key it carries --------- */

struct lic_trust_request_info {
	const char *token; /* 1..LIC_TOKEN_MAX printable ASCII */
	struct lic_udi udi;
	bool force; /* rebind a UDI already bound to another key */
	int64_t created_s;
	/*
	 * Parsed requests only (the builder ignores them and takes both from
	 * the device key): the base64 DER public key carried, and its id.
	 */
	const char *public_key;
	const char *key_id;
};

struct lic_trust_request;

/* The request of `r`, signed by `device` (proof of possession). */
int lic_trust_request_build(const struct lic_key *device,
			    const struct lic_trust_request_info *r,
			    char **envelope, size_t *len, char *err,
			    size_t errlen);

/*
 * licd's side: takes the public key out of the payload, checks that the
 * envelope's key_id is that key's id and that the key verifies the
 * signature, then parses the verified payload. On LIC_MSG_OK *out owns the
 * result.
 */
enum lic_msg_status lic_trust_request_parse(const char *envelope, size_t len,
					    struct lic_trust_request **out,
					    char *err, size_t errlen);
const struct lic_trust_request_info *
lic_trust_request_get(const struct lic_trust_request *r);
/* The device key the request carries (it signed the request); borrowed. */
const struct lic_pubkey *
lic_trust_request_key(const struct lic_trust_request *r);
void lic_trust_request_free(struct lic_trust_request **r);

/* ---- trust answer (3.4): server key PEM + trust_code envelope --------- */

struct lic_trust_code_info {
	struct lic_udi udi;
	const char *device_key_id; /* LIC_KEY_ID_LEN lowercase hex */
	const char *trust_code;	   /* 1..LIC_TRUST_CODE_MAX printable */
	int64_t issued_s;
	const char *smart_account;   /* 1..LIC_ACCOUNT_MAX printable */
	const char *virtual_account; /* same */
	/*
	 * NULL: none. Else a policy object in the policy module's JSON
	 * format, which must pass lic_policy_parse. Parsed answers give it
	 * compact with keys sorted.
	 */
	const char *policy_json;
};

struct lic_trust_answer;

/*
 * licd's side: the body of a 200 answer to POST trust,
 * {"server_public_key":PEM,"envelope":{...}}, the trust_code payload of
 * `c` signed by `server`.
 */
int lic_trust_answer_build(const struct lic_key *server,
			   const struct lic_trust_code_info *c, char **body,
			   size_t *len, char *err, size_t errlen);

/*
 * The device's side: loads server_public_key, verifies the envelope with
 * it (its key_id must be that key's id), parses the trust_code payload and
 * checks that its udi equals `udi` and its device_key_id is `device`'s key
 * id. On success *out owns the result; pin lic_trust_answer_server_pem()
 * and install the trust code and policy.
 */
int lic_trust_answer_parse(const char *body, size_t len,
			   const struct lic_udi *udi,
			   const struct lic_key *device,
			   struct lic_trust_answer **out, char *err,
			   size_t errlen);
const struct lic_trust_code_info *
lic_trust_answer_get(const struct lic_trust_answer *a);
/* The server public key as PEM text (re-exported, canonical). */
const char *lic_trust_answer_server_pem(const struct lic_trust_answer *a);
/* The same key, ready for lic_ack_parse(); borrowed. */
const struct lic_pubkey *
lic_trust_answer_server_key(const struct lic_trust_answer *a);
void lic_trust_answer_free(struct lic_trust_answer **a);

/* ---- ACK poll (3.5), signed by the device key ------------------------- */

struct lic_ack_poll_info {
	struct lic_udi udi;
	const char *const *report_ids; /* 1..LIC_ACK_MAX_IDS, 32 hex, unique */
	size_t nids;
	int64_t created_s;
};

struct lic_ack_poll;

int lic_ack_poll_build(const struct lic_key *device,
		       const struct lic_ack_poll_info *p, char **envelope,
		       size_t *len, char *err, size_t errlen);

/*
 * licd's side: verifies with the key bound to the device, parses, and
 * when `expect` is not NULL checks the UDI (LIC_MSG_MALFORMED otherwise).
 */
enum lic_msg_status lic_ack_poll_parse(const struct lic_pubkey *device,
				       const char *envelope, size_t len,
				       const struct lic_udi *expect,
				       struct lic_ack_poll **out, char *err,
				       size_t errlen);
const struct lic_ack_poll_info *lic_ack_poll_get(const struct lic_ack_poll *p);
void lic_ack_poll_free(struct lic_ack_poll **p);

/* ---- policy file (3.3), signed by the server key ---------------------- */

/*
 * licd's side: a policy file for one device (`udi`) or, with udi NULL,
 * for any device of a virtual account. policy_json must pass
 * lic_policy_parse.
 */
int lic_policy_file_build(const struct lic_key *server,
			  const struct lic_udi *udi, int64_t issued_s,
			  const char *policy_json, char **envelope,
			  size_t *len, char *err, size_t errlen);

/*
 * The device's side: verifies with the pinned server key; a file naming
 * a UDI must name `expect` (when not NULL). *policy_json gets the policy
 * (compact, keys sorted, validated by lic_policy_parse); *issued_s (may be
 * NULL) the issue time.
 */
int lic_policy_file_parse(const struct lic_pubkey *server,
			  const char *envelope, size_t len,
			  const struct lic_udi *expect, char **policy_json,
			  int64_t *issued_s, char *err, size_t errlen);

#endif
