/*
 * sbc_cmd: the operator command table and its matcher (sbc/cmdtab.h).
 */
#include "cmdtab.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
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
};
const size_t sbc_n_cmds = sizeof(sbc_cmds) / sizeof(sbc_cmds[0]);

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

int sbc_cmd_parse(const char *line, struct sbc_cmd_req *req, char *err,
		  size_t errlen)
{
	const char *tok[SBC_CMD_MAX_WORDS + 2];
	size_t col[SBC_CMD_MAX_WORDS + 2];
	bool alive[sizeof(sbc_cmds) / sizeof(sbc_cmds[0])];
	const struct sbc_cmd *hit = NULL;
	size_t ntok, i, c, len;
	char w[64];
	int n;

	memset(req, 0, sizeof(*req));
	len = strlen(line);
	if (len > SBC_CMD_LINE_MAX) {
		err_set(err, errlen, "%% Line too long.");
		return -1;
	}
	memcpy(req->buf, line, len + 1);
	n = tokenize(req->buf, tok, col, SBC_CMD_MAX_WORDS + 2);
	if (n < 0) {
		err_set(err, errlen, "%% Too many words.");
		return -1;
	}
	ntok = (size_t)n;
	/* JSON by `--json` or IOS's `| json`. */
	if (ntok >= 1 && strcmp(tok[ntok - 1], "--json") == 0) {
		req->json = true;
		ntok--;
	} else if (ntok >= 2 && strcmp(tok[ntok - 2], "|") == 0 &&
		   strcasecmp(tok[ntok - 1], "json") == 0) {
		req->json = true;
		ntok -= 2;
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

size_t sbc_cmd_candidates(const char *line, struct sbc_cmd_cand *out,
			  size_t max, bool *complete)
{
	const char *tok[SBC_CMD_MAX_WORDS + 1];
	size_t col[SBC_CMD_MAX_WORDS + 1];
	bool alive[sizeof(sbc_cmds) / sizeof(sbc_cmds[0])];
	char buf[SBC_CMD_LINE_MAX + 1], w[64];
	const char *partial = "";
	size_t len = strlen(line), ntok, c, k, n = 0;
	int t;

	*complete = false;
	if (len > SBC_CMD_LINE_MAX)
		return 0;
	memcpy(buf, line, len + 1);
	t = tokenize(buf, tok, col, SBC_CMD_MAX_WORDS + 1);
	if (t < 0)
		return 0;
	ntok = (size_t)t;
	/* The last word is being typed unless the line ends in a space. */
	if (ntok > 0 && len > 0 && !isspace((unsigned char)line[len - 1]))
		partial = tok[--ntok];
	if (ntok >= SBC_CMD_MAX_WORDS)
		return 0;
	for (c = 0; c < sbc_n_cmds; c++)
		alive[c] = !(sbc_cmds[c].flags & SBC_CMD_F_HIDDEN);
	if (match_words(line, tok, col, ntok, alive, NULL, 0) != 0)
		return 0;
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
		for (k = 0; k < n; k++)
			if (strcmp(out[k].word, w) == 0)
				break;
		if (k < n || n == max)
			continue;
		snprintf(out[n].word, sizeof(out[n].word), "%s", w);
		out[n].is_arg = is_arg(w);
		/* The help of the shortest entry through this word. */
		out[n].help = sbc_cmds[c].help;
		n++;
	}
	return n;
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
