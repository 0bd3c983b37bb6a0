/* lsrv token: random id tokens and their stored hash (see token.h). */
#include "licd/token.h"

#include "common/err.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int lsrv_token_new(char out[LSRV_TOKEN_LEN + 1], char *err, size_t errlen)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char rnd[LSRV_TOKEN_BYTES];
	size_t i, o = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		err_set(err, errlen, "cannot get random bytes for a token");
		return -1;
	}
	/* 24 bytes are 8 groups of 3: no padding, 32 characters. */
	for (i = 0; i < sizeof(rnd); i += 3) {
		unsigned v = (unsigned)rnd[i] << 16 |
			     (unsigned)rnd[i + 1] << 8 | rnd[i + 2];

		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int lsrv_token_hash(const char *token, char out[LSRV_TOKEN_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (token == NULL ||
	    EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) !=
		    1 ||
	    mdlen * 2 != LSRV_TOKEN_HASH_LEN) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[LSRV_TOKEN_HASH_LEN] = '\0';
	return 0;
}
