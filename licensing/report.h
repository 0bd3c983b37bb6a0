/*
 * lic report: the usage messages of the licensing protocol, byte for byte
 * as docs/licensing-protocol.md describes them, each in a signed envelope
 * (envelope.h):
 *
 *   report     type "usage_report", signed by the device key.
 *   ACK        type "usage_ack", signed by the server key.
 *
 * Also the protocol's caps and the device identity (UDI), which every
 * message shares.
 *
 * Times are Unix seconds (UTC), passed in by the caller: nothing here reads
 * a clock. No printing, no exits; functions return 0 / -1 (or a decision)
 * with a reason in err (errlen bytes; err may be NULL). Returned buffers are
 * NUL-terminated and the caller's, freed with free().
 */
#ifndef SBC_LICENSING_REPORT_H
#define SBC_LICENSING_REPORT_H

#include "licensing/tag.h"
#include <stddef.h>
#include <stdint.h>

#include "licensing/keys.h"

/* Caps (documented in docs/licensing-protocol.md, section "Limits"). */
#define LIC_ENVELOPE_MAX (384 * 1024) /* any envelope, HTTP body */
#define LIC_PAYLOAD_MAX (256 * 1024)  /* decoded payload bytes */
#define LIC_REPORT_MAX_RECORDS 1000   /* usage records per report */
#define LIC_ACK_MAX_IDS 256	      /* report ids per ACK */
#define LIC_POLICY_MAX (64 * 1024)    /* policy object, compact JSON */
#define LIC_ID_MAX 64		      /* record id, ha group, pid, sn */
#define LIC_TEXT_MAX 255	      /* hostname, release */
#define LIC_COUNT_MAX 100000000LL     /* sessions in one record */
#define LIC_REPORT_ID_LEN 32	      /* 128 random bits, lowercase hex */

#define LIC_TYPE_REPORT "usage_report"
#define LIC_TYPE_ACK "usage_ack"


enum lic_ha_role { LIC_HA_STANDALONE, LIC_HA_ACTIVE, LIC_HA_STANDBY };

const char *lic_ha_role_name(enum lic_ha_role r);

/* The device's identity (Unique Device Identifier). */
struct lic_udi {
	const char *pid; /* product id, 1..LIC_ID_MAX printable ASCII */
	const char *sn;	 /* serial number, same rules */
};

/*
 * One usage record: the peak `count` of class `tag` over [start_s, end_s)
 * (0 <= start_s <= end_s). `id` is unique per device, 1..LIC_ID_MAX of
 * [A-Za-z0-9._:-].
 */
struct lic_usage_record {
	const char *id;
	enum lic_tag tag;
	int64_t start_s;
	int64_t end_s;
	int64_t count; /* 0..LIC_COUNT_MAX */
};

/*
 * A usage report. Used both to build one (the caller's strings, borrowed)
 * and as the view of a parsed one (strings owned by the struct lic_report).
 */
struct lic_report_info {
	const char *report_id; /* LIC_REPORT_ID_LEN lowercase hex */
	const char *release;   /* software release, e.g. "17.6.1a" */
	const char *hostname;  /* NULL: privacy on, the field is omitted */
	struct lic_udi udi;
	const char *ha_group; /* NULL or "" when not in an HA group */
	enum lic_ha_role ha_role;
	int64_t created_s;
	const struct lic_usage_record *records;
	size_t nrecords; /* 0..LIC_REPORT_MAX_RECORDS */
};

/* An ACK (same two uses as lic_report_info). */
struct lic_ack_info {
	struct lic_udi udi;		/* the device it acknowledges */
	const char *const *report_ids;	/* 1..LIC_ACK_MAX_IDS, no repeats */
	size_t nids;
	int64_t ack_time_s;
	/*
	 * NULL: no policy. Else a JSON object in the policy module's format
	 * (docs/internals/licensing-policy.md, "JSON"); opaque here and
	 * handed as text to lic_policy_parse(), which validates its fields.
	 * Parsed ACKs give it compact, keys sorted, at most LIC_POLICY_MAX
	 * (= LIC_POLICY_JSON_MAX) bytes.
	 */
	const char *policy_json;
};

struct lic_report;
struct lic_ack;

/* A new report id: 128 bits from the OpenSSL CSPRNG as lowercase hex. */
int lic_report_id_new(char out[LIC_REPORT_ID_LEN + 1], char *err,
		      size_t errlen);

/*
 * The report payload (JSON text) of `r`, after validating every field
 * against the caps above. *payload / *len as in keys.h.
 */
int lic_report_payload(const struct lic_report_info *r, char **payload,
		       size_t *len, char *err, size_t errlen);

/* The payload of `r` signed with the device key: envelope text. */
int lic_report_build(const struct lic_key *device,
		     const struct lic_report_info *r, char **envelope,
		     size_t *len, char *err, size_t errlen);

/*
 * Verifies a report envelope with the device's public key and parses it
 * (licd's side, and the round-trip tests). On success *out owns the result.
 */
int lic_report_parse(const struct lic_pubkey *device, const char *envelope,
		     size_t len, struct lic_report **out, char *err,
		     size_t errlen);
const struct lic_report_info *lic_report_get(const struct lic_report *r);
void lic_report_free(struct lic_report **r);

/* The ACK payload of `a`, signed with the server key (licd's side, tests). */
int lic_ack_build(const struct lic_key *server, const struct lic_ack_info *a,
		  char **envelope, size_t *len, char *err, size_t errlen);

/*
 * Verifies an ACK envelope with the pinned server key, then parses it.
 * Rejects, with a reason: input over LIC_ENVELOPE_MAX, malformed JSON, bad
 * base64, a key_id other than the pinned key's, a signature that does not
 * verify, a payload of another type or version, missing or out-of-range
 * fields, repeated ids. When `expect` is not NULL the ACK's UDI must equal
 * it. On success *out owns the result.
 */
int lic_ack_parse(const struct lic_pubkey *server, const char *envelope,
		  size_t len, const struct lic_udi *expect,
		  struct lic_ack **out, char *err, size_t errlen);
const struct lic_ack_info *lic_ack_get(const struct lic_ack *a);
void lic_ack_free(struct lic_ack **a);

enum lic_ack_decision {
	LIC_ACK_ACCEPT = 0,
	LIC_ACK_REJECT_UNKNOWN, /* an id the agent never sent */
	LIC_ACK_REJECT_REPLAY,	/* an id already acknowledged */
	LIC_ACK_REJECT_INVALID, /* NULL or empty ACK */
};

/*
 * Decides whether a verified ACK may be installed. `pending` holds the ids
 * of reports sent and not yet acknowledged; `acked` (may be NULL / 0) the
 * ids already acknowledged, used only to tell a replay from an unknown id
 * in the reason. Accepted only when every id of the ACK is in `pending`.
 * Pure: nothing is changed; on LIC_ACK_ACCEPT the caller marks
 * lic_ack_get(ack)->report_ids acknowledged.
 */
enum lic_ack_decision lic_ack_accept(const struct lic_ack *ack,
				     const char *const *pending,
				     size_t npending, const char *const *acked,
				     size_t nacked, char *err, size_t errlen);

#endif
