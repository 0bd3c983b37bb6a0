/*
 * sipstats: SIP message counters for `show sip-ua statistics`
 * (docs/internals/sipstats.md).
 *
 * One writer (the SIP thread) counts every request and response the B2BUA
 * receives and sends, per method and per status code; any thread reads.
 * Each counter is a C11 atomic: no locks, and a reader sees each counter
 * exact, though not all counters at one instant.
 *
 * One table of rows (sbc_sipstats_row) describes every counter: its IOS
 * section and field name, what it counts (a status code, a class, a
 * method, a retransmission total) and its JSON key. The text view, the
 * JSON object and any later exporter (metrics) are all driven by it.
 */
#ifndef SBC_SIPSTATS_H
#define SBC_SIPSTATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Methods counted one by one; everything else is OTHER. */
enum sbc_sip_method {
	SBC_SIP_INVITE,
	SBC_SIP_ACK,
	SBC_SIP_BYE,
	SBC_SIP_CANCEL,
	SBC_SIP_OPTIONS,
	SBC_SIP_PRACK,
	SBC_SIP_UPDATE,
	SBC_SIP_INFO,
	SBC_SIP_REFER,
	SBC_SIP_NOTIFY,
	SBC_SIP_SUBSCRIBE,
	SBC_SIP_MESSAGE,
	SBC_SIP_REGISTER,
	SBC_SIP_OTHER,
	SBC_SIP_METHOD_COUNT
};

enum sbc_sipstats_dir {
	SBC_SIPSTATS_IN,  /* received by sbcd */
	SBC_SIPSTATS_OUT, /* sent by sbcd */
};

/* Retransmission totals kept by the SIP stack (one value each). */
enum sbc_sipstats_retry {
	SBC_SIPSTATS_RETRY_REQUEST,  /* requests we retransmitted */
	SBC_SIPSTATS_RETRY_RESPONSE, /* responses we retransmitted */
	SBC_SIPSTATS_RETRY_RECEIVED, /* retransmissions received, absorbed */
	SBC_SIPSTATS_RETRY_COUNT
};

enum sbc_sipstats_kind {
	SBC_SIPSTATS_RESPONSE, /* responses with status `code` (and `method`) */
	SBC_SIPSTATS_CLASS,    /* responses whose status / 100 == `code` */
	SBC_SIPSTATS_REQUEST,  /* requests of `method` */
	SBC_SIPSTATS_RETRY,    /* stack total `code` (enum sbc_sipstats_retry) */
};

/* One counter of the table; in and out values are read separately. */
struct sbc_sipstats_row {
	const char *section; /* JSON key of its section: "client_error" */
	const char *name;    /* IOS field name: "BusyHere" */
	enum sbc_sipstats_kind kind;
	int code;   /* see enum sbc_sipstats_kind */
	int method; /* enum sbc_sip_method; -1: any method */
	int single; /* one value (RETRY rows): only `in` is meaningful */
};

struct sbc_sipstats;

struct sbc_sipstats *sbc_sipstats_new(void);
void sbc_sipstats_free(struct sbc_sipstats **s);

/* Writer side (the SIP thread). Unknown methods count as OTHER. */
void sbc_sipstats_request(struct sbc_sipstats *s, enum sbc_sipstats_dir dir,
			  enum sbc_sip_method m);
/*
 * A response with `status` (100..699) to a request of method m: counts its
 * class, its code's row if the table has one, and for 200 the method's
 * OkInvite-style row. Other statuses are ignored.
 */
void sbc_sipstats_response(struct sbc_sipstats *s, enum sbc_sipstats_dir dir,
			   enum sbc_sip_method m, int status);
/* The stack's running totals (absolute values, not increments). */
void sbc_sipstats_set_retries(struct sbc_sipstats *s,
			      const uint64_t v[SBC_SIPSTATS_RETRY_COUNT]);

/*
 * `clear sip-ua statistics`: every counter restarts from 0 and the clear
 * time is remembered (wall-clock milliseconds). Any thread.
 */
void sbc_sipstats_clear(struct sbc_sipstats *s, int64_t now_wall_ms);

/* "INVITE" -> SBC_SIP_INVITE (case-sensitive, as SIP methods are). */
enum sbc_sip_method sbc_sip_method_parse(const char *name);
const char *sbc_sip_method_name(enum sbc_sip_method m);

/* The table: rows in display order; the same for every instance. */
size_t sbc_sipstats_nrows(void);
const struct sbc_sipstats_row *sbc_sipstats_row(size_t i);
/* Current values of row i (since the last clear). */
void sbc_sipstats_value(const struct sbc_sipstats *s, size_t i, uint64_t *in,
			uint64_t *out);
/* Wall-clock ms of the last clear, 0 when never cleared. */
int64_t sbc_sipstats_cleared(const struct sbc_sipstats *s);

/* `show sip-ua statistics` in the IOS layout. 0, or -1 on a write error. */
int sbc_sipstats_render(const struct sbc_sipstats *s, FILE *out);

/*
 * The same values as JSON (keys in docs/internals/sipstats.md); NULL when
 * memory ran out. The caller owns the reference.
 */
json_t *sbc_sipstats_json(const struct sbc_sipstats *s);

#endif
