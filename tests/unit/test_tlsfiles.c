/*
 * The TLS credential files without Sofia-SIP: the checks of the PEM files
 * a configuration names, and the directory made for Sofia-SIP (its
 * content, modes, refusals, and that nothing of ours outlives a failure
 * or a scrub). Keys and certificates are made here with OpenSSL in a
 * temporary directory.
 */
#include "sbc/tlsfiles.h"

#include "testpki.h"
#include "unit.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NELEM
#endif

static char dir[64];

/* dir/name into path. */
static const char *at(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	return path;
}

/* The whole of a file, NUL-terminated (free() it); NULL when missing. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * cert.pem (0644), key.pem (0600), both.pem (key and certificate, 0600),
 * open.key (0644), other.key (another key), enc.key (encrypted),
 * empty.pem, cert600.pem (a certificate, 0600), bare.key (key.pem
 * without its last newline, 0600), state/ (an empty state directory).
 */
static void setup(void)
{
	EVP_PKEY *k = testpki_key(), *other = testpki_key();
	X509 *x = testpki_cert(k);
	char path[128], *text;
	size_t len;
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/test_tlsfiles_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	testpki_write(dir, "cert.pem", 0644, NULL, false, x);
	testpki_write(dir, "key.pem", 0600, k, false, NULL);
	testpki_write(dir, "both.pem", 0600, k, false, x);
	testpki_write(dir, "open.key", 0644, k, false, NULL);
	testpki_write(dir, "other.key", 0600, other, false, NULL);
	testpki_write(dir, "enc.key", 0600, k, true, NULL);
	testpki_write(dir, "empty.pem", 0644, NULL, false, NULL);
	testpki_write(dir, "cert600.pem", 0600, NULL, false, x);
	text = slurp(at("key.pem", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(text[len - 1], '\n');
	fp = fopen(at("bare.key", path, sizeof(path)), "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_uint_eq(fwrite(text, 1, len - 1, fp), len - 1);
	fclose(fp);
	free(text);
	ck_assert_int_eq(mkdir(at("state", path, sizeof(path)), 0755), 0);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void teardown(void)
{
	char cmd[128];

	/* What a failed test left behind too. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

struct check_case {
	const char *name; /* in dir; "/" alone: dir itself */
	bool key;	  /* checked as the private key (against cert.pem) */
	const char *reason; /* NULL: accepted */
};

static const struct check_case check_cases[] = {
	{"cert.pem", false, NULL},
	{"both.pem", false, NULL},
	{"nope.pem", false, "cannot open file: No such file or directory"},
	{"/", false, "not a regular file"},
	{"empty.pem", false, "file size outside 1-1048576 bytes"},
	{"key.pem", false, "no PEM certificate in file"},
	{"key.pem", true, NULL},
	{"both.pem", true, NULL},
	{"open.key", true,
	 "private key file mode 0644 gives group or other access (chmod 600)"},
	{"other.key", true, "private key does not match tls certificate"},
	{"enc.key", true, "encrypted private key (not supported)"},
	{"cert600.pem", true, "no PEM private key in file"},
	{"nope.key", true, "cannot open file: No such file or directory"},
};

UNIT_TCASE("checks", .setup = setup, .teardown = teardown);

UNIT_LOOP_TEST(test_check, 0, NELEM(check_cases))
{
	const struct check_case *c = &check_cases[_i];
	char path[128], cpath[128], why[160] = "";
	X509 *cert = NULL;
	int rc;

	if (strcmp(c->name, "/") == 0)
		snprintf(path, sizeof(path), "%s", dir);
	else
		at(c->name, path, sizeof(path));
	if (c->key) {
		ck_assert_int_eq(sbc_tlsfiles_check_certs(
					 at("cert.pem", cpath, sizeof(cpath)),
					 &cert, why, sizeof(why)),
				 0);
		ck_assert_ptr_nonnull(cert);
		rc = sbc_tlsfiles_check_key(path, cert, why, sizeof(why));
	} else {
		rc = sbc_tlsfiles_check_certs(path, &cert, why, sizeof(why));
	}
	if (c->reason == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert_ptr_nonnull(cert);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(why, c->reason);
	}
	X509_free(cert);
}
END_TEST

/* Without a certificate any good key passes; no buffer, no reason. */
UNIT_TEST(test_check_key_alone)
{
	char path[128];

	ck_assert_int_eq(sbc_tlsfiles_check_key(at("other.key", path,
						   sizeof(path)),
						NULL, NULL, 0),
			 0);
	ck_assert_int_eq(sbc_tlsfiles_check_key(at("open.key", path,
						   sizeof(path)),
						NULL, NULL, 0),
			 -1);
	ck_assert_int_eq(sbc_tlsfiles_check_certs(at("cert.pem", path,
						     sizeof(path)),
						  NULL, NULL, 0),
			 0);
}
END_TEST

UNIT_TCASE("directory", .setup = setup, .teardown = teardown);

/* The key then the certificate, each ending with a newline. */
UNIT_TEST(test_build)
{
	char state[128], out[1024], why[256] = "", path[1200];
	char key[128], cert[128], *k, *c, *agent, *ca, *want;
	size_t klen, clen, alen;

	at("state", state, sizeof(state));
	ck_assert_int_eq(sbc_tlsfiles_build(state, at("bare.key", key,
						      sizeof(key)),
					    at("cert.pem", cert, sizeof(cert)),
					    cert, out, sizeof(out), why,
					    sizeof(why)),
			 0);
	snprintf(path, sizeof(path), "%s/tls", state);
	ck_assert_str_eq(out, path);
	ck_assert_uint_eq(mode_of(out), 0700);

	k = slurp(key, &klen);
	c = slurp(cert, &clen);
	want = malloc(klen + 1 + clen + 1);
	ck_assert_ptr_nonnull(want);
	snprintf(want, klen + 1 + clen + 1, "%s\n%s", k, c);
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_AGENT, out);
	agent = slurp(path, &alen);
	ck_assert_ptr_nonnull(agent);
	ck_assert_str_eq(agent, want);
	ck_assert_uint_eq(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_CA, out);
	ca = slurp(path, NULL);
	ck_assert_ptr_nonnull(ca);
	ck_assert_str_eq(ca, c);
	ck_assert_uint_eq(mode_of(path), 0600);

	/* The credentials are read; then nothing of ours stays. */
	sbc_tlsfiles_scrub(out);
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_AGENT, out);
	ck_assert(!exists(path));
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_CA, out);
	ck_assert(!exists(path));
	free(k);
	free(c);
	free(want);
	free(agent);
	free(ca);
}
END_TEST

/* No CA file: no cafile.pem, and one left from before is gone; the
 * directory's mode is put back to 0700. */
UNIT_TEST(test_build_no_ca)
{
	char state[128], out[1024], path[1200], tls[160];
	FILE *fp;

	at("state", state, sizeof(state));
	snprintf(tls, sizeof(tls), "%s/tls", state);
	ck_assert_int_eq(mkdir(tls, 0755), 0);
	ck_assert_int_eq(chmod(tls, 0755), 0);
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_CA, tls);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(sbc_tlsfiles_build(state, at("both.pem", path,
						      sizeof(path)),
					    path, "", out, sizeof(out), NULL,
					    0),
			 0);
	ck_assert_str_eq(out, tls);
	ck_assert_uint_eq(mode_of(tls), 0700);
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_CA, tls);
	ck_assert(!exists(path));
	snprintf(path, sizeof(path), "%s/" SBC_TLSFILES_AGENT, tls);
	ck_assert(exists(path));
}
END_TEST

