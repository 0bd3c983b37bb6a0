/*
 * Digit patterns (every element, scores worked out by hand, malformed
 * patterns with their reasons) and dial-peer selection (most specific match,
 * then preference, then tag; inbound and outbound tables apart).
 */
#include "sbc/config.h"
#include "sbc/dialpeer.h"
#include "sbc/digitpat.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 64 digits: the longest number a pattern is matched against. */
#define D64 "2222222222222222222222222222222222222222222222222222222222222222"
#define D65 D64 "2"

struct match_case {
	const char *pattern;
	const char *number;
	int score; /* -1: no match */
};

static const struct match_case match_cases[] = {
	/* literals, prefix matching */
	{"1234", "1234", 4},
	{"1234", "12345", 4},
	{"1234", "123", -1},
	{"1234", "1235", -1},
	{"123", "", -1},
	{"9*#A", "9*#A", 4},
	{"#T", "#99", 1},
	{"BCD", "BCD0", 3},
	/* any digit */
	{".", "7", 1},
	{"...", "123", 3},
	{"...", "12", -1},
	{".", "*", 1},
	/* T */
	{".T", "1234", 1},
	{".T", "", -1},
	{"T", "", 0},
	{"T", "555", 0},
	{"123T", "1234", 3},
	{"123T", "123", 3},
	{"1T", "2000", -1},
	{"T", D64, 0},
	{"T", D65, -1},
	/* sets */
	{"[1-5]", "3", 1},
	{"[1-5]", "6", -1},
	{"[135]9", "59", 2},
	{"[135]9", "29", -1},
	{"[^0-2]", "3", 1},
	{"[^0-2]", "1", -1},
	{"[A-D]", "C", 1},
	{"[*#]", "#", 1},
	{"[1-3][4-6]", "26", 2},
	{"0[1-9]T", "0080", -1},
	{"0[1-9]T", "0900", 2},
	/* + repeat: first occurrence scores, repeats do not */
	{"1+", "111", 1},
	{"1+2", "1112", 2},
	{"1+2", "2", -1},
	{"9+9", "9", -1},
	{"9+9", "99", 2},
	{"9+9", "999", 2},
	{"[^5]+$", "5", -1},
	{"[0-9]+$", "123", 1},
	/* ? and % */
	{"12?3", "13", 2},
	{"12?3", "123", 3},
	{"1?", "2", 0},
	{"1?$", "", 0},
	{"1?$", "1", 1},
	{"1?1", "11", 2},
	{"1?1?1", "11", 2},
	{"12%3", "13", 2},
	{"12%3", "122223", 2},
	{"1%1", "111", 1},
	{".?.?", "", 0},
	/* $ */
	{"1234$", "1234", 4},
	{"1234$", "12345", -1},
	{"1.$", "12", 2},
	{"5..$", "5123", -1},
	/* the E.164 '+' */
	{"+1T", "+15551234", 2},
	{"+1T", "15551234", -1},
	{"+?1T", "15551234", 1},
	{"+?1T", "+15551234", 2},
	{"T", "+1", 0},
	{".T", "+1", -1},
	{"1", "1+2", -1},
	/* numbers with characters no pattern can match */
	{"[0-9]+$", "12a", -1},
	{"T", "12 3", -1},
	/* many ways to match: linear work, and the best score wins */
	{".%.%.%.%.%.%.%.%.%", "123", 0},
	{".%.%.%.%.%.%.%.%.%.%.%.%.%.%.%.%1$", D64, -1},
	{".?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?.?1$",
	 D64, -1},
	{".?.?.?.?2", "222", 3},
};

UNIT_TCASE("digitpat");

UNIT_LOOP_TEST(test_match, 0, NELEM(match_cases))
{
	const struct match_case *c = &match_cases[_i];
	struct sbc_digitpat *pat;
	char err[128] = "";

	pat = sbc_digitpat_new(c->pattern, err, sizeof(err));
	ck_assert_msg(pat != NULL, "%s: %s", c->pattern, err);
	ck_assert_str_eq(sbc_digitpat_text(pat), c->pattern);
	ck_assert_msg(sbc_digitpat_match(pat, c->number) == c->score,
		      "'%s' on '%s': got %d, want %d", c->pattern, c->number,
		      sbc_digitpat_match(pat, c->number), c->score);
	sbc_digitpat_free(&pat);
	ck_assert_ptr_null(pat);
}
END_TEST

struct bad_pattern {
	const char *pattern;
	const char *reason;
};

static const struct bad_pattern bad_patterns[] = {
	{"", "empty pattern"},
	{"$", "empty pattern"},
	{"12x", "unknown character 'x'"},
	{"1 2", "unknown character 0x20"},
	{"[a]", "unknown character 'a'"},
	{"[12", "unbalanced brackets"},
	{"12]", "unbalanced brackets"},
	{"[[1]]", "unbalanced brackets"},
	{"[]", "empty set"},
	{"[^]", "empty set"},
	{"[^0-9*#A-D]", "empty set"},
	{"[5-1]", "bad range '5-1'"},
	{"[1-A]", "bad range '1-A'"},
	{"[*-#]", "bad range '*-#'"},
	{"%1", "quantifier '%' must follow a digit, '.' or a set"},
	{"1+?", "quantifier '?' must follow a digit, '.' or a set"},
	{"T+", "T must be last"},
	{"T1", "T must be last"},
	{"1T$", "T must be last"},
	{"1$2", "$ must be last"},
	{"1$$", "$ must be last"},
	{D65, "pattern too long (max 64)"},
};

