/*
 * sbc_cmd: the operator command table and its matcher (sbc/cmdtab.h).
 */
#include "sbc/cmdtab.h"

#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct sbc_cmd sbc_cmds[] = {
	{SBC_CMD_SHOW_CUBE, "show cube status",
	 "Version, SIP service, calls per license class", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_VERSION, "show version",
	 "Software version, uptime, platform, license release, UDI", 0},
	{SBC_CMD_SHOW_CLOCK, "show clock", "The current time, UTC", 0},
	{SBC_CMD_SHOW_RUNNING, "show running-config",
	 "The configuration in use", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_DIALPEERS, "show dial-peer voice summary",
	 "Dial-peers, one line each", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LOGGING, "show logging", "Recent log lines",
	 SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_CALLS, "show call active voice brief",
	 "Calls in progress, two legs each", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_SIPUA, "show sip-ua statistics",
	 "SIP requests and responses, in/out", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_STATS, "show voice sip license stats",
	 "Usage tables as graphs, all classes", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_STATS, "show voice sip license stats <class>",
	 "Usage tables as graphs, one class (STANDARD, ENHANCED, REDUNDANT, "
	 "VGW, AGGREGATE)",
	 SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_STATS_TABLE, "show voice sip license stats table",
	 "Usage tables as rows, all classes", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_STATS_TABLE, "show voice sip license stats table <class>",
	 "Usage tables as rows, one class", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_SIP_LIC, "show voice sip license status",
	 "SIP service state, measurement period, recent usage records",
	 SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LIC_STATUS, "show license status",
	 "Smart Licensing Using Policy status", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LIC_USAGE, "show license usage",
	 "License usage per entitlement", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LIC_SUMMARY, "show license summary",
	 "License usage, one line per entitlement", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LIC_ALL, "show license all",
	 "Status, usage, product and report summary", SBC_CMD_F_JSON},
	{SBC_CMD_SHOW_LIC_UDI, "show license udi",
	 "The UDI (PID and SN) the reports carry", 0},
	{SBC_CMD_SHOW_LIC_EVENTLOG, "show license eventlog",
	 "Licensing events, oldest first", 0},
	{SBC_CMD_SHOW_LIC_EVENTLOG, "show license eventlog days <n>",
	 "Licensing events of the last N days", 0},
	{SBC_CMD_SHOW_LIC_TECH, "show license tech support",
	 "Status, usage, UDI, event log tail and agent counters", 0},
	{SBC_CMD_SHOW_CALLHOME, "show call-home smart-licensing",
	 "Where usage reports go: transport, URL, proxy, CA file", 0},
	{SBC_CMD_LIC_TRUST, "license smart trust idtoken <token> local",
	 "Establish trust with the license server", 0},
	{SBC_CMD_LIC_TRUST, "license smart trust idtoken <token> local force",
	 "Establish trust, replacing the one installed", 0},
	{SBC_CMD_LIC_TRUST, "license smart trust id_token <token> local",
	 "Establish trust (IOS spelling of idtoken)", 0},
	{SBC_CMD_LIC_TRUST, "license smart trust id_token <token> local force",
	 "Establish trust, replacing the one installed", 0},
	{SBC_CMD_LIC_SYNC, "license smart sync all",
	 "Report unreported usage now", 0},
	{SBC_CMD_LIC_SAVE_USAGE,
	 "license smart save usage unreported file <path>",
	 "Write unacknowledged usage reports to a file", 0},
	{SBC_CMD_LIC_SAVE_USAGE, "license smart save usage all file <path>",
	 "Write every stored usage report, acknowledged or not, to a file",
	 0},
	{SBC_CMD_LIC_SAVE_USAGE,
	 "license smart save usage days <n> file <path>",
	 "Write the usage reports of the last N days to a file", 0},
	{SBC_CMD_LIC_IMPORT, "license smart import <path>",
	 "Install an ACK or policy file", 0},
	{SBC_CMD_RELOAD, "reload", "Re-read the configuration file", 0},
	{SBC_CMD_CLEAR_CALL, "clear call voice <id>",
	 "End one call (its id from show call active voice brief)", 0},
	{SBC_CMD_CLEAR_CALL_CAUSE, "clear call voice causecode <n> id <id>",
	 "End one call with Q.850 cause N (1..127) in its Reason header", 0},
	{SBC_CMD_CLEAR_SIPUA, "clear sip-ua statistics",
	 "Restart the SIP message counters from 0", 0},
	{SBC_CMD_DEBUG_CUBE, "debug license feature cube all",
	 "Licensing debug lines (//CUBE-SL/Info/...) in the log", 0},
	{SBC_CMD_UNDEBUG, "undebug all", "Turn every debug off", 0},
	{SBC_CMD_TEST_CLOCK, "test clock advance <duration>",
	 "Move the test clock forward (sbcd --test-clock only)", 0},
	{SBC_CMD_HOSTNAME, "show hostname", "The hostname, for the prompt",
	 SBC_CMD_F_HIDDEN},
	/* Shell words last. */
	{SBC_CMD_TERMINAL_LENGTH, "terminal length <lines>",
	 "Lines on a screen, 0 to 512 (accepted; sbcctl has no pager)", 0},
	{SBC_CMD_EXIT, "exit", "Exit from the EXEC", 0},
	{SBC_CMD_EXIT, "quit", "Exit from the EXEC (as exit)", 0},
	{SBC_CMD_EXIT, "end", "Leave the shell (as exit)", 0},
};
const size_t sbc_n_cmds = sizeof(sbc_cmds) / sizeof(sbc_cmds[0]);

