/*
 * sbc_ctl: sbcd's control socket (docs/cli.md), the only way in for
 * sbcctl.
 *
 * A UNIX stream socket (mode 0660) served on sbcd's main event loop. Each
 * client sends requests and gets replies on the same connection, one at a
 * time:
 *
 *   request  one line of at most SBC_CTL_REQUEST_MAX bytes, ending in '\n':
 *            the command words as typed ("show license status --json"),
 *            optionally preceded by "DATA <n>\n" and n bytes (at most
 *            SBC_CTL_DATA_MAX) that go with it: the contents of a file the
 *            client read (`license smart import`)
 *   reply    "SBC <status> <length>\n" then <length> bytes of text;
 *            status 0 = done, 1 = the command failed (the text says why),
 *            2 = not a command (the text says what was expected)
 *
 * Why this shape: a length-prefixed reply lets the interactive shell keep
 * one connection, and lets every client check that a reply is complete.
 * Files travel in the messages, never as paths: sbcd must not open or
 * replace files on behalf of a client with its own rights, so sbcctl
 * reads the files it imports and writes the files it saves.
 *
 * Guards, so that no client can hurt call handling: peer credentials are
 * checked (root, sbcd's own user, or a member of the socket's group);
 * at most SBC_CTL_CLIENTS_MAX clients at once; a request line over the cap
 * closes the connection; a reply over SBC_CTL_REPLY_MAX is replaced by an
 * error; a client that does not read its replies (more than
 * SBC_CTL_OUTPUT_MAX waiting) or stays silent for SBC_CTL_IDLE_S seconds is
 * dropped. Handlers run on the main thread and must not block.
 */
#ifndef SBC_CTL_H
#define SBC_CTL_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct sbc_ctl;

#define SBC_CTL_REQUEST_MAX 4096u
#define SBC_CTL_DATA_MAX (512u * 1024u)
#define SBC_CTL_REPLY_MAX (4u * 1024u * 1024u)
#define SBC_CTL_OUTPUT_MAX (8u * 1024u * 1024u)
#define SBC_CTL_CLIENTS_MAX 64u
#define SBC_CTL_IDLE_S 3600
/* Reply statuses. */
#define SBC_CTL_OK 0
#define SBC_CTL_FAILED 1
#define SBC_CTL_USAGE 2
/* Returned by a handler that took sbc_ctl_defer(): no reply yet. */
#define SBC_CTL_DEFERRED 3

/*
 * A request: `line` is the request without its '\n' (NUL-terminated);
 * data/len the bytes sent with it (NULL, 0 when none). The handler
 * appends the reply to `out` and returns a status.
 */
typedef int sbc_ctl_fn(void *arg, const char *line, const void *data,
		       size_t len, struct evbuffer *out);

/*
 * Listen on `path` (an old socket file there is replaced; any other file
 * is not). NULL with a reason when the path is too long or the socket
 * cannot be made.
 */
struct sbc_ctl *sbc_ctl_new(struct event_base *base, const char *path,
			    sbc_ctl_fn *fn, void *arg, char *err,
			    size_t errlen);

/* Close every client and the socket, unlink it; NULL-safe, NULLs *cp. */
void sbc_ctl_free(struct sbc_ctl **cp);

/*
 * A reply that comes later (a command that waits for the network, like
 * `license smart trust`, which waits for the server's answer). Called from
 * a handler, sbc_ctl_defer() gives a handle on the request being handled;
 * the handler returns SBC_CTL_DEFERRED and later sends the reply with
 * sbc_ctl_answer(). The client's next requests wait in its input until
 * then (one request at a time), and the main loop goes on serving the
 * others. NULL outside a handler, or when out of memory: then answer at
 * once.
 */
struct sbc_ctl_pending;
struct sbc_ctl_pending *sbc_ctl_defer(struct sbc_ctl *c);

/*
 * The reply of a deferred request: status and text as a handler's. Frees
 * the handle and NULLs *pp; NULL-safe. When the client has gone (or the
 * socket was freed) it only frees the handle, so the owner of a handle
 * must always call it, also at shutdown.
 */
void sbc_ctl_answer(struct sbc_ctl_pending **pp, int status, const char *text);

/* Clients connected now. */
unsigned sbc_ctl_clients(const struct sbc_ctl *c);

#endif
