/* lsrv tls: TLS key, self-signed certificate, server context (tls.h). */
#include "licd/tls.h"

#include "common/err.h"
#include "common/fileio.h"
#include "common/sslerr.h"
#include "licensing/keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define PATH_MAX_LEN 4096
#define CERT_FILE_MAX (64 * 1024)

static bool is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

static bool is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	       host[0] == '\0';
}

/* A DNS name we can put in a SAN: 1..253 of [A-Za-z0-9.-]. */
static bool dns_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= 253 ||
		    !((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
		      s[n] == '-'))
			return false;
	return n > 0;
}

/* Pushes a name of type GEN_* holding v (owned; NULL is a failure). */
static int add_name(GENERAL_NAMES *gens, int type, ASN1_STRING *v)
{
	GENERAL_NAME *gn = v != NULL ? GENERAL_NAME_new() : NULL;

	if (gn == NULL) {
		ASN1_STRING_free(v);
		return -1;
	}
	GENERAL_NAME_set0_value(gn, type, v);
	if (sk_GENERAL_NAME_push(gens, gn) == 0) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

static int add_ip(GENERAL_NAMES *gens, const char *ip)
{
	return add_name(gens, GEN_IPADD, a2i_IPADDRESS(ip));
}

static int add_dns(GENERAL_NAMES *gens, const char *name)
{
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (s != NULL && ASN1_STRING_set(s, name, (int)strlen(name)) != 1) {
		ASN1_IA5STRING_free(s);
		s = NULL;
	}
	return add_name(gens, GEN_DNS, s);
}

/* Same address, whatever its spelling (::1 and 0:0::1). */
static bool same_ip(const char *a, const char *b)
{
	ASN1_OCTET_STRING *x = a2i_IPADDRESS(a), *y = a2i_IPADDRESS(b);
	bool same = x != NULL && y != NULL &&
		    ASN1_OCTET_STRING_cmp(x, y) == 0;

	ASN1_OCTET_STRING_free(x);
	ASN1_OCTET_STRING_free(y);
	return same;
}

/* The subjectAltName list of a new certificate for listen_host. */
static GENERAL_NAMES *san_for(const char *host)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	char hn[256];
	int rc = 0;

	if (gens == NULL)
		return NULL;
	rc |= add_ip(gens, "127.0.0.1");
	rc |= add_ip(gens, "::1");
	rc |= add_dns(gens, "localhost");
	if (is_wildcard(host)) {
		/* Clients reach a wildcard listener by the host's name. */
		if (gethostname(hn, sizeof(hn)) == 0) {
			hn[sizeof(hn) - 1] = '\0';
			if (dns_ok(hn) && strcmp(hn, "localhost") != 0)
				rc |= add_dns(gens, hn);
		}
	} else if (is_ip(host)) {
		if (!same_ip(host, "127.0.0.1") && !same_ip(host, "::1"))
			rc |= add_ip(gens, host);
	} else if (strcasecmp(host, "localhost") != 0) {
		rc |= add_dns(gens, host);
	}
	if (rc != 0) {
		GENERAL_NAMES_free(gens);
		return NULL;
	}
	return gens;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* A self-signed server certificate for `pkey`. */
static X509 *cert_new(EVP_PKEY *pkey, const char *host, int64_t now,
		      char *err, size_t errlen)
{
	char buf[256];
	X509 *x = X509_new();
	X509_NAME *name;
	GENERAL_NAMES *gens = NULL;
	BIGNUM *bn = BN_new();
	time_t t = (time_t)now;

	if (x == NULL || bn == NULL)
		goto out_fail;
	/* 127-bit random positive serial: unique enough, never negative. */
	if (X509_set_version(x, 2) != 1 ||
	    BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out_fail;
	/* An hour of slack for clients whose clock is a little behind. */
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), LSRV_TLS_CERT_DAYS, 0,
			     &t) == NULL)
		goto out_fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				       (const unsigned char *)"licd", -1, -1,
				       0) != 1 ||
	    X509_NAME_add_entry_by_txt(
		    name, "CN", MBSTRING_ASC,
		    (const unsigned char *)(is_wildcard(host) ? "localhost"
							      : host),
		    -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1)
		goto out_fail;
	gens = san_for(host);
	if (gens == NULL ||
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			  X509V3_ADD_DEFAULT) != 1 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0)
		goto out_fail;
	if (X509_sign(x, pkey, EVP_sha256()) == 0)
		goto out_fail;
	GENERAL_NAMES_free(gens);
	BN_free(bn);
	return x;
