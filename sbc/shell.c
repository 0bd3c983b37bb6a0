/*
 * sbcctl's interactive shell (sbc/shell.h).
 *
 * Keys, as on IOS: Tab completes the word being typed (or lists what fits
 * when several do), `?` lists what may come next with its help and `<cr>`
 * when the line is already a command, Enter runs the line, Up/Down (or
 * Ctrl-P/Ctrl-N) walk the history, Backspace deletes, Ctrl-U clears the
 * line, Ctrl-C abandons it, Ctrl-D on an empty line (or `exit`, `quit`,
 * `end`, abbreviated as any command) leaves.
 * The cursor stays at the end of the line: editing is at the end only.
 */
#include "sbc/shell.h"

#include "sbc/cmdtab.h"
#include "sbc/ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define HISTORY_MAX 100
#define CANDS_MAX 64
#define HOSTNAME_MAX 64

struct shell {
	int fd;
	char prompt[HOSTNAME_MAX + 2];
	char line[SBC_CMD_LINE_MAX + 1];
	size_t len;
	char *history[HISTORY_MAX];
	size_t nhist;
	size_t hpos; /* nhist = the line being typed */
	char saved[SBC_CMD_LINE_MAX + 1]; /* that line, while browsing */
};

static void put(const char *s)
{
	fputs(s, stdout);
}

static void redraw(struct shell *sh)
{
	/* Back to column 0, clear the line, prompt and line again. */
	printf("\r\033[K%s%s", sh->prompt, sh->line);
	fflush(stdout);
}

static void set_line(struct shell *sh, const char *text)
{
	snprintf(sh->line, sizeof(sh->line), "%s", text);
	sh->len = strlen(sh->line);
}

static void history_add(struct shell *sh, const char *line)
{
	if (sh->nhist > 0 && strcmp(sh->history[sh->nhist - 1], line) == 0)
		return;
	if (sh->nhist == HISTORY_MAX) {
		free(sh->history[0]);
		memmove(&sh->history[0], &sh->history[1],
			(HISTORY_MAX - 1) * sizeof(sh->history[0]));
		sh->nhist--;
	}
	sh->history[sh->nhist] = strdup(line);
	if (sh->history[sh->nhist] != NULL)
		sh->nhist++;
}

static void history_move(struct shell *sh, int dir)
{
	if (dir < 0 && sh->hpos > 0) {
		if (sh->hpos == sh->nhist)
			snprintf(sh->saved, sizeof(sh->saved), "%s", sh->line);
		set_line(sh, sh->history[--sh->hpos]);
	} else if (dir > 0 && sh->hpos < sh->nhist) {
		sh->hpos++;
		set_line(sh, sh->hpos == sh->nhist ? sh->saved
						   : sh->history[sh->hpos]);
	}
	redraw(sh);
}

/* `?`: what may come next, with help, then the line again. */
static void help(struct shell *sh)
{
	put("?\n");
	sbc_cmd_help(sh->line, stdout);
	redraw(sh);
}

/* Tab: complete the word being typed as far as it is unambiguous. */
static void complete_word(struct shell *sh)
{
	struct sbc_cmd_cand c[CANDS_MAX];
	bool complete;
	size_t n = sbc_cmd_candidates(sh->line, c, CANDS_MAX, &complete);
	size_t start = sh->len, common, i, k = 0;

	while (start > 0 && sh->line[start - 1] != ' ')
		start--;
	/* Arguments are the operator's to type; `|` too, so that Tab
	 * after a whole command adds nothing. */
	for (i = 0; i < n; i++)
		if (!c[i].is_arg && strcmp(c[i].word, "|") != 0)
			c[k++] = c[i];
	n = k;
	if (n == 0)
		return;
	common = strlen(c[0].word);
	for (i = 1; i < n; i++) {
		size_t j = 0;

		while (j < common && c[i].word[j] == c[0].word[j])
			j++;
		common = j;
	}
	if (n == 1 || common > sh->len - start) {
		snprintf(sh->line + start, sizeof(sh->line) - start, "%.*s%s",
			 (int)common, c[0].word, n == 1 ? " " : "");
		sh->len = strlen(sh->line);
		redraw(sh);
		return;
	}
	put("\n");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "  " : "", c[i].word);
	put("\n");
	redraw(sh);
}