/*
 * The help of every keyword that is not the last word of an entry, by
 * its path (sbc_cmd_help_of): `show ?` lists `license` with the help of
 * `show license`, not with that of the first entry through it. The last
 * word of an entry takes the entry's help. Some paths are for entries to
 * come (show version, clear call voice causecode ...), so that their
 * keywords are never without help. An argument (`<days>`) stands for any
 * argument at its place.
 */
static const struct {
	const char *path;
	const char *help;
} kw_help[] = {
	{"show", "Show running system information"},
	{"show cube", "CUBE information"},
	{"show dial-peer", "Dial-peer information"},
	{"show dial-peer voice", "Voice dial-peers"},
	{"show call", "Call information"},
	{"show call active", "Calls in progress"},
	{"show call active voice", "Voice calls in progress"},
	{"show sip-ua", "SIP user agent information"},
	{"show voice", "Voice commands"},
	{"show voice sip", "SIP trunk information"},
	{"show voice sip license", "SIP trunk licensing"},
	{"show license", "Show license information"},
	{"show license udi", "The device's product and serial number"},
	{"show license eventlog", "Licensing events"},
	{"show license eventlog days", "Events of the last days"},
	{"show license eventlog days <days>", "Number of days, 1 to 90"},
	{"show license tech", "Licensing details for support"},
	{"show license tech support", "Everything about licensing at once"},
	{"show version", "Software version, uptime and device"},
	{"show clock", "The time of day"},
	{"show call-home", "Call Home information"},
	{"show call-home smart-licensing", "Smart Licensing over Call Home"},
	{"license", "Smart licensing commands"},
	{"license smart", "Smart Licensing Using Policy"},
	{"license smart trust", "Trust with the license server"},
	{"license smart trust idtoken", "Establish trust with an ID token"},
	{"license smart trust idtoken <token>",
	 "The ID token from the license server"},
	{"license smart trust id_token", "Establish trust with an ID token"},
	{"license smart trust id_token <token>",
	 "The ID token from the license server"},
	{"license smart sync", "Report usage now"},
	{"license smart save", "Save licensing data to a file"},
	{"license smart save usage", "Usage reports"},
	{"license smart save usage all", "Every stored report, acknowledged or not"},
	{"license smart save usage all file", "The file to write"},
	{"license smart save usage unreported", "Reports not yet acknowledged"},
	{"license smart save usage unreported file", "The file to write"},
	{"license smart save usage days", "Reports of the last days"},
	{"license smart save usage days <days>", "Number of days"},
	{"license smart save usage days <days> file", "The file to write"},
	{"license smart import", "Install an ACK or policy file"},
	{"clear", "Reset functions"},
	{"clear call", "Calls"},
	{"clear call voice", "Voice calls"},
	{"clear call voice causecode", "Release with a Q.850 cause code"},
	{"clear call voice causecode <cause>", "The cause code, 1 to 127"},
	{"clear call voice causecode <cause> id", "One call by its id"},
	{"clear call voice id", "One call by its id"},
	{"clear sip-ua", "SIP user agent counters"},
	{"debug", "Debugging functions (see also 'undebug')"},
	{"debug license", "Licensing debugging"},
	{"debug license feature", "Licensed features"},
	{"debug license feature cube", "CUBE licensing"},
	{"undebug", "Turn debugging off"},
	{"test", "Test functions (sbcd --test-clock)"},
	{"test clock", "The test clock"},
	{"test clock advance", "Move the test clock forward"},
	{"terminal", "Set terminal line parameters"},
	{"terminal length", "Lines on a screen"},
};

