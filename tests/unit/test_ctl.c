/*
 * sbcd's control socket (sbc/ctl.h) on a UNIX socket in /tmp: requests
 * and their replies, DATA, the caps, deferred replies, the socket file.
 * The server and the client share this thread: the client's socket is
 * non-blocking and the event loop turns while the test waits for bytes.
 */
#include "sbc/ctl.h"

#include "common/clk.h"

#include "tmpfile.h"
#include "unit.h"

#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 5000

/* What the handler saw, and what it is to answer. */
struct seen {
	int calls;
	char line[SBC_CTL_REQUEST_MAX + 1];
	char data[64];
	size_t len;
	int had_data;
	int status;			  /* to return */
	size_t reply_bytes;		  /* > 0: a reply of that many 'x' */
	int defer;			  /* take sbc_ctl_defer() */
	struct sbc_ctl_pending *pending;  /* what it gave */
};

static struct {
	struct event_base *base;
	struct sbc_ctl *ctl;
	char path[80];
	struct seen seen;
} fx;

static int handler(void *arg, const char *line, const void *data, size_t len,
		   struct evbuffer *out)
{
	struct seen *s = arg;

	s->calls++;
	snprintf(s->line, sizeof(s->line), "%s", line);
	s->had_data = data != NULL;
	s->len = len;
	if (data != NULL)
		snprintf(s->data, sizeof(s->data), "%.*s", (int)len,
			 (const char *)data);
	if (s->defer) {
		s->pending = sbc_ctl_defer(fx.ctl);
		ck_assert_ptr_nonnull(s->pending);
		/* One handle per request. */
		ck_assert_ptr_null(sbc_ctl_defer(fx.ctl));
		return SBC_CTL_DEFERRED;
	}
	if (s->reply_bytes > 0) {
		char *big = malloc(s->reply_bytes);

		ck_assert_ptr_nonnull(big);
		memset(big, 'x', s->reply_bytes);
		evbuffer_add(out, big, s->reply_bytes);
		free(big);
		return s->status;
	}
	evbuffer_add_printf(out, "ran: %s\n", line);
	return s->status;
}

