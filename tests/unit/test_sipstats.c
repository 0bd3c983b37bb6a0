/*
 * SIP message counters (sbc/sipstats.c, docs/internals/sipstats.md).
 *
 * The counting rules are checked value by value through the row table;
 * the text and JSON views are compared with golden files in
 * tests/unit/golden/ (SBC_GOLDEN_DIR). Run with SBC_UPDATE_GOLDEN=1 to
 * rewrite them from the current output, then read the diff before keeping
 * it.
 */
#include "sbc/sipstats.h"

#include "golden.h"
#include "memtext.h"
#include "unit.h"

#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* 2024-01-01T12:00:00.250Z */
#define T_CLEAR INT64_C(1704110400250)

/* ---------------------------------------------------------------------- */
/* Golden files */


static char *render_text(const struct sbc_sipstats *s)
{
	struct memtext m;

	ck_assert_int_eq(sbc_sipstats_render(s, memtext_open(&m)), 0);
	return memtext_take(&m);
}

static char *render_json(const struct sbc_sipstats *s)
{
	return golden_json_text(sbc_sipstats_json(s));
}

/* Both views of s against <stem>.txt and <stem>.json: the text, to free. */
static char *check_goldens(const struct sbc_sipstats *s, const char *stem)
{
	char name[64], *text = render_text(s), *json = render_json(s);

	snprintf(name, sizeof(name), "%s.txt", stem);
	check_golden_text(name, text);
	snprintf(name, sizeof(name), "%s.json", stem);
	check_golden_text(name, json);
	free(json);
	return text;
}

/* ---------------------------------------------------------------------- */
/* Helpers */

/* Index of the row `name` in section `section`; fails when absent. */
static size_t row_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < sbc_sipstats_nrows(); i++) {
		const struct sbc_sipstats_row *r = sbc_sipstats_row(i);

		if (strcmp(r->section, section) == 0 &&
		    strcmp(r->name, name) == 0)
			return i;
	}
	ck_abort_msg("no row %s/%s", section, name);
	return 0;
}

static void expect(const struct sbc_sipstats *s, const char *section,
		   const char *name, uint64_t in, uint64_t out)
{
	uint64_t gi, go;

	sbc_sipstats_value(s, row_index(section, name), &gi, &go);
	ck_assert_msg(gi == in && go == out,
		      "%s/%s: got %llu/%llu, want %llu/%llu", section, name,
		      (unsigned long long)gi, (unsigned long long)go,
		      (unsigned long long)in, (unsigned long long)out);
}

/* Sum of every row of a section (in + out). */
static uint64_t section_sum(const struct sbc_sipstats *s, const char *section)
{
	uint64_t sum = 0, in, out;
	size_t i;

	for (i = 0; i < sbc_sipstats_nrows(); i++) {
		if (strcmp(sbc_sipstats_row(i)->section, section) != 0)
			continue;
		sbc_sipstats_value(s, i, &in, &out);
		sum += in + out;
	}
	return sum;
}

struct event {
	enum sbc_sipstats_dir dir;
	enum sbc_sip_method m;
	int status; /* 0: a request */
	unsigned times;
};

/*
 * A relayed call with a few extras: the events the B2BUA would count for
 * an INVITE answered 200 after 180, an in-dialog INFO, a refused call, a
 * REFER accepted 202, and statuses outside the table.
 */
static const struct event mixed[] = {
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 0, 3},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 100, 3},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 0, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 100, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 180, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 180, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 200, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 200, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_ACK, 0, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_ACK, 0, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 404, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_INFO, 0, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_INFO, 0, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_INFO, 200, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_INFO, 200, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_REFER, 0, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_REFER, 202, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_BYE, 0, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_BYE, 200, 2},
	{SBC_SIPSTATS_OUT, SBC_SIP_BYE, 0, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_BYE, 200, 2},
	{SBC_SIPSTATS_IN, SBC_SIP_OPTIONS, 0, 5},
	{SBC_SIPSTATS_OUT, SBC_SIP_OPTIONS, 200, 5},
	{SBC_SIPSTATS_IN, SBC_SIP_OTHER, 0, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_OTHER, 405, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_CANCEL, 0, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_CANCEL, 200, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 487, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 503, 1},
	{SBC_SIPSTATS_OUT, SBC_SIP_INVITE, 503, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 603, 1},
	{SBC_SIPSTATS_IN, SBC_SIP_REFER, 200, 1},  /* no OkRefer row */
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 299, 1}, /* no row: class only */
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 99, 1},  /* not a status: ignored */
	{SBC_SIPSTATS_IN, SBC_SIP_INVITE, 700, 1}, /* ignored */
	{SBC_SIPSTATS_OUT, (enum sbc_sip_method)77, 0, 1}, /* as OTHER */
};

