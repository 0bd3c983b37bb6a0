#include "sbc/tlsfiles.h"

#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_DIR_NAME "tls"

/* A PEM file read whole; data is wiped before it is freed. */
struct pem_file {
	char *data;
	size_t len;
	mode_t mode;
};

static void pem_file_free(struct pem_file *f)
{
	if (f->data != NULL) {
		OPENSSL_cleanse(f->data, f->len);
		free(f->data);
	}
	f->data = NULL;
	f->len = 0;
}

/*
 * Read a regular file of 1..SBC_TLSFILES_MAX bytes, NUL-terminated; the
 * reasons are the ones docs/configuration.md lists. One byte more than the
 * size is asked for, so that a file growing while read is noticed.
 */
static int pem_file_read(const char *path, struct pem_file *f, char *why,
			 size_t whylen)
{
	struct stat st;
	ssize_t r;
	int fd, rc = -1;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_set(why, whylen, "cannot open file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(why, whylen, "not a regular file");
		goto out_close;
	}
	if (st.st_size <= 0 || st.st_size > SBC_TLSFILES_MAX) {
		err_set(why, whylen, "file size outside 1-%d bytes",
			SBC_TLSFILES_MAX);
		goto out_close;
	}
	f->mode = st.st_mode;
	f->data = malloc((size_t)st.st_size + 1);
	if (f->data == NULL) {
		err_set(why, whylen, "out of memory");
		goto out_close;
	}
	while (f->len <= (size_t)st.st_size) {
		r = read(fd, f->data + f->len, (size_t)st.st_size + 1 - f->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(why, whylen, "read error: %s", strerror(errno));
			goto out_free;
		}
		if (r == 0)
			break;
		f->len += (size_t)r;
	}
	if (f->len == 0 || f->len > (size_t)st.st_size) {
		err_set(why, whylen, "file changed while read");
		goto out_free;
	}
	f->data[f->len] = '\0';
	rc = 0;
	goto out_close;

out_free:
	pem_file_free(f);
out_close:
	close(fd);
	return rc;
}

/* ---- checks ---- */

/* Never ask for a passphrase: an encrypted key is refused, not prompted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Every certificate in f; 0 when there is none or one does not decode. */
static size_t pem_count_certs(const struct pem_file *f, X509 **first)
{
	BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
	size_t n = 0;
	X509 *x;

	if (b == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (n++ == 0 && first != NULL)
			*first = x;
		else
			X509_free(x);
	}
	BIO_free(b);
	return n;
}

