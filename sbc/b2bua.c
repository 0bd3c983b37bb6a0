/*
 * b2bua: a signalling B2BUA on Sofia-SIP nta.
 *
 * Objects (docs/architecture.md draws them):
 *   struct sbc_b2bua  the SIP thread: su_root, nta agent, default leg, the
 *                     current config and routing table, the list of calls.
 *   struct sbc_call   one call: two legs, the initial INVITE relay, the
 *                     relayed in-dialog transactions, the counting record.
 *   struct sbc_leg    one dialog (A: towards the caller, a server leg created
 *                     from the INVITE; B: towards the callee, a client leg
 *                     with its own Call-ID, tags, CSeq and Contact).
 *   struct sbc_txn    one relayed transaction: the incoming request on one
 *                     leg and the outgoing request on the other.
 * All of them live and die in the SIP thread. A call is freed only from
 * call_destroy(), which first destroys every nta object that could call
 * back into it.
 */
#define NTA_AGENT_MAGIC_T struct sbc_b2bua
#define NTA_LEG_MAGIC_T struct sbc_leg
#define NTA_INCOMING_MAGIC_T struct sbc_txn
#define NTA_OUTGOING_MAGIC_T struct sbc_txn
#define SU_ROOT_MAGIC_T struct sbc_b2bua
#define SU_MSG_ARG_T struct sbc_cmd

#include "b2bua.h"

#include "callacct.h"
#include "clk.h"
#include "log.h"

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SWEEP_MS 200
#define RETRY_AFTER_BUSY "5"	  /* threshold or overload: try again soon */
#define RETRY_AFTER_DOWN "60"	  /* service down or shutting down */
#define INVITE_ORQ_KEEP_MS 32000 /* absorb retransmitted 2xx this long */
#define MAX_PROCEEDING 10000	 /* nta answers 503 beyond this */
#define UDP_BUFFER_BYTES (4 * 1024 * 1024)
#define NUMBER_MAX 64
/* nta_agent_create's "bind nothing yet": listeners are added one by one. */
#define NTA_NO_TRANSPORT ((url_string_t const *)-1)
#define ALLOW_METHODS \
	"INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY, REFER, MESSAGE"

enum side { SIDE_A = 0, SIDE_B = 1 };

enum call_state {
	CALL_EARLY,	  /* outbound INVITE sent, no final answer */
	CALL_CANCELLING,  /* caller cancelled (or we did); waiting B's final */
	CALL_ANSWERED,	  /* 2xx relayed to A, waiting A's ACK */
	CALL_ESTABLISHED, /* ACK relayed */
	CALL_ENDING,	  /* BYEs sent; waiting for their answers */
};

struct sbc_leg {
	struct sbc_call *call;
	nta_leg_t *leg;
	enum side side;
	enum sbc_transport transport;
};

struct sbc_txn {
	struct sbc_call *call;
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
	enum side from;	     /* side the request came from */
	uint32_t out_cseq;   /* CSeq of the relayed request (ACK needs it) */
	bool awaiting_ack;   /* INVITE answered 2xx, ACK not yet relayed */
	struct sbc_txn *next;
};

struct sbc_call {
	struct sbc_b2bua *b2b;
	uint64_t id;
	enum call_state state;
	struct sbc_callacct acct;
	struct sbc_leg leg[2];
	struct sbc_txn inv; /* the initial INVITE: irq from A, orq to B */
	struct sbc_txn *txns; /* relayed in-dialog transactions */
	nta_outgoing_t *bye[2]; /* our BYEs towards each side */
	int64_t start_ms;
	int64_t answer_ms;
	unsigned in_peer, out_peer;
	struct sbc_call *prev, *next; /* b2b->calls, oldest first */
};

enum cmd_kind { CMD_RELOAD, CMD_STOP };

struct sbc_cmd {
	enum cmd_kind kind;
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	unsigned linger_ms;
};

struct sbc_b2bua {
	/* Set before the thread starts, read-only afterwards. */
	struct sbc_counters *counters;
	pthread_t thread;
	char contact[3][128]; /* per transport, "" when not listening */
	char host[3][64];

	/* Start-up handshake. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int started; /* 0 starting, 1 running, -1 failed */
	char start_err[256];

	/* Shared with other threads. */
	_Atomic bool draining;
	_Atomic bool service_up;
	_Atomic unsigned ncalls;

	/* SIP thread only. */
	struct sbc_leg default_magic; /* magic of the default leg */
	su_root_t *root;
	nta_agent_t *agent;
	nta_leg_t *default_leg;
	su_timer_t *sweep;
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	struct sbc_call *calls, *calls_tail;
	uint64_t next_call_id;
	uint64_t callid_salt;
	bool stopping;
	int64_t stop_deadline_ms;
};

static void call_destroy(struct sbc_call *call);
static void call_end(struct sbc_call *call, int a_status, const char *a_phrase);

/* ---------------------------------------------------------------------- */
/* Helpers */

static const struct sbc_settings *settings(const struct sbc_b2bua *b)
{
	return sbc_config_settings(b->cfg);
}

static enum sbc_transport via_transport(sip_t const *sip)
{
	const char *proto = sip->sip_via ? sip->sip_via->v_protocol : NULL;

	if (proto && strcasestr(proto, "/TCP"))
		return SBC_TP_TCP;
	if (proto && strcasestr(proto, "/TLS"))
		return SBC_TP_TLS;
	return SBC_TP_UDP;
}

/* Our Contact on a leg of the given transport (falls back to UDP's). */
static const char *leg_contact(const struct sbc_b2bua *b,
			       enum sbc_transport tp)
{
	if (b->contact[tp][0])
		return b->contact[tp];
	if (b->contact[SBC_TP_UDP][0])
		return b->contact[SBC_TP_UDP];
	return b->contact[SBC_TP_TCP];
}