static void play(struct sbc_sipstats *s, const struct event *ev, size_t n)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < ev[i].times; k++) {
			if (ev[i].status == 0)
				sbc_sipstats_request(s, ev[i].dir, ev[i].m);
			else
				sbc_sipstats_response(s, ev[i].dir, ev[i].m,
						      ev[i].status);
		}
	}
}

static struct sbc_sipstats *mixed_stats(void)
{
	struct sbc_sipstats *s = sbc_sipstats_new();
	const uint64_t retries[SBC_SIPSTATS_RETRY_COUNT] = {4, 7, 11};

	ck_assert_ptr_nonnull(s);
	play(s, mixed, NELEM(mixed));
	sbc_sipstats_set_retries(s, retries);
	return s;
}

/* ---------------------------------------------------------------------- */
/* Tests */

/* Every (section, name) is unique and every method and class has a row. */
UNIT_TEST(test_table)
{
	size_t i, j, n = sbc_sipstats_nrows();
	int m, c;

	ck_assert_uint_gt(n, 60);
	ck_assert_ptr_null(sbc_sipstats_row(n));
	for (i = 0; i < n; i++) {
		const struct sbc_sipstats_row *a = sbc_sipstats_row(i);

		for (j = i + 1; j < n; j++) {
			const struct sbc_sipstats_row *b = sbc_sipstats_row(j);

			ck_assert_msg(strcmp(a->section, b->section) != 0 ||
					      strcmp(a->name, b->name) != 0,
				      "row %s/%s twice", a->section, a->name);
		}
	}
	for (m = 0; m < SBC_SIP_METHOD_COUNT; m++) {
		bool found = false;

		for (i = 0; i < n; i++) {
			const struct sbc_sipstats_row *r = sbc_sipstats_row(i);

			found |= r->kind == SBC_SIPSTATS_REQUEST &&
				 r->method == m;
		}
		ck_assert_msg(found, "no request row for %s",
			      sbc_sip_method_name((enum sbc_sip_method)m));
	}
	for (c = 1; c <= 6; c++) {
		bool found = false;

		for (i = 0; i < n; i++) {
			const struct sbc_sipstats_row *r = sbc_sipstats_row(i);

			found |= r->kind == SBC_SIPSTATS_CLASS && r->code == c;
		}
		ck_assert_msg(found, "no row for class %dxx", c);
	}
}
END_TEST

