/*
 * lic_release: IOS XE release versions and the enforcement table
 * (docs/internals/licensing-periods.md, "Releases").
 *
 * The table is a list of half-open ranges [from, to) of releases, searched
 * in order; one release named exactly is the range [17.3.4a, 17.3.4b),
 * a whole train is [17.4.0, 17.5.0).
 */
#include "licensing/release.h"

#include <stdio.h>

#define FIELD_MAX_DIGITS 3

/* A set release, written as a table entry. */
#define REL(maj, min, reb, let)                                              \
	{                                                                    \
		.set = true, .major = (maj), .minor = (min), .rebuild = (reb), \
		.letter = (let)                                              \
	}

struct model_row {
	struct lic_release from; /* included */
	struct lic_release to;	 /* excluded */
	enum lic_model model;
};

static const struct model_row model_rows[] = {
	{REL(17, 3, 2, 0), REL(17, 3, 2, 'a'), LIC_MODEL_SLP_SHUTDOWN},
	{REL(17, 3, 3, 0), REL(17, 3, 3, 'a'), LIC_MODEL_SLP_SHUTDOWN},
	{REL(17, 3, 4, 'a'), REL(17, 3, 4, 'b'), LIC_MODEL_SLP_SHUTDOWN},
	{REL(17, 4, 0, 0), REL(17, 6, 0, 0), LIC_MODEL_SLP_SHUTDOWN},
	{REL(17, 6, 1, 'a'), REL(17, 6, 1, 'b'), LIC_MODEL_SLP_SHUTDOWN},
	{REL(0, 0, 0, 0), REL(16, 10, 1, 0), LIC_MODEL_UNSUPPORTED},
	{REL(16, 10, 1, 0), REL(17, 3, 2, 0), LIC_MODEL_SLR_LEGACY},
};

#define NROWS (sizeof(model_rows) / sizeof(model_rows[0]))

static const char *const model_names[LIC_MODEL_COUNT] = {
	"unsupported", "smart-licensing", "slp-shutdown", "slp-warn"};

/*
 * One decimal field of 1..FIELD_MAX_DIGITS digits at *p; advances *p past
 * it. Returns 0, or -1 when there is no digit or too many.
 */
static int parse_field(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > FIELD_MAX_DIGITS)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		s++;
	}
	if (n == 0)
		return -1;
	*out = v;
	*p = s;
	return 0;
}

int lic_release_parse(const char *text, struct lic_release *out)
{
	struct lic_release r = {.set = true};
	const char *p = text;

	if (text == NULL || out == NULL)
		return -1;
	if (parse_field(&p, &r.major) != 0 || *p++ != '.')
		return -1;
	if (parse_field(&p, &r.minor) != 0 || *p++ != '.')
		return -1;
	if (parse_field(&p, &r.rebuild) != 0)
		return -1;
	if (*p >= 'a' && *p <= 'z')
		r.letter = *p++;
	if (*p != '\0')
		return -1;
	*out = r;
	return 0;
}

static int cmp_unsigned(unsigned a, unsigned b)
{
	return (a > b) - (a < b);
}

int lic_release_cmp(const struct lic_release *a, const struct lic_release *b)
{
	bool aset = a != NULL && a->set;
	bool bset = b != NULL && b->set;
	int c;

	if (!aset || !bset)
		return (int)bset - (int)aset; /* unset is the newest */
	c = cmp_unsigned(a->major, b->major);
	if (c == 0)
		c = cmp_unsigned(a->minor, b->minor);
	if (c == 0)
		c = cmp_unsigned(a->rebuild, b->rebuild);
	if (c == 0)
		c = cmp_unsigned((unsigned char)a->letter,
				 (unsigned char)b->letter);
	return c;
}

int lic_release_format(const struct lic_release *r, char *buf, size_t buflen)
{
	if (buf == NULL)
		return -1;
	if (r == NULL || !r->set) {
		if (buflen > 0)
			buf[0] = '\0';
		return 0;
	}
	if (r->letter != 0)
		return snprintf(buf, buflen, "%u.%u.%u%c", r->major, r->minor,
				r->rebuild, r->letter);
	return snprintf(buf, buflen, "%u.%u.%u", r->major, r->minor,
			r->rebuild);
}

enum lic_model lic_release_model(const struct lic_release *r)
{
	size_t i;

	if (r == NULL || !r->set)
		return LIC_MODEL_SLP_WARN;
	for (i = 0; i < NROWS; i++) {
		if (lic_release_cmp(r, &model_rows[i].from) >= 0 &&
		    lic_release_cmp(r, &model_rows[i].to) < 0)
			return model_rows[i].model;
	}
	return LIC_MODEL_SLP_WARN;
}

bool lic_release_shuts_down(const struct lic_release *r)
{
	return lic_release_model(r) == LIC_MODEL_SLP_SHUTDOWN;
}

const char *lic_model_name(enum lic_model m)
{
	if ((unsigned)m >= LIC_MODEL_COUNT)
		return "?";
	return model_names[m];
}
