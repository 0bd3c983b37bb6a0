/*
 * sbcctl: the operator's client of sbcd's control socket (sbc/ctl.h).
 *
 *   sbcctl [-s SOCKET] [--json] COMMAND ...   one command, then exit
 *   sbcctl [-s SOCKET]                        on a terminal: an IOS-like
 *                                             shell (shell.c); else commands
 *                                             from stdin, one per line
 *
 * Exit status: the last reply's status (0 done, 1 failed, 2 not a
 * command), 3 when sbcd cannot be reached or the reply is cut short.
 */
#include "cmdtab.h"
#include "ctl.h"
#include "shell.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EXIT_UNREACHABLE 3
#define REPLY_TIMEOUT_MS 60000

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: sbcctl [-s SOCKET] [--json] [COMMAND ...]\n"
		     "  -s SOCKET   sbcd's control socket (default: "
		     "./sbcd.sock)\n"
		     "  --json      JSON output (show commands)\n"
		     "commands:\n");
	for (i = 0; i < sbc_n_cmds; i++)
		if (!(sbc_cmds[i].flags & SBC_CMD_F_HIDDEN))
			fprintf(out, "  %-50s %s\n", sbc_cmds[i].syntax,
				sbc_cmds[i].help);
}

static int dial(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sbcctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "sbcctl: cannot reach sbcd at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One byte, waiting at most REPLY_TIMEOUT_MS: 1, 0 at EOF, -1. */
static int read_byte(int fd, char *c)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t r;

	if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
		return -1;
	do
		r = read(fd, c, 1);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 1 : (r == 0 ? 0 : -1);
}

static int read_full(int fd, char *buf, size_t n)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
			return -1;
		r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Send one request, print its reply; the reply's status or -1. */
int sbcctl_request(int fd, const char *line, FILE *out)
{
	char head[64], *body;
	size_t n = 0;
	int status, c;
	size_t len;

	if (strlen(line) > SBC_CTL_REQUEST_MAX) {
		fprintf(stderr, "%% Line too long.\n");
		return SBC_CTL_USAGE;
	}
	if (write_all(fd, line, strlen(line)) != 0 ||
	    write_all(fd, "\n", 1) != 0)
		return -1;
	for (;;) {
		if (n + 1 >= sizeof(head) || read_byte(fd, &head[n]) != 1)
			return -1;
		if (head[n++] == '\n')
			break;
	}
	head[n] = '\0';
	if (sscanf(head, "SBC %d %zu\n", &status, &len) != 2 ||
	    len > SBC_CTL_REPLY_MAX)
		return -1;
	body = malloc(len + 1);
	if (body == NULL || read_full(fd, body, len) != 0) {
		free(body);
		return -1;
	}
	if (out == NULL)
		out = status == 0 ? stdout : stderr;
	c = fwrite(body, 1, len, out) == len;
	free(body);
	fflush(out);
	return c ? status : -1;
}

static int one_shot(int fd, int argc, char **argv, bool json)
{
	char line[SBC_CTL_REQUEST_MAX + 2];
	size_t off = 0;
	int i, n, status;

	line[0] = '\0';
	for (i = 0; i < argc; i++) {
		n = snprintf(line + off, sizeof(line) - off, "%s%s",
			     i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(stderr, "%% Line too long.\n");
			return SBC_CTL_USAGE;
		}
		off += (size_t)n;
	}
	if (json && snprintf(line + off, sizeof(line) - off, " --json") >=
			    (int)(sizeof(line) - off)) {
		fprintf(stderr, "%% Line too long.\n");
		return SBC_CTL_USAGE;
	}
	status = sbcctl_request(fd, line, NULL);
	if (status < 0) {
		fprintf(stderr, "sbcctl: no complete reply from sbcd\n");
		return EXIT_UNREACHABLE;
	}
	return status;
}

/* Commands from stdin, one per line (scripts, pipes). */
static int lines(int fd)
{
	char line[SBC_CTL_REQUEST_MAX + 2];
	int status = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (n == 0)
			continue;
		if (strcmp(line, "exit") == 0 || strcmp(line, "quit") == 0)
			break;
		status = sbcctl_request(fd, line, NULL);
		if (status < 0) {
			fprintf(stderr, "sbcctl: no complete reply from sbcd\n");
			return EXIT_UNREACHABLE;
		}
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "sbcd.sock";
	bool json = false;
	int c, fd, rc;

	/* "+": stop at the first command word, so `sbcctl show ...` never
	 * has its words taken for options. */
	while ((c = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	fd = dial(path);
	if (fd < 0)
		return EXIT_UNREACHABLE;
	if (optind < argc)
		rc = one_shot(fd, argc - optind, argv + optind, json);
	else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		rc = sbcctl_shell(fd) < 0 ? EXIT_UNREACHABLE : 0;
	else
		rc = lines(fd);
	close(fd);
	return rc;
}
