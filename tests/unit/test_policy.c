/*
 * Licensing policy and Usage Reporting deadlines (docs/internals/licensing-policy.md,
 * docs/internals/licensing-policy.md): defaults, JSON in and out,
 * replacement, the deadline arithmetic, and the text of the `Policy:` and
 * `Usage Reporting:` blocks of `show license status`.
 *
 * Times are fixed Unix seconds (no clock). Expected dates are worked out by
 * hand in the comments; the golden texts are written out here in the layout
 * of /work/shared/reference/show-license-status.txt, whose Policy and
 * Usage Reporting blocks the REF_* cases reproduce line for line.
 */
#include "licensing/deadline.h"
#include "licensing/policy.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY	 INT64_C(86400)
#define HOUR	 INT64_C(3600)
#define NONE	 LIC_TIME_NONE

/* Thu Oct 14 2021 12:10:32 UTC: the reference's Last ACK received. */
#define T_USE INT64_C(1634213432)
/* Oct 14 2021 11:37:52 UTC: the reference's policy Installed On. */
#define T_INSTALL INT64_C(1634211472)
/* Oct 14 2021 12:09:30 UTC: the reference's Last report push. */
#define T_PUSH INT64_C(1634213370)
/* Oct 22 2021 04:33:08 UTC: the reference's Next report push. */
#define T_REF_NOW INT64_C(1634877188)

/* Output of one render call, NUL-terminated (open_memstream). */
struct capture {
	char *buf;
	size_t len;
};

static void capture_open(struct capture *c, FILE **f)
{
	c->buf = NULL;
	c->len = 0;
	*f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(*f);
}

static void capture_close(FILE *f)
{
	ck_assert_int_eq(fclose(f), 0);
}

/* Field by field, so that struct padding plays no part. */
static void assert_policy_eq(const struct lic_policy *a,
			     const struct lic_policy *b)
{
	int g, i;

	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->installed_on, b->installed_on);
	ck_assert_int_eq(a->ack_required, b->ack_required);
	ck_assert_int_eq(a->ack_required_source, b->ack_required_source);
	for (g = 0; g < LIC_GROUP_COUNT; g++)
		for (i = 0; i < LIC_ATTR_COUNT; i++) {
			ck_assert_int_eq(a->attr[g][i].days,
					 b->attr[g][i].days);
			ck_assert_int_eq(a->attr[g][i].source,
					 b->attr[g][i].source);
		}
}

static void set_group(struct lic_policy *p, enum lic_group g, int first,
		      int freq, int change, enum lic_source src)
{
	p->attr[g][LIC_ATTR_FIRST_REPORT].days = first;
	p->attr[g][LIC_ATTR_FREQUENCY].days = freq;
	p->attr[g][LIC_ATTR_ON_CHANGE].days = change;
	p->attr[g][LIC_ATTR_FIRST_REPORT].source = src;
	p->attr[g][LIC_ATTR_FREQUENCY].source = src;
	p->attr[g][LIC_ATTR_ON_CHANGE].source = src;
}

/* The "Custom Policy" of the reference output, installed at T_INSTALL. */
static void reference_policy(struct lic_policy *p)
{
	lic_policy_default(p);
	snprintf(p->name, sizeof(p->name), "Custom Policy");
	p->installed_on = T_INSTALL;
	p->ack_required_source = LIC_SOURCE_CUSTOMER;
	set_group(p, LIC_GROUP_PERPETUAL, 365, 0, 90, LIC_SOURCE_CUSTOMER);
	set_group(p, LIC_GROUP_SUBSCRIPTION, 90, 90, 90, LIC_SOURCE_CUSTOMER);
	set_group(p, LIC_GROUP_ENFORCED, 365, 90, 90, LIC_SOURCE_CUSTOMER);
	set_group(p, LIC_GROUP_EXPORT, 365, 90, 90, LIC_SOURCE_CUSTOMER);
}

/* ---- defaults ---------------------------------------------------------- */

UNIT_TCASE("policy");

UNIT_TEST(test_defaults)
{
	/* The policy a CUBE shows before one is installed. */
	static const int want[LIC_GROUP_COUNT][LIC_ATTR_COUNT] = {
	    {365, 90, 90}, {90, 90, 80}, {90, 90, 80}, {90, 90, 90}};
	static const enum lic_source src[LIC_GROUP_COUNT][LIC_ATTR_COUNT] = {
	    {LIC_SOURCE_CISCO_DEFAULT, LIC_SOURCE_CISCO_DEFAULT,
	     LIC_SOURCE_PRODUCT_DEFAULT},
	    {LIC_SOURCE_CISCO_DEFAULT, LIC_SOURCE_CISCO_DEFAULT,
	     LIC_SOURCE_PRODUCT_DEFAULT},
	    {LIC_SOURCE_CUSTOMER, LIC_SOURCE_CUSTOMER, LIC_SOURCE_CUSTOMER},
	    {LIC_SOURCE_CUSTOMER, LIC_SOURCE_CUSTOMER, LIC_SOURCE_CUSTOMER}};
	struct lic_policy p;
	int g, a;

	memset(&p, 0x5a, sizeof(p));
	lic_policy_default(&p);
	ck_assert_str_eq(p.name, "Cisco default");
	ck_assert_int_eq(p.installed_on, 0);
	ck_assert(p.ack_required);
	ck_assert_int_eq(p.ack_required_source, LIC_SOURCE_CISCO_DEFAULT);
	for (g = 0; g < LIC_GROUP_COUNT; g++)
		for (a = 0; a < LIC_ATTR_COUNT; a++) {
			ck_assert_int_eq(lic_policy_days(&p, g, a), want[g][a]);
			ck_assert_int_eq(p.attr[g][a].source, src[g][a]);
		}
	ck_assert_int_eq(LIC_GROUP_CUBE, LIC_GROUP_PERPETUAL);
	ck_assert_int_eq(lic_policy_validate(&p, NULL, 0), 0);
	ck_assert_int_eq(lic_policy_days(NULL, 0, 0), -1);
	ck_assert_int_eq(lic_policy_days(&p, LIC_GROUP_COUNT, 0), -1);
	ck_assert_int_eq(lic_policy_days(&p, 0, LIC_ATTR_COUNT), -1);
	ck_assert_str_eq(lic_source_name(LIC_SOURCE_CISCO_DEFAULT),
			 "CISCO default");
	ck_assert_str_eq(lic_source_name(LIC_SOURCE_PRODUCT_DEFAULT),
			 "Product default");
	ck_assert_str_eq(lic_source_name(LIC_SOURCE_CUSTOMER),
			 "Customer Policy");
	ck_assert_ptr_null(lic_source_name(LIC_SOURCE_COUNT));
}
END_TEST

