/*
 * Shared by the libFuzzer targets (docs/fuzzing.md): a check that aborts
 * (libFuzzer then saves the input as a crash), NUL-terminated copies of
 * inputs, and the fixed test keys the licensing targets sign with.
 */
#ifndef SBC_TESTS_FUZZ_H
#define SBC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct lic_key;
struct lic_pubkey;

/* A property of the code under test that must hold on every input. */
#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s: ",         \
				__FILE__, __LINE__, #cond);                   \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* data[0..size) with a NUL after it; aborts when out of memory. */
char *fuzz_text(const uint8_t *data, size_t size);

/*
 * The two fixed P-256 keys of the licensing targets, loaded once: a
 * device key (reports, trust requests, ACK polls) and a server key (ACKs,
 * policy files, trust answers). Fixed so that the signed envelopes of the
 * seed corpus (written by fuzz_mkseeds) verify in every run. Test keys
 * only: they sign nothing outside tests/fuzz.
 */
struct fuzz_keys {
	struct lic_key *device;
	struct lic_key *server;
	struct lic_pubkey *device_pub;
	struct lic_pubkey *server_pub;
	char *device_b64; /* base64 DER of the device public key */
	char *server_pem; /* PEM of the server public key */
};

/* Aborts when the keys cannot be loaded. */
const struct fuzz_keys *fuzz_keys(void);

/* The device every licensing message of the corpus is for. */
#define FUZZ_PID "CSR1000V"
#define FUZZ_SN "9ABCDEFGHIJ"

#endif