/* Enter: run the line. 1 to leave the shell, -1 when sbcd went away. */
static int run_line(struct shell *sh)
{
	int status;

	put("\n");
	sh->hpos = sh->nhist;
	if (sh->len == 0)
		return 0;
	if (sbcctl_is_exit(sh->line))
		return 1;
	history_add(sh, sh->line);
	sh->hpos = sh->nhist;
	status = sbcctl_request(sh->fd, sh->line, stdout);
	set_line(sh, "");
	return status < 0 ? -1 : 0;
}

bool sbcctl_is_exit(const char *line)
{
	struct sbc_cmd_req *req = malloc(sizeof(*req));
	bool is_exit;

	if (req == NULL)
		return false;
	is_exit = sbc_cmd_parse(line, req, NULL, 0) == 0 &&
		  req->cmd->id == SBC_CMD_EXIT;
	free(req);
	return is_exit;
}

static void fetch_prompt(struct shell *sh)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	snprintf(sh->prompt, sizeof(sh->prompt), "sbc#");
	if (f == NULL)
		return;
	if (sbcctl_request(sh->fd, "show hostname", f) == 0) {
		fclose(f);
		f = NULL;
		len = strcspn(buf, "\r\n");
		if (len > 0 && len <= HOSTNAME_MAX)
			snprintf(sh->prompt, sizeof(sh->prompt), "%.*s#",
				 (int)len, buf);
	}
	if (f != NULL)
		fclose(f);
	free(buf);
}

static int loop(struct shell *sh)
{
	int rc = 0;

	redraw(sh);
	for (;;) {
		unsigned char ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (ch == '\r' || ch == '\n') {
			rc = run_line(sh);
			if (rc != 0)
				break;
			redraw(sh);
		} else if (ch == '\t') {
			complete_word(sh);
		} else if (ch == '?') {
			help(sh);
		} else if (ch == 0x7f || ch == 0x08) {
			if (sh->len > 0)
				sh->line[--sh->len] = '\0';
			redraw(sh);
		} else if (ch == 0x03 || ch == 0x15) { /* Ctrl-C, Ctrl-U */
			if (ch == 0x03)
				put("^C\n");
			set_line(sh, "");
			sh->hpos = sh->nhist;
			redraw(sh);
		} else if (ch == 0x04) { /* Ctrl-D */
			if (sh->len == 0)
				break;
		} else if (ch == 0x10 || ch == 0x0e) { /* Ctrl-P, Ctrl-N */
			history_move(sh, ch == 0x10 ? -1 : 1);
		} else if (ch == 0x1b) { /* ESC [ A / ESC [ B */
			unsigned char seq[2];

			if (read(STDIN_FILENO, &seq[0], 1) == 1 &&
			    read(STDIN_FILENO, &seq[1], 1) == 1 &&
			    seq[0] == '[' && (seq[1] == 'A' || seq[1] == 'B'))
				history_move(sh, seq[1] == 'A' ? -1 : 1);
		} else if (ch >= 0x20 && ch < 0x7f &&
			   sh->len + 1 < sizeof(sh->line)) {
			sh->line[sh->len++] = (char)ch;
			sh->line[sh->len] = '\0';
			putchar(ch);
			fflush(stdout);
		}
	}
	put("\n");
	return rc < 0 ? -1 : 0;
}

int sbcctl_shell(int fd)
{
	struct termios old, raw;
	struct shell *sh = calloc(1, sizeof(*sh));
	size_t i;
	int rc;

	if (sh == NULL)
		return -1;
	sh->fd = fd;
	fetch_prompt(sh);
	if (tcgetattr(STDIN_FILENO, &old) != 0) {
		free(sh);
		return -1;
	}
	/* Keys one by one, no echo, Ctrl-C as a key; output processing
	 * (\n -> \r\n) stays on. */
	raw = old;
	raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO | ISIG | IEXTEN);
	raw.c_iflag &= (tcflag_t) ~(IXON | ICRNL);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	rc = loop(sh);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	for (i = 0; i < sh->nhist; i++)
		free(sh->history[i]);
	free(sh);
	return rc;
}
