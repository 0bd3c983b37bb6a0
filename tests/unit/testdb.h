/*
 * The SQLite file of a suite's tests: a fresh path for each test (the
 * test case's .setup / .teardown), named after the test executable and
 * its process, so that forked tests and parallel ctest runs never share it.
 *
 *   UNIT_TCASE("core", .setup = testdb_setup, .teardown = testdb_teardown);
 */
#ifndef SBC_TESTS_TESTDB_H
#define SBC_TESTS_TESTDB_H

#include "common/db.h"

#include "tmpfile.h"

#include <check.h>
#include <errno.h>
#include <unistd.h>

static char testdb_path[64];

static inline void testdb_setup(void)
{
	tmp_path(testdb_path, sizeof(testdb_path),
		 program_invocation_short_name, ".db");
	unlink(testdb_path);
}

/* The file and the journal files WAL mode leaves. */
static inline void testdb_teardown(void)
{
	tmp_db_remove(testdb_path);
}

/* testdb_path opened (db_open): the test fails when it cannot be. */
static inline sqlite3 *testdb_open(void)
{
	char err[256];
	sqlite3 *db = db_open(testdb_path, err, sizeof(err));

	ck_assert_msg(db != NULL, "%s", err);
	return db;
}

#endif