out_fail:
	err_set(err, errlen, "cannot make the TLS certificate: %s",
		sslerr_text(buf, sizeof(buf), NULL));
	GENERAL_NAMES_free(gens);
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* PEM of `x` to path, replacing it whole (fio_write_atomic). */
static int cert_write(X509 *x, const char *path, char *err, size_t errlen)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n;
	int rc = -1;

	if (mem == NULL || PEM_write_bio_X509(mem, x) != 1 ||
	    (n = BIO_get_mem_data(mem, &pem)) <= 0) {
		err_set(err, errlen, "cannot encode the TLS certificate");
		goto out;
	}
	rc = fio_write_atomic(path, pem, (size_t)n, 0644, err, errlen);
out:
	BIO_free(mem);
	return rc;
}

/* The certificate at path, or NULL (*missing set when there is none). */
static X509 *cert_load(const char *path, bool *missing, char *err,
		       size_t errlen)
{
	char buf[256];
	struct stat sb;
	X509 *x = NULL;
	FILE *f;

	*missing = false;
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			*missing = true;
		else
			err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > CERT_FILE_MAX) {
		err_set(err, errlen,
			"%s: not a regular file of at most %d bytes", path,
			CERT_FILE_MAX);
		return NULL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		err_set(err, errlen, "%s: %s", path,
			sslerr_text(buf, sizeof(buf), NULL));
	return x;
}

SSL_CTX *lsrv_tls_context(const char *state_dir, const char *listen_host,
			  int64_t now, char *warning, size_t warnlen,
			  char *err, size_t errlen)
{
	char keypath[PATH_MAX_LEN], certpath[PATH_MAX_LEN], buf[256];
	struct lic_key *k = NULL;
	SSL_CTX *ctx = NULL;
	X509 *x = NULL;
	EVP_PKEY *pkey;
	bool missing = false;
	int created = 0;

	if (warning != NULL && warnlen > 0)
		warning[0] = '\0';
	if (state_dir == NULL || listen_host == NULL ||
	    strlen(listen_host) > LSRV_HOST_MAX) {
		err_set(err, errlen, "tls: bad arguments");
		return NULL;
	}
	snprintf(keypath, sizeof(keypath), "%s/%s", state_dir,
		 LSRV_TLS_KEY_FILE);
	snprintf(certpath, sizeof(certpath), "%s/%s", state_dir,
		 LSRV_TLS_CERT_FILE);
	/* Creation and the 0600 / owner / P-256 checks of the key file. */
	if (lic_key_load_or_create(keypath, &k, &created, err, errlen) != 0)
		return NULL;
	lic_key_free(&k);
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, keypath, SSL_FILETYPE_PEM) != 1) {
		err_set(err, errlen, "TLS context: %s",
			sslerr_text(buf, sizeof(buf), NULL));
		goto out_fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
					 SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	pkey = SSL_CTX_get0_privatekey(ctx);
	x = created ? NULL : cert_load(certpath, &missing, err, errlen);
	if (x == NULL && !created && !missing)
		goto out_fail;
	if (x != NULL && X509_check_private_key(x, pkey) != 1) {
		/* Not this key's certificate: useless, make a new one. */
		ERR_clear_error();
		X509_free(x);
		x = NULL;
	}
	if (x == NULL) {
		x = cert_new(pkey, listen_host, now, err, errlen);
		if (x == NULL ||
		    cert_write(x, certpath, err, errlen) != 0)
			goto out_fail;
	} else if (!is_wildcard(listen_host) &&
		   (is_ip(listen_host)
			    ? X509_check_ip_asc(x, listen_host, 0)
			    : X509_check_host(x, listen_host, 0, 0, NULL)) !=
			   1) {
		err_set(warning, warnlen,
			"%s does not name %s: clients using that address "
			"will refuse it (remove %s and %s to make new ones)",
			certpath, listen_host, certpath, keypath);
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		err_set(err, errlen, "TLS certificate: %s",
			sslerr_text(buf, sizeof(buf), NULL));
		goto out_fail;
	}
	X509_free(x);
	return ctx;
out_fail:
	X509_free(x);
	SSL_CTX_free(ctx);
	return NULL;
}
