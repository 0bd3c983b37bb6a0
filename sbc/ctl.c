/*
 * sbc_ctl: the control socket (sbc/ctl.h).
 */
#include "sbc/ctl.h"
#include "sbc/ctlproto.h"

#include "common/err.h"
#include "common/log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct client {
	struct sbc_ctl *ctl;
	struct bufferevent *bev;
	LIST_ENTRY(client) link; /* ctl->clients */
	struct sbc_ctl_framer *framer; /* requests out of the input */
	struct sbc_ctl_pending *pending; /* a deferred request; NULL none */
	bool closing; /* EOF seen: free once the output drained */
};

struct sbc_ctl_pending {
	struct client *cl; /* NULL once the client is gone */
};

struct sbc_ctl {
	struct event_base *base;
	struct evconnlistener *lst;
	sbc_ctl_fn *fn;
	void *arg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	LIST_HEAD(, client) clients;
	struct client *current; /* whose request the handler is running */
	unsigned n_clients;
	uid_t uid;
	gid_t gid;
};

static void client_free(struct client *cl)
{
	LIST_REMOVE(cl, link);
	cl->ctl->n_clients--;
	if (cl->pending != NULL)
		cl->pending->cl = NULL;
	bufferevent_free(cl->bev);
	sbc_ctl_framer_free(&cl->framer);
	free(cl);
}

/* Is the user `uid` (primary group `gid`) a member of group `want`?
 * Supplementary groups count, as they do for the socket file's mode.
 * (getgrouplist reads the group database: local files on a router.) */
static bool in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *res = NULL;
	gid_t groups[64];
	int n = (int)(sizeof(groups) / sizeof(groups[0])), i;
	char buf[4096];

	if (gid == want)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, gid, groups, &n) < 0)
		return false; /* more than 64 groups: not worth the risk */
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

/* Who may talk to sbcd: the kernel's word on the peer, not the file mode
 * alone (the mode can be changed by mistake): root, sbcd's own user, or a
 * member of the socket file's group. */
static bool peer_allowed(const struct sbc_ctl *c, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	return cr.uid == 0 || cr.uid == c->uid ||
	       in_group(cr.uid, cr.gid, c->gid);
}

static void reply(struct client *cl, int status, struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);
	size_t len = evbuffer_get_length(body);

	if (len > SBC_CTL_REPLY_MAX) {
		evbuffer_drain(body, len);
		evbuffer_add_printf(body,
				    "%% reply of %zu bytes is over the cap of "
				    "%u\n",
				    len, SBC_CTL_REPLY_MAX);
		status = SBC_CTL_FAILED;
		len = evbuffer_get_length(body);
	}
	evbuffer_add_printf(out, "SBC %d %zu\n", status, len);
	evbuffer_add_buffer(out, body);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct sbc_ctl_request req;
	struct evbuffer *body;
	int status;

	if (cl->pending != NULL)
		return; /* the next request waits for the deferred reply */
	switch (sbc_ctl_framer_next(cl->framer, in, &req)) {
	case SBC_CTL_FRAME_MORE:
		return;
	case SBC_CTL_FRAME_BAD:
		goto out_close;
	case SBC_CTL_FRAME_REQUEST:
		break;
	}
	body = evbuffer_new();
	if (body == NULL) {
		sbc_ctl_framer_done(cl->framer, &req);
		goto out_close;
	}
	cl->ctl->current = cl;
	status = cl->ctl->fn(cl->ctl->arg, req.line, req.data, req.len, body);
	cl->ctl->current = NULL;
	sbc_ctl_framer_done(cl->framer, &req);
	if (status == SBC_CTL_DEFERRED && cl->pending != NULL) {
		evbuffer_free(body);
		return;
	}
	if (status == SBC_CTL_DEFERRED)
		status = SBC_CTL_FAILED; /* deferred without a handle */
	reply(cl, status, body);
	evbuffer_free(body);
	if (evbuffer_get_length(bufferevent_get_output(bev)) >
	    SBC_CTL_OUTPUT_MAX)
		goto out_close; /* not reading its replies */
	/* One request per turn of the loop: a client that queues many
	 * cannot keep the sampler and the others waiting. */
	if (evbuffer_get_length(in) > 0)
		bufferevent_trigger(bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS |
					    BEV_TRIG_DEFER_CALLBACKS);
	return;

out_close:
	client_free(cl);
}