/* The output filters after `|`, in `?` order; json is this project's. */
static const struct {
	const char *word;
	enum sbc_cmd_filter filter;
	const char *help;
} filters[] = {
	{"begin", SBC_CMD_FILTER_BEGIN, "Begin with the line that matches"},
	{"count", SBC_CMD_FILTER_COUNT, "Count the lines that match"},
	{"exclude", SBC_CMD_FILTER_EXCLUDE, "Exclude the lines that match"},
	{"include", SBC_CMD_FILTER_INCLUDE, "Include the lines that match"},
	{"section", SBC_CMD_FILTER_SECTION,
	 "The sections whose line matches, with their indented lines"},
	{"json", SBC_CMD_FILTER_NONE, "JSON output"},
};
#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))

/*
 * Keywords that win an abbreviation tie, as IOS gives `show` priority for
 * `sh`: `sh vo si li st` is `stats` (the view operators type most), not
 * `status`; `status` needs `statu` or more.
 */
static const char *const preferred[] = {"stats"};

static bool is_preferred(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (strcmp(w, preferred[i]) == 0)
			return true;
	return false;
}

/* Word `i` of a syntax string into w (NUL-terminated); false past the
 * end. */
static bool syntax_word(const char *syntax, size_t i, char *w, size_t wlen)
{
	const char *p = syntax, *e;
	size_t n;

	for (;;) {
		e = strchr(p, ' ');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (i == 0) {
			if (n >= wlen)
				n = wlen - 1;
			memcpy(w, p, n);
			w[n] = '\0';
			return n > 0;
		}
		if (e == NULL)
			return false;
		p = e + 1;
		i--;
	}
}

static size_t syntax_words(const char *syntax)
{
	size_t n = 1;

	for (; *syntax; syntax++)
		n += *syntax == ' ';
	return n;
}

static bool is_arg(const char *w)
{
	return w[0] == '<';
}

static bool prefix_of(const char *tok, const char *word)
{
	return strncasecmp(tok, word, strlen(tok)) == 0;
}

/*
 * The line with a '^' under the token starting at column col (0-based).
 * That takes about twice the line; when it does not fit in errlen, the
 * column alone, so that a long line never cuts the message off.
 */
static void invalid_at(const char *line, size_t col, char *err,
		       size_t errlen)
{
	static const char msg[] = "% Invalid input detected at '^' marker.";

	if (strlen(line) + col + 3 + sizeof(msg) <= errlen)
		err_set(err, errlen, "%s\n%*s^\n%s", line, (int)col, "", msg);
	else
		err_set(err, errlen,
			"%% Invalid input detected at column %zu.", col + 1);
}

/* Split buf in place into at most max tokens; their columns in col.
 * Returns the count, or -1 when there are more. */
