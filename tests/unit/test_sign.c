/*
 * Licensing signatures (docs/licensing-protocol.md):
 * device key files, ECDSA signatures, report and ACK envelopes, and the ACK
 * acceptance rule. No clock: every time is a constant.
 */
#include "licensing/envelope.h"
#include "licensing/keys.h"
#include "licensing/report.h"

#include "testkey.h"
#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1700000000LL /* the frozen "now", Unix seconds */

static char tmpdir[256];

static void dir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sign.%ld",
		 (long)getpid());
	ck_assert_int_eq(mkdir(tmpdir, 0700), 0);
}

/* Removes the files the tests create, then the directory. */
static void dir_teardown(void)
{
	static const char *const names[] = { "device.key", "p384.key",
					     "junk.key", "link.key" };
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	ck_assert_int_eq(rmdir(tmpdir), 0);
}

static void path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

/* ---- key files ------------------------------------------------------- */

UNIT_TCASE("keyfile", .setup = dir_setup, .teardown = dir_teardown);

UNIT_TEST(key_created_0600_and_reloaded)
{
	char path[512], err[256], id1[LIC_KEY_ID_LEN + 1],
		id2[LIC_KEY_ID_LEN + 1];
	struct lic_key *k = NULL;
	struct stat st;
	int created = -1;

	path_in_dir(path, sizeof(path), "device.key");
	ck_assert_msg(lic_key_load_or_create(path, &k, &created, err,
					     sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	lic_key_id(k, id1);
	ck_assert_uint_eq(strlen(id1), LIC_KEY_ID_LEN);
	lic_key_free(&k);
	ck_assert_ptr_null(k);
	lic_key_free(&k); /* NULL-safe */

	ck_assert_msg(lic_key_load_or_create(path, &k, &created, err,
					     sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(created, 0);
	lic_key_id(k, id2);
	ck_assert_str_eq(id1, id2);
	lic_key_free(&k);
}
END_TEST

/* Modes looser than 0600 are refused and the file is left as it was. */
static const mode_t loose_modes[] = { 0644, 0640, 0604, 0660, 0666, 0610 };

UNIT_LOOP_TEST(key_loose_mode_refused, 0, NELEM(loose_modes))
{
	char path[512], err[256];
	struct lic_key *k = NULL;
	mode_t mode = loose_modes[_i];
	struct stat st;

	path_in_dir(path, sizeof(path), "device.key");
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 0);
	lic_key_free(&k);
	ck_assert_int_eq(chmod(path, mode), 0);
	err[0] = '\0';
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 -1);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(err, "looser than 0600") != NULL, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, mode);
	/* Fixed by the operator: loads again. */
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 0);
	lic_key_free(&k);
}
END_TEST

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

UNIT_TEST(key_bad_files_refused)
{
	char path[512], target[512], err[256];
	struct lic_key *k = NULL;
	EVP_PKEY *p384;
	BIO *b;
	char *pem;
	long n;

	/* Not a key. */
	path_in_dir(path, sizeof(path), "junk.key");
	write_file(path, "not a key\n", 0600);
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 -1);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(err, "PEM private key") != NULL, "%s", err);

	/* A P-384 key. */
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	ck_assert_ptr_nonnull(p384);
	b = BIO_new(BIO_s_mem());
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, p384, NULL, NULL, 0, NULL,
						  NULL),
			 1);
	n = BIO_get_mem_data(b, &pem);
	ck_assert_int_gt(n, 0);
	path_in_dir(path, sizeof(path), "p384.key");
	{
		char *z = strndup(pem, (size_t)n);

		write_file(path, z, 0600);
		free(z);
	}
	BIO_free(b);
	EVP_PKEY_free(p384);
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "P-256") != NULL, "%s", err);

	/* A symbolic link, even to a good key. */
	path_in_dir(target, sizeof(target), "device.key");
	ck_assert_int_eq(lic_key_load_or_create(target, &k, NULL, err,
						sizeof(err)),
			 0);
	lic_key_free(&k);
	path_in_dir(path, sizeof(path), "link.key");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(lic_key_load_or_create(path, &k, NULL, err,
						sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "%s", err);
}
END_TEST

UNIT_TCASE("signature");

