/*
 * media_ng: the rtpengine ng control client (sbc/media_ng.h,
 * docs/internals/media-ng.md).
 *
 * Pending requests sit in one list in the order they were sent; a reply
 * or a timer pass walks it. A call has a handful of requests in flight at
 * most and each lives milliseconds, so the list stays short.
 */
#include "sbc/media_ng.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEF_TIMEOUT_MS 2000
#define DEF_RETRANS_MS 500
#define DEF_DOWN_AFTER 2

struct ng_req {
	TAILQ_ENTRY(ng_req) link;
	char cookie[SBC_NG_COOKIE_MAX + 1];
	char *body;		/* the JSON text, without cookie */
	size_t body_len;
	int relay;
	bool pinned;
	uint64_t seq;		/* the counter at its (re)start */
	uint64_t tried;		/* relays this request was sent to */
	int64_t deadline_ms;
	int64_t next_ms;	/* next retransmission */
	int64_t interval_ms;
	sbc_ng_cb cb;
	void *arg;
	char reason[128];	/* on the done list: why */
};

TAILQ_HEAD(ng_reqs, ng_req);

struct ng_relay {
	int fd;
	unsigned weight;
	int current;		/* smooth weighted round-robin */
	bool up;
	unsigned consecutive;	/* timeouts since the last reply */
	bool ping_pending;
	struct sbc_ng_relay_stats st;
};

struct sbc_ng {
	struct ng_relay relays[SBC_NG_MAX_RELAYS];
	size_t n;
	struct sbc_ng_opts o;
	char prefix[9];		/* random per client: cookies of an earlier
				 * run never collide in a relay's cache */
	uint64_t counter;
	struct ng_reqs pending;
	struct ng_reqs done;	/* timed out, callback not yet run */
	char *rbuf;		/* max_reply + 1 */
	char *sbuf;		/* a datagram being sent */
};

static int random_prefix(char out[9], char *err, size_t errlen)
{
	uint8_t b[4];
	ssize_t got = getrandom(b, sizeof(b), 0);

	if (got != (ssize_t)sizeof(b)) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		got = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
		if (fd >= 0)
			close(fd);
		if (got != (ssize_t)sizeof(b)) {
			err_set(err, errlen, "no randomness for cookies: %s",
				strerror(errno));
			return -1;
		}
	}
	snprintf(out, 9, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	return 0;
}

