/*
 * lsrv store: licd's SQLite model (docs/licd.md
 * "Store").
 *
 *   account -> va (virtual account; customer policy + version)
 *           -> device (UDI, bound public key, trust code)
 *           -> report (report id, raw envelope) -> record (usage)
 *   token (SHA-256 of the token, va, expiry, uses left)
 *   purchase (va, tag, count)
 *
 * STATE_DIR/licd.db, WAL, synchronous=FULL: a report is on disk before
 * its ACK leaves. The admin CLI and `licd serve` share the file; writers
 * take BEGIN IMMEDIATE and wait up to the busy timeout for each other.
 * Every change is one transaction: on any error nothing is changed.
 *
 * Times are Unix seconds passed in by the caller. Functions return an
 * enum lsrv_st; on anything but LSRV_ST_OK a one-line reason is in err
 * (errlen bytes; err may be NULL). One thread per store.
 */
#ifndef SBC_LICD_LSRV_STORE_H
#define SBC_LICD_LSRV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licd/inventory.h"
#include "licensing/keys.h"
#include "licensing/report.h"
#include "licensing/tag.h"
#include "licd/token.h"
#include "licensing/trust.h"

#define LSRV_STORE_SCHEMA_VERSION 1
#define LSRV_STORE_FILE "licd.db"

/* Account and virtual account names: 1..64 of [A-Za-z0-9._:-]. */
#define LSRV_NAME_MAX LIC_ACCOUNT_MAX
/* Base64 DER of a P-256 public key is 124 characters; room to spare. */
#define LSRV_PUBKEY_B64_MAX 512

enum lsrv_st {
	LSRV_ST_OK = 0,
	LSRV_ST_ERROR,	   /* database failure */
	LSRV_ST_BUSY,	   /* locked by another process past the timeout */
	LSRV_ST_NOT_FOUND, /* no such account / va / device */
	LSRV_ST_EXISTS,	   /* already there */
	LSRV_ST_BAD_TOKEN, /* unknown, expired or used up */
	LSRV_ST_UDI_BOUND, /* UDI bound to another key, no force */
	LSRV_ST_INVALID,   /* a bad argument (name, count, ...) */
	LSRV_ST_SEAL,	   /* the caller's seal (trust answer) failed */
};

struct lsrv_store;

/* True when `s` is 1..LSRV_NAME_MAX of [A-Za-z0-9._:-]. */
bool lsrv_name_ok(const char *s);

/* Open or create the store at `path`. NULL with a reason on failure. */
struct lsrv_store *lsrv_store_open(const char *path, char *err,
				   size_t errlen);
void lsrv_store_free(struct lsrv_store **st);

/* ---- administration ---------------------------------------------------- */

enum lsrv_st lsrv_store_account_create(struct lsrv_store *st,
				       const char *account, int64_t now,
				       char *err, size_t errlen);
enum lsrv_st lsrv_store_va_create(struct lsrv_store *st, const char *account,
				  const char *va, int64_t now, char *err,
				  size_t errlen);
/* The id of account/va (NOT_FOUND names which one is missing). */
enum lsrv_st lsrv_store_va_find(struct lsrv_store *st, const char *account,
				const char *va, int64_t *va_id, char *err,
				size_t errlen);
/* A token (given as its hash) for va_id, valid until `expires`. */
enum lsrv_st lsrv_store_token_add(struct lsrv_store *st, int64_t va_id,
				  const char *hash, int64_t now,
				  int64_t expires, int64_t uses, char *err,
				  size_t errlen);
/* Set (not add to) the purchased count of a tag: 0..LIC_COUNT_MAX. */
enum lsrv_st lsrv_store_purchase_set(struct lsrv_store *st, int64_t va_id,
				     enum lic_tag tag, int64_t count,
				     int64_t now, char *err, size_t errlen);
/*
 * Set the customer policy of a va (JSON accepted by lic_policy_parse; it
 * is stored as lic_policy_to_json of the parsed policy) and bump the va's
 * policy version, so that each device gets it with its next ACK.
 */
enum lsrv_st lsrv_store_policy_set(struct lsrv_store *st, int64_t va_id,
				   const char *policy_json, int64_t now,
				   char *err, size_t errlen);
/*
 * The policy devices of va_id get: the customer policy, or the Cisco
 * default when none was set. *json is the caller's; *version (may be NULL)
 * 0 for the default.
 */
enum lsrv_st lsrv_store_policy_get(struct lsrv_store *st, int64_t va_id,
				   char **json, int64_t *version, char *err,
				   size_t errlen);

/* ---- trust ------------------------------------------------------------- */

struct lsrv_trust_out;

/*
 * Builds and signs the trust answer from what the device is about to be
 * bound with (`out`); called inside the trust transaction, before the
 * commit. 0, or -1 with a reason in err: the trust is then rolled back.
 */
