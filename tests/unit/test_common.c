/*
 * The shared file and SQLite helpers (common/fileio.h, common/db.h): a
 * whole-file write that replaces or leaves alone, never half, and leaves
 * no temporary file behind; a whole-file read that refuses what is not a
 * regular file of 1..max bytes; the statement table, single-row steps and
 * transactions the stores are built on, and the schema-version check.
 * Each test works in its own directory under /tmp (CK_FORK: one process
 * per test).
 */
#include "common/db.h"
#include "common/fileio.h"

#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_common_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* The names in dir that hold ".tmp.": leftovers of a write. */
static int temp_files(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(dh);
	while ((e = readdir(dh)) != NULL)
		if (strstr(e->d_name, ".tmp.") != NULL)
			n++;
	closedir(dh);
	return n;
}

/* ---- fileio ------------------------------------------------------------- */

UNIT_TCASE("fileio", .setup = setup, .teardown = teardown);

UNIT_TEST(atomic_write_replaces_content)
{
	char path[128], err[256], *buf = NULL;
	struct stat sb;
	size_t len = 0;

	in_dir(path, sizeof(path), "state.txt");
	ck_assert_int_eq(fio_write_atomic(path, "old content\n", 12, 0600, err,
					  sizeof(err)),
			 0);
	ck_assert_int_eq(fio_write_atomic(path, "new\n", 4, 0600, err,
					  sizeof(err)),
			 0);
	ck_assert_int_eq(fio_read_file(path, 1024, &buf, &len, err,
				       sizeof(err)),
			 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_str_eq(buf, "new\n");
	free(buf);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(temp_files(dir), 0);
}
END_TEST

UNIT_TEST(atomic_write_missing_directory)
{
	char path[128], err[256];

	in_dir(path, sizeof(path), "no/such/dir/file");
	errno = 0;
	ck_assert_int_eq(fio_write_atomic(path, "x", 1, 0600, err,
					  sizeof(err)),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(temp_files(dir), 0);
	/* No reason wanted: NULL is fine. */
	ck_assert_int_eq(fio_write_atomic(path, "x", 1, 0600, NULL, 0), -1);
}
END_TEST

/* The temporary file is written, then rename() fails: it must go. */
UNIT_TEST(atomic_write_failed_rename_leaves_no_temp)
{
	char path[128], inner[160], err[256];

	in_dir(path, sizeof(path), "taken");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/keep", path);
	ck_assert_int_eq(fio_write_atomic(inner, "k", 1, 0600, err,
					  sizeof(err)),
			 0);
	/* A non-empty directory cannot be replaced by a file. */
	ck_assert_int_eq(fio_write_atomic(path, "data", 4, 0600, err,
					  sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(temp_files(dir), 0);
	ck_assert_int_eq(temp_files(path), 0);
}
END_TEST

UNIT_TEST(read_file_reads_whole)
{
	char path[128], err[256], *buf = NULL;
	size_t len = 0;

	in_dir(path, sizeof(path), "f");
	ck_assert_int_eq(fio_write_atomic(path, "abc", 3, 0644, err,
					  sizeof(err)),
			 0);
	/* Exactly max bytes is within bounds. */
	ck_assert_int_eq(fio_read_file(path, 3, &buf, &len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(buf[3], '\0');
	ck_assert_str_eq(buf, "abc");
	free(buf);
}
END_TEST

UNIT_TEST(read_file_refuses_empty_big_missing)
{
	char path[128], err[256], *buf = NULL;
	size_t len = 0;
	int fd;

	in_dir(path, sizeof(path), "empty");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(fio_read_file(path, 100, &buf, &len, err,
				       sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "size 0"));
	ck_assert_ptr_null(buf);

	in_dir(path, sizeof(path), "big");
	ck_assert_int_eq(fio_write_atomic(path, "12345", 5, 0600, err,
					  sizeof(err)),
			 0);
	ck_assert_int_eq(fio_read_file(path, 4, &buf, &len, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not 1..4 bytes"));
	ck_assert_ptr_null(buf);

	in_dir(path, sizeof(path), "missing");
	ck_assert_int_eq(fio_read_file(path, 4, &buf, &len, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_null(buf);
}
END_TEST

UNIT_TEST(read_file_refuses_not_regular)
{
	char path[128], err[256], *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(fio_read_file(dir, 100, &buf, &len, err,
				       sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	/* A FIFO with no writer: refused at once, not waited on. */
	in_dir(path, sizeof(path), "fifo");
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(fio_read_file(path, 100, &buf, &len, err,
				       sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_ptr_null(buf);
}
END_TEST

UNIT_TEST(write_all_and_sync_dir)
{
	char path[128], got[16] = {0};
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fio_write_all(p[1], "hello", 5), 0);
	close(p[1]);
	ck_assert_int_eq(read(p[0], got, sizeof(got)), 5);
	ck_assert_str_eq(got, "hello");
	close(p[0]);
	ck_assert_int_eq(fio_write_all(-1, "x", 1), -1);
	ck_assert_int_eq(errno, EBADF);

	in_dir(path, sizeof(path), "anything");
	ck_assert_int_eq(fio_sync_dir(path), 0);
	in_dir(path, sizeof(path), "no/such/anything");
	ck_assert_int_eq(fio_sync_dir(path), -1);
}
END_TEST

/* ---- db ----------------------------------------------------------------- */

enum { Q_PUT, Q_GET, Q_COUNT };

static const char *const sql[Q_COUNT] = {
	[Q_PUT] = "INSERT INTO t (k, v) VALUES (?1, ?2)",
	[Q_GET] = "SELECT v FROM t WHERE k = ?1",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT);";

struct fx {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	char err[256];
};

static void fx_open(struct fx *f, int version)
{
	char path[128];

	memset(f, 0, sizeof(*f));
	in_dir(path, sizeof(path), "t.db");
	f->db = db_open(path, f->err, sizeof(f->err));
	ck_assert_msg(f->db != NULL, "%s", f->err);
	ck_assert_msg(db_schema(f->db, schema, "meta", version, "test store",
				f->err, sizeof(f->err)) == 0,
		      "%s", f->err);
	ck_assert_msg(db_prepare_all(f->db, sql, f->q, Q_COUNT, "preparing",
				     f->err, sizeof(f->err)) == 0,
		      "%s", f->err);
}

static void fx_close(struct fx *f)
{
	db_finalize_all(f->q, Q_COUNT);
	ck_assert_ptr_null(f->q[Q_PUT]);
	ck_assert_ptr_null(f->q[Q_GET]);
	db_close(&f->db);
	ck_assert_ptr_null(f->db);
}

static int put(struct fx *f, const char *k, const char *v)
{
	sqlite3_bind_text(f->q[Q_PUT], 1, k, -1, SQLITE_STATIC);
	if (v != NULL)
		sqlite3_bind_text(f->q[Q_PUT], 2, v, -1, SQLITE_STATIC);
	return db_run(f->q[Q_PUT], "storing", f->err, sizeof(f->err));
}

/* The value of k into out: SQLITE_ROW or SQLITE_DONE. */
static int get(struct fx *f, const char *k, char *out, size_t len)
{
	int rc;

	out[0] = '\0';
	sqlite3_bind_text(f->q[Q_GET], 1, k, -1, SQLITE_STATIC);
	rc = db_step(f->q[Q_GET], "reading", f->err, sizeof(f->err));
	if (rc == SQLITE_ROW)
		db_column_text(f->q[Q_GET], 0, out, len);
	db_done(f->q[Q_GET]);
	return rc;
}

UNIT_TCASE("db", .setup = setup, .teardown = teardown);

UNIT_TEST(db_prepare_step_run)
{
	struct fx f;
	char v[8];

	fx_open(&f, 1);
	ck_assert_int_eq(put(&f, "a", "alpha"), 0);
	ck_assert_int_eq(put(&f, "n", NULL), 0);
	ck_assert_int_eq(get(&f, "a", v, sizeof(v)), SQLITE_ROW);
	ck_assert_str_eq(v, "alpha");
	/* Cut to the buffer; NULL reads as "". */
	ck_assert_int_eq(get(&f, "a", v, 3), SQLITE_ROW);
	ck_assert_str_eq(v, "al");
	ck_assert_int_eq(get(&f, "n", v, sizeof(v)), SQLITE_ROW);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(get(&f, "zz", v, sizeof(v)), SQLITE_DONE);
	/* A failure is its SQLite code, the reason prefixed. */
	ck_assert_int_eq(put(&f, "a", "again") & 0xff, SQLITE_CONSTRAINT);
	ck_assert_msg(strncmp(f.err, "storing: ", 9) == 0, "%s", f.err);
	/* The failed statement was reset: it works again. */
	ck_assert_int_eq(put(&f, "b", "beta"), 0);
	fx_close(&f);
}
END_TEST

UNIT_TEST(db_prepare_all_failure)
{
	static const char *const bad[2] = {"SELECT 1", "SELECT * FROM nope"};
	sqlite3_stmt *q[2] = {NULL, NULL};
	struct fx f;

	fx_open(&f, 1);
	ck_assert_int_ne(db_prepare_all(f.db, bad, q, 2, "preparing x", f.err,
					sizeof(f.err)),
			 0);
	ck_assert_msg(strstr(f.err, "preparing x: no such table") != NULL,
		      "%s", f.err);
	/* What was prepared stays, for db_finalize_all. */
	ck_assert_ptr_nonnull(q[0]);
	ck_assert_ptr_null(q[1]);
	db_finalize_all(q, 2);
	ck_assert_ptr_null(q[0]);
	/* Without what: the reason alone. */
	ck_assert_int_ne(db_fail(f.db, NULL, f.err, sizeof(f.err)), 0);
	fx_close(&f);
}
END_TEST

UNIT_TEST(db_transactions)
{
	struct fx f;
	char v[8];

	fx_open(&f, 1);
	ck_assert_int_eq(db_begin(f.db, true, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(put(&f, "r", "rolled"), 0);
	db_rollback(f.db);
	ck_assert_int_ne(sqlite3_get_autocommit(f.db), 0);
	ck_assert_int_eq(get(&f, "r", v, sizeof(v)), SQLITE_DONE);
	/* Nothing open: harmless. */
	db_rollback(f.db);

	ck_assert_int_eq(db_begin(f.db, false, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(put(&f, "c", "kept"), 0);
	/* Transactions do not nest. */
	ck_assert_int_ne(db_begin(f.db, true, f.err, sizeof(f.err)), 0);
	ck_assert_msg(strncmp(f.err, "begin: ", 7) == 0, "%s", f.err);
	ck_assert_int_eq(db_commit(f.db, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(get(&f, "c", v, sizeof(v)), SQLITE_ROW);
	ck_assert_str_eq(v, "kept");
	ck_assert_int_ne(db_commit(f.db, f.err, sizeof(f.err)), 0);
	ck_assert_msg(strncmp(f.err, "commit: ", 8) == 0, "%s", f.err);
	fx_close(&f);
}
END_TEST

UNIT_TEST(db_schema_version)
{
	struct fx f;
	char path[128];
	sqlite3 *db;

	fx_open(&f, 3);
	ck_assert_int_eq(put(&f, "x", "1"), 0);
	fx_close(&f);
	/* The same version opens again, data kept. */
	fx_open(&f, 3);
	fx_close(&f);
	/* Another one is refused, nothing left open. */
	in_dir(path, sizeof(path), "t.db");
	db = db_open(path, f.err, sizeof(f.err));
	ck_assert_ptr_nonnull(db);
	ck_assert_int_ne(db_schema(db, schema, "meta", 4, "test store", f.err,
				   sizeof(f.err)),
			 0);
	ck_assert_str_eq(f.err,
			 "test store schema version 3, this build knows 4");
	ck_assert_int_ne(sqlite3_get_autocommit(db), 0);
	/* Bad schema SQL: named after the store. */
	ck_assert_int_ne(db_schema(db, "CREATE TABLE (", "meta", 3,
				   "test store", f.err, sizeof(f.err)),
			 0);
	ck_assert_msg(strncmp(f.err, "test store schema: ", 19) == 0, "%s",
		      f.err);
	ck_assert_int_ne(sqlite3_get_autocommit(db), 0);
	db_close(&db);
}
END_TEST

UNIT_MAIN("common")