/* Refusals: the reason, dir "", and no credential file left behind. */
UNIT_TEST(test_build_fails)
{
	char state[128], out[1024] = "x", why[256] = "", path[1200];
	char key[128], cert[128], want[1400];
	FILE *fp;

	at("key.pem", key, sizeof(key));
	at("cert.pem", cert, sizeof(cert));
	ck_assert_int_eq(sbc_tlsfiles_build(NULL, key, cert, "", out,
					    sizeof(out), why, sizeof(why)),
			 -1);
	ck_assert_str_eq(why, "no state directory for the TLS files");
	ck_assert_str_eq(out, "");

	/* A missing certificate after the key: agent.pem is not made. */
	at("state", state, sizeof(state));
	strcpy(out, "x");
	ck_assert_int_eq(sbc_tlsfiles_build(state, key,
					    at("nope.pem", path, sizeof(path)),
					    "", out, sizeof(out), why,
					    sizeof(why)),
			 -1);
	snprintf(want, sizeof(want),
		 "%s: cannot open file: No such file or directory", path);
	ck_assert_str_eq(why, want);
	ck_assert_str_eq(out, "");
	snprintf(path, sizeof(path), "%s/tls/" SBC_TLSFILES_AGENT, state);
	ck_assert(!exists(path));

	/* A bad CA file: the agent.pem already written goes too. */
	ck_assert_int_eq(sbc_tlsfiles_build(state, key, cert,
					    at("empty.pem", want, sizeof(want)),
					    out, sizeof(out), why,
					    sizeof(why)),
			 -1);
	ck_assert_ptr_nonnull(strstr(why, "file size outside"));
	ck_assert(!exists(path));

	/* STATE/tls that is not a directory. */
	snprintf(path, sizeof(path), "%s/tls", state);
	ck_assert_int_eq(rmdir(path), 0);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(sbc_tlsfiles_build(state, key, cert, "", out,
					    sizeof(out), why, sizeof(why)),
			 -1);
	snprintf(want, sizeof(want), "%s is not a directory owned by uid %u",
		 path, (unsigned)geteuid());
	ck_assert_str_eq(why, want);
	ck_assert_str_eq(out, "");

	/* A symlink to a directory is not one either. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(dir, path), 0);
	ck_assert_int_eq(sbc_tlsfiles_build(state, key, cert, "", out,
					    sizeof(out), why, sizeof(why)),
			 -1);
	ck_assert_str_eq(why, want);

	/* Too long a name for the caller's buffer. */
	ck_assert_int_eq(sbc_tlsfiles_build(state, key, cert, "", out, 8, why,
					    sizeof(why)),
			 -1);
	ck_assert_str_eq(why, "state directory name too long");
	ck_assert_str_eq(out, "");
}
END_TEST

