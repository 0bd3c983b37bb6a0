/*
 * Fuzz target: control-socket requests as sbcd sees them (sbc/ctl.h).
 *
 * Input: the bytes a client sends on one connection, e.g.
 * "show license status\nDATA 3\nabclicense smart import f\n". They go
 * through the framer (sbc/ctlproto.h) twice: all at once, and in pieces of
 * 1 to 97 bytes as a socket may deliver them. Both must give the requests,
 * and the verdict on the connection, that the protocol of ctl.h gives
 * (spec_frame() below). Every request line then goes through what
 * sbcd_command() does before it dispatches (the command matcher,
 * sbc/cmdtab.h, and the argument parsers of its handlers) and through
 * sbcctl's completion (sbc_cmd_candidates).
 *
 * Checks on a matched command: its arguments are the words in angle
 * brackets of its entry, each a token of the line; JSON only where the
 * entry offers it; and the line rebuilt from the entry's keywords and the
 * arguments matches the same entry again. A refused line gets its whole
 * IOS message in a buffer of the size sbcd gives it.
 */
#include "sbc/cmdtab.h"
#include "sbc/ctl.h"
#include "sbc/ctlproto.h"

#include "fuzz.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <stdbool.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a run of the framer gave: its requests, and how it ended. */
struct transcript {
	struct evbuffer *text;
	bool bad;
};

static size_t syntax_args(const char *syntax)
{
	size_t n = 0;

	for (; *syntax; syntax++)
		n += *syntax == '<';
	return n;
}

/* "show call active voice brief" with args for the <...> words. */
static void rebuild(const struct sbc_cmd_req *r, char *out, size_t outlen)
{
	const char *p = r->cmd->syntax;
	size_t used = 0, arg = 0, n;

	out[0] = '\0';
	while (*p) {
		const char *e = strchr(p, ' ');

		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (*p == '<')
			used += (size_t)snprintf(out + used, outlen - used,
						 "%s%s", used ? " " : "",
						 r->argv[arg++]);
		else
			used += (size_t)snprintf(out + used, outlen - used,
						 "%s%.*s", used ? " " : "",
						 (int)n, p);
		FUZZ_CHECK(used < outlen, "rebuilt line too long");
		p = e != NULL ? e + 1 : p + n;
	}
	if (r->json)
		snprintf(out + used, outlen - used, " --json");
}

static void check_match(const char *line, const struct sbc_cmd_req *r)
{
	static struct sbc_cmd_req again;
	static char rebuilt[SBC_CMD_LINE_MAX * 2 + 64];
	char err[SBC_CMD_LINE_MAX + 256];
	size_t i;

	FUZZ_CHECK(r->cmd >= sbc_cmds && r->cmd < sbc_cmds + sbc_n_cmds,
		   "entry outside the table");
	FUZZ_CHECK(r->argc == syntax_args(r->cmd->syntax),
		   "'%s': %zu arguments for '%s'", line, r->argc,
		   r->cmd->syntax);
	FUZZ_CHECK(!r->json || (r->cmd->flags & SBC_CMD_F_JSON),
		   "'%s': JSON for '%s'", line, r->cmd->syntax);
	for (i = 0; i < r->argc; i++) {
		const char *a = r->argv[i];

		FUZZ_CHECK(a >= r->buf && a < r->buf + sizeof(r->buf) &&
				   a[0] != '\0',
			   "'%s': argument %zu not a token of the line", line,
			   i);
		for (; *a; a++)
			FUZZ_CHECK(!isspace((unsigned char)*a),
				   "'%s': space in argument %zu", line, i);
	}
	rebuild(r, rebuilt, sizeof(rebuilt));
	if (strlen(rebuilt) > SBC_CMD_LINE_MAX)
		return;
	FUZZ_CHECK(sbc_cmd_parse(rebuilt, &again, err, sizeof(err)) == 0,
		   "'%s' matches '%s', its full form '%s' does not: %s", line,
		   r->cmd->syntax, rebuilt, err);
	FUZZ_CHECK(again.cmd->id == r->cmd->id && again.json == r->json &&
			   again.argc == r->argc,
		   "'%s' and its full form '%s' differ", line, rebuilt);
	for (i = 0; i < r->argc; i++)
		FUZZ_CHECK(strcmp(again.argv[i], r->argv[i]) == 0,
			   "'%s': argument %zu differs in '%s'", line, i,
			   rebuilt);
}

