/*
 * IOS XE releases and the enforcement table (docs/internals/licensing-periods.md, "Releases",
 * docs/internals/licensing-periods.md): parsing, comparison, and the
 * model of every release the table names plus its neighbours. Expected
 * values are worked out by hand from the table.
 */
#include "licensing/release.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>


static struct lic_release rel(const char *text)
{
	struct lic_release r;

	ck_assert_msg(lic_release_parse(text, &r) == 0, "parse %s", text);
	return r;
}

static const struct good_case {
	const char *text;
	unsigned major, minor, rebuild;
	char letter;
	const char *canonical;
} good_cases[] = {
	{"17.3.4a", 17, 3, 4, 'a', "17.3.4a"},
	{"17.10.1", 17, 10, 1, 0, "17.10.1"},
	{"16.12.1", 16, 12, 1, 0, "16.12.1"},
	{"17.6.1a", 17, 6, 1, 'a', "17.6.1a"},
	{"17.3.1a", 17, 3, 1, 'a', "17.3.1a"},
	{"16.10.1", 16, 10, 1, 0, "16.10.1"},
	{"17.03.04a", 17, 3, 4, 'a', "17.3.4a"},
	{"017.003.002", 17, 3, 2, 0, "17.3.2"},
	{"0.0.0", 0, 0, 0, 0, "0.0.0"},
	{"999.999.999z", 999, 999, 999, 'z', "999.999.999z"},
	{"17.9.4", 17, 9, 4, 0, "17.9.4"},
	{"17.12.1z", 17, 12, 1, 'z', "17.12.1z"},
};

UNIT_LOOP_TEST(parse_good, 0, (int)NELEM(good_cases))
{
	const struct good_case *c = &good_cases[_i];
	struct lic_release r;
	char buf[32];

	ck_assert_msg(lic_release_parse(c->text, &r) == 0, "%s", c->text);
	ck_assert(r.set);
	ck_assert_uint_eq(r.major, c->major);
	ck_assert_uint_eq(r.minor, c->minor);
	ck_assert_uint_eq(r.rebuild, c->rebuild);
	ck_assert_int_eq(r.letter, c->letter);
	ck_assert_int_eq(lic_release_format(&r, buf, sizeof(buf)),
			 (int)strlen(c->canonical));
	ck_assert_str_eq(buf, c->canonical);
}
END_TEST

static const char *const bad_cases[] = {
	"",	       /* empty */
	"17",	       /* major only */
	"17.9",	       /* a train, not a release */
	"17.3.",       /* empty rebuild */
	".3.4",	       /* empty major */
	"17..4",       /* empty minor */
	"17.3.4.1",    /* four fields */
	"17.3.4A",     /* uppercase letter */
	"17.3.4ab",    /* two letters */
	"17.3.4a ",    /* trailing space */
	" 17.3.4",     /* leading space */
	"17.3.4-a",    /* separator before the letter */
	"+17.3.4",     /* sign */
	"17.-3.4",     /* sign */
	"1000.1.1",    /* four digits */
	"17.3.0004",   /* four digits, even with leading zeros */
	"17,3,4",      /* wrong separator */
	"v17.3.4",     /* prefix */
	"17.3.4.SPA",  /* image name suffix */
	"17.3.4\n",    /* newline */
	"a.b.c",       /* letters */
	"17.3.a",      /* letter without rebuild */
	"17.3.4a\x01", /* control byte */
};

UNIT_LOOP_TEST(parse_bad, 0, (int)NELEM(bad_cases))
{
	struct lic_release r = {.set = true, .major = 42, .letter = 'q'};

	ck_assert_msg(lic_release_parse(bad_cases[_i], &r) == -1, "'%s'",
		      bad_cases[_i]);
	/* Unchanged. */
	ck_assert(r.set);
	ck_assert_uint_eq(r.major, 42);
	ck_assert_uint_eq(r.minor, 0);
	ck_assert_int_eq(r.letter, 'q');
}
END_TEST

