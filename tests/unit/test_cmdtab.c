/*
 * The operator command table's matcher (sbc/cmdtab.h): IOS abbreviations,
 * keywords before arguments, ambiguity, incomplete and invalid input with
 * the '^' marker, JSON suffixes, output filters (parsed and applied),
 * `?` help (every keyword has its own), and test-clock durations.
 */
#include "sbc/cmdtab.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
	/* output filters: JSON by `| json` or `--json`, never with one */
	{"sh run | json", SBC_CMD_SHOW_RUNNING, NULL, 1, NULL},
	{"sh run | j", SBC_CMD_SHOW_RUNNING, NULL, 1, NULL},
	{"sh run | i dial --json", -1, NULL, 0, "do not apply to JSON"},
	{"sh run --json | i dial", -1, NULL, 0, "do not apply to JSON"},
	{"sh run | i dial | json", -1, NULL, 0, "do not apply to JSON"},
	{"sh run | json x", -1, NULL, 0, "          ^\n% Invalid input"},
	{"sh run | frob x", -1, NULL, 0, "         ^\n% Invalid input"},
	{"sh run | include", -1, NULL, 0, "Incomplete"},
	{"sh run |", -1, NULL, 0, "Incomplete"},
	{"sh run | include (", -1, NULL, 0, "% Invalid regular expression"},
	{"sh licence st | i x", -1, NULL, 0, "   ^\n% Invalid input"},
	{"reload | include x", -1, NULL, 0, "       ^\n% Invalid input"},
	{"clear sip-ua statistics | count x", -1, NULL, 0, "Invalid input"},
	{"reload | json", -1, NULL, 0, "JSON output is not available"},
	/* the regex is not taken for command words or arguments */
	{"sh vo si li st | i a b c d e f g h i j k l m n o p q r s",
	 SBC_CMD_SHOW_STATS, NULL, 0, NULL},
	{"terminal length 0", SBC_CMD_TERMINAL_LENGTH, "0", 0, NULL},
	{"term len 24", SBC_CMD_TERMINAL_LENGTH, "24", 0, NULL},
	{"exit", SBC_CMD_EXIT, NULL, 0, NULL},
	{"quit", SBC_CMD_EXIT, NULL, 0, NULL},
	{"end", SBC_CMD_EXIT, NULL, 0, NULL},
	{"ex", SBC_CMD_EXIT, NULL, 0, NULL},
	{"e", -1, NULL, 0, "Ambiguous"}, /* exit, end */
};

/* line parsed into r: the test fails with the reason when refused. */
static void parse_ok(const char *line, struct sbc_cmd_req *r)
{
	char err[512] = "";

	ck_assert_msg(sbc_cmd_parse(line, r, err, sizeof(err)) == 0,
		      "'%s' refused: %s", line, err);
}

/* Filters as parsed: the kind and the regex, spaces inside kept. */
static const struct filter_parse_case {
	const char *line;
	enum sbc_cmd_filter filter;
	const char *regex;
} filter_parse_cases[] = {
	{"show running-config | include dial-peer", SBC_CMD_FILTER_INCLUDE,
	 "dial-peer"},
	{"sh run | i dial-peer", SBC_CMD_FILTER_INCLUDE, "dial-peer"},
	{"sh run | inc ^dial-peer voice [0-9]+  ", SBC_CMD_FILTER_INCLUDE,
	 "^dial-peer voice [0-9]+"},
	{"sh run | ex !", SBC_CMD_FILTER_EXCLUDE, "!"},
	{"sh run | EXCLUDE a|b", SBC_CMD_FILTER_EXCLUDE, "a|b"},
	{"sh run | be dial", SBC_CMD_FILTER_BEGIN, "dial"},
	{"sh run | sec dial-peer", SBC_CMD_FILTER_SECTION, "dial-peer"},
	{"sh run | cou dial", SBC_CMD_FILTER_COUNT, "dial"},
	{"sh run | c .", SBC_CMD_FILTER_COUNT, "."},
	{"sh run | i a | b", SBC_CMD_FILTER_INCLUDE, "a | b"},
	{"sh run", SBC_CMD_FILTER_NONE, ""},
};

