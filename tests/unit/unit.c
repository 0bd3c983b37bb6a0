/*
 * The registry behind UNIT_TEST and UNIT_TCASE (unit.h). The constructors
 * run before main() in an order the toolchain picks, so the entries are
 * kept sorted by line: the order of the file.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

static TAILQ_HEAD(, unit_entry) unit_entries =
	TAILQ_HEAD_INITIALIZER(unit_entries);

static const struct unit_tcase unit_default = { .name = "core" };

void unit_register(struct unit_entry *e)
{
	struct unit_entry *at;

	TAILQ_FOREACH(at, &unit_entries, link) {
		if (at->line > e->line) {
			TAILQ_INSERT_BEFORE(at, e, link);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&unit_entries, e, link);
}

static TCase *unit_tcase_new(Suite *s, const struct unit_tcase *t)
{
	TCase *tc = tcase_create(t->name);

	if (t->timeout > 0)
		tcase_set_timeout(tc, t->timeout);
	if (t->setup != NULL || t->teardown != NULL)
		tcase_add_checked_fixture(tc, t->setup, t->teardown);
	suite_add_tcase(s, tc);
	return tc;
}

/* The test case of marker e: a new one, or the one an earlier marker of
 * the same name made. NULL when the two disagree on the options. */
static TCase *unit_tcase_of(Suite *s, struct unit_entry *e)
{
	const struct unit_tcase *t = e->tcase;
	struct unit_entry *at;

	for (at = TAILQ_FIRST(&unit_entries); at != e;
	     at = TAILQ_NEXT(at, link)) {
		const struct unit_tcase *o = at->tcase;

		if (o == NULL || strcmp(o->name, t->name) != 0)
			continue;
		if (o->timeout != t->timeout || o->setup != t->setup ||
		    o->teardown != t->teardown) {
			fprintf(stderr, "line %d: test case \"%s\" of line %d "
				"with other options\n", e->line, t->name,
				at->line);
			return NULL;
		}
		e->made = at->made;
		return e->made;
	}
	e->made = unit_tcase_new(s, t);
	return e->made;
}

int unit_main(const char *suite)
{
	Suite *s = suite_create(suite);
	TCase *tc = NULL;
	struct unit_entry *e;

	TAILQ_FOREACH(e, &unit_entries, link) {
		if (e->tcase != NULL) {
			tc = unit_tcase_of(s, e);
			if (tc == NULL)
				return EXIT_FAILURE;
			continue;
		}
		if (tc == NULL)
			tc = unit_tcase_new(s, &unit_default);
		e->add(tc);
	}
	return unit_run(s);
}

int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
