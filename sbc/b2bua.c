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
#define SU_MSG_ARG_T struct b2bua_msg

#include "sbc/b2bua.h"

#include "sbc/callacct.h"
#include "common/clk.h"
#include "common/err.h"
#include "common/fileio.h"
#include "sbc/keepalive.h"
#include "common/log.h"
#include "sbc/sdpfilter.h"
#include "sbc/sipstats.h"
#include "sbc/tlsfiles.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#define SWEEP_MS 200
#define STALL_WARN_MS 250 /* sweep this late: log SIP_STALL */
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
/* How long a caller of sbc_b2bua_snapshot()/_clear_call() waits. */
#define QUERY_WAIT_MS 2000
/* `clear call voice` on an unanswered call: the caller's final answer. */
#define CLEARED_STATUS SIP_487_REQUEST_TERMINATED
/* The resolver's configuration, made from `ip name-server`: STATE_DIR/... */
#define RESOLV_CONF_NAME "resolv.conf"

enum side { SIDE_A = 0, SIDE_B = 1 };

enum sweep_list { SWEEP_NONE, SWEEP_EARLY, SWEEP_FRESH, SWEEP_KEPT,
		  SWEEP_LISTS };

TAILQ_HEAD(call_list, sbc_call);

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
	LIST_ENTRY(sbc_txn) link; /* call->txns (not the call's inv) */
};

struct sbc_call {
	struct sbc_b2bua *b2b;
	uint64_t id;
	enum call_state state;
	bool alerting; /* an 18x was relayed to A */
	/* `clear call voice causecode`: "Q.850;cause=N" for the Reason
	 * header of our BYEs, CANCEL and final answer; "" = none. */
	char reason[32];
	struct sbc_callacct acct;
	struct sbc_leg leg[2];
	struct sbc_txn inv; /* the initial INVITE: irq from A, orq to B */
	LIST_HEAD(, sbc_txn) txns; /* relayed in-dialog ones, newest first */
	nta_outgoing_t *bye[2]; /* our BYEs towards each side */
	int64_t start_ms;
	int64_t answer_ms;
	/*
	 * What `show call active voice brief` shows, filled as the call
	 * goes; state, class and counting are taken from the fields above
	 * when a snapshot is copied (call_view()).
	 */
	struct sbc_call_view view;
	/* The outbound dial-peer's codec policy, for A's offers (a copy). */
	struct sbc_sdp_policy sdp;
	bool dns_target; /* B is a dns: session target */
	TAILQ_ENTRY(sbc_call) link; /* b2b->calls, oldest first */
	/*
	 * At most one of the sweep's lists (enum sweep_list): early calls,
	 * calls just established (their INVITE irq still to let go), and
	 * established calls keeping their INVITE orq. The sweep visits only
	 * these, so its cost follows calls being set up, not calls held.
	 */
	enum sweep_list sweep;
	TAILQ_ENTRY(sbc_call) sweep_link;
};

enum cmd_kind { CMD_RELOAD, CMD_STOP, CMD_QUERY };

enum query_kind { QUERY_SNAPSHOT, QUERY_CLEAR };

/*
 * A question from another thread to the SIP thread, answered in place.
 * Two references: the asking thread's and the message's. The asking
 * thread waits for `done` at most QUERY_WAIT_MS and then lets go of its
 * reference, answered or not; whichever side lets go last frees the query
 * and anything the answer still holds. So a late answer is never written
 * into freed memory and never leaks.
 */
struct sbc_query {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	bool done;   /* the answer below is complete */
	bool failed; /* the SIP thread never ran it, or ran out of memory */
	enum query_kind kind;
	uint64_t id; /* QUERY_CLEAR: the call */
	unsigned cause; /* QUERY_CLEAR: Q.850 cause for Reason; 0 = none */
	/* Answer. */
	struct sbc_call_view *views; /* QUERY_SNAPSHOT, owned by the query */
	size_t n;
	int clear_rc; /* QUERY_CLEAR: 0 cleared, 1 no such call */
};

/* A command posted to the SIP thread (send_cmd): su_msg's payload. */
struct b2bua_msg {
	enum cmd_kind kind;
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	unsigned linger_ms;
	struct sbc_query *query;
};

/* Call ids: unique for the process lifetime, whatever b2bua made them. */
static _Atomic uint64_t last_call_id;

struct sbc_b2bua {
	/* Set before the thread starts, read-only afterwards. */
	struct sbc_counters *counters;
	pthread_t thread;
	char contact[3][128]; /* per transport, "" when not listening */
	unsigned bound_port[SBC_CFG_MAX_LISTEN]; /* per listen entry */
	char host[3][64];
	char tls_dir[1024];	/* STATE_DIR/tls when TLS is set up, else "" */
	unsigned tls_policy;	/* enum tport_tls_verify_policy */

	/* Start-up handshake. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int started; /* 0 starting, 1 running, -1 failed */
	char start_err[256];

	/* Shared with other threads. */
	_Atomic bool draining;
	_Atomic bool service_up;
	_Atomic unsigned ncalls;
	struct sbc_sipstats *sipstats; /* written here, read anywhere */
	/* OPTIONS keepalive: driven here, its states read anywhere. */
	struct sbc_keepalive *ka;
	/*
	 * Where dns: dial-peers were last reached (the source of their last
	 * answer), for `show dial-peer voice summary`: written here, read
	 * anywhere, under res_lock.
	 */
	pthread_mutex_t res_lock;
	struct peer_addr {
		unsigned tag;
		char addr[64];
	} *res;
	size_t n_res, cap_res;
	char resolv_conf[1100]; /* STATE_DIR/resolv.conf in use, or "" */

	/*
	 * The SIP thread's su_root: created by that thread before it reports
	 * itself started (the start-up handshake above orders the write
	 * before any other thread's read) and destroyed when the thread ends,
	 * after the stop command, the last one sent. Other threads only
	 * read the pointer to address su_msg_send() to its task (send_cmd),
	 * which Sofia-SIP allows from any thread; they never run the root.
	 */
	su_root_t *root;

	/* SIP thread only. */
	struct sbc_leg default_magic; /* magic of the default leg */
	nta_agent_t *agent;
	nta_leg_t *default_leg;
	su_timer_t *sweep;
	int64_t sweep_last_ms;	  /* when the sweep last ran: stall check */
	struct sbc_config *cfg;
	struct sbc_dptable *dp;
	struct call_list calls;
	struct call_list lists[SWEEP_LISTS]; /* the sweep's; [SWEEP_NONE] unused */
	uint64_t callid_salt;
	bool tls_up; /* a TLS transport exists: TLS dial-peers can be reached */
	bool stopping;
	int64_t stop_deadline_ms;
};

static void call_destroy(struct sbc_call *call);
static void call_end(struct sbc_call *call, int a_status, const char *a_phrase);
static void peer_resolved_set(void *arg, unsigned tag, const char *addr);
static void response_addr(nta_outgoing_t *orq, char *out, size_t len);
static void resolv_reload(struct sbc_b2bua *b, const struct sbc_config *cfg);

/* ---------------------------------------------------------------------- */
/* Helpers */

static const struct sbc_settings *settings(const struct sbc_b2bua *b)
{
	return sbc_config_settings(b->cfg);
}

/* ---------------------------------------------------------------------- */
/* Message statistics (sipstats.h, docs/internals/sipstats.md) */

static enum sbc_sip_method stats_method(sip_method_t m)
{
	switch (m) {
	case sip_method_invite:
		return SBC_SIP_INVITE;
	case sip_method_ack:
		return SBC_SIP_ACK;
	case sip_method_bye:
		return SBC_SIP_BYE;
	case sip_method_cancel:
		return SBC_SIP_CANCEL;
	case sip_method_options:
		return SBC_SIP_OPTIONS;
	case sip_method_prack:
		return SBC_SIP_PRACK;
	case sip_method_update:
		return SBC_SIP_UPDATE;
	case sip_method_info:
		return SBC_SIP_INFO;
	case sip_method_refer:
		return SBC_SIP_REFER;
	case sip_method_notify:
		return SBC_SIP_NOTIFY;
	case sip_method_subscribe:
		return SBC_SIP_SUBSCRIBE;
	case sip_method_message:
		return SBC_SIP_MESSAGE;
	case sip_method_register:
		return SBC_SIP_REGISTER;
	default:
		return SBC_SIP_OTHER;
	}
}

static void count_request(struct sbc_b2bua *b, enum sbc_sipstats_dir dir,
			  sip_method_t m)
{
	sbc_sipstats_request(b->sipstats, dir, stats_method(m));
}

static void count_response(struct sbc_b2bua *b, enum sbc_sipstats_dir dir,
			   sip_method_t m, int status)
{
	sbc_sipstats_response(b->sipstats, dir, stats_method(m), status);
}