UNIT_TEST(parse_null)
{
	struct lic_release r;

	ck_assert_int_eq(lic_release_parse(NULL, &r), -1);
	ck_assert_int_eq(lic_release_parse("17.3.4", NULL), -1);
}
END_TEST

/* a < b, worked out field by field. */
static const struct {
	const char *older, *newer;
} order_cases[] = {
	{"17.9.4", "17.10.1"},	   /* 9 < 10 numerically, not as text */
	{"17.9.99", "17.10.0"},	   /* minor decides before rebuild */
	{"17.2.1", "17.10.1"},	   /* "17.2" > "17.1" as text */
	{"16.12.1", "17.3.1a"},	   /* major decides */
	{"16.12.9z", "17.1.1"},	   /* major decides over everything */
	{"17.3.4", "17.3.4a"},	   /* no letter < 'a' */
	{"17.3.4a", "17.3.4b"},	   /* 'a' < 'b' */
	{"17.3.4b", "17.3.5"},	   /* rebuild before letter */
	{"17.3.1a", "17.3.2"},	   /* rebuild before letter */
	{"17.6.1", "17.6.1a"},	   /* no letter < 'a' */
	{"17.6.1a", "17.6.2"},	   /* rebuild before letter */
	{"16.9.8", "16.10.1"},	   /* 9 < 10 */
	{"16.10.1", "16.10.1a"},   /* no letter < 'a' */
	{"17.3.10", "17.3.11"},	   /* two-digit rebuild */
	{"17.3.9", "17.3.10"},	   /* two-digit rebuild, numerically */
	{"17.03.04", "17.3.4a"},   /* leading zeros are only zeros */
};

UNIT_LOOP_TEST(compare_order, 0, (int)NELEM(order_cases))
{
	struct lic_release a = rel(order_cases[_i].older);
	struct lic_release b = rel(order_cases[_i].newer);

	ck_assert_msg(lic_release_cmp(&a, &b) < 0, "%s < %s",
		      order_cases[_i].older, order_cases[_i].newer);
	ck_assert_msg(lic_release_cmp(&b, &a) > 0, "%s > %s",
		      order_cases[_i].newer, order_cases[_i].older);
	ck_assert_int_eq(lic_release_cmp(&a, &a), 0);
	ck_assert_int_eq(lic_release_cmp(&b, &b), 0);
}
END_TEST

UNIT_TEST(compare_equal_and_unset)
{
	struct lic_release a = rel("17.03.04a");
	struct lic_release b = rel("17.3.4a");
	struct lic_release unset = {0};
	struct lic_release top = rel("999.999.999z");

	ck_assert_int_eq(lic_release_cmp(&a, &b), 0);
	/* The unset release is the newest behaviour: newer than any. */
	ck_assert_int_gt(lic_release_cmp(&unset, &top), 0);
	ck_assert_int_lt(lic_release_cmp(&top, &unset), 0);
	ck_assert_int_eq(lic_release_cmp(&unset, &unset), 0);
	ck_assert_int_eq(lic_release_cmp(NULL, &unset), 0);
	ck_assert_int_gt(lic_release_cmp(NULL, &a), 0);
}
END_TEST

#define SHUT LIC_MODEL_SLP_SHUTDOWN
#define WARN LIC_MODEL_SLP_WARN
#define LEGACY LIC_MODEL_SLR_LEGACY
#define UNSUP LIC_MODEL_UNSUPPORTED

