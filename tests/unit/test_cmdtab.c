/*
 * The operator command table's matcher (sbc/cmdtab.h): IOS abbreviations,
 * keywords before arguments, ambiguity, incomplete and invalid input with
 * the '^' marker, JSON suffixes, and test-clock durations.
 */
#include "cmdtab.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct match_case {
	const char *line;
	int id; /* -1: refused */
	const char *arg0;
	int json;
	const char *err_part;
} match_cases[] = {
	{"show license status", SBC_CMD_SHOW_LIC_STATUS, NULL, 0, NULL},
	{"sh lic stat", SBC_CMD_SHOW_LIC_STATUS, NULL, 0, NULL},
	{"SH LI ST", SBC_CMD_SHOW_LIC_STATUS, NULL, 0, NULL},
	{"  show   license status  ", SBC_CMD_SHOW_LIC_STATUS, NULL, 0, NULL},
	{"sh li st --json", SBC_CMD_SHOW_LIC_STATUS, NULL, 1, NULL},
	{"sh li st | json", SBC_CMD_SHOW_LIC_STATUS, NULL, 1, NULL},
	{"sh vo si li st", SBC_CMD_SHOW_STATS, NULL, 0, NULL},
	/* `st`, `sta`, `stat` fit stats and status: stats is preferred;
	 * status needs `statu` */
	{"sh vo si li statu", SBC_CMD_SHOW_SIP_LIC, NULL, 0, NULL},
	{"show voice sip license status", SBC_CMD_SHOW_SIP_LIC, NULL, 0, NULL},
	{"sh vo si li sta", SBC_CMD_SHOW_STATS, NULL, 0, NULL},
	{"sh vo si li st ENHANCED", SBC_CMD_SHOW_STATS, "ENHANCED", 0, NULL},
	/* a keyword wins over an argument at the same position */
	{"show voice sip license stats table", SBC_CMD_SHOW_STATS_TABLE, NULL,
	 0, NULL},
	{"sh vo si li st t", SBC_CMD_SHOW_STATS_TABLE, NULL, 0, NULL},
	{"sh vo si li st ta VGW", SBC_CMD_SHOW_STATS_TABLE, "VGW", 0, NULL},
	{"test clock advance 3d", SBC_CMD_TEST_CLOCK, "3d", 0, NULL},
	{"license smart import /tmp/ack.json", SBC_CMD_LIC_IMPORT,
	 "/tmp/ack.json", 0, NULL},
	{"lic sm sa us al fi /tmp/u.json", SBC_CMD_LIC_SAVE_USAGE,
	 "/tmp/u.json", 0, NULL},
	{"license smart sync all", SBC_CMD_LIC_SYNC, NULL, 0, NULL},
	{"lic sm sa us un fi /tmp/u.json", SBC_CMD_LIC_SAVE_USAGE,
	 "/tmp/u.json", 0, NULL},
	{"sh ver", SBC_CMD_SHOW_VERSION, NULL, 0, NULL},
	{"sh clo", SBC_CMD_SHOW_CLOCK, NULL, 0, NULL},
	{"sh li udi", SBC_CMD_SHOW_LIC_UDI, NULL, 0, NULL},
	{"sh li ev", SBC_CMD_SHOW_LIC_EVENTLOG, NULL, 0, NULL},
	{"sh li ev da 7", SBC_CMD_SHOW_LIC_EVENTLOG, "7", 0, NULL},
	{"sh li te su", SBC_CMD_SHOW_LIC_TECH, NULL, 0, NULL},
	{"sh call-h sm", SBC_CMD_SHOW_CALLHOME, NULL, 0, NULL},
	{"clear call voice 1A", SBC_CMD_CLEAR_CALL, "1A", 0, NULL},
	/* show c -> cube, clock, call or call-home */
	{"sh c", -1, NULL, 0, "Ambiguous"},
	{"sh li ev da", -1, NULL, 0, "Incomplete"},
	{"show version --json", -1, NULL, 0, "JSON output is not available"},
	{"reload", SBC_CMD_RELOAD, NULL, 0, NULL},
	/* license smart s -> save or sync */
	{"license smart s usage all file x", -1, NULL, 0, "Ambiguous"},
	{"show license", -1, NULL, 0, "Incomplete"},
	{"", -1, NULL, 0, "Incomplete"},
	{"--json", -1, NULL, 0, "Incomplete"},
	{"show licence status", -1, NULL, 0, "     ^\n% Invalid input"},
	{"show license status extra", -1, NULL, 0, "Invalid input"},
	{"frobnicate", -1, NULL, 0, "Invalid input"},
	{"reload --json", -1, NULL, 0, "JSON output is not available"},
	{"a b c d e f g h i j k l m n o p q r", -1, NULL, 0, "Too many"},
};

/* Commands with two arguments: both, in order. */
static const struct two_case {
	const char *line;
	int id;
	const char *arg0, *arg1;
} two_cases[] = {
	{"license smart save usage days 7 file /tmp/u.json",
	 SBC_CMD_LIC_SAVE_USAGE, "7", "/tmp/u.json"},
	{"lic sm sa us da 30 fi u.json", SBC_CMD_LIC_SAVE_USAGE, "30",
	 "u.json"},
	{"clear call voice causecode 17 id 1A", SBC_CMD_CLEAR_CALL_CAUSE, "17",
	 "1A"},
	{"cl ca vo cau 34 i 2F", SBC_CMD_CLEAR_CALL_CAUSE, "34", "2F"},
};

