/*
 * lic store: the licensing agent's persistent state in the daemon's SQLite
 * state store (docs/internals/licensing-agent.md, docs/internals/licensing-store.md).
 *
 * Usage records, signed reports, the period tracker state, the usage
 * reporting times, the policy in use and the trust data live in their own
 * tables (prefix lic_) of the database that also holds the usage tables.
 * The connection is the caller's (common/db.h: WAL, synchronous=NORMAL):
 * borrowed, never closed here, used from one thread.
 *
 * Every change that touches more than one row runs in one BEGIN IMMEDIATE
 * ... COMMIT and is rolled back on any error, so that after a crash or
 * kill -9 the store holds either all of it or none of it. The rules (what
 * is atomic with what) are in the internals document.
 *
 * All times are Unix seconds passed in by the caller; nothing reads a
 * clock, prints or exits. Functions return 0 (or a count, or 1 for "none")
 * and -1 on error with a one-line reason in err (errlen bytes,
 * NUL-terminated; err may be NULL). A failed call changes nothing.
 */
#ifndef SBC_LIC_STORE_H
#define SBC_LIC_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licensing/deadline.h"
#include "licensing/period.h"
#include "licensing/policy.h"

/* Version of the lic_ tables, kept in lic_meta ("schema_version"). */
#define LIC_STORE_SCHEMA_VERSION 1

/* A report id: 1..64 of [A-Za-z0-9._:-] (report.c makes 32 hex). */
#define LIC_STORE_REPORT_ID_MAX 64
/* Largest envelope stored: the protocol's LIC_ENVELOPE_MAX. */
#define LIC_STORE_ENVELOPE_MAX (384 * 1024)
/* Records in one call (close, report); a report holds at most 1000. */
#define LIC_STORE_BATCH_MAX 1000
/* Trust data caps: PEM text, trust code, UDI fields (bytes, no NUL). */
#define LIC_STORE_PEM_MAX 2047
#define LIC_STORE_TRUST_CODE_MAX 255
#define LIC_STORE_UDI_MAX 64

struct lic_store;

/* A stored usage record. */
struct lic_store_record {
	int64_t id;		/* unique, never reused (AUTOINCREMENT) */
	struct lic_record rec;	/* tag, start, end, count */
	int64_t created;	/* when the period was closed */
	char report_id[LIC_STORE_REPORT_ID_MAX + 1]; /* "" until reported */
	int64_t acked_at;	/* 0 until acknowledged */
};

/* A stored report, without its envelope (lic_store_report_envelope). */
struct lic_store_report {
	char report_id[LIC_STORE_REPORT_ID_MAX + 1];
	int64_t created;
	int64_t sent_at;      /* last push that reached the server, 0 = never */
	int64_t saved_at;     /* last written to a usage file, 0 = never */
	uint32_t attempts;    /* pushes tried, failed ones included */
	int64_t next_attempt; /* when to push (again) */
	int64_t acked_at;     /* 0 until acknowledged */
	size_t envelope_len;
};

/* What lic_store_report_status says about a report id. */
enum lic_store_report_state {
	LIC_STORE_REPORT_UNKNOWN, /* never stored here (or pruned) */
	LIC_STORE_REPORT_QUEUED,  /* stored, not yet pushed nor saved */
	LIC_STORE_REPORT_SENT,	  /* pushed or saved to a file, not acked */
	LIC_STORE_REPORT_ACKED
};

/* Trust installed by `license smart trust idtoken`. */
struct lic_store_trust {
	char server_key_pem[LIC_STORE_PEM_MAX + 1]; /* pinned server key */
	char trust_code[LIC_STORE_TRUST_CODE_MAX + 1];
	char udi_pid[LIC_STORE_UDI_MAX + 1]; /* the UDI it was bound to */
	char udi_sn[LIC_STORE_UDI_MAX + 1];
	int64_t installed;
};

/*
 * Create the lic_ tables on first use (or check their schema version)
 * and prepare the statements. `db` stays the caller's and must outlive
 * the store. NULL and a reason when the schema is newer than this build
 * or SQLite fails.
 */
struct lic_store *lic_store_new(sqlite3 *db, char *err, size_t errlen);
/* NULL-safe; NULLs *st. Does not close the database. */
void lic_store_free(struct lic_store **st);

/*
 * Close a period: insert the n records (created = now) and replace the
 * period tracker state by *next, in one transaction. Call it with the
 * records of lic_period_close_due / lic_period_close_change and the
 * state lic_period_save gives right after: a crash leaves either the old
 * state and no record (the period closes again after restart) or both,
 * never one without the other. next may be NULL (records only). A record
 * equal in (tag, start, end) to a stored one is refused (UNIQUE), so a
 * period cannot be recorded twice. n may be 0 (state only).
 */
int lic_store_close_period(struct lic_store *st,
			   const struct lic_record *recs, size_t n,
			   const struct lic_period_state *next, int64_t now,
			   char *err, size_t errlen);