UNIT_TEST(pubkey_exports_round_trip)
{
	struct lic_key *k = testkey_new();
	struct lic_pubkey *a = NULL, *b = NULL;
	char *pem = NULL, *b64 = NULL, *pem2 = NULL;
	size_t pemlen = 0, b64len = 0;
	char err[256], id[LIC_KEY_ID_LEN + 1], ida[LIC_KEY_ID_LEN + 1],
		idb[LIC_KEY_ID_LEN + 1];

	ck_assert_int_eq(lic_key_public_pem(k, &pem, &pemlen, err, sizeof(err)),
			 0);
	ck_assert(strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	ck_assert(strstr(pem, "PRIVATE") == NULL);
	ck_assert_int_eq(lic_key_public_der_b64(k, &b64, &b64len, err,
						sizeof(err)),
			 0);
	ck_assert_int_eq(lic_pubkey_from_pem(pem, pemlen, &a, err, sizeof(err)),
			 0);
	ck_assert_int_eq(lic_pubkey_from_der_b64(b64, b64len, &b, err,
						 sizeof(err)),
			 0);
	lic_key_id(k, id);
	lic_pubkey_id(a, ida);
	lic_pubkey_id(b, idb);
	ck_assert_str_eq(id, ida);
	ck_assert_str_eq(id, idb);
	ck_assert_int_eq(lic_pubkey_pem(b, &pem2, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(pem, pem2);
	/* Garbage is refused. */
	lic_pubkey_free(&b);
	ck_assert_int_eq(lic_pubkey_from_pem("junk", 4, &b, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(lic_pubkey_from_der_b64("AAAA", 4, &b, err,
						 sizeof(err)),
			 -1);
	free(pem);
	free(pem2);
	free(b64);
	lic_pubkey_free(&a);
	lic_pubkey_free(&b);
	lic_key_free(&k);
}
END_TEST

/* ---- raw signatures -------------------------------------------------- */

UNIT_TEST(sign_verify_every_byte)
{
	static const unsigned char msg[] = "{\"type\":\"usage_report\",\"v\":1}";
	const size_t len = sizeof(msg) - 1;
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	struct lic_key *k = testkey_new(), *other = testkey_new();
	struct lic_pubkey *pk = testkey_public(k), *opk = testkey_public(other);
	unsigned char buf[sizeof(msg)], *sig = NULL, *s2;
	size_t siglen = 0, i, m;
	char err[256];

	ck_assert_int_eq(lic_sign(k, msg, len, &sig, &siglen, err, sizeof(err)),
			 0);
	ck_assert_uint_le(siglen, LIC_SIG_MAX);
	ck_assert_int_eq(lic_verify(pk, msg, len, sig, siglen), 1);
	ck_assert_int_eq(lic_verify(opk, msg, len, sig, siglen), 0);
	for (i = 0; i < len; i++)
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(buf, msg, len);
			buf[i] ^= masks[m];
			ck_assert_msg(lic_verify(pk, buf, len, sig, siglen) ==
					      0,
				      "payload byte %zu ^ %02x verified", i,
				      masks[m]);
		}
	s2 = malloc(siglen);
	for (i = 0; i < siglen; i++)
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(s2, sig, siglen);
			s2[i] ^= masks[m];
			ck_assert_msg(lic_verify(pk, msg, len, s2, siglen) ==
					      0,
				      "signature byte %zu ^ %02x verified", i,
				      masks[m]);
		}
	/* Truncated and extended signatures. */
	ck_assert_int_eq(lic_verify(pk, msg, len, sig, siglen - 1), 0);
	ck_assert_int_eq(lic_verify(pk, msg, len - 1, sig, siglen), 0);
	ck_assert_int_eq(lic_verify(NULL, msg, len, sig, siglen), -1);
	free(s2);
	free(sig);
	lic_pubkey_free(&pk);
	lic_pubkey_free(&opk);
	lic_key_free(&k);
	lic_key_free(&other);
}
END_TEST

/* ---- base64 ---------------------------------------------------------- */

static const struct {
	const char *in;
	int ok;
	const char *out;
} b64_cases[] = {
	{ "", 1, "" },		{ "Zg==", 1, "f" },    { "Zm8=", 1, "fo" },
	{ "Zm9v", 1, "foo" },	{ "Zm9vYg==", 1, "foob" },
	{ "Zh==", 0, NULL },	/* non-canonical: dropped bits set */
	{ "Zm9=", 0, NULL },	{ "Zm9", 0, NULL },    { "Zm9v\n", 0, NULL },
	{ " Zm9v", 0, NULL },	{ "Zm-v", 0, NULL },   { "Z===", 0, NULL },
	{ "=Zm9", 0, NULL },	{ "Zg==Zg==", 0, NULL },
};

UNIT_LOOP_TEST(b64_strict, 0, NELEM(b64_cases))
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	char err[256];
	int rc = lic_b64_decode(b64_cases[_i].in, strlen(b64_cases[_i].in),
				&out, &outlen, err, sizeof(err));

	ck_assert_msg((rc == 0) == b64_cases[_i].ok, "case %d \"%s\": rc %d",
		      _i, b64_cases[_i].in, rc);
	if (rc == 0) {
		char *back = lic_b64_encode(out, outlen, NULL);

		ck_assert_uint_eq(outlen, strlen(b64_cases[_i].out));
		ck_assert(memcmp(out, b64_cases[_i].out, outlen) == 0);
		ck_assert_str_eq(back, b64_cases[_i].in);
		free(back);
	} else {
		ck_assert_ptr_null(out);
	}
	free(out);
}
END_TEST

/* ---- reports --------------------------------------------------------- */

static const struct lic_usage_record sample_recs[] = {
	{ "r1", LIC_TAG_STD, T0 - 86400, T0, 12 },
	{ "r2", LIC_TAG_ENH, T0 - 86400, T0, 3 },
	{ "r3", LIC_TAG_RED, T0 - 86400, T0, 0 },
	{ "r4", LIC_TAG_VGW, T0 - 86400, T0, 7 },
};

static struct lic_report_info sample_report(const char *id)
{
	struct lic_report_info r = {
		.report_id = id,
		.release = "17.6.1a",
		.hostname = "cube1",
		.udi = { "CSR1000V", "9ABCDEFGHIJ" },
		.ha_group = "grp1",
		.ha_role = LIC_HA_ACTIVE,
		.created_s = T0,
		.records = sample_recs,
		.nrecords = 4,
	};
	return r;
}

UNIT_TCASE("report", .timeout = 60);

UNIT_TEST(report_round_trip)
{
	struct lic_key *dev = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	char rid[LIC_REPORT_ID_LEN + 1], rid2[LIC_REPORT_ID_LEN + 1];
	struct lic_report_info in;
	const struct lic_report_info *out;
	struct lic_report *rep = NULL;
	char *env = NULL, err[256];
	size_t envlen = 0, i;

	ck_assert_int_eq(lic_report_id_new(rid, err, sizeof(err)), 0);
	ck_assert_int_eq(lic_report_id_new(rid2, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(rid), LIC_REPORT_ID_LEN);
	ck_assert_str_ne(rid, rid2);
	in = sample_report(rid);
	ck_assert_msg(lic_report_build(dev, &in, &env, &envlen, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(strlen(env), envlen);
	ck_assert_msg(lic_report_parse(pk, env, envlen, &rep, err,
				       sizeof(err)) == 0,
		      "%s", err);
	out = lic_report_get(rep);
	ck_assert_str_eq(out->report_id, rid);
	ck_assert_str_eq(out->release, "17.6.1a");
	ck_assert_str_eq(out->hostname, "cube1");
	ck_assert_str_eq(out->udi.pid, "CSR1000V");
	ck_assert_str_eq(out->udi.sn, "9ABCDEFGHIJ");
	ck_assert_str_eq(out->ha_group, "grp1");
	ck_assert_int_eq(out->ha_role, LIC_HA_ACTIVE);
	ck_assert_int_eq(out->created_s, T0);
	ck_assert_uint_eq(out->nrecords, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(out->records[i].id, sample_recs[i].id);
		ck_assert_int_eq(out->records[i].tag, sample_recs[i].tag);
		ck_assert_int_eq(out->records[i].start_s,
				 sample_recs[i].start_s);
		ck_assert_int_eq(out->records[i].end_s, sample_recs[i].end_s);
		ck_assert_int_eq(out->records[i].count, sample_recs[i].count);
	}
	lic_report_free(&rep);
	ck_assert_ptr_null(rep);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
}
END_TEST

UNIT_TEST(report_privacy_omits_hostname)
{
	struct lic_key *dev = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	struct lic_report_info in = sample_report(
		"0123456789abcdef0123456789abcdef");
	struct lic_report *rep = NULL;
	char *payload = NULL, *env = NULL, *opened = NULL, err[256];
	size_t plen = 0, envlen = 0, olen = 0;

	in.hostname = NULL;
	in.ha_group = NULL;
	in.ha_role = LIC_HA_STANDALONE;
	ck_assert_int_eq(lic_report_payload(&in, &payload, &plen, err,
					    sizeof(err)),
			 0);
	ck_assert(strstr(payload, "hostname") == NULL);
	ck_assert(strstr(payload, "cube1") == NULL);
	ck_assert(strstr(payload, "\"group\"") == NULL);
	ck_assert_int_eq(lic_report_build(dev, &in, &env, &envlen, err,
					  sizeof(err)),
			 0);
	/* The signed bytes are exactly the payload bytes. */
	ck_assert_int_eq(lic_envelope_open(pk, env, envlen, LIC_TYPE_REPORT,
					   &opened, &olen, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(olen, plen);
	ck_assert_str_eq(opened, payload);
	ck_assert_int_eq(lic_report_parse(pk, env, envlen, &rep, err,
					  sizeof(err)),
			 0);
	ck_assert_ptr_null(lic_report_get(rep)->hostname);
	ck_assert_ptr_null(lic_report_get(rep)->ha_group);
	ck_assert_int_eq(lic_report_get(rep)->ha_role, LIC_HA_STANDALONE);
	lic_report_free(&rep);
	free(payload);
	free(env);
	free(opened);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
}
END_TEST

/* An envelope with the given parts, re-assembled with jansson. */
static char *assemble(const char *key_id, const unsigned char *payload,
		      size_t plen, const unsigned char *sig, size_t siglen)
{
	char *p64 = lic_b64_encode(payload, plen, NULL);
	char *s64 = lic_b64_encode(sig, siglen, NULL);
	json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s}", "v", 1, "alg", "ES256",
			      "key_id", key_id, "payload", p64, "signature",
			      s64);
	char *out = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	free(p64);
	free(s64);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* The decoded payload and signature of an envelope. */
static void split(const char *env, char kid[LIC_KEY_ID_LEN + 1],
		  unsigned char **payload, size_t *plen, unsigned char **sig,
		  size_t *siglen)
{
	json_t *o = json_loads(env, 0, NULL);
	const char *p = json_string_value(json_object_get(o, "payload"));
	const char *s = json_string_value(json_object_get(o, "signature"));

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(s);
	snprintf(kid, LIC_KEY_ID_LEN + 1, "%s",
		 json_string_value(json_object_get(o, "key_id")));
	ck_assert_int_eq(lic_b64_decode(p, strlen(p), payload, plen, NULL, 0),
			 0);
	ck_assert_int_eq(lic_b64_decode(s, strlen(s), sig, siglen, NULL, 0),
			 0);
	json_decref(o);
}

UNIT_TEST(report_any_byte_change_fails)
{
	struct lic_key *dev = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	struct lic_report_info in = sample_report(
		"00112233445566778899aabbccddeeff");
	struct lic_report *rep = NULL;
	char kid[LIC_KEY_ID_LEN + 1], err[256], *env = NULL, *bad;
	unsigned char *payload = NULL, *sig = NULL, *copy;
	size_t plen = 0, siglen = 0, envlen = 0, i;
	unsigned tested = 0;

	ck_assert_int_eq(lic_report_build(dev, &in, &env, &envlen, err,
					  sizeof(err)),
			 0);
	split(env, kid, &payload, &plen, &sig, &siglen);
	/* Unchanged parts re-assembled still verify. */
	bad = assemble(kid, payload, plen, sig, siglen);
	ck_assert_int_eq(lic_report_parse(pk, bad, strlen(bad), &rep, err,
					  sizeof(err)),
			 0);
	lic_report_free(&rep);
	free(bad);

	/* Every byte of the payload (a few hundred bytes). */
	copy = malloc(plen > siglen ? plen : siglen);
	for (i = 0; i < plen; i++) {
		memcpy(copy, payload, plen);
		copy[i] ^= (unsigned char)(1u << (i % 8));
		bad = assemble(kid, copy, plen, sig, siglen);
		ck_assert_msg(lic_report_parse(pk, bad, strlen(bad), &rep, err,
					       sizeof(err)) == -1,
			      "payload byte %zu changed, still accepted", i);
		ck_assert_ptr_null(rep);
		ck_assert_str_eq(err, "bad signature");
		free(bad);
		tested++;
	}
	/* Every byte of the signature. */
	for (i = 0; i < siglen; i++) {
		memcpy(copy, sig, siglen);
		copy[i] ^= 0x01;
		bad = assemble(kid, payload, plen, copy, siglen);
		ck_assert_msg(lic_report_parse(pk, bad, strlen(bad), &rep, err,
					       sizeof(err)) == -1,
			      "signature byte %zu changed, still accepted", i);
		ck_assert_ptr_null(rep);
		free(bad);
		tested++;
	}
	ck_assert_uint_eq(tested, plen + siglen);
	free(copy);
	free(payload);
	free(sig);
	free(env);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
}
END_TEST

/* Bad report contents are refused at build time, with a reason. */
static const struct {
	const char *what;
	const char *report_id, *release, *hostname, *pid, *group;
	struct lic_usage_record rec;
	size_t nrecords;
	const char *reason;
} bad_reports[] = {
	{ "short id", "0123", "17.6.1a", "h", "P", NULL,
	  { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "report_id" },
	{ "upper-case id", "0123456789ABCDEF0123456789abcdef", "17.6.1a", "h",
	  "P", NULL, { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "report_id" },
	{ "no release", "0123456789abcdef0123456789abcdef", NULL, "h", "P",
	  NULL, { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "release" },
	{ "control char", "0123456789abcdef0123456789abcdef", "17.6.1a",
	  "h\n", "P", NULL, { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "hostname" },
	{ "empty pid", "0123456789abcdef0123456789abcdef", "17.6.1a", "h", "",
	  NULL, { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "udi.pid" },
	{ "bad group", "0123456789abcdef0123456789abcdef", "17.6.1a", "h",
	  "P", "a b", { "r", LIC_TAG_STD, 0, 1, 1 }, 1, "ha.group" },
	{ "bad record id", "0123456789abcdef0123456789abcdef", "17.6.1a", "h",
	  "P", NULL, { "r 1", LIC_TAG_STD, 0, 1, 1 }, 1, "records[0].id" },
	{ "bad tag", "0123456789abcdef0123456789abcdef", "17.6.1a", "h", "P",
	  NULL, { "r", (enum lic_tag)9, 0, 1, 1 }, 1, "tag" },
	{ "end before start", "0123456789abcdef0123456789abcdef", "17.6.1a",
	  "h", "P", NULL, { "r", LIC_TAG_STD, 5, 4, 1 }, 1, "start" },
	{ "negative count", "0123456789abcdef0123456789abcdef", "17.6.1a",
	  "h", "P", NULL, { "r", LIC_TAG_STD, 0, 1, -1 }, 1, "count" },
	{ "huge count", "0123456789abcdef0123456789abcdef", "17.6.1a", "h",
	  "P", NULL, { "r", LIC_TAG_STD, 0, 1, LIC_COUNT_MAX + 1 }, 1,
	  "count" },
	{ "too many records", "0123456789abcdef0123456789abcdef", "17.6.1a",
	  "h", "P", NULL, { "r", LIC_TAG_STD, 0, 1, 1 },
	  LIC_REPORT_MAX_RECORDS + 1, "at most" },
};

UNIT_LOOP_TEST(report_bad_fields_refused, 0, NELEM(bad_reports))
{
	struct lic_key *dev = testkey_new();
	struct lic_usage_record *recs;
	struct lic_report_info in = { 0 };
	char *env = NULL, err[256] = "";
	size_t i, n = bad_reports[_i].nrecords;
	char (*ids)[24];

	recs = calloc(n, sizeof(*recs));
	ids = calloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		recs[i] = bad_reports[_i].rec;
		if (n > 1) {
			snprintf(ids[i], sizeof(ids[i]), "r%zu", i);
			recs[i].id = ids[i];
		}
	}
	in.report_id = bad_reports[_i].report_id;
	in.release = bad_reports[_i].release;
	in.hostname = bad_reports[_i].hostname;
	in.udi.pid = bad_reports[_i].pid;
	in.udi.sn = "SN1";
	in.ha_group = bad_reports[_i].group;
	in.created_s = T0;
	in.records = recs;
	in.nrecords = n;
	ck_assert_msg(lic_report_build(dev, &in, &env, NULL, err,
				       sizeof(err)) == -1,
		      "%s accepted", bad_reports[_i].what);
	ck_assert_ptr_null(env);
	ck_assert_msg(strstr(err, bad_reports[_i].reason) != NULL,
		      "%s: reason \"%s\"", bad_reports[_i].what, err);
	free(recs);
	free(ids);
	lic_key_free(&dev);
}
END_TEST

/* A full report (LIC_REPORT_MAX_RECORDS, longest ids) fits the caps. */
UNIT_TEST(report_max_size_fits)
{
	struct lic_key *dev = testkey_new();
	struct lic_pubkey *pk = testkey_public(dev);
	struct lic_usage_record *recs = calloc(LIC_REPORT_MAX_RECORDS,
					       sizeof(*recs));
	char (*ids)[LIC_ID_MAX + 1] = calloc(LIC_REPORT_MAX_RECORDS,
					     sizeof(*ids));
	struct lic_report_info in = sample_report(
		"ffffffffffffffffffffffffffffffff");
	struct lic_report *rep = NULL;
	char *env = NULL, err[256];
	size_t envlen = 0, i;

	for (i = 0; i < LIC_REPORT_MAX_RECORDS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%0*zu", LIC_ID_MAX, i);
		recs[i] = (struct lic_usage_record){ ids[i], LIC_TAG_VGW,
						     INT64_MAX - 1, INT64_MAX,
						     LIC_COUNT_MAX };
	}
	in.records = recs;
	in.nrecords = LIC_REPORT_MAX_RECORDS;
	ck_assert_msg(lic_report_build(dev, &in, &env, &envlen, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_le(envlen, LIC_ENVELOPE_MAX);
	ck_assert_msg(lic_report_parse(pk, env, envlen, &rep, err,
				       sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(lic_report_get(rep)->nrecords,
			  LIC_REPORT_MAX_RECORDS);
	lic_report_free(&rep);
	free(env);
	free(recs);
	free(ids);
	lic_pubkey_free(&pk);
	lic_key_free(&dev);
}
END_TEST

/* ---- ACKs ------------------------------------------------------------ */

static const char *const ids_ab[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" };
static const char *const ids_c[] = { "cccccccccccccccccccccccccccccccc" };
static const struct lic_udi dev_udi = { "CSR1000V", "9ABCDEFGHIJ" };

/* An ACK for dev_udi that must parse. */
static struct lic_ack *ack_parse_ok(const struct lic_pubkey *pin,
				    const char *env, size_t len)
{
	struct lic_ack *ack = NULL;
	char err[256];

	ck_assert_msg(lic_ack_parse(pin, env, len, &dev_udi, &ack, err,
				    sizeof(err)) == 0,
		      "%s", err);
	ck_assert_ptr_nonnull(ack);
	return ack;
}

static char *make_ack(const struct lic_key *server, const char *const *ids,
		      size_t n, const char *policy)
{
	struct lic_ack_info a = { dev_udi, ids, n, T0 + 60, policy };
	char *env = NULL, err[256];

	ck_assert_msg(lic_ack_build(server, &a, &env, NULL, err, sizeof(err)) ==
			      0,
		      "%s", err);
	return env;
}

UNIT_TCASE("ack");

UNIT_TEST(ack_round_trip_with_policy)
{
	static const char policy[] =
		"{\"name\":\"Custom Policy\",\"source\":\"Customer Policy\","
		"\"reporting_ack_required\":true,\"groups\":{\"perpetual\":"
		"{\"first_report_days\":365,\"reporting_frequency_days\":0,"
		"\"report_on_change_days\":90}}}";
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_ack *ack = NULL;
	const struct lic_ack_info *ai;
	char *env = make_ack(srv, ids_ab, 2, policy), err[256];
	json_t *want, *got;

	ack = ack_parse_ok(pin, env, strlen(env));
	ai = lic_ack_get(ack);
	ck_assert_uint_eq(ai->nids, 2);
	ck_assert_str_eq(ai->report_ids[0], ids_ab[0]);
	ck_assert_str_eq(ai->report_ids[1], ids_ab[1]);
	ck_assert_int_eq(ai->ack_time_s, T0 + 60);
	ck_assert_ptr_nonnull(ai->policy_json);
	want = json_loads(policy, 0, NULL);
	got = json_loads(ai->policy_json, 0, NULL);
	ck_assert(json_equal(want, got));
	json_decref(want);
	json_decref(got);
	ck_assert_int_eq(lic_ack_accept(ack, ids_ab, 2, NULL, 0, err,
					sizeof(err)),
			 LIC_ACK_ACCEPT);
	lic_ack_free(&ack);
	ck_assert_ptr_null(ack);
	free(env);

	/* Without a policy. */
	env = make_ack(srv, ids_c, 1, NULL);
	ck_assert_int_eq(lic_ack_parse(pin, env, strlen(env), NULL, &ack, err,
				       sizeof(err)),
			 0);
	ck_assert_ptr_null(lic_ack_get(ack)->policy_json);
	lic_ack_free(&ack);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

UNIT_TEST(ack_other_key_rejected)
{
	struct lic_key *srv = testkey_new(), *rogue = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_ack *ack = NULL;
	char *env = make_ack(rogue, ids_ab, 2, NULL), *forged, err[256];
	char kid[LIC_KEY_ID_LEN + 1], pinned[LIC_KEY_ID_LEN + 1];
	unsigned char *payload = NULL, *sig = NULL;
	size_t plen = 0, siglen = 0;

	/* Signed by another key, honestly labelled. */
	ck_assert_int_eq(lic_ack_parse(pin, env, strlen(env), &dev_udi, &ack,
				       err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(ack);
	ck_assert_msg(strstr(err, "not by the expected key") != NULL, "%s",
		      err);
	/* Signed by another key, labelled with the pinned key's id. */
	split(env, kid, &payload, &plen, &sig, &siglen);
	lic_pubkey_id(pin, pinned);
	forged = assemble(pinned, payload, plen, sig, siglen);
	ck_assert_int_eq(lic_ack_parse(pin, forged, strlen(forged), &dev_udi,
				       &ack, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(ack);
	ck_assert_str_eq(err, "bad signature");
	free(forged);
	free(payload);
	free(sig);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
	lic_key_free(&rogue);
}
END_TEST

UNIT_TEST(ack_unknown_ids_rejected)
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_ack *ack = NULL;
	const char *pending[] = { ids_ab[0], ids_ab[1] };
	/* One known id and one the device never sent. */
	const char *const mixed[] = { ids_ab[0], ids_c[0] };
	char *env = make_ack(srv, ids_c, 1, NULL), err[256];

	ack = ack_parse_ok(pin, env, strlen(env));
	ck_assert_int_eq(lic_ack_accept(ack, pending, 2, NULL, 0, err,
					sizeof(err)),
			 LIC_ACK_REJECT_UNKNOWN);
	ck_assert_msg(strstr(err, ids_c[0]) != NULL, "%s", err);
	lic_ack_free(&ack);
	free(env);

	env = make_ack(srv, mixed, 2, NULL);
	ack = ack_parse_ok(pin, env, strlen(env));
	ck_assert_int_eq(lic_ack_accept(ack, pending, 2, NULL, 0, err,
					sizeof(err)),
			 LIC_ACK_REJECT_UNKNOWN);
	/* Nothing pending at all. */
	ck_assert_int_eq(lic_ack_accept(ack, NULL, 0, NULL, 0, err,
					sizeof(err)),
			 LIC_ACK_REJECT_UNKNOWN);
	ck_assert_int_eq(lic_ack_accept(NULL, pending, 2, NULL, 0, err,
					sizeof(err)),
			 LIC_ACK_REJECT_INVALID);
	/* The caller's set is untouched. */
	ck_assert_ptr_eq(pending[0], ids_ab[0]);
	ck_assert_ptr_eq(pending[1], ids_ab[1]);
	lic_ack_free(&ack);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

/* The caller's state as the agent would keep it. */
struct ack_state {
	const char *pending[4];
	size_t npending;
	const char *acked[4];
	size_t nacked;
};

/* Applies an accepted ACK the way the agent does: pending -> acked. */
static void install(struct ack_state *s, const struct lic_ack_info *a)
{
	size_t i, j;

	for (i = 0; i < a->nids; i++)
		for (j = 0; j < s->npending; j++)
			if (strcmp(s->pending[j], a->report_ids[i]) == 0) {
				s->acked[s->nacked++] = s->pending[j];
				s->pending[j] = s->pending[--s->npending];
				break;
			}
}

UNIT_TEST(ack_replay_rejected)
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct ack_state st = { { ids_ab[0], ids_ab[1], ids_c[0] }, 3, { 0 },
				0 };
	struct ack_state before;
	struct lic_ack *ack = NULL;
	char *env = make_ack(srv, ids_ab, 2, NULL), err[256];

	ack = ack_parse_ok(pin, env, strlen(env));
	ck_assert_int_eq(lic_ack_accept(ack, st.pending, st.npending, st.acked,
					st.nacked, err, sizeof(err)),
			 LIC_ACK_ACCEPT);
	install(&st, lic_ack_get(ack));
	ck_assert_uint_eq(st.npending, 1);
	ck_assert_uint_eq(st.nacked, 2);
	lic_ack_free(&ack);

	/* The same bytes again. */
	memcpy(&before, &st, sizeof(st));
	ack = ack_parse_ok(pin, env, strlen(env));
	ck_assert_int_eq(lic_ack_accept(ack, st.pending, st.npending, st.acked,
					st.nacked, err, sizeof(err)),
			 LIC_ACK_REJECT_REPLAY);
	ck_assert_msg(strstr(err, "already acknowledged") != NULL, "%s", err);
	ck_assert(memcmp(&before, &st, sizeof(st)) == 0);
	/* Without the acked list the replay is still refused (as unknown). */
	ck_assert_int_eq(lic_ack_accept(ack, st.pending, st.npending, NULL, 0,
					err, sizeof(err)),
			 LIC_ACK_REJECT_UNKNOWN);
	lic_ack_free(&ack);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

/*
 * Malformed ACK inputs: each is refused by lic_ack_parse with a reason
 * containing `reason`. Payload cases are signed with the right key, so the
 * rejection comes from the content, not the signature.
 */
enum form { RAW, SIGNED_PAYLOAD };

static const struct {
	const char *what;
	enum form form;
	const char *text;
	const char *reason;
} bad_acks[] = {
	{ "empty", RAW, "", "outside" },
	{ "not JSON", RAW, "{\"v\":1,", "not valid JSON" },
	{ "array", RAW, "[1,2]", "not a JSON object" },
	{ "trailing junk", RAW, "{\"v\":1} x", "not valid JSON" },
	{ "no v", RAW, "{\"alg\":\"ES256\"}", "\"v\"" },
	{ "wrong alg", RAW, "{\"v\":1,\"alg\":\"RS256\"}", "\"alg\"" },
	{ "no payload", RAW, "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"@KID@\"}",
	  "missing \"payload\"" },
	{ "bad base64", RAW,
	  "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"@KID@\",\"payload\":\"ab!\","
	  "\"signature\":\"AAAA\"}",
	  "bad base64" },
	{ "bad sig base64", RAW,
	  "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"@KID@\",\"payload\":\"AAAA\","
	  "\"signature\":\"A\"}",
	  "bad base64" },
	{ "duplicate member", RAW,
	  "{\"v\":1,\"v\":1,\"alg\":\"ES256\"}", "not valid JSON" },
	{ "payload not JSON", SIGNED_PAYLOAD, "hello", "not valid JSON" },
	{ "payload wrong type", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_report\",\"v\":1}", "expected \"usage_ack\"" },
	{ "payload wrong version", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":2}", "\"v\"" },
	{ "no udi", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\"],\"ack_time\":1}",
	  "\"udi\"" },
	{ "no ack_time", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\"]}",
	  "missing \"ack_time\"" },
	{ "ack_time string", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\"],\"ack_time\":\"1\"}",
	  "not an integer" },
	{ "no ids", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[],\"ack_time\":1}",
	  "report ids" },
	{ "bad id", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[\"xyz\"],\"ack_time\":1}",
	  "report_ids[0]" },
	{ "repeated id", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],"
	  "\"ack_time\":1}",
	  "repeats" },
	{ "policy not object", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"9ABCDEFGHIJ\"},\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\"],\"ack_time\":1,\"policy\":[1]}",
	  "\"policy\"" },
	{ "other device", SIGNED_PAYLOAD,
	  "{\"type\":\"usage_ack\",\"v\":1,\"udi\":{\"pid\":\"CSR1000V\","
	  "\"sn\":\"OTHER\"},\"report_ids\":[\"aaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa\"],\"ack_time\":1}",
	  "not for this device" },
};

/* Replaces @KID@ in t with kid; caller frees. */
static char *subst_kid(const char *t, const char *kid)
{
	const char *at = strstr(t, "@KID@");
	char *out;

	if (at == NULL)
		return strdup(t);
	out = malloc(strlen(t) + strlen(kid) + 1);
	sprintf(out, "%.*s%s%s", (int)(at - t), t, kid, at + 5);
	return out;
}

UNIT_LOOP_TEST(ack_malformed_rejected, 0, NELEM(bad_acks))
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_ack *ack = NULL;
	char kid[LIC_KEY_ID_LEN + 1], err[256] = "", *env = NULL;
	const char *t = bad_acks[_i].text;

	lic_pubkey_id(pin, kid);
	if (bad_acks[_i].form == RAW)
		env = subst_kid(t, kid);
	else
		ck_assert_int_eq(lic_envelope_seal(srv, t, strlen(t), &env,
						   NULL, err, sizeof(err)),
				 0);
	ck_assert_msg(lic_ack_parse(pin, env, strlen(env), &dev_udi, &ack, err,
				    sizeof(err)) == -1,
		      "%s accepted", bad_acks[_i].what);
	ck_assert_ptr_null(ack);
	ck_assert_msg(strstr(err, bad_acks[_i].reason) != NULL,
		      "%s: reason \"%s\"", bad_acks[_i].what, err);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

UNIT_TEST(ack_oversized_rejected)
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_ack *ack = NULL;
	char *env = make_ack(srv, ids_ab, 2, NULL), *big, err[256];
	size_t n = LIC_ENVELOPE_MAX + 1, envlen = strlen(env);

	/* A good ACK padded with whitespace past the cap. */
	big = malloc(n);
	memcpy(big, env, envlen);
	memset(big + envlen, ' ', n - envlen);
	ack = ack_parse_ok(pin, big, LIC_ENVELOPE_MAX);
	lic_ack_free(&ack);
	ck_assert_int_eq(lic_ack_parse(pin, big, n, &dev_udi, &ack, err,
				       sizeof(err)),
			 -1);
	ck_assert_ptr_null(ack);
	ck_assert_msg(strstr(err, "outside") != NULL, "%s", err);
	free(big);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

/* A report envelope is not an ACK, even when signed by the server key. */
UNIT_TEST(report_is_not_an_ack)
{
	struct lic_key *srv = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_report_info in = sample_report(ids_ab[0]);
	struct lic_ack *ack = NULL;
	char *env = NULL, err[256];
	size_t envlen = 0;

	ck_assert_int_eq(lic_report_build(srv, &in, &env, &envlen, err,
					  sizeof(err)),
			 0);
	ck_assert_int_eq(lic_ack_parse(pin, env, envlen, NULL, &ack, err,
				       sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "expected \"usage_ack\"") != NULL, "%s",
		      err);
	free(env);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
}
END_TEST

UNIT_MAIN("sign")