static void setup(void)
{
	char err[256] = "";

	/* As sbcd: a client that went away is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&fx, 0, sizeof(fx));
	tmp_path(fx.path, sizeof(fx.path), "test_ctl", ".sock");
	unlink(fx.path);
	fx.base = event_base_new();
	ck_assert_ptr_nonnull(fx.base);
	fx.ctl = sbc_ctl_new(fx.base, fx.path, handler, &fx.seen, err,
			     sizeof(err));
	ck_assert_msg(fx.ctl != NULL, "%s", err);
}

static void teardown(void)
{
	sbc_ctl_free(&fx.ctl);
	event_base_free(fx.base);
	unlink(fx.path);
}

static int client(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fx.path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* Turn the loop until the server accepted every client so far. */
static void wait_clients(unsigned n)
{
	int64_t until = clk_mono_ms() + WAIT_MS;

	while (sbc_ctl_clients(fx.ctl) != n) {
		ck_assert_msg(clk_mono_ms() < until, "%u clients, want %u",
			      sbc_ctl_clients(fx.ctl), n);
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Turn the loop until the handler ran n times in all. */
static void wait_calls(int n)
{
	int64_t until = clk_mono_ms() + WAIT_MS;

	while (fx.seen.calls < n) {
		ck_assert_msg(clk_mono_ms() < until, "%d calls, want %d",
			      fx.seen.calls, n);
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_int_eq(fx.seen.calls, n);
}

/* The count stays n while the loop turns a while. */
static void expect_clients(unsigned n)
{
	int i;

	for (i = 0; i < 50; i++) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(1000);
		ck_assert_uint_eq(sbc_ctl_clients(fx.ctl), n);
	}
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EAGAIN) {
			event_base_loop(fx.base, EVLOOP_NONBLOCK);
			continue;
		}
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

static void send_text(int fd, const char *text)
{
	send_all(fd, text, strlen(text));
}

/*
 * Read `want` bytes (or until EOF when want is 0) while the loop turns;
 * the bytes read into buf (NUL-terminated, cut at cap - 1), their count
 * returned. *eof tells whether the server closed.
 */
static size_t receive(int fd, char *buf, size_t cap, size_t want, int *eof)
{
	int64_t until = clk_mono_ms() + WAIT_MS;
	size_t got = 0;
	char tmp[65536];

	*eof = 0;
	while (want == 0 || got < want) {
		size_t room = want == 0 || want - got > sizeof(tmp)
				      ? sizeof(tmp)
				      : want - got;
		ssize_t n = read(fd, tmp, room);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			*eof = 1;
			break;
		}
		if (n > 0) {
			if (got < cap - 1)
				memcpy(buf + got, tmp,
				       (size_t)n < cap - 1 - got
					       ? (size_t)n
					       : cap - 1 - got);
			got += (size_t)n;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		ck_assert_msg(clk_mono_ms() < until,
			      "%zu bytes within %d ms, want %zu", got,
			      WAIT_MS, want);
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	buf[got < cap - 1 ? got : cap - 1] = '\0';
	return got;
}

/* One whole reply: its status; the body into body (cut at cap - 1). */
static int reply(int fd, char *body, size_t cap, size_t *body_len)
{
	char head[64];
	size_t n = 0, len;
	int status, eof;

	/* The head byte by byte: the body must stay in the socket. */
	for (;;) {
		ck_assert_uint_lt(n, sizeof(head) - 1);
		ck_assert_uint_eq(receive(fd, head + n, 2, 1, &eof), 1);
		if (head[n++] == '\n')
			break;
	}
	head[n] = '\0';
	ck_assert_msg(sscanf(head, "SBC %d %zu\n", &status, &len) == 2,
		      "head [%s]", head);
	if (len > 0)
		ck_assert_uint_eq(receive(fd, body, cap, len, &eof), len);
	else
		body[0] = '\0';
	if (body_len != NULL)
		*body_len = len;
	return status;
}

static void expect_reply(int fd, int status, const char *text)
{
	char body[256];

	ck_assert_int_eq(reply(fd, body, sizeof(body), NULL), status);
	ck_assert_str_eq(body, text);
}

/* The server closes the connection: EOF with nothing (more) sent. */
static void expect_closed(int fd)
{
	char buf[256];
	int eof;

	ck_assert_uint_eq(receive(fd, buf, sizeof(buf), 0, &eof), 0);
	ck_assert(eof);
}

/* Nothing to read while the loop turns a while. */
static void expect_silence(int fd)
{
	char c;
	int i;

	for (i = 0; i < 50; i++) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(1000);
		ck_assert_int_eq(read(fd, &c, 1), -1);
		ck_assert_int_eq(errno, EAGAIN);
	}
}

UNIT_TCASE("ctl", .setup = setup, .teardown = teardown);

UNIT_TEST(request_gets_its_reply)
{
	int fd = client();

	send_text(fd, "show license status --json\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show license status --json\n");
	ck_assert_int_eq(fx.seen.calls, 1);
	/* The handler sees the line without its end, and no DATA. */
	ck_assert_str_eq(fx.seen.line, "show license status --json");
	ck_assert(!fx.seen.had_data);
	ck_assert_uint_eq(fx.seen.len, 0);
	close(fd);
}
END_TEST

/* The handler's status is the reply's, whatever it is. */
static const int statuses[] = { SBC_CTL_OK, SBC_CTL_FAILED, SBC_CTL_USAGE };

UNIT_LOOP_TEST(status_passed_on, 0, NELEM(statuses))
{
	char body[256];
	size_t len;
	int fd = client();

	fx.seen.status = statuses[_i];
	send_text(fd, "show x\r\n");
	ck_assert_int_eq(reply(fd, body, sizeof(body), &len), statuses[_i]);
	/* "\r\n" ends a line as '\n' does. */
	ck_assert_str_eq(fx.seen.line, "show x");
	ck_assert_uint_eq(len, strlen("ran: show x\n"));
	close(fd);
}
END_TEST

UNIT_TEST(requests_answered_in_order)
{
	int fd = client();

	/* Three at once: one reply each, one at a time, in order. */
	send_text(fd, "show one\nshow two\nshow three\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show one\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show two\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show three\n");
	close(fd);
	/* Each line was one call of the command handler. */
	ck_assert_int_eq(fx.seen.calls, 3);
}
END_TEST

UNIT_TEST(data_goes_with_the_request)
{
	char body[256];
	int fd = client();

	send_text(fd, "DATA 11\nhello\nworld");
	send_text(fd, "license smart import f\n");
	ck_assert_int_eq(reply(fd, body, sizeof(body), NULL), SBC_CTL_OK);
	ck_assert_str_eq(fx.seen.line, "license smart import f");
	ck_assert(fx.seen.had_data);
	ck_assert_uint_eq(fx.seen.len, 11);
	ck_assert_str_eq(fx.seen.data, "hello\nworld");
	/* The DATA was for that request only. */
	send_text(fd, "show next\n");
	ck_assert_int_eq(reply(fd, body, sizeof(body), NULL), SBC_CTL_OK);
	ck_assert_str_eq(fx.seen.line, "show next");
	ck_assert(!fx.seen.had_data);
	close(fd);
}
END_TEST

/* Requests that break the protocol: the connection is closed and the
 * handler never runs. */
UNIT_TEST(oversized_line_closes)
{
	size_t n = SBC_CTL_REQUEST_MAX + 1;
	char *line = malloc(n + 1);
	int fd = client();

	ck_assert_ptr_nonnull(line);
	memset(line, 'a', n);
	line[n] = '\n';
	send_all(fd, line, n + 1);
	expect_closed(fd);
	ck_assert_int_eq(fx.seen.calls, 0);
	wait_clients(0);
	free(line);
	close(fd);
}
END_TEST

UNIT_TEST(endless_line_closes)
{
	/* No '\n' at all: refused before it is buffered whole. */
	size_t n = SBC_CTL_REQUEST_MAX * 4;
	char *junk = malloc(n);
	int fd = client();

	ck_assert_ptr_nonnull(junk);
	memset(junk, 'b', n);
	send_all(fd, junk, n);
	expect_closed(fd);
	ck_assert_int_eq(fx.seen.calls, 0);
	free(junk);
	close(fd);
}
END_TEST

static const char *const bad_data[] = {
	"DATA x\nshow a\n",
	"DATA 12a\nshow a\n",
	"DATA 524289\nshow a\n", /* SBC_CTL_DATA_MAX + 1 */
	"DATA 1\nzDATA 1\nz",	 /* a second header before the request */
};

UNIT_LOOP_TEST(bad_data_closes, 0, NELEM(bad_data))
{
	int fd = client();

	ck_assert_uint_eq(SBC_CTL_DATA_MAX + 1, 524289);
	send_text(fd, bad_data[_i]);
	expect_closed(fd);
	ck_assert_int_eq(fx.seen.calls, 0);
	close(fd);
}
END_TEST

/* A line of exactly the cap is a request. */
UNIT_TEST(line_at_the_cap_accepted)
{
	size_t n = SBC_CTL_REQUEST_MAX;
	char *line = malloc(n + 2);
	static char body[SBC_CTL_REQUEST_MAX + 64];
	int fd = client();

	ck_assert_ptr_nonnull(line);
	memset(line, 'c', n);
	line[n] = '\n';
	line[n + 1] = '\0';
	send_text(fd, line);
	ck_assert_int_eq(reply(fd, body, sizeof(body), NULL), SBC_CTL_OK);
	ck_assert_uint_eq(strlen(fx.seen.line), n);
	free(line);
	close(fd);
}
END_TEST

UNIT_TEST(reply_over_the_cap_replaced)
{
	char body[256];
	int fd = client();

	fx.seen.reply_bytes = SBC_CTL_REPLY_MAX + 1;
	fx.seen.status = SBC_CTL_OK;
	send_text(fd, "show big\n");
	ck_assert_int_eq(reply(fd, body, sizeof(body), NULL), SBC_CTL_FAILED);
	ck_assert_msg(strstr(body, "over the cap") != NULL, "%s", body);
	/* The connection stays usable. */
	fx.seen.reply_bytes = 0;
	send_text(fd, "show small\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show small\n");
	close(fd);
}
END_TEST

UNIT_TEST(reply_at_the_cap_whole)
{
	static char body[64];
	size_t len;
	int fd = client();

	fx.seen.reply_bytes = SBC_CTL_REPLY_MAX;
	fx.seen.status = SBC_CTL_OK;
	send_text(fd, "show big\n");
	ck_assert_int_eq(reply(fd, body, sizeof(body), &len), SBC_CTL_OK);
	ck_assert_uint_eq(len, SBC_CTL_REPLY_MAX);
	ck_assert_uint_eq(strspn(body, "x"), sizeof(body) - 1);
	close(fd);
}
END_TEST

/* A client whose request (then `more`) the handler defers; the handler
 * has run once and holds the handle. */
static int deferred_client(const char *more)
{
	int fd = client();

	fx.seen.defer = 1;
	send_text(fd, "license smart trust idtoken t\n");
	send_text(fd, more);
	wait_calls(1);
	ck_assert_ptr_nonnull(fx.seen.pending);
	return fd;
}

UNIT_TEST(deferred_reply_holds_the_next_request)
{
	int fd = deferred_client("show after\n");

	/* Nothing comes while the reply is deferred, and the next request
	 * waits in the input. */
	expect_silence(fd);
	ck_assert_int_eq(fx.seen.calls, 1);
	fx.seen.defer = 0;
	sbc_ctl_answer(&fx.seen.pending, SBC_CTL_FAILED, "% no answer\n");
	ck_assert_ptr_null(fx.seen.pending);
	expect_reply(fd, SBC_CTL_FAILED, "% no answer\n");
	/* Then the one that waited. */
	expect_reply(fd, SBC_CTL_OK, "ran: show after\n");
	ck_assert_int_eq(fx.seen.calls, 2);
	close(fd);
}
END_TEST

UNIT_TEST(deferred_client_gone)
{
	int fd = deferred_client("");
	close(fd);
	/* Kept for its reply, then let go when the reply cannot go out. */
	expect_clients(1);
	sbc_ctl_answer(&fx.seen.pending, SBC_CTL_OK, "late\n");
	ck_assert_ptr_null(fx.seen.pending);
	wait_clients(0);
}
END_TEST

UNIT_TEST(deferred_socket_freed)
{
	int fd = deferred_client("");
	sbc_ctl_free(&fx.ctl);
	expect_closed(fd);
	/* The handle outlives the socket: answering only frees it. */
	sbc_ctl_answer(&fx.seen.pending, SBC_CTL_OK, "late\n");
	ck_assert_ptr_null(fx.seen.pending);
	close(fd);
}
END_TEST

UNIT_TEST(defer_outside_a_handler)
{
	struct sbc_ctl_pending *none = NULL;

	ck_assert_ptr_null(sbc_ctl_defer(fx.ctl));
	ck_assert_ptr_null(sbc_ctl_defer(NULL));
	sbc_ctl_answer(NULL, SBC_CTL_OK, "x");
	sbc_ctl_answer(&none, SBC_CTL_OK, "x");
}
END_TEST

/* A client that sends its request and then EOF still gets the reply. */
UNIT_TEST(reply_after_half_close)
{
	int fd = client();

	send_text(fd, "show clock\n");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	expect_reply(fd, SBC_CTL_OK, "ran: show clock\n");
	expect_closed(fd);
	wait_clients(0);
	close(fd);
}
END_TEST

UNIT_TEST(clients_counted)
{
	int a, b;

	ck_assert_uint_eq(sbc_ctl_clients(fx.ctl), 0);
	ck_assert_uint_eq(sbc_ctl_clients(NULL), 0);
	a = client();
	b = client();
	wait_clients(2);
	close(a);
	wait_clients(1);
	close(b);
	wait_clients(0);
}
END_TEST

UNIT_TEST(too_many_clients_told_so)
{
	int fds[SBC_CTL_CLIENTS_MAX], extra, status;
	char body[256];
	unsigned i;

	for (i = 0; i < SBC_CTL_CLIENTS_MAX; i++)
		fds[i] = client();
	wait_clients(SBC_CTL_CLIENTS_MAX);
	extra = client();
	status = reply(extra, body, sizeof(body), NULL);
	ck_assert_int_eq(status, SBC_CTL_FAILED);
	ck_assert_str_eq(body, "% too many clients, later\n");
	expect_closed(extra);
	ck_assert_uint_eq(sbc_ctl_clients(fx.ctl), SBC_CTL_CLIENTS_MAX);
	close(extra);
	for (i = 0; i < SBC_CTL_CLIENTS_MAX; i++)
		close(fds[i]);
	wait_clients(0);
}
END_TEST

UNIT_TEST(socket_file_mode_and_unlink)
{
	struct stat st;

	ck_assert_int_eq(lstat(fx.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	sbc_ctl_free(&fx.ctl);
	ck_assert_ptr_null(fx.ctl);
	ck_assert_int_eq(lstat(fx.path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	sbc_ctl_free(&fx.ctl);
	sbc_ctl_free(NULL);
}
END_TEST

UNIT_TEST(old_socket_replaced)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char err[256] = "";
	int fd;

	/* The socket file a killed sbcd leaves behind is taken over. */
	sbc_ctl_free(&fx.ctl);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fx.path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	fx.ctl = sbc_ctl_new(fx.base, fx.path, handler, &fx.seen, err,
			     sizeof(err));
	ck_assert_msg(fx.ctl != NULL, "%s", err);
	fd = client();
	send_text(fd, "show y\n");
	expect_reply(fd, SBC_CTL_OK, "ran: show y\n");
	close(fd);
}
END_TEST

UNIT_TEST(other_file_not_replaced)
{
	char path[80], err[256] = "";
	struct stat st;
	int fd;

	tmp_path(path, sizeof(path), "test_ctl", ".file");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_ptr_null(sbc_ctl_new(fx.base, path, handler, NULL, err,
				       sizeof(err)));
	ck_assert_msg(strstr(err, "is not a socket") != NULL, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 4);
	unlink(path);
}
END_TEST

UNIT_TEST(bad_arguments_refused)
{
	char path[200], err[256] = "";

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	ck_assert_ptr_null(sbc_ctl_new(fx.base, path, handler, NULL, err,
				       sizeof(err)));
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);
	err[0] = '\0';
	ck_assert_ptr_null(sbc_ctl_new(fx.base, fx.path, NULL, NULL, err,
				       sizeof(err)));
	ck_assert_str_eq(err, "bad arguments");
	ck_assert_ptr_null(sbc_ctl_new(NULL, fx.path, handler, NULL, err,
				       sizeof(err)));
	ck_assert_ptr_null(sbc_ctl_new(fx.base, NULL, handler, NULL, err,
				       sizeof(err)));
}
END_TEST

UNIT_MAIN("ctl")
