/*
 * sbc_ctl_framer: the request framing of the control socket (ctl.h), apart
 * from the socket, so that it can be tested and fuzzed alone
 * (tests/fuzz/fuzz_ctl.c).
 *
 * The bytes a client sends collect in an evbuffer; the framer takes whole
 * requests out of it, one at a time:
 *
 *   "DATA <n>\n" and n bytes   optional: a file that goes with the next
 *                              request (n at most SBC_CTL_DATA_MAX)
 *   <line>"\n"                 the request: at most SBC_CTL_REQUEST_MAX
 *                              bytes before the '\n', a "\r\n" end counts
 *                              as '\n'
 *
 * A client breaks the protocol, and is to be dropped, by a request line
 * over the cap, more than SBC_CTL_REQUEST_MAX bytes buffered without a
 * whole line, or a DATA header that is malformed (anything but decimal
 * digits after "DATA "), over SBC_CTL_DATA_MAX, or a second one before its
 * request. DATA bytes are moved out of the
 * input as they arrive, so the input never holds more than a line.
 */
#ifndef SBC_CTLPROTO_H
#define SBC_CTLPROTO_H

#include <stddef.h>

struct evbuffer;
struct sbc_ctl_framer;

/* One request taken out of the stream. */
struct sbc_ctl_request {
	char *line;	  /* NUL-terminated, without its end of line */
	const void *data; /* the DATA bytes; NULL when no DATA header came
			   * (a DATA header of 0 bytes gives "", len 0) */
	size_t len;
};

enum sbc_ctl_frame {
	SBC_CTL_FRAME_MORE,    /* no whole request yet: wait for bytes */
	SBC_CTL_FRAME_REQUEST, /* *req holds one; sbc_ctl_framer_done after */
	SBC_CTL_FRAME_BAD,     /* the client broke the protocol: drop it */
};

/* A framer for a new connection; NULL when out of memory. */
struct sbc_ctl_framer *sbc_ctl_framer_new(void);

/* NULL-safe; NULLs *fp. */
void sbc_ctl_framer_free(struct sbc_ctl_framer **fp);

/*
 * Take DATA bytes, DATA headers and at most one request line out of `in`.
 * On SBC_CTL_FRAME_REQUEST, req->line and req->data belong to the framer
 * and stay valid until sbc_ctl_framer_done(); call it before the next
 * sbc_ctl_framer_next(). After SBC_CTL_FRAME_BAD the framer is of no
 * further use.
 */
enum sbc_ctl_frame sbc_ctl_framer_next(struct sbc_ctl_framer *f,
				       struct evbuffer *in,
				       struct sbc_ctl_request *req);

/* Release the request from sbc_ctl_framer_next; clears *req. */
void sbc_ctl_framer_done(struct sbc_ctl_framer *f,
			 struct sbc_ctl_request *req);

#endif