/* ---- time format -------------------------------------------------------- */

static const struct {
	int64_t t;
	int rc;
	const char *want;
} time_rows[] = {
    {T_USE, 0, "Oct 14 12:10:32 2021 UTC"},
    /* Day zero-padded, as IOS XE prints it ("Mar 06 09:29:58 2025"). */
    {INT64_C(1741253398), 0, "Mar 06 09:29:58 2025 UTC"},
    {INT64_C(1), 0, "Jan 01 00:00:01 1970 UTC"},
    /* 2024-02-29 00:00:00 UTC, a leap day. */
    {INT64_C(1709164800), 0, "Feb 29 00:00:00 2024 UTC"},
    {LIC_TIME_MAX, 0, "Dec 31 23:59:59 9999 UTC"},
    {0, 0, "<none>"},
    {-5, 0, "<none>"},
    {LIC_TIME_MAX + 1, -1, ""},
};

UNIT_LOOP_TEST(test_time_format, 0, NELEM(time_rows))
{
	char buf[LIC_TIME_STR_LEN];

	ck_assert_int_eq(lic_time_format(time_rows[_i].t, buf, sizeof(buf)),
			 time_rows[_i].rc);
	ck_assert_str_eq(buf, time_rows[_i].want);
	ck_assert_int_eq(lic_time_format(T_USE, buf, LIC_TIME_STR_LEN - 1), -1);
	ck_assert_int_eq(lic_time_format(T_USE, NULL, 64), -1);
}
END_TEST

/* ---- JSON parse ------------------------------------------------------- */

static void want_full(const struct lic_policy *p)
{
	struct lic_policy ref;

	reference_policy(&ref);
	ref.installed_on = 0;
	assert_policy_eq(p, &ref);
}

/* Only perpetual.first_report_days given: the rest is Cisco default. */
static void want_partial(const struct lic_policy *p)
{
	struct lic_policy d;

	lic_policy_default(&d);
	snprintf(d.name, sizeof(d.name), "Partial");
	d.attr[LIC_GROUP_PERPETUAL][LIC_ATTR_FIRST_REPORT].days = 180;
	d.attr[LIC_GROUP_PERPETUAL][LIC_ATTR_FIRST_REPORT].source =
	    LIC_SOURCE_CUSTOMER;
	assert_policy_eq(p, &d);
}

static void want_name_only(const struct lic_policy *p)
{
	struct lic_policy d;

	lic_policy_default(&d);
	snprintf(d.name, sizeof(d.name), "Only a name");
	assert_policy_eq(p, &d);
}

/* Sources: value-level beats group-level beats document-level. */
static void want_sources(const struct lic_policy *p)
{
	const struct lic_policy_days *sub = p->attr[LIC_GROUP_SUBSCRIPTION];
	const struct lic_policy_days *per = p->attr[LIC_GROUP_PERPETUAL];

	ck_assert(!p->ack_required);
	ck_assert_int_eq(p->ack_required_source, LIC_SOURCE_PRODUCT_DEFAULT);
	ck_assert_int_eq(per[LIC_ATTR_FIRST_REPORT].days, 30);
	ck_assert_int_eq(per[LIC_ATTR_FIRST_REPORT].source,
			 LIC_SOURCE_PRODUCT_DEFAULT);
	ck_assert_int_eq(per[LIC_ATTR_FREQUENCY].days, 90);
	ck_assert_int_eq(per[LIC_ATTR_FREQUENCY].source,
			 LIC_SOURCE_CISCO_DEFAULT);
	ck_assert_int_eq(sub[LIC_ATTR_FIRST_REPORT].days, 10);
	ck_assert_int_eq(sub[LIC_ATTR_FIRST_REPORT].source,
			 LIC_SOURCE_CISCO_DEFAULT);
	ck_assert_int_eq(sub[LIC_ATTR_FREQUENCY].days, 3650);
	ck_assert_int_eq(sub[LIC_ATTR_FREQUENCY].source,
			 LIC_SOURCE_PRODUCT_DEFAULT);
	ck_assert_int_eq(sub[LIC_ATTR_ON_CHANGE].days, 0);
	ck_assert_int_eq(sub[LIC_ATTR_ON_CHANGE].source,
			 LIC_SOURCE_PRODUCT_DEFAULT);
	ck_assert_int_eq(p->installed_on, 1234);
}

#define FULL_GROUPS                                                            \
	"\"groups\": {"                                                        \
	"\"perpetual\": {\"first_report_days\": 365, "                         \
	"\"reporting_frequency_days\": 0, \"report_on_change_days\": 90},"     \
	"\"subscription\": {\"first_report_days\": 90, "                       \
	"\"reporting_frequency_days\": 90, \"report_on_change_days\": 90},"    \
	"\"enforced\": {\"first_report_days\": 365, "                          \
	"\"reporting_frequency_days\": 90, \"report_on_change_days\": 90},"    \
	"\"export\": {\"first_report_days\": 365, "                            \
	"\"reporting_frequency_days\": 90, \"report_on_change_days\": 90}}"

