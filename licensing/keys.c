/*
 * lic keys: ECDSA P-256 key pairs, signatures and base64 (see keys.h).
 * OpenSSL 3 EVP interfaces only.
 */
#include "licensing/keys.h"

#include "common/err.h"
#include "common/fileio.h"
#include "common/sslerr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

struct lic_key {
	EVP_PKEY *pkey; /* private key; OpenSSL clears it when freed */
};

struct lic_pubkey {
	EVP_PKEY *pkey;
};

/* 1 when pkey is an EC key on P-256, else 0. */
static int is_p256(EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
					    group, sizeof(group), &glen)) {
		ERR_clear_error();
		return 0;
	}
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

static EVP_PKEY *p256_generate(char *err, size_t errlen)
{
	char eb[256];
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (pkey == NULL)
		err_set(err, errlen, "cannot generate a P-256 key: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
	return pkey;
}

/* A lic_key holding pkey into *out; pkey is freed on a failure. */
static int key_wrap(EVP_PKEY *pkey, struct lic_key **out, char *err,
		    size_t errlen)
{
	struct lic_key *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		EVP_PKEY_free(pkey);
		err_set(err, errlen, "out of memory");
		return -1;
	}
	k->pkey = pkey;
	*out = k;
	return 0;
}

int lic_key_generate(struct lic_key **out, char *err, size_t errlen)
{
	EVP_PKEY *pkey;

	if (out == NULL) {
		err_set(err, errlen, "no output pointer");
		return -1;
	}
	*out = NULL;
	pkey = p256_generate(err, errlen);
	if (pkey == NULL)
		return -1;
	return key_wrap(pkey, out, err, errlen);
}

void lic_key_free(struct lic_key **k)
{
	if (k == NULL || *k == NULL)
		return;
	EVP_PKEY_free((*k)->pkey); /* EC private scalar is cleared by OpenSSL */
	OPENSSL_cleanse(*k, sizeof(**k));
	free(*k);
	*k = NULL;
}

void lic_pubkey_free(struct lic_pubkey **pk)
{
	if (pk == NULL || *pk == NULL)
		return;
	EVP_PKEY_free((*pk)->pkey);
	free(*pk);
	*pk = NULL;
}

/*
 * Private key -> PKCS#8 PEM in a secure-heap memory BIO (cleared on free).
 * *pem points into the BIO; the caller frees the BIO.
 */
static BIO *private_pem(EVP_PKEY *pkey, const char **pem, size_t *len,
			char *err, size_t errlen)
{
	char eb[256];
	BIO *b = BIO_new(BIO_s_secmem());
	char *p = NULL;
	long n;

	if (b == NULL || !PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL,
						   NULL)) {
		err_set(err, errlen, "cannot encode the private key: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
		BIO_free(b);
		return NULL;
	}
	n = BIO_get_mem_data(b, &p);
	if (n <= 0 || p == NULL) {
		err_set(err, errlen, "cannot encode the private key");
		BIO_free(b);
		return NULL;
	}
	*pem = p;
	*len = (size_t)n;
	return b;
}

/*
 * Writes a new key to `path`. Returns 0 when written, 1 when another writer
 * created `path` first (the caller then loads that one), -1 on error.
 */