static const char *leg_host(const struct sbc_b2bua *b, enum sbc_transport tp)
{
	if (b->host[tp][0])
		return b->host[tp];
	if (b->host[SBC_TP_UDP][0])
		return b->host[SBC_TP_UDP];
	return b->host[SBC_TP_TCP];
}

/*
 * The called number: the Request-URI user without parameters, bounded.
 * Returns false when there is none or it is too long.
 */
static bool called_number(sip_t const *sip, char *out, size_t outlen)
{
	const char *user = sip->sip_request->rq_url->url_user;
	size_t n;

	if (user == NULL)
		return false;
	n = strcspn(user, ";");
	if (n == 0 || n >= outlen || n > NUMBER_MAX)
		return false;
	memcpy(out, user, n);
	out[n] = '\0';
	return true;
}

static bool is_target_refresh(sip_method_t m)
{
	return m == sip_method_invite || m == sip_method_update ||
	       m == sip_method_subscribe || m == sip_method_notify ||
	       m == sip_method_refer;
}

/* Answer an out-of-dialog request that we refuse and let go of it. */
static int refuse(nta_incoming_t *irq, int status, const char *phrase,
		  const char *retry_after)
{
	if (retry_after)
		nta_incoming_treply(irq, status, phrase, SIPTAG_RETRY_AFTER_STR(retry_after),
		      TAG_END());
	else
		nta_incoming_treply(irq, status, phrase, TAG_END());
	nta_incoming_destroy(irq);
	return 0;
}

/*
 * Relay a response to the request side. Headers that describe the other
 * leg's topology (Via, Contact, Record-Route, Call-ID, tags) stay behind;
 * the body and the headers an endpoint acts on go through.
 */
static void relay_response(struct sbc_b2bua *b, nta_incoming_t *irq,
			   enum sbc_transport tp, sip_t const *sip, int status,
			   const char *phrase, bool with_contact)
{
	sip_contact_t const *redirect = NULL;

	if (sip && status >= 300 && status < 400)
		redirect = sip->sip_contact;
	nta_incoming_treply(
		irq, status, phrase,
		TAG_IF(with_contact, SIPTAG_CONTACT_STR(leg_contact(b, tp))),
		TAG_IF(redirect, SIPTAG_CONTACT(redirect)),
		TAG_IF(sip, SIPTAG_CONTENT_TYPE(sip ? sip->sip_content_type
						    : NULL)),
		TAG_IF(sip, SIPTAG_CONTENT_DISPOSITION(
				    sip ? sip->sip_content_disposition : NULL)),
		TAG_IF(sip, SIPTAG_PAYLOAD(sip ? sip->sip_payload : NULL)),
		TAG_IF(sip, SIPTAG_RETRY_AFTER(sip ? sip->sip_retry_after
						   : NULL)),
		TAG_IF(sip, SIPTAG_WARNING(sip ? sip->sip_warning : NULL)),
		TAG_IF(sip, SIPTAG_UNSUPPORTED(sip ? sip->sip_unsupported
						   : NULL)),
		TAG_IF(sip, SIPTAG_WWW_AUTHENTICATE(
				    sip ? sip->sip_www_authenticate : NULL)),
		TAG_IF(sip, SIPTAG_PROXY_AUTHENTICATE(
				    sip ? sip->sip_proxy_authenticate : NULL)),
		TAG_IF(sip, SIPTAG_MIN_SE(sip ? sip->sip_min_se : NULL)),
		TAG_IF(sip, SIPTAG_UNKNOWN(sip ? sip->sip_unknown : NULL)),
		TAG_IF(status >= 200 && status < 300,
		       SIPTAG_ALLOW_STR(ALLOW_METHODS)),
		TAG_END());
}

static void send_ack(struct sbc_call *call, uint32_t cseq, sip_t const *ack)
{
	char cseq_str[32];
	nta_outgoing_t *orq;

	snprintf(cseq_str, sizeof(cseq_str), "%" PRIu32 " ACK", cseq);
	orq = nta_outgoing_tcreate(
		call->leg[SIDE_B].leg, NULL, NULL, NULL, SIP_METHOD_ACK, NULL,
		SIPTAG_CSEQ_STR(cseq_str),
		TAG_IF(ack, SIPTAG_CONTENT_TYPE(ack ? ack->sip_content_type
						    : NULL)),
		TAG_IF(ack, SIPTAG_PAYLOAD(ack ? ack->sip_payload : NULL)),
		TAG_END());
	if (orq)
		nta_outgoing_destroy(orq);
}

/* Same, but towards either side (in-dialog re-INVITE ACKs). */
static void send_ack_to(struct sbc_call *call, enum side to, uint32_t cseq,
			sip_t const *ack)
{
	char cseq_str[32];
	nta_outgoing_t *orq;

	if (to == SIDE_B) {
		send_ack(call, cseq, ack);
		return;
	}
	snprintf(cseq_str, sizeof(cseq_str), "%" PRIu32 " ACK", cseq);
	orq = nta_outgoing_tcreate(
		call->leg[to].leg, NULL, NULL, NULL, SIP_METHOD_ACK, NULL,
		SIPTAG_CSEQ_STR(cseq_str),
		TAG_IF(ack, SIPTAG_CONTENT_TYPE(ack ? ack->sip_content_type
						    : NULL)),
		TAG_IF(ack, SIPTAG_PAYLOAD(ack ? ack->sip_payload : NULL)),
		TAG_END());
	if (orq)
		nta_outgoing_destroy(orq);
}

/* ---------------------------------------------------------------------- */
/* Call list */

static void call_link(struct sbc_b2bua *b, struct sbc_call *call)
{
	call->prev = b->calls_tail;
	call->next = NULL;
	if (b->calls_tail)
		b->calls_tail->next = call;
	else
		b->calls = call;
	b->calls_tail = call;
	atomic_fetch_add(&b->ncalls, 1);
}