/* A status returned from an nta callback is sent by nta: count it. */
static int answered(struct sbc_b2bua *b, sip_method_t m, int status)
{
	if (status >= 100)
		count_response(b, SBC_SIPSTATS_OUT, m, status);
	return status;
}

/* nta_incoming_treply() that counts the response it sent. */
static int reply(struct sbc_b2bua *b, nta_incoming_t *irq, int status,
		 char const *phrase, tag_type_t tag, tag_value_t value, ...)
{
	ta_list ta;
	int rc;

	ta_start(ta, tag, value);
	rc = nta_incoming_treply(irq, status, phrase, ta_tags(ta));
	ta_end(ta);
	if (rc == 0)
		count_response(b, SBC_SIPSTATS_OUT, nta_incoming_method(irq),
			       status);
	return rc;
}

/* A request handed to nta (orq not NULL) counts as sent. */
static nta_outgoing_t *sent(struct sbc_b2bua *b, sip_method_t m,
			    nta_outgoing_t *orq)
{
	if (orq)
		count_request(b, SBC_SIPSTATS_OUT, m);
	return orq;
}

static void cancel_out(struct sbc_b2bua *b, nta_outgoing_t *orq)
{
	if (nta_outgoing_cancel(orq) == 0)
		count_request(b, SBC_SIPSTATS_OUT, sip_method_cancel);
}

/* The same with a Reason header (RFC 3326); reason "" = none. */
static void cancel_out_reason(struct sbc_b2bua *b, nta_outgoing_t *orq,
			      const char *reason)
{
	if (reason[0] == '\0') {
		cancel_out(b, orq);
		return;
	}
	if (nta_outgoing_tcancel(orq, NULL, NULL, SIPTAG_REASON_STR(reason),
				 TAG_END()) != NULL)
		count_request(b, SBC_SIPSTATS_OUT, sip_method_cancel);
}

/*
 * The source address of the response being delivered on orq, as far as
 * the stack recorded one: its family and length (AF_UNSPEC and 0 when
 * there is no response or no address).
 */
static void response_source(nta_outgoing_t *orq, int *family, size_t *len)
{
	msg_t *msg = nta_outgoing_getresponse(orq); /* a new reference */
	su_addrinfo_t *ai;

	*family = AF_UNSPEC;
	*len = 0;
	if (msg == NULL)
		return;
	ai = msg_addrinfo(msg);
	if (ai != NULL) {
		*family = ai->ai_family;
		*len = (size_t)ai->ai_addrlen;
	}
	msg_destroy(msg);
}

/*
 * Whether the response being delivered on orq came from the network: the
 * stack also delivers responses it makes up itself (408 on timeout, 503 on
 * a transport error), and those have no source address.
 */
static bool from_network(nta_outgoing_t *orq)
{
	int family;
	size_t len;

	response_source(orq, &family, &len);
	return len > 0;
}

/*
 * The response was made up by nta (a transport error): nta gives it an
 * address of family AF_UNSPEC, which from_network() does not tell apart.
 */
static bool made_by_stack(nta_outgoing_t *orq)
{
	int family;
	size_t len;

	response_source(orq, &family, &len);
	return family == AF_UNSPEC;
}

/*
 * A response to one of our requests. For a final non-2xx answer to an
 * INVITE the stack sends the ACK itself: count that too.
 */
static void count_answer(struct sbc_b2bua *b, nta_outgoing_t *orq,
			 sip_t const *sip)
{
	sip_method_t m = nta_outgoing_method(orq);
	int status;

	if (sip == NULL || sip->sip_status == NULL || !from_network(orq))
		return; /* made up by the stack (timeout, transport error) */
	status = sip->sip_status->st_status;
	count_response(b, SBC_SIPSTATS_IN, m, status);
	if (m == sip_method_invite && status >= 300)
		count_request(b, SBC_SIPSTATS_OUT, sip_method_ack);
}

/*
 * A CANCEL matched one of our server INVITEs: nta answers it 200 and,
 * when the INVITE had no final answer yet, answers the INVITE 487.
 */
static void count_cancel(struct sbc_b2bua *b, bool invite_unanswered)
{
	count_response(b, SBC_SIPSTATS_OUT, sip_method_cancel, 200);
	if (invite_unanswered)
		count_response(b, SBC_SIPSTATS_OUT, sip_method_invite, 487);
}

