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
#include "common/fileio.h"
#include "sbc/cmdtab.h"
#include "sbc/ctl.h"
#include "sbc/shell.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* The file an import sends, read with the operator's rights; a
 * regular file of at most SBC_CTL_DATA_MAX bytes. */
static char *read_upload(const char *path, size_t *len, FILE *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		fprintf(err, "%% Cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)SBC_CTL_DATA_MAX) {
		fprintf(err, "%% %s: not a regular file of at most %u bytes\n",
			path, SBC_CTL_DATA_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)st.st_size) {
		/* Never send part of a file as if it were all of it. */
		fprintf(err, "%% Cannot read %s: %s\n", path,
			r < 0 ? strerror(errno) : "file changed while read");
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = got;
out:
	close(fd);
	return buf;
}

/* The usage file a save returns, written where the operator said, with
 * the operator's rights, whole or not at all (fio_write_atomic). */
static int write_download(const char *path, const char *body, size_t len,
			  FILE *out)
{
	if (fio_write_atomic(path, body, len, 0640, NULL, 0) == 0)
		return 0;
	if (errno == ENAMETOOLONG)
		fprintf(out, "%% Path too long: %s\n", path);
	else
		fprintf(out, "%% Cannot write %s: %s\n", path, strerror(errno));
	return -1;
}

/*
 * Send one request, print its reply; the reply's status or -1 when no
 * complete reply came. Files go in the messages (ctl.h): an import sends
 * the file it names, a save writes the file the reply carries.
 */
int sbcctl_request(int fd, const char *line, FILE *out)
{
	struct sbc_cmd_req *req = malloc(sizeof(*req));
	char head[64], *body = NULL, *upload = NULL;
	size_t n = 0, len, ulen = 0;
	bool save = false, parsed;
	int status = -1, c;

	if (req == NULL)
		return -1;
	if (strlen(line) > SBC_CTL_REQUEST_MAX) {
		fprintf(out != NULL ? out : stderr, "%% Line too long.\n");
		status = SBC_CTL_USAGE;
		goto out;
	}
	/* sbcd judges the line; here only which file goes where, and the
	 * output filter, which sbcctl applies to the whole reply. */
	parsed = sbc_cmd_parse(line, req, NULL, 0) == 0;
	if (parsed) {
		if (req->cmd->id == SBC_CMD_LIC_IMPORT) {
			upload = read_upload(req->argv[0], &ulen,
					     out != NULL ? out : stderr);
			if (upload == NULL) {
				status = SBC_CTL_FAILED;
				goto out;
			}
		}
		save = req->cmd->id == SBC_CMD_LIC_SAVE_USAGE;
	}
	if (upload != NULL) {
		snprintf(head, sizeof(head), "DATA %zu\n", ulen);
		if (fio_write_all(fd, head, strlen(head)) != 0 ||
		    fio_write_all(fd, upload, ulen) != 0)
			goto out;
	}
	if (fio_write_all(fd, line, strlen(line)) != 0 ||
	    fio_write_all(fd, "\n", 1) != 0)
		goto out;
	for (;;) {
		if (n + 1 >= sizeof(head) || read_byte(fd, &head[n]) != 1)
			goto out;
		if (head[n++] == '\n')
			break;
	}
	head[n] = '\0';
	if (sscanf(head, "SBC %d %zu\n", &status, &len) != 2 ||
	    len > SBC_CTL_REPLY_MAX) {
		status = -1;
		goto out;
	}
	body = malloc(len + 1);
	if (body == NULL || read_full(fd, body, len) != 0) {
		status = -1;
		goto out;
	}
	if (out == NULL)
		out = status == 0 ? stdout : stderr;
	if (save && status == 0) {
		/* The path is the last argument of every save form. */
		const char *path = req->argv[req->argc - 1];

		if (write_download(path, body, len, out) != 0)
			status = SBC_CTL_FAILED;
		else
			fprintf(out, "Usage report file written to %s (%zu "
				     "bytes)\n",
				path, len);
		fflush(out);
		goto out;
	}
	if (parsed && status == 0)
		c = sbc_cmd_filter_write(req, body, len, out) == 0;
	else
		c = fwrite(body, 1, len, out) == len;
	fflush(out);
	if (!c)
		status = -1;
out:
	free(body);
	free(upload);
	free(req);
	return status;
}

/*
 * IOS `?` at the end of a line that is not a command as it stands
 * (`show ?`, `sh?`; but `show run | include a?` is a filter): the help
 * for what comes before it, from the table, without asking sbcd. -1
 * when it is not one; else 0, or SBC_CTL_USAGE when nothing fits.
 */
static int help_request(char *line)
{
	struct sbc_cmd_req *req;
	size_t len = strlen(line);
	bool command;
	int rc;

	if (len == 0 || line[len - 1] != '?')
		return -1;
	req = malloc(sizeof(*req));
	command = req != NULL && sbc_cmd_parse(line, req, NULL, 0) == 0;
	free(req);
	if (command)
		return -1;
	line[len - 1] = '\0';
	rc = sbc_cmd_help(line, stdout) == 0 ? 0 : SBC_CTL_USAGE;
	fflush(stdout);
	return rc;
}

/* The command words as one line; -1 when over the cap. */
static int join_words(char *line, size_t size, int argc, char **argv,
		      bool json)
{
	size_t off = 0;
	int i, n;

	line[0] = '\0';
	for (i = 0; i < argc; i++) {
		n = snprintf(line + off, size - off, "%s%s", i ? " " : "",
			     argv[i]);
		if (n < 0 || (size_t)n >= size - off) {
			fprintf(stderr, "%% Line too long.\n");
			return -1;
		}
		off += (size_t)n;
	}
	if (json && snprintf(line + off, size - off, " --json") >=
			    (int)(size - off)) {
		fprintf(stderr, "%% Line too long.\n");
		return -1;
	}
	return 0;
}

static int one_shot(int fd, const char *line)
{
	int status = sbcctl_request(fd, line, NULL);

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
		int ch, help;

		if (line[n] == '\0' && !feof(stdin)) {
			/* Over the cap: the whole line is refused, and its
			 * tail is not taken for a command. */
			while ((ch = getchar()) != EOF && ch != '\n')
				;
			fprintf(stderr, "%% Line too long.\n");
			status = SBC_CTL_USAGE;
			continue;
		}
		line[n] = '\0';
		if (n == 0)
			continue;
		if (sbcctl_is_exit(line))
			break;
		if ((help = help_request(line)) >= 0) {
			status = help;
			continue;
		}
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
	char line[SBC_CTL_REQUEST_MAX + 2];
	const char *path = "sbcd.sock";
	bool json = false;
	int c, fd, rc;

	/* sbcd going away shows up as a failed write, not a dead sbcctl
	 * (the shell must restore the terminal). */
	signal(SIGPIPE, SIG_IGN);
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
	if (optind < argc) {
		if (join_words(line, sizeof(line), argc - optind,
			       argv + optind, json) != 0)
			return SBC_CTL_USAGE;
		/* Help comes from the table: no sbcd needed. */
		if (!json && (rc = help_request(line)) >= 0)
			return rc;
	}
	fd = dial(path);
	if (fd < 0)
		return EXIT_UNREACHABLE;
	if (optind < argc)
		rc = one_shot(fd, line);
	else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		rc = sbcctl_shell(fd) < 0 ? EXIT_UNREACHABLE : 0;
	else
		rc = lines(fd);
	close(fd);
	return rc;
}