/* The argument parsers of the handlers in sbcd_cmds.c. */
static void handler_args(const struct sbc_cmd_req *r)
{
	long long secs;

	if (r->cmd->id == SBC_CMD_TEST_CLOCK) {
		secs = sbc_cmd_duration_s(r->argv[0]);
		FUZZ_CHECK(secs == -1 || (secs > 0 && secs <= 36500LL * 86400),
			   "duration '%s' gives %lld s", r->argv[0], secs);
	} else if (r->cmd->id == SBC_CMD_CLEAR_CALL) {
		(void)strtoull(r->argv[0], NULL, 16);
	}
}

static void completion(const char *line)
{
	struct sbc_cmd_cand cand[32];
	bool complete = false;
	size_t n, i, j;

	n = sbc_cmd_candidates(line, cand, 32, &complete);
	FUZZ_CHECK(n <= 32, "%zu candidates", n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(memchr(cand[i].word, '\0', sizeof(cand[i].word)),
			   "candidate not terminated");
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cand[i].word, cand[j].word) != 0,
				   "'%s': candidate '%s' twice", line,
				   cand[i].word);
	}
}

/*
 * err (errlen bytes, the size sbcd gives it) must hold the whole IOS
 * message: the one a buffer with room for anything gets, or, when that
 * does not fit, the short form of "Invalid input".
 */
static void check_refusal(const char *line, const char *err, size_t errlen)
{
	static const char short_form[] = "% Invalid input detected at column ";
	static struct sbc_cmd_req r;
	static char roomy[4 * SBC_CMD_LINE_MAX];
	size_t n;

	FUZZ_CHECK(sbc_cmd_parse(line, &r, roomy, sizeof(roomy)) != 0,
		   "'%s' refused, then matched", line);
	n = strlen(roomy);
	FUZZ_CHECK(n + 1 < sizeof(roomy), "message over %zu bytes",
		   sizeof(roomy));
	if (n < errlen)
		FUZZ_CHECK(strcmp(err, roomy) == 0,
			   "'%.60s...' (%zu bytes): message '%s', with room "
			   "'%s'",
			   line, strlen(line), err, roomy);
	else
		FUZZ_CHECK(strncmp(err, short_form, strlen(short_form)) == 0,
			   "'%.60s...' (%zu bytes) refused with a cut message: "
			   "'...%s'",
			   line, strlen(line),
			   err + (strlen(err) > 60 ? strlen(err) - 60 : 0));
}

/*
 * What sbcd does with one request, short of running the handler. (The
 * DATA bytes are read whole by record(), as the import handler would.)
 */
static void serve(const struct sbc_ctl_request *req)
{
	static struct sbc_cmd_req r;
	char err[SBC_CMD_LINE_MAX + 256];

	err[0] = '\0';
	if (sbc_cmd_parse(req->line, &r, err, sizeof(err)) == 0) {
		check_match(req->line, &r);
		handler_args(&r);
	} else {
		check_refusal(req->line, err, sizeof(err));
	}
	completion(req->line);
}

static void record(struct transcript *t, const struct sbc_ctl_request *req)
{
	size_t n = strlen(req->line);

	evbuffer_add_printf(t->text, "L%zu:", n);
	evbuffer_add(t->text, req->line, n);
	if (req->data == NULL) {
		evbuffer_add_printf(t->text, "N;");
	} else {
		evbuffer_add_printf(t->text, "D%zu:", req->len);
		evbuffer_add(t->text, req->data, req->len);
	}
}

/* record() for spec_frame(); data is NULL when no DATA header came. */
static void record_spec(struct transcript *t, const uint8_t *line,
			size_t n, const uint8_t *data, size_t len)
{
	const uint8_t *nul = memchr(line, '\0', n);

	/* The handler gets a C string: the line up to a NUL byte. */
	if (nul != NULL)
		n = (size_t)(nul - line);
	evbuffer_add_printf(t->text, "L%zu:", n);
	evbuffer_add(t->text, line, n);
	if (data == NULL) {
		evbuffer_add_printf(t->text, "N;");
	} else {
		evbuffer_add_printf(t->text, "D%zu:", len);
		evbuffer_add(t->text, data, len);
	}
}

/*
 * The framing as ctl.h and ctlproto.h describe it, on the whole stream at
 * once: what the framer must give. A DATA header is "DATA " and decimal
 * digits, nothing else.
 */