/* Copy the stack's retransmission totals (SIP thread, every sweep). */
static void sample_retries(struct sbc_b2bua *b)
{
	usize_t req = 0, resp = 0, rcvd = 0;
	uint64_t v[SBC_SIPSTATS_RETRY_COUNT];

	nta_agent_get_stats(b->agent, NTATAG_S_RETRY_REQUEST_REF(req),
			    NTATAG_S_RETRY_RESPONSE_REF(resp),
			    NTATAG_S_RECV_RETRY_REF(rcvd), TAG_END());
	v[SBC_SIPSTATS_RETRY_REQUEST] = req;
	v[SBC_SIPSTATS_RETRY_RESPONSE] = resp;
	v[SBC_SIPSTATS_RETRY_RECEIVED] = rcvd;
	sbc_sipstats_set_retries(b->sipstats, v);
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

/*
 * The transport a request really came over: a caller's Via may claim TLS
 * over plain UDP. Falls back to the Via when nta cannot tell.
 */
static enum sbc_transport arrival_transport(struct sbc_b2bua *b,
					    nta_incoming_t *irq,
					    sip_t const *sip)
{
	tport_t *tp = nta_incoming_transport(b->agent, irq, NULL);
	enum sbc_transport t;

	if (tp == NULL)
		return via_transport(sip);
	if (tport_has_tls(tp))
		t = SBC_TP_TLS;
	else if (tport_is_stream(tp))
		t = SBC_TP_TCP;
	else
		t = SBC_TP_UDP;
	tport_unref(tp);
	return t;
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
static int refuse(struct sbc_b2bua *b, nta_incoming_t *irq, int status,
		  const char *phrase, const char *retry_after)
{
	if (retry_after)
		reply(b, irq, status, phrase,
		      SIPTAG_RETRY_AFTER_STR(retry_after), TAG_END());
	else
		reply(b, irq, status, phrase, TAG_END());
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
	reply(b, irq, status, phrase,
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

/*
 * ACK a 2xx towards side `to` with the CSeq of the INVITE it answers:
 * the end-to-end ACK carries the body of ack (NULL: none).
 */
static void send_ack(struct sbc_call *call, enum side to, uint32_t cseq,
		     sip_t const *ack)
{
	char cseq_str[32];
	nta_outgoing_t *orq;

	snprintf(cseq_str, sizeof(cseq_str), "%" PRIu32 " ACK", cseq);
	orq = sent(call->b2b, sip_method_ack, nta_outgoing_tcreate(
		call->leg[to].leg, NULL, NULL, NULL, SIP_METHOD_ACK, NULL,
		SIPTAG_CSEQ_STR(cseq_str),
		TAG_IF(ack, SIPTAG_CONTENT_TYPE(ack ? ack->sip_content_type
						    : NULL)),
		TAG_IF(ack, SIPTAG_PAYLOAD(ack ? ack->sip_payload : NULL)),
		TAG_END()));
	if (orq)
		nta_outgoing_destroy(orq);
}

/* ---------------------------------------------------------------------- */
/* Call list */

static void call_link(struct sbc_b2bua *b, struct sbc_call *call)
{
	TAILQ_INSERT_TAIL(&b->calls, call, link);
	atomic_fetch_add(&b->ncalls, 1);
}

static void call_unlink(struct sbc_b2bua *b, struct sbc_call *call)
{
	TAILQ_REMOVE(&b->calls, call, link);
	atomic_fetch_sub(&b->ncalls, 1);
}

/* Move a call to the tail of sweep list `to` (SWEEP_NONE: off all lists). */
static void sweep_move(struct sbc_call *call, enum sweep_list to)
{
	struct call_list *lists = call->b2b->lists;

	if (call->sweep != SWEEP_NONE)
		TAILQ_REMOVE(&lists[call->sweep], call, sweep_link);
	call->sweep = to;
	if (to != SWEEP_NONE)
		TAILQ_INSERT_TAIL(&lists[to], call, sweep_link);
}

/*
 * Every state change goes through here so that the sweep's lists follow:
 * EARLY calls are watched for the no-answer timer and failed TLS
 * connections; a call just ESTABLISHED lets go of its INVITE irq at the
 * next sweep and keeps its orq for INVITE_ORQ_KEEP_MS; any other state
 * needs no sweep.
 */
static void call_set_state(struct sbc_call *call, enum call_state st)
{
	call->state = st;
	if (st == CALL_EARLY)
		sweep_move(call, SWEEP_EARLY);
	else if (st == CALL_ESTABLISHED)
		sweep_move(call, SWEEP_FRESH);
	else
		sweep_move(call, SWEEP_NONE);
}

static void txn_free(struct sbc_txn *t)
{
	if (t->orq)
		nta_outgoing_destroy(t->orq);
	if (t->irq) {
		/* An unanswered request must not be left to nta's 500. */
		if (nta_incoming_status(t->irq) < 200)
			reply(t->call->b2b, t->irq, SIP_481_NO_TRANSACTION,
			      TAG_END());
		nta_incoming_destroy(t->irq);
	}
	free(t);
}

static void txn_unlink_free(struct sbc_txn *t)
{
	LIST_REMOVE(t, link);
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
	while (!LIST_EMPTY(&call->txns))
		txn_unlink_free(LIST_FIRST(&call->txns));
	for (i = 0; i < 2; i++) {
		if (call->bye[i])
			nta_outgoing_destroy(call->bye[i]);
	}
	if (call->inv.orq)
		nta_outgoing_destroy(call->inv.orq);
	if (call->inv.irq) {
		if (nta_incoming_status(call->inv.irq) < 200)
			reply(b, call->inv.irq, SIP_500_INTERNAL_SERVER_ERROR,
			      TAG_END());
		nta_incoming_destroy(call->inv.irq);
	}
	for (i = 0; i < 2; i++) {
		if (call->leg[i].leg)
			nta_leg_destroy(call->leg[i].leg);
	}
	sweep_move(call, SWEEP_NONE);
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

	count_answer(call->b2b, orq, sip);
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
	call->bye[to] = sent(
		call->b2b, sip_method_bye,
		nta_outgoing_tcreate(
			call->leg[to].leg, on_bye_response, &call->inv, NULL,
			SIP_METHOD_BYE, NULL,
			TAG_IF(call->reason[0],
			       SIPTAG_REASON_STR(call->reason)),
			TAG_END()));
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
		call_set_state(call, CALL_CANCELLING);
		if (call->inv.irq && nta_incoming_status(call->inv.irq) < 200)
			reply(call->b2b, call->inv.irq, a_status, a_phrase,
			      TAG_IF(call->reason[0],
				     SIPTAG_REASON_STR(call->reason)),
			      TAG_END());
		if (call->inv.orq)
			cancel_out_reason(call->b2b, call->inv.orq,
					  call->reason);
		else
			call_destroy(call);
		break;
	case CALL_CANCELLING:
	case CALL_ENDING:
		break;
	case CALL_ANSWERED:
		/* A never ACKed (or we are stopping): confirm B, then BYE. */
		send_ack(call, SIDE_B, call->inv.out_cseq, NULL);
		/* fall through */
	case CALL_ESTABLISHED:
		call_set_state(call, CALL_ENDING);
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

	count_answer(b, orq, sip);
	if (status == 100)
		return 0;
	if (m == sip_method_invite && status >= 200 && status < 300 &&
	    t->irq && nta_incoming_status(t->irq) >= 300) {
		/*
		 * The 2xx crossed the requester's CANCEL, which nta already
		 * answered 487: nobody will ACK this 2xx end to end, so ACK it
		 * here (the session keeps the previous offer/answer).
		 */
		send_ack(call, (enum side)!t->from, nta_outgoing_cseq(orq),
			    NULL);
		txn_unlink_free(t);
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
	txn_unlink_free(t);
	return 0;
}

static struct sbc_txn *find_awaiting_ack(struct sbc_call *call, enum side from)
{
	struct sbc_txn *t;

	LIST_FOREACH(t, &call->txns, link) {
		if (t->awaiting_ack && t->from == from)
			return t;
	}
	return NULL;
}

static bool invite_pending(struct sbc_call *call)
{
	struct sbc_txn *t;

	LIST_FOREACH(t, &call->txns, link) {
		if (t->irq && nta_incoming_method(t->irq) == sip_method_invite)
			return true;
	}
	return false;
}

static void relay_ack(struct sbc_call *call, struct sbc_txn *t,
		      sip_t const *ack)
{
	send_ack(call, (enum side)!t->from, t->out_cseq, ack);
	txn_unlink_free(t);
}

static int on_txn_ack_cancel(struct sbc_txn *t, nta_incoming_t *irq,
			     sip_t const *sip)
{
	struct sbc_call *call = t->call;

	(void)irq;
	if (sip)
		count_request(call->b2b, SBC_SIPSTATS_IN,
			      sip->sip_request->rq_method);
	if (sip && sip->sip_request->rq_method == sip_method_cancel) {
		count_cancel(call->b2b, !t->awaiting_ack);
		if (t->orq)
			cancel_out(call->b2b, t->orq);
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
 * The body to send towards B for an SDP offer from A: the outbound
 * dial-peer's codec policy applied (docs/sip.md, "Codecs and DTMF").
 * Returns 0 with *body a malloc'd text to send (NULL: send A's body as it
 * is, when there is no policy or no SDP), or 488 when no allowed codec is
 * left or the SDP cannot be read (logged with the call id).
 */
static int offer_to_b(const struct sbc_sdp_policy *pol, sip_t const *sip,
		      uint64_t id, char **body)
{
	const sip_payload_t *pl = sip->sip_payload;
	enum sbc_sdp_result rc;
	char why[128] = "";
	size_t cap, used;

	*body = NULL;
	if ((pol->n_codecs == 0 && !pol->add_nte) || pl == NULL ||
	    pl->pl_len == 0 || sip->sip_content_type == NULL ||
	    sip->sip_content_type->c_type == NULL ||
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)
		return 0;
	cap = (size_t)pl->pl_len + SBC_SDP_EXTRA * SBC_SDP_MAX_MEDIA + 1;
	*body = malloc(cap);
	if (*body == NULL)
		return 500;
	rc = sbc_sdp_filter(pl->pl_data, (size_t)pl->pl_len, pol, *body, cap,
			    &used, why, sizeof(why));
	if (rc == SBC_SDP_OK)
		return 0;
	free(*body);
	*body = NULL;
	if (rc == SBC_SDP_NO_CODEC)
		log_msg(LOG_LVL_INFO, "SBC", "CODEC_MISMATCH",
			"call %" PRIu64 ": no codec of the offer is allowed "
			"towards the dial-peer: 488",
			id);
	else
		log_msg(LOG_LVL_NOTICE, "SBC", "SDP_BAD",
			"call %" PRIu64 ": offer not filtered (%s): 488", id,
			why);
	return 488;
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
	char *body = NULL;
	int status;

	if (call->leg[to].leg == NULL || nta_leg_get_rtag(call->leg[to].leg) ==
						   NULL) {
		/* The other side has no dialog yet (no To-tag seen). */
		return 481;
	}
	if (m == sip_method_invite && invite_pending(call))
		return 491;
	/* A new offer from the caller meets the same codec policy. */
	if (from == SIDE_A &&
	    (m == sip_method_invite || m == sip_method_update) &&
	    (status = offer_to_b(&call->sdp, sip, call->id, &body)) != 0)
		return status;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		free(body);
		return 500;
	}
	t->call = call;
	t->from = from;
	t->orq = sent(b, m, nta_outgoing_tcreate(
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
		TAG_IF(body, SIPTAG_PAYLOAD_STR(body)),
		TAG_IF(!body, SIPTAG_PAYLOAD(sip->sip_payload)), TAG_END()));
	free(body);
	if (t->orq == NULL) {
		free(t);
		return 500;
	}
	t->out_cseq = nta_outgoing_cseq(t->orq);
	t->irq = irq;
	LIST_INSERT_HEAD(&call->txns, t, link);
	if (m == sip_method_invite)
		nta_incoming_bind(irq, on_txn_ack_cancel, t);
	return 0;
}

/*
 * A request inside one of a call's dialogs. Returns a status for nta to
 * answer with, or 0 when answered (or relayed) here.
 */
static int leg_request(struct sbc_leg *leg, nta_incoming_t *irq,
		       sip_t const *sip)
{
	struct sbc_call *call = leg->call;
	sip_method_t m = sip->sip_request->rq_method;
	struct sbc_txn *t;

	switch (m) {
	case sip_method_ack:
		/* A 2xx ACK that nta did not tie to its INVITE transaction. */
		if (leg->side == SIDE_A && call->state == CALL_ANSWERED &&
		    sip->sip_cseq->cs_seq == nta_incoming_cseq(call->inv.irq)) {
			send_ack(call, SIDE_B, call->inv.out_cseq, sip);
			call_set_state(call, CALL_ESTABLISHED);
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
			send_ack(call, SIDE_B, call->inv.out_cseq, NULL);
		call_set_state(call, CALL_ENDING);
		send_bye(call, (enum side)!leg->side);
		if (call->bye[!leg->side] == NULL) {
			reply(call->b2b, irq, SIP_200_OK, TAG_END());
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

static int on_leg_request(struct sbc_leg *leg, nta_leg_t *nl,
			  nta_incoming_t *irq, sip_t const *sip)
{
	struct sbc_b2bua *b = leg->call->b2b; /* the call may go in there */
	sip_method_t m = sip->sip_request->rq_method;

	(void)nl;
	count_request(b, SBC_SIPSTATS_IN, m);
	return answered(b, m, leg_request(leg, irq, sip));
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

	count_answer(b, orq, sip);
	if (call->dns_target && from_network(orq)) {
		char addr[64];

		response_addr(orq, addr, sizeof(addr));
		if (addr[0] != '\0')
			peer_resolved_set(b, call->view.out_peer, addr);
	}
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
		if (call->state == CALL_EARLY && call->inv.irq) {
			relay_response(b, call->inv.irq, atp, sip, status,
				       phrase, rtag != NULL);
			call->alerting = true;
		}
		return 0;
	}

	if (status < 300) {
		if (call->state == CALL_CANCELLING) {
			/* The 200 crossed the CANCEL: take the call down. */
			send_ack(call, SIDE_B, call->inv.out_cseq, NULL);
			call_set_state(call, CALL_ENDING);
			send_bye(call, SIDE_B);
			if (call->bye[SIDE_B] == NULL)
				call_destroy(call);
			return 0;
		}
		relay_response(b, call->inv.irq, atp, sip, status, phrase, true);
		call_set_state(call, CALL_ANSWERED);
		call->answer_ms = clk_mono_ms();
		call->view.connect_wall_ms = clk_wall_ms();
		sbc_callacct_answer(&call->acct, b->counters);
		return 0;
	}

	/* 3xx-6xx: nta ACKs B; A's ACK is absorbed by nta. */
	/*
	 * A 503 made by our stack: the TLS connection broke, e.g. B refused
	 * our certificate after a TLS 1.3 handshake that looked complete.
	 */
	if (status == 503 && call->leg[SIDE_B].transport == SBC_TP_TLS &&
	    made_by_stack(orq))
		log_msg(LOG_LVL_ERR, "SBC", "TLS_CONNECT",
			"call %" PRIu64 ": TLS connection to %s failed "
			"(refused, or our certificate not accepted by the peer)",
			call->id, call->view.leg[SIDE_B].remote);
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
	count_request(call->b2b, SBC_SIPSTATS_IN, sip->sip_request->rq_method);
	if (sip->sip_request->rq_method == sip_method_cancel) {
		/* In CALL_EARLY nothing final has been sent to A yet. */
		count_cancel(call->b2b, call->state == CALL_EARLY);
		if (call->state == CALL_EARLY) {
			/* nta answers 487 to A; B's final ends the call. */
			sbc_callacct_end(&call->acct, call->b2b->counters);
			call_set_state(call, CALL_CANCELLING);
			cancel_out(call->b2b, call->inv.orq);
		}
		return 0;
	}
	if (sip->sip_request->rq_method == sip_method_ack &&
	    call->state == CALL_ANSWERED) {
		send_ack(call, SIDE_B, call->inv.out_cseq, sip);
		call_set_state(call, CALL_ESTABLISHED);
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

/*
 * Append the first n bytes of src to the string dst (size len, *used bytes
 * so far), cutting what does not fit; dst stays NUL-terminated.
 */
static void append(char *dst, size_t len, size_t *used, const char *src,
		   size_t n)
{
	if (*used + n >= len)
		n = len - 1 - *used;
	memcpy(dst + *used, src, n);
	*used += n;
	dst[*used] = '\0';
}

/* Copy a URI user part without its parameters, cut to fit. */
static void copy_user(char *dst, size_t len, const char *user)
{
	size_t used = 0;

	dst[0] = '\0';
	if (user)
		append(dst, len, &used, user, strcspn(user, ";"));
}

static void copy_cut(char *dst, size_t len, const char *src)
{
	size_t used = 0;

	dst[0] = '\0';
	append(dst, len, &used, src, strlen(src));
}

/* "host:port" ("[host]:port" for IPv6) into out, cut to fit. */
static void host_port(char *out, size_t len, const char *host,
		      const char *port)
{
	bool v6 = strchr(host, ':') != NULL;
	size_t used = 0;

	out[0] = '\0';
	append(out, len, &used, "[", v6 ? 1 : 0);
	append(out, len, &used, host, strlen(host));
	append(out, len, &used, v6 ? "]:" : ":", v6 ? 2 : 1);
	append(out, len, &used, port, strlen(port));
}

/* Where message msg came from: "addr:port" or "[v6addr]:port"; "" if
 * unknown. Takes the reference msg holds (NULL: none) and drops it. */
static void msg_source(msg_t *msg, char *out, size_t len)
{
	su_sockaddr_t su;
	socklen_t sulen = sizeof(su);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	out[0] = '\0';
	if (msg == NULL)
		return;
	memset(&su, 0, sizeof(su));
	if (msg_get_address(msg, &su, &sulen) == 0 &&
	    getnameinfo(&su.su_sa, sulen, host, sizeof(host), port,
			sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		host_port(out, len, host, port);
	msg_destroy(msg);
}

/* Where a request came from (msg_source). */
static void source_addr(nta_incoming_t *irq, char *out, size_t len)
{
	msg_source(nta_incoming_getrequest(irq), out, len); /* a new ref */
}

/* Remember where dns: dial-peer `tag` answered from ("addr:port"). */
static void peer_resolved_set(void *arg, unsigned tag, const char *addr)
{
	struct sbc_b2bua *b = arg;
	struct peer_addr *n;
	size_t i;

	pthread_mutex_lock(&b->res_lock);
	for (i = 0; i < b->n_res && b->res[i].tag != tag; i++)
		;
	if (i == b->n_res && b->n_res == b->cap_res &&
	    b->cap_res < SBC_CFG_MAX_DIALPEERS) {
		n = realloc(b->res, (b->cap_res ? b->cap_res * 2 : 8) *
					    sizeof(*n));
		if (n != NULL) {
			b->res = n;
			b->cap_res = b->cap_res ? b->cap_res * 2 : 8;
		}
	}
	if (i < b->n_res || b->n_res < b->cap_res) {
		b->res[i].tag = tag;
		copy_cut(b->res[i].addr, sizeof(b->res[i].addr), addr);
		if (i == b->n_res)
			b->n_res++;
	}
	pthread_mutex_unlock(&b->res_lock);
}

/* The answer's source as "addr:port" into out ("" if unknown). */
static void response_addr(nta_outgoing_t *orq, char *out, size_t len)
{
	msg_source(nta_outgoing_getresponse(orq), out, len); /* a new ref */
}

/* "host" or "host:port" (port 0: none, for a dns: target's SRV lookup). */
static void target_text(char *out, size_t len, const char *host,
			unsigned port)
{
	if (port == 0)
		snprintf(out, len, "%s", host);
	else
		snprintf(out, len, "%s:%u", host, port);
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
	char call_id[96], from[512], to[384], ruri[384], mf[16], port[16];
	char target[300];
	const char *thost;
	unsigned tport;
	enum sbc_transport ttp;
	struct sbc_call *call;
	char *body = NULL;
	bool skipped = false;
	int status;

	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return 483;
	if (sip->sip_require) {
		/* We support no extension that a caller could require. */
		reply(b, irq, SIP_420_BAD_EXTENSION,
		      SIPTAG_UNSUPPORTED(
			      (sip_unsupported_t const *)sip->sip_require),
		      TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (!called_number(sip, number, sizeof(number)))
		return 404;
	out = sbc_dptable_outbound_avail(b->dp, number, sbc_keepalive_busy,
					 b->ka, &skipped);
	if (out == NULL && skipped) /* every match is busied out */
		return refuse(b, irq, SIP_503_SERVICE_UNAVAILABLE, NULL);
	if (out == NULL)
		return 404;
	in = sbc_dptable_inbound(b->dp, number);
	status = admit(b, out, &phrase, &retry_after);
	if (status)
		return refuse(b, irq, status, phrase, retry_after);

	if (out->kind == SBC_DP_POTS) {
		thost = s->gateway_addr;
		tport = s->gateway_port;
		ttp = s->gateway_transport;
	} else {
		thost = out->target_dns ? out->target_host : out->target_addr;
		tport = out->target_port;
		ttp = out->transport;
	}
	target_text(target, sizeof(target), thost, tport);
	if (ttp == SBC_TP_TLS && !b->tls_up) /* logged at reload */
		return refuse(b, irq, SIP_503_SERVICE_UNAVAILABLE, NULL);

	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return 500;
	call->id = atomic_fetch_add(&last_call_id, 1) + 1;
	if (out->kind == SBC_DP_VOIP) {
		call->sdp = out->sdp;
		call->dns_target = out->target_dns;
	}
	/* Before any leg exists: a 488 here is never counted. */
	status = offer_to_b(&call->sdp, sip, call->id, &body);
	if (status) {
		free(call);
		if (status == 488)
			return refuse(b, irq, SIP_488_NOT_ACCEPTABLE, NULL);
		return status;
	}
	call->b2b = b;
	call_set_state(call, CALL_EARLY);
	call->start_ms = clk_mono_ms();
	call->view.id = call->id;
	call->view.in_peer = in ? in->tag : 0;
	call->view.out_peer = out->tag;
	call->view.start_wall_ms = clk_wall_ms();
	copy_user(call->view.called, sizeof(call->view.called), number);
	copy_user(call->view.calling, sizeof(call->view.calling),
		  sip->sip_from->a_url->url_user);
	call->view.leg[SIDE_A].transport = arrival_transport(b, irq, sip);
	source_addr(irq, call->view.leg[SIDE_A].remote,
		    sizeof(call->view.leg[SIDE_A].remote));
	copy_cut(call->view.leg[SIDE_A].call_id,
		 sizeof(call->view.leg[SIDE_A].call_id), sip->sip_call_id->i_id);
	call->view.leg[SIDE_B].transport = ttp;
	snprintf(port, sizeof(port), "%u", tport);
	if (tport == 0)
		copy_cut(call->view.leg[SIDE_B].remote,
			 sizeof(call->view.leg[SIDE_B].remote), thost);
	else
		host_port(call->view.leg[SIDE_B].remote,
			  sizeof(call->view.leg[SIDE_B].remote), thost, port);
	call->inv.call = call;
	call->leg[SIDE_A].call = call;
	call->leg[SIDE_A].side = SIDE_A;
	call->leg[SIDE_A].transport = call->view.leg[SIDE_A].transport;
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
	reply(b, irq, SIP_100_TRYING, TAG_END());

	/* Leg B: a new dialog towards the target; nothing of A's topology. */
	make_call_id(b, call->id, call_id, sizeof(call_id));
	copy_cut(call->view.leg[SIDE_B].call_id,
		 sizeof(call->view.leg[SIDE_B].call_id), call_id);
	snprintf(from, sizeof(from), "%s <sip:%s@%s>",
		 sip->sip_from->a_display ? sip->sip_from->a_display : "",
		 sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user
						: "anonymous",
		 leg_host(b, ttp));
	snprintf(to, sizeof(to), "<sip:%s@%s>", number, target);
	snprintf(ruri, sizeof(ruri), "sip:%s@%s;transport=%s", number, target,
		 sbc_transport_name(ttp));
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
	call->inv.orq = sent(b, sip_method_invite, nta_outgoing_tcreate(
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
		TAG_IF(body, SIPTAG_PAYLOAD_STR(body)),
		TAG_IF(!body, SIPTAG_PAYLOAD(sip->sip_payload)), TAG_END()));
	if (call->inv.orq == NULL)
		goto out_fail;
	free(body);
	body = NULL;
	call->inv.out_cseq = nta_outgoing_cseq(call->inv.orq);
	sbc_callacct_start(&call->acct, b->counters);
	return 0;

out_fail:
	log_msg(LOG_LVL_ERR, "SBC", "CALL_FAIL",
		"call %" PRIu64 ": cannot create outbound leg to %s",
		call->id, target);
	if (call->inv.irq == NULL) {
		reply(b, irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		nta_incoming_destroy(irq);
	}
	free(body);
	call_destroy(call);
	return 0;
}

static struct sbc_b2bua *b2bua_of_default(struct sbc_leg *magic)
{
	return (struct sbc_b2bua *)((char *)magic -
				    offsetof(struct sbc_b2bua, default_magic));
}

/*
 * Requests outside any dialog: new INVITEs, OPTIONS, strays. Returns a
 * status for nta to answer with, or 0 when answered here.
 */
static int default_request(struct sbc_b2bua *b, nta_incoming_t *irq,
			   sip_t const *sip)
{
	sip_method_t m = sip->sip_request->rq_method;

	switch (m) {
	case sip_method_invite:
		if (sip->sip_to && sip->sip_to->a_tag)
			return 481; /* a re-INVITE for a dialog we do not know */
		return handle_invite(b, irq, sip);
	case sip_method_options:
		/* Answered locally, also while draining or over threshold. */
		reply(b, irq, SIP_200_OK, SIPTAG_ALLOW_STR(ALLOW_METHODS),
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
	reply(b, irq, SIP_405_METHOD_NOT_ALLOWED,
	      SIPTAG_ALLOW_STR(ALLOW_METHODS), TAG_END());
	nta_incoming_destroy(irq);
	return 0;
}

static int on_default_request(struct sbc_leg *magic, nta_leg_t *leg,
			      nta_incoming_t *irq, sip_t const *sip)
{
	struct sbc_b2bua *b = b2bua_of_default(magic);
	sip_method_t m = sip->sip_request->rq_method;

	(void)leg;
	count_request(b, SBC_SIPSTATS_IN, m);
	return answered(b, m, default_request(b, irq, sip));
}

/* ---------------------------------------------------------------------- */
/* Timers: no-answer, maximum duration, stop */

/*
 * The outbound INVITE of an unanswered call went to a TLS connection that
 * Sofia-SIP closed before B said anything: the handshake failed (B's
 * certificate not trusted, ours refused). Sofia-SIP does not fail the
 * transaction then; it would wait for timer B (32 s).
 */
static bool tls_connect_failed(const struct sbc_call *call)
{
	tport_t *tp;
	bool closed;

	if (call->leg[SIDE_B].transport != SBC_TP_TLS ||
	    call->inv.orq == NULL || nta_outgoing_status(call->inv.orq) != 0)
		return false;
	tp = nta_outgoing_transport(call->inv.orq);
	if (tp == NULL)
		return false;
	closed = tport_is_closed(tp);
	tport_unref(tp);
	return closed;
}

/*
 * Every SWEEP_MS: cancel calls unanswered for longer than `timers expires`,
 * end calls older than `call max-duration` (the reaper), drop the outbound
 * INVITE transaction once retransmitted 2xx can no longer come, and finish
 * stopping. Only calls that may need it are visited: those on the sweep's
 * lists and, for the reaper, the oldest ones; calls held in between cost
 * nothing.
 */
static void on_sweep(struct sbc_b2bua *b, su_timer_t *t, su_timer_arg_t *arg)
{
	const struct sbc_settings *s = settings(b);
	int64_t now = clk_mono_ms();
	int64_t max_ms = (int64_t)s->max_duration_s * 1000;
	struct sbc_call *call, *next;
	int64_t ran = clk_sched_ms();

	(void)t;
	(void)arg;
	/*
	 * A sweep far behind its period means the SIP thread could not run:
	 * peers retransmit after 500 ms, so say so where operators look.
	 * Measured without the test clock's offset: a jump is not a stall.
	 */
	if (b->sweep_last_ms && ran - b->sweep_last_ms >= SWEEP_MS + STALL_WARN_MS)
		log_msg(LOG_LVL_WARNING, "SBC", "SIP_STALL",
			"the SIP thread ran %" PRId64 " ms late (busy, or "
			"not scheduled)", ran - b->sweep_last_ms - SWEEP_MS);
	b->sweep_last_ms = ran;
	/* Unanswered calls: the no-answer timer, failed TLS connections. */
	for (call = TAILQ_FIRST(&b->lists[SWEEP_EARLY]); call; call = next) {
		next = TAILQ_NEXT(call, sweep_link);
		if (now - call->start_ms >= (int64_t)s->expires_ms) {
			call_end(call, SIP_408_REQUEST_TIMEOUT);
			continue;
		}
		if (tls_connect_failed(call)) {
			log_msg(LOG_LVL_ERR, "SBC", "TLS_CONNECT",
				"call %" PRIu64 ": TLS connection to %s failed "
				"(certificate not trusted, or refused by the "
				"peer)",
				call->id, call->view.leg[SIDE_B].remote);
			if (call->inv.irq)
				reply(b, call->inv.irq,
				      SIP_503_SERVICE_UNAVAILABLE, TAG_END());
			call_destroy(call);
		}
	}
	/*
	 * The reaper: b->calls is in start order, so only the calls past
	 * `call max-duration` at its head are visited (and the few ending).
	 */
	for (call = TAILQ_FIRST(&b->calls); max_ms && call; call = next) {
		next = TAILQ_NEXT(call, link);
		if (now - call->start_ms < max_ms)
			break;
		if (call->state == CALL_ENDING ||
		    call->state == CALL_CANCELLING)
			continue;
		log_msg(LOG_LVL_NOTICE, "SBC", "CALL_REAPED",
			"call %" PRIu64 " ended after %u s (call max-duration)",
			call->id, s->max_duration_s);
		call_end(call, SIP_503_SERVICE_UNAVAILABLE);
	}
	/*
	 * Just established: the INVITE irq can go now (not from inside its
	 * own ACK callback); the orq stays to absorb retransmitted 2xx.
	 */
	while ((call = TAILQ_FIRST(&b->lists[SWEEP_FRESH])) != NULL) {
		if (call->inv.irq) {
			nta_incoming_destroy(call->inv.irq);
			call->inv.irq = NULL;
		}
		sweep_move(call, call->inv.orq ? SWEEP_KEPT : SWEEP_NONE);
	}
	/* In establishment order: stop at the first orq still kept. */
	while ((call = TAILQ_FIRST(&b->lists[SWEEP_KEPT])) != NULL &&
	       now - call->answer_ms >= INVITE_ORQ_KEEP_MS) {
		nta_outgoing_destroy(call->inv.orq);
		call->inv.orq = NULL;
		sweep_move(call, SWEEP_NONE);
	}
	sample_retries(b);
	if (!b->stopping)
		sbc_keepalive_tick(b->ka, now);
	if (b->stopping &&
	    (TAILQ_EMPTY(&b->calls) || now >= b->stop_deadline_ms))
		su_root_break(b->root);
}

/* ---------------------------------------------------------------------- */
/* Queries from other threads: snapshot and clear */

static struct sbc_query *query_new(enum query_kind kind, uint64_t id)
{
	struct sbc_query *q = calloc(1, sizeof(*q));
	pthread_condattr_t attr;

	if (q == NULL)
		return NULL;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&q->lock, NULL);
	q->refs = 2; /* the asking thread and the message */
	q->kind = kind;
	q->id = id;
	return q;
}

/* Let go of one reference; the last one frees the query and its answer. */
static void query_unref(struct sbc_query *q)
{
	bool last;

	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (!last)
		return;
	free(q->views);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Publish the answer (or the failure) and wake the asking thread. */
static void query_finish(struct sbc_query *q, bool failed)
{
	pthread_mutex_lock(&q->lock);
	q->done = true;
	q->failed = failed;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static enum sbc_callview_state view_state(const struct sbc_call *call)
{
	switch (call->state) {
	case CALL_EARLY:
		return call->alerting ? SBC_CALLVIEW_ALERTING
				      : SBC_CALLVIEW_CONNECTING;
	case CALL_ANSWERED:
	case CALL_ESTABLISHED:
		return SBC_CALLVIEW_ACTIVE;
	case CALL_CANCELLING:
	case CALL_ENDING:
		break;
	}
	return SBC_CALLVIEW_DISCONNECTING;
}

/*
 * Copy every call's view, oldest first, at most SBC_B2BUA_SNAPSHOT_MAX:
 * one malloc and one pass over the list. Returns false when out of memory.
 */
static bool run_snapshot(struct sbc_b2bua *b, struct sbc_query *q)
{
	size_t cap = atomic_load(&b->ncalls), i = 0;
	struct sbc_call *call;

	if (cap > SBC_B2BUA_SNAPSHOT_MAX)
		cap = SBC_B2BUA_SNAPSHOT_MAX;
	if (cap == 0)
		return true;
	q->views = malloc(cap * sizeof(*q->views));
	if (q->views == NULL)
		return false;
	for (call = TAILQ_FIRST(&b->calls); call && i < cap;
	     call = TAILQ_NEXT(call, link), i++) {
		struct sbc_call_view *v = &q->views[i];

		*v = call->view;
		v->state = view_state(call);
		v->counted = call->acct.state == SBC_ACCT_EARLY ||
			     call->acct.state == SBC_ACCT_CONFIRMED;
		v->cls = call->acct.cls;
	}
	q->n = i;
	return true;
}

/*
 * `clear call voice`: end the call as call_end() does (answered: BYE to
 * both sides; unanswered: CLEARED_STATUS to A and CANCEL to B). A call
 * already being torn down is left alone. 0, or 1 when no call has the id.
 */
static int run_clear(struct sbc_b2bua *b, uint64_t id, unsigned cause)
{
	struct sbc_call *call;

	TAILQ_FOREACH(call, &b->calls, link) {
		if (call->id == id)
			break;
	}
	if (call == NULL)
		return 1;
	if (call->state == CALL_CANCELLING || call->state == CALL_ENDING)
		return 0;
	if (cause != 0) {
		snprintf(call->reason, sizeof(call->reason), "Q.850;cause=%u",
			 cause);
		log_msg(LOG_LVL_NOTICE, "SBC", "CALL_CLEARED",
			"call %" PRIX64 " cleared by the operator, cause %u", id,
			cause);
	} else {
		log_msg(LOG_LVL_NOTICE, "SBC", "CALL_CLEARED",
			"call %" PRIX64 " cleared by the operator", id);
	}
	call_end(call, CLEARED_STATUS);
	return 0;
}

static void run_query(struct sbc_b2bua *b, struct sbc_query *q)
{
	bool ok = true;

	if (q->kind == QUERY_SNAPSHOT)
		ok = run_snapshot(b, q);
	else
		q->clear_rc = run_clear(b, q->id, q->cause);
	query_finish(q, !ok);
	query_unref(q);
}

/* ---------------------------------------------------------------------- */
/* Commands from other threads */

/*
 * TLS, like the listen addresses, is set up once at start: a reload that
 * changes the TLS files or policy, or that brings the first TLS dial-peer,
 * takes effect at the next start. Say so rather than let it look applied.
 */
static void tls_reload_check(struct sbc_b2bua *b, const struct sbc_config *cfg)
{
	const struct sbc_settings *o = settings(b);
	const struct sbc_settings *n = sbc_config_settings(cfg);

	if (!b->tls_up && sbc_config_uses_tls(cfg))
		log_msg(LOG_LVL_WARNING, "SBC", "TLS",
			"the new configuration uses TLS, which starts only "
			"with sbcd: calls to TLS dial-peers get 503 until "
			"sbcd is restarted");
	else if (strcmp(o->tls_certificate, n->tls_certificate) != 0 ||
		 strcmp(o->tls_private_key, n->tls_private_key) != 0 ||
		 strcmp(o->tls_ca_file, n->tls_ca_file) != 0 ||
		 sbc_config_tls_verify(o) != sbc_config_tls_verify(n))
		log_msg(LOG_LVL_NOTICE, "SBC", "TLS",
			"tls settings changed: they take effect when sbcd "
			"is restarted");
}

static void on_cmd(struct sbc_b2bua *b, su_msg_r msg, struct b2bua_msg *cmd)
{
	struct sbc_call *call, *next;

	(void)msg;
	switch (cmd->kind) {
	case CMD_RELOAD:
		tls_reload_check(b, cmd->cfg);
		resolv_reload(b, cmd->cfg);
		sbc_config_free(&b->cfg);
		sbc_dptable_free(&b->dp);
		b->cfg = cmd->cfg;
		b->dp = cmd->dp;
		cmd->cfg = NULL;
		cmd->dp = NULL;
		if (sbc_keepalive_set(b->ka, b->cfg, clk_mono_ms()) < 0)
			log_msg(LOG_LVL_ERR, "SBC", "KEEPALIVE",
				"out of memory: OPTIONS keepalive keeps the "
				"dial-peers of the previous configuration");
		break;
	case CMD_STOP:
		b->stopping = true;
		b->stop_deadline_ms = clk_mono_ms() + cmd->linger_ms;
		for (call = TAILQ_FIRST(&b->calls); call; call = next) {
			next = TAILQ_NEXT(call, link);
			call_end(call, SIP_503_SERVICE_UNAVAILABLE);
		}
		break;
	case CMD_QUERY:
		run_query(b, cmd->query);
		cmd->query = NULL;
		break;
	}
}

static void cmd_deinit(struct b2bua_msg *cmd)
{
	sbc_config_free(&cmd->cfg);
	sbc_dptable_free(&cmd->dp);
	if (cmd->query) {
		/* Never delivered: tell the asking thread at once. */
		query_finish(cmd->query, true);
		query_unref(cmd->query);
		cmd->query = NULL;
	}
}

/*
 * Post a command to the SIP thread. The message owns what cmd points to from
 * here on: on any failure it is freed here (or by the deinitializer).
 */
static int send_cmd(struct sbc_b2bua *b, const struct b2bua_msg *cmd)
{
	su_msg_r msg = SU_MSG_R_INIT;
	struct b2bua_msg copy = *cmd;

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
/* TLS credentials: STATE_DIR/tls (docs/architecture.md) */

static unsigned tls_policy(enum sbc_tls_verify v)
{
	switch (v) {
	case SBC_TLS_VERIFY_PEER:
		return TPTLS_VERIFY_ALL;
	case SBC_TLS_VERIFY_SERVER:
		return TPTLS_VERIFY_OUT;
	default:
		return TPTLS_VERIFY_NONE;
	}
}

/*
 * Build STATE_DIR/tls for Sofia-SIP from the configured files
 * (sbc_tlsfiles_build). Called before the SIP thread starts; the files are
 * removed again once the transports have read them (sbc_b2bua_start_in).
 */
static int tls_prepare(struct sbc_b2bua *b, const char *state_dir, char *why,
		       size_t whylen)
{
	const struct sbc_settings *s = settings(b);

	if (sbc_tlsfiles_build(state_dir, s->tls_private_key,
			       s->tls_certificate, s->tls_ca_file, b->tls_dir,
			       sizeof(b->tls_dir), why, whylen) < 0)
		return -1;
	b->tls_policy = tls_policy(sbc_config_tls_verify(s));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The SIP thread */

/*
 * Write the resolver's file (resolv.conf syntax, which Sofia-SIP's sres
 * reads and re-reads when its mtime changes): one `nameserver` line per
 * `ip name-server` and their one `port`. Temp file + rename, 0644.
 * Returns 0, or -1 with the reason in why.
 */
static int resolv_write(const char *path, const struct sbc_settings *s,
			char *why, size_t whylen)
{
	char text[SBC_CFG_MAX_NAME_SERVERS * 80 + 64];
	size_t i, used = 0;

	for (i = 0; i < s->n_name_server; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "nameserver %s\n", s->name_server[i]);
	snprintf(text + used, sizeof(text) - used,
		 "port %u\noptions timeout:2 attempts:2\n",
		 s->name_server_port);
	return fio_write_atomic(path, text, strlen(text), 0644, why, whylen);
}

/*
 * A reload: the name servers go to the resolver's file when sbcd started
 * with some (the stack reads that file); starting or stopping to use them
 * needs a restart. Where dns: dial-peers answered from is forgotten.
 */
static void resolv_reload(struct sbc_b2bua *b, const struct sbc_config *cfg)
{
	const struct sbc_settings *n = sbc_config_settings(cfg);
	char why[256];

	if ((b->resolv_conf[0] != '\0') != (n->n_name_server > 0))
		log_msg(LOG_LVL_NOTICE, "SBC", "DNS",
			"ip name-server added or removed: it takes effect "
			"when sbcd is restarted");
	else if (b->resolv_conf[0] != '\0' &&
		 resolv_write(b->resolv_conf, n, why, sizeof(why)) < 0)
		log_msg(LOG_LVL_ERR, "SBC", "DNS",
			"cannot write the resolver configuration: %s", why);
	pthread_mutex_lock(&b->res_lock);
	b->n_res = 0;
	pthread_mutex_unlock(&b->res_lock);
}

/*
 * The port the kernel chose for listen entry i (configured port 0): the
 * primary transport of that protocol and address whose port no earlier
 * entry holds. Sofia names a primary after the address it bound. 0 when
 * not found.
 */
static unsigned bound_port(struct sbc_b2bua *b, const struct sbc_listen *l,
			   size_t i)
{
	const char *proto = sbc_transport_name(l->transport);
	tport_t *tp;
	size_t j;

	for (tp = tport_primaries(nta_agent_tports(b->agent)); tp != NULL;
	     tp = tport_next(tp)) {
		const tp_name_t *n = tport_name(tp);
		unsigned long port;
		bool taken = false;

		if (n == NULL || n->tpn_proto == NULL || n->tpn_host == NULL ||
		    n->tpn_port == NULL ||
		    strcasecmp(n->tpn_proto, proto) != 0 ||
		    strcmp(n->tpn_host, l->addr) != 0)
			continue;
		port = strtoul(n->tpn_port, NULL, 10);
		if (port == 0 || port > 65535)
			continue;
		for (j = 0; j < i; j++)
			if (settings(b)->listen[j].transport == l->transport &&
			    b->bound_port[j] == port &&
			    strcmp(settings(b)->listen[j].addr, l->addr) == 0)
				taken = true;
		if (!taken)
			return (unsigned)port;
	}
	return 0;
}

static int bind_listeners(struct sbc_b2bua *b)
{
	const struct sbc_settings *s = settings(b);
	char url[160];
	size_t i;

	for (i = 0; i < s->n_listen; i++) {
		const struct sbc_listen *l = &s->listen[i];
		const char *tp = sbc_transport_name(l->transport);
		bool tls = l->transport == SBC_TP_TLS;

		/* nta binds tls only for a sips: URL. */
		snprintf(url, sizeof(url), "%s:%s:%u;transport=%s",
			 tls ? "sips" : "sip", l->addr, l->port, tp);
		if (nta_agent_add_tport(b->agent, (url_string_t const *)url,
					TPTAG_UDP_RMEM(UDP_BUFFER_BYTES),
					TPTAG_UDP_WMEM(UDP_BUFFER_BYTES),
					TAG_IF(tls, TPTAG_CERTIFICATE(b->tls_dir)),
					TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(
							    b->tls_policy)),
					TAG_END()) < 0) {
			int e = errno;

			err_set(b->start_err, sizeof(b->start_err),
				"cannot listen on %s %s:%u: %s", tp, l->addr,
				l->port, strerror(e));
			if (tls)
				log_msg(LOG_LVL_ERR, "SBC", "TLS",
					"cannot start TLS on %s:%u: %s (the "
					"address, or a certificate, key or CA "
					"file the TLS library refused)",
					l->addr, l->port, strerror(e));
			return -1;
		}
		if (tls)
			b->tls_up = true;
		b->bound_port[i] = l->port != 0 ? l->port
						 : bound_port(b, l, i);
		if (b->contact[l->transport][0] == '\0') {
			snprintf(b->contact[l->transport],
				 sizeof(b->contact[0]),
				 "<sip:%s:%u;transport=%s>", l->addr,
				 b->bound_port[i], tp);
			snprintf(b->host[l->transport], sizeof(b->host[0]),
				 "%s", l->addr);
		}
		log_msg(LOG_LVL_NOTICE, "SBC", "LISTEN",
			"listening on %s %s:%u%s", tp, l->addr,
			b->bound_port[i],
			l->port == 0 ? " (port 0: chosen by the kernel)" : "");
	}
	/*
	 * Sofia-SIP connects out only over a transport of the same kind: a
	 * dial-peer with `session transport tls` needs a TLS transport even
	 * when sbcd does not listen for TLS. A client-only one binds no port.
	 */
	if (b->tls_dir[0] != '\0' && !b->tls_up) {
		if (nta_agent_add_tport(b->agent,
					URL_STRING_MAKE("sips:*:*;transport=tls"),
					TPTAG_SERVER(0),
					TPTAG_CERTIFICATE(b->tls_dir),
					TPTAG_TLS_VERIFY_POLICY(b->tls_policy),
					TAG_END()) < 0) {
			int e = errno;

			err_set(b->start_err, sizeof(b->start_err),
				"cannot start outbound TLS: %s", strerror(e));
			log_msg(LOG_LVL_ERR, "SBC", "TLS",
				"cannot start outbound TLS: %s (a certificate, "
				"key or CA file the TLS library refused)",
				strerror(e));
			return -1;
		}
		b->tls_up = true;
	}
	if (b->tls_up)
		log_msg(LOG_LVL_NOTICE, "SBC", "TLS",
			"TLS ready: certificate %s, verify %s%s",
			s->tls_certificate,
			sbc_tls_verify_name(sbc_config_tls_verify(s)),
			b->contact[SBC_TP_TLS][0] ? "" : ", outbound only");
	return 0;
}

static int sip_setup(struct sbc_b2bua *b)
{
	b->root = su_root_create(b);
	if (b->root == NULL) {
		err_set(b->start_err, sizeof(b->start_err),
			"cannot create su_root");
		return -1;
	}
	b->agent = nta_agent_create(b->root, NTA_NO_TRANSPORT, NULL, NULL, NTATAG_UA(1),
				    NTATAG_MERGE_482(0),
				    NTATAG_PASS_100(1), /* counted, then ignored */
				    NTATAG_UDP_MTU(65535),
				    NTATAG_MAX_PROCEEDING(MAX_PROCEEDING),
				    NTATAG_CANCEL_487(1),
				    TAG_IF(b->resolv_conf[0],
					   SRESTAG_RESOLV_CONF(b->resolv_conf)),
				    TAG_END());
	if (b->agent == NULL) {
		err_set(b->start_err, sizeof(b->start_err),
			"cannot create the SIP agent");
		return -1;
	}
	if (bind_listeners(b) < 0)
		return -1;
	sbc_keepalive_attach(b->ka, b->agent, b->host);
	if (sbc_keepalive_set(b->ka, b->cfg, clk_mono_ms()) < 0) {
		err_set(b->start_err, sizeof(b->start_err),
			"out of memory (keepalive)");
		return -1;
	}
	b->default_leg = nta_leg_tcreate(b->agent, on_default_request,
					 &b->default_magic, NTATAG_NO_DIALOG(1),
					 TAG_END());
	b->sweep = su_timer_create(su_root_task(b->root), SWEEP_MS);
	if (b->default_leg == NULL || b->sweep == NULL ||
	    su_timer_set_for_ever(b->sweep, on_sweep, NULL) < 0) {
		err_set(b->start_err, sizeof(b->start_err),
			"cannot create the default leg or timer");
		return -1;
	}
	return 0;
}

static void sip_teardown(struct sbc_b2bua *b)
{
	while (!TAILQ_EMPTY(&b->calls))
		call_destroy(TAILQ_FIRST(&b->calls));
	sbc_keepalive_detach(b->ka);
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

/* What sbc_b2bua_start_in() made, once the SIP thread is gone (or never
 * ran). */
static void b2bua_free(struct sbc_b2bua *b)
{
	sbc_config_free(&b->cfg);
	sbc_dptable_free(&b->dp);
	sbc_keepalive_free(&b->ka);
	sbc_sipstats_free(&b->sipstats);
	pthread_mutex_destroy(&b->res_lock);
	free(b->res);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	su_deinit();
	free(b);
}

struct sbc_b2bua *sbc_b2bua_start(struct sbc_config *cfg,
				  struct sbc_dptable *dp,
				  struct sbc_counters *counters, char *err,
				  size_t errlen)
{
	return sbc_b2bua_start_in(NULL, cfg, dp, counters, err, errlen);
}

struct sbc_b2bua *sbc_b2bua_start_in(const char *state_dir,
				     struct sbc_config *cfg,
				     struct sbc_dptable *dp,
				     struct sbc_counters *counters, char *err,
				     size_t errlen)
{
	struct sbc_b2bua *b = calloc(1, sizeof(*b));
	char why[512];
	size_t i;

	if (b == NULL) {
		err_set(err, errlen, "out of memory");
		sbc_config_free(&cfg);
		sbc_dptable_free(&dp);
		return NULL;
	}
	b->cfg = cfg;
	b->dp = dp;
	b->counters = counters;
	TAILQ_INIT(&b->calls);
	for (i = 0; i < SWEEP_LISTS; i++)
		TAILQ_INIT(&b->lists[i]);
	atomic_store(&b->service_up, true);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	pthread_mutex_init(&b->res_lock, NULL);
	su_init();
	b->sipstats = sbc_sipstats_new();
	b->ka = sbc_keepalive_new(b->sipstats, peer_resolved_set, b);
	if (b->sipstats == NULL || b->ka == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_free;
	}
	if (getrandom(&b->callid_salt, sizeof(b->callid_salt), 0) !=
	    sizeof(b->callid_salt))
		b->callid_salt = (uint64_t)clk_wall_ms();
	if (settings(b)->n_name_server > 0) {
		if (state_dir == NULL) {
			err_set(err, errlen, "ip name-server needs a state "
					     "directory");
			goto out_free;
		}
		snprintf(b->resolv_conf, sizeof(b->resolv_conf), "%s/%s",
			 state_dir, RESOLV_CONF_NAME);
		if (resolv_write(b->resolv_conf, settings(b), why,
				 sizeof(why)) < 0) {
			log_msg(LOG_LVL_ERR, "SBC", "DNS",
				"cannot write the resolver configuration: %s",
				why);
			err_set(err, errlen, "cannot write the resolver "
					     "configuration: %s",
				why);
			goto out_free;
		}
	}
	if (settings(b)->tls_certificate[0] != '\0' &&
	    tls_prepare(b, state_dir, why, sizeof(why)) < 0) {
		log_msg(LOG_LVL_ERR, "SBC", "TLS", "cannot set up TLS: %s", why);
		err_set(err, errlen, "cannot set up TLS: %s", why);
		goto out_free;
	}
	if (pthread_create(&b->thread, NULL, sip_thread, b) != 0) {
		err_set(err, errlen, "cannot start the SIP thread");
		goto out_scrub;
	}
	pthread_mutex_lock(&b->lock);
	while (b->started == 0)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	/* The TLS transports hold the credentials in memory from here on. */
	sbc_tlsfiles_scrub(b->tls_dir);
	if (b->started < 0) {
		pthread_join(b->thread, NULL);
		err_set(err, errlen, "%s", b->start_err);
		goto out_free;
	}
	return b;

out_scrub:
	sbc_tlsfiles_scrub(b->tls_dir);
out_free:
	b2bua_free(b);
	return NULL;
}

int sbc_b2bua_reload(struct sbc_b2bua *b, struct sbc_config *cfg,
		     struct sbc_dptable *dp)
{
	struct b2bua_msg cmd = {.kind = CMD_RELOAD, .cfg = cfg, .dp = dp};

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

unsigned sbc_b2bua_listen_port(const struct sbc_b2bua *b, size_t i)
{
	return b != NULL && i < SBC_CFG_MAX_LISTEN ? b->bound_port[i] : 0;
}

unsigned sbc_b2bua_calls(const struct sbc_b2bua *b)
{
	return atomic_load(&((struct sbc_b2bua *)b)->ncalls);
}

void sbc_b2bua_stop(struct sbc_b2bua **pb, unsigned linger_ms)
{
	struct sbc_b2bua *b;
	struct b2bua_msg cmd = {.kind = CMD_STOP, .linger_ms = linger_ms};

	if (pb == NULL || *pb == NULL)
		return;
	b = *pb;
	if (send_cmd(b, &cmd) != 0)
		log_msg(LOG_LVL_ERR, "SBC", "STOP",
			"cannot signal the SIP thread");
	pthread_join(b->thread, NULL);
	b2bua_free(b);
	*pb = NULL;
}

void sbc_b2bua_peer_resolved(struct sbc_b2bua *b, unsigned tag, char *out,
			     size_t len)
{
	size_t i;

	if (len == 0)
		return;
	out[0] = '\0';
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->res_lock);
	for (i = 0; i < b->n_res; i++)
		if (b->res[i].tag == tag)
			copy_cut(out, len, b->res[i].addr);
	pthread_mutex_unlock(&b->res_lock);
}

const char *sbc_b2bua_peer_keepalive(struct sbc_b2bua *b, unsigned tag)
{
	return b == NULL ? "" : sbc_ka_state_name(sbc_keepalive_state(b->ka, tag));
}

struct sbc_sipstats *sbc_b2bua_sipstats(struct sbc_b2bua *b)
{
	return b->sipstats;
}

/*
 * Post q to the SIP thread and wait for its answer at most QUERY_WAIT_MS.
 * The wait is measured on the system's monotonic clock, not clk_: it bounds
 * a thread handshake in real time, also under a frozen or offset test
 * clock. Returns 0 when q holds an answer, or -1 with a reason; the caller
 * keeps its reference either way.
 */
static int query_ask(struct sbc_b2bua *b, struct sbc_query *q, char *err,
		     size_t errlen)
{
	struct b2bua_msg cmd = {.kind = CMD_QUERY, .query = q};
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += QUERY_WAIT_MS / 1000;
	until.tv_nsec += (long)(QUERY_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	/* On failure the message's deinitializer has finished q already. */
	(void)send_cmd(b, &cmd);
	pthread_mutex_lock(&q->lock);
	while (!q->done) {
		if (pthread_cond_timedwait(&q->cond, &q->lock, &until) ==
		    ETIMEDOUT)
			break;
	}
	if (!q->done) {
		err_set(err, errlen,
			"the SIP thread did not answer within %d ms",
			QUERY_WAIT_MS);
		rc = -1;
	} else if (q->failed) {
		err_set(err, errlen,
			"the SIP thread could not answer (stopping, or out "
			"of memory)");
		rc = -1;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int sbc_b2bua_snapshot(struct sbc_b2bua *b, struct sbc_call_view **out,
		       size_t *n, char *err, size_t errlen)
{
	struct sbc_query *q = query_new(QUERY_SNAPSHOT, 0);
	int rc;

	*out = NULL;
	*n = 0;
	if (q == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	rc = query_ask(b, q, err, errlen);
	if (rc == 0) {
		/* Answered: the SIP thread no longer touches q->views. */
		*out = q->views;
		*n = q->n;
		q->views = NULL;
	}
	query_unref(q);
	return rc;
}

void sbc_b2bua_snapshot_free(struct sbc_call_view **v)
{
	if (v == NULL)
		return;
	free(*v);
	*v = NULL;
}

int sbc_b2bua_clear_call(struct sbc_b2bua *b, uint64_t id, char *err,
			 size_t errlen)
{
	return sbc_b2bua_clear_call_cause(b, id, 0, err, errlen);
}

int sbc_b2bua_clear_call_cause(struct sbc_b2bua *b, uint64_t id,
			       unsigned cause, char *err, size_t errlen)
{
	struct sbc_query *q;
	int rc;

	if (cause > SBC_Q850_CAUSE_MAX) {
		err_set(err, errlen, "cause %u is not a Q.850 cause (1..%u)",
			cause, SBC_Q850_CAUSE_MAX);
		return -1;
	}
	q = query_new(QUERY_CLEAR, id);
	if (q == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	q->cause = cause;
	rc = query_ask(b, q, err, errlen);
	if (rc == 0 && q->clear_rc != 0) {
		err_set(err, errlen, "no active call with id %" PRIX64, id);
		rc = 1;
	}
	query_unref(q);
	return rc;
}