static EVP_PKEY *pem_key(const struct pem_file *f)
{
	BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
	EVP_PKEY *k;

	if (b == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	return k;
}

int sbc_tlsfiles_check_certs(const char *path, X509 **first, char *why,
			     size_t whylen)
{
	struct pem_file f = {0};
	int rc = -1;

	if (pem_file_read(path, &f, why, whylen) < 0)
		return -1;
	if (pem_count_certs(&f, first) == 0)
		err_set(why, whylen, "no PEM certificate in file");
	else
		rc = 0;
	pem_file_free(&f);
	return rc;
}

int sbc_tlsfiles_check_key(const char *path, X509 *cert, char *why,
			   size_t whylen)
{
	struct pem_file f = {0};
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (pem_file_read(path, &f, why, whylen) < 0)
		return -1;
	if ((f.mode & 077) != 0) {
		err_set(why, whylen,
			"private key file mode %04o gives group or other "
			"access (chmod 600)",
			(unsigned)(f.mode & 07777));
		goto out;
	}
	key = pem_key(&f);
	if (key == NULL) {
		err_set(why, whylen, "%s",
			strstr(f.data, "ENCRYPTED") != NULL
				? "encrypted private key (not supported)"
				: "no PEM private key in file");
		goto out;
	}
	if (cert != NULL && X509_check_private_key(cert, key) != 1) {
		err_set(why, whylen,
			"private key does not match tls certificate");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	pem_file_free(&f);
	return rc;
}

/* ---- the directory Sofia-SIP reads ---- */

/*
 * Write dir/name, mode 0600, as the files `paths` (NULL-terminated, at
 * most 2) one after the other, each ending with a newline. The text is
 * joined in a buffer wiped before it is freed.
 */
static int write_joined(const char *dir, const char *name,
			const char *const *paths, char *why, size_t whylen)
{
	struct pem_file f[2] = {{0}};
	char path[1100], reason[160];
	size_t i, n, len = 0, used = 0;
	char *text = NULL;
	int rc = -1;

	for (n = 0; n < 2 && paths[n] != NULL; n++) {
		rc = pem_file_read(paths[n], &f[n], reason, sizeof(reason));
		if (rc < 0) {
			err_set(why, whylen, "%.300s: %s", paths[n], reason);
			goto out;
		}
		len += f[n].len + 1;
	}
	text = malloc(len);
	if (text == NULL) {
		err_set(why, whylen, "out of memory");
		rc = -1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(text + used, f[i].data, f[i].len);
		used += f[i].len;
		if (f[i].data[f[i].len - 1] != '\n')
			text[used++] = '\n';
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = fio_write_atomic(path, text, used, 0600, why, whylen);
	OPENSSL_cleanse(text, len);
	free(text);
out:
	for (i = 0; i < n; i++)
		pem_file_free(&f[i]);
	return rc;
}

/* A file of ours in the directory: the credentials, their temporaries
 * (fio_write_atomic's "NAME.tmp.PID", older sbcd's "NAME.tmp"), tls.pem. */
static bool ours(const char *name)
{
	static const char *const prefixes[] = {SBC_TLSFILES_AGENT ".tmp",
					       SBC_TLSFILES_CA ".tmp"};
	size_t i;

	if (strcmp(name, SBC_TLSFILES_AGENT) == 0 ||
	    strcmp(name, SBC_TLSFILES_CA) == 0 || strcmp(name, "tls.pem") == 0)
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

void sbc_tlsfiles_scrub(const char *dir)
{
	char path[1100];
	struct dirent *de;
	DIR *d;

	if (dir[0] == '\0')
		return;
	d = opendir(dir);
	if (d == NULL) {
		if (errno != ENOENT)
			log_msg(LOG_LVL_WARNING, "SBC", "TLS",
				"cannot read %.200s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!ours(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && errno != ENOENT)
			log_msg(LOG_LVL_WARNING, "SBC", "TLS",
				"cannot remove %.200s: %s", path,
				strerror(errno));
	}
	closedir(d);
}

/* dir exists as a directory of ours, mode 0700 (made so if missing). */
static int own_dir(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err_set(why, whylen, "cannot create %.200s: %s", dir,
			strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid()) {
		err_set(why, whylen,
			"%.200s is not a directory owned by uid %u", dir,
			(unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0) {
		err_set(why, whylen, "cannot chmod 700 %.200s: %s", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

int sbc_tlsfiles_build(const char *state_dir, const char *key,
		       const char *cert, const char *ca, char *dir,
		       size_t dirlen, char *why, size_t whylen)
{
	const char *const agent[] = {key, cert, NULL};
	const char *const cas[] = {ca, NULL};
	int n;

	if (dirlen == 0)
		return -1;
	dir[0] = '\0';
	if (state_dir == NULL) {
		err_set(why, whylen, "no state directory for the TLS files");
		return -1;
	}
	n = snprintf(dir, dirlen, "%s/%s", state_dir, TLS_DIR_NAME);
	if (n < 0 || (size_t)n >= dirlen) {
		err_set(why, whylen, "state directory name too long");
		goto out_fail;
	}
	if (own_dir(dir, why, whylen) < 0)
		goto out_fail;
	sbc_tlsfiles_scrub(dir);
	if (write_joined(dir, SBC_TLSFILES_AGENT, agent, why, whylen) < 0 ||
	    (ca[0] != '\0' &&
	     write_joined(dir, SBC_TLSFILES_CA, cas, why, whylen) < 0)) {
		sbc_tlsfiles_scrub(dir);
		goto out_fail;
	}
	return 0;

out_fail:
	dir[0] = '\0';
	return -1;
}
