/*
 * Helpers of the fuzz targets (fuzz.h): input copies and the fixed keys.
 */
#include "fuzz.h"

#include "licensing/keys.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* Made once with `openssl genpkey -algorithm EC -pkeyopt
 * ec_paramgen_curve:P-256`. Test keys, public on purpose. */
static const char device_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3xaVqXxeubKUO7ib\n"
	"cNoRKt5hMGOBYmlVavquFyjGFcmhRANCAASpfYMfYxcAZL9raUHDadWWxQ79Suxx\n"
	"GsY8atPAs3wACQLS2cRVTBBGVNjoLTUyBpdCZ1O9b+teTZGPkSWZqkd3\n"
	"-----END PRIVATE KEY-----\n";
static const char server_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM019XKpWYJvukkTZ\n"
	"SDHO1BNP2jJhD4YGjQtBV4gVzhShRANCAARI1H4S+30ZwscJLA9CUBXr2U9a2dpr\n"
	"v0A7/19YhpbVV2t5bUQkE+dGu3w1a1/gbcFMkey9pWrQLRhLmpCXbE6x\n"
	"-----END PRIVATE KEY-----\n";

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	FUZZ_CHECK(t != NULL, "out of memory");
	if (size > 0)
		memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

/*
 * The keys module loads private keys only from files of mode 0600 (it has
 * no in-memory loader, on purpose): write the PEM to a private temporary
 * directory, load it, remove it.
 */
static struct lic_key *load_pem(const char *pem)
{
	char dir[] = "/tmp/sbc-fuzz-key-XXXXXX", path[PATH_MAX], err[256] = "";
	struct lic_key *k = NULL;
	size_t len = strlen(pem);
	int fd, created = 0;

	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot create %s", path);
	FUZZ_CHECK(write(fd, pem, len) == (ssize_t)len, "cannot write %s",
		   path);
	close(fd);
	FUZZ_CHECK(lic_key_load_or_create(path, &k, &created, err,
					  sizeof(err)) == 0 &&
			   created == 0,
		   "%s", err);
	unlink(path);
	rmdir(dir);
	return k;
}

const struct fuzz_keys *fuzz_keys(void)
{
	static struct fuzz_keys keys;
	static int loaded;
	char err[256] = "";

	if (loaded)
		return &keys;
	keys.device = load_pem(device_pem);
	keys.server = load_pem(server_pem);
	FUZZ_CHECK(lic_key_public(keys.device, &keys.device_pub, err,
				  sizeof(err)) == 0,
		   "%s", err);
	FUZZ_CHECK(lic_key_public(keys.server, &keys.server_pub, err,
				  sizeof(err)) == 0,
		   "%s", err);
	FUZZ_CHECK(lic_key_public_der_b64(keys.device, &keys.device_b64, NULL,
					  err, sizeof(err)) == 0,
		   "%s", err);
	FUZZ_CHECK(lic_key_public_pem(keys.server, &keys.server_pem, NULL, err,
				      sizeof(err)) == 0,
		   "%s", err);
	loaded = 1;
	return &keys;
}
