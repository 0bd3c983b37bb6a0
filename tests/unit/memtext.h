/*
 * Text a test renders into memory (open_memstream), for the suites that
 * compare what a writer printed.
 *
 *   struct memtext m;
 *   FILE *f = memtext_open(&m);
 *   ck_assert_int_eq(render(x, f), 0);
 *   text = memtext_take(&m);      NUL-terminated; free() it
 */
#ifndef SBC_TESTS_MEMTEXT_H
#define SBC_TESTS_MEMTEXT_H

#include <check.h>
#include <stdio.h>

struct memtext {
	char *buf;
	size_t len;
	FILE *f;
};

static inline FILE *memtext_open(struct memtext *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	ck_assert_ptr_nonnull(m->f);
	return m->f;
}

/* Closes the stream: the text, owned by the caller. */
static inline char *memtext_take(struct memtext *m)
{
	ck_assert_int_eq(fclose(m->f), 0);
	m->f = NULL;
	return m->buf;
}

#endif