static int key_create(const char *path, EVP_PKEY *pkey, char *err,
		      size_t errlen)
{
	char tmp[PATH_MAX];
	unsigned char rnd[8];
	const char *pem = NULL;
	size_t pemlen = 0;
	BIO *b = NULL;
	int fd = -1, rc = -1, n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		err_set(err, errlen, "cannot get random bytes for a temp name");
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x",
		     path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		     rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		err_set(err, errlen, "key file path too long: %s", path);
		return -1;
	}
	b = private_pem(pkey, &pem, &pemlen, err, errlen);
	if (b == NULL)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err_set(err, errlen, "cannot create %s: %s", tmp,
		       strerror(errno));
		goto out_free_bio;
	}
	if (fchmod(fd, 0600) != 0 || fio_write_all(fd, pem, pemlen) != 0 ||
	    fsync(fd) != 0) {
		err_set(err, errlen, "cannot write %s: %s", tmp,
		       strerror(errno));
		goto out_unlink_tmp;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(err, errlen, "cannot write %s: %s", tmp,
		       strerror(errno));
		goto out_unlink_tmp;
	}
	fd = -1;
	/* link() never replaces an existing key; rename() only as fallback. */
	if (link(tmp, path) == 0) {
		unlink(tmp);
	} else if (errno == EEXIST) {
		rc = 1;
		goto out_unlink_tmp;
	} else if (errno == EPERM || errno == ENOTSUP || errno == EXDEV ||
		   errno == EOPNOTSUPP) {
		if (rename(tmp, path) != 0) {
			err_set(err, errlen, "cannot rename %s to %s: %s", tmp,
			       path, strerror(errno));
			goto out_unlink_tmp;
		}
	} else {
		err_set(err, errlen, "cannot create %s: %s", path,
		       strerror(errno));
		goto out_unlink_tmp;
	}
	if (fio_sync_dir(path) != 0) {
		err_set(err, errlen, "cannot sync the directory of %s: %s",
		       path, strerror(errno));
		goto out_free_bio; /* the key file is in place; keep it */
	}
	rc = 0;
	goto out_free_bio;

out_unlink_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free_bio:
	BIO_free(b);
	return rc;
}

/*
 * Opens and checks an existing key file. Returns 0 with *pkey set, 1 when
 * the file does not exist, -1 on error (reason in err).
 */
static int key_load(const char *path, EVP_PKEY **pkey, char *err,
		    size_t errlen)
{
	char eb[256];
	unsigned char *buf = NULL;
	size_t used = 0;
	struct stat st;
	BIO *b = NULL;
	int fd, rc = -1;

	*pkey = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			err_set(err, errlen,
			       "refusing key file %s: it is a symbolic link",
			       path);
		else
			err_set(err, errlen, "cannot open key file %s: %s",
			       path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, errlen, "cannot stat key file %s: %s", path,
		       strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, errlen,
		       "refusing key file %s: not a regular file", path);
		goto out_close;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(err, errlen,
		       "refusing key file %s: mode %04o is looser than 0600 "
		       "(group/other access); run chmod 600 on it",
		       path, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	if (st.st_uid != geteuid()) {
		err_set(err, errlen,
		       "refusing key file %s: owned by uid %u, not by the "
		       "running user (uid %u)",
		       path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out_close;
	}
	if (st.st_size <= 0 || st.st_size > LIC_KEY_FILE_MAX) {
		err_set(err, errlen,
		       "refusing key file %s: size %lld outside 1..%d bytes",
		       path, (long long)st.st_size, LIC_KEY_FILE_MAX);
		goto out_close;
	}
	buf = malloc(LIC_KEY_FILE_MAX + 1);
	if (buf == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_close;
	}
	for (;;) {
		ssize_t r = read(fd, buf + used, LIC_KEY_FILE_MAX + 1 - used);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, errlen, "cannot read key file %s: %s",
			       path, strerror(errno));
			goto out_wipe_buf;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used > LIC_KEY_FILE_MAX) {
			err_set(err, errlen,
			       "refusing key file %s: larger than %d bytes",
			       path, LIC_KEY_FILE_MAX);
			goto out_wipe_buf;
		}
	}
	b = BIO_new_mem_buf(buf, (int)used);
	if (b == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_wipe_buf;
	}
	*pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (*pkey == NULL) {
		err_set(err, errlen,
		       "key file %s does not hold a PEM private key: %s", path,
		       sslerr_text(eb, sizeof(eb), NULL));
		goto out_free_bio;
	}
	if (!is_p256(*pkey)) {
		err_set(err, errlen,
		       "key file %s does not hold an EC P-256 private key",
		       path);
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
		goto out_free_bio;
	}
	rc = 0;

out_free_bio:
	BIO_free(b);
out_wipe_buf:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, LIC_KEY_FILE_MAX + 1);
		free(buf);
	}
