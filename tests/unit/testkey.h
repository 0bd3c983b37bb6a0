/*
 * Keys for the licensing suites: generated fresh (P-256) or the test
 * fails.
 */
#ifndef SBC_TESTS_TESTKEY_H
#define SBC_TESTS_TESTKEY_H

#include "licensing/keys.h"

#include <check.h>

static inline struct lic_key *testkey_new(void)
{
	struct lic_key *k = NULL;
	char err[256];

	ck_assert_msg(lic_key_generate(&k, err, sizeof(err)) == 0, "%s", err);
	return k;
}

static inline struct lic_pubkey *testkey_public(const struct lic_key *k)
{
	struct lic_pubkey *pk = NULL;
	char err[256];

	ck_assert_msg(lic_key_public(k, &pk, err, sizeof(err)) == 0, "%s",
		      err);
	return pk;
}

#endif