/* Ours (temporaries of a write cut short included) go; the rest stays. */
UNIT_TEST(test_scrub)
{
	static const char *const ours[] = {
		SBC_TLSFILES_AGENT,	     SBC_TLSFILES_CA,
		"tls.pem",		     SBC_TLSFILES_AGENT ".tmp",
		SBC_TLSFILES_AGENT ".tmp.42", SBC_TLSFILES_CA ".tmp.7",
	};
	static const char *const theirs[] = {"cert.pem", "key.pem",
					     "agent.pem.bak"};
	char path[128];
	size_t i;

	for (i = 0; i < NELEM(ours); i++)
		testpki_write(dir, ours[i], 0600, NULL, false, NULL);
	testpki_write(dir, "agent.pem.bak", 0600, NULL, false, NULL);
	sbc_tlsfiles_scrub(dir);
	for (i = 0; i < NELEM(ours); i++)
		ck_assert_msg(!exists(at(ours[i], path, sizeof(path))), "%s",
			      ours[i]);
	for (i = 0; i < NELEM(theirs); i++)
		ck_assert_msg(exists(at(theirs[i], path, sizeof(path))), "%s",
			      theirs[i]);
	sbc_tlsfiles_scrub("");
	sbc_tlsfiles_scrub("/nonexistent/tls");
}
END_TEST

UNIT_MAIN("tlsfiles")
