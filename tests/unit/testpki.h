/*
 * TLS credentials for the suites that check PEM files: a fresh P-256 key,
 * a self-signed certificate for it, and PEM files of them.
 */
#ifndef SBC_TESTS_TESTPKI_H
#define SBC_TESTS_TESTPKI_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

static inline EVP_PKEY *testpki_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

/* Self-signed for CN=127.0.0.1, valid from now for a day. */
static inline X509 *testpki_cert(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	ck_assert_int_eq(X509_set_pubkey(x, k), 1);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"127.0.0.1", -1, -1,
				   0);
	X509_set_issuer_name(x, n);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	return x;
}

/*
 * dir/name with `mode`: the key (when not NULL; encrypted with the
 * passphrase "secret" when enc), then the certificate (when not NULL).
 * Neither: an empty file.
 */
static inline void testpki_write(const char *dir, const char *name,
				 mode_t mode, EVP_PKEY *key, bool enc,
				 X509 *cert)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
	if (key != NULL)
		ck_assert_int_eq(
			PEM_write_PrivateKey(fp, key,
					     enc ? EVP_aes_128_cbc() : NULL,
					     NULL, 0, NULL,
					     enc ? (void *)"secret" : NULL),
			1);
	if (cert != NULL)
		ck_assert_int_eq(PEM_write_X509(fp, cert), 1);
	ck_assert_int_eq(fclose(fp), 0);
}

#endif
