/*
 * Keys for the licensing suites: a fresh P-256 key and its public half,
 * the test failing on any error.
 */
#ifndef SBC_TESTS_LIC_KEYS_H
#define SBC_TESTS_LIC_KEYS_H

#include <check.h>

#include "licensing/keys.h"

static inline struct lic_key *new_key(void)
{
	struct lic_key *k = NULL;
	char err[256];

	ck_assert_msg(lic_key_generate(&k, err, sizeof(err)) == 0, "%s", err);
	return k;
}

static inline struct lic_pubkey *pub_of(const struct lic_key *k)
{
	struct lic_pubkey *pk = NULL;
	char err[256];

	ck_assert_msg(lic_key_public(k, &pk, err, sizeof(err)) == 0, "%s",
		      err);
	return pk;
}

#endif