static const struct {
	const char *what;
	const char *json;
	void (*check)(const struct lic_policy *p); /* NULL: must fail */
	const char *err;			   /* part of the reason */
} parse_rows[] = {
    {"full, source given",
     "{\"name\": \"Custom Policy\", "
     "\"reporting_ack_required\": true, " FULL_GROUPS
     ", \"source\": \"Customer Policy\"}",
     want_full, NULL},
    {"full, source defaults to Customer Policy",
     "{\"name\": \"Custom Policy\", \"reporting_ack_required\": true, "
     "" FULL_GROUPS "}",
     want_full, NULL},
    {"partial",
     "{\"name\": \"Partial\", \"groups\": {\"perpetual\": "
     "{\"first_report_days\": 180}}}",
     want_partial, NULL},
    {"name only", "{\"name\": \"Only a name\"}", want_name_only, NULL},
    {"sources at three levels",
     "{\"name\": \"S\", \"source\": \"Product default\", \"installed_on\": "
     "1234, \"reporting_ack_required\": false, \"groups\": {"
     "\"perpetual\": {\"first_report_days\": 30},"
     "\"subscription\": {\"source\": \"Product default\", "
     "\"first_report_days\": {\"days\": 10, \"source\": \"CISCO "
     "default\"}, \"reporting_frequency_days\": 3650, "
     "\"report_on_change_days\": {\"days\": 0}}}}",
     want_sources, NULL},
    {"empty input", "", NULL, "bad JSON"},
    {"not JSON", "name: x", NULL, "bad JSON"},
    {"trailing garbage", "{\"name\": \"x\"} x", NULL, "bad JSON"},
    {"array root", "[1, 2]", NULL, "not a JSON object"},
    {"no name", "{\"groups\": {}}", NULL, "name"},
    {"empty name", "{\"name\": \"\"}", NULL, "name must be 1..63"},
    {"name too long",
     "{\"name\": \"0123456789012345678901234567890123456789012345678901234"
     "567890123\"}",
     NULL, "name must be 1..63"},
    {"name not printable", "{\"name\": \"a\\u0007b\"}", NULL, "printable"},
    {"name with NUL", "{\"name\": \"a\\u0000b\"}", NULL, "bad JSON"},
    {"name not a string", "{\"name\": 5}", NULL, "name"},
    {"days above 3650",
     "{\"name\": \"x\", \"groups\": {\"export\": {\"first_report_days\": "
     "3651}}}",
     NULL, "groups.export.first_report_days: 3651 is out of range"},
    {"days negative",
     "{\"name\": \"x\", \"groups\": {\"enforced\": "
     "{\"report_on_change_days\": -1}}}",
     NULL, "groups.enforced.report_on_change_days: -1 is out of range"},
    {"days huge",
     "{\"name\": \"x\", \"groups\": {\"enforced\": "
     "{\"report_on_change_days\": 99999999999999}}}",
     NULL, "out of range"},
    {"days real",
     "{\"name\": \"x\", \"groups\": {\"perpetual\": "
     "{\"first_report_days\": 365.0}}}",
     NULL, "must be an integer"},
    {"days string",
     "{\"name\": \"x\", \"groups\": {\"perpetual\": "
     "{\"first_report_days\": \"365\"}}}",
     NULL, "must be an integer"},
    {"days object without days",
     "{\"name\": \"x\", \"groups\": {\"perpetual\": "
     "{\"first_report_days\": {\"source\": \"CISCO default\"}}}}",
     NULL, "days is missing"},
    {"unknown key", "{\"name\": \"x\", \"nmae\": \"y\"}", NULL,
     "unknown key \"nmae\""},
    {"unknown group", "{\"name\": \"x\", \"groups\": {\"trial\": {}}}", NULL,
     "unknown key \"trial\""},
    {"unknown attribute",
     "{\"name\": \"x\", \"groups\": {\"perpetual\": "
     "{\"first_report\": 1}}}",
     NULL, "unknown key \"first_report\""},
    {"group not an object",
     "{\"name\": \"x\", \"groups\": {\"perpetual\": 365}}", NULL,
     "groups.perpetual must be an object"},
    {"groups not an object", "{\"name\": \"x\", \"groups\": []}", NULL,
     "groups must be an object"},
    {"unknown source", "{\"name\": \"x\", \"source\": \"cisco default\"}", NULL,
     "unknown \"cisco default\""},
    {"source not a string", "{\"name\": \"x\", \"source\": 1}", NULL,
     "source must be a string"},
    {"ack required not boolean",
     "{\"name\": \"x\", \"reporting_ack_required\": \"yes\"}", NULL,
     "reporting_ack_required must be true or false"},
    {"duplicate key", "{\"name\": \"x\", \"name\": \"y\"}", NULL, "bad JSON"},
    {"installed_on negative", "{\"name\": \"x\", \"installed_on\": -1}", NULL,
     "installed_on"},
};

UNIT_LOOP_TEST(test_parse, 0, NELEM(parse_rows))
{
	struct lic_policy p, sentinel;
	const char *json = parse_rows[_i].json;
	char err[256] = "";
	int rc;

	/* A failed parse must leave the output exactly as it was. */
	memset(&p, 0xa5, sizeof(p));
	memcpy(&sentinel, &p, sizeof(p));
	rc = lic_policy_parse(json, strlen(json), &p, err, sizeof(err));
	if (parse_rows[_i].check != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", parse_rows[_i].what, err);
		ck_assert_int_eq(lic_policy_validate(&p, NULL, 0), 0);
		parse_rows[_i].check(&p);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", parse_rows[_i].what);
		ck_assert_msg(strstr(err, parse_rows[_i].err) != NULL,
			      "%s: reason \"%s\" lacks \"%s\"",
			      parse_rows[_i].what, err, parse_rows[_i].err);
		ck_assert_int_eq(memcmp(&p, &sentinel, sizeof(p)), 0);
	}
}
END_TEST