UNIT_LOOP_TEST(test_bad_pattern, 0, NELEM(bad_patterns))
{
	const struct bad_pattern *c = &bad_patterns[_i];
	struct sbc_digitpat *pat;
	char err[128] = "";

	pat = sbc_digitpat_new(c->pattern, err, sizeof(err));
	ck_assert_msg(pat == NULL, "'%s' accepted", c->pattern);
	ck_assert_str_eq(err, c->reason);
}
END_TEST

UNIT_TEST(test_pattern_null_safe)
{
	struct sbc_digitpat *pat = NULL;

	ck_assert_ptr_null(sbc_digitpat_new(NULL, NULL, 0));
	sbc_digitpat_free(&pat);
	sbc_digitpat_free(NULL);
	ck_assert_int_eq(sbc_digitpat_match(NULL, "1"), -1);
	ck_assert_str_eq(sbc_digitpat_text(NULL), "");
	pat = sbc_digitpat_new(D64, NULL, 0);
	ck_assert_ptr_nonnull(pat);
	ck_assert_int_eq(sbc_digitpat_match(pat, NULL), -1);
	ck_assert_int_eq(sbc_digitpat_match(pat, D64), 64);
	sbc_digitpat_free(&pat);
}
END_TEST

/* A backtracking matcher would need 2^64 steps here; ours must not. */
UNIT_TEST(test_match_bounded_time)
{
	struct sbc_digitpat *pat;
	char pattern[SBC_DIGITPAT_MAXLEN + 1];
	clock_t start;
	int i;

	for (i = 0; i < 31; i++)
		memcpy(pattern + 2 * i, ".%", 2);
	memcpy(pattern + 62, "1$", 3);
	pat = sbc_digitpat_new(pattern, NULL, 0);
	ck_assert_ptr_nonnull(pat);
	start = clock();
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(sbc_digitpat_match(pat, D64), -1);
	ck_assert_double_lt((double)(clock() - start) / CLOCKS_PER_SEC, 5.0);
	sbc_digitpat_free(&pat);
}
END_TEST

static const char routing_conf[] =
	"voice-gateway ipv4:127.0.0.1:5070\n"
	"dial-peer voice 100 voip\n"
	" incoming called-number .T\n"
	"dial-peer voice 110 voip\n"
	" incoming called-number 555T\n"
	"dial-peer voice 200 voip\n"
	" destination-pattern 1T\n"
	" session target ipv4:127.0.0.1:5090\n"
	"dial-peer voice 220 voip\n"
	" destination-pattern 1408T\n"
	" session target ipv4:127.0.0.1:5092\n"
	" preference 1\n"
	"dial-peer voice 210 voip\n"
	" destination-pattern 1408T\n"
	" session target ipv4:127.0.0.1:5091\n"
	"dial-peer voice 205 voip\n"
	" destination-pattern 1650T\n"
	" session target ipv4:127.0.0.1:5093\n"
	" preference 2\n"
	"dial-peer voice 204 voip\n"
	" destination-pattern 1650T\n"
	" session target ipv4:127.0.0.1:5094\n"
	" preference 2\n"
	"dial-peer voice 300 pots\n"
	" incoming called-number 2000\n"
	" destination-pattern 2...$\n"
	" port 0/1/0\n"
	"dial-peer voice 400 voip\n"
	" description no patterns: never selected\n"
	"end\n";

struct route_case {
	bool inbound;
	const char *called;
	unsigned tag; /* 0: no dial-peer */
};

static const struct route_case route_cases[] = {
	/* outbound: longest match, then preference, then tag */
	{false, "14085551234", 210},
	{false, "19195550000", 200},
	{false, "1", 200},
	{false, "16505550000", 204},
	{false, "2001", 300},
	{false, "20011", 0},
	{false, "3000", 0},
	{false, "", 0},
	{false, "+14085551234", 0},
	/* inbound uses incoming called-number only */
	{true, "5551234", 110},
	{true, "7000", 100},
	{true, "2000", 300},
	{true, "20001", 300},
	{true, "14085551234", 100},
	{true, "", 0},
	{true, "abc", 0},
};

UNIT_TCASE("dptable");