typedef int lsrv_trust_seal_fn(void *arg, const struct lsrv_trust_out *out,
			       char *err, size_t errlen);

struct lsrv_trust_in {
	const char *token_hash;
	struct lic_udi udi;
	const char *public_key_b64; /* as in the request */
	const char *key_id;
	bool force;
	const char *trust_code; /* new, 1..LIC_TRUST_CODE_MAX */
	int64_t now;
	lsrv_trust_seal_fn *seal; /* may be NULL */
	void *seal_arg;
};

struct lsrv_trust_out {
	char account[LSRV_NAME_MAX + 1];
	char va[LSRV_NAME_MAX + 1];
	char *policy_json; /* the va's policy (caller frees) */
	bool rebound;	   /* the UDI was bound to another key before */
};

/*
 * One transaction: the token is checked (BAD_TOKEN) and one use consumed,
 * the UDI is bound to the key and the token's va (UDI_BOUND when bound to
 * another key and not force), the device is marked as holding the va's
 * current policy, and in->seal (when set) builds the answer. Nothing is
 * committed unless all of that succeeded, so a device never holds a trust
 * whose answer was not made (SEAL: the seal failed). Re-trust with the
 * same key is allowed. INVALID: a missing or oversized argument.
 */
enum lsrv_st lsrv_store_trust(struct lsrv_store *st,
			      const struct lsrv_trust_in *in,
			      struct lsrv_trust_out *out, char *err,
			      size_t errlen);

/* ---- devices and usage ------------------------------------------------- */

struct lsrv_device {
	int64_t id;
	int64_t va_id;
	char pid[LIC_ID_MAX + 1];
	char sn[LIC_ID_MAX + 1];
	char public_key[LSRV_PUBKEY_B64_MAX + 1]; /* base64 DER */
	char key_id[LIC_KEY_ID_LEN + 1];
};

/* The device bound to a UDI, or NOT_FOUND. */
enum lsrv_st lsrv_store_device_find(struct lsrv_store *st,
				    const struct lic_udi *udi,
				    struct lsrv_device *out, char *err,
				    size_t errlen);

/* A verified report and the envelope it came in (stored as received). */
struct lsrv_report_in {
	const struct lic_report_info *info;
	const char *envelope;
	size_t len;
};

struct lsrv_intake_result {
	size_t new_reports, dup_reports;
	size_t new_records, dup_records;
	size_t conflict_records; /* same record id, other content: ignored */
	char *policy_json;	 /* ack: policy for the ACK, or NULL */
};

/*
 * Store reports of `dev` in one transaction, idempotently: a report id
 * already held is not stored again; a record id already held is kept as
 * first stored. With `ack`, the reports are also marked acknowledged now
 * and res->policy_json says whether the ACK carries a policy (see
 * docs/licd.md "Policy delivery"). The caller frees res->policy_json.
 */
enum lsrv_st lsrv_store_intake(struct lsrv_store *st,
			       const struct lsrv_device *dev,
			       const struct lsrv_report_in *in, size_t n,
			       int64_t now, bool ack,
			       struct lsrv_intake_result *res, char *err,
			       size_t errlen);

/*
 * ACK poll: which of ids[0..n) the store holds for `dev` (held[] gets
 * those pointers, in order; *nheld may be 0), marked acknowledged now.
 * *policy_json as for lsrv_store_intake.
 */
enum lsrv_st lsrv_store_ack_poll(struct lsrv_store *st,
				 const struct lsrv_device *dev,
				 const char *const *ids, size_t n, int64_t now,
				 const char **held, size_t *nheld,
				 char **policy_json, char *err, size_t errlen);

/* ---- listings ---------------------------------------------------------- */

struct lsrv_device_row {
	char pid[LIC_ID_MAX + 1];
	char sn[LIC_ID_MAX + 1];
	char key_id[LIC_KEY_ID_LEN + 1];
	int64_t trusted;     /* when last bound */
	int64_t reports;     /* reports held */
	int64_t last_report; /* received time of the newest; 0: none */
	/* From its latest report (greatest "created"); "" when none. */
	char hostname[LIC_TEXT_MAX + 1];
	char release[LIC_TEXT_MAX + 1];
	char ha_group[LIC_ID_MAX + 1];
	char ha_role[16];
	bool has[LIC_TAG_COUNT];
	int64_t latest[LIC_TAG_COUNT]; /* count of the latest record per tag */
};

/*
 * The devices of va_id, ordered by PID then SN; *rows (caller frees, NULL
 * when *n is 0) and purchased[] per tag (0 when never set).
 */
enum lsrv_st lsrv_store_devices(struct lsrv_store *st, int64_t va_id,
				struct lsrv_device_row **rows, size_t *n,
				int64_t purchased[LIC_TAG_COUNT], char *err,
				size_t errlen);

#endif