static int relay_open(struct ng_relay *r, const struct sbc_ng_relay_conf *c,
		      size_t i, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (c->addr != NULL &&
	    inet_pton(AF_INET, c->addr,
		      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

		sa->sin_family = AF_INET;
		sa->sin_port = htons(c->port);
		sl = sizeof(*sa);
		snprintf(r->st.addr, sizeof(r->st.addr), "%s:%u", c->addr,
			 c->port);
	} else if (c->addr != NULL &&
		   inet_pton(AF_INET6, c->addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(c->port);
		sl = sizeof(*sa);
		snprintf(r->st.addr, sizeof(r->st.addr), "[%s]:%u", c->addr,
			 c->port);
	} else {
		err_set(err, errlen, "ng relay %zu: \"%s\" is not an IP address",
			i, c->addr != NULL ? c->addr : "");
		return -1;
	}
	if (c->port == 0 || c->weight > SBC_NG_MAX_WEIGHT) {
		err_set(err, errlen, "ng relay %s: port 0 or weight over %d",
			r->st.addr, SBC_NG_MAX_WEIGHT);
		return -1;
	}
	r->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (r->fd < 0) {
		err_set(err, errlen, "ng relay %s: socket: %s", r->st.addr,
			strerror(errno));
		return -1;
	}
	/* Connected: the kernel drops datagrams from anybody else. */
	if (connect(r->fd, (struct sockaddr *)&ss, sl) != 0) {
		err_set(err, errlen, "ng relay %s: connect: %s", r->st.addr,
			strerror(errno));
		close(r->fd);
		r->fd = -1;
		return -1;
	}
	r->weight = c->weight;
	r->st.weight = c->weight;
	r->up = true;
	return 0;
}

struct sbc_ng *sbc_ng_new(const struct sbc_ng_relay_conf *relays, size_t n,
			  const struct sbc_ng_opts *opts, char *err,
			  size_t errlen)
{
	struct sbc_ng *ng;
	size_t i;

	if (n == 0 || n > SBC_NG_MAX_RELAYS) {
		err_set(err, errlen, "%zu ng relays (1..%d)", n,
			SBC_NG_MAX_RELAYS);
		return NULL;
	}
	ng = err_calloc(1, sizeof(*ng), err, errlen);
	if (ng == NULL)
		return NULL;
	for (i = 0; i < SBC_NG_MAX_RELAYS; i++)
		ng->relays[i].fd = -1;
	TAILQ_INIT(&ng->pending);
	TAILQ_INIT(&ng->done);
	if (opts != NULL)
		ng->o = *opts;
	if (ng->o.timeout_ms <= 0)
		ng->o.timeout_ms = DEF_TIMEOUT_MS;
	if (ng->o.retrans_ms <= 0)
		ng->o.retrans_ms = DEF_RETRANS_MS;
	if (ng->o.down_after == 0)
		ng->o.down_after = DEF_DOWN_AFTER;
	if (ng->o.max_reply == 0 || ng->o.max_reply > SBC_NG_REPLY_MAX)
		ng->o.max_reply = SBC_NG_REPLY_MAX;
	ng->rbuf = malloc(ng->o.max_reply + 1);
	ng->sbuf = malloc(SBC_NG_REQUEST_MAX);
	if (ng->rbuf == NULL || ng->sbuf == NULL) {
		err_set(err, errlen, "out of memory");
		goto fail;
	}
	if (random_prefix(ng->prefix, err, errlen) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (relay_open(&ng->relays[i], &relays[i], i, err, errlen) != 0)
			goto fail;
		ng->n++;
	}
	return ng;
fail:
	sbc_ng_free(ng);
	return NULL;
}

static void req_free(struct ng_req *q)
{
	free(q->body);
	free(q);
}

void sbc_ng_free(struct sbc_ng *ng)
{
	struct ng_req *q;
	size_t i;

	if (ng == NULL)
		return;
	while ((q = TAILQ_FIRST(&ng->pending)) != NULL) {
		TAILQ_REMOVE(&ng->pending, q, link);
		req_free(q);
	}
	while ((q = TAILQ_FIRST(&ng->done)) != NULL) {
		TAILQ_REMOVE(&ng->done, q, link);
		req_free(q);
	}
	for (i = 0; i < ng->n; i++)
		close(ng->relays[i].fd);
	free(ng->rbuf);
	free(ng->sbuf);
	free(ng);
}

size_t sbc_ng_nfds(const struct sbc_ng *ng)
{
	return ng->n;
}

int sbc_ng_fd(const struct sbc_ng *ng, size_t i)
{
	return i < ng->n ? ng->relays[i].fd : -1;
}

/* Smooth weighted round-robin over the up relays with a weight that
 * `skip` leaves out: picks follow the weights closely and interleave. */
static int pick(struct sbc_ng *ng, uint64_t skip)
{
	int total = 0, best = -1;
	size_t i;

	for (i = 0; i < ng->n; i++) {
		struct ng_relay *r = &ng->relays[i];

		if (!r->up || r->weight == 0 || (skip & (1ull << i)))
			continue;
		r->current += (int)r->weight;
		total += (int)r->weight;
		if (best < 0 || r->current > ng->relays[best].current)
			best = (int)i;
	}
	if (best >= 0)
		ng->relays[best].current -= total;
	return best;
}

/* One datagram of q to its relay. A failed send is a lost datagram: the
 * retransmission tries again (a refused port, a full buffer). */
static void req_send(struct sbc_ng *ng, struct ng_req *q)
{
	struct ng_relay *r = &ng->relays[q->relay];
	size_t cl = strlen(q->cookie);

	memcpy(ng->sbuf, q->cookie, cl);
	ng->sbuf[cl] = ' ';
	memcpy(ng->sbuf + cl + 1, q->body, q->body_len);
	if (send(r->fd, ng->sbuf, cl + 1 + q->body_len, 0) < 0)
		r->st.send_errors++;
}

/* Start q on relay `relay` with a fresh cookie and full timeout. */
static void req_start(struct sbc_ng *ng, struct ng_req *q, int relay,
		      int64_t now_ms)
{
	q->relay = relay;
	q->tried |= 1ull << relay;
	q->seq = ++ng->counter;
	snprintf(q->cookie, sizeof(q->cookie), "%s_%" PRIx64, ng->prefix,
		 q->seq);
	q->deadline_ms = now_ms + ng->o.timeout_ms;
	q->interval_ms = ng->o.retrans_ms;
	q->next_ms = now_ms + q->interval_ms;
	ng->relays[relay].st.requests++;
	ng->relays[relay].st.pending++;
	req_send(ng, q);
}

int sbc_ng_request(struct sbc_ng *ng, int relay, json_t *cmd, sbc_ng_cb cb,
		   void *arg, int64_t now_ms, char *err, size_t errlen)
{
	struct ng_req *q;
	char *text;
	size_t len;
	bool pinned = relay >= 0;

	if (!json_is_object(cmd) ||
	    !json_is_string(json_object_get(cmd, "command"))) {
		err_set(err, errlen, "ng request without a \"command\"");
		return -1;
	}
	if (relay >= (int)ng->n || relay < -1) {
		err_set(err, errlen, "no ng relay %d", relay);
		return -1;
	}
	if (relay < 0) {
		relay = pick(ng, 0);
		if (relay < 0) {
			err_set(err, errlen, "no ng relay is up");
			return -1;
		}
	}
	text = json_dumps(cmd, JSON_COMPACT);
	if (text == NULL) {
		err_set(err, errlen, "ng request: out of memory");
		return -1;
	}
	len = strlen(text);
	if (len > SBC_NG_REQUEST_MAX - SBC_NG_COOKIE_MAX - 1) {
		err_set(err, errlen, "ng request of %zu bytes over %d", len,
			SBC_NG_REQUEST_MAX - SBC_NG_COOKIE_MAX - 1);
		free(text);
		return -1;
	}
	q = err_calloc(1, sizeof(*q), err, errlen);
	if (q == NULL) {
		free(text);
		return -1;
	}
	q->body = text;
	q->body_len = len;
	q->pinned = pinned;
	q->cb = cb;
	q->arg = arg;
	TAILQ_INSERT_TAIL(&ng->pending, q, link);
	req_start(ng, q, relay, now_ms);
	return relay;
}

static void relay_reply(struct ng_relay *r)
{
	r->up = true;
	r->consecutive = 0;
	r->st.replies++;
}

static void complete(struct sbc_ng *ng, struct ng_req *q, json_t *reply)
{
	const char *result = json_string_value(json_object_get(reply, "result"));
	const char *reason = NULL;

	TAILQ_REMOVE(&ng->pending, q, link);
	ng->relays[q->relay].st.pending--;
	if (result != NULL && strcmp(result, "error") == 0) {
		reason = json_string_value(
			json_object_get(reply, "error-reason"));
		if (reason == NULL)
			reason = "error";
	}
	if (q->cb != NULL)
		q->cb(q->arg, q->relay, reply, reason);
	req_free(q);
}

void sbc_ng_readable(struct sbc_ng *ng, size_t i, int64_t now_ms)
{
	struct ng_relay *r;
	char cookie[SBC_NG_COOKIE_MAX + 1];

	(void)now_ms;
	if (i >= ng->n)
		return;
	r = &ng->relays[i];
	for (;;) {
		ssize_t got = recv(r->fd, ng->rbuf, ng->o.max_reply + 1, 0);
		struct ng_req *q;
		json_t *reply;

		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return;	/* EAGAIN: all read */
		}
		if ((size_t)got > ng->o.max_reply ||
		    sbc_ng_parse_reply(ng->rbuf, (size_t)got, cookie,
				       sizeof(cookie), &reply, NULL, 0) != 0) {
			r->st.dropped++;
			continue;
		}
		TAILQ_FOREACH(q, &ng->pending, link)
			if (q->relay == (int)i && strcmp(q->cookie, cookie) == 0)
				break;
		if (q == NULL) {
			/* Unknown, or a retransmission answered twice. */
			r->st.dropped++;
			json_decref(reply);
			continue;
		}
		relay_reply(r);
		complete(ng, q, reply);
		json_decref(reply);
	}
}

int64_t sbc_ng_next_timeout_ms(const struct sbc_ng *ng)
{
	const struct ng_req *q;
	int64_t t = -1;

	TAILQ_FOREACH(q, &ng->pending, link) {
		int64_t due = q->next_ms < q->deadline_ms ? q->next_ms
							   : q->deadline_ms;

		if (t < 0 || due < t)
			t = due;
	}
	return t;
}

/* q gives up on its relay: another relay when unpinned and one is left,
 * else onto the done list with `reason`. */
static void req_give_up(struct sbc_ng *ng, struct ng_req *q, int64_t now_ms)
{
	int next = q->pinned ? -1 : pick(ng, q->tried);

	ng->relays[q->relay].st.pending--;
	if (next >= 0) {
		/* To the tail: the walk in progress skips nothing, and the
		 * fresh deadline keeps it from expiring in this pass. */
		TAILQ_REMOVE(&ng->pending, q, link);
		TAILQ_INSERT_TAIL(&ng->pending, q, link);
		req_start(ng, q, next, now_ms);
		return;
	}
	TAILQ_REMOVE(&ng->pending, q, link);
	snprintf(q->reason, sizeof(q->reason),
		 "ng relay %s timed out after %" PRId64 " ms",
		 ng->relays[q->relay].st.addr, ng->o.timeout_ms);
	TAILQ_INSERT_TAIL(&ng->done, q, link);
}

/* Relay down: its unpinned requests leave it now rather than at their
 * own timeouts. */
static void relay_down(struct sbc_ng *ng, int relay, int64_t now_ms)
{
	struct ng_req *q, *tmp;
	uint64_t last = ng->counter;

	ng->relays[relay].up = false;
	for (q = TAILQ_FIRST(&ng->pending); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, link);
		if (q->seq > last)
			break;	/* moved to the tail just now */
		if (q->relay == relay && !q->pinned) {
			int next = pick(ng, q->tried);

			if (next < 0)
				continue;
			ng->relays[relay].st.pending--;
			TAILQ_REMOVE(&ng->pending, q, link);
			TAILQ_INSERT_TAIL(&ng->pending, q, link);
			req_start(ng, q, next, now_ms);
		}
	}
}