UNIT_LOOP_TEST(test_route, 0, NELEM(route_cases))
{
	const struct route_case *c = &route_cases[_i];
	const struct sbc_dialpeer_cfg *dp;
	struct sbc_config *cfg;
	struct sbc_dptable *t;
	char err[256] = "";

	cfg = sbc_config_parse("routing.conf", routing_conf, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	t = sbc_dptable_new(cfg, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	sbc_config_free(&cfg);
	ck_assert_uint_eq(sbc_dptable_count(t), 9);

	dp = c->inbound ? sbc_dptable_inbound(t, c->called)
			: sbc_dptable_outbound(t, c->called);
	if (c->tag == 0)
		ck_assert_msg(dp == NULL, "%s '%s': got %u, want none",
			      c->inbound ? "in" : "out", c->called,
			      dp ? dp->tag : 0);
	else
		ck_assert_msg(dp != NULL && dp->tag == c->tag,
			      "%s '%s': got %u, want %u",
			      c->inbound ? "in" : "out", c->called,
			      dp ? dp->tag : 0, c->tag);
	sbc_dptable_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

/* The table copies what it needs: the config may go away first. */
UNIT_TEST(test_route_copies)
{
	const struct sbc_dialpeer_cfg *dp;
	struct sbc_config *cfg;
	struct sbc_dptable *t;

	cfg = sbc_config_parse("r.conf", routing_conf, NULL, 0);
	ck_assert_ptr_nonnull(cfg);
	t = sbc_dptable_new(cfg, NULL, 0);
	sbc_config_free(&cfg);
	dp = sbc_dptable_outbound(t, "14085551234");
	ck_assert_ptr_nonnull(dp);
	ck_assert_str_eq(dp->target_addr, "127.0.0.1");
	ck_assert_uint_eq(dp->target_port, 5091);
	ck_assert_str_eq(dp->destination, "1408T");
	ck_assert_int_eq(dp->kind, SBC_DP_VOIP);
	dp = sbc_dptable_outbound(t, "2001");
	ck_assert_int_eq(dp->kind, SBC_DP_POTS);
	ck_assert_str_eq(dp->port, "0/1/0");
	sbc_dptable_free(&t);
}
END_TEST

UNIT_TEST(test_route_empty)
{
	struct sbc_config *cfg;
	struct sbc_dptable *t = NULL;

	ck_assert_ptr_null(sbc_dptable_inbound(NULL, "1"));
	ck_assert_uint_eq(sbc_dptable_count(NULL), 0);
	sbc_dptable_free(&t);
	sbc_dptable_free(NULL);

	cfg = sbc_config_parse("empty.conf", "hostname x\n", NULL, 0);
	ck_assert_ptr_nonnull(cfg);
	t = sbc_dptable_new(cfg, NULL, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(sbc_dptable_count(t), 0);
	ck_assert_ptr_null(sbc_dptable_inbound(t, "1000"));
	ck_assert_ptr_null(sbc_dptable_outbound(t, "1000"));
	ck_assert_ptr_null(sbc_dptable_outbound(t, NULL));
	sbc_dptable_free(&t);
	sbc_config_free(&cfg);
}
END_TEST

/* A busied-out dial-peer is passed over; the next best match is taken. */
static bool busy_set(unsigned tag, void *arg)
{
	const unsigned *busy = arg;
	size_t i;

	for (i = 0; busy[i] != 0; i++)
		if (busy[i] == tag)
			return true;
	return false;
}

UNIT_TEST(test_route_busyout)
{
	static const char conf[] =
		"dial-peer voice 10 voip\n destination-pattern 1T\n"
		" session target ipv4:127.0.0.1:5001\n"
		"dial-peer voice 20 voip\n destination-pattern 1T\n"
		" session target ipv4:127.0.0.1:5002\n preference 1\n"
		"dial-peer voice 30 voip\n destination-pattern 1408T\n"
		" session target ipv4:127.0.0.1:5003\n";
	unsigned none[] = {0}, b30[] = {30, 0}, b10_30[] = {10, 30, 0},
		 all[] = {10, 20, 30, 0};
	const struct sbc_dialpeer_cfg *dp;
	struct sbc_config *cfg = sbc_config_parse("b.conf", conf, NULL, 0);
	struct sbc_dptable *t;
	bool skipped = true;

	ck_assert_ptr_nonnull(cfg);
	t = sbc_dptable_new(cfg, NULL, 0);
	dp = sbc_dptable_outbound_avail(t, "14085551234", busy_set, none,
					&skipped);
	ck_assert_uint_eq(dp->tag, 30);
	ck_assert(!skipped);
	dp = sbc_dptable_outbound_avail(t, "14085551234", busy_set, b30,
					&skipped);
	ck_assert_uint_eq(dp->tag, 10);
	ck_assert(skipped);
	dp = sbc_dptable_outbound_avail(t, "14085551234", busy_set, b10_30,
					NULL);
	ck_assert_uint_eq(dp->tag, 20);
	dp = sbc_dptable_outbound_avail(t, "14085551234", busy_set, all,
					&skipped);
	ck_assert_ptr_null(dp);
	ck_assert(skipped);
	dp = sbc_dptable_outbound_avail(t, "2000", busy_set, all, &skipped);
	ck_assert_ptr_null(dp);
	ck_assert(!skipped);
	sbc_dptable_free(&t);
	sbc_config_free(&cfg);
}
END_TEST

UNIT_MAIN("dialpeer")
