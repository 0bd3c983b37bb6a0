/*
 * sbc_ctl_framer: the control socket's request framing (sbc/ctlproto.h).
 */
#include "sbc/ctlproto.h"

#include "sbc/ctl.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sbc_ctl_framer {
	size_t want;	       /* DATA bytes still to come */
	struct evbuffer *data; /* DATA received for the next request */
};

struct sbc_ctl_framer *sbc_ctl_framer_new(void)
{
	return calloc(1, sizeof(struct sbc_ctl_framer));
}

void sbc_ctl_framer_free(struct sbc_ctl_framer **fp)
{
	if (fp == NULL || *fp == NULL)
		return;
	if ((*fp)->data != NULL)
		evbuffer_free((*fp)->data);
	free(*fp);
	*fp = NULL;
}

/*
 * "DATA <n>" (len bytes): n bytes for the next request follow. 1 when the
 * line is not a DATA header, 0 when it is one, -1 when it is a bad one. n
 * is decimal digits and nothing else: strtoul() would also take a sign,
 * spaces, and stop at a NUL byte ("DATA 2\0x").
 */
static int start_data(struct sbc_ctl_framer *f, const char *line, size_t len)
{
	unsigned long n = 0;
	size_t i;

	if (len < 5 || memcmp(line, "DATA ", 5) != 0)
		return 1;
	for (i = 5; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		if (n <= SBC_CTL_DATA_MAX)
			n = n * 10 + (unsigned long)(line[i] - '0');
	if (i == 5 || i < len || n > SBC_CTL_DATA_MAX || f->data != NULL)
		return -1;
	f->data = evbuffer_new();
	if (f->data == NULL)
		return -1;
	f->want = n;
	return 0;
}

enum sbc_ctl_frame sbc_ctl_framer_next(struct sbc_ctl_framer *f,
				       struct evbuffer *in,
				       struct sbc_ctl_request *req)
{
	size_t n;
	char *line;
	int d;

	memset(req, 0, sizeof(*req));
	for (;;) {
		if (f->want > 0) {
			n = evbuffer_get_length(in);
			if (n > f->want)
				n = f->want;
			if (evbuffer_remove_buffer(in, f->data, n) != (int)n)
				return SBC_CTL_FRAME_BAD;
			f->want -= n;
			if (f->want > 0)
				return SBC_CTL_FRAME_MORE;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (line == NULL)
			break;
		if (n > SBC_CTL_REQUEST_MAX) {
			free(line);
			return SBC_CTL_FRAME_BAD;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		d = start_data(f, line, n);
		if (d <= 0) {
			free(line);
			if (d < 0)
				return SBC_CTL_FRAME_BAD;
			continue;
		}
		req->line = line;
		if (f->data != NULL) {
			/* A DATA header, even of 0 bytes, means a file came. */
			req->len = evbuffer_get_length(f->data);
			req->data = req->len > 0 ? evbuffer_pullup(f->data, -1)
						 : (const void *)"";
		}
		return SBC_CTL_FRAME_REQUEST;
	}
	/* No whole line: a client may not make us buffer more. */
	return evbuffer_get_length(in) > SBC_CTL_REQUEST_MAX
		       ? SBC_CTL_FRAME_BAD
		       : SBC_CTL_FRAME_MORE;
}

void sbc_ctl_framer_done(struct sbc_ctl_framer *f,
			 struct sbc_ctl_request *req)
{
	free(req->line);
	if (f->data != NULL) {
		evbuffer_free(f->data);
		f->data = NULL;
	}
	memset(req, 0, sizeof(*req));
}
