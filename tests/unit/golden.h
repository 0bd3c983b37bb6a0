/*
 * Golden-file checks shared by the Check suites that compare whole
 * outputs (views, show commands). Golden files live in SBC_GOLDEN_DIR (a
 * compile definition: tests/unit/golden). With SBC_UPDATE_GOLDEN=1 the
 * current output is written instead; inspect that diff by eye before
 * keeping it.
 */
#ifndef SBC_TESTS_GOLDEN_H
#define SBC_TESTS_GOLDEN_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SBC_GOLDEN_DIR
#error "define SBC_GOLDEN_DIR as the path of tests/unit/golden"
#endif

#define GOLDEN_CAP (1 << 20)
#define LINE_LEN 256

/* Line n (from 1) of text into dst, cut at LINE_LEN - 1; "" past the
 * end. */
static inline const char *line_at(const char *text, size_t n,
				  char dst[LINE_LEN])
{
	const char *p = text;
	size_t i, len;

	for (i = 1; i < n && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	dst[0] = '\0';
	if (p == NULL)
		return dst;
	len = strcspn(p, "\n");
	if (len >= LINE_LEN)
		len = LINE_LEN - 1;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return dst;
}

static inline size_t count_lines(const char *text)
{
	size_t lines = 1;
	const char *p;

	for (p = text; *p != '\0'; p++)
		lines += *p == '\n';
	return lines;
}

static inline bool update_golden(void)
{
	const char *v = getenv("SBC_UPDATE_GOLDEN");

	return v != NULL && strcmp(v, "1") == 0;
}

/*
 * Compare text with golden file `name`, failing on the first line that
 * differs; with SBC_UPDATE_GOLDEN=1 write the file instead.
 */
static inline void check_golden(const char *name, const char *text,
				size_t len)
{
	char path[512], a[LINE_LEN], b[LINE_LEN];
	char *want;
	size_t wlen, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", SBC_GOLDEN_DIR, name);
	if (update_golden()) {
		f = fopen(path, "w");
		ck_assert_msg(f != NULL, "cannot write %s", path);
		ck_assert_uint_eq(fwrite(text, 1, len, f), len);
		ck_assert_int_eq(fclose(f), 0);
		return;
	}
	f = fopen(path, "r");
	ck_assert_msg(f != NULL,
		      "missing %s (SBC_UPDATE_GOLDEN=1 creates it)", path);
	want = malloc(GOLDEN_CAP + 1);
	ck_assert_ptr_nonnull(want);
	wlen = fread(want, 1, GOLDEN_CAP, f);
	fclose(f);
	want[wlen] = '\0';
	if (wlen != len || memcmp(want, text, len) != 0) {
		size_t lt = count_lines(text), lw = count_lines(want);

		for (n = 1; n <= (lt > lw ? lt : lw); n++) {
			line_at(text, n, a);
			line_at(want, n, b);
			if (strcmp(a, b) != 0)
				break;
		}
		free(want);
		ck_abort_msg("%s: line %zu differs\n got: [%s]\nwant: [%s]",
			     name, n, a, b);
	}
	free(want);
}

/* A JSON value as the golden files hold it: indented, keys in order, a
 * final newline. Takes the reference; the text is the caller's. */
static inline char *golden_json_text(json_t *j)
{
	char *text, *nl;

	ck_assert_ptr_nonnull(j);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	ck_assert_ptr_nonnull(text);
	nl = malloc(strlen(text) + 2);
	ck_assert_ptr_nonnull(nl);
	sprintf(nl, "%s\n", text);
	free(text);
	return nl;
}

/* check_golden for NUL-terminated text. */
static inline void check_golden_text(const char *name, const char *text)
{
	check_golden(name, text, strlen(text));
}

#endif
