/*
 * keepalive: OPTIONS pings and dial-peer busy-out (keepalive.h).
 *
 * One struct ka_peer per watched dial-peer, in an array replaced as a whole
 * by sbc_keepalive_set(). Each peer has its own client leg (its own
 * Call-ID) and at most one OPTIONS in flight. The state each peer shows to
 * other threads is written under `lock`; the SIP thread, the only writer,
 * reads it without.
 */
#define NTA_LEG_MAGIC_T struct ka_peer
#define NTA_OUTGOING_MAGIC_T struct ka_peer

#include "sbc/keepalive.h"

#include "common/log.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct ka_peer {
	struct sbc_keepalive *k;
	unsigned tag;
	struct sbc_keepalive_cfg ka;
	enum sbc_transport tp;
	char target[300]; /* "addr:port", "name[:port]" */
	bool dns;	  /* target is a name (session target dns:) */
	char uri[320];	 /* the OPTIONS Request-URI */
	bool busy;
	unsigned fails;	 /* failed pings in a row */
	int64_t next_ms; /* next ping due */
	nta_leg_t *leg;
	nta_outgoing_t *orq;
};

struct sbc_keepalive {
	pthread_mutex_t lock; /* peers, n and each busy flag, for readers */
	struct ka_peer *peers;
	size_t n;
	struct sbc_sipstats *stats;
	void (*on_answer)(void *arg, unsigned tag, const char *addr);
	void *arg;
	nta_agent_t *agent; /* NULL when detached */
	char from_host[3][64];
	uint64_t salt; /* Call-IDs */
};

static int on_ka_response(struct ka_peer *p, nta_outgoing_t *orq,
			  sip_t const *sip);

struct sbc_keepalive *
sbc_keepalive_new(struct sbc_sipstats *stats,
		  void (*on_answer)(void *arg, unsigned tag, const char *addr),
		  void *arg)
{
	struct sbc_keepalive *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->stats = stats;
	k->on_answer = on_answer;
	k->arg = arg;
	if (getrandom(&k->salt, sizeof(k->salt), 0) != sizeof(k->salt))
		k->salt = (uint64_t)(uintptr_t)k;
	return k;
}

static void peer_release(struct ka_peer *p)
{
	if (p->orq != NULL)
		nta_outgoing_destroy(p->orq);
	p->orq = NULL;
	if (p->leg != NULL)
		nta_leg_destroy(p->leg);
	p->leg = NULL;
}

void sbc_keepalive_detach(struct sbc_keepalive *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		peer_release(&k->peers[i]);
	k->agent = NULL;
}

void sbc_keepalive_free(struct sbc_keepalive **k)
{
	if (k == NULL || *k == NULL)
		return;
	sbc_keepalive_detach(*k);
	free((*k)->peers);
	pthread_mutex_destroy(&(*k)->lock);
	free(*k);
	*k = NULL;
}

void sbc_keepalive_attach(struct sbc_keepalive *k, struct nta_agent_s *agent,
			  const char from_host[3][64])
{
	if (k == NULL)
		return;
	k->agent = agent;
	memcpy(k->from_host, from_host, sizeof(k->from_host));
}

static struct ka_peer *find(struct sbc_keepalive *k, unsigned tag)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->peers[i].tag == tag)
			return &k->peers[i];
	return NULL;
}

int sbc_keepalive_set(struct sbc_keepalive *k, const struct sbc_config *cfg,
		      int64_t now_ms)
{
	size_t i, n = 0, total = sbc_config_dialpeer_count(cfg);
	struct ka_peer *np = NULL, *old;

	if (k == NULL)
		return -1;
	if (total > 0) {
		np = calloc(total, sizeof(*np));
		if (np == NULL)
			return -1;
	}
	for (i = 0; i < total; i++) {
		const struct sbc_dialpeer_cfg *dp = sbc_config_dialpeer(cfg, i);
		struct ka_peer *p = &np[n];

		if (dp->kind != SBC_DP_VOIP || dp->ka_profile == 0 ||
		    !dp->has_target)
			continue;
		p->k = k;
		p->tag = dp->tag;
		p->ka = dp->ka;
		p->tp = dp->transport;
		p->dns = dp->target_dns;
		if (dp->target_dns && dp->target_port == 0)
			snprintf(p->target, sizeof(p->target), "%s",
				 dp->target_host);
		else
			snprintf(p->target, sizeof(p->target), "%s:%u",
				 dp->target_dns ? dp->target_host
						: dp->target_addr,
				 dp->target_port);
		snprintf(p->uri, sizeof(p->uri), "sip:%s;transport=%s",
			 p->target, sbc_transport_name(p->tp));
		p->next_ms = now_ms;
		old = find(k, dp->tag);
		if (old != NULL && strcmp(old->uri, p->uri) == 0) {
			p->busy = old->busy;
			p->fails = old->fails;
			p->next_ms = old->next_ms;
		}
		n++;
	}
	/* The old pings go first: their magic is the old array. */
	for (i = 0; i < k->n; i++)
		peer_release(&k->peers[i]);
	pthread_mutex_lock(&k->lock);
	old = k->peers;
	k->peers = np;
	k->n = n;
	pthread_mutex_unlock(&k->lock);
	free(old);
	return 0;
}

