/*
 * sbc_cmd: the one table of operator commands (docs/cli.md).
 *
 * sbcd dispatches on it, sbcctl completes and helps from it, the docs
 * list it: a command exists once, here. Matching follows IOS habits:
 * every keyword may be abbreviated to any prefix that no other keyword
 * allowed at that position shares ("sh vo si li st"), keywords are
 * case-insensitive, and a trailing `--json` or `| json` asks for JSON.
 * A show command may end in one IOS output filter, `| include RE`,
 * `| exclude RE`, `| begin RE`, `| section RE` or `| count RE` (keywords
 * abbreviated as the others): the request carries it, and the client
 * applies it to the text reply with sbc_cmd_filter_write().
 *
 * Syntax of a table entry: words separated by one space; a word in angle
 * brackets (`<path>`) takes any one token as an argument. A command with
 * optional words has one entry per form, all with the same id.
 */
#ifndef SBC_CMDTAB_H
#define SBC_CMDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SBC_CMD_MAX_WORDS 16u
#define SBC_CMD_LINE_MAX 4096u
#define SBC_CMD_REGEX_MAX 256u /* bytes of an output filter's regex */

enum sbc_cmd_id {
	SBC_CMD_SHOW_STATS,	  /* show voice sip license stats [<class>] */
	SBC_CMD_SHOW_STATS_TABLE, /* ... stats table [<class>] */
	SBC_CMD_SHOW_LIC_STATUS,  /* show license status */
	SBC_CMD_SHOW_LIC_USAGE,	  /* show license usage */
	SBC_CMD_SHOW_LIC_SUMMARY, /* show license summary */
	SBC_CMD_SHOW_LIC_ALL,	  /* show license all */
	SBC_CMD_SHOW_SIP_LIC,	  /* show voice sip license status */
	SBC_CMD_LIC_TRUST,	  /* license smart trust idtoken ... */
	SBC_CMD_LIC_SYNC,	  /* license smart sync all */
	SBC_CMD_LIC_SAVE_USAGE,	  /* license smart save usage {unreported|all|days <n>} file <path> */
	SBC_CMD_LIC_IMPORT,	  /* license smart import <path> */
	SBC_CMD_RELOAD,		  /* reload */
	SBC_CMD_SHOW_CUBE,	  /* show cube status */
	SBC_CMD_SHOW_RUNNING,	  /* show running-config */
	SBC_CMD_SHOW_DIALPEERS,	  /* show dial-peer voice summary */
	SBC_CMD_SHOW_LOGGING,	  /* show logging */
	SBC_CMD_SHOW_CALLS,	  /* show call active voice brief */
	SBC_CMD_SHOW_SIPUA,	  /* show sip-ua statistics */
	SBC_CMD_CLEAR_CALL,	  /* clear call voice <id> */
	SBC_CMD_CLEAR_SIPUA,	  /* clear sip-ua statistics */
	SBC_CMD_DEBUG_CUBE,	  /* debug license feature cube all */
	SBC_CMD_UNDEBUG,	  /* undebug all */
	SBC_CMD_TEST_CLOCK,	  /* test clock advance <duration> */
	SBC_CMD_HOSTNAME,	  /* show hostname (hidden: sbcctl's prompt) */
	SBC_CMD_TERMINAL_LENGTH,  /* terminal length <lines> */
	SBC_CMD_EXIT,		  /* exit, quit, end */
	SBC_CMD_SHOW_VERSION,	  /* show version */
	SBC_CMD_SHOW_CLOCK,	  /* show clock */
	SBC_CMD_SHOW_LIC_UDI,	  /* show license udi */
	SBC_CMD_SHOW_LIC_EVENTLOG, /* show license eventlog [days <n>] */
	SBC_CMD_SHOW_CALLHOME,	  /* show call-home smart-licensing */
	SBC_CMD_SHOW_LIC_TECH,	  /* show license tech support */
	SBC_CMD_CLEAR_CALL_CAUSE, /* clear call voice causecode <n> id <id> */
	SBC_CMD_COUNT
};

/* Entry flags. */
#define SBC_CMD_F_JSON 1u   /* has a --json form */
#define SBC_CMD_F_HIDDEN 2u /* for sbcctl itself: no help, no completion */

struct sbc_cmd {
	enum sbc_cmd_id id;
	const char *syntax;
	const char *help;
	unsigned flags;
};