UNIT_TEST(test_parse_limits)
{
	struct lic_policy p;
	char err[128];
	size_t n = LIC_POLICY_JSON_MAX + 1;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	/* Valid JSON, too large: refused on size before parsing. */
	memset(big, ' ', n);
	memcpy(big, "{\"name\": \"x\"}", 13);
	ck_assert_int_eq(lic_policy_parse(big, n, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	ck_assert_int_eq(lic_policy_parse(big, n - 1, &p, err, sizeof(err)), 0);
	free(big);
	/* Not NUL-terminated: only len bytes are read. */
	ck_assert_int_eq(
	    lic_policy_parse("{\"name\": \"x\"}garbage", 13, &p, NULL, 0), 0);
	ck_assert_str_eq(p.name, "x");
	ck_assert_int_eq(lic_policy_parse(NULL, 0, &p, err, sizeof(err)), -1);
	ck_assert_int_eq(lic_policy_parse("{}", 2, NULL, err, sizeof(err)), -1);
	/* A one-byte error buffer still gets a terminator. */
	ck_assert_int_eq(lic_policy_parse("x", 1, &p, err, 1), -1);
	ck_assert_int_eq(err[0], '\0');
}
END_TEST

/* ---- JSON out and back -------------------------------------------------- */

UNIT_TEST(test_json_round_trip)
{
	struct lic_policy in, out;
	char err[128] = "";
	char *text;
	int which;

	for (which = 0; which < 3; which++) {
		if (which == 0) {
			lic_policy_default(&in);
		} else {
			reference_policy(&in);
			in.ack_required = which == 2;
			in.attr[LIC_GROUP_EXPORT][LIC_ATTR_ON_CHANGE].source =
			    LIC_SOURCE_PRODUCT_DEFAULT;
			in.ack_required_source = LIC_SOURCE_CISCO_DEFAULT;
		}
		text = lic_policy_to_json(&in);
		ck_assert_ptr_nonnull(text);
		ck_assert_msg(lic_policy_parse(text, strlen(text), &out, err,
					       sizeof(err)) == 0,
			      "%s: %s", text, err);
		assert_policy_eq(&in, &out);
		free(text);
	}
	/* The exact text of the default, which the store keeps. */
	lic_policy_default(&in);
	text = lic_policy_to_json(&in);
	ck_assert_str_eq(
	    text,
	    "{\"name\":\"Cisco default\",\"installed_on\":0,\"reporting_a"
	    "ck_required\":{\"value\":true,\"source\":\"CISCO default\"},"
	    "\"groups\":{\"perpetual\":{\"first_report_days\":{\"days\":3"
	    "65,\"source\":\"CISCO default\"},\"reporting_frequency_days\""
	    ":{\"days\":90,\"source\":\"CISCO default\"},\"report_on_chan"
	    "ge_days\":{\"days\":90,\"source\":\"Product default\"}},\"su"
	    "bscription\":{\"first_report_days\":{\"days\":90,\"source\":"
	    "\"CISCO default\"},\"reporting_frequency_days\":{\"days\":90"
	    ",\"source\":\"CISCO default\"},\"report_on_change_days\":{\""
	    "days\":80,\"source\":\"Product default\"}},\"enforced\":{\"f"
	    "irst_report_days\":{\"days\":90,\"source\":\"Customer Policy"
	    "\"},\"reporting_frequency_days\":{\"days\":90,\"source\":\"C"
	    "ustomer Policy\"},\"report_on_change_days\":{\"days\":80,\"s"
	    "ource\":\"Customer Policy\"}},\"export\":{\"first_report_day"
	    "s\":{\"days\":90,\"source\":\"Customer Policy\"},\"reporting"
	    "_frequency_days\":{\"days\":90,\"source\":\"Customer Policy\""
	    "},\"report_on_change_days\":{\"days\":90,\"source\":\"Custom"
	    "er Policy\"}}}}");
	free(text);
	/* Invalid policies are not serialized. */
	in.attr[LIC_GROUP_ENFORCED][LIC_ATTR_FREQUENCY].days = 3651;
	ck_assert_ptr_null(lic_policy_to_json(&in));
	ck_assert_ptr_null(lic_policy_to_json(NULL));
}
END_TEST

/* ---- validation and replacement ---------------------------------------- */

static const struct {
	const char *what;
	int group, attr, days, source;
	const char *name;
	const char *err;
} invalid_rows[] = {
    {"days 3651", LIC_GROUP_ENFORCED, LIC_ATTR_FREQUENCY, 3651, 0, "x",
     "groups.enforced.reporting_frequency_days: 3651"},
    {"days -1", LIC_GROUP_PERPETUAL, LIC_ATTR_ON_CHANGE, -1, 0, "x",
     "groups.perpetual.report_on_change_days: -1"},
    {"bad source", LIC_GROUP_EXPORT, LIC_ATTR_FIRST_REPORT, 1, LIC_SOURCE_COUNT,
     "x", "unknown source"},
    {"empty name", LIC_GROUP_EXPORT, LIC_ATTR_FIRST_REPORT, 1, 0, "", "name"},
    {"tab in name", LIC_GROUP_EXPORT, LIC_ATTR_FIRST_REPORT, 1, 0, "a\tb",
     "printable"},
};

UNIT_LOOP_TEST(test_validate, 0, NELEM(invalid_rows))
{
	struct lic_policy p;
	char err[128] = "";

	lic_policy_default(&p);
	p.attr[invalid_rows[_i].group][invalid_rows[_i].attr].days =
	    invalid_rows[_i].days;
	p.attr[invalid_rows[_i].group][invalid_rows[_i].attr].source =
	    invalid_rows[_i].source;
	snprintf(p.name, sizeof(p.name), "%s", invalid_rows[_i].name);
	ck_assert_int_eq(lic_policy_validate(&p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, invalid_rows[_i].err) != NULL, "%s: %s",
		      invalid_rows[_i].what, err);
}
END_TEST

UNIT_TEST(test_validate_bounds)
{
	struct lic_policy p;

	lic_policy_default(&p);
	p.attr[LIC_GROUP_EXPORT][LIC_ATTR_FREQUENCY].days = 3650;
	p.attr[LIC_GROUP_EXPORT][LIC_ATTR_ON_CHANGE].days = 0;
	ck_assert_int_eq(lic_policy_validate(&p, NULL, 0), 0);
	memset(p.name, 'n', sizeof(p.name)); /* no terminator */
	ck_assert_int_eq(lic_policy_validate(&p, NULL, 0), -1);
	lic_policy_default(&p);
	p.installed_on = -1;
	ck_assert_int_eq(lic_policy_validate(&p, NULL, 0), -1);
	ck_assert_int_eq(lic_policy_validate(NULL, NULL, 0), -1);
}
END_TEST

UNIT_TEST(test_install)
{
	struct lic_policy in_use, arrived, before, parsed;
	const char *json = "{\"name\": \"Custom Policy\", "
			   "\"reporting_ack_required\": true, " FULL_GROUPS "}";
	char err[128] = "";

	lic_policy_default(&in_use);
	ck_assert_int_eq(
	    lic_policy_parse(json, strlen(json), &parsed, err, sizeof(err)), 0);
	/* Arrives: replaces the one in use, stamped with the install time. */
	ck_assert_int_eq(
	    lic_policy_install(&in_use, &parsed, T_INSTALL, err, sizeof(err)),
	    0);
	reference_policy(&arrived);
	assert_policy_eq(&in_use, &arrived);
	ck_assert_int_eq(in_use.installed_on, T_INSTALL);

	/* A second policy replaces the first entirely (no merging): what it
	 * leaves out is Cisco default again. */
	json = "{\"name\": \"Second\", \"groups\": {\"perpetual\": "
	       "{\"first_report_days\": 180}}}";
	ck_assert_int_eq(
	    lic_policy_parse(json, strlen(json), &parsed, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    lic_policy_install(&in_use, &parsed, T_USE, err, sizeof(err)), 0);
	ck_assert_str_eq(in_use.name, "Second");
	ck_assert_int_eq(in_use.installed_on, T_USE);
	ck_assert_int_eq(
	    in_use.attr[LIC_GROUP_SUBSCRIPTION][LIC_ATTR_FIRST_REPORT].source,
	    LIC_SOURCE_CISCO_DEFAULT);
	ck_assert_int_eq(
	    in_use.attr[LIC_GROUP_ENFORCED][LIC_ATTR_FIRST_REPORT].days, 90);
	ck_assert_int_eq(
	    in_use.attr[LIC_GROUP_ENFORCED][LIC_ATTR_FIRST_REPORT].source,
	    LIC_SOURCE_CUSTOMER);

	/* Invalid policy or install time: nothing changes. */
	before = in_use;
	arrived = parsed;
	arrived.attr[LIC_GROUP_EXPORT][LIC_ATTR_FREQUENCY].days = 4000;
	ck_assert_int_eq(
	    lic_policy_install(&in_use, &arrived, T_REF_NOW, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "4000"));
	assert_policy_eq(&in_use, &before);
	ck_assert_int_eq(
	    lic_policy_install(&in_use, &parsed, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(
	    lic_policy_install(&in_use, &parsed, -1, err, sizeof(err)), -1);
	ck_assert_int_eq(lic_policy_install(&in_use, &parsed, LIC_TIME_MAX + 1,
					    err, sizeof(err)),
			 -1);
	assert_policy_eq(&in_use, &before);
	ck_assert_int_eq(
	    lic_policy_install(&in_use, NULL, T_USE, err, sizeof(err)), -1);
	ck_assert_int_eq(
	    lic_policy_install(NULL, &parsed, T_USE, err, sizeof(err)), -1);
	assert_policy_eq(&in_use, &before);
}
END_TEST

/* ---- deadline arithmetic ----------------------------------------------- */

enum pol { POL_DEFAULT, POL_NO_ACK, POL_REFERENCE, POL_SHORT, POL_ZERO };

static void make_policy(enum pol which, struct lic_policy *p)
{
	switch (which) {
	case POL_DEFAULT:
		lic_policy_default(p);
		break;
	case POL_NO_ACK:
		lic_policy_default(p);
		p->ack_required = false;
		break;
	case POL_REFERENCE:
		reference_policy(p);
		break;
	case POL_SHORT: /* Subscription first report in 5 days. */
		lic_policy_default(p);
		set_group(p, LIC_GROUP_SUBSCRIPTION, 5, 90, 90,
			  LIC_SOURCE_CUSTOMER);
		break;
	case POL_ZERO: /* A customer's zeros: Perpetual and Enforced. */
		lic_policy_default(p);
		set_group(p, LIC_GROUP_PERPETUAL, 365, 0, 90,
			  LIC_SOURCE_CUSTOMER);
		set_group(p, LIC_GROUP_ENFORCED, 0, 0, 0, LIC_SOURCE_CUSTOMER);
		break;
	}
}

/* Transports as the flags they set. */
#define SMART .push_enabled = true, .ack_polled = false
#define CSLU  .push_enabled = true, .ack_polled = true
#define OFF   .push_enabled = false, .ack_polled = false

static const struct {
	const char *what;
	enum pol pol;
	enum lic_group g;
	struct lic_usage_times t;
	int64_t now;
	int64_t deadline, push, check;
	bool passed;
} dl_rows[] = {
    {"nothing used yet: nothing due",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.push_interval_days = 30, SMART},
     T_USE,
     NONE,
     NONE,
     NONE,
     false},
    /* Oct 14 2021 12:10:32 + 365 d = Oct 14 2022 12:10:32 (no Feb 29
     * in between): 1634213432 + 31536000 = 1665749432. */
    {"no ACK, perpetual: first use + 365 d",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     T_USE + DAY,
     INT64_C(1665749432),
     T_USE + 30 * DAY,
     NONE,
     false},
    {"no ACK, one second before the deadline",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     INT64_C(1665749431),
     INT64_C(1665749432),
     T_USE + 30 * DAY,
     NONE,
     false},
    {"no ACK, at the deadline: passed",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     INT64_C(1665749432),
     INT64_C(1665749432),
     T_USE + 30 * DAY,
     NONE,
     true},
    /* Oct 14 2021 12:10:32 + 90 d = Jan 12 2022 12:10:32 (17 days left
     * in October, 30 in November, 31 in December, 12 in January):
     * 1634213432 + 7776000 = 1641989432. */
    {"no ACK, subscription: first use + 90 d",
     POL_DEFAULT,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     T_USE,
     INT64_C(1641989432),
     T_USE + 30 * DAY,
     NONE,
     false},
    {"no ACK, enforced first report 0: no deadline",
     POL_ZERO,
     LIC_GROUP_ENFORCED,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     T_USE + 4000 * DAY,
     NONE,
     T_USE + 30 * DAY,
     NONE,
     false},
    {"after ACK, perpetual frequency 0: no deadline",
     POL_ZERO,
     LIC_GROUP_CUBE,
     {.first_use = T_USE - DAY,
      .last_push = T_PUSH,
      .last_ack = T_USE,
      .push_interval_days = 30,
      SMART},
     T_USE + 1000 * DAY,
     NONE,
     T_PUSH + 30 * DAY,
     NONE,
     false},
    /* The reference: ACK Oct 14 2021 12:10:32 + 90 d = Jan 12 2022. */
    {"after ACK, subscription: last ACK + 90 d",
     POL_REFERENCE,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_INSTALL,
      .last_push = T_PUSH,
      .last_ack = T_USE,
      .push_interval_days = 30,
      CSLU},
     T_USE + 90 * DAY,
     INT64_C(1641989432),
     T_PUSH + 30 * DAY,
     NONE,
     true},
    {"an ACK older than first use does not count",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE,
      .last_push = T_USE - 10 * DAY,
      .last_ack = T_USE - 10 * DAY,
      .push_interval_days = 30,
      SMART},
     T_USE,
     INT64_C(1665749432),
     T_USE + 20 * DAY,
     NONE,
     false},
    {"ACK not required: a push counts as the ACK",
     POL_NO_ACK,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE,
      .last_push = T_USE + 5 * DAY,
      .push_interval_days = 30,
      SMART},
     T_USE + 6 * DAY,
     T_USE + 95 * DAY,
     T_USE + 35 * DAY,
     NONE,
     false},
    {"ACK required: a push alone is no ACK",
     POL_DEFAULT,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE,
      .last_push = T_USE + 5 * DAY,
      .push_interval_days = 30,
      SMART},
     T_USE + 6 * DAY,
     T_USE + 90 * DAY,
     T_USE + 35 * DAY,
     NONE,
     false},
    {"report on change due: push now",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE,
      .last_push = T_USE + DAY,
      .last_ack = T_USE + DAY,
      .push_interval_days = 30,
      .change_due = true,
      SMART},
     T_USE + 3 * DAY,
     T_USE + 91 * DAY, /* last ACK + Perpetual 90 d */
     T_USE + 3 * DAY,
     NONE,
     false},
    {"report on change due with interval 0: push now",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .change_due = true, SMART},
     T_USE + 3 * DAY,
     INT64_C(1665749432),
     T_USE + 3 * DAY,
     NONE,
     false},
    {"interval 0: no periodic push",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, SMART},
     T_USE,
     INT64_C(1665749432),
     NONE,
     NONE,
     false},
    {"transport off: never a push",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 30, .change_due = true, OFF},
     T_USE,
     INT64_C(1665749432),
     NONE,
     NONE,
     false},
    {"interval past the deadline: pulled in 7 d before it",
     POL_DEFAULT,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE, .push_interval_days = 120, SMART},
     T_USE,
     T_USE + 90 * DAY,
     T_USE + 83 * DAY,
     NONE,
     false},
    {"deadline within 7 d of first use: first push at once",
     POL_SHORT,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     T_USE + HOUR,
     T_USE + 5 * DAY,
     T_USE,
     NONE,
     false},
    {"pushed inside the 7 d window: no pull-in",
     POL_DEFAULT,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_USE,
      .last_push = T_USE + 85 * DAY,
      .push_interval_days = 30,
      SMART},
     T_USE + 86 * DAY,
     T_USE + 90 * DAY,
     T_USE + 115 * DAY,
     NONE,
     false},
    {"cslu, ACK outstanding: check 1 h after the push",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, .push_interval_days = 30, CSLU},
     T_PUSH + 10,
     INT64_C(1665749432),
     T_PUSH + 30 * DAY,
     T_PUSH + HOUR,
     false},
    {"cslu, at a check time: that check",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, .push_interval_days = 30, CSLU},
     T_PUSH + HOUR,
     INT64_C(1665749432),
     T_PUSH + 30 * DAY,
     T_PUSH + HOUR,
     false},
    {"cslu, just after a check: the next hour",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, .push_interval_days = 30, CSLU},
     T_PUSH + HOUR + 1,
     INT64_C(1665749432),
     T_PUSH + 30 * DAY,
     T_PUSH + 2 * HOUR,
     false},
    {"cslu, now before the push: 1 h after it",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, .push_interval_days = 30, CSLU},
     T_PUSH - DAY,
     INT64_C(1665749432),
     T_PUSH + 30 * DAY,
     T_PUSH + HOUR,
     false},
    {"cslu, ACK received: no check",
     POL_REFERENCE,
     LIC_GROUP_CUBE,
     {.first_use = T_INSTALL,
      .last_push = T_PUSH,
      .last_ack = T_USE,
      .push_interval_days = 30,
      CSLU},
     T_PUSH + HOUR + 1,
     NONE,
     T_PUSH + 30 * DAY,
     NONE,
     false},
    {"smart, ACK outstanding: no check (ACK in the reply)",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .last_push = T_PUSH, .push_interval_days = 30, SMART},
     T_PUSH + 10,
     INT64_C(1665749432),
     T_PUSH + 30 * DAY,
     NONE,
     false},
    {"bad input: interval 3651",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 3651, SMART},
     T_USE,
     NONE,
     NONE,
     NONE,
     false},
    {"bad input: negative time",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = -T_USE, .push_interval_days = 30, SMART},
     T_USE,
     NONE,
     NONE,
     NONE,
     false},
    {"bad input: group out of range",
     POL_DEFAULT,
     LIC_GROUP_COUNT,
     {.first_use = T_USE, .push_interval_days = 30, SMART},
     T_USE,
     NONE,
     NONE,
     NONE,
     false},
};