UNIT_LOOP_TEST(test_filter_parse, 0, (int)NELEM(filter_parse_cases))
{
	const struct filter_parse_case *fc = &filter_parse_cases[_i];
	struct sbc_cmd_req r;

	parse_ok(fc->line, &r);
	ck_assert_int_eq(r.filter, fc->filter);
	ck_assert_str_eq(r.regex, fc->regex);
	ck_assert(!r.json);
}
END_TEST

/* A regex over the cap is refused, one at the cap is not. */
UNIT_TEST(test_filter_regex_cap)
{
	char line[SBC_CMD_REGEX_MAX + 64], err[512];
	struct sbc_cmd_req r;
	size_t n = (size_t)snprintf(line, sizeof(line), "sh run | i ");

	memset(line + n, 'a', SBC_CMD_REGEX_MAX);
	line[n + SBC_CMD_REGEX_MAX] = '\0';
	ck_assert_int_eq(sbc_cmd_parse(line, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(r.regex), SBC_CMD_REGEX_MAX);
	strcat(line, "a");
	ck_assert_int_eq(sbc_cmd_parse(line, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

static const char run_text[] = "Building configuration...\n"
			       "!\n"
			       "hostname edge\n"
			       "!\n"
			       "dial-peer voice 100 voip\n"
			       " destination-pattern 1...\n"
			       " session target ipv4:127.0.0.1:5070\n"
			       "!\n"
			       "dial-peer voice 200 voip\n"
			       " incoming called-number .\n"
			       "!\n"
			       "end"; /* no newline at the end */

static const struct filter_case {
	const char *line;
	const char *want;
} filter_cases[] = {
	{"sh run | i dial-peer",
	 "dial-peer voice 100 voip\ndial-peer voice 200 voip\n"},
	{"sh run | i ^ [a-z]", " destination-pattern 1...\n"
			  " session target ipv4:127.0.0.1:5070\n"
			  " incoming called-number .\n"},
	{"sh run | i nomatch", ""},
	{"sh run | i voice (1|2)00", "dial-peer voice 100 voip\n"
				    "dial-peer voice 200 voip\n"},
	{"sh run | i DIAL", ""}, /* case counts, as on IOS */
	{"sh run | ex ^(!| )", "Building configuration...\nhostname edge\n"
			     "dial-peer voice 100 voip\n"
			     "dial-peer voice 200 voip\nend\n"},
	{"sh run | be voice 200", "dial-peer voice 200 voip\n"
				 " incoming called-number .\n!\nend\n"},
	{"sh run | be nomatch", ""},
	{"sh run | sec dial-peer", "dial-peer voice 100 voip\n"
				  " destination-pattern 1...\n"
				  " session target ipv4:127.0.0.1:5070\n"
				  "dial-peer voice 200 voip\n"
				  " incoming called-number .\n"},
	{"sh run | sec 200", "dial-peer voice 200 voip\n"
			    " incoming called-number .\n"},
	/* an indented line that matches: itself (nothing under it) */
	{"sh run | sec session", " session target ipv4:127.0.0.1:5070\n"},
	{"sh run | cou dial-peer",
	 "Number of lines which match regexp = 2\n"},
	{"sh run | count nomatch",
	 "Number of lines which match regexp = 0\n"},
	{"sh run | count .", "Number of lines which match regexp = 12\n"},
	{"sh run", NULL}, /* no filter: the text as it came */
};

UNIT_LOOP_TEST(test_filter_write, 0, (int)NELEM(filter_cases))
{
	const struct filter_case *fc = &filter_cases[_i];
	struct sbc_cmd_req r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	parse_ok(fc->line, &r);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(
		sbc_cmd_filter_write(&r, run_text, strlen(run_text), f), 0);
	fclose(f);
	ck_assert_msg(strcmp(buf, fc->want != NULL ? fc->want : run_text) == 0,
		      "'%s': got\n%s", fc->line, buf);
	free(buf);
}
END_TEST

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

UNIT_LOOP_TEST(test_two_args, 0, (int)NELEM(two_cases))
{
	const struct two_case *tc = &two_cases[_i];
	struct sbc_cmd_req r;

	parse_ok(tc->line, &r);
	ck_assert_int_eq(r.cmd->id, tc->id);
	ck_assert_uint_eq(r.argc, 2);
	ck_assert_str_eq(r.argv[0], tc->arg0);
	ck_assert_str_eq(r.argv[1], tc->arg1);
}
END_TEST

UNIT_LOOP_TEST(test_match, 0, (int)NELEM(match_cases))
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
UNIT_TEST(test_every_entry)
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
	{"", "show license reload clear debug undebug test terminal exit quit "
	     "end",
	 false},
	{"s", "show", false},
	{"sh", "show", false},
	{"show ", "cube version clock running-config dial-peer logging call "
		 "sip-ua voice license call-home",
	 false},
	{"show li", "license", false},
	{"show license ", "status usage summary all udi eventlog tech", false},
	{"show license status", "status", false}, /* Tab adds the space */
	{"show license status ", "|", true},
	{"license smart s", "sync save", false}, /* table order */
	{"license smart trust idtoken ", "<token>", false},
	{"license smart trust idtoken abc local ", "force", true},
	{"sh vo si li st ", "<class> table |", true},
	{"sh vo si li st ta ", "<class> |", true},
	/* after a show command's `|`: the filters, then the regex */
	{"show running-config |", "|", false},
	{"show running-config | ", "begin count exclude include section json",
	 false},
	{"sh run | e", "exclude", false},
	{"sh run | inc ", "<regex>", false},
	{"sh run | inc dial", "", true},
	{"sh run | inc dial ", "", true},
	{"sh run | json ", "", true},
	{"sh run | bogus ", "", false},
	{"show license | ", "", false},  /* not a command yet */
	{"reload ", "", true},		  /* no filter on non-show commands */
	{"reload | ", "", false},
	{"terminal length ", "<lines>", false},
	{"terminal length 0 ", "", true},
	{"test clock advance 1d ", "", true},
	{"show hostname ", "", false}, /* hidden: never offered */
	{"sho", "show", false},
	{"bogus ", "", false},
	{"license smart s usage ", "", false}, /* ambiguous word before */
};

UNIT_LOOP_TEST(test_candidates, 0, (int)NELEM(cand_cases))
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

UNIT_LOOP_TEST(test_duration, 0, (int)NELEM(dur_cases))
{
	ck_assert_int_eq(sbc_cmd_duration_s(dur_cases[_i].text),
			 dur_cases[_i].secs);
}
END_TEST

/* `?` gives each word its own help, not the first entry's. */
static const struct help_case {
	const char *path;
	const char *help;
} help_cases[] = {
	{"show", "Show running system information"},
	{"license", "Smart licensing commands"},
	{"clear", "Reset functions"},
	{"exit", "Exit from the EXEC"},
	{"show license", "Show license information"},
	{"show voice", "Voice commands"},
	{"show cube", "CUBE information"},
	{"show license status", "Smart Licensing Using Policy status"},
	{"license smart trust idtoken <token>",
	 "The ID token from the license server"},
	{"license smart trust idtoken <x>",
	 "The ID token from the license server"}, /* any argument's name */
	{"license smart trust idtoken x", NULL},	  /* not an argument */
	{"license smart trust", "Trust with the license server"},
	{"license smart trust idtoke", NULL},
	{"license smart trust idtoken <token> loca", NULL},
	{"show hostname", NULL}, /* hidden */
	{"show bogus", NULL},
};

UNIT_LOOP_TEST(test_help_of, 0, (int)NELEM(help_cases))
{
	const struct help_case *hc = &help_cases[_i];
	const char *h = sbc_cmd_help_of(hc->path);

	if (hc->help == NULL)
		ck_assert_ptr_null(h);
	else
		ck_assert_msg(h != NULL && strcmp(h, hc->help) == 0,
			      "'%s': '%s'", hc->path, h ? h : "(none)");
}
END_TEST

/* Every keyword path of every visible entry has help of its own, so a new
 * entry cannot leave `?` without it. */
UNIT_TEST(test_every_keyword_has_help)
{
	char path[256];
	size_t i, k;

	for (i = 0; i < sbc_n_cmds; i++) {
		const char *syn = sbc_cmds[i].syntax;

		if (sbc_cmds[i].flags & SBC_CMD_F_HIDDEN)
			continue;
		ck_assert_msg(sbc_cmds[i].help != NULL && sbc_cmds[i].help[0],
			      "'%s' has no help", syn);
		for (k = 0; syn[k]; k++) {
			if (syn[k] != ' ')
				continue;
			snprintf(path, sizeof(path), "%.*s", (int)k, syn);
			ck_assert_msg(sbc_cmd_help_of(path) != NULL,
				      "keyword path '%s' (of '%s') has no "
				      "help in kw_help[]",
				      path, syn);
		}
	}
}
END_TEST

/* The `?` screen: words padded to one column, <cr> at the end. Exact
 * for the first words; for the others, runs of spaces count as one (the
 * column's width moves as entries come). */
static const struct screen_case {
	const char *line, *want_part, *not_part;
	bool exact;
} screen_cases[] = {
	{"", "  show      Show running system information\n", "hostname", true},
	{"", "  license   Smart licensing commands\n", NULL, true},
	{"", "  exit      Exit from the EXEC\n", NULL, true},
	{"show ", " license Show license information\n", NULL, false},
	{"show ", " voice Voice commands\n", NULL, false},
	{"show ", " cube CUBE information\n", NULL, false},
	{"show license ", " status Smart Licensing Using Policy status\n",
	 "<cr>", false},
	{"show license status ", " | Output modifiers\n <cr>\n", NULL, false},
	{"sh run | ", " include Include the lines that match\n", "<cr>",
	 false},
	{"license smart s", "sync save\n", NULL, false},
	{"bogus ", "% Unrecognized command\n", NULL, true},
};

static void squeeze(char *s)
{
	char *start = s, *d = s;

	for (; *s; s++)
		if (*s != ' ' || d == start || d[-1] != ' ')
			*d++ = *s;
	*d = '\0';
}

UNIT_LOOP_TEST(test_help_screen, 0, (int)NELEM(screen_cases))
{
	const struct screen_case *sc = &screen_cases[_i];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	sbc_cmd_help(sc->line, f);
	fclose(f);
	if (!sc->exact)
		squeeze(buf);
	ck_assert_msg(strstr(buf, sc->want_part) != NULL,
		      "'%s?' lacks '%s':\n%s", sc->line, sc->want_part, buf);
	if (sc->not_part != NULL)
		ck_assert_msg(strstr(buf, sc->not_part) == NULL,
			      "'%s?' has '%s':\n%s", sc->line, sc->not_part,
			      buf);
	free(buf);
}
END_TEST

static const struct len_case {
	const char *text;
	int n;
} len_cases[] = {
	{"0", 0},   {"24", 24}, {"512", 512}, {"513", -1}, {"-1", -1},
	{"", -1},   {"1x", -1}, {"0512", -1}, {" 1", -1},
};

UNIT_LOOP_TEST(test_term_length, 0, (int)NELEM(len_cases))
{
	ck_assert_int_eq(sbc_cmd_term_length(len_cases[_i].text),
			 len_cases[_i].n);
}
END_TEST

UNIT_MAIN("cmdtab")
