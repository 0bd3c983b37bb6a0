/*
 * sbcctl's interactive shell (sbc/shell.h) on a pseudo-terminal: the
 * shell runs in a child whose stdin and stdout are the pty, the test
 * types keys on the master side and reads what the terminal shows. The
 * control connection is this file's sbcctl_request(), which prints
 * "[ran <line>]" instead of asking sbcd, so the output shows exactly which
 * lines the shell dispatched.
 */
#include "sbc/shell.h"

#include "common/clk.h"
#include "sbc/cmdtab.h"

#include "unit.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 5000
#define OUT_MAX 65536

/* What `show hostname` answers: the prompt. */
static const char *fake_hostname = "edge-1";

int sbcctl_request(int fd, const char *line, FILE *out)
{
	(void)fd;
	if (strcmp(line, "show hostname") == 0) {
		fprintf(out, "%s\n", fake_hostname);
		return 0;
	}
	if (strcmp(line, "reload") == 0)
		return -1; /* sbcd went away */
	fprintf(out != NULL ? out : stdout, "[ran %s]\n", line);
	return strcmp(line, "fail") == 0 ? 1 : 0;
}

struct term {
	pid_t pid;
	int master;
	char out[OUT_MAX];
	size_t len;
	size_t seen; /* output up to here matched an earlier expect() */
};

