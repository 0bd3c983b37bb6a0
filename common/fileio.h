/*
 * fileio: the one writer of whole files and the one reader of them.
 *
 * Every state or credential file a daemon or tool writes (usage files,
 * certificates, keys, the stats snapshot, sbcctl's saved output) goes
 * through fio_write_atomic(): a reader, another process or the same one
 * after a crash, sees the old file or the new one, never half of either.
 */
#ifndef SBC_FILEIO_H
#define SBC_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write len bytes to fd, retrying short writes and EINTR. 0, or -1 with
 * errno set. */
int fio_write_all(int fd, const void *buf, size_t len);

/* fsync the directory holding path, so that a name just made in it (a
 * rename(), a link()) survives a crash. 0, or -1 with errno set. */
int fio_sync_dir(const char *path);

/*
 * Replace path with data: a temporary file beside it (created with mode,
 * O_EXCL), fsync, rename() over path, fsync of the directory so the rename
 * itself survives a crash. The temporary file never outlives a failure.
 * 0, or -1 with a reason naming the file and errno that of the failure.
 */
int fio_write_atomic(const char *path, const void *data, size_t len,
		     mode_t mode, char *err, size_t errlen);

/*
 * Read a regular file of 1..max bytes into a malloc'd buffer with a NUL
 * after the last byte (*buf, free() it; *len excludes the NUL). Anything
 * else (missing, not regular, empty, too big, a read error) is -1 with a
 * reason naming the file.
 */
int fio_read_file(const char *path, size_t max, char **buf, size_t *len,
		  char *err, size_t errlen);

#endif