out_close:
	close(fd);
	return rc;
}

int lic_key_load_or_create(const char *path, struct lic_key **out, int *created,
			   char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	int rc, attempt;

	if (out != NULL)
		*out = NULL;
	if (created != NULL)
		*created = 0;
	if (path == NULL || *path == '\0' || out == NULL) {
		err_set(err, errlen, "no key file path or output pointer");
		return -1;
	}
	/* Two rounds: a concurrent creator may win between load and create. */
	for (attempt = 0; attempt < 2; attempt++) {
		rc = key_load(path, &pkey, err, errlen);
		if (rc <= 0)
			break;
		pkey = p256_generate(err, errlen);
		if (pkey == NULL) {
			rc = -1;
			break;
		}
		rc = key_create(path, pkey, err, errlen);
		if (rc == 0) {
			if (created != NULL)
				*created = 1;
			break;
		}
		EVP_PKEY_free(pkey);
		pkey = NULL;
		if (rc < 0)
			break;
	}
	if (rc != 0 || pkey == NULL) {
		if (rc > 0)
			err_set(err, errlen, "key file %s keeps changing", path);
		EVP_PKEY_free(pkey);
		return -1;
	}
	return key_wrap(pkey, out, err, errlen);
}

/* DER SubjectPublicKeyInfo of pkey; *der is the caller's (OPENSSL_free). */
static int spki_der(EVP_PKEY *pkey, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_PUBKEY(pkey, der);
	if (n <= 0) {
		ERR_clear_error();
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static int pub_pem(EVP_PKEY *pkey, char **pem, size_t *len, char *err,
		   size_t errlen)
{
	char eb[256];
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int rc = -1;

	*pem = NULL;
	if (b == NULL || !PEM_write_bio_PUBKEY(b, pkey)) {
		err_set(err, errlen, "cannot encode the public key: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
		goto out_free_bio;
	}
	n = BIO_get_mem_data(b, &p);
	if (n <= 0 || p == NULL)
		goto out_free_bio;
	*pem = malloc((size_t)n + 1);
	if (*pem == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_free_bio;
	}
	memcpy(*pem, p, (size_t)n);
	(*pem)[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	rc = 0;
out_free_bio:
	BIO_free(b);
	return rc;
}

static void key_id_of(EVP_PKEY *pkey, char out[LIC_KEY_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	size_t derlen = 0;
	size_t i;

	out[0] = '\0';
	if (pkey == NULL || spki_der(pkey, &der, &derlen) != 0)
		return;
	if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		ERR_clear_error();
		OPENSSL_free(der);
		return;
	}
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[LIC_KEY_ID_LEN] = '\0';
	OPENSSL_free(der);
}

/* pub_pem() of pkey, NULL when the caller had no key. */
static int checked_pub_pem(EVP_PKEY *pkey, char **pem, size_t *len,
			   char *err, size_t errlen)
{
	if (pkey == NULL || pem == NULL) {
		err_set(err, errlen, "no key or output pointer");
		return -1;
	}
	return pub_pem(pkey, pem, len, err, errlen);
}

int lic_key_public_pem(const struct lic_key *k, char **pem, size_t *len,
		       char *err, size_t errlen)
{
	return checked_pub_pem(k != NULL ? k->pkey : NULL, pem, len, err,
			       errlen);
}

int lic_pubkey_pem(const struct lic_pubkey *pk, char **pem, size_t *len,
		   char *err, size_t errlen)
{
	return checked_pub_pem(pk != NULL ? pk->pkey : NULL, pem, len, err,
			       errlen);
}

int lic_key_public_der_b64(const struct lic_key *k, char **b64, size_t *len,
			   char *err, size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;

	if (k == NULL || b64 == NULL) {
		err_set(err, errlen, "no key or output pointer");
		return -1;
	}
	if (spki_der(k->pkey, &der, &derlen) != 0) {
		err_set(err, errlen, "cannot encode the public key");
		return -1;
	}
	*b64 = lic_b64_encode(der, derlen, len);
	OPENSSL_free(der);
	if (*b64 == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* pkey, a P-256 public key, as a new *out; pkey is freed on a failure. */
/* *out cleared for a lic_pubkey maker; false with "no <what> or output
 * pointer" when its input or out is NULL. */
static bool pubkey_args_ok(const void *in, struct lic_pubkey **out,
			   const char *what, char *err, size_t errlen)
{
	if (out != NULL)
		*out = NULL;
	if (in == NULL || out == NULL) {
		err_set(err, errlen, "no %s or output pointer", what);
		return false;
	}
	return true;
}

static int pubkey_wrap(EVP_PKEY *pkey, struct lic_pubkey **out, char *err,
		       size_t errlen)
{
	if (!is_p256(pkey)) {
		EVP_PKEY_free(pkey);
		err_set(err, errlen, "public key is not EC P-256");
		return -1;
	}
	*out = calloc(1, sizeof(**out));
	if (*out == NULL) {
		EVP_PKEY_free(pkey);
		err_set(err, errlen, "out of memory");
		return -1;
	}
	(*out)->pkey = pkey;
	return 0;
}

/* A lic_pubkey holding only the public half of pkey (DER round trip). */
static int pubkey_from_der(const unsigned char *der, size_t len,
			   struct lic_pubkey **out, char *err, size_t errlen)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	if (len == 0 || len > LIC_KEY_FILE_MAX) {
		err_set(err, errlen, "public key DER size %zu outside 1..%d",
		       len, LIC_KEY_FILE_MAX);
		return -1;
	}
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL || p != der + len) {
		ERR_clear_error();
		EVP_PKEY_free(pkey);
		err_set(err, errlen, "not a DER SubjectPublicKeyInfo");
		return -1;
	}
	return pubkey_wrap(pkey, out, err, errlen);
}

int lic_key_public(const struct lic_key *k, struct lic_pubkey **out,
		   char *err, size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	int rc;

	if (!pubkey_args_ok(k, out, "key", err, errlen))
		return -1;
	if (spki_der(k->pkey, &der, &derlen) != 0) {
		err_set(err, errlen, "cannot encode the public key");
		return -1;
	}
	rc = pubkey_from_der(der, derlen, out, err, errlen);
	OPENSSL_free(der);
	return rc;
}

void lic_key_id(const struct lic_key *k, char out[LIC_KEY_ID_LEN + 1])
{
	key_id_of(k != NULL ? k->pkey : NULL, out);
}

void lic_pubkey_id(const struct lic_pubkey *pk, char out[LIC_KEY_ID_LEN + 1])
{
	key_id_of(pk != NULL ? pk->pkey : NULL, out);
}

int lic_pubkey_from_pem(const char *pem, size_t len, struct lic_pubkey **out,
			char *err, size_t errlen)
{
	char eb[256];
	EVP_PKEY *pkey;
	BIO *b;

	if (!pubkey_args_ok(pem, out, "PEM text", err, errlen))
		return -1;
	if (len == 0 || len > LIC_KEY_FILE_MAX) {
		err_set(err, errlen, "public key PEM size %zu outside 1..%d",
		       len, LIC_KEY_FILE_MAX);
		return -1;
	}
	b = BIO_new_mem_buf(pem, (int)len);
	if (b == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (pkey == NULL) {
		err_set(err, errlen, "not a PEM public key: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
		return -1;
	}
	return pubkey_wrap(pkey, out, err, errlen);
}

int lic_pubkey_from_der_b64(const char *b64, size_t len,
			    struct lic_pubkey **out, char *err, size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	int rc;

	if (!pubkey_args_ok(b64, out, "key text", err, errlen))
		return -1;
	if (len > LIC_KEY_FILE_MAX) {
		err_set(err, errlen, "public key text longer than %d bytes",
		       LIC_KEY_FILE_MAX);
		return -1;
	}
	if (lic_b64_decode(b64, len, &der, &derlen, err, errlen) != 0)
		return -1;
	rc = pubkey_from_der(der, derlen, out, err, errlen);
	free(der);
	return rc;
}

int lic_sign(const struct lic_key *k, const unsigned char *data, size_t len,
	     unsigned char **sig, size_t *siglen, char *err, size_t errlen)
{
	char eb[256];
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t n = 0;
	int rc = -1;

	if (sig != NULL)
		*sig = NULL;
	if (k == NULL || (data == NULL && len > 0) || sig == NULL ||
	    siglen == NULL) {
		err_set(err, errlen, "lic_sign: missing argument");
		return -1;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL ||
	    EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, k->pkey,
				  NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || n == 0) {
		err_set(err, errlen, "cannot sign: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
		goto out_free_ctx;
	}
	buf = malloc(n);
	if (buf == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_free_ctx;
	}
	if (EVP_DigestSign(ctx, buf, &n, data, len) != 1 || n > LIC_SIG_MAX) {
		err_set(err, errlen, "cannot sign: %s",
		       sslerr_text(eb, sizeof(eb), NULL));
		free(buf);
		goto out_free_ctx;
	}
	*sig = buf;
	*siglen = n;
	rc = 0;
out_free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int lic_verify(const struct lic_pubkey *pk, const unsigned char *data,
	       size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int rc;

	if (pk == NULL || (data == NULL && len > 0) || sig == NULL)
		return -1;
	if (siglen == 0 || siglen > LIC_SIG_MAX)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pk->pkey,
				    NULL) != 1) {
		rc = -1;
		goto out_free_ctx;
	}
	/* Any failure past set-up is about the signature: report it bad. */
	rc = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1 ? 1 : 0;
out_free_ctx:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

char *lic_b64_encode(const unsigned char *in, size_t len, size_t *outlen)
{
	size_t n;
	char *out;
	int w;

	if (len > (size_t)INT_MAX / 4 * 3 - 3 || (in == NULL && len > 0))
		return NULL;
	n = 4 * ((len + 2) / 3);
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	w = len > 0 ? EVP_EncodeBlock((unsigned char *)out, in, (int)len) : 0;
	if (w < 0 || (size_t)w != n) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return out;
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int lic_b64_decode(const char *in, size_t len, unsigned char **out,
		   size_t *outlen, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pad = 0, i, n;
	unsigned char *buf;
	int w;

	if (out != NULL)
		*out = NULL;
	if ((in == NULL && len > 0) || out == NULL || outlen == NULL) {
		err_set(err, errlen, "base64: missing argument");
		return -1;
	}
	if (len % 4 != 0 || len > (size_t)INT_MAX) {
		err_set(err, errlen,
		       "bad base64: length %zu is not a multiple of 4", len);
		return -1;
	}
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++) {
		if (b64_val(s[i]) < 0) {
			err_set(err, errlen,
			       "bad base64: invalid character at offset %zu",
			       i);
			return -1;
		}
	}
	/* Canonical form: the bits the padding drops must be zero. */
	if (pad == 1 && (b64_val(s[len - 2]) & 0x3) != 0) {
		err_set(err, errlen, "bad base64: non-canonical padding");
		return -1;
	}
	if (pad == 2 && (b64_val(s[len - 3]) & 0xf) != 0) {
		err_set(err, errlen, "bad base64: non-canonical padding");
		return -1;
	}
	n = len / 4 * 3;
	buf = malloc(n + 1);
	if (buf == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	w = len > 0 ? EVP_DecodeBlock(buf, s, (int)len) : 0;
	if (w < 0 || (size_t)w != n) {
		free(buf);
		err_set(err, errlen, "bad base64");
		return -1;
	}
	*out = buf;
	*outlen = n - pad;
	return 0;
}