UNIT_TEST(test_method_names)
{
	static const struct {
		const char *name;
		enum sbc_sip_method m;
	} cases[] = {
		{"INVITE", SBC_SIP_INVITE},   {"ACK", SBC_SIP_ACK},
		{"BYE", SBC_SIP_BYE},	      {"CANCEL", SBC_SIP_CANCEL},
		{"OPTIONS", SBC_SIP_OPTIONS}, {"PRACK", SBC_SIP_PRACK},
		{"UPDATE", SBC_SIP_UPDATE},   {"INFO", SBC_SIP_INFO},
		{"REFER", SBC_SIP_REFER},     {"NOTIFY", SBC_SIP_NOTIFY},
		{"SUBSCRIBE", SBC_SIP_SUBSCRIBE},
		{"MESSAGE", SBC_SIP_MESSAGE}, {"REGISTER", SBC_SIP_REGISTER},
		{"PUBLISH", SBC_SIP_OTHER},   {"invite", SBC_SIP_OTHER},
		{"", SBC_SIP_OTHER},	      {NULL, SBC_SIP_OTHER},
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		ck_assert_int_eq(sbc_sip_method_parse(cases[i].name),
				 cases[i].m);
	ck_assert_str_eq(sbc_sip_method_name(SBC_SIP_SUBSCRIBE), "SUBSCRIBE");
	ck_assert_str_eq(sbc_sip_method_name((enum sbc_sip_method)99), "OTHER");
}
END_TEST

/* The counting rules, row by row, for the `mixed` events. */
UNIT_TEST(test_counting)
{
	struct sbc_sipstats *s = mixed_stats();

	expect(s, "informational", "Trying", 2, 3);
	expect(s, "informational", "Ringing", 2, 2);
	expect(s, "informational", "SessionProgress", 0, 0);
	/* 200 by method; 202 whatever the method; 200 to REFER: class only */
	expect(s, "success", "OkInvite", 2, 2);
	expect(s, "success", "OkBye", 2, 2);
	expect(s, "success", "OkInfo", 1, 1);
	expect(s, "success", "OkOptions", 0, 5);
	expect(s, "success", "OkCancel", 0, 1);
	expect(s, "success", "202Accepted", 0, 1);
	expect(s, "client_error", "NotFound", 0, 1);
	expect(s, "client_error", "MethodNotAllowed", 0, 1);
	expect(s, "client_error", "RequestCancel", 0, 1);
	expect(s, "server_error", "ServiceUnavail", 1, 1);
	expect(s, "global_failure", "Decline", 1, 0);
	/* 406 and 606 share a name, in different sections */
	expect(s, "client_error", "NotAcceptable", 0, 0);
	expect(s, "global_failure", "NotAcceptable", 0, 0);
	/* classes: 2xx in = 2 Invite + 1 Info + 2 Bye + 1 Refer + 1 "299" */
	expect(s, "classes", "1xx", 4, 5);
	expect(s, "classes", "2xx", 7, 12);
	expect(s, "classes", "3xx", 0, 0);
	expect(s, "classes", "4xx", 0, 3);
	expect(s, "classes", "5xx", 1, 1);
	expect(s, "classes", "6xx", 1, 0);
	expect(s, "requests", "Invite", 3, 2);
	expect(s, "requests", "Ack", 2, 2);
	expect(s, "requests", "Bye", 2, 2);
	expect(s, "requests", "Cancel", 1, 0);
	expect(s, "requests", "Options", 5, 0);
	expect(s, "requests", "Info", 1, 1);
	expect(s, "requests", "Refer", 1, 0);
	expect(s, "requests", "Other", 1, 1);
	expect(s, "requests", "Prack", 0, 0);
	/* single-value rows: the value is `in`, `out` stays 0 */
	expect(s, "retries", "Request", 4, 0);
	expect(s, "retries", "Response", 7, 0);
	expect(s, "retries", "Received", 11, 0);
	ck_assert_int_eq(sbc_sipstats_cleared(s), 0);
	sbc_sipstats_free(&s);
	ck_assert_ptr_null(s);
	sbc_sipstats_free(&s);
	sbc_sipstats_free(NULL);
}
END_TEST

/* Clearing zeroes counters; the stack totals restart from their value. */
UNIT_TEST(test_clear)
{
	struct sbc_sipstats *s = mixed_stats();
	const uint64_t later[SBC_SIPSTATS_RETRY_COUNT] = {6, 7, 20};
	char *text;

	sbc_sipstats_clear(s, T_CLEAR);
	ck_assert_int_eq(sbc_sipstats_cleared(s), T_CLEAR);
	ck_assert_uint_eq(section_sum(s, "requests"), 0);
	ck_assert_uint_eq(section_sum(s, "classes"), 0);
	ck_assert_uint_eq(section_sum(s, "retries"), 0);
	sbc_sipstats_request(s, SBC_SIPSTATS_IN, SBC_SIP_BYE);
	sbc_sipstats_set_retries(s, later);
	expect(s, "requests", "Bye", 1, 0);
	expect(s, "retries", "Request", 2, 0);
	expect(s, "retries", "Response", 0, 0);
	expect(s, "retries", "Received", 9, 0);
	text = render_text(s);
	ck_assert_ptr_nonnull(strstr(
		text, "\nLast time SIP Statistics were cleared: "
		      "12:00:00.250 UTC Mon Jan 1 2024\n"));
	free(text);
	sbc_sipstats_free(&s);
}
END_TEST

static struct sbc_sipstats *zero_stats(void)
{
	return sbc_sipstats_new();
}

/* Each view against its golden files, and lines worth naming. */
static const struct {
	const char *stem;
	struct sbc_sipstats *(*make)(void);
	const char *parts[8];
} render_cases[] = {
    /* IOS layout: section titles and "In/Out" fields as IOS prints them */
    {"sipstats_zero",
     zero_stats,
     {"SIP Response Statistics (Inbound/Outbound)\n"
      "    Informational:\n"
      "      Trying 0/0, Ringing 0/0,\n",
      "      OkInvite 0/0, OkBye 0/0,\n",
      "\nSIP Total Traffic Statistics (Inbound/Outbound)\n"
      "    Invite 0/0, Ack 0/0, Bye 0/0,\n",
      "\nRetry Statistics\n"
      "    Request 0, Response 0, "
      "Received 0\n",
      "\nLast time SIP Statistics were cleared: <never>\n", NULL}},
    {"sipstats_mixed",
     mixed_stats,
     {"      OkInvite 2/2, OkBye 2/2,\n", "Decline 1/0", NULL}},
};

UNIT_LOOP_TEST(test_render, 0, NELEM(render_cases))
{
	struct sbc_sipstats *s = render_cases[_i].make();
	char *text = check_goldens(s, render_cases[_i].stem);
	const char *const *part;

	for (part = render_cases[_i].parts; *part != NULL; part++)
		ck_assert_msg(strstr(text, *part) != NULL, "%s lacks '%s'",
			      render_cases[_i].stem, *part);
	free(text);
	sbc_sipstats_free(&s);
}
END_TEST

/* JSON carries the same values as the rows, under section keys. */
UNIT_TEST(test_json_values)
{
	struct sbc_sipstats *s = mixed_stats();
	json_t *j = sbc_sipstats_json(s), *v;

	ck_assert_ptr_nonnull(j);
	v = json_object_get(
		json_object_get(json_object_get(json_object_get(j, "responses"),
						"success"),
				"OkInvite"),
		"in");
	ck_assert_int_eq(json_integer_value(v), 2);
	v = json_object_get(
		json_object_get(json_object_get(j, "requests"), "Options"),
		"in");
	ck_assert_int_eq(json_integer_value(v), 5);
	v = json_object_get(json_object_get(j, "retries"), "Received");
	ck_assert_int_eq(json_integer_value(v), 11);
	ck_assert(json_is_null(json_object_get(j, "cleared")));
	json_decref(j);
	sbc_sipstats_clear(s, T_CLEAR);
	j = sbc_sipstats_json(s);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "cleared")),
			 T_CLEAR / 1000);
	json_decref(j);
	sbc_sipstats_free(&s);
}
END_TEST

#define WRITES 200000

static void *writer(void *arg)
{
	struct sbc_sipstats *s = arg;
	int i;

	for (i = 0; i < WRITES; i++) {
		sbc_sipstats_request(s, SBC_SIPSTATS_IN, SBC_SIP_INVITE);
		sbc_sipstats_response(s, SBC_SIPSTATS_OUT, SBC_SIP_INVITE,
				      200);
	}
	return NULL;
}

/* One writer, one reader: no count is lost, reads never go backwards. */
UNIT_TEST(test_concurrent)
{
	struct sbc_sipstats *s = sbc_sipstats_new();
	size_t row = row_index("requests", "Invite");
	uint64_t last = 0, in, out;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, writer, s), 0);
	do {
		sbc_sipstats_value(s, row, &in, &out);
		ck_assert_uint_ge(in, last);
		last = in;
	} while (in < WRITES);
	pthread_join(t, NULL);
	expect(s, "requests", "Invite", WRITES, 0);
	expect(s, "success", "OkInvite", 0, WRITES);
	expect(s, "classes", "2xx", 0, WRITES);
	sbc_sipstats_free(&s);
}
END_TEST

UNIT_MAIN("sipstats")