UNIT_TCASE("deadline");

UNIT_LOOP_TEST(test_deadlines, 0, NELEM(dl_rows))
{
	struct lic_policy p;
	const struct lic_usage_times *t = &dl_rows[_i].t;
	const char *what = dl_rows[_i].what;
	int64_t now = dl_rows[_i].now;
	int64_t got;

	make_policy(dl_rows[_i].pol, &p);
	got = lic_next_ack_deadline(&p, dl_rows[_i].g, t);
	ck_assert_msg(got == dl_rows[_i].deadline,
		      "%s: deadline %lld, want %lld", what, (long long)got,
		      (long long)dl_rows[_i].deadline);
	got = lic_next_report_push(&p, dl_rows[_i].g, t, now);
	ck_assert_msg(got == dl_rows[_i].push, "%s: push %lld, want %lld", what,
		      (long long)got, (long long)dl_rows[_i].push);
	got = lic_next_ack_check(t, now);
	ck_assert_msg(got == dl_rows[_i].check, "%s: check %lld, want %lld",
		      what, (long long)got, (long long)dl_rows[_i].check);
	ck_assert_msg(lic_deadline_passed(&p, dl_rows[_i].g, t, now) ==
			  dl_rows[_i].passed,
		      "%s: passed", what);
}
END_TEST