/* lic_store_close_period(st, recs, n, NULL, now, ...). */
int lic_store_add_records(struct lic_store *st, const struct lic_record *recs,
			  size_t n, int64_t now, char *err, size_t errlen);

/*
 * The records not yet in a report, oldest (lowest id) first, at most max,
 * count in *n. lic_store_records lists all stored records with id >
 * after_id (paging: pass the last id seen).
 */
int lic_store_unreported(struct lic_store *st, struct lic_store_record *out,
			 size_t max, size_t *n, char *err, size_t errlen);
int lic_store_records(struct lic_store *st, int64_t after_id,
		      struct lic_store_record *out, size_t max, size_t *n,
		      char *err, size_t errlen);

/* The newest records of one tag, newest first, at most max. */
int lic_store_recent_records(struct lic_store *st, enum lic_tag tag,
			     struct lic_store_record *out, size_t max,
			     size_t *n, char *err, size_t errlen);

/*
 * Store a signed report (the exact envelope bytes, 1..
 * LIC_STORE_ENVELOPE_MAX) and mark the n records it carries with its id,
 * in one transaction. It is due for a push at once (next_attempt = now).
 * Fails, changing nothing, when the id is taken or any record is unknown
 * or already in a report: a record is never in two reports.
 */
int lic_store_add_report(struct lic_store *st, const char *report_id,
			 const void *envelope, size_t len,
			 const int64_t *record_ids, size_t n, int64_t now,
			 char *err, size_t errlen);

/*
 * Reports not yet acknowledged (queued or sent), soonest next_attempt
 * first, at most max, count in *n.
 */
int lic_store_pending_reports(struct lic_store *st,
			      struct lic_store_report *out, size_t max,
			      size_t *n, char *err, size_t errlen);

/* The ids of the sent (pushed or saved) and unacknowledged reports. */
int lic_store_report_ids_unacked(
	struct lic_store *st, char (*ids)[LIC_STORE_REPORT_ID_MAX + 1],
	size_t max, size_t *n, char *err, size_t errlen);

/*
 * The state of one report id, for the ACK acceptance check (an ACK may
 * only name LIC_STORE_REPORT_SENT reports). Fills *out when not NULL and
 * the report is known.
 */
int lic_store_report_status(struct lic_store *st, const char *report_id,
			    enum lic_store_report_state *state,
			    struct lic_store_report *out, char *err,
			    size_t errlen);

/*
 * A copy of a report's envelope: *buf (malloc'd, the caller frees it,
 * NUL-terminated for convenience, not counted in *len). Returns 1 when
 * the report is unknown.
 */
int lic_store_report_envelope(struct lic_store *st, const char *report_id,
			      unsigned char **buf, size_t *len, char *err,
			      size_t errlen);

/*
 * A push of the report reached the server at now: sent_at = now,
 * attempts + 1, next_attempt (when to push it again if no ACK came by
 * then), and the usage time last_push = now, in one transaction. Call it
 * before handling an ACK that came in the reply. Returns 1 and changes
 * nothing when the report is already acknowledged.
 */
int lic_store_mark_sent(struct lic_store *st, const char *report_id,
			int64_t now, int64_t next_attempt, char *err,
			size_t errlen);

/*
 * A push failed: attempts + 1 and next_attempt (the caller's backoff with
 * jitter). Returns 1 and changes nothing when already acknowledged.
 */
int lic_store_mark_failed(struct lic_store *st, const char *report_id,
			  int64_t next_attempt, char *err, size_t errlen);

/*
 * The n reports were written to a usage file (`save usage`): saved_at =
 * now and last_file_write = now, in one transaction.
 */
int lic_store_mark_saved(struct lic_store *st, const char *const *report_ids,
			 size_t n, int64_t now, char *err, size_t errlen);

/*
 * Install an accepted ACK in one transaction: the named reports and their
 * records get acked_at = now (the report keeps the ACK's own ack_time),
 * the usage time last_ack becomes now (never moves back), and when
 * policy is not NULL (the caller stamped it with lic_policy_install) it
 * replaces the policy in use. Returns the number of reports newly
 * acknowledged. Idempotent: reports already acknowledged are left as
 * they are, and when none is new (a replay) it returns 0 and nothing at
 * all changes, policy and last_ack included. An unknown id (or a bad
 * policy) fails and changes nothing.
 */
int lic_store_ack(struct lic_store *st, const char *const *report_ids,
		  size_t n, int64_t ack_time, const struct lic_policy *policy,
		  int64_t now, char *err, size_t errlen);

/*
 * Delete the records acknowledged at or before now - retention_s, then
 * the acknowledged reports that old that no longer carry a record, in
 * one transaction. Unacknowledged rows are never deleted. Returns the
 * number of records deleted.
 */
int lic_store_prune(struct lic_store *st, int64_t now, int64_t retention_s,
		    char *err, size_t errlen);

/*
 * The store's epoch: `fresh` (a random number) the first time, the same
 * number ever after. Record ids on the wire carry it, so a device whose
 * store was lost starts a new id space instead of reusing old ids.
 */
