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
	{SBC_CMD_SHOW_LIC_STATUS, "show license status",
	 "Smart Licensing Using Policy status", SBC_CMD_F_JSON},
	{SBC_CMD_LIC_TRUST, "license smart trust idtoken <token> local",
	 "Establish trust with the license server", 0},
	{SBC_CMD_LIC_TRUST, "license smart trust idtoken <token> local force",
	 "Establish trust, replacing the one installed", 0},
	{SBC_CMD_LIC_SYNC, "license smart sync all",
	 "Report unreported usage now", 0},
	{SBC_CMD_LIC_SAVE_USAGE, "license smart save usage all file <path>",
	 "Write unacknowledged usage reports to a file", 0},
	{SBC_CMD_LIC_IMPORT, "license smart import <path>",
	 "Install an ACK or policy file", 0},
	{SBC_CMD_RELOAD, "reload", "Re-read the configuration file", 0},
	{SBC_CMD_TEST_CLOCK, "test clock advance <duration>",
	 "Move the test clock forward (sbcd --test-clock only)", 0},
};
const size_t sbc_n_cmds = sizeof(sbc_cmds) / sizeof(sbc_cmds[0]);

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

/* The line with a '^' under the token starting at column col. */
static void invalid_at(const char *line, size_t col, char *err,
		       size_t errlen)
{
	err_set(err, errlen, "%s\n%*s^\n%% Invalid input detected at '^' "
			     "marker.",
		line, (int)col, "");
}

int sbc_cmd_parse(const char *line, struct sbc_cmd_req *req, char *err,
		  size_t errlen)
{
	const char *tok[SBC_CMD_MAX_WORDS + 2];
	size_t col[SBC_CMD_MAX_WORDS + 2];
	bool alive[sizeof(sbc_cmds) / sizeof(sbc_cmds[0])];
	size_t ntok = 0, i, c, len;
	const struct sbc_cmd *hit = NULL;
	char *p, w[64], kw[64];

	memset(req, 0, sizeof(*req));
	len = strlen(line);
	if (len > SBC_CMD_LINE_MAX) {
		err_set(err, errlen, "%% Line too long.");
		return -1;
	}
	memcpy(req->buf, line, len + 1);
	for (p = req->buf; *p;) {
		while (*p && isspace((unsigned char)*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (ntok == SBC_CMD_MAX_WORDS + 2) {
			err_set(err, errlen, "%% Too many words.");
			return -1;
		}
		col[ntok] = (size_t)(p - req->buf);
		tok[ntok++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
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
	/* Shorter entries drop out word by word, so an abbreviation is
	 * judged against every keyword allowed there, as IOS does. */
	for (c = 0; c < sbc_n_cmds; c++)
		alive[c] = true;
	for (i = 0; i < ntok; i++) {
		const char *unique = NULL;
		bool exact = false, ambiguous = false, any_kw = false;

		/* Which keyword does the token name at this position? */
		for (c = 0; c < sbc_n_cmds; c++) {
			if (!alive[c] ||
			    !syntax_word(sbc_cmds[c].syntax, i, w, sizeof(w)) ||
			    is_arg(w) || !prefix_of(tok[i], w))
				continue;
			any_kw = true;
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