static void term_open(struct term *t)
{
	int slave;

	memset(t, 0, sizeof(*t));
	t->master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(t->master, 0);
	ck_assert_int_eq(grantpt(t->master), 0);
	ck_assert_int_eq(unlockpt(t->master), 0);
	slave = open(ptsname(t->master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	fflush(stdout);
	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0) {
		int rc;

		dup2(slave, STDIN_FILENO);
		dup2(slave, STDOUT_FILENO);
		close(slave);
		close(t->master);
		rc = sbcctl_shell(99);
		fflush(stdout);
		_exit(rc == 0 ? 0 : 3);
	}
	close(slave);
}

/* Read what the terminal shows for up to ms; false at EOF. */
static bool term_read(struct term *t, int ms)
{
	struct pollfd p = {.fd = t->master, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return true;
	ck_assert_uint_lt(t->len, sizeof(t->out) - 1);
	n = read(t->master, t->out + t->len, sizeof(t->out) - 1 - t->len);
	if (n <= 0)
		return false; /* EIO once the child closed the slave */
	t->len += (size_t)n;
	t->out[t->len] = '\0';
	return true;
}

/* Wait until text shows, after what earlier expects matched. */
static void expect(struct term *t, const char *text)
{
	int64_t until = clk_mono_ms() + WAIT_MS;
	const char *at;

	for (;;) {
		at = strstr(t->out + t->seen, text);
		if (at != NULL)
			break;
		ck_assert_msg(clk_mono_ms() < until,
			      "no [%s] on the terminal; after [%s]", text,
			      t->out + t->seen);
		if (!term_read(t, 50))
			ck_assert_msg(strstr(t->out + t->seen, text) != NULL,
				      "shell ended without [%s]: [%s]", text,
				      t->out + t->seen);
	}
	t->seen = (size_t)(at - t->out) + strlen(text);
}

static void keys(struct term *t, const char *k)
{
	ck_assert_int_eq(write(t->master, k, strlen(k)), (ssize_t)strlen(k));
}

/* The shell's exit status (0, or 3 for -1) once it ended; everything it
 * showed is read. */
static int term_close(struct term *t)
{
	int64_t until = clk_mono_ms() + WAIT_MS;
	int status;
	pid_t r;

	while ((r = waitpid(t->pid, &status, WNOHANG)) == 0) {
		if (clk_mono_ms() >= until) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, &status, 0);
			close(t->master);
			ck_abort_msg("the shell did not end: [%s]",
				     t->out + t->seen);
		}
		term_read(t, 10);
	}
	ck_assert_int_eq(r, t->pid);
	for (;;) {
		struct pollfd p = {.fd = t->master, .events = POLLIN};

		if (poll(&p, 1, 0) <= 0 || !term_read(t, 0))
			break;
	}
	close(t->master);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* text as the terminal shows it: "\n" becomes "\r\n". */
static char *onlcr(const char *text)
{
	char *out = malloc(2 * strlen(text) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	for (; *text != '\0'; text++) {
		if (*text == '\n')
			*o++ = '\r';
		*o++ = *text;
	}
	*o = '\0';
	return out;
}

/*
 * A session: keys typed, then what must show before the next keys (NULL:
 * nothing to wait for); the shell's exit status at the end; a text that
 * must never show.
 */
struct step {
	const char *keys;
	const char *shows;
};

#define STEPS_MAX 12

struct script {
	const char *what;
	struct step steps[STEPS_MAX];
	int status;
	const char *never;
};

/* Run the steps after the first prompt; the terminal stays readable. */
static void session(struct term *t, const struct step *steps, int status,
		    const char *never)
{
	size_t i;

	term_open(t);
	expect(t, "edge-1#");
	for (i = 0; i < STEPS_MAX && steps[i].keys != NULL; i++) {
		keys(t, steps[i].keys);
		if (steps[i].shows != NULL)
			expect(t, steps[i].shows);
	}
	ck_assert_int_eq(term_close(t), status);
	if (never != NULL)
		ck_assert_msg(strstr(t->out, never) == NULL, "[%s] in [%s]",
			      never, t->out);
}

static const struct script scripts[] = {
	/* `show hostname` is the shell's own: not dispatched as typed. */
	{ "Ctrl-D on an empty line leaves", { { "\x04", NULL } }, 0, "[ran" },
	{ "exit leaves, not dispatched",
	  { { "exit\r", NULL } }, 0, "[ran" },
	{ "a failed command keeps the shell",
	  { { "fail\r", "[ran fail]" },
	    { "show clock\r", "[ran show clock]" },
	    { "quit\r", NULL } },
	  0, NULL },
	{ "sbcd gone ends the shell", { { "reload\r", NULL } }, 3, NULL },
	{ "an empty line runs nothing",
	  { { "\r\r", "edge-1#" }, { "end\r", NULL } }, 0, "[ran" },
	{ "Tab completes a unique word",
	  { { "sh\t", "edge-1#show " },
	    { "vers\t\r", "[ran show version ]" },
	    { "\x04", NULL } },
	  0, NULL },
	{ "history up and down",
	  { { "show clock\r", "[ran show clock]" },
	    { "show version\r", "[ran show version]" },
	    /* Ctrl-P twice: the older one; Enter runs it again. */
	    { "\x10\x10\r", "[ran show clock]" },
	    /* ESC [ A: the newest (show clock, just run); up again, then
	     * ESC [ B back down: show clock once more. */
	    { "\x1b[A\x1b[A\x1b[B\r", "[ran show clock]" },
	    /* Down past the newest: the line being typed comes back. */
	    { "show ver\x10\x0e", "edge-1#show ver" },
	    { "sion\r", "[ran show version]" },
	    { "\x04", NULL } },
	  0, NULL },
	{ "Backspace (DEL and ^H) deletes at the end",
	  { { "show clockkk\x7f\x08\r", "[ran show clock]" },
	    { "\x04", NULL } },
	  0, "[ran show clockk" },
	{ "Ctrl-C abandons the line",
	  { { "show version\x03", "^C\r\n" },
	    { "\r", NULL },
	    { "show clock\r", "[ran show clock]" },
	    { "\x04", NULL } },
	  0, "[ran show version" },
	{ "Ctrl-U clears the line",
	  { { "clear call voice 1\x15show clock\r", "[ran show clock]" },
	    { "\x04", NULL } },
	  0, "[ran clear" },
	{ "Ctrl-D is ignored on a line that is not empty",
	  { { "show\x04 clock\r", "[ran show clock]" }, { "\x04", NULL } },
	  0, NULL },
};

UNIT_TCASE("shell");

UNIT_LOOP_TEST(keys_and_screen, 0, NELEM(scripts))
{
	struct term t;

	ck_assert_msg(scripts[_i].what != NULL, "script %d", _i);
	session(&t, scripts[_i].steps, scripts[_i].status,
		scripts[_i].never);
}
END_TEST

UNIT_TEST(prompt_without_hostname)
{
	struct term t;

	fake_hostname = "";
	term_open(&t);
	expect(&t, "sbc#");
	keys(&t, "\x04");
	ck_assert_int_eq(term_close(&t), 0);
}
END_TEST

/* Lines go out as typed (sbcd judges them): abbreviations, filters. */
static const char *const typed[] = {
	"show version",
	"sh ver",
	"show running-config | include dial",
	"sh run | count peer",
	"show license status --json",
	"nonsense words",
};

UNIT_LOOP_TEST(line_dispatched, 0, NELEM(typed))
{
	char want[256];
	struct step steps[] = {
		{ typed[_i], NULL },
		{ "\r", want },
		{ "", "edge-1#" }, /* and the prompt again */
		{ "exit\r", NULL },
		{ NULL, NULL },
	};
	struct term t;

	snprintf(want, sizeof(want), "[ran %s]\r\n", typed[_i]);
	session(&t, steps, 0, "[ran exit]");
}
END_TEST

/* `?` shows sbc_cmd_help() of the line so far, then the line again, which
 * stays as it was. */
static const char *const helped[] = { "", "show ", "show l", "sh license ",
				      "bogus " };

UNIT_LOOP_TEST(question_mark_help, 0, NELEM(helped))
{
	char *help = NULL, *want, line[128];
	size_t len = 0;
	FILE *f = open_memstream(&help, &len);
	struct term t;

	ck_assert_ptr_nonnull(f);
	sbc_cmd_help(helped[_i], f);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	want = onlcr(help);
	snprintf(line, sizeof(line), "edge-1#%s", helped[_i]);
	{
		struct step steps[] = {
			{ helped[_i], NULL },
			{ "?", "?\r\n" },
			{ "", want },
			{ "", line },
			/* The '?' is not part of the line. */
			{ "\x15show clock\r", "[ran show clock]" },
			{ "\x04", NULL },
			{ NULL, NULL },
		};

		session(&t, steps, 0, "?]");
	}
	free(want);
	free(help);
}
END_TEST

/* Several words fit and share no more than what is typed: they are
 * listed, the line stays. */
UNIT_TEST(tab_lists_the_candidates)
{
	struct sbc_cmd_cand c[64];
	bool complete;
	size_t n = sbc_cmd_candidates("show l", c, 64, &complete), i;
	char want[512] = "\r\n";
	struct step steps[] = {
		{ "show l\t", want },
		{ "", "edge-1#show l" },
		{ "ogg\t", "edge-1#show logging " },
		{ "\r", "[ran show logging ]" },
		{ "\x04", NULL },
		{ NULL, NULL },
	};
	struct term t;

	ck_assert_uint_ge(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert(!c[i].is_arg);
		if (i > 0)
			strcat(want, "  ");
		strcat(want, c[i].word);
	}
	strcat(want, "\r\n");
	session(&t, steps, 0, NULL);
}
END_TEST

/* Not a terminal: no shell. */
UNIT_TEST(stdin_not_a_terminal)
{
	int status, fd;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		_exit(sbcctl_shell(99) == -1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

UNIT_TCASE("is_exit");

static const struct {
	const char *line;
	bool is_exit;
} exits[] = {
	{ "exit", true },	 { "quit", true },	  { "end", true },
	{ "EXIT", true },	 { "Quit", true },	  { "ex", true },
	{ "qu", true },		 { "  exit  ", true },	  { "exit now", false },
	{ "show version", false }, { "", false },	  { "exi t", false },
	{ "reload", false },
};

UNIT_LOOP_TEST(is_exit_words, 0, NELEM(exits))
{
	ck_assert_msg(sbcctl_is_exit(exits[_i].line) == exits[_i].is_exit,
		      "[%s]", exits[_i].line);
}
END_TEST

UNIT_MAIN("shell")
