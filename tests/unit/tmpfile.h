/*
 * Temporary files of the Check suites: named after the test process, so
 * that forked tests and parallel ctest runs never share one.
 */
#ifndef SBC_TESTS_TMPFILE_H
#define SBC_TESTS_TMPFILE_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* "/tmp/<name>_<pid><suffix>" into buf. */
static inline void tmp_path(char *buf, size_t len, const char *name,
			    const char *suffix)
{
	snprintf(buf, len, "/tmp/%s_%ld%s", name, (long)getpid(), suffix);
}

/* Remove an SQLite database and the journal files WAL mode leaves. */
static inline void tmp_db_remove(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Send this process's stderr (the code's logging) to a new file at path,
 * to keep the test output readable. */
static inline void tmp_stderr_to(const char *path)
{
	int fd;

	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
}

#endif