int lic_store_epoch(struct lic_store *st, uint32_t fresh, uint32_t *out,
		    char *err, size_t errlen);

/* The issue time of the newest policy file installed (0: none), so an
 * older file cannot roll the policy back. set keeps the larger value. */
int lic_store_policy_issued(struct lic_store *st, int64_t *issued,
			    char *err, size_t errlen);
int lic_store_set_policy_issued(struct lic_store *st, int64_t issued,
				char *err, size_t errlen);

/* The records, counted (`show license all`, Usage Report Summary). */
struct lic_store_summary {
	int64_t stored;	    /* records in the store */
	int64_t acked;	    /* of those, acknowledged */
	int64_t waiting;    /* in a report, not acknowledged */
	int64_t unreported; /* in no report yet */
	int64_t purged;	    /* acknowledged and pruned, ever */
};

int lic_store_record_summary(struct lic_store *st,
			     struct lic_store_summary *out, char *err,
			     size_t errlen);

/*
 * The period tracker state (for lic_period_restore); returns 1 when none
 * was ever saved (a first start: keep the tracker lic_period_new made).
 * The last reported counts of the 25% rule are its `reported` and
 * `last[]`: there is no separate copy. set replaces it in one
 * transaction.
 */
int lic_store_get_period(struct lic_store *st, struct lic_period_state *out,
			 char *err, size_t errlen);
int lic_store_set_period(struct lic_store *st,
			 const struct lic_period_state *ps, char *err,
			 size_t errlen);

/*
 * The usage reporting times: first_use, last_push, last_ack,
 * last_file_write and change_due (0 / false when never set). get leaves
 * the configuration fields (push_interval_days, push_enabled,
 * ack_polled) as the caller set them; set stores only the five.
 */
int lic_store_get_times(struct lic_store *st, struct lic_usage_times *t,
			char *err, size_t errlen);
int lic_store_set_times(struct lic_store *st, const struct lic_usage_times *t,
			char *err, size_t errlen);

/*
 * The policy in use, stored as lic_policy_to_json text with its
 * installed_on. get returns 1 when none is stored (use
 * lic_policy_default); -1 when the stored text does not parse.
 */
int lic_store_get_policy(struct lic_store *st, struct lic_policy *out,
			 char *err, size_t errlen);
int lic_store_set_policy(struct lic_store *st, const struct lic_policy *p,
			 char *err, size_t errlen);

/*
 * The trust data; get returns 1 when no trust is installed. set replaces
 * it (`force` re-trust) after checking every field against the caps
 * (all non-empty, printable ASCII; PEM may hold newlines).
 */
/* The smart and virtual account trust was established with (at most 64
 * bytes each); get returns 1 when none is stored. */
int lic_store_get_account(struct lic_store *st, char *sa, size_t salen,
			  char *va, size_t valen, char *err, size_t errlen);
int lic_store_set_account(struct lic_store *st, const char *sa,
			  const char *va, char *err, size_t errlen);

int lic_store_get_trust(struct lic_store *st, struct lic_store_trust *out,
			char *err, size_t errlen);
int lic_store_set_trust(struct lic_store *st, const struct lic_store_trust *t,
			char *err, size_t errlen);

/*
 * The licensing event log (`show license eventlog`): one row per event,
 * with its time in milliseconds, an IOS-style name (SAEVT_..., 1..
 * LIC_STORE_EVENT_NAME_MAX of [A-Z0-9_]) and its attributes as printed
 * (`count="3" reportId="..."`, printable ASCII, at most
 * LIC_STORE_EVENT_ATTRS_MAX bytes, may be ""). Bounded: adding an event
 * deletes, in the same transaction, all but the newest
 * LIC_STORE_EVENTS_MAX and those older than LIC_STORE_EVENT_AGE_S before
 * it.
 */
#define LIC_STORE_EVENT_NAME_MAX 48
#define LIC_STORE_EVENT_ATTRS_MAX 512
#define LIC_STORE_EVENTS_MAX 1000
#define LIC_STORE_EVENT_AGE_S (90 * 86400)

struct lic_store_event {
	int64_t id;
	int64_t at_ms; /* Unix milliseconds, UTC */
	char name[LIC_STORE_EVENT_NAME_MAX + 1];
	char attrs[LIC_STORE_EVENT_ATTRS_MAX + 1];
};

int lic_store_event_add(struct lic_store *st, int64_t at_ms,
			const char *name, const char *attrs, char *err,
			size_t errlen);

/* The newest max events at or after since_ms, oldest first, *n of them. */
int lic_store_events(struct lic_store *st, int64_t since_ms,
		     struct lic_store_event *out, size_t max, size_t *n,
		     char *err, size_t errlen);

/*
 * Every report still stored, acknowledged or not, that carries a record
 * whose period ended after `since` (Unix seconds; -1: every report),
 * oldest first, at most max (`save usage all` / `days N`).
 */
int lic_store_reports_since(struct lic_store *st, int64_t since,
			    struct lic_store_report *out, size_t max,
			    size_t *n, char *err, size_t errlen);

#endif
