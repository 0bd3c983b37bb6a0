/*
 * Shared by the Check suites.
 *
 * A test registers itself where it is defined, so a suite is only its
 * tests (no list to keep in step at the end of the file):
 *
 *   UNIT_TCASE("keyfile", .setup = dir_setup, .teardown = dir_teardown,
 *              .timeout = 60);
 *
 *   UNIT_TEST(key_created)
 *   {
 *           ...
 *   }
 *   END_TEST
 *
 *   UNIT_LOOP_TEST(key_refused, 0, NELEM(cases))   _i from 0 to NELEM - 1
 *   { ... }
 *   END_TEST
 *
 *   UNIT_MAIN("sign")
 *
 * Tests run in the order of the file. A test belongs to the last
 * UNIT_TCASE above it; the tests above the first one (a file without any)
 * are in a test case "core" with no fixture and CK_DEFAULT_TIMEOUT. A
 * UNIT_TCASE naming a test case of an earlier one continues it (with the
 * same options), so tests can stay beside the helpers they share.
 * UNIT_TCASE takes the test case's name, then any of .timeout (seconds,
 * 0: CK_DEFAULT_TIMEOUT) and .setup / .teardown (a checked fixture: run
 * around each test, in the test's process).
 *
 * unit_run() runs a Suite built by hand.
 */
#ifndef SBC_TESTS_UNIT_H
#define SBC_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <sys/queue.h>

struct unit_tcase {
	const char *name;
	int timeout;
	void (*setup)(void);
	void (*teardown)(void);
};

/* One registration: a test case marker (tcase set) or a test (add set). */
struct unit_entry {
	int line;
	const struct unit_tcase *tcase;
	void (*add)(TCase *tc);
	TCase *made;	/* by unit_main(), for a marker */
	TAILQ_ENTRY(unit_entry) link;
};

/* Called by the constructors the macros define, before main(). */
void unit_register(struct unit_entry *e);

/* Build the suite of every registered test and run it: the exit status. */
int unit_main(const char *suite);

/* Run one suite; EXIT_SUCCESS when no test failed. */
int unit_run(Suite *s);

#ifndef NELEM
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define UNIT_CAT_(a, b) a##b
#define UNIT_CAT(a, b) UNIT_CAT_(a, b)

/*
 * `name` is declared first (a tentative definition that START_TEST then
 * defines) so that the function adding the test can come before the body.
 */
#define UNIT_LOOP_TEST(name, start, end)                                   \
	static const TTest *name;                                          \
	static void unit_add_##name(TCase *tc)                             \
	{                                                                  \
		tcase_add_loop_test(tc, name, (start), (end));             \
	}                                                                  \
	static struct unit_entry unit_entry_##name = {                     \
		.line = __LINE__, .add = unit_add_##name };                \
	__attribute__((constructor)) static void unit_reg_##name(void)     \
	{                                                                  \
		unit_register(&unit_entry_##name);                         \
	}                                                                  \
	START_TEST(name)

#define UNIT_TEST(name) UNIT_LOOP_TEST(name, 0, 1)

/* The definition of the entry comes last so that the `;` after the macro
 * ends a declaration. */
#define UNIT_TCASE(...)                                                    \
	static const struct unit_tcase UNIT_CAT(unit_tcase_, __LINE__) = { \
		.name = __VA_ARGS__ };                                     \
	static struct unit_entry UNIT_CAT(unit_tcase_entry_, __LINE__);    \
	__attribute__((constructor)) static void                          \
	UNIT_CAT(unit_tcase_reg_, __LINE__)(void)                          \
	{                                                                  \
		unit_register(&UNIT_CAT(unit_tcase_entry_, __LINE__));     \
	}                                                                  \
	static struct unit_entry UNIT_CAT(unit_tcase_entry_, __LINE__) = { \
		.line = __LINE__, .tcase = &UNIT_CAT(unit_tcase_, __LINE__) }

#define UNIT_MAIN(suite)                                                   \
	int main(void)                                                     \
	{                                                                  \
		return unit_main(suite);                                   \
	}

#endif