static void timed_out(struct sbc_ng *ng, struct ng_req *q, int64_t now_ms)
{
	struct ng_relay *r = &ng->relays[q->relay];
	int relay = q->relay;

	r->st.timeouts++;
	r->consecutive++;
	req_give_up(ng, q, now_ms);
	if (r->up && r->consecutive >= ng->o.down_after)
		relay_down(ng, relay, now_ms);
}

void sbc_ng_timer(struct sbc_ng *ng, int64_t now_ms)
{
	struct ng_req *q, *tmp;
	uint64_t last = ng->counter;

	for (q = TAILQ_FIRST(&ng->pending); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, link);
		if (q->seq > last)
			break;	/* restarted on another relay in this pass */
		if (now_ms >= q->deadline_ms) {
			/* relay_down() may move any request, tmp too: walk
			 * again from the head. What was looked at already is
			 * neither due nor expired any more. */
			timed_out(ng, q, now_ms);
			tmp = TAILQ_FIRST(&ng->pending);
			continue;
		}
		if (now_ms >= q->next_ms) {
			/* The same cookie: the relay answers from its cache
			 * when the first one got through. */
			ng->relays[q->relay].st.retransmits++;
			req_send(ng, q);
			q->interval_ms *= 2;
			q->next_ms = now_ms + q->interval_ms;
		}
	}
	while ((q = TAILQ_FIRST(&ng->done)) != NULL) {
		TAILQ_REMOVE(&ng->done, q, link);
		if (q->cb != NULL)
			q->cb(q->arg, q->relay, NULL, q->reason);
		req_free(q);
	}
}