/* The table, in help order. */
extern const struct sbc_cmd sbc_cmds[];
extern const size_t sbc_n_cmds;

/* An output filter after `|`, IOS semantics (sbc_cmd_filter_write). */
enum sbc_cmd_filter {
	SBC_CMD_FILTER_NONE,
	SBC_CMD_FILTER_INCLUDE, /* the lines that match */
	SBC_CMD_FILTER_EXCLUDE, /* the lines that do not */
	SBC_CMD_FILTER_BEGIN,	/* from the first line that matches on */
	SBC_CMD_FILTER_SECTION, /* each line that matches, and the lines
				 * indented under it */
	SBC_CMD_FILTER_COUNT,	/* "Number of lines which match regexp = N" */
};

/* A parsed request: the entry it matched and its arguments (pointers
 * into buf); an output filter with its regex (POSIX extended, checked to
 * compile; the text after the filter keyword, outer spaces trimmed). */
struct sbc_cmd_req {
	const struct sbc_cmd *cmd;
	bool json;
	enum sbc_cmd_filter filter;
	char regex[SBC_CMD_REGEX_MAX + 1];
	size_t argc;
	const char *argv[SBC_CMD_MAX_WORDS];
	char buf[SBC_CMD_LINE_MAX + 1];
};

/*
 * Match `line` against the table. Returns 0 with req filled, or -1 with
 * an IOS-style message in err ("% Invalid input detected at '^' marker."
 * with the line and the marker, or "... at column N." when those do not
 * fit in errlen, "% Ambiguous command: ...", "% Incomplete command.",
 * "% Too many words."). SBC_CMD_LINE_MAX + 64 bytes hold any of them.
 * A filter is refused on a command that is not a show command (the
 * marker under `|`), with JSON ("% Output filters do not apply to
 * JSON output."), with a regex over SBC_CMD_REGEX_MAX bytes or one that
 * does not compile ("% Invalid regular expression ...").
 */
int sbc_cmd_parse(const char *line, struct sbc_cmd_req *req, char *err,
		  size_t errlen);

/*
 * Write text (len bytes, lines ending in '\n') to out through req's
 * filter; all of it when there is none. 0, or -1 when the regex does not
 * compile, memory runs out or out fails (a `%` line on out for the
 * first two).
 */
int sbc_cmd_filter_write(const struct sbc_cmd_req *req, const char *text,
			 size_t len, FILE *out);

/* A word that may come next (completion, `?` help). */
struct sbc_cmd_cand {
	char word[64]; /* a keyword, "<arg>", "|" or a filter keyword */
	bool is_arg;
	const char *help; /* the word's own help (sbc_cmd_help_of) */
};

/*
 * What may come at the end of `line` as typed so far: the last word is
 * being typed unless the line ends in a space, and only words it is a
 * prefix of count. At most max candidates, distinct, in table order;
 * *complete is true when the line without a partial word is a whole
 * command (IOS shows `<cr>`). 0 when the words typed match nothing.
 */
size_t sbc_cmd_candidates(const char *line, struct sbc_cmd_cand *out,
			  size_t max, bool *complete);

/*
 * The help of a keyword path, its words as in the table joined by one
 * space ("show license", "license smart trust idtoken <token>"; an
 * argument matches an argument of any name at its place): the
 * entry's help when the path is a whole (visible) entry, else the
 * keyword help table's. NULL when neither has it (a unit test checks
 * that every path of every entry has one).
 */
const char *sbc_cmd_help_of(const char *path);

/*
 * IOS `?` for `line` as typed (without the '?'), to out: after a space,
 * each word that may come next with its help, then `<cr>` when the line
 * is already a command; right after a partial word, the words it may
 * become; "% Unrecognized command" when nothing fits, and then -1
 * (else 0).
 */
int sbc_cmd_help(const char *line, FILE *out);

/*
 * Parse a test-clock duration "<N>{s|m|h|d}" (N 1..36500 days' worth).
 * Returns the seconds, or -1 when it is not one.
 */
long long sbc_cmd_duration_s(const char *text);

/* Parse `terminal length`'s number, 0..512 as on IOS (0: no pausing).
 * Returns it, or -1 when it is not one. */
int sbc_cmd_term_length(const char *text);

#endif
