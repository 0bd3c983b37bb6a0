/*
 * lsrv token: the id tokens licd hands out for trust (docs/licd.md
 * "Tokens").
 *
 * A token is LSRV_TOKEN_BYTES from the OpenSSL CSPRNG written as
 * unpadded base64url (RFC 4648 section 5), so it pastes into a CLI line
 * without quoting. The store keeps only its SHA-256 (lowercase hex): a
 * copy of the database does not give away live tokens.
 */
#ifndef SBC_LICD_TOKEN_H
#define SBC_LICD_TOKEN_H

#include <stddef.h>

#define LSRV_TOKEN_BYTES 24 /* 192 bits */
#define LSRV_TOKEN_LEN 32   /* base64url characters of 24 bytes */
#define LSRV_TOKEN_HASH_LEN 64

/* A fresh token. 0, or -1 with a reason when the CSPRNG fails. */
int lsrv_token_new(char out[LSRV_TOKEN_LEN + 1], char *err, size_t errlen);

/*
 * The hash under which a token is stored and looked up: lowercase hex
 * SHA-256 of the token text (any text up to the protocol's token cap, so
 * a client's junk token simply matches nothing). 0, or -1 on a library
 * failure.
 */
int lsrv_token_hash(const char *token, char out[LSRV_TOKEN_HASH_LEN + 1]);

#endif
