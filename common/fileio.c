#include "common/fileio.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int fio_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int dfd, rc;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
}

int fio_write_atomic(const char *path, const void *data, size_t len,
		     mode_t mode, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		err_set(err, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		saved = errno;
		err_set(err, errlen, "%s: %s", tmp, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fio_write_all(fd, data, len) != 0) {
		saved = errno;
		err_set(err, errlen, "%s: %s", tmp, strerror(saved));
		goto fail_close;
	}
	if (fsync(fd) != 0) {
		saved = errno;
		err_set(err, errlen, "%s: fsync: %s", tmp, strerror(saved));
		goto fail_close;
	}
	if (close(fd) != 0) {
		saved = errno;
		err_set(err, errlen, "%s: close: %s", tmp, strerror(saved));
		goto fail_unlink;
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		err_set(err, errlen, "%s: %s", path, strerror(saved));
		goto fail_unlink;
	}
	/* Not reported: the data itself is already on disk. */
	(void)fio_sync_dir(path);
	return 0;

fail_close:
	close(fd);
fail_unlink:
	unlink(tmp);
	errno = saved;
	return -1;
}

int fio_read_file(const char *path, size_t max, char **buf, size_t *len,
		  char *err, size_t errlen)
{
	struct stat sb;
	char *b;
	size_t off = 0;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (sb.st_size <= 0 || (unsigned long long)sb.st_size > max) {
		err_set(err, errlen, "%s: size %lld is not 1..%zu bytes", path,
			(long long)sb.st_size, max);
		goto out;
	}
	b = malloc((size_t)sb.st_size + 1);
	if (b == NULL) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + off, (size_t)sb.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(err, errlen, "%s: read failed", path);
			free(b);
			goto out;
		}
		off += (size_t)r;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	rc = 0;
out:
	close(fd);
	return rc;
}