static void set_busy(struct ka_peer *p, bool busy)
{
	struct sbc_keepalive *k = p->k;

	pthread_mutex_lock(&k->lock);
	p->busy = busy;
	pthread_mutex_unlock(&k->lock);
	if (busy)
		log_msg(LOG_LVL_NOTICE, "SBC", "DIALPEER_BUSYOUT",
			"dial-peer %u busied out: %u OPTIONS to %s failed",
			p->tag, p->fails, p->target);
	else
		log_msg(LOG_LVL_NOTICE, "SBC", "DIALPEER_ACTIVE",
			"dial-peer %u back in service: %s answers OPTIONS",
			p->tag, p->target);
}

static void ping_result(struct ka_peer *p, bool ok)
{
	if (ok) {
		p->fails = 0;
		if (p->busy)
			set_busy(p, false);
		return;
	}
	if (p->fails < UINT32_MAX)
		p->fails++;
	if (!p->busy && p->fails >= p->ka.retry)
		set_busy(p, true);
}

/*
 * Any answer from the peer itself means it is alive, except 503 (it says
 * it cannot take calls); what the stack makes up (408 timeout, 503 for a
 * refused connection) is a failed ping. addr gets where the answer came
 * from ("" when made up).
 */
static bool alive_answer(nta_outgoing_t *orq, int status, char *addr,
			 size_t addrlen)
{
	msg_t *msg = nta_outgoing_getresponse(orq);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	bool from_peer = false;
	su_sockaddr_t su;
	socklen_t sulen = sizeof(su);

	addr[0] = '\0';
	if (msg != NULL) {
		su_addrinfo_t *ai = msg_addrinfo(msg);

		from_peer = ai != NULL && ai->ai_family != AF_UNSPEC;
		memset(&su, 0, sizeof(su));
		if (from_peer && msg_get_address(msg, &su, &sulen) == 0 &&
		    getnameinfo(&su.su_sa, sulen, host, sizeof(host), port,
				sizeof(port),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(addr, addrlen, "%s:%s", host, port);
		msg_destroy(msg);
	}
	return from_peer && status != 503;
}

static int on_ka_response(struct ka_peer *p, nta_outgoing_t *orq,
			  sip_t const *sip)
{
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	char addr[NI_MAXHOST + NI_MAXSERV + 2];
	bool alive;

	if (status < 200)
		return 0;
	alive = alive_answer(orq, status, addr, sizeof(addr));
	if (p->k->stats != NULL && sip != NULL && addr[0] != '\0')
		sbc_sipstats_response(p->k->stats, SBC_SIPSTATS_IN,
				      SBC_SIP_OPTIONS, status);
	if (p->dns && addr[0] != '\0' && p->k->on_answer != NULL)
		p->k->on_answer(p->k->arg, p->tag, addr);
	ping_result(p, alive);
	nta_outgoing_destroy(orq);
	p->orq = NULL;
	return 0;
}

static void ping(struct sbc_keepalive *k, struct ka_peer *p)
{
	char from[128], to[320], call_id[96];

	if (p->leg == NULL) {
		snprintf(from, sizeof(from), "<sip:sbc@%s>",
			 k->from_host[p->tp][0] ? k->from_host[p->tp]
						: "invalid");
		snprintf(to, sizeof(to), "<sip:%s>", p->target);
		snprintf(call_id, sizeof(call_id),
			 "ka-%016" PRIx64 "-%u@sbc", k->salt, p->tag);
		p->leg = nta_leg_tcreate(k->agent, NULL, NULL,
					 SIPTAG_FROM_STR(from),
					 SIPTAG_TO_STR(to),
					 SIPTAG_CALL_ID_STR(call_id), TAG_END());
		if (p->leg == NULL)
			return;
		nta_leg_tag(p->leg, NULL);
	}
	p->orq = nta_outgoing_tcreate(p->leg, on_ka_response, p, NULL,
				      SIP_METHOD_OPTIONS,
				      (url_string_t const *)p->uri,
				      SIPTAG_MAX_FORWARDS_STR("70"),
				      SIPTAG_ACCEPT_STR("application/sdp"),
				      TAG_END());
	if (p->orq != NULL && k->stats != NULL)
		sbc_sipstats_request(k->stats, SBC_SIPSTATS_OUT,
				     SBC_SIP_OPTIONS);
}

void sbc_keepalive_tick(struct sbc_keepalive *k, int64_t now_ms)
{
	size_t i;

	if (k == NULL || k->agent == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		struct ka_peer *p = &k->peers[i];

		if (now_ms < p->next_ms)
			continue;
		if (p->orq != NULL) {
			/* No final answer within the interval. */
			nta_outgoing_destroy(p->orq);
			p->orq = NULL;
			ping_result(p, false);
		}
		p->next_ms = now_ms +
			     1000 * (int64_t)(p->busy ? p->ka.down_s : p->ka.up_s);
		ping(k, p);
	}
}

bool sbc_keepalive_busy(unsigned tag, void *arg)
{
	struct ka_peer *p = arg != NULL ? find(arg, tag) : NULL;

	return p != NULL && p->busy;
}

enum sbc_ka_state sbc_keepalive_state(struct sbc_keepalive *k, unsigned tag)
{
	enum sbc_ka_state st = SBC_KA_NONE;
	struct ka_peer *p;

	if (k == NULL)
		return st;
	pthread_mutex_lock(&k->lock);
	p = find(k, tag);
	if (p != NULL)
		st = p->busy ? SBC_KA_BUSYOUT : SBC_KA_ACTIVE;
	pthread_mutex_unlock(&k->lock);
	return st;
}

const char *sbc_ka_state_name(enum sbc_ka_state s)
{
	switch (s) {
	case SBC_KA_ACTIVE:
		return "active";
	case SBC_KA_BUSYOUT:
		return "busyout";
	case SBC_KA_NONE:
		break;
	}
	return "";
}