/* Every release docs/internals/licensing-periods.md, "Releases" names, with its neighbours either side. */
static const struct {
	const char *text;
	enum lic_model model;
} model_cases[] = {
	/* Below the table. */
	{"0.0.0", UNSUP},
	{"3.16.10", UNSUP},
	{"16.9.8", UNSUP},
	{"16.10.0", UNSUP},
	{"16.10.0z", UNSUP},
	/* 16.10.1 to 17.3.1a: Smart Licensing (registration). */
	{"16.10.1", LEGACY},
	{"16.10.1a", LEGACY},
	{"16.11.1", LEGACY},
	{"16.12.1", LEGACY},
	{"16.12.4", LEGACY},
	{"17.1.1", LEGACY},
	{"17.2.1", LEGACY},
	{"17.3.1", LEGACY},
	{"17.3.1a", LEGACY},
	{"17.3.1z", LEGACY}, /* hypothetical; still below 17.3.2 */
	/* 17.3.2, 17.3.3, 17.3.4a exactly. */
	{"17.3.2", SHUT},
	{"17.3.2a", WARN},
	{"17.3.3", SHUT},
	{"17.3.3a", WARN},
	{"17.3.4", WARN},
	{"17.3.4a", SHUT},
	{"17.03.04a", SHUT},
	{"17.3.4b", WARN},
	{"17.3.4c", WARN},
	{"17.3.5", WARN},
	{"17.3.8a", WARN},
	/* Any 17.4.x and 17.5.x. */
	{"17.4.0", SHUT},
	{"17.4.1", SHUT},
	{"17.4.1a", SHUT},
	{"17.4.2", SHUT},
	{"17.5.1", SHUT},
	{"17.5.1a", SHUT},
	{"17.5.999z", SHUT},
	/* 17.6.1a exactly. */
	{"17.6.0", WARN},
	{"17.6.1", WARN},
	{"17.6.1a", SHUT},
	{"17.6.1b", WARN},
	{"17.6.2", WARN},
	{"17.6.5", WARN},
	/* Everything newer warns; 17.10 is newer than 17.9. */
	{"17.7.1", WARN},
	{"17.9.1", WARN},
	{"17.9.4a", WARN},
	{"17.10.1", WARN},
	{"17.12.1", WARN},
	{"18.1.1", WARN},
	{"999.999.999z", WARN},
};

UNIT_LOOP_TEST(model_table, 0, (int)NELEM(model_cases))
{
	struct lic_release r = rel(model_cases[_i].text);
	enum lic_model m = lic_release_model(&r);

	ck_assert_msg(m == model_cases[_i].model, "%s: %s, expected %s",
		      model_cases[_i].text, lic_model_name(m),
		      lic_model_name(model_cases[_i].model));
	ck_assert(lic_release_shuts_down(&r) == (model_cases[_i].model == SHUT));
}
END_TEST

UNIT_TEST(model_unset)
{
	struct lic_release unset = {0};

	ck_assert_int_eq(lic_release_model(&unset), WARN);
	ck_assert_int_eq(lic_release_model(NULL), WARN);
	ck_assert(!lic_release_shuts_down(&unset));
	ck_assert(!lic_release_shuts_down(NULL));
}
END_TEST

UNIT_TEST(format_edges)
{
	struct lic_release unset = {0};
	struct lic_release r = rel("17.10.1");
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(lic_release_format(&unset, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(lic_release_format(&r, NULL, 0), -1);
	/* Truncated, NUL-terminated, full length returned. */
	ck_assert_int_eq(lic_release_format(&r, buf, 4), 7);
	ck_assert_str_eq(buf, "17.");
	ck_assert_int_eq(lic_release_format(&r, buf, 0), 7);
}
END_TEST

UNIT_TEST(model_names)
{
	ck_assert_str_eq(lic_model_name(LIC_MODEL_UNSUPPORTED), "unsupported");
	ck_assert_str_eq(lic_model_name(LIC_MODEL_SLR_LEGACY),
			 "smart-licensing");
	ck_assert_str_eq(lic_model_name(LIC_MODEL_SLP_SHUTDOWN),
			 "slp-shutdown");
	ck_assert_str_eq(lic_model_name(LIC_MODEL_SLP_WARN), "slp-warn");
	ck_assert_str_eq(lic_model_name(LIC_MODEL_COUNT), "?");
	ck_assert_str_eq(lic_model_name((enum lic_model)-1), "?");
}
END_TEST

UNIT_MAIN("release")