UNIT_TEST(test_deadline_null)
{
	struct lic_usage_times t = {.first_use = T_USE};
	struct lic_policy p;

	lic_policy_default(&p);
	ck_assert_int_eq(lic_next_ack_deadline(NULL, 0, &t), NONE);
	ck_assert_int_eq(lic_next_ack_deadline(&p, 0, NULL), NONE);
	ck_assert_int_eq(lic_next_report_push(&p, 0, NULL, T_USE), NONE);
	ck_assert_int_eq(lic_next_ack_check(NULL, T_USE), NONE);
	ck_assert(!lic_deadline_passed(NULL, 0, &t, T_USE));
	/* An invalid policy gives no deadline rather than a wrong one. */
	p.attr[LIC_GROUP_CUBE][LIC_ATTR_FIRST_REPORT].days = -365;
	ck_assert_int_eq(lic_next_ack_deadline(&p, LIC_GROUP_CUBE, &t), NONE);
}
END_TEST

/* ---- golden text -------------------------------------------------------- */

/* CUBE's own sample of the default policy (show license status). */
static const char golden_policy_default[] =
    "Policy:\n"
    "  Policy in use: Merged from multiple sources.\n"
    "  Reporting ACK required: yes (CISCO default)\n"
    "  Unenforced/Non-Export Perpetual Attributes:\n"
    "    First report requirement (days): 365 (CISCO default)\n"
    "    Reporting frequency (days): 90 (CISCO default)\n"
    "    Report on change (days): 90 (Product default)\n"
    "  Unenforced/Non-Export Subscription Attributes:\n"
    "    First report requirement (days): 90 (CISCO default)\n"
    "    Reporting frequency (days): 90 (CISCO default)\n"
    "    Report on change (days): 80 (Product default)\n"
    "  Enforced (Perpetual/Subscription) License Attributes:\n"
    "    First report requirement (days): 90 (Customer Policy)\n"
    "    Reporting frequency (days): 90 (Customer Policy)\n"
    "    Report on change (days): 80 (Customer Policy)\n"
    "  Export (Perpetual/Subscription) License Attributes:\n"
    "    First report requirement (days): 90 (Customer Policy)\n"
    "    Reporting frequency (days): 90 (Customer Policy)\n"
    "    Report on change (days): 90 (Customer Policy)\n";