void sbc_ng_cancel_arg(struct sbc_ng *ng, void *arg)
{
	struct ng_req *q, *tmp;

	for (q = TAILQ_FIRST(&ng->pending); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, link);
		if (q->arg != arg)
			continue;
		TAILQ_REMOVE(&ng->pending, q, link);
		ng->relays[q->relay].st.pending--;
		req_free(q);
	}
	for (q = TAILQ_FIRST(&ng->done); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, link);
		if (q->arg != arg)
			continue;
		TAILQ_REMOVE(&ng->done, q, link);
		req_free(q);
	}
}

static void ping_done(void *arg, int relay, json_t *reply, const char *reason)
{
	struct sbc_ng *ng = arg;

	/* A reply has marked the relay up already (sbc_ng_readable). */
	(void)reply;
	(void)reason;
	ng->relays[relay].ping_pending = false;
}

void sbc_ng_ping_all(struct sbc_ng *ng, int64_t now_ms)
{
	json_t *ping = json_pack("{s:s}", "command", "ping");
	size_t i;

	if (ping == NULL)
		return;
	for (i = 0; i < ng->n; i++) {
		if (ng->relays[i].ping_pending)
			continue;
		if (sbc_ng_request(ng, (int)i, ping, ping_done, ng, now_ms, NULL,
				   0) >= 0)
			ng->relays[i].ping_pending = true;
	}
	json_decref(ping);
}