/* A client that said all it had (EOF) gets its replies before it goes. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;

	if (cl->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(cl);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (evbuffer_get_length(bufferevent_get_output(bev)) > 0 ||
	     cl->pending != NULL)) {
		cl->closing = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_free(cl);
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sbc_ctl *c = arg;
	struct timeval idle = {.tv_sec = SBC_CTL_IDLE_S, .tv_usec = 0};
	struct client *cl;

	(void)lst;
	(void)sa;
	(void)salen;
	if (!peer_allowed(c, fd)) {
		log_msg(LOG_LVL_WARNING, "SBC", "CTL_DENIED",
			"control socket client refused: credentials");
		evutil_closesocket(fd);
		return;
	}
	if (c->n_clients >= SBC_CTL_CLIENTS_MAX) {
		static const char msg[] = "% too many clients, later\n";
		char busy[64];
		int blen = snprintf(busy, sizeof(busy), "SBC 1 %zu\n%s",
				    sizeof(msg) - 1, msg);

		/* Best effort: the socket is fresh, the write fits. */
		if (blen > 0 && write(fd, busy, (size_t)blen) < 0) {
			/* nothing more to do */
		}
		evutil_closesocket(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		evutil_closesocket(fd);
		return;
	}
	cl->ctl = c;
	cl->framer = sbc_ctl_framer_new();
	if (cl->framer != NULL)
		cl->bev = bufferevent_socket_new(c->base, fd,
						 BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		evutil_closesocket(fd);
		sbc_ctl_framer_free(&cl->framer);
		free(cl);
		return;
	}
	LIST_INSERT_HEAD(&c->clients, cl, link);
	c->n_clients++;
	/* A request larger than the cap is refused before it is buffered
	 * whole: libevent stops reading at the high-water mark. */
	bufferevent_setwatermark(cl->bev, EV_READ, 0,
				 SBC_CTL_REQUEST_MAX * 2u);
	/* (DATA is moved out of the input as it arrives, so the mark holds
	 * for it too.) */
	bufferevent_setcb(cl->bev, on_read, on_write, on_event, cl);
	bufferevent_set_timeouts(cl->bev, &idle, &idle);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

struct sbc_ctl *sbc_ctl_new(struct event_base *base, const char *path,
			    sbc_ctl_fn *fn, void *arg, char *err,
			    size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sbc_ctl *c;
	struct stat st;
	mode_t old;
	int fd;

	if (base == NULL || path == NULL || fn == NULL) {
		err_set(err, errlen, "bad arguments");
		return NULL;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		err_set(err, errlen, "control socket path too long: %s", path);
		return NULL;
	}
	/* Replace a socket left by a killed sbcd, never any other file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			err_set(err, errlen, "%s exists and is not a socket",
				path);
			return NULL;
		}
		unlink(path);
	}
	c = err_calloc(1, sizeof(*c), err, errlen);
	if (c == NULL)
		return NULL;
	c->base = base;
	c->fn = fn;
	c->arg = arg;
	c->uid = geteuid();
	c->gid = getegid();
	memcpy(c->path, path, strlen(path) + 1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out_errno;
	/* The file is created 0660 from the start: no window in which
	 * others could connect. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		close(fd);
		goto out_errno;
	}
	umask(old);
	if (chmod(path, 0660) != 0 || stat(path, &st) != 0 ||
	    listen(fd, 64) != 0) {
		close(fd);
		unlink(path);
		goto out_errno;
	}
	/* The file's group (a setgid state directory may give it one other
	 * than sbcd's) is the group that may connect. */
	c->gid = st.st_gid;
	c->lst = evconnlistener_new(base, on_accept, c, LEV_OPT_CLOSE_ON_FREE,
				    -1, fd);
	if (c->lst == NULL) {
		close(fd);
		unlink(path);
		err_set(err, errlen, "cannot watch the control socket");
		free(c);
		return NULL;
	}
	return c;

out_errno:
	err_set(err, errlen, "control socket %s: %s", path, strerror(errno));
	free(c);
	return NULL;
}

void sbc_ctl_free(struct sbc_ctl **cp)
{
	struct sbc_ctl *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	*cp = NULL;
	while (!LIST_EMPTY(&c->clients))
		client_free(LIST_FIRST(&c->clients));
	evconnlistener_free(c->lst);
	unlink(c->path);
	free(c);
}

struct sbc_ctl_pending *sbc_ctl_defer(struct sbc_ctl *c)
{
	struct sbc_ctl_pending *p;

	if (c == NULL || c->current == NULL || c->current->pending != NULL)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->cl = c->current;
	c->current->pending = p;
	return p;
}

void sbc_ctl_answer(struct sbc_ctl_pending **pp, int status, const char *text)
{
	struct sbc_ctl_pending *p;
	struct client *cl;
	struct evbuffer *body;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	cl = p->cl;
	free(p);
	if (cl == NULL)
		return;
	cl->pending = NULL;
	body = evbuffer_new();
	if (body == NULL) {
		client_free(cl);
		return;
	}
	evbuffer_add(body, text, strlen(text));
	reply(cl, status, body);
	evbuffer_free(body);
	/* Requests that came meanwhile. */
	if (evbuffer_get_length(bufferevent_get_input(cl->bev)) > 0)
		bufferevent_trigger(cl->bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS |
					    BEV_TRIG_DEFER_CALLBACKS);
}

unsigned sbc_ctl_clients(const struct sbc_ctl *c)
{
	return c != NULL ? c->n_clients : 0;
}