static void call_unlink(struct sbc_b2bua *b, struct sbc_call *call)
{
	if (call->prev)
		call->prev->next = call->next;
	else
		b->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	else
		b->calls_tail = call->prev;
	call->prev = call->next = NULL;
	atomic_fetch_sub(&b->ncalls, 1);
}

static void txn_free(struct sbc_txn *t)
{
	if (t->orq)
		nta_outgoing_destroy(t->orq);
	if (t->irq) {
		/* An unanswered request must not be left to nta's 500. */
		if (nta_incoming_status(t->irq) < 200)
			nta_incoming_treply(t->irq, SIP_481_NO_TRANSACTION,
					    TAG_END());
		nta_incoming_destroy(t->irq);
	}
	free(t);
}

static void txn_unlink_free(struct sbc_call *call, struct sbc_txn *t)
{
	struct sbc_txn **pp;

	for (pp = &call->txns; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	txn_free(t);
}

/*
 * Free a call and everything it holds. The counting record is closed here
 * too (a no-op when it was closed earlier), so a call can never be freed
 * while still counted.
 */
static void call_destroy(struct sbc_call *call)
{
	struct sbc_b2bua *b = call->b2b;
	int i;

	sbc_callacct_end(&call->acct, b->counters);
	while (call->txns) {
		struct sbc_txn *t = call->txns;

		call->txns = t->next;
		txn_free(t);
	}
	for (i = 0; i < 2; i++) {
		if (call->bye[i])
			nta_outgoing_destroy(call->bye[i]);
	}
	if (call->inv.orq)
		nta_outgoing_destroy(call->inv.orq);
	if (call->inv.irq) {
		if (nta_incoming_status(call->inv.irq) < 200)
			nta_incoming_treply(call->inv.irq,
					    SIP_500_INTERNAL_SERVER_ERROR,
					    TAG_END());
		nta_incoming_destroy(call->inv.irq);
	}
	for (i = 0; i < 2; i++) {
		if (call->leg[i].leg)
			nta_leg_destroy(call->leg[i].leg);
	}
	call_unlink(b, call);
	free(call);
}

/* ---------------------------------------------------------------------- */
/* Ending calls */

static int on_bye_response(struct sbc_txn *magic, nta_outgoing_t *orq,
			   sip_t const *sip)
{
	struct sbc_call *call = magic->call;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	int i;

	if (status < 200)
		return 0;
	for (i = 0; i < 2; i++) {
		if (call->bye[i] == orq) {
			nta_outgoing_destroy(orq);
			call->bye[i] = NULL;
		}
	}
	if (call->bye[SIDE_A] == NULL && call->bye[SIDE_B] == NULL)
		call_destroy(call);
	return 0;
}

/*
 * Send BYE on one leg. The txn pointer passed as magic is the call's
 * embedded INVITE txn: it only carries the call pointer back.
 */
static void send_bye(struct sbc_call *call, enum side to)
{
	if (call->bye[to] || call->leg[to].leg == NULL)
		return;
	call->bye[to] = nta_outgoing_tcreate(
		call->leg[to].leg, on_bye_response, &call->inv, NULL,
		SIP_METHOD_BYE, NULL, TAG_END());
}

/*
 * End the call from wherever it is. a_status is the final answer for A when
 * its INVITE is still unanswered (e.g. 408 after the no-answer timer).
 * The count is closed at once: the session is over for licensing as soon
 * as we decide to tear it down; the object lingers until the BYEs finish.
 */
static void call_end(struct sbc_call *call, int a_status, const char *a_phrase)
{
	sbc_callacct_end(&call->acct, call->b2b->counters);
	switch (call->state) {
	case CALL_EARLY:
		call->state = CALL_CANCELLING;
		if (call->inv.irq && nta_incoming_status(call->inv.irq) < 200)
			nta_incoming_treply(call->inv.irq, a_status, a_phrase,
					    TAG_END());
		if (call->inv.orq)
			nta_outgoing_cancel(call->inv.orq);
		else
			call_destroy(call);
		break;
	case CALL_CANCELLING:
	case CALL_ENDING:
		break;
	case CALL_ANSWERED:
		/* A never ACKed (or we are stopping): confirm B, then BYE. */
		send_ack(call, call->inv.out_cseq, NULL);
		/* fall through */
	case CALL_ESTABLISHED:
		call->state = CALL_ENDING;
		send_bye(call, SIDE_A);
		send_bye(call, SIDE_B);
		if (call->bye[SIDE_A] == NULL && call->bye[SIDE_B] == NULL)
			call_destroy(call);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* In-dialog relay */

static int on_txn_response(struct sbc_txn *t, nta_outgoing_t *orq,
			   sip_t const *sip)
{
	struct sbc_call *call = t->call;
	struct sbc_b2bua *b = call->b2b;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	const char *phrase = sip ? sip->sip_status->st_phrase : "Timeout";
	sip_method_t m = nta_outgoing_method(orq);

	if (status == 100)
		return 0;
	if (m == sip_method_invite && status >= 200 && status < 300 &&
	    t->irq && nta_incoming_status(t->irq) >= 300) {
		/*
		 * The 2xx crossed the requester's CANCEL, which nta already
		 * answered 487: nobody will ACK this 2xx end to end, so ACK it
		 * here (the session keeps the previous offer/answer).
		 */
		send_ack_to(call, (enum side)!t->from, nta_outgoing_cseq(orq),
			    NULL);
		txn_unlink_free(call, t);
		return 0;
	}
	if (t->irq && nta_incoming_status(t->irq) < 200)
		relay_response(b, t->irq, call->leg[t->from].transport, sip,
			       status, phrase,
			       is_target_refresh(m) && status < 300 &&
				       status > 100);
	if (status < 200)
		return 0;
	if (m == sip_method_invite && status < 300) {
		/*
		 * Keep the transaction for the ACK, which goes end to end. The
		 * outgoing INVITE stays too: nta finds it when we send the ACK
		 * (and asserts if it has been freed).
		 */
		t->awaiting_ack = true;
		return 0;
	}
	txn_unlink_free(call, t);
	return 0;
}

static struct sbc_txn *find_awaiting_ack(struct sbc_call *call, enum side from)
{
	struct sbc_txn *t;

	for (t = call->txns; t; t = t->next) {
		if (t->awaiting_ack && t->from == from)
			return t;
	}
	return NULL;
}

static bool invite_pending(struct sbc_call *call)
{
	struct sbc_txn *t;

	for (t = call->txns; t; t = t->next) {
		if (t->irq && nta_incoming_method(t->irq) == sip_method_invite)
			return true;
	}
	return false;
}

static void relay_ack(struct sbc_call *call, struct sbc_txn *t,
		      sip_t const *ack)
{
	send_ack_to(call, (enum side)!t->from, t->out_cseq, ack);
	txn_unlink_free(call, t);
}

static int on_txn_ack_cancel(struct sbc_txn *t, nta_incoming_t *irq,
			     sip_t const *sip)
{
	struct sbc_call *call = t->call;

	(void)irq;
	if (sip && sip->sip_request->rq_method == sip_method_cancel) {
		if (t->orq)
			nta_outgoing_cancel(t->orq);
		return 0;
	}
	if (!t->awaiting_ack)
		return 0;
	relay_ack(call, t, sip);
	if (sip == NULL) {
		/*
		 * nta gave up waiting for the ACK of a re-INVITE's 2xx: the
		 * other side is ACKed above; RFC 3261 section 13.3.1.4 then
		 * ends the dialog, so the call is taken down on both sides.
		 */
		call_end(call, 0, NULL);
	}
	return 0;
}

/*
 * Relay an in-dialog request to the other leg and keep the incoming
 * transaction until the other side answers.
 */
static int relay_request(struct sbc_call *call, enum side from,
			 nta_incoming_t *irq, sip_t const *sip)
{
	struct sbc_b2bua *b = call->b2b;
	enum side to = (enum side)!from;
	sip_method_t m = sip->sip_request->rq_method;
	struct sbc_txn *t;

	if (call->leg[to].leg == NULL || nta_leg_get_rtag(call->leg[to].leg) ==
						   NULL) {
		/* The other side has no dialog yet (no To-tag seen). */
		return 481;
	}
	if (m == sip_method_invite && invite_pending(call))
		return 491;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return 500;
	t->call = call;
	t->from = from;
	t->orq = nta_outgoing_tcreate(
		call->leg[to].leg, on_txn_response, t, NULL, m,
		sip->sip_request->rq_method_name, NULL,
		TAG_IF(is_target_refresh(m),
		       SIPTAG_CONTACT_STR(
			       leg_contact(b, call->leg[to].transport))),
		SIPTAG_CONTENT_TYPE(sip->sip_content_type),
		SIPTAG_CONTENT_DISPOSITION(sip->sip_content_disposition),
		SIPTAG_EVENT(sip->sip_event),
		SIPTAG_SUBSCRIPTION_STATE(sip->sip_subscription_state),
		SIPTAG_REFER_TO(sip->sip_refer_to),
		SIPTAG_REFERRED_BY(sip->sip_referred_by),
		SIPTAG_REASON(sip->sip_reason),
		SIPTAG_AUTHORIZATION(sip->sip_authorization),
		SIPTAG_PROXY_AUTHORIZATION(sip->sip_proxy_authorization),
		SIPTAG_PRIVACY(sip->sip_privacy), SIPTAG_UNKNOWN(sip->sip_unknown),
		SIPTAG_PAYLOAD(sip->sip_payload), TAG_END());
	if (t->orq == NULL) {
		free(t);
		return 500;
	}
	t->out_cseq = nta_outgoing_cseq(t->orq);
	t->irq = irq;
	t->next = call->txns;
	call->txns = t;
	if (m == sip_method_invite)
		nta_incoming_bind(irq, on_txn_ack_cancel, t);
	return 0;
}

static int on_leg_request(struct sbc_leg *leg, nta_leg_t *nl,
			  nta_incoming_t *irq, sip_t const *sip)
{
	struct sbc_call *call = leg->call;
	sip_method_t m = sip->sip_request->rq_method;
	struct sbc_txn *t;

	(void)nl;
	switch (m) {
	case sip_method_ack:
		/* A 2xx ACK that nta did not tie to its INVITE transaction. */
		if (leg->side == SIDE_A && call->state == CALL_ANSWERED &&
		    sip->sip_cseq->cs_seq == nta_incoming_cseq(call->inv.irq)) {
			send_ack(call, call->inv.out_cseq, sip);
			call->state = CALL_ESTABLISHED;
		} else if ((t = find_awaiting_ack(call, leg->side)) != NULL) {
			relay_ack(call, t, sip);
		}
		nta_incoming_destroy(irq);
		return 0;
	case sip_method_bye:
		if (call->state == CALL_ENDING || call->state == CALL_CANCELLING)
			return 200;
		if (call->state == CALL_EARLY) {
			/* A BYE in an early dialog: end it as a CANCEL would. */
			call_end(call, SIP_487_REQUEST_TERMINATED);
			return 200;
		}
		sbc_callacct_end(&call->acct, call->b2b->counters);
		if (call->state == CALL_ANSWERED)
			send_ack(call, call->inv.out_cseq, NULL);
		call->state = CALL_ENDING;
		send_bye(call, (enum side)!leg->side);
		if (call->bye[!leg->side] == NULL) {
			nta_incoming_treply(irq, SIP_200_OK, TAG_END());
			nta_incoming_destroy(irq);
			call_destroy(call);
			return 0;
		}
		return 200;
	case sip_method_prack:
		/* We never send reliable provisionals (docs/sip.md). */
		return 481;
	default:
		break;
	}
	if (call->state == CALL_ENDING || call->state == CALL_CANCELLING)
		return 481;
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return 483;
	return relay_request(call, leg->side, irq, sip);
}

/* ---------------------------------------------------------------------- */
/* The initial INVITE */

static int on_invite_response(struct sbc_txn *inv, nta_outgoing_t *orq,
			      sip_t const *sip)
{
	struct sbc_call *call = inv->call;
	struct sbc_b2bua *b = call->b2b;
	nta_leg_t *bleg = call->leg[SIDE_B].leg;
	enum sbc_transport atp = call->leg[SIDE_A].transport;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	const char *phrase = sip ? sip->sip_status->st_phrase : "Request Timeout";
	const char *rtag = sip && sip->sip_to ? sip->sip_to->a_tag : NULL;

	if (status == 100)
		return 0;

	if (status >= 200 && status < 300 && call->state != CALL_EARLY &&
	    call->state != CALL_CANCELLING) {
		/*
		 * A 2xx after the first: nta absorbs retransmissions itself
		 * (re-sending our ACK) and answers a 2xx from another fork with
		 * ACK and BYE, so nothing reaches here in practice; ignore.
		 */
		return 0;
	}

	/*
	 * The dialog with B is fixed by the 2xx, not by a provisional: an
	 * early-media server or a forking proxy may send 18x with one
	 * To-tag and the answer with another, and the remote tag cannot be
	 * changed once set. Until then requests from B still match leg B
	 * (its local tag is enough) and the route follows the newest answer.
	 */
	if (rtag && status >= 200 && status < 300 &&
	    nta_leg_get_rtag(bleg) == NULL)
		nta_leg_rtag(bleg, rtag);
	if (rtag && status < 300)
		nta_leg_client_reroute(bleg, sip->sip_record_route,
				       sip->sip_contact, status < 200);

	if (status < 200) {
		if (call->state == CALL_EARLY && call->inv.irq)
			relay_response(b, call->inv.irq, atp, sip, status,
				       phrase, rtag != NULL);
		return 0;
	}

	if (status < 300) {
		if (call->state == CALL_CANCELLING) {
			/* The 200 crossed the CANCEL: take the call down. */
			send_ack(call, call->inv.out_cseq, NULL);
			call->state = CALL_ENDING;
			send_bye(call, SIDE_B);
			if (call->bye[SIDE_B] == NULL)
				call_destroy(call);
			return 0;
		}
		relay_response(b, call->inv.irq, atp, sip, status, phrase, true);
		call->state = CALL_ANSWERED;
		call->answer_ms = clk_mono_ms();
		sbc_callacct_answer(&call->acct, b->counters);
		return 0;
	}

	/* 3xx-6xx: nta ACKs B; A's ACK is absorbed by nta. */
	if (call->state == CALL_EARLY && call->inv.irq)
		relay_response(b, call->inv.irq, atp, sip, status, phrase,
			       false);
	call_destroy(call);
	return 0;
}

static int on_invite_ack_cancel(struct sbc_txn *inv, nta_incoming_t *irq,
				sip_t const *sip)
{
	struct sbc_call *call = inv->call;

	(void)irq;
	if (sip == NULL) {
		/* nta gave up waiting for A's ACK. */
		if (call->state == CALL_ANSWERED)
			call_end(call, 0, NULL);
		return 0;
	}
	if (sip->sip_request->rq_method == sip_method_cancel) {
		if (call->state == CALL_EARLY) {
			/* nta answers 487 to A; B's final ends the call. */
			sbc_callacct_end(&call->acct, call->b2b->counters);
			call->state = CALL_CANCELLING;
			nta_outgoing_cancel(call->inv.orq);
		}
		return 0;
	}
	if (sip->sip_request->rq_method == sip_method_ack &&
	    call->state == CALL_ANSWERED) {
		send_ack(call, call->inv.out_cseq, sip);
		call->state = CALL_ESTABLISHED;
	}
	return 0;
}

/* Why an INVITE is refused before any leg exists; 0 when it is admitted. */
static int admit(struct sbc_b2bua *b, const struct sbc_dialpeer_cfg *out,
		 const char **phrase, const char **retry_after)
{
	const struct sbc_settings *s = settings(b);
	uint32_t cur[SBC_CLASS_COUNT];

	*retry_after = RETRY_AFTER_BUSY;
	if (atomic_load(&b->draining) || b->stopping) {
		*phrase = "Service Unavailable";
		*retry_after = RETRY_AFTER_DOWN;
		return 503;
	}
	if (out->kind != SBC_DP_POTS && !atomic_load(&b->service_up)) {
		*phrase = "Service Unavailable";
		*retry_after = RETRY_AFTER_DOWN;
		return 503;
	}
	if (s->max_calls) {
		sbc_counters_current(b->counters, cur);
		if (cur[SBC_CLASS_AGGREGATE] + cur[SBC_CLASS_VGW] >=
		    s->max_calls) {
			*phrase = "Service Unavailable";
			return 503;
		}
	}
	return 0;
}

static void make_call_id(struct sbc_b2bua *b, uint64_t id, char *out,
			 size_t outlen)
{
	snprintf(out, outlen, "%016" PRIx64 "-%08" PRIx64 "@sbc",
		 b->callid_salt, id);
}

/*
 * A new INVITE: route it, create both legs and send the outbound INVITE.
 * Returns a status for nta to answer with, or 0 when we own irq.
 */
static int handle_invite(struct sbc_b2bua *b, nta_incoming_t *irq,
			 sip_t const *sip)
{
	const struct sbc_settings *s = settings(b);
	const struct sbc_dialpeer_cfg *in, *out;
	const char *phrase = NULL, *retry_after = NULL;
	char number[NUMBER_MAX + 1];
	char call_id[96], from[512], to[256], ruri[256], mf[16];
	const char *thost;
	unsigned tport;
	enum sbc_transport ttp;
	struct sbc_call *call;
	int status;

	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return 483;
	if (sip->sip_require) {
		/* We support no extension that a caller could require. */
		nta_incoming_treply(irq, SIP_420_BAD_EXTENSION,
		      SIPTAG_UNSUPPORTED(
			      (sip_unsupported_t const *)sip->sip_require),
		      TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (!called_number(sip, number, sizeof(number)))
		return 404;
	out = sbc_dptable_outbound(b->dp, number);
	if (out == NULL)
		return 404;
	in = sbc_dptable_inbound(b->dp, number);
	status = admit(b, out, &phrase, &retry_after);
	if (status)
		return refuse(irq, status, phrase, retry_after);

	if (out->kind == SBC_DP_POTS) {
		thost = s->gateway_addr;
		tport = s->gateway_port;
		ttp = s->gateway_transport;
	} else {
		thost = out->target_addr;
		tport = out->target_port;
		ttp = out->transport;
	}

	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return 500;
	call->b2b = b;
	call->id = ++b->next_call_id;
	call->state = CALL_EARLY;
	call->start_ms = clk_mono_ms();
	call->in_peer = in ? in->tag : 0;
	call->out_peer = out->tag;
	call->inv.call = call;
	call->leg[SIDE_A].call = call;
	call->leg[SIDE_A].side = SIDE_A;
	call->leg[SIDE_A].transport = via_transport(sip);
	call->leg[SIDE_B].call = call;
	call->leg[SIDE_B].side = SIDE_B;
	call->leg[SIDE_B].transport = ttp;
	sbc_callacct_init(&call->acct, out->kind == SBC_DP_POTS
					       ? SBC_CLASS_VGW
					       : SBC_CLASS_STANDARD);
	call_link(b, call);

	/* Leg A: the caller's dialog, answered with our own To-tag. */
	call->leg[SIDE_A].leg = nta_leg_tcreate(
		b->agent, on_leg_request, &call->leg[SIDE_A],
		SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_to),
		SIPTAG_TO(sip->sip_from),
		NTATAG_REMOTE_CSEQ(sip->sip_cseq->cs_seq), TAG_END());
	if (call->leg[SIDE_A].leg == NULL)
		goto out_fail;
	nta_leg_tag(call->leg[SIDE_A].leg, NULL);
	nta_leg_server_route(call->leg[SIDE_A].leg, sip->sip_record_route,
			     sip->sip_contact);
	nta_incoming_tag(irq, nta_leg_get_tag(call->leg[SIDE_A].leg));
	call->inv.irq = irq;
	nta_incoming_bind(irq, on_invite_ack_cancel, &call->inv);
	nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());

	/* Leg B: a new dialog towards the target; nothing of A's topology. */
	make_call_id(b, call->id, call_id, sizeof(call_id));
	snprintf(from, sizeof(from), "%s <sip:%s@%s>",
		 sip->sip_from->a_display ? sip->sip_from->a_display : "",
		 sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user
						: "anonymous",
		 leg_host(b, ttp));
	snprintf(to, sizeof(to), "<sip:%s@%s:%u>", number, thost, tport);
	snprintf(ruri, sizeof(ruri), "sip:%s@%s:%u;transport=%s", number,
		 thost, tport, sbc_transport_name(ttp));
	snprintf(mf, sizeof(mf), "%lu",
		 sip->sip_max_forwards
			 ? (unsigned long)sip->sip_max_forwards->mf_count - 1
			 : 69UL);
	call->leg[SIDE_B].leg = nta_leg_tcreate(
		b->agent, on_leg_request, &call->leg[SIDE_B],
		SIPTAG_CALL_ID_STR(call_id), SIPTAG_FROM_STR(from),
		SIPTAG_TO_STR(to), TAG_END());
	if (call->leg[SIDE_B].leg == NULL)
		goto out_fail;
	nta_leg_tag(call->leg[SIDE_B].leg, NULL);
	call->inv.orq = nta_outgoing_tcreate(
		call->leg[SIDE_B].leg, on_invite_response, &call->inv, NULL,
		SIP_METHOD_INVITE, (url_string_t const *)ruri,
		SIPTAG_CONTACT_STR(leg_contact(b, ttp)),
		SIPTAG_MAX_FORWARDS_STR(mf), SIPTAG_ALLOW_STR(ALLOW_METHODS),
		SIPTAG_CONTENT_TYPE(sip->sip_content_type),
		SIPTAG_CONTENT_DISPOSITION(sip->sip_content_disposition),
		SIPTAG_AUTHORIZATION(sip->sip_authorization),
		SIPTAG_PROXY_AUTHORIZATION(sip->sip_proxy_authorization),
		SIPTAG_PRIVACY(sip->sip_privacy),
		SIPTAG_UNKNOWN(sip->sip_unknown),
		SIPTAG_PAYLOAD(sip->sip_payload), TAG_END());
	if (call->inv.orq == NULL)
		goto out_fail;
	call->inv.out_cseq = nta_outgoing_cseq(call->inv.orq);
	sbc_callacct_start(&call->acct, b->counters);
	return 0;

out_fail:
	log_msg(LOG_LVL_ERR, "SBC", "CALL_FAIL",
		"call %" PRIu64 ": cannot create outbound leg to %s:%u",
		call->id, thost, tport);
	if (call->inv.irq == NULL) {
		nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		nta_incoming_destroy(irq);
	}
	call_destroy(call);
	return 0;
}

static struct sbc_b2bua *b2bua_of_default(struct sbc_leg *magic)
{
	return (struct sbc_b2bua *)((char *)magic -
				    offsetof(struct sbc_b2bua, default_magic));
}

/* Requests outside any dialog: new INVITEs, OPTIONS, strays. */
static int on_default_request(struct sbc_leg *magic, nta_leg_t *leg,
			      nta_incoming_t *irq, sip_t const *sip)
{
	struct sbc_b2bua *b = b2bua_of_default(magic);
	sip_method_t m = sip->sip_request->rq_method;

	(void)leg;
	switch (m) {
	case sip_method_invite:
		if (sip->sip_to && sip->sip_to->a_tag)
			return 481; /* a re-INVITE for a dialog we do not know */
		return handle_invite(b, irq, sip);
	case sip_method_options:
		/* Answered locally, also while draining or over threshold. */
		nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(ALLOW_METHODS),
		      SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	case sip_method_ack:
		nta_incoming_destroy(irq);
		return 0;
	case sip_method_bye:
	case sip_method_cancel:
	case sip_method_update:
	case sip_method_info:
	case sip_method_prack:
	case sip_method_notify:
	case sip_method_refer:
		if (sip->sip_to && sip->sip_to->a_tag)
			return 481;
		break;
	default:
		break;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return 483;
	nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(ALLOW_METHODS),
	      TAG_END());
	nta_incoming_destroy(irq);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Timers: no-answer, maximum duration, stop */

/*
 * Every SWEEP_MS: cancel calls unanswered for longer than `timers expires`,
 * end calls older than `call max-duration` (the reaper), drop the outbound
 * INVITE transaction once retransmitted 2xx can no longer come, and finish
 * stopping. The list is walked in full: O(calls) pointer steps, a few
 * microseconds per thousand calls.
 */
static void on_sweep(struct sbc_b2bua *b, su_timer_t *t, su_timer_arg_t *arg)
{
	const struct sbc_settings *s = settings(b);
	int64_t now = clk_mono_ms();
	int64_t max_ms = (int64_t)s->max_duration_s * 1000;
	struct sbc_call *call, *next;

	(void)t;
	(void)arg;
	for (call = b->calls; call; call = next) {
		next = call->next;
		if (call->state == CALL_EARLY &&
		    now - call->start_ms >= (int64_t)s->expires_ms) {
			call_end(call, SIP_408_REQUEST_TIMEOUT);
			continue;
		}
		if (max_ms && now - call->start_ms >= max_ms &&
		    call->state != CALL_ENDING &&
		    call->state != CALL_CANCELLING) {
			log_msg(LOG_LVL_NOTICE, "SBC", "CALL_REAPED",
				"call %" PRIu64 " ended after %u s (call max-duration)",
				call->id, s->max_duration_s);
			call_end(call, SIP_503_SERVICE_UNAVAILABLE);
			continue;
		}
		if (call->state == CALL_ESTABLISHED && call->inv.orq &&
		    now - call->answer_ms >= INVITE_ORQ_KEEP_MS) {
			nta_outgoing_destroy(call->inv.orq);
			call->inv.orq = NULL;
		}
		if (call->inv.irq && call->state == CALL_ESTABLISHED) {
			nta_incoming_destroy(call->inv.irq);
			call->inv.irq = NULL;
		}
	}
	if (b->stopping &&
	    (b->calls == NULL || now >= b->stop_deadline_ms))
		su_root_break(b->root);
}

/* ---------------------------------------------------------------------- */
/* Commands from other threads */

static void on_cmd(struct sbc_b2bua *b, su_msg_r msg, struct sbc_cmd *cmd)
{
	struct sbc_call *call, *next;

	(void)msg;
	switch (cmd->kind) {
	case CMD_RELOAD:
		sbc_config_free(&b->cfg);
		sbc_dptable_free(&b->dp);
		b->cfg = cmd->cfg;
		b->dp = cmd->dp;
		cmd->cfg = NULL;
		cmd->dp = NULL;
		break;
	case CMD_STOP:
		b->stopping = true;
		b->stop_deadline_ms = clk_mono_ms() + cmd->linger_ms;
		for (call = b->calls; call; call = next) {
			next = call->next;
			call_end(call, SIP_503_SERVICE_UNAVAILABLE);
		}
		break;
	}
}

static void cmd_deinit(struct sbc_cmd *cmd)
{
	sbc_config_free(&cmd->cfg);
	sbc_dptable_free(&cmd->dp);
}

/*
 * Post a command to the SIP thread. The message owns what cmd points to from
 * here on: on any failure it is freed here (or by the deinitializer).
 */
static int send_cmd(struct sbc_b2bua *b, const struct sbc_cmd *cmd)
{
	su_msg_r msg = SU_MSG_R_INIT;
	struct sbc_cmd copy = *cmd;

	if (su_msg_create(msg, su_root_task(b->root), su_task_null, on_cmd,
			  sizeof(*cmd)) != 0) {
		cmd_deinit(&copy);
		return -1;
	}
	*su_msg_data(msg) = copy;
	su_msg_deinitializer(msg, cmd_deinit);
	return su_msg_send(msg);
}

/* ---------------------------------------------------------------------- */
/* The SIP thread */

static int bind_listeners(struct sbc_b2bua *b)
{
	const struct sbc_settings *s = settings(b);
	char url[160];
	size_t i;

	for (i = 0; i < s->n_listen; i++) {
		const struct sbc_listen *l = &s->listen[i];
		const char *tp = sbc_transport_name(l->transport);

		snprintf(url, sizeof(url), "sip:%s:%u;transport=%s", l->addr,
			 l->port, tp);
		if (nta_agent_add_tport(b->agent, (url_string_t const *)url,
					TPTAG_UDP_RMEM(UDP_BUFFER_BYTES),
					TPTAG_UDP_WMEM(UDP_BUFFER_BYTES),
					TAG_END()) < 0) {
			snprintf(b->start_err, sizeof(b->start_err),
				 "cannot listen on %s %s:%u: %s", tp, l->addr,
				 l->port, strerror(errno));
			return -1;
		}
		if (b->contact[l->transport][0] == '\0') {
			snprintf(b->contact[l->transport],
				 sizeof(b->contact[0]),
				 "<sip:%s:%u;transport=%s>", l->addr, l->port,
				 tp);
			snprintf(b->host[l->transport], sizeof(b->host[0]),
				 "%s", l->addr);
		}
		log_msg(LOG_LVL_NOTICE, "SBC", "LISTEN", "listening on %s %s:%u",
			tp, l->addr, l->port);
	}
	return 0;
}

static int sip_setup(struct sbc_b2bua *b)
{
	b->root = su_root_create(b);
	if (b->root == NULL) {
		snprintf(b->start_err, sizeof(b->start_err),
			 "cannot create su_root");
		return -1;
	}
	b->agent = nta_agent_create(b->root, NTA_NO_TRANSPORT, NULL, NULL, NTATAG_UA(1),
				    NTATAG_MERGE_482(0),
				    NTATAG_UDP_MTU(65535),
				    NTATAG_MAX_PROCEEDING(MAX_PROCEEDING),
				    NTATAG_CANCEL_487(1), TAG_END());
	if (b->agent == NULL) {
		snprintf(b->start_err, sizeof(b->start_err),
			 "cannot create the SIP agent");
		return -1;
	}
	if (bind_listeners(b) < 0)
		return -1;
	b->default_leg = nta_leg_tcreate(b->agent, on_default_request,
					 &b->default_magic, NTATAG_NO_DIALOG(1),
					 TAG_END());
	b->sweep = su_timer_create(su_root_task(b->root), SWEEP_MS);
	if (b->default_leg == NULL || b->sweep == NULL ||
	    su_timer_set_for_ever(b->sweep, on_sweep, NULL) < 0) {
		snprintf(b->start_err, sizeof(b->start_err),
			 "cannot create the default leg or timer");
		return -1;
	}
	return 0;
}

static void sip_teardown(struct sbc_b2bua *b)
{
	while (b->calls)
		call_destroy(b->calls);
	if (b->sweep)
		su_timer_destroy(b->sweep);
	b->sweep = NULL;
	if (b->default_leg)
		nta_leg_destroy(b->default_leg);
	b->default_leg = NULL;
	if (b->agent)
		nta_agent_destroy(b->agent);
	b->agent = NULL;
	if (b->root)
		su_root_destroy(b->root);
	b->root = NULL;
}

static void *sip_thread(void *arg)
{
	struct sbc_b2bua *b = arg;
	int rc = sip_setup(b);

	pthread_mutex_lock(&b->lock);
	b->started = rc == 0 ? 1 : -1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (rc == 0)
		su_root_run(b->root);
	sip_teardown(b);
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Public API (any thread) */

struct sbc_b2bua *sbc_b2bua_start(struct sbc_config *cfg,
				  struct sbc_dptable *dp,
				  struct sbc_counters *counters, char *err,
				  size_t errlen)
{
	struct sbc_b2bua *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		sbc_config_free(&cfg);
		sbc_dptable_free(&dp);
		return NULL;
	}
	b->cfg = cfg;
	b->dp = dp;
	b->counters = counters;
	atomic_store(&b->service_up, true);
	if (getrandom(&b->callid_salt, sizeof(b->callid_salt), 0) !=
	    sizeof(b->callid_salt))
		b->callid_salt = (uint64_t)clk_wall_ms();
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	su_init();
	if (pthread_create(&b->thread, NULL, sip_thread, b) != 0) {
		snprintf(err, errlen, "cannot start the SIP thread");
		goto out_free;
	}
	pthread_mutex_lock(&b->lock);
	while (b->started == 0)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	if (b->started < 0) {
		pthread_join(b->thread, NULL);
		snprintf(err, errlen, "%s", b->start_err);
		goto out_free;
	}
	return b;

out_free:
	sbc_config_free(&b->cfg);
	sbc_dptable_free(&b->dp);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	su_deinit();
	free(b);
	return NULL;
}

int sbc_b2bua_reload(struct sbc_b2bua *b, struct sbc_config *cfg,
		     struct sbc_dptable *dp)
{
	struct sbc_cmd cmd = {.kind = CMD_RELOAD, .cfg = cfg, .dp = dp};

	return send_cmd(b, &cmd) == 0 ? 0 : -1;
}

void sbc_b2bua_drain(struct sbc_b2bua *b)
{
	atomic_store(&b->draining, true);
}

void sbc_b2bua_set_service(struct sbc_b2bua *b, bool up)
{
	atomic_store(&b->service_up, up);
}

bool sbc_b2bua_service_up(const struct sbc_b2bua *b)
{
	return atomic_load(&((struct sbc_b2bua *)b)->service_up);
}

unsigned sbc_b2bua_calls(const struct sbc_b2bua *b)
{
	return atomic_load(&((struct sbc_b2bua *)b)->ncalls);
}

void sbc_b2bua_stop(struct sbc_b2bua **pb, unsigned linger_ms)
{
	struct sbc_b2bua *b;
	struct sbc_cmd cmd = {.kind = CMD_STOP, .linger_ms = linger_ms};

	if (pb == NULL || *pb == NULL)
		return;
	b = *pb;
	if (send_cmd(b, &cmd) != 0)
		log_msg(LOG_LVL_ERR, "SBC", "STOP",
			"cannot signal the SIP thread");
	pthread_join(b->thread, NULL);
	sbc_config_free(&b->cfg);
	sbc_dptable_free(&b->dp);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	su_deinit();
	free(b);
	*pb = NULL;
}