/* The Policy block of the reference file, line for line. */
static const char golden_policy_reference[] =
    "Policy:\n"
    "  Policy in use: Installed On Oct 14 11:37:52 2021 UTC\n"
    "  Policy name: Custom Policy\n"
    "  Reporting ACK required: yes (Customer Policy)\n"
    "  Unenforced/Non-Export Perpetual Attributes:\n"
    "    First report requirement (days): 365 (Customer Policy)\n"
    "    Reporting frequency (days): 0 (Customer Policy)\n"
    "    Report on change (days): 90 (Customer Policy)\n"
    "  Unenforced/Non-Export Subscription Attributes:\n"
    "    First report requirement (days): 90 (Customer Policy)\n"
    "    Reporting frequency (days): 90 (Customer Policy)\n"
    "    Report on change (days): 90 (Customer Policy)\n"
    "  Enforced (Perpetual/Subscription) License Attributes:\n"
    "    First report requirement (days): 365 (Customer Policy)\n"
    "    Reporting frequency (days): 90 (Customer Policy)\n"
    "    Report on change (days): 90 (Customer Policy)\n"
    "  Export (Perpetual/Subscription) License Attributes:\n"
    "    First report requirement (days): 365 (Customer Policy)\n"
    "    Reporting frequency (days): 90 (Customer Policy)\n"
    "    Report on change (days): 90 (Customer Policy)\n";

/* The Usage Reporting block of the reference file, line for line: ACK
 * Oct 14 12:10:32 + 90 d of the Subscription group = Jan 12 2022; a report
 * on change is due at Oct 22 04:33:08, which is `now`. */
static const char golden_usage_reference[] =
    "Usage Reporting:\n"
    "  Last ACK received: Oct 14 12:10:32 2021 UTC\n"
    "  Next ACK deadline: Jan 12 12:10:32 2022 UTC\n"
    "  Reporting push interval: 30  days\n"
    "  Next ACK push check: <none>\n"
    "  Next report push: Oct 22 04:33:08 2021 UTC\n"
    "  Last report push: Oct 14 12:09:30 2021 UTC\n"
    "  Last report file write: <none>\n"
    "  Time to ACK deadline: 82 days, 7 hours, 37 minutes\n";

/* A fresh CUBE: calls since Oct 14 2021 12:10:32, nothing reported, cslu.
 * Deadline first use + 365 d; push first use + 30 d = Nov 13 12:10:32. */