int sbc_ng_relay_stats(const struct sbc_ng *ng, size_t i,
		       struct sbc_ng_relay_stats *out)
{
	if (i >= ng->n)
		return -1;
	*out = ng->relays[i].st;
	out->up = ng->relays[i].up;
	return 0;
}

int sbc_ng_parse_reply(const char *buf, size_t len, char *cookie,
		       size_t cookie_len, json_t **out, char *err,
		       size_t errlen)
{
	json_error_t je;
	json_t *o;
	size_t cl = 0;

	*out = NULL;
	if (cookie_len < SBC_NG_COOKIE_MAX + 1) {
		err_set(err, errlen, "cookie buffer of %zu bytes", cookie_len);
		return -1;
	}
	cookie[0] = '\0';
	if (len > SBC_NG_REPLY_MAX) {
		err_set(err, errlen, "ng reply of %zu bytes over %d", len,
			SBC_NG_REPLY_MAX);
		return -1;
	}
	while (cl < len && (unsigned char)buf[cl] > ' ' &&
	       (unsigned char)buf[cl] < 0x7f)
		cl++;
	if (cl == 0 || cl > SBC_NG_COOKIE_MAX || cl == len || buf[cl] != ' ') {
		err_set(err, errlen, "ng reply without a cookie of 1..%d "
			"printable bytes and a space", SBC_NG_COOKIE_MAX);
		return -1;
	}
	/* JSON_DISABLE_EOF_CHECK is not set: trailing bytes other than
	 * whitespace make the load fail. */
	o = json_loadb(buf + cl + 1, len - cl - 1, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		err_set(err, errlen, "ng reply is not a JSON object%s%s",
			o == NULL ? ": " : "", o == NULL ? je.text : "");
		json_decref(o);
		return -1;
	}
	if (!json_is_string(json_object_get(o, "result"))) {
		err_set(err, errlen, "ng reply without a \"result\" string");
		json_decref(o);
		return -1;
	}
	memcpy(cookie, buf, cl);
	cookie[cl] = '\0';
	*out = o;
	return 0;
}