static int tokenize(char *buf, const char **tok, size_t *col, size_t max)
{
	size_t n = 0;
	char *p;

	for (p = buf; *p;) {
		while (*p && isspace((unsigned char)*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		col[n] = (size_t)(p - buf);
		tok[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	return (int)n;
}

/*
 * Narrow alive[] (every entry true on entry) to the entries whose first
 * ntok words take the tokens, IOS-style. Shorter entries drop out word by
 * word, so an abbreviation is judged against every keyword allowed there.
 * -1 with the IOS message in err when a token is ambiguous or fits no
 * entry.
 */
static int match_words(const char *line, const char *const *tok,
		       const size_t *col, size_t ntok, bool *alive, char *err,
		       size_t errlen)
{
	char w[64], kw[64];
	size_t i, c;

	for (i = 0; i < ntok; i++) {
		const char *unique = NULL;
		bool exact = false, ambiguous = false, any_kw = false;
		char pref[64] = "";

		/* Which keyword does the token name at this position? */
		for (c = 0; c < sbc_n_cmds; c++) {
			if (!alive[c] ||
			    !syntax_word(sbc_cmds[c].syntax, i, w, sizeof(w)) ||
			    is_arg(w) || !prefix_of(tok[i], w))
				continue;
			any_kw = true;
			if (is_preferred(w))
				snprintf(pref, sizeof(pref), "%s", w);
			if (strcasecmp(tok[i], w) == 0) {
				exact = true;
				snprintf(kw, sizeof(kw), "%s", w);
				unique = kw;
			} else if (!exact) {
				if (unique != NULL && strcmp(unique, w) != 0)
					ambiguous = true;
				snprintf(kw, sizeof(kw), "%s", w);
				unique = kw;
			}
		}
		if (any_kw && ambiguous && !exact && pref[0]) {
			snprintf(kw, sizeof(kw), "%s", pref);
			unique = kw;
			ambiguous = false;
		}
		if (any_kw && ambiguous && !exact) {
			err_set(err, errlen, "%% Ambiguous command:  \"%s\"",
				line);
			return -1;
		}
		/* Keep the entries that take the token: the keyword when
		 * one matched (keywords win over arguments), else an
		 * argument. */
		for (c = 0; c < sbc_n_cmds; c++) {
			if (!alive[c])
				continue;
			if (!syntax_word(sbc_cmds[c].syntax, i, w, sizeof(w)))
				alive[c] = false;
			else if (any_kw)
				alive[c] = !is_arg(w) &&
					   strcasecmp(w, unique) == 0;
			else
				alive[c] = is_arg(w);
		}
		for (c = 0; c < sbc_n_cmds && !alive[c]; c++)
			;
		if (c == sbc_n_cmds) {
			invalid_at(line, col[i], err, errlen);
			return -1;
		}
	}
	return 0;
}

/* Filters go on show commands only, as on IOS. */
static bool takes_filter(const struct sbc_cmd *c)
{
	return strncmp(c->syntax, "show ", 5) == 0;
}

/*
 * Column of the first `|` that stands alone as a word, or -1. A `|` at
 * the very end of the line counts unless need_space (for completion it
 * is still being typed).
 */
static long find_pipe(const char *line, bool need_space)
{
	size_t i;

	for (i = 0; line[i]; i++) {
		if (line[i] != '|' ||
		    (i > 0 && !isspace((unsigned char)line[i - 1])))
			continue;
		if (line[i + 1] == '\0' ? !need_space
					: isspace((unsigned char)line[i + 1]) != 0)
			return (long)i;
	}
	return -1;
}

/* The filter keyword that tok (n bytes, n > 0) abbreviates, or -1. Their
 * first letters differ, so one letter is enough. */
static int filter_word(const char *tok, size_t n)
{
	size_t f;

	for (f = 0; f < N_FILTERS; f++)
		if (n <= strlen(filters[f].word) &&
		    strncasecmp(tok, filters[f].word, n) == 0)
			return (int)f;
	return -1;
}

/* [p, *end) without trailing space; its last word's start in *w. */
static void last_word(const char *p, const char **end, const char **w)
{
	while (*end > p && isspace((unsigned char)(*end)[-1]))
		(*end)--;
	*w = *end;
	while (*w > p && !isspace((unsigned char)(*w)[-1]))
		(*w)--;
}

/* When [p, *end) ends in the word `word`, drop it from *end: true. */
static bool strip_word(const char *p, const char **end, const char *word)
{
	const char *w;
	size_t n = strlen(word);

	last_word(p, end, &w);
	if ((size_t)(*end - w) != n || strncasecmp(w, word, n) != 0)
		return false;
	*end = w;
	last_word(p, end, &w);
	return true;
}

/*
 * What follows the `|` at column pcol: `json`, or a filter keyword and
 * its regex, into req. The regex is the rest of the line (spaces inside
 * it kept, as on IOS), less a `--json` or `| json` at its end, which asks
 * for JSON (refused by the caller).
 */
static int parse_pipe(const char *line, size_t pcol, struct sbc_cmd_req *req,
		      char *err, size_t errlen)
{
	const char *p = line + pcol + 1, *kw, *end;
	char why[128];
	regex_t rx;
	size_t n;
	int f, rc;

	while (isspace((unsigned char)*p))
		p++;
	for (kw = p; *p && !isspace((unsigned char)*p); p++)
		;
	if (p == kw) {
		err_set(err, errlen, "%% Incomplete command.");
		return -1;
	}
	f = filter_word(kw, (size_t)(p - kw));
	if (f < 0) {
		invalid_at(line, (size_t)(kw - line), err, errlen);
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	if (strip_word(p, &end, "--json"))
		req->json = true;
	if (filters[f].filter == SBC_CMD_FILTER_NONE) {
		req->json = true;
		if (end != p) {
			invalid_at(line, (size_t)(p - line), err, errlen);
			return -1;
		}
		return 0;
	}
	kw = end;
	if (strip_word(p, &kw, "json") && strip_word(p, &kw, "|")) {
		req->json = true;
		end = kw;
	}
	if (end == p) {
		err_set(err, errlen, "%% Incomplete command.");
		return -1;
	}
	n = (size_t)(end - p);
	if (n > SBC_CMD_REGEX_MAX) {
		err_set(err, errlen,
			"%% Regular expression too long (at most %u bytes).",
			SBC_CMD_REGEX_MAX);
		return -1;
	}
	memcpy(req->regex, p, n);
	req->regex[n] = '\0';
	rc = regcomp(&rx, req->regex, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &rx, why, sizeof(why));
		err_set(err, errlen, "%% Invalid regular expression '%s': %s.",
			req->regex, why);
		req->regex[0] = '\0';
		return -1;
	}
	regfree(&rx);
	req->filter = filters[f].filter;
	return 0;
}

int sbc_cmd_parse(const char *line, struct sbc_cmd_req *req, char *err,
		  size_t errlen)
{
	const char *tok[SBC_CMD_MAX_WORDS + 2];
	size_t col[SBC_CMD_MAX_WORDS + 2];
	bool alive[sizeof(sbc_cmds) / sizeof(sbc_cmds[0])];
	const struct sbc_cmd *hit = NULL;
	size_t ntok, i, c, len, hlen;
	long pcol;
	char w[64];
	int n;

	memset(req, 0, sizeof(*req));
	len = strlen(line);
	if (len > SBC_CMD_LINE_MAX) {
		err_set(err, errlen, "%% Line too long.");
		return -1;
	}
	/* The command's words are those before the first `|`. */
	pcol = find_pipe(line, false);
	hlen = pcol >= 0 ? (size_t)pcol : len;
	memcpy(req->buf, line, hlen);
	req->buf[hlen] = '\0';
	n = tokenize(req->buf, tok, col, SBC_CMD_MAX_WORDS + 2);
	if (n < 0) {
		err_set(err, errlen, "%% Too many words.");
		return -1;
	}
	ntok = (size_t)n;
	/* JSON by `--json` (or IOS's `| json`, parse_pipe). */
	if (ntok >= 1 && strcmp(tok[ntok - 1], "--json") == 0) {
		req->json = true;
		ntok--;
	}
	if (ntok == 0) {
		err_set(err, errlen, "%% Incomplete command.");
		return -1;
	}
	if (ntok > SBC_CMD_MAX_WORDS) {
		err_set(err, errlen, "%% Too many words.");
		return -1;
	}
	for (c = 0; c < sbc_n_cmds; c++)
		alive[c] = true;
	if (match_words(line, tok, col, ntok, alive, err, errlen) != 0)
		return -1;
	for (c = 0; c < sbc_n_cmds; c++) {
		if (alive[c] && syntax_words(sbc_cmds[c].syntax) == ntok) {
			hit = &sbc_cmds[c];
			break;
		}
	}
	if (hit == NULL) {
		err_set(err, errlen, "%% Incomplete command.");
		return -1;
	}
	if (pcol >= 0 && parse_pipe(line, (size_t)pcol, req, err, errlen) != 0)
		return -1;
	if (req->filter != SBC_CMD_FILTER_NONE && !takes_filter(hit)) {
		invalid_at(line, (size_t)pcol, err, errlen);
		return -1;
	}
	if (req->json && req->filter != SBC_CMD_FILTER_NONE) {
		err_set(err, errlen, "%% Output filters do not apply to JSON "
				     "output.");
		return -1;
	}
	if (req->json && !(hit->flags & SBC_CMD_F_JSON)) {
		err_set(err, errlen, "%% JSON output is not available for "
				     "this command.");
		return -1;
	}
	req->cmd = hit;
	for (i = 0; i < ntok; i++) {
		syntax_word(hit->syntax, i, w, sizeof(w));
		if (is_arg(w))
			req->argv[req->argc++] = tok[i];
	}
	return 0;
}

/*
 * One output line through the filter: whether to print it. *state
 * carries begin's "begun" (1) and section's indent (its line's indent
 * + 1; 0 outside a section) from line to line.
 */
static bool filter_line(enum sbc_cmd_filter f, const regex_t *rx,
			const char *line, size_t *state, size_t *count)
{
	bool match = regexec(rx, line, 0, NULL, 0) == 0;
	size_t indent;

	switch (f) {
	case SBC_CMD_FILTER_INCLUDE:
		return match;
	case SBC_CMD_FILTER_EXCLUDE:
		return !match;
	case SBC_CMD_FILTER_BEGIN:
		if (match)
			*state = 1;
		return *state != 0;
	case SBC_CMD_FILTER_SECTION:
		indent = strspn(line, " \t");
		if (*state != 0 && indent + 1 > *state)
			return true; /* under the section's line */
		*state = match ? indent + 1 : 0;
		return match;
	case SBC_CMD_FILTER_COUNT:
		*count += match;
		return false;
	case SBC_CMD_FILTER_NONE:
		break;
	}
	return true;
}

int sbc_cmd_filter_write(const struct sbc_cmd_req *req, const char *text,
			 size_t len, FILE *out)
{
	size_t off, state = 0, count = 0;
	char *copy, *line, *nl;
	regex_t rx;
	int rc = -1;

	if (req->filter == SBC_CMD_FILTER_NONE)
		return fwrite(text, 1, len, out) == len ? 0 : -1;
	if (regcomp(&rx, req->regex, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(out, "%% Invalid regular expression '%s'.\n",
			req->regex);
		return -1;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		fprintf(out, "%% Out of memory.\n");
		goto out_free_rx;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (off = 0; off < len; off = (size_t)(nl - copy) + 1) {
		line = copy + off;
		nl = memchr(line, '\n', len - off);
		if (nl == NULL)
			nl = copy + len;
		*nl = '\0';
		if (filter_line(req->filter, &rx, line, &state, &count) &&
		    fprintf(out, "%s\n", line) < 0)
			goto out_free_copy;
	}
	if (req->filter == SBC_CMD_FILTER_COUNT &&
	    fprintf(out, "Number of lines which match regexp = %zu\n",
		    count) < 0)
		goto out_free_copy;
	rc = ferror(out) ? -1 : 0;
out_free_copy:
	free(copy);
out_free_rx:
	regfree(&rx);
	return rc;
}

/* Two keyword paths are the same when their keywords are and their
 * arguments stand at the same places, whatever the arguments' names. */
static bool same_path(const char *a, const char *b)
{
	while (*a && *b) {
		size_t na = strcspn(a, " "), nb = strcspn(b, " ");

		if (!(a[0] == '<' && b[0] == '<') &&
		    (na != nb || strncmp(a, b, na) != 0))
			return false;
		a += na;
		b += nb;
		if (*a != *b)
			return false;
		if (*a == ' ') {
			a++;
			b++;
		}
	}
	return *a == *b;
}

const char *sbc_cmd_help_of(const char *path)
{
	size_t i;

	for (i = 0; i < sbc_n_cmds; i++)
		if (!(sbc_cmds[i].flags & SBC_CMD_F_HIDDEN) &&
		    strcmp(sbc_cmds[i].syntax, path) == 0)
			return sbc_cmds[i].help;
	for (i = 0; i < sizeof(kw_help) / sizeof(kw_help[0]); i++)
		if (same_path(kw_help[i].path, path))
			return kw_help[i].help;
	return NULL;
}

/* The help of the first `words` words of syntax ("" when it has none:
 * the unit test reports it). */
static const char *help_of_words(const char *syntax, size_t words)
{
	char path[SBC_CMD_LINE_MAX + 1];
	const char *p = syntax, *h;

	while (words-- > 0 && p != NULL) {
		p = strchr(p, ' ');
		if (p != NULL && words > 0)
			p++;
	}
	snprintf(path, sizeof(path), "%.*s",
		 p != NULL ? (int)(p - syntax) : (int)strlen(syntax), syntax);
	h = sbc_cmd_help_of(path);
	return h != NULL ? h : "";
}

static size_t add_cand(struct sbc_cmd_cand *out, size_t n, size_t max,
		       const char *word, bool arg, const char *help)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strcmp(out[k].word, word) == 0)
			return n;
	if (n == max)
		return n;
	snprintf(out[n].word, sizeof(out[n].word), "%s", word);
	out[n].is_arg = arg;
	out[n].help = help;
	return n + 1;
}

/* Candidates after a show command's `|`: tail is the text after it. */
static size_t pipe_candidates(const char *tail, struct sbc_cmd_cand *out,
			      size_t max, bool *complete)
{
	size_t len = strlen(tail), f, n = 0;
	bool typing = len > 0 && !isspace((unsigned char)tail[len - 1]);
	const char *p = tail, *kw;
	int fw;

	while (isspace((unsigned char)*p))
		p++;
	for (kw = p; *p && !isspace((unsigned char)*p); p++)
		;
	if (*p == '\0' && (typing || p == kw)) {
		/* The filter keyword is next, or being typed. */
		for (f = 0; f < N_FILTERS; f++)
			if (prefix_of(kw, filters[f].word))
				n = add_cand(out, n, max, filters[f].word,
					     false, filters[f].help);
		return n;
	}
	fw = filter_word(kw, (size_t)(p - kw));
	if (fw < 0)
		return 0;
	while (isspace((unsigned char)*p))
		p++;
	if (filters[fw].filter == SBC_CMD_FILTER_NONE) {
		*complete = *p == '\0';
		return 0;
	}
	if (*p == '\0')
		return add_cand(out, 0, max, "<regex>", true,
				"A regular expression (POSIX extended)");
	/* The regex runs to the end of the line. */
	*complete = true;
	return 0;
}

size_t sbc_cmd_candidates(const char *line, struct sbc_cmd_cand *out,
			  size_t max, bool *complete)
{
	const char *tok[SBC_CMD_MAX_WORDS + 1];
	size_t col[SBC_CMD_MAX_WORDS + 1];
	bool alive[sizeof(sbc_cmds) / sizeof(sbc_cmds[0])];
	char buf[SBC_CMD_LINE_MAX + 1], w[64];
	const char *partial = "";
	size_t len = strlen(line), hlen, ntok, c, n = 0;
	bool can_pipe = false;
	long pcol;
	int t;

	*complete = false;
	if (len > SBC_CMD_LINE_MAX)
		return 0;
	pcol = find_pipe(line, true);
	hlen = pcol >= 0 ? (size_t)pcol : len;
	memcpy(buf, line, hlen);
	buf[hlen] = '\0';
	t = tokenize(buf, tok, col, SBC_CMD_MAX_WORDS + 1);
	if (t < 0)
		return 0;
	ntok = (size_t)t;
	/* The last word is being typed unless the line ends in a space. */
	if (pcol < 0 && ntok > 0 && !isspace((unsigned char)line[len - 1]))
		partial = tok[--ntok];
	if (ntok > SBC_CMD_MAX_WORDS ||
	    (pcol < 0 && ntok == SBC_CMD_MAX_WORDS))
		return 0;
	for (c = 0; c < sbc_n_cmds; c++)
		alive[c] = !(sbc_cmds[c].flags & SBC_CMD_F_HIDDEN);
	if (match_words(line, tok, col, ntok, alive, NULL, 0) != 0)
		return 0;
	for (c = 0; c < sbc_n_cmds; c++)
		if (alive[c] && syntax_words(sbc_cmds[c].syntax) == ntok &&
		    takes_filter(&sbc_cmds[c]))
			can_pipe = true;
	if (pcol >= 0)
		return can_pipe ? pipe_candidates(line + pcol + 1, out, max,
						  complete)
				: 0;
	for (c = 0; c < sbc_n_cmds; c++) {
		if (!alive[c])
			continue;
		if (syntax_words(sbc_cmds[c].syntax) == ntok) {
			*complete = *complete || partial[0] == '\0';
			continue;
		}
		syntax_word(sbc_cmds[c].syntax, ntok, w, sizeof(w));
		if (!is_arg(w) && !prefix_of(partial, w))
			continue;
		n = add_cand(out, n, max, w, is_arg(w),
			     help_of_words(sbc_cmds[c].syntax, ntok + 1));
	}
	if (can_pipe && prefix_of(partial, "|"))
		n = add_cand(out, n, max, "|", false, "Output modifiers");
	return n;
}

int sbc_cmd_help(const char *line, FILE *out)
{
	struct sbc_cmd_cand c[64];
	size_t len = strlen(line), n, i, width = 0;
	bool complete, partial;

	n = sbc_cmd_candidates(line, c, sizeof(c) / sizeof(c[0]), &complete);
	partial = len > 0 && !isspace((unsigned char)line[len - 1]);
	if (n == 0 && !complete) {
		fputs("% Unrecognized command\n", out);
		return -1;
	}
	if (partial && n > 0) {
		/* IOS lists the words a partial word may become. */
		for (i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? "  " : "", c[i].word);
		fputs("\n", out);
	} else {
		for (i = 0; i < n; i++)
			if (strlen(c[i].word) > width)
				width = strlen(c[i].word);
		for (i = 0; i < n; i++)
			fprintf(out, "  %-*s  %s\n", (int)width, c[i].word,
				c[i].help);
		if (complete)
			fputs("  <cr>\n", out);
	}
	return 0;
}

long long sbc_cmd_duration_s(const char *text)
{
	static const struct {
		char unit;
		long long secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	long long n;
	char *end;
	size_t u;

	if (text == NULL || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0' || n <= 0)
		return -1;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (end[0] == units[u].unit) {
			if (n > 36500LL * 86400 / units[u].secs)
				return -1;
			return n * units[u].secs;
		}
	}
	return -1;
}

int sbc_cmd_term_length(const char *text)
{
	size_t n = text != NULL ? strspn(text, "0123456789") : 0;
	long v;

	if (n == 0 || n > 3 || text[n] != '\0')
		return -1;
	v = strtol(text, NULL, 10);
	return v <= 512 ? (int)v : -1;
}