static const char golden_usage_cube_fresh[] =
    "Usage Reporting:\n"
    "  Last ACK received: <none>\n"
    "  Next ACK deadline: Oct 14 12:10:32 2022 UTC\n"
    "  Reporting push interval: 30  days\n"
    "  Next ACK push check: <none>\n"
    "  Next report push: Nov 13 12:10:32 2021 UTC\n"
    "  Last report push: <none>\n"
    "  Last report file write: <none>\n"
    "  Time to ACK deadline: 364 days, 0 hours, 0 minutes\n";

/* cslu, first use Oct 14 2021 08:00:00 (deadline + 365 d = Oct 14 2022
 * 08:00:00), pushed 12:09:30 with no ACK yet, asked at 13:00:00: next check
 * 12:09:30 + 1 h = 13:09:30; next push + 30 d = Nov 13 12:09:30; a file
 * written Oct 15 08:00:00. */
static const char golden_usage_cslu_waiting[] =
    "Usage Reporting:\n"
    "  Last ACK received: <none>\n"
    "  Next ACK deadline: Oct 14 08:00:00 2022 UTC\n"
    "  Reporting push interval: 30  days\n"
    "  Next ACK push check: Oct 14 13:09:30 2021 UTC\n"
    "  Next report push: Nov 13 12:09:30 2021 UTC\n"
    "  Last report push: Oct 14 12:09:30 2021 UTC\n"
    "  Last report file write: Oct 15 08:00:00 2021 UTC\n"
    "  Time to ACK deadline: 364 days, 19 hours, 0 minutes\n";

/* Nothing configured or used: the layout IOS XE shows then. */
static const char golden_usage_empty[] =
    "Usage Reporting:\n"
    "  Last ACK received: <none>\n"
    "  Next ACK deadline: <none>\n"
    "  Reporting push interval: 0 (no reporting)\n"
    "  Next ACK push check: <none>\n"
    "  Next report push: <none>\n"
    "  Last report push: <none>\n"
    "  Last report file write: <none>\n"
    "  Time to ACK deadline: <none>\n";

UNIT_TCASE("render");

UNIT_TEST(test_render_policy)
{
	struct capture c;
	struct lic_policy p;
	FILE *f;

	lic_policy_default(&p);
	capture_open(&c, &f);
	ck_assert_int_eq(lic_policy_render(&p, f), 0);
	capture_close(f);
	ck_assert_str_eq(c.buf, golden_policy_default);
	free(c.buf);

	reference_policy(&p);
	capture_open(&c, &f);
	ck_assert_int_eq(lic_policy_render(&p, f), 0);
	capture_close(f);
	ck_assert_str_eq(c.buf, golden_policy_reference);
	free(c.buf);

	/* Invalid policy or no stream: -1 and nothing written. */
	p.attr[0][0].days = 9999;
	capture_open(&c, &f);
	ck_assert_int_eq(lic_policy_render(&p, f), -1);
	ck_assert_int_eq(lic_policy_render(NULL, f), -1);
	capture_close(f);
	ck_assert_uint_eq(c.len, 0);
	free(c.buf);
	ck_assert_int_eq(lic_policy_render(&p, NULL), -1);
}
END_TEST

static const struct {
	const char *what;
	enum pol pol;
	enum lic_group g;
	struct lic_usage_times t;
	int64_t now;
	const char *want;
} usage_rows[] = {
    {"reference",
     POL_REFERENCE,
     LIC_GROUP_SUBSCRIPTION,
     {.first_use = T_INSTALL,
      .last_push = T_PUSH,
      .last_ack = T_USE,
      .push_interval_days = 30,
      .change_due = true,
      CSLU},
     T_REF_NOW,
     golden_usage_reference},
    {"fresh CUBE",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {.first_use = T_USE, .push_interval_days = 30, CSLU},
     T_USE + DAY,
     golden_usage_cube_fresh},
    {"cslu waiting for the ACK",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     /* Oct 14 2021 08:00:00; Oct 15 2021 08:00:00 */
     {.first_use = INT64_C(1634198400),
      .last_push = T_PUSH,
      .last_file_write = INT64_C(1634284800),
      .push_interval_days = 30,
      CSLU},
     /* Oct 14 2021 13:00:00 */
     INT64_C(1634216400),
     golden_usage_cslu_waiting},
    {"nothing",
     POL_DEFAULT,
     LIC_GROUP_CUBE,
     {SMART},
     T_USE,
     golden_usage_empty},
};

UNIT_LOOP_TEST(test_render_usage, 0, NELEM(usage_rows))
{
	struct lic_policy p;
	struct capture c;
	FILE *f;

	make_policy(usage_rows[_i].pol, &p);
	capture_open(&c, &f);
	ck_assert_int_eq(lic_usage_render(&p, usage_rows[_i].g,
					  &usage_rows[_i].t, usage_rows[_i].now,
					  f),
			 0);
	capture_close(f);
	ck_assert_msg(strcmp(c.buf, usage_rows[_i].want) == 0,
		      "%s:\n%s\nwant:\n%s", usage_rows[_i].what, c.buf,
		      usage_rows[_i].want);
	free(c.buf);
}
END_TEST

UNIT_TEST(test_render_usage_bad)
{
	struct lic_usage_times t = {.push_interval_days = -1};
	struct lic_policy p;
	struct capture c;
	FILE *f;

	lic_policy_default(&p);
	capture_open(&c, &f);
	ck_assert_int_eq(lic_usage_render(&p, LIC_GROUP_CUBE, &t, T_USE, f),
			 -1);
	t.push_interval_days = 30;
	ck_assert_int_eq(lic_usage_render(&p, LIC_GROUP_CUBE, &t, -1, f), -1);
	ck_assert_int_eq(lic_usage_render(NULL, LIC_GROUP_CUBE, &t, T_USE, f),
			 -1);
	ck_assert_int_eq(lic_usage_render(&p, LIC_GROUP_CUBE, NULL, T_USE, f),
			 -1);
	capture_close(f);
	ck_assert_uint_eq(c.len, 0);
	free(c.buf);
	ck_assert_int_eq(lic_usage_render(&p, LIC_GROUP_CUBE, &t, T_USE, NULL),
			 -1);
}
END_TEST

UNIT_MAIN("policy")