static void spec_frame(const uint8_t *d, size_t size, struct transcript *t)
{
	const uint8_t *lf, *data = NULL;
	size_t pos = 0, n, i, want = 0, dlen = 0;
	bool has_data = false;

	t->text = evbuffer_new();
	t->bad = false;
	FUZZ_CHECK(t->text != NULL, "out of memory");
	for (;;) {
		if (want > 0) {
			if (size - pos < want)
				return; /* waits for the rest of the file */
			data = d + pos;
			dlen = want;
			pos += want;
			want = 0;
		}
		lf = memchr(d + pos, '\n', size - pos);
		if (lf == NULL) {
			t->bad = size - pos > SBC_CTL_REQUEST_MAX;
			return;
		}
		n = (size_t)(lf - (d + pos));
		if (n > SBC_CTL_REQUEST_MAX) {
			t->bad = true;
			return;
		}
		if (n > 0 && d[pos + n - 1] == '\r')
			n--;
		if (n >= 5 && memcmp(d + pos, "DATA ", 5) == 0) {
			unsigned long v = 0;

			for (i = 5; i < n && d[pos + i] >= '0' &&
				    d[pos + i] <= '9';
			     i++)
				if (v <= SBC_CTL_DATA_MAX)
					v = v * 10 + (d[pos + i] - '0');
			if (i == 5 || i < n || v > SBC_CTL_DATA_MAX ||
			    has_data) {
				t->bad = true;
				return;
			}
			has_data = true;
			want = v;
			data = (const uint8_t *)"";
			dlen = 0;
		} else {
			record_spec(t, d + pos, n, data, dlen);
			has_data = false;
			data = NULL;
			dlen = 0;
		}
		pos += (size_t)(lf - (d + pos)) + 1;
	}
}

/*
 * Feed data to a framer in pieces (piece 0: all at once) and record the
 * requests; the first run also serves them.
 */
static void run(const uint8_t *data, size_t size, size_t piece_seed,
		bool do_serve, struct transcript *t)
{
	struct sbc_ctl_framer *f = sbc_ctl_framer_new();
	struct evbuffer *in = evbuffer_new();
	struct sbc_ctl_request req;
	size_t pos = 0, piece, buffered;
	enum sbc_ctl_frame fr = SBC_CTL_FRAME_MORE;

	FUZZ_CHECK(f != NULL && in != NULL, "out of memory");
	t->text = evbuffer_new();
	t->bad = false;
	FUZZ_CHECK(t->text != NULL, "out of memory");
	while (pos < size && !t->bad) {
		piece = size - pos;
		if (piece_seed != 0) {
			piece_seed = piece_seed * 1103515245u + 12345u;
			if (piece > 1 + (piece_seed >> 8) % 97)
				piece = 1 + (piece_seed >> 8) % 97;
		}
		evbuffer_add(in, data + pos, piece);
		pos += piece;
		while ((fr = sbc_ctl_framer_next(f, in, &req)) ==
		       SBC_CTL_FRAME_REQUEST) {
			FUZZ_CHECK(req.line != NULL, "request without a line");
			FUZZ_CHECK(strlen(req.line) <= SBC_CTL_REQUEST_MAX,
				   "request line over the cap");
			FUZZ_CHECK(req.len <= SBC_CTL_DATA_MAX &&
					   (req.data != NULL || req.len == 0),
				   "DATA of %zu bytes", req.len);
			record(t, &req);
			if (do_serve)
				serve(&req);
			sbc_ctl_framer_done(f, &req);
		}
		t->bad = fr == SBC_CTL_FRAME_BAD;
		/* Waiting for more, never more than a line is kept. */
		buffered = evbuffer_get_length(in);
		FUZZ_CHECK(t->bad || buffered <= SBC_CTL_REQUEST_MAX,
			   "%zu bytes buffered", buffered);
	}
	evbuffer_free(in);
	sbc_ctl_framer_free(&f);
	FUZZ_CHECK(f == NULL, "free does not NULL the pointer");
}

static bool same(struct transcript *a, struct transcript *b)
{
	size_t n = evbuffer_get_length(a->text);

	return a->bad == b->bad && n == evbuffer_get_length(b->text) &&
	       (n == 0 || memcmp(evbuffer_pullup(a->text, -1),
				 evbuffer_pullup(b->text, -1), n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transcript whole, pieces, spec;

	run(data, size, 0, true, &whole);
	run(data, size, size | 1, false, &pieces);
	spec_frame(data, size, &spec);
	FUZZ_CHECK(same(&whole, &spec), "the framer, reading at once, is not "
					"the protocol (%s, %s)",
		   whole.bad ? "dropped" : "kept",
		   spec.bad ? "drop" : "keep");
	FUZZ_CHECK(same(&whole, &pieces), "the framer reads otherwise in "
					  "pieces (%s, %s)",
		   whole.bad ? "dropped" : "kept",
		   pieces.bad ? "dropped" : "kept");
	evbuffer_free(whole.text);
	evbuffer_free(pieces.text);
	evbuffer_free(spec.text);
	return 0;
}
