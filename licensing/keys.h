/*
 * lic keys: the ECDSA P-256 key pairs of the licensing protocol
 * (docs/licensing-protocol.md).
 *
 *   struct lic_key     a private key: the device key of sbcd, or the signing
 *                      key of licd. Created on first use, kept in a PEM file
 *                      of mode 0600; a file readable by group or other is
 *                      refused (STYLE.md rule 8).
 *   struct lic_pubkey  a public key: the server key pinned at trust time, or
 *                      a device key as licd stores it.
 *
 * Signatures are ECDSA with SHA-256 over the exact bytes given, DER encoded
 * (the form OpenSSL produces). Base64 is RFC 4648 section 4 with padding and
 * no line breaks; the decoder is strict (one encoding per byte string).
 *
 * No clock reads, no printing, no exits: functions return 0 / -1 and, on
 * failure, a reason in err (errlen bytes, always NUL-terminated when
 * errlen > 0; err may be NULL). Returned buffers are the caller's, freed
 * with free().
 */
#ifndef SBC_LICENSING_KEYS_H
#define SBC_LICENSING_KEYS_H

#include <stddef.h>

struct lic_key;
struct lic_pubkey;

/* Size caps (bytes). */
#define LIC_KEY_FILE_MAX 16384 /* PEM key file or PEM public key text */
#define LIC_SIG_MAX 80	       /* DER ECDSA P-256 signature: 72 at most */

/* A key id: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
#define LIC_KEY_ID_LEN 64

/*
 * Load the private key at `path`, or create it when the file does not exist.
 * Creation: a fresh P-256 key, PKCS#8 PEM, written to a temp file next to
 * `path` (O_EXCL, mode 0600), fsynced, then put in place without replacing
 * a file that appeared meanwhile (link + unlink, rename where hard links are
 * not supported), and the directory is fsynced. Loading refuses symlinks,
 * non-regular files, files not owned by the effective user, files with any
 * group/other mode bit (looser than 0600), files over LIC_KEY_FILE_MAX, and
 * keys that are not EC P-256. *created (may be NULL) is set to 1 when the
 * key was created now, else 0. On success *out owns the key.
 */
int lic_key_load_or_create(const char *path, struct lic_key **out, int *created,
			   char *err, size_t errlen);

/* A fresh in-memory P-256 key (tests, and licd before it saves its key). */
int lic_key_generate(struct lic_key **out, char *err, size_t errlen);

/* Wipes and frees; NULL-safe; sets *k to NULL. */
void lic_key_free(struct lic_key **k);

/*
 * The public half of `k`: as PEM text (SubjectPublicKeyInfo, "-----BEGIN
 * PUBLIC KEY-----"), as base64 of its DER, or as a new lic_pubkey.
 * *pem / *b64 are NUL-terminated and the caller's to free(); *len (may be
 * NULL) gets the length without the NUL.
 */
int lic_key_public_pem(const struct lic_key *k, char **pem, size_t *len,
		       char *err, size_t errlen);
int lic_key_public_der_b64(const struct lic_key *k, char **b64, size_t *len,
			   char *err, size_t errlen);
int lic_key_public(const struct lic_key *k, struct lic_pubkey **out,
		   char *err, size_t errlen);

/* The key id of `k` (see LIC_KEY_ID_LEN); out gets LIC_KEY_ID_LEN + NUL. */
void lic_key_id(const struct lic_key *k, char out[LIC_KEY_ID_LEN + 1]);

/*
 * A public key from PEM text (len bytes, NUL not required; at most
 * LIC_KEY_FILE_MAX) or from base64 of its DER. Only EC P-256 keys are
 * accepted.
 */
int lic_pubkey_from_pem(const char *pem, size_t len, struct lic_pubkey **out,
			char *err, size_t errlen);
int lic_pubkey_from_der_b64(const char *b64, size_t len,
			    struct lic_pubkey **out, char *err, size_t errlen);
int lic_pubkey_pem(const struct lic_pubkey *pk, char **pem, size_t *len,
		   char *err, size_t errlen);
void lic_pubkey_id(const struct lic_pubkey *pk, char out[LIC_KEY_ID_LEN + 1]);
void lic_pubkey_free(struct lic_pubkey **pk);

/*
 * ECDSA-SHA256 signature of data[0..len) with `k`. *sig (DER, at most
 * LIC_SIG_MAX bytes) is the caller's to free().
 */
int lic_sign(const struct lic_key *k, const unsigned char *data, size_t len,
	     unsigned char **sig, size_t *siglen, char *err, size_t errlen);

/*
 * Checks a DER ECDSA-SHA256 signature over data[0..len) with `pk`.
 * Returns 1 good, 0 bad (wrong key, altered data, malformed or
 * non-canonical signature), -1 error (NULL arguments, library failure).
 */
int lic_verify(const struct lic_pubkey *pk, const unsigned char *data,
	       size_t len, const unsigned char *sig, size_t siglen);

/*
 * Base64 (RFC 4648 section 4, padded, no line breaks). lic_b64_encode
 * returns a NUL-terminated string (NULL when out of memory). lic_b64_decode
 * accepts only the canonical encoding (length a multiple of 4, alphabet
 * only, padding only at the end, unused bits zero) and returns -1 with a
 * reason otherwise; *out is the caller's to free() (never NULL on success,
 * even for an empty input).
 */
char *lic_b64_encode(const unsigned char *in, size_t len, size_t *outlen);
int lic_b64_decode(const char *in, size_t len, unsigned char **out,
		   size_t *outlen, char *err, size_t errlen);

#endif