START_TEST(test_two_args)
{
	const struct two_case *tc = &two_cases[_i];
	struct sbc_cmd_req r;
	char err[512] = "";

	ck_assert_msg(sbc_cmd_parse(tc->line, &r, err, sizeof(err)) == 0,
		      "'%s' refused: %s", tc->line, err);
	ck_assert_int_eq(r.cmd->id, tc->id);
	ck_assert_uint_eq(r.argc, 2);
	ck_assert_str_eq(r.argv[0], tc->arg0);
	ck_assert_str_eq(r.argv[1], tc->arg1);
}
END_TEST

START_TEST(test_match)
{
	const struct match_case *mc = &match_cases[_i];
	struct sbc_cmd_req r;
	char err[512] = "";
	int rc = sbc_cmd_parse(mc->line, &r, err, sizeof(err));

	if (mc->id < 0) {
		ck_assert_msg(rc == -1, "'%s' accepted", mc->line);
		ck_assert_msg(strstr(err, mc->err_part) != NULL,
			      "'%s': error '%s' lacks '%s'", mc->line, err,
			      mc->err_part);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' refused: %s", mc->line, err);
	ck_assert_int_eq(r.cmd->id, mc->id);
	ck_assert_int_eq(r.json, mc->json);
	if (mc->arg0 != NULL) {
		ck_assert_uint_eq(r.argc, 1);
		ck_assert_str_eq(r.argv[0], mc->arg0);
	} else {
		ck_assert_uint_eq(r.argc, 0);
	}
}
END_TEST

/* Every table entry matches itself, and only entries of its id. */
START_TEST(test_every_entry)
{
	size_t i, w;

	for (i = 0; i < sbc_n_cmds; i++) {
		char line[256];
		struct sbc_cmd_req r;
		char err[512];
		const char *p;

		snprintf(line, sizeof(line), "%s", sbc_cmds[i].syntax);
		/* replace each <arg> by a token */
		for (w = 0; (p = strchr(line, '<')) != NULL; w++) {
			char *e = strchr(p, '>');
			char rest[256];

			ck_assert_ptr_nonnull(e);
			snprintf(rest, sizeof(rest), "%s", e + 1);
			snprintf((char *)p, sizeof(line) - (size_t)(p - line),
				 "X%zu%s", w, rest);
		}
		ck_assert_msg(sbc_cmd_parse(line, &r, err, sizeof(err)) == 0,
			      "%s: %s", line, err);
		ck_assert_int_eq(r.cmd->id, sbc_cmds[i].id);
	}
}
END_TEST

static const struct cand_case {
	const char *line;
	const char *words; /* the candidates, space-separated, in order */
	bool complete;
} cand_cases[] = {
	{"", "show license reload clear debug undebug test", false},
	{"s", "show", false},
	{"sh", "show", false},
	{"show ", "cube version clock running-config dial-peer logging call "
		 "sip-ua voice license call-home",
	 false},
	{"show li", "license", false},
	{"show license ", "status usage summary all udi eventlog tech", false},
	{"show license status", "status", false}, /* Tab adds the space */
	{"show license status ", "", true},
	{"license smart s", "sync save", false}, /* table order */
	{"license smart trust idtoken ", "<token>", false},
	{"license smart trust idtoken abc local ", "force", true},
	{"sh vo si li st ", "<class> table", true},
	{"sh vo si li st ta ", "<class>", true},
	{"test clock advance 1d ", "", true},
	{"show hostname ", "", false}, /* hidden: never offered */
	{"sho", "show", false},
	{"bogus ", "", false},
	{"license smart s usage ", "", false}, /* ambiguous word before */
};

START_TEST(test_candidates)
{
	const struct cand_case *cc = &cand_cases[_i];
	struct sbc_cmd_cand c[16];
	char got[512] = "";
	bool complete;
	size_t n = sbc_cmd_candidates(cc->line, c, 16, &complete), i;

	for (i = 0; i < n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, c[i].word);
		ck_assert_int_eq(c[i].is_arg, c[i].word[0] == '<');
		ck_assert_ptr_nonnull(c[i].help);
	}
	ck_assert_msg(strcmp(got, cc->words) == 0, "'%s': got '%s', want '%s'",
		      cc->line, got, cc->words);
	ck_assert_msg(complete == cc->complete, "'%s': complete %d", cc->line,
		      complete);
}
END_TEST

static const struct dur_case {
	const char *text;
	long long secs;
} dur_cases[] = {
	{"1s", 1},	   {"90s", 90},	    {"5m", 300},   {"2h", 7200},
	{"3d", 259200},	   {"36500d", 36500LL * 86400},
	{"36501d", -1},	   {"0d", -1},	    {"-1d", -1},   {"d", -1},
	{"1", -1},	   {"1w", -1},	    {"1dd", -1},   {"", -1},
	{" 1d", -1},	   {"99999999999999999999d", -1},
};

START_TEST(test_duration)
{
	ck_assert_int_eq(sbc_cmd_duration_s(dur_cases[_i].text),
			 dur_cases[_i].secs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdtab");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_match, 0, (int)NELEM(match_cases));
	tcase_add_test(tc, test_every_entry);
	tcase_add_loop_test(tc, test_two_args, 0, (int)NELEM(two_cases));
	tcase_add_loop_test(tc, test_duration, 0, (int)NELEM(dur_cases));
	tcase_add_loop_test(tc, test_candidates, 0, (int)NELEM(cand_cases));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
